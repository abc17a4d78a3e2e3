from __future__ import annotations

import json
from typing import Any

import pytest

from ayjnt_hooks.engine import lockfile as lf
from ayjnt_hooks.engine.scan import Agent, Manifest, class_name_to_binding
from ayjnt_hooks.errors import AyjntError

TS = "2026-04-14T00:00:00.000Z"


def manifest(*pairs: tuple[str, str]) -> Manifest:
    """Agents given as (agentId, className), in manifest order."""
    return Manifest(tuple(
        Agent(agent_id=i, class_name=c, base_class="Agent", folder_path=i, route_path=f"/{i}",
              binding=class_name_to_binding(c), path=f"agents/{i}/agent.ts",
              source_file=f"agents/{i}/agent.ts") for i, c in pairs))


def lock(*entries: tuple[str, str, str], migrations: list[dict[str, Any]] | None = None
         ) -> lf.Lockfile:
    """Lockfile with classes given as (agentId, className, firstTag)."""
    return {"version": 1,
            "migrations": migrations if migrations is not None else [{"tag": "v1"}],
            "classes": {i: {"agentId": i, "className": c, "firstTag": t} for i, c, t in entries}}


def tags(*names: str) -> lf.Lockfile:
    return {"version": 1, "migrations": [{"tag": t} for t in names], "classes": {}}


# --- D. nextTag / diff / applyDiff -----------------------------------------------------


@pytest.mark.parametrize(("names", "expected"), [
    pytest.param((), "v1", id="TV-36"),
    pytest.param(("v1", "v3"), "v4", id="TV-37-sparse"),
    pytest.param(("initial", "v2"), "v3", id="TV-37-foreign"),
    pytest.param(("V5", "v05", "v2a"), "v6", id="TV-37-case-and-leading-zero"),
    pytest.param(("v1\n",), "v1", id="dollar-is-end-of-string"),
    pytest.param(("v٣",), "v1", id="ascii-digits-only"),
    pytest.param(("v99999999999999999999",), "v100000000000000000000", id="js-number"),
    # parseInt reads a double: exact below 2**53, then the nearest double; `v${max + 1}`
    # prints Infinity as "Infinity" (checked against ayjnt's nextTag under Bun 1.4.5).
    pytest.param(("v9007199254740993",), "v9007199254740992", id="js-number-past-2**53"),
    pytest.param(("v" + "9" * 5000,), "vInfinity", id="issue10-4-tag-over-4300-digits"),
    pytest.param(("v" + "0" * 30 + "7",), "v8", id="leading-zeros-past-15-digits"),
])
def test_next_tag(names: tuple[str, ...], expected: str) -> None:
    assert lf.next_tag(tags(*names)) == expected


def test_tv38_first_build() -> None:
    d = lf.diff(lf.empty_lockfile(), manifest(("chat", "ChatAgent"),
                                              ("admin_users", "AdminUsersAgent")), timestamp=TS)
    assert [a.class_name for a in d.added] == ["ChatAgent", "AdminUsersAgent"]
    assert d.next_entry == {"tag": "v1", "timestamp": TS,
                            "new_sqlite_classes": ["ChatAgent", "AdminUsersAgent"]}


def test_tv39_unchanged() -> None:
    d = lf.diff(lock(("chat", "ChatAgent", "v1")), manifest(("chat", "ChatAgent")))
    assert d.next_entry is None and not d.moved and not d.changes_lockfile
    before = lock(("chat", "ChatAgent", "v1"))
    assert lf.apply_diff(before, d) is before
    assert lf.format_diff(d) == "No pending migrations."


