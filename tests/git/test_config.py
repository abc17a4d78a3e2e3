"""Our config reader against `git config --get`."""
from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from ayjnt_hooks.git.config import GitConfig, user_excludes_file

from ..conftest import OLD_DULWICH

CONFIG = r'''
# comment
[core]
	fileMode = false   ; trailing comment
	quotePath
	autocrlf = "input"
[Core]
	trustCtime = no
[remote "origin"]
	url = /srv/repo\
.git
	fetch = +refs/heads/*:refs/remotes/origin/*
[remote "we\"ird"]
	url = "a # not a comment"
[branch.Feature]
	remote = origin
[extensions]
	objectFormat = sha1
'''

KEYS = [("core", None, "filemode"), ("core", None, "quotepath"), ("core", None, "autocrlf"),
        ("core", None, "trustctime"), ("remote", "origin", "url"), ("remote", 'we"ird', "url"),
        ("branch", "feature", "remote"), ("extensions", None, "objectformat"),
        ("core", None, "missing")]


def git_get(repo: Path, section: str, sub: str | None, name: str) -> str | None:
    key = f"{section}.{sub}.{name}" if sub is not None else f"{section}.{name}"
    proc = subprocess.run(["git", "config", "--get", key], cwd=repo, capture_output=True,
                          text=True)
    return proc.stdout.rstrip("\n") if proc.returncode == 0 else None


@pytest.mark.parametrize("with_include", [
    pytest.param(False, id="plain"),
    pytest.param(True, id="include-via-dulwich", marks=pytest.mark.xfail(
        OLD_DULWICH, reason="config includes need dulwich >= 1.0"))])
def test_matches_git(tmp_path: Path, with_include: bool) -> None:
    subprocess.run(["git", "init", "-q", str(tmp_path)], check=True)
    text = CONFIG
    if with_include:
        (tmp_path / "extra.cfg").write_text("[core]\n\tignoreCase = true\n")
        text += f"[include]\n\tpath = {tmp_path / 'extra.cfg'}\n"
    (tmp_path / ".git" / "config").write_text(text)
    config = GitConfig(str(tmp_path / ".git"))
    for section, sub, name in KEYS:
        if with_include and section == "branch":
            continue  # dulwich keeps the case of old-style [a.B] subsections; we never read them
        ours = config.get(section, name, sub)
        theirs = git_get(tmp_path, section, sub, name)
        if name == "quotepath" and ours == "true":
            theirs = "true" if theirs == "" else theirs  # `key` alone: git prints nothing
        assert ours == theirs, (section, sub, name)
    if with_include:
        assert config.get("core", "ignorecase") == "true"


def test_excludes_file_default(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "xdg"))
    subprocess.run(["git", "init", "-q", str(tmp_path / "r")], check=True)
    assert user_excludes_file(GitConfig(str(tmp_path / "r" / ".git"))) == \
        str(tmp_path / "xdg" / "git" / "ignore")
