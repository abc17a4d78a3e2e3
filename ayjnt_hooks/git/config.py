"""git config, read as git reads it (``config.c``): every file git reads, in git's order, with
git's grammar, its includes and its errors.

* Files: system (``/etc/gitconfig``, ``$GIT_CONFIG_SYSTEM``, none with
  ``$GIT_CONFIG_NOSYSTEM``), global (``$GIT_CONFIG_GLOBAL``, else ``$XDG_CONFIG_HOME/git/config``
  and ``~/.gitconfig``), the repository's ``config``, ``config.worktree`` when
  ``extensions.worktreeConfig`` is on, then the command line (``$GIT_CONFIG_COUNT`` pairs and
  ``$GIT_CONFIG_PARAMETERS``, which git hands to hooks for ``git -c``). The last value wins.
* Grammar: git's parser, byte for byte (sections, ``[a "b"]`` subsections, quoting, the five
  escapes, continuation lines, comments, a UTF-8 BOM, CRLF). Where git says
  ``bad config line N in file F``, this refuses with the file and the line number.
* Includes: ``include.path`` and ``includeIf.<condition>.path`` with the conditions
  ``gitdir:``, ``gitdir/i:``, ``onbranch:`` and ``hasconfig:remote.*.url:``; relative paths,
  ``~``, git's depth limit of 10, a folder or an unreadable file refused as git refuses them.
* Cost: one pass, C-level bytes methods (and, for values with escapes, regular expressions)
  over runs of bytes, values decoded only when asked for — a 10 MB value costs milliseconds.
* No message quotes a file's content: errors name the file and the line, never the text (a
  ``include.path = /etc/shadow`` must not print the first line of ``/etc/shadow``).
"""
from __future__ import annotations

import os

from ..errors import AyjntError

TYPE_CHECKING = False  # (typing is not imported at run time: start-up time counts here)
if TYPE_CHECKING:
    from re import Match, Pattern
    from typing import Any, Callable

Key = tuple[str, "str | None", str]  # (section, subsection, name); quoted for Python 3.9
# the value (None: a key with no "=", which means true), the file it came from, its line
Value = tuple["bytes | None", str, int]

MAX_INCLUDE_DEPTH = 10  # git's own limit
MAX_CONFIG_BYTES = 64 << 20  # a config file larger than this is refused (git allows 2 GiB)
# Steps one value may take where it is not a run of plain text: a quote holding escapes, or a
# continuation line, is a step (about half a microsecond). Real values take a handful.
MAX_VALUE_STEPS = 200_000
_BOM = b"\xef\xbb\xbf"
# The grammar's character sets, for the tokenizer below (plain bytes methods: a run of one of
# these is found by ``lstrip`` at C speed; ``re`` is imported only for a value with an escape,
# a section name with one, or a mergedriver edit: its import costs more than parsing a usual
# config).
_BLANKS = b" \t\r\n"
_ALPHA = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
_KEY_CHARS = _ALPHA + b"0123456789-"
_SECTION_CHARS = _KEY_CHARS + b"."
# A section header line as text (mergedriver edits the repository config line by line).
_SECTION_LINE = r'\s*\[\s*([A-Za-z0-9.-]+)(?:\s+"((?:[^"\\]|\\.)*)")?\s*\]'
# Compiled on first use: a value, in runs (character-class repeats, which sre scans at C
# speed) — unquoted text with simple "quoted strings" and inner blanks (not trailing ones:
# they wait to see what follows), what adds nothing at the start, blanks, a run inside a
# quote, escapes.
_LAZY = {
    "run": rb'(?:[^"\\\n#; \t\r]+|"[^"\\\n]*"|[ \t\r]+(?=[^ \t\r\n#;\\]))+',
    "leading": rb'(?:[ \t\r]+|"")+',
    "blanks": rb"[ \t\r]+",
    "quoted": rb'[^"\\\n]+',
    "escapes": rb'(?:\\[tbn"\\])+',
}
_COMPILED: dict[str, Pattern[bytes]] = {}
_BLANK_TO_SPACE = bytes.maketrans(b"\t\r", b"  ")
_ESCAPED = bytes.maketrans(b"tbn", b"\t\b\n")


