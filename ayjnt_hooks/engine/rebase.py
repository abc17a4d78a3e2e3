"""Two lockfile histories, one result: the upstream's entries are history and never rewritten.

Pure (parsed lockfiles and a manifest in, decisions out). Two operations:

* :func:`rebase_lockfile` — what ``ayjnt-hooks rebase-lockfile`` writes: the upstream lockfile
  plus exactly the entry ``ayjnt build`` would append for the integrated tree, with what became
  of the branch's own entries (kept, renumbered, folded, dropped) and the reasons to refuse.
* :func:`merge_appended` — what the merge driver writes, without a tree: the entries of the side
  the remote already has, then the other side's own entries renumbered after them, ``classes``
  merged class by class. Any doubt is a conflict, left to ``rebase-lockfile``.

Classes are followed by *identity* (the storage a Durable Object class owns): a class alive at
the merge base keeps its identity through renames; a class created later is known by the name
it was created with. That is how a refusal can say "this deletes storage the branch keeps".
"""
from __future__ import annotations

import re

from ..errors import AyjntError
from ..records import Record
from . import lockfile as lf
from .scan import Manifest
from .soundness import first_difference, soundness_problems

TYPE_CHECKING = False  # (typing is not imported at run time: start-up time counts here)
if TYPE_CHECKING:
    from typing import Any

    Entry = dict[str, Any]
    Identity = tuple[str, str]  # ("base", name at the merge base) | ("new", name when created)
_VTAG = "v([0-9]+)"


# ------------------------------------------------------------------ entries

def entry_content(entry: Entry) -> dict[str, Any]:
    """What an entry does, without its tag and timestamp (a renumbered entry keeps this)."""
    return {k: v for k, v in entry.items() if k not in ("tag", "timestamp")}


def _names(value: Any) -> list[str]:
    return [v for v in value if isinstance(v, str)] if isinstance(value, list) else []


def _pairs(value: Any) -> list[tuple[Any, Any]]:
    if not isinstance(value, list):
        return []
    return [(p.get("from"), p.get("to")) if isinstance(p, dict) else (None, None) for p in value]


def describe(entry: Entry) -> str:
    """``v3 (+SupportAgent, ~ChatAgent -> TalkAgent, -OldAgent)``."""
    parts = [f"+{c}" for c in _names(entry.get("new_sqlite_classes"))]
    parts += [f"~{a} -> {b}" for a, b in _pairs(entry.get("renamed_classes"))]
    parts += [f"-{c}" for c in _names(entry.get("deleted_classes"))]
    return f"{entry['tag']} ({', '.join(parts)})" if parts else str(entry["tag"])


def own_entries(base: list[Entry], side: list[Entry]) -> list[Entry] | None:
    """``side``'s entries after ``base``; None when ``side`` changed or dropped one of them."""
    return side[len(base):] if first_difference(base, side) is None else None


def _untagged(entry: Entry) -> dict[str, Any]:
    return {k: v for k, v in entry.items() if k != "tag"}


def embedded_own(base: list[Entry], side: list[Entry]) -> list[Entry] | None:
    """Like :func:`own_entries`, but ``base``'s entries may sit renumbered (all else equal,
    timestamp included) among ``side``'s — as on ``HEAD`` mid-rebase, after an earlier step
    renumbered them."""
    common = 0
    while common < min(len(base), len(side)) and base[common] == side[common]:
        common += 1
    rest = base[common:]
    own: list[Entry] = []
    matched = 0
    for entry in side[common:]:
        if matched < len(rest) and _untagged(entry) == _untagged(rest[matched]):
            matched += 1
        else:
            own.append(entry)
    return own if matched == len(rest) else None


# ------------------------------------------------------------------ identities

def base_identities(lock: lf.Lockfile) -> dict[str, Identity]:
    return {v["className"]: ("base", v["className"]) for v in lock["classes"].values()}


