"""Read git's commit-graph file lazily (parents and generation numbers without inflating
commits). Format: Documentation/gitformat-commit-graph.txt. Only the single-file form;
a split chain or a shallow/grafted repository is served from the object store instead."""
from __future__ import annotations

import mmap
import os
import struct

from .objects import find_oid

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Callable

_NO_PARENT = 0x70000000
_OCTOPUS = 0x80000000


class CommitGraph:
    def __init__(self, data: mmap.mmap) -> None:
        self._data = data
        if data[:4] != b"CGPH" or data[4] != 1 or data[5] != 1:
            raise ValueError("unsupported commit-graph")
        chunks: dict[bytes, int] = {}
        for i in range(data[6] + 1):
            cid, offset = struct.unpack_from(">4sQ", data, 8 + 12 * i)
            chunks[cid] = offset
        self._fanout = chunks[b"OIDF"]
        self._oids = chunks[b"OIDL"]
        self._cdat = chunks[b"CDAT"]
        self._edges = chunks.get(b"EDGE")
        self.count = struct.unpack_from(">I", data, self._fanout + 255 * 4)[0]

    @classmethod
    def open(cls, objects_dir: str) -> CommitGraph | None:
        path = os.path.join(objects_dir, "info", "commit-graph")
        try:
            with open(path, "rb") as f:
                data = mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ)
        except (OSError, ValueError):
            return None
        try:
            return cls(data)
        except (ValueError, KeyError, struct.error, IndexError):
            return None

    def position(self, sha: bytes) -> int | None:
        return find_oid(self._data, self._fanout, self._oids, sha)

    def oid(self, pos: int) -> bytes:
        return self._data[self._oids + 20 * pos:self._oids + 20 * pos + 20]

    def parents(self, pos: int) -> list[int]:
        p1, p2 = struct.unpack_from(">II", self._data, self._cdat + 36 * pos + 20)
        out = [] if p1 == _NO_PARENT else [p1]
        if p2 == _NO_PARENT:
            return out
        if not p2 & _OCTOPUS:
            return [*out, p2]
        if self._edges is None:
            raise ValueError("commit-graph lacks its EDGE chunk")
        i = p2 & ~_OCTOPUS
        while True:
            (edge,) = struct.unpack_from(">I", self._data, self._edges + 4 * i)
            out.append(edge & ~_OCTOPUS)
            if edge & _OCTOPUS:
                return out
            i += 1

    def reader(self) -> Callable[[int], tuple[tuple[int, ...], int]]:
        """A function: position -> (parent positions, committer date), as git's
        ``fill_commit_graph_info`` reads them (the date is 34 bits: the low two bits of the
        generation word, then the next word). A walk calls it thousands of times, so it is
        one precompiled unpack per commit."""
        unpack, data, base = struct.Struct(">IIII").unpack_from, self._data, self._cdat + 20

        def commit(pos: int) -> tuple[tuple[int, ...], int]:
            p1, p2, high, low = unpack(data, base + 36 * pos)
            date = ((high & 3) << 32) | low
            if p1 == _NO_PARENT:
                return (), date
            if p2 == _NO_PARENT:
                return (p1,), date
            if p2 & _OCTOPUS:
                return tuple(self.parents(pos)), date
            return (p1, p2), date
        return commit

    def generation(self, pos: int) -> int:
        word: int = struct.unpack_from(">I", self._data, self._cdat + 36 * pos + 28)[0]
        return word >> 2
