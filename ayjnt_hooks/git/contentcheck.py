"""What git does when an entry's stat data cannot decide: compare the content.

``git status`` trusts an index entry whose ``lstat`` matches, except when the entry is racily
clean (not older than the index: the file may have changed within the same tick), its size
was smudged to 0, or only times, inode or owner differ (``ie_modified``). Then git hashes the
file as ``git add`` would (``ce_compare_data``: the blob id after ``convert_to_git``), or reads
the symlink (``ce_compare_link``), and the entry is clean when that equals the recorded id.
A gitlink (submodule) entry is clean when the submodule's HEAD is the recorded commit
(``ce_compare_gitlink``) and the submodule itself has nothing to report
(``is_submodule_modified``); a submodule that is not checked out reports nothing.

This module answers those questions for the fast clean proof, and only where it is sure:

* Conversions: a file is hashed as it is, so anything that could convert it gives up — a
  ``working-tree-encoding``, or a ``filter`` while any filter driver is configured, named in
  any attributes file that applies (the path's folders' ``.gitattributes``,
  ``info/attributes``, the global and system files; a word search, so a mention anywhere
  counts), CRLF handling (``core.autocrlf``, or ``text``,
  ``eol``, ``crlf`` mentioned) when the file holds a ``\\r\\n``, and ``ident`` when it holds
  ``$Id``. Without those bytes these conversions leave the content as it is (git's
  ``crlf_to_git`` turns only CR LF pairs into LF). One CRLF case is decided: a binary file
  (a NUL or a lone CR, as git's ``convert_is_binary`` counts them) where every path's
  end-of-line action is "auto" — ``text=auto`` for ``*`` and no other ``text``, ``crlf`` or
  ``binary`` anywhere, or no such attribute at all and ``eol`` unset — is never converted
  (the real repositories' ``* text=auto eol=lf`` and their images and fonts).
* Submodules: git checks them only as much as ``submodule.<name>.ignore`` says; we check them
  fully (HEAD, then a clean proof inside), which is never less than git does.
"""
from __future__ import annotations

import os
import stat

from .files import read_all
from .trees import blob_sha

TYPE_CHECKING = False  # (typing is not imported at run time: start-up time counts here)
if TYPE_CHECKING:
    from typing import Callable

    from .repo import Repo

_CRLF_WORDS = (b"text", b"eol", b"crlf")


