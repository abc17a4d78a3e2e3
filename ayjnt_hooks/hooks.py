"""The git-hook gates: ``ayjnt-migrations`` and ``ayjnt-lockfile``.

Each check reads exactly the snapshot that is being committed or pushed:

* pre-commit stage: the index git is committing (``$GIT_INDEX_FILE``, set by git);
* pre-push stage: the pushed commit (``$PRE_COMMIT_TO_REF``; else ``$PRE_COMMIT_LOCAL_BRANCH``;
  else ``HEAD``) — never the working tree, where an uncommitted fix could hide a stale commit;
* manual stage (or a run outside git commit/push): the working tree.

pre-commit exports no variable naming the stage, so it is inferred: ``--stage`` wins, then
``$PRE_COMMIT_HOOK_STAGE`` (prek), then the push variables, then ``$GIT_INDEX_FILE``.
"""
from __future__ import annotations

import os
import sys

from .engine import lockfile as lf
from .engine.scan import is_project, not_a_project, scan
from .engine.snapshot import Snapshot, WorkTree
from .engine.soundness import (
    diverges,
    field_differences,
    first_difference,
    has_conflict_markers,
    soundness_problems,
)
from .errors import AyjntError
from .records import Record
from .report import ERROR, WARNING, Finding, paint

TYPE_CHECKING = False  # (typing is not imported at run time: start-up time counts here)
if TYPE_CHECKING:
    from collections.abc import Callable

    from .engine.scan import Manifest
    from .git.repo import Repo

ZERO = "0" * 40
PRE_COMMIT, PRE_PUSH, MANUAL = "pre-commit", "pre-push", "manual"


def infer_stage(explicit: str | None) -> str:
    if explicit:
        return explicit
    stage = os.environ.get("PRE_COMMIT_HOOK_STAGE")
    if stage in (PRE_COMMIT, PRE_PUSH, MANUAL):
        return stage
    if stage in ("commit", "push"):
        return {"commit": PRE_COMMIT, "push": PRE_PUSH}[stage]
    if os.environ.get("PRE_COMMIT_TO_REF") or os.environ.get("PRE_COMMIT_REMOTE_BRANCH"):
        return PRE_PUSH
    if os.environ.get("GIT_INDEX_FILE"):
        return PRE_COMMIT
    return MANUAL


class Target(Record):
    """One snapshot to check, with how to name it to a person."""
    snapshot: Snapshot
    description: str
    stage: str
    project: str  # the project folder, relative to the repository root ("" at the top)
    repo: Repo | None = None
    commit: str | None = None
    local_ref: str | None = None  # the pushed local ref (``refs/heads/feat``), when known

    @property
    def lock_name(self) -> str:
        """The lockfile's path as git names it (under the project folder)."""
        return f"{self.project}/{lf.LOCKFILE_PATH}" if self.project else lf.LOCKFILE_PATH


def project_prefix(repo: Repo, cwd: str) -> str:
    if repo.worktree is None:
        raise AyjntError(f"{repo.gitdir} is a bare repository: there is no project to check. "
                         "Run this inside a checkout.")
    rel = os.path.relpath(os.path.realpath(cwd), os.path.realpath(repo.worktree))
    if rel.startswith(".."):
        raise AyjntError(f"--cwd {cwd} is outside the repository at {repo.worktree}.")
    return "" if rel == "." else rel.replace(os.sep, "/")


def resolve_target(stage: str, cwd: str) -> Target:
    """The snapshot the stage means (pre-commit's pre-push passes one ref)."""
    if stage == MANUAL:
        return Target(WorkTree(cwd), "the working tree", stage, "")
    from .git.index import read_index
    from .git.repo import discover
    from .git.snapshots import CommitSnapshot, IndexSnapshot, engine_paths

    repo = discover(cwd)
    prefix = project_prefix(repo, cwd)
    if stage == PRE_COMMIT:
        index = read_index(repo.index_file, engine_paths(prefix))
        return Target(IndexSnapshot(repo, index, prefix), "the index being committed", stage,
                      prefix, repo)
    ref = os.environ.get("PRE_COMMIT_TO_REF") or os.environ.get("PRE_COMMIT_LOCAL_BRANCH") \
        or "HEAD"
    sha = repo.rev_parse(ref)
    if sha is None:
        raise AyjntError(f"cannot resolve {ref!r} (the commit being pushed) in {repo.worktree}.")
    return Target(CommitSnapshot(repo, sha, prefix), f"commit {sha[:7]} being pushed", stage,
                  prefix, repo, sha, os.environ.get("PRE_COMMIT_LOCAL_BRANCH"))


