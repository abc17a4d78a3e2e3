"""Our porcelain lines and clean verdict against real ``git status --porcelain``."""
from __future__ import annotations

from pathlib import Path

import pytest

from ayjnt_hooks.errors import AyjntError
from ayjnt_hooks.git import cleanproof
from ayjnt_hooks.git.cleanproof import proven_clean
from ayjnt_hooks.git.repo import discover
from ayjnt_hooks.git.status import status

from ..conftest import AGE, forced_fork, git_porcelain, sh, tree_hashes

BASE = """
git init -q -b main .
mkdir -p dir/sub
printf 'hello\\n' > a.txt
printf 'b\\n' > dir/b.txt
printf 'c\\n' > dir/sub/c.txt
git add . && git commit -qm init
"""

# (id, bash run in the repo after BASE, compare lines too (False: verdict only))
SCENARIOS: list[tuple[str, str, bool]] = [
    ("clean", "", True),
    ("modified-size", "echo more >> a.txt", True),
    ("modified-same-size", "printf 'HELLO\\n' > a.txt; touch -d '+5 seconds' a.txt", True),
    ("staged-new", "echo n > new.txt; git add new.txt", True),
    ("staged-modification", "echo x >> a.txt; git add a.txt", True),
    ("MM", "echo x >> a.txt; git add a.txt; echo y >> a.txt", True),
    ("MM-back-to-head", "echo x >> a.txt; git add a.txt; printf 'hello\\n' > a.txt", True),
    ("untracked-file", "echo u > u.txt", True),
    ("untracked-in-tracked-dir", "echo u > dir/u.txt", True),
    ("untracked-dir", "mkdir -p newdir/x; echo u > newdir/x/f", True),
    ("ignored-file", "echo 'u.txt' > .git/info/exclude; echo u > u.txt", True),
    ("ignored-dir-content", "printf 'build/\\n' > .gitignore; git add .gitignore; "
     "git commit -qm gi; mkdir build; echo x > build/o", True),
    ("dir-star-negation", "printf 'cache/*\\n!cache/keep\\n' > .gitignore; git add .gitignore; "
     "git commit -qm gi; mkdir cache; echo 1 > cache/keep; echo 2 > cache/drop", True),
    ("untracked-dir-only-ignored", "printf '*.log\\n' > .gitignore; git add .gitignore; "
     "git commit -qm gi; mkdir logs; echo 1 > logs/a.log", True),
    ("deleted-unstaged", "rm dir/b.txt", True),
    ("deleted-staged", "git rm -q dir/b.txt", True),
    ("deleted-dir", "rm -r dir", True),
    ("chmod-x", "chmod +x a.txt", True),
    ("chmod-x-staged", "chmod +x a.txt; git add a.txt", True),
    ("chmod-x-filemode-false", "git config core.fileMode false; chmod +x a.txt", True),
    ("touched-same-content", "touch -d '+5 seconds' a.txt", True),
    ("nested-gitignore", "printf '*.tmp\\n!keep.tmp\\n' > dir/.gitignore; "
     "echo 1 > dir/keep.tmp; echo 2 > dir/x.tmp; echo 3 > x.tmp", True),
    ("untracked-empty-dir", "mkdir -p emptydir/deeper", True),
    ("excludesfile-tilde", "printf 'secret\\n' > ~/.myignore; "
     "git config core.excludesFile '~/.myignore'; echo s > secret", True),
    ("xdg-global-ignore", "mkdir -p \"$XDG_CONFIG_HOME/git\"; "
     "printf 'xdg.txt\\n' > \"$XDG_CONFIG_HOME/git/ignore\"; echo 1 > xdg.txt", True),
    ("double-star", "printf '**/tmp/\\n' > .gitignore; mkdir -p dir/sub/tmp; "
     "echo 1 > dir/sub/tmp/x", True),
    ("tracked-file-matching-ignore", "printf 'a.txt\\n' > .gitignore; echo z >> a.txt", True),
    ("symlink-tracked-changed", "ln -s a.txt link; git add link; git commit -qm l; "
     "rm link; ln -s dir/b.txt link", True),
    ("symlink-tracked-clean", "ln -s a.txt link; git add link; git commit -qm l", True),
    ("file-to-symlink", "printf 'a.txt' > f; git add f; git commit -qm f; rm f; "
     "ln -s a.txt f", True),
    ("untracked-symlink-to-dir", "ln -s dir dirlink", True),
    ("intent-to-add", "echo i > ita.txt; git add -N ita.txt", True),
    ("assume-unchanged", "git update-index --assume-unchanged a.txt; echo z >> a.txt", True),
    ("skip-worktree", "git update-index --skip-worktree dir/b.txt; rm dir/b.txt", True),
    ("sparse-checkout-cone", "git sparse-checkout set --cone dir/sub 2>/dev/null; "
     "echo x >> dir/sub/c.txt", True),
    ("autocrlf-checked-out", "git config core.autocrlf true; rm a.txt; git checkout -- a.txt",
     True),
    ("autocrlf-crlf-over-lf", "git config core.autocrlf true; printf 'hello\\r\\n' > a.txt",
     True),
    ("gitattributes-eol-crlf", "printf '*.txt eol=crlf\\n' > .gitattributes; git add "
     ".gitattributes; git commit -qm attrs; rm a.txt; git checkout -- a.txt", True),
    ("unicode-and-space-names", "echo 1 > 'déjà vu.txt'; echo 2 > 'tab\there'; "
     "echo 3 > 'q\"uote'", True),
    ("racy-trustctime-false", "git config core.trustctime false; "
     "m=$(stat -c %y a.txt); printf 'jello\\n' > a.txt; touch -d \"$m\" a.txt; "
     "touch -d \"$m\" .git/index", True),
    ("staged-rename", "git mv a.txt renamed.txt", True),
    ("staged-rename-then-modified", "git mv a.txt renamed.txt; echo z >> renamed.txt", True),
    ("staged-type-change", "rm a.txt; ln -s dir a.txt; git add a.txt", True),
    ("file-replaced-by-dir", "rm a.txt; mkdir a.txt; echo 1 > a.txt/inner", True),
    ("index-v4", "git update-index --index-version 4; echo z >> dir/b.txt", True),
    ("untracked-cache", "git config core.untrackedCache true; git update-index "
     "--untracked-cache; git status >/dev/null; echo u > dir/u.txt", True),
    ("sparse-index-clean", "git sparse-checkout set --cone dir/sub 2>/dev/null; "
     "git config index.sparse true; git sparse-checkout reapply 2>/dev/null", True),
    ("sparse-index-staged-change", "mkdir -p other && echo o > other/o.txt && git add other && "
     "git commit -qm o && git sparse-checkout set --cone dir 2>/dev/null && "
     "git config index.sparse true && git sparse-checkout reapply 2>/dev/null && "
     "echo x >> dir/sub/c.txt && git add dir/sub/c.txt && echo n > dir/new.txt && "
     "git add dir/new.txt", True),
    ("exec-file-clean", "chmod +x a.txt && git add a.txt && git commit -qm x", True),
    ("empty-file-racy", ": > empty && git add empty && git commit -qm e && "
     "touch -d '+3 seconds' .git/index && echo z > empty && touch -d '+3 seconds' empty && "
     "touch -d '+3 seconds' .git/index", True),
    ("racy-same-content", "m=$(stat -c %y a.txt); touch -d \"$m\" .git/index", True),
    ("newline-in-name", "echo 1 > \"$(printf 'new\\nline')\"", True),
    ("untracked-symlink-to-file", "ln -s a.txt alink", True),
    ("tracked-dir-replaced-by-symlink", "rm -r dir && ln -s /tmp dir", True),
    ("staged-new-gitlink", "git update-index --add --cacheinfo "
     "160000,$(git rev-parse HEAD),sm", True),
    ("untracked-in-deep-new-dir", "mkdir -p x/y/z && echo 1 > x/y/z/f && echo 2 > dir/sub/u",
     True),
    ("untracked-nested-repo", "mkdir nested; git -C nested init -q; "
     "echo 1 > nested/f", True),
    ("tracked-in-ignored-dir", "printf 'build/\\n' > .gitignore; mkdir build; echo 1 > "
     "build/t; git add -f build/t .gitignore; git commit -qm b; echo 2 >> build/t; "
     "echo 3 > build/u", True),
    ("ignorecase", "git config core.ignorecase true; printf '*.LOG\\n' > .gitignore; "
     "echo 1 > x.log", True),
    ("reinclude-parent", "printf 'dist/\\n!dist/\\ndist/*\\n!dist/keep.txt\\n' > .gitignore; "
     "mkdir dist; echo 1 > dist/keep.txt; echo 2 > dist/drop", True),
    ("anchored-dir-pattern", "printf '/data/\\n' > .gitignore; echo 1 > data; mkdir -p sub/data; "
     "echo 2 > sub/data/x", True),
    ("dir-replaced-by-file-staged", "git rm -rq dir && echo x > dir && git add dir", True),
    ("file-replaced-by-dir-staged", "git rm -q a.txt && mkdir a.txt && echo 1 > a.txt/x && "
     "git add a.txt", True),
    ("new-dir-staged", "mkdir -p nd/deep && echo 1 > nd/deep/x && git add nd", True),
    ("deleted-dir-staged", "git rm -rq dir", True),
    ("ita-then-deleted", "echo i > ita.txt; git add -N ita.txt; rm ita.txt", True),
    ("crlf-binary-attr", "git config core.autocrlf true; printf '*.txt -text\n' > "
     ".gitattributes; git add .gitattributes; git commit -qm a; printf 'hello\r\n' > a.txt",
     True),
    ("two-staged-renames", "git mv a.txt a2.txt && git mv dir/b.txt dir/b2.txt", True),
    ("staged-gitlink-type-change", "rm a.txt && git update-index --add --cacheinfo "
     "160000,$(git rev-parse HEAD),a.txt 2>/dev/null || git update-index --cacheinfo "
     "160000,$(git rev-parse HEAD),a.txt", False),
    # settings that change git's answer (issue #10 §2)
    ("renames-off", "git config status.renames false; git mv a.txt renamed.txt", True),
    ("diff-renames-off", "git config diff.renames no; git mv a.txt renamed.txt", True),
    ("checkstat-minimal-same-second", "git config core.checkStat minimal; "
     "m=$(stat -c %Y a.txt); printf 'jello\\n' > a.txt; touch -d \"@$m.5\" a.txt", True),
    ("trustctime-false-same-second", "git config core.trustctime false; "
     "m=$(stat -c %Y a.txt); printf 'jello\\n' > a.txt; touch -d \"@$m.7\" a.txt", True),
    ("untracked-no", "git config status.showUntrackedFiles no; echo u > u.txt; "
     "mkdir -p nd/x; echo 1 > nd/x/f", True),
    ("untracked-all", "git config status.showUntrackedFiles all; echo u > u.txt; "
     "mkdir -p nd/x nd/empty; echo 1 > nd/x/f; echo 2 > nd/g; git init -q nd/repo", True),
    ("symlinks-false-link-as-file", "ln -s a.txt link; git add link; git commit -qm l; "
     "git config core.symlinks false; rm link; printf 'a.txt' > link", True),
    ("symlinks-false-link-as-other-file", "ln -s a.txt link; git add link; git commit -qm l; "
     "git config core.symlinks false; rm link; printf 'b.txt' > link", True),
    ("ignorecase-case-only-rename", "git config core.ignoreCase true; mv a.txt A.txt", True),
    ("ignorecase-dir-case-rename", "git config core.ignoreCase true; mv dir DIR", True),
    ("fifo-and-socket-untracked", "mkfifo pipe; mkfifo dir/pipe2; mkdir only; mkfifo only/p; "
     "python3 -c \"import socket; socket.socket(socket.AF_UNIX).bind('sock')\"", True),
    ("fifo-replaces-tracked-file", "rm a.txt; mkfifo a.txt", True),
    ("dot-git-names-below-the-top", "echo x > dir/.git; mkdir -p fake/.git; mkdir -p f2; "
     "echo 'gitdir: nowhere' > f2/.git", True),
    ("nested-repo-by-gitfile", "git init -q --separate-git-dir ../sep nested2", True),
    ("empty-blob-racily-smudged", ": > e && git add e && git commit -qm e", True),
    ("uall-file-replaced-by-dir", "git config status.showUntrackedFiles all; rm a.txt; "
     "mkdir -p a.txt/deeper; echo 1 > a.txt/inner; echo 2 > a.txt/deeper/f", True),
    ("uall-file-replaced-by-nested-repo", "git config status.showUntrackedFiles all; "
     "rm a.txt; git init -q a.txt; echo 1 > a.txt/f", True),
    ("uall-skip-worktree-file-replaced-by-dir", "git config status.showUntrackedFiles all; "
     "git update-index --skip-worktree a.txt; rm a.txt; mkdir a.txt; echo 1 > a.txt/in", True),
    ("uall-file-replaced-by-ignored-dir", "git config status.showUntrackedFiles all; "
     "printf 'a.txt/\n' > .git/info/exclude; rm a.txt; mkdir a.txt; echo 1 > a.txt/in", True),
    ("skip-worktree-gitignore-read-from-index", "printf '*.log\\n' > .gitignore; "
     "printf 'x\\n' > dir/.gitignore; git add .gitignore dir/.gitignore; git commit -qm gi; "
     "git update-index --skip-worktree .gitignore dir/.gitignore; rm .gitignore; "
     "rm dir/.gitignore; ln -s nowhere dir/.gitignore; echo 1 > x.log; echo 2 > u.txt; "
     "echo 3 > dir/x; echo 4 > dir/y", True),
    ("subdir-negation-precedence", "printf '*.log\\n' > .gitignore; mkdir s; "
     "printf '!keep.log\\n' > s/.gitignore; echo 1 > s/keep.log; echo 2 > s/drop.log", True),
]


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    root = tmp_path / "repo"
    root.mkdir()
    sh(root, BASE)
    return root


