"""Branch/sync facts against ``git rev-list --count`` and friends."""
from __future__ import annotations

import random
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


def set_difference(cwd: Path) -> tuple[int, int]:
    """The true set difference of the two ancestor lists (``rev-list A..B`` can be fooled by
    skew, and then differs from this)."""
    mine = set(git(cwd, "rev-list", "HEAD").split())
    theirs = set(git(cwd, "rev-list", "origin/main").split())
    return len(mine - theirs), len(theirs - mine)


def rev_list_count(cwd: Path, local: str = "HEAD", upstream: str = "origin/main"
                   ) -> tuple[int, int]:
    """What ayjnt runs, and so the spec: ``git rev-list --count`` both ways."""
    ahead = int(git(cwd, "rev-list", "--count", f"{upstream}..{local}"))
    behind = int(git(cwd, "rev-list", "--count", f"{local}..{upstream}"))
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
    assert (facts.ahead, facts.behind) == rev_list_count(clone)


def test_clock_skew_where_git_rev_list_count_is_fooled(clone: Path) -> None:
    """Nine local commits dated before the merge base: git's date-ordered walk stops (its
    five-commit slop used up) before painting the base commits uninteresting, so
    ``rev-list --count HEAD..origin/main`` counts them as unpulled: 30, where the set
    difference is 25. ayjnt runs that command, so git's answer is the one we give."""
    sh(clone, commits(9, "skewed", 1_600_000_000, -60))
    other_side(clone, commits(25, "remote", 1_800_000_000))
    facts = branch_facts(discover(str(clone)))
    assert set_difference(clone) == (9, 25)
    assert (facts.ahead, facts.behind) == rev_list_count(clone) == (9, 30)


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
    assert (facts.ahead, facts.behind) == rev_list_count(shallow) == set_difference(shallow)


def test_walk_is_bounded_by_merge_base(clone: Path) -> None:
    sh(clone, commits(40, "old", 1_750_000_000) + "git push -q origin main; "
       + commits(2, "local", 1_800_000_000))
    walker = CommitGraphWalker(discover(str(clone)))
    repo = discover(str(clone))
    head, up = repo.ref_sha("HEAD"), repo.ref_sha("refs/remotes/origin/main")
    assert head and up
    assert walker.ahead_behind(head, up) == (2, 0)
    assert walker.parsed() < 10  # did not read the 45-commit history
    # what both walks took off their queues (bench/realrepos.py's floor): the counted ones,
    # the tips, and a few more each for git's slop, not the history
    assert 2 + 2 <= walker.taken < 20


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


# ---------------------------------------------------------------- random histories vs git
def random_history(repo: Path, seed: int, n: int, merges: float, skew: float, ties: float
                   ) -> list[str]:
    """``n`` commits through ``git fast-import``: merges of up to three parents (a share
    ``merges``), committer dates that run backwards (``skew``) or repeat (``ties``), some
    roots; returns every commit id, oldest first."""
    rnd = random.Random(seed)
    sh(repo.parent, f"git init -q -b main {repo.name}")
    stream, dates = [], []
    date = 1_700_000_000
    for i in range(1, n + 1):
        roll = rnd.random()
        date = date if roll < ties else date - rnd.randint(1, 90_000) if roll < ties + skew \
            else date + rnd.randint(1, 5_000)
        dates.append(date)
        parents: list[int] = []
        if i > 1 and rnd.random() > 0.02:  # a few extra roots
            parents.append(rnd.randint(max(1, i - 8), i - 1))  # mostly near the tip
            if rnd.random() < merges:
                parents += rnd.sample(range(1, i), k=min(i - 1, rnd.choice((1, 1, 1, 2))))
        parents = list(dict.fromkeys(parents))
        stream.append(f"commit refs/heads/b{i % 7}\nmark :{i}\n"
                      f"committer T <t@example.com> {date} +0000\ndata {len(f'c{i}')}\nc{i}\n")
        if parents:
            stream.append(f"from :{parents[0]}\n" + "".join(f"merge :{p}\n" for p in parents[1:]))
        else:
            stream.append("deleteall\n")
        stream.append(f"M 644 inline f{i % 5}\ndata {len(str(i))}\n{i}\n\n")
    stream.append(f"reset refs/heads/main\nfrom :{n}\n\ndone\n")
    git(repo, "fast-import", "--quiet", "--done", "--export-marks=marks",
        input="".join(stream).encode())
    marks = dict(line.split() for line in (repo / "marks").read_text().splitlines())
    return [marks[f":{i}"] for i in range(1, n + 1)]