def checkout_first(target: Target) -> str:
    """The step a pre-push fix needs first when the pushed commit is not the one checked out
    (``git push origin feat`` from ``main``): the fix commands work on the working tree."""
    if target.stage != PRE_PUSH or target.repo is None or target.commit is None:
        return ""
    if target.repo.resolve("HEAD")[1] == target.commit:
        return ""
    ref = target.local_ref or ""
    name = ref.removeprefix("refs/heads/") if ref.startswith("refs/heads/") else \
        target.commit[:7]
    return f"`git checkout {name}`, then "


def block(hook: str, title: str, body: list[str], fix: str | None, severity: str = ERROR
           ) -> str:
    lines = [paint(f"{hook}: {title}", severity, sys.stdout)]
    lines += [f"  {line}" if line else "" for line in body]
    if fix:
        lines.append(f"  fix: {fix}")
    return "\n".join(lines)


# ------------------------------------------------------------------ ayjnt-migrations

def check_migrations(target: Target, cwd: str, *, fix: bool = False,
                     fix_deletions: bool = False, hook_id: str = "ayjnt-migrations"
                     ) -> list[tuple[Finding, str]]:
    snap = target.snapshot
    if not is_project(snap):
        raise not_a_project(target.project or os.path.abspath(cwd))
    manifest = scan(snap)
    try:
        lock = lf.parse_lockfile(snap.read(lf.LOCKFILE_PATH), snap.display(lf.LOCKFILE_PATH))
    except AyjntError as e:
        raise with_restore_command(e, target) from None
    d = lf.diff(lock, manifest)
    if not d.changes_lockfile:
        return []
    lock_name = target.lock_name
    body = lf.format_diff(d).split("\n")
    first = checkout_first(target)
    fixed = not first and _lockfile_on_disk_has_fix(cwd, manifest, target)
    if fixed and target.stage != MANUAL:
        what = "staged" if target.stage == PRE_COMMIT else "committed"
        step = f"git add {lock_name}" if target.stage == PRE_COMMIT else \
            f"git add {lock_name} && git commit, then push again"
        body += ["", f"The lockfile on disk already contains this change, but it is not {what}."]
        fix_text = step
    else:
        fix_text = (f"{first}run `ayjnt build`, then `git add {lock_name}`"
                    + (" and commit" if target.stage == PRE_PUSH else "")
                    + f" (no Bun? {no_bun_hint(target, hook_id)})")
    written = fix and _write_fix(cwd, lock, d, fix_deletions, body) is not None
    if written:  # (the path as git names it from the repository's top, where hooks run)
        fix_text = f"review it, then `git add {lock_name}`" + (
            "" if target.stage == MANUAL else " and commit again")
    # A manual --fix has done its whole job once the working tree holds the change; in a hook
    # the fix is not yet staged or committed, so the hook still fails.
    severity = WARNING if written and target.stage == MANUAL else ERROR
    finding = Finding(severity, "pending-lockfile",
                      f"lockfile change pending in {target.description}", lock_name,
                      hint=fix_text)
    text = block("ayjnt-migrations", f"a lockfile change is pending in {target.description} — "
                  "not yet in .ayjnt/migrations.json", body, fix_text, severity)
    return [(finding, text)]


def no_bun_hint(target: Target, hook_id: str = "ayjnt-migrations") -> str:
    """A way to write the fix without Bun that works where the message is shown: the manual
    command always does; ``args: [--fix]`` only under the pre-commit framework's commit stage,
    on the hook id that is running (``ayjnt`` runs ``ayjnt-hooks check``)."""
    cwd = f" --cwd {target.project}" if target.project else ""
    manual = f"`{_own_command()} check-migrations --stage manual --fix{cwd}` writes it"
    if target.stage == PRE_COMMIT and os.environ.get("PRE_COMMIT") == "1":
        return f"add `args: [--fix]` to the {hook_id} hook, or {manual}"
    return manual