class ContentCheck:
    """Per proof: caches the attributes files it has read (so a worker inherits them)."""

    def __init__(self, repo: Repo, root_fd: int | None) -> None:
        """``root_fd``: the open work tree (None: paths are taken from ``repo.worktree``)."""
        self.repo = repo
        self.root_fd = root_fd
        self.root = os.fsencode(repo.worktree or "")
        self._attributes: dict[bytes, bytes] = {}  # folder -> its .gitattributes ("" if none)
        self._global: bytes | None = None
        self._globals: tuple[bytes, bytes, bytes] | None = None
        self._in_tree: dict[bytes, bytes | None] = {}
        self._autocrlf: bool | None = None
        self._filters: bool | None = None

    def same(self, name: bytes, mode: int, oid: bytes) -> bool:
        """Would git find the file at ``name`` equal to the index's ``oid``?"""
        if mode == 0o120000:
            target = os.readlink(name, dir_fd=self.root_fd)
            return blob_sha(os.fsencode(target)) == oid.hex()
        fd = os.open(name, os.O_RDONLY | os.O_NOFOLLOW, dir_fd=self.root_fd)
        try:
            if not stat.S_ISREG(os.fstat(fd).st_mode):
                return False
            chunks = []
            while True:
                chunk = os.read(fd, 1 << 20)
                if not chunk:
                    break
                chunks.append(chunk)
        finally:
            os.close(fd)
        content = b"".join(chunks)
        return self.unconverted(name, content, crlf=True) and blob_sha(content) == oid.hex()

    def unconverted(self, name: bytes, content: bytes, crlf: bool) -> bool:
        """Is git sure to hash ``content`` as it is? (With ``crlf`` False, CRLF handling is
        the caller's own.)"""
        attributes = self._attributes_for(name)
        if b"working-tree-encoding" in attributes or (b"filter" in attributes
                                                     and self._filters_configured()):
            return False
        if crlf and b"\r" in content and b"\r\n" in content \
                and (self._crlf_config() or any(word in attributes for word in _CRLF_WORDS)) \
                and not (_binary(content) and self._never_converts_binary(name)):
            return False  # (the one-byte search first: memchr, ten times faster)
        return not (b"ident" in attributes and b"$Id" in content)

    def attributes_beyond_root(self, name: bytes) -> bytes:
        """The attributes files for ``name`` other than the top-level ``.gitattributes``."""
        return self._attributes_for(name, with_root=False)

    def _filters_configured(self) -> bool:
        """Is any ``filter.<driver>.*`` set? git runs a ``filter`` attribute's driver only
        when the config defines it (``git_path_check_convert``); a clone whose attributes
        name a driver nobody set up (git/git's ``po/``) hashes its files as they are."""
        if self._filters is None:
            self._filters = any(key[0] == "filter" for key in self.repo.config.values)
        return self._filters

    def _crlf_config(self) -> bool:
        if self._autocrlf is None:
            value = (self.repo.config_get("core", "autocrlf") or "false").strip().lower()
            self._autocrlf = value not in ("false", "no", "off", "0")
        return self._autocrlf

    def _attributes_for(self, name: bytes, with_root: bool = True) -> bytes:
        """Every attributes file that can apply to ``name``, concatenated."""
        parts = [self._global_attributes()]
        folder = b""
        for part in name.split(b"/")[:-1]:
            if folder or with_root:
                parts.append(self._folder_attributes(folder))
            folder = folder + b"/" + part if folder else part
        if folder or with_root:
            parts.append(self._folder_attributes(folder))
        return b"\n".join(parts)

    def _folder_attributes(self, folder: bytes) -> bytes:
        found = self._attributes.get(folder)
        if found is None:
            path = folder + b"/.gitattributes" if folder else b".gitattributes"
            if self.root_fd is None:
                path = os.path.join(self.root, path)
            found = self._attributes[folder] = _read(path, self.root_fd)
        return found

    def _folder_file(self, folder: bytes) -> bytes | None:
        """A folder's ``.gitattributes`` as git reads it in the work tree (``open_nofollow``);
        None when it is there but not a regular file (git warns and reads the index's copy)."""
        if folder not in self._in_tree:
            path = folder + b"/.gitattributes" if folder else b".gitattributes"
            if self.root_fd is None:
                path = os.path.join(self.root, path)
            self._in_tree[folder] = _read_regular_nofollow(path, self.root_fd)
        return self._in_tree[folder]

    def _global_attributes(self) -> bytes:
        if self._global is None:
            self._global = b"\n".join(self._global_files())
        return self._global

    def _global_files(self) -> tuple[bytes, bytes, bytes]:
        """``info/attributes`` (git's highest precedence), the user's file, the system's
        (the lowest)."""
        if self._globals is None:
            env = os.environ
            user = b""
            configured = self.repo.config_get("core", "attributesfile")
            if configured:
                user = _read(os.fsencode(os.path.expanduser(configured)), None)
            elif env.get("XDG_CONFIG_HOME"):
                user = _read(os.fsencode(os.path.join(env["XDG_CONFIG_HOME"], "git",
                                                      "attributes")), None)
            elif env.get("HOME"):
                user = _read(os.fsencode(os.path.join(env["HOME"], ".config", "git",
                                                      "attributes")), None)
            system = b"" if env.get("GIT_ATTR_NOSYSTEM") else _read(b"/etc/gitattributes", None)
            info = _read(os.fsencode(os.path.join(self.repo.commondir, "info", "attributes")),
                         None)
            self._globals = (info, user, system)
        return self._globals

    def _never_converts_binary(self, name: bytes) -> bool:
        """Is git's end-of-line action for ``name`` one that leaves binary content alone
        (``convert_attrs``: ``-text``/``binary``, ``text=auto``, or no ``text``, ``crlf`` or
        ``eol`` at all, whatever ``core.autocrlf`` says)? The attributes are resolved as git
        resolves them: every file that applies, lowest precedence first (system, user, the
        top-level ``.gitattributes`` down to the path's folder, ``info/attributes``), each
        line in order, the last assignment winning; a pattern matched as git matches it
        (``attr.c`` ``path_matches``). A macro definition or a quoted pattern: not sure."""
        info, user, system = self._global_files()
        files = [(b"", system), (b"", user)]
        folder = b""
        for part in name.split(b"/"):
            text = self._folder_file(folder)
            if text is None:
                return False
            files.append((folder, text))
            folder = folder + b"/" + part if folder else part
        files.append((b"", info))
        state: dict[bytes, bytes | None] = {}  # attribute -> b"set", b"unset", a value, None
        for base, text in files:
            rel = name[len(base) + 1:] if base else name
            for line in text.split(b"\n"):
                outcome = _apply_line(line, rel, state)
                if outcome is None:
                    return False
        text_value = state.get(b"text")
        if text_value == b"unset":
            return True  # CRLF_BINARY
        if text_value is not None:
            return text_value == b"auto"  # (set, "input" or another value: text)
        crlf_value = state.get(b"crlf")
        if crlf_value not in (None, b"unset", b"auto"):
            return False
        return crlf_value is not None or state.get(b"eol") is None

    def gitlink_clean(self, name: bytes, oid: bytes, prove: Callable[[Repo], bool]) -> bool:
        """The submodule at ``name``: HEAD is ``oid`` and ``prove`` (the clean proof) holds
        inside, or it is not checked out (an empty folder, as a clone without
        --recurse-submodules leaves it)."""
        from .repo import Repo, commondir_of, read_gitfile

        worktree = os.path.join(os.fsencode(self.repo.worktree or ""), name)
        dotgit = os.path.join(worktree, b".git")
        try:
            st = os.lstat(dotgit)
        except FileNotFoundError:
            return not os.listdir(worktree)  # not checked out: git reports nothing
        if stat.S_ISREG(st.st_mode):
            gitdir = read_gitfile(os.fsdecode(dotgit))
        elif stat.S_ISDIR(st.st_mode):
            gitdir = os.fsdecode(dotgit)
        else:
            return False
        if not (os.path.isfile(os.path.join(gitdir, "HEAD"))
                and os.path.isdir(os.path.join(commondir_of(gitdir), "objects"))):
            return False  # git dies here ("not recognized as a git repository")
        sub = Repo(gitdir, commondir_of(gitdir), os.fsdecode(worktree),
                   os.path.join(gitdir, "index"))
        return sub.ref_sha("HEAD") == oid.hex() and prove(sub)


