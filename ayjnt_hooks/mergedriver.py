"""The ``ayjnt-lockfile`` git merge driver: install, uninstall, and the driver itself.

``install --merge-driver`` writes two things: a ``[merge "ayjnt-lockfile"]`` section in the
repository's own config (per clone, never committed) and the line
``.ayjnt/migrations.json merge=ayjnt-lockfile`` in the project's ``.gitattributes`` (commit it,
so every clone that installs the driver uses it). The config is edited the way git edits it:
under ``config.lock``, created exclusively, then renamed over the old file; nothing outside our
own section changes.

The driver (``merge-driver %O %A %B %P``) merges two lockfiles that each only appended entries:
the side the remote already has keeps its tags, the other side's entries are renumbered after
them (:func:`ayjnt_hooks.engine.rebase.merge_appended`). Anything else exits 1 without touching
``%A``, and the configured command falls back to ``git merge-file``: git's own conflict.
"""
from __future__ import annotations

import contextlib
import os
import shlex
import sys

from .engine import lockfile as lf
from .errors import AyjntError

DRIVER = "ayjnt-lockfile"
ATTRIBUTE_LINE = f"{lf.LOCKFILE_PATH} merge={DRIVER}"
DRIVER_NAME = "ayjnt lockfile: keep the remote's migrations, renumber the other side's after them"


def driver_command() -> str:
    """What git runs (through the shell): ours, else git's textual merge, still a conflict."""
    return (f"{shlex.quote(sys.executable)} -m ayjnt_hooks merge-driver %O %A %B %P || "
            "{ git merge-file --marker-size=%L -L ours -L base -L theirs %A %O %B; exit 1; }")


def _config_value(value: str) -> str:
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _section_text() -> str:
    return (f'[merge "{DRIVER}"]\n\tname = {_config_value(DRIVER_NAME)}\n'
            f"\tdriver = {_config_value(driver_command())}\n")


def _is_our_header(line: str) -> bool | None:
    """True/False for a section header line (ours or another); None for any other line."""
    from .git.config import section_line

    stripped = line.strip()
    if not stripped.startswith("["):
        return None
    m = section_line(line)
    if m is None:
        return False
    name = m.group(1).lower()
    if m.group(2) is not None:
        import re

        return name == "merge" and re.sub(r"\\(.)", r"\1", m.group(2)) == DRIVER
    return name == f"merge.{DRIVER}"  # the deprecated [merge.ayjnt-lockfile] spelling


