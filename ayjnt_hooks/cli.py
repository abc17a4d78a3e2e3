"""``ayjnt-hooks``: migrate, status, install, uninstall and the hook entry points."""
from __future__ import annotations

import os
import sys

from . import __version__
from .errors import (
    AyjntError,
    internal_error_text,
    print_error,
    report_internal_error,
    use_js_text_output,
)

TYPE_CHECKING = False  # (typing is not imported at run time: start-up time counts here)
if TYPE_CHECKING:
    import argparse
    from collections.abc import Sequence
    from typing import Callable

    from .engine.scan import Agent

EXIT_OK, EXIT_FAILED, EXIT_USAGE, EXIT_CANNOT_CHECK = 0, 1, 2, 3


def existing_dir(value: str) -> str:
    """``--cwd`` validated with ayjnt's words (reference §3.1)."""
    import argparse

    if not value or value.startswith("-"):
        raise argparse.ArgumentTypeError("--cwd requires a path (--cwd <path> or --cwd=<path>)")
    if not os.path.isdir(value):
        raise argparse.ArgumentTypeError(f"--cwd {value} is not a directory")
    return value


def guarded(body: Callable[[], int], *, json_mode: bool = False) -> int:
    """Run a command body: expected errors exit 3 with one message, never a traceback."""
    try:
        return body()
    except AyjntError as e:
        if json_mode:
            _emit_error("input", e.message, e.path, e.hint)
        else:
            print_error(e)
        return EXIT_CANNOT_CHECK
    except KeyboardInterrupt:
        return 130
    except Exception as e:
        report_internal_error(e)
        if json_mode:
            _emit_error("internal", internal_error_text(e))
        return EXIT_CANNOT_CHECK


def _emit_error(kind: str, message: str, path: str | None = None, hint: str | None = None
                ) -> None:
    from .report import emit_json, error_json

    error, finding = error_json(kind, message, path, hint)
    emit_json({"error": error}, [finding])


# ---------------------------------------------------------------- migrate

MIGRATE_HINT = ("Run `ayjnt build` to stage this in .ayjnt/migrations.json, then commit it "
                "before deploying.")


def agent_json(agent: Agent) -> dict[str, str]:
    return {"agentId": agent.agent_id, "className": agent.class_name,
            "baseClass": agent.base_class, "folderPath": agent.folder_path,
            "routePath": agent.route_path, "binding": agent.binding, "sourceFile": agent.path}


def cmd_migrate(args: argparse.Namespace) -> int:
    from .engine import lockfile
    from .engine.scan import is_project, not_a_project, scan
    from .engine.snapshot import WorkTree
    from .report import ERROR, Finding, emit_json

    def body() -> int:
        tree = WorkTree(args.cwd)
        if not is_project(tree):
            raise not_a_project(os.path.abspath(args.cwd))
        manifest = scan(tree, with_tools=True)
        lock = lockfile.parse_lockfile(tree.read(lockfile.LOCKFILE_PATH),
                                       tree.display(lockfile.LOCKFILE_PATH))
        d = lockfile.diff(lock, manifest)
        staged = d.changes_lockfile
        if args.json:
            findings = [Finding(ERROR, "pending-lockfile", lockfile.format_diff(d),
                                lockfile.LOCKFILE_PATH, hint="ayjnt build")] if staged else []
            emit_json({"agents": [agent_json(a) for a in manifest.agents],
                       "pending": d.next_entry,
                       "moved": [{"fromAgentId": m.from_agent_id, "toAgentId": m.to_agent_id,
                                  "className": m.class_name} for m in d.moved],
                       "staged": staged}, findings)
        else:
            sys.stdout.write(lockfile.format_diff(d) + "\n")
            if staged:
                sys.stdout.write("\n" + MIGRATE_HINT + "\n")
        return EXIT_FAILED if staged and args.check else EXIT_OK

    return guarded(body, json_mode=args.json)


# ---------------------------------------------------------------- status