def replay(live: dict[str, Identity], entries: list[Entry]
           ) -> tuple[dict[str, Identity], set[Identity]] | None:
    """Apply entries to the live classes (new, renamed, deleted — the order soundness uses);
    None when one does not apply (adds an existing class, renames or deletes a missing one)."""
    current = dict(live)
    destroyed: set[Identity] = set()
    for m in entries:
        for cls in _names(m.get("new_sqlite_classes")):
            if cls in current:
                return None
            current[cls] = ("new", cls)
        for src, dst in _pairs(m.get("renamed_classes")):
            if not isinstance(src, str) or src not in current or not isinstance(dst, str) \
                    or (dst in current and dst != src):
                return None
            current[dst] = current.pop(src)
        for cls in _names(m.get("deleted_classes")):
            if cls not in current:
                return None
            destroyed.add(current.pop(cls))
    return current, destroyed


# ------------------------------------------------------------------ which side keeps its tags

def published_side(a: lf.Lockfile, b: lf.Lockfile, refs: list[tuple[str, lf.Lockfile]]
                   ) -> tuple[str, str] | None:
    """("a" | "b", ref label): the first ref (in the given priority) that holds exactly one
    side's migrations as a prefix — that side is the remote's history. When both sides' are
    (neither added entries of its own), the side whose whole lockfile the ref has wins."""
    for label, ref in refs:
        in_a = first_difference(a["migrations"], ref["migrations"]) is None
        in_b = first_difference(b["migrations"], ref["migrations"]) is None
        if in_a and in_b:
            in_a, in_b = a == ref, b == ref
        if in_a != in_b:
            return ("a" if in_a else "b"), label
    return None


# ------------------------------------------------------------------ the merge driver

class Renumbered(Record):
    before: Entry
    after: Entry


class MergeOutcome(Record):
    lockfile: lf.Lockfile | None  # None: leave the conflict
    problems: list[str]
    renumbered: list[Renumbered]
    dropped: list[tuple[Entry, Entry]]  # (the other side's entry, the kept entry with its content)


def _conflict(*problems: str) -> MergeOutcome:
    return MergeOutcome(None, list(problems), [], [])


class _State(Record):
    key: str
    value: dict[str, Any]


def _states(lock: lf.Lockfile, live: dict[str, Identity]) -> dict[Identity, _State] | None:
    """Each live identity's ``classes`` entry; None when ``classes`` and the replay disagree."""
    by_name = {v["className"]: _State(k, v) for k, v in lock["classes"].items()}
    if set(by_name) != set(live):
        return None
    return {ident: by_name[name] for name, ident in live.items()}


def _pick(base: str, keep: str, other: str) -> str | None:
    """Three-way pick of one field: a side that changed it wins; both changed differently: None."""
    if keep in (base, other):
        return other
    if other == base:
        return keep
    return None


