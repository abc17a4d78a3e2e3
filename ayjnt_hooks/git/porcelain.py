"""``git status --porcelain`` (v1) computed read-only, following git's own rules.

Staged changes: HEAD's tree against the entries hashed into trees (the cache-tree is checked
against them, never trusted). Unstaged: git's stat-cache check (``ie_match_stat``: mode/type,
the size rule, the racy-timestamp rule, content hashing only when stat data cannot decide).
Untracked: one ``os.scandir`` walk with git's "normal" directory collapsing and ignore rules
(:mod:`.untracked`, :mod:`.ignore`; ``info/exclude`` is read from the common dir; a saved
untracked cache is checked by :mod:`.untrackedcache`). Renames: git's diffcore-rename replayed
(exact, same base name, then its spanhash similarity score), on both sides. Never writes
anything. Callers ask :func:`~ayjnt_hooks.git.status.status`, which first tries the fast proof
of a clean tree (:mod:`.cleanproof`) and imports this module only when that gives up.
"""
from __future__ import annotations

import errno
import os
import stat

from ..errors import AyjntError
from .cleanproof import proven_clean
from .index import Index, read_index
from .repo import Repo, commondir_of, read_gitfile
from .settings import SUBMODULE_IGNORE, StatusSettings, submodule_ignore_value
from .trees import S_IFDIR, S_IFGITLINK, S_IFLNK, blob_sha, parse_tree, tree_sha
from .untracked import UntrackedNames, entry_kind, fold, is_git_directory

TYPE_CHECKING = False  # (typing is not imported at run time: start-up time counts here)
if TYPE_CHECKING:
    from collections.abc import Iterator

    from .contentcheck import ContentCheck
    from .index_entries import IndexEntry

# (lines, conflicted, inexact): see StatusComputer.compute
Result = tuple[list[str], bool, "str | None"]
_EMPTY_TREE = "4b825dc642cb6eb9a060e54bf8d69288fbee4904"
_CONFLICT_CODES = {1: "DD", 2: "AU", 3: "UD", 4: "UA", 5: "DU", 6: "AA", 7: "UU"}
_U32 = 0xFFFFFFFF
# lstat errors that mean "not there" to git; any other (too long, no permission) is reported
# on stderr by git, which then treats the entry as unchanged
_GONE = (errno.ENOENT, errno.ENOTDIR)
_NS = 1_000_000_000
EMPTY_BLOB = "e69de29bb2d1d6434b8b29ae775ad8c2e48c5391"
_MAX_CONTENT = 1 << 31  # (git's index holds sizes in 32 bits)
# re-adding every entry as it is drops each cache-tree node on its path (git rebuilds them on
# the next commit); `git update-index --refresh` keeps them, `git read-tree HEAD` drops the
# staged changes
CACHE_TREE_FIX = "git ls-files -s -z | git update-index -z --index-info"


def _read_regular(path: str) -> bytes:
    """A regular file's bytes; opened without blocking (a FIFO swapped in is refused)."""
    fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_NOFOLLOW", 0))
    try:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            raise OSError(errno.EINVAL, "not a regular file")
        chunks = []
        while chunk := os.read(fd, 1 << 20):
            chunks.append(chunk)
        return b"".join(chunks)
    finally:
        os.close(fd)


def _gitlink_head(path: str) -> str | None:
    """git's ``resolve_gitlink_ref(path, "HEAD")``: the commit a nested repository's HEAD
    names, or None (no repository there, or an unborn HEAD)."""
    dotgit = os.path.join(path, ".git")
    try:
        gitdir = read_gitfile(dotgit) if os.path.isfile(dotgit) else dotgit
    except (OSError, AyjntError):
        return None
    if not is_git_directory(gitdir):
        return None
    try:
        return Repo(gitdir, commondir_of(gitdir), path, "").ref_sha("HEAD")
    except (OSError, AyjntError):
        return None


