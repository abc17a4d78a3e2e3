"""Inputs that are not regular files, are too large, or are symlinks where we write (issue #10
§3-§5): every command returns with one clear message, reads nothing it should not and writes
nothing through a link."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from ayjnt_hooks.cli import main
from ayjnt_hooks.engine.snapshot import MAX_FILE_BYTES

from .conftest import ROOT, agent_src, sh, tree_hashes, write_files
from .test_hooks import make_repo

# Each command runs in a child process: a read that blocks would hang the test run itself, and
# the timeout turns that into a failure (it is a hang detector, not a timing assertion).
COMMANDS = {
    "migrate": ["-m", "ayjnt_hooks", "migrate"],
    "check-migrations": ["-m", "ayjnt_hooks", "check-migrations", "--stage", "manual"],
    "check-lockfile": ["-m", "ayjnt_hooks", "check-lockfile", "--stage", "manual"],
    "deploy-check": ["-c", "from ayjnt_hooks.deploy import main; raise SystemExit(main())",
                     "--check", "--force"],
}


def run_child(cwd: Path, argv: list[str]) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.run([sys.executable, *argv], cwd=cwd, capture_output=True, text=True,
                          env=env, stdin=subprocess.DEVNULL, timeout=120)


def _fifo(path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    if path.exists() or path.is_symlink():
        path.unlink()
    os.mkfifo(path)


def _dev_zero(path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    if path.exists() or path.is_symlink():
        path.unlink()
    path.symlink_to("/dev/zero")


# (id, file, how it is made, what the message says, which commands read that file)
SHAPES = [
    ("lockfile-fifo", ".ayjnt/migrations.json", _fifo, "is a named pipe (FIFO)",
     ("migrate", "check-migrations", "check-lockfile", "deploy-check")),
    ("lockfile-dev-zero", ".ayjnt/migrations.json", _dev_zero, "is a character device",
     ("migrate", "check-migrations", "check-lockfile", "deploy-check")),
    ("host-tools-fifo", "agents/chat/tools.host.ts", _fifo, "is a named pipe (FIFO)",
     ("migrate", "check-migrations", "deploy-check")),
    ("worker-tools-fifo", "agents/chat/tools.ts", _fifo, "is a named pipe (FIFO)",
     ("migrate", "check-migrations", "deploy-check")),
    ("host-tools-dev-zero", "agents/chat/tools.host.ts", _dev_zero, "is a character device",
     ("migrate", "check-migrations", "deploy-check")),
    ("workflow-fifo", "workflows/flow/workflow.ts", _fifo, None,
     ("migrate", "check-migrations", "deploy-check")),
]


@pytest.mark.parametrize(("rel", "make", "says", "commands"),
                         [pytest.param(*s[1:], id=s[0]) for s in SHAPES])
def test_not_a_regular_file_is_refused_promptly(tmp_path: Path, rel: str, make: object,
                                                says: str | None,
                                                commands: tuple[str, ...]) -> None:
    proj = make_repo(tmp_path)
    assert callable(make)
    make(proj / rel)
    for name in commands:
        proc = run_child(proj, COMMANDS[name])
        if says is None:  # a special file ayjnt's glob does not list (it is not a file)
            assert "Traceback" not in proc.stderr and "internal error" not in proc.stderr
            continue
        assert proc.returncode == 3, (name, proc.stdout, proc.stderr)
        assert f"{proj / rel} {says}, not a regular file" in proc.stderr, (name, proc.stderr)
        assert "Traceback" not in proc.stderr


def test_agent_fifo_is_not_an_agent(tmp_path: Path) -> None:
    """ayjnt's glob lists only files (onlyFiles); a FIFO named agent.ts is skipped, unread."""
    proj = make_repo(tmp_path)
    _fifo(proj / "agents/pipe/agent.ts")
    proc = run_child(proj, COMMANDS["migrate"])
    assert (proc.returncode, proc.stdout) == (0, "No pending migrations.\n"), proc.stderr


