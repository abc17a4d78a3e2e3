"""git's ignore rules (``gitignore(5)``), read-only.

Patterns come from each folder's ``.gitignore`` (a deeper file wins over a shallower one),
then ``info/exclude``, then ``core.excludesFile``; within one file the last matching pattern
decides, and ``!`` re-includes. A path inside an excluded folder is excluded whatever the
patterns say about it. Globs follow git's ``wildmatch`` with ``WM_PATHNAME``: ``*``, ``?`` and
``[...]`` never match ``/``; ``**`` between slashes (or at either end) matches any number of
folders. ``core.ignoreCase`` folds ASCII letters, as git does.

(dulwich's matcher did this before; importing it cost about 36 ms whenever an ignored name
was met, which on a real project is every time: node_modules/ and build output.) The usual
patterns — a plain name (``node_modules``, ``.env``) or one ``*`` between plain text
(``*.log``, ``.ayjnt/*``) — are matched with string methods; any other is translated to a
regular expression on first use, so that ``re`` (and ``enum`` with it) is imported only then.
"""
from __future__ import annotations

import os
import stat

TYPE_CHECKING = False  # (typing is not imported at run time: start-up time counts here)
if TYPE_CHECKING:
    from collections.abc import Callable, Iterable
    from re import Pattern

# A parsed pattern: (its matcher, negated, folders only, matched against the base name only)
_Rule = tuple["_Glob", bool, bool, bool]
_SPECIAL = frozenset("*?[\\")
_ASCII_LOWER = str.maketrans("ABCDEFGHIJKLMNOPQRSTUVWXYZ", "abcdefghijklmnopqrstuvwxyz")


class _Glob:
    """``wildmatch(glob, text, WM_PATHNAME)`` for one pattern: plain text compared as it is;
    ``head*tail`` (plain text around one ``*``, which never matches a ``/``) by its ends;
    anything else by the regular expression :func:`translate` gives, compiled when first
    needed. ``core.ignoreCase`` folds ASCII letters only, as git does."""

    __slots__ = ("glob", "head", "ignorecase", "kind", "regex", "tail")

    def __init__(self, glob: str, ignorecase: bool) -> None:
        self.glob = glob
        self.ignorecase = ignorecase
        self.regex: Pattern[str] | None = None
        fold = glob.translate(_ASCII_LOWER) if ignorecase else glob
        head, star, tail = fold.partition("*")
        self.head, self.tail = head, tail
        if not _SPECIAL.intersection(glob):
            self.kind = 1  # plain text
        elif star and not _SPECIAL.intersection(head) and not _SPECIAL.intersection(tail):
            self.kind = 2
        else:
            self.kind = 3

    def matches(self, text: str) -> bool:
        kind = self.kind
        if kind < 3:
            if self.ignorecase:
                text = text.translate(_ASCII_LOWER)
            if kind == 1:
                return text == self.head
            head, tail = self.head, self.tail
            return len(text) >= len(head) + len(tail) and text.startswith(head) and \
                text.endswith(tail) and "/" not in text[len(head):len(text) - len(tail)]
        regex = self.regex
        if regex is None:
            if kind == 4:
                return False
            import re

            source = translate(self.glob)
            if source is None:
                self.kind = 4  # git would abort the match: it never matches
                return False
            regex = self.regex = re.compile(
                source, re.DOTALL | (re.IGNORECASE | re.ASCII if self.ignorecase else 0))
        return regex.fullmatch(text) is not None

# POSIX classes as git's own ASCII ctype defines them (its isspace has no \v or \f)
_CLASSES = {
    "alnum": "a-zA-Z0-9", "alpha": "a-zA-Z", "blank": " \\t", "cntrl": "\\x00-\\x1f\\x7f",
    "digit": "0-9", "graph": "\\x21-\\x7e", "lower": "a-z", "print": "\\x20-\\x7e",
    "punct": "!-/:-@\\[-`{-~", "space": " \\t\\n\\r", "upper": "A-Z",
    "xdigit": "0-9a-fA-F",
}