def _re(name: str) -> Pattern[bytes]:
    found = _COMPILED.get(name)
    if found is None:
        import re

        found = _COMPILED[name] = re.compile(_LAZY[name], re.DOTALL)
    return found


def section_line(line: str) -> Match[str] | None:
    """A ``[section "subsection"]`` header at the start of a config line (text)."""
    import re

    return re.match(_SECTION_LINE, line)


def span(data: bytes, pos: int, chars: bytes) -> int:
    """The offset after the run of ``chars`` that starts at ``pos``: ``lstrip`` over slices of
    doubling size, so that a run of any length costs C-level calls, not a step per byte."""
    step = 64
    while True:
        chunk = data[pos:pos + step]
        rest = len(chunk.lstrip(chars))
        pos += len(chunk) - rest
        if rest or len(chunk) < step:
            return pos
        step = min(step * 2, 1 << 20)


def _skip(data: bytes, pos: int) -> int:
    """After the blanks and comments at ``pos`` (git's parser skips both between entries)."""
    n = len(data)
    while pos < n:
        c = data[pos]
        if c in _BLANKS:
            pos = span(data, pos, _BLANKS)
        elif c == 35 or c == 59:  # '#', ';': to the end of the line
            end = data.find(b"\n", pos)
            pos = n if end < 0 else end
        else:
            break
    return pos


def _section(data: bytes, pos: int) -> tuple[str, int]:
    """The header at ``pos`` (a '['): its ``section`` or ``section.subsection`` base and the
    offset after its ']' — as git's ``get_base_var``/``get_extended_base_var`` read one on a
    line: ``[name]``, or ``[name "sub"]`` with blanks before the quote and the escapes
    ``\\x`` (any character but a newline) inside it."""
    start = pos + 1
    end = span(data, start, _SECTION_CHARS)
    if end == len(data):
        raise _BadLine(end + 1)  # git read the end of the file as a newline
    name = data[start:end].decode("ascii").lower()
    if data[end:end + 1] == b"]":
        if end == start:
            raise _BadLine(pos)
        return name, end + 1
    quote = span(data, end, b" \t\r")
    if quote == end or data[quote:quote + 1] != b'"':
        raise _BadLine(pos)
    i = quote + 1
    eol = data.find(b"\n", i)  # (the header ends on its line: every search stops there)
    eol = len(data) if eol < 0 else eol
    parts = []
    while True:  # the subsection's runs between escapes
        stop = min((c for c in (data.find(b'"', i, eol), data.find(b"\\", i, eol)) if c >= 0),
                   default=eol)
        parts.append(data[i:stop])
        c = data[stop:stop + 1]
        if c == b"\\" and data[stop + 1:stop + 2] not in (b"", b"\n"):
            parts.append(data[stop + 1:stop + 2])
            i = stop + 2
            continue
        if c != b'"':
            raise _BadLine(pos)  # a newline or the end inside the quote: git's own line
        after = data[stop + 1:stop + 2]
        if after != b"]":  # (git counts the newline, or the end, it read instead)
            raise _BadLine(stop + 2 if after in (b"", b"\n") else pos)
        sub = b"".join(parts).decode("utf-8", "surrogateescape")
        return f"{name}.{sub}", stop + 2


_TRUE = ("true", "yes", "on")
_FALSE = ("false", "no", "off")
_UNITS = {"": 1, "k": 1024, "m": 1024 ** 2, "g": 1024 ** 3}


class _BadLine(Exception):
    """A syntax error at a byte offset (turned into git's "bad config line N")."""

    def __init__(self, pos: int, why: str = "") -> None:
        super().__init__(pos)
        self.pos = pos
        self.why = why

    def line(self, data: bytes) -> int:
        """git's line number: a newline git read before it failed counts (``pos`` is past
        it), and so does each read at the end of the file, where git's ``get_next_char``
        returns a newline and counts a line too (``pos`` past the end)."""
        return data.count(b"\n", 0, self.pos) + 1 + max(0, self.pos - len(data))


