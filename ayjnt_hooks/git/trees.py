"""Tree objects and entry modes: parse a tree, compute blob and tree ids as git does."""
from __future__ import annotations

S_IFGITLINK = 0o160000
S_IFLNK = 0o120000
S_IFDIR = 0o040000


def blob_sha(data: bytes) -> str:
    import hashlib

    return hashlib.sha1(b"blob %d\0" % len(data) + data).hexdigest()


def _tree_sort_key(item: tuple[bytes, int, str]) -> bytes:
    name, mode, _ = item
    return name + b"/" if mode == S_IFDIR else name


def tree_sha(items: list[tuple[bytes, int, str]]) -> str:
    body = b"".join(b"%o %s\0%s" % (mode, name, bytes.fromhex(sha))
                    for name, mode, sha in sorted(items, key=_tree_sort_key))
    import hashlib

    return hashlib.sha1(b"tree %d\0" % len(body) + body).hexdigest()


def parse_tree(data: bytes) -> dict[bytes, tuple[int, str]]:
    out: dict[bytes, tuple[int, str]] = {}
    pos = 0
    while pos < len(data):
        space = data.index(b" ", pos)
        nul = data.index(b"\0", space)
        mode = int(data[pos:space], 8)
        out[data[space + 1:nul]] = (mode, data[nul + 1:nul + 21].hex())
        pos = nul + 21
    return out