def test_symlinked_lockfile_to_a_regular_file_is_read(tmp_path: Path,
                                                      capsys: pytest.CaptureFixture[str]) -> None:
    """ayjnt (Bun.file) follows a symlinked lockfile; so do we, for reading."""
    proj = make_repo(tmp_path)
    lock = proj / ".ayjnt/migrations.json"
    (tmp_path / "elsewhere.json").write_bytes(lock.read_bytes())
    lock.unlink()
    lock.symlink_to(tmp_path / "elsewhere.json")
    assert main(("migrate", "--cwd", str(proj))) == 0
    assert capsys.readouterr().out == "No pending migrations.\n"


@pytest.mark.parametrize("rel", ["agents/chat/agent.ts", "agents/chat/tools.ts",
                                 ".ayjnt/migrations.json"])
def test_a_file_over_the_cap_is_refused(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                        rel: str) -> None:
    proj = make_repo(tmp_path)
    path = proj / rel
    with open(path, "ab") as f:
        f.write(b"\n" + b"/" * (MAX_FILE_BYTES + 1))
    size = path.stat().st_size
    assert main(("migrate", "--cwd", str(proj))) == 3
    err = capsys.readouterr().err
    assert f"{path} is {size:,} bytes, over the 8 MiB that ayjnt-hooks reads" in err