def bad_config(path: str, line: int, why: str = "") -> AyjntError:
    return AyjntError(f"{path}: bad config line {line}{f' ({why})' if why else ''}; git "
                      f"refuses it too. Fix the file (git config --list names the same line).",
                      path=path)


def _run(chunk: bytes) -> bytes:
    """A run of unquoted text, simple "quoted strings" and inner blanks, as git keeps it:
    quotes dropped, each blank outside them a space — in a few C-level calls, whatever the
    number of quotes (their insides are kept as they are)."""
    if b'"' not in chunk:
        return chunk.translate(_BLANK_TO_SPACE)
    parts = chunk.split(b'"')  # outside, inside, outside, … (the run's quotes are balanced)
    parts[0::2] = b'"'.join(parts[0::2]).translate(_BLANK_TO_SPACE).split(b'"')
    return b"".join(parts)


def _quoted_line(line: bytes, end: int) -> bytes:
    """A value with quotes but no backslash, as git reads it: quotes dropped, their insides
    kept, each blank outside them a space — except leading and trailing ones — and a ``#`` or
    ``;`` outside them ending it."""
    parts = line.split(b'"')  # outside, inside, outside, …
    outside = b'"'.join(parts[0::2])
    cut = min((c for c in (outside.find(b"#"), outside.find(b";")) if c >= 0), default=-1)
    if cut >= 0:  # the comment starts in outside part k: drop what follows
        k = outside.count(b'"', 0, cut)
        parts = parts[:2 * k + 1]
        parts[-1] = parts[-1][:cut - outside.rfind(b'"', 0, cut) - 1]
    elif len(parts) % 2 == 0:
        raise _BadLine(end)  # the line ends inside a quote
    parts[0::2] = b'"'.join(parts[0::2]).translate(_BLANK_TO_SPACE).split(b'"')
    first = 0  # blanks before the first content go (an empty "" is none); so do trailing ones,
    while first < len(parts) and not (parts[first].strip(b" ") if first % 2 == 0  # but a
                                      else parts[first]):  # quote after blanks keeps them
        first += 1
    if first == len(parts):
        return b""
    kept = parts[first:]
    if first % 2 == 0:
        kept[0] = kept[0].lstrip(b" ")
    kept[-1] = kept[-1].rstrip(b" ")  # (the last part is outside the quotes)
    return b"".join(kept)


