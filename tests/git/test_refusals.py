"""Repositories git refuses (exit 128): every gate refuses them too, with git's reason.

Each reproducer is built with the git CLI on a pushed, clean ayjnt project; git itself is the
oracle (it must exit 128). Then ``ayjnt-hooks status --json``, ``ayjnt-deploy --check`` and
the pre-push check must exit 3 ("could not check") with one message naming the file and the
problem — never "clean", never a traceback.
"""
from __future__ import annotations

import json
import os
import re
import struct
import subprocess
import zlib
from pathlib import Path

import pytest

from ayjnt_hooks.cli import main as cli_main
from ayjnt_hooks.deploy import main as deploy_main
from ayjnt_hooks.engine import lockfile as lf

from ..conftest import agent_src, sh, write_files


def built_lockfile() -> str:
    lock = {"version": 1, "migrations": [{"tag": "v1", "timestamp": "2026-01-01T00:00:00.000Z",
                                          "new_sqlite_classes": ["ChatAgent"]}],
            "classes": {"chat": {"agentId": "chat", "className": "ChatAgent",
                                 "firstTag": "v1"}}}
    return lf.serialize(lock).decode()


def make_project(tmp_path: Path) -> Path:
    """A clean ayjnt project, committed and pushed to a bare origin."""
    origin = tmp_path / "origin.git"
    sh(tmp_path, f"git init -q --bare -b main {origin} && git clone -q {origin} work 2>&1")
    work = tmp_path / "work"
    write_files(work, {"agents/chat/agent.ts": agent_src("ChatAgent"),
                       ".ayjnt/migrations.json": built_lockfile(),
                       ".gitignore": ".ayjnt/*\n!.ayjnt/migrations.json\n",
                       "README.md": "hello\n"})
    sh(work, "git checkout -qb main && git add -A && git commit -qm init && "
             "git push -q origin main")
    return work


def rewrite_loose(path: Path, change: str) -> None:
    """Rewrite a loose object: bytes after its zlib stream, or a changed (mismatching) body."""
    path.chmod(0o644)
    raw = zlib.decompress(path.read_bytes())
    if change == "trailing-garbage":
        path.write_bytes(zlib.compress(raw) + b"garbage")
    else:
        header, _, body = raw.partition(b"\0")
        body = body.replace(b"init", b"inix") if b"init" in body else body[:-1] + b"X"
        path.write_bytes(zlib.compress(header + b"\0" + body))


def loose_path(work: Path, rev: str) -> Path:
    sha = sh(work, f"git rev-parse {rev}").stdout.strip()
    return work / ".git" / "objects" / sha[:2] / sha[2:]


def flip(path: Path, offset: int, bit: int = 0) -> None:
    path.chmod(0o644)
    data = bytearray(path.read_bytes())
    data[offset] ^= 1 << bit
    path.write_bytes(bytes(data))


def flip_graph_tree_of_head(work: Path) -> None:
    """Flip a bit in the root tree id the commit-graph records for HEAD."""
    sh(work, "git commit-graph write --reachable")
    graph = work / ".git" / "objects" / "info" / "commit-graph"
    data = graph.read_bytes()
    chunks = {}
    for i in range(data[6]):
        cid, offset = struct.unpack_from(">4sQ", data, 8 + 12 * i)
        chunks[cid] = offset
    count = struct.unpack_from(">I", data, chunks[b"OIDF"] + 255 * 4)[0]
    head = bytes.fromhex(sh(work, "git rev-parse HEAD").stdout.strip())
    oids = [data[chunks[b"OIDL"] + 20 * i:chunks[b"OIDL"] + 20 * i + 20] for i in range(count)]
    flip(graph, chunks[b"CDAT"] + 36 * oids.index(head), 3)


def pack(work: Path, suffix: str) -> Path:
    sh(work, "git gc -q")
    return next((work / ".git" / "objects" / "pack").glob(f"*.{suffix}"))


