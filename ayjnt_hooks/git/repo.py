"""A repository: where it is, whether we can read it, its refs, and the doors to its config and
objects.

Discovery follows git's ``setup.c``: ``GIT_DIR``, ``GIT_WORK_TREE``, ``GIT_COMMON_DIR``,
``GIT_INDEX_FILE``, ``.git`` files of linked worktrees and submodules, a bare repository, and
the repository's own ``core.bare`` and ``core.worktree`` (read from its ``config`` — and
``config.worktree`` with ``extensions.worktreeConfig`` — without includes, as git reads them).
Before anything else the repository format is checked against what this reader supports
(:data:`SUPPORTED` in :mod:`.supported`); anything else is refused with git's reason.

Refs are parsed here (a small format on the hot path of every hook): loose refs, symbolic refs,
``packed-refs``, each validated as git validates it. Nothing here ever writes.
"""
from __future__ import annotations

import os

from ..errors import AyjntError
from .damage import Corrupt, reading
from .files import is_hex_oid, read_regular

TYPE_CHECKING = False  # (typing is not imported at run time: start-up time counts here)
if TYPE_CHECKING:
    from .commitgraph import CommitGraph
    from .config import GitConfig
    from .objects import ObjectReader

# Per-worktree refs live in the worktree's own git dir; all others in the common dir.
_PER_WORKTREE = ("HEAD", "refs/bisect/", "refs/worktree/", "refs/rewritten/")
_GIT_SPACE = " \t\n\r"  # git's isspace (no \v, no \f)
_REF_FIX = "repair or delete the ref (`git update-ref -d <ref>`), or restore it from a clone"
# Extensions git honours in any repository format version (setup.c handle_extension_v0), and
# those only a version-1 repository may use (handle_extension), with the values we read.
EXTENSIONS_V0 = ("noop", "preciousobjects", "partialclone", "worktreeconfig")
EXTENSIONS_V1 = ("noop-v1", "objectformat", "compatobjectformat", "refstorage",
                 "relativeworktrees", "submodulepathconfig")


class NotARepo(AyjntError):
    pass


def valid_ref_name(name: str) -> bool:
    """A conservative ``git check-ref-format``: never a path out of the refs folders."""
    if not name or name.startswith("/") or name.endswith(("/", ".", ".lock")) or "//" in name:
        return False
    if any(c < " " or c in " ~^:?*[\\\x7f" for c in name) or ".." in name or "@{" in name:
        return False
    return all(part and not part.startswith(".") for part in name.split("/"))


def _record_start(data: bytes, lo: int, p: int) -> int:
    """git's ``find_start_of_record``: the start of the record holding byte ``p`` (a record
    is a line and the ``^`` peel lines after it), or ``lo``."""
    while p > lo:
        newline = data.rfind(b"\n", lo, p)
        if newline < 0:
            return lo
        if data[newline + 1] != 0x5E:  # "^"
            return newline + 1
        p = newline
    return lo


def _record_end(data: bytes, p: int, end: int) -> int:
    """git's ``find_end_of_record``: the start of the record after the one holding ``p``, or
    ``end``."""
    while True:
        newline = data.find(b"\n", p, end - 1)
        if newline < 0:
            return end
        if data[newline + 1] != 0x5E:
            return newline + 1
        p = newline + 1


_MAX_REPLACE_DEPTH = 5  # git's MAXREPLACEDEPTH


def _line_number(data: bytes, pos: int) -> int:
    return data.count(b"\n", 0, pos) + 1


def _verify_buffer_safe(data: bytes, start: int) -> None:
    """git's ``verify_buffer_safe``: the last record ends with a newline and its line holds
    at least an object id, a space and one byte of name."""
    if start == len(data):
        return
    last = _record_start(data, start, len(data) - 1)
    number = data.count(b"\n", 0, last) + 1
    if data[-1] != 0x0A:
        raise Corrupt(f"line {number} is not terminated")
    if len(data) - last < 42:
        raise Corrupt(f"line {number} is not '<object id> <ref name>'")


