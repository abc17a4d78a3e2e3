"""Our config reader against `git config --get`."""
from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from ayjnt_hooks.git.config import GitConfig, user_excludes_file

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


@pytest.mark.parametrize("with_include", [pytest.param(False, id="plain"),
                                          pytest.param(True, id="include")])
def test_matches_git(tmp_path: Path, with_include: bool) -> None:
    subprocess.run(["git", "init", "-q", str(tmp_path)], check=True)
    text = CONFIG
    if with_include:
        (tmp_path / "extra.cfg").write_text("[core]\n\tignoreCase = true\n")
        text += f"[include]\n\tpath = {tmp_path / 'extra.cfg'}\n"
    (tmp_path / ".git" / "config").write_text(text)
    config = GitConfig(str(tmp_path / ".git"))
    for section, sub, name in KEYS:
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


# ---------------------------------------------------------------------- git's grammar

PIECES = [
    "[core]\n", "[Core \"Sub\"]\n", "[a.B]\n", "[x \"y\\\"z\"]\n", "[sec \"a b\"] k = v\n",
    "[bad\n", "[a \"b\n", "[]\n", "[a \"b\"c]\n", "[a]b=1\n", "[ \"s\"]\n",
    "k = v\n", "k\n", "k =\n", "K-2 = \"q ; x\"\n", "k = a\\\n  b\n", "k = \"a\\\n b\"\n",
    "k = \\t\\n\\b\\\\\\\"\n", "k = \\x\n", "k = a # c\n", "k = a ; c\n", "k = \"a # c\"\n",
    "k\t=\tv\t\n", "k = \"unterminated\n", "k = a  \t b\n", "  k = \" lead\"\n",
    "k = \"\"  x\n", "k = x \"\" y\n", "k; c\n", "k # c\n", "k = \"a\"b\"c\"\n",
    "k = a\r\n", "k = a\rb\n", "# comment\n", "; comment\n", "\n", "   \n", "9k = v\n",
    "k-= v\n", "k.x = v\n", "k = caf\xc3\xa9\n", "k = \"\\\\\"\n", "k = a\\", "k = \"a",
    "k = 1\n", "k=x=y\n", "k = \" \"\n", "key = \"tab\there\"\n", "[core]filemode=false\n",
    'k = "a b"  "c\\td" e\n', 'k =  "" \t "" x\n', 'k = a\t\t"b"\n', 'k = "x"\\t"y"\n',
    'k = a \\\n\t b\n', 'k = "a\\\n b" c\n', 'k = a "" b\n', 'k = " " "" \n', 'k = \\" x \\"\n',
    'k = "a";c\n', 'k = a"b c"d e\n', 'k = x\t\n', 'k = "\t"\n', 'k = ""\n', 'k = "a\\"b" c\n',
    'k = "a;b" c ; d\n', 'k = x "#" y # z\n', 'k =   ""  ""  \n', 'k = "" "a" ""\n',
    'k = a"" b\n', 'k = "a""b"\n', 'k = "a" "\n', 'k = ;"\n', 'k = "";x\n', 'k = " " "" \n',
    'k = a "" \n',
    # section headers as git's get_base_var/get_extended_base_var read them
    '[a\t"b"]\n', '[a\r"b"]\n', '[a  "b\\\\c"]\n', '[a "b\\"\n', '[a "b\\\n"]\n', '[A-b.C "x y"]\n',
    '[a ""]\n', '[a "b" ]\n', '[-x]\n', '[a_b]\n', '[a "b]\n', '[a"b"]\n', '[a "b"]]\n',
    '[a "\\x\\y"] k\n', '[a "b\\', '[a', '[', '[a "b"', '[.]\n', '[a.b "c"]\n',
    '-k = v\n', 'k_x = v\n', 'k-\t= v\n', 'k \t= v\n', '\t\t k\n', 'k\t\n', 'k \r= v\n',
    '#\n#\n;\n', '  \t\r\n\n', 'k\n#', 'k=v#c\n', 'k' + ' ' * 200 + '= v\n', ' ' * 300 + 'k\n',
]