def _bracket(pattern: str, i: int) -> tuple[str | None, int]:
    """Translate the ``[...]`` starting at ``i``: (regex, index after it); regex None when git
    would abort the match (an unterminated set or an unknown class)."""
    import re

    i += 1
    negated = i < len(pattern) and pattern[i] in "!^"
    if negated:
        i += 1
    items: list[str] = []
    previous: str | None = None  # a single character that may start a range
    first = True
    while True:
        if i >= len(pattern):
            return None, i
        c = pattern[i]
        if c == "]" and not first:
            break
        first = False
        if c == "\\":
            i += 1
            if i >= len(pattern):
                return None, i
            c = pattern[i]
            items.append(re.escape(c))
            previous = c
        elif c == "-" and previous is not None and i + 1 < len(pattern) \
                and pattern[i + 1] != "]":
            i += 1
            end = pattern[i]
            if end == "\\":
                i += 1
                if i >= len(pattern):
                    return None, i
                end = pattern[i]
            items.pop()
            if previous <= end:
                items.append(f"{re.escape(previous)}-{re.escape(end)}")
            previous = None
        elif c == "[" and pattern.startswith(":", i + 1):
            close = pattern.find("]", i + 2)
            if close < 0:
                return None, i
            if pattern[close - 1] != ":" or close - 1 < i + 2:
                items.append(re.escape("["))  # no ":]": an ordinary "["
                previous = "["
            else:
                name = pattern[i + 2:close - 1]
                if name not in _CLASSES:
                    return None, i
                items.append(_CLASSES[name])
                previous = None
                i = close
        else:
            items.append(re.escape(c))
            previous = c
        i += 1
    body = "".join(items)
    # with WM_PATHNAME a set never matches "/"
    regex = f"[^/{body}]" if negated else (f"(?!/)[{body}]" if body else "(?!)")
    return regex, i + 1


def translate(glob: str) -> str | None:
    """A regex for git's ``wildmatch(glob, path, WM_PATHNAME)``; None if it can never match."""
    import re

    out: list[str] = []
    i, n = 0, len(glob)
    while i < n:
        c = glob[i]
        if c == "*":
            j = i
            while j < n and glob[j] == "*":
                j += 1
            starts = i == 0 or glob[i - 1] == "/"
            if j - i >= 2 and starts and j == n:
                out.append(".*")  # "**" at the end: everything below
            elif j - i >= 2 and starts and glob[j] == "/":
                out.append("(?:.*/)?")  # "**/": any number of folders, none included
                j += 1
            else:
                out.append("[^/]*")
            i = j
        elif c == "?":
            out.append("[^/]")
            i += 1
        elif c == "[":
            regex, i = _bracket(glob, i)
            if regex is None:
                return None
            out.append(regex)
        elif c == "\\":
            if i + 1 >= n:
                return None  # a trailing backslash never matches
            out.append(re.escape(glob[i + 1]))
            i += 2
        else:
            out.append(re.escape(c))
            i += 1
    return "".join(out)


def parse(text: bytes, ignorecase: bool = False) -> list[_Rule]:
    """The rules of one ignore file, in file order."""
    if text.startswith(b"\xef\xbb\xbf"):
        text = text[3:]
    rules: list[_Rule] = []
    for raw in text.split(b"\n"):
        line = raw[:-1] if raw.endswith(b"\r") else raw
        if not line or line.startswith(b"#"):
            continue
        line = _trim_trailing_spaces(line)
        negated = line.startswith(b"!")
        if negated:
            line = line[1:]
        dir_only = line.endswith(b"/")
        if dir_only:
            line = line[:-1]
        if not line:
            continue
        glob = line.decode("utf-8", "surrogateescape")
        base_only = "/" not in glob
        rules.append((_Glob(glob[1:] if glob.startswith("/") else glob, ignorecase), negated,
                      dir_only, base_only))
    return rules


def _trim_trailing_spaces(line: bytes) -> bytes:
    """git's rule: trailing spaces go, unless escaped ("\\ "); a backslash escapes any byte."""
    last_space = -1
    i = 0
    while i < len(line):
        c = line[i]
        if c == 0x20:
            if last_space < 0:
                last_space = i
        else:
            if c == 0x5C:  # backslash: the next byte is taken as is
                i += 1
                if i >= len(line):
                    return line
            last_space = -1
        i += 1
    return line if last_space < 0 else line[:last_space]


