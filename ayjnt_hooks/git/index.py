"""The git index (``.git/index``, or ``$GIT_INDEX_FILE``): header, entries, extensions and the
cache-tree, read-only.

Supported: index versions 2, 3 and 4; the entry modes git writes (regular file, executable,
symlink, gitlink, and a sparse-index directory); the extended flags git defines
(skip-worktree, intent-to-add); the extensions ``TREE`` (cache-tree), ``sdir`` (sparse index),
and every optional one (upper-case signature: ``REUC``, ``UNTR``, ``FSMN``, ``EOIE``,
``IEOT``, …, which do not change what the index holds). Refused with a message: a split index
(``link``), any other required (lower-case) extension, an unknown mode or flag, an entry path
git would never write (``..``, ``.git``, empty parts), entries out of order, an extension that
runs past the end — and a corrupt header or entry, as git refuses them.

Like ``git status``, the trailing SHA-1 is not verified (git checks it only in ``git fsck``);
the checks above catch damage where it matters, and the cache-tree is never trusted over the
entries (:mod:`.cleanproof`, :mod:`.status`).
"""
from __future__ import annotations

import os
import struct

from ..errors import AyjntError
from .damage import Corrupt

TYPE_CHECKING = False  # (typing is not imported at run time: start-up time counts here)
if TYPE_CHECKING:
    from .index_entries import IndexEntry

INDEX_FIX = "rebuild it from HEAD, keeping your files: `rm .git/index && git reset`"
# One cache-tree node: (folder path, entry count, tree id); a count of -1 marks an
# invalidated node, which has no id.
CacheTreeNode = tuple[bytes, int, bytes]


class Index:
    """A parsed git index (``read_index``)."""

    def __init__(self, path: str, entries: list[IndexEntry] | None = None, mtime_ns: int = 0,
                 cache_tree: list[CacheTreeNode] | None = None, sparse: bool = False) -> None:
        self.path = path
        self.entries: list[IndexEntry] = entries if entries is not None else []
        self.mtime_ns = mtime_ns
        self.cache_tree = cache_tree  # every node of the TREE extension, valid or not
        self.sparse = sparse
        self.untracked_cache = False  # has a saved untracked cache (the UNTR extension)
        self.untracked_cache_data = b""  # (its body)


def corrupt_index(path: str, why: str) -> AyjntError:
    return AyjntError(f"{path}: corrupt git index ({why}); git cannot use it either.",
                      path=path, hint=INDEX_FIX)


def read_index(path: str, only: tuple[str, ...] | None = None) -> Index:
    """Read and check a git index (see the module's docstring for what is supported).

    ``only``: ``entries`` keeps just the paths starting with one of these prefixes (plus sparse
    directory entries) — the hooks read a few folders of a possibly huge index. Every entry is
    checked all the same.
    """
    only_bytes = tuple(p.encode("utf-8", "surrogateescape") for p in only) if only else None
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
    except FileNotFoundError:
        return Index(path)
    except OSError as e:
        raise AyjntError(f"{path}: cannot read the git index ({e.strerror}).",
                         path=path) from None
    try:
        import stat

        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode):
            raise corrupt_index(path, "not a regular file")
        with open(fd, "rb", closefd=False) as f:
            data = f.read()
    except OSError as e:
        raise AyjntError(f"{path}: cannot read the git index ({e.strerror}).",
                         path=path) from None
    finally:
        os.close(fd)
    if len(data) < 32:
        raise corrupt_index(path, "smaller than a header and its checksum")
    if data[:4] != b"DIRC":
        raise corrupt_index(path, "bad signature")
    version, count = struct.unpack_from(">II", data, 4)
    if version not in (2, 3, 4):
        raise AyjntError(f"{path}: unsupported index format (version {version}); git reads "
                         f"versions 2 to 4.", path=path, hint=INDEX_FIX)
    from .index_entries import parse_entries  # (the clean-tree proof never decodes entries)

    try:
        entries, pos, problem = parse_entries(data, version, count, only_bytes)
    except Corrupt as e:
        raise corrupt_index(path, str(e)) from None
    except (IndexError, struct.error):
        raise corrupt_index(path, "truncated entry") from None
    cache_tree: list[CacheTreeNode] | None = None
    sparse = False
    untracked_cache = False
    untracked_cache_data = b""
    try:
        extensions = index_extensions(data, pos)
    except Corrupt as e:
        raise corrupt_index(path, str(e)) from None
    for sig, body in extensions:
        if sig == b"TREE":
            nodes = parse_cache_tree(body)  # (git drops one it cannot parse, and so do we)
            if nodes is False:
                raise corrupt_index(path, "a cache-tree folder listed twice")
            cache_tree = nodes if isinstance(nodes, list) else None
        elif sig == b"link":
            raise AyjntError(f"{path}: unsupported index format (split index). Turn it off with "
                             f"`git config core.splitIndex false && git update-index "
                             f"--no-split-index`.", path=path)
        elif sig == b"sdir":
            sparse = True
        elif sig == b"UNTR":
            untracked_cache = True
            untracked_cache_data = body
        elif not optional_extension(sig):
            raise AyjntError(f"{path}: the index uses a required extension this reader does not "
                             f"know (git refuses what it does not know too).", path=path,
                             hint=INDEX_FIX)
    if problem is not None:
        raise corrupt_index(path, problem)
    index = Index(path, entries, st.st_mtime_ns, cache_tree, sparse)
    index.untracked_cache = untracked_cache
    index.untracked_cache_data = untracked_cache_data
    return index


