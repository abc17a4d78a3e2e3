"""Read-only access to a git repository: locations, refs, config, objects and the index.

Locations follow git's rules (``GIT_DIR``, ``GIT_WORK_TREE``, ``GIT_COMMON_DIR``,
``GIT_INDEX_FILE``, ``.git`` files of linked worktrees). Refs and the index are parsed here
directly (they are small formats and this is the hot path of every hook); objects, config and
ignore rules come from dulwich, imported lazily. Nothing here ever writes.
"""
from __future__ import annotations

import gc
import hashlib
import os
import struct
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, NamedTuple, cast

from .errors import AyjntError

if TYPE_CHECKING:
    from dulwich.object_store import DiskObjectStore
    from dulwich.objects import ObjectID

    from .gitconfig import GitConfig

S_IFGITLINK = 0o160000
S_IFLNK = 0o120000
S_IFDIR = 0o040000
# Per-worktree refs live in the worktree's own git dir; all others in the common dir.
_PER_WORKTREE = ("HEAD", "refs/bisect/", "refs/worktree/", "refs/rewritten/")


class NotARepo(AyjntError):
    pass


@dataclass
class Repo:
    gitdir: str
    commondir: str
    worktree: str | None
    index_file: str
    _packed: dict[str, str] | None = field(default=None, repr=False)
    _config: Any = field(default=None, repr=False)
    _store: Any = field(default=None, repr=False)
    _reader: Any = field(default=None, repr=False)

    # ------------------------------------------------------------------ refs
    def _packed_refs(self) -> dict[str, str]:
        if self._packed is None:
            self._packed = {}
            try:
                with open(os.path.join(self.commondir, "packed-refs"), "rb") as f:
                    for line in f:
                        if line[:1] in (b"#", b"^"):
                            continue
                        sha, _, name = line.rstrip(b"\n").partition(b" ")
                        self._packed[name.decode("utf-8", "surrogateescape")] = sha.decode()
            except FileNotFoundError:
                pass
        return self._packed

    def read_ref_raw(self, name: str) -> str | None:
        """The ref's own content: ``ref: <target>`` or a sha; None when absent."""
        base = self.gitdir if name.startswith(_PER_WORKTREE) else self.commondir
        try:
            with open(os.path.join(base, *name.split("/")), "rb") as f:
                text = f.read().decode("utf-8", "surrogateescape").strip()
        except (FileNotFoundError, NotADirectoryError, IsADirectoryError):
            return self._packed_refs().get(name)
        return text or None

    def resolve(self, name: str) -> tuple[list[str], str | None]:
        """Follow symbolic refs: (chain of names, final sha or None if unborn/absent)."""
        chain = [name]
        for _ in range(10):
            raw = self.read_ref_raw(chain[-1])
            if raw is None:
                return chain, None
            if raw.startswith("ref:"):
                chain.append(raw[4:].strip())
                continue
            return chain, raw
        return chain, None

    def ref_sha(self, name: str) -> str | None:
        return self.resolve(name)[1]

    def rev_parse(self, spec: str) -> str | None:
        """A commit sha for a full sha, a ref name, or a short branch/tag/remote name."""
        if len(spec) == 40 and all(c in "0123456789abcdef" for c in spec.lower()):
            return spec.lower()
        for candidate in (spec, f"refs/{spec}", f"refs/tags/{spec}", f"refs/heads/{spec}",
                          f"refs/remotes/{spec}", f"refs/remotes/{spec}/HEAD"):
            sha = self.ref_sha(candidate)
            if sha is not None:
                return sha
        return None

    # ------------------------------------------------------------------ config
    @property
    def config(self) -> GitConfig:
        if self._config is None:
            from .gitconfig import GitConfig

            try:
                self._config = GitConfig(self.commondir)
            except Exception as e:
                raise AyjntError(f"{os.path.join(self.commondir, 'config')}: cannot parse git "
                                 f"config ({e}). Fix the file (git config --list shows the "
                                 f"error).") from None
        return self._config  # type: ignore[no-any-return]

    def config_get(self, section: str, name: str, sub: str | None = None) -> str | None:
        return self.config.get(section, name, sub)

    def config_bool(self, section: str, name: str, default: bool) -> bool:
        value = self.config_get(section, name)
        if value is None:
            return default
        return value.strip().lower() in ("true", "yes", "on", "1", "")

    # ------------------------------------------------------------------ objects
    @property
    def objects(self) -> DiskObjectStore:
        if self._store is None:
            from dulwich.object_store import DiskObjectStore

            self._store = DiskObjectStore(os.path.join(self.commondir, "objects"))
        return self._store  # type: ignore[no-any-return]

    def read_object(self, sha: str) -> tuple[int, bytes]:
        """(type number, raw content) — 1 commit, 2 tree, 3 blob, 4 tag. KeyError if absent."""
        if self._reader is None:
            from .objects import ObjectReader

            self._reader = ObjectReader(os.path.join(self.commondir, "objects"))
        found: tuple[int, bytes] | None = self._reader.read(sha)
        if found is not None:
            return found
        type_num, data = self.objects.get_raw(cast("ObjectID", sha.encode()))
        return type_num, data

    def has_object(self, sha: str) -> bool:
        return cast("ObjectID", sha.encode()) in self.objects

    def commit_tree(self, sha: str) -> str:
        type_num, data = self.read_object(sha)
        while type_num == 4:  # annotated tag: peel
            target = data.split(b"\n", 1)[0].split(b" ")[1].decode()
            type_num, data = self.read_object(target)
        if type_num != 1:
            raise AyjntError(f"{sha} is not a commit.")
        return data[5:45].decode()


