"""A repository: where it is, its refs, and the doors to its config and objects.

Locations follow git's rules (``GIT_DIR``, ``GIT_WORK_TREE``, ``GIT_COMMON_DIR``,
``GIT_INDEX_FILE``, ``.git`` files of linked worktrees). Refs are parsed here directly (a small
format on the hot path of every hook), and so are config and objects in the common cases
(:mod:`.config`, :mod:`.objects`); dulwich, imported lazily, serves the rest: config includes,
objects in alternates. Nothing here ever writes.
"""
from __future__ import annotations

import os

from ..errors import AyjntError

TYPE_CHECKING = False  # (typing is not imported at run time: start-up time counts here)
if TYPE_CHECKING:
    from typing import Any

    from dulwich.object_store import DiskObjectStore
    from dulwich.objects import ObjectID

    from .config import GitConfig

# Per-worktree refs live in the worktree's own git dir; all others in the common dir.
_PER_WORKTREE = ("HEAD", "refs/bisect/", "refs/worktree/", "refs/rewritten/")


class NotARepo(AyjntError):
    pass


class Repo:
    def __init__(self, gitdir: str, commondir: str, worktree: str | None,
                 index_file: str) -> None:
        self.gitdir = gitdir
        self.commondir = commondir
        self.worktree = worktree
        self.index_file = index_file
        self._packed: dict[str, str] | None = None
        self._packed_data: bytes | None = None
        self._config: Any = None
        self._store: Any = None
        self._reader: Any = None

    def __repr__(self) -> str:
        return f"Repo(gitdir={self.gitdir!r}, worktree={self.worktree!r})"

    # ------------------------------------------------------------------ refs
    def _packed_refs(self) -> dict[str, str]:
        if self._packed is None:
            self._packed = {}
            try:
                with open(os.path.join(self.commondir, "packed-refs"), "rb") as f:
                    for line in f:
                        if line[:1] in (b"#", b"^"):
                            continue
                        sha, _, name = line.rstrip(b"\n").partition(b" ")
                        self._packed[name.decode("utf-8", "surrogateescape")] = sha.decode()
            except FileNotFoundError:
                pass
        return self._packed

    def packed_refs_text(self) -> bytes:
        """The raw ``packed-refs`` file (b"" when there is none)."""
        if self._packed_data is None:
            try:
                with open(os.path.join(self.commondir, "packed-refs"), "rb") as f:
                    self._packed_data = f.read()
            except FileNotFoundError:
                self._packed_data = b""
        return self._packed_data

    def _packed_ref(self, name: str) -> str | None:
        """One name's id from ``packed-refs``, found with ``bytes.find`` rather than by
        parsing every line (a clone of a busy repository packs thousands of refs)."""
        data = self.packed_refs_text()
        needle = b" " + name.encode("utf-8", "surrogateescape")
        at = data.find(needle)
        while at >= 0:
            end = at + len(needle)
            start = data.rfind(b"\n", 0, at) + 1
            if (end == len(data) or data[end] in b"\r\n") and at - start == 40 \
                    and data[start] not in b"#^":
                return data[start:at].decode("ascii", "replace")
            at = data.find(needle, at + 1)
        return None

    def read_ref_raw(self, name: str) -> str | None:
        """The ref's own content: ``ref: <target>`` or a sha; None when absent."""
        base = self.gitdir if name.startswith(_PER_WORKTREE) else self.commondir
        try:
            with open(os.path.join(base, *name.split("/")), "rb") as f:
                text = f.read().decode("utf-8", "surrogateescape").strip()
        except (FileNotFoundError, NotADirectoryError, IsADirectoryError):
            return self._packed_ref(name)
        return text or None

    def resolve(self, name: str) -> tuple[list[str], str | None]:
        """Follow symbolic refs: (chain of names, final sha or None if unborn/absent)."""
        chain = [name]
        for _ in range(10):
            raw = self.read_ref_raw(chain[-1])
            if raw is None:
                return chain, None
            if raw.startswith("ref:"):
                chain.append(raw[4:].strip())
                continue
            return chain, raw
        return chain, None

    def ref_sha(self, name: str) -> str | None:
        return self.resolve(name)[1]

    def rev_parse(self, spec: str) -> str | None:
        """A commit sha for a full sha, a ref name, or a short branch/tag/remote name."""
        if len(spec) == 40 and all(c in "0123456789abcdef" for c in spec.lower()):
            return spec.lower()
        for candidate in (spec, f"refs/{spec}", f"refs/tags/{spec}", f"refs/heads/{spec}",
                          f"refs/remotes/{spec}", f"refs/remotes/{spec}/HEAD"):
            sha = self.ref_sha(candidate)
            if sha is not None:
                return sha
        return None

    # ------------------------------------------------------------------ config
    @property
    def config(self) -> GitConfig:
        if self._config is None:
            from .config import GitConfig

            try:
                self._config = GitConfig(self.commondir)
            except Exception as e:
                raise AyjntError(f"{os.path.join(self.commondir, 'config')}: cannot parse git "
                                 f"config ({e}). Fix the file (git config --list shows the "
                                 f"error).") from None
        return self._config  # type: ignore[no-any-return]

    def config_get(self, section: str, name: str, sub: str | None = None) -> str | None:
        return self.config.get(section, name, sub)

    def config_bool(self, section: str, name: str, default: bool) -> bool:
        value = self.config_get(section, name)
        if value is None:
            return default
        return value.strip().lower() in ("true", "yes", "on", "1", "")

    # ------------------------------------------------------------------ objects
    @property
    def objects(self) -> DiskObjectStore:
        if self._store is None:
            from dulwich.object_store import DiskObjectStore

            self._store = DiskObjectStore(os.path.join(self.commondir, "objects"))
        return self._store  # type: ignore[no-any-return]

    def read_object(self, sha: str) -> tuple[int, bytes]:
        """(type number, raw content) — 1 commit, 2 tree, 3 blob, 4 tag. KeyError if absent."""
        if self._reader is None:
            from .objects import ObjectReader

            self._reader = ObjectReader(os.path.join(self.commondir, "objects"))
        found: tuple[int, bytes] | None = self._reader.read(sha)
        if found is not None:
            return found
        type_num, data = self.objects.get_raw(_object_id(sha))
        return type_num, data

    def has_object(self, sha: str) -> bool:
        return _object_id(sha) in self.objects

    def commit_tree(self, sha: str) -> str:
        type_num, data = self.read_object(sha)
        while type_num == 4:  # annotated tag: peel
            target = data.split(b"\n", 1)[0].split(b" ")[1].decode()
            type_num, data = self.read_object(target)
        if type_num != 1:
            raise AyjntError(f"{sha} is not a commit.")
        return data[5:45].decode()


