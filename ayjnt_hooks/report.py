"""Findings and how they are shown: text (colour when wanted), JSON, GitHub annotations."""
from __future__ import annotations

import os
import sys

TYPE_CHECKING = False  # (typing is not imported at run time: start-up time counts here)
if TYPE_CHECKING:
    import re
    from typing import Any, TextIO

ERROR, WARNING, OK = "error", "warning", "ok"
MAX_ANNOTATIONS = 10


class Finding:
    """One result of a check (a plain class: ``typing.NamedTuple`` would cost the import of
    typing on every run)."""

    __slots__ = ("code", "hint", "line", "message", "path", "severity")

    def __init__(self, severity: str, code: str, message: str, path: str | None = None,
                 line: int | None = None, hint: str | None = None) -> None:
        self.severity = severity  # error | warning | ok
        self.code = code  # stable kebab-case id
        self.message = message
        self.path = path
        self.line = line
        self.hint = hint

    def _fields(self) -> tuple[str, str, str, str | None, int | None, str | None]:
        return self.severity, self.code, self.message, self.path, self.line, self.hint

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Finding) and self._fields() == other._fields()

    def __hash__(self) -> int:
        return hash(self._fields())

    def __repr__(self) -> str:
        names = ("severity", "code", "message", "path", "line", "hint")
        return "Finding(" + ", ".join(f"{n}={v!r}" for n, v in zip(names, self._fields())) + ")"

    def as_json(self) -> dict[str, Any]:
        names = ("severity", "code", "message", "path", "line", "hint")
        return {n: v for n, v in zip(names, self._fields()) if v is not None}


def use_colour(stream: TextIO) -> bool:
    if os.environ.get("NO_COLOR"):
        return False
    if os.environ.get("FORCE_COLOR"):
        return True
    if os.environ.get("TERM") == "dumb":
        return False
    return hasattr(stream, "isatty") and stream.isatty()


_COLOURS = {ERROR: "\033[31m", WARNING: "\033[33m", OK: "\033[32m"}
_RESET = "\033[0m"


def paint(text: str, severity: str, stream: TextIO) -> str:
    if not use_colour(stream):
        return text
    if os.name == "nt":  # pragma: no cover - Windows console setup
        import colorama

        colorama.just_fix_windows_console()
    return f"{_COLOURS[severity]}{text}{_RESET}"


def _escape_data(s: str) -> str:
    return s.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def _escape_property(s: str) -> str:
    return _escape_data(s).replace(":", "%3A").replace(",", "%2C")


def github_annotations(findings: list[Finding]) -> list[str]:
    """``::error file=…,line=…,title=…::msg`` lines (workflow-command escaping), at most 10."""
    if os.environ.get("GITHUB_ACTIONS") != "true":
        return []
    errors = [f for f in findings if f.severity == ERROR]
    lines = []
    for f in errors[:MAX_ANNOTATIONS]:
        props = []
        if f.path:
            props.append(f"file={_escape_property(f.path)}")
        if f.line:
            props.append(f"line={f.line}")
        props.append(f"title={_escape_property('ayjnt: ' + f.code)}")
        lines.append(f"::error {','.join(props)}::{_escape_data(f.message)}")
    if len(errors) > MAX_ANNOTATIONS:
        lines.append(f"::error title=ayjnt::{len(errors) - MAX_ANNOTATIONS} more error(s) "
                     f"not annotated; see the log")
    return lines


def emit_json(data: dict[str, Any], findings: list[Finding], stream: TextIO | None = None) -> None:
    out = {"ok": not any(f.severity == ERROR for f in findings), **data,
           "findings": [f.as_json() for f in findings]}
    text = dumps(out)
    # A lone surrogate (from a lockfile's "\ud800" escape, or a name that was not UTF-8) is
    # written as JSON.stringify writes it, an escape, instead of failing to encode (only
    # a string that does not encode can hold one).
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        import re

        text = re.sub("[\ud800-\udfff]", _escape_surrogate, text)
    (stream or sys.stdout).write(text + "\n")


def dumps(value: Any) -> str:
    """``json.dumps(value, ensure_ascii=False)`` for what a report holds (dicts with string
    keys, lists, strings, integers, booleans, None), without importing :mod:`json` (a
    millisecond of every run); anything else goes to :mod:`json` itself."""
    try:
        from _json import encode_basestring
    except ImportError:  # pragma: no cover - a Python without the C accelerator
        pass
    else:
        parts: list[str] = []
        if _encode(value, parts, encode_basestring):
            return "".join(parts)
    import json

    return json.dumps(value, ensure_ascii=False)


def _encode(value: Any, parts: list[str], string: Any) -> bool:
    if isinstance(value, str):
        parts.append(string(value))
    elif value is None:
        parts.append("null")
    elif value is True:
        parts.append("true")
    elif value is False:
        parts.append("false")
    elif type(value) is int:
        parts.append(int.__repr__(value))
    elif type(value) is list:
        parts.append("[")
        for i, item in enumerate(value):
            if i:
                parts.append(", ")
            if not _encode(item, parts, string):
                return False
        parts.append("]")
    elif type(value) is dict:
        parts.append("{")
        for i, (key, item) in enumerate(value.items()):
            if type(key) is not str:
                return False
            parts.append(", " + string(key) + ": " if i else string(key) + ": ")
            if not _encode(item, parts, string):
                return False
        parts.append("}")
    else:
        return False
    return True


def _escape_surrogate(match: re.Match[str]) -> str:
    return f"\\u{ord(match.group()):04x}"


def error_json(kind: str, message: str, path: str | None = None, hint: str | None = None
               ) -> tuple[dict[str, Any], Finding]:
    """``{"error": {...}}``'s value and its finding, for a command that could not check (exit
    3). ``kind`` is ``input`` for bad input (the message says the fix) or ``internal`` for a
    bug of ours."""
    code = "could-not-check" if kind == "input" else "internal-error"
    return ({"kind": kind, "message": message, **({"path": path} if path else {})},
            Finding(ERROR, code, message, path, hint=hint))