def merge_appended(base: lf.Lockfile, keep: lf.Lockfile, other: lf.Lockfile, *,
                   keep_label: str = "ours", other_label: str = "theirs") -> MergeOutcome:
    """``keep``'s entries, then ``other``'s own entries (after ``base``) renumbered after them.

    ``other`` must extend ``base`` unchanged; ``keep`` must contain ``base``'s entries (in
    order, possibly renumbered). An entry of ``other`` whose content ``keep`` already has is
    dropped (a cherry-picked change). ``classes`` is merged per class identity: a side that
    renamed or moved a class wins over one that did not; both changing it differently, or one
    deleting what the other changed, is a conflict. The result must pass the soundness rules.
    """
    base_m, keep_m, other_m = base["migrations"], keep["migrations"], other["migrations"]
    other_own = own_entries(base_m, other_m)
    if other_own is None:
        i, was, now = first_difference(base_m, other_m) or (0, None, None)
        return _conflict(f"{other_label} changed entry #{i + 1} "
                         f"({describe(was) if was else '(none)'}) of the merge base (now "
                         f"{describe(now) if now else 'dropped'}): only appended entries can "
                         "be merged")
    keep_own = embedded_own(base_m, keep_m)
    if keep_own is None:
        i, was, now = first_difference(base_m, keep_m) or (0, None, None)
        return _conflict(f"{keep_label} changed entry #{i + 1} "
                         f"({describe(was) if was else '(none)'}) of the merge base (now "
                         f"{describe(now) if now else 'dropped'}): only appended entries can "
                         "be merged")
    start = base_identities(base)
    keep_replay = replay(start, keep_own)
    other_replay = replay(start, other_own)
    if keep_replay is None or other_replay is None:
        which = keep_label if keep_replay is None else other_label
        return _conflict(f"{which}'s own entries do not replay on the merge base's classes")
    keep_states = _states(keep, keep_replay[0])
    other_states = _states(other, other_replay[0])
    base_states = _states(base, start)
    if keep_states is None or other_states is None or base_states is None:
        which = keep_label if keep_states is None else other_label if other_states is None \
            else "the merge base"
        return _conflict(f'{which}\'s "classes" does not match its migrations')

    # Entries: keep's, then other's own renumbered (content already in keep's: dropped).
    keep_contents = {_key(entry_content(e)): e for e in keep_own}
    migrations = list(keep_m)
    tags = {m["tag"] for m in migrations}
    renumbered: list[Renumbered] = []
    dropped: list[tuple[Entry, Entry]] = []
    tag_map: dict[str, str] = {}
    for entry in other_own:
        twin = keep_contents.get(_key(entry_content(entry)))
        if twin is not None:
            dropped.append((entry, twin))
            tag_map[entry["tag"]] = twin["tag"]
            continue
        if re.fullmatch(_VTAG, entry["tag"]):
            new_tag = lf.next_tag({"migrations": migrations})
        elif entry["tag"] in tags:
            return _conflict(f"{other_label}'s entry {entry['tag']} reuses a tag {keep_label} "
                             "has, and is not a vN tag that can be renumbered")
        else:
            new_tag = entry["tag"]
        moved = {**entry, "tag": new_tag}
        migrations.append(moved)
        tags.add(new_tag)
        if new_tag != entry["tag"]:
            tag_map[entry["tag"]] = new_tag
            renumbered.append(Renumbered(entry, moved))

    # classes, per identity
    merged: dict[Identity, _State] = {}
    for ident in [*keep_states, *(i for i in other_states if i not in keep_states),
                  *(i for i in base_states if i not in keep_states and i not in other_states)]:
        k, o, b = keep_states.get(ident), other_states.get(ident), base_states.get(ident)
        name = ident[1]
        if k is None or o is None:
            survivor, gone_from = (o, keep_label) if k is None else (k, other_label)
            if survivor is None:
                continue  # deleted on both sides (or by the one side that knew it)
            if b is None:  # created on one side only
                merged[ident] = _remap(survivor, tag_map) if k is None else survivor
                continue
            if survivor.key == b.key and survivor.value["className"] == b.value["className"]:
                continue  # one side deleted it, the other left it alone
            return _conflict(f"{gone_from} deletes class {name!r}, which the other side "
                             "renames or moves")
        if b is None:  # created on both sides (a dropped twin entry)
            if (k.key, k.value["className"]) != (o.key, o.value["className"]):
                return _conflict(f"both sides create class {name!r}, under different "
                                 "agentIds or names")
            merged[ident] = k
            continue
        key = _pick(b.key, k.key, o.key)
        cls = _pick(b.value["className"], k.value["className"], o.value["className"])
        if key is None or cls is None:
            what = "moves" if key is None else "renames"
            return _conflict(f"both sides {what} class {name!r}, differently")
        if (key, cls) == (k.key, k.value["className"]):
            merged[ident] = k
        elif (key, cls) == (o.key, o.value["className"]):
            merged[ident] = _State(key, {**o.value, "firstTag": k.value.get("firstTag")}
                                   if "firstTag" in k.value else o.value)
        else:
            merged[ident] = _State(key, {**k.value, "agentId": key, "className": cls})

    # Order as applyDiff leaves it: keep's keys in place, then re-keyed and new ones.
    classes: dict[str, Any] = {}
    placed: set[Identity] = set()
    keep_ident = {s.key: i for i, s in keep_states.items()}
    other_ident = {s.key: i for i, s in other_states.items()}
    order = [(keep_ident[k], True) for k in keep["classes"]] + \
        [(other_ident[k], False) for k in other["classes"]] + [(i, False) for i in merged]
    for ident, in_place in order:
        state = merged.get(ident)
        if state is None or ident in placed:
            continue
        if in_place and state.key != keep_states[ident].key:
            continue  # re-keyed by the other side: goes to the end, as a move does
        if state.key in classes:
            return _conflict(f"two classes end up under agentId {state.key!r} "
                             f"({classes[state.key]['className']} and "
                             f"{state.value['className']})")
        classes[state.key] = state.value
        placed.add(ident)
    result: lf.Lockfile = {"version": 1, "migrations": migrations, "classes": classes}
    try:
        lf.validate_shape(result, lf.LOCKFILE_PATH)
    except AyjntError as e:
        return _conflict(e.message)
    problems = soundness_problems(result)
    if problems:
        return _conflict(*problems)
    return MergeOutcome(result, [], renumbered, dropped)