def _read_gitfile(path: str) -> str:
    with open(path, encoding="utf-8") as f:
        content = f.read().strip()
    if not content.startswith("gitdir:"):
        raise NotARepo(f"{path}: not a gitdir file (expected 'gitdir: <path>').")
    target = content[7:].strip()
    return os.path.normpath(os.path.join(os.path.dirname(path), target))


def _commondir_of(gitdir: str) -> str:
    try:
        with open(os.path.join(gitdir, "commondir"), encoding="utf-8") as f:
            rel = f.read().strip()
    except FileNotFoundError:
        return gitdir
    return os.path.normpath(os.path.join(gitdir, rel))


def _is_gitdir(path: str) -> bool:
    return os.path.isfile(os.path.join(path, "HEAD")) and (
        os.path.isdir(os.path.join(path, "objects"))
        or os.path.isfile(os.path.join(path, "commondir")))


def discover(start: str) -> Repo:
    """The repository that contains ``start`` (or the one ``GIT_DIR`` names)."""
    env = os.environ
    cwd = os.getcwd()
    env_gitdir = env.get("GIT_DIR")
    if env_gitdir:
        gitdir = os.path.abspath(os.path.join(cwd, env_gitdir))
        if os.path.isfile(gitdir):
            gitdir = _read_gitfile(gitdir)
        worktree: str | None = os.path.abspath(env.get("GIT_WORK_TREE") or cwd)
    else:
        current = os.path.abspath(start)
        while True:
            dotgit = os.path.join(current, ".git")
            if os.path.isdir(dotgit) and _is_gitdir(dotgit):
                gitdir = dotgit
                break
            if os.path.isfile(dotgit):
                gitdir = _read_gitfile(dotgit)
                break
            parent = os.path.dirname(current)
            if parent == current:
                raise NotARepo("fatal: not a git repository (or any of the parent "
                               "directories): .git",
                               hint=f"run it inside a git checkout ({start} is not in one)")
            current = parent
        worktree = current
        if env.get("GIT_WORK_TREE"):
            worktree = os.path.abspath(env["GIT_WORK_TREE"])
    commondir = os.path.abspath(os.path.join(cwd, env["GIT_COMMON_DIR"])) \
        if env.get("GIT_COMMON_DIR") else _commondir_of(gitdir)
    index = env.get("GIT_INDEX_FILE")
    index_file = os.path.abspath(os.path.join(cwd, index)) if index \
        else os.path.join(gitdir, "index")
    repo = Repo(gitdir, commondir, worktree, index_file)
    fmt = repo.config_get("extensions", "objectformat")
    if fmt and fmt.lower() != "sha1":
        raise AyjntError(f"{commondir}: unsupported repository format (objectFormat={fmt}); "
                         f"ayjnt-hooks reads SHA-1 repositories only.")
    if repo.config_get("extensions", "refstorage") not in (None, "files"):
        raise AyjntError(f"{commondir}: unsupported ref storage (reftable); ayjnt-hooks reads "
                         f"the files backend only.")
    return repo


# ---------------------------------------------------------------------- index

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


@dataclass
class Index:
    path: str
    entries: list[IndexEntry]
    mtime_ns: int
    cache_tree_root: str | None  # valid root tree id from the TREE extension
    sparse: bool


_ENTRY = struct.Struct(">10I20sH")


