"""`ayjnt-hooks rebase-lockfile` and the merge driver on real repositories: branches that each
add, rename, delete or move agents land on main by merge, rebase, `pull --rebase` and
cherry-pick, in every order; each landing is verified by `integrate.World.verify`."""
from __future__ import annotations

import contextlib
import io
import itertools
import json
import os
import subprocess
from pathlib import Path

import pytest

from ayjnt_hooks.cli import main
from ayjnt_hooks.engine import lockfile as lf
from ayjnt_hooks.engine.rebase import describe

from .conftest import agent_src, tree_hashes, write_files
from .integrate import BASE_AGENTS, LOCK, METHODS, SLOTS, World, build, pushing, run_cli

KINDS = ("add", "rename", "delete", "move")
PAIRS = list(itertools.product(KINDS, KINDS))


# Every (pair, method) combination runs once, resolved either by `rebase-lockfile` or by the
# merge driver: each pair goes through all four methods, two with each resolver (each landing
# costs real git runs, so the full cross product twice over would double the suite).
CLI_CASES = [(a, b, METHODS[(i + j) % 4]) for i, (a, b) in enumerate(PAIRS) for j in (1, 3)]


@pytest.mark.parametrize(("first", "second", "method"), CLI_CASES,
                         ids=[f"{a}-then-{b}-{m}" for a, b, m in CLI_CASES])
def test_two_branches_rebase_lockfile(tmp_path: Path, first: str, second: str, method: str
                                      ) -> None:
    w = World(tmp_path, driver=False)
    w.branch("a", first, 0)
    w.branch("b", second, 1)
    w.land("a", method, deletes=first == "delete")
    info = w.land("b", method, deletes=second == "delete")
    if "move" not in (first, second):  # both appended an entry: git cannot merge the text
        assert info["stopped"] and info["resolved_by"] == "rebase-lockfile", info
    if info["resolved_by"] == "rebase-lockfile":
        assert info["bytes_equal"]  # byte for byte what `ayjnt build` writes from origin/main


DRIVER_CASES = [(a, b, METHODS[(i + j) % 4]) for i, (a, b) in enumerate(PAIRS) for j in (0, 2)]


@pytest.mark.parametrize(("first", "second", "method"), DRIVER_CASES,
                         ids=[f"{a}-then-{b}-{m}" for a, b, m in DRIVER_CASES])
def test_two_branches_merge_driver(tmp_path: Path, first: str, second: str, method: str
                                   ) -> None:
    w = World(tmp_path, driver=True)
    w.branch("a", first, 0)
    w.branch("b", second, 1)
    w.land("a", method)
    info = w.land("b", method)
    assert info["resolved_by"] is None, info  # the driver merged it: no conflict left
    assert info["bytes_equal"], info


def test_every_pair_and_method_runs_once() -> None:
    every = [(a, b, m) for a, b in PAIRS for m in METHODS]
    assert sorted(CLI_CASES + DRIVER_CASES) == sorted(every)


ORDERS = list(itertools.permutations(range(3)))


# Every order through every method; the driver on for half of them (alternating).
THREE = [(o, m, (i + k) % 2 == 1) for i, o in enumerate(ORDERS) for k, m in enumerate(METHODS)]


@pytest.mark.parametrize(("order", "method", "driver"), THREE,
                         ids=[f"{''.join('abc'[i] for i in o)}-{m}-{'driver' if d else 'cli'}"
                              for o, m, d in THREE])
def test_three_branches(tmp_path: Path, order: tuple[int, ...], method: str, driver: bool
                        ) -> None:
    w = World(tmp_path, driver=driver)
    kinds = ("add", "rename", "delete")
    for i, kind in enumerate(kinds):
        w.branch("abc"[i], kind, i)
    for i in order:
        info = w.land("abc"[i], method, deletes=kinds[i] == "delete")
        if driver:
            assert info["resolved_by"] is None, info


# --- edge cases ---------------------------------------------------------------------------


def _merge(w: World, rev: str = "origin/main") -> subprocess.CompletedProcess[bytes]:
    w.git("fetch", "-q", "origin")
    return w.try_git("merge", "--no-edit", rev)


