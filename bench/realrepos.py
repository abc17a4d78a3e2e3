"""Benchmarks on clones of real public repositories: ours next to the git CLI, alternately.

    python bench/realrepos.py                 # every repository found, every state
    python bench/realrepos.py --only git/git --quick
    python bench/realrepos.py --part clean --baseline /tmp/before/.venv/bin   # before/after

The repositories are not part of this project and are never committed. The script looks
for bare copies under ``--mirrors`` (default ``$AYJNT_BENCH_MIRRORS`` or ``/work/.mirror``) as
``<owner>+<name>/repo`` and skips, saying how to get it, any that is absent. To get one:

    git clone --bare https://github.com/git/git /work/.mirror/git+git/repo

Each is cloned once with ``git clone --no-local`` (so the copy is ``origin``, packed as a
fresh clone is) into ``$AYJNT_BENCH_CACHE/real`` (default ``/tmp/ayjnt-bench/real``), and
the states below are set up on that clone by moving refs; nothing is fetched.

What is timed (median of N whole-process runs; ours and git alternate in one loop):

- **ahead/behind**: a process that prints ``branch_facts`` (exactly the status path's
  ahead/behind) against ayjnt's two ``git rev-list --count`` commands, and the "Python
  floor": a bare ``python -I -S`` (no site, no imports) that only pushes and pops as many
  commits on a heap as git's two walks take (timed against git in its own loop; above 2x,
  no Python process can meet the target on that row), for each state:
  in sync; ``origin/<b>`` 30 first-parent commits back (ahead); HEAD 30 back (behind);
  HEAD a merged topic, ``origin/<b>`` older (diverged); and on git/git the issue's
  ``origin/master`` at ``maint`` and at ``next``. Each with and without a commit-graph.
  The counts are checked against git's before timing.
- **clean verdict**: ``ayjnt-hooks status --porcelain`` against ``git status --porcelain``,
  index v2 and v4, and whether the fast clean proof holds: on a new ``git clone`` of the copy
  (its racily clean entries untouched) and before each row.
- **status --json** against ``git status --porcelain`` and against the three commands ayjnt
  runs for it, and **deploy --check** against ayjnt's five.

``--baseline BIN`` (the ``bin`` folder of another install, say a virtualenv of the code before
a change, its bytecode compiled) times that install's commands in the same loop, as
"before".
"""
from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
from collections.abc import Callable, Sequence
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from bench.run import AYJNT_DEPLOY, AYJNT_HOOKS, alternating_ms, paired_ms, proc, procs

REPOS = ("pre-commit/pre-commit", "jelmer/dulwich", "cloudflare/agents",
         "cloudflare/workers-sdk", "tldr-pages/tldr", "git/git")
MIRRORS = Path(os.environ.get("AYJNT_BENCH_MIRRORS", "/work/.mirror"))
CACHE = Path(os.environ.get("AYJNT_BENCH_CACHE", "/tmp/ayjnt-bench")) / "real"
PROOF = ("from ayjnt_hooks.git.cleanproof import proven_clean; "
         "from ayjnt_hooks.git.repo import discover; print(proven_clean(discover('.')))")
FACTS = ("from ayjnt_hooks.git.history import branch_facts; "
         "from ayjnt_hooks.git.repo import discover; "
         "f = branch_facts(discover('.')); print(f.ahead, f.behind)")
TAKEN = ("from ayjnt_hooks.git.history import CommitGraphWalker; "
         "from ayjnt_hooks.git.repo import discover; import sys; r = discover('.'); "
         "w = CommitGraphWalker(r); w.ahead_behind(r.rev_parse('HEAD'), r.rev_parse(sys.argv[1])); "
         "print(w.taken)")
# The least any Python replay of git's walk costs: a bare interpreter (no site, no imports)
# that takes as many commits off a date-ordered heap as git's two walks take. Where even
# this is over 2x git, no Python process meets the target on that row.
WALK_FLOOR = ("import sys\nfrom _heapq import heappush, heappop\n"
              "h = [-(i << 32) for i in range(64)]\n"
              "for i in range(int(sys.argv[1])):\n"
              "    heappush(h, i - ((1 << 40) - i << 32)); heappop(h)\n")
ENV = {**os.environ, "GIT_CONFIG_NOSYSTEM": "1"}