# (id, set-up in the project, the git command that is the oracle, words our message names)
CASES = [
    ("format-v1-unknown-extension", "git config core.repositoryformatversion 1 && "
     "git config extensions.weird true", "status", [".git/config", "extension", "weird"]),
    ("format-v0-with-v1-extension", "git config extensions.objectFormat sha1", "status",
     [".git/config", "v1-only extension", "objectformat"]),
    ("format-version-2", "git config core.repositoryformatversion 2", "status",
     [".git/config", "format version 2"]),
    ("core-bare", "git config core.bare true", "status", [".git", "bare"]),
    ("core-bare-and-worktree", "git config core.bare true && git config core.worktree ..",
     "status", [".git/config", "core.bare and core.worktree"]),
    ("include-itself", "git config include.path config", "status",
     [".git/config", "include", "10 deep"]),
    ("include-cycle", "printf '[include]\\n\\tpath = b\\n' > .git/a && "
     "printf '[include]\\n\\tpath = a\\n' > .git/b && git config include.path a", "status",
     [".git/", "include", "10 deep"]),
    ("include-folder", "mkdir .git/inc && git config include.path inc", "status",
     [".git/config", "bad config line", "folder"]),
    ("unterminated-quote", "printf '[core]\\n\\tx = \"abc\\n' >> .git/config", "status",
     [".git/config", "bad config line"]),
    ("excludes-file-folder", "mkdir -p ../exdir && git config core.excludesFile "
     "\"$(cd ../exdir && pwd)\"", "status", ["exdir", "exclude file"]),
    ("worktree-missing-relative", "git config core.worktree nowhere", "status",
     [".git/config", "core.worktree", "nowhere"]),
    ("worktree-missing-absolute", "git config core.worktree /nonexistent/wt", "status",
     [".git/config", "core.worktree"]),
    ("pack-header", "PACK", "status", [".pack", "packfile"]),
    ("idx-fanout", "IDX", "status", [".idx", "non-monotonic"]),
    ("pack-trailer", "TRAILER", "status", [".pack", "checksum"]),
    ("loose-commit-trailing-garbage", "COMMIT trailing-garbage", "status",
     ["objects/", "garbage at end"]),
    ("loose-commit-hash-mismatch", "COMMIT mismatch", "ls-tree", ["objects/", "hash mismatch"]),
    ("loose-tree-trailing-garbage", "TREE trailing-garbage", "status",
     ["objects/", "garbage at end"]),
    ("loose-tree-hash-mismatch", "TREE mismatch", "status", ["objects/", "hash mismatch"]),
    ("commit-graph-flipped-bit", "GRAPH", "status", ["commit-graph", "another tree"]),
    ("head-garbage", "printf 'garbage\\n' > .git/HEAD", "status", [".git/HEAD", "HEAD"]),
    ("packed-refs-bad-byte", "git pack-refs --all && printf '\\377\\n' >> .git/packed-refs",
     "status", ["packed-refs", "line"]),
    ("shallow-bad-byte", "printf '\\377\\n' > .git/shallow", "status", ["shallow", "line 1"]),
    ("gitfile-names-itself", "GITFILE", "status", [".git", "not a git repository"]),
]
ORACLES = {"status": ["git", "status", "--porcelain"], "ls-tree": ["git", "ls-tree", "HEAD"]}


def damage(tmp_path: Path, work: Path, script: str) -> Path:
    """Apply one case; returns the folder to run in."""
    kind, _, arg = script.partition(" ")
    if kind == "PACK":
        flip(pack(work, "pack"), 0)
    elif kind == "IDX":
        flip(pack(work, "idx"), 8, 7)
    elif kind == "TRAILER":
        p = pack(work, "pack")
        flip(p, p.stat().st_size - 1)
    elif kind == "COMMIT":
        rewrite_loose(loose_path(work, "HEAD"), arg)
    elif kind == "TREE":
        rewrite_loose(loose_path(work, "HEAD^{tree}"), arg)
    elif kind == "GRAPH":
        flip_graph_tree_of_head(work)
    elif kind == "GITFILE":
        nested = work / "app"  # an ayjnt project whose .git file names itself
        write_files(nested, {"agents/chat/agent.ts": agent_src("ChatAgent"),
                             ".ayjnt/migrations.json": built_lockfile(),
                             ".git": "gitdir: .git\n"})
        return nested
    else:
        sh(work, script)
    return work


@pytest.mark.parametrize(("script", "oracle", "needles"),
                         [pytest.param(s, o, n, id=i) for i, s, o, n in CASES])
def test_git_refuses_and_so_do_we(tmp_path: Path, script: str, oracle: str,
                                  needles: list[str], capsys: pytest.CaptureFixture[str],
                                  monkeypatch: pytest.MonkeyPatch) -> None:
    work = make_project(tmp_path)
    where = damage(tmp_path, work, script)
    git = subprocess.run(ORACLES[oracle], cwd=where, capture_output=True, text=True,
                         errors="replace",
                         env={**os.environ, "GIT_OPTIONAL_LOCKS": "0"})
    assert git.returncode == 128, git.stdout + git.stderr  # the oracle: git refuses it

    def check(code: int, message: str) -> None:
        assert code == 3, message
        for needle in needles:
            assert needle in message, (needle, message)
        assert "Traceback" not in message and "internal error" not in message

    code = cli_main(("status", "--json", "--cwd", str(where)))
    out = capsys.readouterr()
    check(code, json.loads(out.out)["error"]["message"])
    if "bad config line" in git.stderr:  # the same line number as git's
        line = re.search(r"bad config line (\d+)", git.stderr)
        assert line is not None
        assert f"bad config line {line.group(1)}" in json.loads(out.out)["error"]["message"]

    code = deploy_main(("--check", "--cwd", str(where)))
    check(code, capsys.readouterr().err)

    monkeypatch.setenv("PRE_COMMIT_TO_REF", "HEAD")
    code = cli_main(("check-migrations", "--stage", "pre-push", "--cwd", str(where)))
    err = capsys.readouterr().err
    check(code, err)
