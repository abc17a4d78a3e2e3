"""Each README wiring, run by the real hook manager: husky, lefthook and simple-git-hooks from
npm, pre-commit and prek from PyPI, and `ayjnt-hooks install`. Real `git commit` and
`git push` to a bare origin: a bad commit is refused, a good one passes, and
`git push origin feat` from `main` with a bad `feat` is refused."""
from __future__ import annotations

import json
import os
import re
import shutil
import sys
from pathlib import Path

import pytest

from ayjnt_hooks import __version__

from .conftest import tree_hashes, write_files
from .test_e2e_hooks import (  # noqa: F401 (fixtures)
    ROOT,
    Consumer,
    assert_allowed,
    assert_blocked,
    hooks_repo,
    pre_commit_home,
)
from .test_hooks import build, make_repo

README = (ROOT / "README.md").read_text()
# Where .ci/run installs the pinned npm tools (read at import, before HOME is sandboxed).
NPM_BIN = Path(os.environ.get("AYJNT_HOOKS_NPM_PREFIX")
               or Path.home() / ".cache" / "ayjnt-hooks" / "npm") / "node_modules" / ".bin"
MANAGERS = ("husky", "lefthook", "simple-git-hooks", "pre-commit", "prek", "raw")
SECTIONS = {"husky": "husky", "lefthook": "lefthook", "simple-git-hooks": "simple-git-hooks",
            "pre-commit": "pre-commit", "prek": "pre-commit",
            "raw": "No manager: `ayjnt-hooks install`"}


def tool(name: str) -> str:
    """A manager's executable: .ci/run installs the npm ones into NPM_BIN, the PyPI ones into
    the venv next to this interpreter."""
    path = os.pathsep.join((str(Path(sys.executable).parent), str(NPM_BIN),
                            os.environ.get("PATH", "")))
    found = shutil.which(name, path=path)
    if found is None:
        # .ci/run installs every manager and sets this; a development run that set only
        # AYJNT_HOOKS_REQUIRE_E2E (wrangler, bun) skips the managers it lacks
        if os.environ.get("AYJNT_HOOKS_REQUIRE_MANAGERS"):
            pytest.fail(f"{name} is not installed: .ci/run installs it")
        pytest.skip(f"{name} is not installed (run .ci/run)")
    return found


def readme_section(title: str) -> str:
    start = README.index(f"\n### {title}\n")
    end = README.find("\n## ", start + 1)
    following = README.find("\n### ", start + 1)
    return README[start:min(e for e in (end, following) if e != -1)]


def readme_files(title: str) -> dict[str, str]:
    """The files a README section shows: each "File `path`:" line and the block after it."""
    found = dict(re.findall(r"File `([^`]+)`:\n\n```\w*\n(.*?)```", readme_section(title),
                            re.S))
    return found


def wire(kind: str, c: Consumer, hooks: tuple[Path, str]) -> None:
    files = readme_files(SECTIONS[kind])
    if kind == "raw":
        assert "ayjnt-hooks install [--hook pre-commit]" in readme_section(SECTIONS[kind])
        c.sh("ayjnt-hooks install")
        return
    assert files, f"README's {kind} section shows no files"
    for path, content in files.items():
        if path == "package.json":
            package = json.loads((c.work / path).read_text()) \
                if (c.work / path).exists() else {}
            package.update(json.loads(content))
            content = json.dumps(package, indent=2) + "\n"
        if path == ".pre-commit-config.yaml":
            repo, sha = hooks
            assert "repo: https://github.com/ayjnt-hooks/ayjnt-hooks" in content
            content = re.sub(r"repo: \S+", f"repo: {repo}", content)
            content = re.sub(r"rev: \S+", f"rev: {sha}", content)
        write_files(c.work, {path: content})
        if content.startswith("#!"):
            (c.work / path).chmod(0o755)
    if kind == "husky":
        c.sh(tool("husky"))
        assert c.sh("git config core.hooksPath").stdout.strip() == ".husky/_"
    elif kind == "lefthook":
        c.sh(f"{tool('lefthook')} install")
    elif kind == "simple-git-hooks":
        c.sh(tool("simple-git-hooks"))
    elif kind == "pre-commit":
        c.sh(f"{tool('pre-commit')} install")
    else:
        c.sh(f"{tool('prek')} install --hook-type pre-commit --hook-type pre-push")


def consumer_for(kind: str, tmp_path: Path, hooks: tuple[Path, str], home: Path) -> Consumer:
    proj = make_repo(tmp_path)
    write_files(proj, {"package.json": '{"name": "chat-app", "private": true}\n'})
    c = Consumer(proj, home)
    c.kind = kind
    c.env["PATH"] = os.pathsep.join((str(NPM_BIN), c.env["PATH"]))
    c.env["PREK_HOME"] = str(home / "prek")
    c.env["LEFTHOOK_QUIET"] = "meta"  # keep the output readable in assertion messages
    wire(kind, c, hooks)
    c.sh("git add -A")
    assert_allowed(c.commit("wire the hooks"))  # nothing pending: the gate lets it through
    assert_allowed(c.push("origin main"))
    return c


