"""The raw hooks in-process: git's pre-push stdin, several refs, legacy chaining, install."""
from __future__ import annotations

import io
import json
import os
from pathlib import Path

import pytest

from ayjnt_hooks.cli import main
from ayjnt_hooks.git.stashed import apply_to, stashed_patch

from .conftest import sh, write_files
from .test_hooks import agent, build, make_repo

ZERO = "0" * 40


def push_stdin(monkeypatch: pytest.MonkeyPatch, text: str) -> None:
    monkeypatch.setattr("sys.stdin", io.TextIOWrapper(io.BytesIO(text.encode())))


def rev(repo: Path, name: str) -> str:
    return sh(repo, f"git rev-parse {name}").stdout.strip()


@pytest.fixture
def repo(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    proj = make_repo(tmp_path)
    monkeypatch.chdir(proj)
    return proj


def test_pre_push_every_ref(repo: Path, monkeypatch: pytest.MonkeyPatch,
                            capsys: pytest.CaptureFixture[str]) -> None:
    base = rev(repo, "HEAD")
    sh(repo, "git checkout -qb good && git commit -q --allow-empty -m ok")
    good = rev(repo, "HEAD")
    sh(repo, "git checkout -qb bad main")
    write_files(repo, {"agents/support/agent.ts": agent("SupportAgent")})
    sh(repo, "git add -A && git commit -qm stale && git tag v1 && git tag -a -m a v2")
    bad = rev(repo, "HEAD")
    lines = (f"refs/heads/good {good} refs/heads/good {ZERO}\n"
             f"refs/heads/bad {bad} refs/heads/bad {ZERO}\n"
             f"(delete) {ZERO} refs/heads/old {base}\n"
             f"refs/tags/v2 {rev(repo, 'v2')} refs/tags/v2 {ZERO}\n"
             "garbage line\n")
    push_stdin(monkeypatch, lines)
    assert main(("hook-impl", "pre-push", "origin", "url")) == 1
    out = capsys.readouterr().out
    assert out.count("ayjnt-migrations: a lockfile change is pending") == 2  # branch + tag
    assert "(refs/heads/bad → refs/heads/bad)" in out
    assert "(refs/heads/good →" not in out
    push_stdin(monkeypatch, f"refs/heads/good {good} refs/heads/main {base}\n")
    assert main(("hook-impl", "pre-push", "origin", "url")) == 0
    push_stdin(monkeypatch, "")
    assert main(("hook-impl", "pre-push", "origin", "url")) == 0


def test_pre_push_rewritten_history_and_unknown_remote(
        repo: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    write_files(repo, {"agents/support/agent.ts": agent("SupportAgent")})
    build(repo)
    sh(repo, "git add -A && git commit -qm v2")
    remote = rev(repo, "HEAD")
    sh(repo, "git reset -q --hard HEAD~1 && git commit -q --allow-empty -m other")
    push_stdin(monkeypatch, f"HEAD {rev(repo, 'HEAD')} refs/heads/main {remote}\n"
                            f"HEAD {rev(repo, 'HEAD')} refs/heads/x {'1' * 40}\n")
    assert main(("hook-impl", "pre-push", "origin", "url")) == 1
    out = capsys.readouterr().out
    assert "the push has (dropped)" in out and "is not in this clone" in out


def test_pre_commit_raw(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(("hook-impl", "pre-commit")) == 0
    write_files(repo, {"agents/support/agent.ts": agent("SupportAgent")})
    sh(repo, "git add -A")
    assert main(("hook-impl", "pre-commit")) == 1
    assert "the index being committed" in capsys.readouterr().out


def test_legacy_hook_runs_first_and_can_veto(repo: Path, monkeypatch: pytest.MonkeyPatch,
                                             capsys: pytest.CaptureFixture[str]) -> None:
    hooks = repo / ".git" / "hooks"
    (hooks / "pre-commit").write_text("#!/bin/sh\nexit 5\n")
    (hooks / "pre-commit").chmod(0o755)
    assert main(("install", "--hook", "pre-commit")) == 1
    assert "refusing to overwrite" in capsys.readouterr().err
    assert main(("install", "--hook", "pre-commit", "--force")) == 0
    assert main(("hook-impl", "pre-commit")) == 5
    (hooks / "pre-commit.legacy").write_text("#!/bin/sh\nexit 0\n")
    assert main(("hook-impl", "pre-commit")) == 0
    (hooks / "pre-commit").rename(hooks / "keep")
    (hooks / "pre-commit").write_text("#!/bin/sh\n")
    (hooks / "pre-commit.legacy").write_text("#!/bin/sh\n")
    assert main(("install", "--hook", "pre-commit", "--force")) == 1
    assert "already exists" in capsys.readouterr().err
    (hooks / "keep").rename(hooks / "pre-commit")
    assert main(("uninstall",)) == 0
    out = capsys.readouterr().out
    assert "restored" in out and (hooks / "pre-commit").read_text() == "#!/bin/sh\n"
    assert main(("uninstall",)) == 0
    assert "left" in capsys.readouterr().out


def test_install_in_subfolder_pins_cwd(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                       capsys: pytest.CaptureFixture[str]) -> None:
    proj = make_repo(tmp_path, "apps/chat")
    monkeypatch.chdir(proj.parent.parent)
    assert main(("install", "--cwd", "apps/chat")) == 0
    text = (proj.parent.parent / ".git/hooks/pre-push").read_text()
    assert "hook-impl pre-push --cwd apps/chat" in text
    outside = tmp_path / "elsewhere"
    outside.mkdir()
    assert main(("install", "--cwd", str(outside))) == 3


def test_stashed_patch_applies(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PRE_COMMIT", "1")
    monkeypatch.setenv("PRE_COMMIT_HOME", str(tmp_path))
    assert stashed_patch() is None
    patch = (b"diff --git a/x.json b/x.json\nindex 1..2 100644\n--- a/x.json\n+++ b/x.json\n"
             b"@@ -1,3 +1,3 @@\n a\n-b\n+B\n c\n@@ -5,0 +6,1 @@\n+f\n"
             b"diff --git a/y b/y\n")
    (tmp_path / f"patch123-{os.getppid()}").write_bytes(patch)
    assert stashed_patch() == patch
    assert apply_to(patch, "x.json", b"a\nb\nc\nd\ne") == b"a\nB\nc\nd\ne\nf"
    assert apply_to(patch, "other.json", b"a") is None
    monkeypatch.delenv("PRE_COMMIT_HOME")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    assert stashed_patch() is None


@pytest.mark.parametrize("pending", [False, True], ids=["clean-push", "pending-push"])
def test_hooks_installed_for_a_subfolder_run_on_a_real_push(tmp_path: Path, pending: bool
                                                             ) -> None:
    """A project in a subfolder: the installed pre-push hook gets git's remote and URL after
    its `--cwd` (argparse refused them, "unrecognized arguments", and so every push). A clean
    push goes through; a pending lockfile change still stops it with the check's message."""
    import sys

    proj = make_repo(tmp_path, "apps/chat")
    work = proj.parent.parent
    sh(work, f"{sys.executable} -m ayjnt_hooks install --cwd apps/chat")
    sh(work, "git commit -q --allow-empty -m empty")  # (the pre-commit hook runs too)
    if pending:
        write_files(proj, {"agents/support/agent.ts": agent("SupportAgent")})
        sh(work, "git add -A && git commit -q --no-verify -m 'agent, no lockfile change'")
    proc = sh(work, "git push origin main 2>&1", check=False)
    assert "unrecognized arguments" not in proc.stdout, proc.stdout
    assert proc.returncode == (1 if pending else 0), proc.stdout
    if pending:
        assert "lockfile change is pending" in proc.stdout, proc.stdout


@pytest.mark.parametrize(("argv", "expected"), [
    pytest.param(["hook-impl", "pre-push", "--cwd", ".", "origin", "url"],
                 ("pre-push", ".", ["origin", "url"]), id="cwd-then-git-arguments"),
    pytest.param(["hook-impl", "--cwd", ".", "pre-push", "origin", "-odd"],
                 ("pre-push", ".", ["origin", "-odd"]), id="cwd-first-arguments-as-they-are"),
    pytest.param(["hook-impl", "pre-commit"], ("pre-commit", None, []), id="no-cwd"),
    pytest.param(["hook-impl", "pre-push", "origin", "url"], ("pre-push", None, ["origin", "url"]),
                 id="git-arguments-only"),
    pytest.param(["hook-impl", "commit-msg"], None, id="unknown-hook-to-argparse"),
    pytest.param(["hook-impl", "pre-push", "--cwd", "/no/such"], None, id="bad-cwd-to-argparse"),
])
def test_hook_impl_arguments(argv: list[str], expected: tuple[str, str | None, list[str]] | None
                             ) -> None:
    from ayjnt_hooks.cli import plain_args

    args = plain_args(argv)
    assert (args and (args.hook, args.cwd, args.hook_args)) == expected


def test_hook_pinned_to_a_deleted_venv_says_so(tmp_path: Path) -> None:
    """Install from a virtualenv, delete its python, commit: the hook names the interpreter
    that is gone and the command that reinstalls; running that command makes commits work
    again (before: `exec: …/bin/python3: not found` on every commit)."""
    import re
    import subprocess
    import sys
    import sysconfig

    proj = make_repo(tmp_path)
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
    site = Path(sysconfig.get_path("purelib", vars={"base": str(venv),
                                                     "platbase": str(venv)}))
    site.mkdir(parents=True, exist_ok=True)
    root = Path(__file__).resolve().parent.parent
    deps = Path(sysconfig.get_path("purelib"))  # dulwich, colorama
    (site / "ayjnt.pth").write_text(f"{root}\n{deps}\n")
    sh(proj, f"{venv}/bin/python -m ayjnt_hooks install")
    python = venv / "bin" / "python"
    python.unlink()
    proc = sh(proj, "git commit -q --allow-empty -m x 2>&1", check=False)
    assert proc.returncode != 0
    assert f"ayjnt-hooks: this pre-commit hook runs {python}, which no longer exists" \
        in proc.stdout, proc.stdout
    fix = re.search(r"fix: (ayjnt-hooks install)\s", proc.stdout)
    assert fix, proc.stdout
    bin_dir = Path(sys.executable).parent
    sh(proj, f"PATH={bin_dir}:$PATH {fix.group(1)}")
    sh(proj, "git commit -q --allow-empty -m y")


@pytest.mark.parametrize("fix_on_main_disk", [
    pytest.param(False, id="main-clean"),
    pytest.param(True, id="main-has-the-lockfile-fix-uncommitted"),
])
def test_push_of_a_branch_not_checked_out_gives_a_fix_that_works_when_pasted(
        repo: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
        fix_on_main_disk: bool) -> None:
    """`git push origin feat` from main with a stale feat: the fix commands work on the
    working tree, so the hint must say to check out feat first (and must not claim that
    main's lockfile on disk is feat's fix)."""
    sh(repo, "git checkout -qb feat")
    write_files(repo, {"agents/support/agent.ts": agent("SupportAgent")})
    sh(repo, "git add -A && git commit -qm stale")
    feat = rev(repo, "feat")
    sh(repo, "git checkout -q main")
    if fix_on_main_disk:  # main's tree holds the same agent, built but not committed
        write_files(repo, {"agents/support/agent.ts": agent("SupportAgent")})
        build(repo)
        sh(repo, "git stash -q -u")
    line = f"refs/heads/feat {feat} refs/heads/feat {ZERO}\n"
    push_stdin(monkeypatch, line)
    if fix_on_main_disk:
        sh(repo, "git stash pop -q")
    assert main(("hook-impl", "pre-push", "origin", "url")) == 1
    out = capsys.readouterr().out
    fix = next(x for x in out.splitlines() if x.startswith("  fix: "))
    assert fix.startswith("  fix: `git checkout feat`, then run `ayjnt build`"), fix
    assert "already contains this change" not in out
    # paste it: check out feat, the no-Bun command from the hint, add, commit, push again
    if fix_on_main_disk:
        sh(repo, "git stash -q -u")
    sh(repo, "git checkout -q feat")
    assert "ayjnt-hooks check-migrations --stage manual --fix" in fix
    assert main(("check-migrations", "--stage", "manual", "--fix")) == 0
    sh(repo, "git add .ayjnt/migrations.json && git commit -qm lockfile")
    capsys.readouterr()
    push_stdin(monkeypatch, f"refs/heads/feat {rev(repo, 'feat')} refs/heads/feat {ZERO}\n")
    sh(repo, "git checkout -q main")
    assert main(("hook-impl", "pre-push", "origin", "url")) == 0, capsys.readouterr().out


def test_push_of_the_checked_out_branch_keeps_the_short_fix(
        repo: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    write_files(repo, {"agents/support/agent.ts": agent("SupportAgent")})
    sh(repo, "git add -A && git commit -qm stale")
    push_stdin(monkeypatch, f"refs/heads/main {rev(repo, 'main')} refs/heads/main "
                            f"{rev(repo, 'origin/main')}\n")
    assert main(("hook-impl", "pre-push", "origin", "url")) == 1
    fix = next(x for x in capsys.readouterr().out.splitlines() if x.startswith("  fix: "))
    assert fix.startswith("  fix: run `ayjnt build`"), fix


def test_pushed_branch_that_merged_main_is_not_told_to_rebase_onto_itself(
        repo: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    """README's merge workflow on a branch pushed before main moved: b (v2: Yankee, pushed)
    merges origin/main (v2: Xray) and rebase-lockfile renumbers Yankee to v3. The push
    rewrites origin/b's v2, so it is refused; but the usual fix, rebasing onto origin/b,
    would renumber main's v2. The fix printed instead works when pasted."""
    sh(repo, "git checkout -qb b")
    write_files(repo, {"agents/yankee/agent.ts": agent("YankeeAgent")})
    build(repo)
    sh(repo, "git add -A && git commit -qm yankee && git push -q -u origin b")
    sh(repo, "git checkout -q -b a main")
    write_files(repo, {"agents/xray/agent.ts": agent("XrayAgent")})
    build(repo)
    sh(repo, "git add -A && git commit -qm xray && git checkout -q main && git merge -q a && "
             "git push -q origin main && git checkout -q b && "
             "(git merge -q origin/main >/dev/null 2>&1 || true)")
    assert main(("rebase-lockfile",)) == 0
    sh(repo, "git add .ayjnt/migrations.json && git commit -q --no-edit")
    capsys.readouterr()
    push_stdin(monkeypatch, f"refs/heads/b {rev(repo, 'b')} refs/heads/b {rev(repo, 'origin/b')}\n")
    assert main(("hook-impl", "pre-push", "origin", "url")) == 1
    out = capsys.readouterr().out
    assert "rewrites the remote's migration history" in out
    fix = next(x for x in out.splitlines() if x.startswith("  fix: "))
    assert "git rebase origin/b" not in fix, fix
    command = fix.rsplit("`git push", 1)[1].rstrip("`")
    assert command == " --no-verify origin b", fix
    sh(repo, "git push -q" + command)  # pasted: origin/b now continues origin/main's history
    main_lock = sh(repo, "git show origin/main:.ayjnt/migrations.json").stdout
    b_lock = sh(repo, "git show origin/b:.ayjnt/migrations.json").stdout
    main_entries = json.loads(main_lock)["migrations"]
    assert json.loads(b_lock)["migrations"][:len(main_entries)] == main_entries
