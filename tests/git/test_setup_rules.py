"""Where the work tree is, and what the index may say: git's rules, with git as the oracle.

* ``core.worktree`` (absolute, relative to the git dir), ``GIT_WORK_TREE`` winning over it,
  ``core.bare`` with ``GIT_WORK_TREE``, a linked worktree ignoring the shared config's
  ``core.worktree``: our work tree is ``git rev-parse --show-toplevel`` and our porcelain lines
  are ``git status --porcelain``'s.
* A cache-tree that disagrees with the entries (an object id copied over another's, the
  index checksum rewritten) never hides the difference: refused, or git's exact answer.
* A mode git does not define in the index is "could not check" wherever the index is read.
"""
from __future__ import annotations

import hashlib
import os
import struct
import subprocess
from pathlib import Path

import pytest

from ayjnt_hooks.errors import AyjntError
from ayjnt_hooks.git.cleanproof import proven_clean
from ayjnt_hooks.git.index import read_index
from ayjnt_hooks.git.porcelain import CACHE_TREE_FIX
from ayjnt_hooks.git.repo import discover
from ayjnt_hooks.git.snapshots import engine_paths
from ayjnt_hooks.git.status import status

from ..conftest import git_porcelain, sh


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    root = tmp_path / "repo"
    root.mkdir()
    sh(root, "git init -q -b main . && mkdir -p d sub && echo hi > README.md && "
             "echo b > d/b.txt && echo c > d/c.txt && echo s > sub/s.txt && git add . && "
             "git commit -qm init")
    return root


def toplevel(cwd: Path) -> str:
    return subprocess.run(["git", "rev-parse", "--show-toplevel"], cwd=cwd, check=True,
                          capture_output=True, text=True).stdout.strip()


@pytest.mark.parametrize(("script", "env"), [
    pytest.param("mkdir -p ../elsewhere/d && echo hi > ../elsewhere/README.md && "
                 "echo x > ../elsewhere/new.txt && git config core.worktree "
                 "\"$(cd ../elsewhere && pwd)\"", {}, id="absolute"),
    pytest.param("git config core.worktree ../sub", {}, id="relative-to-the-git-dir"),
    pytest.param("git config core.worktree /", {"GIT_WORK_TREE": "."}, id="env-wins"),
    pytest.param("git config core.bare true", {"GIT_WORK_TREE": "."}, id="bare-with-env"),
    pytest.param("git config core.worktree ../sub && echo z >> d/b.txt", {},
                 id="relative-dirty-elsewhere"),
])
def test_work_tree_as_git_sets_it_up(repo: Path, script: str, env: dict[str, str],
                                     monkeypatch: pytest.MonkeyPatch) -> None:
    sh(repo, script)
    monkeypatch.chdir(repo)
    for k, v in env.items():
        monkeypatch.setenv(k, v)
    r = discover(str(repo))
    assert r.worktree == os.path.realpath(toplevel(repo))
    assert status(discover(str(repo))).lines == git_porcelain(repo)


def test_linked_worktree_ignores_the_shared_core_worktree(repo: Path, tmp_path: Path) -> None:
    wt = tmp_path / "wt"
    sh(repo, f"git worktree add -q {wt} -b other && git config core.worktree "
             f"\"$(cd .. && pwd)\"")
    sh(wt, "echo u > u.txt")
    assert discover(str(wt)).worktree == toplevel(wt) == str(wt)
    assert status(discover(str(wt))).lines == git_porcelain(wt) == ["?? u.txt"]


def test_worktree_config_extension_is_read(repo: Path) -> None:
    """With extensions.worktreeConfig, config.worktree holds per-worktree settings."""
    sh(repo, "git config core.repositoryformatversion 1 && "
             "git config extensions.worktreeConfig true && "
             "git config --worktree core.worktree ../sub")
    assert discover(str(repo)).worktree == toplevel(repo) == str(repo / "sub")
    assert status(discover(str(repo))).lines == git_porcelain(repo)


# ---------------------------------------------------------------------- the index


def index_entries(data: bytes) -> dict[bytes, int]:
    """name → offset of each entry of a version-2 index."""
    count = struct.unpack_from(">I", data, 8)[0]
    pos, out = 12, {}
    for _ in range(count):
        length = struct.unpack_from(">H", data, pos + 60)[0] & 0xFFF
        out[data[pos + 62:pos + 62 + length]] = pos
        pos += (62 + length + 8) & ~7
    return out