def test_literal_result_of_the_classic_case(tmp_path: Path) -> None:
    """The issue's example, checked against a lockfile written out by hand from the reference
    rules (§2.3 diff, §2.4 tags, §2.5 applyDiff, §2.7 serialisation), not from our engine."""
    w = World(tmp_path, driver=False)
    w.branch("a", "add", 0)
    w.branch("b", "add", 1)
    w.land("a", "merge")
    w.git("checkout", "-q", "b")
    assert _merge(w).returncode != 0
    assert run_cli("rebase-lockfile", "--cwd", str(w.work))[0] == 0
    lock = json.loads((w.work / LOCK).read_text())
    stamps = [m["timestamp"] for m in lock["migrations"]]
    expected = """{
  "version": 1,
  "migrations": [
    {
      "tag": "v1",
      "timestamp": "@1",
      "new_sqlite_classes": [
        "AdminAgent",
        "ChatAgent",
        "DocsAgent",
        "NotesAgent"
      ]
    },
    {
      "tag": "v2",
      "timestamp": "@2",
      "new_sqlite_classes": [
        "XrayAgent"
      ]
    },
    {
      "tag": "v3",
      "timestamp": "@3",
      "new_sqlite_classes": [
        "YankeeAgent"
      ]
    }
  ],
  "classes": {
    "admin_v1": {
      "agentId": "admin_v1",
      "className": "AdminAgent",
      "firstTag": "v1"
    },
    "chat": {
      "agentId": "chat",
      "className": "ChatAgent",
      "firstTag": "v1"
    },
    "docs": {
      "agentId": "docs",
      "className": "DocsAgent",
      "firstTag": "v1"
    },
    "notes": {
      "agentId": "notes",
      "className": "NotesAgent",
      "firstTag": "v1"
    },
    "xray": {
      "agentId": "xray",
      "className": "XrayAgent",
      "firstTag": "v2"
    },
    "yankee": {
      "agentId": "yankee",
      "className": "YankeeAgent",
      "firstTag": "v3"
    }
  }
}
"""
    for i, stamp in enumerate(stamps, 1):
        expected = expected.replace(f'"@{i}"', json.dumps(stamp))
    assert (w.work / LOCK).read_text() == expected
    # the renumbered entry kept the branch's timestamp
    assert stamps[2] == json.loads(w.git("show", f"b:{LOCK}"))["migrations"][1]["timestamp"]


def test_literal_result_move_then_rename(tmp_path: Path) -> None:
    """A moved a folder (classes only: `chat` re-keyed to `talk`, appended last, §2.5 step 1);
    B renamed NotesAgent (v2 renamed_classes, the key keeps its place, §2.5 step 4). Written
    out by hand from the reference rules."""
    w = World(tmp_path, driver=False)
    w.branch("a", "move", 0)
    w.branch("b", "rename", 1)
    w.land("a", "merge")
    w.land("b", "merge")
    stamps = [m["timestamp"] for m in json.loads((w.work / LOCK).read_text())["migrations"]]

    def block(key: str, cls: str) -> str:
        return (f'    "{key}": {{\n      "agentId": "{key}",\n      "className": "{cls}",\n'
                '      "firstTag": "v1"\n    }')

    expected = ('{\n  "version": 1,\n  "migrations": [\n    {\n      "tag": "v1",\n'
                f'      "timestamp": "{stamps[0]}",\n      "new_sqlite_classes": [\n'
                '        "AdminAgent",\n        "ChatAgent",\n        "DocsAgent",\n'
                '        "NotesAgent"\n      ]\n    },\n    {\n      "tag": "v2",\n'
                f'      "timestamp": "{stamps[1]}",\n      "renamed_classes": [\n        {{\n'
                '          "from": "NotesAgent",\n          "to": "MemoAgent"\n        }\n'
                '      ]\n    }\n  ],\n  "classes": {\n'
                + ",\n".join((block("admin_v1", "AdminAgent"), block("docs", "DocsAgent"),
                               block("notes", "MemoAgent"), block("talk", "ChatAgent")))
                + "\n  }\n}\n")
    assert (w.work / LOCK).read_text() == expected


