"""A fast proof that ``git status --porcelain`` would print nothing.

The everyday question at deploy time is "is the tree clean?", and the everyday answer is yes.
This proves it straight from the raw index bytes, without building an index entry object:

* nothing is staged: the entries, hashed into trees exactly as ``git write-tree`` would hash
  them, give HEAD's tree. The cache-tree (``TREE`` extension) is not used at all: it is a
  cache, and a stale or forged one must not hide an entry that differs from HEAD (git itself
  trusts it for subfolders). When the entries give HEAD's tree, git finds nothing staged
  whatever its cache-tree says — a cache-tree can only hide differences, never add one;
* nothing is modified: each entry's ``lstat`` equals the stat data recorded in the index, the
  entry is not racily clean and has no flags (stage, assume-valid, extended);
* nothing is untracked: each folder the entries make is a real folder (not a symlink) holding
  exactly as many names as the index puts in it — every indexed name was just found, so an
  equal count leaves no room for another. A folder with more names (``.git``, ignored build
  output) has its extra names put through git's ignore rules one by one.

What it trusts: the index entries (what ``git commit`` would commit), their stat data (as git
does), HEAD's commit and root tree objects (read and hash-verified, as git reads them), and
SHA-1.

On a large index the ``lstat`` calls — most of the cost — are shared with one forked worker,
as git's ``preload-index`` shares them among threads (CPython threads would serialise on the
GIL): the worker checks entries from the front while the parent hashes the trees and reads the
folders, then the parent checks from the back until they meet.

Anything unusual makes the proof give up (a sparse or split index, a mismatch, an
untracked name, a submodule, a mode or flag it does not expect, a case-insensitive setup) and
the caller runs the exact :class:`~ayjnt_hooks.git.porcelain.StatusComputer`. So the proof may say
"not proven" for a clean tree, but never "clean" for a tree that git calls dirty.
"""
from __future__ import annotations

import gc
import mmap
import os
import stat
import struct
import sys

from .damage import Corrupt
from .index import index_extensions, optional_extension
from .varint import offset_varint

TYPE_CHECKING = False  # (typing is not imported at run time: start-up time counts here)
if TYPE_CHECKING:
    from typing import Any, Callable

    from .contentcheck import ContentCheck
    from .repo import Repo
    from .settings import StatusSettings
    from .untracked import UntrackedNames

# ctime s/ns, mtime s/ns, (dev: git does not compare it), ino, mode, uid, gid, size,
# (object id), flags
_STAT = struct.Struct(">4I4x5I20xH")
_FLAGS = struct.Struct(">H")
_TREE_FIELDS = struct.Struct(">I12x20sH")  # mode, (uid, gid, size,) object id, flags
_TREE_MODES = {0o100644: b"100644 ", 0o100755: b"100755 ", 0o120000: b"120000 ",
               0o160000: b"160000 "}
# A folder the entries make: (path, names directly in it, tree id)
Folder = tuple[bytes, int, bytes]
_SHARED = struct.Struct("qq")  # the worker's shared memory: boundary, progress
_FIELD = struct.Struct("q")
# st_mode & 0o170100 (file type and owner-exec bit) that each index mode expects
_MODE_FROM_STAT = {0o100644: 0o100000, 0o100755: 0o100100, 0o120000: 0o120100}
_NS = 1_000_000_000
_U32 = 0xFFFFFFFF
_NOT_PROVEN = -1
_EMPTY_BLOB = bytes.fromhex("e69de29bb2d1d6434b8b29ae775ad8c2e48c5391")
# From this many entries a second process pays, busy machine or not; from the smaller number
# only while a second CPU is free right now (see _cpu_free): measured on the real
# repositories, it saves 13-20 ms at 2,400-4,800 files when a CPU is free and loses 4-7 ms on
# a saturated machine. Below it (400 files: equal), forking costs what it saves.
FORK_MIN_ENTRIES = 8192
FORK_MIN_ENTRIES_IDLE = 2048
# From this many entries OpenSSL's SHA-1 pays for its import (2-3 ms: libcrypto).
OPENSSL_MIN_ENTRIES = 8192