def test_tv40_rename() -> None:
    d = lf.diff(lock(("chat", "OldName", "v1")), manifest(("chat", "NewName")), timestamp=TS)
    assert d.renamed == [lf.Rename("OldName", "NewName", "chat")]
    assert d.next_entry == {"tag": "v2", "timestamp": TS,
                            "renamed_classes": [{"from": "OldName", "to": "NewName"}]}
    after = lf.apply_diff(lock(("chat", "OldName", "v1")), d)
    assert after["classes"] == {"chat": {"agentId": "chat", "className": "NewName",
                                         "firstTag": "v1"}}


def test_tv41_delete() -> None:
    d = lf.diff(lock(("chat", "ChatAgent", "v1")), manifest(), timestamp=TS)
    assert d.deleted == [lf.Deleted("chat", "ChatAgent")]
    assert d.next_entry == {"tag": "v2", "timestamp": TS, "deleted_classes": ["ChatAgent"]}
    assert lf.apply_diff(lock(("chat", "ChatAgent", "v1")), d)["classes"] == {}


def test_tv42_all_three() -> None:
    before = lock(("chat", "ChatAgent", "v1"), ("old_one", "OldAgent", "v1"),
                  ("doomed", "DoomedAgent", "v1"))
    d = lf.diff(before, manifest(("chat", "ChatAgent"), ("old_one", "RenamedAgent"),
                                 ("new_one", "BrandNewAgent")), timestamp=TS)
    assert d.next_entry == {
        "tag": "v2", "timestamp": TS, "new_sqlite_classes": ["BrandNewAgent"],
        "renamed_classes": [{"from": "OldAgent", "to": "RenamedAgent"}],
        "deleted_classes": ["DoomedAgent"]}
    assert lf.format_diff(d) == (
        f"Pending migration: v2 ({TS})\n"
        "  + added:\n      BrandNewAgent (agentId: new_one) at /new_one\n"
        "  ~ renamed:\n      OldAgent -> RenamedAgent (agentId: old_one)\n"
        "  - deleted (storage will be destroyed):\n      DoomedAgent (agentId: doomed)")


def test_tv43_move() -> None:
    before = lock(("chat", "ChatAgent", "v1"))
    d = lf.diff(before, manifest(("support", "ChatAgent")))
    assert d.moved == [lf.Move("chat", "support", "ChatAgent")]
    assert d.next_entry is None and d.changes_lockfile
    after = lf.apply_diff(before, d)
    assert after == {"version": 1, "migrations": [{"tag": "v1"}], "classes": {
        "support": {"agentId": "support", "className": "ChatAgent", "firstTag": "v1"}}}
    assert lf.format_diff(d) == ("  = moved (folder renamed; storage preserved, no migration):\n"
                                 "      ChatAgent: agentId chat -> support")


def test_tv44_move_and_add() -> None:
    d = lf.diff(lock(("chat", "ChatAgent", "v1")),
                manifest(("support", "ChatAgent"), ("orders", "OrdersAgent")), timestamp=TS)
    assert len(d.moved) == 1
    assert d.next_entry == {"tag": "v2", "timestamp": TS, "new_sqlite_classes": ["OrdersAgent"]}


def test_tv45_replace() -> None:
    d = lf.diff(lock(("chat", "ChatAgent", "v1")), manifest(("orders", "OrdersAgent")),
                timestamp=TS)
    assert not d.moved
    assert d.next_entry == {"tag": "v2", "timestamp": TS, "new_sqlite_classes": ["OrdersAgent"],
                            "deleted_classes": ["ChatAgent"]}


def test_tv46_vacated_folder_reoccupied() -> None:
    before = lock(("chat", "ChatAgent", "v1"))
    d = lf.diff(before, manifest(("support", "ChatAgent"), ("chat", "FreshAgent")),
                timestamp=TS)
    assert d.moved == [lf.Move("chat", "support", "ChatAgent")]
    assert [a.class_name for a in d.added] == ["FreshAgent"] and not d.renamed
    assert lf.apply_diff(before, d)["classes"] == {
        "support": {"agentId": "support", "className": "ChatAgent", "firstTag": "v1"},
        "chat": {"agentId": "chat", "className": "FreshAgent", "firstTag": "v2"}}


