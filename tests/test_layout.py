"""The package layout keeps its rule (ARCHITECTURE.md): ``engine/`` imports nothing from
``git/`` or the entry points; ``git/`` imports nothing from the entry points and from the engine
only the snapshot protocol; no module imports itself in a circle.

Two checks: every import statement in the source (module level, inside functions, and
type-only), and what a fresh interpreter really loads when it imports each module.
"""
from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "ayjnt_hooks"
ENTRY_POINTS = ("cli", "hooks", "rawhooks", "deploy", "report", "__main__")
SHARED = ("ayjnt_hooks.errors", "ayjnt_hooks.records")  # the leaves every layer may use
SNAPSHOT_PROTOCOL = "ayjnt_hooks.engine.snapshot"


def module_name(path: Path) -> str:
    rel = path.relative_to(ROOT).with_suffix("")
    parts = list(rel.parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


MODULES = {module_name(p): p for p in sorted(PACKAGE.rglob("*.py"))}


def imports_of(name: str) -> set[str]:
    """Every module ``name`` imports anywhere in its source, resolved to full names."""
    path = MODULES[name]
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[:len(base) - (node.level - 1)]
                target = ".".join(base + ([node.module] if node.module else []))
            else:
                target = node.module or ""
            # `from . import x` / `from .git import status` may name submodules
            for alias in node.names:
                candidate = f"{target}.{alias.name}"
                found.add(candidate if candidate in MODULES else target)
    return found


def layer(name: str) -> str:
    if name.startswith("ayjnt_hooks.engine"):
        return "engine"
    if name.startswith("ayjnt_hooks.git"):
        return "git"
    return "top"


def allowed(importer: str, imported: str) -> bool:
    if not imported.startswith("ayjnt_hooks"):
        return layer(importer) != "engine" or not imported.startswith("dulwich")
    if imported in SHARED or imported == "ayjnt_hooks":
        return True
    kind = layer(importer)
    if kind == "engine":
        return layer(imported) == "engine"
    if kind == "git":
        return layer(imported) == "git" or imported == SNAPSHOT_PROTOCOL
    return True


@pytest.mark.parametrize("name", sorted(MODULES), ids=sorted(MODULES))
def test_imports_follow_the_layer_rule(name: str) -> None:
    bad = sorted(i for i in imports_of(name) if not allowed(name, i))
    assert not bad, f"{name} ({layer(name)}) must not import {bad}"


def test_shared_modules_are_leaves() -> None:
    for leaf in (*SHARED, "ayjnt_hooks.report"):
        own = {i for i in imports_of(leaf) if i.startswith("ayjnt_hooks")}
        assert not own, f"{leaf} imports {own}"


def test_no_import_circles() -> None:
    graph = {name: {i for i in imports_of(name) if i in MODULES and i != name}
             for name in MODULES}
    done: set[str] = set()

    def visit(name: str, path: list[str]) -> None:
        if name in path:
            cycle = [*path[path.index(name):], name]
            raise AssertionError("import circle: " + " -> ".join(cycle))
        if name in done:
            return
        for dep in sorted(graph[name]):
            visit(dep, [*path, name])
        done.add(name)

    for name in sorted(graph):
        visit(name, [])


# What each kind of module must not pull in when a fresh interpreter imports it.
FORBIDDEN = {
    "engine": ("ayjnt_hooks.git", "dulwich", *(f"ayjnt_hooks.{e}" for e in ENTRY_POINTS)),
    "git": ("dulwich", *(f"ayjnt_hooks.{e}" for e in ENTRY_POINTS)),
    "top": ("dulwich",),
}


@pytest.mark.parametrize("name", sorted(n for n in MODULES if not n.endswith("__main__")),
                         ids=lambda n: n)
def test_a_fresh_import_loads_nothing_forbidden(name: str) -> None:
    forbidden = FORBIDDEN[layer(name)]
    code = (f"import sys, {name}\n"
            f"bad = sorted(m for m in sys.modules if m != {name!r} and "
            f"(m in {forbidden!r} or m.startswith(tuple(f + '.' for f in {forbidden!r}))))\n"
            f"print(' '.join(bad))")
    proc = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True,
                          text=True, check=True)
    assert proc.stdout.strip() == "", f"importing {name} loaded {proc.stdout.strip()}"


def test_the_checks_above_can_fail() -> None:
    assert not allowed("ayjnt_hooks.engine.scan", "ayjnt_hooks.git.repo")
    assert not allowed("ayjnt_hooks.engine.scan", "dulwich.objects")
    assert not allowed("ayjnt_hooks.git.porcelain", "ayjnt_hooks.engine.lockfile")
    assert not allowed("ayjnt_hooks.git.porcelain", "ayjnt_hooks.hooks")
    assert allowed("ayjnt_hooks.git.snapshots", SNAPSHOT_PROTOCOL)
    assert "ayjnt_hooks.git.trees" in imports_of("ayjnt_hooks.git.porcelain")


# What a hook's start-up must not import (ARCHITECTURE.md, "start-up is a budget"): each is
# milliseconds on every `git commit`. The failing run also shows the no-Bun hint, which looks
# for `ayjnt-hooks` on PATH (shutil.which) and quotes its path (shlex).
NOT_ON_THE_HOOK_PATH = ("typing", "datetime", "json", "dulwich", "argparse")
NOT_WHEN_IT_PASSES = (*NOT_ON_THE_HOOK_PATH, "shutil", "shlex", "glob", "subprocess")


@pytest.mark.parametrize(("argv", "pending"), [
    (["pre-commit"], False), (["check-migrations"], False), (["hook-impl", "pre-commit"], False),
    (["pre-commit"], True), (["check-migrations", "--stage", "manual"], True)],
    ids=["pre-commit", "check-migrations", "raw-hook", "pre-commit-pending",
         "check-migrations-pending"])
def test_the_hook_path_imports_no_more_than_it_needs(tmp_path: Path, argv: list[str],
                                                     pending: bool) -> None:
    from .conftest import sh, write_files
    from .test_hooks import make_repo

    proj = make_repo(tmp_path)
    if pending:  # a new agent, staged, its lockfile change not: exit 1 with the whole story
        write_files(proj, {"agents/support/agent.ts":
                           "export default class SupportAgent extends Agent {}\n"})
        sh(proj, "git add -A")
    forbidden = NOT_ON_THE_HOOK_PATH if pending else NOT_WHEN_IT_PASSES
    code = ("import sys\nfrom ayjnt_hooks.cli import main\n"
            f"code = main({argv!r})\n"
            f"loaded = sorted(m for m in {forbidden!r} if m in sys.modules)\n"
            "print(code, *loaded)")
    proc = subprocess.run([sys.executable, "-c", code], cwd=proj, capture_output=True,
                          text=True, check=True)
    last = proc.stdout.strip().splitlines()[-1]
    assert last == ("1" if pending else "0"), f"{argv} loaded {last.split()[1:]}: {proc.stdout}"
