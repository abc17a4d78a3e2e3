"""The deploy ledger (issue #15) against real git: a bare ``origin`` reached through file://,
a local ``git daemon`` (git://, dulwich writes) and ``git http-backend`` behind a Python HTTP
server with Basic authentication (http://, the user's ``git push`` writes); real
``ayjnt-deploy`` processes with a stub wrangler; git as the oracle for what the remote holds."""
from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from ayjnt_hooks import cli
from ayjnt_hooks.deploy import main as deploy_main
from ayjnt_hooks.ledger import entry_summary, is_dry_run, wrangler_env

from .conftest import git, sh, tree_hashes, write_files
from .gitservers import git_daemon, http_backend
from .test_deploy import FAKE_BUILD, STUB, _bunx, agent, make_project, prebuild

SECRET = "s3cr3t-pass"
TOKEN = "cf-token-VALUE-1234"
DEPLOYED = "refs/ayjnt/deployed/"
DEPLOYING = "refs/ayjnt/deploying/"
TRANSPORTS = ("file", "git-daemon", "http")
EXE = shutil.which("ayjnt-deploy", path=str(Path(sys.executable).parent))


@pytest.fixture
def env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    record = tmp_path / "record.json"
    monkeypatch.setenv("AYJNT_BUILD_COMMAND", FAKE_BUILD)
    monkeypatch.setenv("AYJNT_WRANGLER", STUB)
    monkeypatch.setenv("STUB_RECORD", str(record))
    monkeypatch.setenv("PYTHONPATH", str(Path(__file__).resolve().parent.parent))
    monkeypatch.setenv("GIT_ALLOW_PROTOCOL", "file:git:http")
    monkeypatch.setenv("CLOUDFLARE_API_TOKEN", TOKEN)
    return record