def _trunc(ns: int) -> int:
    """A timestamp as the index stores it (seconds truncated to 32 bits)."""
    return ((ns // _NS) & _U32) * _NS + ns % _NS


def quote_path(text: str, quote_non_ascii: bool = True) -> str:
    """git's ``quote_c_style`` as used by ``status --porcelain`` (SP quoted too)."""
    path = text.encode("utf-8", "surrogateescape")
    special = {7: "\\a", 8: "\\b", 9: "\\t", 10: "\\n", 11: "\\v", 12: "\\f", 13: "\\r",
               34: '\\"', 92: "\\\\"}
    needs = any(b < 0x21 or b in (34, 92, 127) or (b >= 0x80 and quote_non_ascii)
                for b in path)
    if not needs:
        return path.decode("utf-8", "surrogateescape")
    out = []
    for b in path:
        if b in special:
            out.append(special[b])
        elif b < 0x20 or b == 127 or (b >= 0x80 and quote_non_ascii):
            out.append(f"\\{b:03o}")
        else:
            out.append(chr(b))
    text = "".join(out)
    if not quote_non_ascii:
        text = text.encode("latin-1").decode("utf-8", "surrogateescape")
    return f'"{text}"'


class _Node:
    """The index as a tree, for computing tree ids like ``git write-tree``."""

    def __init__(self, sha: str | None = None) -> None:
        self.files: dict[bytes, tuple[int, str]] = {}
        self.dirs: dict[bytes, _Node] = {}
        self._sha = sha  # known up front for a sparse directory entry
        self.sparse = sha is not None

    def entry_count(self) -> int:
        """How many index entries the folder covers (a sparse directory entry is one)."""
        if self.sparse:
            return 1
        return len(self.files) + sum(d.entry_count() for d in self.dirs.values())

    def find(self, path: bytes) -> _Node | None:
        node: _Node | None = self
        for part in path.split(b"/") if path else ():
            node = node.dirs.get(part) if node is not None and not node.sparse else None
        return node

    def sha(self) -> str:
        if self._sha is None:
            items = [(n, m, s) for n, (m, s) in self.files.items()]
            items += [(n, S_IFDIR, d.sha()) for n, d in self.dirs.items()]
            self._sha = tree_sha(items)
        return self._sha


def _index_tree(entries: list[IndexEntry]) -> _Node:
    root = _Node()
    for e in entries:
        node = root
        path = e.path.rstrip("/") if e.mode == S_IFDIR else e.path  # sparse dirs end in "/"
        *parents, name = path.encode("utf-8", "surrogateescape").split(b"/")
        for part in parents:
            node = node.dirs.setdefault(part, _Node())
        if e.mode == S_IFDIR:  # sparse-index directory entry: a whole tree
            node.dirs[name] = _Node(e.sha)
        else:
            node.files[name] = (e.mode, e.sha)
    return root


def _type(mode: int) -> int:
    return mode & 0o170000


class StatusComputer:
    def __init__(self, repo: Repo, index: Index | None = None,
                 untracked_mode: str | None = None) -> None:
        if repo.worktree is None:
            raise AyjntError(f"{repo.gitdir}: no work tree (a bare repository, or core.bare = "
                             f"true); git status refuses it too (\"this operation must be run "
                             f"in a work tree\").", path=repo.gitdir)
        self.repo = repo
        self.worktree: str = repo.worktree
        self._index = index
        settings = self.settings = StatusSettings(repo)
        self.file_mode = settings.file_mode
        self.trust_ctime = settings.trust_ctime
        self.check_stat_full = settings.check_stat_full
        self.quote_non_ascii = settings.quote_path
        self.symlinks = settings.symlinks
        self.untracked_mode = untracked_mode or settings.untracked
        self.autocrlf = (repo.config_get("core", "autocrlf") or "false").lower()
        self.untracked = UntrackedNames(repo, self.worktree, self.untracked_mode)
        self.head_tree: str | None = None  # set by staged(); None while HEAD is unborn
        self._attrs: list[tuple[bytes, list[bytes]]] | None = None
        self._gitmodules_read: tuple[dict[str, str], dict[str, str]] | None = None
        self._content: ContentCheck | None = None

    @property
    def index(self) -> Index:
        if self._index is None:  # (not needed to list untracked names: read on first use)
            self._index = read_index(self.repo.index_file)
        return self._index

    # ------------------------------------------------------------ staged
    def staged(self, stage0: list[IndexEntry]) -> dict[str, str]:
        """HEAD's tree against the entries. The cache-tree is checked, never trusted: git
        trusts it for subfolders (``unpack_trees`` skips a folder whose saved tree id is
        HEAD's), so one that disagrees with the entries makes git status show fewer staged
        changes than the entries hold — the index is then refused as corrupt."""
        relevant = [e for e in stage0 if not e.intent_to_add]
        node = _index_tree(relevant)
        self._check_cache_tree(node)
        head = self.repo.ref_sha("HEAD")
        if head is None:
            return {e.path: "A" for e in relevant}
        head_tree = self.head_tree = self.repo.commit_tree(head)
        if node.sha() == head_tree:
            self.repo.read_object(head_tree)  # (git reads HEAD's tree: damage there must show)
            return {}
        changes: dict[bytes, str] = {}
        self._compare_tree(head_tree, node, b"", changes)
        return {p.decode("utf-8", "surrogateescape"): x for p, x in changes.items()}

    def _check_cache_tree(self, node: _Node) -> None:
        """Every valid cache-tree node names the tree its folder's entries make."""
        for path, count, tree_id in self.index.cache_tree or ():
            if count < 0:
                continue  # invalidated: git does not use it
            folder = node.find(path)
            agrees = folder.sha() == tree_id.hex() and folder.entry_count() == count \
                if folder is not None else count == 0 and tree_id.hex() == _EMPTY_TREE
            if not agrees:
                where = f"folder {quote_path(path.decode('utf-8', 'surrogateescape'))}" \
                    if path else "the top folder"
                raise AyjntError(f"{self.index.path}: corrupt git index: its cache-tree (the "
                                 f"saved tree ids) disagrees with its entries for {where}. git "
                                 f"trusts a subfolder's saved tree id when comparing with HEAD, "
                                 f"so git status can show fewer staged changes there than the "
                                 f"entries hold; ayjnt-hooks does not answer from such an "
                                 f"index. Rebuild the cache-tree from the entries, keeping "
                                 f"them: {CACHE_TREE_FIX}", path=self.index.path)

    def _tree_files(self, sha: str, prefix: bytes) -> Iterator[tuple[bytes, int, str]]:
        for name, (mode, child) in parse_tree(self.repo.read_object(sha)[1]).items():
            if mode == S_IFDIR:
                yield from self._tree_files(child, prefix + name + b"/")
            else:
                yield prefix + name, mode, child

    def _node_files(self, node: _Node, prefix: bytes) -> Iterator[tuple[bytes, int, str]]:
        for name, (mode, sha) in node.files.items():
            yield prefix + name, mode, sha
        for name, sub in node.dirs.items():
            if sub.files or sub.dirs:
                yield from self._node_files(sub, prefix + name + b"/")
            else:  # sparse directory entry: list it from the object store
                yield from self._tree_files(sub.sha(), prefix + name + b"/")

    def _compare_tree(self, head_sha: str, node: _Node, prefix: bytes,
                      changes: dict[bytes, str]) -> None:
        head = parse_tree(self.repo.read_object(head_sha)[1])
        for name in set(head) | set(node.files) | set(node.dirs):
            path = prefix + name
            h = head.get(name)
            h_is_tree = h is not None and h[0] == S_IFDIR
            if name in node.dirs:
                sub = node.dirs[name]
                if h_is_tree:
                    assert h is not None
                    if h[1] != sub.sha():
                        self._compare_tree(h[1], sub, path + b"/", changes)
                    continue
                if h is not None:
                    changes[path] = "D"
                for p, _, _ in self._node_files(sub, path + b"/"):
                    changes[p] = "A"
            elif name in node.files:
                mode, sha = node.files[name]
                if h_is_tree:
                    assert h is not None
                    for p, _, _ in self._tree_files(h[1], path + b"/"):
                        changes[p] = "D"
                    changes[path] = "A"
                elif h is None:
                    changes[path] = "A"
                elif _type(h[0]) != _type(mode):
                    changes[path] = "T"
                elif h != (mode, sha):
                    changes[path] = "M"
            elif h_is_tree:
                assert h is not None
                for p, _, _ in self._tree_files(h[1], path + b"/"):
                    changes[p] = "D"
            else:
                changes[path] = "D"

    # ------------------------------------------------------------ unstaged
    def _racy(self, e: IndexEntry) -> bool:
        """git's ``is_racy_timestamp``: the entry is not older than the index, in whole
        seconds (git's default build, without USE_NSEC, compares seconds only)."""
        index_sec = self.index.mtime_ns // _NS
        return index_sec != 0 and index_sec <= e.mtime_ns // _NS

    def _stat_matches(self, e: IndexEntry, st: os.stat_result) -> bool:
        """git's ``match_stat_data``: seconds of mtime (and of ctime with core.trustctime and
        core.checkStat=default), owner and inode with checkStat=default, and the size."""
        if (st.st_mtime_ns // _NS) & _U32 != e.mtime_ns // _NS:
            return False
        if self.trust_ctime and self.check_stat_full \
                and (st.st_ctime_ns // _NS) & _U32 != e.ctime_ns // _NS:
            return False
        if self.check_stat_full and ((st.st_ino & _U32) != e.ino or st.st_uid != e.uid
                                     or st.st_gid != e.gid):
            return False
        return (st.st_size & _U32) == e.size

    def _new_type(self, e: IndexEntry, st_mode: int) -> int:
        """The file type of git's ``ce_mode_from_stat`` (what the diff compares)."""
        if stat.S_ISLNK(st_mode):
            return S_IFLNK
        if stat.S_ISDIR(st_mode):
            return S_IFGITLINK
        if not self.symlinks and stat.S_ISREG(st_mode) and _type(e.mode) == S_IFLNK:
            return S_IFLNK
        return 0o100000  # (a FIFO, socket or device too: git makes it a regular mode)

    def worktree_change(self, e: IndexEntry, st: os.stat_result | None) -> str:
        """'' (unchanged), 'M', 'D' or 'T' for one stage-0 entry (git's ``ie_modified`` after
        the in-memory refresh that ``git status`` does)."""
        if e.assume_valid or e.skip_worktree or e.mode == S_IFDIR:
            return ""
        if e.intent_to_add:
            return "A" if st is not None else "D"
        if st is None:
            return "D"
        if e.mode == S_IFGITLINK:
            return self._gitlink_change(e, st)
        st_mode = st.st_mode
        if stat.S_ISDIR(st_mode):  # a folder where the file was: deleted, unless a repository
            return "T" if _gitlink_head(os.path.join(self.worktree, e.path)) else "D"
        letter = "T" if self._new_type(e, st_mode) != _type(e.mode) else "M"
        if _type(e.mode) == S_IFLNK:
            if not stat.S_ISLNK(st_mode) and (self.symlinks or not stat.S_ISREG(st_mode)):
                return letter
        elif not stat.S_ISREG(st_mode):
            return letter  # (a symlink, FIFO, socket or device where a file was)
        elif self.file_mode and (e.mode ^ st_mode) & 0o100:
            return letter
        smudged = e.size == 0 and e.sha != EMPTY_BLOB  # git's "racily smudged" entry
        if self._stat_matches(e, st) and not smudged and not self._racy(e):
            return ""
        if e.size != 0 and (st.st_size & _U32) != e.size:
            return letter
        return "" if self._content_sha(e, stat.S_ISLNK(st_mode)) == e.sha else letter

    def _content_sha(self, e: IndexEntry, is_link: bool) -> str:
        path = os.path.join(self.worktree, e.path)
        try:
            data = os.fsencode(os.readlink(path)) if is_link else _read_regular(path)
        except OSError:
            return ""
        if not is_link:
            self._refuse_unmodelled_conversion(e, data)
        if not is_link and b"\r\n" in data and self._converts_crlf(e):
            data = data.replace(b"\r\n", b"\n")
        return blob_sha(data)

    def _refuse_unmodelled_conversion(self, e: IndexEntry, data: bytes) -> None:
        """Where git would convert the file before hashing it in a way modelled nowhere here
        (a clean filter, working-tree-encoding, ident, or CRLF rules from an attributes file
        other than the top-level one), hashing it as it is could call a changed file clean:
        refuse instead."""
        from .contentcheck import ContentCheck

        if self._content is None:
            self._content = ContentCheck(self.repo, None)
        name = e.path.encode("utf-8", "surrogateescape")
        beyond = self._content.attributes_beyond_root(name)
        if self._content.unconverted(name, data, crlf=False) and not (
                b"\r" in data and any(w in beyond for w in (b"text", b"eol", b"crlf"))):
            return
        from ..errors import AyjntError

        raise AyjntError(
            f"{e.path}: cannot tell whether it is modified: git would convert it (a filter, "
            f"working-tree-encoding, ident or end-of-line rule in its attributes) before "
            f"comparing it with the index, and ayjnt-hooks does not run those conversions.",
            path=e.path, hint="git update-index --refresh (then run the check again)")

    def _converts_crlf(self, e: IndexEntry) -> bool:
        """Would git's clean filter turn CRLF into LF for this path (autocrlf / eol attrs)?"""
        text_attr = self._text_attribute(e.path)
        if text_attr is False:
            return False
        if text_attr is None and self.autocrlf not in ("true", "input"):
            return False
        if text_attr is True:
            return True  # text or eol= set: git converts whatever the index holds (crlf_to_git)
        # "safe autocrlf" (text=auto, core.autocrlf): a blob that already holds CRLF in the
        # index is left alone
        try:
            blob = self.repo.read_object(e.sha)[1]
        except KeyError:
            return True
        return b"\r" not in blob and b"\0" not in blob

    def _text_attribute(self, text: str) -> bool | str | None:
        """True when .gitattributes sets text or eol=, "auto" for text=auto, False for -text
        or binary, else None."""
        if self._attrs is None:
            self._attrs = []
            try:
                with open(os.path.join(self.worktree, ".gitattributes"), "rb") as f:
                    for line in f:
                        parts = line.split()
                        if parts and not parts[0].startswith(b"#"):
                            self._attrs.append((parts[0], parts[1:]))
            except OSError:
                pass
        from fnmatch import fnmatchcase

        path = text.encode("utf-8", "surrogateescape")
        name = path.rsplit(b"/", 1)[-1]
        verdict: bool | str | None = None
        for pattern, attrs in self._attrs:
            target = path if b"/" in pattern.rstrip(b"/") else name
            if not fnmatchcase(target, pattern.lstrip(b"/")):
                continue
            for a in attrs:
                if a in (b"-text", b"binary"):
                    verdict = False
                elif a == b"text=auto":
                    verdict = "auto"
                elif a.startswith(b"text") or a.startswith(b"eol="):
                    verdict = True
        return verdict

    def _gitlink_change(self, e: IndexEntry, st: os.stat_result) -> str:
        """git's ``match_stat_with_submodule``: a new commit or (unless ignored) a dirty
        submodule is 'M'; ``submodule.<name>.ignore`` and ``diff.ignoreSubmodules`` decide."""
        if not stat.S_ISDIR(st.st_mode):
            return "T"
        ignore_all, ignore_dirty, ignore_untracked = self._submodule_ignore(e.path)
        if ignore_all:
            return ""
        head = _gitlink_head(os.path.join(self.worktree, e.path))
        if head is not None and head != e.sha:
            return "M"
        if not ignore_dirty and self._submodule_dirty(e, ignore_untracked):
            return "M"
        return ""

    def _submodule_ignore(self, path: str) -> tuple[bool, bool, bool]:
        """(ignore all, ignore dirty, ignore untracked) for the gitlink at ``path``, as
        ``wt_status_collect_changes_worktree`` and ``match_stat_with_submodule`` set them."""
        value = self.settings.diff_ignore_submodules
        flags = (False, False, self.untracked_mode == "no")
        if value is None and self.untracked_mode != "no":
            value = "none"
        names, ignores = self._gitmodules()
        name = names.get(path)
        if name is not None:
            configured = self.repo.config_get("submodule", "ignore", name)
            if configured is not None:
                value = submodule_ignore_value(configured, f"submodule.{name}.ignore")
            else:
                value = ignores.get(name, value)
        if value is None:
            return flags
        return value == "all", value == "dirty", value == "untracked"

    def _gitmodules(self) -> tuple[dict[str, str], dict[str, str]]:
        """From .gitmodules: submodule name by path, and each name's valid ``ignore``."""
        if self._gitmodules_read is None:
            names: dict[str, str] = {}
            ignores: dict[str, str] = {}
            data = self._gitmodules_bytes()
            if data is not None:
                from .config import _BadLine, parse

                def on_value(base: str, key: str, value: bytes | None, line: int) -> None:
                    section, _, sub = base.partition(".")
                    if section.lower() != "submodule" or not sub or value is None:
                        return
                    text = value.decode("utf-8", "surrogateescape")
                    if key == "path":
                        names[text] = sub
                    elif key == "ignore" and text in SUBMODULE_IGNORE:
                        ignores[sub] = text  # (git warns about another value and drops it)

                try:
                    parse(data, on_value)
                except _BadLine:
                    raise AyjntError(f"{os.path.join(self.worktree, '.gitmodules')}: cannot "
                                     f"parse it (git config -f .gitmodules --list shows where)."
                                     ) from None
            self._gitmodules_read = (names, ignores)
        return self._gitmodules_read

    def _gitmodules_bytes(self) -> bytes | None:
        """.gitmodules from the working tree, else from the index (git's order)."""
        try:
            return _read_regular(os.path.join(self.worktree, ".gitmodules"))
        except OSError:
            pass
        for e in self.index.entries:
            if e.path == ".gitmodules" and not e.flags & 0x3000:
                try:
                    return self.repo.read_object(e.sha)[1]
                except KeyError:
                    return None
        return None

    def _submodule_dirty(self, e: IndexEntry, ignore_untracked: bool) -> bool:
        sub_path = os.path.join(self.worktree, e.path)
        dotgit = os.path.join(sub_path, ".git")
        if os.path.isfile(dotgit):
            gitdir = read_gitfile(dotgit)
        elif os.path.isdir(dotgit):
            gitdir = dotgit
        else:
            return False  # not checked out: git treats it as unchanged
        if not is_git_directory(gitdir):
            if os.path.isdir(gitdir):
                from ..errors import AyjntError

                raise AyjntError(f"{gitdir}: not recognized as a git repository (git status "
                                 f"stops here too). Fix or remove the submodule's .git.")
            return False
        sub = Repo(gitdir, commondir_of(gitdir), sub_path, os.path.join(gitdir, "index"))
        if proven_clean(sub):
            return False
        return bool(StatusComputer(sub, untracked_mode="no" if ignore_untracked else None
                                   ).compute(first_only=True)[0])

    # ------------------------------------------------------------ all
    def compute(self, *, first_only: bool = False) -> Result:
        """(porcelain lines, whether any entry is conflicted, why the exact lines cannot be
        given or None): what :class:`~ayjnt_hooks.git.status.Status` holds."""
        entries = self.index.entries
        stage0: list[IndexEntry] = []
        conflicts: dict[str, int] = {}
        for e in entries:
            if e.flags & 0x3000:
                conflicts[e.path] = conflicts.get(e.path, 0) | (1 << (e.stage - 1))
            else:
                stage0.append(e)
        tracked: dict[str, IndexEntry] = {e.path: e for e in stage0}

        def skip_worktree_blob(path: str) -> bytes | None:
            e = tracked.get(path)
            if e is None or not e.skip_worktree:
                return None
            try:
                kind, data = self.repo.read_object(e.sha)
            except KeyError:
                return None
            return data if kind == 3 else None

        self.untracked.skip_worktree_blob = skip_worktree_blob
        tracked_dirs: set[str] = set()
        sparse_dirs: set[str] = set()
        for path in (*tracked, *conflicts):
            cut = path.rfind("/")
            while cut > 0:
                parent = path[:cut]
                if parent in tracked_dirs:
                    break
                tracked_dirs.add(parent)
                cut = parent.rfind("/")
        for e in stage0:
            if e.mode == S_IFDIR:
                sparse_dirs.add(e.path.rstrip("/"))

        codes: dict[str, list[str]] = {}
        staged = self.staged(stage0)
        for path, x in staged.items():
            codes[path] = [x, " "]
        if first_only and (staged or conflicts):
            return ["dirty"], bool(conflicts), None

        folded_dirs: set[str] | None = None
        if self.settings.ignorecase:  # git's lookups in the index ignore case
            self.untracked.folded_index = frozenset(
                fold(p) for p in (*tracked, *conflicts, *tracked_dirs))
            folded_dirs = {fold(d) for d in tracked_dirs}
        if self.untracked_mode != "no" and self.index.untracked_cache \
                and self.settings.reads_untracked_cache:
            self._check_untracked_cache(tracked, conflicts, tracked_dirs)
        untracked: list[str] = []
        seen: set[str] = set()
        sigs = self._stat_signatures(stage0)
        trust_ctime, full = self.trust_ctime, self.check_stat_full
        file_mode = self.file_mode
        exec_mask = 0o170100 if file_mode else 0o170000
        pending = [(self.worktree, "")]
        while pending:
            abs_dir, rel_dir = pending.pop()
            try:
                with os.scandir(abs_dir) as it:
                    dir_entries = list(it)
            except OSError:
                continue
            for entry in dir_entries:
                rel = rel_dir + entry.name
                if rel in sigs:
                    seen.add(rel)
                    sig = sigs[rel]
                    try:
                        st: os.stat_result | None = entry.stat(follow_symlinks=False)
                    except OSError as err:
                        if err.errno not in _GONE:
                            continue  # git cannot stat it either and counts it unchanged
                        st = None
                    if sig is not None and st is not None and sig == (
                            st.st_mtime_ns, st.st_size, st.st_ctime_ns if trust_ctime else 0,
                            (st.st_ino & _U32) if full else 0, st.st_mode & exec_mask):
                        continue
                    e = tracked[rel]
                    y = self.worktree_change(e, st)
                    if y:
                        codes.setdefault(rel, [" ", " "])[1] = y
                        if first_only:
                            return ["dirty"], False, None
                    if self.untracked_mode == "all" and st is not None \
                            and stat.S_ISDIR(st.st_mode) and e.mode not in (S_IFGITLINK, S_IFDIR):
                        untracked += self._below_indexed_name(entry, rel, tracked, conflicts)
                    continue
                if rel in conflicts:
                    if self.untracked_mode == "all" and entry_kind(entry) == "dir":
                        untracked += self._below_indexed_name(entry, rel, tracked, conflicts)
                    continue
                kind = entry_kind(entry)
                if kind == "dir":
                    if rel in tracked_dirs or (folded_dirs is not None
                                               and fold(rel) in folded_dirs):
                        if rel not in sparse_dirs and not self.untracked.is_dot_git(entry.name):
                            pending.append((entry.path, rel + "/"))
                        continue
                    if rel in sparse_dirs:
                        continue
                if self.untracked_mode != "no":
                    shown = self.untracked.lines(entry.path, rel, kind, first_only)
                    if shown:
                        untracked += shown
                        if first_only:
                            return ["dirty"], False, None
        if len(seen) != len(tracked):
            for path, e in tracked.items():
                if path not in seen:
                    if not self._missing(path):
                        continue  # git cannot stat it either (too long, no permission): skipped
                    y = self.worktree_change(e, None)
                    if y:
                        codes.setdefault(path, [" ", " "])[1] = y
                        if first_only:
                            return ["dirty"], False, None

        return self._format(codes, conflicts, untracked, tracked)

    def _below_indexed_name(self, entry: os.DirEntry[str], rel: str,
                            tracked: dict[str, IndexEntry], conflicts: dict[str, int]
                            ) -> list[str]:
        """-uall, a folder where the index holds a file: git's walk finds no such folder in
        the index, so it lists the files below it one by one; ``wt_status`` then drops only
        names the index holds (``index_name_is_other``: the folder itself, a nested
        repository there). In "normal" mode that leaves nothing: the folder is one name."""
        return [p for p in self.untracked.lines(entry.path, rel, "dir")
                if p.rstrip("/") not in tracked and p.rstrip("/") not in conflicts]

    def _check_untracked_cache(self, tracked: dict[str, IndexEntry], conflicts: dict[str, int],
                               tracked_dirs: set[str]) -> None:
        """Refuse where git would print a stale record of its untracked cache
        (:mod:`.untrackedcache`)."""
        from . import untrackedcache as ucache
        from .config import user_excludes_file
        from .trees import S_IFGITLINK as gitlink
        from .untracked import is_nested_repo

        uc = ucache.parse(self.index.untracked_cache_data)
        if uc is None or uc.dir_flags != ucache.STATUS_FLAGS[self.untracked_mode] \
                or uc.exclude_per_dir != ".gitignore":
            return  # git starts a new cache, or works without one: nothing stale
        worktree = self.worktree
        untracked = self.untracked

        def in_index(rel: str) -> bool:
            return rel in tracked or rel in conflicts or untracked.in_index(rel)

        def no_index(_path: str, _data: bytes | None) -> None:
            return None

        def from_index(path: str, data: bytes | None) -> bytes | None:
            """git takes a stage-0 entry's id when the entry is up to date (after its
            refresh: same content, or assume-unchanged, or skip-worktree), and reads a missing
            skip-worktree file from the index."""
            e = tracked.get(os.path.relpath(path, worktree).replace(os.sep, "/"))
            if e is None:
                return None
            if e.skip_worktree or (data is not None and (
                    e.assume_valid or blob_sha(data) == e.sha)):
                return bytes.fromhex(e.sha)
            return None

        def gitignore_oids(folder: str) -> set[bytes]:
            path = os.path.join(worktree, folder, ".gitignore")
            oids = {ucache.file_oid(path, True, from_index)}
            e = tracked.get(f"{folder}/.gitignore" if folder else ".gitignore")
            if e is not None:  # (an up-to-date entry's id, or the content's when git converts)
                oids |= {bytes.fromhex(e.sha), ucache.file_oid(path, True, no_index)}
            return oids

        def listed_now(folder: str, check_only: bool) -> set[str] | bool:
            abs_dir = os.path.join(worktree, folder) if folder else worktree
            prefix = folder + "/" if folder else ""
            if check_only:
                return untracked._below(abs_dir, folder, None)
            names: set[str] = set()
            try:
                with os.scandir(abs_dir) as it:
                    dir_entries = list(it)
            except OSError:
                return names
            for entry in dir_entries:
                rel = prefix + entry.name
                kind = entry_kind(entry)
                if kind == "other" or untracked.is_dot_git(entry.name):
                    continue
                if kind != "dir":
                    if not in_index(rel) and untracked.lines(entry.path, rel, kind, True):
                        names.add(entry.name)
                    continue
                e = tracked.get(rel)
                if rel in tracked_dirs or (e is not None and e.mode == gitlink):
                    continue  # a folder of the index (its own record) or a submodule
                if self.untracked_mode == "all" and not (
                        is_nested_repo(entry.path, self.repo.gitdir)
                        and not untracked.ignores.is_ignored(rel, True)):
                    continue  # -uall: an untracked folder has its own record
                if untracked.lines(entry.path, rel, kind, True):
                    names.add(entry.name + "/")
            return names


        global_oids = (
            ucache.file_oid(os.path.join(self.repo.commondir, "info", "exclude"), False,
                            no_index),
            ucache.file_oid(user_excludes_file(self.repo.config), False, no_index))
        folder = ucache.stale_folder(uc, worktree, self.index.mtime_ns, self.trust_ctime,
                                     self.check_stat_full, global_oids, gitignore_oids,
                                     listed_now)
        if folder is not None:
            where = f"folder {quote_path(folder)}" if folder else "the top folder"
            raise AyjntError(
                f"{self.index.path}: git's saved untracked cache is stale for {where}: the "
                f"folder changed in the same second its record was taken, so git status would "
                f"print the recorded untracked names instead of what the folder holds now. "
                f"ayjnt-hooks does not guess which answer you want. Drop the cache: git "
                f"update-index --no-untracked-cache (git builds a fresh one on the next status "
                f"where core.untrackedCache=true).", path=self.index.path)

    def _missing(self, path: str) -> bool:
        """Not met by the walk: gone (or behind a symlink), unless lstat fails for another
        reason, which git reports on stderr and then treats the entry as unchanged."""
        try:
            os.lstat(os.path.join(self.worktree, path))
        except OSError as e:
            return e.errno in _GONE
        return True

    def _stat_signatures(self, stage0: list[IndexEntry]) -> dict[str, tuple[int, ...] | None]:
        """Per tracked path, the lstat tuple that proves it clean without reading it: a regular
        file, not racy, no special flags. ``None``: the entry needs the full check."""
        index_sec = self.index.mtime_ns // _NS  # (git's racy rule is in whole seconds)
        trust_ctime, file_mode, full = self.trust_ctime, self.file_mode, self.check_stat_full
        sigs: dict[str, tuple[int, ...] | None] = {}
        for e in stage0:
            if e.mode in (0o100644, 0o100755) and e.mtime_ns // _NS < index_sec \
                    and not e.flags & 0xF000 and (e.size or e.sha == EMPTY_BLOB):
                sigs[e.path] = (e.mtime_ns, e.size, e.ctime_ns if trust_ctime else 0,
                                e.ino if full else 0,
                                0o100100 if file_mode and e.mode == 0o100755 else 0o100000)
            else:
                sigs[e.path] = None
        return sigs

    def _format(self, codes: dict[str, list[str]], conflicts: dict[str, int],
                untracked: list[str], tracked: dict[str, IndexEntry]) -> Result:
        """Porcelain v1 lines in git's order: changes by path, then untracked."""
        q = self.quote_non_ascii
        lines_by_path: dict[str, str] = {}
        renamed: dict[str, str] = {}
        inexact = self._inexact_renames(codes, tracked)
        wt_renamed: dict[str, str] = {}
        if inexact is None and self.settings.renames != "no":
            found = self._staged_renames(codes, tracked)
            wt_found = self._worktree_renames(codes, tracked)
            if isinstance(found, str) or isinstance(wt_found, str):
                inexact = self._refusal(found if isinstance(found, str) else str(wt_found))
            elif set(found) & set(wt_found) or set(found.values()) & set(wt_found.values()):
                inexact = self._refusal("a path renamed on both sides")
            else:
                renamed, wt_renamed = found, wt_found
                for old in (*found.values(), *wt_found.values()):
                    codes.pop(old, None)
        for path, (x, y) in codes.items():
            if path not in renamed:
                lines_by_path[path] = f"{x}{y} {quote_path(path, q)}"
        for new, old in renamed.items():
            lines_by_path[new] = f"R{codes[new][1]} {quote_path(old, q)} -> {quote_path(new, q)}"
        for new, old in wt_renamed.items():
            lines_by_path[new] = f"{codes[new][0]}R {quote_path(old, q)} -> {quote_path(new, q)}"
        for path, mask in conflicts.items():
            lines_by_path[path] = f"{_CONFLICT_CODES[mask]} {quote_path(path, q)}"
        lines = [lines_by_path[p] for p in sorted(lines_by_path, key=_git_order)]
        lines += [f"?? {quote_path(p, q)}" for p in sorted(untracked, key=_git_order)]
        return lines, bool(conflicts), inexact

    def _head_entries(self, paths: list[str]) -> dict[str, tuple[int, str]]:
        head_tree = self.head_tree  # staged() has read it
        found: dict[str, tuple[int, str]] = {}
        if head_tree is None:
            return found
        for path in paths:
            entry = self._lookup(head_tree, path)
            if entry is not None:
                found[path] = entry
        return found

    def _inexact_renames(self, codes: dict[str, list[str]],
                         tracked: dict[str, IndexEntry]) -> str | None:
        """Why git's rename detection cannot be replayed here at all: status.renames=copies
        (copy detection, also from modified files) with something added."""
        if self.settings.renames != "copies":
            return None
        added = any(x == "A" or y == "A" for x, y in codes.values())
        if added and any(x in "DMT" or y in "DMT" for x, y in codes.values()):
            return self._refusal("status.renames=copies: copies too")
        return None

    @staticmethod
    def _refusal(why: str) -> str:
        return (f"git status --porcelain would pair changes here as renames by content "
                f"similarity ({why}), which ayjnt-hooks does not replay exactly, so it does not "
                f"print porcelain lines that might differ from git's. The tree is not clean "
                f"either way. Use git status itself for the lines, or commit the rename.")

    def _staged_renames(self, codes: dict[str, list[str]],
                        tracked: dict[str, IndexEntry]) -> dict[str, str] | str:
        """git's diffcore-rename (git 2.39, renames without copies) on the staged side: new
        path → old path, or why it cannot be replayed exactly here. In git's order: exact
        renames (same object id; modes equal unless both are regular files; per destination
        the first unused source in path order, one with the same base name first), then pairs
        of the only source and the only destination with one base name scoring at least 75%,
        then every remaining regular pair by score (the best 4 sources per destination,
        sorted by score, a same-base-name pair first, each source used once), 50% at least."""
        gone = sorted((p for p, (x, _) in codes.items() if x == "D"), key=_git_order)
        new = sorted((p for p, (x, _) in codes.items() if x == "A"), key=_git_order)
        if not gone or not new or self.head_tree is None:
            return {}
        old = self._head_entries(gone)
        sources = [(p, *old[p]) for p in gone if p in old]
        dests = [(p, tracked[p].mode, tracked[p].sha) for p in new if p in tracked]
        return self._diffcore_rename(sources, dests, {})

    def _worktree_renames(self, codes: dict[str, list[str]],
                          tracked: dict[str, IndexEntry]) -> dict[str, str] | str:
        """The work tree's side of git status: a file deleted from the work tree (its index
        blob) paired with an intent-to-add file (its content in the work tree), by the same
        diffcore-rename. Refused where the content git compares may differ from the bytes
        (end-of-line or other attribute filters) or where an index-side change is involved."""
        gone = sorted((p for p, (x, y) in codes.items() if y == "D" and p in tracked
                       and tracked[p].mode != S_IFGITLINK), key=_git_order)
        new = sorted((p for p, (_, y) in codes.items() if y == "A"), key=_git_order)
        if not gone or not new:
            return {}
        if any(codes[p][0] != " " for p in (*gone, *new)):
            return "a file both staged and renamed in the work tree"
        if self.autocrlf != "false" or self._attributes_present(tracked):
            return "intent-to-add files under end-of-line or attribute rules"
        blobs: dict[str, bytes] = {}
        dests = []
        for path in new:
            full = os.path.join(self.worktree, path)
            try:
                st = os.lstat(full)
                if stat.S_ISLNK(st.st_mode):
                    data, mode = os.fsencode(os.readlink(full)), S_IFLNK
                else:
                    data = _read_regular(full)
                    mode = 0o100755 if self.file_mode and st.st_mode & 0o100 else 0o100644
            except OSError:
                return f"{quote_path(path)} cannot be read"
            if not self.file_mode:
                mode = tracked[path].mode if _regular(tracked[path].mode) else 0o100644
            sha = blob_sha(data)
            blobs[sha] = data
            dests.append((path, mode, sha))
        sources = [(p, tracked[p].mode, tracked[p].sha) for p in gone]
        return self._diffcore_rename(sources, dests, blobs)

    def _rename_limit(self) -> int:
        """status.renameLimit, else diff.renameLimit, else git's 1000; git stops on a value
        that is not a number."""
        from .config import parse_int

        for section in ("status", "diff"):
            value = self.repo.config_get(section, "renamelimit")
            if value is None:
                continue
            number = parse_int(value.encode("utf-8", "surrogateescape"))
            if number is None:
                raise AyjntError(f"{section}.renameLimit={value!r} is not a number (git stops "
                                 f"with \"bad numeric config value\"). Fix it: git config "
                                 f"{section}.renameLimit 1000.")
            return number
        return 1000

    def _attributes_present(self, tracked: dict[str, IndexEntry]) -> bool:
        """Any attributes file git would read (then filters may change what it compares)."""
        xdg = os.environ.get("XDG_CONFIG_HOME") or os.path.join(os.path.expanduser("~"),
                                                                 ".config")
        return any(p == ".gitattributes" or p.endswith("/.gitattributes") for p in tracked) \
            or os.path.lexists(os.path.join(self.worktree, ".gitattributes")) \
            or os.path.lexists(os.path.join(self.repo.commondir, "info", "attributes")) \
            or self.repo.config_get("core", "attributesfile") is not None \
            or os.path.lexists(os.path.join(xdg, "git", "attributes"))

    def _diffcore_rename(self, sources: list[tuple[str, int, str]],
                         dests: list[tuple[str, int, str]], blobs: dict[str, bytes]
                         ) -> dict[str, str] | str:
        """diffcore-rename on (path, mode, blob id) sources and destinations, in path order:
        new path → old path, or why not exactly."""
        renames: dict[str, str] = {}
        used: set[str] = set()
        by_sha: dict[str, list[tuple[str, int]]] = {}
        for path, mode, sha in sources:
            by_sha.setdefault(sha, []).append((path, mode))
        for path, mode, sha in dests:
            best, best_score = None, -1
            for src_path, src_mode in by_sha.get(sha, ()):
                regular = _regular(src_mode) and _regular(mode)
                if src_path in used or (not regular and src_mode != mode):
                    continue
                rank = 1 + _basename_same(src_path, path)
                if rank > best_score:
                    best, best_score = src_path, rank
                    if rank == 2:
                        break
            if best is not None:
                renames[path] = best
                used.add(best)
        sources = [s for s in sources if s[0] not in used]
        dests = [d for d in dests if d[0] not in renames]
        if not sources or not dests:
            return renames
        cache: dict[tuple[str, bool], dict[int, int]] = {}

        def similar(src: tuple[str, int, str], dst: tuple[str, int, str]) -> int:
            if not (_regular(src[1]) and _regular(dst[1])):
                return 0
            for sha in (src[2], dst[2]):
                if sha not in blobs:
                    blobs[sha] = self.repo.read_object(sha)[1]
            found = similarity(blobs[src[2]], blobs[dst[2]], cache, (src[2], dst[2]))
            if found is None:
                raise _Unknown(f"{quote_path(src[0])} and {quote_path(dst[0])}")
            return found

        try:
            # find_basename_matches: a base name only one source and one destination have
            src_base: dict[str, int] = {}
            for i, (path, _, _) in enumerate(sources):
                base = path.rpartition("/")[2]
                src_base[base] = -1 if base in src_base else i
            dst_base: dict[str, int] = {}
            for i, (path, _, _) in enumerate(dests):
                base = path.rpartition("/")[2]
                dst_base[base] = -1 if base in dst_base else i
            for i, (path, _, _) in enumerate(sources):
                base = path.rpartition("/")[2]
                j = dst_base.get(base, -1)
                if src_base[base] == -1 or j == -1 or dests[j][0] in renames:
                    continue
                if similar(sources[i], dests[j]) >= _MIN_BASENAME_SCORE:
                    renames[dests[j][0]] = path
                    used.add(path)
            sources = [s for s in sources if s[0] not in used]
            dests = [d for d in dests if d[0] not in renames]
            if not sources or not dests:
                return renames
            limit = self._rename_limit()  # (git's too_many_rename_candidates: no matrix)
            if limit > 0 and len(sources) * len(dests) > limit * limit:
                return renames
            if len(sources) * len(dests) > _MAX_RENAME_PAIRS:
                return f"{len(sources)} deleted and {len(dests)} added files to compare"
            # the matrix: each destination's best candidates, then all of them by score
            matrix: list[tuple[int, int, int, int]] = []  # (score, same base, dst, src)
            for di, dst in enumerate(dests):
                top: list[tuple[int, int, int, int]] = []
                for si, src in enumerate(sources):
                    entry = (similar(src, dst), _basename_same(src[0], dst[0]), di, si)
                    if len(top) < _CANDIDATES_PER_DST:
                        top.append(entry)
                        continue
                    worst = 0
                    for k in range(1, _CANDIDATES_PER_DST):
                        if _worse(top[k], top[worst]):
                            worst = k
                    if _worse(top[worst], entry):
                        top[worst] = entry
                matrix += top
        except _Unknown as e:
            return f"{e} might be similar"
        matrix.sort(key=lambda m: (-m[0], -m[1]))  # (stable, as git's STABLE_QSORT)
        for found_score, _, di, si in matrix:
            if found_score < _MIN_RENAME_SCORE:
                break
            if dests[di][0] in renames or sources[si][0] in used:
                continue
            renames[dests[di][0]] = sources[si][0]
            used.add(sources[si][0])
        return renames

    def _lookup(self, tree: str, text: str) -> tuple[int, str] | None:
        *parents, name = text.encode("utf-8", "surrogateescape").split(b"/")
        for part in parents:
            entry = parse_tree(self.repo.read_object(tree)[1]).get(part)
            if entry is None or entry[0] != S_IFDIR:
                return None
            tree = entry[1]
        return parse_tree(self.repo.read_object(tree)[1]).get(name)


_MAX_SCORE = 60000
_MIN_RENAME_SCORE = 30000  # git's DEFAULT_RENAME_SCORE: 50%
_MIN_BASENAME_SCORE = 45000  # halfway from it to 100% (GIT_BASENAME_FACTOR's default)
_CANDIDATES_PER_DST = 4  # NUM_CANDIDATE_PER_DST
_MAX_RENAME_PAIRS = 10000  # (beyond this, no scoring here: refused)
_MAX_SCORED_SIZE = 1 << 20
_HASHBASE = 107927


class _Unknown(Exception):
    """A similarity score this reader cannot be sure of."""


def _regular(mode: int) -> bool:
    return mode in (0o100644, 0o100755)


def _basename_same(src: str, dst: str) -> int:
    """git's ``basename_same``: 1 when both paths end in the same file name."""
    return int(src.rpartition("/")[2] == dst.rpartition("/")[2])


def _worse(a: tuple[int, int, int, int], b: tuple[int, int, int, int]) -> bool:
    """git's ``score_compare(a, b) > 0``: ``a`` sorts after ``b`` (a lower score, or the
    same score without the same base name when ``b`` has it)."""
    if a[0] == b[0]:
        return b[1] > a[1]
    return b[0] > a[0]


def _span_counts(data: bytes, skip_cr: bool) -> dict[int, int]:
    """git's ``hash_chars`` (diffcore-delta.c): bytes per hash of each span that ends in a
    newline or fills 64 bytes (a trailing span without a newline is not counted, as in
    git)."""
    counts: dict[int, int] = {}
    accum1 = accum2 = n = 0
    size = len(data)
    mask = 0xFFFFFFFF
    for i, c in enumerate(data):
        if skip_cr and c == 13 and i + 1 < size and data[i + 1] == 10:
            continue
        old_1 = accum1
        accum1 = (((accum1 << 7) & mask) ^ (accum2 >> 25))
        accum2 = (((accum2 << 7) & mask) ^ (old_1 >> 25))
        accum1 = (accum1 + c) & mask
        n += 1
        if n < 64 and c != 10:
            continue
        h = ((accum1 + accum2 * 0x61) & mask) % _HASHBASE
        counts[h] = counts.get(h, 0) + n
        n = accum1 = accum2 = 0
    return counts


def similarity(src: bytes, dst: bytes,
               cache: dict[tuple[str, bool], dict[int, int]] | None = None,
               keys: tuple[str, str] = ("src", "dst")) -> int | None:
    """git's ``estimate_similarity`` for two regular files (0..60000, 60000 = identical
    spans), or None when it cannot be told for sure here: a file too large to score, or CRLF
    text whose score depends on whether git's attributes call it binary (git skips the CR of
    a CRLF in text only)."""
    big, small = max(len(src), len(dst)), min(len(src), len(dst))
    if big * (_MAX_SCORE - _MIN_RENAME_SCORE) < (big - small) * _MAX_SCORE or not dst:
        return 0
    if big > _MAX_SCORED_SIZE:
        return None
    cache = {} if cache is None else cache

    def counts(data: bytes, skip_cr: bool) -> dict[int, int]:
        key = (keys[0] if data is src else keys[1], skip_cr)
        if key not in cache:
            cache[key] = _span_counts(data, skip_cr)
        return cache[key]

    def text(data: bytes) -> set[bool]:
        if b"\r\n" not in data:
            return {False}  # (no CRLF: the same spans either way)
        return {False} if b"\0" in data[:8000] else {True, False}

    scores = []
    for skip_src in text(src):
        for skip_dst in text(dst):
            a, b = counts(src, skip_src), counts(dst, skip_dst)
            copied = sum(min(n, b.get(h, 0)) for h, n in a.items())
            scores.append(copied * _MAX_SCORE // big)
    if len({score >= _MIN_RENAME_SCORE for score in scores}) > 1:
        return None
    return scores[0]


def _git_order(path: str) -> bytes:
    return path.encode("utf-8", "surrogateescape")