def _value(data: bytes, pos: int) -> tuple[bytes, int]:
    """git's ``parse_value`` from just after the ``=``: (value, offset after its line).

    The common shapes — words, simple quoted strings, runs of the five escapes — are taken a
    run at a time; only a quote holding an escape or a continuation goes a token at a time."""
    n = len(data)
    end = data.find(b"\n", pos)
    end = n if end < 0 else end
    escape = data.find(b"\\", pos, end)
    if escape < 0 and data.find(b'"', pos, end) < 0:  # the usual value: all C-level calls
        cut = min(c for c in (data.find(b"#", pos, end), data.find(b";", pos, end), end)
                  if c >= 0)
        return data[pos:cut].strip(b" \t\r").translate(_BLANK_TO_SPACE), end + 1
    if data.count(b'"', pos, end) > MAX_VALUE_STEPS:
        raise _BadLine(pos, f"a value with more than {MAX_VALUE_STEPS:,} quotes, too intricate "
                            f"to read in reasonable time")
    if escape < 0:  # quotes but no escape: C-level calls too
        return _quoted_line(data[pos:end], end), end + 1
    out: list[bytes] = []
    size = pending = 0  # bytes kept so far; blanks waiting to become spaces
    quote = False
    run, blanks, quoted, escapes = _re("run"), _re("blanks"), _re("quoted"), _re("escapes")
    m = _re("leading").match(data, pos)  # leading blanks (and empty "") add nothing
    if m is not None:
        pos = m.end()
    for _ in range(MAX_VALUE_STEPS):
        if not quote:
            m = run.match(data, pos)
            if m is not None:
                if pending:
                    out.append(b" " * pending)
                    size, pending = size + pending, 0
                chunk = _run(m.group())
                out.append(chunk)
                size += len(chunk)
                pos = m.end()
                continue
            m = blanks.match(data, pos)
            if m is not None:
                if size:  # leading blanks are dropped, inner ones become one space each
                    pending += m.end() - pos
                pos = m.end()
                continue
        else:
            m = quoted.match(data, pos)
            if m is not None:
                chunk = m.group()
                out.append(chunk)
                size += len(chunk)
                pos = m.end()
                continue
        if pos >= n or data[pos] == 10:  # end of line (or file)
            if quote:
                raise _BadLine(pos)  # an unterminated quote
            return b"".join(out), pos + 1
        c = data[pos]
        if c in b"#;" and not quote:
            end = data.find(b"\n", pos)
            return b"".join(out), (n if end < 0 else end) + 1
        if pending:  # (git writes pending blanks before a quote or an escape too)
            out.append(b" " * pending)
            size, pending = size + pending, 0
        if c == 34:  # '"' (one holding an escape or a line break)
            quote = not quote
            pos += 1
            continue
        m = escapes.match(data, pos)  # c is a backslash
        if m is not None:
            chunk = m.group()[1::2].translate(_ESCAPED)
            out.append(chunk)
            size += len(chunk)
            pos = m.end()
            continue
        if pos + 1 >= n or data[pos + 1] == 10:
            pos += 2  # a continuation line (a backslash at the very end is one too)
            continue
        raise _BadLine(pos)  # an escape git does not know
    raise _BadLine(pos, f"a value with more than {MAX_VALUE_STEPS:,} quotes and escapes: "
                        f"too intricate to read in reasonable time")


def parse(data: bytes, on_value: Callable[[str, str, bytes | None, int], None]) -> None:
    """git's ``git_parse_source``: ``on_value(section base, key, value, line)`` per entry.

    ``section base`` is ``core`` or ``remote.origin`` (the subsection keeps its case, as in
    git), ``key`` is lower case. Raises :class:`_BadLine`."""
    pos = 0
    if data[:1] == b"\xef":
        if not data.startswith(_BOM):
            raise _BadLine(0)  # git does not tolerate a partial BOM
        pos = 3
    n = len(data)
    base = ""
    counted, line = 0, 1  # line numbers are counted lazily, and only forwards

    def line_of(offset: int) -> int:
        nonlocal counted, line
        line += data.count(b"\n", counted, offset)
        counted = offset
        return line

    while True:
        pos = _skip(data, pos)
        if pos >= n:
            return
        c = data[pos]
        if c == 91:  # '['
            base, pos = _section(data, pos)
            continue
        if c not in _ALPHA:
            raise _BadLine(pos)
        end = span(data, pos + 1, _KEY_CHARS)
        key = data[pos:end].decode("ascii").lower()
        at = line_of(pos)
        pos = span(data, end, b" \t")
        if pos >= n or data[pos] == 10:
            value: bytes | None = None
            pos += 1
        elif data[pos] == 61:  # '='
            value, pos = _value(data, pos + 1)
        else:
            raise _BadLine(pos)
        on_value(base, key, value, at)


def split_key(base: str, key: str) -> Key:
    """``remote.origin`` + ``url`` → ("remote", "origin", "url"); ``core`` → no subsection."""
    section, dot, sub = base.partition(".")
    return section.lower(), (sub if dot else None), key


def parse_bool(value: bytes | None) -> bool | None:
    """git's ``git_parse_maybe_bool``: None when the text is not a boolean."""
    if value is None:
        return True  # "key" alone
    text = value.decode("utf-8", "surrogateescape").lower()
    if not text:
        return False  # "key =" is false, as in git
    if text in _TRUE:
        return True
    if text in _FALSE:
        return False
    number = parse_int(value)
    return None if number is None else number != 0


