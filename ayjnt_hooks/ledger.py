"""The deploy ledger: what ``ayjnt-deploy`` checks and records, and ``ayjnt-hooks ledger``.

Per environment (wrangler's ``--env``/``-e``, else ``$CLOUDFLARE_ENV``, else ``default``) the
remote holds the live lockfile (``refs/ayjnt/deployed/<env>``) and, while a deploy runs, its
lease (``refs/ayjnt/deploying/<env>``); :mod:`.git.ledger` reads and moves them. A deploy:

1. reads the remote (never the local copy); no ledger for the environment → nothing to do;
2. refuses while another deploy holds the lease, else takes it (an atomic create);
3. reads the ledger again under the lease and refuses unless the lockfile being deployed
   extends the live one as an unchanged prefix;
4. after wrangler exits 0 (not for ``--dry-run``) moves the ledger from the value read in 3 to
   the new record (compare-and-swap), then drops the lease; when wrangler fails it only drops
   the lease. A lost compare-and-swap is reported with both records and never overwritten.

``--override-ledger`` deploys past a refused prefix check or an unreachable remote, loudly.
"""
from __future__ import annotations

import os
import sys
import time
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

from .errors import AyjntError
from .report import ERROR, WARNING, paint

if TYPE_CHECKING:
    from .engine.lockfile import Lockfile
    from .git.ledger import Built, LedgerState, Record, Remote
    from .git.repo import Repo

OVERRIDE = "--override-ledger"
EXIT_OK, EXIT_FAILED, EXIT_USAGE, EXIT_CANNOT_CHECK = 0, 1, 2, 3


class Refused(AyjntError):
    """A ledger check failed: ``ayjnt-deploy`` prints it and exits 1."""

    def __init__(self, message: str, code: str, hint: str | None = None) -> None:
        super().__init__(message, hint=hint)
        self.code = code


# ---------------------------------------------------------------------- wrangler's args


def wrangler_env(forwarded: Sequence[str]) -> str:
    """The environment wrangler deploys to: the last ``--env``/``-e``, else $CLOUDFLARE_ENV."""
    env: str | None = None
    args = list(forwarded)
    for i, a in enumerate(args):
        if a in ("--env", "-e"):
            env = args[i + 1] if i + 1 < len(args) else ""
        elif a.startswith(("--env=", "-e=")):
            env = a.split("=", 1)[1]
    if env is None:
        env = os.environ.get("CLOUDFLARE_ENV")
    return env or "default"


def is_dry_run(forwarded: Sequence[str]) -> bool:
    """wrangler's ``--dry-run`` (yargs spellings; the last one wins). When in doubt it is a
    real deploy: recording a deploy that did not happen is the safe mistake."""
    dry = False
    for a in forwarded:
        name, _, value = a.partition("=")
        if name in ("--dry-run", "--dryRun"):
            dry = value.lower() not in ("false", "0", "no") if value else True
        elif name in ("--no-dry-run", "--no-dryRun"):
            dry = False
    return dry


# ---------------------------------------------------------------------- messages


def entry_summary(entry: Any) -> str:
    """``v3 (adds SupportAgent)`` for a migration entry, ``nothing`` for None."""
    if not isinstance(entry, dict):
        return "nothing (the entry is missing)"
    parts = []
    for key, verb in (("new_sqlite_classes", "adds"), ("new_classes", "adds"),
                      ("deleted_classes", "deletes")):
        names = [n for n in entry.get(key) or [] if isinstance(n, str)]
        if names:
            parts.append(f"{verb} {', '.join(names)}")
    renames = [f"{r.get('from')} → {r.get('to')}" for r in entry.get("renamed_classes") or []
               if isinstance(r, dict)]
    if renames:
        parts.append(f"renames {', '.join(renames)}")
    detail = f" ({'; '.join(parts)})" if parts else ""
    return f"{entry.get('tag', '?')}{detail}"


def holder_text(env: str, lease: Record) -> str:
    return (f"another deploy to {env} holds the lease since {lease.get('At')}: "
            f"{lease.get('By')} on {lease.get('Host')} (pid {lease.get('Pid')}), deploying "
            f"commit {lease.get('Commit')[:7]} ({lease.get('Tag', 'none')})"
            + (f", {lease.fields['CI']}" if "CI" in lease.fields else "") + ".")