def index_extensions(data: bytes, pos: int) -> list[tuple[bytes, bytes]]:
    """(signature, body) of each extension after the entries (which end at ``pos``).
    Corrupt when one runs past the checksum."""
    out = []
    end = len(data) - 20
    if pos > end:
        raise Corrupt("entries run into the checksum")
    while pos + 8 <= end:
        sig = data[pos:pos + 4]
        (size,) = struct.unpack_from(">I", data, pos + 4)
        if pos + 8 + size > end:
            raise Corrupt("an extension runs past the end")
        out.append((sig, data[pos + 8:pos + 8 + size]))
        pos += 8 + size
    return out


def optional_extension(sig: bytes) -> bool:
    """git's rule: an extension whose signature starts with A-Z may be ignored."""
    return b"A" <= sig[:1] <= b"Z"


def parse_cache_tree(body: bytes) -> list[CacheTreeNode] | bool | None:
    """Every node of a TREE extension, depth first, as git's ``cache_tree_read`` reads it:
    (folder path, entry count — -1 when invalidated —, tree id). None when git would drop it
    as unreadable; False when git dies on it (a subfolder listed twice)."""
    nodes: list[CacheTreeNode] = []
    pos = 0
    # [path of an open folder, subfolders still to come, names seen]
    open_rows: list[tuple[bytes, list[int], set[bytes]]] = []
    try:
        while pos < len(body):
            nul = body.index(b"\0", pos)
            name = body[pos:nul]
            line_end = body.index(b"\n", nul)
            entry_text, _, subtree_text = body[nul + 1:line_end].partition(b" ")
            entries, subtrees = int(entry_text), int(subtree_text)
            if subtrees < 0 or entries < -1 or not entry_text.lstrip(b"-").isdigit() \
                    or not subtree_text.isdigit():
                return None
            pos = line_end + 1
            tree_id = b""
            if entries >= 0:
                tree_id = body[pos:pos + 20]
                if len(tree_id) != 20:
                    return None
                pos += 20
            if open_rows:
                parent_path, remaining, seen = open_rows[-1]
                if name in seen:
                    return False
                seen.add(name)
                remaining[0] -= 1
                path = parent_path + b"/" + name if parent_path else name
            elif nodes:
                return None  # a second root
            else:
                path = b""
            nodes.append((path, entries, tree_id))
            open_rows.append((path, [subtrees], set()))
            while open_rows and open_rows[-1][1][0] == 0:
                open_rows.pop()
    except ValueError:
        return None
    return None if open_rows or not nodes else nodes
