"""``ayjnt-hooks rebase-lockfile``: put the branch's lockfile change after the upstream's.

The upstream's entries are history (they may be deployed) and are kept byte for byte; the
result is the upstream lockfile plus exactly the entry ``ayjnt build`` would append for the
integrated working tree (:func:`ayjnt_hooks.engine.rebase.rebase_lockfile`). This module
finds the upstream, the branch and their merge base — from ``--onto``, from a merge, rebase or
cherry-pick in progress, or from the branch's upstream — and reports and writes the result.
"""
from __future__ import annotations

import sys
from typing import TYPE_CHECKING, Any, NamedTuple

from .engine import lockfile as lf
from .engine.rebase import RebasePlan, describe, own_entries, published_side, rebase_lockfile
from .engine.scan import scan
from .engine.snapshot import WorkTree
from .errors import AyjntError
from .report import ERROR, OK, WARNING, Finding, paint

if TYPE_CHECKING:
    from .git.mergestate import Operation
    from .git.repo import Repo

EXIT_OK, EXIT_FAILED, EXIT_CANNOT = 0, 1, 3


class Side(NamedTuple):
    """One lockfile version and where it came from."""
    lock: lf.Lockfile
    label: str
    sha: str | None


class Setup(NamedTuple):
    upstream: Side
    branch: lf.Lockfile | None
    base: lf.Lockfile | None
    explicit: bool  # --onto given


def lock_at(repo: Repo, sha: str, prefix: str, label: str) -> lf.Lockfile:
    """The lockfile in a commit (missing: the empty lockfile, as ayjnt reads it)."""
    from .git.snapshots import CommitSnapshot

    snap = CommitSnapshot(repo, sha, prefix, label=label)
    return lf.parse_lockfile(snap.read(lf.LOCKFILE_PATH), snap.display(lf.LOCKFILE_PATH))


def _blob_lock(repo: Repo, sha: str, shown: str) -> lf.Lockfile:
    return lf.parse_lockfile(repo.read_object(sha)[1], shown)


def _base_of(repo: Repo, a: str, b: str, prefix: str) -> lf.Lockfile | None:
    """The merge base's lockfile (several bases: their common prefix of entries)."""
    from .git.mergestate import merge_bases

    locks = [lock_at(repo, sha, prefix, sha[:7]) for sha in merge_bases(repo, a, b)]
    if not locks:
        return None
    first = locks[0]
    for other in locks[1:]:
        if other != first:
            n = 0
            while n < min(len(first["migrations"]), len(other["migrations"])) and \
                    first["migrations"][n] == other["migrations"][n]:
                n += 1
            first = {**first, "migrations": first["migrations"][:n]}
    return first


def _stage_lock(repo: Repo, stages: dict[int, str] | None, stage: int, shown: str
                ) -> lf.Lockfile | None:
    if stages is None or stage not in stages:
        return None
    return _blob_lock(repo, stages[stage], f"{shown} (stage {stage})")