def _binary(content: bytes) -> bool:
    """git's ``convert_is_binary``, its two exact rules: a NUL, or a CR not before an LF (its
    third, the share of unprintable bytes, is not needed to be sure)."""
    return b"\0" in content or content.count(b"\r") != content.count(b"\r\n")


def _apply_line(raw: bytes, rel: bytes, state: dict[bytes, bytes | None]) -> bool | None:
    """Apply one attributes line to ``rel`` (the path below the file's folder): its
    ``text``, ``crlf`` and ``eol`` assignments (``binary`` is ``-text``) go into ``state`` when
    the pattern matches. None when the line is one this reading is not sure of."""
    line = raw.strip(b" \t\r")
    if not line or line.startswith(b"#"):
        return True
    if line.startswith((b"[attr]", b'"')):
        return None
    pattern, *tokens = line.split()
    names = [token.lstrip(b"-!").split(b"=", 1)[0] for token in tokens]
    if not any(n in (b"text", b"crlf", b"eol", b"binary") for n in names):
        return True
    if pattern.startswith(b"!") or pattern.endswith(b"/"):
        return True  # git ignores a negative pattern; a folder pattern never matches a file
    matched = _matches(pattern, rel)
    if matched is None:
        return None
    if not matched:
        return True
    for token, name in zip(tokens, names):
        if name == b"binary":
            name, token = b"text", b"-text"
        if name not in (b"text", b"crlf", b"eol"):
            continue
        if token.startswith(b"-"):
            state[name] = b"unset"
        elif token.startswith(b"!"):
            state[name] = None
        elif b"=" in token:
            state[name] = token.split(b"=", 1)[1]
        else:
            state[name] = b"set"
    return True


def _matches(pattern: bytes, rel: bytes) -> bool | None:
    """git's attribute pattern match: without a slash, against the base name; with one,
    against the path below the file's folder (a leading slash anchors it there)."""
    from .ignore import translate

    try:
        glob = pattern.decode("utf-8")
        path = rel.decode("utf-8")
    except UnicodeDecodeError:
        return None
    if "/" not in glob:
        path = path.rsplit("/", 1)[-1]
    elif glob.startswith("/"):
        glob = glob[1:]
    regex = translate(glob)
    if regex is None:
        return False
    import re

    return re.fullmatch(regex, path, re.DOTALL) is not None


def _read_regular_nofollow(path: bytes, dir_fd: int | None) -> bytes | None:
    """A regular file's bytes, b"" when there is none, None for anything else."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK, dir_fd=dir_fd)
    except (FileNotFoundError, NotADirectoryError):
        return b""
    except OSError:
        return None
    try:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            return None
        return read_all(fd)
    finally:
        os.close(fd)


def _read(path: bytes, dir_fd: int | None) -> bytes:
    try:
        fd = os.open(path, os.O_RDONLY, dir_fd=dir_fd)
    except (FileNotFoundError, NotADirectoryError):
        return b""
    try:
        return read_all(fd)
    finally:
        os.close(fd)
