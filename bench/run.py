"""Benchmarks: our commands next to the git CLI (the reference) in the same run.

    python bench/run.py            # everything (generates repos under /tmp/ayjnt-bench once)
    python bench/run.py --quick    # fewer repetitions

Each figure is the median of N whole-process runs (wall clock), unless marked in-process.
Budgets come from the issues; they are printed, never asserted.
"""
from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from bench.genrepo import add_side_commits, generate, with_build_output, with_index_v4

# Time what a user runs: pip writes .pyc files at install time, so compile ours up front and
# let the interpreter use bytecode even where PYTHONDONTWRITEBYTECODE is set.
os.environ.pop("PYTHONDONTWRITEBYTECODE", None)
subprocess.run([sys.executable, "-m", "compileall", "-q",
                str(Path(__file__).resolve().parent.parent / "ayjnt_hooks")], check=True)
BIN = Path(sys.executable).parent
AYJNT_HOOKS = str(BIN / "ayjnt-hooks")
AYJNT_DEPLOY = str(BIN / "ayjnt-deploy")


def median_ms(fn: Callable[[], object], runs: int) -> float:
    fn()  # warm the page cache
    times = []
    for _ in range(runs):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return statistics.median(times) * 1000


def paired_ms(ours: Callable[[], object], reference: Callable[[], object], runs: int
              ) -> tuple[float, float]:
    """Medians of ours and the reference, run alternately: this machine's speed drifts by tens
    of percent over seconds, and alternating keeps that drift out of the ratio."""
    mine, theirs = alternating_ms((ours, reference), runs)
    return mine, theirs


def alternating_ms(fns: Sequence[Callable[[], object]], runs: int) -> list[float]:
    """The median of each, all run in turn in one loop (see :func:`paired_ms`)."""
    for fn in fns:
        fn()  # warm the page cache
    times: list[list[float]] = [[] for _ in fns]
    for _ in range(runs):
        for fn, out in zip(fns, times):
            t = time.perf_counter()
            fn()
            out.append(time.perf_counter() - t)
    return [statistics.median(out) * 1000 for out in times]


def proc(argv: Sequence[str], cwd: Path | str, env: dict[str, str] | None = None
         ) -> Callable[[], object]:
    def run() -> object:
        return subprocess.run(argv, cwd=cwd, env=env, stdout=subprocess.DEVNULL,
                              stderr=subprocess.DEVNULL)
    return run


def procs(commands: Sequence[Sequence[str]], cwd: Path) -> Callable[[], object]:
    runs = [proc(c, cwd) for c in commands]
    return lambda: [r() for r in runs]


def peak_rss_mb(argv: Sequence[str], cwd: Path) -> float:
    code = ("import resource, subprocess, sys; subprocess.run(sys.argv[1:], "
            "stdout=subprocess.DEVNULL); "
            "print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)")
    out = subprocess.run([sys.executable, "-c", code, *argv], cwd=cwd, capture_output=True,
                         text=True, check=True).stdout
    return int(out.strip()) / 1024


def row(name: str, ours: float, ref: float | None, ref_name: str, budget: str) -> None:
    ratio = f"{ours / ref:5.1f}x" if ref else "   - "
    ref_text = f"{ref:7.1f} ms" if ref is not None else "        -"
    print(f"| {name:<52} | {ours:7.1f} ms | {ref_text} {ref_name:<26} | {ratio} | {budget} |")


def header(title: str) -> None:
    print(f"\n### {title}\n")
    print(f"| {'measurement':<52} | {'ours':>10} | {'reference':>37} | ratio | budget |")
    print(f"|{'-' * 54}|{'-' * 12}|{'-' * 39}|-------|--------|")


def _pre_issue11_key(s: str) -> tuple[tuple[int, ...], tuple[int, ...], tuple[int, ...]]:
    """The sort key before issue #11 (right for printable ASCII only): the reference."""
    import unicodedata

    order = " _-,;:!?.'\"()[]{}@*/\\&#%`^+<=>|~$0123456789abcdefghijklmnopqrstuvwxyz"
    primary_of = {c: i for i, c in enumerate(order)}
    primary: list[int] = []
    secondary: list[int] = []
    for c in s:
        base = unicodedata.normalize("NFD", c)[0].lower() if not c.isascii() else c.lower()
        primary.append(primary_of.get(base, 1000 + ord(base)))
        secondary.append(0 if c.isascii() else ord(c))
    return tuple(primary), tuple(secondary), tuple(1 if c.isupper() else 0 for c in s)


