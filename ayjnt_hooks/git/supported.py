"""What the git reader supports — checked on every run — and the refusals for the rest.

The reader must know what it does not know. This is the list; everything outside it is
refused with exit 3 ("could not check") or sent to the exact path that handles it.

Repository (``repo.discover``, on every run):
  * format version 0 or 1; extensions ``noop``, ``preciousObjects``, ``partialClone``,
    ``worktreeConfig`` (any version) and ``noop-v1``, ``objectFormat=sha1``,
    ``compatObjectFormat``, ``refStorage=files``, ``relativeWorktrees``,
    ``submodulePathConfig`` (version 1). An unknown extension in a version-1 repository, a
    version-1 extension in a version-0 one, version 2 or more: refused with git's reason.
  * the work tree as git sets it up: ``GIT_WORK_TREE``, ``core.bare``, ``core.worktree``
    (relative to the git dir; one that does not exist is refused, as git refuses it).
Config (:mod:`.config`, on every run): git's grammar, includes and errors; a value that must
  be a boolean and is not is refused.
Files this check adds (:func:`check_repository`, on every run):
  * ``core.excludesFile`` or ``info/exclude`` that is a folder (git: "cannot use … as an
    exclude file");
  * ``shallow``, whose every line must be an object id.
Replace refs (``refs/replace/``) are applied to every object read, as git applies them; grafts
to the history walk.
Index (:mod:`.index`): versions 2 to 4; the modes and flags git writes; extensions ``TREE``,
  ``sdir`` and any optional one; a split index is refused.
Objects (:mod:`.objects`): loose objects, pack index v1/v2, packs v2/v3, deltas within a pack,
  alternates; every object's id verified.
Refs (:mod:`.repo`): the files backend — loose refs, symbolic refs, ``packed-refs``.
History (:mod:`.history`, :mod:`.commitgraph`): a single-file commit-graph (checksum
  verified before it steers a walk; the pushed or checked commit's root tree must agree with
  it); ``shallow``.

Config keys that change ``git status``'s answer are honoured where the status code reads
them (:mod:`.status`, :mod:`.untracked`, :mod:`.ignore`) or refused: add a key to
:data:`REFUSED_KEYS` to refuse it until it is honoured.
"""
from __future__ import annotations

import os

from ..errors import AyjntError

TYPE_CHECKING = False  # (typing is not imported at run time: start-up time counts here)
if TYPE_CHECKING:
    from typing import Protocol

    from .config import GitConfig

    class Repo(Protocol):  # (what is used of repo.Repo, which imports this module)
        commondir: str
        worktree: str | None

        @property
        def config(self) -> GitConfig: ...

# (section, subsection, name) → why the reader refuses it
REFUSED_KEYS: dict[tuple[str, str | None, str], str] = {}
# Booleans git parses on every start-up (config.c git_default_core_config and the repository
# settings): a value that is not a boolean makes git die, so it makes us refuse.
CORE_BOOLEANS = ("filemode", "ignorecase", "trustctime", "symlinks", "quotepath",
                 "precomposeunicode", "sparsecheckout", "sparsecheckoutcone", "commitgraph",
                 "usereplacerefs", "preloadindex", "protecthfs", "protectntfs")
# core keys that take a boolean or one more word (git ignores a bad core.checkStat)
CORE_CHOICES = {"autocrlf": ("input",)}


def check_repository(repo: Repo) -> None:
    """The checks that need the whole config or a look at the repository's files."""
    config = repo.config  # (reading it surfaces config errors, as git's start-up does)
    for key, why in REFUSED_KEYS.items():
        found = config.entry(key[0], key[2], key[1])
        if found is not None:
            name = ".".join(part for part in key if part is not None)
            raise AyjntError(f"{found[1]}, line {found[2]}: {name} is set, and {why}",
                             path=found[1])
    for name in CORE_BOOLEANS:
        config.get_bool("core", name, True)
    for name, words in CORE_CHOICES.items():
        found = config.entry("core", name)
        if found is None or (found[0] or b"").decode("utf-8", "replace").lower() in words:
            continue
        config.get_bool("core", name, False)
    if repo.worktree is not None:
        from .config import user_excludes_file

        for path in (os.path.join(repo.commondir, "info", "exclude"), user_excludes_file(config)):
            if os.path.isdir(path):
                raise AyjntError(f"{path}: an exclude file that is a folder; git refuses it too "
                                 f"(\"cannot use {path} as an exclude file\").", path=path,
                                 hint="point core.excludesFile at a file, or unset it")
    from .files import read_shallow

    read_shallow(repo.commondir)  # (git reads it before any history walk; damage must show)