def proven_clean(repo: Repo) -> bool:
    """True only when git would call the working tree clean; False means "not proven"."""
    if repo.worktree is None or not _platform_supported(repo):
        return False
    from .settings import StatusSettings

    settings = StatusSettings(repo)  # (refuses, as git does, a setting git cannot read)
    if settings.ignorecase or settings.precompose:
        # Counting names proves "nothing else is here" only where a lookup matches exactly
        # one name; git's case folding and Unicode precomposition are left to the full check.
        return False
    try:
        with open(repo.index_file, "rb") as f:
            data = f.read()
            index_mtime = os.fstat(f.fileno()).st_mtime_ns
    except OSError:
        return False
    if len(data) < 32 or data[:4] != b"DIRC":
        return False
    version, count = struct.unpack_from(">II", data, 4)
    if version not in (2, 3, 4) or count == 0:
        return False
    root = os.fsencode(repo.worktree)
    try:
        root_fd = os.open(root, os.O_RDONLY | os.O_DIRECTORY)
    except OSError:
        return False
    gc_was_enabled = gc.isenabled()
    # Nothing here makes reference cycles, and a collection would write to every object in
    # the heap — after the fork, that copies each shared page in both processes.
    gc.disable()
    try:
        check = _EntryCheck(data, version, root_fd, index_mtime, repo)
        worker = _Worker.start(check, count)
        proven = False
        try:
            if worker is None:
                found = None if check.check(12, count)[0] == _NOT_PROVEN \
                    else check.trees(count, None)
            else:  # the worker checks from the front; we come from the back when free
                found = check.trees(count, worker.chunk_starts)
            proven = found is not None and _nothing_staged(repo, settings, data, *found) \
                and _folders_exact(repo, settings, found[1], root, root_fd)
        finally:
            if worker is not None:
                proven = worker.finish(check, proven)
        return proven
    finally:
        os.close(root_fd)
        if gc_was_enabled:
            gc.enable()


def _platform_supported(repo: Repo) -> bool:
    return (hasattr(os, "O_NOFOLLOW") and hasattr(os, "O_DIRECTORY")  # (not on Windows)
            and os.stat in os.supports_dir_fd and os.listdir in os.supports_fd)


