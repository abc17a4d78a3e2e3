"""How git lists a path the index does not hold: ``name``, ``folder/`` or not at all.

Shared by the exact status computation and the clean-tree proof (which asks only about the
names a folder holds beyond its indexed ones). The ignore rules are read on first use.
"""
from __future__ import annotations

import os

TYPE_CHECKING = False  # (typing is not imported at run time: start-up time counts here)
if TYPE_CHECKING:
    from .ignore import IgnoreRules
    from .repo import Repo


class UntrackedNames:
    def __init__(self, repo: Repo, worktree: str) -> None:
        self.repo = repo
        self.worktree = worktree
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
                self.repo.config_bool("core", "ignorecase", False))
        return self._ignores

    def _ignored(self, rel: str, is_dir: bool) -> bool:
        return self.ignores.is_ignored(rel, is_dir)

    def _has_untracked_content(self, abs_dir: str, rel_dir: str) -> bool:
        """Does this untracked folder hold anything git would list (so it shows as dir/)?"""
        try:
            with os.scandir(abs_dir) as it:
                entries = list(it)
        except OSError:
            return False
        for entry in entries:
            rel = f"{rel_dir}/{entry.name}"
            if entry.is_dir(follow_symlinks=False):
                if entry.name == ".git":
                    continue
                if self._ignored(rel, True):
                    continue
                if os.path.exists(os.path.join(entry.path, ".git")) or \
                        self._has_untracked_content(entry.path, rel):
                    return True
            elif not self._ignored(rel, False):
                return True
        return False

    def line(self, abs_path: str, rel: str, is_dir: bool) -> str | None:
        """How git lists a path that is not in the index: ``rel``, ``rel/`` or not at all."""
        if is_dir:
            if self._ignored(rel, True):
                return None
            if os.path.exists(os.path.join(abs_path, ".git")) or \
                    self._has_untracked_content(abs_path, rel):
                return rel + "/"
            return None
        return None if self._ignored(rel, False) else rel
