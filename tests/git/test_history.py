"""Branch/sync facts against ``git rev-list --count`` and friends."""
from __future__ import annotations

from pathlib import Path

import pytest

from ayjnt_hooks.git.history import CommitGraphWalker, branch_facts
from ayjnt_hooks.git.repo import discover

from ..conftest import git, sh


def commits(n: int, prefix: str, start: int = 1_700_000_000, step: int = 60) -> str:
    """n commits with strictly increasing dates (or decreasing with a negative step)."""
    return "".join(
        f"echo {prefix}{i} > {prefix}.txt; git add {prefix}.txt; "
        f"GIT_COMMITTER_DATE='{start + i * step} +0000' GIT_AUTHOR_DATE='{start + i * step} "
        f"+0000' git commit -qm {prefix}{i}; " for i in range(n))


@pytest.fixture
def clone(tmp_path: Path) -> Path:
    origin = tmp_path / "origin.git"
    sh(tmp_path, f"git init -q --bare -b main {origin}; git clone -q {origin} work 2>/dev/null")
    work = tmp_path / "work"
    sh(work, "git checkout -qb main; " + commits(5, "base") + "git push -q origin main")
    return work


def oracle(cwd: Path) -> tuple[int, int]:
    """Exact counts from git's full ancestor lists (``rev-list A..B`` can be fooled by skew)."""
    mine = set(git(cwd, "rev-list", "HEAD").split())
    theirs = set(git(cwd, "rev-list", "origin/main").split())
    return len(mine - theirs), len(theirs - mine)


def rev_list_count(cwd: Path) -> tuple[int, int]:
    ahead = int(git(cwd, "rev-list", "--count", "origin/main..HEAD"))
    behind = int(git(cwd, "rev-list", "--count", "HEAD..origin/main"))
    return ahead, behind


def other_side(clone: Path, script: str) -> None:
    """Commit on origin/main from a second clone, then fetch."""
    sh(clone, f"git clone -q $(git remote get-url origin) ../other; cd ../other; {script} "
              "git push -q origin main; cd -; git fetch -q origin")


@pytest.mark.parametrize("setup", [
    pytest.param(lambda c: None, id="in-sync"),
    pytest.param(lambda c: sh(c, commits(3, "local", 1_800_000_000)), id="ahead"),
    pytest.param(lambda c: other_side(c, commits(2, "remote", 1_800_000_000)), id="behind"),
    pytest.param(lambda c: (sh(c, commits(3, "local", 1_800_000_000)),
                            other_side(c, commits(4, "remote", 1_800_000_000))), id="diverged"),
    pytest.param(lambda c: (sh(c, commits(9, "skewed", 1_600_000_000, -60)),
                            other_side(c, commits(25, "remote", 1_800_000_000))),
                 id="clock-skew"),
    pytest.param(lambda c: (other_side(c, commits(3, "remote", 1_800_000_000)),
                            sh(c, commits(2, "local", 1_800_000_500)
                               + "git merge -q --no-edit origin/main")), id="merge"),
    pytest.param(lambda c: (other_side(c, commits(2, "r", 1_800_000_000)),
                            sh(c, commits(2, "l", 1_800_000_000)
                               + "git branch side; git merge -q --no-edit origin/main; "
                               "git checkout -q side; git merge -q --no-edit origin/main; "
                               "git checkout -q main; git merge -q --no-edit -s ours side")),
                 id="criss-cross"),
    pytest.param(lambda c: (sh(c, commits(3, "local", 1_800_000_000)),
                            other_side(c, commits(2, "remote", 1_800_000_000)),
                            sh(c, "git commit-graph write --reachable")), id="commit-graph"),
])
def test_ahead_behind_matches_git(clone: Path, setup: object) -> None:
    setup(clone)  # type: ignore[operator]
    facts = branch_facts(discover(str(clone)))
    assert facts.branch == "main" and facts.upstream == "origin/main"
    assert (facts.ahead, facts.behind) == oracle(clone)


def test_clock_skew_where_git_rev_list_count_is_fooled(clone: Path) -> None:
    """Nine local commits dated before the merge base: git's date-ordered walk with its
    five-commit slop counts the base commits as unpulled; the exact answer is 25."""
    sh(clone, commits(9, "skewed", 1_600_000_000, -60))
    other_side(clone, commits(25, "remote", 1_800_000_000))
    facts = branch_facts(discover(str(clone)))
    assert (facts.ahead, facts.behind) == oracle(clone) == (9, 25)
    assert rev_list_count(clone) != (9, 25)  # documents git's own heuristic here