@pytest.mark.parametrize(("script", "lines_too"),
                         [pytest.param(s, lines, id=i) for i, s, lines in SCENARIOS])
def test_matches_git(repo: Path, script: str, lines_too: bool) -> None:
    sh(repo, script)
    before = tree_hashes(repo)
    ours = status(discover(str(repo)))
    verdict = status(discover(str(repo)), first_only=True)
    proven = proven_clean(discover(str(repo)))
    assert tree_hashes(repo) == before, "status must not write anything"
    theirs = git_porcelain(repo)
    assert not (proven and theirs), "the fast proof said clean where git sees changes"
    assert ours.clean == (not theirs)
    assert verdict.clean == (not theirs)
    if lines_too:
        assert ours.lines == theirs


def test_no_commits_empty(tmp_path: Path) -> None:
    sh(tmp_path, "git init -q .")
    assert status(discover(str(tmp_path))).lines == git_porcelain(tmp_path) == []


def test_no_commits_staged(tmp_path: Path) -> None:
    sh(tmp_path, "git init -q .; echo a > a.txt; git add a.txt; echo b > b.txt")
    assert status(discover(str(tmp_path))).lines == git_porcelain(tmp_path)


def test_merge_conflict(repo: Path) -> None:
    sh(repo, "git checkout -qb other; echo o > a.txt; echo n > both.txt; git add .; "
               "git commit -qm o; git checkout -q main; echo m > a.txt; echo m > both.txt; "
               "git add .; git commit -qm m; git merge other >/dev/null 2>&1 || true")
    ours = status(discover(str(repo)))
    assert ours.lines == git_porcelain(repo)
    assert ours.conflicted