def _sort_records(data: bytes, start: int) -> bytes:
    """git's ``sort_snapshot`` for a file whose header does not promise sorted records: every
    record's first line must be long enough to hold an object id, a space and a name; then
    the records are sorted by name (a name twice is refused: git's order for it is
    unspecified)."""
    records: list[tuple[bytes, bytes]] = []
    pos, end = start, len(data)
    number = data.count(b"\n", 0, start)
    while pos < end:
        eol = data.index(b"\n", pos)  # (the last byte is a newline: checked before)
        number += 1
        if eol - pos < 42:
            raise Corrupt(f"line {number} is not '<object id> <ref name>'")
        name = data[pos + 41:eol]
        eol += 1
        if eol < end and data[eol] == 0x5E:  # its peel line
            eol = data.index(b"\n", eol) + 1
            number += 1
        records.append((name, data[pos:eol]))
        pos = eol
    if any(records[i][0] >= records[i + 1][0] for i in range(len(records) - 1)):
        records.sort()
        if any(records[i][0] == records[i + 1][0] for i in range(len(records) - 1)):
            raise Corrupt("a ref name is listed twice")
    return b"".join(record for _, record in records)


class Repo:
    def __init__(self, gitdir: str, commondir: str, worktree: str | None,
                 index_file: str, *, worktree_config: bool = False) -> None:
        self.gitdir = gitdir
        self.commondir = commondir
        self.worktree = worktree
        self.index_file = index_file
        self.worktree_config = worktree_config
        self._snapshot: tuple[bytes, int] | None = None
        self._config: GitConfig | None = None
        self._reader: ObjectReader | None = None
        self._graph: CommitGraph | None = None
        self._graph_opened = False
        self._replaced: dict[str, str] | None = None

    def __repr__(self) -> str:
        return f"Repo(gitdir={self.gitdir!r}, worktree={self.worktree!r})"

    # ------------------------------------------------------------------ refs
    def _packed_snapshot(self) -> tuple[bytes, int]:
        """``packed-refs`` as git 2.39 takes it whenever it opens the file (``create_snapshot``
        in ``refs/packed-backend.c``): (the records, sorted by name; where they start). git
        checks only this much of the file before it looks a ref up — the header, that the
        last record ends with a newline and is long enough, and in a file whose header does
        not say ``sorted`` every record's length, to sort them — and dies where it fails: so
        do we (on every run, as git opens it to resolve nearly any name)."""
        if self._snapshot is None:
            path = os.path.join(self.commondir, "packed-refs")
            with reading(path, "packed-refs file", _REF_FIX):
                data = read_regular(path) or b""
                start = 0
                is_sorted = False
                if data[:1] == b"#":
                    eol = data.find(b"\n")
                    if eol < 0:
                        raise Corrupt("line 1 is not terminated")
                    if not data.startswith(b"# pack-refs with:"):
                        raise Corrupt("line 1 is not a '# pack-refs with:' header")
                    is_sorted = b"sorted" in data[17:eol].split(b" ")
                    start = eol + 1
                _verify_buffer_safe(data, start)
                if not is_sorted:
                    data, start = _sort_records(data, start), 0
            self._snapshot = (data, start)
        return self._snapshot

    def _packed_lookup(self, name: str) -> str | None:
        """One ref from ``packed-refs``, found as git finds it (``find_reference_location``: a
        binary search over the sorted records, a record being its line and any ``^`` peel line
        after it), and checked as git checks it (``packed_read_raw_ref``: the record must start
        with an object id). Nothing else of the file is read."""
        data, lo = self._packed_snapshot()
        hi = len(data)
        want = name.encode("utf-8", "surrogateescape")
        while lo != hi:
            mid = lo + (hi - lo) // 2
            rec = _record_start(data, lo, mid)
            found = data[rec + 41:data.index(b"\n", rec + 41)]
            if found < want:
                lo = _record_end(data, mid, hi)
            elif found > want:
                hi = rec
            else:
                text = data[rec:rec + 40].decode("ascii", "replace").lower()
                if not is_hex_oid(text):
                    path = os.path.join(self.commondir, "packed-refs")
                    raise AyjntError(f"{path}: corrupt packed-refs file (the line of {name} "
                                     f"does not start with an object id); git cannot use it "
                                     f"either.", path=path, hint=_REF_FIX)
                return text
        return None

    def packed_refs_under(self, prefix: str) -> dict[str, str]:
        """The packed refs whose names start with ``prefix``, read as git iterates them
        (``packed_ref_iterator_begin``: from the first record at or after ``prefix``, each
        record parsed by ``next_record``, which dies on a line that is not ``<object id>
        <name>`` — also on the first record past the prefix, which git parses before it sees
        that it is past). Names git would flag as broken are refused here, the first record
        past the prefix included (git dies on a "dangerous" one there)."""
        data, lo = self._packed_snapshot()
        hi, end = len(data), len(data)
        want = prefix.encode("utf-8", "surrogateescape")
        while lo != hi:  # find_reference_location, not required to exist
            mid = lo + (hi - lo) // 2
            rec = _record_start(data, lo, mid)
            if data[rec + 41:data.index(b"\n", rec + 41)] < want:
                lo = _record_end(data, mid, hi)
            else:
                hi = rec
        found: dict[str, str] = {}
        pos = lo
        path = os.path.join(self.commondir, "packed-refs")
        with reading(path, "packed-refs file", _REF_FIX):
            while pos < end:
                eol = data.index(b"\n", pos)  # (the last byte is a newline: checked before)
                sha = data[pos:pos + 40].decode("ascii", "replace").lower()
                if eol - pos < 42 or not is_hex_oid(sha) \
                        or not data[pos + 40:pos + 41].isspace():
                    raise Corrupt(f"unexpected line {_line_number(data, pos)}")
                name = data[pos + 41:eol]
                pos = eol + 1
                if pos < end and data[pos] == 0x5E:  # its peel line: "^<object id>\n"
                    peeled = data[pos + 1:pos + 41].decode("ascii", "replace").lower()
                    if not is_hex_oid(peeled) or data[pos + 41:pos + 42] != b"\n":
                        raise Corrupt(f"unexpected line {_line_number(data, pos)}")
                    pos += 42
                try:
                    ref = name.decode("utf-8")
                except UnicodeDecodeError:
                    ref = ""
                if not valid_ref_name(ref):  # (git checks the name before the prefix: a
                    # "dangerous" one is fatal there; we refuse every invalid one)
                    raise Corrupt(f"line {_line_number(data, pos) - 1} names no valid ref")
                if not name.startswith(want):
                    break
                found[ref] = sha
        return found

    def check_packed_refs(self) -> None:
        """What git checks of ``packed-refs`` whenever it opens the file (see
        :meth:`_packed_snapshot`); a damaged one makes every command die."""
        self._packed_snapshot()

    def read_ref_raw(self, name: str) -> str | None:
        """The ref's own content: ``ref: <target>`` or an object id; None when absent."""
        if name != "HEAD" and not valid_ref_name(name):
            return None  # (never a path outside the refs folders)
        base = self.gitdir if name.startswith(_PER_WORKTREE) else self.commondir
        path = os.path.join(base, *name.split("/"))
        with reading(path, "ref", _REF_FIX):
            if os.path.islink(path):  # a symbolic ref stored as a symlink (old git)
                target = os.readlink(path)
                if target.startswith("refs/"):
                    return f"ref: {target}"
            try:
                data = read_regular(path)
            except IsADirectoryError:
                data = None
            if data is None:
                return self._packed_lookup(name)
            text = data.decode("utf-8").rstrip(_GIT_SPACE)
            if text.startswith("ref:"):
                target = text[4:].lstrip(_GIT_SPACE)
                if not (target.startswith("refs/") and valid_ref_name(target)):
                    raise Corrupt("a symbolic ref that does not point into refs/")
                return f"ref: {target}"
            if not (is_hex_oid(text[:40]) and (len(text) == 40 or text[40] in _GIT_SPACE)):
                raise Corrupt("not an object id")
            return text[:40]

    def resolve(self, name: str) -> tuple[list[str], str | None]:
        """Follow symbolic refs: (chain of names, final sha or None if unborn/absent)."""
        chain = [name]
        for _ in range(6):  # git's SYMREF_MAXDEPTH is 5
            raw = self.read_ref_raw(chain[-1])
            if raw is None:
                return chain, None
            if raw.startswith("ref:"):
                chain.append(raw[4:].strip())
                continue
            return chain, raw
        path = os.path.join(self.gitdir, name)
        raise AyjntError(f"{path}: symbolic refs nest too deep (a loop?); git cannot resolve "
                         f"it either.", path=path, hint=_REF_FIX)

    def ref_sha(self, name: str) -> str | None:
        return self.resolve(name)[1]

    def current_branch(self) -> str | None:
        """The branch HEAD points to (``main`` for ``ref: refs/heads/main``), born or not."""
        raw = self.read_ref_raw("HEAD")
        if raw is not None and raw.startswith("ref: refs/heads/"):
            return raw[len("ref: refs/heads/"):]
        return None

    def rev_parse(self, spec: str) -> str | None:
        """A commit sha for a full sha, a ref name, or a short branch/tag/remote name."""
        if is_hex_oid(spec.lower()):
            return spec.lower()
        for candidate in (spec, f"refs/{spec}", f"refs/tags/{spec}", f"refs/heads/{spec}",
                          f"refs/remotes/{spec}", f"refs/remotes/{spec}/HEAD"):
            if candidate != "HEAD" and not valid_ref_name(candidate):
                continue
            sha = self.ref_sha(candidate)
            if sha is not None:
                return sha
        return None

    # ------------------------------------------------------------------ config
    @property
    def config(self) -> GitConfig:
        if self._config is None:
            from .config import GitConfig

            self._config = GitConfig(self.commondir, self.gitdir,
                                     worktree_config=self.worktree_config,
                                     branch=self.current_branch)
        return self._config

    def config_get(self, section: str, name: str, sub: str | None = None) -> str | None:
        return self.config.get(section, name, sub)

    def config_bool(self, section: str, name: str, default: bool) -> bool:
        return self.config.get_bool(section, name, default)

    # ------------------------------------------------------------------ objects
    @property
    def objects(self) -> ObjectReader:
        if self._reader is None:
            from .objects import ObjectReader

            self._reader = ObjectReader(os.path.join(self.commondir, "objects"))
        return self._reader

    def read_object(self, sha: str) -> tuple[int, bytes]:
        """(type number, raw content) — 1 commit, 2 tree, 3 blob, 4 tag; its id verified.
:class:`~.damage.MissingObject` (a KeyError too) when the repository does not hold it.
        A replaced object (``git replace``) is read as its replacement, as git reads it."""
        replaced = self.replacements()
        if replaced:
            for _ in range(_MAX_REPLACE_DEPTH):  # git's do_lookup_replace_object
                if sha not in replaced:
                    break
                sha = replaced[sha]
            else:  # five replacements in a row: git dies
                raise AyjntError(f"replace depth too high for object {sha} (refs/replace/ "
                                 "holds a chain or a cycle); git refuses it too.",
                                 hint="git replace -l, then git replace -d <id>")
        return self.objects.read(sha)

    def replacements(self) -> dict[str, str]:
        """refs/replace/<id> -> the object id git reads instead, as git loads them before its
        first object read (``prepare_replace_object``): none with ``GIT_NO_REPLACE_OBJECTS`` or
        ``core.useReplaceRefs=false``; the packed records read from ``refs/replace/`` on, as
        git iterates them (damage there is fatal to git, so to us)."""
        if self._replaced is None:
            self._replaced = {}
            if os.environ.get("GIT_NO_REPLACE_OBJECTS") is not None or \
                    not self.config_bool("core", "usereplacerefs", True):
                return self._replaced
            names: set[str] = set()
            root = os.path.join(self.commondir, "refs", "replace")
            if os.path.isdir(root):
                for folder, _, files in os.walk(root):
                    rel = os.path.relpath(folder, root)
                    names.update(f if rel == "." else f"{rel}/{f}" for f in files)
            names.update(n[len("refs/replace/"):]
                         for n in self.packed_refs_under("refs/replace/"))
            for name in names:
                target = self.ref_sha("refs/replace/" + name)
                key = name.replace("/", "").lower()
                if is_hex_oid(key) and target is not None and is_hex_oid(target):
                    self._replaced[key] = target
        return self._replaced

    def has_object(self, sha: str) -> bool:
        return is_hex_oid(sha) and self.objects.contains(sha)

    def commit_tree(self, sha: str) -> str:
        """The tree of a commit (tags peeled)."""
        type_num, data = self.read_object(sha)
        for _ in range(32):
            if type_num != 4:
                break
            target = data[7:47].decode("ascii", "replace")  # annotated tag: peel
            if not data.startswith(b"object ") or not is_hex_oid(target):
                raise self._bad_object(sha, "a tag without its object line")
            type_num, data = self.read_object(target)
        if type_num != 1:
            raise AyjntError(f"{sha} is not a commit.")
        tree = data[5:45].decode("ascii", "replace")
        if not data.startswith(b"tree ") or not is_hex_oid(tree) or data[45:46] != b"\n":
            raise self._bad_object(sha, "a commit without its tree line")
        self._check_graph(sha, tree)
        return tree

    def commit_graph(self) -> CommitGraph | None:
        """The commit-graph as git would use it: none in a shallow clone, with grafts, or with
        ``core.commitGraph`` off. Its header is checked; its trailing checksum, as git never
        checks it on read, only when a walk meets a commit the graph does not hold."""
        if not self._graph_opened:
            self._graph_opened = True
            if not (os.path.exists(os.path.join(self.commondir, "shallow"))
                    or not self.config_bool("core", "commitgraph", True)):
                from .commitgraph import CommitGraph

                self._graph = CommitGraph.open(os.path.join(self.commondir, "objects"),
                                               verify=False)
        return self._graph

    def _check_graph(self, sha: str, tree: str) -> None:
        """git takes a commit's root tree from the commit-graph when the graph has the commit:
        if the graph says another tree, git sees another commit than the object we read."""
        graph = self.commit_graph()
        if graph is None:
            return
        pos = graph.position(bytes.fromhex(sha))
        if pos is not None:
            graph.check_entry(pos)
        if pos is not None and graph.tree(pos).hex() != tree:
            from .commitgraph import FIX
            from .damage import damaged

            raise damaged(graph.path, "commit-graph",
                          f"its entry for commit {sha} names another tree than the commit", FIX)

    def _bad_object(self, sha: str, why: str) -> AyjntError:
        from .damage import damaged

        return damaged(os.path.join(self.commondir, "objects"), f"object {sha}", why)