def last_tag(lock: Lockfile) -> str:
    return str(lock["migrations"][-1]["tag"]) if lock["migrations"] else "none"


def _stamp(now: float) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(now))


def _where() -> dict[str, str]:
    import socket

    fields = {"Host": socket.gethostname()}
    env = os.environ
    if env.get("GITHUB_ACTIONS") == "true" and env.get("GITHUB_RUN_ID"):
        server = env.get("GITHUB_SERVER_URL") or "https://github.com"
        fields["CI"] = f"{server}/{env.get('GITHUB_REPOSITORY', '?')}/actions/runs/" \
                       f"{env['GITHUB_RUN_ID']}"
    return fields


def _lockfile_of(record: Record, env: str) -> Lockfile:
    from .engine import lockfile as lf

    shown = f"the ledger record of {env} ({record.sha[:7]}):{lf.LOCKFILE_PATH}"
    try:
        return lf.parse_lockfile(record.lockfile, shown)
    except AyjntError as e:
        raise AyjntError(f"{e.message}\nThe live ledger record is unreadable, so it cannot "
                         f"protect this deploy. Inspect it: git fetch origin "
                         f"refs/ayjnt/deployed/{env} && git show FETCH_HEAD", hint=OVERRIDE
                         ) from None


def _project_of(repo: Repo, root: str) -> str:
    rel = os.path.relpath(os.path.realpath(root), os.path.realpath(repo.worktree or root))
    return "." if rel in (".", "") or rel.startswith("..") else rel.replace(os.sep, "/")


# ---------------------------------------------------------------------- ayjnt-deploy