def find_setup(repo: Repo, op: Operation, prefix: str, onto: str | None,
               lock_stages: dict[int, str] | None, on_disk: lf.Lockfile | None) -> Setup:
    from .git.mergestate import (
        CHERRY_PICK,
        MERGE,
        REBASE,
        REVERT,
        candidate_refs,
        is_ancestor,
        parents,
        resolve_rev,
    )

    lock_name = f"{prefix}/{lf.LOCKFILE_PATH}" if prefix else lf.LOCKFILE_PATH
    head = op.head
    if head is None:
        raise AyjntError("HEAD has no commits yet: there is no history to rebase onto.")
    if op.kind == REVERT:
        raise AyjntError(
            "a revert is in progress: reverting a lockfile change would drop a migration "
            "entry, which is history. Revert the change in agents/ instead and run "
            "`ayjnt build`.", hint="git revert --abort")

    explicit_sha = None
    if onto is not None:
        explicit_sha = resolve_rev(repo, onto)
        if explicit_sha is None:
            raise AyjntError(f"--onto {onto}: no such commit or ref in {repo.worktree}.",
                             hint="git fetch, or name a branch, tag or commit")

    if op.kind in (REBASE, CHERRY_PICK) or op.kind == "am":
        # The step replays one commit onto HEAD: HEAD is the history it must follow.
        picked = op.other
        branch = base = None
        if picked is not None:
            branch = lock_at(repo, picked, prefix, picked[:7])
            base = _stage_lock(repo, lock_stages, 1, lock_name)
            if base is None:
                first = parents(repo, picked)
                base = lock_at(repo, first[0], prefix, first[0][:7]) if first else None
        if explicit_sha is not None:
            return Setup(Side(lock_at(repo, explicit_sha, prefix, onto or ""), onto or "",
                              explicit_sha), branch, base, True)
        head_lock = lock_at(repo, head, prefix, "HEAD")
        if op.kind == REBASE and op.onto:
            onto_lock = lock_at(repo, op.onto, prefix, op.onto[:7])
            if own_entries(onto_lock["migrations"], head_lock["migrations"]) is None:
                raise AyjntError(
                    f"HEAD (the history this rebase has built so far) has a lockfile that "
                    f"changes entries of {op.onto[:7]}, the commit the rebase started onto: "
                    "an earlier step was resolved by hand.",
                    hint=f"ayjnt-hooks rebase-lockfile --onto {op.onto} (keeps "
                         f"{op.onto[:7]}'s entries and re-derives the rest), or "
                         "git rebase --abort")
        return Setup(Side(head_lock, "HEAD", head), branch, base, False)

    if op.kind == MERGE and op.other is not None:
        ours = lock_at(repo, head, prefix, "HEAD")
        theirs = lock_at(repo, op.other, prefix, "MERGE_HEAD")
        base = _stage_lock(repo, lock_stages, 1, lock_name)
        if base is None:
            base = _base_of(repo, head, op.other, prefix)
        if explicit_sha is not None:
            upstream = lock_at(repo, explicit_sha, prefix, onto or "")
            ours_in = own_entries(ours["migrations"], upstream["migrations"]) is not None
            return Setup(Side(upstream, onto or "", explicit_sha),
                         theirs if ours_in else ours, base, True)
        base_m = base["migrations"] if base is not None else []
        ours_own = own_entries(base_m, ours["migrations"])
        theirs_own = own_entries(base_m, theirs["migrations"])
        candidates = candidate_refs(repo, op.branch, mainline_first=True)
        refs = [(label, lock_at(repo, sha, prefix, label)) for label, sha in candidates]
        decided = published_side(ours, theirs, refs)
        names = {"a": "HEAD", "b": "MERGE_HEAD"}
        if decided is not None:
            keep = decided[0]
            kept_sha = head if keep == "a" else op.other
            if dict(candidates).get(decided[1]) == kept_sha:
                names[keep] = decided[1]  # e.g. "origin/main": that is what was merged
        elif ours_own == [] or theirs_own == []:  # nothing to renumber either way
            keep = "a" if theirs_own == [] else "b"
        else:
            raise AyjntError(
                "cannot tell which side of this merge the remote already has: neither "
                "HEAD's nor MERGE_HEAD's lockfile entries are in origin/HEAD, origin/main "
                "or the branch's upstream.",
                hint="name the history to keep: ayjnt-hooks rebase-lockfile --onto "
                     "<ref> (e.g. --onto MERGE_HEAD or --onto HEAD)")
        if keep == "a":
            return Setup(Side(ours, names["a"], head), theirs, base, False)
        return Setup(Side(theirs, names["b"], op.other), ours, base, False)

    # Nothing in progress: the branch's upstream (else origin/HEAD, else origin/main).
    if explicit_sha is not None:
        label, sha = onto or "", explicit_sha
    else:
        refs_chain = candidate_refs(repo, op.branch, mainline_first=False)
        if not refs_chain:
            raise AyjntError("no upstream to rebase onto: the branch has no upstream and "
                             "there is no origin/HEAD or origin/main.",
                             hint="ayjnt-hooks rebase-lockfile --onto <ref>")
        label, sha = refs_chain[0]
    if not is_ancestor(repo, sha, head):
        raise AyjntError(
            f"HEAD does not contain {label} ({sha[:7]}) yet, so the working tree lacks its "
            "agents and a lockfile re-derived from it would delete them.",
            hint=f"integrate it first (git merge {label}, or git rebase {label}), then run "
                 "`ayjnt-hooks rebase-lockfile`")
    upstream = lock_at(repo, sha, prefix, label)
    branch_lock = on_disk if on_disk is not None else lock_at(repo, head, prefix, "HEAD")
    # HEAD contains REF, so their merge base is REF itself: the branch's own entries are what
    # its lockfile has after the longest prefix it shares with REF's.
    return Setup(Side(upstream, label, sha), branch_lock, None, explicit_sha is not None)


def _published_conflicts(repo: Repo, op: Operation, prefix: str, chosen: str, head: str,
                         result: lf.Lockfile) -> list[tuple[str, lf.Lockfile]]:
    """Mainline refs (origin/HEAD, origin/main) HEAD contains whose entries the result would
    renumber: a feature branch's own upstream may be renumbered, the mainline never."""
    from .git.mergestate import candidate_refs, is_ancestor

    out = []
    for label, sha in candidate_refs(repo, op.branch, mainline_first=True,
                                     with_upstream=False):
        if sha == chosen or not is_ancestor(repo, sha, head):
            continue
        lock = lock_at(repo, sha, prefix, label)
        if own_entries(lock["migrations"], result["migrations"]) is None:
            out.append((label, lock))
    return out


