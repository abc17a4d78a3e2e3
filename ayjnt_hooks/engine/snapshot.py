"""Where the engine's bytes come from.

The engine (scan + lockfile) only sees a :class:`Snapshot`: list the regular files under a
project-relative folder, read one file. ``WorkTree`` reads the disk; the git-backed snapshots
(index, commit) live in :mod:`ayjnt_hooks.git.snapshots` so this path never imports dulwich.
Paths are project-relative and use ``/``.
"""
from __future__ import annotations

import os
import stat

from ..errors import AyjntError

TYPE_CHECKING = False  # (typing is not imported at run time: start-up time counts here)
if TYPE_CHECKING:
    from typing import Protocol
else:
    Protocol = object  # (a protocol is only ever read by mypy)


class Snapshot(Protocol):
    def files_under(self, folder: str) -> list[str]:
        """Regular files (not symlinks, not gitlinks) below ``folder``, project-relative.

        An absent folder gives ``[]``; a folder that is a file raises :class:`AyjntError`.
        """

    def read(self, path: str) -> bytes | None:
        """The file's bytes, or ``None`` when absent. Unreadable/not-a-file raises."""

    def exists(self, path: str) -> bool:
        """True when anything (file or folder) is at ``path``."""

    def display(self, path: str) -> str:
        """How messages name ``path`` (ayjnt names files as ``<root>/<path>``)."""


def not_a_file(shown: str) -> AyjntError:
    return AyjntError(f"{shown} is a folder, but ayjnt expects a file there. "
                      f"Remove or rename the folder.", path=shown)


def not_a_folder(shown: str) -> AyjntError:
    return AyjntError(
        f"{shown} is a file, but ayjnt expects a folder there (agents/<route>/agent.ts). "
        f"Move the file away or rename it.", path=shown)


class WorkTree:
    """The project on disk, rooted at ``root`` (kept as given, like ayjnt's ``--cwd``)."""

    def __init__(self, root: str) -> None:
        self.root = root

    def display(self, path: str) -> str:
        return os.path.join(self.root, *path.split("/"))

    def exists(self, path: str) -> bool:
        return os.path.exists(self.display(path))

    def files_under(self, folder: str) -> list[str]:
        top = self.display(folder)
        try:
            st = os.stat(top)
        except FileNotFoundError:
            return []
        except OSError as e:
            raise AyjntError(f"{top}: cannot read folder ({e.strerror}). Check its permissions.",
                             path=top) from None
        if not stat.S_ISDIR(st.st_mode):
            raise not_a_folder(top)
        found: list[str] = []
        pending = [(top, folder)]
        while pending:
            abs_dir, rel_dir = pending.pop()
            try:
                with os.scandir(abs_dir) as it:
                    entries = list(it)
            except OSError as e:
                raise AyjntError(
                    f"{abs_dir}: cannot read folder ({e.strerror}). Check its permissions.",
                    path=abs_dir) from None
            for entry in entries:
                rel = f"{rel_dir}/{entry.name}"
                if entry.is_dir(follow_symlinks=False):
                    pending.append((entry.path, rel))
                elif entry.is_file(follow_symlinks=False):
                    found.append(rel)
        found.sort()
        return found

    def read(self, path: str) -> bytes | None:
        return read_regular_file(self.display(path))


# The most ayjnt-hooks reads from one project file (an agent.ts, a tools file, the lockfile).
# Real ones are kilobytes; ayjnt itself (Bun) needs 0.36 s and 230 MB of memory to scan an
# 8 MB agent.ts and 3.3 s and 980 MB for 50 MB, so a larger file is a mistake or an attack.
MAX_FILE_BYTES = 8 << 20

_KINDS = ((stat.S_ISFIFO, "a named pipe (FIFO)"), (stat.S_ISSOCK, "a socket"),
          (stat.S_ISCHR, "a character device"), (stat.S_ISBLK, "a block device"))


def too_large(shown: str, size: int) -> AyjntError:
    return AyjntError(
        f"{shown} is {size:,} bytes, over the {MAX_FILE_BYTES >> 20} MiB that ayjnt-hooks reads "
        f"from one file (real ones are kilobytes). Shrink or split the file.", path=shown)


def read_regular_file(shown: str, limit: int = MAX_FILE_BYTES) -> bytes | None:
    """The bytes of the regular file at ``shown`` (symlinks followed, as ayjnt's Bun reads
    follow them); ``None`` when absent. Anything that is not a regular file — a FIFO, a socket,
    a device such as ``/dev/zero`` — is refused before it is read (it would block, or never
    end), as is a file over ``limit`` bytes."""
    try:
        st = os.stat(shown)  # (stat, not open: opening a device can already do something)
        if not stat.S_ISREG(st.st_mode):
            if stat.S_ISDIR(st.st_mode):
                raise not_a_file(shown)
            kind = next((k for test, k in _KINDS if test(st.st_mode)), "not a regular file")
            raise AyjntError(f"{shown} is {kind}, not a regular file; ayjnt-hooks reads only "
                             f"regular files. Replace it with a regular file (or remove it).",
                             path=shown)
        fd = os.open(shown, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0)
                     | getattr(os, "O_CLOEXEC", 0))
    except FileNotFoundError:
        return None
    except OSError as e:
        raise AyjntError(f"{shown}: cannot read file ({e.strerror}). Check its permissions "
                         f"(chmod u+r {shown}).", path=shown) from None
    try:
        st = os.fstat(fd)  # what was opened (it may have been swapped since the stat)
        if not stat.S_ISREG(st.st_mode):
            raise AyjntError(f"{shown} changed into something that is not a regular file while "
                             f"it was read. Retry.", path=shown)
        if st.st_size > limit:
            raise too_large(shown, st.st_size)
        chunks = []
        left = limit + 1  # (a file that grows while it is read is still cut off)
        while left > 0:
            chunk = os.read(fd, min(left, 1 << 20))
            if not chunk:
                break
            chunks.append(chunk)
            left -= len(chunk)
        if left <= 0:
            raise too_large(shown, limit - left)
        return b"".join(chunks)
    except OSError as e:
        raise AyjntError(f"{shown}: cannot read file ({e.strerror}).", path=shown) from None
    finally:
        os.close(fd)