def collation(runs: int) -> None:
    from ayjnt_hooks.engine.collation import sort_key

    routes = [f"/g{i % 10}/Agent-{i:04d}_x" for i in range(1000)]
    ours, ref = paired_ms(lambda: sorted(routes, key=sort_key),
                          lambda: sorted(routes, key=_pre_issue11_key), runs)
    row("sort 1,000 ASCII route paths (in-process)", ours, ref, "pre-#11 ASCII-only key",
        "≤ 1x")
    accented = [f"/g{i % 10}/Agént-{i:04d}_ß" for i in range(1000)]
    sort_key("é")  # the table, loaded once per process
    ours, ref = paired_ms(lambda: sorted(accented, key=sort_key),
                          lambda: sorted(accented, key=_pre_issue11_key), runs)
    row("sort 1,000 non-ASCII route paths (in-process)", ours, ref, "pre-#11 key (wrong)", "-")
    load, floor = paired_ms(
        proc([sys.executable, "-c", "from ayjnt_hooks.engine.collation import sort_key; "
              "sort_key('é')"], "."),
        proc([sys.executable, "-c", "from ayjnt_hooks.engine.collation import sort_key"], "."),
        runs)
    row("first non-ASCII key: loading collation.bin", load - floor, None, "", "-")


def engine(runs: int) -> None:
    from ayjnt_hooks.engine import lockfile as lf
    from ayjnt_hooks.engine.scan import scan
    from ayjnt_hooks.engine.snapshot import WorkTree

    header("Engine (issue #2)")
    with tempfile.TemporaryDirectory() as tmp:
        big, small = Path(tmp, "big"), Path(tmp, "small")
        for root, n in ((big, 1000), (small, 20)):
            for i in range(n):
                d = root / "agents" / f"g{i % 10}" / f"a{i:04d}"
                d.mkdir(parents=True)
                (d / "agent.ts").write_text(
                    f'import {{ Agent }} from "ayjnt";\n// agent {i}\n'
                    f"export default class Agent{i:04d} extends Agent<Env> {{}}\n")
            (root / ".ayjnt").mkdir()
            (root / ".ayjnt/migrations.json").write_text(
                '{"version":1,"migrations":[],"classes":{}}')

        def scan_diff() -> object:
            tree = WorkTree(str(big))
            return lf.diff(lf.parse_lockfile(tree.read(lf.LOCKFILE_PATH)), scan(tree))
        row("scan + diff, 1,000 agents (in-process)", median_ms(scan_diff, runs), None, "",
            "≤ 150 ms")
        ours, floor = paired_ms(proc([AYJNT_HOOKS, "migrate"], small),
                                proc([sys.executable, "-c", "pass"], small), runs)
        row("`ayjnt-hooks migrate`, 20 agents (whole process)", ours, floor,
            "(python -c pass)", "≤ 120 ms")
    collation(runs)


def git_state(runs: int) -> None:
    header("Git state (issue #3)")
    for files, commits in ((5_000, 100), (50_000, 20_000)):
        repo = generate(files, commits, 50)
        ours, git = paired_ms(proc([AYJNT_HOOKS, "status", "--porcelain"], repo),
                              proc(["git", "status", "--porcelain"], repo), runs)
        budget = "≤ 150 ms" if files == 5_000 else "≤ 2x git"
        row(f"clean-tree verdict, {files:,} files", ours, git, "git status --porcelain",
            budget)
    for label, repo in (("+ ignored build output", with_build_output(50_000, 20_000, 50)),
                        ("index v4", with_index_v4(50_000, 20_000, 50))):
        ours, git = paired_ms(proc([AYJNT_HOOKS, "status", "--porcelain"], repo),
                              proc(["git", "status", "--porcelain"], repo), runs)
        row(f"clean-tree verdict, 50,000 files, {label}", ours, git,
            "git status --porcelain", "≤ 2x git")
    repo = generate(50_000, 20_000, 50)
    rss = peak_rss_mb([AYJNT_HOOKS, "status", "--porcelain"], repo)
    git_rss = peak_rss_mb(["git", "status", "--porcelain"], repo)
    print(f"| {'peak RSS, 50,000 files':<52} | {rss:7.1f} MB | {git_rss:7.1f} MB "
          f"{'git status':<26} |       | ≤ 200 MB |")
    env = {**os.environ, "PRE_COMMIT_TO_REF": "HEAD"}
    ours, git = paired_ms(
        proc([AYJNT_HOOKS, "check-migrations", "--stage", "pre-push"], repo, env),
        procs([["git", "ls-tree", "-r", "HEAD", "agents"],
               ["git", "show", "HEAD:.ayjnt/migrations.json"]], repo), runs)
    row("commit snapshot: agents + lockfile, 50k files/20k commits", ours, git,
        "git ls-tree -r + git show", "≤ 150 ms")
    _ahead_behind(repo, runs)
    _big_config(runs)


