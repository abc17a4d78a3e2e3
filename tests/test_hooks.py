"""The hook checks in-process (each stage's snapshot), and the raw git hooks end to end."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from ayjnt_hooks.cli import main
from ayjnt_hooks.engine import lockfile as lf
from ayjnt_hooks.engine.soundness import soundness_problems
from ayjnt_hooks.hooks import infer_stage

from .conftest import agent_src as agent
from .conftest import sh, tree_hashes, write_files

FIXTURES = Path(__file__).resolve().parent / "fixtures"
BUILD = [sys.executable, str(FIXTURES / "fake_ayjnt_build.py")]
ROOT = Path(__file__).resolve().parent.parent


def build(proj: Path) -> None:
    subprocess.run(BUILD, cwd=proj, check=True, capture_output=True,
                   env={**os.environ, "PYTHONPATH": str(ROOT)})


def make_repo(tmp_path: Path, subdir: str = "") -> Path:
    """origin (bare) + a clone with a built, committed, pushed ayjnt project."""
    origin = tmp_path / "origin.git"
    sh(tmp_path, f"git init -q --bare -b main {origin} && git clone -q {origin} work 2>&1")
    work = tmp_path / "work"
    proj = work / subdir if subdir else work
    write_files(proj, {"agents/chat/agent.ts": agent("ChatAgent"),
                       "agents/admin/agent.ts": agent("AdminAgent", "admin_v1"),
                       ".gitignore": ".ayjnt/*\n!.ayjnt/migrations.json\n"})
    build(proj)
    sh(work, "git checkout -qb main && git add -A && git commit -qm init && "
             "git push -q origin main")
    return proj


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str]:
    code = main(argv)
    return code, capsys.readouterr().out


# --- stage inference ----------------------------------------------------------------------


@pytest.mark.parametrize(("env", "expected"), [
    pytest.param({}, "manual", id="nothing"),
    pytest.param({"GIT_INDEX_FILE": ".git/index"}, "pre-commit", id="git-commit"),
    pytest.param({"PRE_COMMIT_TO_REF": "abc", "GIT_INDEX_FILE": "x"}, "pre-push", id="push"),
    pytest.param({"PRE_COMMIT_REMOTE_BRANCH": "refs/heads/x"}, "pre-push", id="push-new-root"),
    pytest.param({"PRE_COMMIT_HOOK_STAGE": "pre-push"}, "pre-push", id="prek"),
    pytest.param({"PRE_COMMIT_HOOK_STAGE": "commit"}, "pre-commit", id="prek-old-name"),
])
def test_infer_stage(monkeypatch: pytest.MonkeyPatch, env: dict[str, str], expected: str
                     ) -> None:
    for k, v in env.items():
        monkeypatch.setenv(k, v)
    assert infer_stage(None) == expected
    assert infer_stage("manual") == "manual"


# --- ayjnt-migrations in-process -------------------------------------------------------------


def test_index_decides(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                       monkeypatch: pytest.MonkeyPatch) -> None:
    proj = make_repo(tmp_path)
    monkeypatch.chdir(proj)
    write_files(proj, {"agents/support/agent.ts": agent("SupportAgent")})
    sh(proj, "git add agents/support")
    code, out = run(capsys, "check-migrations", "--stage", "pre-commit")
    assert code == 1
    assert "ayjnt-migrations: a lockfile change is pending in the index being committed" in out
    assert "      SupportAgent (agentId: support) at /support" in out
    assert "fix: run `ayjnt build`, then `git add .ayjnt/migrations.json`" in out
    build(proj)  # the fix is on disk, not staged
    code, out = run(capsys, "check-migrations", "--stage", "pre-commit")
    assert code == 1
    assert "The lockfile on disk already contains this change, but it is not staged." in out
    assert "fix: git add .ayjnt/migrations.json" in out
    assert run(capsys, "check-migrations", "--stage", "manual")[0] == 0
    sh(proj, "git add .ayjnt/migrations.json")
    assert run(capsys, "check-migrations", "--stage", "pre-commit") == (0, "")
    (proj / ".ayjnt/migrations.json").write_text("garbage")  # disk no longer matters
    assert run(capsys, "check-migrations", "--stage", "pre-commit") == (0, "")


def test_push_stage_reads_the_commit(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                     monkeypatch: pytest.MonkeyPatch) -> None:
    proj = make_repo(tmp_path)
    monkeypatch.chdir(proj)
    write_files(proj, {"agents/support/agent.ts": agent("SupportAgent")})
    sh(proj, "git add -A && git commit -qm stale")
    build(proj)  # fix sits uncommitted in the tree
    head = sh(proj, "git rev-parse HEAD").stdout.strip()
    monkeypatch.setenv("PRE_COMMIT_TO_REF", head)
    code, out = run(capsys, "check-migrations")
    assert code == 1
    assert f"pending in commit {head[:7]} being pushed" in out
    assert "already contains this change, but it is not committed" in out
    monkeypatch.delenv("PRE_COMMIT_TO_REF")
    monkeypatch.setenv("PRE_COMMIT_REMOTE_BRANCH", "refs/heads/main")
    monkeypatch.setenv("PRE_COMMIT_LOCAL_BRANCH", "HEAD")
    assert run(capsys, "check-migrations")[0] == 1  # new root push: LOCAL_BRANCH resolved


@pytest.mark.parametrize(("change", "deletes"), [
    pytest.param("mv agents/chat agents/talk", False, id="move"),
    pytest.param("sed -i s/ChatAgent/TalkAgent/ agents/chat/agent.ts", False, id="rename"),
    pytest.param("rm -r agents/chat", True, id="delete"),
])
def test_fix_writes_what_build_writes(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                      monkeypatch: pytest.MonkeyPatch, change: str,
                                      deletes: bool) -> None:
    proj = make_repo(tmp_path)
    monkeypatch.chdir(proj)
    sh(proj, change)
    code, out = run(capsys, "check-migrations", "--stage", "manual", "--fix")
    assert code == (1 if deletes else 0), out  # a manual fix that wrote everything is done
    if deletes:
        assert "Not fixed: this change deletes classes" in out
        assert run(capsys, "check-migrations", "--stage", "manual", "--fix",
                   "--fix-deletions")[0] == 0
    else:
        assert "fix: review it, then `git add .ayjnt/migrations.json`" in out
    assert run(capsys, "check-migrations", "--stage", "manual") == (0, "")
    ours = json.loads((proj / ".ayjnt/migrations.json").read_text())
    sh(proj, "git stash -q -- .ayjnt/migrations.json")
    build(proj)
    theirs = json.loads((proj / ".ayjnt/migrations.json").read_text())
    for lock in (ours, theirs):
        for m in lock["migrations"]:
            m.pop("timestamp")
    assert ours == theirs


def test_monorepo_cwd(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                      monkeypatch: pytest.MonkeyPatch) -> None:
    proj = make_repo(tmp_path, "apps/chat")
    work = proj.parent.parent
    monkeypatch.chdir(work)
    write_files(proj, {"agents/support/agent.ts": agent("SupportAgent")})
    sh(work, "git add -A")
    code, out = run(capsys, "check-migrations", "--stage", "pre-commit", "--cwd", "apps/chat")
    assert code == 1 and "git add apps/chat/.ayjnt/migrations.json" in out


# --- ayjnt-lockfile in-process ----------------------------------------------------------------


def _lock(migrations: list[dict[str, object]], classes: dict[str, str]) -> dict[str, object]:
    return {"version": 1, "migrations": migrations,
            "classes": {k: {"agentId": k, "className": v, "firstTag": "v1"}
                        for k, v in classes.items()}}


@pytest.mark.parametrize(("lock", "needle"), [
    pytest.param(_lock([{"tag": "v1", "new_sqlite_classes": ["A"]}], {"a": "A"}), None,
                 id="sound"),
    pytest.param(_lock([{"tag": "v1", "new_sqlite_classes": ["A"]},
                        {"tag": "v1", "new_sqlite_classes": ["B"]}], {"a": "A", "b": "B"}),
                 "appears more than once", id="duplicate-tag"),
    pytest.param(_lock([{"tag": "v2", "new_sqlite_classes": ["A"]},
                        {"tag": "v1", "new_sqlite_classes": ["B"]}], {"a": "A", "b": "B"}),
                 "is not after v2", id="out-of-order"),
    pytest.param(_lock([{"tag": "v1", "new_sqlite_classes": ["A"]},
                        {"tag": "v2", "new_sqlite_classes": ["A"]}], {"a": "A"}),
                 "added twice", id="added-twice"),
    pytest.param(_lock([{"tag": "v1", "renamed_classes": [{"from": "X", "to": "A"}]}],
                       {"a": "A"}), "renames 'X', which does not exist", id="rename-ghost"),
    pytest.param(_lock([{"tag": "v1", "deleted_classes": ["X"]}], {}),
                 "deletes class 'X'", id="delete-ghost"),
    pytest.param(_lock([{"tag": "v1", "new_sqlite_classes": ["A"]}], {}),
                 "\"classes\" lacks it", id="classes-missing"),
    pytest.param(_lock([], {"a": "A"}), "no migration creates it", id="classes-extra"),
    # issue #10 §4: malformed lists were a TypeError; ayjnt never reads them (it copies them
    # into wrangler.jsonc, which rejects them), so they are unsound history here.
    pytest.param(_lock([{"tag": "v1", "new_sqlite_classes": ["A"], "renamed_classes": True}],
                       {"a": "A"}),
                 '"renamed_classes" must be a list of {"from": <class>, "to": <class>} objects, '
                 "not a boolean", id="issue10-4-renamed-classes-true"),
    pytest.param(_lock([{"tag": "v1", "new_sqlite_classes": ["A"],
                         "renamed_classes": [{"from": ["A"], "to": "B"}]}], {"a": "A"}),
                 '"renamed_classes" must be a list', id="issue10-4-rename-from-not-a-string"),
    pytest.param(_lock([{"tag": "v1", "new_sqlite_classes": ["A"],
                         "renamed_classes": [{"from": "A", "to": {"x": 1}}]}], {"a": "A"}),
                 '"renamed_classes" must be a list', id="issue10-4-rename-to-not-a-string"),
    pytest.param(_lock([{"tag": "v1", "new_sqlite_classes": ["A", 5]}], {"a": "A"}),
                 '"new_sqlite_classes" must be a list of class names, not a list holding '
                 "something else", id="new-classes-not-strings"),
    pytest.param(_lock([{"tag": "v1", "new_sqlite_classes": ["A"], "deleted_classes": None}],
                       {"a": "A"}),
                 '"deleted_classes" must be a list of class names, not null', id="deleted-null"),
    pytest.param(_lock([{"tag": "v1" + "0" * 5000, "new_sqlite_classes": ["A"]},
                        {"tag": "v9" + "0" * 4999, "new_sqlite_classes": ["B"]}],
                       {"a": "A", "b": "B"}),
                 "is not after v1", id="issue10-4-tags-over-4300-digits"),
])
def test_soundness(lock: dict[str, object], needle: str | None) -> None:
    problems = soundness_problems(lock)
    if needle is None:
        assert problems == []
    else:
        assert any(needle in p for p in problems), problems


def test_lockfile_hook_messages(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                monkeypatch: pytest.MonkeyPatch) -> None:
    proj = make_repo(tmp_path)
    monkeypatch.chdir(proj)
    assert run(capsys, "check-lockfile", "--stage", "manual") == (0, "")
    text = (proj / ".ayjnt/migrations.json").read_text()
    (proj / ".ayjnt/migrations.json").write_text(
        "<<<<<<< HEAD\n" + text + "=======\n" + text + ">>>>>>> theirs\n")
    code, out = run(capsys, "check-lockfile", "--stage", "manual")
    assert code == 1 and "contains git merge-conflict markers" in out
    (proj / ".ayjnt/migrations.json").write_text('{"version": 2}')
    code, out = run(capsys, "check-lockfile", "--stage", "manual")
    assert code == 1 and "unsupported lockfile version 2" in out
    lock = json.loads(text)
    lock["migrations"].append(dict(lock["migrations"][0]))
    (proj / ".ayjnt/migrations.json").write_bytes(lf.serialize(lock))
    code, out = run(capsys, "check-lockfile", "--stage", "manual")
    assert code == 1 and "is not a sound migration history" in out


def test_lockfile_append_only_at_push(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                      monkeypatch: pytest.MonkeyPatch) -> None:
    proj = make_repo(tmp_path)
    monkeypatch.chdir(proj)
    write_files(proj, {"agents/support/agent.ts": agent("SupportAgent")})
    build(proj)
    sh(proj, "git add -A && git commit -qm v2 && git push -q origin main")
    remote = sh(proj, "git rev-parse HEAD").stdout.strip()
    lock = json.loads((proj / ".ayjnt/migrations.json").read_text())
    lock["migrations"][1]["tag"] = "v2-rewritten"
    (proj / ".ayjnt/migrations.json").write_bytes(lf.serialize(lock))
    sh(proj, "git commit -qam rewrite")
    monkeypatch.setenv("PRE_COMMIT_FROM_REF", remote)
    monkeypatch.setenv("PRE_COMMIT_TO_REF", sh(proj, "git rev-parse HEAD").stdout.strip())
    code, out = run(capsys, "check-lockfile")
    assert code == 1
    assert "rewrites the remote's migration history" in out
    assert (f"entry #2: the remote ({remote[:7]}) has v2, the push has v2-rewritten; they "
            "differ in tag:") in out
    assert "origin/<branch>" not in out


def test_rewrite_shows_the_differing_fields_and_the_branch(
        tmp_path: Path, capsys: pytest.CaptureFixture[str],
        monkeypatch: pytest.MonkeyPatch) -> None:
    """Only the timestamp differs: the message names it with both values side by side, and the
    fix names the real branch (before: "the remote has v1, the push has v1" and a literal
    origin/<branch>)."""
    proj = make_repo(tmp_path)
    monkeypatch.chdir(proj)
    sh(proj, "git checkout -qb feat && git push -q origin feat")
    remote = sh(proj, "git rev-parse HEAD").stdout.strip()
    lock = json.loads((proj / ".ayjnt/migrations.json").read_text())
    was = lock["migrations"][0]["timestamp"]
    lock["migrations"][0]["timestamp"] = "2030-01-01T00:00:00.000Z"
    (proj / ".ayjnt/migrations.json").write_bytes(lf.serialize(lock))
    sh(proj, "git commit -qam retime")
    for name, value in (("FROM_REF", remote), ("TO_REF", sh(proj, "git rev-parse HEAD").stdout
                                               .strip()), ("REMOTE_NAME", "origin"),
                        ("REMOTE_URL", str(tmp_path / "origin.git")),
                        ("REMOTE_BRANCH", "refs/heads/feat"), ("LOCAL_BRANCH", "HEAD")):
        monkeypatch.setenv(f"PRE_COMMIT_{name}", value)
    code, out = run(capsys, "check-lockfile")
    assert code == 1
    assert "the push has v1; they differ in timestamp:" in out
    rows = [line.split() for line in out.splitlines()]
    assert ["field", "the", "remote", "the", "push"] in rows
    assert ["timestamp", f'"{was}"', '"2030-01-01T00:00:00.000Z"'] in rows
    assert "fix: git fetch origin && git rebase origin/feat; on the lockfile conflict run " \
           "`ayjnt-hooks rebase-lockfile` (it keeps origin/feat's entries" in out
    monkeypatch.setenv("PRE_COMMIT_REMOTE_NAME", str(tmp_path / "origin.git"))
    assert f"git fetch {tmp_path / 'origin.git'} feat && git rebase FETCH_HEAD" in \
        run(capsys, "check-lockfile")[1]


def test_bad_input_is_exit_3(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code = main(("check-migrations", "--stage", "pre-commit", "--cwd", str(tmp_path)))
    assert code == 3
    assert "not a git repository" in capsys.readouterr().err


def test_new_branch_diverging_lockfile_warns(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                             monkeypatch: pytest.MonkeyPatch) -> None:
    proj = make_repo(tmp_path)
    monkeypatch.chdir(proj)
    sh(proj, "git remote set-head origin main")
    sh(proj, "git checkout -qb feature")
    write_files(proj, {"agents/beta/agent.ts": agent("BetaAgent")})
    build(proj)
    sh(proj, "git add -A && git commit -qm beta")
    feature = sh(proj, "git rev-parse HEAD").stdout.strip()
    sh(proj, "git checkout -q main")
    write_files(proj, {"agents/alpha/agent.ts": agent("AlphaAgent")})
    build(proj)
    sh(proj, "git add -A && git commit -qm alpha && git push -q origin main && "
             "git checkout -q feature")
    monkeypatch.setenv("PRE_COMMIT_TO_REF", feature)
    monkeypatch.setenv("PRE_COMMIT_REMOTE_BRANCH", "refs/heads/feature")
    monkeypatch.setenv("PRE_COMMIT_REMOTE_NAME", "origin")
    monkeypatch.setenv("PRE_COMMIT_FROM_REF", sh(proj, "git rev-parse HEAD~1").stdout.strip())
    code, out = run(capsys, "check-lockfile")
    assert code == 0
    assert "warning: .ayjnt/migrations.json on this new branch diverges from origin/HEAD's" in out
    assert "Merging it will conflict on the lockfile." in out


def test_git_dir_and_work_tree_env(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                   monkeypatch: pytest.MonkeyPatch) -> None:
    proj = make_repo(tmp_path)
    sh(tmp_path, f"mv {proj}/.git {tmp_path}/separate.git")
    write_files(proj, {"agents/support/agent.ts": agent("SupportAgent")})
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("GIT_DIR", "separate.git")
    monkeypatch.setenv("GIT_WORK_TREE", str(proj))
    sh(tmp_path, "git add -A")
    monkeypatch.setenv("GIT_INDEX_FILE", str(tmp_path / "separate.git" / "index"))
    code, out = run(capsys, "check-migrations", "--cwd", str(proj))
    assert code == 1 and "SupportAgent" in out
    assert main(("status", "--cwd", str(proj), "--porcelain")) == 0
    assert capsys.readouterr().out.splitlines() == sh(
        tmp_path, "git status --porcelain").stdout.splitlines() == ["A  agents/support/agent.ts"]


def test_json_output(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                     monkeypatch: pytest.MonkeyPatch) -> None:
    proj = make_repo(tmp_path)
    monkeypatch.chdir(proj)
    code, out = run(capsys, "check-lockfile", "--stage", "manual", "--json")
    assert code == 0
    assert json.loads(out) == {"ok": True, "stage": "manual", "checked": ["the working tree"],
                               "findings": []}
    write_files(proj, {"agents/support/agent.ts": agent("SupportAgent")})
    code, out = run(capsys, "check-migrations", "--stage", "manual", "--json")
    data = json.loads(out)
    assert code == 1 and data["ok"] is False
    assert data["findings"][0]["code"] == "pending-lockfile"
    assert data["findings"][0]["hint"].startswith("run `ayjnt build`")


@pytest.mark.parametrize("stage", ["pre-commit", "pre-push", "manual"])
def test_checks_write_nothing(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                              monkeypatch: pytest.MonkeyPatch, stage: str) -> None:

    proj = make_repo(tmp_path)
    monkeypatch.chdir(proj)
    write_files(proj, {"agents/support/agent.ts": agent("SupportAgent")})
    sh(proj, "git add -A && git commit -qm stale && git gc -q && echo x >> agents/chat/agent.ts")
    monkeypatch.setenv("PRE_COMMIT_TO_REF", "HEAD")
    before = tree_hashes(proj)
    for command in ("check-migrations", "check-lockfile", "status"):
        args = (command,) if command == "status" else (command, "--stage", stage)
        main(args)
    capsys.readouterr()
    assert tree_hashes(proj) == before


@pytest.mark.parametrize("where", ["head", "remote"])
def test_broken_staged_lockfile_fix_really_restores_it(
        tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch,
        where: str) -> None:
    """A broken lockfile in the index: the printed command, run as printed, restores a good
    one (before: `git checkout -- .ayjnt/migrations.json`, which copies the broken staged file
    back). With HEAD's broken too, it comes from the remote."""
    import re

    proj = make_repo(tmp_path)
    monkeypatch.chdir(proj)
    lock = proj / ".ayjnt/migrations.json"
    good = lock.read_bytes()
    if where == "remote":
        lock.write_text("{ broken")
        sh(proj, "git commit -qam 'broken lockfile' --no-verify")
    lock.write_text('{"version": 1, "migrations": [')
    sh(proj, "git add .ayjnt/migrations.json")
    for command, code in (("check-migrations", 3), ("check-lockfile", 1)):
        main_code = main((command, "--stage", "pre-commit"))
        captured = capsys.readouterr()
        out = captured.out + captured.err
        assert main_code == code, out
        assert "git checkout -- .ayjnt/migrations.json" not in out
        ref = "HEAD" if where == "head" else "origin/main"
        assert f"git checkout {ref} -- .ayjnt/migrations.json" in out, out
    fix = re.search(r"fix: (git checkout \S+ -- \S+),", out)
    assert fix, out
    sh(proj, fix.group(1))
    assert lock.read_bytes() == good
    assert main(("check", "--stage", "pre-commit")) == 0


