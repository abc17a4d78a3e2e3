"""Where the engine's bytes come from.

The engine (scan + lockfile) only sees a :class:`Snapshot`: list the regular files under a
project-relative folder, read one file. ``WorkTree`` reads the disk; the git-backed snapshots
(index, commit) live in :mod:`ayjnt_hooks.git.snapshots` so this path never imports dulwich.
Paths are project-relative and use ``/``.
"""
from __future__ import annotations

import os
import stat
from typing import Protocol

from ..errors import AyjntError


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
        shown = self.display(path)
        try:
            with open(shown, "rb") as f:
                return f.read()
        except FileNotFoundError:
            return None
        except IsADirectoryError:
            raise not_a_file(shown) from None
        except OSError as e:
            raise AyjntError(f"{shown}: cannot read file ({e.strerror}). Check its permissions "
                             f"(chmod u+r {shown}).", path=shown) from None
