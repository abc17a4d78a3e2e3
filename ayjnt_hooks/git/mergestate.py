"""An integration in progress (merge, rebase, cherry-pick, revert, am) and the history facts
``rebase-lockfile`` needs: merge bases, ancestry, a branch's upstream, unmerged index entries.

Read-only, like the rest of ``git/``: the state comes from the files git leaves in the git dir
(``MERGE_HEAD``, ``rebase-merge/``, ``rebase-apply/``, ``CHERRY_PICK_HEAD``, ``REVERT_HEAD``,
``REBASE_HEAD``), exactly as ``git status`` reads them.
"""
from __future__ import annotations

import contextlib
import os

from ..records import Record
from .history import CommitGraphWalker
from .repo import Repo

MERGE, REBASE, CHERRY_PICK, REVERT, AM = "merge", "rebase", "cherry-pick", "revert", "am"
CONTINUE = {MERGE: "git merge --continue", REBASE: "git rebase --continue",
            CHERRY_PICK: "git cherry-pick --continue", REVERT: "git revert --continue",
            AM: "git am --continue"}


class Operation(Record):
    kind: str | None  # one of the constants above; None: nothing in progress
    head: str | None  # HEAD's commit
    other: str | None  # MERGE_HEAD / REBASE_HEAD / CHERRY_PICK_HEAD / REVERT_HEAD
    onto: str | None  # a rebase's onto commit
    branch: str | None  # the branch being worked on (a rebase's head-name), short name

    @property
    def continue_command(self) -> str | None:
        return CONTINUE.get(self.kind or "")


def _read(path: str) -> str | None:
    try:
        with open(path, encoding="utf-8", errors="surrogateescape") as f:
            return f.read().strip() or None
    except (FileNotFoundError, NotADirectoryError, IsADirectoryError):
        return None


def pseudo_ref(repo: Repo, name: str) -> str | None:
    """``MERGE_HEAD`` and friends: per-worktree files whose first line is a sha."""
    text = _read(os.path.join(repo.gitdir, name))
    if text is None:
        return None
    first = text.split("\n", 1)[0].split()[0]
    return first if len(first) == 40 else None


PSEUDO_REFS = ("HEAD", "MERGE_HEAD", "REBASE_HEAD", "CHERRY_PICK_HEAD", "ORIG_HEAD",
               "FETCH_HEAD")


def resolve_rev(repo: Repo, spec: str) -> str | None:
    """A ref, pseudo-ref, full or abbreviated id, each optionally followed by git's ``~N``
    and ``^N`` steps (``HEAD~1``, ``main^2``); None when it names no commit."""
    import re

    steps = re.search(r"(?:[~^][0-9]*)+\Z", spec)
    name = spec[:steps.start()] if steps else spec
    if not name:
        return None
    if name in PSEUDO_REFS and name != "HEAD":
        sha = pseudo_ref(repo, name)
    else:
        sha = repo.rev_parse(name) or expand_short_id(repo, name)
    for op, count in re.findall(r"([~^])([0-9]*)", steps.group() if steps else ""):
        n = int(count) if count else 1
        if sha is None or (op == "^" and n == 0):
            continue
        while True:  # an annotated tag: the commit it points at, as git peels it
            kind, data = repo.read_object(sha)
            if kind != 4:  # a tag
                break
            sha = data.split(b"\n", 1)[0].removeprefix(b"object ").decode()
        if kind != 1:  # not a commit
            return None
        if op == "^":
            up = parents(repo, sha)
            sha = up[n - 1] if len(up) >= n else None
        else:
            for _ in range(n):
                up = parents(repo, sha) if sha else ()
                sha = up[0] if up else None
    return sha


def expand_short_id(repo: Repo, spec: str) -> str | None:
    """The one object whose id starts with ``spec`` (4 to 39 hex digits), as git accepts an
    abbreviated commit; None when none or several match. Looks in the repository's loose
    objects and version-2 pack indexes (not in alternates)."""
    text = spec.lower()
    if not 4 <= len(text) < 40 or any(c not in "0123456789abcdef" for c in text):
        return None
    objects = os.path.join(repo.commondir, "objects")
    found: set[str] = set()
    with contextlib.suppress(OSError):  # no such fan-out folder: no loose match
        found.update(text[:2] + name for name in os.listdir(os.path.join(objects, text[:2]))
                     if (text[:2] + name).startswith(text) and len(name) == 38)
    try:
        packs = [n for n in os.listdir(os.path.join(objects, "pack")) if n.endswith(".idx")]
    except OSError:
        packs = []
    for name in packs:
        found.update(_idx_prefix(os.path.join(objects, "pack", name), text))
        if len(found) > 1:
            return None
    return found.pop() if len(found) == 1 else None


