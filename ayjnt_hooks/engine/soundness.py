"""Lockfile soundness beyond ayjnt's own validation (reference §6 pain points).

Pure: takes parsed lockfiles, returns problems as text. Used by the ``ayjnt-lockfile`` hook.
"""
from __future__ import annotations

import re

from .jsjson import stringify

TYPE_CHECKING = False  # (typing is not imported at run time: start-up time counts here)
if TYPE_CHECKING:
    from typing import Any

_VTAG = "v([0-9]+)"


def has_conflict_markers(data: bytes) -> bool:
    lines = data.split(b"\n")
    return any(line.startswith(b"<<<<<<<") for line in lines) and \
        any(line.startswith(b">>>>>>>") for line in lines)


def soundness_problems(lock: dict[str, Any]) -> list[str]:
    """Unique tags, strictly increasing vN tags, a replayable history matching ``classes``.

    ayjnt itself never reads ``new_sqlite_classes``/``renamed_classes``/``deleted_classes`` (it
    copies them into wrangler.jsonc); a value of the wrong shape is reported here as unsound.
    """
    problems: list[str] = []
    seen: set[str] = set()
    last: str | None = None  # the highest vN so far, its digits without leading zeros
    live: set[str] = set()
    for i, m in enumerate(lock["migrations"]):
        tag = m["tag"]
        where = f"migration #{i + 1} ({tag})"
        if tag in seen:
            problems.append(f"{where}: tag {tag!r} appears more than once — two branches each "
                            "staged it; keep one history and re-run `ayjnt build`")
        seen.add(tag)
        match = re.fullmatch(_VTAG, tag)
        if match:
            n = match.group(1).lstrip("0") or "0"  # compared as digit strings: no int() limit
            if last is not None and (len(n), n) <= (len(last), last):
                problems.append(f"{where}: tag {tag} is not after v{last} — entries are out "
                                "of order")
            else:
                last = n
        for cls in _names(m, "new_sqlite_classes", where, problems):
            if cls in live:
                problems.append(f"{where}: adds class {cls!r}, which already exists (added "
                                "twice without a deletion in between)")
            live.add(cls)
        for src, dst in _pairs(m, where, problems):
            if src not in live:
                problems.append(f"{where}: renames {src!r}, which does not exist at that point")
            else:
                live.discard(src)
            if dst in live:
                problems.append(f"{where}: renames to {dst!r}, which already exists")
            live.add(dst)
        for cls in _names(m, "deleted_classes", where, problems):
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


def _names(entry: dict[str, Any], key: str, where: str, problems: list[str]) -> list[str]:
    """``entry[key]`` as a list of class names; a malformed value is a problem, and ignored."""
    value = entry.get(key)
    if value is None and key not in entry:
        return []
    if isinstance(value, list) and all(isinstance(v, str) for v in value):
        return value
    problems.append(f"{where}: \"{key}\" must be a list of class names, not "
                    f"{_shape(value)} — wrangler rejects it")
    return []


def _pairs(entry: dict[str, Any], where: str, problems: list[str]) -> list[tuple[str, str]]:
    """``renamed_classes`` as (from, to) pairs; a malformed value is a problem, and ignored."""
    if "renamed_classes" not in entry:
        return []
    value = entry["renamed_classes"]
    if isinstance(value, list) and all(
            isinstance(p, dict) and isinstance(p.get("from"), str) and isinstance(p.get("to"), str)
            for p in value):
        return [(p["from"], p["to"]) for p in value]
    problems.append(f"{where}: \"renamed_classes\" must be a list of {{\"from\": <class>, "
                    f"\"to\": <class>}} objects, not {_shape(value)} — wrangler rejects it")
    return []


def _shape(value: Any) -> str:
    """What a malformed value is, in JSON's terms (never its content)."""
    if isinstance(value, list):
        return "a list holding something else"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, (int, float)):
        return "a number"
    if isinstance(value, str):
        return "a string"
    return "an object" if isinstance(value, dict) else "null"


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