def cmd_status(args: argparse.Namespace) -> int:
    from .git.repo import discover
    from .git.status import status

    def body() -> int:
        repo = discover(args.cwd)
        st = status(repo)
        if args.porcelain and not args.json:
            sys.stdout.write("".join(f"{line}\n" for line in st.lines))
            return EXIT_OK
        from .git.history import branch_facts

        facts = branch_facts(repo)
        data = {"clean": st.clean,
                "porcelain": None if st.inexact else st.lines, "branch": facts.branch,
                "detached": facts.detached, "unborn": facts.unborn, "upstream": facts.upstream,
                "ahead": facts.ahead, "behind": facts.behind, "shallow": facts.shallow}
        if args.json:
            from .report import emit_json

            if st.inexact:
                data["porcelain_refused"] = st.inexact
            emit_json(data, [])
            return EXIT_OK
        where = "detached HEAD" if facts.detached else f"branch {facts.branch}"
        if facts.unborn:
            where += " (no commits yet)"
        out = [where]
        if facts.upstream:
            out.append(f"{facts.upstream}: {facts.ahead} ahead, {facts.behind} behind")
        elif facts.branch and not facts.unborn:
            out.append(f"no origin/{facts.branch}")
        if facts.shallow:
            out.append("shallow clone: counts cover only the commits present")
        out.append("working tree: clean" if st.clean else "working tree: dirty")
        out += [f"  {line}" for line in st.shown_lines]
        sys.stdout.write("\n".join(out) + "\n")
        return EXIT_OK

    return guarded(body, json_mode=args.json)


# ---------------------------------------------------------------- hooks

STAGES = ("pre-commit", "pre-push", "manual")


CHECKS = {"check-migrations": "migrations", "check-lockfile": "lockfile", "check": "both"}


def cmd_check(args: argparse.Namespace) -> int:
    from .hooks import in_raw_push_hook, infer_stage, run_checks, run_push

    which = CHECKS[args.command]
    cwd: str = args.cwd

    def body() -> int:
        if in_raw_push_hook(args.stage):  # husky/lefthook/simple-git-hooks pre-push script
            return run_push(cwd, None, which, command=args.command, json_mode=args.json)
        return run_checks(which, infer_stage(args.stage), cwd,
                          fix=getattr(args, "fix", False),
                          fix_deletions=getattr(args, "fix_deletions", False),
                          json_mode=args.json)

    return guarded(body, json_mode=args.json)


def cmd_pre_commit(args: argparse.Namespace) -> int:
    from .hooks import PRE_COMMIT, run_checks

    cwd: str = args.cwd
    return guarded(lambda: run_checks("both", PRE_COMMIT, cwd, fix=args.fix,
                                      fix_deletions=args.fix_deletions, json_mode=args.json),
                   json_mode=args.json)


def cmd_pre_push(args: argparse.Namespace) -> int:
    from .hooks import run_push

    cwd: str = args.cwd
    return guarded(lambda: run_push(cwd, args.remote, command="pre-push",
                                    json_mode=args.json), json_mode=args.json)


def cmd_hook_impl(args: argparse.Namespace) -> int:
    from .rawhooks import hook_impl

    cwd: str = args.cwd
    return guarded(lambda: hook_impl(args.hook, cwd, args.hook_args))


def cmd_install(args: argparse.Namespace) -> int:
    from .rawhooks import install, uninstall

    cwd: str = args.cwd
    # --merge-driver alone touches only the driver; plain `uninstall` removes hooks and driver
    hooks: Sequence[str] = args.hook or ()
    skip_hooks = args.merge_driver and not hooks
    if args.command == "install":
        code = 0 if skip_hooks else guarded(lambda: install(cwd, hooks, args.force))
        if args.merge_driver and code == 0:
            from .mergedriver import install as install_driver

            code = guarded(lambda: install_driver(cwd))
        return code
    code = 0 if skip_hooks else guarded(lambda: uninstall(cwd, hooks))
    if (args.merge_driver or not args.hook) and code == 0:
        from .mergedriver import uninstall as uninstall_driver

        code = guarded(lambda: uninstall_driver(cwd))
    return code


def cmd_rebase_lockfile(args: argparse.Namespace) -> int:
    from .rebaselockfile import run

    cwd: str = args.cwd
    return guarded(lambda: run(cwd, onto=args.onto, check=args.check, json_mode=args.json,
                               fix_deletions=args.fix_deletions), json_mode=args.json)


def cmd_merge_driver(args: argparse.Namespace) -> int:
    from .mergedriver import merge

    code = guarded(lambda: merge(args.base, args.ours, args.theirs, args.pathname))
    return 1 if code else 0  # git reads any non-zero as "conflict"


