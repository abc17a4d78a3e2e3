"""The migration lockfile ``.ayjnt/migrations.json``: read, validate, diff, apply, write.

Mirrors ayjnt 0.5.9 (reference §2) byte for byte, except the known applyDiff bug (§2.5), which
is fixed: a class that moves into the agentId of a deleted class stays in ``classes``.
"""
from __future__ import annotations

import re
import time

from ..errors import AyjntError
from ..records import Record
from . import jsjson
from .scan import Agent, Manifest, decode

TYPE_CHECKING = False  # (typing is not imported at run time: start-up time counts here)
if TYPE_CHECKING:
    from typing import Any

    Lockfile = dict[str, Any]

LOCKFILE_PATH = ".ayjnt/migrations.json"
RESTORE_COMMAND = f"git checkout HEAD -- {LOCKFILE_PATH}"
_RESTORE_HINT = ("This file is the committed source of truth for production migrations — "
                 "restore it from git rather than editing by hand.")
_TAG = "v([0-9]+)"
# Keys every JS object inherits: ``classes[agentId]`` finds these even when the lockfile has no
# such own key, which makes ayjnt treat a new agent with that id as a rename from ``undefined``.
_OBJECT_PROTOTYPE_KEYS = frozenset((
    "constructor", "hasOwnProperty", "isPrototypeOf", "propertyIsEnumerable", "toLocaleString",
    "toString", "valueOf", "__proto__", "__defineGetter__", "__defineSetter__",
    "__lookupGetter__", "__lookupSetter__"))


def empty_lockfile() -> Lockfile:
    return {"version": 1, "migrations": [], "classes": {}}


def _shape_error(shown: str, why: str) -> AyjntError:
    return AyjntError(f"{shown}: {why}. {_RESTORE_HINT}", path=shown, hint=RESTORE_COMMAND)


def _js_stringify_for_message(value: Any) -> str:
    return "undefined" if value is _MISSING else jsjson.stringify(value)


_MISSING = object()


def parse_lockfile(data: bytes | None, shown: str = LOCKFILE_PATH) -> Lockfile:
    """``readLockfile``: missing → empty; then ``JSON.parse`` and ayjnt's shape checks."""
    if data is None:
        return empty_lockfile()
    text = decode(data)  # Bun.file().text(): a leading BOM is dropped, bad bytes become U+FFFD
    try:
        parsed = jsjson.parse(text)
    except RecursionError:
        raise AyjntError(
            f"{shown} is not valid JSON (nested too deeply to read). This file is the committed "
            f"source of truth for production migrations — restore it from git (git checkout -- "
            f"{LOCKFILE_PATH}) rather than deleting it.", path=shown) from None
    except ValueError as e:
        if "<<<<<<<" in text and ">>>>>>>" in text:
            reason = "it contains git merge-conflict markers (<<<<<<< / >>>>>>>)"
        else:
            reason = str(e) or "parse error"
        raise AyjntError(
            f"{shown} is not valid JSON ({reason}). This file is the committed source of truth "
            f"for production migrations — restore it from git (git checkout -- {LOCKFILE_PATH}) "
            f"rather than deleting it.", path=shown) from None
    validate_shape(parsed, shown)
    return parsed  # type: ignore[no-any-return]


