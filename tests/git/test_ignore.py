"""Our gitignore matcher against git itself (`git check-ignore`), pattern by pattern."""
from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from ayjnt_hooks.git.ignore import IgnoreRules, parse, translate

from ..conftest import sh

# The tree every pattern is tried on: files, plus the folders listed in DIRS.
FILES = [
    "a.log", "sub/a.log", "build", "sub/build/o.txt", "doc/x.txt", "doc/sub/x.txt",
    "doc/a/b/c.pdf", "doc/c.pdf", "tmp/t", "x/tmp/t", "a/e", "a/b/c/d", "aXb", "axyzb",
    "a.txt", "d.txt", "]x", "bx", "9lives", "#hash", "!bang", "trailing ", "trailing",
    "xzy", "x/y", "foo/bar", "foo/q/r/bar", "z/foo/bar", "m.o", "m.a", "m.c", "Upper",
    "-z", "az", "q\\", "deep/er/est/file.py", "sp ace", "UPPER.LOG", "ab[c", "ab[c]",
    "e/f/g.tmp", "keep/keep.txt", "keep/drop.txt", "v\x0bt", "v\tt",
]
DIRS = ["sub", "sub/build", "doc", "doc/sub", "doc/a", "doc/a/b", "tmp", "x", "x/tmp", "a", "a/b",
        "a/b/c", "foo", "foo/q", "foo/q/r", "z", "z/foo", "deep", "deep/er", "deep/er/est",
        "e", "e/f", "keep"]

GLOBS = [
    "*.log", "/build", "build/", "build", "doc/*.txt", "doc/**/*.pdf", "**/tmp", "tmp/",
    "a/**", "**", "a**b", "a*b", "[abd].txt", "[!ad].txt", "[^a].txt", "[a-c]x", "[]]x",
    "[[:digit:]]*", "[[:upper:]]*", "[[:alpha:]][[:alpha:]]", "[[:nope:]]*", "\\#hash",
    "\\!bang", "trailing\\ ", "trailing ", "x?y", "x[/]y", "*", "foo/**/bar", "**/foo/bar",
    "*.[oa]", "[a-]z", "[z-a]z", "ab[c", "ab\\[c]", "q\\", "q\\\\", "deep/**/file.py",
    "**/est/", "deep/er/", "/deep/er/est", "sp ace", "*.LOG", "e/**/", "e/**", "**/",
    "*/", "d*/", "[[:punct:]]*", "[[:alnum:]-]*", "[[:space:]]*", "a/b/", "a/b",
    "keep/*\n!keep/keep.txt", "keep/\n!keep/keep.txt", "*.txt\n!a.txt\na.txt",
    "#comment\n\n*.pdf", "doc/\n!doc/c.pdf", "*\n!*/\n!*.log",
    "v[[:space:]]t", "v[[:blank:]]t", "v[[:cntrl:]]t", "[\\]]x", "[a-\\c]x", "[[:x]x",
    "x[[:alpha:]", "[x-]z", "[\\", "[a-\\",
    # one "*" between plain text, matched with string methods (a.txt's "a*" too)
    "doc/*", "*/build", "sub/*.log", "a*", "*x", "UP*", "*.Log", "ab[c*", ".env.*.local",
]


def _tree(root: Path) -> None:
    for d in DIRS:
        (root / d).mkdir(parents=True, exist_ok=True)
    for f in FILES:
        (root / f).parent.mkdir(parents=True, exist_ok=True)
        (root / f).write_bytes(b"x")


def _git_ignored(root: Path, paths: list[str]) -> set[str]:
    proc = subprocess.run(["git", "check-ignore", "--no-index", "--stdin", "-z"], cwd=root,
                          input="\0".join(paths).encode() + b"\0", capture_output=True)
    assert proc.returncode in (0, 1), proc.stderr
    return {p for p in proc.stdout.decode().split("\0") if p}