def cmd_ledger(args: argparse.Namespace) -> int:
    from . import ledger

    cwd: str = args.cwd
    if args.action == "show":
        return guarded(lambda: ledger.cmd_show(cwd, args.json, args.env), json_mode=args.json)
    if args.action == "init":
        return guarded(lambda: ledger.cmd_init(cwd, args.env or "default", args.commit))
    if not args.env:
        sys.stderr.write("ayjnt-hooks ledger break-lease: name the environment: --env <name> "
                         "(`default` when deploys pass no --env)\n")
        return EXIT_USAGE
    return guarded(lambda: ledger.cmd_break_lease(cwd, args.env))


# ---------------------------------------------------------------- entry

def _parser(prog: str, description: str) -> argparse.ArgumentParser:
    import argparse

    class Parser(argparse.ArgumentParser):
        """argparse sizes help text with ``shutil.get_terminal_size``, and importing shutil
        (with bz2, lzma, …) costs about 2.5 ms on every run, help or not: size it here."""

        def _get_formatter(self) -> argparse.HelpFormatter:
            return argparse.HelpFormatter(prog=self.prog, width=help_width())

    return Parser(prog=prog, description=description)


def help_width() -> int:
    """``shutil.get_terminal_size().columns - 2``, as argparse computes it."""
    text = os.environ.get("COLUMNS", "")
    columns = int(text) if text.isdigit() else 0
    if columns <= 0:
        try:
            columns = os.get_terminal_size(sys.__stdout__.fileno()).columns  # type: ignore[union-attr]
        except (AttributeError, ValueError, OSError):
            columns = 0
    return (columns or 80) - 2


COMMANDS = ("migrate", "status", "check-migrations", "check-lockfile", "check", "pre-commit",
            "pre-push", "hook-impl", "install", "uninstall", "ledger", "rebase-lockfile",
            "merge-driver", "completion")


def add_fix_flags(p: argparse.ArgumentParser) -> None:
    p.add_argument("--fix", action="store_true",
                   help="write the pending change into .ayjnt/migrations.json")
    p.add_argument("--fix-deletions", action="store_true",
                   help="with --fix: also write class deletions (destroys storage on deploy)")