def test_check_writes_nothing(tmp_path: Path) -> None:
    w = World(tmp_path, driver=False)
    w.branch("a", "add", 0)
    w.branch("b", "rename", 1)
    w.land("a", "merge")
    w.git("checkout", "-q", "b")
    assert _merge(w).returncode != 0
    before = tree_hashes(tmp_path)
    code, out = run_cli("rebase-lockfile", "--check", "--cwd", str(w.work))
    assert code == 1, out
    assert "a rebase is needed (--check: nothing written)" in out
    assert "renumbered:  v2 (~NotesAgent -> MemoAgent) became v3 (~NotesAgent -> MemoAgent)" \
        in out
    code, out = run_cli("rebase-lockfile", "--check", "--json", "--cwd", str(w.work))
    data = json.loads(out)
    assert (code, data["ok"], data["needed"], data["written"]) == (1, False, True, False)
    assert data["renumbered"] == [{"from": "v2", "to": "v3",
                                   "entry": "v3 (~NotesAgent -> MemoAgent)"}]
    assert data["onto"]["ref"] == "origin/main"
    assert data["next"] == []
    assert tree_hashes(tmp_path) == before
    code, out = run_cli("rebase-lockfile", "--json", "--cwd", str(w.work))
    data = json.loads(out)
    assert (code, data["written"]) == (0, True)
    assert data["next"] == [f"git add {LOCK}", "git merge --continue"]
    assert run_cli("rebase-lockfile", "--check", "--cwd", str(w.work))[0] == 0


@pytest.mark.parametrize("link", ["folder", "file"])
def test_never_writes_through_a_symlink(tmp_path: Path, link: str,
                                        capfd: pytest.CaptureFixture[str]) -> None:
    """A symlinked `.ayjnt/` (or lockfile) would carry the write to wherever it points."""
    w = World(tmp_path, driver=False)
    w.branch("a", "add", 0)
    w.branch("b", "add", 1)
    w.land("a", "merge")
    w.git("checkout", "-q", "b")
    assert _merge(w).returncode != 0
    outside = tmp_path / "outside"
    outside.mkdir()
    if link == "folder":
        os.rename(w.work / ".ayjnt", outside / ".ayjnt")
        os.symlink(outside / ".ayjnt", w.work / ".ayjnt")
    else:
        os.rename(w.work / LOCK, outside / "migrations.json")
        os.symlink(outside / "migrations.json", w.work / LOCK)
    before = tree_hashes(outside)
    capfd.readouterr()
    code, out = run_cli("rebase-lockfile", "--cwd", str(w.work))
    err = capfd.readouterr().err
    assert code == 3, out
    assert "is a symbolic link; ayjnt-hooks does not write through links" in err
    assert tree_hashes(outside) == before
    assert (w.work / (".ayjnt" if link == "folder" else LOCK)).is_symlink()


def test_both_sides_add_the_same_class(tmp_path: Path) -> None:
    for driver in (False, True):
        w = World(tmp_path / str(driver), driver=driver)
        w.branch("a", "add", 0)
        w.branch("b", "add", 0)  # the same folder and class on both branches
        w.land("a", "merge")
        info = w.land("b", "merge")
        assert info["result"] == w.lock_at("a") if not driver else True
        assert [m["tag"] for m in info["result"]["migrations"]] == ["v1", "v2"]
        if driver:
            assert info["resolved_by"] is None
            assert "dropped v2 (+XrayAgent): origin/main already has it as v2" \
                in info["driver_output"]
        else:
            assert "dropped:     v2 (+XrayAgent): origin/main already has it as v2" \
                in info["output"]


def test_same_class_in_two_folders_is_a_tree_error(tmp_path: Path) -> None:
    w = World(tmp_path, driver=False)
    w.branch("a", "add", 0)
    w.git("checkout", "-qB", "b", w.root)
    write_files(w.work, {"agents/other/agent.ts": agent_src("XrayAgent")})
    build(w.work)
    w.git("add", "-A")
    w.git("commit", "-qm", "same class elsewhere")
    w.land("a", "merge")
    w.git("checkout", "-q", "b")
    assert _merge(w).returncode != 0
    code, err = run_err("rebase-lockfile", "--cwd", str(w.work))
    assert code == 3
    assert 'Duplicate binding "XRAY_AGENT"' in err


