"""Rename detection in ``git status --porcelain`` (diffcore-rename), git as the oracle.

Renames are replayed as git pairs them (exact, same base name, then by git's spanhash score),
staged ones and, in the work tree, a deletion with an intent-to-add file; where that cannot be
exact — copies (status.renames=copies), a score that cannot be told (CRLF text), attribute
filters on intent-to-add content — the porcelain lines are refused (exit 3) and the "dirty"
verdict stands. Random edits around the 50% line check the score.
"""
from __future__ import annotations

import json
import random
from pathlib import Path

import pytest

from ayjnt_hooks.cli import main as cli_main
from ayjnt_hooks.git.porcelain import similarity
from ayjnt_hooks.git.repo import discover
from ayjnt_hooks.git.status import status

from ..conftest import git_porcelain, sh

BASE = """
git init -q -b main .
seq 1 100 > a
seq 1 50 > b
seq 200 260 > c
printf 'x\\ny' > d
ln -s a link
git add . && git commit -qm init
"""

# (id, script, git pairs something by similarity (or copies): ours refuses the lines)
CASES: list[tuple[str, str, bool]] = [
    ("exact", "git mv a a2", False),
    ("exact-two", "git mv a a2 && git mv b b2", False),
    ("exact-symlink", "git mv link link2", False),
    ("exact-and-modified", "git mv a a2 && echo z >> a2", False),
    ("unrelated-delete-and-add", "git rm -q c && seq 300 360 > e && git add e", False),
    ("delete-and-add-sizes-far-apart", "git rm -q a && echo 1 > e && git add e", False),
    ("renamed-and-edited", "git mv b b2 && echo x >> b2 && git add b2", False),
    ("renamed-and-half-rewritten", "git mv a a2 && seq 1 50 > a2 && seq 500 549 >> a2 && "
     "git add a2", False),  # (41% of the bytes: git does not pair them either)
    ("renamed-and-one-third-rewritten", "git mv a a2 && seq 1 70 > a2 && seq 500 529 >> a2 "
     "&& git add a2", False),
    ("two-edited-renames-cross-scored", "mkdir x y && git mv a x/a && git mv b y/b && "
     "echo 1 >> x/a && echo 2 >> y/b && git add x y", False),
    ("same-base-name-preferred", "cp b b.copy && git add b.copy && git commit -qm c && "
     "git rm -q b b.copy && mkdir n && seq 1 51 > n/b && git add n", False),
    ("exact-symlink-vs-file-same-blob", "printf a > f && git add f && git commit -qm f && "
     "git rm -q link f && ln -s a g && printf a > h && git add g h", False),
    ("renamed-and-mostly-rewritten", "git mv a a2 && seq 1 30 > a2 && seq 500 569 >> a2 && "
     "git add a2", False),
    ("intent-to-add-rename", "mv a a2 && git add -N a2", False),
    ("intent-to-add-rename-edited", "mv b b2 && echo x >> b2 && git add -N b2", False),
    ("intent-to-add-symlink", "mv link link2 && git add -N link2", False),
    ("intent-to-add-unrelated", "rm c && seq 900 960 > n && git add -N n", False),
    ("intent-to-add-with-attributes", "echo '* -text' > .git/info/attributes && mv a a2 && "
     "git add -N a2", True),
    ("intent-to-add-and-staged-rename", "git mv b b2 && mv a a2 && git add -N a2", False),
    ("copies-setting", "git config status.renames copies && cp a a2 && echo z >> a && "
     "git add a a2", True),
    ("rename-limit-1-skips-the-matrix", "git config diff.renameLimit 1 && git mv a a2 && "
     "git mv b b2 && echo x >> a2 && echo y >> b2 && git add a2 b2", False),
    ("status-rename-limit-wins", "git config diff.renameLimit 1 && git config "
     "status.renameLimit 5 && git mv a a2 && git mv b b2 && echo x >> a2 && echo y >> b2 && "
     "git add a2 b2", False),
    ("rename-limit-1-base-names-still-paired", "git config diff.renameLimit 1 && mkdir n && "
     "git mv a n/a && git mv b n/b && echo x >> n/a && echo y >> n/b && git add n", False),
    ("renames-off-edited", "git config status.renames false && git mv b b2 && echo x >> b2 "
     "&& git add b2", False),
    ("no-trailing-newline", "git mv d d2 && printf 'x\\nz' > d2 && git add d2", False),
    # (git's spans end at a newline: a last line without one is not counted at all)
    ("unterminated-last-line-not-counted", "printf 'ab\\ncommon tail text' > t && git add t "
     "&& git commit -qm t && git mv t t2 && printf 'zz\\ncommon tail text' > t2 && "
     "git add t2", False),
]


