"""rebase-lockfile in every git state it reads (revert, am, local upstreams, two merge bases,
unpublished sides, a rebase resolved badly by hand), and the merge driver run in-process."""
from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from ayjnt_hooks.engine import lockfile as lf
from ayjnt_hooks.engine.rebase import describe

from .conftest import agent_src, write_files
from .integrate import LOCK, SLOTS, World, build, run_cli
from .test_rebase_lockfile import run_err


def _commit_agent(w: World, folder: str, cls: str, msg: str) -> None:
    write_files(w.work, {f"agents/{folder}/agent.ts": agent_src(cls)})
    build(w.work)
    w.git("add", "-A")
    w.git("commit", "-qm", msg)


def _tags(lock: lf.Lockfile) -> list[str]:
    return [describe(m) for m in lock["migrations"][1:]]


def test_a_revert_is_refused(tmp_path: Path) -> None:
    w = World(tmp_path, driver=False)
    w.git("checkout", "-q", "main")
    _commit_agent(w, "yankee", "YankeeAgent", "y")
    _commit_agent(w, "zulu", "ZuluAgent", "z")
    assert w.try_git("revert", "--no-edit", "HEAD~1").returncode != 0
    code, err = run_err("rebase-lockfile", "--cwd", str(w.work))
    assert code == 3 and "a revert is in progress" in err and "git revert --abort" in err


def test_git_am_applies_onto_head(tmp_path: Path) -> None:
    w = World(tmp_path, driver=False)
    w.branch("b", "add", 1)
    w.git("format-patch", "-q", "-1", "-o", str(tmp_path / "patches"), "b")
    w.branch("a", "add", 0)
    assert w.try_git("am", "-q", "-3", *map(str, (tmp_path / "patches").iterdir())
                     ).returncode != 0
    code, out = run_cli("rebase-lockfile", "--cwd", str(w.work))
    assert code == 0, out
    assert "onto HEAD" in out and "new entry:   v3 (+YankeeAgent)" in out
    assert out.rstrip().endswith("git am --continue")
    assert _tags(lf.parse_lockfile((w.work / LOCK).read_bytes())) == [
        "v2 (+XrayAgent)", "v3 (+YankeeAgent)"]


def test_onto_names_the_side_of_a_merge_to_keep(tmp_path: Path) -> None:
    """Two local branches, neither published: the refs cannot decide, --onto does."""
    w = World(tmp_path, driver=False)
    w.branch("a", "add", 0)
    w.branch("b", "add", 1)
    assert w.try_git("merge", "--no-edit", "a").returncode != 0
    code, err = run_err("rebase-lockfile", "--cwd", str(w.work))
    assert code == 3 and "cannot tell which side of this merge the remote already has" in err
    assert "--onto MERGE_HEAD or --onto HEAD" in err
    for onto, first in (("HEAD", "v2 (+YankeeAgent)"), ("MERGE_HEAD", "v2 (+XrayAgent)")):
        code, out = run_cli("rebase-lockfile", "--onto", onto, "--cwd", str(w.work))
        assert code == 0, out
        assert _tags(lf.parse_lockfile((w.work / LOCK).read_bytes()))[0] == first


def test_a_local_upstream_is_the_default_ref(tmp_path: Path) -> None:
    w = World(tmp_path, driver=False)
    w.git("checkout", "-q", "main")
    _commit_agent(w, "xray", "XrayAgent", "x on local main")  # not pushed
    w.git("checkout", "-qb", "b", w.root)
    w.git("branch", "-q", "--set-upstream-to", "main")
    _commit_agent(w, "yankee", "YankeeAgent", "y")
    assert w.try_git("merge", "--no-edit", "main").returncode != 0
    w.git("checkout", "--ours", LOCK)
    w.git("commit", "-qam", "bad merge", "--no-verify")
    code, out = run_cli("rebase-lockfile", "--cwd", str(w.work))
    assert code == 0, out
    assert "onto main (" in out
    assert _tags(lf.parse_lockfile((w.work / LOCK).read_bytes())) == [
        "v2 (+XrayAgent)", "v3 (+YankeeAgent)"]


def test_no_upstream_at_all(tmp_path: Path) -> None:
    w = World(tmp_path, driver=False)
    w.git("remote", "remove", "origin")
    code, err = run_err("rebase-lockfile", "--cwd", str(w.work))
    assert code == 3 and "no upstream to rebase onto" in err
    assert "ayjnt-hooks rebase-lockfile --onto <ref>" in err