def git_list(path: Path) -> tuple[dict[str, str | None] | None, int | None]:
    """``git config --list`` of one file: (values, None), or (None, git's bad line)."""
    proc = subprocess.run(["git", "config", "--list", "--file", str(path), "-z"],
                          capture_output=True)
    if proc.returncode:
        import re

        m = re.search(rb"bad config line (\d+)", proc.stderr)
        assert m is not None, proc.stderr
        return None, int(m.group(1))
    values: dict[str, str | None] = {}
    for item in proc.stdout.split(b"\0")[:-1]:
        key, nl, value = item.partition(b"\n")
        values[key.decode()] = value.decode("utf-8", "surrogateescape") if nl else None
    return values, None


def ours_list(path: Path) -> tuple[dict[str, str | None] | None, int | None]:
    from ayjnt_hooks.errors import AyjntError
    from ayjnt_hooks.git.config import parse

    found: dict[str, str | None] = {}

    def on_value(base: str, key: str, value: bytes | None, line: int) -> None:
        name = f"{base}.{key}" if base else key
        found[name] = None if value is None else value.decode("utf-8", "surrogateescape")

    from ayjnt_hooks.git.config import _BadLine

    data = path.read_bytes().replace(b"\r\n", b"\n")
    try:
        parse(data, on_value)
    except _BadLine as e:
        return None, e.line(data)
    except AyjntError:  # pragma: no cover - parse raises only _BadLine
        raise
    return found, None


def test_parser_matches_git_on_random_configs(tmp_path: Path) -> None:
    """300 seeded random config files of tricky pieces: our values equal `git config --list`'s,
    or we refuse the same line git refuses."""
    import random

    rng = random.Random(20261126)
    path = tmp_path / "cfg"
    for i in range(300):
        text = "".join(rng.choice(PIECES) for _ in range(rng.randint(1, 8)))
        if rng.random() < 0.1:
            text = "\ufeff" + text
        path.write_bytes(text.encode("utf-8", "surrogateescape"))
        theirs = git_list(path)
        ours = ours_list(path)
        if theirs[0] is not None:  # (git lists a key without a section too; so do we)
            assert ours == theirs, (i, text)
        else:
            assert ours[0] is None and ours[1] == theirs[1], (i, text, ours, theirs)


def test_tokenizer_equals_the_regular_expressions_it_replaced() -> None:
    """The parser finds blanks, comments, section headers and keys with bytes methods (no
    ``re`` import on the status path); on seeded random byte strings each step ends exactly
    where the regular expression it replaced ends, and takes the same name."""
    import random
    import re

    from ayjnt_hooks.git import config

    skip = re.compile(rb"(?:[ \t\r\n]+|[#;][^\n]*)+")
    simple = re.compile(rb"\[([A-Za-z0-9.-]*)\]")
    sub = re.compile(rb'\[([A-Za-z0-9.-]*)[ \t\r]+"((?:[^"\\\n]|\\[^\n])*)"\]', re.DOTALL)
    key = re.compile(rb"([A-Za-z][A-Za-z0-9-]*)[ \t]*")
    rng = random.Random(20261202)
    alphabet = b'[]" \t\r\n\\#;=aZ9.-_x\xc3\xa9'
    for _ in range(20_000):
        data = bytes(rng.choice(alphabet) for _ in range(rng.randint(0, 24)))
        if rng.random() < 0.02:
            data += b" " * rng.randint(60, 300) + data  # runs longer than one lstrip slice
        for pos in range(len(data) + 1):
            m = skip.match(data, pos)
            assert config._skip(data, pos) == (m.end() if m else pos), (data, pos)
            if data[pos:pos + 1] == b"[":
                m = simple.match(data, pos)
                if m is not None and m.group(1):
                    expected = (m.group(1).decode().lower(), m.end())
                elif m is None and (m := sub.match(data, pos)) is not None:
                    inner = re.sub(rb"\\(.)", rb"\1", m.group(2), flags=re.DOTALL)
                    expected = (f"{m.group(1).decode().lower()}."
                                f"{inner.decode('utf-8', 'surrogateescape')}", m.end())
                else:
                    expected = None
                try:
                    found = config._section(data, pos)
                except config._BadLine:
                    found = None
                assert found == expected, (data, pos)
            m = key.match(data, pos)
            if m is not None:
                end = config.span(data, pos + 1, config._KEY_CHARS)
                assert (end, config.span(data, end, b" \t")) == (m.end(1), m.end()), (data, pos)