def _entries_text(entries: list[dict[str, Any]]) -> str:
    if len(entries) > 4:
        return f"{describe(entries[0])} … {describe(entries[-1])} ({len(entries)} entries)"
    return ", ".join(describe(e) for e in entries) or "(none)"


def run(cwd: str, *, onto: str | None, check: bool, json_mode: bool,
        fix_deletions: bool) -> int:
    from .git.mergestate import operation, unmerged_entries
    from .git.repo import discover
    from .git.snapshots import engine_paths
    from .hooks import project_prefix

    repo = discover(cwd)
    prefix = project_prefix(repo, cwd)
    lock_name = f"{prefix}/{lf.LOCKFILE_PATH}" if prefix else lf.LOCKFILE_PATH
    op = operation(repo)
    unmerged = unmerged_entries(repo, engine_paths(prefix))
    engine_unmerged = [p for p in unmerged if p != lock_name]
    if engine_unmerged:
        first = engine_unmerged[0]
        raise AyjntError(f"{first} still has merge conflicts: the agents must be resolved "
                         "before the lockfile can be derived from them.",
                         path=first, hint=f"resolve it, `git add {first}`, then re-run "
                                          "`ayjnt-hooks rebase-lockfile`")
    tree = WorkTree(cwd)
    disk_bytes = tree.read(lf.LOCKFILE_PATH)
    disk_note = None
    on_disk: lf.Lockfile | None = None
    if disk_bytes is None:
        disk_note = "missing"
    else:
        try:
            on_disk = lf.parse_lockfile(disk_bytes, tree.display(lf.LOCKFILE_PATH))
        except AyjntError:
            disk_note = "has merge-conflict markers" if b"<<<<<<<" in disk_bytes \
                else "is not a valid lockfile"
    setup = find_setup(repo, op, prefix, onto, unmerged.get(lock_name), on_disk)
    manifest = scan(tree)
    up = setup.upstream
    plan = rebase_lockfile(up.lock, manifest, branch=setup.branch, base=setup.base,
                           current=on_disk, fix_deletions=fix_deletions,
                           upstream_label=up.label)
    warnings: list[str] = []
    if plan.result is not None and not plan.up_to_date and up.sha and op.head \
            and op.kind is None:
        for label, _lock in _published_conflicts(repo, op, prefix, up.sha, op.head,
                                                 plan.result):
            text = (f"{label} is already in HEAD, and this would renumber its entries "
                    f"(onto {up.label})")
            if not setup.explicit:
                plan = plan._replace(result=None, refusal=text + ".",
                                     fix_hint=f"ayjnt-hooks rebase-lockfile --onto {label}")
                break
            warnings.append(text)
    return report(plan, up, op, lock_name, cwd, disk_bytes, disk_note, lock_name in unmerged,
                  check=check, json_mode=json_mode, warnings=warnings)


def _next_steps(op: Operation, lock_name: str, conflicted: bool, wrote: bool) -> list[str]:
    steps = []
    if wrote or conflicted:
        steps.append(f"git add {lock_name}")
    cont = op.continue_command
    if cont:
        steps.append(cont)
    elif wrote:
        steps.append("git commit")
    return steps