def _idx_prefix(path: str, text: str) -> set[str]:
    """Ids in a version-2 pack index that start with ``text`` (the fanout table bounds the
    scan to ids with the same first byte)."""
    import struct

    try:
        with open(path, "rb") as f:
            head = f.read(8 + 256 * 4)
            if head[:8] != b"\377tOc\0\0\0\2" or len(head) < 8 + 1024:
                return set()
            first = int(text[:2], 16)
            low = struct.unpack_from(">I", head, 8 + 4 * (first - 1))[0] if first else 0
            high = struct.unpack_from(">I", head, 8 + 4 * first)[0]
            f.seek(8 + 1024 + 20 * low)
            ids = f.read(20 * (high - low))
    except OSError:
        return set()
    return {h for h in (ids[i:i + 20].hex() for i in range(0, len(ids), 20))
            if h.startswith(text)}


def _short(ref: str | None) -> str | None:
    if ref is None or not ref.startswith("refs/heads/"):
        return None
    return ref[len("refs/heads/"):]


def current_branch(repo: Repo) -> str | None:
    chain, _ = repo.resolve("HEAD")
    return _short(chain[-1]) if len(chain) > 1 else None


def operation(repo: Repo) -> Operation:
    head = repo.ref_sha("HEAD")
    for folder in ("rebase-merge", "rebase-apply"):
        where = os.path.join(repo.gitdir, folder)
        if not os.path.isdir(where):
            continue
        if folder == "rebase-apply" and os.path.exists(os.path.join(where, "applying")):
            return Operation(AM, head, None, None, current_branch(repo))
        onto = _read(os.path.join(where, "onto"))
        other = pseudo_ref(repo, "REBASE_HEAD")  # written when a step stops
        branch = _short(_read(os.path.join(where, "head-name")))
        return Operation(REBASE, head, other, onto, branch)
    for name, kind in (("MERGE_HEAD", MERGE), ("CHERRY_PICK_HEAD", CHERRY_PICK),
                       ("REVERT_HEAD", REVERT)):
        sha = pseudo_ref(repo, name)
        if sha is not None:
            return Operation(kind, head, sha, None, current_branch(repo))
    return Operation(None, head, None, None, current_branch(repo))


def rebase_in_progress(repo: Repo) -> bool:
    """True while git replays commits (also inside a merge driver it runs)."""
    return any(os.path.isdir(os.path.join(repo.gitdir, d))
               for d in ("rebase-merge", "rebase-apply"))


# ------------------------------------------------------------------ history

def parents(repo: Repo, sha: str) -> tuple[str, ...]:
    walker = CommitGraphWalker(repo)
    return tuple(walker.oid(p) for p in walker.parents(walker.node(bytes.fromhex(sha))))


class _Levels:
    """Topological levels (the commit-graph's generation numbers, extended to the commits
    written after it). A commit can only reach commits of a lower level, which bounds every
    walk below; without a usable commit-graph there are none, and walks go all the way."""

    def __init__(self, walker: CommitGraphWalker) -> None:
        self.walker = walker
        graph = walker.graph
        self._graph = graph
        self._size = graph.count if graph is not None else 0
        self._extra: dict[int, int] = {}
        self.usable = graph is not None and self._size > 0 and graph.generation(0) > 0

    def __call__(self, node: int) -> int:
        if node < self._size:
            assert self._graph is not None
            return self._graph.generation(node)
        stack = [node]
        while stack:
            top = stack[-1]
            if top in self._extra:
                stack.pop()
                continue
            parents = self.walker.parents(top)
            missing = [p for p in parents if p >= self._size and p not in self._extra]
            if missing:
                stack.extend(missing)
                continue
            self._extra[top] = 1 + max((self(p) for p in parents), default=0)
            stack.pop()
        return self._extra[node]


def _reaches(walker: CommitGraphWalker, levels: _Levels, start: int, target: int) -> bool:
    floor = levels(target) if levels.usable else 0
    seen: set[int] = set()
    todo = [start]
    while todo:
        top = todo.pop()
        if top == target:
            return True
        if top in seen or (levels.usable and levels(top) <= floor):
            continue
        seen.add(top)
        todo.extend(walker.parents(top))
    return False