class DeployGuard:
    """The ledger's part of one ``ayjnt-deploy`` run: :meth:`before` the hand-off,
    :meth:`finish` with wrangler's exit code, :meth:`release` when the run stops early."""

    def __init__(self, root: str, forwarded: Sequence[str], *, override: bool, force: bool,
                 say_ok: Callable[[str], None], warn: Callable[[str, str], None]) -> None:
        self.root = root
        self.env = wrangler_env(forwarded)
        self.dry_run = is_dry_run(forwarded)
        self.override = override
        self.force = force
        self.say_ok = say_ok
        self.warn = warn
        self.remote: Remote | None = None
        self.repo: Repo | None = None
        self.lease: Built | None = None
        self.base: Record | None = None
        self.lockfile: bytes = b""
        self.tag = "none"
        self.data: dict[str, Any] = {"env": self.env}

    def _loud(self, code: str, text: str) -> None:
        self.warn(code, "!" * 72 + "\n" + text + "\n" + "!" * 72)

    def _read(self, remote: Remote) -> LedgerState | None:
        from .git.ledger import LedgerError

        try:
            return remote.read()
        except LedgerError as e:
            if self.override:
                self._loud("ledger-unreachable", f"{OVERRIDE}: {e.message}\nDeploying WITHOUT "
                           "the deploy ledger: no lease is taken and nothing is recorded, so "
                           "this deploy may race another one or drop a live migration.")
                return None
            raise AyjntError(f"{e.message}\nA deploy ledger that cannot be read cannot protect "
                             "this deploy, so nothing was deployed. Fix the connection (`git "
                             f"ls-remote origin` shows what git sees), or deploy unprotected "
                             f"with {OVERRIDE}.", hint="git ls-remote origin") from None

    def before(self, lock: Lockfile) -> None:
        from .engine import lockfile as lf
        from .git.ledger import DEPLOYING
        from .git.repo import NotARepo, discover

        try:
            repo = discover(self.root)
        except NotARepo:
            return  # no remote, no ledger (the preflight already said "not a git repo")
        if not repo.config_get("remote", "url", "origin"):
            self.warn("no-ledger", "no remote.origin.url: no deploy ledger can protect this "
                                   "deploy.")
            return
        from .git.ledger import Remote

        self.repo = repo
        remote = Remote(repo)
        state = self._read(remote)
        if state is None:
            return
        if self.env not in state.deployed:
            if state.deployed:
                self.warn("no-ledger", f"origin has no deploy ledger for environment "
                          f"{self.env} (it has: {', '.join(sorted(state.deployed))}); this "
                          f"deploy is not protected. Enable it: ayjnt-hooks ledger init --env "
                          f"{self.env}")
            return
        self.lockfile = lf.serialize(lock)
        self.tag = last_tag(lock)
        lease = state.leases.get(self.env)
        if self.dry_run:  # a preview: check, but take nothing and write nothing
            if lease is not None:
                self.warn("ledger-leased", holder_text(self.env, lease))
            self._check(state.deployed[self.env], lock)
            return
        if lease is not None:
            raise self._held(lease)
        self.remote = remote
        built = self._record("lease", f"ayjnt lease: {self.env}", {
            "Pid": str(os.getpid()), "Nonce": os.urandom(8).hex()})
        got = self._write(DEPLOYING + self.env, None, built)
        if self.remote is None:  # --override-ledger past a remote that cannot be written
            return
        if got is not None:
            current = self._read(remote)
            holder = current.leases.get(self.env) if current else None
            if holder is None:
                raise AyjntError(f"could not take the deploy lease refs/ayjnt/deploying/"
                                 f"{self.env} on origin (it changed while we tried). Try "
                                 "again.")
            raise self._held(holder)
        self.lease = built
        self.data["lease"] = built.sha
        try:
            state = self._read(remote)  # under the lease: the value to compare-and-swap
            if state is None:  # --override-ledger past a remote that stopped answering
                self.release()
                return
            record = state.deployed.get(self.env)
            if record is None:
                raise AyjntError(f"refs/ayjnt/deployed/{self.env} disappeared from origin "
                                 "while the lease was taken; nothing was deployed. Check "
                                 "`ayjnt-hooks ledger show`.")
            self._check(record, lock)
            self.base = record
        except BaseException:
            self.release()
            raise

    def _held(self, lease: Record) -> Refused:
        return Refused(holder_text(self.env, lease) + " Wait for it to finish. If it crashed, "
                       "check what is live (ayjnt-hooks ledger show), then clear the lease: "
                       f"ayjnt-hooks ledger break-lease --env {self.env}", "ledger-leased",
                       f"ayjnt-hooks ledger break-lease --env {self.env}")

    def _check(self, record: Record, lock: Lockfile) -> None:
        from .engine.soundness import first_difference

        live = _lockfile_of(record, self.env)
        self.data["live"] = record.as_json()
        problem = None
        project = _project_of(self.repo, self.root) if self.repo else "."
        if record.get("Project", ".") != project:
            problem = (f"the ledger of {self.env} records project {record.get('Project')}, "
                       f"this deploy is project {project}. One repository keeps one ledger per "
                       "environment name.")
        diff = first_difference(live["migrations"], lock["migrations"])
        if diff is not None and problem is None:
            i, was, now = diff
            problem = (f"the lockfile being deployed does not extend what {self.env} has "
                       f"live: entry #{i + 1}: {self.env} has {entry_summary(was)}, this "
                       f"deploy has {entry_summary(now)}.\nLive: {record.describe()}.\n"
                       "Durable Object migrations cannot be undone: deploying a lockfile that "
                       "rewrites or drops a live entry makes production and the lockfile "
                       "disagree.")
        if problem is None:
            self.say_ok(f"extends the live lockfile of {self.env} "
                        f"({last_tag(live)}, deployed {record.get('At')})")
            return
        if self.override:
            self._loud("ledger-overridden", f"{OVERRIDE}: deploying anyway although {problem}")
            return
        commit = record.get("Commit", "none")
        # the deployed commit, not `git pull`: on a feature branch a pull brings nothing in
        update = (f"git fetch origin && git merge {commit[:7]}" if commit != "none"
                  else "git pull")
        raise Refused(problem + f"\nBring the deployed commit in ({update}; "
                      "`ayjnt-hooks rebase-lockfile` resolves a lockfile conflict, keeping "
                      "the live entries), re-run `ayjnt build`, commit, push and deploy again. "
                      f"{OVERRIDE} deploys anyway (dangerous).", "ledger-diverged", update)

    def _record(self, kind: str, subject: str, extra: dict[str, str]) -> Built:
        from .git.ledger import build_record, identity

        assert self.repo is not None
        now = time.time()
        who = identity(self.repo)
        fields = {"Ledger": "1", "Kind": kind, "Environment": self.env,
                  "Commit": self.repo.ref_sha("HEAD") or "none", "Tag": self.tag,
                  "Project": _project_of(self.repo, self.root), "By": who, **_where(),
                  "At": _stamp(now), **extra}
        if self.force:
            fields["Forced"] = "yes"
        return build_record(subject, fields, self.lockfile, who, int(now))

    def _write(self, ref: str, old: str | None, new: Built | None) -> str | None:
        from .git.ledger import LedgerError

        assert self.remote is not None
        try:
            return self.remote.update(ref, old, new)
        except LedgerError as e:
            if new is not None and ref.startswith("refs/ayjnt/deploying/") and self.override:
                self._loud("ledger-unwritable", f"{OVERRIDE}: {e.message}\nDeploying WITHOUT "
                           "a lease; nothing will be recorded.")
                self.remote = None
                return None
            raise

    def release(self) -> None:
        """Drop the lease (the deploy stopped early, or wrangler failed)."""
        from .git.ledger import DEPLOYING, LedgerError

        lease, self.lease = self.lease, None
        if lease is None or self.remote is None:
            return
        try:
            got = self.remote.update(DEPLOYING + self.env, lease.sha, None)
        except LedgerError as e:
            self._loud("lease-kept", f"could not release the deploy lease of {self.env}: "
                       f"{e.message}\nClear it: ayjnt-hooks ledger break-lease --env "
                       f"{self.env}")
            return
        if got is not None:
            self.warn("lease-lost", f"the deploy lease of {self.env} was no longer ours "
                      f"(broken and now {got[:7]}); left it alone.")

    def finish(self, code: int) -> int:
        """After wrangler: record a success, release the lease; the final exit code."""
        from .git.ledger import DEPLOYED, LedgerError

        if self.lease is None or self.remote is None:
            return code
        if code != 0:
            self.release()
            self.warn("ledger-unchanged", f"wrangler exited {code}: the deploy ledger of "
                      f"{self.env} is unchanged and the lease is released.")
            return code
        assert self.base is not None
        new = self._record("deployed", f"ayjnt deploy: {self.env} at {self.tag}",
                           {"Pid": str(os.getpid()), "Lease": self.lease.sha,
                            "Previous": self.base.sha})
        try:
            got = self.remote.update(DEPLOYED + self.env, self.base.sha, new)
        except LedgerError as e:
            self._loud("ledger-not-recorded", f"wrangler deployed, but the deploy ledger of "
                       f"{self.env} could NOT be recorded: {e.message}\nThe lease stays, so "
                       f"nobody deploys {self.env} until this is resolved. Check what is "
                       "live, then: ayjnt-hooks ledger break-lease --env " + self.env)
            return EXIT_FAILED
        if got is not None:
            theirs = self._fetch_record(got)
            self._loud("ledger-cas-lost", f"the deploy ledger of {self.env} moved while this "
                       f"deploy ran: it was NOT overwritten.\n  expected: {self.base.sha} "
                       f"({self.base.describe()})\n  found:    {got} ({theirs})\n  ours:     "
                       f"{new.sha} ({self.tag}, commit {new_commit(self.repo)}), not "
                       "recorded\nBoth deploys reached wrangler. The lease stays, so nobody "
                       f"deploys {self.env} until someone checks what is live; then: "
                       f"ayjnt-hooks ledger break-lease --env {self.env}")
            return EXIT_FAILED
        self.say_ok(f"recorded {self.env}: {self.tag} in refs/ayjnt/deployed/{self.env}")
        self.release()
        return code

    def _fetch_record(self, sha: str) -> str:
        from .git.ledger import LedgerError

        assert self.remote is not None
        try:
            state = self.remote.read()
        except LedgerError as e:
            return f"unreadable: {e.message}"
        found = state.deployed.get(self.env)
        return found.describe() if found is not None and found.sha == sha else "moved again"


