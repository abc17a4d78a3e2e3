"""The deploy ledger on the git remote: read it, and move its refs by compare-and-swap.

Two refs per environment on ``origin``:

* ``refs/ayjnt/deployed/<env>``: the live record, a parentless commit whose tree holds the
  deployed ``.ayjnt/migrations.json`` and whose message's ``Ayjnt-*`` trailers say which commit
  was deployed, its last tag, who deployed it, from where and when;
* ``refs/ayjnt/deploying/<env>``: the lease a running deploy holds (same shape).

Reading goes through dulwich: one fetch that lists the remote's refs and downloads only the
objects of the ``refs/ayjnt/`` tips into memory (nothing is written into the user's ``.git``).
Writing moves exactly one ref with an expected old value, which the remote checks under its ref
lock (an atomic compare-and-swap):

* ``file://``, local paths and ``git://`` need no credentials: dulwich sends the objects;
* every other remote (https, ssh) needs the user's credentials, so the user's ``git push
  --atomic --force-with-lease=<ref>:<old>`` does it — with ``git credential fill`` for a
  read that needs credentials, the only places ayjnt-hooks runs the git binary. Its objects
  come from a temporary object directory (``GIT_OBJECT_DIRECTORY``): a record is parentless
  and refers to none of the project's objects, so git needs nothing else, and nothing is
  written into the user's ``.git``.
"""
from __future__ import annotations

import os
import re
import threading
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any, NamedTuple

from ..errors import AyjntError

if TYPE_CHECKING:
    from .repo import Repo

PREFIX = "refs/ayjnt/"
DEPLOYED = "refs/ayjnt/deployed/"
DEPLOYING = "refs/ayjnt/deploying/"
LOCK_PATH = ".ayjnt/migrations.json"
ZERO = "0" * 40
READ_TIMEOUT_S = 30.0
WRITE_TIMEOUT_S = 120.0
TRAILER = "Ayjnt-"
_ENV_NAME = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.-]*")
_USERINFO = re.compile(r"(?i)\b([a-z][a-z0-9+.-]*://)[^/@\s]*@")


class LedgerError(AyjntError):
    """The remote could not be read or written (unreachable, refused, not a repository)."""


def check_env_name(env: str) -> str:
    """An environment name usable as the last part of a ref name, or a clear error."""
    if not _ENV_NAME.fullmatch(env) or ".." in env or env.endswith((".lock", ".")):
        raise AyjntError(f"environment name {env!r} cannot name a ledger ref (use letters, "
                         "digits, '_', '-' and '.').", hint="--env <name>")
    return env


def redact(text: str) -> str:
    """Text safe to print or record: no ``user:password@`` in URLs, no Cloudflare token."""
    text = _USERINFO.sub(r"\1***@", text)
    for name in ("CLOUDFLARE_API_TOKEN", "CLOUDFLARE_API_KEY", "CF_API_TOKEN"):
        secret = os.environ.get(name)
        if secret and len(secret) >= 4:
            text = text.replace(secret, "***")
    return text


def _one_line(value: str) -> str:
    return redact(" ".join(value.split()))


class Record(NamedTuple):
    """One ledger commit: its sha, its ``Ayjnt-*`` fields, and the lockfile it holds."""
    sha: str
    fields: dict[str, str]
    lockfile: bytes | None

    def get(self, key: str, default: str = "?") -> str:
        return self.fields.get(key, default)

    def describe(self) -> str:
        """One line: tag, commit, who, where, when."""
        commit = self.get("Commit", "none")
        parts = [self.get("Tag", "none"),
                 f"commit {commit[:7] if len(commit) == 40 else commit}",
                 f"by {self.get('By')}", f"on {self.get('Host')}", f"at {self.get('At')}"]
        if "CI" in self.fields:
            parts.append(f"({self.fields['CI']})")
        return ", ".join(parts)

    def as_json(self) -> dict[str, Any]:
        return {"record": self.sha, **{k.lower(): v for k, v in self.fields.items()}}


class LedgerState(NamedTuple):
    deployed: dict[str, Record]
    leases: dict[str, Record]
    url: str  # redacted, for messages


def parse_fields(message: bytes) -> dict[str, str]:
    fields: dict[str, str] = {}
    for line in message.decode("utf-8", "replace").splitlines():
        key, sep, value = line.partition(": ")
        if sep and key.startswith(TRAILER) and " " not in key:
            fields[key[len(TRAILER):]] = _one_line(value)
    return fields


def format_message(subject: str, fields: Mapping[str, str]) -> bytes:
    lines = [_one_line(subject), ""]
    lines += [f"{TRAILER}{k}: {_one_line(v)}" for k, v in fields.items()]
    return ("\n".join(lines) + "\n").encode()