def read_gitfile(path: str) -> str:
    """The git dir a ``.git`` file names (``gitdir: <path>``, relative to the file)."""
    with reading(path, "gitdir file"):
        data = read_regular(path)
    if data is None or not data.startswith(b"gitdir: "):
        raise AyjntError(f"{path}: invalid gitfile format (expected 'gitdir: <path>'); git "
                         f"refuses it too.", path=path)
    target = data[8:].rstrip(b"\r\n").decode("utf-8", "surrogateescape")
    if not target:
        raise AyjntError(f"{path}: the gitfile names no path; git refuses it too.", path=path)
    gitdir = os.path.normpath(os.path.join(os.path.dirname(path), target))
    if not is_git_directory(gitdir):
        raise AyjntError(f"{path}: it names {gitdir}, which is not a git repository; git "
                         f"refuses it too (fatal: not a git repository).", path=path)
    return gitdir


def commondir_of(gitdir: str) -> str:
    path = os.path.join(gitdir, "commondir")
    with reading(path, "commondir file"):
        data = read_regular(path)
    if data is None:
        return gitdir
    rel = data.decode("utf-8", "surrogateescape").strip()
    return os.path.normpath(os.path.join(gitdir, rel))


def valid_head(path: str) -> bool:
    """git's ``validate_headref``: a symlink into refs/, ``ref: refs/…`` or an object id."""
    try:
        if os.path.islink(path):
            return os.readlink(path).startswith("refs/")
        data = read_regular(path)
    except (OSError, Corrupt):
        return False
    if data is None:
        return False
    if data.startswith(b"ref:"):
        return data[4:].lstrip().startswith(b"refs/")
    return is_hex_oid(data[:40].decode("ascii", "replace"))