@pytest.mark.parametrize(("script", "refused"), [pytest.param(s, r, id=i) for i, s, r in CASES])
def test_renames_as_git(tmp_path: Path, script: str, refused: bool,
                        capsys: pytest.CaptureFixture[str]) -> None:
    sh(tmp_path, BASE + script)
    theirs = git_porcelain(tmp_path)
    st = status(discover(str(tmp_path)))
    assert not st.clean and theirs
    assert (st.inexact is not None) == refused, st.inexact
    if refused:
        assert any(line[:2].strip()[:1] in "RC" for line in theirs), theirs
        assert cli_main(("status", "--porcelain", "--cwd", str(tmp_path))) == 3
        err = capsys.readouterr().err
        assert "renames by content similarity" in err
        assert "Traceback" not in err
        assert cli_main(("status", "--json", "--cwd", str(tmp_path))) == 0
        data = json.loads(capsys.readouterr().out)
        assert data["clean"] is False and data["porcelain"] is None
        assert "renames by content similarity" in data["porcelain_refused"]
    else:
        assert st.lines == theirs


def _edit(rng: random.Random, lines: list[str]) -> list[str]:
    out = list(lines)
    for _ in range(rng.randint(0, len(out))):
        i = rng.randrange(len(out))
        action = rng.randrange(3)
        if action == 0:
            out[i] = f"changed {rng.randrange(10**6)}"
        elif action == 1 and len(out) > 1:
            del out[i]
        else:
            out.insert(i, f"new {rng.randrange(10**6)}")
    return out


@pytest.mark.parametrize("seed", range(24), ids=[f"seed{s}" for s in range(24)])
def test_similarity_score_against_git(tmp_path: Path, seed: int) -> None:
    """A renamed file edited at random (often near git's 50% line): ours prints git's lines,
    paired or not."""
    rng = random.Random(seed)
    lines = [f"line {i} {rng.randrange(10**4)}" for i in range(rng.randint(2, 60))]
    (tmp_path / "old.txt").write_text("\n".join(lines) + "\n")
    sh(tmp_path, "git init -q -b main . && git add . && git commit -qm i")
    edited = _edit(rng, lines)
    (tmp_path / "old.txt").unlink()
    (tmp_path / "new.txt").write_text("\n".join(edited) + ("\n" if rng.random() < 0.8 else ""))
    sh(tmp_path, "git add -A")
    theirs = git_porcelain(tmp_path)
    st = status(discover(str(tmp_path)))
    assert st.inexact is None
    assert st.lines == theirs


def test_score_ambiguous_crlf_is_unknown() -> None:
    """CRLF text: git skips the CR of each CRLF unless attributes call the file binary, which
    moves the score; where that moves it across 50%, the answer is 'cannot tell' (refused)."""
    lf = b"".join(b"%d\n" % i for i in range(40))
    assert similarity(lf, lf + b"x\n") == (len(lf) * 60000) // (len(lf) + 2)
    crlf = lf.replace(b"\n", b"\r\n")
    assert similarity(crlf, lf) is None