def read_index(path: str, only: tuple[str, ...] | None = None) -> Index:
    """Parse a git index (v2, v3, v4; sparse supported; split index refused).

    ``only``: keep just the entries whose path starts with one of these prefixes (plus sparse
    directory entries) — the hooks read a few folders of a possibly huge index.
    """
    only_bytes = tuple(p.encode("utf-8", "surrogateescape") for p in only) if only else None
    try:
        with open(path, "rb") as f:
            data = f.read()
            mtime_ns = os.fstat(f.fileno()).st_mtime_ns
    except FileNotFoundError:
        return Index(path, [], 0, None, False)
    except OSError as e:
        raise AyjntError(f"{path}: cannot read the git index ({e.strerror}).") from None

    def corrupt(why: str) -> AyjntError:
        return AyjntError(f"{path}: corrupt git index ({why}). Rebuild it with "
                          f"`git reset --mixed` (keeps your files) or `git read-tree HEAD`.")

    if len(data) < 32 or data[:4] != b"DIRC":
        raise corrupt("bad signature")
    if hashlib.sha1(data[:-20]).digest() != data[-20:]:
        raise corrupt("checksum mismatch")
    version, count = struct.unpack_from(">II", data, 4)
    if version not in (2, 3, 4):
        raise AyjntError(f"{path}: unsupported index format (version {version}).")
    entries: list[IndexEntry] = []
    append = entries.append
    new_entry = tuple.__new__
    pos = 12
    prev = b""
    end = len(data) - 20
    unpack = _ENTRY.unpack_from
    find = data.find
    gc_was_enabled = gc.isenabled()
    gc.disable()  # tens of thousands of tuples: the cyclic GC only slows this down
    try:
        for _ in range(count):
            if pos + 62 > end:
                raise corrupt("truncated entry")
            start = pos
            (cs, cn, ms, mn, dev, ino, mode, uid, gid, size, sha, flags) = unpack(data, pos)
            pos += 62
            extended = 0
            if flags & 0x4000 and version >= 3:
                (extended,) = struct.unpack_from(">H", data, pos)
                pos += 2
            if version == 4:
                strip, pos = _varint(data, pos)
                nul = find(b"\0", pos, end)
                if nul < 0:
                    raise corrupt("unterminated path")
                name = prev[:len(prev) - strip] + data[pos:nul]
                pos = nul + 1
                prev = name
            else:
                nul = find(b"\0", pos, end)
                if nul < 0:
                    raise corrupt("unterminated path")
                name = data[pos:nul]
                pos = start + ((pos - start + len(name) + 8) & ~7)
            if only_bytes is not None and mode != S_IFDIR and not name.startswith(only_bytes):
                continue
            append(new_entry(IndexEntry, (
                name.decode("utf-8", "surrogateescape"), cs * 1_000_000_000 + cn,
                ms * 1_000_000_000 + mn, dev, ino, mode, uid, gid, size, sha.hex(), flags,
                extended)))
    finally:
        if gc_was_enabled:
            gc.enable()
    cache_tree_root = None
    sparse = False
    while pos + 8 <= end:
        sig = data[pos:pos + 4]
        (size,) = struct.unpack_from(">I", data, pos + 4)
        body = data[pos + 8:pos + 8 + size]
        if sig == b"TREE":
            cache_tree_root = _cache_tree_root(body)
        elif sig == b"link":
            raise AyjntError(f"{path}: unsupported index format (split index). Turn it off with "
                             f"`git config core.splitIndex false && git update-index "
                             f"--no-split-index`.")
        elif sig == b"sdir":
            sparse = True
        elif sig[:1].islower() or not sig[:1].isalpha():
            raise AyjntError(f"{path}: unsupported index format (required extension "
                             f"{sig.decode('latin-1')!r}).")
        pos += 8 + size
    return Index(path, entries, mtime_ns, cache_tree_root, sparse)


def _varint(data: bytes, pos: int) -> tuple[int, int]:
    c = data[pos]
    pos += 1
    value = c & 0x7F
    while c & 0x80:
        c = data[pos]
        pos += 1
        value = ((value + 1) << 7) | (c & 0x7F)
    return value, pos


def _cache_tree_root(body: bytes) -> str | None:
    nul = body.find(b"\0")
    if nul != 0:  # the root entry has an empty path
        return None
    line_end = body.index(b"\n", nul)
    count_text, _, _subtrees = body[nul + 1:line_end].partition(b" ")
    if int(count_text) < 0:
        return None
    return body[line_end + 1:line_end + 21].hex()
