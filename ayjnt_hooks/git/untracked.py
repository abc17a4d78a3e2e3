"""How git lists a path the index does not hold: ``name``, ``folder/``, each file below the
folder (``-uall``), or not at all.

git's ``dir.c`` rules for ``git status`` (``treat_path`` / ``treat_directory``):

* a name ``.git`` is never listed, at any depth (case-insensitively under ``core.ignoreCase``);
* only regular files, symlinks and folders count: FIFOs, sockets and devices are skipped;
* an excluded (ignored) name is not listed, nor is anything below an excluded folder;
* a folder holding a nested repository (a valid ``.git`` gitfile or git directory) is listed
  as ``folder/``, whatever the mode;
* ``status.showUntrackedFiles=normal``: any other untracked folder is listed as ``folder/``
  when something below it would be listed, else not at all (empty folders are hidden);
  ``all``: the files below it are listed one by one; ``no``: nothing is listed.

Shared by the exact status computation and the clean-tree proof (which asks only about the
names a folder holds beyond its indexed ones). The ignore rules are read on first use.
"""
from __future__ import annotations

import os
import stat

TYPE_CHECKING = False  # (typing is not imported at run time: start-up time counts here)
if TYPE_CHECKING:
    from collections.abc import Callable

    from .ignore import IgnoreRules
    from .repo import Repo

MODES = ("no", "normal", "all")
_HEX = frozenset(b"0123456789abcdefABCDEF")


def untracked_mode(repo: Repo) -> str:
    """``status.showUntrackedFiles``: no, normal (the default) or all; git refuses any other
    value (exit 128), and so do we."""
    value = repo.config_get("status", "showuntrackedfiles")
    if value is None:
        return "normal"
    if value not in MODES:
        from ..errors import AyjntError

        raise AyjntError(f"status.showUntrackedFiles={value!r} is not a value git accepts "
                         f"(git status stops with \"Invalid untracked files mode\"). Set it to "
                         f"no, normal or all: git config status.showUntrackedFiles normal.")
    return value


def _read_small(path: str) -> bytes | None:
    """Up to 255 bytes of a regular file (as git's validate_headref reads HEAD), else None."""
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
    except OSError:
        return None
    try:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            return None
        return os.read(fd, 255)
    except OSError:
        return None
    finally:
        os.close(fd)


def _valid_head(path: str) -> bool:
    """git's ``validate_headref``: a symlink into refs/, ``ref: refs/...`` or an object id."""
    try:
        if stat.S_ISLNK(os.lstat(path).st_mode):
            return os.readlink(path).startswith("refs/")
    except OSError:
        return False
    data = _read_small(path)
    if data is None:
        return False
    if data.startswith(b"ref:") and data[4:].lstrip().startswith(b"refs/"):
        return True
    return len(data) >= 40 and all(b in _HEX for b in data[:40])


def is_git_directory(path: str) -> bool:
    """git's ``is_git_directory``: a valid HEAD, and ``objects`` and ``refs`` in its common
    dir."""
    if not _valid_head(os.path.join(path, "HEAD")):
        return False
    common = path
    data = _read_small(os.path.join(path, "commondir"))
    if data is not None:
        rel = os.fsdecode(data.rstrip(b"\n"))
        common = rel if os.path.isabs(rel) else os.path.join(path, rel)
    objects = os.environ.get("GIT_OBJECT_DIRECTORY") or os.path.join(common, "objects")
    return os.access(objects, os.X_OK) and os.access(os.path.join(common, "refs"), os.X_OK)


