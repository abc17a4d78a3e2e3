"""The few git config values the checks need, read from git's standard files.

A small parser covers plain config files (sections, subsections, quoting, escapes,
continuations, comments). A file that uses ``include``/``includeIf`` is left to dulwich's
reader, which follows includes. Precedence: system < global < repository, last value wins.
"""
from __future__ import annotations

import contextlib
import os
import re

TYPE_CHECKING = False  # (typing is not imported at run time: start-up time counts here)
if TYPE_CHECKING:
    from typing import Any

_SECTION = re.compile(r'\s*\[\s*([A-Za-z0-9.-]+)(?:\s+"((?:[^"\\]|\\.)*)")?\s*\]')
_KEY = re.compile(r"\s*([A-Za-z][A-Za-z0-9-]*)\s*(=)?")
_ESCAPES = {"n": "\n", "t": "\t", "b": "\b", '"': '"', "\\": "\\"}

Key = tuple[str, "str | None", str]  # (section, subsection, name); quoted for Python 3.9


def config_paths(commondir: str) -> list[str]:
    env = os.environ
    paths = []
    if not env.get("GIT_CONFIG_NOSYSTEM"):
        paths.append(env.get("GIT_CONFIG_SYSTEM") or "/etc/gitconfig")
    if env.get("GIT_CONFIG_GLOBAL"):
        paths.append(env["GIT_CONFIG_GLOBAL"])
    else:
        xdg = env.get("XDG_CONFIG_HOME") or os.path.join(os.path.expanduser("~"), ".config")
        paths += [os.path.join(xdg, "git", "config"), os.path.expanduser("~/.gitconfig")]
    paths.append(os.path.join(commondir, "config"))
    return paths


class NeedsFullParser(Exception):
    pass


def _value(raw: str) -> str:
    out: list[str] = []
    quoted = False
    i = 0
    while i < len(raw):
        c = raw[i]
        if c == '"':
            quoted = not quoted
        elif c == "\\" and i + 1 < len(raw):
            i += 1
            out.append(_ESCAPES.get(raw[i], raw[i]))
        elif c in "#;" and not quoted:
            break
        else:
            out.append(c)
        i += 1
    return "".join(out).strip() if not quoted else "".join(out)


def parse(text: str, into: dict[Key, str | None]) -> None:
    lines = text.split("\n")
    section: str | None = None
    sub: str | None = None
    i = 0
    while i < len(lines):
        line = lines[i]
        i += 1
        stripped = line.strip()
        if not stripped or stripped[0] in "#;":
            continue
        if stripped.startswith("["):
            m = _SECTION.match(line)
            if m is None:
                raise NeedsFullParser(line)
            name = m.group(1).lower()
            if name in ("include", "includeif"):
                raise NeedsFullParser(line)
            section, _, dotted = name.partition(".")
            sub = re.sub(r"\\(.)", r"\1", m.group(2)) if m.group(2) is not None \
                else (dotted or None)
            rest = line[m.end():].strip()
            if not rest or rest[0] in "#;":
                continue
            line = rest
        if section is None:
            raise NeedsFullParser(line)
        m = _KEY.match(line)
        if m is None:
            raise NeedsFullParser(line)
        key = m.group(1).lower()
        if not m.group(2):
            into[(section, sub, key)] = None  # "key" alone means true
            continue
        raw = line[m.end():]
        while raw.rstrip().endswith("\\") and not raw.rstrip().endswith("\\\\") and i < len(lines):
            raw = raw.rstrip()[:-1] + lines[i]
            i += 1
        into[(section, sub, key)] = _value(raw)


class GitConfig:
    def __init__(self, commondir: str) -> None:
        self.values: dict[Key, str | None] = {}
        self._dulwich: Any = None
        for path in config_paths(commondir):
            try:
                with open(path, encoding="utf-8", errors="surrogateescape") as f:
                    text = f.read()
            except (FileNotFoundError, NotADirectoryError, PermissionError):
                continue
            try:
                parse(text, self.values)
            except NeedsFullParser:
                self._dulwich = _dulwich_stack(commondir)
                return

    def get(self, section: str, name: str, sub: str | None = None) -> str | None:
        if self._dulwich is not None:
            key = (section.encode(),) if sub is None else (section.encode(), sub.encode())
            try:
                value = self._dulwich.get(key, name.encode())
            except KeyError:
                return None
            return value.decode("utf-8", "surrogateescape") if isinstance(value, bytes) \
                else None
        k = (section.lower(), sub, name.lower())
        if k not in self.values:
            return None
        value = self.values[k]
        return "true" if value is None else value


def _dulwich_stack(commondir: str) -> Any:
    from dulwich.config import ConfigFile, StackedConfig

    backends = StackedConfig.default_backends()
    with contextlib.suppress(FileNotFoundError):
        backends.insert(0, ConfigFile.from_path(os.path.join(commondir, "config")))
    return StackedConfig(backends)


def user_excludes_file(config: GitConfig) -> str:
    """``core.excludesFile``, else git's XDG default ``$XDG_CONFIG_HOME/git/ignore``."""
    value = config.get("core", "excludesfile")
    if value:
        return os.path.expanduser(value)
    xdg = os.environ.get("XDG_CONFIG_HOME") or os.path.join(os.path.expanduser("~"), ".config")
    return os.path.join(xdg, "git", "ignore")
