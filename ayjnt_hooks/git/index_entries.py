"""Decoded index entries, for the exact (slow) paths: staged changes, porcelain lines, the
index snapshot. The clean-tree proof (cleanproof) reads the raw bytes and never builds them."""
from __future__ import annotations

import gc
import struct

from ..records import Record
from .damage import Corrupt
from .varint import offset_varint


class IndexEntry(Record):
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
_MODE_FLAGS = struct.Struct(">I32xH")  # mode, then (past uid, gid, size, id) the flags
_FLAGS = struct.Struct(">H")
# The modes git writes into an index: regular, executable, symlink, gitlink; a directory only
# as a sparse-index entry (skip-worktree, its path ending in "/").
ENTRY_MODES = frozenset((0o100644, 0o100755, 0o120000, 0o160000))
SPARSE_DIR_MODE = 0o040000
_EXTENDED_FLAGS = 0x6000  # skip-worktree, intent-to-add: the only extended flags git defines


def bad_path(name: bytes) -> bool:
    """A path git never writes into an index: empty parts, "." or "..", or a ".git" part."""
    if not name or name[:1] == b"/" or b"//" in name:
        return True
    if name[:1] != b"." and b"/." not in name:
        return False
    return any(part in (b".", b"..") or part.lower() == b".git"
               for part in name.rstrip(b"/").split(b"/"))


def parse_entries(data: bytes, version: int, count: int, only: tuple[bytes, ...] | None
                  ) -> tuple[list[IndexEntry], int, str | None]:
    """The entries, the offset where the extensions start, and the first problem found in an
    entry's mode, path or order (reported by the caller once it knows the index is not a
    split one, whose entries mean nothing alone). With ``only``, just the paths under those
    prefixes (and sparse directory entries, whose names end in "/"); every entry is checked all
    the same. Corrupt (or IndexError) for a damaged index."""
    end = len(data) - 20
    entries: list[IndexEntry] = []
    append = entries.append
    new_entry = tuple.__new__
    unpack, unpack_mode_flags, find = _ENTRY.unpack_from, _MODE_FLAGS.unpack_from, data.find
    modes = ENTRY_MODES
    prev = b""  # index v4 stores each path as a change to the previous one
    prev_stage = 0
    problem: str | None = None
    pos = 12
    gc_was_enabled = gc.isenabled()
    gc.disable()  # tens of thousands of tuples: the cyclic GC only slows this down
    try:
        for number in range(1, count + 1):
            if pos + 62 > end:
                raise Corrupt("truncated entry")
            entry_pos = pos
            mode, flags = unpack_mode_flags(data, pos + 24)
            # (git reads the extended flags whenever the flag says so, whatever the version)
            has_extended = flags & 0x4000
            start = pos + (64 if has_extended else 62)
            extended = _FLAGS.unpack_from(data, pos + 62)[0] if has_extended else 0
            if extended & ~_EXTENDED_FLAGS:
                raise Corrupt(f"entry {number} has extended flags git does not define")
            if version == 4:
                strip, start = offset_varint(data, start)
                if strip > len(prev):
                    raise Corrupt(f"entry {number} has a bad path compression")
            length = flags & 0xFFF
            if version == 4 or length == 0xFFF:
                nul = find(b"\0", start, end)
                if nul < 0:
                    raise Corrupt("truncated entry")
            else:
                nul = start + length
                if nul >= end or data[nul]:
                    raise Corrupt(f"entry {number}'s path does not end where its length says")
            if version == 4:
                name = prev[:len(prev) - strip] + data[start:nul]
                next_pos = nul + 1
            else:
                name = data[start:nul]
                next_pos = pos + ((nul - pos + 8) & ~7)  # NUL-padded to a multiple of 8
            if version == 4 and length != 0xFFF and len(name) != length:
                raise Corrupt(f"entry {number}'s path is not the length its flags say")
            stage = (flags >> 12) & 3
            if problem is not None:
                pass
            elif number > 1 and (name < prev or (name == prev and (prev_stage == 0
                                                                  or stage <= prev_stage))):
                problem = f"entries {number - 1} and {number} are out of order"
            elif mode not in modes and not (mode == SPARSE_DIR_MODE and name[-1:] == b"/"
                                            and extended & 0x4000):
                problem = f"entry {number} has a file mode git does not define"
            elif bad_path(name) and not (mode == SPARSE_DIR_MODE and not bad_path(name[:-1])):
                problem = f"entry {number} has a path git never writes"
            prev, prev_stage = name, stage
            pos = next_pos
            if only is not None and not name.startswith(only) and name[-1:] != b"/":
                continue
            (cs, cn, ms, mn, dev, ino, _, uid, gid, size, sha, _) = unpack(data, entry_pos)
            append(new_entry(IndexEntry, (
                name.decode("utf-8", "surrogateescape"), cs * 1_000_000_000 + cn,
                ms * 1_000_000_000 + mn, dev, ino, mode, uid, gid, size, sha.hex(), flags,
                extended)))
    finally:
        if gc_was_enabled:
            gc.enable()
    return entries, pos, problem