def is_git_directory(path: str) -> bool:
    """git's ``is_git_directory``: a valid HEAD, and objects/ and refs/ in the common dir."""
    if not valid_head(os.path.join(path, "HEAD")):
        return False
    common = commondir_of(path)  # (an unreadable one is refused: git dies there too)
    objects = os.environ.get("GIT_OBJECT_DIRECTORY") or os.path.join(common, "objects")
    return os.access(objects, os.X_OK) and os.access(os.path.join(common, "refs"), os.X_OK)


def _looks_like_broken_gitdir(path: str) -> bool:
    """A ``.git`` folder with objects/ and refs/ whose HEAD is damaged: git would walk past it
    to a parent repository; we name the damage instead."""
    return os.path.isdir(os.path.join(path, "objects")) and \
        os.path.isdir(os.path.join(path, "refs")) and os.path.lexists(os.path.join(path, "HEAD"))


class RepoFormat:
    """What the repository's own config says about its format and its work tree (git reads
    these from ``config`` — and ``config.worktree`` — alone, without includes)."""

    def __init__(self) -> None:
        self.version = 0
        self.extensions: dict[str, tuple[bytes | None, int]] = {}
        self.bare: bool | None = None
        self.worktree: str | None = None
        self.worktree_config = False


def read_format(gitdir: str, commondir: str) -> RepoFormat:
    from .config import bad_config, parse, parse_bool, parse_int, read_config_file, split_key

    fmt = RepoFormat()
    path = os.path.join(commondir, "config")

    def core_value(key: str, value: bytes | None, where: str, line: int) -> None:
        if key == "bare":
            verdict = parse_bool(value)
            if verdict is None:
                raise AyjntError(f"{where}, line {line}: core.bare is not a boolean; git "
                                 f"refuses it too.", path=where)
            fmt.bare = verdict
        elif key == "worktree":
            if value is None:
                raise bad_config(where, line, "core.worktree without a value")
            fmt.worktree = value.decode("utf-8", "surrogateescape")

    def on_value(base: str, key: str, value: bytes | None, line: int) -> None:
        section, sub, name = split_key(base, key)
        if sub is not None:
            return
        if section == "core" and name == "repositoryformatversion":
            number = parse_int(value)
            if number is None:
                raise AyjntError(f"{path}, line {line}: core.repositoryformatversion is not a "
                                 f"number; git refuses it too.", path=path)
            fmt.version = number
        elif section == "extensions":
            fmt.extensions[name] = (value, line)
        elif section == "core":
            core_value(name, value, path, line)

    data = read_config_file(path)
    if data is not None:
        from .config import _BadLine

        try:
            parse(data, on_value)
        except _BadLine as e:
            raise bad_config(path, e.line(data), e.why) from None
    _check_format(fmt, path)
    if fmt.worktree_config:
        wt_path = os.path.join(gitdir, "config.worktree")
        wt_data = read_config_file(wt_path)
        if wt_data is not None:
            def on_worktree_value(base: str, key: str, value: bytes | None, line: int) -> None:
                if base == "core":
                    core_value(key, value, wt_path, line)

            try:
                parse(wt_data, on_worktree_value)
            except _BadLine as e:
                raise bad_config(wt_path, e.line(wt_data), e.why) from None
    return fmt


