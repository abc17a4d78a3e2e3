"""git's saved untracked cache (the index's ``UNTR`` extension), read to find where git would
print stale names.

``git status`` trusts a folder's cached list of untracked names when the folder's ``lstat``
data equals the recorded one — in whole seconds (git's default build has no ``USE_NSEC``),
with ctime only under ``core.trustctime`` and ``core.checkStat=default`` — and the record is
not racy (recorded mtime older than the index file's, in seconds). A folder changed in the
same second as the record was taken, by an index written a second later (any ``git add``,
``git status``, or a touched index), looks unchanged: git then prints the old list (it does
not even read a ``.gitignore`` created there if the folder had none). The cache for ``-uall``
and for "normal" differ (``dir_flags``), and a changed ``info/exclude`` or
``core.excludesFile`` drops every record, as in git's ``validate_untracked_cache``.

Rather than print git's stale answer (or our correct one, which git would contradict), the
status computation compares every record git would trust with what the folder holds now and
refuses (exit 3) where they differ. The layout follows ``read_untracked_extension`` (dir.c) and
``ewah_read_mmap`` / ``ewah_each_bit`` (ewah/).
"""
from __future__ import annotations

import os
import stat
import struct

from .trees import blob_sha
from .varint import offset_varint

TYPE_CHECKING = False  # (typing is not imported at run time: start-up time counts here)
if TYPE_CHECKING:
    from collections.abc import Callable

# ctime s/ns, mtime s/ns, dev, ino, uid, gid, size
_STAT_DATA = struct.Struct(">9I")
_U32 = 0xFFFFFFFF
_NULL = bytes(20)
# dir_flags of git status: DIR_SHOW_OTHER_DIRECTORIES | DIR_HIDE_EMPTY_DIRECTORIES, or none
# for -uall (status.showUntrackedFiles=all)
STATUS_FLAGS = {"normal": 6, "all": 0}


class CachedDir:
    __slots__ = ("check_only", "exclude_oid", "names", "path", "stat_data")

    def __init__(self, path: str, names: list[str]) -> None:
        self.path = path  # "" for the top, else "a/b"
        self.names = names  # the cached untracked names ("file", "folder/")
        self.check_only = False
        self.stat_data: tuple[int, ...] | None = None  # recorded lstat data (a valid record)
        self.exclude_oid = _NULL  # the .gitignore's blob id when recorded (null: none)


class UntrackedCache:
    __slots__ = ("dir_flags", "dirs", "exclude_per_dir", "excludes_file_oid",
                 "info_exclude_oid")

    def __init__(self) -> None:
        self.dir_flags = 0
        self.info_exclude_oid = _NULL
        self.excludes_file_oid = _NULL
        self.exclude_per_dir = ""
        self.dirs: list[CachedDir] = []


def _ewah_bits(data: bytes, pos: int) -> tuple[list[int], int]:
    """The set bit positions of one serialized EWAH bitmap, and the offset after it."""
    _bit_size, words = struct.unpack_from(">II", data, pos)
    pos += 8
    buffer = struct.unpack_from(f">{words}Q", data, pos)
    pos += 8 * words + 4  # (the words, then the last run-length word's position)
    if pos > len(data):
        raise ValueError("truncated bitmap")
    bits: list[int] = []
    bit = 0
    i = 0
    while i < words:
        word = buffer[i]
        running = ((word >> 1) & _U32) * 64
        if word & 1:
            bits.extend(range(bit, bit + running))
        bit += running
        i += 1
        for _ in range(word >> 33):
            if i >= words:
                raise ValueError("truncated bitmap")
            literal = buffer[i]
            for c in range(64):
                if literal >> c & 1:
                    bits.append(bit + c)
            bit += 64
            i += 1
    return bits, pos


def parse(body: bytes) -> UntrackedCache | None:
    """The extension as git reads it; None where git would drop it as unreadable (git then
    works without a cache, so nothing can be stale)."""
    try:
        return _parse(body)
    except (ValueError, IndexError, struct.error, UnicodeDecodeError):
        return None