def _big_config(runs: int) -> None:
    """A 10 MB config value (issue #10 §5): what it adds to a check, next to git."""
    with tempfile.TemporaryDirectory() as tmp:
        repo = Path(tmp, "r")
        subprocess.run(["git", "init", "-q", str(repo)], check=True)
        (repo / "f.txt").write_text("x\n")
        subprocess.run(["git", "add", "."], cwd=repo, check=True)
        subprocess.run(["git", "commit", "-qm", "c"], cwd=repo, check=True,
                       env={**os.environ, "GIT_AUTHOR_NAME": "b", "GIT_AUTHOR_EMAIL": "b@b",
                            "GIT_COMMITTER_NAME": "b", "GIT_COMMITTER_EMAIL": "b@b"})
        small, git_small = paired_ms(proc([AYJNT_HOOKS, "status", "--porcelain"], repo),
                                     proc(["git", "status", "--porcelain"], repo), runs)
        with open(repo / ".git" / "config", "a") as f:
            f.write("[big]\n\tvalue = " + "x" * 5_000_000 + " " + "y" * 5_000_000 + "\n")
        big, git_big = paired_ms(proc([AYJNT_HOOKS, "status", "--porcelain"], repo),
                                 proc(["git", "status", "--porcelain"], repo), runs)
    row("status, 1 file, plain config", small, git_small, "git status --porcelain", "-")
    row("status, 1 file, config with a 10 MB value", big, git_big, "git status --porcelain",
        "no seconds")


def _ahead_behind(repo: Path, runs: int) -> None:
    from ayjnt_hooks.git.history import CommitGraphWalker
    from ayjnt_hooks.git.repo import discover

    local, remote = add_side_commits(repo, 50, 50)
    git = median_ms(procs([["git", "rev-list", "--count", f"{remote}..{local}"],
                           ["git", "rev-list", "--count", f"{local}..{remote}"]], repo), runs)
    graph = repo / ".git/objects/info/commit-graph"
    saved = graph.with_suffix(".bench-off")
    for label in ("with commit-graph", "without commit-graph"):
        if label.startswith("without") and graph.exists():
            shutil.move(graph, saved)
        try:
            r = discover(str(repo))
            counts = CommitGraphWalker(r).ahead_behind(local, remote)
            assert counts == (50, 50), counts
            ours = median_ms(lambda: CommitGraphWalker(discover(str(repo))).ahead_behind(
                local, remote), runs)
            row(f"ahead/behind 50/50 on 20k history, {label} (in-proc)", ours, git,
                "2x git rev-list --count", "≤ 100 ms")
        finally:
            if saved.exists():
                shutil.move(saved, graph)


def hooks_and_deploy(runs: int) -> None:
    header("Hooks (issue #5) and deploy preflight (issue #4)")
    repo = generate(5_000, 100, 50)
    env = {**os.environ, "GIT_INDEX_FILE": str(repo / ".git/index")}
    ours = median_ms(procs([[AYJNT_HOOKS, "check-migrations", "--stage", "pre-commit"],
                            [AYJNT_HOOKS, "check-lockfile", "--stage", "pre-commit"]], repo),
                     runs)
    one, git = paired_ms(proc([AYJNT_HOOKS, "check-migrations"], repo, env),
                         proc(["git", "diff", "--cached", "--quiet"], repo), runs)
    row("pre-commit stage: ayjnt-migrations, 5k files/50 agents", one, git,
        "git diff --cached --quiet", "≤ 150 ms")
    row("pre-commit stage: both hooks, 5k files/50 agents", ours, git,
        "git diff --cached --quiet", "-")
    big = generate(50_000, 20_000, 50)
    env = {**os.environ, "PRE_COMMIT_TO_REF": "HEAD"}
    ours, git = paired_ms(proc([AYJNT_HOOKS, "check-migrations"], big, env),
                          proc(["git", "ls-tree", "-r", "HEAD", "agents"], big), runs)
    row("pre-push stage: ayjnt-migrations, 50k files/20k commits", ours, git,
        "git ls-tree -r HEAD agents", "≤ 150 ms")
    subprocess.run(["git", "checkout", "-q", "main"], cwd=big, check=True)
    git_cmds = [["git", "status", "--porcelain"], ["git", "rev-parse", "--abbrev-ref", "HEAD"],
                ["git", "rev-parse", "--verify", "origin/main"],
                ["git", "rev-list", "--count", "origin/main..HEAD"],
                ["git", "rev-list", "--count", "HEAD..origin/main"]]
    ours, git = paired_ms(proc([AYJNT_DEPLOY, "--check"], big), procs(git_cmds, big), runs)
    row("deploy preflight (--check), 50k files/20k commits", ours, git,
        "ayjnt's 5 git commands", "≤ 2x git")