def _check_format(fmt: RepoFormat, path: str) -> None:
    """git's ``verify_repository_format``, narrowed to what this reader supports."""
    from .config import parse_bool

    def refuse(why: str) -> AyjntError:
        return AyjntError(f"{path}: {why}", path=path)

    if fmt.version > 1:
        raise refuse(f"repository format version {fmt.version}; git refuses it too "
                     f"(\"Expected git repo version <= 1, found {fmt.version}\"), and "
                     f"ayjnt-hooks reads versions 0 and 1.")
    unknown = [name for name in fmt.extensions
               if name not in EXTENSIONS_V0 and name not in EXTENSIONS_V1]
    if fmt.version == 1 and unknown:
        raise refuse(f"unknown repository extension found: {', '.join(unknown)}; git refuses "
                     f"it too.")
    v1_only = [name for name in fmt.extensions if name in EXTENSIONS_V1]
    if fmt.version == 0 and v1_only:
        raise refuse(f"repo version is 0, but v1-only extension found: {', '.join(v1_only)}; "
                     f"git refuses it too.")
    if fmt.version == 0:
        # git ignores every other extension in a version-0 repository
        fmt.extensions = {k: v for k, v in fmt.extensions.items() if k in EXTENSIONS_V0}
    for name in ("preciousobjects", "worktreeconfig"):
        if name in fmt.extensions:
            value, line = fmt.extensions[name]
            verdict = parse_bool(value)
            if verdict is None:
                raise refuse(f"line {line}: extensions.{name} is not a boolean; git refuses "
                             f"it too.")
            if name == "worktreeconfig":
                fmt.worktree_config = verdict
    for name, supported in (("objectformat", "sha1"), ("compatobjectformat", None),
                            ("refstorage", "files")):
        if name not in fmt.extensions:
            continue
        value, line = fmt.extensions[name]
        text = (value or b"").decode("utf-8", "replace").lower()
        if name == "compatobjectformat" and text in ("sha1", "sha256"):
            continue
        if text != supported:
            what = {"objectformat": "object format", "compatobjectformat":
                    "compatibility object format", "refstorage": "ref storage"}[name]
            raise AyjntError(f"{path}, line {line}: unsupported {what} (extensions.{name}); "
                             f"ayjnt-hooks reads SHA-1 repositories with the files ref "
                             f"backend only.", path=path)


