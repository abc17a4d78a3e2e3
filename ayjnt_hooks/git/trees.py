"""Tree objects and entry modes: parse a tree, compute blob and tree ids as git does."""
from __future__ import annotations

from .hashing import builtin_sha1, openssl_sha1

S_IFGITLINK = 0o160000
S_IFLNK = 0o120000
S_IFDIR = 0o040000


# ``_sha1`` needs no import but hashes about ten times slower than OpenSSL's, whose import
# (libcrypto) costs 2-3 ms: small objects go to ``_sha1`` until it has hashed this much in the
# process (about 2 ms of its time), everything else to OpenSSL.
_SMALL = 1 << 12
_SMALL_BUDGET = 1 << 18
_small_hashed = [0]


def object_sha(data: bytes) -> str:
    """SHA-1 of a whole object (header included), without ``import hashlib``."""
    if len(data) < _SMALL and _small_hashed[0] < _SMALL_BUDGET:
        _small_hashed[0] += len(data)
        sha1 = builtin_sha1()
    else:
        sha1 = openssl_sha1()
    digest: str = sha1(data).hexdigest()
    return digest


def blob_sha(data: bytes) -> str:
    return object_sha(b"blob %d\0" % len(data) + data)


def _tree_sort_key(item: tuple[bytes, int, str]) -> bytes:
    name, mode, _ = item
    return name + b"/" if mode == S_IFDIR else name


def tree_sha(items: list[tuple[bytes, int, str]]) -> str:
    body = b"".join(b"%o %s\0%s" % (mode, name, bytes.fromhex(sha))
                    for name, mode, sha in sorted(items, key=_tree_sort_key))
    return object_sha(b"tree %d\0" % len(body) + body)


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