def test_tv47_swap() -> None:
    before = lock(("x", "AAgent", "v1"), ("y", "BAgent", "v1"))
    d = lf.diff(before, manifest(("y", "AAgent"), ("x", "BAgent")))
    assert len(d.moved) == 2 and d.next_entry is None and not d.renamed
    classes = lf.apply_diff(before, d)["classes"]
    assert {k: v["className"] for k, v in classes.items()} == {"y": "AAgent", "x": "BAgent"}


def test_tv48_folder_and_class_renamed() -> None:
    d = lf.diff(lock(("chat", "ChatAgent", "v1")), manifest(("support", "SupportAgent")),
                timestamp=TS)
    assert d.next_entry == {"tag": "v2", "timestamp": TS, "new_sqlite_classes": ["SupportAgent"],
                            "deleted_classes": ["ChatAgent"]}


def test_tv49_move_into_deleted_id_is_fixed() -> None:
    """ayjnt 0.5.9 drops Bar here (reference §2.5); we keep it — the issue asks for the fix."""
    before = lock(("a", "Foo", "v1"), ("b", "Bar", "v1"))
    d = lf.diff(before, manifest(("a", "Bar"), ("c", "Baz")), timestamp=TS)
    assert d.moved == [lf.Move("b", "a", "Bar")]
    assert d.next_entry == {"tag": "v2", "timestamp": TS, "new_sqlite_classes": ["Baz"],
                            "deleted_classes": ["Foo"]}
    after = lf.apply_diff(before, d)
    # ayjnt would leave {"c": Baz@v2} and stage Bar as new on the next build.
    assert after["classes"] == {
        "a": {"agentId": "a", "className": "Bar", "firstTag": "v1"},
        "c": {"agentId": "c", "className": "Baz", "firstTag": "v2"}}
    assert not lf.diff(after, manifest(("a", "Bar"), ("c", "Baz"))).changes_lockfile


def test_tv50_tags_never_reused() -> None:
    before = lock(migrations=[{"tag": "v1", "new_sqlite_classes": ["ChatAgent"]},
                              {"tag": "v2", "deleted_classes": ["ChatAgent"]}])
    d = lf.diff(before, manifest(("chat", "ChatAgent")), timestamp=TS)
    assert d.next_entry is not None and d.next_entry["tag"] == "v3"
    assert lf.apply_diff(before, d)["classes"]["chat"]["firstTag"] == "v3"


def test_tv51_append_only() -> None:
    before = lock(("foo", "Foo", "v1"))
    after = lf.apply_diff(before, lf.diff(before, manifest(("foo", "Foo"), ("bar", "Bar"))))
    assert [m["tag"] for m in after["migrations"]] == ["v1", "v2"]
    assert before["migrations"] == [{"tag": "v1"}]


def test_move_keeps_missing_first_tag_fallback_and_other_keys() -> None:
    before: lf.Lockfile = {"version": 1, "migrations": [], "classes": {
        "a": {"className": "A"}, "r": {"className": "Old", "agentId": "r", "extra": 1}}}
    d = lf.diff(before, manifest(("b", "A"), ("r", "New")), timestamp=TS)
    after = lf.apply_diff(before, d)
    assert after["classes"]["b"] == {"agentId": "b", "className": "A", "firstTag": "v1"}
    assert after["classes"]["r"] == {"className": "New", "agentId": "r", "extra": 1}


def test_agent_id_shadowing_object_prototype() -> None:
    """JS ``classes["constructor"]`` finds Object's constructor: ayjnt records a rename from
    ``undefined`` instead of an addition."""
    d = lf.diff(lf.empty_lockfile(), manifest(("constructor", "Ctor")), timestamp=TS)
    assert d.next_entry == {"tag": "v1", "timestamp": TS, "renamed_classes": [{"to": "Ctor"}]}
    assert "undefined -> Ctor (agentId: constructor)" in lf.format_diff(d)
    assert lf.apply_diff(lf.empty_lockfile(), d)["classes"] == {"constructor": {
        "className": "Ctor"}}


