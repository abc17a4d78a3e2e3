"""The config settings that change ``git status --porcelain``'s answer, read as git reads them.

Each is validated as git validates it: where git stops (``fatal: bad boolean config value``,
``Invalid untracked files mode``, ``bad --ignore-submodules argument``) we refuse with the
setting's name (exit 3) instead of guessing. Reading them costs a few dictionary lookups in the
already parsed config, so the clean-tree proof reads them too.
"""
from __future__ import annotations

from ..errors import AyjntError
from .untracked import untracked_mode

TYPE_CHECKING = False  # (typing is not imported at run time: start-up time counts here)
if TYPE_CHECKING:
    from .repo import Repo

_TRUE = ("true", "yes", "on")
_FALSE = ("false", "no", "off", "")
SUBMODULE_IGNORE = ("none", "untracked", "dirty", "all")


def git_bool(repo: Repo, section: str, name: str, default: bool) -> bool:
    """git's ``git_config_bool``: true/yes/on, false/no/off/(empty), or an integer; a key
    without ``=`` is true; anything else stops git."""
    value = repo.config_get(section, name)
    if value is None:
        return default
    text = value.strip().lower()
    if text in _TRUE:
        return True
    if text in _FALSE:
        return False
    try:
        return int(text, 0) != 0
    except ValueError:
        raise AyjntError(f"{section}.{name}={value!r} is not a boolean (git stops with \"bad "
                         f"boolean config value\"). Fix it: git config {section}.{name} "
                         f"true (or false).") from None


def submodule_ignore_value(value: str, key: str) -> str:
    if value not in SUBMODULE_IGNORE:
        raise AyjntError(f"{key}={value!r} is not one of none, untracked, dirty, all (git "
                         f"stops with \"bad --ignore-submodules argument\"). Fix it: git config "
                         f"{key} none.")
    return value


class StatusSettings:
    """Everything about the config that ``git status --porcelain`` (v1) depends on."""

    def __init__(self, repo: Repo) -> None:
        self.file_mode = git_bool(repo, "core", "filemode", True)
        self.trust_ctime = git_bool(repo, "core", "trustctime", True)
        check_stat = (repo.config_get("core", "checkstat") or "default").lower()
        # (git ignores a value other than default/minimal)
        self.check_stat_full = check_stat != "minimal"
        self.quote_path = git_bool(repo, "core", "quotepath", True)
        self.symlinks = git_bool(repo, "core", "symlinks", True)
        self.ignorecase = git_bool(repo, "core", "ignorecase", False)
        self.precompose = git_bool(repo, "core", "precomposeunicode", False)
        self.untracked = untracked_mode(repo)
        self.renames = _renames(repo)
        diff_ignore = repo.config_get("diff", "ignoresubmodules")
        self.diff_ignore_submodules = None if diff_ignore is None else \
            submodule_ignore_value(diff_ignore, "diff.ignoreSubmodules")
        self.untracked_cache_setting = _untracked_cache(repo)

    @property
    def reads_untracked_cache(self) -> bool:
        """git status reads a saved untracked cache (the index's UNTR extension), unless
        core.untrackedCache=false removes it, GIT_DISABLE_UNTRACKED_CACHE is set or nothing
        untracked is listed. Its records can be stale (:mod:`.untrackedcache`)."""
        import os

        return self.untracked != "no" and self.untracked_cache_setting != "remove" \
            and os.environ.get("GIT_DISABLE_UNTRACKED_CACHE", "").strip().lower() \
            not in ("1", "true", "yes", "on")


def _renames(repo: Repo) -> str:
    """status.renames, else diff.renames (git's default: renames): "no", "renames", "copies"."""
    for section in ("status", "diff"):
        value = repo.config_get(section, "renames")
        if value is None:
            continue
        if value.strip().lower() in ("copies", "copy"):
            return "copies"
        return "renames" if git_bool(repo, section, "renames", True) else "no"
    return "renames"


def _untracked_cache(repo: Repo) -> str:
    """core.untrackedCache as git's repo settings read it: "remove", "write" or "keep"
    (feature.manyFiles turns the default into "write")."""
    value = repo.config_get("core", "untrackedcache")
    if value is not None:
        text = value.strip().lower()
        if text in _TRUE:
            return "write"
        if text in _FALSE:
            return "remove"
        try:
            return "write" if int(text, 0) else "remove"
        except ValueError:
            return "keep"  # ("keep", or a value git warns about and reads as keep)
    return "write" if git_bool(repo, "feature", "manyfiles", False) else "keep"