def _object_id(sha: str) -> ObjectID:
    return sha.encode()  # type: ignore[return-value, unused-ignore]  # (a NewType in dulwich 1.x)


def read_gitfile(path: str) -> str:
    with open(path, encoding="utf-8") as f:
        content = f.read().strip()
    if not content.startswith("gitdir:"):
        raise NotARepo(f"{path}: not a gitdir file (expected 'gitdir: <path>').")
    target = content[7:].strip()
    return os.path.normpath(os.path.join(os.path.dirname(path), target))


def commondir_of(gitdir: str) -> str:
    try:
        with open(os.path.join(gitdir, "commondir"), encoding="utf-8") as f:
            rel = f.read().strip()
    except FileNotFoundError:
        return gitdir
    return os.path.normpath(os.path.join(gitdir, rel))


def _is_gitdir(path: str) -> bool:
    return os.path.isfile(os.path.join(path, "HEAD")) and (
        os.path.isdir(os.path.join(path, "objects"))
        or os.path.isfile(os.path.join(path, "commondir")))


def discover(start: str) -> Repo:
    """The repository that contains ``start`` (or the one ``GIT_DIR`` names)."""
    env = os.environ
    cwd = os.getcwd()
    env_gitdir = env.get("GIT_DIR")
    if env_gitdir:
        gitdir = os.path.abspath(os.path.join(cwd, env_gitdir))
        if os.path.isfile(gitdir):
            gitdir = read_gitfile(gitdir)
        worktree: str | None = os.path.abspath(env.get("GIT_WORK_TREE") or cwd)
    else:
        current = os.path.abspath(start)
        while True:
            dotgit = os.path.join(current, ".git")
            if os.path.isdir(dotgit) and _is_gitdir(dotgit):
                gitdir = dotgit
                break
            if os.path.isfile(dotgit):
                gitdir = read_gitfile(dotgit)
                break
            parent = os.path.dirname(current)
            if parent == current:
                raise NotARepo("fatal: not a git repository (or any of the parent "
                               "directories): .git",
                               hint=f"run it inside a git checkout ({start} is not in one)")
            current = parent
        worktree = current
        if env.get("GIT_WORK_TREE"):
            worktree = os.path.abspath(env["GIT_WORK_TREE"])
    commondir = os.path.abspath(os.path.join(cwd, env["GIT_COMMON_DIR"])) \
        if env.get("GIT_COMMON_DIR") else commondir_of(gitdir)
    index = env.get("GIT_INDEX_FILE")
    index_file = os.path.abspath(os.path.join(cwd, index)) if index \
        else os.path.join(gitdir, "index")
    repo = Repo(gitdir, commondir, worktree, index_file)
    fmt = repo.config_get("extensions", "objectformat")
    if fmt and fmt.lower() != "sha1":
        raise AyjntError(f"{commondir}: unsupported repository format (objectFormat={fmt}); "
                         f"ayjnt-hooks reads SHA-1 repositories only.")
    if repo.config_get("extensions", "refstorage") not in (None, "files"):
        raise AyjntError(f"{commondir}: unsupported ref storage (reftable); ayjnt-hooks reads "
                         f"the files backend only.")
    return repo