def _own_command() -> str:
    """A command for ``ayjnt-hooks`` that runs when pasted into the user's shell: the plain name
    where it is on PATH, else its absolute path. pre-commit and prek install it in their own
    environment and put that on PATH for the hook only, so under them it is the path."""
    import shlex
    import shutil

    found = shutil.which("ayjnt-hooks")
    if found is not None and os.environ.get("PRE_COMMIT") != "1":
        return "ayjnt-hooks"
    own = os.path.join(os.path.dirname(sys.executable), "ayjnt-hooks")
    if os.access(own, os.X_OK):
        return shlex.quote(own)
    return f"{shlex.quote(sys.executable)} -m ayjnt_hooks"


def _lockfile_on_disk_has_fix(cwd: str, manifest: Manifest, target: Target) -> bool:
    if target.stage == MANUAL:
        return False
    data = WorkTree(cwd).read(lf.LOCKFILE_PATH)
    if target.stage == PRE_COMMIT:
        from .git.stashed import apply_to, stashed_patch

        patch = stashed_patch()  # pre-commit hid unstaged edits: look at them there
        if patch is not None:
            data = apply_to(patch, target.lock_name, data or b"") or data
    try:
        on_disk = lf.parse_lockfile(data)
        return not lf.diff(on_disk, manifest).changes_lockfile
    except AyjntError:
        return False


def _write_fix(cwd: str, lock: lf.Lockfile, d: lf.Diff, fix_deletions: bool, body: list[str]
               ) -> str | None:
    if d.deleted and not fix_deletions:
        body += ["", "Not fixed: this change deletes classes (their storage is destroyed on "
                 "deploy). Re-run with --fix-deletions if that is intended."]
        return None
    new_bytes = lf.serialize(lf.apply_diff(lock, d))
    from .safewrite import write_file

    write_file(cwd, lf.LOCKFILE_PATH, new_bytes)  # (never through a symlink)
    body += ["", "Fixed: wrote the change into .ayjnt/migrations.json."]
    return "review it, then `git add .ayjnt/migrations.json` and commit again"


# ------------------------------------------------------------------ ayjnt-lockfile

def check_lockfile(target: Target, *, from_ref: str | None = None,
                   new_branch: bool = False, remote: str = "origin",
                   remote_branch: str | None = None) -> list[tuple[Finding, str]]:
    snap = target.snapshot
    lock_name = target.lock_name
    out: list[tuple[Finding, str]] = []
    data = snap.read(lf.LOCKFILE_PATH)
    if data is None:
        return []
    if has_conflict_markers(data):
        text = block("ayjnt-lockfile", f"{lock_name} in {target.description} contains git "
                      "merge-conflict markers (<<<<<<< / >>>>>>>)",
                      ["A hand-merged lockfile can reorder or drop migrations."],
                      "ayjnt-hooks rebase-lockfile (keeps the remote's entries, renumbers "
                      f"this branch's after them), then git add {lock_name}")
        return [(Finding(ERROR, "lockfile-conflict", "merge-conflict markers", lock_name), text)]
    try:
        lock = lf.parse_lockfile(data, lock_name)
    except AyjntError as e:
        e = with_restore_command(e, target)
        text = block("ayjnt-lockfile", f"{lock_name} in {target.description} is invalid",
                      e.message.split("\n"), e.hint)
        return [(Finding(ERROR, "lockfile-invalid", e.message, lock_name), text)]
    problems = soundness_problems(lock)
    if problems:
        text = block("ayjnt-lockfile", f"{lock_name} in {target.description} is not a sound "
                      "migration history", problems,
                      f"restore the last good version (git log -p -- {lock_name}), then re-run "
                      "`ayjnt build`")
        out.append((Finding(ERROR, "lockfile-unsound", "; ".join(problems), lock_name), text))
    if target.stage == PRE_PUSH and target.repo is not None:
        out += _append_only(target.repo, target, lock, lock_name, from_ref, new_branch,
                            remote, remote_branch)
        out += _against_ledger(target.repo, target, lock, lock_name)
    return out


_LEDGERS: dict[str, object] = {}  # one read of origin's ledger per push (raw hook: many refs)