def test_rename_on_one_side_delete_on_the_other(tmp_path: Path) -> None:
    w = World(tmp_path, driver=False)
    w.branch("a", "rename", 0)
    w.branch("b", "delete", 0)
    w.land("a", "merge")
    w.git("checkout", "-q", "b")
    assert _merge(w).returncode != 0
    assert w.unmerged() == {LOCK, "agents/chat/agent.ts"}
    code, err = run_err("rebase-lockfile", "--cwd", str(w.work))
    assert code == 3 and "agents/chat/agent.ts still has merge conflicts" in err
    # resolve: keep the deletion
    w.git("rm", "-q", "agents/chat/agent.ts")
    before = tree_hashes(tmp_path)
    code, out = run_cli("rebase-lockfile", "--cwd", str(w.work))
    assert code == 1, out
    assert "  - TalkAgent (agentId: chat): this branch deletes it" in out
    assert tree_hashes(tmp_path) == before
    code, out = run_cli("rebase-lockfile", "--fix-deletions", "--cwd", str(w.work))
    assert code == 0, out
    assert "folded:      v2 (-ChatAgent) became v3 (-TalkAgent)" in out
    w.git("add", LOCK)
    w.git("commit", "--no-edit", "-q")
    w.verify(w.lock_at("origin/main"), w.sha("origin/main"))


def test_rename_kept_over_a_delete(tmp_path: Path) -> None:
    w = World(tmp_path, driver=True)  # the driver cannot merge this one: it leaves the conflict
    w.branch("a", "rename", 0)
    w.branch("b", "delete", 0)
    w.land("a", "merge")
    w.git("checkout", "-q", "b")
    proc = _merge(w)
    assert proc.returncode != 0
    err = proc.stderr.decode()
    assert "ayjnt-lockfile merge driver: left .ayjnt/migrations.json conflicted" in err
    assert ("fix: run `ayjnt-hooks rebase-lockfile` (after resolving any other conflicted "
            "files)") in err
    assert b"<<<<<<< ours" in (w.work / LOCK).read_bytes()  # git's own conflict, via merge-file
    w.git("add", "agents/chat/agent.ts")  # keep TalkAgent
    code, out = run_cli("rebase-lockfile", "--cwd", str(w.work))
    assert code == 0, out
    assert "dropped:     v2 (-ChatAgent): the integrated tree needs no new entry for it" in out
    w.git("add", LOCK)
    w.git("commit", "--no-edit", "-q")
    w.verify(w.lock_at("origin/main"), w.sha("origin/main"))
    assert w.lock_at("HEAD") == w.lock_at("origin/main")


@pytest.mark.parametrize("driver", [False, True], ids=["rebase-lockfile", "driver"])
def test_move_on_one_side_edit_on_the_other(tmp_path: Path, driver: bool) -> None:
    w = World(tmp_path, driver=driver)
    w.branch("a", "move", 0)
    w.git("checkout", "-qB", "b", w.root)
    w.change("edit", SLOTS[0])
    w.change("add", SLOTS[1])
    build(w.work)
    w.git("add", "-A")
    w.git("commit", "-qm", "edit chat, add yankee")
    w.land("a", "merge")
    info = w.land("b", "merge")
    assert (w.work / "agents/talk/agent.ts").read_text().endswith("// edited\n")
    assert info["result"]["classes"]["talk"]["className"] == "ChatAgent"
    assert "chat" not in info["result"]["classes"]
    assert describe(info["result"]["migrations"][-1]) == "v2 (+YankeeAgent)"


