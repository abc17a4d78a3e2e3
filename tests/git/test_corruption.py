"""The corruption campaign: truncate or flip bits in every structure the reader parses, and
compare with git.

Structures: the index (header, entries, each extension, checksum), packs and their indexes,
loose objects, refs, ``packed-refs``, ``HEAD``, the config, the commit-graph, ``shallow`` and
``alternates`` — in a clean repository, a dirty one, an index-v4 one, a shallow clone and a
clone that borrows objects through alternates.

For every damaged copy, ``ayjnt-hooks status --json`` and the pre-push check must give exit 3
with a message, or git's exact answer: never "clean" where git does not say clean, never a
different porcelain line, never a count where git's ``rev-list`` fails, never an internal
error. Seeded and bounded for CI (a few hundred cases); ``AYJNT_HOOKS_CAMPAIGN=big`` runs
thousands (``AYJNT_HOOKS_CAMPAIGN_SEED`` picks another seed; ``AYJNT_HOOKS_CAMPAIGN_LOG=<file>``
appends one JSON line of outcomes per case, for counting).
"""
from __future__ import annotations

import json
import os
import random
import shutil
import struct
import subprocess
from pathlib import Path

import pytest

from ayjnt_hooks.cli import main as cli_main

from .test_refusals import built_lockfile

BIG = os.environ.get("AYJNT_HOOKS_CAMPAIGN") == "big"
CASES = 4000 if BIG else 240
SEED = int(os.environ.get("AYJNT_HOOKS_CAMPAIGN_SEED", "20261202"))
TEMPLATES = ("clean", "dirty", "index-v4", "shallow", "alternates")
GIT_ENV = {"GIT_OPTIONAL_LOCKS": "0"}


def _sh(cwd: Path, script: str) -> None:
    subprocess.run(["bash", "-ec", script], cwd=cwd, check=True, capture_output=True)


def _project(root: Path, origin: Path) -> None:
    _sh(root.parent, f"git init -q --bare -b main {origin} && git clone -q {origin} "
                     f"{root.name} 2>&1")
    (root / "agents" / "chat").mkdir(parents=True)
    (root / "agents" / "chat" / "agent.ts").write_text(
        "export default class ChatAgent extends Agent<Env> {}\n")
    (root / ".ayjnt").mkdir()
    (root / ".ayjnt" / "migrations.json").write_text(built_lockfile())
    (root / ".gitignore").write_text(".ayjnt/*\n!.ayjnt/migrations.json\n*.log\n")
    script = ("git checkout -qb main && mkdir -p src/a src/b && "
              "for i in $(seq 12); do seq $i 40 > src/a/f$i.txt; echo $i > src/b/g$i.txt; "
              "done && git add -A && git commit -qm c0 && "
              "for i in 1 2 3 4; do echo $i >> src/a/f1.txt; git commit -qam c$i; done && "
              "git push -q origin main && git gc -q && "
              "for i in 5 6; do echo $i >> src/b/g2.txt; git commit -qam c$i; done && "
              "git commit-graph write --reachable && echo log > build.log")
    _sh(root, script)