def git(cwd: Path, *args: str) -> str:
    return subprocess.run(("git", *args), cwd=cwd, check=True, capture_output=True,
                          env=ENV).stdout.decode().strip()


def clone(name: str, mirrors: Path) -> Path | None:
    source = mirrors / name.replace("/", "+") / "repo"
    work = CACHE / name.replace("/", "+")
    if (work / ".git").is_dir():
        return work
    if not (source / "HEAD").exists():
        print(f"\n{name}: skipped, no copy at {source}. Get one with:\n"
              f"    git clone --bare https://github.com/{name} {source}")
        return None
    CACHE.mkdir(parents=True, exist_ok=True)
    part = work.with_suffix(".part")
    shutil.rmtree(part, ignore_errors=True)
    print(f"{name}: cloning {source} (once) ...", flush=True)
    if subprocess.run(["git", "clone", "-q", "--no-local", str(source), str(part)],
                      env=ENV).returncode:
        # (a copy that lacks objects no commit needs, as workers-sdk's does, cannot be packed
        # for a clone: a plain local clone copies its object files instead)
        print(f"{name}: --no-local failed; a plain local clone instead", flush=True)
        shutil.rmtree(part, ignore_errors=True)
        subprocess.run(["git", "clone", "-q", str(source), str(part)], check=True, env=ENV)
    part.rename(work)
    return work


def graph(work: Path, on: bool) -> None:
    path = work / ".git/objects/info/commit-graph"
    if on and not path.exists():
        git(work, "commit-graph", "write", "--reachable")
    elif not on:
        path.unlink(missing_ok=True)
        shutil.rmtree(work / ".git/objects/info/commit-graphs", ignore_errors=True)


def project_commit(work: Path, real: str) -> str:
    """A commit on top of ``real`` that adds a one-agent ayjnt project (``agents/`` and its
    lockfile), so that ``ayjnt-deploy --check`` runs its whole preflight; made once, kept
    as ``refs/bench/project``."""
    found = subprocess.run(["git", "rev-parse", "-q", "--verify", "refs/bench/project"],
                           cwd=work, capture_output=True, text=True).stdout.strip()
    if found:
        return found
    from bench.genrepo import lockfile_for

    env = {**ENV, "GIT_INDEX_FILE": str(work / ".git/bench-index"), "GIT_AUTHOR_NAME": "b",
           "GIT_AUTHOR_EMAIL": "b@b", "GIT_COMMITTER_NAME": "b", "GIT_COMMITTER_EMAIL": "b@b"}

    def run(*args: str, stdin: bytes | None = None) -> str:
        return subprocess.run(("git", *args), cwd=work, env=env, input=stdin, check=True,
                              capture_output=True).stdout.decode().strip()

    run("read-tree", real)
    for path, data in (("agents/a0000/agent.ts",
                        b"export default class Agent0000 extends Agent<Env> {}\n"),
                       (".ayjnt/migrations.json", lockfile_for(1))):
        blob = run("hash-object", "-w", "--stdin", stdin=data)
        run("update-index", "--add", "--cacheinfo", f"100644,{blob},{path}")
    commit = run("commit-tree", run("write-tree"), "-p", real, "-m", "ayjnt project (bench)")
    (work / ".git/bench-index").unlink()
    git(work, "update-ref", "refs/bench/project", commit)
    return commit


def set_state(work: Path, branch: str, head: str, upstream: str) -> None:
    """HEAD on ``branch`` at ``head`` and ``origin/<branch>`` at ``upstream`` (no checkout:
    only refs move, so the work tree and index stay those of the fresh clone)."""
    git(work, "update-ref", f"refs/heads/{branch}", head)
    git(work, "update-ref", f"refs/remotes/origin/{branch}", upstream)


def states(work: Path, branch: str, tip: str) -> list[tuple[str, str, str]]:
    """(label, head, upstream) for the ahead/behind states."""
    back = git(work, "rev-parse", f"{tip}~30")
    out = [("in sync", tip, tip), ("ahead (origin 30 first-parent commits back)", tip, back),
           ("behind (HEAD 30 first-parent commits back)", back, tip)]
    merges = git(work, "rev-list", "--first-parent", "--merges", "--max-count=1",
                 f"{tip}~15").split()
    if merges:
        out.append(("diverged (HEAD a merged topic, origin 30 back)",
                    git(work, "rev-parse", f"{merges[0]}^2"), back))
    for other in ("maint", "next"):
        ref = f"refs/remotes/origin/{other}"
        if subprocess.run(["git", "rev-parse", "-q", "--verify", ref], cwd=work,
                          capture_output=True).returncode == 0:
            out.append((f"origin/{branch} at origin/{other}", tip, git(work, "rev-parse", ref)))
    return out