def validate_shape(parsed: Any, shown: str) -> None:
    # JS: typeof x === "object" && x !== null — arrays pass here and fail on "version".
    if not isinstance(parsed, (dict, list)):
        raise _shape_error(shown, "expected a JSON object")
    version = parsed.get("version", _MISSING) if isinstance(parsed, dict) else _MISSING
    if isinstance(version, bool) or not isinstance(version, (int, float)) or version != 1:
        raise _shape_error(shown, f"unsupported lockfile version "
                                  f"{_js_stringify_for_message(version)} — this ayjnt build "
                                  f"expects version 1")
    assert isinstance(parsed, dict)
    migrations = parsed.get("migrations")
    if not isinstance(migrations, list):
        raise _shape_error(shown, '"migrations" must be an array')
    for m in migrations:
        if not isinstance(m, dict) or not isinstance(m.get("tag"), str):
            raise _shape_error(shown, 'every migration entry needs a string "tag"')
    classes = parsed.get("classes")
    if not isinstance(classes, dict):
        raise _shape_error(shown, '"classes" must be an object keyed by agentId')
    by_class: dict[str, str] = {}
    for agent_id, entry in classes.items():
        if not isinstance(entry, dict) or not isinstance(entry.get("className"), str):
            raise _shape_error(shown, f'classes["{agent_id}"] needs a string "className"')
        prior = by_class.get(entry["className"])
        if prior:  # JS truthiness: an empty-string agentId never counts as "seen"
            raise _shape_error(
                shown, f'class "{entry["className"]}" appears under two agentIds ("{prior}" and '
                       f'"{agent_id}") — likely a bad merge-conflict resolution; each class may '
                       f"appear once")
        by_class[entry["className"]] = agent_id


def serialize(lockfile: Lockfile) -> bytes:
    """``JSON.stringify(lockfile, null, 2) + "\\n"`` as UTF-8."""
    return (jsjson.stringify(lockfile, 2) + "\n").encode("utf-8")


def next_tag(lockfile: Lockfile) -> str:
    highest: float = 0
    for m in lockfile["migrations"]:
        match = re.fullmatch(_TAG, m["tag"])
        if match:
            highest = max(highest, jsjson.parse_int(match.group(1)))
    return "v" + jsjson.number_to_string(highest + 1)  # `v${max + 1}`