# ---------------------------------------------------------------------- remote


class Remote:
    """``origin`` of a repository, as the ledger reads and writes it."""

    def __init__(self, repo: Repo, name: str = "origin") -> None:
        self.repo = repo
        self.name = name
        url = repo.config_get("remote", "url", name)
        if not url:
            raise LedgerError(f"no remote.{name}.url is configured, so there is no deploy "
                              "ledger to read.", hint=f"git remote add {name} <url>")
        self.url = url
        self.push_url = repo.config_get("remote", "pushurl", name) or url
        self.shown = redact(url)
        self._config: Any = None

    def _location(self, url: str) -> str:
        if "://" not in url and ":" not in url.split("/")[0] and not os.path.isabs(url):
            return os.path.normpath(os.path.join(self.repo.worktree or self.repo.gitdir, url))
        return url

    def _client(self, url: str, operation: str,
                login: tuple[str, str] | None = None) -> tuple[Any, Any]:
        from dulwich.client import get_transport_and_path

        from .config import _dulwich_stack

        if self._config is None:  # insteadOf, http.extraHeader, sslVerify… as git reads them
            self._config = _dulwich_stack(self.repo.commondir)
        user, password = login or (None, None)
        client, path = get_transport_and_path(self._location(url), config=self._config,
                                              operation=operation, username=user,
                                              password=password)
        return client, path.encode() if isinstance(path, str) else path

    def _login(self, url: str) -> tuple[str, str]:
        """The user's credentials for an http(s) remote that answered 401, from the user's
        own git credential helpers (``git credential fill``, no prompt): the same helpers
        ``git fetch`` would ask. Never printed, never recorded."""
        import subprocess

        from dulwich.config import apply_instead_of

        effective = apply_instead_of(self._config, url, push=False) if self._config else url
        env = {**os.environ, "GIT_TERMINAL_PROMPT": "0", "GIT_ASKPASS": "",
               "SSH_ASKPASS": ""}
        try:
            proc = subprocess.run(
                ["git", "credential", "fill"], input=f"url={effective}\n\n".encode(),
                cwd=self.repo.worktree or self.repo.gitdir, env=env, capture_output=True,
                timeout=READ_TIMEOUT_S)
        except FileNotFoundError:
            proc = None
        except subprocess.TimeoutExpired:
            raise LedgerError(f"{self.shown} asks for credentials and `git credential fill` "
                              f"gave none within {READ_TIMEOUT_S:.0f} s.") from None
        fields: dict[str, str] = {}
        if proc is not None and proc.returncode == 0:
            for line in proc.stdout.decode("utf-8", "replace").splitlines():
                key, _, value = line.partition("=")
                fields[key] = value
        if not fields.get("username") or "password" not in fields:
            raise LedgerError(
                f"{self.shown} asks for credentials, and no git credential helper gave "
                "them without a prompt, so the deploy ledger cannot be read.",
                hint=f"git ls-remote {self.name}  (store the credentials with a helper: git "
                     "config credential.helper …, or use an ssh remote)")
        return fields["username"], fields["password"]

    def _dulwich_writes(self) -> bool:
        """True where no credentials are involved (dulwich then does what git would)."""
        url = self.push_url
        if "://" not in url:  # a path, or scp-like host:path (ssh)
            return ":" not in url.split("/")[0]
        return url.split("://", 1)[0].lower() in ("file", "git")

    # ------------------------------------------------------------------ read
    def read(self, timeout: float = READ_TIMEOUT_S) -> LedgerState:
        """Every ``refs/ayjnt/`` record on the remote, objects fetched into memory."""

        def fetch() -> LedgerState:
            from dulwich.client import HTTPUnauthorized

            client, path = self._client(self.url, "pull")
            try:
                listed = client.get_refs(path)
            except HTTPUnauthorized:  # as git does: ask the user's credential helpers
                client, path = self._client(self.url, "pull", self._login(self.url))
                listed = client.get_refs(path)
            listed = getattr(listed, "refs", listed)  # (an LsRemoteResult in dulwich 1.x)
            if not any(name.startswith(PREFIX.encode()) for name in listed):
                return LedgerState({}, {}, self.shown)  # no ledger: one round trip, no fetch
            from dulwich.repo import MemoryRepo  # (a measurable import: only when needed)

            tips: dict[str, str] = {}

            def wants(refs: Mapping[bytes, bytes], depth: int | None = None) -> list[bytes]:
                for name, sha in refs.items():
                    ref = name.decode("utf-8", "replace")
                    if ref.startswith(PREFIX) and not ref.endswith("^{}") and sha:
                        tips[ref] = sha.decode()
                return sorted({sha.encode() for sha in tips.values()})

            target = MemoryRepo()
            client.fetch(path, target, determine_wants=wants)
            deployed: dict[str, Record] = {}
            leases: dict[str, Record] = {}
            for ref, sha in tips.items():
                for prefix, into in ((DEPLOYED, deployed), (DEPLOYING, leases)):
                    if ref.startswith(prefix):
                        into[ref[len(prefix):]] = _record(target.object_store, sha)
            return LedgerState(deployed, leases, self.shown)

        state: LedgerState = _with_timeout(fetch, timeout,
                                           f"reading the deploy ledger from {self.shown}")
        return state

    # ------------------------------------------------------------------ write
    def update(self, ref: str, old: str | None, new: Built | None,
               timeout: float = WRITE_TIMEOUT_S) -> str | None:
        """Move ``ref`` from ``old`` (None: must not exist) to ``new`` (None: delete).

        Returns None when it moved, else the value the remote holds instead (ZERO when absent):
        the compare-and-swap lost. A remote that cannot be written raises LedgerError."""
        if self._dulwich_writes():
            got: str | None = _with_timeout(lambda: self._send_pack(ref, old, new), timeout,
                                            f"writing {ref} to {redact(self.push_url)}")
            return got
        return self._git_push(ref, old, new, timeout)

    def _send_pack(self, ref: str, old: str | None, new: Built | None) -> str | None:
        from dulwich.pack import pack_objects_to_data

        client, path = self._client(self.push_url, "push")
        name = ref.encode()
        lost: list[str] = []

        def update_refs(refs: dict[Any, Any]) -> dict[Any, Any]:
            current = refs.get(name)
            current_hex = current.decode() if current else None
            if current_hex != old:
                lost.append(current_hex or ZERO)
                return {}  # nothing to send: the remote is not where we expected it
            return {name: (new.sha.encode() if new else ZERO.encode())}

        def pack(have: Any, want: Any, ofs_delta: bool = False, progress: Any = None,
                 **_: Any) -> Any:
            return pack_objects_to_data([(o, None) for o in (new.objects if new else [])])

        from dulwich.file import FileLocked

        try:
            result = client.send_pack(path, update_refs, pack)
        except FileLocked:  # another writer holds the remote's ref lock right now
            return self._rejected(ref, old, "the ref is locked by another writer")
        if lost:
            return lost[0]
        status = (getattr(result, "ref_status", None) or {}).get(name)
        if status:  # the remote's own check, under its lock, refused the update
            return self._rejected(ref, old, str(status))
        return None

    def _rejected(self, ref: str, old: str | None, reason: str) -> str:
        """After a refused update: the value that beat ours, or LedgerError when the ref is
        still where we expected it (the remote refused for another reason)."""
        import time

        for _ in range(10):  # a concurrent writer may still be between its lock and its write
            current = self._current(ref)
            if current != (old or ZERO):
                return current
            time.sleep(0.2)
        raise LedgerError(f"{redact(self.push_url)} refused to update {ref}: {redact(reason)}")

    def _current(self, ref: str) -> str:
        state = self.read()
        for prefix, records in ((DEPLOYED, state.deployed), (DEPLOYING, state.leases)):
            if ref.startswith(prefix) and ref[len(prefix):] in records:
                return records[ref[len(prefix):]].sha
        return ZERO

    def _git_push(self, ref: str, old: str | None, new: Built | None,
                  timeout: float) -> str | None:
        import subprocess
        import tempfile

        with tempfile.TemporaryDirectory(prefix="ayjnt-ledger-") as objects:
            for obj in new.objects if new else ():
                sha = obj.id.decode()
                os.makedirs(os.path.join(objects, sha[:2]), exist_ok=True)
                with open(os.path.join(objects, sha[:2], sha[2:]), "wb") as f:
                    f.write(obj.as_legacy_object())
            # Only the temporary directory is the object store: git can send nothing else,
            # and writes nothing into the repository's own objects.
            env = {**os.environ, "GIT_DIR": self.repo.gitdir, "GIT_OBJECT_DIRECTORY": objects}
            env.pop("GIT_ALTERNATE_OBJECT_DIRECTORIES", None)
            env.pop("GIT_INDEX_FILE", None)
            argv = ["git", "push", "--atomic", "--porcelain", "--no-verify",
                    f"--force-with-lease={ref}:{old or ''}", self.name,
                    f"{new.sha if new else ''}:{ref}"]
            try:
                proc = subprocess.run(argv, cwd=self.repo.worktree or self.repo.gitdir,
                                      env=env, stdin=subprocess.DEVNULL, capture_output=True,
                                      timeout=timeout)
            except FileNotFoundError:
                raise LedgerError(f"writing the deploy ledger to {self.shown} needs git (for "
                                  "your credentials), and git is not installed.",
                                  hint="install git") from None
            except subprocess.TimeoutExpired:
                raise LedgerError(f"git push to {self.shown} did not finish within "
                                  f"{timeout:.0f} s.") from None
        out = proc.stdout.decode("utf-8", "replace")
        lines = [line for line in out.splitlines() if f":{ref}\t" in line]
        if proc.returncode == 0 and lines and lines[0][:1] in ("*", "+", "-", " ", "="):
            return None
        if lines and lines[0].startswith("!"):
            return self._rejected(ref, old, lines[0].split("\t")[-1])
        err = redact(proc.stderr.decode("utf-8", "replace").strip() or out.strip())
        raise LedgerError(f"git push to {self.shown} failed (exit {proc.returncode}): {err}")