@pytest.fixture(params=TRANSPORTS)
def transport(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def proj(tmp_path: Path, env: Path, transport: str) -> Iterator[Path]:
    """A clean, pushed project whose origin is reached through ``transport``."""
    proj = make_project(tmp_path)
    origin = tmp_path / "origin.git"
    if transport == "file":
        sh(proj, f"git remote set-url origin file://{origin}")
        yield proj
    elif transport == "git-daemon":
        with git_daemon(tmp_path) as base:
            sh(proj, f"git remote set-url origin {base}/origin.git")
            yield proj
    else:
        with http_backend(tmp_path, credentials=f"deployer:{SECRET}") as (base, _):
            url = base.replace("http://", f"http://deployer:{SECRET}@") + "/origin.git"
            sh(proj, f"git remote set-url origin {url}")
            yield proj


def origin_of(proj: Path) -> Path:
    return proj.parent / "origin.git"


def refs(proj: Path) -> dict[str, str]:
    """The oracle: what git says the bare origin holds under refs/ayjnt/."""
    out = git(origin_of(proj), "for-each-ref", "--format=%(refname) %(objectname)",
              "refs/ayjnt/")
    return dict(line.split(" ", 1) for line in out.splitlines())  # type: ignore[misc]


def fields(proj: Path, ref: str) -> dict[str, str]:
    body = git(origin_of(proj), "log", "-1", "--format=%B", ref)
    return {k[len("Ayjnt-"):]: v for k, _, v in
            (line.partition(": ") for line in body.splitlines()) if k.startswith("Ayjnt-")}


def live_lockfile(proj: Path, env: str = "default") -> bytes:
    return subprocess.run(["git", "show", f"{DEPLOYED}{env}:.ayjnt/migrations.json"],
                          cwd=origin_of(proj), capture_output=True, check=True).stdout


def ledger(capfd: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = cli.main(("ledger", *argv))
    out, err = capfd.readouterr()
    return code, out, err


def deploy(capfd: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = deploy_main(argv)
    out, err = capfd.readouterr()
    return code, out, err


def head(proj: Path) -> str:
    return git(proj, "rev-parse", "HEAD").strip()


def no_secrets(*texts: str) -> None:
    for text in texts:
        assert SECRET not in text and TOKEN not in text


def origin_records(proj: Path) -> str:
    """Every byte of every ledger object on origin, for the no-secrets check."""
    shas = git(origin_of(proj), "rev-list", "--objects", "--all").split()
    return "".join(git(origin_of(proj), "cat-file", "-p", s) for s in shas
                   if len(s) == 40)


# --- init, show, deploy records ---


@pytest.mark.parametrize("transport", ["file"], indirect=True)
def test_show_one_environment(proj: Path, env: Path, capfd: pytest.CaptureFixture[str]
                              ) -> None:
    for name in ("production", "staging"):
        assert ledger(capfd, "init", "--cwd", str(proj), "--env", name)[0] == 0
    code, out, err = ledger(capfd, "show", "--cwd", str(proj), "--env", "staging", "--json")
    assert code == 0, err
    assert list(json.loads(out)["environments"]) == ["staging"]
    code, out, err = ledger(capfd, "show", "--cwd", str(proj), "--env", "staging")
    assert out.startswith("staging: ") and "production" not in out
    code, out, err = ledger(capfd, "show", "--cwd", str(proj), "--env", "qa")
    assert code == 0 and "no deploy ledger for environment qa on" in out
    assert "ayjnt-hooks ledger init --env qa" in out




def test_init_show_and_a_recorded_deploy(proj: Path, env: Path, transport: str,
                                         capfd: pytest.CaptureFixture[str]) -> None:
    code, out, err = ledger(capfd, "show", "--cwd", str(proj))
    assert code == 0 and "no deploy ledger on" in out
    code, out, err = ledger(capfd, "init", "--cwd", str(proj))
    assert code == 0, err
    assert "created refs/ayjnt/deployed/default on" in out and "v1 from commit" in out
    init_sha = refs(proj)[DEPLOYED + "default"]
    assert set(refs(proj)) == {DEPLOYED + "default"}
    assert live_lockfile(proj) == (proj / ".ayjnt/migrations.json").read_bytes()
    assert fields(proj, DEPLOYED + "default")["Kind"] == "init"
    assert fields(proj, DEPLOYED + "default")["Commit"] == head(proj)
    code, out, _ = ledger(capfd, "init", "--cwd", str(proj))
    assert code == 1 and "already exists" in out

    before = tree_hashes(proj / ".git")
    code, out, err = deploy(capfd, "--cwd", str(proj))
    assert code == 0, err
    assert "✓ extends the live lockfile of default (v1, deployed " in out
    assert "✓ recorded default: v1 in refs/ayjnt/deployed/default" in out
    assert tree_hashes(proj / ".git") == before  # nothing written into the user's .git
    now = refs(proj)
    assert set(now) == {DEPLOYED + "default"} and now[DEPLOYED + "default"] != init_sha
    record = fields(proj, DEPLOYED + "default")
    assert (record["Kind"], record["Commit"], record["Tag"], record["Previous"]) == (
        "deployed", head(proj), "v1", init_sha)
    assert record["By"] == "Test <test@example.com>" and record["Environment"] == "default"
    assert git(origin_of(proj), "cat-file", "-t", record["Lease"]).strip() == "commit"

    code, out, _ = ledger(capfd, "show", "--cwd", str(proj))
    assert code == 0 and out.startswith("default: v1, commit " + head(proj)[:7])
    code, out, _ = ledger(capfd, "show", "--cwd", str(proj), "--json")
    data = json.loads(out)
    assert data["ok"] is True
    assert data["environments"]["default"]["live"]["record"] == now[DEPLOYED + "default"]
    assert data["environments"]["default"]["lease"] is None
    no_secrets(out, err, json.dumps(data), origin_records(proj))


def test_env_is_wranglers(proj: Path, env: Path, capfd: pytest.CaptureFixture[str]) -> None:
    assert ledger(capfd, "init", "--cwd", str(proj), "--env", "staging")[0] == 0
    code, out, err = deploy(capfd, "--cwd", str(proj), "--env", "staging")
    assert code == 0 and "✓ recorded staging: v1" in out
    code, out, err = deploy(capfd, "--cwd", str(proj))  # the default env has no ledger
    assert code == 0
    assert "origin has no deploy ledger for environment default (it has: staging)" in err
    assert set(refs(proj)) == {DEPLOYED + "staging"}


# --- two deploys at once ---


def spawn(proj: Path, record: Path, until: Path, *argv: str) -> subprocess.Popen[str]:
    assert EXE
    child_env = {**os.environ, "STUB_RECORD": str(record), "STUB_UNTIL": str(until)}
    return subprocess.Popen([EXE, "--cwd", str(proj), "--no-build", *argv], env=child_env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            start_new_session=True)


def wait_for(path: Path, *procs: subprocess.Popen[str]) -> None:
    deadline = time.monotonic() + 60
    while not path.exists():
        for p in procs:
            assert p.poll() is None, p.communicate()
        assert time.monotonic() < deadline, f"{path} never appeared"
        time.sleep(0.05)


def test_two_deploys_exactly_one_wins(proj: Path, tmp_path: Path,
                                      capfd: pytest.CaptureFixture[str]) -> None:
    assert ledger(capfd, "init", "--cwd", str(proj))[0] == 0
    prebuild(proj)
    go = tmp_path / "go"
    a = spawn(proj, tmp_path / "a.json", go)
    b = spawn(proj, tmp_path / "b.json", go)
    # Whoever holds the lease reaches wrangler and waits there for `go`; the other is refused.
    deadline = time.monotonic() + 60
    while a.poll() is None and b.poll() is None:
        assert time.monotonic() < deadline
        time.sleep(0.05)
    loser, winner = (a, b) if a.poll() is not None else (b, a)
    win_record = tmp_path / ("a.json" if winner is a else "b.json")
    wait_for(Path(str(win_record) + ".ready"), winner)
    _, lose_err = loser.communicate(timeout=60)
    assert loser.returncode == 1, lose_err
    assert "another deploy to default holds the lease since " in lose_err
    assert f"Test <test@example.com> on {os.uname().nodename} (pid {winner.pid})" in lose_err
    assert "ayjnt-hooks ledger break-lease --env default" in lose_err
    assert not (tmp_path / ("a.json" if loser is a else "b.json")).exists()  # never deployed
    go.touch()
    win_out, win_err = winner.communicate(timeout=60)
    assert winner.returncode == 0, win_err
    assert "✓ recorded default: v1" in win_out
    assert set(refs(proj)) == {DEPLOYED + "default"}  # lease gone
    assert fields(proj, DEPLOYED + "default")["Pid"] == str(winner.pid)
    no_secrets(lose_err, win_out, win_err)


# --- a stale checkout ---


def deploy_from_other_clone(proj: Path, capfd: pytest.CaptureFixture[str]) -> Path:
    """A teammate adds SupportAgent (v2), pushes and deploys it; ``proj`` does not fetch."""
    url = git(proj, "remote", "get-url", "origin").strip()
    other = proj.parent / "other"
    sh(proj.parent, f"git clone -q {url} other")
    write_files(other, {"agents/support/agent.ts": agent("SupportAgent")})
    prebuild(other)  # writes the v2 entry into the lockfile, as `ayjnt build` does
    sh(other, "git add -A && git commit -qm support && git push -q origin main")
    code, _, err = deploy(capfd, "--cwd", str(other))
    assert code == 0, err
    return other


@pytest.mark.parametrize("transport", ["file"], indirect=True)
def test_stale_checkout_refused_even_with_force(proj: Path, env: Path,
                                                capfd: pytest.CaptureFixture[str]) -> None:
    assert ledger(capfd, "init", "--cwd", str(proj))[0] == 0
    deploy_from_other_clone(proj, capfd)
    live = refs(proj)[DEPLOYED + "default"]
    env.unlink()
    for argv in ((), ("--force",)):
        code, _, err = deploy(capfd, "--cwd", str(proj), *argv)
        assert code == 1, err
        assert ("the lockfile being deployed does not extend what default has live: entry #2: "
                "default has v2 (adds SupportAgent), this deploy has nothing (the entry is "
                "missing).") in err
        assert "--override-ledger deploys anyway" in err
        assert not env.exists()  # wrangler never ran
        assert refs(proj) == {DEPLOYED + "default": live}  # lease released, ledger as it was
    # A rewritten entry is named on both sides.
    write_files(proj, {"agents/billing/agent.ts": agent("BillingAgent")})
    prebuild(proj)
    sh(proj, "git add -A && git commit -qm billing")
    code, _, err = deploy(capfd, "--cwd", str(proj), "--force")
    assert code == 1
    assert "entry #2: default has v2 (adds SupportAgent), this deploy has v2 (adds " \
           "BillingAgent)." in err
    # The override deploys, loudly, and records what was deployed.
    code, _, err = deploy(capfd, "--cwd", str(proj), "--force", "--override-ledger")
    assert code == 0, err
    assert "--override-ledger: deploying anyway although the lockfile being deployed" in err
    assert fields(proj, DEPLOYED + "default")["Forced"] == "yes"


@pytest.mark.parametrize("transport", ["file"], indirect=True)
def test_the_refusals_update_command_works_as_printed(proj: Path, env: Path,
                                                      capfd: pytest.CaptureFixture[str]
                                                      ) -> None:
    """Refused for a lockfile that lacks the live entry: the printed command brings in the
    deployed commit (before: `git pull`, which on a branch brings nothing), then
    rebase-lockfile, build, commit, push, and the deploy goes through."""
    import re

    assert ledger(capfd, "init", "--cwd", str(proj))[0] == 0
    deploy_from_other_clone(proj, capfd)
    sh(proj, "git checkout -qb feature")  # a pushed feature branch: `git pull` is no help
    write_files(proj, {"agents/billing/agent.ts": agent("BillingAgent")})
    prebuild(proj)
    sh(proj, "git add -A && git commit -qm billing && git push -q -u origin feature")
    code, _, err = deploy(capfd, "--cwd", str(proj))
    assert code == 1
    update = re.search(r"Bring the deployed commit in \((git fetch origin && git merge "
                       r"[0-9a-f]{7});", err)
    assert update, err
    assert sh(proj, update.group(1), check=False).returncode != 0  # both added a v2: conflict
    assert cli.main(("rebase-lockfile", "--cwd", str(proj))) == 0
    sh(proj, "git add .ayjnt/migrations.json && git commit -q --no-edit")
    prebuild(proj)
    sh(proj, "git add -A && git diff --cached --quiet || git commit -qm build; "
             "git push -q origin feature")
    code, _, err = deploy(capfd, "--cwd", str(proj))
    assert code == 0, err
    assert fields(proj, DEPLOYED + "default")["Tag"] == "v3"


# --- wrangler fails, a deploy is killed ---


def test_wrangler_fails_releases_the_lease(proj: Path, env: Path,
                                           capfd: pytest.CaptureFixture[str],
                                           monkeypatch: pytest.MonkeyPatch) -> None:
    assert ledger(capfd, "init", "--cwd", str(proj))[0] == 0
    before = refs(proj)
    monkeypatch.setenv("STUB_EXIT", "4")
    code, _, err = deploy(capfd, "--cwd", str(proj))
    assert code == 4 and env.exists()
    assert "wrangler exited 4: the deploy ledger of default is unchanged and the lease is " \
           "released." in err
    assert refs(proj) == before


@pytest.mark.parametrize("transport", ["file", "http"], indirect=True)
def test_sigkill_leaves_the_lease_and_break_lease_clears_it(
        proj: Path, tmp_path: Path, capfd: pytest.CaptureFixture[str]) -> None:
    assert ledger(capfd, "init", "--cwd", str(proj))[0] == 0
    live = refs(proj)[DEPLOYED + "default"]
    prebuild(proj)
    proc = spawn(proj, tmp_path / "k.json", tmp_path / "never")
    wait_for(tmp_path / "k.json.ready", proc)
    os.killpg(proc.pid, signal.SIGKILL)  # the deploy and its wrangler, mid-deploy
    proc.communicate(timeout=60)
    lease = refs(proj)[DEPLOYING + "default"]
    assert refs(proj)[DEPLOYED + "default"] == live
    code, _, err = deploy(capfd, "--cwd", str(proj), "--no-build")
    assert code == 1 and f"(pid {proc.pid})" in err and "holds the lease since" in err
    code, out, err = deploy(capfd, "--cwd", str(proj), "--no-build", "--dry-run")
    assert code == 0 and "warning: another deploy to default holds the lease" in err
    code, out, _ = ledger(capfd, "show", "--cwd", str(proj))
    assert "  lease: held since " in out and f"(pid {proc.pid})" in out
    code, out, _ = ledger(capfd, "break-lease", "--cwd", str(proj), "--env", "default")
    assert code == 0
    assert out.startswith(f"breaking the deploy lease of default ({lease}):\n  a deploy to "
                          "default holds the lease since ")
    assert refs(proj) == {DEPLOYED + "default": live}
    assert ledger(capfd, "break-lease", "--cwd", str(proj), "--env", "default")[1] == \
        "no deploy lease on default: nothing to break.\n"
    code, _, err = deploy(capfd, "--cwd", str(proj), "--no-build")
    assert code == 0, err
    no_secrets(out, err)


def test_break_lease_needs_an_env(proj: Path, capfd: pytest.CaptureFixture[str]) -> None:
    code, _, err = ledger(capfd, "break-lease", "--cwd", str(proj))
    assert code == 2 and "--env <name>" in err


# --- a compare-and-swap that loses ---


@pytest.mark.parametrize("transport", TRANSPORTS, indirect=True)
def test_lost_compare_and_swap_is_reported_not_overwritten(
        proj: Path, tmp_path: Path, capfd: pytest.CaptureFixture[str]) -> None:
    assert ledger(capfd, "init", "--cwd", str(proj))[0] == 0
    base = refs(proj)[DEPLOYED + "default"]
    prebuild(proj)
    go = tmp_path / "go"
    proc = spawn(proj, tmp_path / "c.json", go)
    wait_for(tmp_path / "c.json.ready", proc)
    # Someone moves the ledger behind the lease's back (an old client, a hand edit).
    origin = origin_of(proj)
    tree = git(origin, "rev-parse", f"{base}^{{tree}}").strip()
    theirs = git(origin, "commit-tree", tree, input=b"rogue\n\nAyjnt-Kind: deployed\n"
                 b"Ayjnt-Tag: v1\nAyjnt-By: Rogue <r@example.com>\n").strip()
    git(origin, "update-ref", DEPLOYED + "default", theirs)
    go.touch()
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 1, err
    assert "the deploy ledger of default moved while this deploy ran: it was NOT overwritten" \
        in err
    assert f"expected: {base} (v1, commit {head(proj)[:7]}, by Test <test@example.com>" in err
    assert f"found:    {theirs} (v1, commit none, by Rogue <r@example.com>" in err
    assert refs(proj)[DEPLOYED + "default"] == theirs  # never overwritten
    assert DEPLOYING + "default" in refs(proj)  # the lease stays until someone looks
    no_secrets(out, err)


# --- dry runs record nothing ---


def test_dry_run_checks_but_writes_nothing(proj: Path, env: Path,
                                           capfd: pytest.CaptureFixture[str]) -> None:
    assert ledger(capfd, "init", "--cwd", str(proj))[0] == 0
    origin = tree_hashes(origin_of(proj))
    code, out, err = deploy(capfd, "--cwd", str(proj), "--dry-run")
    assert code == 0, err
    assert "✓ extends the live lockfile of default" in out and "recorded" not in out
    assert tree_hashes(origin_of(proj)) == origin  # no lease, no record, no object


@pytest.mark.parametrize("transport", ["file"], indirect=True)
def test_real_wrangler_dry_run_records_nothing(proj: Path, capfd: pytest.CaptureFixture[str],
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    bunx = _bunx()
    if bunx is None:
        pytest.skip("bunx/wrangler not installed (run .ci/run)")
    monkeypatch.delenv("AYJNT_WRANGLER")
    monkeypatch.setenv("PATH", os.path.dirname(bunx) + os.pathsep + os.environ["PATH"])
    monkeypatch.setenv("WRANGLER_SEND_METRICS", "false")
    assert ledger(capfd, "init", "--cwd", str(proj))[0] == 0
    origin = tree_hashes(origin_of(proj))
    code, out, err = deploy(capfd, "--cwd", str(proj), "--dry-run")
    assert code == 0, out + err
    assert "--dry-run: exiting now." in out + err
    assert tree_hashes(origin_of(proj)) == origin
    no_secrets(out, err)


# --- an unreachable remote ---


@pytest.mark.parametrize("transport", ["http"], indirect=True)
def test_unreachable_remote_refuses_unless_overridden(
        proj: Path, env: Path, capfd: pytest.CaptureFixture[str]) -> None:
    assert ledger(capfd, "init", "--cwd", str(proj))[0] == 0
    url = git(proj, "remote", "get-url", "origin").strip()
    sh(proj, f"git remote set-url origin {url.replace(SECRET, 'wrong-password')}")
    code, out, err = deploy(capfd, "--cwd", str(proj), "--force")
    assert code == 3 and not env.exists()
    assert "reading the deploy ledger from http://***@127.0.0.1:" in err
    assert "A deploy ledger that cannot be read cannot protect this deploy" in err
    assert "wrong-password" not in err
    code, out, err = deploy(capfd, "--cwd", str(proj), "--override-ledger")
    assert code == 0 and env.exists()
    assert "--override-ledger: reading the deploy ledger" in err
    assert "Deploying WITHOUT the deploy ledger" in err
    no_secrets(out, err)


@pytest.mark.parametrize("helper", [True, False], ids=["credential-helper", "no-helper"])
def test_https_style_remote_read_with_the_users_credential_helper(
        tmp_path: Path, env: Path, capfd: pytest.CaptureFixture[str], helper: bool) -> None:
    """A remote URL without credentials (a private repository over https, say): git asks the
    user's credential helper, so the ledger's read does too; without one it refuses (exit 3)
    and prints no secret."""
    proj = make_project(tmp_path)
    with http_backend(tmp_path, credentials=f"deployer:{SECRET}") as (base, requests):
        sh(proj, f"git remote set-url origin {base}/origin.git")
        if helper:
            store = tmp_path / "git-credentials"
            store.write_text(base.replace("http://", f"http://deployer:{SECRET}@") + "\n")
            git(proj, "config", "credential.helper", f"store --file={store}")
            assert ledger(capfd, "init", "--cwd", str(proj))[0] == 0  # (git push writes)
            code, out, err = ledger(capfd, "show", "--cwd", str(proj), "--json")
            assert code == 0, err
            assert json.loads(out)["environments"]["default"]["live"] is not None
            code, out, err = deploy(capfd, "--cwd", str(proj))
            assert code == 0, err
            assert env.exists()
            assert fields(proj, DEPLOYED + "default")["Commit"] == head(proj)
            assert not refs(proj).get("refs/ayjnt/deploying/default")
        else:
            code, out, err = deploy(capfd, "--cwd", str(proj))
            assert code == 3 and not env.exists()
            assert "asks for credentials, and no git credential helper gave them" in err
            assert any("info/refs" in r for r in requests)
        no_secrets(out, err)


# --- pre-push ---


@pytest.mark.parametrize("transport", ["git-daemon"], indirect=True)
def test_pre_push_checks_every_live_lockfile(proj: Path, env: Path,
                                             capfd: pytest.CaptureFixture[str],
                                             monkeypatch: pytest.MonkeyPatch) -> None:
    from ayjnt_hooks import hooks

    monkeypatch.setattr(hooks, "_LEDGERS", {})
    assert ledger(capfd, "init", "--cwd", str(proj), "--env", "production")[0] == 0
    # production runs v2 (SupportAgent); this branch staged its own v2 (BillingAgent)
    sh(proj, "git checkout -qb feature")
    write_files(proj, {"agents/billing/agent.ts": agent("BillingAgent")})
    prebuild(proj)
    sh(proj, "git add -A && git commit -qm billing")
    feature = head(proj)
    sh(proj, "git checkout -q main")
    write_files(proj, {"agents/support/agent.ts": agent("SupportAgent")})
    prebuild(proj)
    sh(proj, "git add -A && git commit -qm support && git push -q origin main")
    assert deploy(capfd, "--cwd", str(proj), "--env", "production")[0] == 0

    def pre_push(sha: str) -> tuple[int, str]:
        monkeypatch.setattr(hooks, "_LEDGERS", {})
        monkeypatch.setenv("PRE_COMMIT_TO_REF", sha)
        monkeypatch.setenv("PRE_COMMIT_REMOTE_BRANCH", "refs/heads/feature")
        code = cli.main(("check-lockfile", "--cwd", str(proj)))
        return code, capfd.readouterr()[0]

    code, out = pre_push(feature)
    assert code == 1
    assert "rewrites a migration that is live in production" in out
    assert f"entry #2: production has v2 (deployed from commit {head(proj)[:7]} by Test " \
           "<test@example.com> at " in out and "the push has v2." in out
    sh(proj, "git checkout -q -b older main~1")
    code, out = pre_push(head(proj))  # merely behind production: fine
    assert code == 0 and "live in" not in out


# --- wrangler's arguments ---


@pytest.mark.parametrize(("argv", "cf_env", "expected"), [
    pytest.param([], None, "default", id="none"),
    pytest.param(["--env", "staging"], None, "staging", id="space"),
    pytest.param(["--env=staging"], None, "staging", id="equals"),
    pytest.param(["-e", "prod", "--env", "staging"], None, "staging", id="last-wins"),
    pytest.param(["-e=prod"], None, "prod", id="short-equals"),
    pytest.param([], "preview", "preview", id="CLOUDFLARE_ENV"),
    pytest.param(["--env", "x"], "preview", "x", id="flag-beats-CLOUDFLARE_ENV"),
    pytest.param(["--env", ""], None, "default", id="empty"),
])
def test_wrangler_env(monkeypatch: pytest.MonkeyPatch, argv: list[str], cf_env: str | None,
                      expected: str) -> None:
    if cf_env:
        monkeypatch.setenv("CLOUDFLARE_ENV", cf_env)
    else:
        monkeypatch.delenv("CLOUDFLARE_ENV", raising=False)
    assert wrangler_env(argv) == expected


@pytest.mark.parametrize(("argv", "dry"), [
    pytest.param([], False, id="none"),
    pytest.param(["--dry-run"], True, id="flag"),
    pytest.param(["--dryRun"], True, id="camel"),
    pytest.param(["--dry-run=false"], False, id="false"),
    pytest.param(["--dry-run", "--no-dry-run"], False, id="negated"),
    pytest.param(["--dry-run=true"], True, id="true"),
])
def test_dry_run(argv: list[str], dry: bool) -> None:
    assert is_dry_run(argv) is dry


def test_entry_summary() -> None:
    assert entry_summary({"tag": "v3", "renamed_classes": [{"from": "A", "to": "B"}],
                          "deleted_classes": ["C"]}) == "v3 (deletes C; renames A → B)"
    assert entry_summary(None) == "nothing (the entry is missing)"


@pytest.mark.parametrize("transport", ["file"], indirect=True)
def test_bad_env_name(proj: Path, capfd: pytest.CaptureFixture[str]) -> None:
    code, _, err = ledger(capfd, "init", "--cwd", str(proj), "--env", "a..b")
    assert code == 3 and "cannot name a ledger ref" in err
    assert deploy(capfd, "--cwd", str(proj), "--env", "a..b")[0] == 0  # no ledger: no check


# --- projects in subfolders, a ledger started before any lockfile ---------------------------


def test_one_ledger_per_environment_per_repository(tmp_path: Path, env: Path,
                                                   capfd: pytest.CaptureFixture[str]) -> None:
    chat = make_project(tmp_path, "apps/chat")
    assert ledger(capfd, "init", "--cwd", str(chat))[0] == 0
    assert fields(chat.parent.parent, DEPLOYED + "default")["Project"] == "apps/chat"
    code, out, err = deploy(capfd, "--cwd", str(chat))
    assert code == 0 and "✓ recorded default: v1" in out, err
    other = chat.parent / "other"
    shutil.copytree(chat / "agents", other / "agents")
    write_files(other, {".ayjnt/migrations.json": (chat / ".ayjnt/migrations.json").read_text()})
    sh(other, "git add -A && git commit -qm other && git push -q origin main")
    code, _, err = deploy(capfd, "--cwd", str(other))
    assert code == 1
    assert "the ledger of default records project apps/chat, this deploy is project " \
           "apps/other" in err


@pytest.mark.parametrize("transport", ["file", "http"], indirect=True)
def test_init_before_any_lockfile(proj: Path, env: Path,
                                  capfd: pytest.CaptureFixture[str]) -> None:
    sh(proj, "git rm -q .ayjnt/migrations.json && git commit -qm 'no lockfile yet' && "
             "git push -q origin main")
    code, out, err = ledger(capfd, "init", "--cwd", str(proj))
    assert code == 0 and "none from commit" in out, err
    assert git(origin_of(proj), "ls-tree", "-r", DEPLOYED + "default") == ""
    code, out, err = deploy(capfd, "--cwd", str(proj), "--force")  # a pending v1
    assert code == 0 and "✓ recorded default: v1" in out, err
    assert b'"tag": "v1"' in live_lockfile(proj)


# --- the compare-and-swap itself, on every transport -------------------------------------------


def test_create_and_delete_are_compare_and_swap(proj: Path) -> None:
    from ayjnt_hooks.git.ledger import ZERO, Remote, build_record
    from ayjnt_hooks.git.repo import discover

    remote = Remote(discover(str(proj)))
    one = build_record("one", {"Kind": "lease"}, b"{}\n", "A <a@example.com>", 1)
    two = build_record("two", {"Kind": "lease"}, None, "B <b@example.com>", 2)
    ref = DEPLOYING + "default"
    assert remote.update(ref, None, one) is None
    assert remote.update(ref, None, two) == one.sha  # the create lost: it already exists
    assert remote.update(ref, two.sha, None) == one.sha  # a delete that expects another value
    assert refs(proj) == {ref: one.sha}
    assert remote.update(ref, one.sha, two) is None  # a swap from the right value
    assert remote.read().leases["default"].fields == {"Kind": "lease"}
    assert remote.update(ref, two.sha, None) is None
    assert remote.update(ref, two.sha, None) == ZERO  # already gone
    assert refs(proj) == {}


@pytest.mark.parametrize("transport", ["git-daemon"], indirect=True)
def test_a_lease_taken_between_read_and_create(proj: Path, capfd: pytest.CaptureFixture[str],
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    """Two deploys read "no lease" at once; the remote's atomic create decides."""
    from ayjnt_hooks.git.ledger import LedgerState, Remote, build_record

    assert ledger(capfd, "init", "--cwd", str(proj))[0] == 0
    rival = build_record("rival", {"Kind": "lease", "By": "Rival <r@example.com>",
                                   "At": "2026-01-01T00:00:00Z", "Pid": "4242",
                                   "Commit": "f" * 40}, None, "Rival <r@example.com>", 3)
    real_read = Remote.read
    calls: list[int] = []

    def stale_first_read(self: Remote, timeout: float = 30.0) -> LedgerState:
        state = real_read(self)
        if not calls:
            calls.append(1)
            assert self.update(DEPLOYING + "default", None, rival) is None
        return state

    monkeypatch.setattr(Remote, "read", stale_first_read)
    code, _, err = deploy(capfd, "--cwd", str(proj))
    assert code == 1
    assert "another deploy to default holds the lease since 2026-01-01T00:00:00Z: Rival " \
           "<r@example.com>" in err and "(pid 4242)" in err
    assert refs(proj)[DEPLOYING + "default"] == rival.sha


@pytest.mark.parametrize("transport", ["file"], indirect=True)
def test_ci_run_is_recorded(proj: Path, capfd: pytest.CaptureFixture[str],
                            monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GITHUB_ACTIONS", "true")
    monkeypatch.setenv("GITHUB_RUN_ID", "42")
    monkeypatch.setenv("GITHUB_REPOSITORY", "team/app")
    assert ledger(capfd, "init", "--cwd", str(proj))[0] == 0
    assert deploy(capfd, "--cwd", str(proj))[0] == 0
    assert fields(proj, DEPLOYED + "default")["CI"] == \
        "https://github.com/team/app/actions/runs/42"
    assert "(https://github.com/team/app/actions/runs/42)" in ledger(capfd, "show", "--cwd",
                                                                      str(proj))[1]


@pytest.mark.parametrize("spec", [
    pytest.param("HEAD~1", id="tilde"),
    pytest.param("main~2", id="branch-tilde-2"),
    pytest.param("HEAD^2", id="second-parent"),
    pytest.param("HEAD^^", id="caret-caret"),
    pytest.param("rel~1", id="annotated-tag-tilde"),
    pytest.param("SHORT~1", id="abbreviated-id-tilde"),
])
def test_init_commit_takes_what_git_rev_parse_takes(
        tmp_path: Path, env: Path, capfd: pytest.CaptureFixture[str], spec: str) -> None:
    """`ledger init --commit REV` with git's `~N`/`^N` steps and abbreviated ids: the
    recorded commit is the one `git rev-parse REV^{commit}` names."""
    proj = make_project(tmp_path)
    sh(proj, "git commit -q --allow-empty -m a && git commit -q --allow-empty -m b && "
             "git checkout -qb side HEAD~1 && git commit -q --allow-empty -m s && "
             "git checkout -q main && git merge -q --no-ff -m m side && "
             "git tag -a -m r rel HEAD~1 && git push -q origin main")
    short = git(proj, "rev-parse", "--short=7", "HEAD~1").strip()
    spec = spec.replace("SHORT", short)
    want = git(proj, "rev-parse", f"{spec}^{{commit}}").strip()
    code, out, err = ledger(capfd, "init", "--cwd", str(proj), "--commit", spec)
    assert code == 0, out + err
    assert fields(proj, DEPLOYED + "default")["Commit"] == want


def test_init_commit_that_names_nothing_says_what_to_pass(
        tmp_path: Path, env: Path, capfd: pytest.CaptureFixture[str]) -> None:
    proj = make_project(tmp_path)
    code, _, err = ledger(capfd, "init", "--cwd", str(proj), "--commit", "nope~1")
    assert code == 3 and "nope~1 does not name a commit" in err
    assert "fix: git commit" not in err and "--commit takes a branch" in err
    assert refs(proj) == {}