def js_now() -> str:
    """``new Date().toISOString()``: UTC, the milliseconds of ``Date.now()`` (floored). From
    :mod:`time`, which is built in (:mod:`datetime` costs 3 ms to import)."""
    ms = time.time_ns() // 1_000_000
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(ms // 1000)) + f".{ms % 1000:03d}Z"


class Move(Record):
    from_agent_id: str
    to_agent_id: str
    class_name: str


class Rename(Record):
    from_class: str | None  # None: ayjnt's "undefined" (agentId shadowed an Object key)
    to_class: str
    agent_id: str


class Deleted(Record):
    agent_id: str
    class_name: str


class Diff:
    def __init__(self) -> None:
        self.added: list[Agent] = []
        self.renamed: list[Rename] = []
        self.deleted: list[Deleted] = []
        self.moved: list[Move] = []
        self.next_entry: dict[str, Any] | None = None

    @property
    def changes_lockfile(self) -> bool:
        """ayjnt's ``diffChangesLockfile`` — "staged" in build results."""
        return self.next_entry is not None or bool(self.moved)


def diff(lockfile: Lockfile, manifest: Manifest, *, timestamp: str | None = None) -> Diff:
    """ayjnt's class-name-first ``diffMigrations``."""
    classes: dict[str, Any] = lockfile["classes"]
    manifest_classes = {a.class_name for a in manifest.agents}
    lock_by_class: dict[str, str] = {}
    for agent_id, entry in classes.items():
        if entry["className"] in lock_by_class:
            raise AyjntError(
                f'migration lockfile lists class "{entry["className"]}" under two agentIds — '
                f"cannot diff safely. Restore .ayjnt/migrations.json from git.")
        lock_by_class[entry["className"]] = agent_id

    result = Diff()
    consumed: set[str] = set()
    for agent in manifest.agents:
        locked_id = lock_by_class.get(agent.class_name)
        if locked_id is not None:
            consumed.add(locked_id)
            if locked_id != agent.agent_id:
                result.moved.append(Move(locked_id, agent.agent_id, agent.class_name))
            continue
        same_id = classes.get(agent.agent_id)
        if same_id is not None and same_id["className"] not in manifest_classes:
            consumed.add(agent.agent_id)
            result.renamed.append(Rename(same_id["className"], agent.class_name, agent.agent_id))
            continue
        if same_id is None and agent.agent_id in _OBJECT_PROTOTYPE_KEYS:
            consumed.add(agent.agent_id)
            result.renamed.append(Rename(None, agent.class_name, agent.agent_id))
            continue
        result.added.append(agent)
    result.deleted = [Deleted(k, v["className"]) for k, v in classes.items() if k not in consumed]

    if result.added or result.renamed or result.deleted:
        new: dict[str, Any] = {"tag": next_tag(lockfile),
                               "timestamp": timestamp if timestamp is not None else js_now()}
        if result.added:
            new["new_sqlite_classes"] = [a.class_name for a in result.added]
        if result.renamed:
            new["renamed_classes"] = [
                {"to": r.to_class} if r.from_class is None else {"from": r.from_class,
                                                                 "to": r.to_class}
                for r in result.renamed]
        if result.deleted:
            new["deleted_classes"] = [d.class_name for d in result.deleted]
        result.next_entry = new
    return result


def apply_diff(lockfile: Lockfile, d: Diff) -> Lockfile:
    """ayjnt's ``applyDiff``, with the move-into-deleted-id bug fixed (reference §2.5)."""
    if not d.changes_lockfile:
        return lockfile
    old: dict[str, Any] = lockfile["classes"]
    classes = dict(old)
    for m in d.moved:
        del classes[m.from_agent_id]
    for m in d.moved:
        first_tag = old[m.from_agent_id].get("firstTag")
        classes[m.to_agent_id] = {"agentId": m.to_agent_id, "className": m.class_name,
                                  "firstTag": "v1" if first_tag is None else first_tag}
    if d.next_entry is None:
        return {"version": 1, "migrations": list(lockfile["migrations"]), "classes": classes}
    tag = d.next_entry["tag"]
    for agent in d.added:
        classes[agent.agent_id] = {"agentId": agent.agent_id, "className": agent.class_name,
                                   "firstTag": tag}
    for r in d.renamed:
        existing = classes.get(r.agent_id)
        if existing is not None:
            classes[r.agent_id] = {**existing, "className": r.to_class}
        else:  # ayjnt spreads Object.prototype's function: an entry with only className
            classes[r.agent_id] = {"className": r.to_class}
    for gone in d.deleted:
        # The fix: delete only if the key still holds the deleted class (a moved class may
        # have taken this agentId; ayjnt would drop it too).
        current = classes.get(gone.agent_id)
        if current is not None and current.get("className") == gone.class_name:
            del classes[gone.agent_id]
    return {"version": 1, "migrations": [*lockfile["migrations"], d.next_entry],
            "classes": classes}


def format_diff(d: Diff) -> str:
    """ayjnt's ``formatDiff``."""
    if not d.changes_lockfile:
        return "No pending migrations."
    lines: list[str] = []
    if d.next_entry is not None:
        lines.append(f"Pending migration: {d.next_entry['tag']} ({d.next_entry['timestamp']})")
    if d.added:
        lines.append("  + added:")
        lines += [f"      {a.class_name} (agentId: {a.agent_id}) at {a.route_path}"
                  for a in d.added]
    if d.renamed:
        lines.append("  ~ renamed:")
        lines += [f"      {'undefined' if r.from_class is None else r.from_class} -> "
                  f"{r.to_class} (agentId: {r.agent_id})" for r in d.renamed]
    if d.moved:
        lines.append("  = moved (folder renamed; storage preserved, no migration):")
        lines += [f"      {m.class_name}: agentId {m.from_agent_id} -> {m.to_agent_id}"
                  for m in d.moved]
    if d.deleted:
        lines.append("  - deleted (storage will be destroyed):")
        lines += [f"      {x.class_name} (agentId: {x.agent_id})" for x in d.deleted]
    return "\n".join(lines)


WRANGLER_MIGRATION_KEYS = ("tag", "new_sqlite_classes", "renamed_classes", "deleted_classes")


def wrangler_migrations(lockfile: Lockfile) -> list[dict[str, Any]]:
    """The ``migrations`` block ayjnt writes into wrangler.jsonc (timestamps dropped)."""
    return [{k: m[k] for k in WRANGLER_MIGRATION_KEYS if k in m} for m in lockfile["migrations"]]