class _EntryCheck:
    """Walks raw index entries; ``check`` compares each with its file's ``lstat``.

    A position in the index is ``(byte offset, previous path)``: index v4 stores each path as
    "drop N bytes of the previous path, then append this". The path length comes from the
    entry's flags, as git reads it (12 bits; 0xFFF means "longer", left to the full check).
    Before v4 an entry is NUL-padded to a multiple of eight bytes."""

    def __init__(self, data: bytes, version: int, root_fd: int, index_mtime: int,
                 repo: Repo) -> None:
        self.data = data
        self.version = version
        self.root_fd = root_fd
        # an entry not older than the index is racily clean; git (built without USE_NSEC, its
        # default) compares whole seconds
        self.racy_limit = index_mtime // _NS * _NS
        self.repo = repo
        self._content: ContentCheck | None = None

    def trees(self, count: int, chunk_starts: list[tuple[int, bytes]] | None
              ) -> tuple[int, list[Folder]] | None:
        """The offset after the ``count`` entries and the folders they make, their tree ids
        hashed as ``git write-tree`` hashes them (the root last); None when an entry is one the
        proof does not handle. Records where each worker chunk starts.

        Hashing every entry is what makes the proof unfoolable; it is also its hot loop, so
        the common case — the next file in the same folder — takes as few steps as CPython
        allows (byte 47 is "/")."""
        data, modes = self.data, _TREE_MODES
        unpack = _TREE_FIELDS.unpack_from
        tree = _TreeBuilder(_sha1_constructor(count))
        chunk = _Worker.CHUNK
        v4 = self.version == 4
        pos = 12
        prev = b""
        cur, cur_len, pieces = tree.cur, tree.cur_len, tree.pieces  # (locals: the hot loop)
        try:
            for first in range(0, count, chunk):
                if chunk_starts is not None:
                    chunk_starts.append((pos, prev))
                for _ in range(min(chunk, count - first)):
                    mode, oid, flags = unpack(data, pos + 24)
                    if flags >= 0xFFF:
                        return None  # a stage, assume-valid, extended flags, or a long path
                    if v4:
                        strip = data[pos + 62]
                        start = pos + 63
                        if strip & 0x80:
                            strip, start = offset_varint(data, pos + 62)
                        keep = len(prev) - strip
                        if keep < 0:
                            return None
                        end = start + flags - keep
                        name = prev = prev[:keep] + data[start:end]
                        pos = end + 1
                        base = name[cur_len:]
                        if 47 not in base and name.startswith(cur):
                            pieces += (modes[mode], base + b"\0", oid)
                            continue
                    else:
                        start = pos + 62
                        end = start + flags
                        pos += (end - pos + 8) & ~7
                        base = data[start + cur_len:end + 1]  # (with the NUL after the path)
                        if data[start:start + cur_len] == cur and 47 not in base:
                            pieces += (modes[mode], base, oid)
                            continue
                        if data[end]:
                            return None  # the path does not end where its length says
                        name = data[start:end]
                    tree.enter(name[:name.rfind(b"/") + 1])
                    cur, cur_len, pieces = tree.cur, tree.cur_len, tree.pieces
                    pieces += (modes[mode], name[cur_len:] + b"\0", oid)
            return pos, tree.close()
        except (KeyError, IndexError, ValueError, struct.error):  # an unusual mode, a damaged
            return None  # index: the exact path decides (and says what is wrong)

    def check(self, pos: int, count: int, prev: bytes = b"") -> tuple[int, bytes]:
        """The position after ``count`` unchanged entries, or (_NOT_PROVEN, b"")."""
        if pos == _NOT_PROVEN:
            return _NOT_PROVEN, b""
        data, unpack, mode_from_stat = self.data, _STAT.unpack_from, _MODE_FROM_STAT.get
        lstat, root_fd, racy_limit = os.lstat, self.root_fd, self.racy_limit
        v4 = self.version == 4
        try:
            for _ in range(count):
                cs, cn, ms, mn, ino, mode, uid, gid, size, flags = unpack(data, pos)
                if flags >= 0xFFF:  # a stage, assume-valid, extended flags, or a long path
                    return _NOT_PROVEN, b""
                entry = pos
                if v4:
                    strip = data[pos + 62]
                    start = pos + 63
                    if strip & 0x80:
                        strip, start = offset_varint(data, pos + 62)
                    keep = len(prev) - strip
                    if keep < 0:
                        return _NOT_PROVEN, b""
                    end = start + flags - keep
                    name = prev = prev[:keep] + data[start:end]
                    pos = end + 1
                else:
                    end = pos + 62 + flags
                    name = data[pos + 62:end]
                    pos += (end - pos + 8) & ~7
                # (that each path ends where its length says is checked by trees())
                st = lstat(name, dir_fd=root_fd)
                mtime = ms * _NS + mn
                if (mtime >= racy_limit
                        or (not size and data[entry + 40:entry + 60] != _EMPTY_BLOB)  # smudged
                        or st.st_mtime_ns != mtime or st.st_ctime_ns != cs * _NS + cn
                        or st.st_size != size or st.st_ino & _U32 != ino
                        or st.st_uid != uid or st.st_gid != gid
                        or mode_from_stat(mode) != st.st_mode & 0o170100) \
                        and not self._by_content(name, mode, size, st,
                                                 data[entry + 40:entry + 60]):
                    return _NOT_PROVEN, b""
        except (OSError, ValueError, IndexError, struct.error):  # (ValueError: NUL in path)
            return _NOT_PROVEN, b""
        return pos, prev

    @property
    def content(self) -> ContentCheck:
        """Where the stat data cannot decide, as git: by content (made on first use: most
        runs need none of it)."""
        if self._content is None:
            from .contentcheck import ContentCheck

            self._content = ContentCheck(self.repo, self.root_fd)
        return self._content

    def _by_content(self, name: bytes, mode: int, size: int, st: os.stat_result,
                    oid: bytes) -> bool:
        """git's verdict where the stat data differs or cannot be trusted (``ie_modified``):
        a new mode or type is a change; a new size is one unless the index's size is the 0
        of a smudged entry; otherwise the content decides."""
        if mode == 0o160000:  # a gitlink: git ignores its stat data
            return stat.S_ISDIR(st.st_mode) and self.content.gitlink_clean(name, oid,
                                                                           proven_clean)
        if _MODE_FROM_STAT.get(mode) != st.st_mode & 0o170100:
            return False
        if st.st_size != size and size:
            return False
        return self.content.same(name, mode, oid)


