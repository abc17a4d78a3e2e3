"""ayjnt-deploy against real git repos (bare origin), a recording stub launcher, and real
wrangler --dry-run."""
from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from ayjnt_hooks.deploy import main, parse_args
from ayjnt_hooks.engine import lockfile as lf

from .conftest import sh, write_files

FIXTURES = Path(__file__).resolve().parent / "fixtures"
FAKE_BUILD = f"{sys.executable} {FIXTURES / 'fake_ayjnt_build.py'}"
STUB = f"{sys.executable} {FIXTURES / 'stub_wrangler.py'}"
GITIGNORE = ".ayjnt/*\n!.ayjnt/migrations.json\nnode_modules\n.wrangler\n"
PENDING = ("Run `ayjnt build` to stage it, then `git add .ayjnt/migrations.json && git commit "
           "&& git push` before deploying.\nUse --force to deploy anyway (not recommended — "
           "risks divergent migrations across deploys).")


def agent(cls: str, pin: str | None = None) -> str:
    head = f'export const agentId = "{pin}";\n' if pin else ""
    return (head + 'import { DurableObject } from "cloudflare:workers";\n'
            f"export default class {cls} extends DurableObject {{}}\n")


def built_lockfile(*pairs: tuple[str, str]) -> str:
    """The lockfile `ayjnt build` writes for agents (agentId, className) in manifest order."""
    lock = {"version": 1, "migrations": [{"tag": "v1", "timestamp": "2026-01-01T00:00:00.000Z",
                                          "new_sqlite_classes": [c for _, c in pairs]}],
            "classes": {i: {"agentId": i, "className": c, "firstTag": "v1"} for i, c in pairs}}
    return lf.serialize(lock).decode()


@pytest.fixture
def env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    record = tmp_path / "record.json"
    monkeypatch.setenv("AYJNT_BUILD_COMMAND", FAKE_BUILD)
    monkeypatch.setenv("AYJNT_WRANGLER", STUB)
    monkeypatch.setenv("STUB_RECORD", str(record))
    monkeypatch.setenv("PYTHONPATH", str(Path(__file__).resolve().parent.parent))
    return record


def make_project(tmp_path: Path, subdir: str = "") -> Path:
    """A pushed clone whose project (in ``subdir``) is clean, synced and fully built."""
    origin = tmp_path / "origin.git"
    sh(tmp_path, f"git init -q --bare -b main {origin} && git clone -q {origin} work 2>&1")
    work = tmp_path / "work"
    proj = work / subdir if subdir else work
    write_files(proj, {
        "agents/chat/agent.ts": agent("ChatAgent"),
        "agents/admin/users/agent.ts": agent("AdminUsersAgent", "admin_users_v1"),
        ".ayjnt/migrations.json": built_lockfile(("admin_users_v1", "AdminUsersAgent"),
                                                 ("chat", "ChatAgent")),
        ".gitignore": GITIGNORE,
        "package.json": '{"name": "chat-app"}\n',
    })
    sh(work, "git checkout -qb main && git add -A && git commit -qm init && "
             "git push -q origin main")
    return proj


@pytest.fixture
def proj(tmp_path: Path, env: Path) -> Path:
    return make_project(tmp_path)


def prebuild(proj: Path) -> None:
    subprocess.run([sys.executable, FIXTURES / "fake_ayjnt_build.py"], cwd=proj, check=True,
                   capture_output=True)