@pytest.mark.parametrize("mode", ["normal", "all"])
def test_conflicted_file_replaced_by_dir(repo: Path, mode: str) -> None:
    """-uall lists the files below a folder standing where an unmerged file was (issue #10)."""
    sh(repo, "git checkout -qb other; echo o > a.txt; git commit -qam o; git checkout -q main; "
               "echo m > a.txt; git commit -qam m; git merge other >/dev/null 2>&1 || true; "
               f"git config status.showUntrackedFiles {mode}; rm a.txt; mkdir a.txt; "
               "echo 1 > a.txt/inner")
    theirs = git_porcelain(repo)
    assert status(discover(str(repo))).lines == theirs
    assert ("?? a.txt/inner" in theirs) == (mode == "all")


@pytest.mark.parametrize("script", [
    pytest.param("", id="clean"),
    pytest.param("echo x >> sm/f", id="modified-inside"),
    pytest.param("cd sm && echo y > g && git add g && git commit -qm y", id="new-commit"),
])
def test_submodule(repo: Path, tmp_path: Path, script: str) -> None:
    sub = tmp_path / "subsrc"
    sub.mkdir()
    sh(sub, "git init -q -b main .; echo 1 > f; git add f; git commit -qm s")
    sh(repo, f"git -c protocol.file.allow=always submodule add -q {sub} sm; "
               "git commit -qm sm")
    sh(repo, script)
    ours = status(discover(str(repo)))
    assert ours.lines == git_porcelain(repo)


