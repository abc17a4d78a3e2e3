"""git's ``safe.directory`` rule (setup.c ``ensure_valid_ownership``, git 2.35.2+).

When git discovers a repository (no ``GIT_DIR``), it refuses it — "detected dubious ownership
in repository", exit 128 — unless the work tree, the git directory and, for a ``.git`` file,
that gitfile are all owned by the current user (``lstat``; as root, a path root owns is fine,
and otherwise ``SUDO_UID`` stands in for root's uid, as git does under ``sudo``). Else a
``safe.directory`` value from the *protected* config (system, global, command line — never the
repository's own) must name the work tree (the git directory for a bare repository) exactly,
after ``~`` expansion, or be ``*``; an empty value resets the list. We refuse (exit 3) where
git refuses, with git's reason and fix.
"""
from __future__ import annotations

import os

from ..errors import AyjntError

_ULONG = (1 << 64) - 1
_UID = 0xFFFFFFFF


def _sudo_uid(euid: int) -> int:
    """git's ``extract_id_from_env("SUDO_UID")``: ``strtoul`` of the whole value (leading
    blanks and a sign allowed, a negative value wraps), else root's uid stays."""
    text = os.environ.get("SUDO_UID", "")
    if not text:
        return euid
    body = text.lstrip(" \t\n\v\f\r")
    negative = body[:1] == "-"
    digits = body[1:] if body[:1] in "+-" and body else body
    if not digits.isascii() or not digits.isdigit():
        return euid
    value = int(digits)
    if value > _ULONG:
        return euid  # ERANGE
    if negative:
        value = (-value) & _ULONG
    return value & _UID  # (uid_t is 32 bits)


def owned_by_current_user(path: str) -> tuple[bool, int | None]:
    """git's ``is_path_owned_by_current_uid``; (owned, the owner's uid or None)."""
    try:
        st = os.lstat(path)
    except OSError:
        return False, None
    euid = os.geteuid()
    if euid == 0:
        if st.st_uid == 0:
            return True, 0
        euid = _sudo_uid(euid)
    return st.st_uid == euid, st.st_uid


def ensure_valid_ownership(gitfile: str | None, worktree: str | None, gitdir: str) -> None:
    """Refuse the repository as git does when its ownership is dubious."""
    if os.environ.get("GIT_TEST_ASSUME_DIFFERENT_OWNER", "").strip().lower() \
            not in ("1", "true", "yes", "on"):
        checks = [p for p in (gitfile, worktree, gitdir) if p is not None]
        found = [(p, *owned_by_current_user(p)) for p in checks]
        bad = [(p, uid) for p, owned, uid in found if not owned]
        if not bad:
            return
    else:
        bad = []
    path = worktree if worktree is not None else gitdir
    if _safe(path):
        return
    owners = "; ".join(f"{p} is owned by uid {uid}" if uid is not None else f"{p} cannot be "
                       f"checked" for p, uid in bad)
    shown = gitfile if gitfile is not None else path
    reason = f" ({owners}, you are uid {os.geteuid()})" if owners else ""
    raise AyjntError(
        f"{shown}: git refuses this repository: \"detected dubious ownership in repository at "
        f"'{path}'\"{reason}; git status stops there (exit 128), so ayjnt-hooks does not "
        f"check it either. If you trust it: git config --global --add safe.directory "
        f"{_sq(path)}", path=path)


def _safe(path: str) -> bool:
    from .config import ProtectedConfig, expand_user

    safe = False
    for value in ProtectedConfig().safe_directories:
        if not value:
            safe = False
            continue
        text = value.decode("utf-8", "surrogateescape")
        if text == "*":
            safe = True
            continue
        expanded = expand_user(text)
        if expanded is None and text.startswith("~"):
            raise AyjntError(f"safe.directory={text!r}: git cannot expand it and stops "
                             f"(\"failed to expand user dir\"). Fix that config value.")
        if (expanded or text) == path:
            safe = True
    return safe


def _sq(path: str) -> str:
    """git's ``sq_quote_buf_pretty``: plain when only safe characters, else single-quoted."""
    if path and all(c.isalnum() or c in "+,-./:=@_^" for c in path if c.isascii()) \
            and path.isascii():
        return path
    return "'" + path.replace("'", "'\\''") + "'"