def parse_int(value: bytes | None) -> int | None:
    """git's ``git_parse_int``: decimal (or 0x/0 prefixed), with a k/m/g unit; else None."""
    if not value:
        return None
    text = value.decode("utf-8", "surrogateescape").strip()
    unit = text[-1:].lower() if text[-1:].lower() in "kmg" else ""
    digits = text[:-1] if unit else text
    body = digits.lstrip("+-")
    try:  # (C's base 0: 0x… hex, 0… octal)
        number = None if len(digits) > 32 else int(digits, 8) if len(body) > 1 and \
            body[0] == "0" and body[1:2] not in ("x", "X") else int(digits, 0)
    except ValueError:
        number = None
    if number is None or abs(number * _UNITS[unit]) > 0x7FFFFFFF:
        return None
    return number * _UNITS[unit]


def read_config_file(path: str) -> bytes | None:
    """A config file's bytes; None when it does not exist. Only regular files are read (a FIFO
    or a device would block or never end)."""
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_CLOEXEC", 0))
    except (FileNotFoundError, NotADirectoryError):
        return None
    except OSError as e:
        raise AyjntError(f"{path}: cannot read this git config file ({e.strerror}); git "
                         f"refuses it too.", path=path) from None
    try:
        import stat

        st = os.fstat(fd)
        if stat.S_ISDIR(st.st_mode):
            raise AyjntError(f"{path}: a git config file is a folder; git refuses it too.",
                             path=path)
        if not stat.S_ISREG(st.st_mode):
            raise AyjntError(f"{path}: a git config file is not a regular file.", path=path)
        if st.st_size > MAX_CONFIG_BYTES:
            raise AyjntError(f"{path}: git config file over {MAX_CONFIG_BYTES >> 20} MB; "
                             f"refusing to read it.", path=path)
        chunks = []
        while True:
            chunk = os.read(fd, 1 << 20)
            if not chunk:
                break
            chunks.append(chunk)
            if sum(map(len, chunks)) > MAX_CONFIG_BYTES:
                raise AyjntError(f"{path}: git config file over {MAX_CONFIG_BYTES >> 20} MB; "
                                 f"refusing to read it.", path=path)
    except OSError as e:
        raise AyjntError(f"{path}: cannot read this git config file ({e.strerror}).",
                         path=path) from None
    finally:
        os.close(fd)
    data = b"".join(chunks)
    return data.replace(b"\r\n", b"\n") if b"\r" in data else data


def config_paths(commondir: str) -> list[str]:
    """The system, global and repository config files, in git's order."""
    env = os.environ
    paths = []
    if not _env_bool("GIT_CONFIG_NOSYSTEM"):
        paths.append(env.get("GIT_CONFIG_SYSTEM") or "/etc/gitconfig")
    if "GIT_CONFIG_GLOBAL" in env:
        if env["GIT_CONFIG_GLOBAL"]:
            paths.append(env["GIT_CONFIG_GLOBAL"])
    else:
        xdg = env.get("XDG_CONFIG_HOME") or os.path.join(os.path.expanduser("~"), ".config")
        paths += [os.path.join(xdg, "git", "config"), os.path.expanduser("~/.gitconfig")]
    paths.append(os.path.join(commondir, "config"))
    return paths


def _env_bool(name: str) -> bool:
    value = os.environ.get(name)
    return value is not None and value != "" and parse_bool(value.encode()) is True


def expand_user(path: str) -> str | None:
    """git's ``interpolate_path``: ``~/`` and ``~user/``; None when it cannot expand."""
    if path.startswith("%(prefix)/"):
        return None  # git's runtime prefix: not knowable from here
    if not path.startswith("~"):
        return path
    expanded = os.path.expanduser(path)
    if expanded.startswith("~") or ((path in ("~",) or path.startswith("~/")) \
            and not os.environ.get("HOME")):
        return None
    return expanded