def row(label: str, ours: float, ref: float, ref_name: str, before: float | None = None,
        floor: tuple[float, float] | None = None) -> None:
    was = "" if before is None else f" {before:8.1f} ms ({before / ref:5.2f}x) |"
    least = "" if floor is None else f" {floor[0]:6.1f} ms ({floor[0] / floor[1]:5.2f}x) |"
    print(f"| {label:<56} |{was} {ours:8.1f} ms | {ref:8.1f} ms {ref_name:<28} | "
          f"{ours / ref:5.2f}x |{least}")


def header(title: str, baseline: bool = False, floor: bool = False) -> None:
    print(f"\n#### {title}\n")
    was = f" {'before (ratio)':>20} |" if baseline else ""
    least = f" {'Python floor':>18} |" if floor else ""
    print(f"| {'state':<56} |{was} {'ours':>11} | {'git':>40} | ratio |{least}")
    print(f"|{'-' * 58}|{'-' * 22 + '|' if baseline else ''}{'-' * 13}|{'-' * 42}|-------|"
          f"{'-' * 20 + '|' if floor else ''}")


def timed(ours: list[str], reference: Callable[[], object], work: Path, runs: int,
          baseline: Path | None) -> tuple[float, float, float | None]:
    """(ours, reference, the baseline install's same command or None), alternating."""
    if baseline is None:
        mine, theirs = paired_ms(proc(ours, work), reference, runs)
        return mine, theirs, None
    before = [str(baseline / Path(ours[0]).name), *ours[1:]]
    was, mine, theirs = alternating_ms((proc(before, work), proc(ours, work), reference), runs)
    return mine, theirs, was


def fresh_clone_proof(name: str, mirrors: Path) -> str:
    """Does the fast proof hold on a new ``git clone`` of the copy (a plain local one: the
    checkout is what a user gets; its index has the racily clean entries a clone leaves)?"""
    source = mirrors / name.replace("/", "+") / "repo"
    fresh = CACHE / (name.replace("/", "+") + ".fresh")
    shutil.rmtree(fresh, ignore_errors=True)
    subprocess.run(["git", "clone", "-q", str(source), str(fresh)], check=True, env=ENV,
                   capture_output=True)
    try:
        return subprocess.run([sys.executable, "-c", PROOF], cwd=fresh, capture_output=True,
                              text=True).stdout.strip()
    finally:
        shutil.rmtree(fresh, ignore_errors=True)


