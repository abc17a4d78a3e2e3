"""Read git's commit-graph file lazily (parents, generation numbers and root trees without
inflating commits). Format: Documentation/gitformat-commit-graph.txt. Only the single-file
form; a split chain or a shallow/grafted repository is served from the object store instead.

A damaged graph is refused where git refuses it or would read it differently from us: the
header, the chunk table and the fanout are checked on load, every parent position when it is
followed, and every generation word git reads when it loads a commit (git 2.39 dies on an
overflow without its GDO2 chunk). Like git, a read does not verify the trailing checksum
(only ``git commit-graph verify`` does): a flipped date or parent bit steers git's walk, and
ours the same way, so the counts stay git's. The one place where we could part from git on a
damaged file is the id list (git merges two graph entries with one id into one commit; we
find commits by position): when a walk meets a commit the binary search does not find while a
graph is present, the checksum is verified first (``verify``).
"""
from __future__ import annotations

import mmap
import os
import struct

from .damage import Corrupt, reading
from .objects import check_fanout, find_oid, sha1_large

TYPE_CHECKING = False  # (typing is not imported at run time: start-up time counts here)
if TYPE_CHECKING:
    from array import array
    from typing import Callable

_POPULATE = getattr(mmap, "MAP_POPULATE", 0)  # (Linux)
NO_PARENT = 0x70000000
OCTOPUS = 0x80000000
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
        self._gdat = chunks.get(b"GDA2")  # corrected commit dates, and their overflow
        self._gdo2 = chunks.get(b"GDO2")
        if self._gdat is not None and self._gdat[1] != 4 * self.count:
            raise Corrupt("a generation data chunk of the wrong size")
        edges = chunks.get(b"EDGE")
        self._edges: int | None = edges[0] if edges else None
        self._edges_count = edges[1] // 4 if edges else 0
        self._verified = False
        self._bad: frozenset[int] | None = None

    @classmethod
    def open(cls, objects_dir: str, *, verify: bool = False) -> CommitGraph | None:
        """The graph, its header checked (``verify``: its checksum too); None when there is
        none."""
        path = os.path.join(objects_dir, "info", "commit-graph")
        with reading(path, "commit-graph", FIX):
            try:
                with open(path, "rb") as f:
                    if not os.fstat(f.fileno()).st_size:
                        raise Corrupt("an empty file")
                    # every page mapped at once (a walk touches rows all over the file:
                    # one fault per page costs more than the kernel mapping them together)
                    data = mmap.mmap(f.fileno(), 0, flags=mmap.MAP_SHARED | _POPULATE,
                                     prot=mmap.PROT_READ)
            except (FileNotFoundError, NotADirectoryError):
                return None
            graph = cls(data, path)
        if verify:
            graph.verify()
        return graph

    def verify(self) -> None:
        """The trailing checksum (once): a damaged id list could make us see other commits
        than git does."""
        if not self._verified:
            if sha1_large(memoryview(self._data)[:-20]) != self._data[-20:]:
                from ..errors import AyjntError

                raise AyjntError(f"{self.path}: corrupt commit-graph (its checksum does not "
                                 "match its content: `git commit-graph verify` fails), so "
                                 "ahead/behind are not counted from it.", path=self.path,
                                 hint=FIX)
            self._verified = True

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
        out = [] if p1 == NO_PARENT else [self._checked(p1)]
        if p2 == NO_PARENT:
            return out
        if not p2 & OCTOPUS:
            return [*out, self._checked(p2)]
        if self._edges is None:
            raise Corrupt("an octopus merge but no EDGE chunk")
        i = p2 & ~OCTOPUS
        while True:
            if i >= self._edges_count:
                raise Corrupt("an EDGE list that runs off its chunk")
            (edge,) = struct.unpack_from(">I", self._data, self._edges + 4 * i)
            out.append(self._checked(edge & ~OCTOPUS))
            if edge & OCTOPUS:
                return out
            i += 1

    def check_entry(self, pos: int, generation_version: int = 2) -> None:
        """What git checks when it loads one commit from the graph (``fill_commit_in_graph``):
        its parents lie in the graph, and an overflowed generation has its overflow entry."""
        with reading(self.path, "commit-graph", FIX):
            self._parents(pos)
            if generation_version >= 2 and pos in self.bad_generations():
                raise Corrupt("it requires overflow generation data it does not have")

    def bad_generations(self) -> frozenset[int]:
        """Positions whose generation word git 2.39 cannot load (``fill_commit_graph_info``:
        an overflow without the GDO2 chunk, where git dies; or one outside it). Nearly always
        none, found at C speed: no word has its top bit set."""
        found = self._bad
        if found is None:
            found = frozenset()
            if self._gdat is not None:
                start = self._gdat[0]
                tops = self._data[start:start + 4 * self.count:4]
                if not tops.isascii():
                    words = struct.unpack_from(f">{self.count}I", self._data, start)
                    room = self._gdo2[1] if self._gdo2 is not None else -1
                    found = frozenset(i for i, w in enumerate(words) if w & 0x80000000 and
                                      8 * (w & 0x7FFFFFFF) + 8 > room)
            self._bad = found
        return found

    def _checked(self, pos: int) -> int:
        if pos >= self.count:
            raise Corrupt("a parent position outside the graph")
        return pos

    def reader(self, generation_version: int = 2
               ) -> Callable[[int], tuple[tuple[int, ...], int]]:
        """A function: position -> (parent positions, committer date), as git's
        ``fill_commit_graph_info`` reads them (the date is 34 bits: the low two bits of the
        generation word, then the next word). A walk calls it thousands of times, so it is
        one precompiled unpack per commit (and the bounds check that keeps a parent inside the
        graph, and git's generation check where some word needs it)."""
        unpack, data, base = struct.Struct(">IIII").unpack_from, self._data, self._cdat + 20
        count = self.count
        bad = self.bad_generations() if generation_version >= 2 else frozenset()

        def commit(pos: int) -> tuple[tuple[int, ...], int]:
            p1, p2, high, low = unpack(data, base + 36 * pos)
            if bad and pos in bad:
                raise self.damaged("it requires overflow generation data it does not have")
            date = ((high & 3) << 32) | low
            if p1 == NO_PARENT:
                return (), date
            if p1 >= count:
                raise self.damaged("a parent position outside the graph")
            if p2 == NO_PARENT:
                return (p1,), date
            if p2 & OCTOPUS:
                return tuple(self.parents(pos)), date
            if p2 >= count:
                raise self.damaged("a parent position outside the graph")
            return (p1, p2), date
        return commit

    def columns(self) -> tuple[array[int], array[int], array[int], array[int]]:
        """The whole CDAT chunk decoded at C speed into four arrays indexed by position:
        first parent, second parent (or the EDGE marker), the word holding the generation
        and the date's top two bits, the date's low 32 bits. For walks that read thousands
        of commits (one unpack each costs more than this, past a few thousand)."""
        from array import array

        words = array("I")
        if words.itemsize != 4:  # pragma: no cover - no such CPython platform in use
            raise Corrupt("no 32-bit array type on this platform")
        words.frombytes(self._data[self._cdat:self._cdat + 36 * self.count])
        if struct.pack("=I", 1) != struct.pack(">I", 1):
            words.byteswap()
        return words[5::9], words[6::9], words[7::9], words[8::9]

    def damaged(self, why: str) -> Exception:
        from .damage import damaged

        return damaged(self.path, "commit-graph", why, FIX)

    def generation(self, pos: int) -> int:
        word: int = struct.unpack_from(">I", self._data, self._cdat + 36 * pos + 28)[0]
        return word >> 2
