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
  ``filter`` or ``working-tree-encoding`` named in any attributes file that applies (the
  path's folders' ``.gitattributes``, ``info/attributes``, the global and system files; a
  word search, so a mention anywhere counts), CRLF handling (``core.autocrlf``, or ``text``,
  ``eol``, ``crlf`` mentioned) when the file holds a ``\\r``, and ``ident`` when it holds
  ``$Id``. Without those bytes these conversions leave the content as it is.
* Submodules: git checks them only as much as ``submodule.<name>.ignore`` says; we check them
  fully (HEAD, then a clean proof inside), which is never less than git does.
"""
from __future__ import annotations

import os
import stat

from .trees import blob_sha

TYPE_CHECKING = False  # (typing is not imported at run time: start-up time counts here)
if TYPE_CHECKING:
    from typing import Callable

    from .repo import Repo

_CONVERTING = (b"filter", b"working-tree-encoding")
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
        self._autocrlf: bool | None = None

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
        if any(word in attributes for word in _CONVERTING):
            return False
        if crlf and b"\r" in content and (self._crlf_config() or
                                          any(word in attributes for word in _CRLF_WORDS)):
            return False
        return not (b"$Id" in content and b"ident" in attributes)

    def attributes_beyond_root(self, name: bytes) -> bytes:
        """The attributes files for ``name`` other than the top-level ``.gitattributes``."""
        return self._attributes_for(name, with_root=False)

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

    def _global_attributes(self) -> bytes:
        if self._global is None:
            env = os.environ
            paths = [os.path.join(self.repo.commondir, "info", "attributes")]
            configured = self.repo.config_get("core", "attributesfile")
            if configured:
                paths.append(os.path.expanduser(configured))
            elif env.get("XDG_CONFIG_HOME"):
                paths.append(os.path.join(env["XDG_CONFIG_HOME"], "git", "attributes"))
            elif env.get("HOME"):
                paths.append(os.path.join(env["HOME"], ".config", "git", "attributes"))
            if not env.get("GIT_ATTR_NOSYSTEM"):
                paths.append("/etc/gitattributes")
            self._global = b"\n".join(_read(os.fsencode(p), None) for p in paths)
        return self._global

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


def _read(path: bytes, dir_fd: int | None) -> bytes:
    try:
        fd = os.open(path, os.O_RDONLY, dir_fd=dir_fd)
    except (FileNotFoundError, NotADirectoryError):
        return b""
    try:
        chunks: list[bytes] = []
        while True:
            chunk = os.read(fd, 1 << 16)
            if not chunk:
                return b"".join(chunks)
            chunks.append(chunk)
    finally:
        os.close(fd)
