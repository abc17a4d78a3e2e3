"""engine.rebase: the merge driver's merge_appended and rebase-lockfile's plan, pure."""
from __future__ import annotations

from typing import Any

import pytest

from ayjnt_hooks.engine import lockfile as lf
from ayjnt_hooks.engine.rebase import (
    describe,
    embedded_own,
    merge_appended,
    published_side,
    rebase_lockfile,
    replay,
)
from ayjnt_hooks.engine.soundness import soundness_problems

from .test_lockfile import manifest

Entry = dict[str, Any]


def new(tag: str, *classes: str, ts: str | None = None) -> Entry:
    return {"tag": tag, "timestamp": ts or f"ts-{tag}", "new_sqlite_classes": list(classes)}


def renamed(tag: str, src: str, dst: str) -> Entry:
    return {"tag": tag, "timestamp": f"ts-{tag}", "renamed_classes": [{"from": src, "to": dst}]}


def deleted(tag: str, *classes: str) -> Entry:
    return {"tag": tag, "timestamp": f"ts-{tag}", "deleted_classes": list(classes)}


def lock(migrations: list[Entry], *classes: tuple[str, str, str]) -> lf.Lockfile:
    return {"version": 1, "migrations": migrations,
            "classes": {i: {"agentId": i, "className": c, "firstTag": t} for i, c, t in classes}}


V1 = new("v1", "ChatAgent", "NotesAgent")
BASE = lock([V1], ("chat", "ChatAgent", "v1"), ("notes", "NotesAgent", "v1"))
MAIN = lock([V1, new("v2", "XAgent")], ("chat", "ChatAgent", "v1"),
            ("notes", "NotesAgent", "v1"), ("x", "XAgent", "v2"))
BRANCH = lock([V1, new("v2", "YAgent")], ("chat", "ChatAgent", "v1"),
              ("notes", "NotesAgent", "v1"), ("y", "YAgent", "v2"))


# --- merge_appended (the driver) ----------------------------------------------------------


def test_the_other_side_is_renumbered_after_the_kept_one() -> None:
    out = merge_appended(BASE, MAIN, BRANCH)
    assert out.problems == []
    assert out.lockfile == lock([V1, new("v2", "XAgent"), new("v3", "YAgent", ts="ts-v2")],
                                ("chat", "ChatAgent", "v1"), ("notes", "NotesAgent", "v1"),
                                ("x", "XAgent", "v2"), ("y", "YAgent", "v3"))
    assert [(r.before["tag"], r.after["tag"]) for r in out.renumbered] == [("v2", "v3")]
    swapped = merge_appended(BASE, BRANCH, MAIN)  # the kept side decides, not the position
    assert swapped.lockfile is not None
    assert [m.get("new_sqlite_classes") for m in swapped.lockfile["migrations"]] == [
        ["ChatAgent", "NotesAgent"], ["YAgent"], ["XAgent"]]


def test_several_entries_keep_their_order_and_first_tags() -> None:
    branch = lock([V1, new("v2", "YAgent"), renamed("v3", "YAgent", "ZAgent")],
                  ("chat", "ChatAgent", "v1"), ("notes", "NotesAgent", "v1"),
                  ("y", "ZAgent", "v2"))
    out = merge_appended(BASE, MAIN, branch)
    assert out.lockfile is not None
    assert [describe(m) for m in out.lockfile["migrations"][2:]] == [
        "v3 (+YAgent)", "v4 (~YAgent -> ZAgent)"]
    assert out.lockfile["classes"]["y"] == {"agentId": "y", "className": "ZAgent",
                                            "firstTag": "v3"}


def test_an_entry_the_kept_side_already_has_is_dropped() -> None:
    picked = lock([V1, new("v2", "XAgent"), new("v3", "YAgent")],
                  ("chat", "ChatAgent", "v1"), ("notes", "NotesAgent", "v1"),
                  ("x", "XAgent", "v2"), ("y", "YAgent", "v3"))  # main cherry-picked Y
    out = merge_appended(BASE, picked, BRANCH)
    assert out.lockfile == picked
    assert [(a["tag"], b["tag"]) for a, b in out.dropped] == [("v2", "v3")]


