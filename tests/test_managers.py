"""Hook-manager detection, the `git push` command line, and "nothing to push", against real
repositories (the end-to-end runs with the real managers are in test_e2e_managers.py)."""
from __future__ import annotations

import io
import os
from pathlib import Path

import pytest

from ayjnt_hooks.cli import main
from ayjnt_hooks.git.repo import discover
from ayjnt_hooks.hooks import nothing_to_push, parse_push_lines
from ayjnt_hooks.managers import _push_args, detect, push_targets

from .conftest import sh, write_files
from .test_hooks import make_repo


@pytest.mark.parametrize(("argv", "expected"), [
    pytest.param(["git", "push"], [], id="bare"),
    pytest.param(["/usr/bin/git", "-c", "a=b", "-C", "x", "push", "-u", "origin", "feat"],
                 ["-u", "origin", "feat"], id="global-options"),
    pytest.param(["git-push", "origin"], ["origin"], id="dashed"),
    pytest.param(["git", "--no-pager", "status"], None, id="other-command"),
    pytest.param(["sh", "push"], None, id="not-git"),
    pytest.param([], None, id="empty"),
    pytest.param(["git", "-c"], None, id="truncated"),
])
def test_push_args(argv: list[str], expected: list[str] | None) -> None:
    assert _push_args(argv) == expected


@pytest.mark.parametrize(("args", "expected"), [
    pytest.param([], (None, [], False), id="nothing"),
    pytest.param(["-o", "ci.skip", "origin", "+a:b", "c"], ("origin", ["+a:b", "c"], False),
                 id="refspecs"),
    pytest.param(["--all", "origin"], ("origin", [], True), id="all"),
    pytest.param(["origin", "--", "--weird"], ("origin", ["--weird"], False), id="dashdash"),
])
def test_push_targets(args: list[str], expected: tuple[str | None, list[str], bool]) -> None:
    assert push_targets(args) == expected


def test_parse_push_lines() -> None:
    z, a = "0" * 40, "a" * 40
    lines, other = parse_push_lines(f"HEAD^{{/ x}} {a} refs/heads/x {z}\nnoise\n\n".encode())
    assert [tuple(line) for line in lines] == [("HEAD^{/ x}", a, "refs/heads/x", z)]
    assert other == 1


def test_nothing_to_push(tmp_path: Path) -> None:
    proj = make_repo(tmp_path)
    repo = discover(str(proj))
    assert nothing_to_push(repo, [])  # HEAD == origin/main
    assert nothing_to_push(repo, ["origin", "main", "HEAD:main"])
    assert not nothing_to_push(repo, None)  # not under git push
    assert not nothing_to_push(repo, ["--all"])
    assert not nothing_to_push(repo, [str(tmp_path / "origin.git")])  # a URL
    assert not nothing_to_push(repo, ["origin", ":main"])  # a deletion
    assert not nothing_to_push(repo, ["origin", "refs/tags/*:refs/tags/*"])
    sh(proj, "git branch feat && git push -q origin feat && git commit -q --allow-empty -m x")
    repo = discover(str(proj))
    assert not nothing_to_push(repo, [])  # main is ahead
    assert nothing_to_push(repo, ["origin", "feat"])
    assert not nothing_to_push(repo, ["origin", "nosuch"])
    sh(proj, "git config push.default matching")
    assert not nothing_to_push(discover(str(proj)), [])


def test_detect(tmp_path: Path) -> None:
    proj = make_repo(tmp_path)
    assert detect(discover(str(proj))) == []
    write_files(proj, {"lefthook.yml": "pre-push: {}\n",
                       "package.json": '{"devDependencies": {"husky": "9"}, '
                                       '"simple-git-hooks": {}}'})
    assert detect(discover(str(proj))) == ["husky", "lefthook", "simple-git-hooks"]
    sh(proj, "git config core.hooksPath .husky/_")
    (proj / "lefthook.yml").unlink()
    (proj / "package.json").unlink()
    write_files(proj, {".pre-commit-config.yaml": "repos: []\n"})
    assert detect(discover(str(proj))) == ["husky", "pre-commit"]


def test_pre_push_command_refuses_a_terminal_and_an_empty_list(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    proj = make_repo(tmp_path)
    monkeypatch.chdir(proj)

    class Terminal(io.StringIO):
        def isatty(self) -> bool:
            return True
    monkeypatch.setattr("sys.stdin", Terminal())
    assert main(("pre-push", "origin", "url")) == 3
    assert "stdin is a terminal" in capsys.readouterr().err
    monkeypatch.setattr("sys.stdin", io.TextIOWrapper(io.BytesIO(b"")))
    assert main(("pre-push", "origin", "url")) == 3  # not under git push: cannot prove empty
    err = capsys.readouterr().err
    assert "its stdin is empty" in err and 'ayjnt-hooks pre-push "$@"' in err
    head = sh(proj, "git rev-parse HEAD").stdout.strip()
    line = f"refs/heads/main {head} refs/heads/main {head}\n".encode()
    monkeypatch.setattr("sys.stdin", io.TextIOWrapper(io.BytesIO(line)))
    assert main(("pre-push", "origin", "url", "--json")) == 0
    assert '"checked": ["commit' in capsys.readouterr().out


def test_check_commands_outside_git_push_are_unchanged(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """GIT_EXEC_PATH without a `git push` ancestor (a git alias, a post-merge hook): the
    working tree, as before."""
    proj = make_repo(tmp_path)
    monkeypatch.chdir(proj)
    monkeypatch.setenv("GIT_EXEC_PATH", os.environ.get("GIT_EXEC_PATH", "/usr/lib/git-core"))
    assert main(("check-migrations",)) == 0