def build_parser(only: str | None = None) -> argparse.ArgumentParser:
    """The whole CLI, or with ``only`` just that command's subparser (what parsing needs: the
    hooks run on every commit, and building every subparser is a measurable part of that)."""

    def wanted(*names: str) -> bool:
        return only is None or only in names

    parser = _parser(prog="ayjnt-hooks", description="Git-safety gates for ayjnt projects.")
    version = f"ayjnt-hooks {__version__}"
    parser.add_argument("-V", "--version", action="version", version=version)
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    sub.required = True

    def command(name: str, what: str) -> argparse.ArgumentParser:
        p = sub.add_parser(name, help=what, description=what)
        p.add_argument("-V", "--version", action="version", version=version)
        return p

    if wanted("migrate"):
        p = command("migrate",
                    "preview the lockfile change `ayjnt build` would make")
        p.add_argument("--cwd", type=existing_dir, help="the ayjnt project folder (default: .)")
        p.add_argument("--json", action="store_true", help="one JSON object on stdout")
        p.add_argument("--check", action="store_true",
                       help="exit 1 when a lockfile change is pending")
        p.set_defaults(func=cmd_migrate)

    if wanted("status"):
        p = command("status", "the git facts the gates use (debug a refused push)")
        p.add_argument("--cwd", type=existing_dir, help="a folder inside the repository")
        p.add_argument("--json", action="store_true", help="one JSON object on stdout")
        p.add_argument("--porcelain", action="store_true",
                       help="print only the `git status --porcelain` lines")
        p.set_defaults(func=cmd_status)

    for name, what in (("check-migrations", "fail when a lockfile change is pending in the "
                        "snapshot being committed/pushed (hook ayjnt-migrations)"),
                       ("check-lockfile", "fail when the lockfile being committed/pushed is "
                        "unsound or rewrites history (hook ayjnt-lockfile)"),
                       ("check", "both checks in one process (hook ayjnt)")):
        if not wanted(name):
            continue
        p = command(name, what)
        p.add_argument("--cwd", type=existing_dir, help="the ayjnt project folder")
        p.add_argument("--stage", choices=STAGES,
                       help="which snapshot to check (default: inferred from git/pre-commit)")
        p.add_argument("--json", action="store_true", help="one JSON object on stdout")
        if name != "check-lockfile":
            add_fix_flags(p)
        p.set_defaults(func=cmd_check)

    if wanted("pre-commit"):
        p = command("pre-commit", "both checks on the index being committed: for a hook "
                    "manager's pre-commit script (husky, lefthook, simple-git-hooks)")
        p.add_argument("--cwd", type=existing_dir, help="the ayjnt project folder")
        p.add_argument("--json", action="store_true", help="one JSON object on stdout")
        add_fix_flags(p)
        p.set_defaults(func=cmd_pre_commit)

    if wanted("pre-push"):
        p = command("pre-push", "both checks on every pushed ref, read from git's stdin: for "
                    "a hook manager's pre-push script (pass the hook's arguments: \"$@\")")
        p.add_argument("remote", nargs="?", help="the remote's name ($1 of the git hook)")
        p.add_argument("url", nargs="?", help="the remote's URL ($2 of the git hook)")
        p.add_argument("--cwd", type=existing_dir, help="the ayjnt project folder")
        p.add_argument("--json", action="store_true", help="one JSON object on stdout")
        p.set_defaults(func=cmd_pre_push)

    if wanted("hook-impl"):
        p = command("hook-impl", "what the hooks written by `install` run")
        p.add_argument("hook", choices=("pre-commit", "pre-push"))
        p.add_argument("--cwd", type=existing_dir)
        p.add_argument("hook_args", nargs="*")
        p.set_defaults(func=cmd_hook_impl)

    for name, what in (("install", "write plain git hooks (no pre-commit framework needed)"),
                       ("uninstall", "remove the plain git hooks, restoring earlier ones")):
        if not wanted(name):
            continue
        p = command(name, what)
        p.add_argument("--hook", action="append", choices=("pre-commit", "pre-push"),
                       help="which hook (repeatable; default: both)")
        p.add_argument("--cwd", type=existing_dir, help="the ayjnt project folder")
        if name == "install":
            p.add_argument("--force", action="store_true",
                           help="replace a hook we did not write (kept as <hook>.legacy and "
                                "run first)")
        p.add_argument("--merge-driver", action="store_true",
                       help="the lockfile merge driver (repo config + .gitattributes); "
                            "alone, only the driver")
        p.set_defaults(func=cmd_install)

    if wanted("ledger"):
        p = command("ledger", "the deploy ledger on origin: what is live per environment, "
                              "and the deploy lease")
        p.add_argument("action", choices=("show", "init", "break-lease"),
                       help="show: each environment's live lockfile and lease; init: create "
                            "the ledger (from HEAD's lockfile); break-lease: clear a crashed "
                            "deploy's lease")
        p.add_argument("--cwd", type=existing_dir, help="a folder inside the repository")
        p.add_argument("--env", help="the wrangler environment (default: `default`)")
        p.add_argument("--commit", help="init: the commit whose lockfile is live (default: "
                                        "HEAD)")
        p.add_argument("--json", action="store_true", help="show: one JSON object on stdout")
        p.set_defaults(func=cmd_ledger)

    if wanted("rebase-lockfile"):
        p = command("rebase-lockfile",
                    "rewrite .ayjnt/migrations.json as REF's entries plus the one entry "
                    "`ayjnt build` appends for the working tree")
        p.add_argument("--onto", metavar="REF",
                       help="the history to keep (default: the side of a merge the remote "
                            "has, HEAD in a rebase or cherry-pick, else the branch's upstream, "
                            "origin/HEAD, origin/main)")
        p.add_argument("--cwd", type=existing_dir, help="the ayjnt project folder")
        p.add_argument("--check", action="store_true",
                       help="write nothing; exit 1 when a rebase is needed")
        p.add_argument("--json", action="store_true", help="one JSON object on stdout")
        p.add_argument("--fix-deletions", action="store_true",
                       help="also write class deletions (destroys storage on deploy)")
        p.set_defaults(func=cmd_rebase_lockfile)

    if wanted("merge-driver"):
        p = command("merge-driver",
                    "what git runs as the ayjnt-lockfile merge driver (base, ours, theirs, path)")
        p.add_argument("base")
        p.add_argument("ours")
        p.add_argument("theirs")
        p.add_argument("pathname")
        p.add_argument("--cwd", type=existing_dir)
        p.set_defaults(func=cmd_merge_driver)

    if wanted("completion"):
        p = command("completion", "print a tab-completion script for bash, zsh or fish "
                                  "(generated from this parser)")
        p.add_argument("shell", choices=("bash", "zsh", "fish"))
        p.set_defaults(func=cmd_completion)
    return parser