def _record(store: Any, sha: str) -> Record:
    """Parse a fetched record; its lockfile is read from ``.ayjnt/migrations.json``."""
    commit = store[sha.encode()]
    if getattr(commit, "type_name", b"") != b"commit":
        return Record(sha, {}, None)
    data: bytes | None = None
    tree = store[commit.tree]
    for part in LOCK_PATH.split("/"):
        entry = next((e for e in tree.items() if e.path == part.encode()), None)
        if entry is None:
            data = None
            break
        obj = store[entry.sha]
        if obj.type_name == b"tree":
            tree = obj
        else:
            data = obj.as_raw_string()
    return Record(sha, parse_fields(commit.message), data)


def _with_timeout(body: Callable[[], Any], timeout: float, what: str) -> Any:
    """Run a dulwich transport call in a thread: a remote that never answers cannot hang us,
    and ssh runs in batch mode (a read has no prompt to answer)."""
    result: dict[str, Any] = {}
    quiet = {"GIT_TERMINAL_PROMPT": "0",
             "GIT_SSH_COMMAND": "ssh -o BatchMode=yes -o ConnectTimeout=10"}
    added = [k for k in quiet if k not in os.environ]
    for k in added:
        os.environ[k] = quiet[k]

    def run() -> None:
        try:
            result["value"] = body()
        except LedgerError as e:
            result["error"] = e
        except Exception as e:  # any transport failure means "cannot be reached"
            result["error"] = LedgerError(f"{what} failed: "
                                          f"{redact(str(e)) or type(e).__name__}")

    worker = threading.Thread(target=run, daemon=True)
    worker.start()
    worker.join(timeout)
    for k in added:
        os.environ.pop(k, None)
    if worker.is_alive():
        raise LedgerError(f"{what}: no answer within {timeout:.0f} s.")
    if "error" in result:
        raise result["error"]
    return result["value"]


