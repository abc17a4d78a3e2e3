"""Branch and sync facts: current branch, detached/unborn HEAD, origin/<branch>, ahead/behind.

Ahead/behind are ``git rev-list --count origin/<b>..HEAD`` and ``HEAD..origin/<b>``, the two
commands ayjnt runs, and git's answer is the spec. So each count replays git 2.39's own walk
for ``^A B`` (``revision.c``: ``handle_commit``, ``limit_list``, ``process_parents``,
``mark_parents_uninteresting``, ``still_interesting`` with its five-commit slop): commits come
off a list ordered by committer date (ties in insertion order), parents of uninteresting
commits are painted uninteresting, and the walk stops once every queued commit is
uninteresting and five more have been taken. The count is what git prints: the commits taken
while interesting that were not painted uninteresting by the end. Where clock skew fools that
stop, git counts commits that are in fact reachable from A, and so do we (see
``tests/git/test_history.py::test_clock_skew_where_git_rev_list_count_is_fooled``).

git uses no generation numbers here: ``A..B`` makes the walk "limited", and a limited walk
goes by date with or without a commit-graph. The graph only makes each commit cheaper to read
(parents and dates without inflating the object), so it is read here for the same reason.
Both walks share one cache of parsed commits; each walk keeps git's own per-process state
(which commits are parsed, seen, uninteresting), because that state decides how far the
uninteresting paint spreads before the stop.
"""
from __future__ import annotations

import os

from ..errors import AyjntError
from .config import span
from .repo import Repo

TYPE_CHECKING = False  # (typing is not imported at run time: start-up time counts here)
if TYPE_CHECKING:
    from typing import Callable

    from .commitgraph import CommitGraph
    from .objects import ObjectReader

# Per-walk flags, as git's object flags (UNINTERESTING, SEEN) plus two of our own.
_UNINTERESTING, _SEEN, _PARSED, _QUEUED = 1, 2, 4, 8
_TIME_MAX = 2 ** 64 - 1  # timestamp_t is uintmax_t
_SLOP = 5
_UNPACKED = 2048  # graph commits read one by one before the whole chunk is decoded
# A commit's header (tree, parents, author, committer) almost always fits in this much;
# the rest of a long message is not inflated.
_HEAD_BYTES = 640
# (bytes methods, not regular expressions: `re` costs more to import than a short walk)
_HEX = b"0123456789abcdefABCDEF"
_C_SPACE = b" \t\n\v\f\r"  # C's isspace, which strtoumax skips
_DIGITS = b"0123456789"


class BranchFacts:
    """What ``ayjnt-hooks status`` and the deploy preflight know about the branch."""

    __slots__ = ("ahead", "behind", "branch", "detached", "head", "shallow", "unborn",
                 "upstream", "upstream_sha")

    def __init__(self, branch: str | None, detached: bool, unborn: bool, head: str | None,
                 upstream: str | None, upstream_sha: str | None, ahead: int | None,
                 behind: int | None, shallow: bool) -> None:
        self.branch = branch
        self.detached = detached
        self.unborn = unborn
        self.head = head
        self.upstream = upstream  # "origin/<branch>" when that remote-tracking ref exists
        self.upstream_sha = upstream_sha
        self.ahead = ahead
        self.behind = behind
        self.shallow = shallow


class _Unparsable(Exception):
    """A commit git could not parse either (missing or malformed object)."""