def cmd_completion(args: argparse.Namespace) -> int:
    from .completion import script

    sys.stdout.write(script(args.shell, build_parser()))
    return EXIT_OK


class _Plain:
    """The namespace argparse would build, for the plain spellings ``plain_args`` reads."""

    def __init__(self, **values: object) -> None:
        self.__dict__.update(values)


# The commands a hook or a script runs on every commit, with their exact flag names:
# command -> (store_true flags -> dest, valued options -> their choices or None).
_PLAIN: dict[str, tuple[dict[str, str], dict[str, tuple[str, ...] | None]]] = {
    "status": ({"--json": "json", "--porcelain": "porcelain"}, {"--cwd": None}),
    "check-migrations": ({"--json": "json", "--fix": "fix", "--fix-deletions": "fix_deletions"},
                         {"--cwd": None, "--stage": STAGES}),
    "check-lockfile": ({"--json": "json"}, {"--cwd": None, "--stage": STAGES}),
    "check": ({"--json": "json", "--fix": "fix", "--fix-deletions": "fix_deletions"},
              {"--cwd": None, "--stage": STAGES}),
    "pre-commit": ({"--json": "json", "--fix": "fix", "--fix-deletions": "fix_deletions"},
                   {"--cwd": None}),
}


def plain_args(argv: Sequence[str]) -> argparse.Namespace | None:
    """What argparse makes of ``argv`` when it only spells the flags of a hot command in
    full (no abbreviation, no ``--``, ``--cwd`` an existing folder, a valid ``--stage``),
    without importing argparse (a few ms on every commit). None for anything else, which
    argparse then parses, reporting any error in its usual words."""
    if argv and argv[0] == "hook-impl":
        return _hook_impl_args(argv)
    if not argv or argv[0] not in _PLAIN:
        return None
    flags, options = _PLAIN[argv[0]]
    values: dict[str, object] = {dest: False for dest in flags.values()}
    values.update({name[2:]: None for name in options})
    tokens = iter(argv[1:])
    for token in tokens:
        if token in flags:
            values[flags[token]] = True
            continue
        name, equals, value = token.partition("=")
        if name not in options:
            return None
        if not equals:
            value = next(tokens, "-")
        choices = options[name]
        if value.startswith("-") or (choices is None and not os.path.isdir(value)) \
                or (choices is not None and value not in choices):
            return None
        values[name[2:]] = value
    values["command"] = argv[0]
    values["func"] = {"status": cmd_status, "pre-commit": cmd_pre_commit}.get(argv[0], cmd_check)
    return _Plain(**values)  # type: ignore[return-value]


def _hook_impl_args(argv: Sequence[str]) -> argparse.Namespace | None:
    """``hook-impl <hook> [--cwd <dir>] <git's own hook arguments>``, as ``install`` writes
    it (``--cwd <dir>`` may come first too). git's arguments (a pre-push hook's remote and URL)
    are taken as they are: argparse, whose ``nargs="*"`` list ends at the first option, took
    those after ``--cwd`` for unknown arguments and refused every push of a project in a
    subfolder. Anything else goes to argparse."""
    rest = list(argv[1:])
    cwd = None
    if rest[:1] == ["--cwd"] and len(rest) > 1:
        cwd, rest = rest[1], rest[2:]
    if not rest or rest[0] not in ("pre-commit", "pre-push"):
        return None
    hook = rest.pop(0)
    if cwd is None and rest[:1] == ["--cwd"] and len(rest) > 1:
        cwd, rest = rest[1], rest[2:]
    if cwd is not None and (not cwd or cwd.startswith("-") or not os.path.isdir(cwd)):
        return None  # (argparse says what is wrong with it)
    return _Plain(command="hook-impl", hook=hook, cwd=cwd, hook_args=rest,  # type: ignore[return-value]
                  func=cmd_hook_impl)


def main(argv: Sequence[str] | None = None) -> int:
    use_js_text_output()
    argv = sys.argv[1:] if argv is None else list(argv)
    args = plain_args(argv) or \
        build_parser(argv[0] if argv and argv[0] in COMMANDS else None).parse_args(argv)
    if getattr(args, "cwd", "") is None:  # ayjnt's default is the current folder
        args.cwd = os.getcwd()
    func: Callable[[argparse.Namespace], int] = args.func
    return func(args)


if __name__ == "__main__":
    raise SystemExit(main())