def _against_ledger(repo: Repo, target: Target, lock: lf.Lockfile, lock_name: str
                    ) -> list[tuple[Finding, str]]:
    """The pushed lockfile against every environment's live one (the deploy ledger on
    origin): rewriting a deployed entry fails; merely lacking newer ones (an older branch)
    passes, since deploying it would be refused anyway."""
    if not repo.config_get("remote", "url", "origin"):
        return []
    from .git.ledger import LedgerError, LedgerState, Remote

    state = _LEDGERS.get(repo.commondir)
    if state is None:
        try:
            state = _LEDGERS[repo.commondir] = Remote(repo).read()
        except LedgerError as e:
            text = block("ayjnt-lockfile", "warning: cannot read the deploy ledger on origin; "
                         "the push is not checked against what is deployed", [e.message],
                         "git ls-remote origin", WARNING)
            return [(Finding(WARNING, "ledger-unreadable", e.message), text)]
    assert isinstance(state, LedgerState)
    out: list[tuple[Finding, str]] = []
    project = target.project or "."
    for env, record in sorted(state.deployed.items()):
        if record.get("Project", ".") != project:
            continue
        try:
            live = lf.parse_lockfile(record.lockfile, f"refs/ayjnt/deployed/{env}")
        except AyjntError:
            continue  # ayjnt-deploy refuses an unreadable record with the whole story
        diff = first_difference(live["migrations"], lock["migrations"])
        if diff is None or diff[2] is None:
            continue
        i, was, now = diff
        text = block("ayjnt-lockfile", f"{lock_name} in {target.description} rewrites a "
                     f"migration that is live in {env}", [
                         f"entry #{i + 1}: {env} has {was['tag']} (deployed from commit "
                         f"{record.get('Commit')[:7]} by {record.get('By')} at "
                         f"{record.get('At')}), the push has {now['tag']}.",
                         "Durable Object migrations cannot be undone: this lockfile can never "
                         f"be deployed to {env}."],
                     f"rebase on the deployed commit ({record.get('Commit')[:7]}), keep its "
                     f"{lock_name}, re-run `ayjnt build`, commit the lockfile, push again")
        out.append((Finding(ERROR, "lockfile-rewrites-live",
                            f"entry #{i + 1}: {env} has {was['tag']}", lock_name), text))
    return out


def restore_command(target: Target) -> str:
    """The command that puts a good lockfile back: from the first of HEAD and the remote's
    branches whose lockfile parses (``git checkout <ref> -- <path>`` rewrites the index and
    the working tree; a bare ``git checkout -- <path>`` would copy the broken staged file
    back). At pre-push the pushed commit is the broken one, so the remote's comes first."""
    name = target.lock_name
    repo = target.repo
    if repo is None:  # the working tree: HEAD's copy (the index may hold the broken one too)
        return f"git checkout HEAD -- {name}, re-run `ayjnt build`"
    from .git.history import branch_facts

    facts = branch_facts(repo)
    remote = [f"refs/remotes/origin/{facts.branch}"] if facts.branch else []
    remote += ["refs/remotes/origin/HEAD", "refs/remotes/origin/main"]
    candidates = [*remote, "HEAD"] if target.stage == PRE_PUSH else ["HEAD", *remote]
    for ref in candidates:
        sha = repo.rev_parse(ref)
        if sha is None or sha == target.commit:
            continue
        from .git.snapshots import CommitSnapshot

        if CommitSnapshot(repo, sha, target.project).read(lf.LOCKFILE_PATH) is None:
            continue
        if _lock_at(repo, sha, target.project) is not None:
            short = ref.removeprefix("refs/remotes/")
            after = "" if target.stage == MANUAL else f", then `git add {name}`" + (
                " and commit" if target.stage == PRE_PUSH else "")
            return f"git checkout {short} -- {name}, re-run `ayjnt build`{after}"
    return (f"no commit here has a valid {name}: git rm --cached {name}, delete it, re-run "
            f"`ayjnt build` (it starts a new history) and `git add {name}`")


def with_restore_command(e: AyjntError, target: Target) -> AyjntError:
    """ayjnt's invalid-lockfile message, with the restore command that works for this
    snapshot in place of ayjnt's ``git checkout -- <path>``."""
    if e.path is None and "restore it from git" not in e.message:
        return e  # not about the lockfile's content
    command = restore_command(target)
    message = e.message.replace(f"(git checkout -- {lf.LOCKFILE_PATH})", f"({command})")
    return AyjntError(message, path=e.path, hint=command)


def _lock_at(repo: Repo, sha: str, prefix: str) -> lf.Lockfile | None:
    from .git.snapshots import CommitSnapshot

    snap = CommitSnapshot(repo, sha, prefix)
    data = snap.read(lf.LOCKFILE_PATH)
    if data is None:
        return None
    try:
        return lf.parse_lockfile(data, snap.display(lf.LOCKFILE_PATH))
    except AyjntError:
        return None