def test_linked_worktree_with_common_exclude(repo: Path, tmp_path: Path) -> None:
    wt = tmp_path / "wt"
    sh(repo, f"git worktree add -q {wt} -b wtb; printf 'secret.txt\\n' >> .git/info/exclude")
    sh(wt, "echo s > secret.txt; echo z >> a.txt; echo u > u.txt")
    ours = status(discover(str(wt)))
    assert ours.lines == git_porcelain(wt) == [" M a.txt", "?? u.txt"]


def test_split_index_is_refused(repo: Path) -> None:
    sh(repo, "git config core.splitIndex true; git update-index --split-index; "
               "echo n > new.txt; git add new.txt")
    with pytest.raises(AyjntError, match=r"unsupported index format \(split index\)"):
        status(discover(str(repo)))


@pytest.mark.parametrize("damage", ["signature", "truncated"])
def test_corrupt_index(repo: Path, damage: str) -> None:
    index = repo / ".git" / "index"
    data = index.read_bytes()
    index.write_bytes(b"CRID" + data[4:] if damage == "signature" else data[:40])
    with pytest.raises(AyjntError, match="corrupt git index"):
        status(discover(str(repo)))


def test_index_checksum_is_not_verified_as_git_does_not(repo: Path) -> None:
    """git verifies the index's trailing SHA-1 only in `git fsck`; status ignores it."""
    index = repo / ".git" / "index"
    data = index.read_bytes()
    index.write_bytes(data[:-1] + bytes([data[-1] ^ 1]))
    assert git_porcelain(repo) == []
    assert status(discover(str(repo))).lines == []