@pytest.mark.parametrize("kind", MANAGERS)
def test_readme_wiring_gates_commits_and_pushes(kind: str, tmp_path: Path,
                                                hooks_repo: tuple[Path, str],  # noqa: F811
                                                pre_commit_home: Path) -> None:  # noqa: F811
    c = consumer_for(kind, tmp_path, hooks_repo, pre_commit_home)
    if kind != "raw":  # `install` detects the manager and prints README's wiring for it
        before = tree_hashes(c.work)
        proc = c.sh("ayjnt-hooks install", check=False)
        assert proc.returncode == 1 and "--force" not in proc.stdout, proc.stderr
        assert f"managed by {kind}" in proc.stderr or f"{kind} and" in proc.stderr or \
            f"and {kind}" in proc.stderr, proc.stderr
        for content in readme_files(SECTIONS[kind]).values():
            if kind in ("pre-commit", "prek"):
                content = content.replace("rev: v0.2.0", f"rev: v{__version__}")
            assert content in proc.stderr, proc.stderr
        assert tree_hashes(c.work) == before  # wrote nothing
    # a commit without its lockfile change is refused; with it, it passes
    c.add_agent("SupportAgent", "support")
    c.sh("git add agents")
    assert_blocked(c.commit("add support"), "SupportAgent (agentId: support) at /support")
    build(c.proj)
    c.sh("git add -A")
    assert_allowed(c.commit("add support with its lockfile"))
    assert_allowed(c.push("origin main"))
    assert_allowed(c.push("origin main"))  # nothing to push

    # a bad `feat` pushed from a clean `main`: the pushed ref is checked, not HEAD
    c.sh("git checkout -qb feat")
    c.add_agent("BetaAgent", "beta")
    c.sh("git add -A && git commit -q --no-verify -m stale && git checkout -q main")
    proc = c.push("origin feat")
    assert_blocked(proc, "BetaAgent (agentId: beta) at /beta")
    if kind not in ("pre-commit", "prek"):  # they name no refs: they see one
        assert "refs/heads/feat" in proc.stdout + proc.stderr
    # ... and the same branch with its lockfile goes through
    c.sh("git checkout -q feat")
    build(c.proj)
    c.sh("git add -A && git commit -q --no-verify -m fixed && git checkout -q main")
    assert_allowed(c.push("origin feat"))


PLAUSIBLE = {
    # what a user writes from the hook ids' names: before, each checked the working tree
    "husky": {".husky/pre-push": "ayjnt-hooks check-migrations\nayjnt-hooks check-lockfile\n"},
    "simple-git-hooks": {"package.json": json.dumps({"simple-git-hooks": {
        "pre-push": "ayjnt-hooks check-migrations && ayjnt-hooks check-lockfile"}})},
    "lefthook": {"lefthook.yml": "pre-push:\n  commands:\n    migrations:\n"
                 "      run: ayjnt-hooks check-migrations\n    lockfile:\n"
                 "      run: ayjnt-hooks check-lockfile --stage pre-push\n"},
}


@pytest.mark.parametrize("kind", sorted(PLAUSIBLE))
def test_plausible_wiring_never_checks_the_wrong_snapshot(
        kind: str, tmp_path: Path, pre_commit_home: Path) -> None:  # noqa: F811
    """The check commands in a manager's pre-push script check the pushed refs when git's
    stdin reaches them, and otherwise refuse with the line to write; they never pass a push
    by looking at the working tree or HEAD."""
    proj = make_repo(tmp_path)
    c = Consumer(proj, pre_commit_home)
    c.env["PATH"] = os.pathsep.join((str(NPM_BIN), c.env["PATH"]))
    for path, content in PLAUSIBLE[kind].items():
        write_files(c.work, {path: content})
    c.sh({"husky": tool("husky"), "simple-git-hooks": tool("simple-git-hooks"),
          "lefthook": f"{tool('lefthook')} install"}[kind])
    c.sh("git add -A && git commit -q -m wire")
    expected_line = {"husky": 'ayjnt-hooks pre-push "$@"` in .husky/pre-push',
                     "simple-git-hooks": '"pre-push": "ayjnt-hooks pre-push \\"$@\\"" in '
                                         "package.json",
                     "lefthook": "`use_stdin: true`"}[kind]
    # a good push: the second command finds stdin already read (or lefthook passes none)
    proc = c.push("origin main")
    assert_blocked(proc, "runs inside `git push`, but its stdin is empty", expected_line)
    if kind == "lefthook":
        # lefthook skips `run` commands when pushing another branch (see README), so the
        # commit hook warns about this wiring with the one that works
        write_files(c.work, {"lefthook.yml": PLAUSIBLE["lefthook"]["lefthook.yml"]
                             + "pre-commit:\n  commands:\n    ayjnt:\n"
                               "      run: ayjnt-hooks pre-commit\n"})
        c.sh(f"{tool('lefthook')} install")
        c.add_agent("Gamma", "gamma")
        build(c.proj)
        c.sh("git add -A")
        proc = c.commit("gamma")
        assert_allowed(proc)
        assert "warning: lefthook skips this pre-push gate" in proc.stdout + proc.stderr
        assert "script: ayjnt.sh" in proc.stdout + proc.stderr
        return
    # a bad feat from a clean main with the fix sitting untracked in the working tree
    c.sh("git push -q --no-verify origin main && git checkout -qb feat")
    c.add_agent("BetaAgent", "beta")
    c.sh("git add -A && git commit -q --no-verify -m stale && git checkout -q main")
    assert_blocked(c.push("origin feat"), "BetaAgent (agentId: beta) at /beta",
                   "refs/heads/feat")