def discover(start: str) -> Repo:
    """The repository that contains ``start`` (or the one ``GIT_DIR`` names), with its work
    tree as git would set it up; the repository format is checked first."""
    env = os.environ
    cwd = os.getcwd()
    env_gitdir = env.get("GIT_DIR")
    bare_here = False
    if env_gitdir:
        gitdir = os.path.abspath(os.path.join(cwd, env_gitdir))
        if os.path.isfile(gitdir):
            gitdir = read_gitfile(gitdir)
        if not is_git_directory(gitdir):
            raise AyjntError(f"GIT_DIR={env_gitdir} is not a git repository; git refuses it "
                             f"too.")
        top = cwd
    else:
        current = os.path.abspath(start)
        from .ownership import ensure_valid_ownership

        while True:
            dotgit = os.path.join(current, ".git")
            if os.path.isfile(dotgit):
                gitdir = read_gitfile(dotgit)
                # (git's paths here are physical: its getcwd and the gitfile's real path)
                real = os.path.realpath(current)
                ensure_valid_ownership(os.path.join(real, ".git"), real,
                                       os.path.realpath(gitdir))
                break
            if os.path.isdir(dotgit):
                if is_git_directory(dotgit):
                    gitdir = dotgit
                    real = os.path.realpath(current)
                    ensure_valid_ownership(None, real, os.path.join(real, ".git"))
                    break
                if _looks_like_broken_gitdir(dotgit):
                    head = os.path.join(dotgit, "HEAD")
                    raise AyjntError(f"{head}: not a valid HEAD (neither 'ref: refs/…' nor an "
                                     f"object id); git does not see a repository here "
                                     f"either.", path=head,
                                     hint="restore it, e.g. `echo 'ref: refs/heads/main' > "
                                          ".git/HEAD`")
            if is_git_directory(current):
                gitdir, bare_here = current, True
                ensure_valid_ownership(None, None, os.path.realpath(current))
                break
            parent = os.path.dirname(current)
            if parent == current:
                raise NotARepo("fatal: not a git repository (or any of the parent "
                               "directories): .git",
                               hint=f"run it inside a git checkout ({start} is not in one)")
            current = parent
        top = current
    commondir = os.path.abspath(os.path.join(cwd, env["GIT_COMMON_DIR"])) \
        if env.get("GIT_COMMON_DIR") else commondir_of(gitdir)
    fmt = read_format(gitdir, commondir)
    worktree = _worktree(fmt, gitdir, commondir, top, explicit=bool(env_gitdir),
                         bare_here=bare_here)
    index = env.get("GIT_INDEX_FILE")
    index_file = os.path.abspath(os.path.join(cwd, index)) if index \
        else os.path.join(gitdir, "index")
    repo = Repo(gitdir, commondir, worktree, index_file, worktree_config=fmt.worktree_config)
    from .supported import check_repository

    check_repository(repo)
    return repo