def rebase_fix(remote: str, remote_branch: str | None, lock_name: str) -> str:
    """How to rebuild the push on the remote's history, with the real branch name (never a
    placeholder) and an explicit ref for the lockfile (``--ours``/``--theirs`` swap meaning
    between a merge and a rebase)."""
    branch = (remote_branch or "").removeprefix("refs/heads/")
    if not branch:
        fetch, ref = f"git pull --rebase {remote}", "@{upstream}"
    elif "/" in remote or ":" in remote:  # pushed to a URL: there is no remote-tracking ref
        fetch, ref = f"git fetch {remote} {branch} && git rebase FETCH_HEAD", "FETCH_HEAD"
    else:
        fetch, ref = f"git fetch {remote} && git rebase {remote}/{branch}", f"{remote}/{branch}"
    return (f"{fetch}; on the lockfile conflict run `ayjnt-hooks rebase-lockfile` (it keeps "
            f"{ref}'s entries and renumbers yours), `git add {lock_name}`, `git rebase "
            "--continue`, then push again")


def _renumbered_after_mainline(repo: Repo, target: Target, lock: lf.Lockfile, remote: str,
                               remote_branch: str | None) -> str | None:
    """The fix when the pushed commit merged the mainline (``origin/HEAD``, else
    ``origin/main``) and its lockfile continues the mainline's history: the rewritten entries
    are the branch's own, renumbered after the mainline's by that merge, so rebasing onto the
    remote branch (the usual fix) would renumber the mainline's entries instead."""
    from .git.mergestate import is_ancestor

    branch = (remote_branch or "").removeprefix("refs/heads/")
    if not branch or target.commit is None or "/" in remote or ":" in remote:
        return None
    for name in (f"refs/remotes/{remote}/HEAD", f"refs/remotes/{remote}/main"):
        sha = repo.ref_sha(name)
        if sha is None:
            continue
        base = _lock_at(repo, sha, target.project)
        if base is None or first_difference(base["migrations"], lock["migrations"]) is not None \
                or not is_ancestor(repo, sha, target.commit):
            return None
        main = name.removeprefix("refs/remotes/")
        local = target.local_ref or ""
        local = local.removeprefix("refs/heads/") if local.startswith("refs/heads/") else \
            target.commit
        spec = branch if local == branch else f"{local}:refs/heads/{branch}"
        return (f"this push keeps {main}'s entries and renumbers {remote}/{branch}'s own after "
                f"them, as merging {main} requires; do not rebase onto {remote}/{branch} (that "
                f"would renumber {main}'s). If {remote}/{branch}'s lockfile was never deployed, "
                f"push past this check once: `git push --no-verify {remote} {spec}`")
    return None


def _append_only(repo: Repo, target: Target, lock: lf.Lockfile, lock_name: str,
                 from_ref: str | None, new_branch: bool, remote: str = "origin",
                 remote_branch: str | None = None) -> list[tuple[Finding, str]]:
    out: list[tuple[Finding, str]] = []
    if from_ref and repo.has_object(from_ref):
        base = _lock_at(repo, from_ref, target.project)
        if base is not None:
            diff = first_difference(base["migrations"], lock["migrations"])
            if diff is not None:
                i, was, now = diff
                was_tag = was["tag"] if isinstance(was, dict) else "(none)"
                now_tag = now["tag"] if isinstance(now, dict) else "(dropped)"
                fields = field_differences(was, now)
                width = max(len("field"), *(len(f) for f, _, _ in fields))
                left = max(len("the remote"), *(len(w) for _, w, _ in fields))
                table = [f"  {'field':<{width}}  {'the remote':<{left}}  the push"]
                table += [f"  {f:<{width}}  {w:<{left}}  {n}" for f, w, n in fields]
                text = block(
                    "ayjnt-lockfile",
                    f"{lock_name} in {target.description} rewrites the remote's migration "
                    "history",
                    [f"entry #{i + 1}: the remote ({from_ref[:7]}) has {was_tag}, the push has "
                     f"{now_tag}; they differ in {', '.join(f for f, _, _ in fields)}:",
                     *table,
                     "Migrations are append-only: a rewritten, reordered or dropped entry "
                     "makes production and the lockfile disagree."],
                    _renumbered_after_mainline(repo, target, lock, remote, remote_branch)
                    or checkout_first(target) + rebase_fix(remote, remote_branch, lock_name))
                out.append((Finding(ERROR, "lockfile-diverged",
                                    f"entry #{i + 1}: remote {was_tag}, pushed {now_tag}",
                                    lock_name), text))
    if new_branch:
        for name in ("refs/remotes/origin/HEAD", "refs/remotes/origin/main"):
            sha = repo.ref_sha(name)
            if sha is None:
                continue
            base = _lock_at(repo, sha, target.project)
            if base is not None and diverges(base["migrations"], lock["migrations"]):
                short = name.rsplit("/", 2)[-2] + "/" + name.rsplit("/", 1)[-1]
                text = block("ayjnt-lockfile", f"warning: {lock_name} on this new branch "
                              f"diverges from {short}'s", [
                                  "Merging it will conflict on the lockfile."],
                              f"rebase on {short} and re-run `ayjnt build` before merging",
                              WARNING)
                out.append((Finding(WARNING, "lockfile-will-conflict", text, lock_name), text))
            break
    return out


