"""git's saved untracked cache (the index's UNTR extension) against ``git status``.

git trusts a folder's cached untracked names while the folder's stat data is unchanged in whole
seconds and its record is not racy; a folder changed in the same second its record was taken
then looks unchanged, and git prints the old names. Ours must print git's lines, or refuse
(exit 3) where git would print a stale record — never "clean" where git lists a name, and
never a stale answer of its own.
"""
from __future__ import annotations

from pathlib import Path

import pytest

from ayjnt_hooks.errors import AyjntError
from ayjnt_hooks.git.cleanproof import proven_clean
from ayjnt_hooks.git.repo import discover
from ayjnt_hooks.git.status import status

from ..conftest import git_porcelain, sh

BASE = """
git init -q -b main .
mkdir -p lib1/sub
echo a > lib1/m.txt
echo b > lib1/sub/n.txt
printf '*.o\n' > lib1/sub/.gitignore
echo u > lib1/old-untracked
git add lib1/m.txt lib1/sub/n.txt lib1/sub/.gitignore && git commit -qm init
touch -d '-30 seconds' lib1 lib1/sub .
git config core.untrackedCache true
git status --porcelain >/dev/null
"""

# Forged without timing: core.trustctime=false (git compares mtime, size, inode, owner), the
# folder's mtime put back to its recorded second, and an index newer than every record.
RESTORE = """
touch -d "@$m" lib1
touch -d '+10 seconds' .git/index
"""
STALE: list[tuple[str, str]] = [
    ("new-gitignore", "printf 'zz\\n' > lib1/.gitignore"),  # (git does not even read it)
    ("new-file", "echo n > lib1/new"),
    ("deleted-untracked", "rm lib1/old-untracked"),  # git would print a name that is gone
    ("new-folder", "mkdir lib1/nd && echo 1 > lib1/nd/f"),
    # (a folder with a tracked .gitignore: git keeps the record by the index's id for it)
    ("folder-with-tracked-gitignore", "s=$(stat -c %Y lib1/sub) && echo n > lib1/sub/new && "
     "touch -d \"@$s\" lib1/sub"),
]


@pytest.mark.parametrize("script", [pytest.param(s, id=i) for i, s in STALE])
def test_stale_record_is_refused(tmp_path: Path, script: str) -> None:
    sh(tmp_path, BASE + "git config core.trustctime false\ngit status --porcelain >/dev/null\n"
       "m=$(stat -c %Y lib1)\n" + script + RESTORE)
    theirs = git_porcelain(tmp_path)
    sh(tmp_path, "git config core.untrackedCache false")  # the truth, without the cache
    truth = git_porcelain(tmp_path)
    sh(tmp_path, "git config core.untrackedCache true")
    assert theirs != truth, "set-up: git's answer from the cache should be stale"
    with pytest.raises(AyjntError) as e:
        status(discover(str(tmp_path)))
    assert "untracked cache is stale for folder lib1" in e.value.message
    assert "git update-index --no-untracked-cache" in e.value.message
    assert not proven_clean(discover(str(tmp_path)))


@pytest.mark.parametrize("script", [
    pytest.param("", id="unchanged"),
    pytest.param("echo n > lib1/new", id="new-file-later-second"),
    pytest.param("printf 'old-*\\n' > lib1/.gitignore", id="new-gitignore-later-second"),
    pytest.param("printf 'old-*\\n' >> .git/info/exclude", id="info-exclude-changed"),
    pytest.param("git config status.showUntrackedFiles all; echo 1 > lib1/sub/x",
                 id="other-mode"),
    pytest.param("rm lib1/old-untracked; touch -d '+10 seconds' .git/index", id="racy"),
])
def test_fresh_or_invalidated_records_match_git(tmp_path: Path, script: str) -> None:
    """Records git re-reads (changed folder, changed ignore rules, another mode, racy) give
    git's exact answer, no refusal."""
    sh(tmp_path, BASE + "sleep 1.1\n" * bool(script and "racy" not in script) + script)
    assert status(discover(str(tmp_path))).lines == git_porcelain(tmp_path)


def test_same_second_with_ctime(tmp_path: Path) -> None:
    """With ctime (the default), a change in the record's own second: whatever git answers,
    ours is git's answer or a refusal."""
    sh(tmp_path, BASE + "echo x > lib1/t && rm lib1/t && git status --porcelain >/dev/null\n"
       "printf 'zz\\n' > lib1/.gitignore\ntouch -d '+10 seconds' .git/index")
    theirs = git_porcelain(tmp_path)
    try:
        ours = status(discover(str(tmp_path))).lines
    except AyjntError as e:
        assert "untracked cache is stale" in e.message
    else:
        assert ours == theirs