def test_move_on_one_side_rename_on_the_other() -> None:
    moved = lock([V1], ("notes", "NotesAgent", "v1"), ("talk", "ChatAgent", "v1"))
    renamed_side = lock([V1, renamed("v2", "ChatAgent", "TalkAgent")],
                        ("chat", "TalkAgent", "v1"), ("notes", "NotesAgent", "v1"))
    for keep, other in ((moved, renamed_side), (renamed_side, moved)):
        out = merge_appended(BASE, keep, other)
        assert out.lockfile is not None, out.problems
        assert out.lockfile["classes"]["talk"] == {"agentId": "talk",
                                                   "className": "TalkAgent",
                                                   "firstTag": "v1"}
        assert set(out.lockfile["classes"]) == {"notes", "talk"}


@pytest.mark.parametrize(("keep", "other", "needle"), [
    pytest.param(lock([new("v1", "ChatAgent", "NotesAgent", ts="edited")],
                      ("chat", "ChatAgent", "v1"), ("notes", "NotesAgent", "v1")),
                 BRANCH, "HEAD changed entry #1", id="kept-side-edited-history"),
    pytest.param(MAIN, lock([], ), "theirs changed entry #1", id="other-dropped-history"),
    pytest.param(MAIN, lock([V1, new("v2", "XAgent")], ("chat", "ChatAgent", "v1"),
                            ("notes", "NotesAgent", "v1"), ("xx", "XAgent", "v2")),
                 "both sides create class 'XAgent'", id="same-class-other-folder"),
    pytest.param(lock([V1], ("notes", "NotesAgent", "v1"), ("talk", "ChatAgent", "v1")),
                 lock([V1], ("notes", "NotesAgent", "v1"), ("speak", "ChatAgent", "v1")),
                 "both sides moves class 'ChatAgent'", id="moved-apart"),
    pytest.param(lock([V1, renamed("v2", "ChatAgent", "TalkAgent")],
                      ("chat", "TalkAgent", "v1"), ("notes", "NotesAgent", "v1")),
                 lock([V1, deleted("v2", "ChatAgent")], ("notes", "NotesAgent", "v1")),
                 "theirs deletes class 'ChatAgent', which the other side renames",
                 id="rename-vs-delete"),
    pytest.param(MAIN, lock([V1, new("v2", "XAgent", "ZAgent")], ("chat", "ChatAgent", "v1"),
                            ("notes", "NotesAgent", "v1"), ("x", "XAgent", "v2"),
                            ("z", "ZAgent", "v2")),
                 "already exists", id="same-class-added-twice"),
    pytest.param(lock([V1, new("v2", "XAgent")], ("chat", "ChatAgent", "v1"),
                      ("notes", "NotesAgent", "v1")),
                 BRANCH, "HEAD's \"classes\" does not match", id="kept-side-unsound"),
    pytest.param(lock([V1, new("v2", "XAgent")], ("chat", "ChatAgent", "v1"),
                      ("notes", "NotesAgent", "v1"), ("y", "XAgent", "v2")),
                 BRANCH, "two classes end up under agentId 'y'", id="key-collision"),
    pytest.param(MAIN, lock([V1, {"tag": "v2", "new_sqlite_classes": ["YAgent"]},
                             new("initial", "ZAgent")], ("chat", "ChatAgent", "v1"),
                            ("notes", "NotesAgent", "v1"), ("y", "YAgent", "v2"),
                            ("z", "ZAgent", "initial")), None, id="foreign-tag-kept"),
    pytest.param(lock([V1, new("initial", "XAgent")], ("chat", "ChatAgent", "v1"),
                      ("notes", "NotesAgent", "v1"), ("x", "XAgent", "initial")),
                 lock([V1, new("initial", "YAgent")], ("chat", "ChatAgent", "v1"),
                      ("notes", "NotesAgent", "v1"), ("y", "YAgent", "initial")),
                 "reuses a tag", id="foreign-tag-reused"),
])
def test_merge_conflicts(keep: lf.Lockfile, other: lf.Lockfile, needle: str | None) -> None:
    out = merge_appended(BASE, keep, other, keep_label="HEAD")
    if needle is None:
        assert out.problems == [] and out.lockfile is not None
        assert [m["tag"] for m in out.lockfile["migrations"]] == ["v1", "v2", "v3", "initial"]
        return
    assert out.lockfile is None
    assert any(needle in p for p in out.problems), out.problems


def test_one_side_deletes_what_the_other_left_alone() -> None:
    gone = lock([V1, deleted("v2", "NotesAgent")], ("chat", "ChatAgent", "v1"))
    out = merge_appended(BASE, MAIN, gone)
    assert out.lockfile is not None
    assert set(out.lockfile["classes"]) == {"chat", "x"}
    assert soundness_problems(out.lockfile) == []