def test_a_rebase_step_resolved_by_hand_is_refused(tmp_path: Path) -> None:
    w = World(tmp_path, driver=False)
    w.branch("a", "add", 0)
    write_files(w.work, {"NOTES.md": "from a\n"})
    w.git("add", "-A")
    w.git("commit", "-qm", "a: notes")
    w.branch("b", "add", 1)
    write_files(w.work, {"NOTES.md": "from b\n"})
    _commit_agent(w, "zulu", "ZuluAgent", "b: zulu and notes")
    w.land("a", "merge")
    w.git("checkout", "-q", "b")
    assert w.try_git("rebase", "origin/main").returncode != 0
    w.git("checkout", "--theirs", LOCK)  # the branch's lockfile: origin/main's v2 is gone
    w.git("add", LOCK)
    assert w.try_git("rebase", "--continue").returncode != 0  # NOTES.md stops step two
    onto = w.sha("origin/main")
    code, err = run_err("rebase-lockfile", "--cwd", str(w.work))
    assert code == 3
    assert f"changes entries of {onto[:7]}, the commit the rebase started onto" in err
    assert f"ayjnt-hooks rebase-lockfile --onto {onto} (keeps" in err
    code, err = run_err("rebase-lockfile", "--onto", onto[:7], "--cwd", str(w.work))
    assert code == 0, err
    assert _tags(lf.parse_lockfile((w.work / LOCK).read_bytes())) == [
        "v2 (+XrayAgent)", "v3 (+YankeeAgent, +ZuluAgent)"]


def test_criss_cross_merge_with_the_lockfile_resolved(tmp_path: Path) -> None:
    """Two merge bases; the lockfile itself is not conflicted (git took one side), so the
    bases' lockfiles give the branch point."""
    w = World(tmp_path, driver=False)
    w.branch("a", "edit", 0)
    w.branch("b", "edit", 1)
    w.git("checkout", "-q", "a")
    w.git("merge", "-q", "--no-edit", "b~0")
    w.git("checkout", "-q", "b")
    w.git("merge", "-q", "--no-edit", "a~1")
    _commit_agent(w, "yankee", "YankeeAgent", "b: y")
    w.git("checkout", "-q", "a")
    _commit_agent(w, "xray", "XrayAgent", "a: x")
    w.git("push", "-q", "origin", "a:main")
    w.git("fetch", "-q")
    assert len(w.git("merge-base", "--all", "a", "b").split()) == 2
    w.git("checkout", "-q", "b")
    assert w.try_git("merge", "--no-edit", "origin/main").returncode != 0
    code, out = run_cli("rebase-lockfile", "--cwd", str(w.work))
    assert code == 0, out
    assert "renumbered:  v2 (+YankeeAgent) became v3 (+YankeeAgent)" in out
    w.git("checkout", "--theirs", LOCK)  # not conflicted any more: bases from history
    w.git("add", LOCK)
    code, out = run_cli("rebase-lockfile", "--cwd", str(w.work))
    assert code == 0 and "renumbered:  v2 (+YankeeAgent) became v3" in out, out


# --- the driver, in-process -----------------------------------------------------------------


def _sides(w: World, base: str, ours: str, theirs: str, tmp: Path) -> list[str]:
    paths = []
    for name, rev in (("O", base), ("A", ours), ("B", theirs)):
        p = tmp / name
        proc = w.try_git("show", f"{rev}:{LOCK}")
        p.write_bytes(proc.stdout if proc.returncode == 0 else b"")
        paths.append(str(p))
    return paths