def test_diff_refuses_duplicate_class_in_memory() -> None:
    bad: lf.Lockfile = {"version": 1, "migrations": [], "classes": {
        "a": {"className": "X"}, "b": {"className": "X"}}}
    with pytest.raises(AyjntError, match='lists class "X" under two agentIds'):
        lf.diff(bad, manifest())


def test_integer_like_agent_ids_come_first() -> None:
    before = lf.parse_lockfile(b'{"version":1,"migrations":[],"classes":{"b":{"className":"B"},'
                               b'"10":{"className":"T"},"2":{"className":"W"}}}')
    assert list(before["classes"]) == ["2", "10", "b"]
    d = lf.diff(before, manifest(("5", "F"), ("b", "B"), ("10", "T"), ("2", "W")),
                timestamp=TS)
    out = lf.serialize(lf.apply_diff(before, d)).decode()
    keys = [line.strip().split('"')[1] for line in out.splitlines() if line.startswith('    "')]
    assert keys == ["2", "5", "10", "b"]


# --- E. read / write ----------------------------------------------------------------------


def test_tv52_absent() -> None:
    assert lf.parse_lockfile(None) == {"version": 1, "migrations": [], "classes": {}}


def _read_error(data: bytes) -> str:
    with pytest.raises(AyjntError) as info:
        lf.parse_lockfile(data, "/p/.ayjnt/migrations.json")
    return info.value.message


SHAPE_TAIL = (". This file is the committed source of truth for production migrations — restore "
              "it from git rather than editing by hand.")


def test_tv53_invalid_json() -> None:
    msg = _read_error(b"{ not json")
    assert msg.startswith("/p/.ayjnt/migrations.json is not valid JSON (")
    assert msg.endswith("restore it from git (git checkout -- .ayjnt/migrations.json) rather "
                        "than deleting it.")


@pytest.mark.parametrize(("data", "why"), [
    pytest.param(b'{"version":1,"migrations":"nope","classes":{}}',
                 '"migrations" must be an array', id="TV-54"),
    pytest.param(b'{"version":2,"migrations":[],"classes":{}}',
                 "unsupported lockfile version 2 — this ayjnt build expects version 1",
                 id="TV-55-v2"),
    pytest.param(b'{"version":999}', "unsupported lockfile version 999 — this ayjnt build "
                 "expects version 1", id="TV-55-v999"),
    pytest.param(b'{"version":"1"}', 'unsupported lockfile version "1" — this ayjnt build '
                 "expects version 1", id="version-string"),
    pytest.param(b"{}", "unsupported lockfile version undefined — this ayjnt build expects "
                 "version 1", id="version-missing"),
    pytest.param(b'{"version":true}', "unsupported lockfile version true — this ayjnt build "
                 "expects version 1", id="version-bool"),
    pytest.param(b'{"version":[1, {"a": null}]}', 'unsupported lockfile version [1,{"a":null}] '
                 "— this ayjnt build expects version 1", id="version-compact-json"),
    pytest.param(b"[]", "unsupported lockfile version undefined — this ayjnt build expects "
                 "version 1", id="array-passes-typeof-object"),
    pytest.param(b"null", "expected a JSON object", id="null"),
    pytest.param(b"42", "expected a JSON object", id="number"),
    pytest.param(b'"x"', "expected a JSON object", id="string"),
    pytest.param(b'{"version":1,"migrations":[{}],"classes":{}}',
                 'every migration entry needs a string "tag"', id="entry-no-tag"),
    pytest.param(b'{"version":1,"migrations":[{"tag":1}],"classes":{}}',
                 'every migration entry needs a string "tag"', id="entry-tag-number"),
    pytest.param(b'{"version":1,"migrations":[null],"classes":{}}',
                 'every migration entry needs a string "tag"', id="entry-null"),
    pytest.param(b'{"version":1,"migrations":[],"classes":[]}',
                 '"classes" must be an object keyed by agentId', id="classes-array"),
    pytest.param(b'{"version":1,"migrations":[]}',
                 '"classes" must be an object keyed by agentId', id="classes-missing"),
    pytest.param(b'{"version":1,"migrations":[],"classes":{"a":{"className":5}}}',
                 'classes["a"] needs a string "className"', id="class-name-number"),
    pytest.param(b'{"version":1,"migrations":[],"classes":{"a":"A"}}',
                 'classes["a"] needs a string "className"', id="class-entry-string"),
    pytest.param(b'{"version":1,"migrations":[],"classes":{"a":{"className":"ChatAgent"},'
                 b'"b":{"className":"ChatAgent"}}}',
                 'class "ChatAgent" appears under two agentIds ("a" and "b") — likely a bad '
                 "merge-conflict resolution; each class may appear once", id="TV-56"),
])
def test_shape_errors(data: bytes, why: str) -> None:
    assert _read_error(data) == f"/p/.ayjnt/migrations.json: {why}{SHAPE_TAIL}"