MIGRATIONS, LOCKFILE, BOTH = "migrations", "lockfile", "both"


def run_checks(which: str, stage: str, cwd: str, *, fix: bool = False,
               fix_deletions: bool = False, json_mode: bool = False) -> int:
    """Entry for ``ayjnt-hooks check-migrations|check-lockfile|check`` (``which``: migrations,
    lockfile or both) on the snapshot ``stage`` names."""
    target = resolve_target(stage, cwd)

    def migrations() -> list[tuple[Finding, str]]:
        return check_migrations(target, cwd, fix=fix, fix_deletions=fix_deletions,
                                hook_id="ayjnt" if which == BOTH else "ayjnt-migrations")

    def lockfile() -> list[tuple[Finding, str]]:
        from_ref = os.environ.get("PRE_COMMIT_FROM_REF") if stage == PRE_PUSH else None
        if from_ref == ZERO:
            from_ref = None
        if from_ref and target.repo is not None:
            from_ref = _resolve_from_ref(target.repo, from_ref)
        new_branch = stage == PRE_PUSH and not from_ref
        if stage == PRE_PUSH and from_ref and target.repo is not None \
                and os.environ.get("PRE_COMMIT_REMOTE_BRANCH"):
            remote = os.environ.get("PRE_COMMIT_REMOTE_NAME", "origin")
            branch = os.environ["PRE_COMMIT_REMOTE_BRANCH"].removeprefix("refs/heads/")
            new_branch = target.repo.ref_sha(f"refs/remotes/{remote}/{branch}") is None
        return check_lockfile(target, from_ref=from_ref, new_branch=new_branch,
                              remote=os.environ.get("PRE_COMMIT_REMOTE_NAME") or "origin",
                              remote_branch=os.environ.get("PRE_COMMIT_REMOTE_BRANCH"))

    results = (both_checks(migrations, lockfile) if which == BOTH
               else migrations() if which == MIGRATIONS else lockfile())
    if stage == PRE_COMMIT and target.repo is not None and target.repo.worktree:
        results += _wiring_warnings(target.repo.worktree, target.project)
    return report(results, stage, [target.description], json_mode)


def _wiring_warnings(top: str, project: str) -> list[tuple[Finding, str]]:
    from .managers import LEFTHOOK, lefthook_skippable_push_commands, wiring

    found = lefthook_skippable_push_commands(top)
    if not found:
        return []
    text = block("ayjnt-hooks", "warning: lefthook skips this pre-push gate whenever the "
                 "checked-out branch has no changed files (`git push origin feat` from a clean "
                 "main is not checked)", [*found, "", "Use a pre-push script instead:",
                                          *wiring(LEFTHOOK, project).splitlines()],
                 None, WARNING)
    return [(Finding(WARNING, "lefthook-run-skipped", "a lefthook pre-push `run` command "
                     "is skipped when HEAD has no changed files", "lefthook.yml"), text)]


def _resolve_from_ref(repo: Repo, spec: str) -> str:
    """``$PRE_COMMIT_FROM_REF`` as an object id: pre-commit passes one, a person may pass a
    name (``HEAD``, ``origin/main``)."""
    from .git.files import is_hex_oid

    if is_hex_oid(spec.lower()):
        return spec.lower()
    sha = repo.rev_parse(spec)
    if sha is None:
        raise AyjntError(f"PRE_COMMIT_FROM_REF={spec!r} names no commit in this clone "
                         f"(expected the remote's object id or a ref name).",
                         hint="unset it, or pass the remote tip's id: "
                              "PRE_COMMIT_FROM_REF=$(git rev-parse origin/<branch>)")
    return sha