@pytest.fixture(scope="module")
def tree(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("ignore")
    sh(root, "git init -q .")
    _tree(root)
    return root


@pytest.mark.parametrize("ignorecase", [False, True], ids=["exact-case", "ignorecase"])
@pytest.mark.parametrize("glob", GLOBS, ids=[g.replace("\n", "|") for g in GLOBS])
def test_pattern_matches_like_git(tree: Path, glob: str, ignorecase: bool) -> None:
    (tree / ".gitignore").write_text(glob + "\n")
    sh(tree, f"git config core.ignorecase {str(ignorecase).lower()}")
    paths = sorted(set(FILES) | set(DIRS))
    theirs = _git_ignored(tree, paths)
    rules = IgnoreRules(str(tree), (), ignorecase)
    ours = {p for p in paths if rules.is_ignored(p, p in DIRS)}
    assert ours == theirs


def test_nested_files_and_precedence(tmp_path: Path) -> None:
    """A deeper .gitignore wins over a shallower one, which wins over info/exclude, which
    wins over core.excludesFile; patterns with a slash are relative to their own folder."""
    sh(tmp_path, "git init -q .")
    _tree(tmp_path)
    (tmp_path / ".gitignore").write_text("*.txt\n/x.txt\nbuild/\n")
    (tmp_path / "doc" / ".gitignore").write_text("!x.txt\nsub/\n/c.pdf\n")
    (tmp_path / "doc" / "a" / ".gitignore").write_text("*.pdf\n")
    (tmp_path / ".git" / "info" / "exclude").write_text("*.log\n!a.log\n9lives\n")
    user = tmp_path / "user-ignore"
    user.write_text("a.log\naXb\n!9lives\n")
    paths = sorted(set(FILES) | set(DIRS))
    sh(tmp_path, f"git config core.excludesFile {user}")
    theirs = _git_ignored(tmp_path, paths)
    rules = IgnoreRules(str(tmp_path), (str(tmp_path / ".git" / "info" / "exclude"), str(user)),
                        False)
    ours = {p for p in paths if rules.is_ignored(p, p in DIRS)}
    assert ours == theirs
    assert "doc/x.txt" not in ours and "a.txt" in ours and "doc/a/b/c.pdf" in ours


def test_crlf_bom_and_symlinked_gitignore(tmp_path: Path) -> None:
    sh(tmp_path, "git init -q .")
    _tree(tmp_path)
    (tmp_path / ".gitignore").write_bytes(b"\xef\xbb\xbf*.log\r\nbuild/\r\n")
    (tmp_path / "real-rules").write_text("*.txt\n")
    (tmp_path / "doc" / ".gitignore").symlink_to(tmp_path / "real-rules")  # git won't follow
    paths = sorted(set(FILES) | set(DIRS))
    theirs = _git_ignored(tmp_path, paths)
    ours = {p for p in paths if IgnoreRules(str(tmp_path), (), False).is_ignored(p, p in DIRS)}
    assert ours == theirs
    assert "a.log" in ours and "doc/x.txt" not in ours


@pytest.mark.parametrize(("glob", "regex"), [
    ("a/**/b", "a/(?:.*/)?b"), ("**", ".*"), ("x*", "x[^/]*"), ("[!a]", "[^/a]"),
    ("ab[", None), ("q\\", None), ("[[:nope:]]", None),
])
def test_translate(glob: str, regex: str | None) -> None:
    assert translate(glob) == regex


def test_string_matching_equals_the_regular_expression() -> None:
    """Plain and one-star patterns skip the regular expression; on seeded random globs and
    names they match exactly where the translated expression fully matches."""
    import random
    import re

    from ayjnt_hooks.git.ignore import _Glob

    rng = random.Random(20261202)
    pieces = ["a", "B", "b", "/", ".", "*", "**", "?", "[a]", "\\*", "x", "\u00e9", "\u00c9"]
    names = ["a", "b", "B", "ab", "aB/b", "a/b", ".", "a.b", "x/a", "ax", "AB", "\u00e9",
             "\u00c9", "a/", "", "*", "a*b"]
    for _ in range(4000):
        glob = "".join(rng.choice(pieces) for _ in range(rng.randint(1, 5)))
        for ignorecase in (False, True):
            matcher = _Glob(glob, ignorecase)
            source = translate(glob)
            flags = re.DOTALL | (re.IGNORECASE | re.ASCII if ignorecase else 0)
            for _ in range(6):
                name = "".join(rng.choice(names) for _ in range(rng.randint(1, 3)))
                expected = source is not None and re.fullmatch(source, name, flags) is not None
                assert matcher.matches(name) == expected, (glob, name, ignorecase)


def test_unreadable_and_missing_files_are_skipped(tmp_path: Path) -> None:
    (tmp_path / ".gitignore").mkdir()  # a folder where a file is expected
    rules = IgnoreRules(str(tmp_path), (str(tmp_path / "missing"),), False)
    assert not rules.is_ignored("x", False)
    assert parse(b"   \n#c\n!\n/\n") == []