def new_commit(repo: Repo | None) -> str:
    sha = repo.ref_sha("HEAD") if repo else None
    return sha[:7] if sha else "none"


# ---------------------------------------------------------------------- ayjnt-hooks ledger


def _out(text: str) -> None:
    sys.stdout.write(text + "\n")


def _remote(cwd: str) -> tuple[Repo, Remote]:
    from .git.ledger import Remote
    from .git.repo import discover

    repo = discover(cwd)
    return repo, Remote(repo)


def cmd_show(cwd: str, json_mode: bool, only: str | None = None) -> int:
    """Each environment's live record and lease (``only``: that environment alone)."""
    _, remote = _remote(cwd)
    state = remote.read()
    envs = sorted(set(state.deployed) | set(state.leases))
    if only is not None:
        envs = [env for env in envs if env == only]
    if json_mode:
        from .report import emit_json

        emit_json({"remote": state.url, "environments": {
            env: {"live": state.deployed[env].as_json() if env in state.deployed else None,
                  "lease": state.leases[env].as_json() if env in state.leases else None}
            for env in envs}}, [])
        return EXIT_OK
    if not envs:
        _out(f"no deploy ledger{f' for environment {only}' if only else ''} on {state.url}. "
             f"Enable it: ayjnt-hooks ledger init {f'--env {only}' if only else '[--env <name>]'}")
        return EXIT_OK
    for env in envs:
        live = state.deployed.get(env)
        _out(f"{env}: " + (live.describe() if live else "no ledger (only a lease)"))
        lease = state.leases.get(env)
        if lease is not None:
            _out(paint(f"  lease: held since {lease.get('At')} by {lease.get('By')} on "
                       f"{lease.get('Host')} (pid {lease.get('Pid')}), deploying "
                       f"{lease.get('Tag')} from commit {lease.get('Commit')[:7]}",
                       WARNING, sys.stdout))
    return EXIT_OK