def deploy(capfd: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(argv)
    out, err = capfd.readouterr()
    return code, out, err


def recorded(record: Path) -> dict[str, object]:
    data: dict[str, object] = json.loads(record.read_text())
    return data


# --- the happy path and hand-off -------------------------------------------------------


def test_happy_path_hands_off(proj: Path, env: Path, capfd: pytest.CaptureFixture[str]
                              ) -> None:
    code, out, err = deploy(capfd, "--cwd", str(proj), "--env", "staging", "--", "--keep-vars")
    assert (code, err) == (0, "")
    assert out.startswith("✓ git clean\n✓ in sync with origin/main\n"
                          "✓ 2 agent(s), 1 staged migrations\n")
    rec = recorded(env)
    config = str(proj / ".ayjnt/dist/wrangler.jsonc")
    assert rec["argv"] == ["deploy", "--config", config, "--env", "staging", "--keep-vars"]
    assert rec["cwd"] == str(proj)


@pytest.mark.parametrize("exit_code", [0, 1, 7])
def test_wrangler_exit_code_is_ours(proj: Path, capfd: pytest.CaptureFixture[str],
                                   monkeypatch: pytest.MonkeyPatch, exit_code: int) -> None:
    monkeypatch.setenv("STUB_EXIT", str(exit_code))
    assert deploy(capfd, "--cwd", str(proj))[0] == exit_code


def test_missing_bunx(proj: Path, capfd: pytest.CaptureFixture[str],
                      monkeypatch: pytest.MonkeyPatch) -> None:
    prebuild(proj)
    monkeypatch.delenv("AYJNT_WRANGLER")
    monkeypatch.setenv("PATH", "/nonexistent")
    code, _, err = deploy(capfd, "--cwd", str(proj), "--no-build")
    assert code == 1, err
    assert "ayjnt: cannot run `wrangler deploy`: Bun is not installed (no bunx or bun on PATH, " \
           "nor in node_modules/.bin of the project or a folder above it)" in err
    assert "`npm i -D bun`" in err and "AYJNT_WRANGLER" in err


def _real_bun() -> Path:
    found = shutil.which("bun", path=os.environ.get("PATH", "") + os.pathsep + str(NPM_BIN))
    if found is None:
        if os.environ.get("AYJNT_HOOKS_REQUIRE_E2E"):
            pytest.fail("bun is not installed: .ci/run installs it from npm")
        pytest.skip("bun not installed (run .ci/run)")
    return Path(found)


@pytest.fixture
def bun_devdependency(proj: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Bun as the project's own devDependency (node_modules/.bin/bun, bunx), not on PATH."""
    bun = _real_bun()
    bins = proj / "node_modules" / ".bin"
    bins.mkdir(parents=True)
    for name in ("bun", "bunx"):
        (bins / name).symlink_to(bun.parent / name)
    monkeypatch.delenv("AYJNT_BUILD_COMMAND")
    monkeypatch.setenv("PATH", "/usr/bin:/bin")
    return bins


def test_bun_as_a_local_devdependency(proj: Path, env: Path, bun_devdependency: Path,
                                      capfd: pytest.CaptureFixture[str]) -> None:
    """`bun` only in node_modules/.bin: the real bunx from there runs the project's ayjnt
    (before: "Install Bun")."""
    ayjnt = bun_devdependency / "ayjnt"
    ayjnt.write_text(f"#!/bin/sh\nexec {sys.executable} {FIXTURES / 'fake_ayjnt_build.py'} "
                     '"$@"\n')
    ayjnt.chmod(0o755)
    code, out, err = deploy(capfd, "--cwd", str(proj))
    assert code == 0, out + err
    assert recorded(env)["argv"][:2] == ["deploy", "--config"]


@pytest.mark.parametrize("listed", [False, True], ids=["not-in-package-json", "not-installed"])
def test_ayjnt_not_installed_says_how_to_add_it(proj: Path, env: Path, bun_devdependency: Path,
                                                capfd: pytest.CaptureFixture[str],
                                                listed: bool) -> None:
    """bunx but no ayjnt package: say so, with the command (before: npm's 404 from bunx)."""
    if listed:
        (proj / "package.json").write_text('{"devDependencies": {"ayjnt": "0.5.9"}}\n')
        sh(proj, "git commit -qam 'list ayjnt' && git push -q origin main")
    code, _, err = deploy(capfd, "--cwd", str(proj))
    assert code == 1, err
    if listed:
        assert "ayjnt is listed in package.json but not installed (no " \
               "node_modules/.bin/ayjnt). Run `bun install`" in err
    else:
        assert "ayjnt is not installed in this project: no node_modules/.bin/ayjnt and no " \
               '"ayjnt" in package.json. Add it with `bun add -d ayjnt`' in err
    assert not env.exists()


def test_not_an_ayjnt_project(tmp_path: Path, env: Path, capfd: pytest.CaptureFixture[str]
                              ) -> None:
    """No agents/, no lockfile: refused as not a project (before: "✓ 0 agent(s)")."""
    sh(tmp_path, "git init -q -b main . && git commit -q --allow-empty -m x")
    code, out, err = deploy(capfd, "--cwd", str(tmp_path), "--check")
    assert code == 3 and "agent(s)" not in out
    assert f"{tmp_path} is not an ayjnt project" in err


def test_help_does_nothing(tmp_path: Path, capfd: pytest.CaptureFixture[str], env: Path) -> None:
    write_files(tmp_path, {"dirty.txt": "x"})
    code, out, err = deploy(capfd, "--cwd", str(tmp_path), "--help")
    assert code == 0 and out.startswith("usage: ayjnt-deploy") and err == ""
    assert not env.exists()
    assert deploy(capfd, "--cwd", "/no/such/dir", "-h")[0] == 0
    assert parse_args(["--", "--help"]).forwarded == ["--help"]


@pytest.mark.parametrize("argv", [
    pytest.param(["--version"], id="long"),
    pytest.param(["-V"], id="short"),
    pytest.param(["-v"], id="wrangler-alias"),
    pytest.param(["--env", "staging", "--version"], id="after-forwarded"),
    pytest.param(["--force", "--ci", "-V", "--", "--dry-run"], id="with-force"),
])
def test_version_does_nothing(proj: Path, env: Path, capfd: pytest.CaptureFixture[str],
                              argv: list[str]) -> None:
    """A version request never reaches the build or wrangler (before: forwarded to
    `wrangler deploy` after a real build)."""
    from ayjnt_hooks import __version__

    write_files(proj, {"agents/new/agent.ts": agent("NewAgent")})  # would refuse a deploy
    code, out, err = deploy(capfd, "--cwd", str(proj), *argv)
    assert (code, out, err) == (0, f"ayjnt-deploy (ayjnt-hooks) {__version__}\n", "")
    assert not env.exists() and not (proj / ".ayjnt" / "dist").exists()
    assert parse_args(["--", "--version"]).forwarded == ["--version"]


@pytest.mark.parametrize(("argv", "cwd", "force", "forwarded"), [
    pytest.param(["--cwd", "."], ".", False, [], id="TV-66-space"),
    pytest.param(["--cwd=."], ".", False, [], id="TV-66-equals"),
    pytest.param(["--port", "8788", "--cwd", ".", "--inspect"], ".", False,
                 ["--port", "8788", "--inspect"], id="TV-69"),
    pytest.param(["--cwd", ".", "--", "--cwd", "ignored", "--help"], ".", False,
                 ["--cwd", "ignored", "--help"], id="TV-70"),
    pytest.param(["--force"], None, True, [], id="TV-71"),
    pytest.param(["--force=true"], None, False, ["--force=true"], id="force-equals-forwarded"),
])
def test_arguments(argv: list[str], cwd: str | None, force: bool, forwarded: list[str]) -> None:
    args = parse_args(argv)
    assert (args.force, args.forwarded) == (force, forwarded)
    if cwd is not None:
        assert args.cwd == cwd


@pytest.mark.parametrize(("argv", "message"), [
    pytest.param(["--cwd"], "--cwd requires a path (--cwd <path> or --cwd=<path>)", id="TV-67"),
    pytest.param(["--cwd", "--force"], "--cwd requires a path", id="TV-67-flag"),
    pytest.param(["--cwd", "/no/such/dir"], "--cwd /no/such/dir is not a directory",
                 id="TV-68"),
])
def test_usage_errors(capfd: pytest.CaptureFixture[str], argv: list[str], message: str) -> None:
    code, _, err = deploy(capfd, *argv)
    assert code == 2 and message in err


# --- preflight refusals, exact text -------------------------------------------------------


def test_dirty_tree(proj: Path, capfd: pytest.CaptureFixture[str], env: Path) -> None:
    with open(proj / "agents/chat/agent.ts", "a") as f:
        f.write("// edit\n")
    write_files(proj, {"agents/new-thing/agent.ts": agent("NewThing")})
    code, out, err = deploy(capfd, "--cwd", str(proj))
    assert code == 1 and out == ""
    assert err == ("\nayjnt: uncommitted changes detected:\n M agents/chat/agent.ts\n"
                   "?? agents/new-thing/\n\ncommit or stash before deploying. Use --force to "
                   "bypass.\n")
    assert not env.exists()


def test_unpushed(proj: Path, capfd: pytest.CaptureFixture[str]) -> None:
    sh(proj, "for i in 1 2 3; do git commit -q --allow-empty -m c$i; done")
    code, out, err = deploy(capfd, "--cwd", str(proj))
    assert code == 1 and out == "✓ git clean\n"
    assert err == ("\nayjnt: 3 unpushed commit(s) on main. Push before deploying. Use --force "
                   "to bypass.\n")


def other_commits(proj: Path, n: int) -> None:
    sh(proj, "git clone -q $(git remote get-url origin) ../other && cd ../other && "
             f"for i in $(seq {n}); do git commit -q --allow-empty -m o$i; done && "
             "git push -q origin main && cd - >/dev/null && git fetch -q origin")


def test_unpulled(proj: Path, capfd: pytest.CaptureFixture[str]) -> None:
    other_commits(proj, 2)
    code, _, err = deploy(capfd, "--cwd", str(proj))
    assert code == 1
    assert err == ("\nayjnt: 2 unpulled commit(s) from origin/main. Pull before deploying. Use "
                   "--force to bypass.\n")


def test_diverged_reports_unpushed_first(proj: Path, capfd: pytest.CaptureFixture[str]) -> None:
    other_commits(proj, 2)
    sh(proj, "git commit -q --allow-empty -m mine")
    assert "1 unpushed commit(s) on main" in deploy(capfd, "--cwd", str(proj))[2]


def commit_push(proj: Path, msg: str) -> None:
    sh(proj, f"git add -A && git commit -qm '{msg}' && git push -q origin HEAD")


def test_pending_addition(proj: Path, capfd: pytest.CaptureFixture[str], env: Path) -> None:
    write_files(proj, {"agents/support/agent.ts": agent("SupportAgent")})
    commit_push(proj, "add support")
    code, out, err = deploy(capfd, "--cwd", str(proj))
    assert code == 1
    lines = out.splitlines()
    assert lines[:2] == ["✓ git clean", "✓ in sync with origin/main"]
    assert lines[2].startswith("Pending migration: v2 (")
    assert lines[3:] == ["  + added:", "      SupportAgent (agentId: support) at /support"]
    assert err == ("\nayjnt: pending migration detected — not yet committed to "
                   ".ayjnt/migrations.json.\n" + PENDING + "\n")
    assert not env.exists()


def test_pending_move_only(proj: Path, capfd: pytest.CaptureFixture[str]) -> None:
    sh(proj, "git mv agents/chat agents/support")
    commit_push(proj, "move")
    code, out, err = deploy(capfd, "--cwd", str(proj))
    assert code == 1
    assert "  = moved (folder renamed; storage preserved, no migration):\n" \
           "      ChatAgent: agentId chat -> support\n" in out
    assert err.startswith("\nayjnt: pending lockfile change (folder move) — not yet committed "
                          "to .ayjnt/migrations.json.\n")


def test_pending_deletion(proj: Path, capfd: pytest.CaptureFixture[str]) -> None:
    sh(proj, "git rm -rq agents/chat")
    commit_push(proj, "delete")
    code, out, err = deploy(capfd, "--cwd", str(proj))
    assert code == 1
    assert "  - deleted (storage will be destroyed):\n      ChatAgent (agentId: chat)" in out
    assert "pending migration detected" in err


def test_force_skips_preflight_keeps_lockfile(proj: Path, env: Path,
                                              capfd: pytest.CaptureFixture[str]) -> None:
    write_files(proj, {"agents/support/agent.ts": agent("SupportAgent"), "dirty.txt": "x"})
    before = (proj / ".ayjnt/migrations.json").read_bytes()
    code, out, err = deploy(capfd, "--cwd", str(proj), "--force")
    assert code == 0
    assert "✓ git clean" not in out and "staged migrations" not in out
    assert "warning: --force: deploying a lockfile change that is NOT committed" in err
    assert (proj / ".ayjnt/migrations.json").read_bytes() == before
    config = (proj / ".ayjnt/dist/wrangler.jsonc").read_text()
    assert '"SupportAgent"' in config  # the pending entry is deployed, as ayjnt does
    assert recorded(env)["argv"][:2] == ["deploy", "--config"]  # type: ignore[index]


# --- degraded paths -------------------------------------------------------------------------


def test_not_a_repo(tmp_path: Path, env: Path, capfd: pytest.CaptureFixture[str]) -> None:
    proj = tmp_path / "plain"
    write_files(proj, {"agents/chat/agent.ts": agent("ChatAgent"),
                       ".ayjnt/migrations.json": built_lockfile(("chat", "ChatAgent"))})
    code, out, err = deploy(capfd, "--cwd", str(proj))
    assert code == 0
    assert err == ("warning: not a git repo (fatal: not a git repository (or any of the parent "
                   "directories): .git); skipping repo sync checks\n")
    assert out.startswith("✓ 1 agent(s), 1 staged migrations\n")


def test_detached_head(proj: Path, capfd: pytest.CaptureFixture[str]) -> None:
    sh(proj, "git checkout -q --detach")
    code, _, err = deploy(capfd, "--cwd", str(proj))
    assert code == 0
    assert err == ("warning: detached HEAD — skipping remote sync check. Make sure this commit "
                   "is pushed before deploying.\n")


def test_no_origin_branch(proj: Path, capfd: pytest.CaptureFixture[str]) -> None:
    sh(proj, "git checkout -qb feature")
    code, _, err = deploy(capfd, "--cwd", str(proj))
    assert code == 0
    assert err == ("warning: no origin/feature — skipping sync check. Ensure coworkers "
                   "coordinate migrations.\n")


def test_unborn(tmp_path: Path, env: Path, capfd: pytest.CaptureFixture[str]) -> None:
    proj = tmp_path / "fresh"
    (proj / "agents").mkdir(parents=True)
    sh(proj, "git init -q -b main .")
    code, _, err = deploy(capfd, "--cwd", str(proj), "--no-build")
    assert code == 1  # no config was ever built; the git part only warned
    assert "warning: no commits yet — skipping remote sync check." in err


def test_monorepo_subfolder(tmp_path: Path, env: Path, capfd: pytest.CaptureFixture[str]
                            ) -> None:
    proj = make_project(tmp_path, "apps/chat")
    code, out, _ = deploy(capfd, "--cwd", str(proj))
    assert code == 0 and "✓ 2 agent(s), 1 staged migrations" in out
    write_files(proj.parent.parent.parent / "work", {"elsewhere.txt": "x"})
    code, _, err = deploy(capfd, "--cwd", str(proj))
    assert code == 1 and "?? elsewhere.txt" in err


# --- always, even with --force -------------------------------------------------------------


@pytest.mark.parametrize("force", [False, True])
def test_host_tools_block(proj: Path, capfd: pytest.CaptureFixture[str], force: bool) -> None:
    write_files(proj, {"agents/chat/tools.host.ts": "export const t = 1;\n"})
    commit_push(proj, "tools")
    code, _, err = deploy(capfd, "--cwd", str(proj), *(["--force"] if force else []))
    assert code == 1
    assert ("ayjnt: cannot deploy: 1 host tool file(s) would not work in production.\n\n"
            "  agents/chat/tools.host.ts  (/chat)\n\n") in err


def test_host_tools_marker_allows(proj: Path, capfd: pytest.CaptureFixture[str]) -> None:
    write_files(proj, {"agents/chat/tools.host.ts": "// @ayjnt-optional-on-deploy\n"})
    commit_push(proj, "tools")
    assert deploy(capfd, "--cwd", str(proj))[0] == 0


def test_stale_config_refused(proj: Path, capfd: pytest.CaptureFixture[str],
                              monkeypatch: pytest.MonkeyPatch) -> None:
    assert deploy(capfd, "--cwd", str(proj))[0] == 0
    sh(proj, "git mv agents/chat agents/support")
    lock = json.loads((proj / ".ayjnt/migrations.json").read_text())
    lock["classes"] = {"admin_users_v1": lock["classes"]["admin_users_v1"],
                       "support": {**lock["classes"]["chat"], "agentId": "support"}}
    (proj / ".ayjnt/migrations.json").write_bytes(lf.serialize(lock))
    commit_push(proj, "move with lockfile")
    with open(proj / ".ayjnt/dist/wrangler.jsonc", "a"):
        pass
    config = proj / ".ayjnt/dist/wrangler.jsonc"
    config.write_text(config.read_text().replace('"v1"', '"v0"'))
    code, _, err = deploy(capfd, "--cwd", str(proj), "--no-build")
    assert code == 1
    assert "is stale: its migrations (v0) differ from the lockfile's (v1)" in err
    (proj / ".ayjnt/dist/wrangler.jsonc").unlink()
    code, _, err = deploy(capfd, "--cwd", str(proj), "--no-build")
    assert code == 1 and "does not exist — the project was never built" in err


def test_build_disagreeing_with_engine_is_refused(proj: Path, capfd: pytest.CaptureFixture[str],
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    script = proj.parent / "bad_build.py"
    script.write_text("import pathlib; p = pathlib.Path('.ayjnt/migrations.json'); "
                      "p.write_text(p.read_text() + ' ')\n")
    monkeypatch.setenv("AYJNT_BUILD_COMMAND", f"{sys.executable} {script}")
    before = (proj / ".ayjnt/migrations.json").read_bytes()
    code, _, err = deploy(capfd, "--cwd", str(proj))
    assert code == 1 and "ayjnt and ayjnt-hooks disagree" in err
    assert (proj / ".ayjnt/migrations.json").read_bytes() == before


def test_build_failure(proj: Path, capfd: pytest.CaptureFixture[str],
                       monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AYJNT_BUILD_COMMAND", f"{sys.executable} -c 'raise SystemExit(4)'")
    code, _, err = deploy(capfd, "--cwd", str(proj))
    assert code == 1 and "the build failed" in err and "exited 4" in err


# --- beyond ayjnt: --ci, --fetch, --json ------------------------------------------------------


def test_ci_detached_tip_passes(proj: Path, capfd: pytest.CaptureFixture[str],
                                monkeypatch: pytest.MonkeyPatch) -> None:
    sh(proj, "git checkout -q --detach origin/main")
    monkeypatch.setenv("GITHUB_REF_NAME", "main")
    code, out, err = deploy(capfd, "--cwd", str(proj), "--ci")
    assert code == 0 and err == ""
    assert "✓ HEAD is the tip of origin/main" in out


def test_ci_not_tip_refused(proj: Path, capfd: pytest.CaptureFixture[str]) -> None:
    sh(proj, "git commit -q --allow-empty -m local && git checkout -q --detach")
    code, _, err = deploy(capfd, "--cwd", str(proj), "--ci=main")
    assert code == 1 and "is not the tip of origin/main" in err


def test_ci_still_refuses_pending(proj: Path, capfd: pytest.CaptureFixture[str]) -> None:
    write_files(proj, {"agents/support/agent.ts": agent("SupportAgent")})
    commit_push(proj, "add")
    code, _, err = deploy(capfd, "--cwd", str(proj), "--ci=main")
    assert code == 1 and "pending migration detected" in err


def test_ci_unknown_branch(proj: Path, capfd: pytest.CaptureFixture[str]) -> None:
    sh(proj, "git checkout -q --detach")
    code, _, err = deploy(capfd, "--cwd", str(proj), "--ci")
    assert code == 2 and "--ci=<branch>" in err


def test_fetch_detects_moved_remote(proj: Path, capfd: pytest.CaptureFixture[str]) -> None:
    sh(proj, "git clone -q $(git remote get-url origin) ../other && cd ../other && "
             "git commit -q --allow-empty -m o && git push -q origin main")
    assert deploy(capfd, "--cwd", str(proj))[0] == 0  # without --fetch nothing is seen
    remote = sh(proj, "git ls-remote origin refs/heads/main").stdout.split()[0]
    local = sh(proj, "git rev-parse origin/main").stdout.strip()
    code, _, err = deploy(capfd, "--cwd", str(proj), "--fetch")
    assert code == 1
    assert err == (f"\nayjnt: origin/main moved since your last fetch (remote {remote[:7]}, "
                   f"local {local[:7]}). Pull before deploying. Use --force to bypass.\n")


def test_fetch_unreachable_is_a_warning(proj: Path, capfd: pytest.CaptureFixture[str]) -> None:
    sh(proj, "git remote set-url origin /nonexistent/repo.git")
    code, _, err = deploy(capfd, "--cwd", str(proj), "--fetch", "--check")
    assert code == 0 and "warning: --fetch: could not reach origin" in err
    # a deploy (not --check) also needs the deploy ledger: unreadable means refused
    code, _, err = deploy(capfd, "--cwd", str(proj), "--fetch")
    assert code == 3 and "warning: --fetch: could not reach origin" in err
    assert "A deploy ledger that cannot be read cannot protect this deploy" in err


def test_json(proj: Path, capfd: pytest.CaptureFixture[str]) -> None:
    code, out, err = deploy(capfd, "--cwd", str(proj), "--json")
    assert code == 0
    data = json.loads(out)  # stdout holds the JSON object only
    assert "stub wrangler ran" in err
    assert data["ok"] is True
    assert data["preflight"]["agents"] == 2 and data["preflight"]["ahead"] == 0
    assert [f["message"] for f in data["findings"]] == [
        "git clean", "in sync with origin/main", "2 agent(s), 1 staged migrations"]
    sh(proj, "git commit -q --allow-empty -m local")
    code, out, _ = deploy(capfd, "--cwd", str(proj), "--json")
    data = json.loads(out)
    assert code == 1 and data["ok"] is False
    assert data["findings"][-1]["code"] == "unpushed"


def test_github_annotations(proj: Path, capfd: pytest.CaptureFixture[str],
                            monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GITHUB_ACTIONS", "true")
    sh(proj, "git commit -q --allow-empty -m local")
    code, out, _ = deploy(capfd, "--cwd", str(proj))
    assert code == 1
    assert "::error title=ayjnt%3A unpushed::1 unpushed commit(s) on main." in out


def test_secrets_not_printed(proj: Path, capfd: pytest.CaptureFixture[str],
                             monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CLOUDFLARE_API_TOKEN", "s3cr3t-token-value")
    sh(proj, "git commit -q --allow-empty -m local")
    for argv in (("--cwd", str(proj)), ("--cwd", str(proj), "--json"),
                 ("--cwd", str(proj), "--force")):
        _, out, err = deploy(capfd, *argv)
        assert "s3cr3t" not in out + err


# --- signals (stub launcher, real process) -----------------------------------------------------


@pytest.mark.parametrize(("sig", "die", "expected"), [
    pytest.param(signal.SIGTERM, False, 0, id="sigterm-child-exits-0"),
    pytest.param(signal.SIGINT, True, 128 + signal.SIGINT, id="sigint-child-dies"),
    pytest.param(signal.SIGTERM, True, 128 + signal.SIGTERM, id="sigterm-child-dies"),
])
def test_signal_forwarding(proj: Path, env: Path, sig: int, die: bool, expected: int) -> None:
    exe = shutil.which("ayjnt-deploy", path=str(Path(sys.executable).parent))
    assert exe
    prebuild(proj)
    child_env = {**os.environ, "STUB_WAIT": "1"}
    if die:
        child_env["STUB_DIE_OF_SIGNAL"] = "1"
    proc = subprocess.Popen([exe, "--cwd", str(proj), "--no-build"], env=child_env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    ready = Path(str(env) + ".ready")
    deadline = time.monotonic() + 20
    while not ready.exists():
        assert proc.poll() is None, proc.stderr.read() if proc.stderr else ""
        assert time.monotonic() < deadline
        time.sleep(0.05)
    proc.send_signal(sig)
    assert proc.wait(timeout=20) == expected
    assert recorded(env)["signal"] == sig


# --- real wrangler ---------------------------------------------------------------------------


# Where .ci/run installs the pinned npm tools (read at import, before HOME is sandboxed).
NPM_BIN = Path(os.environ.get("AYJNT_HOOKS_NPM_PREFIX")
               or Path.home() / ".cache" / "ayjnt-hooks" / "npm") / "node_modules" / ".bin"


def _bunx() -> str | None:
    path = os.environ.get("PATH", "") + os.pathsep + str(NPM_BIN)
    found = shutil.which("bunx", path=path)
    if found is None and os.environ.get("AYJNT_HOOKS_REQUIRE_E2E"):
        pytest.fail("bunx is not installed: .ci/run installs it from npm")
    return found


@pytest.fixture
def real_wrangler(proj: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    bunx = _bunx()
    if bunx is None:
        pytest.skip("bunx/wrangler not installed (run .ci/run)")
    monkeypatch.delenv("AYJNT_WRANGLER")
    monkeypatch.setenv("PATH", os.path.dirname(bunx) + os.pathsep + os.environ["PATH"])
    monkeypatch.setenv("WRANGLER_SEND_METRICS", "false")
    return proj


def test_real_wrangler_dry_run(real_wrangler: Path, capfd: pytest.CaptureFixture[str]) -> None:
    code, out, err = deploy(capfd, "--cwd", str(real_wrangler), "--dry-run")
    assert code == 0, out + err
    assert "--dry-run: exiting now." in out + err
    assert "env.CHAT_AGENT (ChatAgent)" in out + err


def test_real_wrangler_broken_config(real_wrangler: Path, capfd: pytest.CaptureFixture[str],
                                     monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FAKE_BUILD_BREAK_CONFIG", "1")
    code, out, err = deploy(capfd, "--cwd", str(real_wrangler), "--dry-run")
    assert code != 0
    assert "missing-entry.ts" in out + err


def test_check_only(proj: Path, env: Path, capfd: pytest.CaptureFixture[str]) -> None:
    code, out, err = deploy(capfd, "--cwd", str(proj), "--check")
    assert (code, err) == (0, "")
    assert out == ("✓ git clean\n✓ in sync with origin/main\n✓ 2 agent(s), 1 staged "
                   "migrations\n")
    assert not env.exists() and not (proj / ".ayjnt/dist").exists()


@pytest.mark.parametrize(("content", "needle"), [
    pytest.param("// header\n{ nope", "is not valid JSON", id="invalid"),
    pytest.param("[]", "is not a JSON object", id="not-object"),
    pytest.param('{"migrations": [], "durable_objects": {"bindings": []}}',
                 "its durable_objects bindings (none) differ from the agents", id="bindings"),
])
def test_broken_generated_config(proj: Path, capfd: pytest.CaptureFixture[str], content: str,
                                 needle: str) -> None:
    prebuild(proj)
    (proj / ".ayjnt/dist/wrangler.jsonc").write_text(content)
    code, _, err = deploy(capfd, "--cwd", str(proj), "--no-build")
    assert code == 1 and needle in err and "ayjnt build" in err


def test_fetch_without_remote_url(proj: Path, capfd: pytest.CaptureFixture[str]) -> None:
    sh(proj, "git config --unset remote.origin.url")
    code, _, err = deploy(capfd, "--cwd", str(proj), "--fetch", "--check")
    assert code == 0 and "no remote.origin.url configured" in err


def test_internal_error_is_one_line(proj: Path, capfd: pytest.CaptureFixture[str],
                                    monkeypatch: pytest.MonkeyPatch) -> None:
    def boom(*_: object) -> None:
        raise RuntimeError("kaboom")
    monkeypatch.setattr("ayjnt_hooks.deploy.Deploy.host_tools_check", boom)
    code, _, err = deploy(capfd, "--cwd", str(proj))
    assert code == 3 and "ayjnt: internal error: RuntimeError in deploy.py:" in err
    assert "Traceback" not in err and "kaboom" not in err  # (its text may quote a file)
    code, out, _ = deploy(capfd, "--cwd", str(proj), "--json")
    assert code == 3
    error = json.loads(out)["error"]
    assert error["kind"] == "internal" and "kaboom" not in out
    assert error["message"].startswith("internal error: RuntimeError in deploy.py:")


def test_scan_error_exits_3(proj: Path, capfd: pytest.CaptureFixture[str]) -> None:
    (proj / ".ayjnt/migrations.json").write_text("{ broken")
    sh(proj, "git commit -qam broken && git push -q origin main")
    code, out, err = deploy(capfd, "--cwd", str(proj), "--json")
    assert code == 3 and "is not valid JSON" in err
    data = json.loads(out)
    assert data["ok"] is False and data["error"]["kind"] == "input"
