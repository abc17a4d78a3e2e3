"""Replace refs (``git replace``) on the status path, against ``git status --porcelain``: git
reads a replaced object as its replacement everywhere, HEAD's commit included, so a replaced
HEAD changes what is staged. Before, the status path read the original: "clean" where git
printed ``M  f`` (a false pass)."""
from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from ayjnt_hooks.cli import main

from ..conftest import sh

# HEAD, HEAD~1, … as $1, $2, …; refs/replace/$1 -> $2 -> $3 -> $4
CHAIN = ("set -- $(git rev-list HEAD | head -6); git update-ref refs/replace/$1 $2; "
         "git update-ref refs/replace/$2 $3; git update-ref refs/replace/$3 $4")
CASES = [
    pytest.param("git replace HEAD HEAD~1", {}, id="head-replaced-loose"),
    pytest.param("git replace HEAD HEAD~1 && git pack-refs --all", {}, id="head-replaced-packed"),
    pytest.param("git replace HEAD HEAD~1", {"GIT_NO_REPLACE_OBJECTS": "1"}, id="env-off"),
    pytest.param("git replace HEAD HEAD~1 && git config core.useReplaceRefs false", {},
                 id="config-off"),
    pytest.param("git replace HEAD~1 HEAD~2", {}, id="other-commit-replaced"),
    # four replacements in a row are followed; five: git dies ("replace depth too high")
    pytest.param(CHAIN + "; git update-ref refs/replace/$4 $5", {}, id="chain-of-four"),
    pytest.param(CHAIN + "; git update-ref refs/replace/$4 $5; git update-ref refs/replace/$5 "
                 "$6", {}, id="chain-too-deep"),
]


@pytest.mark.parametrize(("script", "env"), CASES)
def test_status_reads_replacements_as_git(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                         monkeypatch: pytest.MonkeyPatch, script: str,
                                         env: dict[str, str]) -> None:
    sh(tmp_path, "git init -q -b main . && for i in 1 2 3 4 5 6 7; do echo $i > f; "
                 "git add f; git commit -qm c$i; done")
    sh(tmp_path, script)
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    git = subprocess.run(["git", "status", "--porcelain"], cwd=tmp_path, capture_output=True,
                         text=True)
    code = main(("status", "--porcelain", "--cwd", str(tmp_path)))
    out = capsys.readouterr().out
    if git.returncode == 128:
        assert code == 3, out
    else:
        assert (code, out) == (0, git.stdout)