def test_issue11_b_leading_bom_is_dropped_as_bun_does() -> None:
    data = b'\xef\xbb\xbf{"version":1,"migrations":[],"classes":{}}'
    assert lf.parse_lockfile(data) == {"version": 1, "migrations": [], "classes": {}}


def test_only_one_bom_is_dropped() -> None:
    """Bun's text() drops one BOM; JSON.parse then refuses a second (checked under Bun)."""
    assert "is not valid JSON (" in _read_error(b"\xef\xbb\xbf\xef\xbb\xbf{}")


def test_issue10_4_version_over_4300_digits_is_a_number() -> None:
    """JSON.parse reads 10**5000 as Infinity, which is not 1 (Python's int() refuses it)."""
    assert _read_error(b'{"version":1' + b"0" * 5000 + b"}") == (
        "/p/.ayjnt/migrations.json: unsupported lockfile version null — this ayjnt build "
        f"expects version 1{SHAPE_TAIL}")


def test_issue10_4_numbers_are_read_and_written_as_doubles() -> None:
    """What ``ayjnt build`` writes back for numbers it does not touch (checked under Bun)."""
    data = (b'{"version":1,"migrations":[{"tag":"v1","n":1' + b"0" * 5000 +
            b',"m":12345678901234567890,"f":1.5e300,"z":-0,"big":-1' + b"0" * 400 +
            b'}],"classes":{}}')
    entry = lf.serialize(lf.parse_lockfile(data)).decode().split("\n")[5:11]
    assert entry == ['      "n": null,', '      "m": 12345678901234567000,',
                     '      "f": 1.5e+300,', '      "z": 0,', '      "big": null', "    }"]


def test_issue11_d_lone_surrogate_class_name() -> None:
    """``"\\ud800"`` in the lockfile: a rename from it, written back as the same escape."""
    data = (b'{"version":1,"migrations":[{"tag":"v1"}],"classes":{"a":{"agentId":"a",'
            b'"className":"\\ud800","firstTag":"v1"}}}')
    lock = lf.parse_lockfile(data)
    d = lf.diff(lock, manifest(("a", "AAgent")), timestamp=TS)
    assert d.next_entry == {"tag": "v2", "timestamp": TS,
                            "renamed_classes": [{"from": "\ud800", "to": "AAgent"}]}
    written = lf.serialize(lf.apply_diff(lock, d))
    assert b'"from": "\\ud800"' in written and json.loads(written) == lf.apply_diff(lock, d)


def test_float_version_is_one() -> None:
    assert lf.parse_lockfile(b'{"version":1.0,"migrations":[],"classes":{}}')["version"] == 1


