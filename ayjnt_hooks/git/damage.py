"""The one place where a damaged git file becomes a message.

The readers (index, objects, packs, refs, commit-graph, shallow) parse raw bytes and let a
damaged file fail the way it fails: a slice that runs off the end, a ``struct`` or ``zlib``
error, a missing file, undecodable bytes, or :class:`Corrupt` where a check of our own finds
the damage. Each public reader wraps its work in ``with reading(path, what, fix):``, which turns
those into one :class:`~ayjnt_hooks.errors.AyjntError` naming the file — exit 3, "could not
check", never a traceback.

A message never quotes the file's content (a ``ValueError`` from ``int(b"…")`` or a
``UnicodeDecodeError`` carries the bytes it choked on): it says what kind of damage it is, in
our own words.
"""
from __future__ import annotations

from ..errors import AyjntError

TYPE_CHECKING = False  # (typing is not imported at run time: start-up time counts here)
if TYPE_CHECKING:
    from types import TracebackType

FSCK_HINT = "`git fsck` lists the damage; restore the file from a backup or a fresh clone"


class Corrupt(ValueError):
    """Damage found by one of our own checks; its text is ours and safe to print."""


class MissingObject(AyjntError, KeyError):
    """An object the repository should hold is not there (a ``KeyError`` too, for callers
    that treat a missing object as "not known")."""

    def __str__(self) -> str:
        return self.message  # (not KeyError's quoted repr)


def _kind(err: BaseException) -> str:
    if isinstance(err, Corrupt):
        return str(err)
    if isinstance(err, UnicodeError):
        return "bytes that are not valid text"
    if isinstance(err, OSError):
        return err.strerror or type(err).__name__
    if isinstance(err, (IndexError, EOFError)) or type(err).__module__ == "struct":
        return "truncated"
    if type(err).__module__ == "zlib":
        return "its compressed data does not inflate"
    if isinstance(err, (OverflowError, MemoryError)):
        return "a size or offset out of range"
    return "malformed"


def _is_damage(err: BaseException) -> bool:
    return isinstance(err, (ValueError, IndexError, EOFError, OSError, OverflowError,
                            MemoryError)) \
        or (type(err).__name__ == "error" and type(err).__module__ in ("struct", "zlib"))


def damaged(path: str, what: str, why: str, fix: str | None = None) -> AyjntError:
    return AyjntError(f"{path}: corrupt {what} ({why}); git cannot use it either.",
                      path=path, hint=fix or FSCK_HINT)


class reading:
    """Turn the errors a damaged ``path`` raises inside the block into one AyjntError."""

    __slots__ = ("fix", "path", "what")

    def __init__(self, path: str, what: str, fix: str | None = None) -> None:
        self.path = path
        self.what = what
        self.fix = fix

    def __enter__(self) -> reading:
        return self

    def __exit__(self, kind: type[BaseException] | None, err: BaseException | None,
                 tb: TracebackType | None) -> None:
        if err is None or isinstance(err, AyjntError) or not _is_damage(err):
            return
        raise damaged(self.path, self.what, _kind(err), self.fix) from None


def object_missing(sha: str) -> MissingObject:
    return MissingObject(f"object {sha} is missing from the repository; git cannot read it "
                         f"either.", hint="`git fsck` lists what is missing; fetch it again "
                                          "(`git fetch`) or restore it from a clone")
