"""The git index (``.git/index``, or ``$GIT_INDEX_FILE``): header, entries, extensions and the
cache-tree, read-only. Versions 2, 3 and 4, sparse supported, split index refused."""
from __future__ import annotations

import os
import struct

from ..errors import AyjntError

TYPE_CHECKING = False  # (typing is not imported at run time: start-up time counts here)
if TYPE_CHECKING:
    from .index_entries import IndexEntry


class Index:
    """A parsed git index (``read_index``)."""

    def __init__(self, path: str, entries: list[IndexEntry] | None = None, mtime_ns: int = 0,
                 cache_tree_root: str | None = None, sparse: bool = False) -> None:
        self.path = path
        self.entries: list[IndexEntry] = entries if entries is not None else []
        self.mtime_ns = mtime_ns
        self.cache_tree_root = cache_tree_root  # valid root tree id from the TREE extension
        self.sparse = sparse
        self.untracked_cache = False  # has a saved untracked cache (the UNTR extension)


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
    from .index_entries import parse_entries  # (the clean-tree proof never decodes entries)

    try:
        entries, pos = parse_entries(data, version, count, only_bytes)
    except (ValueError, IndexError, struct.error) as e:
        raise corrupt(str(e) if type(e) is ValueError else "truncated entry") from None
    cache_tree_root = None
    sparse = False
    untracked_cache = False
    for sig, body in index_extensions(data, pos):
        if sig == b"TREE":
            cache_tree_root = _cache_tree_root(body)
        elif sig == b"link":
            raise AyjntError(f"{path}: unsupported index format (split index). Turn it off with "
                             f"`git config core.splitIndex false && git update-index "
                             f"--no-split-index`.")
        elif sig == b"sdir":
            sparse = True
        elif sig == b"UNTR":
            untracked_cache = True
        elif not optional_extension(sig):
            raise AyjntError(f"{path}: unsupported index format (required extension "
                             f"{sig.decode('latin-1')!r}).")
    index = Index(path, entries, mtime_ns, cache_tree_root, sparse)
    index.untracked_cache = untracked_cache
    return index


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