def parse_commit(data: bytes, complete: bool) -> tuple[list[bytes], int] | None:
    """(parent ids in hex, committer date) by ``parse_commit_buffer``'s rules, or None when
    ``data`` is a prefix too short to tell (``complete`` is False) — then read it all.

    Raises ``_Unparsable`` where git reports a bogus commit."""
    size = len(data)
    if size <= 46 or data[:5] != b"tree " or data[45] != 10:
        if not complete and size <= 46:
            return None
        raise _Unparsable("bogus commit object")
    if data[5:45].translate(None, _HEX):  # get_oid_hex: 40 hex digits, either case
        raise _Unparsable("bad tree pointer")
    pos = 46
    parents = []
    while pos + 47 < size and data[pos:pos + 7] == b"parent ":
        if size <= pos + 48 or data[pos + 47] != 10 or data[pos + 7:pos + 47].translate(None, _HEX):
            if not complete and size <= pos + 48:
                return None
            raise _Unparsable("bad parents")
        parents.append(data[pos + 7:pos + 47])
        pos += 48
    if not complete and pos + 48 >= size:
        return None  # another parent line may follow
    # parse_commit_date: "author" here, "committer" on the next line, the date after its '>'.
    if data[pos:pos + 6] != b"author" or pos + 6 >= size:
        return (parents, 0) if complete else None
    eol = data.find(b"\n", pos)
    if eol < 0 or data[eol + 1:eol + 10] != b"committer" or eol + 10 >= size:
        return (parents, 0) if complete or 0 <= eol < size - 10 else None
    gt = data.find(b">", eol)
    nl = data.find(b"\n", gt) if gt >= 0 else -1
    if nl < 0 or nl + 1 >= size:
        return (parents, 0) if complete else None
    # strtoumax: blanks (a newline too), a sign, digits
    start = span(data, gt + 1, _C_SPACE)
    sign = data[start:start + 1] if data[start:start + 1] in (b"+", b"-") else b""
    end = span(data, start + len(sign), _DIGITS)
    if not complete and end >= size:
        return None
    digits = data[start + len(sign):end]
    value = int(digits) if digits else 0
    if value > _TIME_MAX:
        value = _TIME_MAX  # ERANGE
    elif sign == b"-":
        value = -value % 2 ** 64
    return parents, value