def bench_repo(name: str, work: Path, runs: int, parts: Sequence[str], mirrors: Path,
               baseline: Path | None = None) -> None:
    branch = git(work, "symbolic-ref", "--short", "HEAD")
    if subprocess.run(["git", "rev-parse", "-q", "--verify", "refs/bench/real"], cwd=work,
                      capture_output=True).returncode:
        git(work, "update-ref", "refs/bench/real", f"refs/remotes/origin/{branch}")
    tip = git(work, "rev-parse", "refs/bench/real")  # the real history, whatever moved since
    files = len(git(work, "ls-files", "-z").split("\0")) - 1
    commits = int(git(work, "rev-list", "--count", tip))
    print(f"\n### {name}: {files:,} files, {commits:,} commits (branch {branch})")
    py = [sys.executable, "-c", FACTS]
    floor, git_floor = paired_ms(proc([sys.executable, "-c", "pass"], work),
                                 proc(["git", "rev-parse", "HEAD"], work), runs)
    print(f"\nstart-up floors: `python -c pass` {floor:.1f} ms, `git rev-parse HEAD` "
          f"{git_floor:.1f} ms")
    if "ahead" in parts:
        for with_graph in (False, True):
            graph(work, with_graph)
            header(f"ahead/behind, {'with' if with_graph else 'without'} commit-graph",
                   baseline is not None, floor=True)
            for label, head, upstream in states(work, branch, tip):
                set_state(work, branch, head, upstream)
                expected = (git(work, "rev-list", "--count", f"origin/{branch}..HEAD") + " "
                            + git(work, "rev-list", "--count", f"HEAD..origin/{branch}"))
                got = subprocess.run(py, cwd=work, capture_output=True, text=True,
                                     check=True).stdout.strip()
                assert got == expected, (name, label, got, expected)
                two = procs([["git", "rev-list", "--count", f"origin/{branch}..HEAD"],
                             ["git", "rev-list", "--count", f"HEAD..origin/{branch}"]], work)
                ours, ref, was = timed(py, two, work, runs, baseline)
                taken = subprocess.run([sys.executable, "-c", TAKEN, f"origin/{branch}"],
                                       cwd=work, capture_output=True, text=True,
                                       check=True).stdout.strip()
                least = paired_ms(proc([sys.executable, "-I", "-S", "-c", WALK_FLOOR, taken],
                                       work), two, runs)
                row(f"{label} [{expected.replace(' ', '/')}]", ours, ref,
                    "2x git rev-list --count", was, least)
            set_state(work, branch, tip, tip)
        graph(work, False)
    if "clean" in parts:
        print(f"\nfast proof on a new clone: {fresh_clone_proof(name, mirrors)}")
        project = project_commit(work, tip)
        set_state(work, branch, project, project)
        git(work, "reset", "-q", "--hard", project)
        header("clean verdict and preflight (in sync, + a one-agent ayjnt project, fresh index)",
               baseline is not None)
        for version in ("2", "4"):
            git(work, "update-index", "--index-version", version)
            proof = subprocess.run([sys.executable, "-c", PROOF], cwd=work,
                                   capture_output=True, text=True).stdout.strip()
            ours, ref, was = timed([AYJNT_HOOKS, "status", "--porcelain"],
                                   proc(["git", "status", "--porcelain"], work), work, runs,
                                   baseline)
            row(f"status --porcelain, index v{version} (fast proof: {proof})", ours, ref,
                "git status --porcelain", was)
        git(work, "update-index", "--index-version", "2")
        ours, ref, was = timed([AYJNT_HOOKS, "status", "--json"],
                               proc(["git", "status", "--porcelain"], work), work, runs, baseline)
        row("status --json", ours, ref, "git status --porcelain", was)
        rev_lists = [["git", "rev-list", "--count", f"origin/{branch}..HEAD"],
                     ["git", "rev-list", "--count", f"HEAD..origin/{branch}"]]
        ours, ref, was = timed([AYJNT_HOOKS, "status", "--json"],
                               procs([["git", "status", "--porcelain"], *rev_lists], work), work,
                               runs, baseline)
        row("status --json", ours, ref, "git status + 2x rev-list", was)
        five = [["git", "status", "--porcelain"], ["git", "rev-parse", "--abbrev-ref", "HEAD"],
                ["git", "rev-parse", "--verify", f"origin/{branch}"], *rev_lists]
        ours, ref, was = timed([AYJNT_DEPLOY, "--check"], procs(five, work), work, runs,
                               baseline)
        code = subprocess.run([AYJNT_DEPLOY, "--check"], cwd=work,
                              capture_output=True).returncode
        assert code == 0, f"{name}: ayjnt-deploy --check exited {code}"
        row("ayjnt-deploy --check", ours, ref, "ayjnt's 5 git commands", was)
        set_state(work, branch, tip, tip)
        git(work, "reset", "-q", "--hard", tip)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--only", action="append", choices=REPOS)
    parser.add_argument("--part", action="append", choices=("ahead", "clean"))
    parser.add_argument("--mirrors", type=Path, default=MIRRORS)
    parser.add_argument("--baseline", type=Path,
                        help="bin folder of another install, timed as 'before' (clean part)")
    args = parser.parse_args(argv)
    runs = 5 if args.quick else 9
    print(f"python {sys.version.split()[0]}, {os.cpu_count()} cpus; median of {runs} runs, "
          f"ours and git alternating")
    for name in args.only or REPOS:
        work = clone(name, args.mirrors)
        if work is not None:
            bench_repo(name, work, runs, args.part or ("ahead", "clean"), args.mirrors,
                       args.baseline)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