def _key(content: dict[str, Any]) -> str:
    from . import jsjson

    return jsjson.stringify(content)


def _remap(state: _State, tag_map: dict[str, str]) -> _State:
    first = state.value.get("firstTag")
    if isinstance(first, str) and first in tag_map:
        return _State(state.key, {**state.value, "firstTag": tag_map[first]})
    return state


# ------------------------------------------------------------------ rebase-lockfile

class DeletionReason(Record):
    class_name: str
    agent_id: str
    why: str


class RebasePlan(Record):
    result: lf.Lockfile | None  # None: refused
    diff: lf.Diff | None
    up_to_date: bool  # the current lockfile already is a sound extension of the upstream's
    upstream_new: list[Entry]  # the upstream's entries since the merge base (kept as they are)
    renumbered: list[Renumbered]  # a branch entry that became the new entry, under a new tag
    folded: list[Entry]  # branch entries that the one new entry replaces
    dropped: list[tuple[Entry, str]]  # branch entries with no counterpart, and why
    refusal: str | None  # cannot re-derive the branch's entries: change nothing
    fix_hint: str | None
    deletions: list[DeletionReason]  # non-empty and not allowed: needs --fix-deletions


def is_sound_extension(current: lf.Lockfile, upstream: lf.Lockfile, manifest: Manifest) -> bool:
    """``current`` keeps every upstream entry unchanged, is sound, and has nothing pending."""
    return own_entries(upstream["migrations"], current["migrations"]) is not None \
        and not soundness_problems(current) \
        and not lf.diff(current, manifest, timestamp="").changes_lockfile


