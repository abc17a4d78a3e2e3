"""A fast proof that ``git status --porcelain`` would print nothing.

The everyday question at deploy time is "is the tree clean?", and the everyday answer is yes.
This proves it straight from the raw index bytes, without building an index entry object:

* nothing is staged: the cache-tree (``TREE`` extension) is fully valid and its root is
  HEAD's tree;
* nothing is modified: each entry's ``lstat`` equals the stat data recorded in the index, the
  entry is not racily clean and has no flags (stage, assume-valid, extended);
* nothing is untracked: each folder of the cache-tree is a real folder (not a symlink) holding
  exactly as many names as the index puts in it — every indexed name was just found, so an
  equal count leaves no room for another. A folder with more names (``.git``, ignored build
  output) has its extra names put through git's ignore rules one by one.

On a large index the ``lstat`` calls — most of the cost — are shared with one forked worker,
as git's ``preload-index`` shares them among threads (CPython threads would serialise on the
GIL): the worker checks entries from the front while the parent reads the folders, then the
parent checks from the back until they meet.

Anything unusual makes the proof give up (a sparse or split index, a mismatch, an
untracked name, a case-insensitive setup) and the caller runs the exact
:class:`~ayjnt_hooks.git.status.StatusComputer`. So the proof may say "not proven" for a clean
tree, but never "clean" for a tree that git calls dirty.
"""
from __future__ import annotations

import gc
import mmap
import os
import stat
import struct
import sys

from .index import cache_tree_folders, index_extensions, optional_extension
from .varint import offset_varint

TYPE_CHECKING = False  # (typing is not imported at run time: start-up time counts here)
if TYPE_CHECKING:
    from .contentcheck import ContentCheck
    from .repo import Repo
    from .untracked import UntrackedNames

# ctime s/ns, mtime s/ns, (dev: git does not compare it), ino, mode, uid, gid, size,
# (object id), flags
_STAT = struct.Struct(">4I4x5I20xH")
_FLAGS = struct.Struct(">H")
_SHARED = struct.Struct("qq")  # the worker's shared memory: boundary, progress
_FIELD = struct.Struct("q")
# st_mode & 0o170100 (file type and owner-exec bit) that each index mode expects
_MODE_FROM_STAT = {0o100644: 0o100000, 0o100755: 0o100100, 0o120000: 0o120100}
_NS = 1_000_000_000
_U32 = 0xFFFFFFFF
_NOT_PROVEN = -1
# Below this many entries a second process costs more than it saves.
FORK_MIN_ENTRIES = 8192


def proven_clean(repo: Repo) -> bool:
    """True only when git would call the working tree clean; False means "not proven"."""
    if repo.worktree is None or not _platform_supported(repo):
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
    from .contentcheck import ContentCheck

    gc_was_enabled = gc.isenabled()
    # Nothing here makes reference cycles, and a collection would write to every object in
    # the heap — after the fork, that copies each shared page in both processes.
    gc.disable()
    try:
        check = _EntryCheck(data, version, root_fd, index_mtime, ContentCheck(repo, root_fd))
        worker = _Worker.start(check, count)
        proven = False
        try:
            if worker is None:
                pos, _ = check.check(12, count)
            else:  # the worker checks from the front; we come from the back when free
                pos = check.skip(12, count, worker.chunk_starts)
            proven = pos != _NOT_PROVEN and _folders_exact(repo, data, pos, root, root_fd)
        finally:
            if worker is not None:
                proven = worker.finish(check, proven)
        return proven
    finally:
        os.close(root_fd)
        if gc_was_enabled:
            gc.enable()


def _platform_supported(repo: Repo) -> bool:
    if not (hasattr(os, "O_NOFOLLOW") and hasattr(os, "O_DIRECTORY")
            and os.stat in os.supports_dir_fd and os.listdir in os.supports_fd):
        return False  # (Windows)
    # Counting names proves "nothing else is here" only where a lookup matches exactly one
    # name; git's own case folding and Unicode precomposition are left to the full check.
    return not (repo.config_bool("core", "ignorecase", False)
                or repo.config_bool("core", "precomposeunicode", False))


