"""The two SHA-1 implementations git ids are computed with, without ``import hashlib``.

``builtin_sha1`` is CPython's own ``_sha1``: no import cost, about ten times slower.
``openssl_sha1`` is OpenSSL's, whose first use loads libcrypto (2-3 ms). Callers pick by how
much they will hash; the digest is the same either way."""
from __future__ import annotations

TYPE_CHECKING = False  # (typing is not imported at run time: start-up time counts here)
if TYPE_CHECKING:
    from collections.abc import Callable
    from typing import Any


def builtin_sha1() -> Callable[..., Any]:
    try:
        from _sha1 import sha1  # type: ignore[import-not-found, unused-ignore]
    except ImportError:  # pragma: no cover - a Python built without the _sha1 module
        from hashlib import sha1
    return sha1  # type: ignore[no-any-return, unused-ignore]


def openssl_sha1() -> Callable[..., Any]:
    try:  # (OpenSSL's, without the rest of hashlib)
        from _hashlib import openssl_sha1 as sha1
    except ImportError:  # pragma: no cover - a Python built without OpenSSL
        from hashlib import sha1
    return sha1  # type: ignore[no-any-return, unused-ignore]