# ---------------------------------------------------------------------- build


class Built(NamedTuple):
    """A record ready to send: its commit sha and the objects (commit, trees, blob)."""
    sha: str
    objects: list[Any]


def build_record(subject: str, fields: Mapping[str, str], lockfile: bytes | None,
                 identity: str, when: int) -> Built:
    """A parentless commit: tree ``.ayjnt/migrations.json`` (when given), trailers in the
    message, ``identity`` ("Name <email>") as author and committer."""
    from dulwich.objects import Blob, Commit, Tree

    objects: list[Any] = []
    inner = Tree()
    if lockfile is not None:
        blob = Blob.from_string(lockfile)
        inner.add(b"migrations.json", 0o100644, blob.id)
        objects += [blob, inner]
    top = Tree()
    if lockfile is not None:
        top.add(b".ayjnt", 0o040000, inner.id)
    objects.append(top)
    commit = Commit()
    commit.tree = top.id
    commit.author = commit.committer = _one_line(identity).encode()
    commit.author_time = commit.commit_time = when
    commit.author_timezone = commit.commit_timezone = 0
    commit.message = format_message(subject, fields)
    objects.append(commit)
    return Built(commit.id.decode(), objects)


def identity(repo: Repo) -> str:
    """Who is deploying, as git would sign a commit: ``Name <email>``."""
    import getpass
    import socket

    env = os.environ
    name = env.get("GIT_COMMITTER_NAME") or repo.config_get("user", "name") \
        or env.get("GIT_AUTHOR_NAME")
    email = env.get("GIT_COMMITTER_EMAIL") or repo.config_get("user", "email") \
        or env.get("GIT_AUTHOR_EMAIL")
    if not name:
        try:
            name = getpass.getuser()
        except Exception:
            name = "unknown"
    if not email:
        email = f"{name}@{socket.gethostname()}"
    return f"{name} <{email}>"