class GitConfig:
    """Every value of git's config stack: ``get``/``get_bool`` by (section, name, sub)."""

    def __init__(self, commondir: str, gitdir: str | None = None, *,
                 worktree_config: bool = False,
                 branch: Callable[[], str | None] | None = None) -> None:
        self.values: dict[Key, Value] = {}
        self.gitdir = gitdir if gitdir is not None else commondir
        self._branch = branch
        self._remote_urls: list[str] | None = None
        self._collecting_urls = False
        self._commondir = commondir
        self._worktree_config = worktree_config
        self._load(self.values)

    def _load(self, into: dict[Key, Value]) -> None:
        for path in config_paths(self._commondir):
            self._read_file(path, into, 0)
        if self._worktree_config:
            self._read_file(os.path.join(self.gitdir, "config.worktree"), into, 0)
        self._read_command_line(into)

    # ------------------------------------------------------------ reading
    def _read_file(self, path: str, into: dict[Key, Value], depth: int,
                   in_hasconfig: bool = False) -> None:
        data = read_config_file(path)
        if data is None:
            return

        def on_value(base: str, key: str, value: bytes | None, line: int) -> None:
            self._store(base, key, value, path, line, into, depth, in_hasconfig)

        try:
            parse(data, on_value)
        except _BadLine as e:
            raise bad_config(path, e.line(data), e.why) from None

    def _store(self, base: str, key: str, value: bytes | None, path: str, line: int,
               into: dict[Key, Value], depth: int, in_hasconfig: bool) -> None:
        k = split_key(base, key)
        if in_hasconfig and k[0] == "remote" and k[1] is not None and k[2] == "url":
            raise AyjntError(f"{path}, line {line}: remote URLs cannot be configured in a "
                             f"file included by includeIf.hasconfig:remote.*.url (git "
                             f"refuses it too).", path=path)
        into[k] = (value, path, line)
        if k[2] != "path" or k[0] not in ("include", "includeif"):
            return
        if k[0] == "include" and k[1] is None:
            condition = True
        elif k[0] == "includeif" and k[1] is not None:
            condition = self._condition(k[1], path, line)
            in_hasconfig = in_hasconfig or k[1].startswith("hasconfig:")
        else:
            return
        if condition:
            self._include(value, path, line, into, depth, in_hasconfig)

    def _include(self, value: bytes | None, path: str, line: int, into: dict[Key, Value],
                 depth: int, in_hasconfig: bool) -> None:
        if value is None:
            raise bad_config(path, line, "include.path without a value")
        target = expand_user(value.decode("utf-8", "surrogateescape"))
        if target is None:
            raise bad_config(path, line, "an include path git cannot expand here")
        if not os.path.isabs(target):
            if not os.path.isabs(path):
                raise bad_config(path, line, "a relative include from the command line")
            target = os.path.join(os.path.dirname(path), target)
        if not os.path.lexists(target) or not os.access(target, os.R_OK):
            if not os.path.lexists(target) or not os.path.exists(target):
                return  # git skips an include that does not exist
            raise bad_config(path, line, f"cannot read the included file {target}")
        if depth + 1 > MAX_INCLUDE_DEPTH:
            raise AyjntError(f"{path}, line {line}: includes nest more than "
                             f"{MAX_INCLUDE_DEPTH} deep while including {target} (an include "
                             f"cycle?); git refuses it too.", path=path)
        if os.path.isdir(target):
            raise bad_config(path, line, f"the included {target} is a folder")
        self._read_file(target, into, depth + 1, in_hasconfig)

    def _read_command_line(self, into: dict[Key, Value]) -> None:
        """``git -c`` values, which git passes to hooks in the environment."""
        env = os.environ
        where = "the command line (git -c)"
        pairs: list[tuple[str, bytes | None]] = []
        count_text = env.get("GIT_CONFIG_COUNT")
        if count_text:
            if not count_text.isdigit():
                raise AyjntError(f"GIT_CONFIG_COUNT={count_text!r} is not a number; git "
                                 f"refuses it too.")
            for i in range(int(count_text)):
                name, text = env.get(f"GIT_CONFIG_KEY_{i}"), env.get(f"GIT_CONFIG_VALUE_{i}")
                if name is None or text is None:
                    raise AyjntError(f"GIT_CONFIG_COUNT says {count_text}, but "
                                     f"GIT_CONFIG_KEY_{i}/GIT_CONFIG_VALUE_{i} is missing; git "
                                     f"refuses it too.")
                pairs.append((name, os.fsencode(text)))
        params = env.get("GIT_CONFIG_PARAMETERS")
        if params:
            pairs += _parse_parameters(params)
        for i, (name, value) in enumerate(pairs, 1):
            base, dot, key = name.rpartition(".")
            if not dot or not base or not key:
                raise AyjntError(f"{where}: entry {i} is not a section.key name; git refuses "
                                 f"it too.")
            section, sep, sub = base.partition(".")
            base = f"{section.lower()}.{sub}" if sep else section.lower()
            self._store(base, key.lower(), value, where, i, into, 0, False)

    # ------------------------------------------------------------ includeIf
    def _condition(self, condition: str, path: str, line: int) -> bool:
        for prefix, icase in (("gitdir:", False), ("gitdir/i:", True)):
            if condition.startswith(prefix):
                return self._gitdir_matches(condition[len(prefix):], path, icase)
        if condition.startswith("onbranch:"):
            branch = self._branch() if self._branch is not None else None
            pattern = condition[len("onbranch:"):]
            if pattern.endswith("/"):
                pattern += "**"
            return branch is not None and _wildmatch(pattern, branch, False)
        if condition.startswith("hasconfig:remote.*.url:"):
            if self._collecting_urls:
                return True  # (git collects the URLs with every such condition true)
            pattern = condition[len("hasconfig:remote.*.url:"):]
            return any(_wildmatch(pattern, url, False) for url in self._remote_url_list())
        return False  # git: an unknown condition is false

    def _gitdir_matches(self, pattern: str, path: str, icase: bool) -> bool:
        expanded = expand_user(pattern)
        pattern = expanded if expanded is not None else pattern
        prefix = 0
        if pattern.startswith("./"):
            if not os.path.isabs(path):
                return False
            base = os.path.dirname(os.path.realpath(path))
            pattern = base + pattern[1:]
            prefix = len(base) + 1
        elif not os.path.isabs(pattern):
            pattern = "**/" + pattern
        if pattern.endswith("/"):
            pattern += "**"
        for text in (os.path.realpath(self.gitdir), os.path.abspath(self.gitdir)):
            if prefix:
                head, text_head = pattern[:prefix], text[:prefix]
                if len(text) < prefix or (head.lower() != text_head.lower() if icase
                                          else head != text_head):
                    continue
            if _wildmatch(pattern[prefix:], text[prefix:], icase):
                return True
        return False

    def _remote_url_list(self) -> list[str]:
        if self._remote_urls is None:
            collected: dict[Key, Value] = {}
            self._collecting_urls = True
            try:
                self._load(collected)
            finally:
                self._collecting_urls = False
            self._remote_urls = [v[0].decode("utf-8", "surrogateescape")
                                 for k, v in collected.items()
                                 if k[0] == "remote" and k[1] is not None and k[2] == "url"
                                 and v[0] is not None]
        return self._remote_urls

    # ------------------------------------------------------------ lookups
    def entry(self, section: str, name: str, sub: str | None = None) -> Value | None:
        return self.values.get((section.lower(), sub, name.lower()))

    def get(self, section: str, name: str, sub: str | None = None) -> str | None:
        found = self.entry(section, name, sub)
        if found is None:
            return None
        value = found[0]
        return "true" if value is None else value.decode("utf-8", "surrogateescape")

    def get_bool(self, section: str, name: str, default: bool,
                 sub: str | None = None) -> bool:
        """git's boolean rule; a value that is not one is refused, as git refuses it."""
        found = self.entry(section, name, sub)
        if found is None:
            return default
        verdict = parse_bool(found[0])
        if verdict is None:
            key = f"{section}.{sub}.{name}" if sub is not None else f"{section}.{name}"
            raise AyjntError(f"{found[1]}, line {found[2]}: {key} is not a boolean (git takes "
                             f"true/false, yes/no, on/off or a number); git refuses it too.",
                             path=found[1])
        return verdict


