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
from typing import TYPE_CHECKING, NamedTuple

from .engine import lockfile as lf
from .engine.scan import scan
from .engine.snapshot import Snapshot, WorkTree
from .engine.soundness import (
    diverges,
    field_differences,
    first_difference,
    has_conflict_markers,
    soundness_problems,
)
from .errors import AyjntError
from .report import ERROR, WARNING, Finding, paint

if TYPE_CHECKING:
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


class Target(NamedTuple):
    """One snapshot to check, with how to name it to a person."""
    snapshot: Snapshot
    description: str
    stage: str
    project: str  # the project folder, relative to the repository root ("" at the top)
    repo: Repo | None = None
    commit: str | None = None

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
                  prefix, repo, sha)


def block(hook: str, title: str, body: list[str], fix: str | None, severity: str = ERROR
           ) -> str:
    lines = [paint(f"{hook}: {title}", severity, sys.stdout)]
    lines += [f"  {line}" if line else "" for line in body]
    if fix:
        lines.append(f"  fix: {fix}")
    return "\n".join(lines)


# ------------------------------------------------------------------ ayjnt-migrations

def check_migrations(target: Target, cwd: str, *, fix: bool = False,
                     fix_deletions: bool = False) -> list[tuple[Finding, str]]:
    snap = target.snapshot
    manifest = scan(snap)
    lock = lf.parse_lockfile(snap.read(lf.LOCKFILE_PATH), snap.display(lf.LOCKFILE_PATH))
    d = lf.diff(lock, manifest)
    if not d.changes_lockfile:
        return []
    lock_name = target.lock_name
    body = lf.format_diff(d).split("\n")
    fixed = _lockfile_on_disk_has_fix(cwd, manifest, target)
    if fixed and target.stage != MANUAL:
        what = "staged" if target.stage == PRE_COMMIT else "committed"
        step = f"git add {lock_name}" if target.stage == PRE_COMMIT else \
            f"git add {lock_name} && git commit, then push again"
        body += ["", f"The lockfile on disk already contains this change, but it is not {what}."]
        fix_text = step
    else:
        fix_text = (f"run `ayjnt build`, then `git add {lock_name}`"
                    + (" and commit" if target.stage == PRE_PUSH else "")
                    + f" (no Bun? {no_bun_hint(target)})")
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


def no_bun_hint(target: Target) -> str:
    """A way to write the fix without Bun that works where the message is shown: the manual
    command always does; ``args: [--fix]`` only under the pre-commit framework's commit stage."""
    cwd = f" --cwd {target.project}" if target.project else ""
    manual = f"`ayjnt-hooks check-migrations --stage manual --fix{cwd}` writes it"
    if target.stage == PRE_COMMIT and os.environ.get("PRE_COMMIT") == "1":
        return f"add `args: [--fix]` to the ayjnt-migrations hook, or {manual}"
    return manual


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
        text = block("ayjnt-lockfile", f"{lock_name} in {target.description} is invalid",
                      e.message.split("\n"), e.hint or f"git checkout HEAD -- {lock_name}")
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
                    rebase_fix(remote, remote_branch, lock_name))
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


def run_checks(which: str, stage: str, cwd: str, *, fix: bool = False,
               fix_deletions: bool = False, json_mode: bool = False) -> int:
    """Entry for ``ayjnt-hooks check-migrations|check-lockfile`` (pre-commit framework)."""
    target = resolve_target(stage, cwd)
    if which == "migrations":
        results = check_migrations(target, cwd, fix=fix, fix_deletions=fix_deletions)
    else:
        from_ref = os.environ.get("PRE_COMMIT_FROM_REF") if stage == PRE_PUSH else None
        new_branch = stage == PRE_PUSH and not from_ref
        if stage == PRE_PUSH and from_ref and target.repo is not None \
                and os.environ.get("PRE_COMMIT_REMOTE_BRANCH"):
            remote = os.environ.get("PRE_COMMIT_REMOTE_NAME", "origin")
            branch = os.environ["PRE_COMMIT_REMOTE_BRANCH"].removeprefix("refs/heads/")
            new_branch = target.repo.ref_sha(f"refs/remotes/{remote}/{branch}") is None
        results = check_lockfile(target, from_ref=from_ref, new_branch=new_branch,
                                 remote=os.environ.get("PRE_COMMIT_REMOTE_NAME") or "origin",
                                 remote_branch=os.environ.get("PRE_COMMIT_REMOTE_BRANCH"))
    if json_mode:
        from .report import emit_json

        emit_json({"stage": stage, "checked": [target.description]}, [f for f, _ in results])
        return exit_code(results)
    return emit(results)


def exit_code(results: list[tuple[Finding, str]]) -> int:
    return 1 if any(f.severity == ERROR for f, _ in results) else 0


def emit(results: list[tuple[Finding, str]]) -> int:
    for _, text in results:
        sys.stdout.write(text + "\n")
    from .report import github_annotations

    for line in github_annotations([f for f, _ in results]):
        sys.stdout.write(line + "\n")
    return exit_code(results)