def edit_config(path: str, section: str | None) -> bool:
    """Replace our section in the git config at ``path`` by ``section`` (None: remove it).
    Returns whether the file changed. Other lines stay byte for byte."""
    lock = path + ".lock"
    try:
        fd = os.open(lock, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
    except FileExistsError:
        raise AyjntError(f"{lock} exists: another git process is writing the config. Wait "
                         "for it, or remove the lock if no git is running.",
                         path=lock) from None
    try:
        try:
            with open(path, encoding="utf-8", errors="surrogateescape", newline="") as f:
                text = f.read()
            mode = os.stat(path).st_mode & 0o7777
        except FileNotFoundError:
            text, mode = "", 0o644
        kept: list[str] = []
        skipping = False
        for line in text.splitlines(keepends=True):
            header = _is_our_header(line)
            if header is not None:
                skipping = header
            if not skipping:
                kept.append(line)
        new = "".join(kept)
        if section is not None:
            if new and not new.endswith("\n"):
                new += "\n"
            new += section
        if new == text:
            os.close(fd)
            os.remove(lock)
            return False
        with os.fdopen(fd, "w", encoding="utf-8", errors="surrogateescape", newline="") as f:
            f.write(new)
            f.flush()
            os.fsync(f.fileno())
        os.chmod(lock, mode)
        os.replace(lock, path)
        return True
    except BaseException:
        if os.path.exists(lock):
            with contextlib.suppress(OSError):  # (already closed once written)
                os.close(fd)
            os.remove(lock)
        raise


def edit_attributes(path: str, present: bool) -> bool:
    """Add (or remove) :data:`ATTRIBUTE_LINE` in a ``.gitattributes``; True when changed."""
    try:
        with open(path, encoding="utf-8", errors="surrogateescape", newline="") as f:
            text = f.read()
    except FileNotFoundError:
        text = ""
    lines = text.splitlines(keepends=True)
    has = any(line.strip() == ATTRIBUTE_LINE for line in lines)
    if present == has:
        return False
    if present:
        new = text + ("" if not text or text.endswith("\n") else "\n") + ATTRIBUTE_LINE + "\n"
    else:
        new = "".join(line for line in lines if line.strip() != ATTRIBUTE_LINE)
    if not new and not present:
        os.remove(path)
        return True
    from .safewrite import write_file

    # atomically, and never through a symlinked .gitattributes (refused with a message)
    write_file(os.path.dirname(path) or ".", os.path.basename(path),
               new.encode("utf-8", "surrogateescape"))
    return True


def install(cwd: str) -> int:
    from .git.repo import discover
    from .hooks import project_prefix

    repo = discover(cwd)
    project_prefix(repo, cwd)  # refuses bare repositories and folders outside the checkout
    config = os.path.join(repo.commondir, "config")
    attributes = os.path.join(cwd, ".gitattributes")
    if os.path.islink(attributes):  # refused before anything is written: no half install
        from .safewrite import link_error

        raise link_error(attributes)
    changed = edit_config(config, _section_text())
    added = edit_attributes(attributes, True)
    sys.stdout.write(f"{'installed' if changed else 'already installed:'} merge driver "
                     f"{DRIVER} in {config} (this clone only)\n")
    if added:
        sys.stdout.write(f"added `{ATTRIBUTE_LINE}` to {attributes} — commit it: "
                         f"git add .gitattributes && git commit\n")
    else:
        sys.stdout.write(f"{attributes} already routes the lockfile to the driver\n")
    return 0


def uninstall(cwd: str) -> int:
    from .git.repo import discover

    repo = discover(cwd)
    config = os.path.join(repo.commondir, "config")
    if edit_config(config, None):
        sys.stdout.write(f"removed merge driver {DRIVER} from {config}\n")
    attributes = os.path.join(cwd, ".gitattributes")
    if edit_attributes(attributes, False):
        sys.stdout.write(f"removed `{ATTRIBUTE_LINE}` from {attributes} — commit the change\n")
    return 0


# ------------------------------------------------------------------ the driver

def _read_side(path: str, shown: str) -> lf.Lockfile:
    with open(path, "rb") as f:
        data = f.read()
    # git passes an empty file for a side (or base) that has no such file
    return lf.parse_lockfile(data if data.strip() else None, shown)


def _say(text: str) -> None:
    sys.stderr.write(text + "\n")


def merge(base_path: str, ours_path: str, theirs_path: str, pathname: str) -> int:
    """What git runs for a lockfile both sides changed. 0: merged into ``%A``; 1: conflict."""
    from .engine.rebase import describe, merge_appended, own_entries, published_side
    from .git.mergestate import candidate_refs, current_branch, rebase_in_progress
    from .git.repo import discover

    prefix = pathname[:-len(lf.LOCKFILE_PATH)].rstrip("/") \
        if pathname.endswith(lf.LOCKFILE_PATH) else ""
    rerun = "ayjnt-hooks rebase-lockfile" + (f" --cwd {shlex.quote(prefix)}" if prefix else "")

    def conflict(*why: str) -> int:
        _say(f"ayjnt-lockfile merge driver: left {pathname} conflicted")
        for w in why:
            _say(f"  {w}")
        _say(f"  fix: run `{rerun}` (after resolving any other conflicted files)")
        return 1

    try:
        base = _read_side(base_path, f"{pathname} (merge base)")
        ours = _read_side(ours_path, f"{pathname} (ours)")
        theirs = _read_side(theirs_path, f"{pathname} (theirs)")
    except AyjntError as e:
        return conflict(e.message)
    base_m = base["migrations"]
    ours_own = own_entries(base_m, ours["migrations"])
    theirs_own = own_entries(base_m, theirs["migrations"])
    repo = discover(os.getcwd())
    rebasing = rebase_in_progress(repo)
    github = [v for k, v in os.environ.items() if k.startswith("GITHEAD_")]
    theirs_name = github[0] if len(github) == 1 else "theirs"
    # The published side keeps its tags (and its "classes" order, as `ayjnt build` from it
    # would leave it); when only one side added entries, nothing is renumbered anyway.
    decided: tuple[str, str] | None = None
    if rebasing:
        keep_ours, why = True, "a rebase replays commits onto HEAD"
    else:
        from .rebaselockfile import lock_at

        refs = []
        for label, sha in candidate_refs(repo, current_branch(repo), mainline_first=True):
            try:
                refs.append((label, lock_at(repo, sha, prefix, label)))
            except AyjntError:
                continue
        decided = published_side(ours, theirs, refs)
        if decided is not None:
            keep_ours = decided[0] == "a"
            why = f"{decided[1]} already has {'HEAD' if keep_ours else theirs_name}'s entries"
        elif ours_own == [] or theirs_own == []:
            keep_ours, why = theirs_own == [], "only one side added entries"
        elif not github:  # a cherry-pick (or stash apply): the commit is applied onto HEAD
            keep_ours, why = True, "the change is applied onto HEAD"
        else:
            return conflict("cannot tell which side the remote already has: neither side's "
                            "entries are in origin/HEAD, origin/main or the branch's upstream")
    keep, other = (ours, theirs) if keep_ours else (theirs, ours)
    keep_label = "HEAD" if keep_ours else theirs_name
    other_label = theirs_name if keep_ours else "HEAD"
    outcome = merge_appended(base, keep, other, keep_label=keep_label, other_label=other_label)
    if outcome.lockfile is None:
        return conflict(*outcome.problems)
    with open(ours_path, "wb") as f:
        f.write(lf.serialize(outcome.lockfile))
    _say(f"ayjnt-lockfile merge driver: merged {pathname}, keeping {keep_label}'s entries "
         f"({why})")
    for r in outcome.renumbered:
        _say(f"  renumbered {describe(r.before)} became {describe(r.after)}")
    for entry, twin in outcome.dropped:
        _say(f"  dropped {describe(entry)}: {keep_label} already has it as {twin['tag']}")
    return 0
