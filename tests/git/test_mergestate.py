"""git/mergestate: merge bases and ancestry against git itself (`git merge-base --all`,
`--is-ancestor`) on a branchy history with criss-cross merges, with and without a
commit-graph (and with commits written after it); the operation in progress."""
from __future__ import annotations

import random
from pathlib import Path

import pytest

from ayjnt_hooks.git.mergestate import (
    expand_short_id,
    is_ancestor,
    merge_bases,
    operation,
    parents,
    pseudo_ref,
)
from ayjnt_hooks.git.repo import discover

from ..conftest import git


def _history(root: Path, seed: int, commits: int) -> list[str]:
    """A random DAG through fast-import: each commit has one or two earlier parents."""
    rng = random.Random(seed)
    script = []
    for i in range(commits):
        script.append(f"commit refs/heads/c{i}\nmark :{i + 1}\n"
                      f"committer t <t@e> {1_600_000_000 + rng.randint(0, 10_000)} +0000\n"
                      f"data 2\nc\n")
        if i:
            picks = rng.sample(range(i), min(i, rng.choice((1, 1, 2))))
            script.append(f"from :{picks[0] + 1}\n")
            script += [f"merge :{p + 1}\n" for p in picks[1:]]
        script.append(f"M 100644 inline f{i}\ndata 1\nx\n")
    git(root, "init", "-q", "-b", "main", str(root))
    git(root, "fast-import", "--quiet", input="".join(script).encode())
    return [git(root, "rev-parse", f"c{i}").strip() for i in range(commits)]


@pytest.mark.parametrize("graph", ["none", "full", "partial"])
def test_merge_bases_and_ancestry_equal_git(tmp_path: Path, graph: str) -> None:
    shas = _history(tmp_path, seed=7, commits=60)
    if graph != "none":
        git(tmp_path, "commit-graph", "write", "--reachable")
    if graph == "partial":  # commits newer than the graph get levels computed by us
        git(tmp_path, "checkout", "-q", "c59")
        for n in range(3):
            git(tmp_path, "commit", "-q", "--allow-empty", "-m", f"after graph {n}")
        git(tmp_path, "merge", "-q", "--no-edit", "c30", check=False)
        shas.append(git(tmp_path, "rev-parse", "HEAD").strip())
    repo = discover(str(tmp_path))
    rng = random.Random(1)
    pairs = [(rng.choice(shas), rng.choice(shas)) for _ in range(40)] + [(shas[-1], shas[0])]
    seen = {"several bases": 0, "ancestor": 0, "not": 0}
    for a, b in pairs:
        expected = sorted(git(tmp_path, "merge-base", "--all", a, b).split())
        assert merge_bases(repo, a, b) == expected, (a, b)
        truth = _is_ancestor_git(tmp_path, a, b)
        assert is_ancestor(repo, a, b) == truth, (a, b)
        seen["several bases"] += len(expected) > 1
        seen["ancestor" if truth else "not"] += 1
    assert all(seen.values()), seen  # the sample covers each case
    first = parents(repo, shas[-1])
    assert list(first) == git(tmp_path, "rev-parse", f"{shas[-1]}^@").split()


def _is_ancestor_git(cwd: Path, a: str, b: str) -> bool:
    import subprocess

    return subprocess.run(["git", "merge-base", "--is-ancestor", a, b], cwd=cwd).returncode == 0


def test_short_ids_and_pseudo_refs(tmp_path: Path) -> None:
    shas = _history(tmp_path, seed=3, commits=5)
    repo = discover(str(tmp_path))
    assert expand_short_id(repo, shas[2][:10]) == shas[2]  # (fast-import wrote a pack)
    git(tmp_path, "commit", "-q", "--allow-empty", "-m", "loose")
    loose = git(tmp_path, "rev-parse", "HEAD").strip()
    assert expand_short_id(repo, loose[:7]) == loose
    assert expand_short_id(repo, "zz12") is None
    assert expand_short_id(repo, shas[2][:3]) is None  # git needs at least four digits
    (tmp_path / ".git" / "MERGE_HEAD").write_text("not a sha\n")
    assert pseudo_ref(repo, "MERGE_HEAD") is None
    assert operation(repo).kind is None
    (tmp_path / ".git" / "MERGE_HEAD").write_text(shas[1] + "\n")
    op = operation(repo)
    assert (op.kind, op.other, op.continue_command) == ("merge", shas[1], "git merge --continue")
