"""Read-only access to a git repository: locations, refs, config, objects and the index.

Locations follow git's rules (``GIT_DIR``, ``GIT_WORK_TREE``, ``GIT_COMMON_DIR``,
``GIT_INDEX_FILE``, ``.git`` files of linked worktrees). Refs and the index are parsed here
directly (they are small formats and this is the hot path of every hook), and so are config
and objects in the common cases (gitconfig, objects); dulwich, imported lazily, serves the
rest: config includes, objects in alternates. Nothing here ever writes.
"""
from __future__ import annotations

import os
import struct

from .errors import AyjntError

TYPE_CHECKING = False  # (typing is not imported at run time: start-up time counts here)
if TYPE_CHECKING:
    import mmap
    from typing import Any

    from dulwich.object_store import DiskObjectStore
    from dulwich.objects import ObjectID

    from .gitconfig import GitConfig
    from .indexentry import IndexEntry

S_IFGITLINK = 0o160000
S_IFLNK = 0o120000
S_IFDIR = 0o040000
# Per-worktree refs live in the worktree's own git dir; all others in the common dir.
_PER_WORKTREE = ("HEAD", "refs/bisect/", "refs/worktree/", "refs/rewritten/")


class NotARepo(AyjntError):
    pass


class Repo:
    def __init__(self, gitdir: str, commondir: str, worktree: str | None,
                 index_file: str) -> None:
        self.gitdir = gitdir
        self.commondir = commondir
        self.worktree = worktree
        self.index_file = index_file
        self._packed: dict[str, str] | None = None
        self._config: Any = None
        self._store: Any = None
        self._reader: Any = None

    def __repr__(self) -> str:
        return f"Repo(gitdir={self.gitdir!r}, worktree={self.worktree!r})"

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
        type_num, data = self.objects.get_raw(_object_id(sha))
        return type_num, data

    def has_object(self, sha: str) -> bool:
        return _object_id(sha) in self.objects

    def commit_tree(self, sha: str) -> str:
        type_num, data = self.read_object(sha)
        while type_num == 4:  # annotated tag: peel
            target = data.split(b"\n", 1)[0].split(b" ")[1].decode()
            type_num, data = self.read_object(target)
        if type_num != 1:
            raise AyjntError(f"{sha} is not a commit.")
        return data[5:45].decode()


def _object_id(sha: str) -> ObjectID:
    return sha.encode()  # type: ignore[return-value, unused-ignore]  # (a NewType in dulwich 1.x)


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

class Index:
    """A parsed git index (``read_index``)."""

    def __init__(self, path: str, entries: list[IndexEntry] | None = None, mtime_ns: int = 0,
                 cache_tree_root: str | None = None, sparse: bool = False) -> None:
        self.path = path
        self.entries: list[IndexEntry] = entries if entries is not None else []
        self.mtime_ns = mtime_ns
        self.cache_tree_root = cache_tree_root  # valid root tree id from the TREE extension
        self.sparse = sparse


def read_index(path: str, only: tuple[str, ...] | None = None) -> Index:
    """Read a git index (v2, v3, v4; sparse supported; split index refused).

    ``only``: ``entries`` keeps just the paths starting with one of these prefixes (plus sparse
    directory entries) — the hooks read a few folders of a possibly huge index.
    """
    only_bytes = tuple(p.encode("utf-8", "surrogateescape") for p in only) if only else None
    try:
        with open(path, "rb") as f:
            data = f.read()
            mtime_ns = os.fstat(f.fileno()).st_mtime_ns
    except FileNotFoundError:
        return Index(path)
    except OSError as e:
        raise AyjntError(f"{path}: cannot read the git index ({e.strerror}).") from None

    def corrupt(why: str) -> AyjntError:
        return AyjntError(f"{path}: corrupt git index ({why}). Rebuild it with "
                          f"`git reset --mixed` (keeps your files) or `git read-tree HEAD`.")

    if len(data) < 32 or data[:4] != b"DIRC":
        raise corrupt("bad signature")
    # (The trailing SHA-1 is not verified: git itself checks it only in `git fsck`.)
    version, count = struct.unpack_from(">II", data, 4)
    if version not in (2, 3, 4):
        raise AyjntError(f"{path}: unsupported index format (version {version}).")
    from .indexentry import parse_entries  # (the clean-tree proof never decodes entries)

    try:
        entries, pos = parse_entries(data, version, count, only_bytes)
    except (ValueError, IndexError, struct.error) as e:
        raise corrupt(str(e) if type(e) is ValueError else "truncated entry") from None
    cache_tree_root = None
    sparse = False
    for sig, body in index_extensions(data, pos):
        if sig == b"TREE":
            cache_tree_root = _cache_tree_root(body)
        elif sig == b"link":
            raise AyjntError(f"{path}: unsupported index format (split index). Turn it off with "
                             f"`git config core.splitIndex false && git update-index "
                             f"--no-split-index`.")
        elif sig == b"sdir":
            sparse = True
        elif not optional_extension(sig):
            raise AyjntError(f"{path}: unsupported index format (required extension "
                             f"{sig.decode('latin-1')!r}).")
    return Index(path, entries, mtime_ns, cache_tree_root, sparse)