def test_one_side_deletes_what_the_other_moved() -> None:
    gone = lock([V1, deleted("v2", "NotesAgent")], ("chat", "ChatAgent", "v1"))
    moved = lock([V1], ("chat", "ChatAgent", "v1"), ("memo", "NotesAgent", "v1"))
    out = merge_appended(BASE, moved, gone, other_label="B")
    assert out.lockfile is None and "B deletes class 'NotesAgent'" in out.problems[0]


def test_mid_rebase_head_holds_the_base_renumbered() -> None:
    """Step 2 of a rebase: HEAD already carries step 1's entry under a new tag."""
    step1 = lock([V1, new("v2", "YAgent")], ("chat", "ChatAgent", "v1"),
                 ("notes", "NotesAgent", "v1"), ("y", "YAgent", "v2"))
    head = lock([V1, new("v2", "XAgent"), new("v3", "YAgent", ts="ts-v2")],
                ("chat", "ChatAgent", "v1"), ("notes", "NotesAgent", "v1"),
                ("x", "XAgent", "v2"), ("y", "YAgent", "v3"))
    step2 = lock([*step1["migrations"], new("v3", "ZAgent")], *[
        (k, v["className"], v["firstTag"]) for k, v in step1["classes"].items()],
        ("z", "ZAgent", "v3"))
    assert embedded_own(step1["migrations"], head["migrations"]) == [new("v2", "XAgent")]
    out = merge_appended(step1, head, step2)
    assert out.lockfile is not None, out.problems
    assert [describe(m) for m in out.lockfile["migrations"][1:]] == [
        "v2 (+XAgent)", "v3 (+YAgent)", "v4 (+ZAgent)"]
    assert out.lockfile["classes"]["z"]["firstTag"] == "v4"
    assert embedded_own([new("v2", "QAgent")], head["migrations"]) is None


def test_replay_and_describe() -> None:
    assert replay({}, [new("v1", "A"), renamed("v2", "A", "B")]) == ({"B": ("new", "A")}, set())
    assert replay({}, [deleted("v1", "A")]) is None
    assert replay({"A": ("base", "A")}, [renamed("v2", "A", "A")]) is not None
    assert describe({"tag": "v9"}) == "v9"
    assert describe({"tag": "v2", "renamed_classes": [{"to": "X"}]}) == "v2 (~None -> X)"


def test_published_side() -> None:
    refs = [("origin/HEAD", lf.empty_lockfile()), ("origin/main", MAIN)]
    assert published_side(BRANCH, MAIN, refs) == ("b", "origin/main")
    assert published_side(MAIN, BRANCH, refs) == ("a", "origin/main")
    assert published_side(BRANCH, BRANCH, refs) is None
    moved = lock([V1], ("notes", "NotesAgent", "v1"), ("talk", "ChatAgent", "v1"))
    assert published_side(BASE, moved, [("origin/main", moved)]) == ("b", "origin/main")


# --- rebase_lockfile (the command's plan) -----------------------------------------------

TREE = manifest(("chat", "ChatAgent"), ("notes", "NotesAgent"), ("x", "XAgent"),
                ("y", "YAgent"))


def test_the_branch_entry_is_renumbered_with_its_timestamp() -> None:
    plan = rebase_lockfile(MAIN, TREE, branch=BRANCH, base=BASE, upstream_label="origin/main")
    assert plan.result is not None and plan.refusal is None
    assert plan.result["migrations"][2] == new("v3", "YAgent", ts="ts-v2")
    assert [(r.before["tag"], r.after["tag"]) for r in plan.renumbered] == [("v2", "v3")]
    assert plan.upstream_new == [new("v2", "XAgent")]
    again = rebase_lockfile(MAIN, TREE, branch=BRANCH, base=BASE, current=plan.result)
    assert again.up_to_date and again.result == plan.result


def test_several_branch_entries_fold_into_one() -> None:
    branch = lock([V1, new("v2", "YAgent"), new("v3", "ZAgent")], *[
        (k, v["className"], v["firstTag"]) for k, v in BRANCH["classes"].items()],
        ("z", "ZAgent", "v3"))
    tree = manifest(*[(a.agent_id, a.class_name) for a in TREE.agents], ("z", "ZAgent"))
    plan = rebase_lockfile(MAIN, tree, branch=branch, base=BASE, timestamp="now")
    assert plan.result is not None
    assert plan.result["migrations"][2:] == [new("v3", "YAgent", "ZAgent", ts="now")]
    assert [e["tag"] for e in plan.folded] == ["v2", "v3"]