def _worktree(fmt: RepoFormat, gitdir: str, commondir: str, top: str, *, explicit: bool,
              bare_here: bool) -> str | None:
    """git's rules (setup.c, t1510): ``GIT_WORK_TREE`` wins; else ``core.bare`` means none;
    else ``core.worktree`` (relative to the git dir); else the folder holding ``.git`` (or the
    current folder with ``GIT_DIR``). A linked worktree ignores the shared config's
    ``core.bare`` and ``core.worktree`` unless ``extensions.worktreeConfig`` is on."""
    env = os.environ
    config = os.path.join(commondir, "config")
    shared = os.path.exists(os.path.join(gitdir, "commondir")) and not fmt.worktree_config
    bare = None if shared else fmt.bare
    configured = None if shared else fmt.worktree
    if env.get("GIT_WORK_TREE"):
        path = os.path.abspath(env["GIT_WORK_TREE"])
        if not os.path.isdir(path):
            raise AyjntError(f"GIT_WORK_TREE={env['GIT_WORK_TREE']} is not a folder; git "
                             f"refuses it too (fatal: Invalid path).")
        return os.path.realpath(path)
    if bare:
        if configured is not None and (explicit or not bare_here):
            raise AyjntError(f"{config}: core.bare and core.worktree are both set; git refuses "
                             f"it too (\"unable to set up work tree using invalid config\").",
                             path=config)
        return None
    if configured is not None:
        path = configured if os.path.isabs(configured) else os.path.join(gitdir, configured)
        if not os.path.isdir(path):
            raise AyjntError(f"{config}: core.worktree names {path}, which is not a folder; git "
                             f"refuses it too.", path=config,
                             hint="fix it (`git config core.worktree <folder>`) or remove it "
                                  "(`git config --unset core.worktree`)")
        return os.path.realpath(path)
    if bare_here:
        return None
    if explicit and env.get("GIT_IMPLICIT_WORK_TREE") in ("0", "false"):
        return None
    return top