@pytest.mark.parametrize("argv", [
    pytest.param(("check-lockfile", "--stage", "pre-commit"), id="check-lockfile"),
    pytest.param(("check", "--stage", "pre-commit"), id="check"),
    pytest.param(("pre-commit",), id="manager-pre-commit"),
    pytest.param(("hook-impl", "pre-commit"), id="raw-hook"),
])
def test_conflict_markers_fix_works_as_printed(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                               monkeypatch: pytest.MonkeyPatch,
                                               argv: tuple[str, ...]) -> None:
    """Two branches each appended v2; the merge leaves markers, a careless `git add` stages
    them. The printed fix, run as printed, gives a sound lockfile
    that keeps the remote's history (before: `git checkout --theirs … (the branch you merged
    into)`, which names the wrong side; now `ayjnt-hooks rebase-lockfile`)."""
    import re

    proj = make_repo(tmp_path)
    monkeypatch.chdir(proj)
    other = tmp_path / "other"
    sh(tmp_path, f"git clone -q {tmp_path / 'origin.git'} {other}")
    write_files(other, {"agents/alpha/agent.ts": agent("AlphaAgent")})
    build(other)
    sh(other, "git add -A && git commit -qm alpha && git push -q origin main")
    write_files(proj, {"agents/beta/agent.ts": agent("BetaAgent")})
    build(proj)
    sh(proj, "git add -A && git commit -qm beta && git fetch -q origin")
    assert sh(proj, "git merge -q origin/main", check=False).returncode != 0
    sh(proj, "git add -A")
    # every command that runs the lockfile check says the same (before: `check` and the
    # pre-commit commands stopped at "not valid JSON", exit 3, with a checkout fix)
    code, out = run(capsys, *argv)
    assert code == 1 and "merge-conflict markers" in out
    fix = re.search(r"fix: (ayjnt-hooks rebase-lockfile) \(keeps the remote's entries, "
                    r"renumbers this branch's after them\), then (git add "
                    r"\.ayjnt/migrations\.json)", out)
    assert fix, out
    sh(proj, f"{fix.group(1)} && {fix.group(2)}")
    assert run(capsys, "check", "--stage", "pre-commit")[0] == 0
    lock = json.loads((proj / ".ayjnt/migrations.json").read_text())
    assert [m["tag"] for m in lock["migrations"]] == ["v1", "v2", "v3"]
    assert lock["migrations"][1]["new_sqlite_classes"] == ["AlphaAgent"]  # the remote's v2