def test_both_sides_added_the_same_class() -> None:
    same = lock([V1, new("v2", "XAgent", ts="mine")], *[
        (k, v["className"], v["firstTag"]) for k, v in MAIN["classes"].items()])
    tree = manifest(("chat", "ChatAgent"), ("notes", "NotesAgent"), ("x", "XAgent"))
    plan = rebase_lockfile(MAIN, tree, branch=same, base=BASE, upstream_label="origin/main")
    assert plan.result == MAIN
    assert plan.dropped == [(same["migrations"][1], "origin/main already has it as v2")]


def test_a_branch_that_edited_history_is_refused() -> None:
    edited = lock([new("v1", "ChatAgent", "NotesAgent", "Extra"), new("v2", "YAgent")])
    plan = rebase_lockfile(MAIN, TREE, branch=edited, base=BASE, upstream_label="origin/main")
    assert plan.result is None
    assert "this branch changed entry #1" in (plan.refusal or "")
    assert "v1 (+ChatAgent, +NotesAgent)" in (plan.refusal or "")
    assert "restore entry #1 as origin/main has it" in (plan.fix_hint or "")


def test_a_branch_whose_entries_do_not_replay_is_refused() -> None:
    broken = lock([V1, deleted("v2", "GhostAgent")])
    plan = rebase_lockfile(MAIN, TREE, branch=broken, base=BASE)
    assert plan.result is None and "do not replay" in (plan.refusal or "")


def test_a_rename_that_would_become_delete_and_add_is_refused() -> None:
    """The branch renamed NotesAgent -> MemoAgent (v2), then moved its folder (no entry). One
    build from main would delete NotesAgent and add MemoAgent: storage lost."""
    branch = lock([V1, renamed("v2", "NotesAgent", "MemoAgent")],
                  ("chat", "ChatAgent", "v1"), ("memo", "MemoAgent", "v1"))
    tree = manifest(("chat", "ChatAgent"), ("memo", "MemoAgent"), ("x", "XAgent"))
    plan = rebase_lockfile(MAIN, tree, branch=branch, base=BASE, fix_deletions=True)
    assert plan.result is None
    assert "would delete NotesAgent (agentId notes) and add MemoAgent" in (plan.refusal or "")
    assert plan.fix_hint == ('pin the old id: add `export const agentId = "notes";` to '
                             "agents/memo/agent.ts, then re-run `ayjnt-hooks rebase-lockfile`")
    pinned = manifest(("chat", "ChatAgent"), ("notes", "MemoAgent"), ("x", "XAgent"))
    ok = rebase_lockfile(MAIN, pinned, branch=branch, base=BASE)
    assert ok.result is not None
    assert describe(ok.result["migrations"][-1]) == "v3 (~NotesAgent -> MemoAgent)"


@pytest.mark.parametrize(("branch", "tree", "why"), [
    pytest.param(lock([V1, deleted("v2", "NotesAgent")], ("chat", "ChatAgent", "v1")),
                 manifest(("chat", "ChatAgent"), ("x", "XAgent")), "this branch deletes it",
                 id="branch-deleted"),
    pytest.param(BRANCH, manifest(("chat", "ChatAgent"), ("notes", "NotesAgent"),
                                  ("y", "YAgent")),
                 "origin/main added it, and the working tree no longer has it",
                 id="upstream-added"),
    pytest.param(BRANCH, manifest(("notes", "NotesAgent"), ("x", "XAgent"), ("y", "YAgent")),
                 "the working tree no longer has it", id="tree-lacks"),
])
def test_deletions_need_the_flag(branch: lf.Lockfile, tree: Any, why: str) -> None:
    plan = rebase_lockfile(MAIN, tree, branch=branch, base=BASE, upstream_label="origin/main",
                           timestamp="t")
    assert plan.result is not None and [d.why for d in plan.deletions] == [why]
    allowed = rebase_lockfile(MAIN, tree, branch=branch, base=BASE, fix_deletions=True,
                              timestamp="t")
    assert allowed.deletions == [] and allowed.result == plan.result
    assert soundness_problems(allowed.result) == []


def test_without_a_merge_base_the_common_prefix_stands_in() -> None:
    plan = rebase_lockfile(MAIN, TREE, branch=BRANCH)
    assert plan.result is not None and len(plan.renumbered) == 1
    nothing = rebase_lockfile(MAIN, manifest(("chat", "ChatAgent"), ("notes", "NotesAgent"),
                                             ("x", "XAgent")), branch=BRANCH, base=BASE)
    assert nothing.result == MAIN
    assert nothing.dropped == [(BRANCH["migrations"][1],
                                "the integrated tree needs no new entry for it")]