class _TreeBuilder:
    """Tree objects built entry by entry, in index order (which is tree order): the pieces of
    the folder being filled, and a stack of the folders it is in."""

    __slots__ = ("cur", "cur_len", "folders", "new_sha1", "pieces", "stack")

    def __init__(self, new_sha1: Callable[[bytes], Any]) -> None:
        self.new_sha1 = new_sha1
        self.cur = b""  # the current folder, with a trailing "/" (b"" at the top)
        self.cur_len = 0
        self.pieces: list[bytes] = []  # its tree entries so far, three pieces each
        self.stack: list[tuple[list[bytes], bytes]] = []  # (the parent's pieces, name + NUL)
        self.folders: list[Folder] = []

    def _leave(self) -> bytes:
        content = b"".join(self.pieces)
        tree_id: bytes = self.new_sha1(b"tree %d\0" % len(content) + content).digest()
        self.folders.append((self.cur[:-1], len(self.pieces) // 3, tree_id))
        return tree_id

    def enter(self, folder: bytes) -> None:
        """Make ``folder`` (with its trailing "/") the current one."""
        while not folder.startswith(self.cur):  # leave the folders the entry is not in
            tree_id = self._leave()
            self.pieces, child = self.stack.pop()
            self.pieces += (b"40000 ", child, tree_id)
            self.cur = self.cur[:len(self.cur) - len(child)]
        while len(folder) > len(self.cur):  # enter the ones it is in
            nxt = folder.index(b"/", len(self.cur)) + 1
            self.stack.append((self.pieces, folder[len(self.cur):nxt - 1] + b"\0"))
            self.pieces, self.cur = [], folder[:nxt]
        self.cur_len = len(self.cur)

    def close(self) -> list[Folder]:
        """Every folder, the root last."""
        self.enter(b"")
        self._leave()
        return self.folders


def _sha1_constructor(count: int) -> Callable[[bytes], Any]:
    """hashlib's OpenSSL SHA-1 for a large index (ten times faster than ``_sha1``, worth its
    import), ``_sha1`` for a small one."""
    from .hashing import builtin_sha1, openssl_sha1

    return builtin_sha1() if count < OPENSSL_MIN_ENTRIES else openssl_sha1()


def _nothing_staged(repo: Repo, settings: StatusSettings, data: bytes, entries_end: int,
                    folders: list[Folder]) -> bool:
    """The entries' root tree is HEAD's, and the index has no extension that changes what it
    holds (a sparse or split index, or a required one we do not know), nor a saved untracked
    cache git reads (its records can be stale: the exact path checks them)."""
    try:
        extensions = index_extensions(data, entries_end)
    except Corrupt:
        return False
    if any(not optional_extension(sig) or (sig == b"UNTR" and settings.reads_untracked_cache)
           for sig, _ in extensions):
        return False
    head = repo.ref_sha("HEAD")
    if head is None:
        return False  # no commits yet: every entry is staged
    tree = repo.commit_tree(head)
    if folders[-1][2].hex() != tree:
        return False
    return repo.read_object(tree)[0] == 2  # git reads HEAD's tree, so damage there must show


def _folders_exact(repo: Repo, settings: StatusSettings, folders: list[Folder], root: bytes,
                   root_fd: int) -> bool:
    """Each indexed folder holds exactly its indexed names (plus ignored ones; with
    status.showUntrackedFiles=no, plus anything)."""
    from .untracked import UntrackedNames

    if settings.untracked == "no":
        untracked = None
    else:  # (ignore rules read only if needed)
        untracked = UntrackedNames(repo, os.fsdecode(root), settings.untracked)
    flags = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW
    for path, indexed, tree_id in folders:
        try:
            fd = os.open(path or b".", flags, dir_fd=root_fd)  # a symlink is refused here
        except OSError:
            return False
        try:
            found = len(os.listdir(fd))
        except OSError:
            return False
        finally:
            os.close(fd)
        if found != indexed and untracked is not None \
                and not _extra_names_ignored(repo, untracked, root, path, tree_id):
            return False
    return True


def _extra_names_ignored(repo: Repo, untracked: UntrackedNames, root: bytes, folder: bytes,
                         tree_id: bytes) -> bool:
    """Is every name in ``folder`` that the index does not hold one git would not list?"""
    from .trees import parse_tree
    from .untracked import kind_of

    indexed = parse_tree(repo.read_object(tree_id.hex())[1])
    where = root + b"/" + folder if folder else root
    for name in os.listdir(where):
        if name in indexed:
            continue
        full = where + b"/" + name
        try:
            kind = kind_of(os.lstat(full).st_mode)
        except OSError:
            return False
        rel = (folder + b"/" + name if folder else name).decode("utf-8", "surrogateescape")
        if untracked.lines(os.fsdecode(full), rel, kind, True):
            return False
    return True


def _fork_pays(count: int) -> bool:
    if count >= FORK_MIN_ENTRIES:
        return True
    return count >= FORK_MIN_ENTRIES_IDLE and _cpu_free()


def _cpu_free() -> bool:
    """Is a CPU free for the worker at this instant? Linux's ``/proc/loadavg`` counts the
    tasks running now (this one among them); the load average lags a minute behind (a busy
    minute just ended would keep the worker from an idle machine, and the other way round),
    so it is the fallback only where that count is not to be had."""
    try:
        cpus = len(os.sched_getaffinity(0))  # (the CPUs this process may run on)
    except (AttributeError, OSError):
        cpus = os.cpu_count() or 1
    if cpus < 2:
        return False
    try:
        with open("/proc/loadavg", "rb") as f:
            running = int(f.read().split()[3].split(b"/")[0])
        return running < cpus
    except (OSError, ValueError, IndexError):
        pass
    try:
        return os.getloadavg()[0] < cpus - 0.5
    except (AttributeError, OSError):  # (no load average here)
        return False


def _can_fork() -> bool:
    if not hasattr(os, "fork") or sys.platform == "darwin":
        return False  # (macOS system libraries are not fork-safe without exec)
    threading = sys.modules.get("threading")
    return threading is None or threading.active_count() == 1


class _Worker:
    """A forked process that checks the entries from the front, a chunk at a time, and
    publishes its progress in shared memory; the parent, once it has read the folders, checks
    chunks from the back until the two meet. So the split adapts to the machine: the second
    CPU of a busy machine is not always there, and then the parent does the work itself. A
    chunk checked by both is harmless and none is left out: the worker starts only chunks
    below the parent's boundary, and the parent stops at the worker's progress."""

    CHUNK = 512

    def __init__(self, pid: int, shared: mmap.mmap, count: int) -> None:
        self.pid = pid
        self.shared = shared  # [boundary: the parent owns entries >= it][progress, -1: failed]
        self.count = count
        self.chunk_starts: list[tuple[int, bytes]] = []  # where each chunk starts (skip())

    @classmethod
    def start(cls, check: _EntryCheck, count: int) -> _Worker | None:
        if not _fork_pays(count) or not _can_fork():
            return None
        shared = mmap.mmap(-1, _SHARED.size)  # anonymous, shared with the child
        _SHARED.pack_into(shared, 0, count, 0)
        try:
            pid = os.fork()
        except OSError:
            shared.close()
            return None
        if pid == 0:  # pragma: no cover - the worker; coverage does not follow a bare fork
            try:
                cls._work(check, shared, count)
            finally:
                os._exit(0)  # no atexit handlers, no flushing the parent's buffers twice
        return cls(pid, shared, count)

    @classmethod
    def _work(cls, check: _EntryCheck, shared: mmap.mmap,
              count: int) -> None:  # pragma: no cover - runs in the worker
        pos, prev, done = 12, b"", 0
        while done < count and done < _FIELD.unpack_from(shared, 0)[0]:  # below the boundary
            n = min(cls.CHUNK, count - done)
            pos, prev = check.check(pos, n, prev)
            done = -1 if pos == _NOT_PROVEN else done + n
            _FIELD.pack_into(shared, 8, done)
            if done < 0:
                return

    def finish(self, check: _EntryCheck, proven: bool) -> bool:
        """The verdict over all entries, given the parent's own; reaps the worker."""
        try:
            boundary = self.count
            while proven:
                (_, progress) = _SHARED.unpack_from(self.shared, 0)
                if progress < 0:
                    return False
                if boundary <= progress:
                    return True
                start = (boundary - 1) // self.CHUNK * self.CHUNK
                _FIELD.pack_into(self.shared, 0, start)  # claim it, then check it
                chunk_pos, prev = self.chunk_starts[start // self.CHUNK]
                proven = check.check(chunk_pos, boundary - start, prev)[0] != _NOT_PROVEN
                boundary = start
            return False
        finally:  # (SIGKILL is 9 on every POSIX system; the signal module imports enum)
            os.kill(self.pid, 9)  # (it may be inside a chunk we just checked)
            os.waitpid(self.pid, 0)
            self.shared.close()