def _parse(body: bytes) -> UntrackedCache | None:
    if len(body) <= 1 or body[-1] != 0:
        return None
    end = len(body) - 1
    ident_len, pos = offset_varint(body, 0)
    pos += ident_len
    offset = 2 * _STAT_DATA.size + 4
    if pos + offset + 40 + 1 > end:
        return None
    uc = UntrackedCache()
    (uc.dir_flags,) = struct.unpack_from(">I", body, pos + 2 * _STAT_DATA.size)
    uc.info_exclude_oid = body[pos + offset:pos + offset + 20]
    uc.excludes_file_oid = body[pos + offset + 20:pos + offset + 40]
    nul = body.index(b"\0", pos + offset + 40)
    uc.exclude_per_dir = body[pos + offset + 40:nul].decode("utf-8", "surrogateescape")
    pos = nul + 1
    if pos >= end:
        return uc
    count, pos = offset_varint(body, pos)
    if pos > end or count == 0:
        return uc

    def read_dir(parent: str | None) -> None:
        nonlocal pos
        untracked_nr, pos = offset_varint(body, pos)
        dirs_nr, pos = offset_varint(body, pos)
        nul = body.index(b"\0", pos, end)
        name = body[pos:nul].decode("utf-8", "surrogateescape").rstrip("/")
        pos = nul + 1
        names = []
        for _ in range(untracked_nr):
            nul = body.index(b"\0", pos, end)
            names.append(body[pos:nul].decode("utf-8", "surrogateescape"))
            pos = nul + 1
        path = "" if parent is None else (f"{parent}/{name}" if parent else name)
        uc.dirs.append(CachedDir(path, names))
        for _ in range(dirs_nr):
            read_dir(path)

    read_dir(None)
    if len(uc.dirs) != count:
        return None
    valid, pos = _ewah_bits(body, pos)
    check_only, pos = _ewah_bits(body, pos)
    sha1_valid, pos = _ewah_bits(body, pos)
    for i in check_only:
        uc.dirs[i].check_only = True
    for i in valid:
        if pos + _STAT_DATA.size > end:
            return None
        uc.dirs[i].stat_data = _STAT_DATA.unpack_from(body, pos)
        pos += _STAT_DATA.size
    for i in sha1_valid:
        if pos + 20 > end:
            return None
        uc.dirs[i].exclude_oid = body[pos:pos + 20]
        pos += 20
    return uc if pos == end else None


def file_oid(path: str, nofollow: bool, from_index: Callable[[str, bytes | None], bytes | None]
             ) -> bytes:
    """The blob id git's ``add_patterns`` records for an ignore file: the index's id for a
    tracked, up-to-date one (``from_index(path, content)``), else the id of its bytes *plus a
    newline* (git hashes its read buffer after appending one), the empty blob's for an empty
    file, the null id when it cannot be read as a file (missing, a folder, a symlink inside the
    tree) unless the index holds it as skip-worktree."""
    from .ignore import read_rules_file

    data = read_rules_file(path, nofollow)
    indexed = from_index(path, data)
    if indexed is not None:
        return indexed
    if data is None:
        return _NULL
    return bytes.fromhex(blob_sha(data + b"\n" if data else b""))


def stale_folder(uc: UntrackedCache, worktree: str, index_mtime_ns: int, trust_ctime: bool,
                 check_stat: bool, global_oids: tuple[bytes, bytes],
                 gitignore_oids: Callable[[str], set[bytes]],
                 listed_now: Callable[[str, bool], set[str] | bool]) -> str | None:
    """The first folder whose record git would trust although it no longer says what the
    folder holds; None when git's answer from this cache is the fresh one.

    ``gitignore_oids(folder)``: the blob ids git may record for the folder's .gitignore now
    (null: none; more than one where git's choice depends on its in-memory refresh — any of
    them keeps the record, so more records are compared, never fewer);
    ``listed_now(folder, check_only)``: the untracked names git would record for it now (a
    "check only" record: whether it would list anything at all)."""
    if (uc.info_exclude_oid, uc.excludes_file_oid) != global_oids:
        return None  # git drops every record (invalidate_gitignore on the top folder)
    index_sec = index_mtime_ns // 1_000_000_000
    invalid_below: list[str] = []  # folders whose .gitignore changed: git drops their subtree
    for d in uc.dirs:
        if any(d.path == p or d.path.startswith(p + "/") or not p for p in invalid_below):
            continue
        trusted = d.stat_data is not None and _unchanged(
            d.stat_data, os.path.join(worktree, d.path) if d.path else worktree, index_sec,
            trust_ctime, check_stat)
        # prep_exclude reads the .gitignore unless the record is trusted and had none
        if (not trusted or d.exclude_oid != _NULL) \
                and d.exclude_oid not in gitignore_oids(d.path):
            invalid_below.append(d.path)
            continue
        if not trusted:
            continue
        now = listed_now(d.path, d.check_only)
        cached: set[str] | bool = bool(d.names) if d.check_only else set(d.names)
        if now != cached:
            return d.path
    return None


def _unchanged(sd: tuple[int, ...], path: str, index_sec: int, trust_ctime: bool,
               check_stat: bool) -> bool:
    """git's ``match_stat_data_racy`` finds nothing changed (whole seconds)."""
    try:
        st = os.lstat(path)
    except OSError:
        return False
    if not stat.S_ISDIR(st.st_mode):
        return False
    ctime_s, _, mtime_s, _, _, ino, uid, gid, size = sd
    if index_sec and index_sec <= mtime_s:
        return False  # racy: git reads the folder again
    if int(st.st_mtime) & _U32 != mtime_s:
        return False
    if trust_ctime and check_stat and int(st.st_ctime) & _U32 != ctime_s:
        return False
    if check_stat and (st.st_uid & _U32 != uid or st.st_gid & _U32 != gid
                       or st.st_ino & _U32 != ino):
        return False
    return st.st_size & _U32 == size