@pytest.mark.parametrize("n", [0, 1, 3])
def test_matches_rev_list_count_on_ordinary_history(clone: Path, n: int) -> None:
    sh(clone, commits(n, "local", 1_800_000_000))
    other_side(clone, commits(2, "remote", 1_800_000_000))
    facts = branch_facts(discover(str(clone)))
    assert (facts.ahead, facts.behind) == rev_list_count(clone) == (n, 2)


def test_detached_unborn_no_origin(clone: Path, tmp_path: Path) -> None:
    sh(clone, "git checkout -q --detach HEAD")
    facts = branch_facts(discover(str(clone)))
    assert facts.detached and facts.branch is None and facts.ahead is None
    sh(clone, "git checkout -q main; git checkout -qb feature")
    facts = branch_facts(discover(str(clone)))
    assert facts.branch == "feature" and facts.upstream is None and not facts.detached
    fresh = tmp_path / "fresh"
    sh(tmp_path, f"git init -q -b main {fresh}")
    facts = branch_facts(discover(str(fresh)))
    assert facts.unborn and facts.branch == "main" and facts.head is None


def test_packed_refs(clone: Path) -> None:
    sh(clone, commits(2, "local", 1_800_000_000) + "git pack-refs --all")
    assert not (clone / ".git/refs/remotes/origin/main").exists()
    facts = branch_facts(discover(str(clone)))
    assert (facts.ahead, facts.behind) == rev_list_count(clone) == (2, 0)


def test_shallow_clone(clone: Path, tmp_path: Path) -> None:
    other_side(clone, commits(3, "remote", 1_800_000_000))
    shallow = tmp_path / "shallow"
    sh(tmp_path, f"git clone -q --depth 1 file://{tmp_path / 'origin.git'} {shallow}")
    sh(shallow, commits(2, "local", 1_900_000_000))
    facts = branch_facts(discover(str(shallow)))
    assert facts.shallow
    assert (facts.ahead, facts.behind) == oracle(shallow)


def test_walk_is_bounded_by_merge_base(clone: Path) -> None:
    sh(clone, commits(40, "old", 1_750_000_000) + "git push -q origin main; "
       + commits(2, "local", 1_800_000_000))
    walker = CommitGraphWalker(discover(str(clone)))
    repo = discover(str(clone))
    head, up = repo.ref_sha("HEAD"), repo.ref_sha("refs/remotes/origin/main")
    assert head and up
    assert walker.ahead_behind(head, up) == (2, 0)
    assert len(walker._parents) < 10  # did not read the 45-commit history


def test_commit_graph_reader_matches_git(clone: Path) -> None:
    from ayjnt_hooks.git.commitgraph import CommitGraph

    sh(clone, "git checkout -qb a && git commit -q --allow-empty -m a && git checkout -qb b main "
              "&& git commit -q --allow-empty -m b && git checkout -qb c main && "
              "git commit -q --allow-empty -m c && git checkout -q main && "
              "git merge -q --no-edit a b c && git commit-graph write --reachable")
    graph = CommitGraph.open(str(clone / ".git" / "objects"))
    assert graph is not None
    for line in git(clone, "log", "--all", "--format=%H %P").splitlines():
        sha, *parents = line.split()
        pos = graph.position(bytes.fromhex(sha))
        assert pos is not None
        assert [graph.oid(p).hex() for p in graph.parents(pos)] == parents
    octopus = git(clone, "rev-parse", "HEAD").strip()
    pos = graph.position(bytes.fromhex(octopus))
    assert pos is not None and len(graph.parents(pos)) == 3  # octopus: the EDGE chunk
    root = git(clone, "rev-list", "--max-parents=0", "HEAD").strip()
    root_pos = graph.position(bytes.fromhex(root))
    assert root_pos is not None and graph.generation(root_pos) == 1
    assert graph.generation(pos) == 1 + int(git(clone, "rev-list", "--count", "HEAD^1"))
    assert graph.position(b"\xff" * 20) is None and graph.position(b"\x00" * 20) is None