def test_a_branch_that_edited_an_old_entry_is_refused(tmp_path: Path) -> None:
    w = World(tmp_path, driver=False)
    w.branch("a", "add", 0)
    w.git("checkout", "-qB", "b", w.root)
    lock = json.loads((w.work / LOCK).read_text())
    lock["migrations"][0]["new_sqlite_classes"].append("SneakyAgent")
    (w.work / LOCK).write_bytes(lf.serialize(lock))
    w.change("add", SLOTS[1])
    build(w.work)
    w.git("add", "-A")
    w.git("commit", "-qm", "edits v1")
    w.land("a", "merge")
    w.git("checkout", "-q", "b")
    assert _merge(w).returncode != 0
    before = tree_hashes(tmp_path)
    code, out = run_cli("rebase-lockfile", "--cwd", str(w.work))
    assert code == 3
    assert "refused, nothing changed" in out
    assert "this branch changed entry #1 of the lockfile, which the merge base has as v1 " \
           "(+AdminAgent, +ChatAgent, +DocsAgent, +NotesAgent) (the branch has v1 " \
           "(+AdminAgent, +ChatAgent, +DocsAgent, +NotesAgent, +SneakyAgent))" in out
    assert "fix: restore entry #1 as origin/main has it" in out
    assert tree_hashes(tmp_path) == before


@pytest.mark.parametrize("driver", [False, True], ids=["rebase-lockfile", "driver"])
def test_a_branch_of_two_lockfile_commits_is_rebased_commit_by_commit(tmp_path: Path,
                                                                      driver: bool) -> None:
    w = World(tmp_path, driver=driver)
    w.branch("a", "add", 0)
    w.branch("b", "add", 1)
    w.change("add", SLOTS[2])
    build(w.work)
    w.git("add", "-A")
    w.git("commit", "-qm", "b: add zulu")
    w.land("a", "merge")
    w.git("checkout", "-q", "b")
    w.git("fetch", "-q")
    stops = 0
    proc = w.try_git("rebase", "origin/main")
    while proc.returncode != 0:
        stops += 1
        code, out = run_cli("rebase-lockfile", "--cwd", str(w.work))
        assert code == 0, out
        assert "onto HEAD" in out and "git rebase --continue" in out
        w.git("add", LOCK)
        proc = w.try_git("rebase", "--continue")
    assert stops == (0 if driver else 2)
    final = w.lock_at("HEAD")
    assert [describe(m) for m in final["migrations"][1:]] == [
        "v2 (+XrayAgent)", "v3 (+YankeeAgent)", "v4 (+ZuluAgent)"]
    # every replayed commit is itself complete: nothing pending, sound
    for rev in ("HEAD~1", "HEAD"):
        with pushing(w.sha(rev), w.sha("origin/main")):
            for hook in ("check-migrations", "check-lockfile"):
                code, out = run_cli(hook, "--stage", "pre-push", "--cwd", str(w.work))
                assert code == 0, (rev, out)


def test_a_hand_resolution_is_caught_by_the_hook_and_fixed_after_the_merge(
        tmp_path: Path) -> None:
    w = World(tmp_path, driver=False)
    w.branch("a", "add", 0)
    w.branch("b", "add", 1)
    w.land("a", "merge")
    w.git("checkout", "-q", "b")
    assert _merge(w).returncode != 0
    w.git("checkout", "--theirs", LOCK)  # the common mistake: take main's lockfile
    w.git("add", LOCK)
    code, out = run_cli("check-migrations", "--stage", "pre-commit", "--cwd", str(w.work))
    assert code == 1
    assert "YankeeAgent (agentId: yankee) at /yankee" in out
    w.git("commit", "--no-edit", "-q", "--no-verify")
    # afterwards, with nothing in progress: onto origin/main (b has no upstream)
    code, out = run_cli("rebase-lockfile", "--cwd", str(w.work))
    assert code == 0, out
    assert "onto origin/main" in out and "new entry:   v3 (+YankeeAgent)" in out
    assert "next:\n  git add .ayjnt/migrations.json\n  git commit" in out
    w.git("commit", "-qam", "lockfile")
    w.verify(w.lock_at("origin/main"), w.sha("origin/main"))


def test_nothing_in_progress_needs_the_upstream_merged_first(tmp_path: Path) -> None:
    w = World(tmp_path, driver=False)
    w.branch("a", "add", 0)
    w.branch("b", "add", 1)
    w.land("a", "merge")
    w.git("checkout", "-q", "b")
    w.git("fetch", "-q")
    code, err = run_err("rebase-lockfile", "--cwd", str(w.work))
    assert code == 3
    assert "HEAD does not contain origin/main" in err
    assert "git merge origin/main, or git rebase origin/main" in err
    code, err = run_err("rebase-lockfile", "--onto", "nope", "--cwd", str(w.work))
    assert code == 3 and "--onto nope: no such commit or ref" in err


