"""git's ``safe.directory`` (setup.c ``ensure_valid_ownership``): a repository not owned by the
current user is refused (exit 128, "detected dubious ownership") unless the protected config
(system, global, command line) names it. The tests run as root, so the repositories are handed
to ``nobody``; git itself is the oracle for every case: where it refuses, ``status --json``
exits 3 with git's reason and the ``safe.directory`` fix, and where it answers, so do we.
"""
from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest

from ayjnt_hooks.cli import main as cli_main

from ..conftest import sh
from .test_refusals import make_project

NOBODY = 65534


def _chown(path: Path, recursive: bool) -> None:
    os.chown(path, NOBODY, NOBODY, follow_symlinks=False)
    if recursive:
        for root, dirs, files in os.walk(path):
            for name in dirs + files:
                os.chown(os.path.join(root, name), NOBODY, NOBODY, follow_symlinks=False)


# (id, what to give to nobody: "all", "gitdir", "top", "gitfile", "none",
#  global config lines ({path}: the work tree), environment, repository config lines)
CASES: list[tuple[str, str, list[str], dict[str, str], list[str]]] = [
    ("all-nobody", "all", [], {}, []),
    ("only-gitdir-nobody", "gitdir", [], {}, []),
    ("only-top-folder-nobody", "top", [], {}, []),
    ("linked-worktree-gitfile-nobody", "gitfile", [], {}, []),
    ("own-repository", "none", [], {}, []),
    ("safe-global", "all", ["{path}"], {}, []),
    ("safe-star", "all", ["*"], {}, []),
    ("safe-other-path", "all", ["/somewhere/else"], {}, []),
    ("safe-trailing-slash-is-another-path", "all", ["{path}/"], {}, []),
    ("safe-then-reset-by-empty", "all", ["{path}", ""], {}, []),
    ("safe-reset-then-set", "all", ["", "{path}"], {}, []),
    ("safe-in-repository-config-ignored", "all", [], {}, ["{path}"]),
    ("safe-command-line", "all", [], {"GIT_CONFIG_COUNT": "1",
                                      "GIT_CONFIG_KEY_0": "safe.directory",
                                      "GIT_CONFIG_VALUE_0": "{path}"}, []),
    ("sudo-uid-is-the-owner", "all", [], {"SUDO_UID": str(NOBODY)}, []),
    ("sudo-uid-is-another-user", "all", [], {"SUDO_UID": "1234"}, []),
    ("sudo-uid-garbage", "all", [], {"SUDO_UID": "65534x"}, []),
    ("sudo-uid-root-owned-repository", "none", [], {"SUDO_UID": "1234"}, []),
]


@pytest.mark.skipif(os.geteuid() != 0, reason="handing a repository to nobody needs root")
@pytest.mark.parametrize(("give", "global_lines", "env", "repo_lines"),
                         [pytest.param(g, gl, e, r, id=i) for i, g, gl, e, r in CASES])
def test_ownership_as_git(tmp_path: Path, give: str, global_lines: list[str],
                          env: dict[str, str], repo_lines: list[str],
                          capsys: pytest.CaptureFixture[str],
                          monkeypatch: pytest.MonkeyPatch) -> None:
    work = make_project(tmp_path)
    where = work
    if give == "gitfile":
        sh(work, "git worktree add -q ../linked 2>/dev/null")
        where = (tmp_path / "linked").resolve()
    path = str(where.resolve())
    for line in repo_lines:
        sh(work, f"git config --add safe.directory '{line.format(path=path)}'")
    config = tmp_path / "global.gitconfig"
    config.write_text("".join(f"[safe]\n\tdirectory = {line.format(path=path)}\n"
                              for line in global_lines))
    monkeypatch.setenv("GIT_CONFIG_GLOBAL", str(config))
    for key, value in env.items():
        monkeypatch.setenv(key, value.format(path=path))
    if give == "all":
        _chown(work, recursive=True)
    elif give == "gitdir":
        _chown(work / ".git", recursive=True)
    elif give == "top":
        _chown(work, recursive=False)
    elif give == "gitfile":
        _chown(where / ".git", recursive=False)

    git = subprocess.run(["git", "status", "--porcelain"], cwd=where, capture_output=True,
                         text=True, env={**os.environ, "GIT_OPTIONAL_LOCKS": "0"})
    code = cli_main(("status", "--json", "--cwd", str(where)))
    out = json.loads(capsys.readouterr().out)
    if git.returncode == 128:
        assert "detected dubious ownership" in git.stderr
        assert code == 3
        message = out["error"]["message"] + " " + (out["error"].get("hint") or "")
        assert "detected dubious ownership" in message
        assert f"git config --global --add safe.directory {path}" in message
    else:
        assert git.returncode == 0, git.stderr
        assert code == 0, out
        assert out["clean"] == (git.stdout == "")