def test_empty_agent_id_is_falsy_in_duplicate_check() -> None:
    data = b'{"version":1,"migrations":[],"classes":{"":{"className":"X"},"b":{"className":"X"}}}'
    assert lf.parse_lockfile(data)["classes"]["b"]["className"] == "X"


@pytest.mark.parametrize("data", [
    pytest.param(b"", id="empty"),
    pytest.param(b"\x00\x01\x02", id="binary"),
    pytest.param(b"[" * 200_000 + b"]" * 200_000, id="deeply-nested"),
    pytest.param(b'{"version": NaN}', id="nan-is-not-json"),
    pytest.param(b'{"version":1,"migrations":[],"classes":{}} x', id="trailing-garbage"),
])
def test_invalid_json_variants(data: bytes) -> None:
    assert "is not valid JSON (" in _read_error(data)


def test_conflict_markers_named() -> None:
    data = b'{\n<<<<<<< HEAD\n  "version": 1,\n=======\n  "version": 1,\n>>>>>>> other\n}\n'
    assert "git merge-conflict markers" in _read_error(data)


def test_large_file() -> None:
    big = {"version": 1, "migrations": [{"tag": f"v{i}", "timestamp": TS,
                                         "new_sqlite_classes": [f"C{i}"]} for i in range(400_000)],
           "classes": {}}
    data = json.dumps(big).encode()
    assert len(data) > 30_000_000
    assert lf.next_tag(lf.parse_lockfile(data)) == "v400000"


def test_tv57_round_trip() -> None:
    obj = {"version": 1, "migrations": [{"tag": "v1", "timestamp": "2026-04-14T00:00:00Z",
                                         "new_sqlite_classes": ["A"]}],
           "classes": {"a": {"agentId": "a", "className": "A", "firstTag": "v1"}}}
    data = lf.serialize(obj)
    assert data == (json.dumps(obj, indent=2) + "\n").encode()
    assert lf.parse_lockfile(data) == obj


@pytest.mark.parametrize(("value", "text"), [
    pytest.param("é\u2028", '"é\u2028"', id="non-ascii-raw"),
    pytest.param("\x01\x7f", '"\\u0001\x7f"', id="control"),
    pytest.param("\ud800", '"\\ud800"', id="lone-surrogate-escaped"),
    pytest.param(1e21, "1e+21", id="big-float"),
    pytest.param(1.0, "1", id="integral-float"),
    pytest.param(float("inf"), "null", id="infinity"),
])
def test_js_serialisation(value: Any, text: str) -> None:
    from ayjnt_hooks.engine.jsjson import stringify
    assert stringify(value) == text


def test_wrangler_projection() -> None:
    before = {"version": 1, "migrations": [
        {"tag": "v1", "timestamp": TS, "new_sqlite_classes": ["A"]},
        {"timestamp": TS, "deleted_classes": ["A"], "tag": "v2", "other": 1}], "classes": {}}
    assert lf.wrangler_migrations(before) == [{"tag": "v1", "new_sqlite_classes": ["A"]},
                                              {"tag": "v2", "deleted_classes": ["A"]}]


def test_js_now_is_what_datetime_would_write() -> None:
    """``new Date().toISOString()``, made from :mod:`time` (datetime is not imported)."""
    from datetime import datetime, timedelta, timezone

    before = datetime.now(timezone.utc)
    now = lf.js_now()
    after = datetime.now(timezone.utc)
    assert len(now) == 24 and now[10] == "T" and now.endswith("Z")
    made = datetime.fromisoformat(now.replace("Z", "+00:00"))
    assert made.isoformat(timespec="milliseconds").replace("+00:00", "Z") == now
    # (datetime rounds to the microsecond, Date.now() floors to the millisecond)
    assert before.replace(microsecond=before.microsecond // 1000 * 1000) - made \
        <= timedelta(milliseconds=1) and made <= after
