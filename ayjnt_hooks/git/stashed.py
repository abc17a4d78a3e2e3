"""See the lockfile as it is on disk even while pre-commit has stashed unstaged changes.

Before running hooks, pre-commit saves unstaged changes as a patch named
``patch<time>-<pid>`` (pid = the pre-commit process, our parent) in its store folder and
resets the files to the index. To tell a user "your fix is on disk but not staged", we read
that patch (read-only) and apply its hunks for one file in memory.
"""
from __future__ import annotations

import os
import re

_HUNK = rb"^@@ -(\d+)(?:,(\d+))? \+(\d+)(?:,(\d+))? @@"


def store_dir() -> str:
    if os.environ.get("PRE_COMMIT_HOME"):
        return os.environ["PRE_COMMIT_HOME"]
    cache = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return os.path.join(cache, "pre-commit")


def stashed_patch() -> bytes | None:
    """The patch pre-commit stashed for the run that started us, if any."""
    if os.environ.get("PRE_COMMIT") != "1":
        return None
    import glob  # (only under pre-commit: glob brings fnmatch)

    candidates = glob.glob(os.path.join(glob.escape(store_dir()), f"patch*-{os.getppid()}"))
    if not candidates:
        return None
    with open(max(candidates, key=os.path.getmtime), "rb") as f:
        return f.read()


def apply_to(patch: bytes, repo_path: str, old: bytes) -> bytes | None:
    """``old`` with the patch's hunks for ``repo_path`` applied; None if it has none."""
    lines = patch.split(b"\n")
    header = f"diff --git a/{repo_path} b/{repo_path}".encode()
    try:
        start = lines.index(header)
    except ValueError:
        return None
    out: list[bytes] = []
    src = old.split(b"\n")
    pos = 0
    i = start + 1
    while i < len(lines) and not lines[i].startswith(b"diff --git "):
        m = re.match(_HUNK, lines[i])
        if not m:
            i += 1
            continue
        old_start = int(m.group(1)) - (0 if m.group(2) == b"0" else 1)
        out += src[pos:old_start]
        pos = old_start
        i += 1
        while i < len(lines) and lines[i][:1] in (b" ", b"-", b"+", b"\\"):
            tag, body = lines[i][:1], lines[i][1:]
            if tag == b" ":
                out.append(body)
                pos += 1
            elif tag == b"-":
                pos += 1
            elif tag == b"+":
                out.append(body)
            i += 1
    out += src[pos:]
    return b"\n".join(out)