def offset_varint(data: bytes | mmap.mmap, pos: int) -> tuple[int, int]:
    """git's offset varint (``decode_varint``): index v4 path prefixes and pack ofs-deltas."""
    c = data[pos]
    pos += 1
    value = c & 0x7F
    while c & 0x80:
        c = data[pos]
        pos += 1
        value = ((value + 1) << 7) | (c & 0x7F)
    return value, pos


def index_extensions(data: bytes, pos: int) -> list[tuple[bytes, bytes]]:
    """(signature, body) of each extension after the entries (which end at ``pos``)."""
    out = []
    end = len(data) - 20
    while pos + 8 <= end:
        sig = data[pos:pos + 4]
        (size,) = struct.unpack_from(">I", data, pos + 4)
        out.append((sig, data[pos + 8:pos + 8 + size]))
        pos += 8 + size
    return out


def optional_extension(sig: bytes) -> bool:
    """git's rule: an extension whose signature starts with A-Z may be ignored."""
    return sig[:1].isupper()


def _tree_node(body: bytes, pos: int) -> tuple[bytes, int, int, bytes, int]:
    """One cache-tree node: (path component, entry count, subtree count, tree id, next pos);
    entry count -1 marks an invalidated node (which has no tree id)."""
    nul = body.index(b"\0", pos)
    line_end = body.index(b"\n", nul)
    entry_text, _, subtree_text = body[nul + 1:line_end].partition(b" ")
    entries = int(entry_text)
    tree_id = body[line_end + 1:line_end + 21] if entries >= 0 else b""
    return (body[pos:nul], entries, int(subtree_text), tree_id,
            line_end + 1 + len(tree_id))


def _cache_tree_root(body: bytes) -> str | None:
    name, entries, _, tree_id, _ = _tree_node(body, 0)
    if name or entries < 0:  # the root node has an empty path
        return None
    return tree_id.hex()


def cache_tree_folders(body: bytes) -> list[tuple[bytes, int, bytes]] | None:
    """Every folder of a fully valid cache-tree: (path, how many names it holds directly —
    files plus subfolders, tree id). None when any node is invalid."""
    paths: list[bytes] = []
    direct: list[int] = []
    tree_ids: list[bytes] = []
    open_rows: list[list[int]] = []  # [row of a folder, how many of its subfolders are to come]
    pos = 0
    while pos < len(body):
        name, entries, subtrees, tree_id, pos = _tree_node(body, pos)
        if entries < 0:
            return None
        path = b""
        if open_rows:
            parent = open_rows[-1]
            parent[1] -= 1
            direct[parent[0]] -= entries  # they live below this subfolder, not directly
            path = paths[parent[0]] + b"/" + name if parent[0] else name
        paths.append(path)
        direct.append(entries + subtrees)
        tree_ids.append(tree_id)
        open_rows.append([len(paths) - 1, subtrees])
        while open_rows and open_rows[-1][1] == 0:
            open_rows.pop()
    return list(zip(paths, direct, tree_ids))