def test_a_published_feature_branch_names_the_mainline(tmp_path: Path) -> None:
    """b was pushed (its upstream origin/b holds v2: Yankee), then merged main (v2: Xray). The
    default REF, origin/b, would renumber main's entry: refused, --onto origin/main works."""
    w = World(tmp_path, driver=False)
    w.branch("a", "add", 0)
    w.branch("b", "add", 1)
    w.git("push", "-q", "-u", "origin", "b")
    w.land("a", "merge")
    w.git("checkout", "-q", "b")
    assert _merge(w).returncode != 0
    code, out = run_cli("rebase-lockfile", "--cwd", str(w.work))  # mid-merge: decided by refs
    assert code == 0 and "onto origin/main" in out, out
    w.git("checkout", "-m", LOCK)  # back to the conflict, and resolve it badly by hand
    w.git("checkout", "--ours", LOCK)
    w.git("add", LOCK)
    w.git("commit", "--no-edit", "-q", "--no-verify")
    code, out = run_cli("rebase-lockfile", "--cwd", str(w.work))
    assert code == 3, out
    assert "origin/main is already in HEAD, and this would renumber its entries" in out
    assert "fix: ayjnt-hooks rebase-lockfile --onto origin/main" in out
    code, out = run_cli("rebase-lockfile", "--onto", "origin/main", "--cwd", str(w.work))
    assert code == 0, out
    assert "renumbered:  v2 (+YankeeAgent) became v3 (+YankeeAgent)" in out


def test_project_in_a_subfolder(tmp_path: Path) -> None:
    origin, work = tmp_path / "origin.git", tmp_path / "work"
    proj = work / "apps" / "chat"
    w = World.__new__(World)
    w.env = {**os.environ, "GIT_EDITOR": "true"}
    w.work = work
    w.git_ok(tmp_path, "init", "-q", "--bare", "-b", "main", str(origin))
    w.git_ok(tmp_path, "clone", "-q", str(origin), str(work))
    write_files(proj, BASE_AGENTS)
    build(proj)
    w.git("checkout", "-qb", "main")
    assert run_cli("install", "--merge-driver", "--cwd", str(proj))[0] == 0
    assert w.git("check-attr", "merge", f"apps/chat/{LOCK}").strip().endswith("ayjnt-lockfile")
    w.git("add", "-A")
    w.git("commit", "-qm", "init")
    w.git("push", "-q", "origin", "main")
    for name, folder, cls in (("a", "xray", "XrayAgent"), ("b", "yankee", "YankeeAgent")):
        w.git("checkout", "-qB", name, "main")
        write_files(proj, {f"agents/{folder}/agent.ts": agent_src(cls)})
        build(proj)
        w.git("add", "-A")
        w.git("commit", "-qm", name)
    w.git("checkout", "-q", "main")
    w.git("merge", "-q", "a")
    w.git("push", "-q", "origin", "main")
    w.git("checkout", "-q", "b")
    proc = w.try_git("rebase", "origin/main")
    assert proc.returncode == 0, proc.stderr.decode()
    assert f"merged apps/chat/{LOCK}" in proc.stderr.decode()
    lock = lf.parse_lockfile((proj / LOCK).read_bytes())
    assert [describe(m) for m in lock["migrations"][1:]] == ["v2 (+XrayAgent)",
                                                             "v3 (+YankeeAgent)"]
    assert run_cli("check-migrations", "--stage", "manual", "--cwd", str(proj))[0] == 0
    code, out = run_cli("rebase-lockfile", "--check", "--cwd", str(proj))
    assert code == 0 and f"rebase-lockfile: apps/chat/{LOCK} onto origin/main" in out, out


def run_err(*argv: str) -> tuple[int, str]:
    err = io.StringIO()
    with contextlib.redirect_stderr(err), contextlib.redirect_stdout(io.StringIO()):
        code = main(argv)
    return code, err.getvalue()
