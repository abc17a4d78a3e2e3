"""Git-backed snapshots for the engine: the index being committed, or a commit's tree.

Both read only the ayjnt project's ``agents/``, ``workflows/`` and ``.ayjnt/migrations.json``
(under ``DIR/`` for a project in a subfolder), so their cost does not grow with the rest of the
repository. Symlinks and gitlinks are skipped, as ayjnt's glob skips them on disk.
"""
from __future__ import annotations

from ..engine.snapshot import not_a_file, not_a_folder
from ..errors import AyjntError
from .trees import S_IFDIR, parse_tree

TYPE_CHECKING = False  # (typing is not imported at run time: start-up time counts here)
if TYPE_CHECKING:
    from .index import Index
    from .repo import Repo

_REGULAR = (0o100644, 0o100755, 0o100664)
# The engine only ever reads these project folders/files.
_ENGINE_ROOTS = ("agents/", "workflows/", ".ayjnt/")


def engine_paths(prefix: str) -> tuple[str, ...]:
    """Index path prefixes the engine reads for a project at ``prefix`` (for read_index)."""
    base = f"{prefix.strip('/')}/" if prefix.strip("/") else ""
    return tuple(base + r for r in _ENGINE_ROOTS)


def _join(prefix: str, path: str) -> str:
    return f"{prefix}/{path}" if prefix else path


class CommitSnapshot:
    def __init__(self, repo: Repo, commit: str, prefix: str = "", label: str | None = None,
                 *, tree: str | None = None) -> None:
        self.repo = repo
        self.commit = commit
        self.prefix = prefix.strip("/")
        self.label = label or commit[:7]
        self._tree = tree if tree is not None else repo.commit_tree(commit)
        self._trees: dict[str, dict[bytes, tuple[int, str]]] = {}

    def _entries(self, tree: str) -> dict[bytes, tuple[int, str]]:
        parsed = self._trees.get(tree)
        if parsed is None:
            parsed = self._trees[tree] = parse_tree(self.repo.read_object(tree)[1])
        return parsed

    def display(self, path: str) -> str:
        return f"{_join(self.prefix, path)} (in {self.label})"

    def _lookup(self, path: str) -> tuple[int, str] | None:
        tree = self._tree
        parts = [p for p in _join(self.prefix, path).split("/") if p]
        for i, part in enumerate(parts):
            entry = self._entries(tree).get(part.encode("utf-8", "surrogateescape"))
            if entry is None:
                return None
            if i == len(parts) - 1:
                return entry
            if entry[0] != S_IFDIR:
                return None
            tree = entry[1]
        return (S_IFDIR, tree)

    def exists(self, path: str) -> bool:
        return self._lookup(path) is not None

    def files_under(self, folder: str) -> list[str]:
        entry = self._lookup(folder)
        if entry is None:
            return []
        if entry[0] != S_IFDIR:
            raise not_a_folder(self.display(folder))
        found: list[str] = []
        pending = [(entry[1], folder)]
        while pending:
            tree, rel = pending.pop()
            for name, (mode, sha) in self._entries(tree).items():
                child = f"{rel}/{name.decode('utf-8', 'surrogateescape')}"
                if mode == S_IFDIR:
                    pending.append((sha, child))
                elif mode in _REGULAR:
                    found.append(child)
        return sorted(found)

    def read(self, path: str) -> bytes | None:
        entry = self._lookup(path)
        if entry is None:
            return None
        if entry[0] == S_IFDIR:
            raise not_a_file(self.display(path))
        if entry[0] not in _REGULAR:
            return None  # a symlink or submodule: ayjnt would not read it as a file here
        return self.repo.read_object(entry[1])[1]


class IndexSnapshot:
    """The stage-0 entries of an index (``$GIT_INDEX_FILE`` under ``git commit -a``)."""

    def __init__(self, repo: Repo, index: Index, prefix: str = "") -> None:
        self.repo = repo
        self.prefix = prefix.strip("/")
        self._files: dict[str, str] = {}
        self._dirs: set[str] = set()
        self._sparse: dict[str, str] = {}
        self._conflicted: set[str] = set()
        base = f"{self.prefix}/" if self.prefix else ""
        roots = tuple(base + r for r in _ENGINE_ROOTS)
        for e in index.entries:
            path = e.path
            if e.mode != S_IFDIR and not path.startswith(roots):
                continue  # the rest of the repository is never read
            if e.stage:
                self._conflicted.add(path)
            elif e.mode == S_IFDIR:
                self._sparse[path.rstrip("/")] = e.sha
            elif e.mode in _REGULAR and not e.intent_to_add:
                self._files[path] = e.sha
                cut = path.rfind("/")
                while cut > 0 and path[:cut] not in self._dirs:
                    self._dirs.add(path[:cut])
                    cut = path.rfind("/", 0, cut)

    def display(self, path: str) -> str:
        return f"{_join(self.prefix, path)} (staged)"

    def _sparse_parent(self, full: str) -> tuple[str, str] | None:
        for d, sha in self._sparse.items():
            if full.startswith(d + "/") or full == d:
                return d, sha
        return None

    def exists(self, path: str) -> bool:
        full = _join(self.prefix, path)
        if full in self._files or full in self._conflicted:
            return True
        if full in self._dirs:
            return True
        sparse = self._sparse_parent(full)
        if sparse is None:
            return False
        d, tree = sparse
        return full == d or tree_snapshot(self.repo, tree, d).exists(full[len(d) + 1:])

    def files_under(self, folder: str) -> list[str]:
        full = _join(self.prefix, folder)
        if full in self._files:
            raise not_a_folder(self.display(folder))
        cut = len(self.prefix) + 1 if self.prefix else 0
        found = [p[cut:] for p in self._files if p.startswith(full + "/")] \
            if full in self._dirs else []
        for d, sha in self._sparse.items():
            if d.startswith(full + "/") or d == full:
                found += self._tree_files(sha, d[cut:])
            elif full.startswith(d + "/"):  # the folder sits inside a sparse directory
                inner = tree_snapshot(self.repo, sha, d)
                found += [f"{d}/{p}"[cut:] for p in inner.files_under(full[len(d) + 1:])]
        return sorted(found)

    def _tree_files(self, tree: str, rel: str) -> list[str]:
        out: list[str] = []
        for name, (mode, sha) in parse_tree(self.repo.read_object(tree)[1]).items():
            child = f"{rel}/{name.decode('utf-8', 'surrogateescape')}"
            if mode == S_IFDIR:
                out += self._tree_files(sha, child)
            elif mode in _REGULAR:
                out.append(child)
        return out

    def read(self, path: str) -> bytes | None:
        full = _join(self.prefix, path)
        if full in self._conflicted:
            raise AyjntError(f"{full} has unresolved merge conflicts in the index. Resolve them, "
                             f"then `git add {full}`.", path=full)
        sha = self._files.get(full)
        if sha is None:
            sparse = self._sparse_parent(full)
            if sparse is None:
                return None
            d, tree = sparse
            return tree_snapshot(self.repo, tree, d).read(full[len(d) + 1:])
        return self.repo.read_object(sha)[1]


def tree_snapshot(repo: Repo, tree: str, label: str) -> CommitSnapshot:
    """A snapshot rooted at a bare tree id (used for sparse-index directories)."""
    return CommitSnapshot(repo, tree, label=label, tree=tree)