def _hooks_repo(tmp: Path) -> tuple[Path, str]:
    """This repository's package files committed into a throwaway repo pre-commit can use."""
    root = Path(__file__).resolve().parent.parent
    repo = tmp / "hooks-repo"
    repo.mkdir()
    for name in ("pyproject.toml", "README.md", "LICENSE", ".pre-commit-hooks.yaml"):
        shutil.copy(root / name, repo / name)
    shutil.copytree(root / "ayjnt_hooks", repo / "ayjnt_hooks",
                    ignore=shutil.ignore_patterns("__pycache__"))
    env = {**os.environ, "GIT_AUTHOR_NAME": "b", "GIT_AUTHOR_EMAIL": "b@e",
           "GIT_COMMITTER_NAME": "b", "GIT_COMMITTER_EMAIL": "b@e"}
    for cmd in (["git", "init", "-q"], ["git", "add", "-A"], ["git", "commit", "-qm", "h"]):
        subprocess.run(cmd, cwd=repo, check=True, env=env)
    sha = subprocess.run(["git", "rev-parse", "HEAD"], cwd=repo, check=True, text=True,
                         capture_output=True).stdout.strip()
    return repo, sha


def one_process(runs: int) -> None:
    """Issue #13: the `ayjnt` hook id runs both checks in one process."""
    header("One process per stage (issue #13), 5k files/50 agents, pre-commit stage")
    repo = generate(5_000, 100, 50)
    env = {**os.environ, "GIT_INDEX_FILE": str(repo / ".git/index")}
    separate = [proc([AYJNT_HOOKS, c], repo, env) for c in ("check-migrations", "check-lockfile")]
    both, two = paired_ms(proc([AYJNT_HOOKS, "check"], repo, env),
                          lambda: [run() for run in separate], runs)
    row("`ayjnt-hooks check` (both checks, one process)", both, two,
        "check-migrations + check-lockfile", "-")
    pre_commit = shutil.which("pre-commit", path=f"{BIN}{os.pathsep}{os.environ['PATH']}")
    if pre_commit is None:
        print("| (pre-commit not installed: the pre-commit rows are skipped) |")
        return
    with tempfile.TemporaryDirectory() as tmp:
        hooks, sha = _hooks_repo(Path(tmp))
        configs = {}
        for name, ids in (("one", ["ayjnt"]), ("two", ["ayjnt-migrations", "ayjnt-lockfile"])):
            configs[name] = Path(tmp, f"{name}.yaml")
            configs[name].write_text(f"repos:\n- repo: {hooks}\n  rev: {sha}\n  hooks:\n"
                                     + "".join(f"  - id: {i}\n" for i in ids))
        pc_env = {**os.environ, "PRE_COMMIT_HOME": str(Path(tmp, "home")),
                  "PRE_COMMIT_COLOR": "never"}

        def run_with(config: Path) -> Callable[[], object]:
            return proc([pre_commit, "run", "--config", str(config), "--hook-stage",
                         "pre-commit"], repo, pc_env)
        one, two = paired_ms(run_with(configs["one"]), run_with(configs["two"]), runs)
        row("pre-commit run: hook `ayjnt`", one, two, "hooks ayjnt-migrations + -lockfile",
            "-")


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--only", choices=("engine", "git", "hooks", "one-process"))
    args = parser.parse_args()
    runs = 5 if args.quick else 11
    print(f"python {sys.version.split()[0]}, {os.cpu_count()} cpus; median of {runs} runs")
    if args.only in (None, "engine"):
        engine(runs)
    if args.only in (None, "git"):
        git_state(runs)
    if args.only in (None, "hooks"):
        hooks_and_deploy(runs)
    if args.only in (None, "one-process"):
        one_process(runs)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