def _read_all(fd: int) -> bytes:
    chunks = []
    while chunk := os.read(fd, 1 << 16):
        chunks.append(chunk)
    return b"".join(chunks)


def read_rules_file(path: str, nofollow: bool) -> bytes | None:
    """An ignore file's bytes; None when there is none (or it is a folder, as git skips it).
    A FIFO or device there is refused: git's plain ``open`` of it would block forever."""
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0)
                     | (getattr(os, "O_NOFOLLOW", 0) if nofollow else 0))
    except OSError:
        return None
    try:
        mode = os.fstat(fd).st_mode
        if stat.S_ISDIR(mode):
            return None
        if not stat.S_ISREG(mode):
            from ..errors import AyjntError

            raise AyjntError(f"{path} is not a regular file (a FIFO or a device): git status "
                             f"would wait forever reading it as ignore rules. Remove it.",
                             path=path)
        return _read_all(fd)
    except OSError:
        return None
    finally:
        os.close(fd)


def _last_match(rules: list[_Rule], rel: str, base_name: str, is_dir: bool) -> bool | None:
    """True (excluded) / False (re-included) by the last matching rule, None if none match."""
    for glob, negated, dir_only, base_only in reversed(rules):
        if dir_only and not is_dir:
            continue
        if glob.matches(base_name if base_only else rel):
            return not negated
    return None


class IgnoreRules:
    """The ignore rules of one working tree; ``.gitignore`` files are read when first needed."""

    def __init__(self, worktree: str, exclude_files: Iterable[str], ignorecase: bool,
                 skip_worktree_blob: Callable[[str], bytes | None] | None = None) -> None:
        self.worktree = worktree
        self.ignorecase = ignorecase
        # git reads a .gitignore it cannot open from the index when the entry is skip-worktree
        # (read_skip_worktree_file_from_index)
        self.skip_worktree_blob = skip_worktree_blob
        self._per_folder: dict[str, list[_Rule]] = {}
        self._excluded: dict[tuple[str, bool], bool] = {}
        self._global: list[list[_Rule]] = []  # info/exclude first: it wins over excludesFile
        for path in exclude_files:
            data = read_rules_file(path, nofollow=False)
            if data is not None:
                self._global.append(parse(data, ignorecase))

    def _folder_rules(self, folder: str) -> list[_Rule]:
        rules = self._per_folder.get(folder)
        if rules is None:
            path = os.path.join(self.worktree, folder, ".gitignore")
            # git (2.32+) does not follow a symlinked .gitignore inside the tree
            data = read_rules_file(path, nofollow=True)
            if data is None and self.skip_worktree_blob is not None and not os.path.isdir(path):
                data = self.skip_worktree_blob(f"{folder}/.gitignore" if folder else ".gitignore")
            rules = [] if data is None else parse(data, self.ignorecase)
            self._per_folder[folder] = rules
        return rules

    def is_ignored(self, rel: str, is_dir: bool) -> bool:
        """Is ``rel`` ("/"-separated, relative to the top) excluded, as ``git status`` sees it?"""
        key = (rel, is_dir)
        verdict = self._excluded.get(key)
        if verdict is None:
            parent, _, name = rel.rpartition("/")
            verdict = (bool(parent) and self.is_ignored(parent, True)) or \
                self._matched(rel, parent, name, is_dir)
            self._excluded[key] = verdict
        return verdict

    def _matched(self, rel: str, parent: str, name: str, is_dir: bool) -> bool:
        folder = parent
        while True:  # the nearest .gitignore first; patterns are relative to their folder
            rules = self._folder_rules(folder)
            if rules:
                inner = rel[len(folder) + 1:] if folder else rel
                found = _last_match(rules, inner, name, is_dir)
                if found is not None:
                    return found
            if not folder:
                break
            folder = folder.rpartition("/")[0]
        for rules in self._global:
            found = _last_match(rules, rel, name, is_dir)
            if found is not None:
                return found
        return False
