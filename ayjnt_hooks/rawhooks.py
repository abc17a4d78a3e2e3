"""Plain git hooks for teams without the pre-commit framework: install, uninstall, run.

The installed scripts call ``<python> -m ayjnt_hooks hook-impl <hook>`` with the interpreter
that installed them. The pre-push hook reads git's stdin and checks every pushed ref (pre-commit
itself only checks the first).
"""
from __future__ import annotations

import os
import sys
from collections.abc import Sequence

from .errors import AyjntError
from .hooks import (
    PRE_COMMIT,
    PRE_PUSH,
    both_checks,
    check_lockfile,
    check_migrations,
    check_pushed_refs,
    emit,
    parse_push_lines,
    project_prefix,
    resolve_target,
)

MARKER = "# ayjnt-hooks: managed hook"
HOOKS = ("pre-commit", "pre-push")


def hooks_dir(repo: object) -> str:
    from .git.repo import Repo
    from .managers import hooks_dir as managed_dir

    assert isinstance(repo, Repo)
    return managed_dir(repo)


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
    """The hook: pinned to this interpreter, and saying so when it is gone (a deleted
    virtualenv would otherwise fail every commit with `exec: …/python3: not found`)."""
    import shlex  # (install only: the hook itself never quotes anything)

    cwd_args = f" --cwd {shlex.quote(project)}" if project else ""
    python = shlex.quote(sys.executable)
    package = shlex.quote(os.path.dirname(os.path.abspath(__file__)))
    reinstall = f"ayjnt-hooks install{cwd_args}"
    return (f"#!/bin/sh\n{MARKER} ({hook}); written by `ayjnt-hooks install`, removed by "
            f"`ayjnt-hooks uninstall`.\n"
            f"python={python}\n"
            f'if [ ! -x "$python" ] || [ ! -d {package} ]; then\n'
            f'  echo "ayjnt-hooks: this {hook} hook runs $python, which no longer exists or no '
            f'longer has ayjnt-hooks (a deleted or moved virtualenv?), so nothing was '
            f'checked." >&2\n'
            f'  echo "  fix: {reinstall}   (with the ayjnt-hooks you use now; it rewrites both '
            f'hooks)" >&2\n'
            f"  exit 1\n"
            f"fi\n"
            f'exec "$python" -m ayjnt_hooks hook-impl {hook}{cwd_args} "$@"\n')


def install(cwd: str, hooks: Sequence[str], force: bool) -> int:
    from .git.repo import discover

    repo = discover(cwd)
    project = project_prefix(repo, cwd)
    if not force and _print_manager_wiring(repo, project):
        return 1
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


def _print_manager_wiring(repo: object, project: str) -> bool:
    """In a repository whose hooks a manager owns, our scripts would be overwritten (husky's
    `prepare` rewrites .husky/_, lefthook and simple-git-hooks rewrite the hooks on install):
    print that manager's wiring instead. True when a manager was found."""
    from .git.repo import Repo
    from .managers import detect, wiring

    assert isinstance(repo, Repo)
    found = detect(repo, project)
    if not found:
        return False
    names = " and ".join(found)
    sys.stderr.write(f"ayjnt-hooks: this repository's hooks are managed by {names}; "
                     "`install` wrote nothing, because the manager would overwrite plain "
                     "hooks. Wire the checks into it instead:\n\n")
    for manager in found:
        sys.stderr.write(wiring(manager, project) + "\n")
    sys.stderr.write("(to install plain hooks anyway: ayjnt-hooks install --force)\n")
    return True


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
    import subprocess  # (only when there is a legacy hook to run)

    return subprocess.run([legacy, *argv], input=stdin).returncode


def hook_impl(hook: str, cwd: str, argv: Sequence[str]) -> int:
    """What an installed raw hook runs."""
    stdin = sys.stdin.buffer.read() if hook == PRE_PUSH else None
    code = _run_legacy(hook, argv, stdin)
    if code:
        return code
    if hook == PRE_COMMIT:
        target = resolve_target(PRE_COMMIT, cwd)
        return emit(both_checks(lambda: check_migrations(target, cwd),
                                lambda: check_lockfile(target)))
    lines, _ = parse_push_lines(stdin or b"")
    results, _ = check_pushed_refs(cwd, lines, argv[0] if argv else "origin")
    return emit(results)