def test_a_value_of_a_million_quotes_is_refused_not_parsed_for_seconds(tmp_path: Path) -> None:
    from ayjnt_hooks.errors import AyjntError

    subprocess.run(["git", "init", "-q", str(tmp_path)], check=True)
    with open(tmp_path / ".git" / "config", "a") as f:
        f.write("[big]\n\tvalue = " + '"a"b' * 1_000_000 + "\n")
    with pytest.raises(AyjntError, match=r"bad config line 7 \(a value with more than"):
        GitConfig(str(tmp_path / ".git"))


def test_a_10_mb_value_is_read_exactly(tmp_path: Path) -> None:
    subprocess.run(["git", "init", "-q", str(tmp_path)], check=True)
    big = "x" * 5_000_000 + " \t " + "y" * 5_000_000
    with open(tmp_path / ".git" / "config", "a") as f:
        f.write(f"[core]\n\texcludesFile = {big}\n[big]\n\tquoted = \"{big}\"\n")
    config = GitConfig(str(tmp_path / ".git"))
    assert config.get("core", "excludesfile") == git_get(tmp_path, "core", None, "excludesfile")
    assert config.get("big", "quoted") == git_get(tmp_path, "big", None, "quoted")


@pytest.mark.parametrize(("setup", "expected"), [
    pytest.param("git config include.path ../../inc.cfg", "included", id="relative"),
    pytest.param("git config include.path ~/inc.cfg && cp ../inc.cfg ~/inc.cfg", "included",
                 id="tilde"),
    pytest.param("git config include.path ../missing.cfg", None, id="missing-is-skipped"),
    pytest.param("git config 'includeIf.gitdir:**/repo/.git.path' ../../inc.cfg", "included",
                 id="gitdir-match"),
    pytest.param("git config 'includeIf.gitdir:/elsewhere/.path' ../../inc.cfg", None,
                 id="gitdir-no-match"),
    pytest.param("git config 'includeIf.gitdir/i:**/REPO/.path' ../../inc.cfg", "included",
                 id="gitdir-icase"),
    pytest.param("git config 'includeIf.onbranch:main.path' ../../inc.cfg", "included",
                 id="onbranch"),
    pytest.param("git config 'includeIf.onbranch:feat/.path' ../../inc.cfg", None,
                 id="onbranch-other"),
    pytest.param("git config remote.origin.url https://example.com/x.git && git config "
                 "'includeIf.hasconfig:remote.*.url:https://example.com/**.path' ../../inc.cfg",
                 "included", id="hasconfig"),
    pytest.param("git config 'includeIf.unknown:x.path' ../../inc.cfg", None,
                 id="unknown-condition"),
])
def test_includes_like_git(tmp_path: Path, setup: str, expected: str | None) -> None:
    from ayjnt_hooks.git.repo import discover

    from ..conftest import sh

    repo = tmp_path / "repo"
    repo.mkdir()
    (tmp_path / "inc.cfg").write_text("[test]\n\tvalue = included\n")
    sh(repo, f"git init -q -b main . && {setup}")
    assert git_get(repo, "test", None, "value") == expected
    assert discover(str(repo)).config_get("test", "value") == expected


def test_command_line_config_reaches_hooks(tmp_path: Path,
                                           monkeypatch: pytest.MonkeyPatch) -> None:
    """`git -c k=v commit` hands k=v to hooks in GIT_CONFIG_PARAMETERS."""
    subprocess.run(["git", "init", "-q", str(tmp_path)], check=True)
    monkeypatch.setenv("GIT_CONFIG_PARAMETERS", "'core.quotepath'='false' 'a.b.c=it'\\''s'")
    monkeypatch.setenv("GIT_CONFIG_COUNT", "1")
    monkeypatch.setenv("GIT_CONFIG_KEY_0", "core.autocrlf")
    monkeypatch.setenv("GIT_CONFIG_VALUE_0", "input")
    config = GitConfig(str(tmp_path / ".git"))
    assert config.get("core", "quotepath") == "false" == git_get(tmp_path, "core", None,
                                                                   "quotepath")
    assert config.get("c", "a", "b") is None and config.get("a", "c", "b") == "it's"
    assert config.get("core", "autocrlf") == "input"


@pytest.mark.parametrize(("value", "expected"), [
    ("true", True), ("YES", True), ("on", True), ("1", True), ("2k", True), ("", False),
    ("off", False), ("0", False), (None, True), ("maybe", None), ("0x10", True),
])
def test_booleans_like_git(value: str | None, expected: bool | None) -> None:
    from ayjnt_hooks.git.config import parse_bool

    assert parse_bool(None if value is None else value.encode()) is expected