def rebase_lockfile(upstream: lf.Lockfile, manifest: Manifest, *,
                    branch: lf.Lockfile | None = None, base: lf.Lockfile | None = None,
                    current: lf.Lockfile | None = None, fix_deletions: bool = False,
                    upstream_label: str = "the upstream", timestamp: str | None = None
                    ) -> RebasePlan:
    """The upstream lockfile plus the one entry ``ayjnt build`` would append for ``manifest``.

    ``branch`` is the branch's lockfile and ``base`` the merge base's (for the report and the
    refusals); ``current`` the lockfile on disk (when it already is a sound extension of the
    upstream's with nothing pending, nothing is rewritten).
    """
    up_m = upstream["migrations"]
    branch_m = branch["migrations"] if branch is not None else []
    if base is not None and branch is not None:
        edited = first_difference(base["migrations"], branch_m)
        if edited is not None:
            i, was, now = edited
            return _refused(
                f"this branch changed entry #{i + 1} of the lockfile, which the merge base "
                f"has as {describe(was)} (the branch has "
                f"{describe(now) if now else 'dropped it'}). Entries before the branch "
                f"point are history ({upstream_label} has them, and they may be deployed); "
                "they cannot be renumbered or re-derived.",
                f"restore entry #{i + 1} as {upstream_label} has it, put the change you meant "
                "into agents/, then re-run `ayjnt-hooks rebase-lockfile`")
        branch_own = branch_m[len(base["migrations"]):]
        base_m = base["migrations"]
    else:
        common = 0
        while common < min(len(up_m), len(branch_m)) and up_m[common] == branch_m[common]:
            common += 1
        branch_own, base_m = branch_m[common:], up_m[:common]
    upstream_own = embedded_own(base_m, up_m)
    upstream_new = upstream_own if upstream_own is not None else up_m[len(base_m):]

    if current is not None and is_sound_extension(current, upstream, manifest):
        return RebasePlan(current, None, True, upstream_new, [], [], [], None, None, [])

    d = lf.diff(upstream, manifest, timestamp=timestamp)
    if d.next_entry is not None:
        wanted = entry_content(d.next_entry)
        candidates = list(branch_own)
        if current is not None:
            candidates = (own_entries(up_m, current["migrations"]) or []) + candidates
        for entry in candidates:  # a renumbered entry keeps its timestamp (and reruns agree)
            if entry_content(entry) == wanted and "timestamp" in entry:
                d.next_entry["timestamp"] = entry["timestamp"]
                break

    # Identities: which storage each deletion destroys, and whether the branch keeps it.
    start = base_identities(base) if base is not None else \
        {n: ("base", n) for n in _live_names(up_m[:len(base_m)])}
    up_replay = replay(start, upstream_own) if upstream_own is not None else None
    up_live = up_replay[0] if up_replay is not None else \
        {v["className"]: start.get(v["className"], ("new", v["className"]))
         for v in upstream["classes"].values()}
    branch_replay = replay(start, branch_own)
    if branch_replay is None and branch_own:
        return _refused(
            f"this branch's own entries ({', '.join(describe(e) for e in branch_own)}) do not "
            "replay on the merge base's classes, so what the branch meant cannot be told.",
            "fix the branch's lockfile history first (`ayjnt-hooks check-lockfile --stage "
            "manual` names the problem)")
    branch_live, branch_destroyed = branch_replay if branch_replay is not None else ({}, set())
    kept_by_branch = {ident: name for name, ident in branch_live.items()}
    deletions: list[DeletionReason] = []
    added_fresh = {a.class_name: a for a in d.added}
    for gone in d.deleted:
        ident = up_live.get(gone.class_name)
        successor = kept_by_branch.get(ident) if ident is not None and ident[0] == "base" \
            else None
        if successor is not None and successor in added_fresh:
            return _refused(
                f"re-deriving from {upstream_label} would delete {gone.class_name} (agentId "
                f"{gone.agent_id}) and add {successor} as a new class, destroying the storage "
                f"this branch keeps for it: the branch's own entries "
                f"({', '.join(describe(e) for e in branch_own)}) rename the class, but the "
                "one entry `ayjnt build` writes cannot (its folder moved as well).",
                f"pin the old id: add `export const agentId = \"{gone.agent_id}\";` to "
                f"{added_fresh[successor].path}, then re-run `ayjnt-hooks rebase-lockfile`")
        if ident is not None and ident in branch_destroyed:
            why = "this branch deletes it"
        elif ident is not None and ident[0] == "new" and any(
                gone.class_name in _names(e.get("new_sqlite_classes")) for e in upstream_new):
            why = f"{upstream_label} added it, and the working tree no longer has it"
        else:
            why = "the working tree no longer has it"
        deletions.append(DeletionReason(gone.class_name, gone.agent_id, why))

    result = lf.apply_diff(upstream, d)
    upstream_contents = {_key(entry_content(e)): e for e in upstream_new}
    dropped: list[tuple[Entry, str]] = []
    rest: list[Entry] = []
    for entry in branch_own:
        twin = upstream_contents.get(_key(entry_content(entry)))
        if twin is not None:
            dropped.append((entry, f"{upstream_label} already has it as {twin['tag']}"))
        else:
            rest.append(entry)
    renumbered: list[Renumbered] = []
    folded: list[Entry] = []
    if d.next_entry is None:
        dropped += [(e, "the integrated tree needs no new entry for it") for e in rest]
    elif len(rest) == 1 and entry_content(rest[0]) == entry_content(d.next_entry):
        renumbered.append(Renumbered(rest[0], d.next_entry))
    else:
        folded = rest
    return RebasePlan(result, d, False, upstream_new, renumbered, folded, dropped, None, None,
                      deletions if d.deleted and not fix_deletions else [])


def _live_names(entries: list[Entry]) -> set[str]:
    replayed = replay({}, entries)
    return set(replayed[0]) if replayed is not None else set()


def _refused(why: str, hint: str) -> RebasePlan:
    return RebasePlan(None, None, False, [], [], [], [], why, hint, [])