def test_git_index_file_env(repo: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    sh(repo, "cp .git/index .git/alt-index; echo x >> a.txt; "
               "GIT_INDEX_FILE=.git/alt-index git add a.txt")
    monkeypatch.chdir(repo)
    monkeypatch.setenv("GIT_INDEX_FILE", ".git/alt-index")
    assert status(discover(str(repo))).lines == ["M  a.txt"]
    monkeypatch.delenv("GIT_INDEX_FILE")
    assert status(discover(str(repo))).lines == [" M a.txt"]


# The fast proof (cleanproof) may give up on a clean tree, but where it says "clean" git must
# agree; these pin down when it is expected to succeed, so a proof that always gave up fails.
PROOF_CASES: list[tuple[str, str, bool]] = [
    ("clean", "", True),
    ("ignored-root-file", "echo 'u.txt' > .git/info/exclude; echo u > u.txt", True),
    ("ignored-build-dir", "printf 'build/\\n' > .gitignore; git add .gitignore; "
     "git commit -qm gi; mkdir -p build/x; echo 1 > build/x/o; echo 2 > dir/sub/o.log; "
     "printf '*.log\\n' >> .git/info/exclude" + AGE, True),
    ("symlink-and-exec-clean", "ln -s a.txt link; chmod +x dir/b.txt; git add .; "
     "git commit -qm l" + AGE, True),
    ("untracked-in-subfolder", "echo u > dir/sub/u.txt", False),
    ("untracked-empty-dir-shows-nothing", "mkdir -p dir/empty", True),
    ("untracked-nested-repo", "git init -q dir/nested", False),
    ("modified-same-size", "printf 'HELLO\\n' > a.txt", False),
    ("modified-mtime-restored", "m=$(stat -c %y a.txt); printf 'jello\\n' > a.txt; "
     "touch -d \"$m\" a.txt", False),  # only the ctime tells
    ("exec-bit", "chmod +x a.txt", False),
    ("touched-only", "touch -d '+5 seconds' a.txt", True),  # new times: the content decides
    ("staged", "echo x >> a.txt; git add a.txt", False),
    ("deleted", "rm dir/b.txt", False),
    ("dir-replaced-by-symlink-to-a-copy", "mv dir ../moved && ln -s \"$PWD/../moved\" dir && "
     "echo 'dir' > .git/info/exclude", False),
    ("index-v4", "git update-index --index-version 4", True),
    ("index-v4-modified", "git update-index --index-version 4; echo z >> dir/sub/c.txt", False),
    ("index-v3-extended-flag", "git update-index --skip-worktree a.txt", False),
    ("racy-index", "m=$(stat -c %y a.txt); touch -d \"$m\" .git/index", True),
    ("racy-after-clone", "cd .. && git clone -q repo fresh && rm -rf repo && mv fresh repo && "
     "cd repo && m=$(stat -c %y a.txt) && touch -d \"$m\" .git/index", True),
    ("racy-modified-same-size", "m=$(stat -c %y a.txt); printf 'HELLO\\n' > a.txt; "
     "touch -d \"$m\" a.txt .git/index", False),
    ("racy-symlink", "ln -s a.txt link && git add link && git commit -qm l && "
     "m=$(stat -c %y a.txt); touch -d \"$m\" .git/index; touch -h -d \"$m\" link", True),
    ("racy-symlink-retargeted", "ln -s a.txt link && git add link && git commit -qm l && "
     "ln -sfn dir link && m=$(stat -c %y a.txt); touch -d \"$m\" .git/index", False),
    ("smudged-size-same-content", "git update-index --cacheinfo "
     "100644,$(git rev-parse :a.txt),a.txt && git write-tree >/dev/null", True),
    # (no stat data in the index, size 0: git hashes the file)
    ("touched-modified-same-size", "sleep 0.01; printf 'HELLO\\n' > a.txt", False),
    # an explicit text attribute converts CRLF whatever the index holds: git sees a change
    ("racy-crlf-then-text-attribute", "printf 'a\\r\\nb\\r\\n' > crlf.txt && git add crlf.txt && "
     "git commit -qm c && echo '*.txt text' > .gitattributes && git add .gitattributes && "
     "git commit -qm t && m=$(stat -c %y crlf.txt); touch -d \"$m\" .git/index", False),
    ("racy-crlf-autocrlf", "printf 'a\\r\\n' > crlf.txt && git add crlf.txt && "
     "git commit -qm c && git config core.autocrlf true && m=$(stat -c %y crlf.txt); "
     "touch -d \"$m\" .git/index", False),
    ("intent-to-add", "echo i > ita.txt; git add -N ita.txt", False),
    ("ignorecase-config", "git config core.ignorecase true", False),
]


# Conversions git applies before hashing a file where the stat data cannot decide (a clean
# filter, ident, working-tree-encoding, CRLF rules in a nested attributes file): hashing the
# file as it is could call it clean, so the proof gives up and the exact path refuses.
CONVERSION_CASES: list[tuple[str, str]] = [
    ("racy-clean-filter", "git config filter.up.clean 'tr a-z A-Z' && "
     "echo '*.txt filter=up' > .git/info/attributes && "
     "m=$(stat -c %y a.txt); touch -d \"$m\" .git/index"),
    ("racy-ident", "printf '$Id: x $\\n' > id.txt && git add id.txt && git commit -qm i && "
     "echo 'id.txt ident' > .gitattributes && git add .gitattributes && git commit -qm a && "
     "m=$(stat -c %y id.txt); touch -d \"$m\" .git/index"),
    ("racy-working-tree-encoding", "echo 'a.txt working-tree-encoding=UTF-16' > "
     ".git/info/attributes && m=$(stat -c %y a.txt); touch -d \"$m\" .git/index"),
    ("racy-filter-in-subfolder", "echo '*.txt filter=up' > dir/sub/.gitattributes && "
     "git add dir && git commit -qm f && git config filter.up.clean 'tr a-z A-Z' && "
     "m=$(stat -c %y dir/sub/c.txt); touch -d \"$m\" .git/index"),
    ("racy-crlf-text-in-subfolder", "printf 'a\\r\\n' > dir/crlf.txt && git add dir && "
     "git commit -qm c && echo '*.txt text' > dir/.gitattributes && git add dir/.gitattributes && "
     "git commit -qm t && m=$(stat -c %y dir/crlf.txt); touch -d \"$m\" .git/index"),
]


@pytest.mark.parametrize("script", [pytest.param(s, id=i) for i, s in CONVERSION_CASES])
def test_conversions_are_refused_not_guessed(repo: Path, script: str) -> None:
    sh(repo, script)
    if "working-tree-encoding" not in script:  # (that one git decodes back to the same)
        assert git_porcelain(repo)  # git converts, and so sees a change
    assert not proven_clean(discover(str(repo)))
    with pytest.raises(AyjntError, match="cannot tell whether it is modified"):
        status(discover(str(repo)))


@pytest.mark.parametrize(("script", "expected"),
                         [pytest.param(s, e, id=i) for i, s, e in PROOF_CASES])
def test_fast_proof(repo: Path, script: str, expected: bool) -> None:
    sh(repo, AGE.lstrip(" &").replace("-10 seconds", "-20 seconds"))
    sh(repo, script)
    theirs = git_porcelain(repo)
    assert proven_clean(discover(str(repo))) is expected
    if expected:
        assert theirs == []
    assert status(discover(str(repo))).lines == theirs


@pytest.mark.parametrize("index_version", [2, 4])
@pytest.mark.parametrize("worker", ["works", "never-starts"])
@pytest.mark.parametrize("dirty", [None, "f000.txt", "f100.txt", "f199.txt", "dir/b.txt"],
                         ids=["clean", "first", "middle", "last-file", "last-entry"])
def test_fast_proof_with_a_forked_worker(repo: Path, monkeypatch: pytest.MonkeyPatch,
                                         dirty: str | None, worker: str,
                                         index_version: int) -> None:
    """The worker checks chunks from the front, the parent from the back; whatever the worker
    manages (all of it, or nothing at all), every entry is checked."""
    sh(repo, "for i in $(seq -w 0 199); do echo $i > f$i.txt; done; git add .; "
             f"git commit -qm many; git update-index --index-version {index_version}" + AGE)
    if dirty:
        sh(repo, f"echo changed >> {dirty}")
    forks = forced_fork(monkeypatch, 16)
    if worker == "never-starts":
        monkeypatch.setattr(cleanproof._Worker, "_work", classmethod(lambda *_: None))
    before = tree_hashes(repo)
    assert proven_clean(discover(str(repo))) is (dirty is None)
    assert forks == [1]
    assert tree_hashes(repo) == before
    assert status(discover(str(repo))).clean is (dirty is None) is (git_porcelain(repo) == [])


@pytest.mark.parametrize(("script", "expected"), [
    pytest.param("", True, id="clean"),
    pytest.param("echo x >> sm/f", False, id="modified-inside"),
    pytest.param("echo u > sm/u", False, id="untracked-inside"),
    pytest.param("cd sm && git commit -q --allow-empty -m y", False, id="new-commit"),
    pytest.param("cd sm && m=$(stat -c %y f) && touch -d \"$m\" $(git rev-parse --git-dir)/index",
                 True, id="racy-inside"),
    pytest.param("git config submodule.sm.ignore all && echo x >> sm/f", False,
                 id="ignore-all-and-dirty"),  # git says clean; the proof checks more than git
    pytest.param("git submodule deinit -q -f sm", True, id="not-checked-out"),
    pytest.param("git submodule deinit -q -f sm && echo j > sm/j", False,
                 id="not-checked-out-with-files"),  # git says clean; the proof gives up
    pytest.param("rm -rf sm && echo f > sm", False, id="file-instead"),
])
def test_fast_proof_with_a_submodule(repo: Path, tmp_path: Path, script: str,
                                     expected: bool) -> None:
    sub = tmp_path / "subsrc"
    sub.mkdir()
    sh(sub, "git init -q -b main .; echo 1 > f; git add f; git commit -qm s")
    sh(repo, f"git -c protocol.file.allow=always submodule add -q {sub} sm; "
               "git commit -qm sm")
    sh(repo, script)
    theirs = git_porcelain(repo)
    proven = proven_clean(discover(str(repo)))
    assert not (proven and theirs), "the fast proof said clean where git sees changes"
    assert proven is expected
    if "ignore all" not in script:  # (the exact path does not read submodule.<name>.ignore)
        assert status(discover(str(repo))).lines == theirs


@pytest.mark.parametrize("worker", ["works", "never-starts"])
@pytest.mark.parametrize("dirty", [None, "f000.txt", "f199.txt"])
def test_racy_entries_hashed_by_the_worker_too(repo: Path, monkeypatch: pytest.MonkeyPatch,
                                              dirty: str | None, worker: str) -> None:
    """Every entry racily clean (the index as old as the first file): each is hashed, in the
    worker's chunks as in the parent's, and one changed file of the same size is found."""
    sh(repo, "for i in $(seq -w 0 199); do echo $i > f$i.txt; done; git add .; "
             "git commit -qm many")
    if dirty:
        sh(repo, f"m=$(stat -c %y {dirty}); echo XY > {dirty}; touch -d \"$m\" {dirty}")
    sh(repo, "m=$(stat -c %y f000.txt); touch -d \"$m\" .git/index")
    forks = forced_fork(monkeypatch, 16)
    if worker == "never-starts":
        monkeypatch.setattr(cleanproof._Worker, "_work", classmethod(lambda *_: None))
    assert proven_clean(discover(str(repo))) is (dirty is None)
    assert forks == [1]
    assert (git_porcelain(repo) == []) is (dirty is None)