class _EntryCheck:
    """Walks raw index entries; ``check`` compares each with its file's ``lstat``.

    A position in the index is ``(byte offset, previous path)``: index v4 stores each path as
    "drop N bytes of the previous path, then append this". The path length comes from the
    entry's flags, as git reads it (12 bits; 0xFFF means "longer", left to the full check).
    Before v4 an entry is NUL-padded to a multiple of eight bytes."""

    def __init__(self, data: bytes, version: int, root_fd: int, index_mtime: int,
                 content: ContentCheck) -> None:
        self.data = data
        self.version = version
        self.root_fd = root_fd
        self.racy_limit = index_mtime  # an entry not older than the index is racily clean
        self.content = content  # where the stat data cannot decide, as git: by content

    def skip(self, pos: int, count: int, chunk_starts: list[tuple[int, bytes]]) -> int:
        """The offset after ``count`` entries; records where each worker chunk starts."""
        data, unpack_flags, version = self.data, _FLAGS.unpack_from, self.version
        prev = b""
        try:
            for i in range(count):
                if not i % _Worker.CHUNK:
                    chunk_starts.append((pos, prev))
                (flags,) = unpack_flags(data, pos + 60)
                length = flags & 0xFFF
                if length == 0xFFF:
                    return _NOT_PROVEN
                start = pos + (64 if version >= 3 and flags & 0x4000 else 62)
                if version == 4:
                    strip = data[start]
                    start += 1
                    if strip & 0x80:  # (one byte unless more than 127 bytes are dropped)
                        strip, start = offset_varint(data, start - 1)
                    keep = len(prev) - strip
                    end = start + length - keep
                    prev = prev[:keep] + data[start:end]
                    pos = end + 1
                else:
                    pos += (start - pos + length + 8) & ~7
        except (IndexError, struct.error):  # ran off the end: a corrupt index
            return _NOT_PROVEN
        return pos

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
                # a conflict stage, assume-valid, extended flags, or a very long path
                if flags & 0xF000 or flags & 0xFFF == 0xFFF:
                    return _NOT_PROVEN, b""
                if v4:
                    strip = data[pos + 62]
                    start = pos + 63
                    if strip & 0x80:
                        strip, start = offset_varint(data, pos + 62)
                    keep = len(prev) - strip
                    if keep < 0:
                        return _NOT_PROVEN, b""
                    end = start + (flags & 0xFFF) - keep
                    name = prev = prev[:keep] + data[start:end]
                    next_pos = end + 1
                else:
                    end = pos + 62 + (flags & 0xFFF)
                    name = data[pos + 62:end]
                    next_pos = pos + ((end - pos + 8) & ~7)
                if data[end]:
                    return _NOT_PROVEN, b""  # the path does not end where its length says
                st = lstat(name, dir_fd=root_fd)
                mtime = ms * _NS + mn
                if (mtime >= racy_limit
                        or st.st_mtime_ns != mtime or st.st_ctime_ns != cs * _NS + cn
                        or st.st_size != size or st.st_ino & _U32 != ino
                        or st.st_uid != uid or st.st_gid != gid
                        or mode_from_stat(mode) != st.st_mode & 0o170100) \
                        and not self._by_content(name, mode, size, st, data[pos + 40:pos + 60]):
                    return _NOT_PROVEN, b""
                pos = next_pos
        except (OSError, ValueError, IndexError, struct.error):  # (ValueError: NUL in path)
            return _NOT_PROVEN, b""
        return pos, prev


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


def _folders_exact(repo: Repo, data: bytes, entries_end: int, root: bytes,
                   root_fd: int) -> bool:
    """Nothing staged, and each indexed folder holds exactly its indexed names (plus ignored
    ones)."""
    folders = None
    for sig, body in index_extensions(data, entries_end):
        if sig == b"TREE":
            folders = cache_tree_folders(body)
        elif not optional_extension(sig):  # a sparse or split index, or one we do not know
            return False
    head = repo.ref_sha("HEAD")
    if not folders or head is None or folders[0][2].hex() != repo.commit_tree(head):
        return False  # something is staged, or the cache-tree cannot tell: decide exactly
    from .untracked import UntrackedNames

    untracked = UntrackedNames(repo, os.fsdecode(root))  # (ignore rules read only if needed)
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
        if found != indexed and not _extra_names_ignored(repo, untracked, root, path, tree_id):
            return False
    return True


def _extra_names_ignored(repo: Repo, untracked: UntrackedNames, root: bytes, folder: bytes,
                         tree_id: bytes) -> bool:
    """Is every name in ``folder`` that the index does not hold one git would not list?"""
    from .trees import parse_tree

    indexed = parse_tree(repo.read_object(tree_id.hex())[1])
    where = root + b"/" + folder if folder else root
    for name in os.listdir(where):
        if name in indexed or (not folder and name == b".git"):
            continue
        full = where + b"/" + name
        try:
            is_dir = stat.S_ISDIR(os.lstat(full).st_mode)
        except OSError:
            return False
        rel = (folder + b"/" + name if folder else name).decode("utf-8", "surrogateescape")
        if untracked.line(os.fsdecode(full), rel, is_dir) is not None:
            return False
    return True


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
        if count < FORK_MIN_ENTRIES or not _can_fork():
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
        finally:
            import signal

            os.kill(self.pid, signal.SIGKILL)  # (it may be inside a chunk we just checked)
            os.waitpid(self.pid, 0)
            self.shared.close()
