"""Generate benchmark repositories with `git fast-import` (fast, deterministic).

A repo has N tracked files in nested folders (depth 3, 20 files per leaf folder), an ayjnt
project (A agents + a matching lockfile), H commits of history with increasing dates, a bare
`origin` with the same history, and is packed (`git gc`). Cached by parameters.
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

CACHE = Path(os.environ.get("AYJNT_BENCH_CACHE", "/tmp/ayjnt-bench"))
ENV = {**os.environ, "GIT_AUTHOR_NAME": "b", "GIT_AUTHOR_EMAIL": "b@b",
       "GIT_COMMITTER_NAME": "b", "GIT_COMMITTER_EMAIL": "b@b", "GIT_CONFIG_NOSYSTEM": "1"}


def _git(cwd: Path, *args: str, stdin: bytes | None = None) -> str:
    return subprocess.run(("git", *args), cwd=cwd, input=stdin, check=True,
                          capture_output=True, env=ENV).stdout.decode()


def lockfile_for(agents: int) -> bytes:
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
    from ayjnt_hooks.engine import lockfile as lf

    names = [(f"a{i:04d}", f"Agent{i:04d}") for i in range(agents)]
    lock = {"version": 1, "migrations": [{"tag": "v1", "timestamp": "2026-01-01T00:00:00.000Z",
                                          "new_sqlite_classes": [c for _, c in sorted(names)]}],
            "classes": {i: {"agentId": i, "className": c, "firstTag": "v1"} for i, c in names}}
    return lf.serialize(lock)


def generate(files: int, commits: int, agents: int) -> Path:
    root = CACHE / f"repo-{files}f-{commits}c-{agents}a"
    if (root / "work" / ".git").exists():
        return root / "work"
    root.mkdir(parents=True, exist_ok=True)
    work = root / "work"
    _git(root, "init", "-q", "-b", "main", str(work))
    out = bytearray()
    mark = 0

    def blob(data: bytes) -> int:
        nonlocal mark
        mark += 1
        out.extend(b"blob\nmark :%d\ndata %d\n" % (mark, len(data)) + data + b"\n")
        return mark

    tree: list[tuple[str, int]] = []
    for i in range(files):
        leaf, n = divmod(i, 20)
        path = f"src/d{leaf // 100:03d}/e{(leaf // 10) % 10}/f{leaf % 10}/file{n}.txt"
        tree.append((path, blob(b"content %d\n" % i)))
    for i in range(agents):
        src = f"export default class Agent{i:04d} extends Agent<Env> {{}}\n".encode()
        tree.append((f"agents/a{i:04d}/agent.ts", blob(src)))
    tree.append((".ayjnt/migrations.json", blob(lockfile_for(agents))))
    tree.append((".gitignore", blob(b".ayjnt/*\n!.ayjnt/migrations.json\nnode_modules\n")))
    date = 1_600_000_000
    out.extend(b"commit refs/heads/main\ncommitter b <b@b> %d +0000\ndata 4\ninit\n" % date)
    for path, m in tree:
        out.extend(b"M 100644 :%d %s\n" % (m, path.encode()))
    for c in range(1, commits):
        date += 60
        m = blob(b"history %d\n" % c)
        out.extend(b"commit refs/heads/main\ncommitter b <b@b> %d +0000\ndata 3\nc%d\n"
                   % (date, c % 10) + b"M 100644 :%d history.txt\n" % m)
    _git(work, "fast-import", "--quiet", stdin=bytes(out))
    _git(work, "reset", "-q", "--hard", "main")
    _git(root, "clone", "-q", "--bare", str(work), str(root / "origin.git"))
    _git(work, "remote", "add", "origin", str(root / "origin.git"))
    _git(work, "fetch", "-q", "origin")
    _git(work, "branch", "-q", "--set-upstream-to=origin/main")
    _git(work, "gc", "-q")
    _git(work, "status", "--porcelain")  # a fresh stat cache, as a working checkout has
    return work


def _variant(files: int, commits: int, agents: int, name: str) -> tuple[Path, bool]:
    """A local clone of ``generate(...)`` to change; (its work tree, whether it is new)."""
    root = CACHE / f"repo-{files}f-{commits}c-{agents}a-{name}"
    work = root / "work"
    if (work / ".git").exists():
        return work, False
    root.mkdir(parents=True, exist_ok=True)
    _git(root, "clone", "-q", str(generate(files, commits, agents)), str(work))
    return work, True


def with_index_v4(files: int, commits: int, agents: int) -> Path:
    """A clone whose index is version 4 (what `feature.manyFiles` sets)."""
    work, fresh = _variant(files, commits, agents, "index-v4")
    if fresh:
        _git(work, "update-index", "--index-version", "4")
        _git(work, "status", "--porcelain")
    return work


def with_build_output(files: int, commits: int, agents: int) -> Path:
    """A clone of ``generate(...)`` that looks like a real ayjnt checkout: a committed
    .gitignore and ignored build output at the top (node_modules/, .ayjnt/dist/, .wrangler/),
    which the clean-tree check must look at and find ignored."""
    work, fresh = _variant(files, commits, agents, "ignored")
    if not fresh:
        return work
    (work / ".gitignore").write_text("node_modules/\n.ayjnt/dist/\n.wrangler/\n*.log\n")
    _git(work, "add", ".gitignore")
    _git(work, "commit", "-qm", "ignore build output")
    for n in range(2_000):
        leaf = work / "node_modules" / f"pkg{n % 100}" / "lib"
        leaf.mkdir(parents=True, exist_ok=True)
        (leaf / f"m{n}.js").write_text("module.exports = 1\n")
    (work / ".ayjnt" / "dist").mkdir(parents=True, exist_ok=True)
    (work / ".ayjnt" / "dist" / "wrangler.jsonc").write_text("{}\n")
    (work / ".wrangler" / "state").mkdir(parents=True, exist_ok=True)
    (work / "build.log").write_text("ok\n")
    _git(work, "status", "--porcelain")  # a fresh stat cache, as a working checkout has
    return work


def add_side_commits(work: Path, ahead: int, behind: int) -> tuple[str, str]:
    """`ahead` local commits and `behind` new commits on origin/main (fetched); restores."""
    base = _git(work, "rev-parse", "HEAD").strip()
    script = bytearray()
    date = 1_900_000_000
    for side, n in (("refs/heads/bench-local", ahead), ("refs/remotes/origin/bench", behind)):
        script.extend(b"reset %s\nfrom %s\n\n" % (side.encode(), base.encode()))
        for i in range(n):
            date += 60
            script.extend(b"commit %s\ncommitter b <b@b> %d +0000\ndata 2\nx\n"
                          b"M 100644 inline side.txt\ndata 2\n%d\n" % (side.encode(), date, i))
    _git(work, "fast-import", "--quiet", "--force", stdin=bytes(script))
    return (_git(work, "rev-parse", "refs/heads/bench-local").strip(),
            _git(work, "rev-parse", "refs/remotes/origin/bench").strip())


if __name__ == "__main__":
    print(json.dumps(str(generate(int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3])))))