def _wildmatch(pattern: str, text: str, icase: bool) -> bool:
    from .ignore import translate

    regex = translate(pattern)
    if regex is None:
        return False
    import re

    return re.fullmatch(regex, text, re.DOTALL | (re.IGNORECASE | re.ASCII if icase else 0)) \
        is not None


def _parse_parameters(text: str) -> list[tuple[str, bytes | None]]:
    """``$GIT_CONFIG_PARAMETERS``: shell-quoted ``'key=value'`` or ``'key'='value'`` items."""
    out: list[tuple[str, bytes | None]] = []
    pos, n = 0, len(text)

    def quoted() -> str:
        nonlocal pos
        parts = []
        while True:
            if pos >= n or text[pos] != "'":
                raise AyjntError("GIT_CONFIG_PARAMETERS is not git's quoting; git refuses it "
                                 "too.")
            end = text.find("'", pos + 1)
            if end < 0:
                raise AyjntError("GIT_CONFIG_PARAMETERS has an unterminated quote; git "
                                 "refuses it too.")
            parts.append(text[pos + 1:end])
            pos = end + 1
            if text.startswith("\\'", pos):  # '\'' is a quote inside a quoted string
                parts.append("'")
                pos += 2
                continue
            return "".join(parts)

    while True:
        while pos < n and text[pos].isspace():
            pos += 1
        if pos >= n:
            return out
        first = quoted()
        if text.startswith("=", pos):
            pos += 1
            value: bytes | None = os.fsencode(quoted()) if text.startswith("'", pos) else None
            out.append((first, value))
        else:
            name, eq, rest = first.partition("=")
            out.append((name, os.fsencode(rest) if eq else None))