def is_nested_repo(folder: str, own_gitdir: str | None = None) -> bool:
    """git's ``is_nonbare_repository_dir``: ``folder/.git`` is a gitfile naming a git
    directory, or is one itself (and is not our own repository's)."""
    dotgit = os.path.join(folder, ".git")
    try:
        st = os.stat(dotgit)
    except OSError:
        return False
    if stat.S_ISREG(st.st_mode):
        try:
            fd = os.open(dotgit, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
        except OSError:
            return True  # git counts a gitfile it cannot open as a repository
        try:
            data = os.read(fd, 1 << 16)
        except OSError:
            return True
        finally:
            os.close(fd)
        if not data.startswith(b"gitdir: "):
            return False
        target = os.fsdecode(data[8:].rstrip(b"\r\n"))
        found = target if os.path.isabs(target) else os.path.join(folder, target)
    elif stat.S_ISDIR(st.st_mode):
        found = dotgit
    else:
        return False
    if not is_git_directory(found):
        return False
    return own_gitdir is None or os.path.realpath(found) != os.path.realpath(own_gitdir)


def fold(text: str) -> str:
    """git's case folding for ``core.ignoreCase`` (ASCII letters only)."""
    return text.lower() if text.isascii() else \
        "".join(c.lower() if c.isascii() else c for c in text)


class UntrackedNames:
    def __init__(self, repo: Repo, worktree: str, mode: str = "normal",
                 folded_index: frozenset[str] | None = None) -> None:
        self.repo = repo
        self.worktree = worktree
        self.mode = mode
        self.ignorecase = repo.config_bool("core", "ignorecase", False)
        # core.ignoreCase: index paths (and their folders) folded, for git's icase lookups
        self.folded_index = folded_index
        # the blob of a skip-worktree index entry by path (set by the status computation)
        self.skip_worktree_blob: Callable[[str], bytes | None] | None = None
        self._ignores: IgnoreRules | None = None

    @property
    def ignores(self) -> IgnoreRules:
        if self._ignores is None:
            from .config import user_excludes_file
            from .ignore import IgnoreRules

            self._ignores = IgnoreRules(
                self.worktree,
                (os.path.join(self.repo.commondir, "info", "exclude"),
                 user_excludes_file(self.repo.config)),
                self.ignorecase, self.skip_worktree_blob)
        return self._ignores

    def _ignored(self, rel: str, is_dir: bool) -> bool:
        return self.ignores.is_ignored(rel, is_dir)

    def is_dot_git(self, name: str) -> bool:
        return name == ".git" or (self.ignorecase and fold(name) == ".git")

    def in_index(self, rel: str) -> bool:
        """Under core.ignoreCase, git finds a name in the index whatever its case."""
        return self.folded_index is not None and fold(rel) in self.folded_index

    def _below(self, abs_dir: str, rel_dir: str, out: list[str] | None) -> bool:
        """Walk an untracked folder: does it hold anything git would list? With ``out``
        (``-uall``), collect every listed name instead of stopping at the first."""
        try:
            with os.scandir(abs_dir) as it:
                entries = list(it)
        except OSError:
            return False
        found = False
        for entry in entries:
            rel = f"{rel_dir}/{entry.name}"
            shown = self.lines(entry.path, rel, entry_kind(entry), out is None)
            if shown:
                if out is None:
                    return True
                out += shown
                found = True
        return found

    def lines(self, abs_path: str, rel: str, kind: str, first_only: bool = False) -> list[str]:
        """What git lists for a path that is not in the index (``kind``: "dir", "file",
        "link" or "other"); ``first_only``: stop at the first name."""
        if self.mode == "no" or kind == "other" or self.is_dot_git(rel.rpartition("/")[2]):
            return []
        if self.folded_index is not None and kind != "dir" and self.in_index(rel):
            return []
        if self._ignored(rel, kind == "dir"):
            return []
        if kind != "dir":
            return [rel]
        if is_nested_repo(abs_path, self.repo.gitdir):
            return [rel + "/"]
        if self.mode == "normal" or first_only:
            return [rel + "/"] if self._below(abs_path, rel, None) else []
        out: list[str] = []
        self._below(abs_path, rel, out)
        return out


def entry_kind(entry: os.DirEntry[str]) -> str:
    """"dir", "link", "file" or "other" (a FIFO, socket, device), from the directory entry's
    type (no extra system call where the file system reports it)."""
    try:
        if entry.is_dir(follow_symlinks=False):
            return "dir"
        if entry.is_symlink():
            return "link"
        if entry.is_file(follow_symlinks=False):
            return "file"
    except OSError:
        return "other"
    return "other"


def kind_of(mode: int) -> str:
    """The same kinds from an ``lstat`` mode."""
    if stat.S_ISDIR(mode):
        return "dir"
    if stat.S_ISLNK(mode):
        return "link"
    return "file" if stat.S_ISREG(mode) else "other"
