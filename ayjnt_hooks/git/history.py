"""Branch and sync facts: current branch, detached/unborn HEAD, origin/<branch>, ahead/behind.

Ahead/behind equal ``git rev-list --count origin/<b>..HEAD`` / ``HEAD..origin/<b>``. The walk
paints both tips' ancestries in topological order when the commit-graph gives generation
numbers, else in commit-date order, and stops once every queued commit is reachable from both
tips — so its cost follows the commits between the tips and their merge base. A date walk that
meets clock skew (a parent not older than its child) cannot trust that stop, so it falls back to
comparing the full ancestor sets: exact, just slower.
"""
from __future__ import annotations

import heapq
import os
from typing import NamedTuple

from .commitgraph import CommitGraph
from .damage import Corrupt, reading
from .files import is_hex_oid, read_shallow
from .repo import Repo

LEFT, RIGHT, BOTH = 1, 2, 3


class BranchFacts(NamedTuple):
    branch: str | None
    detached: bool
    unborn: bool
    head: str | None
    upstream: str | None  # "origin/<branch>" when that remote-tracking ref exists
    upstream_sha: str | None
    ahead: int | None
    behind: int | None
    shallow: bool


class CommitGraphWalker:
    def __init__(self, repo: Repo) -> None:
        self.repo = repo
        self._parents: dict[str, tuple[str, ...]] = {}
        self._dates: dict[str, int] = {}
        self._shallow = self._read_shallow()
        self._graph_loaded = False
        self._graph: CommitGraph | None = None
        self._generations: dict[str, int] = {}

    @property
    def graph(self) -> CommitGraph | None:
        if not self._graph_loaded:
            self._graph_loaded = True
            grafts = os.path.exists(os.path.join(self.repo.commondir, "info", "grafts"))
            if not self._shallow and not grafts:  # git ignores the graph there too
                self._graph = CommitGraph.open(os.path.join(self.repo.commondir, "objects"))
        return self._graph

    def _read_shallow(self) -> set[str]:
        return read_shallow(self.repo.commondir)

    @property
    def shallow(self) -> bool:
        return bool(self._shallow)

    def _load(self, sha: str) -> None:
        graph = self.graph
        if graph is not None:
            pos = graph.position(bytes.fromhex(sha))
            if pos is not None:
                self._parents[sha] = tuple(graph.oid(p).hex() for p in graph.parents(pos))
                self._generations[sha] = graph.generation(pos)
                return
        self._read_commit(sha)

    def _read_commit(self, sha: str) -> None:
        """Parents and committer date from the commit object itself."""
        kind, data = self.repo.read_object(sha)
        parents = []
        date = 0
        with reading(os.path.join(self.repo.commondir, "objects"), f"commit {sha}"):
            if kind != 1:
                raise Corrupt("a parent that is not a commit")
            for line in data.split(b"\n"):
                if not line:
                    break
                if line.startswith(b"parent "):
                    parent = line[7:].decode("ascii")
                    if not is_hex_oid(parent):
                        raise Corrupt("a parent line without an object id")
                    parents.append(parent)
                elif line.startswith(b"committer "):
                    date = int(line.rsplit(b" ", 2)[1])
        self._parents[sha] = () if sha in self._shallow else tuple(parents)
        self._dates[sha] = date

    def parents(self, sha: str) -> tuple[str, ...]:
        if sha not in self._parents:
            self._load(sha)
        return self._parents[sha]

    def date(self, sha: str) -> int:
        if sha not in self._dates:
            self._read_commit(sha)
        return self._dates[sha]

    def generation(self, sha: str) -> int | None:
        """Topological level from the commit-graph (computed for commits newer than it)."""
        if self.graph is None:
            return None
        stack = [sha]
        while stack:
            top = stack[-1]
            if top in self._generations:
                stack.pop()
                continue
            parents = self.parents(top)  # fills _generations when the graph knows `top`
            if top in self._generations:
                stack.pop()
                continue
            missing = [p for p in parents if p not in self._generations]
            if missing:
                stack.extend(missing)
                continue
            self._generations[top] = 1 + max((self._generations[p] for p in parents),
                                             default=0)
            stack.pop()
        return self._generations[sha]

    def ahead_behind(self, left: str, right: str) -> tuple[int, int]:
        """(commits only in ``left``'s history, commits only in ``right``'s)."""
        if left == right:
            return 0, 0
        use_gen = self.generation(left) is not None

        def key(sha: str) -> int:
            gen = self.generation(sha) if use_gen else None
            return gen if gen is not None else self.date(sha)

        flags = {left: LEFT, right: RIGHT}
        done: dict[str, int] = {}
        heap = [(-key(left), left), (-key(right), right)]
        heapq.heapify(heap)
        # The frontier stays small (a few commits), so checking it whole each step is cheap.
        while heap and any(flags[s] != BOTH for _, s in heap):
            neg_key, sha = heapq.heappop(heap)
            f = flags[sha]
            if done.get(sha) == f:
                continue  # a duplicate queue entry with nothing new to spread
            done[sha] = f
            for p in self.parents(sha):
                before = flags.get(p, 0)
                if before | f == before:
                    continue
                flags[p] = before | f
                pkey = key(p)
                if not use_gen and pkey >= -neg_key:
                    return self._by_sets(left, right)  # clock skew: the stop is not safe
                heapq.heappush(heap, (-pkey, p))
        ahead = sum(1 for f in flags.values() if f == LEFT)
        behind = sum(1 for f in flags.values() if f == RIGHT)
        return ahead, behind

    def _ancestors(self, start: str) -> set[str]:
        seen: set[str] = set()
        todo = [start]
        while todo:
            sha = todo.pop()
            if sha not in seen:
                seen.add(sha)
                todo.extend(self.parents(sha))
        return seen

    def _by_sets(self, left: str, right: str) -> tuple[int, int]:
        a, b = self._ancestors(left), self._ancestors(right)
        return len(a - b), len(b - a)


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
            ahead, behind = walker.ahead_behind(head, upstream_sha)
    return BranchFacts(branch, detached, unborn, head, upstream, upstream_sha, ahead, behind,
                       walker.shallow)