def report(results: list[tuple[Finding, str]], stage: str, checked: list[str],
           json_mode: bool) -> int:
    if json_mode:
        from .report import emit_json

        emit_json({"stage": stage, "checked": checked}, [f for f, _ in results])
        return exit_code(results)
    return emit(results)


# ------------------------------------------------------------------ git push, ref by ref

def in_raw_push_hook(explicit_stage: str | None) -> bool:
    """A check command running inside a git pre-push hook without pre-commit's variables (a
    husky, lefthook or simple-git-hooks script): then the pushed refs are on stdin, and
    neither the working tree nor HEAD is what is being pushed."""
    if explicit_stage in (PRE_COMMIT, MANUAL):
        return False
    env = os.environ
    if env.get("PRE_COMMIT_HOOK_STAGE") or env.get("PRE_COMMIT_TO_REF") \
            or env.get("PRE_COMMIT_REMOTE_BRANCH") or env.get("GIT_INDEX_FILE"):
        return False
    from .managers import git_push_args

    return git_push_args() is not None


class PushLine(Record):
    local_ref: str
    local_sha: str
    remote_ref: str
    remote_sha: str


def parse_push_lines(data: bytes) -> tuple[list[PushLine], int]:
    """git's pre-push stdin: (the ref lines, how many other non-empty lines there were)."""
    lines: list[PushLine] = []
    other = 0
    for line in data.decode("utf-8", "surrogateescape").splitlines():
        parts = line.rsplit(" ", 3)  # the local ref may contain spaces (`HEAD^{/ x}`)
        if len(parts) == 4 and all(len(p) == 40 for p in (parts[1], parts[3])):
            lines.append(PushLine(*parts))
        elif line.strip():
            other += 1
    return lines, other


def check_pushed_refs(cwd: str, lines: list[PushLine], remote: str, which: str = BOTH
                      ) -> tuple[list[tuple[Finding, str]], list[str]]:
    """Both checks (or one) on every pushed ref: (results, descriptions of what was checked)."""
    from .git.repo import discover
    from .git.snapshots import CommitSnapshot

    repo = discover(cwd)
    prefix = project_prefix(repo, cwd)
    results: list[tuple[Finding, str]] = []
    checked: list[str] = []
    for local_ref, local_sha, remote_ref, remote_sha in lines:
        if local_sha == ZERO:
            continue  # a deletion pushes no content
        label = f"{local_ref} → {remote_ref}"
        try:
            snap = CommitSnapshot(repo, local_sha, prefix, label=local_sha[:7])
        except AyjntError:
            continue  # not a commit (e.g. a tag of a tree): nothing ayjnt reads
        target = Target(snap, f"commit {local_sha[:7]} being pushed ({label})", PRE_PUSH,
                        prefix, repo, local_sha, local_ref)
        checked.append(target.description)
        from_ref = None
        new_branch = remote_sha == ZERO and remote_ref.startswith("refs/heads/")
        if remote_sha != ZERO:
            if repo.has_object(remote_sha):
                from_ref = remote_sha
            else:
                text = block("ayjnt-lockfile", f"cannot check {label} against the remote: its "
                              f"tip {remote_sha[:7]} is not in this clone", [],
                              f"git fetch {remote}, then push again", WARNING)
                results.append((Finding(WARNING, "remote-unknown", text), text))
        def lockfile(target: Target = target, from_ref: str | None = from_ref,
                     new_branch: bool = new_branch, remote_ref: str = remote_ref
                     ) -> list[tuple[Finding, str]]:
            return check_lockfile(target, from_ref=from_ref, new_branch=new_branch,
                                  remote=remote, remote_branch=remote_ref)

        def migrations(target: Target = target) -> list[tuple[Finding, str]]:
            return check_migrations(target, cwd)

        if which == BOTH:
            results += both_checks(migrations, lockfile)
        else:
            results += migrations() if which == MIGRATIONS else lockfile()
    return results, checked


