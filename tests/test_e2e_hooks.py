"""End to end: real `pre-commit` from PyPI and plain git hooks, real `git commit` and
`git push` to a bare origin, blocked or allowed."""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from ayjnt_hooks.engine import lockfile as lf

from .conftest import write_files
from .test_hooks import agent, build, make_repo

ROOT = Path(__file__).resolve().parent.parent
PACKAGE_FILES = ("pyproject.toml", "README.md", "LICENSE", ".pre-commit-hooks.yaml")


@pytest.fixture(scope="session")
def hooks_repo(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    """This repository's current files, committed into a throwaway repo pre-commit can use."""
    repo = tmp_path_factory.mktemp("hooks-repo")
    for name in PACKAGE_FILES:
        shutil.copy(ROOT / name, repo / name)
    shutil.copytree(ROOT / "ayjnt_hooks", repo / "ayjnt_hooks",
                    ignore=shutil.ignore_patterns("__pycache__"))
    env = {**os.environ, "GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@e",
           "GIT_COMMITTER_NAME": "t", "GIT_COMMITTER_EMAIL": "t@e"}
    for cmd in (["git", "init", "-q", "-b", "main"], ["git", "add", "-A"],
                ["git", "commit", "-qm", "hooks"]):
        subprocess.run(cmd, cwd=repo, check=True, env=env, capture_output=True)
    sha = subprocess.run(["git", "rev-parse", "HEAD"], cwd=repo, check=True, env=env,
                         capture_output=True, text=True).stdout.strip()
    return repo, sha


@pytest.fixture(scope="session")
def pre_commit_home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("pre-commit-home")


class Consumer:
    def __init__(self, proj: Path, home: Path) -> None:
        self.proj = proj
        self.kind = "raw"
        self.work = proj
        while not (self.work / ".git").exists():
            self.work = self.work.parent
        # this interpreter's scripts (ayjnt-hooks, pre-commit) first, even without an
        # activated virtualenv
        path = os.pathsep.join((str(Path(sys.executable).parent), os.environ.get("PATH", "")))
        self.env = {**os.environ, "PRE_COMMIT_HOME": str(home), "PATH": path,
                    "PYTHONPATH": str(ROOT), "PRE_COMMIT_COLOR": "never"}

    def sh(self, script: str, check: bool = True, cwd: Path | None = None
           ) -> subprocess.CompletedProcess[str]:
        proc = subprocess.run(["bash", "-ec", script], cwd=cwd or self.work,
                              capture_output=True, text=True, env=self.env)
        if check:
            assert proc.returncode == 0, proc.stdout + proc.stderr
        return proc

    def commit(self, msg: str, extra: str = "") -> subprocess.CompletedProcess[str]:
        return self.sh(f"git commit {extra} -m '{msg}'", check=False)

    def push(self, args: str = "origin HEAD") -> subprocess.CompletedProcess[str]:
        return self.sh(f"git push {args} 2>&1", check=False)

    def add_agent(self, cls: str, folder: str) -> None:
        write_files(self.proj, {f"agents/{folder}/agent.ts": agent(cls)})


def _config(repo: Path, sha: str, args: list[str]) -> str:
    hook_args = f"\n    args: {json.dumps(args)}" if args else ""
    return (f"repos:\n- repo: {repo}\n  rev: {sha}\n  hooks:\n"
            f"  - id: ayjnt-migrations{hook_args}\n  - id: ayjnt-lockfile{hook_args}\n")


@pytest.fixture(params=["pre-commit", "raw"])
def consumer(request: pytest.FixtureRequest, tmp_path: Path, hooks_repo: tuple[Path, str],
             pre_commit_home: Path) -> Iterator[Consumer]:
    yield _consumer(request.param, tmp_path, hooks_repo, pre_commit_home)


def _consumer(kind: str, tmp_path: Path, hooks_repo: tuple[Path, str], home: Path,
              subdir: str = "") -> Consumer:
    proj = make_repo(tmp_path, subdir)
    c = Consumer(proj, home)
    c.kind = kind
    if kind == "pre-commit":
        args = ["--cwd", subdir] if subdir else []
        (c.work / ".pre-commit-config.yaml").write_text(_config(*hooks_repo, args))
        c.sh("git add .pre-commit-config.yaml && git commit -qm cfg && git push -q origin main")
        c.sh("pre-commit install --hook-type pre-commit --hook-type pre-push")
    else:
        c.sh(f"ayjnt-hooks install{' --cwd ' + subdir if subdir else ''}", cwd=c.work)
    return c


def assert_blocked(proc: subprocess.CompletedProcess[str], *needles: str) -> None:
    out = proc.stdout + proc.stderr
    assert proc.returncode != 0, out
    for needle in needles:
        assert needle in out, out


def assert_allowed(proc: subprocess.CompletedProcess[str]) -> None:
    assert proc.returncode == 0, proc.stdout + proc.stderr


# --- commits -----------------------------------------------------------------------------


def test_new_agent_without_lockfile(consumer: Consumer) -> None:
    consumer.add_agent("SupportAgent", "support")
    consumer.sh("git add agents")
    assert_blocked(consumer.commit("add"), "SupportAgent (agentId: support) at /support")
    build(consumer.proj)
    consumer.sh("git add .ayjnt/migrations.json")
    assert_allowed(consumer.commit("add with lockfile"))


def run_hint(c: Consumer, out: str, pattern: str) -> str:
    """Find the hint a refusal printed and run it exactly as printed, from the repository's
    top (where a user's terminal is); returns the command."""
    import re

    found = re.search(pattern, out)
    assert found, out
    c.sh(found.group(1))
    return found.group(1)


def test_no_bun_hint_works_where_shown(consumer: Consumer) -> None:
    """The "no Bun?" hint is a command that works under every manager (before: "add --fix to
    the hook's args", which `hook-impl` rejects with exit 2)."""
    consumer.add_agent("SupportAgent", "support")
    consumer.sh("git add agents")
    proc = consumer.commit("add")
    assert_blocked(proc, "no Bun?")
    out = proc.stdout + proc.stderr
    assert ("args: [--fix]" in out) == (consumer.kind == "pre-commit"), out
    # under pre-commit/prek, ayjnt-hooks lives in their environment: the hint gives its path
    command = run_hint(consumer, out,
                       r"`(\S*ayjnt-hooks check-migrations --stage manual --fix)`")
    assert command.startswith("/") == (consumer.kind in ("pre-commit", "prek")), command
    assert "SupportAgent" in (consumer.proj / ".ayjnt/migrations.json").read_text(), command
    consumer.sh("git add .ayjnt/migrations.json")
    assert_allowed(consumer.commit("add with the fix"))


def test_folder_move(consumer: Consumer) -> None:
    consumer.sh("git mv agents/chat agents/talk")
    assert_blocked(consumer.commit("move"), "ChatAgent: agentId chat -> talk")


def test_class_rename(consumer: Consumer) -> None:
    consumer.sh("sed -i s/ChatAgent/TalkAgent/ agents/chat/agent.ts && git add -A")
    assert_blocked(consumer.commit("rename"), "ChatAgent -> TalkAgent (agentId: chat)")


def test_built_but_not_staged(consumer: Consumer) -> None:
    consumer.add_agent("SupportAgent", "support")
    build(consumer.proj)
    consumer.sh("git add agents")
    assert_blocked(consumer.commit("add"), "already contains this change, but it is not staged")


def test_staged_lockfile_decides_over_disk(consumer: Consumer) -> None:
    consumer.add_agent("SupportAgent", "support")
    build(consumer.proj)
    consumer.sh("git add -A")
    lock = consumer.proj / ".ayjnt/migrations.json"
    lock.write_text(lock.read_text().replace("SupportAgent", "Nope"))  # unstaged junk
    assert_allowed(consumer.commit("add"))


def test_stale_lockfile_staged_fix_on_disk(consumer: Consumer) -> None:
    consumer.add_agent("SupportAgent", "support")
    consumer.sh("git add -A")
    build(consumer.proj)  # fix on disk, not staged
    assert_blocked(consumer.commit("add"), "not staged")


def test_commit_all(consumer: Consumer) -> None:
    consumer.sh("sed -i s/ChatAgent/TalkAgent/ agents/chat/agent.ts")
    assert_blocked(consumer.commit("rename", "-a"), "ChatAgent -> TalkAgent")
    build(consumer.proj)
    assert_allowed(consumer.commit("rename with lockfile", "-a"))


# --- pushes ------------------------------------------------------------------------------


def test_stale_commit_with_fix_uncommitted(consumer: Consumer) -> None:
    consumer.add_agent("SupportAgent", "support")
    consumer.sh("git add -A && git commit -q --no-verify -m stale")
    build(consumer.proj)  # the fix sits uncommitted on disk
    assert_blocked(consumer.push(), "being pushed", "SupportAgent")
    consumer.sh("git add -A && git commit -q --no-verify -m fix")
    assert_allowed(consumer.push())


def _second_clone_appends(consumer: Consumer, cls: str) -> None:
    other = consumer.work.parent / "other"
    consumer.sh(f"git clone -q $(git remote get-url origin) {other}")
    write_files(other, {f"agents/{cls.lower()}/agent.ts": agent(cls)})
    build(other)
    consumer.sh("git add -A && git commit -q --no-verify -m other && "
                "git push -q --no-verify origin main", cwd=other)


def test_merge_with_rewritten_history(consumer: Consumer) -> None:
    _second_clone_appends(consumer, "AlphaAgent")  # origin: v2 = AlphaAgent
    consumer.add_agent("BetaAgent", "beta")
    build(consumer.proj)  # local: v2 = BetaAgent
    consumer.sh("git add -A && git commit -q --no-verify -m beta && git fetch -q origin")
    merge = consumer.sh("git merge --no-edit origin/main", check=False)
    assert merge.returncode != 0  # both appended v2: the lockfile conflicts
    # a careless hand resolution: keep our v2 and re-append theirs as v3
    lock = json.loads(consumer.sh("git show HEAD:.ayjnt/migrations.json").stdout)
    theirs = json.loads(consumer.sh("git show origin/main:.ayjnt/migrations.json").stdout)
    alpha = dict(theirs["migrations"][1], tag="v3")
    lock["migrations"].append(alpha)
    lock["classes"]["alphaagent"] = {"agentId": "alphaagent", "className": "AlphaAgent",
                                     "firstTag": "v3"}
    (consumer.proj / ".ayjnt/migrations.json").write_bytes(lf.serialize(lock))
    consumer.sh("git add -A && git commit -q --no-verify -m merged")
    assert_blocked(consumer.push(), "rewrites the remote's migration history",
                   "has v2, the push has v2")


def test_force_push_dropping_an_entry(consumer: Consumer) -> None:
    consumer.add_agent("SupportAgent", "support")
    build(consumer.proj)
    consumer.sh("git add -A && git commit -q --no-verify -m v2 && git push -q --no-verify "
                "origin main && git reset -q --hard HEAD~1 && "
                "git commit -q --no-verify --allow-empty -m other")
    assert_blocked(consumer.push("--force origin HEAD:main"),
                   "the push has (dropped)")


def test_new_branch_deleted_branch_and_tag(consumer: Consumer) -> None:
    consumer.sh("git checkout -qb feature && git commit -q --allow-empty -m f")
    assert_allowed(consumer.push("-u origin feature"))
    assert_allowed(consumer.push("origin --delete feature"))
    consumer.sh("git tag v1.0")
    assert_allowed(consumer.push("origin v1.0"))


def test_monorepo_subfolder(tmp_path: Path, hooks_repo: tuple[Path, str],
                            pre_commit_home: Path) -> None:
    for kind in ("pre-commit", "raw"):
        (tmp_path / kind).mkdir()
        c = _consumer(kind, tmp_path / kind, hooks_repo, pre_commit_home, "apps/chat")
        c.add_agent("SupportAgent", "support")
        c.sh("git add -A")
        proc = c.commit("add")
        assert_blocked(proc, "git add apps/chat/.ayjnt/migrations.json")
        run_hint(c, proc.stdout + proc.stderr,
                 r"`(\S*ayjnt-hooks check-migrations --stage manual --fix --cwd apps/chat)`")
        c.sh("git add apps/chat/.ayjnt/migrations.json")
        assert_allowed(c.commit("add with the fix"))


# --- raw hooks only ------------------------------------------------------------------------


def test_raw_push_checks_every_ref(tmp_path: Path, hooks_repo: tuple[Path, str],
                                   pre_commit_home: Path) -> None:
    c = _consumer("raw", tmp_path, hooks_repo, pre_commit_home)
    c.sh("git checkout -qb good && git commit -q --allow-empty -m ok && git checkout -q main")
    c.sh("git checkout -qb bad")
    c.add_agent("SupportAgent", "support")
    c.sh("git add -A && git commit -q --no-verify -m stale && git checkout -q main")
    proc = c.push("origin good bad")
    assert_blocked(proc, "refs/heads/bad", "SupportAgent")
    assert "(refs/heads/good →" not in proc.stdout
    assert_allowed(c.push("origin good"))


def test_raw_install_refuses_foreign_hook_and_chains_legacy(tmp_path: Path) -> None:
    proj = make_repo(tmp_path)
    hooks = proj / ".git" / "hooks"
    (hooks / "pre-push").write_text("#!/bin/sh\necho legacy-ran >&2\nexit 0\n")
    (hooks / "pre-push").chmod(0o755)
    c = Consumer(proj, tmp_path)
    proc = c.sh("ayjnt-hooks install", check=False)
    assert proc.returncode == 1 and "refusing to overwrite" in proc.stderr
    c.sh("ayjnt-hooks install --force")
    assert (hooks / "pre-push.legacy").exists()
    c.sh("git commit -q --allow-empty -m x")
    out = c.push()
    assert_allowed(out)
    assert "legacy-ran" in out.stdout
    c.sh("ayjnt-hooks uninstall")
    assert "legacy-ran" in (hooks / "pre-push").read_text()
    assert not (hooks / "pre-commit").exists()


def test_raw_hooks_path(tmp_path: Path) -> None:
    proj = make_repo(tmp_path)
    c = Consumer(proj, tmp_path)
    c.sh("git config core.hooksPath .githooks && ayjnt-hooks install --hook pre-commit")
    assert (proj / ".githooks" / "pre-commit").exists()
    c.add_agent("SupportAgent", "support")
    c.sh("git add -A")
    assert_blocked(c.commit("x"), "SupportAgent")


def test_raw_empty_push_and_unknown_remote_sha(tmp_path: Path) -> None:
    proj = make_repo(tmp_path)
    c = Consumer(proj, tmp_path)
    c.sh("ayjnt-hooks install")
    assert_allowed(c.push())  # everything up to date
    proc = c.sh("printf 'refs/heads/main %s refs/heads/main %s\\n' $(git rev-parse HEAD) "
                "1111111111111111111111111111111111111111 | "
                "ayjnt-hooks hook-impl pre-push origin x", check=False)
    assert proc.returncode == 0 and "is not in this clone" in proc.stdout


def test_fix_through_pre_commit(tmp_path: Path, hooks_repo: tuple[Path, str],
                                pre_commit_home: Path) -> None:
    """args: [--fix] lets a teammate without Bun fix the lockfile: pre-commit reports the
    modification, the fixed lockfile is staged, the next commit passes."""
    proj = make_repo(tmp_path)
    c = Consumer(proj, pre_commit_home)
    repo, sha = hooks_repo
    (c.work / ".pre-commit-config.yaml").write_text(
        f"repos:\n- repo: {repo}\n  rev: {sha}\n  hooks:\n  - id: ayjnt-migrations\n"
        "    args: [--fix]\n")
    c.sh("git add .pre-commit-config.yaml && git commit -qm cfg && "
         "pre-commit install --hook-type pre-commit")
    c.add_agent("SupportAgent", "support")
    c.sh("git add -A")
    proc = c.commit("add")
    assert_blocked(proc, "files were modified by this hook",
                   "Fixed: wrote the change into .ayjnt/migrations.json.")
    assert "SupportAgent" in (proj / ".ayjnt/migrations.json").read_text()
    c.sh("git add .ayjnt/migrations.json")
    assert_allowed(c.commit("add with fix"))


def test_history_rewrite_fix_works_as_printed(consumer: Consumer) -> None:
    """The refusal of a rewritten history prints the rebase with the real branch and the
    lockfile step; running exactly those commands makes the push pass."""
    import re

    _second_clone_appends(consumer, "AlphaAgent")  # origin: v2 = AlphaAgent
    consumer.add_agent("BetaAgent", "beta")
    build(consumer.proj)  # local: v2 = BetaAgent, a rewrite of the remote's v2
    consumer.sh("git add -A && git commit -q --no-verify -m beta && git fetch -q origin && "
                "git merge -q -s ours --no-edit origin/main")
    proc = consumer.push("origin main")
    out = proc.stdout + proc.stderr
    assert_blocked(proc, "rewrites the remote's migration history",
                   "they differ in timestamp, new_sqlite_classes:")
    fix = re.search(r"fix: (git fetch origin && git rebase origin/main); on the lockfile "
                    r"conflict run `(ayjnt-hooks rebase-lockfile)` \(it keeps origin/main's "
                    r"entries and renumbers yours\), `(git add \.ayjnt/migrations\.json)`, "
                    r"`(git rebase --continue)`", out)
    assert fix, out
    rebase = consumer.sh(fix.group(1), check=False)
    assert rebase.returncode != 0  # the lockfile conflicts, as the fix says
    consumer.sh(f"{fix.group(2)} && {fix.group(3)} && GIT_EDITOR=true {fix.group(4)}")
    assert_allowed(consumer.push("origin main"))
