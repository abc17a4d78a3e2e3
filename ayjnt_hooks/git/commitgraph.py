"""Read git's commit-graph file lazily (parents, generation numbers and root trees without
inflating commits). Format: Documentation/gitformat-commit-graph.txt. Only the single-file
form; a split chain or a shallow/grafted repository is served from the object store instead.

A damaged graph is refused, never trusted: the header, the chunk table and the fanout are
checked as git checks them on load, every parent position is checked when it is followed, and
before the graph steers a history walk its trailing checksum is verified (git checks it only
in ``git commit-graph verify``; a flipped bit makes git crash, miscount or use a wrong tree).
"""
from __future__ import annotations

import mmap
import os
import struct

from .damage import Corrupt, reading
from .objects import check_fanout, find_oid, sha1_large

TYPE_CHECKING = False  # (typing is not imported at run time: start-up time counts here)
if TYPE_CHECKING:
    from typing import Callable

_NO_PARENT = 0x70000000
_OCTOPUS = 0x80000000
FIX = ("delete it and write a fresh one: `rm .git/objects/info/commit-graph && git "
       "commit-graph write --reachable`")


class CommitGraph:
    def __init__(self, data: mmap.mmap, path: str) -> None:
        self._data = data
        self.path = path
        size = len(data)
        if size < 8 + 12 * 4 + 20 or data[:4] != b"CGPH":
            raise Corrupt("no commit-graph signature")
        if data[4] != 1 or data[5] != 1:
            raise Corrupt("an unsupported commit-graph or hash version")
        if data[7]:
            raise Corrupt("base graphs in a single commit-graph file")
        chunks: dict[bytes, tuple[int, int]] = {}
        table = [struct.unpack_from(">4sQ", data, 8 + 12 * i) for i in range(data[6] + 1)]
        for (cid, offset), (_, next_offset) in zip(table, table[1:]):
            if not 8 + 12 * len(table) <= offset <= next_offset <= size - 20:
                raise Corrupt("improper chunk offsets")
            chunks[cid] = (offset, next_offset - offset)
        if table[-1][0] != b"\0\0\0\0":
            raise Corrupt("a chunk table without its terminating entry")
        for required in (b"OIDF", b"OIDL", b"CDAT"):
            if required not in chunks:
                raise Corrupt(f"missing the {required.decode()} chunk")
        self._fanout, fanout_size = chunks[b"OIDF"]
        if fanout_size != 1024:
            raise Corrupt("an OID fanout chunk of the wrong size")
        self.count = check_fanout(data, self._fanout)
        self._oids, oids_size = chunks[b"OIDL"]
        self._cdat, cdat_size = chunks[b"CDAT"]
        if oids_size != 20 * self.count or cdat_size != 36 * self.count:
            raise Corrupt("chunks whose sizes do not match the commit count")
        edges = chunks.get(b"EDGE")
        self._edges: int | None = edges[0] if edges else None
        self._edges_count = edges[1] // 4 if edges else 0

    @classmethod
    def open(cls, objects_dir: str, *, verify: bool = True) -> CommitGraph | None:
        """The graph, checked (``verify``: its checksum too); None when there is none."""
        path = os.path.join(objects_dir, "info", "commit-graph")
        with reading(path, "commit-graph", FIX):
            try:
                with open(path, "rb") as f:
                    if not os.fstat(f.fileno()).st_size:
                        raise Corrupt("an empty file")
                    data = mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ)
            except (FileNotFoundError, NotADirectoryError):
                return None
            graph = cls(data, path)
            if verify and sha1_large(memoryview(data)[:-20]) != data[-20:]:
                raise Corrupt("its checksum does not match its content")
            return graph

    def position(self, sha: bytes) -> int | None:
        return find_oid(self._data, self._fanout, self._oids, sha)

    def oid(self, pos: int) -> bytes:
        return self._data[self._oids + 20 * pos:self._oids + 20 * pos + 20]

    def tree(self, pos: int) -> bytes:
        return self._data[self._cdat + 36 * pos:self._cdat + 36 * pos + 20]

    def parents(self, pos: int) -> list[int]:
        with reading(self.path, "commit-graph", FIX):
            return self._parents(pos)

    def _parents(self, pos: int) -> list[int]:
        p1, p2 = struct.unpack_from(">II", self._data, self._cdat + 36 * pos + 20)
        out = [] if p1 == _NO_PARENT else [self._checked(p1)]
        if p2 == _NO_PARENT:
            return out
        if not p2 & _OCTOPUS:
            return [*out, self._checked(p2)]
        if self._edges is None:
            raise Corrupt("an octopus merge but no EDGE chunk")
        i = p2 & ~_OCTOPUS
        while True:
            if i >= self._edges_count:
                raise Corrupt("an EDGE list that runs off its chunk")
            (edge,) = struct.unpack_from(">I", self._data, self._edges + 4 * i)
            out.append(self._checked(edge & ~_OCTOPUS))
            if edge & _OCTOPUS:
                return out
            i += 1

    def _checked(self, pos: int) -> int:
        if pos >= self.count:
            raise Corrupt("a parent position outside the graph")
        return pos

    def reader(self) -> Callable[[int], tuple[tuple[int, ...], int]]:
        """A function: position -> (parent positions, committer date), as git's
        ``fill_commit_graph_info`` reads them (the date is 34 bits: the low two bits of the
        generation word, then the next word). A walk calls it thousands of times, so it is
        one precompiled unpack per commit (and the bounds check that keeps a parent inside the
        graph)."""
        unpack, data, base = struct.Struct(">IIII").unpack_from, self._data, self._cdat + 20
        count = self.count

        def commit(pos: int) -> tuple[tuple[int, ...], int]:
            p1, p2, high, low = unpack(data, base + 36 * pos)
            date = ((high & 3) << 32) | low
            if p1 == _NO_PARENT:
                return (), date
            if p1 >= count:
                raise self._damaged("a parent position outside the graph")
            if p2 == _NO_PARENT:
                return (p1,), date
            if p2 & _OCTOPUS:
                return tuple(self.parents(pos)), date
            if p2 >= count:
                raise self._damaged("a parent position outside the graph")
            return (p1, p2), date
        return commit

    def _damaged(self, why: str) -> Exception:
        from .damage import damaged

        return damaged(self.path, "commit-graph", why, FIX)

    def generation(self, pos: int) -> int:
        word: int = struct.unpack_from(">I", self._data, self._cdat + 36 * pos + 28)[0]
        return word >> 2