def rewrite_index(repo: Path, change: str) -> None:
    """Edit ``.git/index`` in place and rewrite its trailing SHA-1, so it passes as sound."""
    path = repo / ".git" / "index"
    data = bytearray(path.read_bytes())
    entries = index_entries(bytes(data))
    if change.startswith("copy-oid "):
        source, target = (entries[name.encode()] for name in change.split()[1:])
        data[target + 40:target + 60] = data[source + 40:source + 60]
    elif change == "mode-bit":
        for offset in entries.values():
            data[offset + 24] |= 0x04
    body = bytes(data[:-20])
    path.write_bytes(body + hashlib.sha1(body).digest())


@pytest.mark.parametrize("change", [
    pytest.param("copy-oid d/b.txt README.md", id="top-folder"),
    pytest.param("copy-oid d/b.txt d/c.txt", id="subfolder"),
])
def test_cache_tree_never_hides_an_entry_that_differs_from_head(repo: Path,
                                                                change: str) -> None:
    """git trusts a valid cache-tree node for a subfolder (so for the subfolder case it sees
    no staged change); we refuse an index whose cache-tree disagrees with its entries. The
    fix the message gives really rebuilds it: git then shows the staged change, as we do."""
    rewrite_index(repo, change)
    theirs = git_porcelain(repo)
    assert not proven_clean(discover(str(repo)))
    with pytest.raises(AyjntError, match=r"cache-tree .* disagrees with its entries") as e:
        status(discover(str(repo)))
    sh(repo, CACHE_TREE_FIX)
    assert CACHE_TREE_FIX in e.value.message
    fixed = git_porcelain(repo)
    assert status(discover(str(repo))).lines == fixed
    target = change.split()[2]
    staged = [line for line in fixed if line.endswith(f" {target}") and line[0] == "M"]
    assert staged, fixed  # (the work tree side depends on the racy-stat rule: not compared)
    if target != "README.md":  # git's answer from the forged index hid the staged change
        assert not [line for line in theirs if line.endswith(f" {target}") and line[0] == "M"]


def test_a_cache_tree_cannot_make_the_proof_say_clean(repo: Path) -> None:
    """The fast proof hashes the entries itself: with the cache-tree removed altogether (git
    drops an unreadable one) it still proves a clean tree, and still sees a staged change."""
    sh(repo, "git update-index --index-version 2")
    path = repo / ".git" / "index"
    data = path.read_bytes()
    end = len(data) - 20
    entries_end = max(index_entries(data).values())
    assert data.find(b"TREE", entries_end) > 0
    tree_at = data.find(b"TREE", entries_end)
    size = struct.unpack_from(">I", data, tree_at + 4)[0]
    body = data[:tree_at] + data[tree_at + 8 + size:end]
    path.write_bytes(body + hashlib.sha1(body).digest())
    assert proven_clean(discover(str(repo))) and git_porcelain(repo) == []
    sh(repo, "echo x >> d/b.txt && git add d/b.txt")
    assert not proven_clean(discover(str(repo)))
    assert status(discover(str(repo))).lines == git_porcelain(repo) == ["M  d/b.txt"]


def test_unknown_entry_modes_are_could_not_check(repo: Path) -> None:
    """Bit 0x04 in the top byte of every mode: git still calls the tree clean; we cannot know
    what such an entry is, here and in the pre-commit stage's snapshot."""
    rewrite_index(repo, "mode-bit")
    assert git_porcelain(repo) == []
    assert not proven_clean(discover(str(repo)))
    with pytest.raises(AyjntError, match="file mode git does not define"):
        status(discover(str(repo)))
    with pytest.raises(AyjntError, match="file mode git does not define"):
        read_index(str(repo / ".git" / "index"), engine_paths(""))


def test_unknown_entry_modes_stop_the_pre_commit_stage(tmp_path: Path,
                                                        capsys: pytest.CaptureFixture[str],
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    """The reproducer: an agent staged with an unknown mode must not pass the pre-commit
    stage as "nothing pending"."""
    from ayjnt_hooks.cli import main

    from .test_refusals import make_project

    work = make_project(tmp_path)
    sh(work, "mkdir -p agents/new && printf 'export default class NewAgent extends Agent<Env> "
             "{}\\n' > agents/new/agent.ts && git add agents/new/agent.ts")
    rewrite_index(work, "mode-bit")
    monkeypatch.setenv("GIT_INDEX_FILE", str(work / ".git" / "index"))
    assert main(("check-migrations", "--stage", "pre-commit", "--cwd", str(work))) == 3
    assert "file mode git does not define" in capsys.readouterr().err
