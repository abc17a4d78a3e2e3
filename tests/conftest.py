from __future__ import annotations

import hashlib
import os
import stat
import subprocess
from pathlib import Path
from typing import Callable

import dulwich
import pytest

# dulwich < 1.0 (the newest on Python 3.9) lacks some gitignore and config-include fixes.
OLD_DULWICH = dulwich.__version__ < (1, 0, 0)

GIT_ENV = {
    "GIT_AUTHOR_NAME": "Test", "GIT_AUTHOR_EMAIL": "test@example.com",
    "GIT_COMMITTER_NAME": "Test", "GIT_COMMITTER_EMAIL": "test@example.com",
    "GIT_CONFIG_NOSYSTEM": "1", "GIT_ALLOW_PROTOCOL": "file",
}


@pytest.fixture(autouse=True)
def _hermetic_env(monkeypatch: pytest.MonkeyPatch,
                  tmp_path_factory: pytest.TempPathFactory) -> None:
    home = tmp_path_factory.getbasetemp() / "home"
    home.mkdir(exist_ok=True)
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(home / ".config"))
    for k, v in GIT_ENV.items():
        monkeypatch.setenv(k, v)
    for k in list(os.environ):
        if (k.startswith("GIT_") and k not in GIT_ENV) or k.startswith("PRE_COMMIT_") \
                or k in ("NO_COLOR", "FORCE_COLOR", "GITHUB_ACTIONS", "AYJNT_WRANGLER",
                         "AYJNT_BUILD_COMMAND", "CLOUDFLARE_API_TOKEN"):
            monkeypatch.delenv(k, raising=False)


def write_files(root: Path, files: dict[str, str | bytes]) -> None:
    for rel, content in files.items():
        p = root / rel
        p.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, bytes):
            p.write_bytes(content)
        else:
            p.write_text(content, encoding="utf-8")


def agent_src(class_name: str, agent_id: str | None = None) -> str:
    pin = f'export const agentId = "{agent_id}";\n' if agent_id else ""
    return f"{pin}export default class {class_name} extends Agent<Env> {{}}\n"


@pytest.fixture
def project(tmp_path: Path) -> Callable[[dict[str, str | bytes]], Path]:
    def make(files: dict[str, str | bytes]) -> Path:
        root = tmp_path / "proj"
        root.mkdir(exist_ok=True)
        write_files(root, files)
        return root
    return make


ROOT = Path(__file__).resolve().parent.parent


def sh(cwd: Path | str, script: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    """Run a bash script (git CLI set-up steps) in ``cwd``; fail the test on error."""
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    proc = subprocess.run(["bash", "-ec", script], cwd=cwd, capture_output=True, text=True,
                          env=env)
    if check:
        assert proc.returncode == 0, proc.stdout + proc.stderr
    return proc


def git(cwd: Path | str, *args: str, check: bool = True, input: bytes | None = None) -> str:
    proc = subprocess.run(("git", *args), cwd=cwd, input=input, capture_output=True)
    if check and proc.returncode != 0:
        raise AssertionError(f"git {' '.join(args)} failed: {proc.stderr.decode()}")
    return proc.stdout.decode()


def forced_fork(monkeypatch: pytest.MonkeyPatch, chunk: int) -> list[int]:
    """Make the clean-tree proof fork its worker whatever the index size, in chunks of
    ``chunk`` entries; the returned list gets one item per fork."""
    from ayjnt_hooks.git import cleanproof

    forks: list[int] = []
    real_fork = os.fork

    def counting_fork() -> int:
        forks.append(1)
        return real_fork()

    monkeypatch.setattr(cleanproof, "FORK_MIN_ENTRIES", 1)
    monkeypatch.setattr(cleanproof._Worker, "CHUNK", chunk)
    monkeypatch.setattr(os, "fork", counting_fork)
    return forks


# Files as old as the index are racily clean (git compares whole seconds): AGE them, as a
# checkout some seconds ago leaves them, so that the fast proof has something to prove.
AGE = " && touch -h -d '-10 seconds' $(git ls-files) && git update-index -q --refresh"


def tree_hashes(root: Path) -> dict[str, str]:
    """Every file under ``root`` (``.git`` included) with its content hash and mtime: equal
    before and after a command proves it wrote nothing."""
    out = {}
    for dirpath, _dirs, files in os.walk(root):
        for name in files:
            p = os.path.join(dirpath, name)
            if os.path.islink(p):
                out[p] = "link:" + os.readlink(p)
                continue
            st = os.stat(p)
            if not stat.S_ISREG(st.st_mode):  # (a FIFO: opening it would block)
                out[p] = f"special:{st.st_mode:o}:{st.st_mtime_ns}"
                continue
            with open(p, "rb") as f:
                out[p] = hashlib.sha1(f.read()).hexdigest() + f":{st.st_mtime_ns}"
    return out


def git_porcelain(cwd: Path) -> list[str]:
    """The oracle: ``git status --porcelain`` without taking git's optional locks."""
    env = {**os.environ, "GIT_OPTIONAL_LOCKS": "0"}
    proc = subprocess.run(["git", "status", "--porcelain"], cwd=cwd, capture_output=True,
                          env=env, check=True)
    return proc.stdout.decode("utf-8", "surrogateescape").splitlines()
