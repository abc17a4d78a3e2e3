"""``git status --porcelain`` (v1) computed read-only, following git's own rules.

Staged changes: HEAD's tree against the index (the index's cache-tree answers "nothing staged"
without reading a tree). Unstaged: git's stat-cache check (``ie_match_stat``: mode/type, the
size rule, the racy-timestamp rule, content hashing only when stat data cannot decide).
Untracked: one ``os.scandir`` walk with git's "normal" directory collapsing and ignore rules
(:mod:`.untracked`, :mod:`.ignore`; ``info/exclude`` is read from the common dir). Never
writes anything. Callers ask :func:`status`, which first tries the fast proof of a clean tree
(:mod:`.cleanproof`) and computes all this only when that gives up.
"""
from __future__ import annotations

import errno
import os
import stat
from collections.abc import Iterator

from .cleanproof import proven_clean
from .index import Index, read_index
from .repo import Repo, commondir_of, read_gitfile
from .trees import S_IFDIR, S_IFGITLINK, S_IFLNK, blob_sha, parse_tree, tree_sha
from .untracked import UntrackedNames

TYPE_CHECKING = False  # (typing is not imported at run time: start-up time counts here)
if TYPE_CHECKING:
    from .contentcheck import ContentCheck
    from .index_entries import IndexEntry

_EMPTY_TREE = "4b825dc642cb6eb9a060e54bf8d69288fbee4904"
_CONFLICT_CODES = {1: "DD", 2: "AU", 3: "UD", 4: "UA", 5: "DU", 6: "AA", 7: "UU"}
_U32 = 0xFFFFFFFF
# lstat errors that mean "not there" to git; any other (too long, no permission) is reported
# on stderr by git, which then treats the entry as unchanged
_GONE = (errno.ENOENT, errno.ENOTDIR)
_NS = 1_000_000_000


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


class Status:
    __slots__ = ("conflicted", "lines")

    def __init__(self, lines: list[str], conflicted: bool = False) -> None:
        self.lines = lines
        self.conflicted = conflicted

    @property
    def clean(self) -> bool:
        return not self.lines


