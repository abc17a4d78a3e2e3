"""Lockfile soundness beyond ayjnt's own validation (reference §6 pain points).

Pure: takes parsed lockfiles, returns problems as text. Used by the ``ayjnt-lockfile`` hook.
"""
from __future__ import annotations

import re
from typing import Any

from .jsjson import stringify

_VTAG = re.compile("v([0-9]+)")


def has_conflict_markers(data: bytes) -> bool:
    lines = data.split(b"\n")
    return any(line.startswith(b"<<<<<<<") for line in lines) and \
        any(line.startswith(b">>>>>>>") for line in lines)


def soundness_problems(lock: dict[str, Any]) -> list[str]:
    """Unique tags, strictly increasing vN tags, a replayable history matching ``classes``."""
    problems: list[str] = []
    seen: set[str] = set()
    last_n = -1
    live: set[str] = set()
    for i, m in enumerate(lock["migrations"]):
        tag = m["tag"]
        where = f"migration #{i + 1} ({tag})"
        if tag in seen:
            problems.append(f"{where}: tag {tag!r} appears more than once — two branches each "
                            "staged it; keep one history and re-run `ayjnt build`")
        seen.add(tag)
        match = _VTAG.fullmatch(tag)
        if match:
            n = int(match.group(1))
            if n <= last_n:
                problems.append(f"{where}: tag {tag} is not after v{last_n} — entries are out "
                                "of order")
            last_n = max(last_n, n)
        for cls in _names(m.get("new_sqlite_classes")):
            if cls in live:
                problems.append(f"{where}: adds class {cls!r}, which already exists (added "
                                "twice without a deletion in between)")
            live.add(cls)
        for pair in m.get("renamed_classes") or []:
            src = pair.get("from") if isinstance(pair, dict) else None
            dst = pair.get("to") if isinstance(pair, dict) else None
            if src not in live:
                problems.append(f"{where}: renames {src!r}, which does not exist at that point")
            else:
                live.discard(src)
            if isinstance(dst, str):
                if dst in live:
                    problems.append(f"{where}: renames to {dst!r}, which already exists")
                live.add(dst)
        for cls in _names(m.get("deleted_classes")):
            if cls not in live:
                problems.append(f"{where}: deletes class {cls!r}, which does not exist at that "
                                "point")
            live.discard(cls)
    in_classes = {v["className"] for v in lock["classes"].values()}
    if in_classes != live:
        missing = sorted(live - in_classes)
        extra = sorted(in_classes - live)
        parts = []
        if missing:
            parts.append(f"the migrations create {', '.join(missing)} but \"classes\" lacks it")
        if extra:
            parts.append(f"\"classes\" lists {', '.join(extra)} but no migration creates it")
        problems.append("\"classes\" does not match the migrations: " + "; ".join(parts))
    return problems


def _names(value: Any) -> list[str]:
    return [v for v in value if isinstance(v, str)] if isinstance(value, list) else []


def first_difference(base: list[Any], pushed: list[Any]) -> tuple[int, Any, Any] | None:
    """None when ``base`` is an unchanged prefix of ``pushed``; else (index, base entry or None,
    pushed entry or None) at the first entry that was rewritten, reordered or dropped."""
    for i, entry in enumerate(base):
        other = pushed[i] if i < len(pushed) else None
        if other != entry:
            return i, entry, other
    return None


def field_differences(was: Any, now: Any) -> list[tuple[str, str, str]]:
    """The fields in which two migration entries differ, as (field, was, now) JSON texts; a
    missing side shows as ``(none)``. Entries that are not objects compare as a whole."""
    def show(value: Any) -> str:
        return "(none)" if value is _ABSENT else stringify(value)

    if not isinstance(was, dict) or not isinstance(now, dict):
        return [("entry", "(none)" if was is None else show(was),
                 "(dropped)" if now is None else show(now))]
    keys = list(was) + [k for k in now if k not in was]
    return [(k, show(was.get(k, _ABSENT)), show(now.get(k, _ABSENT)))
            for k in keys if was.get(k, _ABSENT) != now.get(k, _ABSENT)]


_ABSENT = object()


def diverges(a: list[Any], b: list[Any]) -> bool:
    """Neither history is a prefix of the other (a merge would conflict)."""
    return first_difference(a, b) is not None and first_difference(b, a) is not None
