"""Benchmarks for issue #14: `rebase-lockfile` and the merge driver next to the git commands
that gather the same inputs, run alternately in one loop (see run.py's paired_ms).

    python bench/rebase_lockfile.py [--quick]

Works on a local clone of run.py's 50,000-file / 20,000-commit repository, with two branches
that each add an agent: b merges a, and the lockfile conflicts.
"""
from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from bench.genrepo import generate
from bench.run import AYJNT_HOOKS, paired_ms

LOCK = ".ayjnt/migrations.json"


def git(cwd: Path, *args: str, check: bool = True) -> str:
    proc = subprocess.run(("git", *args), cwd=cwd, capture_output=True, text=True,
                          env={**os.environ, "GIT_EDITOR": "true"})
    if check and proc.returncode:
        raise SystemExit(f"git {' '.join(args)}: {proc.stderr}")
    return proc.stdout


def build(work: Path) -> None:
    from ayjnt_hooks.engine import lockfile as lf
    from ayjnt_hooks.engine.scan import scan
    from ayjnt_hooks.engine.snapshot import WorkTree

    tree = WorkTree(str(work))
    lock = lf.parse_lockfile(tree.read(LOCK))
    (work / LOCK).write_bytes(lf.serialize(lf.apply_diff(lock, lf.diff(lock, scan(tree)))))


def branch(work: Path, name: str, cls: str) -> None:
    git(work, "checkout", "-qB", name, "main")
    folder = work / "agents" / cls.lower()
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "agent.ts").write_text(f"export default class {cls} extends Agent<Env> {{}}\n")
    build(work)
    git(work, "add", "-A")
    git(work, "commit", "-qm", name)


def run(cmd: list[str], cwd: Path) -> None:
    subprocess.run(cmd, cwd=cwd, capture_output=True)


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true")
    runs = 5 if parser.parse_args().quick else 11
    source = generate(50_000, 20_000, 50)
    tmp = Path(tempfile.mkdtemp(prefix="ayjnt-bench-rebase-"))
    try:
        work = tmp / "work"
        git(tmp, "clone", "-q", str(source), str(work))  # (hardlinked objects)
        git(work, "checkout", "-qB", "main", "origin/main")
        branch(work, "a", "XrayAgent")
        branch(work, "b", "YankeeAgent")
        git(work, "update-ref", "refs/remotes/origin/main", "a")  # a landed first
        git(work, "merge", "--no-edit", "a", check=False)  # conflicts in the lockfile
        rows = []
        check = [AYJNT_HOOKS, "rebase-lockfile", "--check"]

        def inputs() -> None:  # what git itself needs for the same decision
            run(["git", "ls-files", "-u", "--", LOCK], work)
            run(["git", "show", f"MERGE_HEAD:{LOCK}"], work)
            run(["git", "show", f"HEAD:{LOCK}"], work)
            run(["git", "show", f":1:{LOCK}"], work)

        ours, ref = paired_ms(lambda: run(check, work), inputs, runs)
        rows.append(("rebase-lockfile --check, mid-merge", ours, ref,
                     "git ls-files -u + 3x git show"))
        sides = []
        for stage, name in ((1, "O"), (2, "A"), (3, "B")):
            p = tmp / name
            p.write_text(git(work, "show", f":{stage}:{LOCK}"))
            sides.append(str(p))
        driver = [sys.executable, "-m", "ayjnt_hooks", "merge-driver", *sides, LOCK]
        a_bytes = Path(sides[1]).read_bytes()

        def ours_driver() -> None:
            Path(sides[1]).write_bytes(a_bytes)
            run(driver, work)

        ours, ref = paired_ms(ours_driver, lambda: run(
            ["git", "merge-file", "-p", sides[1], sides[0], sides[2]], work), runs)
        rows.append(("merge driver, one lockfile", ours, ref, "git merge-file -p"))
        git(work, "merge", "--abort")
        git(work, "merge", "-q", "--no-edit", "-X", "ours", "a")  # a bad resolution, committed
        ours, ref = paired_ms(lambda: run(check, work), lambda: run(
            ["git", "merge-base", "--is-ancestor", "origin/main", "HEAD"], work), runs)
        rows.append(("rebase-lockfile --check, after the merge (20k commits)", ours, ref,
                     "git merge-base --is-ancestor"))
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    print(f"| {'measurement':<56} | {'ours':>9} | {'reference':>40} | ratio |")
    print(f"|{'-' * 58}|{'-' * 11}|{'-' * 42}|-------|")
    for what, ours, ref, name in rows:
        print(f"| {what:<56} | {ours:6.1f} ms | {ref:6.1f} ms {name:<30} | {ours / ref:4.1f}x |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