class StatusComputer:
    def __init__(self, repo: Repo, index: Index | None = None) -> None:
        if repo.worktree is None:
            from ..errors import AyjntError

            raise AyjntError(f"{repo.gitdir}: no work tree (a bare repository, or core.bare = "
                             f"true); git status refuses it too (\"this operation must be run "
                             f"in a work tree\").", path=repo.gitdir)
        self.repo = repo
        self.worktree: str = repo.worktree
        self._index = index
        self.file_mode = repo.config_bool("core", "filemode", True)
        self.trust_ctime = repo.config_bool("core", "trustctime", True)
        check_stat = (repo.config_get("core", "checkstat") or "default").lower()
        self.check_stat_full = check_stat != "minimal"
        self.quote_non_ascii = repo.config_bool("core", "quotepath", True)
        self.autocrlf = (repo.config_get("core", "autocrlf") or "false").lower()
        self.untracked = UntrackedNames(repo, self.worktree)
        self.head_tree: str | None = None  # set by staged(); None while HEAD is unborn
        self._attrs: list[tuple[bytes, list[bytes]]] | None = None
        self._content: ContentCheck | None = None

    @property
    def index(self) -> Index:
        if self._index is None:  # (not needed to list untracked names: read on first use)
            self._index = read_index(self.repo.index_file)
        return self._index

    # ------------------------------------------------------------ staged
    def staged(self, stage0: list[IndexEntry]) -> dict[str, str]:
        """HEAD's tree against the entries. The cache-tree is checked, never trusted: git
        trusts it for subfolders, so one that disagrees with the entries would make git hide a
        staged change — the index is then refused as corrupt."""
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
                from ..errors import AyjntError
                from .index import INDEX_FIX

                where = f"folder {quote_path(path.decode('utf-8', 'surrogateescape'))}" \
                    if path else "the top folder"
                raise AyjntError(f"{self.index.path}: corrupt git index: its cache-tree "
                                 f"disagrees with its entries for {where}, so git would hide "
                                 f"staged changes there.", path=self.index.path,
                                 hint=INDEX_FIX)

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
        return self.index.mtime_ns <= e.mtime_ns

    def _stat_matches(self, e: IndexEntry, st: os.stat_result) -> bool:
        if st.st_mtime_ns != e.mtime_ns and _trunc(st.st_mtime_ns) != e.mtime_ns:
            return False
        if self.trust_ctime and st.st_ctime_ns != e.ctime_ns \
                and _trunc(st.st_ctime_ns) != e.ctime_ns:
            return False
        if self.check_stat_full and ((st.st_ino & _U32) != e.ino or st.st_uid != e.uid
                                     or st.st_gid != e.gid):
            return False
        return (st.st_size & _U32) == e.size

    def worktree_change(self, e: IndexEntry, st: os.stat_result | None) -> str:
        """'' (unchanged), 'M', 'D' or 'T' for one stage-0 entry."""
        if e.assume_valid or e.skip_worktree or e.mode == S_IFDIR:
            return ""
        if e.intent_to_add:
            return "A" if st is not None else "D"
        if st is None:
            return "D"
        if e.mode == S_IFGITLINK:
            return "M" if stat.S_ISDIR(st.st_mode) and self._submodule_dirty(e) else \
                ("" if stat.S_ISDIR(st.st_mode) else "T")
        is_link = stat.S_ISLNK(st.st_mode)
        if stat.S_ISDIR(st.st_mode):
            return "D"  # a folder now stands where the file was: git reports it deleted
        if is_link != (e.mode == S_IFLNK):
            return "T"
        if not is_link and self.file_mode and \
                bool(st.st_mode & 0o100) != (e.mode == 0o100755):
            return "M"
        if self._stat_matches(e, st) and not self._racy(e):
            return ""
        if e.size != 0 and (st.st_size & _U32) != e.size:
            return "M"
        return "" if self._content_sha(e, is_link) == e.sha else "M"

    def _content_sha(self, e: IndexEntry, is_link: bool) -> str:
        path = os.path.join(self.worktree, e.path)
        try:
            if is_link:
                data = os.fsencode(os.readlink(path))
            else:
                with open(path, "rb") as f:
                    data = f.read()
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

    def _submodule_dirty(self, e: IndexEntry) -> bool:
        sub_path = os.path.join(self.worktree, e.path)
        dotgit = os.path.join(sub_path, ".git")
        if os.path.isfile(dotgit):
            gitdir = read_gitfile(dotgit)
        elif os.path.isdir(dotgit):
            gitdir = dotgit
        else:
            return False  # not checked out: git treats it as unchanged
        sub = Repo(gitdir, commondir_of(gitdir), sub_path, os.path.join(gitdir, "index"))
        if sub.ref_sha("HEAD") != e.sha:
            return True
        return not status(sub, first_only=True).clean

    # ------------------------------------------------------------ all
    def compute(self, *, first_only: bool = False) -> Status:
        entries = self.index.entries
        stage0: list[IndexEntry] = []
        conflicts: dict[str, int] = {}
        for e in entries:
            if e.flags & 0x3000:
                conflicts[e.path] = conflicts.get(e.path, 0) | (1 << (e.stage - 1))
            else:
                stage0.append(e)
        tracked: dict[str, IndexEntry] = {e.path: e for e in stage0}
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
            return Status(["dirty"], bool(conflicts))

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
                            return Status(["dirty"])
                    continue
                if rel in conflicts:
                    continue
                is_dir = entry.is_dir(follow_symlinks=False)
                if is_dir:
                    if rel in tracked_dirs:
                        if rel not in sparse_dirs:
                            pending.append((entry.path, rel + "/"))
                        continue
                    if rel in sparse_dirs:
                        continue
                if not (not rel_dir and entry.name == ".git"):
                    shown = self.untracked.line(entry.path, rel, is_dir)
                    if shown is not None:
                        untracked.append(shown)
                        if first_only:
                            return Status(["dirty"])
        if len(seen) != len(tracked):
            for path, e in tracked.items():
                if path not in seen:
                    if not self._missing(path):
                        continue  # git cannot stat it either (too long, no permission): skipped
                    y = self.worktree_change(e, None)
                    if y:
                        codes.setdefault(path, [" ", " "])[1] = y
                        if first_only:
                            return Status(["dirty"])

        return self._format(codes, conflicts, untracked, tracked)

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
        racy_limit = self.index.mtime_ns
        trust_ctime, file_mode, full = self.trust_ctime, self.file_mode, self.check_stat_full
        sigs: dict[str, tuple[int, ...] | None] = {}
        for e in stage0:
            if e.mode in (0o100644, 0o100755) and e.mtime_ns < racy_limit \
                    and not e.flags & 0xF000:
                sigs[e.path] = (e.mtime_ns, e.size, e.ctime_ns if trust_ctime else 0,
                                e.ino if full else 0,
                                0o100100 if file_mode and e.mode == 0o100755 else 0o100000)
            else:
                sigs[e.path] = None
        return sigs

    def _format(self, codes: dict[str, list[str]], conflicts: dict[str, int],
                untracked: list[str], tracked: dict[str, IndexEntry]) -> Status:
        """Porcelain v1 lines in git's order: changes by path, then untracked."""
        q = self.quote_non_ascii
        lines_by_path: dict[str, str] = {}
        renamed = self._exact_renames(codes, tracked)
        for path, (x, y) in codes.items():
            if path not in renamed:
                lines_by_path[path] = f"{x}{y} {quote_path(path, q)}"
        for new, old in renamed.items():
            lines_by_path[new] = f"R{codes[new][1]} {quote_path(old, q)} -> {quote_path(new, q)}"
        for path, mask in conflicts.items():
            lines_by_path[path] = f"{_CONFLICT_CODES[mask]} {quote_path(path, q)}"
        lines = [lines_by_path[p] for p in sorted(lines_by_path, key=_git_order)]
        lines += [f"?? {quote_path(p, q)}" for p in sorted(untracked, key=_git_order)]
        return Status(lines, bool(conflicts))

    def _exact_renames(self, codes: dict[str, list[str]],
                       tracked: dict[str, IndexEntry]) -> dict[str, str]:
        """Staged deletion + staged addition of the same blob → ``R  old -> new``."""
        deleted = [p for p, (x, _) in codes.items() if x == "D"]
        added = [p for p, (x, _) in codes.items() if x == "A"]
        head_tree = self.head_tree  # staged() has read it
        if not deleted or not added or head_tree is None:
            return {}
        old_shas: dict[str, str] = {}
        for path in sorted(deleted):
            found = self._lookup(head_tree, path)
            if found is not None and found[0] != S_IFGITLINK:
                old_shas.setdefault(found[1], path)
        renames: dict[str, str] = {}
        for path in sorted(added):
            e = tracked.get(path)
            if e is not None and e.sha in old_shas and e.mode != S_IFGITLINK:
                old = old_shas.pop(e.sha)
                renames[path] = old
                codes.pop(old, None)
        return renames

    def _lookup(self, tree: str, text: str) -> tuple[int, str] | None:
        *parents, name = text.encode("utf-8", "surrogateescape").split(b"/")
        for part in parents:
            entry = parse_tree(self.repo.read_object(tree)[1]).get(part)
            if entry is None or entry[0] != S_IFDIR:
                return None
            tree = entry[1]
        return parse_tree(self.repo.read_object(tree)[1]).get(name)


def _git_order(path: str) -> bytes:
    return path.encode("utf-8", "surrogateescape")


def status(repo: Repo, *, first_only: bool = False) -> Status:
    """The fast proof of a clean tree first; git's exact rules when it gives up."""
    if proven_clean(repo):
        return Status([])
    return StatusComputer(repo).compute(first_only=first_only)