def nothing_to_push(repo: Repo, push_args: list[str] | None) -> bool:
    """True only when the ``git push`` we run under provably pushes nothing (git then gives
    the hook an empty stdin): every ref it names equals its remote-tracking ref."""
    if push_args is None:
        return False
    from .managers import push_targets

    repository, refspecs, broad = push_targets(push_args)
    chain, head = repo.resolve("HEAD")
    branch = chain[-1].removeprefix("refs/heads/") if len(chain) > 1 else None
    if broad or head is None:
        return False
    if repository is None:
        repository = (repo.config_get("branch", "pushremote", branch) if branch else None) \
            or repo.config_get("remote", "pushdefault") \
            or (repo.config_get("branch", "remote", branch) if branch else None) or "origin"
    if "/" in repository or ":" in repository or \
            repo.config_get("remote", "url", repository) is None:
        return False  # a URL or an unknown remote: no remote-tracking refs to compare
    if not refspecs and (repo.config_get("push", "default") or "simple") == "matching":
        return False
    pairs: list[tuple[str | None, str]] = []
    for spec in refspecs or ["HEAD"]:
        src, _, dst = spec.lstrip("+").partition(":")
        if not src:
            return False  # `:` (matching) or `:dst` (a deletion)
        if src in ("HEAD", "@"):
            if not branch:
                return False
            src = branch
        name = src.removeprefix("refs/heads/")
        target = (dst or name).removeprefix("refs/heads/")
        sha = repo.ref_sha(f"refs/heads/{name}") if name != branch else head
        if sha is None or "*" in spec:
            return False
        pairs.append((sha, target))
    return all(repo.ref_sha(f"refs/remotes/{repository}/{dst}") == sha for sha, dst in pairs)


def run_push(cwd: str, remote_arg: str | None, which: str = BOTH, *, command: str,
             json_mode: bool = False, stdin: bytes | None = None) -> int:
    """Entry for ``ayjnt-hooks pre-push`` and for a check command inside a git pre-push hook:
    every ref on git's stdin. An empty or missing list is refused unless the ``git push``
    provably pushes nothing."""
    from .managers import git_push_args, push_targets

    if stdin is None:
        if sys.stdin is None or sys.stdin.isatty():
            raise AyjntError(f"`ayjnt-hooks {command}` reads the pushed refs that git gives a "
                             "pre-push hook on stdin, and stdin is a terminal.",
                             hint=f'run it from a pre-push hook: {_pre_push_line(cwd)}')
        stdin = sys.stdin.buffer.read()
    lines, other = parse_push_lines(stdin)
    push_args = git_push_args()
    remote = remote_arg or (push_targets(push_args)[0] if push_args else None) or "origin"
    if not lines:
        from .git.repo import discover

        repo = discover(cwd)
        if not other and nothing_to_push(repo, push_args):
            return report([], PRE_PUSH, [], json_mode)
        what = "is not git's list of pushed refs" if other else "is empty"
        raise AyjntError(
            f"`ayjnt-hooks {command}` runs inside `git push`, but its stdin {what}, so it "
            "cannot tell which commits are pushed (another command in the hook read them "
            "first, or the hook manager does not pass git's stdin). Nothing was checked; "
            "the push is refused rather than passed unchecked.",
            hint=f"run both checks with {_pre_push_line(cwd)}, as the hook's first command")
    results, checked = check_pushed_refs(cwd, lines, remote, which)
    return report(results, PRE_PUSH, checked, json_mode)


def _pre_push_line(cwd: str) -> str:
    from .git.repo import NotARepo, discover
    from .managers import detect, pre_push_line

    try:
        repo = discover(cwd)
        project = project_prefix(repo, cwd)
        found = detect(repo, project)
    except (NotARepo, AyjntError):
        return pre_push_line("raw")
    return pre_push_line(found[0] if found else "raw", project)


def exit_code(results: list[tuple[Finding, str]]) -> int:
    return 1 if any(f.severity == ERROR for f, _ in results) else 0


def both_checks(migrations: Callable[[], list[tuple[Finding, str]]],
                lockfile: Callable[[], list[tuple[Finding, str]]]
                ) -> list[tuple[Finding, str]]:
    """Both checks on one snapshot. A lockfile the migrations check cannot read (conflict
    markers, bad JSON) is the lockfile check's failure, with its fix (exit 1, as
    ``check-lockfile`` says); anything else it cannot check stays "could not check"."""
    try:
        first = migrations()
    except AyjntError:
        second = lockfile()
        if exit_code(second):
            return second
        raise
    return first + lockfile()


def emit(results: list[tuple[Finding, str]]) -> int:
    for _, text in results:
        sys.stdout.write(text + "\n")
    from .report import github_annotations

    for line in github_annotations([f for f, _ in results]):
        sys.stdout.write(line + "\n")
    return exit_code(results)