def report(plan: RebasePlan, up: Side, op: Operation, lock_name: str, cwd: str,
           disk_bytes: bytes | None, disk_note: str | None, conflicted: bool, *,
           check: bool, json_mode: bool, warnings: list[str]) -> int:
    title = f"rebase-lockfile: {lock_name} onto {up.label}" + \
        (f" ({up.sha[:7]})" if up.sha else "")
    upstream_m = up.lock["migrations"]
    findings: list[Finding] = []
    lines: list[str] = []
    data: dict[str, Any] = {
        "onto": {"ref": up.label, "commit": up.sha}, "operation": op.kind,
        "kept": [m["tag"] for m in upstream_m], "upToDate": plan.up_to_date,
        "renumbered": [{"from": r.before["tag"], "to": r.after["tag"],
                        "entry": describe(r.after)} for r in plan.renumbered],
        "folded": [e["tag"] for e in plan.folded],
        "dropped": [{"tag": e["tag"], "entry": describe(e), "why": why}
                    for e, why in plan.dropped],
        "entry": plan.diff.next_entry if plan.diff is not None else None,
        "moved": [{"fromAgentId": m.from_agent_id, "toAgentId": m.to_agent_id,
                   "className": m.class_name} for m in plan.diff.moved]
        if plan.diff is not None else [],
        "needed": False, "written": False, "next": []}
    for w in warnings:
        findings.append(Finding(WARNING, "renumbers-published", w, lock_name))
        lines.append(paint(f"  warning: {w}", WARNING, sys.stdout))

    if plan.result is None:
        why = plan.refusal or ""
        findings.append(Finding(ERROR, "cannot-rebase-lockfile", why, lock_name,
                                hint=plan.fix_hint))
        text = [paint(f"{title}: refused, nothing changed", ERROR, sys.stdout), f"  {why}"]
        if plan.fix_hint:
            text.append(f"  fix: {plan.fix_hint}")
        return _finish(json_mode, data, findings, text + lines, EXIT_CANNOT)

    new_bytes = lf.serialize(plan.result)
    needed = not plan.up_to_date and new_bytes != disk_bytes
    data["needed"] = needed
    lines.append(f"  kept:        {_entries_text(upstream_m)} — {up.label}'s entries, "
                 "unchanged")
    for r in plan.renumbered:
        lines.append(f"  renumbered:  {describe(r.before)} became {describe(r.after)}")
    if plan.folded and plan.diff is not None and plan.diff.next_entry is not None:
        lines.append(f"  folded:      {', '.join(describe(e) for e in plan.folded)} became "
                     f"{describe(plan.diff.next_entry)}, the one entry `ayjnt build` writes "
                     "for the integrated tree")
    for e, why in plan.dropped:
        lines.append(f"  dropped:     {describe(e)}: {why}")
    if plan.diff is not None:
        if plan.diff.next_entry is not None and not plan.renumbered and not plan.folded:
            lines.append(f"  new entry:   {describe(plan.diff.next_entry)} for the working "
                         "tree")
        for m in plan.diff.moved:
            lines.append(f"  moved:       {m.class_name}: agentId {m.from_agent_id} -> "
                         f"{m.to_agent_id} (folder move; storage kept)")
    if plan.up_to_date:
        extra = plan.result["migrations"][len(upstream_m):]
        lines.append(f"  branch:      {_entries_text(extra)}" if extra else
                     "  branch:      no entries of its own")
        steps = _next_steps(op, lock_name, conflicted, False)
        data["next"] = steps
        text = [paint(f"{title}: already continues {up.label}'s history; nothing to rewrite",
                      OK, sys.stdout), *lines]
        text += ["next:", *(f"  {s}" for s in steps)] if steps else []
        return _finish(json_mode, data, findings, text, EXIT_OK)

    if plan.deletions:
        body = [f"  - {d.class_name} (agentId: {d.agent_id}): {d.why}" for d in plan.deletions]
        msg = ("the integrated tree deletes classes (their storage is destroyed on deploy): "
               + ", ".join(d.class_name for d in plan.deletions))
        findings.append(Finding(ERROR, "deletions-need-flag", msg, lock_name,
                                hint="ayjnt-hooks rebase-lockfile --fix-deletions"))
        text = [paint(f"{title}: not written — it would stage class deletions", ERROR,
                      sys.stdout), *lines, *body,
                "  fix: if these deletions are intended, re-run with --fix-deletions"]
        return _finish(json_mode, data, findings, text, EXIT_FAILED)

    if disk_note:
        lines.insert(0, f"  {lock_name} on disk {disk_note}")
    if check:
        if needed:
            findings.append(Finding(ERROR, "lockfile-rebase-needed",
                                    f"{lock_name} does not continue {up.label}'s history",
                                    lock_name, hint="ayjnt-hooks rebase-lockfile"))
            text = [paint(f"{title}: a rebase is needed (--check: nothing written)", ERROR,
                          sys.stdout), *lines, "  fix: ayjnt-hooks rebase-lockfile"]
            return _finish(json_mode, data, findings, text, EXIT_FAILED)
        text = [paint(f"{title}: up to date", OK, sys.stdout), *lines]
        return _finish(json_mode, data, findings, text, EXIT_OK)
    if needed:
        from .safewrite import write_file

        write_file(cwd, lf.LOCKFILE_PATH, new_bytes)  # (never through a symlink)
        data["written"] = True
        lines.append(f"wrote {lock_name}")
    steps = _next_steps(op, lock_name, conflicted, needed)
    data["next"] = steps
    text = [paint(title, OK, sys.stdout), *lines]
    text += ["next:", *(f"  {s}" for s in steps)] if steps else []
    return _finish(json_mode, data, findings, text, EXIT_OK)


def _finish(json_mode: bool, data: dict[str, Any], findings: list[Finding], text: list[str],
            code: int) -> int:
    if json_mode:
        from .report import emit_json

        emit_json(data, findings)
    else:
        sys.stdout.write("\n".join(text) + "\n")
    return code