def pairs(shas: list[str], seed: int, k: int) -> list[tuple[str, str]]:
    rnd = random.Random(seed)
    out = [(shas[-1], shas[-2]), (shas[-1], shas[0]), (shas[0], shas[-1])]
    while len(out) < k:
        out.append((rnd.choice(shas[len(shas) // 2:]), rnd.choice(shas)))
    return out


def git_counts(repo: Path, a: str, b: str) -> tuple[int, int]:
    return (int(git(repo, "rev-list", "--count", f"{b}..{a}")),
            int(git(repo, "rev-list", "--count", f"{a}..{b}")))


@pytest.mark.parametrize("graph", ["no-graph", "graph", "graph-v1", "partial-graph",
                                   "split-graph"])
@pytest.mark.parametrize(("n", "merges", "skew", "ties"), [
    pytest.param(150, 0.3, 0.0, 0.0, id="merge-heavy"),
    pytest.param(150, 0.3, 0.1, 0.0, id="merge-heavy-skewed"),
    pytest.param(150, 0.1, 0.3, 0.0, id="heavily-skewed"),
    pytest.param(150, 0.3, 0.05, 0.4, id="ties"),
])
def test_random_histories_match_git_rev_list_count(
        tmp_path: Path, graph: str, n: int, merges: float, skew: float, ties: float) -> None:
    repo = tmp_path / "r"
    seed = hash((n, merges, skew, ties)) & 0xFFFF
    shas = random_history(repo, seed, n, merges, skew, ties)
    if graph == "graph":
        git(repo, "commit-graph", "write", "--reachable")
    elif graph == "graph-v1":  # topological levels only: no GDA2 chunk
        git(repo, "-c", "commitGraph.generationVersion=1", "commit-graph", "write",
            "--reachable")
    elif graph == "partial-graph":  # the graph holds the older half; the rest are objects
        half = "\n".join(shas[: n // 2]) + "\n"
        git(repo, "commit-graph", "write", "--stdin-commits", input=half.encode())
    elif graph == "split-graph":  # a chain git reads; we read the objects instead
        half = "\n".join(shas[: n // 2]) + "\n"
        git(repo, "commit-graph", "write", "--split", "--stdin-commits", input=half.encode())
        git(repo, "commit-graph", "write", "--split", "--reachable")
        assert (repo / ".git/objects/info/commit-graphs/commit-graph-chain").exists()
    git(repo, "repack", "-q", "-d") if graph == "no-graph" else None  # packed and loose
    r = discover(str(repo))
    assert (CommitGraphWalker(r).graph is None) == (graph in ("no-graph", "split-graph"))
    if graph.startswith("graph"):
        g = CommitGraphWalker(r).graph
        assert g is not None and (g._gdat is None) == (graph == "graph-v1")
    fooled = 0
    for a, b in pairs(shas, seed, 25):
        expected = git_counts(repo, a, b)
        assert CommitGraphWalker(r).ahead_behind(a, b) == expected, (a, b)
        ours_a = set(git(repo, "rev-list", a).split())
        ours_b = set(git(repo, "rev-list", b).split())
        fooled += expected != (len(ours_a - ours_b), len(ours_b - ours_a))
    if skew >= 0.3:
        assert fooled  # the scenario really exercises git's early stop


def test_one_walker_many_pairs_shares_its_cache(tmp_path: Path) -> None:
    """A walker reused across pairs keeps parsed commits but starts each walk afresh (git
    runs each count in a new process: which commits are parsed changes how far paint goes)."""
    repo = tmp_path / "r"
    shas = random_history(repo, 7, 120, 0.3, 0.2, 0.2)
    walker = CommitGraphWalker(discover(str(repo)))
    for a, b in pairs(shas, 7, 30):
        assert walker.ahead_behind(a, b) == git_counts(repo, a, b), (a, b)


def test_in_sync_is_answered_without_a_walk(clone: Path) -> None:
    repo = discover(str(clone))
    walker = CommitGraphWalker(repo)
    head = repo.ref_sha("HEAD")
    assert head is not None
    assert walker.ahead_behind(head, head) == (0, 0)
    assert not walker._par and not walker._graph_loaded  # nothing read
    assert walker.taken == 0


@pytest.mark.parametrize("setup", [
    pytest.param("git replace $(git rev-parse HEAD~2) $(git rev-parse origin/main~3)",
                 id="replace-ref"),
    pytest.param("git replace $(git rev-parse HEAD~2) $(git rev-parse origin/main~3) && "
                 "git pack-refs --all && git commit-graph write --reachable",
                 id="packed-replace-ref-and-graph"),
    pytest.param("echo $(git rev-parse HEAD~1) $(git rev-parse origin/main~2) "
                 "> .git/info/grafts && git commit-graph write --reachable", id="grafts"),
    pytest.param("git commit-graph write --reachable && git config core.commitGraph false",
                 id="graph-disabled"),
])
def test_replace_refs_and_grafts_as_git_reads_them(clone: Path, setup: str) -> None:
    sh(clone, commits(4, "local", 1_800_000_000))
    other_side(clone, commits(5, "remote", 1_800_000_100))
    sh(clone, "mkdir -p .git/info && " + setup)
    facts = branch_facts(discover(str(clone)))
    assert (facts.ahead, facts.behind) == rev_list_count(clone)
    assert CommitGraphWalker(discover(str(clone))).graph is None  # as git: not trusted here
    if "replace" in setup or "grafts" in setup:
        assert (facts.ahead, facts.behind) != (4, 5)  # the replacement or graft counts


def test_octopus_merges_from_the_graph(clone: Path) -> None:
    sh(clone, "git checkout -qb a && git commit -q --allow-empty -m a && git checkout -qb b main "
              "&& git commit -q --allow-empty -m b && git checkout -qb c main && "
              "git commit -q --allow-empty -m c && git checkout -qb d main && "
              "git commit -q --allow-empty -m d && git checkout -q main && "
              "git merge -q --no-edit a b c d && git commit-graph write --reachable")
    walker = CommitGraphWalker(discover(str(clone)))
    assert walker.graph is not None
    assert walker.ahead_behind(git(clone, "rev-parse", "HEAD").strip(),
                               git(clone, "rev-parse", "origin/main").strip()) == (5, 0)


def literal_commit(repo: Path, body: str) -> str:
    return git(repo, "hash-object", "-t", "commit", "-w", "--literally", "--stdin",
               input=body.encode()).strip()


@pytest.mark.parametrize("committer", [
    pytest.param("committer T <t@e> 1800000000 +0000\n\nmsg\n", id="ordinary"),
    pytest.param("committer T <t@e>   1800000000 +0000\n\nmsg\n", id="spaces"),
    pytest.param("committer T <t@e> -5 +0000\n\nmsg\n", id="negative"),
    pytest.param("committer T <t@e> 99999999999999999999999 +0000\n\nmsg\n", id="overflow"),
    pytest.param("committer T <t@e>\n\n1900000000 in the message\n", id="no-date"),
    pytest.param("committer T <t@e> 1800000000 +0000\n", id="no-message"),
    pytest.param("committer T <t@e> x\n\nmsg\n", id="garbage"),
    pytest.param("\n\nmsg\n", id="no-committer"),
])
def test_commit_dates_parsed_as_git_parses_them(clone: Path, committer: str) -> None:
    """Odd committer lines change the date git sorts by, and so the counts where the walk
    depends on it; a commit that git parses to date 0 sorts last."""
    base = git(clone, "rev-parse", "HEAD").strip()
    tree = git(clone, "rev-parse", "HEAD^{tree}").strip()
    tip = base
    for i in range(3):
        tip = literal_commit(clone, f"tree {tree}\nparent {tip}\nauthor A <a@e> 1 +0000\n"
                                    + committer.replace("msg", f"msg{i}"))
    other_side(clone, commits(6, "remote", 1_700_000_000))
    sh(clone, f"git reset -q --hard {tip}")
    facts = branch_facts(discover(str(clone)))
    assert (facts.ahead, facts.behind) == rev_list_count(clone)
    from ayjnt_hooks.git.history import parse_commit

    data = git(clone, "cat-file", "commit", tip).encode()
    date = int(git(clone, "rev-list", "--timestamp", "-1", tip).split()[0])  # commit->date
    parsed = parse_commit(data, True)
    assert parsed is not None and parsed[1] == date
    for cut in range(len(data)):  # a prefix either parses to the same answer or says so
        assert parse_commit(data[:cut], False) in (None, parsed)


def test_commit_parsing_equals_the_regular_expressions_it_replaced() -> None:
    """parse_commit reads ids and the date with bytes methods (no `re` import on a walk); on
    seeded random commit headers it answers as git's get_oid_hex and strtoumax, written as
    the regular expressions they replaced, do — for whole commits and for every prefix."""
    import random
    import re

    from ayjnt_hooks.git.history import _Unparsable, parse_commit

    hex_id = re.compile(rb"[0-9a-fA-F]{40}")
    date = re.compile(rb"[ \t\n\v\f\r]*([+-]?)([0-9]*)")
    rng = random.Random(20261202)
    oid = "0123456789abcdef" * 2 + "01234567"

    def expected(data: bytes) -> tuple[list[bytes], int] | str:
        if not hex_id.fullmatch(data, 5, 45):
            return "bad tree pointer"
        parents, pos = [], 46
        while data[pos:pos + 7] == b"parent ":
            if not hex_id.fullmatch(data, pos + 7, pos + 47):
                return "bad parents"
            parents.append(data[pos + 7:pos + 47])
            pos += 48
        gt = data.index(b">", data.index(b"\ncommitter ", pos))
        m = date.match(data, gt + 1)
        assert m is not None
        value = int(m[2]) if m[2] else 0
        return parents, (-value % 2 ** 64 if m[1] == b"-" and value else min(value, 2**64 - 1))

    for _ in range(3000):
        ids = [rng.choice([oid, oid.upper(), oid[:39] + "g", oid[:20] + " " + oid[21:]])
               for _ in range(rng.randint(0, 2))]
        tail = "".join(rng.choice([" ", "\t", "\n", "\v", "+", "-", "1", "9", "0", "x", "\n\n"])
                       for _ in range(rng.randint(0, 12)))
        data = (f"tree {rng.choice([oid, oid.upper(), 'X' * 40])}\n"
                + "".join(f"parent {i}\n" for i in ids)
                + f"author A <a> 1 +0000\ncommitter C <c>{tail}\n\nmsg\n").encode()
        want = expected(data)
        try:
            got: object = parse_commit(data, True)
        except _Unparsable as e:
            got = str(e)
        assert got == want, data
        for cut in range(0, len(data), 3):
            try:
                part = parse_commit(data[:cut], False)
            except _Unparsable as e:
                assert str(e) == want, (data, cut)
            else:
                assert part in (None, want), (data, cut)


def test_missing_commit_is_a_clear_error(clone: Path) -> None:
    from ayjnt_hooks.errors import AyjntError

    sh(clone, commits(2, "local", 1_800_000_000))
    parent = git(clone, "rev-parse", "HEAD~1").strip()
    obj = clone / ".git/objects" / parent[:2] / parent[2:]
    obj.chmod(0o644)
    obj.unlink()
    with pytest.raises(AyjntError, match=f"commit {parent} is missing or corrupt"):
        branch_facts(discover(str(clone)))
    assert sh(clone, "git rev-list --count origin/main..HEAD", check=False).returncode != 0


def graph_chunks(path: Path) -> dict[bytes, int]:
    import struct

    data = path.read_bytes()
    return {struct.unpack_from(">4sQ", data, 8 + 12 * i)[0]:
            struct.unpack_from(">4sQ", data, 8 + 12 * i)[1] for i in range(data[6])}


@pytest.mark.parametrize("index", range(8))
def test_generation_overflow_without_its_chunk_as_git(tmp_path: Path, index: int) -> None:
    """git 2.39 dies when it loads a commit whose GDA2 word says "overflow" and the graph has
    no GDO2 chunk: whichever commit of the walk it is, we refuse where git fails and count
    as git where git never loads that commit."""
    from ayjnt_hooks.errors import AyjntError

    repo = tmp_path / "r"
    shas = random_history(repo, 11, 8, 0.3, 0.0, 0.0)
    git(repo, "commit-graph", "write", "--reachable")
    path = repo / ".git/objects/info/commit-graph"
    chunks = graph_chunks(path)
    assert b"GDA2" in chunks and b"GDO2" not in chunks
    data = bytearray(path.read_bytes())
    data[chunks[b"GDA2"] + 4 * index] |= 0x80
    path.chmod(0o644)
    path.write_bytes(bytes(data))
    a, b = shas[-1], shas[2]
    proc = [sh(repo, f"git rev-list --count {x}..{y}", check=False) for x, y in ((b, a), (a, b))]
    walker = CommitGraphWalker(discover(str(repo)))
    if any(p.returncode for p in proc):
        assert "overflow generation data" in proc[0].stderr + proc[1].stderr
        with pytest.raises(AyjntError, match=r"commit-graph.*overflow generation data"):
            walker.ahead_behind(a, b)
    else:
        assert walker.ahead_behind(a, b) == tuple(int(p.stdout) for p in proc)


def test_graph_checksum_is_checked_when_a_commit_is_not_in_it(tmp_path: Path) -> None:
    """git does not verify the commit-graph's checksum on read, and neither do we while every
    commit is found in it; a commit the binary search misses (a partial graph, or a damaged
    id list) makes us verify it first, and refuse a damaged one."""
    from ayjnt_hooks.errors import AyjntError

    repo = tmp_path / "r"
    shas = random_history(repo, 5, 30, 0.3, 0.1, 0.0)
    half = "\n".join(shas[:15]) + "\n"
    git(repo, "commit-graph", "write", "--stdin-commits", input=half.encode())
    path = repo / ".git/objects/info/commit-graph"
    data = bytearray(path.read_bytes())
    expected = git_counts(repo, shas[-1], shas[3])
    assert CommitGraphWalker(discover(str(repo))).ahead_behind(shas[-1], shas[3]) == expected
    data[-1] ^= 1  # the trailing checksum only: every entry still reads the same
    path.chmod(0o644)
    path.write_bytes(bytes(data))
    assert git_counts(repo, shas[-1], shas[3]) == expected  # git does not notice
    with pytest.raises(AyjntError, match=r"commit-graph.*checksum"):
        CommitGraphWalker(discover(str(repo))).ahead_behind(shas[-1], shas[3])
    # all in the graph: read as git reads it, checksum unverified, git's answer
    git(repo, "commit-graph", "write", "--stdin-commits", input="\n".join(shas).encode())
    data = bytearray(path.read_bytes())
    data[-1] ^= 1
    path.chmod(0o644)
    path.write_bytes(bytes(data))
    assert CommitGraphWalker(discover(str(repo))).ahead_behind(shas[-1], shas[3]) == \
        git_counts(repo, shas[-1], shas[3])


@pytest.mark.parametrize("name_length", [5, 150, 400])
def test_packed_commit_heads_short_and_long(clone: Path, name_length: int) -> None:
    """The walk's pack reader inflates a commit only through the line after "committer":
    short commits whole, headers past 320 bytes in a second step, past 640 through the
    general path; deltas through the general path. Each is what git cat-file shows."""
    name = "N" * name_length
    sh(clone, f"export GIT_COMMITTER_NAME={name} GIT_AUTHOR_NAME={name}; "
              + commits(6, "local", 1_800_000_000) + "git checkout -qb side HEAD~3; "
              + commits(3, "side", 1_800_000_100) + "git checkout -q main; "
              "git merge -q --no-edit side; git gc -q")
    repo = discover(str(clone))
    reader = repo.objects
    fast = 0
    for sha in git(clone, "rev-list", "HEAD", "^origin/main").split():  # the long names
        whole = git(clone, "cat-file", "commit", sha).encode()
        head = reader.commit_head(bytes.fromhex(sha), 640)
        if head is not None:
            fast += 1
            assert whole.startswith(head)
            committer = head.index(b"\ncommitter ")
            assert len(head) == len(whole) or head.find(b"\n", committer + 1) < len(head) - 1
    assert (fast > 0) == (name_length < 400)  # past 640 bytes: always the general path
    facts = branch_facts(repo)
    assert (facts.ahead, facts.behind) == rev_list_count(clone) == (10, 0)