@pytest.fixture
def split(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> World:
    """main has v2 = Xray (pushed); b has v2 = Yankee; the clone sits on b."""
    w = World(tmp_path / "repo", driver=False)
    w.branch("a", "add", 0)
    w.branch("b", "add", 1)
    w.land("a", "merge")
    w.git("checkout", "-q", "b")
    monkeypatch.chdir(w.work)
    return w


def test_driver_merge_keeps_the_published_side(split: World, tmp_path: Path,
                                               monkeypatch: pytest.MonkeyPatch,
                                               capsys: pytest.CaptureFixture[str]) -> None:
    from ayjnt_hooks.cli import main

    o, a, b = _sides(split, split.root, "HEAD", "origin/main", tmp_path)
    monkeypatch.setenv(f"GITHEAD_{split.sha('origin/main')}", "origin/main")
    assert main(("merge-driver", o, a, b, LOCK)) == 0
    err = capsys.readouterr().err
    assert "keeping origin/main's entries (origin/main already has origin/main's entries)" in err
    assert "renumbered v2 (+YankeeAgent) became v3 (+YankeeAgent)" in err
    assert _tags(json.loads(Path(a).read_text())) == ["v2 (+XrayAgent)", "v3 (+YankeeAgent)"]


def test_driver_cherry_pick_onto_head_and_undecided_merge(split: World, tmp_path: Path,
                                                          monkeypatch: pytest.MonkeyPatch,
                                                          capsys: pytest.CaptureFixture[str]
                                                          ) -> None:
    from ayjnt_hooks.cli import main

    split.git("update-ref", "-d", "refs/remotes/origin/main")  # nothing published decides
    o, a, b = _sides(split, split.root, "HEAD", "a", tmp_path)
    before = Path(a).read_bytes()
    monkeypatch.setenv("GITHEAD_" + "1" * 40, "a")  # a merge: refuse to guess
    assert main(("merge-driver", o, a, b, LOCK)) == 1
    assert "cannot tell which side the remote already has" in capsys.readouterr().err
    assert Path(a).read_bytes() == before
    monkeypatch.delenv("GITHEAD_" + "1" * 40)  # a cherry-pick: onto HEAD
    assert main(("merge-driver", o, a, b, LOCK)) == 0
    assert "keeping HEAD's entries (the change is applied onto HEAD)" in capsys.readouterr().err
    assert _tags(json.loads(Path(a).read_text())) == ["v2 (+YankeeAgent)", "v3 (+XrayAgent)"]


def test_driver_only_one_side_appended(split: World, tmp_path: Path,
                                       capsys: pytest.CaptureFixture[str]) -> None:
    from ayjnt_hooks.cli import main

    split.git("update-ref", "-d", "refs/remotes/origin/main")
    split.git("checkout", "-qB", "m", split.root)
    split.change("move", SLOTS[2])
    build(split.work)
    split.git("commit", "-qam", "move docs")
    o, a, b = _sides(split, split.root, "m", "b", tmp_path)
    os.environ.pop("GITHEAD_x", None)
    assert main(("merge-driver", o, a, b, LOCK)) == 0
    assert "keeping theirs's entries (only one side added entries)" in capsys.readouterr().err
    merged = json.loads(Path(a).read_text())
    assert "guide" in merged["classes"] and _tags(merged) == ["v2 (+YankeeAgent)"]


def test_driver_leaves_an_unsound_merge_conflicted(split: World, tmp_path: Path,
                                                   capsys: pytest.CaptureFixture[str]) -> None:
    from ayjnt_hooks.cli import main

    o, a, b = _sides(split, split.root, "HEAD", "origin/main", tmp_path)
    lock = json.loads(Path(a).read_text())
    lock["migrations"][0]["timestamp"] = "edited"
    Path(a).write_text(json.dumps(lock))
    before = Path(a).read_bytes()
    assert main(("merge-driver", o, a, b, LOCK)) == 1
    err = capsys.readouterr().err
    assert "HEAD changed entry #1" in err and "only appended entries can be merged" in err
    assert Path(a).read_bytes() == before


def test_main_merging_a_feature_keeps_main(tmp_path: Path) -> None:
    w = World(tmp_path, driver=False)
    w.branch("a", "add", 0)
    w.branch("b", "add", 1)
    w.land("a", "merge")
    w.git("checkout", "-q", "main")
    w.git("merge", "-q", "--ff-only", "origin/main")
    assert w.try_git("merge", "--no-edit", "b").returncode != 0
    (w.work / LOCK).unlink()  # the file on disk may even be gone
    code, out = run_cli("rebase-lockfile", "--cwd", str(w.work))
    assert code == 0, out
    assert "onto origin/main (" in out and ".ayjnt/migrations.json on disk missing" in out
    assert "renumbered:  v2 (+YankeeAgent) became v3 (+YankeeAgent)" in out


def test_an_explicit_onto_that_renumbers_main_only_warns(tmp_path: Path) -> None:
    w = World(tmp_path, driver=False)
    w.branch("a", "add", 0)
    w.branch("b", "add", 1)
    w.git("push", "-q", "-u", "origin", "b")
    w.land("a", "merge")
    w.git("checkout", "-q", "b")
    assert w.try_git("merge", "--no-edit", "origin/main").returncode != 0
    w.git("checkout", "--theirs", LOCK)
    w.git("commit", "-qam", "merged", "--no-verify")
    code, out = run_cli("rebase-lockfile", "--onto", "origin/b", "--cwd", str(w.work))
    assert code == 0, out
    assert "warning: origin/main is already in HEAD, and this would renumber its entries" in out
    assert "renumbered:  v2 (+XrayAgent) became v3 (+XrayAgent)" in out
