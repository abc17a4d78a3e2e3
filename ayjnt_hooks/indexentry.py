"""Decoded index entries, for the exact (slow) paths: staged changes, porcelain lines, the
index snapshot. The clean-tree proof never builds them."""
from __future__ import annotations

import gc
import struct
from typing import NamedTuple


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
_EXTENDED = struct.Struct(">H")


def parse_entries(data: bytes, version: int, names: list[bytes], offsets: list[int],
                  only: tuple[bytes, ...] | None) -> list[IndexEntry]:
    """The entries at ``offsets``; with ``only``, just the paths under those prefixes (and
    sparse directory entries, whose names end in "/")."""
    extended_ok = version >= 3
    entries: list[IndexEntry] = []
    append = entries.append
    new_entry = tuple.__new__
    unpack = _ENTRY.unpack_from
    gc_was_enabled = gc.isenabled()
    gc.disable()  # tens of thousands of tuples: the cyclic GC only slows this down
    try:
        for name, pos in zip(names, offsets):
            if only is not None and not name.startswith(only) and name[-1:] != b"/":
                continue
            (cs, cn, ms, mn, dev, ino, mode, uid, gid, size, sha, flags) = unpack(data, pos)
            extended = 0
            if flags & 0x4000 and extended_ok:
                (extended,) = _EXTENDED.unpack_from(data, pos + 62)
            append(new_entry(IndexEntry, (
                name.decode("utf-8", "surrogateescape"), cs * 1_000_000_000 + cn,
                ms * 1_000_000_000 + mn, dev, ino, mode, uid, gid, size, sha.hex(), flags,
                extended)))
    finally:
        if gc_was_enabled:
            gc.enable()
    return entries