def test_a_large_agent_under_the_cap_is_scanned(tmp_path: Path,
                                                capsys: pytest.CaptureFixture[str]) -> None:
    """Just under the cap, dense with comments and strings: scanned (linear, in C)."""
    proj = make_repo(tmp_path)
    chunk = "  // a comment\n  const x = \"s\"; /* b */ f('c');\n  `t ${x}`;\n"
    body = chunk * ((MAX_FILE_BYTES - 200) // len(chunk))
    write_files(proj, {"agents/big/agent.ts": agent_src("BigAgent") + body})
    assert main(("migrate", "--cwd", str(proj), "--check")) == 1
    assert "BigAgent (agentId: big) at /big" in capsys.readouterr().out


# --- writers never write through a symlink ---------------------------------------------------

def _stale(proj: Path) -> None:
    write_files(proj, {"agents/support/agent.ts": agent_src("SupportAgent")})


@pytest.mark.parametrize("link", ["file", "folder"])
def test_fix_refuses_a_symlinked_lockfile(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                          monkeypatch: pytest.MonkeyPatch, link: str) -> None:
    proj = make_repo(tmp_path)
    _stale(proj)
    outside = tmp_path / "outside"
    outside.mkdir()
    if link == "file":
        target = outside / "victim.json"
        target.write_bytes((proj / ".ayjnt/migrations.json").read_bytes())
        (proj / ".ayjnt/migrations.json").unlink()
        (proj / ".ayjnt/migrations.json").symlink_to(target)
        shown = f"{proj}/.ayjnt/migrations.json is a symbolic link"
    else:
        sh(proj, f"mv .ayjnt/* {outside}/ && rmdir .ayjnt && ln -s {outside} .ayjnt")
        target = outside / "migrations.json"
        shown = f"{proj}/.ayjnt/ is a symbolic link"
    before = tree_hashes(outside)
    monkeypatch.chdir(proj)
    code = main(("check-migrations", "--stage", "manual", "--fix"))
    captured = capsys.readouterr()
    assert code == 3
    assert shown in captured.err
    assert "does not write through links" in captured.err
    assert tree_hashes(outside) == before
    assert target.is_file()


def test_fix_writes_atomically_and_keeps_the_mode(tmp_path: Path,
                                                  capsys: pytest.CaptureFixture[str],
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    proj = make_repo(tmp_path)
    _stale(proj)
    lock = proj / ".ayjnt/migrations.json"
    lock.chmod(0o640)
    inode = lock.stat().st_ino
    hard = tmp_path / "hardlink.json"
    os.link(lock, hard)  # a rename replaces the name: the other link keeps the old bytes
    old = lock.read_bytes()
    monkeypatch.chdir(proj)
    assert main(("check-migrations", "--stage", "manual", "--fix")) == 0  # (fixed)
    assert "Fixed: wrote the change" in capsys.readouterr().out
    assert lock.stat().st_ino != inode and hard.read_bytes() == old
    assert b"SupportAgent" in lock.read_bytes()
    assert lock.stat().st_mode & 0o777 == 0o640
    assert not [p for p in lock.parent.iterdir() if p.name.endswith(".tmp")]  # no temp left


def test_fix_creates_the_lockfile_folder(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                         monkeypatch: pytest.MonkeyPatch) -> None:
    proj = make_repo(tmp_path)
    sh(proj, "rm -r .ayjnt")
    monkeypatch.chdir(proj)
    assert main(("check-migrations", "--stage", "manual", "--fix")) == 0  # (fixed)
    assert (proj / ".ayjnt/migrations.json").is_file()


@pytest.mark.parametrize("shape", ["file", "fifo"])
def test_fix_refuses_a_lockfile_folder_that_is_not_a_folder(
        tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch,
        shape: str) -> None:
    proj = make_repo(tmp_path)
    _stale(proj)
    sh(proj, "rm -r .ayjnt")
    if shape == "file":
        (proj / ".ayjnt").write_text("x")
    else:
        os.mkfifo(proj / ".ayjnt")
    monkeypatch.chdir(proj)
    assert main(("check-migrations", "--stage", "manual", "--fix")) == 3
    assert "Traceback" not in capsys.readouterr().err


def test_fix_refuses_to_replace_a_lockfile_fifo(tmp_path: Path,
                                                capsys: pytest.CaptureFixture[str],
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    from ayjnt_hooks.errors import AyjntError
    from ayjnt_hooks.safewrite import write_file

    proj = make_repo(tmp_path)
    _fifo(proj / "x.json")
    with pytest.raises(AyjntError, match="exists but is not a regular file"):
        write_file(str(proj), "x.json", b"{}")
    with pytest.raises(AyjntError, match="the folder does not exist"):
        write_file(str(proj), "nope/x.json", b"{}", create_folders=False)
    with pytest.raises(AyjntError, match="cannot open the folder"):
        write_file(str(proj / "absent"), "x.json", b"{}")


# --- install: the hooks folder's shape --------------------------------------------------------

@pytest.mark.parametrize("shape", ["file", "dangling-link", "fifo"])
def test_install_when_hooks_is_not_a_folder(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                            monkeypatch: pytest.MonkeyPatch, shape: str) -> None:
    proj = make_repo(tmp_path)
    hooks = proj / ".git/hooks"
    sh(proj, "rm -rf .git/hooks")
    if shape == "file":
        hooks.write_text("not a folder")
    elif shape == "fifo":
        os.mkfifo(hooks)
    else:
        hooks.symlink_to(tmp_path / "gone")
    monkeypatch.chdir(proj)
    for command in ("install", "uninstall"):
        assert main((command,)) == 3
        err = capsys.readouterr().err
        assert f"{hooks} is " in err and "git runs hooks from a folder there" in err
        assert "Traceback" not in err


@pytest.mark.parametrize("shape", ["folder", "fifo"])
def test_install_when_a_hook_is_not_a_file(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                           monkeypatch: pytest.MonkeyPatch, shape: str) -> None:
    proj = make_repo(tmp_path)
    hook = proj / ".git/hooks/pre-push"
    hook.mkdir() if shape == "folder" else os.mkfifo(hook)
    monkeypatch.chdir(proj)
    assert main(("install", "--force")) == 3
    assert f"{hook} exists but is not a file" in capsys.readouterr().err
    assert main(("uninstall",)) == 0  # left alone: not ours (and a FIFO is not read)


def test_install_replaces_a_symlinked_hook_without_writing_through(
        tmp_path: Path, capsys: pytest.CaptureFixture[str],
        monkeypatch: pytest.MonkeyPatch) -> None:
    proj = make_repo(tmp_path)
    victim = tmp_path / "victim.sh"
    victim.write_text("#!/bin/sh\nexit 0\n")
    (proj / ".git/hooks/pre-commit").symlink_to(victim)
    monkeypatch.chdir(proj)
    assert main(("install", "--hook", "pre-commit", "--force")) == 0
    assert victim.read_text() == "#!/bin/sh\nexit 0\n"
    hook = proj / ".git/hooks/pre-commit"
    assert hook.is_file() and not hook.is_symlink() and hook.stat().st_mode & 0o777 == 0o755
    assert (proj / ".git/hooks/pre-commit.legacy").is_symlink()
