"""Damage that used to escape as an internal error (IndexError, struct.error, zlib.error,
KeyError, UnicodeDecodeError, IsADirectoryError, FileNotFoundError…) is one message naming
the file, exit 3 — or, where git reads past it, git's own answer."""
from __future__ import annotations

import hashlib
import json
import os
import struct
import subprocess
from pathlib import Path

import pytest

from ayjnt_hooks.cli import main as cli_main
from ayjnt_hooks.git.objects import ObjectReader
from ayjnt_hooks.git.repo import discover

from ..conftest import git_porcelain, sh
from .test_refusals import loose_path, make_project


def status_json(capsys: pytest.CaptureFixture[str], cwd: Path) -> tuple[int, dict[str, object]]:
    code = cli_main(("status", "--json", "--cwd", str(cwd)))
    out = capsys.readouterr()
    assert "internal error" not in out.out + out.err and "Traceback" not in out.err
    return code, json.loads(out.out)


def only(pattern: str, folder: Path) -> Path:
    found = sorted(folder.glob(pattern))
    assert len(found) == 1, found
    found[0].chmod(0o644)
    return found[0]


@pytest.mark.parametrize(("damage", "needle"), [
    pytest.param("truncated-pack", ".pack"),
    pytest.param("truncated-idx", ".idx"),
    pytest.param("loose-zlib", "objects/"),
    pytest.param("missing-tree", "missing"),
    pytest.param("loose-ref-garbage", "refs/heads/main"),
    pytest.param("shallow-folder", "shallow"),
    pytest.param("commondir-folder", "commondir"),
    pytest.param("alternates-folder", "alternates"),
    pytest.param("packed-refs-fifo", "packed-refs"),
])
def test_damage_is_one_message(tmp_path: Path, damage: str, needle: str,
                               capsys: pytest.CaptureFixture[str]) -> None:
    work = make_project(tmp_path)
    git = work / ".git"
    if damage in ("truncated-pack", "truncated-idx"):
        sh(work, "git gc -q")
        path = only("*.pack" if damage == "truncated-pack" else "*.idx", git / "objects/pack")
        path.write_bytes(path.read_bytes()[:path.stat().st_size // 2])
    elif damage == "loose-zlib":
        path = loose_path(work, "HEAD^{tree}")
        path.chmod(0o644)
        data = path.read_bytes()
        path.write_bytes(data[:2] + bytes(b ^ 0x55 for b in data[2:12]) + data[12:])
    elif damage == "missing-tree":
        loose_path(work, "HEAD^{tree}").unlink()
    elif damage == "loose-ref-garbage":
        (git / "refs/heads/main").write_text("garbage\n")
    elif damage == "shallow-folder":
        (git / "shallow").mkdir()
    elif damage == "commondir-folder":
        (git / "commondir").mkdir()
    elif damage == "alternates-folder":
        (git / "objects/info/alternates").mkdir(parents=True)
    else:
        os.mkfifo(git / "packed-refs")
    code, data = status_json(capsys, work)
    assert code == 3
    error = data["error"]
    assert isinstance(error, dict) and needle in error["message"], error


def test_an_unreadable_cache_tree_is_dropped_as_git_drops_it(tmp_path: Path,
                                                              capsys: pytest.CaptureFixture[str]
                                                              ) -> None:
    """git's cache_tree_read gives up on a malformed TREE extension and works without it."""
    work = make_project(tmp_path)
    sh(work, "echo x >> README.md && git add README.md")
    index = work / ".git/index"
    data = bytearray(index.read_bytes())
    at = data.rfind(b"TREE")
    assert at > 0
    data[at + 9:at + 12] = b"x-y"  # the root node's entry count is no longer a number
    body = bytes(data[:-20])
    index.write_bytes(body + hashlib.sha1(body).digest())
    code, result = status_json(capsys, work)
    assert code == 0
    assert result["porcelain"] == git_porcelain(work) == ["M  README.md"]


def test_a_pack_removed_while_it_is_read_is_found_again(tmp_path: Path) -> None:
    """git repack writes a new pack and deletes the old one; a reader that listed the old one
    looks again, as git's reprepare_packed_git does."""
    work = make_project(tmp_path)
    sh(work, "git gc -q")
    reader = ObjectReader(str(work / ".git/objects"))
    head = sh(work, "git rev-parse HEAD").stdout.strip()
    assert reader.contains(head)  # the pack list (and its .idx) is now read
    old = only("*.pack", work / ".git/objects/pack")
    sh(work, "echo y > y.txt && git add y.txt && git commit -qm y && git repack -q -a -d")
    assert not old.exists()  # the pack we listed is gone
    raw = subprocess.run(["git", "cat-file", "commit", head], cwd=work, check=True,
                         capture_output=True).stdout
    assert reader.read(head) == (1, raw)


def test_pre_commit_from_ref_may_be_a_name(tmp_path: Path,
                                           capsys: pytest.CaptureFixture[str],
                                           monkeypatch: pytest.MonkeyPatch) -> None:
    work = make_project(tmp_path)
    monkeypatch.setenv("PRE_COMMIT_TO_REF", "HEAD")
    monkeypatch.setenv("PRE_COMMIT_FROM_REF", "HEAD")
    assert cli_main(("check-lockfile", "--stage", "pre-push", "--cwd", str(work))) == 0
    monkeypatch.setenv("PRE_COMMIT_FROM_REF", "no-such-branch")
    assert cli_main(("check-lockfile", "--stage", "pre-push", "--cwd", str(work))) == 3
    err = capsys.readouterr().err
    assert "PRE_COMMIT_FROM_REF='no-such-branch' names no commit" in err


def test_index_v4_and_unknown_extensions(tmp_path: Path,
                                         capsys: pytest.CaptureFixture[str]) -> None:
    """An optional extension git does not know is ignored; a required one is refused."""
    work = make_project(tmp_path)
    index = work / ".git/index"
    data = index.read_bytes()
    for sig, expected in ((b"ZZZZ", 0), (b"zzzz", 3)):
        body = data[:-20] + sig + struct.pack(">I", 3) + b"abc"
        index.write_bytes(body + hashlib.sha1(body).digest())
        git = subprocess.run(["git", "status", "--porcelain"], cwd=work, capture_output=True)
        assert git.returncode == (128 if expected else 0)
        code, _ = status_json(capsys, work)
        assert code == expected
    assert discover(str(work)).index_file == str(index)