class CommitGraphWalker:
    """Commits as small integers: commit-graph positions, then commits read from objects."""

    def __init__(self, repo: Repo) -> None:
        self.repo = repo
        self._shallow = self._read_shallow()
        self._grafts: dict[bytes, list[bytes]] = {}
        self._replace: dict[bytes, bytes] = {}
        self._graph_loaded = False
        self._graph: CommitGraph | None = None
        self._size = 0  # commits in the graph: nodes below this are graph positions
        # Per node: its parents once parsed (None before) and its committer date. Graph
        # positions first, then the commits read from objects, in the order first met.
        self._par: list[tuple[int, ...] | None] = []
        self._dt: list[int] = []
        self._nodes: dict[bytes, int] = {}  # commits outside the graph: binary id -> node
        self._oids: list[bytes] = []  # and back, at node - graph size
        self._reader: ObjectReader | None = None
        self._load_fn: Callable[[int], tuple[int, ...] | None] | None = None
        self.taken = 0  # commits the walks took off their queues (bench/realrepos.py's floor)

    # ------------------------------------------------------------ what git reads
    @property
    def graph(self) -> CommitGraph | None:
        if not self._graph_loaded:
            self._graph_loaded = True
            self._grafts = self._read_grafts()
            self._replace = self._read_replacements()
            # commit_graph_compatible: no replace refs, grafts or shallow; core.commitGraph
            usable = not (self._shallow or self._grafts or self._replace) and \
                self.repo.config_bool("core", "commitgraph", True)
            if usable:
                self._graph = self.repo.commit_graph()  # (the one the tips were checked in)
            if self._graph is not None:
                self._size = self._graph.count
                self._par = [None] * self._size
                self._dt = [0] * self._size
        return self._graph

    def _generation_version(self) -> int:
        """``commitGraph.generationVersion`` (git 2.39 reads the GDA2 chunk from 2 on)."""
        value = self.repo.config.get("commitgraph", "generationversion")
        if value is None:
            return 2
        try:
            return int(value.strip(), 0)
        except ValueError:
            raise AyjntError(f"{self.repo.commondir}: commitGraph.generationVersion is not a "
                             "number, so ahead/behind cannot be counted (git refuses it too)."
                             ) from None

    def _read_shallow(self) -> set[bytes]:
        from .files import read_shallow

        return {bytes.fromhex(sha) for sha in read_shallow(self.repo.commondir)}

    def _read_grafts(self) -> dict[bytes, list[bytes]]:
        """info/grafts (deprecated, still honoured by git 2.39): ``<commit> <parent>...``."""
        path = os.environ.get("GIT_GRAFT_FILE") or \
            os.path.join(self.repo.commondir, "info", "grafts")
        grafts: dict[bytes, list[bytes]] = {}
        try:
            with open(path, "rb") as f:
                lines = f.read().splitlines()
        except OSError:
            return grafts
        for line in lines:
            if not line.strip() or line.startswith(b"#"):
                continue
            try:
                ids = [bytes.fromhex(word.decode()) for word in line.split()]
            except ValueError:
                continue  # git skips a bad graft line with a warning
            if all(len(i) == 20 for i in ids):
                grafts[ids[0]] = ids[1:]
        return grafts

    def _read_replacements(self) -> dict[bytes, bytes]:
        """refs/replace/<id> -> the object git reads instead (``git replace``)."""
        return {bytes.fromhex(k): bytes.fromhex(v) for k, v in self.repo.replacements().items()}

    @property
    def shallow(self) -> bool:
        return bool(self._shallow)

    def node(self, oid: bytes) -> int:
        graph = self.graph
        if graph is not None:
            pos = graph.position(oid)
            if pos is not None:
                return pos
        found = self._nodes.get(oid)
        if found is None:
            if graph is not None:
                # A commit the binary search does not find while a graph is present: a
                # partial graph, or a damaged id list where git and we could part ways.
                graph.verify()
            found = self._nodes[oid] = len(self._par)
            self._oids.append(oid)
            self._par.append(None)
            self._dt.append(0)
        return found

    def parsed(self) -> int:
        """How many commits this walker has parsed (graph entries or objects)."""
        return sum(1 for p in self._par if p is not None)

    def _load(self, node: int) -> tuple[int, ...] | None:
        if self._load_fn is None:
            self._load_fn = self._loader()
        return self._load_fn(node)

    def _loader(self) -> Callable[[int], tuple[int, ...] | None]:
        """A function that parses a node into the cache (None when git could not parse it
        either). Graph positions take one unpack each for the first few thousand; past
        that, the whole CDAT chunk is decoded at once and read as arrays."""
        from .commitgraph import NO_PARENT, OCTOPUS

        graph = self.graph
        size = self._size
        version = self._generation_version() if graph is not None else 2
        graph_commit = graph.reader(version) if graph is not None else None
        bad = graph.bad_generations() if graph is not None and version >= 2 else frozenset()
        par, dt = self._par, self._dt
        p1s = p2s = highs = lows = None
        unpacked = 0

        def load(node: int) -> tuple[int, ...] | None:
            nonlocal unpacked, p1s, p2s, highs, lows
            if node >= size:
                return self._load_object(node - size)
            assert graph is not None and graph_commit is not None
            if p1s is None:
                unpacked += 1
                if unpacked < _UNPACKED:
                    found, date = graph_commit(node)
                    par[node] = found
                    dt[node] = date
                    return found
                p1s, p2s, highs, lows = graph.columns()
            assert p2s is not None and highs is not None and lows is not None
            a = p1s[node]
            if a == NO_PARENT:
                found = ()
            elif a >= size:
                raise graph.damaged("a parent position outside the graph")
            else:
                b = p2s[node]
                if b == NO_PARENT:
                    found = (a,)
                elif b & OCTOPUS:
                    found = tuple(graph.parents(node))
                elif b >= size:
                    raise graph.damaged("a parent position outside the graph")
                else:
                    found = (a, b)
            if bad and node in bad:
                raise graph.damaged("it requires overflow generation data it does not have")
            high = highs[node] & 3
            dt[node] = (high << 32) | lows[node] if high else lows[node]
            par[node] = found
            return found
        return load

    def _load_object(self, extra: int) -> tuple[int, ...] | None:
        oid = self._oids[extra]
        ids: list[bytes]
        parsed = None
        reader = self._reader
        if reader is not None and not self._replace:
            head = reader.commit_head(oid, _HEAD_BYTES)  # (through the line after committer)
            if head is not None:
                try:
                    parsed = parse_commit(head, False)
                except _Unparsable:
                    parsed = None  # (the general path below says it again, or reads more)
        try:
            hex_parents, date = parsed or self._read_commit(self._replace.get(oid, oid))
        except _Unparsable:
            return None
        ids = [bytes.fromhex(p.decode()) for p in hex_parents]
        if oid in self._shallow:
            ids = []
        elif oid in self._grafts:
            ids = self._grafts[oid]
        nodes = self._nodes
        if self._graph is None:  # (node() without the graph look-up)
            parents = tuple([nodes[p] if p in nodes else self.node(p) for p in ids])
        else:
            parents = tuple([self.node(p) for p in ids])
        node = extra + self._size
        self._par[node], self._dt[node] = parents, date
        return parents

    def _read_commit(self, oid: bytes) -> tuple[list[bytes], int]:
        if self._reader is None:
            self._reader = self.repo.objects  # (the tips' reader: its packs are open)
        found = self._reader.read_prefix(oid, _HEAD_BYTES)
        if found is not None and found[0] == 1:
            parsed = parse_commit(found[1], len(found[1]) < _HEAD_BYTES)
            if parsed is not None:
                return parsed
        try:
            type_num, data = self.repo.read_object(oid.hex())
        except KeyError:
            raise _Unparsable("missing") from None
        if type_num != 1:
            raise _Unparsable("not a commit")
        parsed = parse_commit(data, True)
        assert parsed is not None
        return parsed

    def parents(self, node: int) -> tuple[int, ...]:
        found = self._par[node]
        if found is None:
            found = self._load(node)
            if found is None:
                raise self._broken(node)
        return found

    def oid(self, node: int) -> str:
        """The commit id (hex) of a node."""
        graph = self.graph
        return (graph.oid(node) if graph is not None and node < self._size
                else self._oids[node - self._size]).hex()

    def _broken(self, node: int) -> AyjntError:
        return AyjntError(f"{self.repo.commondir}: commit {self.oid(node)} is missing or "
                          "corrupt, so ahead/behind cannot be counted (git rev-list fails here "
                          "too).", hint="git fsck")

    # ------------------------------------------------------------ the counts
    def ahead_behind(self, left: str, right: str) -> tuple[int, int]:
        """(``git rev-list --count right..left``, ``git rev-list --count left..right``)."""
        if left == right:
            return 0, 0  # no walk: both counts are empty by definition
        a, b = self.node(bytes.fromhex(left)), self.node(bytes.fromhex(right))
        if a == b:
            return 0, 0
        return self.rev_list_count(b, a), self.rev_list_count(a, b)

    def rev_list_count(self, exclude: int, include: int) -> int:
        """``git rev-list --count ^exclude include``, walked as git 2.39's ``limit_list``.

        The queue is a heap of ints: ``seq - (date << 32)`` puts the newest first and, among
        equal dates, the first inserted (``commit_list_insert_by_date``); ``order[seq]`` is
        the commit. Flags live in a bytearray indexed by node."""
        import gc

        enabled = gc.isenabled()
        gc.disable()  # (the walk allocates thousands of small tuples and keeps them all)
        try:
            return self._rev_list_count(exclude, include)
        finally:
            if enabled:
                gc.enable()

    def _rev_list_count(self, exclude: int, include: int) -> int:
        from heapq import heapify, heappop, heappush

        par, dt = self._par, self._dt
        if self._load_fn is None:
            self._load_fn = self._loader()
        load = self._load_fn
        flags = bytearray(len(par))
        low = 0xFFFFFFFF

        def paint(start: int) -> int:
            """mark_one_parent_uninteresting(start) and on: paint, and go on through the
            commits this walk has parsed; returns how many queued interesting ones it
            painted."""
            lost = 0
            stack = [start]
            while stack:
                p = stack.pop()
                f = flags[p]
                if f & _UNINTERESTING:
                    continue
                flags[p] = f | _UNINTERESTING
                if f & _QUEUED:
                    lost += 1
                if f & _PARSED:
                    stack.extend(par[p])  # type: ignore[arg-type]
            return lost

        def grow() -> None:  # commits read from objects add nodes (room for more)
            flags.extend(bytes(len(par) - len(flags) + 4096))

        # setup_revisions parses both tips; prepare_revision_walk's handle_commit paints the
        # excluded tip's parents (and the included tip's, if that painted it), then lists them.
        for c in (exclude, include):
            if par[c] is None and load(c) is None:
                raise self._broken(c)
        grow()
        flags[exclude] = _PARSED | _UNINTERESTING
        flags[include] = _PARSED
        for p in par[exclude]:  # type: ignore[union-attr]
            paint(p)
        if flags[include] & _UNINTERESTING:
            for p in par[include]:  # type: ignore[union-attr]
                paint(p)
        order = [exclude, include]
        heap = [0 - (dt[exclude] << 32), 1 - (dt[include] << 32)]
        heapify(heap)
        flags[exclude] |= _SEEN | _QUEUED
        flags[include] |= _SEEN | _QUEUED
        interesting = 0 if flags[include] & _UNINTERESTING else 1  # queued, not painted
        newlist: list[int] = []
        last = _TIME_MAX  # date of the last interesting commit taken
        slop = _SLOP
        while heap:
            c = order[heappop(heap) & low]
            f = flags[c] ^ _QUEUED
            flags[c] = f
            if f & _UNINTERESTING:
                # process_parents: paint every parent, parse it, paint its parents
                # (mark_parents_uninteresting), queue it if new
                for p in par[c]:  # type: ignore[union-attr]
                    fp = flags[p]
                    if not fp & _UNINTERESTING:
                        fp |= _UNINTERESTING
                        if fp & _QUEUED:
                            interesting -= 1
                    pp = par[p]
                    if pp is None:
                        pp = load(p)
                        if len(flags) < len(par):
                            grow()
                        if pp is None:  # parsed gently: git skips it
                            flags[p] = fp
                            continue
                    fp |= _PARSED
                    if not fp & _SEEN:
                        fp |= _SEEN | _QUEUED
                        heappush(heap, len(order) - (dt[p] << 32))
                        order.append(p)
                    flags[p] = fp
                    for q in pp:
                        fq = flags[q]
                        if not fq & _UNINTERESTING:
                            if fq & _PARSED:
                                interesting -= paint(q)
                            else:
                                flags[q] = fq | _UNINTERESTING
                # (mark_parents_uninteresting(c) then finds every parent painted already)
                # still_interesting: the head's date is -(heap[0] >> 32)
                if not heap:
                    break
                if interesting or last <= -(heap[0] >> 32):
                    slop = _SLOP
                    continue
                slop -= 1
                if slop:
                    continue
                break
            interesting -= 1
            for p in par[c]:  # type: ignore[union-attr]
                fp = flags[p]
                if not fp & _PARSED:
                    if par[p] is None:
                        if load(p) is None:
                            raise self._broken(p)  # git: "revision walk setup failed"
                        if len(flags) < len(par):
                            grow()
                    fp |= _PARSED
                if not fp & _SEEN:
                    fp |= _SEEN | _QUEUED
                    heappush(heap, len(order) - (dt[p] << 32))
                    order.append(p)
                    if not fp & _UNINTERESTING:
                        interesting += 1
                flags[p] = fp
            last = dt[c]
            newlist.append(c)
        self.taken += len(order) - len(heap)
        return sum(1 for c in newlist if not flags[c] & _UNINTERESTING)


def branch_facts(repo: Repo, remote: str = "origin") -> BranchFacts:
    raw = repo.read_ref_raw("HEAD")
    detached = raw is not None and not raw.startswith("ref:")
    chain, head = repo.resolve("HEAD")
    branch = None
    if not detached and len(chain) > 1 and chain[-1].startswith("refs/heads/"):
        branch = chain[-1][len("refs/heads/"):]
    unborn = head is None
    upstream = upstream_sha = None
    ahead = behind = None
    walker = CommitGraphWalker(repo)
    if branch is not None and head is not None:
        upstream_sha = repo.rev_parse(f"{remote}/{branch}")  # as `git rev-parse --verify`
        if upstream_sha is not None:
            upstream = f"{remote}/{branch}"
            for tip in dict.fromkeys((head, upstream_sha)):  # git parses (and hash-checks)
                repo.commit_tree(tip)  # each tip itself, whatever the commit-graph holds
            ahead, behind = walker.ahead_behind(head, upstream_sha)
    return BranchFacts(branch, detached, unborn, head, upstream, upstream_sha, ahead, behind,
                       walker.shallow)
