"""Plain git hooks for teams without the pre-commit framework: install, uninstall, run.

The installed scripts call ``<python> -m ayjnt_hooks hook-impl <hook>`` with the interpreter
that installed them. The pre-push hook reads git's stdin and checks every pushed ref (pre-commit
itself only checks the first).
"""
from __future__ import annotations

import os
import shlex
import subprocess
import sys
from collections.abc import Sequence

from .errors import AyjntError
from .hooks import (
    PRE_COMMIT,
    PRE_PUSH,
    ZERO,
    Target,
    block,
    check_lockfile,
    check_migrations,
    emit,
    project_prefix,
    resolve_target,
)
from .report import WARNING, Finding

MARKER = "# ayjnt-hooks: managed hook"
HOOKS = ("pre-commit", "pre-push")


def hooks_dir(repo: object) -> str:
    from .git.repo import Repo

    assert isinstance(repo, Repo)
    custom = repo.config_get("core", "hookspath")
    if custom:
        custom = os.path.expanduser(custom)
        return custom if os.path.isabs(custom) else os.path.join(repo.worktree or "", custom)
    return os.path.join(repo.commondir, "hooks")


def _is_ours(path: str) -> bool:
    """Did ``ayjnt-hooks install`` write this hook? (Read only if it is a regular file: a FIFO
    there would block the read.)"""
    import stat

    try:
        if not stat.S_ISREG(os.stat(path).st_mode):
            return False
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
    except OSError:
        return False
    try:
        return MARKER.encode() in os.read(fd, 4096)
    except OSError:
        return False
    finally:
        os.close(fd)


def _check_hooks_dir(directory: str, create: bool) -> None:
    """The hooks folder must be a folder (a symlink to one is fine: git follows it)."""
    if os.path.isdir(directory):
        return
    if os.path.lexists(directory):
        what = "a symbolic link to nothing" if os.path.islink(directory) else "not a folder"
        raise AyjntError(f"{directory} is {what}, but git runs hooks from a folder there. Move "
                         f"it away (git recreates an empty hooks folder), then run `ayjnt-hooks "
                         f"install` again.", path=directory)
    if create:
        try:
            os.makedirs(directory)
        except OSError as e:
            raise AyjntError(f"{directory}: cannot create the hooks folder ({e.strerror}).",
                             path=directory) from None


def _check_hook_shape(path: str) -> None:
    """A hook is a file (or a link, which install replaces and never writes through)."""
    if os.path.lexists(path) and not os.path.islink(path) and not os.path.isfile(path):
        raise AyjntError(f"{path} exists but is not a file, so git cannot run it as a hook. "
                         f"Move it away, then run the command again.", path=path)


def script(hook: str, project: str) -> str:
    cwd_args = f" --cwd {shlex.quote(project)}" if project else ""
    return (f"#!/bin/sh\n{MARKER} ({hook}); written by `ayjnt-hooks install`, removed by "
            f"`ayjnt-hooks uninstall`.\n"
            f"exec {shlex.quote(sys.executable)} -m ayjnt_hooks hook-impl {hook}{cwd_args} "
            f'"$@"\n')


def install(cwd: str, hooks: Sequence[str], force: bool) -> int:
    from .git.repo import discover

    repo = discover(cwd)
    project = project_prefix(repo, cwd)
    directory = hooks_dir(repo)
    _check_hooks_dir(directory, create=True)
    from .safewrite import write_file

    status = 0
    for hook in hooks or HOOKS:
        path = os.path.join(directory, hook)
        legacy = path + ".legacy"
        _check_hook_shape(path)
        _check_hook_shape(legacy)
        if os.path.lexists(path) and not _is_ours(path):
            if not force:
                sys.stderr.write(f"ayjnt-hooks: refusing to overwrite {path}: it was not "
                                 f"written by ayjnt-hooks.\n  fix: ayjnt-hooks install --hook "
                                 f"{hook} --force (keeps it as {hook}.legacy and runs it "
                                 "first)\n")
                status = 1
                continue
            if os.path.lexists(legacy):
                sys.stderr.write(f"ayjnt-hooks: {legacy} already exists; move it away "
                                 "first.\n")
                status = 1
                continue
            os.rename(path, legacy)
            sys.stdout.write(f"kept the previous {hook} hook as {legacy}\n")
        # a new file in place of the name (never written through a link), executable
        write_file(directory, hook, script(hook, project).encode(), mode=0o755,
                   keep_mode=False)
        sys.stdout.write(f"installed {path}\n")
    return status


def uninstall(cwd: str, hooks: Sequence[str]) -> int:
    from .git.repo import discover

    directory = hooks_dir(discover(cwd))
    _check_hooks_dir(directory, create=False)
    for hook in hooks or HOOKS:
        path = os.path.join(directory, hook)
        if not _is_ours(path):
            if os.path.lexists(path):
                sys.stdout.write(f"left {path} alone (not written by ayjnt-hooks)\n")
            continue
        os.remove(path)
        legacy = path + ".legacy"
        if os.path.lexists(legacy):
            os.rename(legacy, path)
            sys.stdout.write(f"restored {path} from {hook}.legacy\n")
        else:
            sys.stdout.write(f"removed {path}\n")
    return 0


def _run_legacy(hook: str, argv: Sequence[str], stdin: bytes | None) -> int:
    from .git.repo import discover

    legacy = os.path.join(hooks_dir(discover(os.getcwd())), hook + ".legacy")
    if not os.access(legacy, os.X_OK):
        return 0
    return subprocess.run([legacy, *argv], input=stdin).returncode


def hook_impl(hook: str, cwd: str, argv: Sequence[str]) -> int:
    """What an installed raw hook runs."""
    stdin = sys.stdin.buffer.read() if hook == PRE_PUSH else None
    code = _run_legacy(hook, argv, stdin)
    if code:
        return code
    if hook == PRE_COMMIT:
        target = resolve_target(PRE_COMMIT, cwd)
        return emit(check_migrations(target, cwd) + check_lockfile(target))
    from .git.repo import discover
    from .git.snapshots import CommitSnapshot

    repo = discover(cwd)
    prefix = project_prefix(repo, cwd)
    results: list[tuple[Finding, str]] = []
    remote = argv[0] if argv else "origin"
    for line in (stdin or b"").decode("utf-8", "surrogateescape").splitlines():
        parts = line.rsplit(" ", 3)
        if len(parts) != 4:
            continue
        local_ref, local_sha, remote_ref, remote_sha = parts
        if local_sha == ZERO:
            continue  # a deletion pushes no content
        label = f"{local_ref} → {remote_ref}"
        try:
            snap = CommitSnapshot(repo, local_sha, prefix, label=local_sha[:7])
        except AyjntError:
            continue  # not a commit (e.g. a tag of a tree): nothing ayjnt reads
        target = Target(snap, f"commit {local_sha[:7]} being pushed ({label})", PRE_PUSH,
                        prefix, repo, local_sha)
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
        results += check_migrations(target, cwd)
        results += check_lockfile(target, from_ref=from_ref, new_branch=new_branch,
                                  remote=remote, remote_branch=remote_ref)
    return emit(results)