def test_no_bun_hint_runs_as_pasted_when_ayjnt_hooks_is_not_on_path(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
        ) -> None:
    """pre-commit installs ayjnt-hooks in its own environment, not on the user's PATH: the
    manual alternative then names it by its path (before: `ayjnt-hooks …`, not found)."""
    import re
    import shlex

    proj = make_repo(tmp_path)
    monkeypatch.chdir(proj)
    write_files(proj, {"agents/support/agent.ts": agent("SupportAgent")})
    sh(proj, "git add -A")
    monkeypatch.setenv("PRE_COMMIT", "1")
    monkeypatch.setenv("GIT_INDEX_FILE", str(proj / ".git" / "index"))
    git_dir = os.path.dirname(subprocess.run(["sh", "-c", "command -v git"], text=True,
                                             capture_output=True, check=True).stdout.strip())
    monkeypatch.setenv("PATH", f"{git_dir}:/usr/bin:/bin")
    import shutil
    assert shutil.which("ayjnt-hooks") is None
    code, out = run(capsys, "check")
    assert code == 1
    hint = re.search(r"or `([^`]+)` writes it", out)
    assert hint, out
    own = os.path.join(os.path.dirname(sys.executable), "ayjnt-hooks")
    assert hint.group(1).startswith(f"{shlex.quote(own)} check-migrations "), out
    monkeypatch.delenv("GIT_INDEX_FILE")
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    assert subprocess.run(shlex.split(hint.group(1)), cwd=proj, env=env).returncode == 0
    sh(proj, "git add .ayjnt/migrations.json")
    monkeypatch.setenv("GIT_INDEX_FILE", str(proj / ".git" / "index"))
    assert run(capsys, "check") == (0, "")


@pytest.mark.parametrize(("command", "hook_id"), [
    pytest.param("check", "ayjnt", id="hook-ayjnt"),
    pytest.param("check-migrations", "ayjnt-migrations", id="hook-ayjnt-migrations"),
])
def test_no_bun_hint_names_the_hook_that_runs(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
        command: str, hook_id: str) -> None:
    """Under pre-commit the hint says which hook to give `args: [--fix]`: the README's config
    uses `id: ayjnt` (`ayjnt-hooks check`), which has no ayjnt-migrations hook to edit. And the
    advice works: that hook's command with --fix writes the change."""
    proj = make_repo(tmp_path)
    monkeypatch.chdir(proj)
    write_files(proj, {"agents/support/agent.ts": agent("SupportAgent")})
    sh(proj, "git add -A")
    monkeypatch.setenv("PRE_COMMIT", "1")
    monkeypatch.setenv("GIT_INDEX_FILE", str(proj / ".git" / "index"))
    code, out = run(capsys, command)
    assert code == 1
    assert f"add `args: [--fix]` to the {hook_id} hook" in out, out
    run(capsys, command, "--fix")  # what the hook runs with args: [--fix]
    sh(proj, "git add .ayjnt/migrations.json")
    assert run(capsys, command) == (0, "")