@pytest.fixture(scope="module")
def templates(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    base = tmp_path_factory.mktemp("campaign")
    out = {}
    clean = base / "clean"
    _project(clean, base / "origin.git")
    out["clean"] = clean
    dirty = base / "dirty"
    shutil.copytree(clean, dirty, symlinks=True)
    _sh(dirty, "echo more >> src/a/f2.txt && echo new > src/new.txt && echo s >> src/b/g3.txt "
               "&& git add src/b/g3.txt && rm src/a/f3.txt")
    out["dirty"] = dirty
    v4 = base / "index-v4"
    shutil.copytree(clean, v4, symlinks=True)
    _sh(v4, "git update-index --index-version 4")
    out["index-v4"] = v4
    _sh(base, f"git clone -q --depth 2 file://{base / 'origin.git'} shallow 2>&1 && "
              "cd shallow && echo x >> README 2>/dev/null; git add -A && "
              "git commit -qm local 2>/dev/null || true")
    out["shallow"] = base / "shallow"
    _sh(base, "git clone -q --shared clean alternates 2>&1 && cd alternates && "
              "git remote set-url origin ../origin.git && git fetch -q origin")
    out["alternates"] = base / "alternates"
    return out


def _targets(repo: Path) -> list[tuple[str, str]]:
    """(path relative to the repository, kind) of every file worth damaging."""
    git = repo / ".git"
    found = [(".git/index", "index"), (".git/HEAD", "text"), (".git/config", "text")]
    for rel, kind in ((".git/packed-refs", "text"), (".git/shallow", "text"),
                      (".git/refs/heads/main", "text"), (".git/refs/remotes/origin/main", "text"),
                      (".git/objects/info/commit-graph", "binary"),
                      (".git/objects/info/alternates", "text")):
        if (repo / rel).exists():
            found.append((rel, kind))
    for p in sorted((git / "objects" / "pack").glob("*.pack")) + \
            sorted((git / "objects" / "pack").glob("*.idx")):
        found.append((str(p.relative_to(repo)), "pack"))
    head = subprocess.run(["git", "rev-parse", "HEAD", "HEAD^{tree}", "HEAD:src/b/g2.txt"],
                          cwd=repo, capture_output=True, text=True).stdout.split()
    for sha in head:
        loose = git / "objects" / sha[:2] / sha[2:]
        if loose.exists():
            found.append((str(loose.relative_to(repo)), "loose"))
    return found


def _index_regions(data: bytes) -> list[tuple[int, int]]:
    """Byte ranges of an index worth aiming at: header, entries, each extension, checksum."""
    regions = [(0, 12), (len(data) - 20, len(data))]
    pos = data.rfind(b"TREE")
    if pos > 0:
        size = struct.unpack_from(">I", data, pos + 4)[0]
        regions.append((pos, min(pos + 8 + size, len(data) - 20)))
        regions.append((12, pos))
    return regions


def _damage(path: Path, kind: str, rng: random.Random) -> str:
    data = bytearray(path.read_bytes())
    path.chmod(0o644)
    if not data:
        path.write_bytes(b"\xff")
        return "filled"
    how = rng.choice(("truncate", "flip", "flip", "flip-head", "flip-region")
                     if kind in ("index", "pack") else ("truncate", "flip", "flip", "byte"))
    if how == "truncate":
        cut = rng.randrange(len(data))
        path.write_bytes(bytes(data[:cut]))
        return f"truncate@{cut}"
    if how == "byte":
        at = rng.randrange(len(data) + 1)
        data[at:at] = rng.choice((b"\xff", b"\n", b" ", b"\0", b'"', b"["))
        path.write_bytes(bytes(data))
        return f"insert@{at}"
    if how == "flip-head":
        at = rng.randrange(min(64, len(data)))
    elif how == "flip-region" and kind == "index":
        lo, hi = rng.choice(_index_regions(bytes(data)))
        at = rng.randrange(lo, max(lo + 1, hi))
    elif how == "flip-region":  # a pack's or idx's trailer
        at = rng.randrange(max(0, len(data) - 40), len(data))
    else:
        at = rng.randrange(len(data))
    at = min(at, len(data) - 1)
    bit = rng.randrange(8)
    data[at] ^= 1 << bit
    path.write_bytes(bytes(data))
    return f"flip@{at}.{bit}"


def _git(cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["git", *args], cwd=cwd, capture_output=True, text=True,
                          errors="surrogateescape", env={**os.environ, **GIT_ENV},
                          timeout=60)


def _count(cwd: Path, spec: str) -> int | None:
    proc = _git(cwd, "rev-list", "--count", spec)
    return int(proc.stdout) if proc.returncode == 0 and proc.stdout.strip().isdigit() else None


@pytest.mark.parametrize("case", range(CASES))
def test_damage_is_refused_or_read_as_git_reads_it(case: int, templates: dict[str, Path],
                                                    tmp_path: Path,
                                                    capsys: pytest.CaptureFixture[str],
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    rng = random.Random(SEED * 100_003 + case)
    template = TEMPLATES[case % len(TEMPLATES)]
    repo = tmp_path / "repo"
    shutil.copytree(templates[template], repo, symlinks=True)
    if template == "alternates":  # (the borrowed store is the template's: copy it as well)
        alt = repo / ".git" / "objects" / "info" / "alternates"
        shutil.copytree(templates["clean"] / ".git" / "objects", tmp_path / "clean-objects")
        alt.write_text(f"{tmp_path / 'clean-objects'}\n")
    rel, kind = rng.choice(_targets(repo))
    if template == "alternates" and rng.random() < 0.5 and kind in ("loose", "pack"):
        objects = tmp_path / "clean-objects"
        borrowed = sorted(p for p in objects.rglob("*") if p.is_file() and "info" not in p.parts)
        target = rng.choice(borrowed)
        rel = str(target)
    what = _damage(repo / rel, kind, rng)
    label = f"{template}: {rel} {what}"

    git_status = _git(repo, "status", "--porcelain")
    code = status_code = cli_main(("status", "--json", "--cwd", str(repo)))
    out = capsys.readouterr()
    assert "internal error" not in out.out + out.err and "Traceback" not in out.err, label
    assert code in (0, 3), (label, out)
    data = json.loads(out.out)
    if code == 3:
        assert data["error"]["message"], label
    else:
        assert git_status.returncode == 0, (label, "git refuses, we answered", git_status.stderr)
        theirs = git_status.stdout.splitlines()
        assert data["porcelain"] == theirs, label
        assert data["clean"] == (theirs == []), label
        if data["upstream"]:
            ahead = _count(repo, f"{data['upstream']}..HEAD")
            behind = _count(repo, f"HEAD..{data['upstream']}")
            assert (data["ahead"], data["behind"]) == (ahead, behind), label

    monkeypatch.setenv("PRE_COMMIT_TO_REF", "HEAD")
    code = cli_main(("check-migrations", "--stage", "pre-push", "--cwd", str(repo)))
    out = capsys.readouterr()
    assert "internal error" not in out.out + out.err and "Traceback" not in out.err, label
    if code != 3:
        shown = _git(repo, "show", "HEAD:.ayjnt/migrations.json")
        listed = _git(repo, "ls-tree", "-r", "HEAD", "agents")
        assert shown.returncode == 0 and listed.returncode == 0, (label, "git refuses")
        assert code == 0, (label, out)  # the lockfile is in sync in every template
    log = os.environ.get("AYJNT_HOOKS_CAMPAIGN_LOG")
    if log:
        with open(log, "a") as f:
            f.write(json.dumps({"case": label, "template": template, "kind": kind,
                                "git": git_status.returncode, "status": status_code,
                                "pre_push": code}) + "\n")
