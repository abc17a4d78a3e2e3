"""`install --merge-driver` / `uninstall`: the repository config and .gitattributes, with git
itself as the oracle (`git config`, `git check-attr`); and the driver's own exits."""
from __future__ import annotations

import os
from pathlib import Path

import pytest

from ayjnt_hooks.mergedriver import ATTRIBUTE_LINE, driver_command, edit_config

from .conftest import git, sh, tree_hashes
from .integrate import LOCK, run_cli
from .test_rebase_lockfile import run_err

ORIGINAL = ('[core]\n\trepositoryformatversion = 0\n\tbare = false\n'
            '# a comment the user wrote\n[remote "origin"]\n\turl = /tmp/x.git ; trailing\n'
            '[merge "other"]\n\tdriver = cat %A\n[alias]\n\tst = status')  # no final newline


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    sh(tmp_path, "git init -q -b main repo")
    return tmp_path / "repo"


def test_install_is_idempotent_and_uninstall_restores_the_config(repo: Path) -> None:
    config = repo / ".git" / "config"
    config.write_text(ORIGINAL)
    os.chmod(config, 0o600)
    code, out = run_cli("install", "--merge-driver", "--cwd", str(repo))
    assert code == 0, out
    assert "installed merge driver ayjnt-lockfile" in out and "commit it" in out
    assert git(repo, "config", "--get", "merge.ayjnt-lockfile.driver").strip() == \
        driver_command()
    assert "renumber" in git(repo, "config", "--get", "merge.ayjnt-lockfile.name")
    assert git(repo, "config", "--get", "merge.other.driver").strip() == "cat %A"
    assert git(repo, "config", "--get", "alias.st").strip() == "status"
    assert config.read_text().startswith(ORIGINAL + "\n[merge \"ayjnt-lockfile\"]\n")
    assert config.stat().st_mode & 0o777 == 0o600
    assert (repo / ".gitattributes").read_text() == ATTRIBUTE_LINE + "\n"
    assert git(repo, "check-attr", "merge", LOCK) == f"{LOCK}: merge: ayjnt-lockfile\n"
    assert not (repo / ".git" / "hooks" / "pre-commit").exists()  # the driver only
    before = tree_hashes(repo)
    code, out = run_cli("install", "--merge-driver", "--cwd", str(repo))
    assert code == 0 and "already installed" in out and "already routes" in out
    assert tree_hashes(repo) == before
    code, out = run_cli("uninstall", "--merge-driver", "--cwd", str(repo))
    assert code == 0, out
    assert config.read_text() == ORIGINAL + "\n"
    assert not (repo / ".gitattributes").exists()
    assert git(repo, "config", "--get", "merge.ayjnt-lockfile.driver", check=False) == ""


def test_attributes_file_of_the_user_is_kept(repo: Path) -> None:
    (repo / ".gitattributes").write_text("*.png binary")
    assert run_cli("install", "--merge-driver", "--cwd", str(repo))[0] == 0
    assert (repo / ".gitattributes").read_text() == f"*.png binary\n{ATTRIBUTE_LINE}\n"
    assert run_cli("uninstall", "--cwd", str(repo))[0] == 0  # plain uninstall: driver too
    assert (repo / ".gitattributes").read_text() == "*.png binary\n"


def test_a_symlinked_attributes_file_is_not_written_through(repo: Path, tmp_path: Path
                                                           ) -> None:
    target = tmp_path / "elsewhere"
    target.write_text("*.png binary\n")
    os.symlink(target, repo / ".gitattributes")
    before = tree_hashes(repo / ".git")
    code, err = run_err("install", "--merge-driver", "--cwd", str(repo))
    assert code == 3
    assert ".gitattributes is a symbolic link; ayjnt-hooks does not write through links" in err
    assert target.read_text() == "*.png binary\n"
    assert tree_hashes(repo / ".git") == before  # and no half install in the config


def test_hooks_and_driver_install_and_uninstall_separately(repo: Path) -> None:
    hooks = repo / ".git" / "hooks"
    assert run_cli("install", "--merge-driver", "--hook", "pre-push", "--cwd", str(repo))[0] == 0
    assert (hooks / "pre-push").exists() and not (hooks / "pre-commit").exists()
    assert run_cli("uninstall", "--hook", "pre-push", "--cwd", str(repo))[0] == 0
    assert not (hooks / "pre-push").exists()
    assert git(repo, "config", "--get", "merge.ayjnt-lockfile.driver").strip()  # still there
    assert run_cli("install", "--cwd", str(repo))[0] == 0
    assert run_cli("uninstall", "--cwd", str(repo))[0] == 0
    assert not (hooks / "pre-commit").exists()
    assert git(repo, "config", "--get", "merge.ayjnt-lockfile.driver", check=False) == ""


@pytest.mark.parametrize("header", ['[merge "ayjnt-lockfile"]', "[merge.ayjnt-lockfile]",
                                    '[MERGE "ayjnt-lockfile"] driver = old'],
                         ids=["quoted", "dotted", "key-on-header-line"])
def test_an_older_section_of_ours_is_replaced(repo: Path, header: str) -> None:
    config = repo / ".git" / "config"
    config.write_text(f"{ORIGINAL}\n{header}\n\tdriver = old\n[alias]\n\tco = checkout\n")
    assert edit_config(str(config), None)
    assert config.read_text() == f"{ORIGINAL}\n[alias]\n\tco = checkout\n"
    assert not edit_config(str(config), None)


def test_a_held_config_lock_is_respected(repo: Path) -> None:
    lock = repo / ".git" / "config.lock"
    lock.write_text("someone else")
    before = tree_hashes(repo)
    code, err = run_err("install", "--merge-driver", "--cwd", str(repo))
    assert code == 3 and "config.lock exists: another git process is writing" in err
    assert tree_hashes(repo) == before


def test_driver_leaves_invalid_input_conflicted(tmp_path: Path) -> None:
    base, ours, theirs = (tmp_path / n for n in ("o", "a", "b"))
    base.write_text('{"version": 1, "migrations": [], "classes": {}}')
    ours.write_text("{ not json")
    theirs.write_text('{"version": 1, "migrations": [], "classes": {}}')
    before = ours.read_bytes()
    code, err = run_err("merge-driver", str(base), str(ours), str(theirs), "apps/x/" + LOCK)
    assert code == 1
    assert f"left apps/x/{LOCK} conflicted" in err and "is not valid JSON" in err
    assert "run `ayjnt-hooks rebase-lockfile --cwd apps/x`" in err
    assert ours.read_bytes() == before