def _dulwich_stack(commondir: str) -> Any:
    """dulwich's own view of the config, for dulwich's transports (the deploy ledger): it
    reads ``insteadOf``, ``http.*`` and the like itself."""
    import contextlib

    from dulwich.config import ConfigFile, StackedConfig

    backends = StackedConfig.default_backends()
    with contextlib.suppress(FileNotFoundError):
        backends.insert(0, ConfigFile.from_path(os.path.join(commondir, "config")))
    return StackedConfig(backends)


def user_excludes_file(config: GitConfig) -> str:
    """``core.excludesFile``, else git's XDG default ``$XDG_CONFIG_HOME/git/ignore``."""
    value = config.get("core", "excludesfile")
    if value:
        return expand_user(value) or value
    xdg = os.environ.get("XDG_CONFIG_HOME") or os.path.join(os.path.expanduser("~"), ".config")
    return os.path.join(xdg, "git", "ignore")


class ProtectedConfig(GitConfig):
    """git's protected config (``git_protected_config``): the system and global files and the
    command line, never the repository's own — read before any repository is set up, so an
    ``includeIf`` on ``gitdir:`` or ``onbranch:`` is false there. Keeps every
    ``safe.directory`` value in order (a multi-valued key)."""

    def __init__(self) -> None:
        self.safe_directories: list[bytes | None] = []
        super().__init__("")

    def _load(self, into: dict[Key, Value]) -> None:
        for path in config_paths("")[:-1]:  # (the last one is the repository's)
            self._read_file(path, into, 0)
        self._read_command_line(into)

    def _store(self, base: str, key: str, value: bytes | None, path: str, line: int,
               into: dict[Key, Value], depth: int, in_hasconfig: bool) -> None:
        if not self._collecting_urls and split_key(base, key) == ("safe", None, "directory"):
            self.safe_directories.append(value)
        super()._store(base, key, value, path, line, into, depth, in_hasconfig)

    def _condition(self, condition: str, path: str, line: int) -> bool:
        if condition.startswith(("gitdir:", "gitdir/i:", "onbranch:")):
            return False
        return super()._condition(condition, path, line)