def is_ancestor(repo: Repo, ancestor: str, descendant: str) -> bool:
    """``git merge-base --is-ancestor``: exact (pruned by generation numbers when a
    commit-graph has them)."""
    walker = CommitGraphWalker(repo)
    return _reaches(walker, _Levels(walker), walker.node(bytes.fromhex(descendant)),
                    walker.node(bytes.fromhex(ancestor)))


_ONE, _TWO, _STALE = 1, 2, 4


def merge_bases(repo: Repo, a: str, b: str) -> list[str]:
    """``git merge-base --all a b``: git's paint-down-to-common, in generation order (exact;
    without generation numbers the two ancestor sets are compared whole)."""
    import heapq

    walker = CommitGraphWalker(repo)
    levels = _Levels(walker)
    na, nb = walker.node(bytes.fromhex(a)), walker.node(bytes.fromhex(b))
    if na == nb:
        return [a]
    if not levels.usable:
        common = _all_ancestors(walker, na) & _all_ancestors(walker, nb)
        below = {p for c in common for p in walker.parents(c)}
        return sorted(walker.oid(n) for n in common - below)
    flags = {na: _ONE, nb: _TWO}
    heap = [(-levels(na), na), (-levels(nb), nb)]
    found: list[int] = []
    while any(not flags[n] & _STALE for _, n in heap):
        _, node = heapq.heappop(heap)
        f = flags[node]
        if f & (_ONE | _TWO) == _ONE | _TWO and not f & _STALE:
            found.append(node)
            f = flags[node] = f | _STALE
        for p in walker.parents(node):
            before = flags.get(p, 0)
            if before | f != before:
                flags[p] = before | f
                heapq.heappush(heap, (-levels(p), p))
    bases = [n for n in found
             if not any(o != n and _reaches(walker, levels, o, n) for o in found)]
    return sorted(walker.oid(n) for n in bases)


def _all_ancestors(walker: CommitGraphWalker, start: int) -> set[int]:
    seen: set[int] = set()
    todo = [start]
    while todo:
        top = todo.pop()
        if top not in seen:
            seen.add(top)
            todo.extend(walker.parents(top))
    return seen


# ------------------------------------------------------------------ refs

def upstream_ref(repo: Repo, branch: str) -> str | None:
    """The remote-tracking ref ``branch.<b>.remote``/``branch.<b>.merge`` name (``@{u}``)."""
    remote = repo.config_get("branch", "remote", branch)
    merge = repo.config_get("branch", "merge", branch)
    if not remote or not merge:
        return None
    if remote == ".":
        return merge
    short = merge[len("refs/heads/"):] if merge.startswith("refs/heads/") else merge
    return f"refs/remotes/{remote}/{short}"


def short_ref(ref: str) -> str:
    for prefix in ("refs/remotes/", "refs/heads/", "refs/tags/"):
        if ref.startswith(prefix):
            return ref[len(prefix):]
    return ref


def candidate_refs(repo: Repo, branch: str | None, *, mainline_first: bool,
                   with_upstream: bool = True) -> list[tuple[str, str]]:
    """(label, sha) of the refs whose history counts as published, each commit once.

    ``rebase-lockfile``'s default REF order is the branch's upstream, then ``origin/HEAD``,
    then ``origin/main``; deciding which side of a merge the remote has asks the mainline
    first (a feature branch's own upstream holds both sides after it merged main once)."""
    upstream = upstream_ref(repo, branch) if branch and with_upstream else None
    remote = (repo.config_get("branch", "remote", branch) if branch else None) or "origin"
    mainline = [f"refs/remotes/{r}/{n}" for r in dict.fromkeys((remote, "origin"))
                for n in ("HEAD", "main")]
    names = [*mainline, upstream] if mainline_first else [upstream, *mainline]
    out: list[tuple[str, str]] = []
    seen: set[str] = set()
    for name in names:
        if name is None:
            continue
        sha = repo.ref_sha(name)
        if sha is None or sha in seen:
            continue
        seen.add(sha)
        label = short_ref(name)
        if label.endswith("/HEAD"):
            chain, _ = repo.resolve(name)
            label = short_ref(chain[-1])
        out.append((label, sha))
    return out


# ------------------------------------------------------------------ the index

def unmerged_entries(repo: Repo, prefixes: tuple[str, ...]) -> dict[str, dict[int, str]]:
    """Paths under ``prefixes`` with conflict stages: {path: {stage: blob sha}}."""
    from .index import read_index

    out: dict[str, dict[int, str]] = {}
    for e in read_index(repo.index_file, prefixes).entries:
        if e.stage and e.path.startswith(prefixes):
            out.setdefault(e.path, {})[e.stage] = e.sha
    return out