def cmd_init(cwd: str, env: str, commit: str | None) -> int:
    from .engine import lockfile as lf
    from .git.ledger import DEPLOYED, build_record, check_env_name, identity
    from .git.snapshots import CommitSnapshot

    check_env_name(env)
    repo, remote = _remote(cwd)
    state = remote.read()
    if env in state.deployed:
        _out(paint(f"ayjnt-hooks: the deploy ledger of {env} already exists: "
                   f"{state.deployed[env].describe()}", ERROR, sys.stdout))
        return EXIT_FAILED
    from .git.mergestate import resolve_rev

    sha = resolve_rev(repo, commit) if commit else repo.rev_parse("HEAD")
    if sha is None:
        raise AyjntError(f"{commit or 'HEAD'} does not name a commit in {repo.gitdir}; the "
                         "ledger starts from a commit's lockfile.",
                         hint="git commit" if commit is None else
                         "--commit takes a branch, tag or commit id (`git log --oneline`)")
    prefix = "" if _project_of(repo, cwd) == "." else _project_of(repo, cwd)
    snap = CommitSnapshot(repo, sha, prefix)
    data = snap.read(lf.LOCKFILE_PATH)
    lock = lf.parse_lockfile(data, snap.display(lf.LOCKFILE_PATH))
    now = time.time()
    who = identity(repo)
    tag = last_tag(lock)
    built = build_record(f"ayjnt ledger init: {env} at {tag}", {
        "Ledger": "1", "Kind": "init", "Environment": env, "Commit": sha, "Tag": tag,
        "Project": _project_of(repo, cwd), "By": who, **_where(), "At": _stamp(now)},
        lf.serialize(lock) if data is not None else None, who, int(now))
    got = remote.update(DEPLOYED + env, None, built)
    if got is not None:
        _out(paint(f"ayjnt-hooks: someone created the deploy ledger of {env} meanwhile "
                   f"({got[:7]}); left it alone. See ayjnt-hooks ledger show.", ERROR,
                   sys.stdout))
        return EXIT_FAILED
    _out(f"created refs/ayjnt/deployed/{env} on {remote.shown}: {tag} from commit {sha[:7]} "
         "is recorded as live.\nIf production has more, deploy a commit that has it; from now "
         "on ayjnt-deploy checks and records every deploy to this environment.")
    return EXIT_OK


def cmd_break_lease(cwd: str, env: str) -> int:
    from .git.ledger import DEPLOYING, check_env_name

    check_env_name(env)
    _, remote = _remote(cwd)
    lease = remote.read().leases.get(env)
    if lease is None:
        _out(f"no deploy lease on {env}: nothing to break.")
        return EXIT_OK
    _out(f"breaking the deploy lease of {env} ({lease.sha}):\n  "
         + holder_text(env, lease).replace("another deploy", "a deploy"))
    got = remote.update(DEPLOYING + env, lease.sha, None)
    if got is not None:
        _out(paint(f"ayjnt-hooks: the lease changed meanwhile (now {got[:7]}); left it alone.",
                   ERROR, sys.stdout))
        return EXIT_FAILED
    _out(f"cleared refs/ayjnt/deploying/{env}. Check that {env} runs what `ayjnt-hooks ledger "
         "show` says before the next deploy.")
    return EXIT_OK
