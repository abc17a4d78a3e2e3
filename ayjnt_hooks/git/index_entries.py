"""Decoded index entries, for the exact (slow) paths: staged changes, porcelain lines, the
index snapshot. The clean-tree proof (cleanproof) reads the raw bytes and never builds them."""
from __future__ import annotations

import gc
import struct
from typing import NamedTuple

from .varint import offset_varint


class IndexEntry(NamedTuple):
    """One index entry; timestamps as full nanoseconds, ``path`` decoded (surrogateescape)."""
    path: str
    ctime_ns: int
    mtime_ns: int
    dev: int
    ino: int
    mode: int
    uid: int
    gid: int
    size: int
    sha: str
    flags: int
    extended: int

    @property
    def stage(self) -> int:
        return (self.flags >> 12) & 3

    @property
    def assume_valid(self) -> bool:
        return bool(self.flags & 0x8000)

    @property
    def skip_worktree(self) -> bool:
        return bool(self.extended & 0x4000)

    @property
    def intent_to_add(self) -> bool:
        return bool(self.extended & 0x2000)


_ENTRY = struct.Struct(">10I20sH")
_FLAGS = struct.Struct(">H")  # flags, and the extended flags after them


def parse_entries(data: bytes, version: int, count: int, only: tuple[bytes, ...] | None
                  ) -> tuple[list[IndexEntry], int]:
    """The entries, and the offset where the extensions start. With ``only``, just the paths
    under those prefixes (and sparse directory entries, whose names end in "/"). ValueError or
    IndexError: a corrupt index."""
    extended_ok = version >= 3
    end = len(data) - 20
    entries: list[IndexEntry] = []
    append = entries.append
    new_entry = tuple.__new__
    unpack, find = _ENTRY.unpack_from, data.find
    prev = b""  # index v4 stores each path as a change to the previous one
    pos = 12
    gc_was_enabled = gc.isenabled()
    gc.disable()  # tens of thousands of tuples: the cyclic GC only slows this down
    try:
        for _ in range(count):
            if pos + 62 > end:
                raise ValueError("truncated entry")
            entry_pos = pos
            (flags,) = _FLAGS.unpack_from(data, pos + 60)  # the rest only for kept entries
            has_extended = extended_ok and flags & 0x4000
            start = pos + (64 if has_extended else 62)
            if version == 4:
                strip, start = offset_varint(data, start)
                if strip > len(prev):
                    raise ValueError("bad path compression")
            nul = find(b"\0", start, end)
            if nul < 0:
                raise ValueError("truncated entry")
            if version == 4:
                name = prev = prev[:len(prev) - strip] + data[start:nul]
                next_pos = nul + 1
            else:
                name = data[start:nul]
                next_pos = pos + ((nul - pos + 8) & ~7)  # NUL-padded to a multiple of 8
            pos = next_pos
            if only is not None and not name.startswith(only) and name[-1:] != b"/":
                continue
            (cs, cn, ms, mn, dev, ino, mode, uid, gid, size, sha, _) = unpack(data, entry_pos)
            extended = _FLAGS.unpack_from(data, entry_pos + 62)[0] if has_extended else 0
            append(new_entry(IndexEntry, (
                name.decode("utf-8", "surrogateescape"), cs * 1_000_000_000 + cn,
                ms * 1_000_000_000 + mn, dev, ino, mode, uid, gid, size, sha.hex(), flags,
                extended)))
    finally:
        if gc_was_enabled:
            gc.enable()
    return entries, pos
