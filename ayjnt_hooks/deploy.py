"""``ayjnt-deploy``: a drop-in for ``ayjnt deploy`` — preflight, build, verify, hand off.

Preflight (skipped by ``--force``): clean tree, in sync with ``origin/<branch>`` (or, with
``--ci``, HEAD is exactly its tip), no pending lockfile change. Always: the host-tools refusal,
the build, and a check that the generated ``.ayjnt/dist/wrangler.jsonc`` matches the lockfile
and the agents. Then ``bunx wrangler deploy --config <abs path> <forwarded…>``, whose exit code
is ours. Messages are ayjnt 0.5.9's where ayjnt has them.
"""
from __future__ import annotations

import os
import signal
import sys
from collections.abc import Sequence

from .errors import (
    REPORT_URL,
    AyjntError,
    internal_error_text,
    print_error,
    report_internal_error,
    use_js_text_output,
)
from .report import ERROR, OK, WARNING, Finding, emit_json, error_json, paint

TYPE_CHECKING = False  # (typing is not imported at run time: start-up time counts here)
if TYPE_CHECKING:
    from types import FrameType
    from typing import Any

    from .engine.lockfile import Diff, Lockfile
    from .engine.scan import Manifest
    from .git.repo import Repo
    from .ledger import DeployGuard

LOCKFILE = ".ayjnt/migrations.json"
CONFIG = ".ayjnt/dist/wrangler.jsonc"
EXIT_OK, EXIT_FAILED, EXIT_USAGE, EXIT_CANNOT_CHECK = 0, 1, 2, 3
FORCE_HINT = "Use --force to bypass."

HELP = """\
usage: ayjnt-deploy [--cwd DIR] [--force] [--ci[=BRANCH]] [--fetch] [--json] [--no-build]
                    [--check] [--override-ledger] [wrangler args…] [-- wrangler args…]

A drop-in for `ayjnt deploy`: git-safety preflight, `ayjnt build`, a check that the generated
config matches the lockfile, then `bunx wrangler deploy --config .ayjnt/dist/wrangler.jsonc`.

  --cwd DIR        the ayjnt project folder (default: the current folder)
  --force          skip the preflight (clean tree, sync with origin, pending lockfile change)
  --ci[=BRANCH]    CI checkout: require HEAD to be exactly the tip of origin/BRANCH (default:
                   $GITHUB_REF_NAME, else the current branch) instead of "in sync"
  --fetch          ask the remote whether origin/<branch> moved since the last fetch
  --json           print the preflight result as one JSON object on stdout
  --no-build       do not run the build; verify the existing generated config
  --check          run the preflight and the host-tools check only: no build, no deploy
  --override-ledger  deploy although the deploy ledger on origin refuses (a lockfile that
                   drops a live migration) or cannot be read; loudly (see `ayjnt-hooks ledger`)
  -h, --help       show this help and do nothing else
  -V, --version    print ayjnt-hooks' version and do nothing else

Every other argument, and everything after `--`, goes to wrangler untouched
(e.g. --env staging, --dry-run, --keep-vars).
Environment: AYJNT_BUILD_COMMAND (default `bunx ayjnt build`), AYJNT_WRANGLER (default
`bunx wrangler`, e.g. `npx wrangler`).
Exit codes: wrangler's after hand-off; 1 a check failed; 2 usage error; 3 could not check.
"""


class UsageError(Exception):
    pass


class Refusal(Exception):
    """A failed check: ``ayjnt: <message>`` on stderr, exit 1."""

    def __init__(self, message: str, code: str, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.code = code
        self.hint = hint


class DeployArgs:
    def __init__(self, cwd: str) -> None:
        self.cwd = cwd
        self.force = False
        self.ci = False
        self.ci_branch: str | None = None
        self.fetch = False
        self.json = False
        self.no_build = False
        self.check = False
        self.override_ledger = False
        self.forwarded: list[str] = []


def parse_args(argv: Sequence[str]) -> DeployArgs:
    """ayjnt's ``parseArgs`` plus our own flags; unknown arguments go to wrangler."""
    argv = list(argv)
    sep = argv.index("--") if "--" in argv else len(argv)
    ours, after = argv[:sep], argv[sep + 1:]
    args = DeployArgs(cwd=os.getcwd())
    i = 0
    while i < len(ours):
        a = ours[i]
        if a == "--cwd" or a.startswith("--cwd="):
            if a.startswith("--cwd="):
                value: str | None = a[len("--cwd="):]
            else:
                i += 1
                value = ours[i] if i < len(ours) else None
            if not value or value.startswith("-"):
                raise UsageError("--cwd requires a path (--cwd <path> or --cwd=<path>)")
            if not os.path.isdir(value):
                raise UsageError(f"--cwd {value} is not a directory")
            args.cwd = value
        elif a == "--force":
            args.force = True
        elif a == "--ci" or a.startswith("--ci="):
            args.ci = True
            args.ci_branch = (a[len("--ci="):] or None) if "=" in a else None
        elif a == "--fetch":
            args.fetch = True
        elif a == "--json":
            args.json = True
        elif a == "--no-build":
            args.no_build = True
        elif a == "--check":
            args.check = True
        elif a == "--override-ledger":
            args.override_ledger = True
        else:
            args.forwarded.append(a)
        i += 1
    args.forwarded += after
    return args


class Deploy:
    def __init__(self, args: DeployArgs) -> None:
        self.args = args
        self.root = args.cwd
        self.findings: list[Finding] = []
        self.data: dict[str, Any] = {}

    # ------------------------------------------------------------ output
    def say_ok(self, text: str) -> None:
        self.findings.append(Finding(OK, "ok", text))
        if not self.args.json:
            sys.stdout.write(paint(f"✓ {text}", OK, sys.stdout) + "\n")
            sys.stdout.flush()

    def warn(self, code: str, text: str) -> None:
        self.findings.append(Finding(WARNING, code, text))
        sys.stderr.write(paint(f"warning: {text}", WARNING, sys.stderr) + "\n")

    # ------------------------------------------------------------ preflight
    def preflight_git(self) -> None:
        from .git.history import branch_facts
        from .git.repo import NotARepo, discover
        from .git.status import status

        try:
            repo = discover(self.root)
        except NotARepo as e:
            self.warn("not-a-repo", f"not a git repo ({e.message}); skipping repo sync checks")
            return
        st = status(repo)
        self.data["porcelain"] = st.shown_lines
        if not st.clean:
            raise Refusal("uncommitted changes detected:\n" + "\n".join(st.shown_lines) + "\n\n"
                          "commit or stash before deploying. " + FORCE_HINT, "dirty-tree",
                          "git stash, git commit, or delete the untracked file")
        self.say_ok("git clean")
        facts = branch_facts(repo)
        self.data.update(branch=facts.branch, detached=facts.detached, head=facts.head)
        if self.args.ci:
            self.ci_check(repo, facts.branch, facts.head)
            return
        if facts.unborn:
            self.warn("unborn", "no commits yet — skipping remote sync check.")
            return
        if facts.detached:
            self.warn("detached-head", "detached HEAD — skipping remote sync check. Make sure "
                                       "this commit is pushed before deploying.")
            return
        branch = facts.branch or ""
        upstream = facts.upstream_sha
        if upstream is None:
            self.warn("no-upstream", f"no origin/{branch} — skipping sync check. Ensure "
                                     f"coworkers coordinate migrations.")
            return
        ahead, behind = facts.ahead or 0, facts.behind or 0
        self.data.update(upstream=f"origin/{branch}", ahead=ahead, behind=behind)
        if ahead > 0:
            raise Refusal(f"{ahead} unpushed commit(s) on {branch}. Push before deploying. "
                          + FORCE_HINT, "unpushed", "git push")
        if behind > 0:
            raise Refusal(f"{behind} unpulled commit(s) from origin/{branch}. Pull before "
                          "deploying. " + FORCE_HINT, "unpulled", "git pull")
        if self.args.fetch:
            self.fetch_check(repo, branch, upstream)
        self.say_ok(f"in sync with origin/{branch}")

    def ci_check(self, repo: Repo, current: str | None, head: str | None) -> None:
        branch = self.args.ci_branch or os.environ.get("GITHUB_REF_NAME") or current
        if not branch:
            raise UsageError("--ci: cannot tell which branch is being deployed (detached HEAD "
                             "and no GITHUB_REF_NAME); name it: --ci=<branch>")
        upstream = repo.rev_parse(f"origin/{branch}")
        if upstream is None:
            raise Refusal(f"no origin/{branch} in this checkout, so it cannot be checked that "
                          f"HEAD is the pushed tip. Fetch it (git fetch origin {branch}) before "
                          "deploying. " + FORCE_HINT, "no-upstream", f"git fetch origin {branch}")
        if self.args.fetch:
            self.fetch_check(repo, branch, upstream)
        if head != upstream:
            raise Refusal(f"HEAD ({(head or 'none')[:7]}) is not the tip of origin/{branch} "
                          f"({upstream[:7]}). CI deploys only the pushed tip of origin/{branch}. "
                          + FORCE_HINT, "not-upstream-tip", f"check out origin/{branch}")
        self.data.update(upstream=f"origin/{branch}", ahead=0, behind=0)
        self.say_ok(f"HEAD is the tip of origin/{branch}")

    def fetch_check(self, repo: Repo, branch: str, local: str) -> None:
        from .git.remote import RemoteError, remote_branch_sha

        url = repo.config_get("remote", "url", "origin")
        if not url:
            self.warn("fetch-skipped", "--fetch: no remote.origin.url configured; cannot ask "
                                       "the remote.")
            return
        try:
            remote_sha = remote_branch_sha(url, branch, base=repo.worktree or self.root)
        except RemoteError as e:
            self.warn("remote-unreachable", f"--fetch: could not reach origin ({e}); "
                                            "continuing with the last fetched state.")
            return
        if remote_sha is not None and remote_sha != local:
            raise Refusal(f"origin/{branch} moved since your last fetch (remote "
                          f"{remote_sha[:7]}, local {local[:7]}). Pull before deploying. "
                          + FORCE_HINT, "upstream-moved", "git pull")

    def pending_check(self, d: Diff) -> None:
        from .engine.lockfile import format_diff

        if not d.changes_lockfile:
            return
        if not self.args.json:
            sys.stdout.write(format_diff(d) + "\n")
            sys.stdout.flush()
        first = ("pending migration detected — not yet committed to .ayjnt/migrations.json."
                 if d.next_entry is not None else
                 "pending lockfile change (folder move) — not yet committed to "
                 ".ayjnt/migrations.json.")
        raise Refusal(first + "\nRun `ayjnt build` to stage it, then `git add "
                      ".ayjnt/migrations.json && git commit && git push` before deploying.\n"
                      "Use --force to deploy anyway (not recommended — risks divergent "
                      "migrations across deploys).", "pending-lockfile", "ayjnt build")

    # ------------------------------------------------------------ always
    def host_tools_check(self, manifest: Manifest) -> None:
        blocking = [t for t in manifest.host_tool_files() if not t.optional_on_deploy]
        if not blocking:
            return
        listing = "\n".join(f"  {t.path}  ({t.route_path})" for t in blocking)
        raise Refusal("\n".join([
            f"cannot deploy: {len(blocking)} host tool file(s) would not work in production.",
            "", listing, "",
            "Host tools run in the Bun process that hosts your local runtime. A deployed",
            "Cloudflare worker has no host process, so these functions have nowhere to run.",
            "",
            "Options:",
            "  • Move the tools into agents/<route>/tools.ts to run them in workerd instead",
            "    (they lose access to Bun.$, Bun.file, bun:sqlite and node APIs).",
            "  • Ship the app with `ayjnt compile` instead of deploying it.",
            "  • If the agent works without them, add the comment marker",
            "    `@ayjnt-optional-on-deploy` to the file — its tools will be",
            "    omitted from the deployed ToolSet instead of blocking the deploy."]),
            "host-tools")

    def build(self, lock_before: bytes | None, pending: bool) -> None:
        import shlex
        import subprocess  # (not imported for a `--check` preflight, which spawns nothing)

        command = os.environ.get("AYJNT_BUILD_COMMAND")
        if command is None:
            launcher = bun_launcher(self.root, "ayjnt build")
            require_ayjnt(self.root)
            command = shlex.join([*launcher, "ayjnt", "build"])
        argv = shlex.split(command)
        try:
            proc = subprocess.run(argv, cwd=self.root, env=project_env(self.root),
                                  stdout=sys.stderr if self.args.json else None)
        except FileNotFoundError:
            raise Refusal(f"could not launch {argv[0]} to run `{command}` (from "
                          "AYJNT_BUILD_COMMAND). Check the command.", "build-missing",
                          "set AYJNT_BUILD_COMMAND") from None
        if proc.returncode != 0:
            raise Refusal(f"the build failed (`{command}` exited {proc.returncode}); nothing "
                          "was deployed.", "build-failed", command)
        lock_path = os.path.join(self.root, *LOCKFILE.split("/"))
        lock_after = _read(lock_path)
        if lock_after == lock_before:
            return
        # Put the committed bytes back: deploy never stages a migration (ayjnt passes
        # writeLockfile: false); `ayjnt build` is the command that does.
        _restore(self.root, lock_path, lock_before)
        if not pending:
            raise Refusal(f"`{command}` changed {LOCKFILE} although ayjnt-hooks found no pending "
                          "change: ayjnt and ayjnt-hooks disagree, so nothing was deployed. The "
                          f"lockfile was restored. Run `ayjnt migrate` and report the difference "
                          f"at {REPORT_URL}.",
                          "engine-disagrees")

    def verify_config(self, manifest: Manifest, expected_lock: Lockfile) -> str:
        from .engine.lockfile import wrangler_migrations

        path = os.path.abspath(os.path.join(self.root, *CONFIG.split("/")))
        data = _read(path)
        if data is None:
            raise Refusal(f"{CONFIG} does not exist — the project was never built. Run `ayjnt "
                          "build` (or drop --no-build).", "config-missing", "ayjnt build")
        text = data.decode("utf-8", "replace")
        if text.startswith("//"):
            text = text.split("\n", 1)[1] if "\n" in text else ""
        import json

        try:
            config = json.loads(text)
        except ValueError as e:
            raise Refusal(f"{CONFIG} is not valid JSON ({e}). Run `ayjnt build` to regenerate "
                          "it.", "config-invalid", "ayjnt build") from None
        if not isinstance(config, dict):
            raise Refusal(f"{CONFIG} is not a JSON object. Run `ayjnt build` to regenerate it.",
                          "config-invalid", "ayjnt build")
        got_migrations = [{k: v for k, v in m.items() if k != "timestamp"}
                          for m in config.get("migrations") or [] if isinstance(m, dict)]
        want_migrations = wrangler_migrations(expected_lock)
        problems = []
        if got_migrations != want_migrations:
            got_tags = [m.get("tag") for m in got_migrations]
            want_tags = [m["tag"] for m in want_migrations]
            problems.append(f"its migrations ({', '.join(map(str, got_tags)) or 'none'}) differ "
                            f"from the lockfile's ({', '.join(want_tags) or 'none'})")
        bindings = (config.get("durable_objects") or {}).get("bindings") \
            if isinstance(config.get("durable_objects"), dict) else None
        want_bindings = [{"name": a.binding, "class_name": a.class_name}
                         for a in manifest.agents]
        got_bindings = [{"name": b.get("name"), "class_name": b.get("class_name")}
                        for b in bindings or [] if isinstance(b, dict)]
        if got_bindings != want_bindings:
            fmt = ", ".join(f"{b['name']}={b['class_name']}" for b in got_bindings) or "none"
            want = ", ".join(f"{b['name']}={b['class_name']}" for b in want_bindings) or "none"
            problems.append(f"its durable_objects bindings ({fmt}) differ from the agents "
                            f"({want})")
        if problems:
            raise Refusal(f"{CONFIG} is stale: " + "; ".join(problems) + ". Run `ayjnt build` "
                          "to regenerate it, then deploy again.", "config-stale", "ayjnt build")
        return path

    # ------------------------------------------------------------ run
    def run(self) -> int:
        from .engine import lockfile
        from .engine.scan import is_project, not_a_project, scan
        from .engine.snapshot import WorkTree

        tree = WorkTree(self.root)
        if not is_project(tree):  # before "✓ 0 agent(s)" could be said about the wrong folder
            raise not_a_project(os.path.abspath(self.root))
        if not self.args.force:
            self.preflight_git()
        manifest = scan(tree)
        lock_bytes = tree.read(lockfile.LOCKFILE_PATH)
        lock = lockfile.parse_lockfile(lock_bytes, tree.display(lockfile.LOCKFILE_PATH))
        d = lockfile.diff(lock, manifest)
        self.data.update(agents=len(manifest.agents), staged_migrations=len(lock["migrations"]),
                         pending=d.next_entry, moved=len(d.moved))
        if not self.args.force:
            self.pending_check(d)
            self.say_ok(f"{len(manifest.agents)} agent(s), {len(lock['migrations'])} staged "
                        "migrations")
        self.host_tools_check(manifest)
        if self.args.check:
            if self.args.json:
                emit_json({"preflight": self.data}, self.findings)
            return EXIT_OK
        deployed = lockfile.apply_diff(lock, d)
        guard = self.ledger_guard(deployed)  # even under --force, as the host-tools refusal
        try:
            if self.args.force and d.changes_lockfile:
                self.warn("force-pending", "--force: deploying a lockfile change that is NOT "
                          "committed (it goes into the generated config, "
                          ".ayjnt/migrations.json stays as it is):\n" + lockfile.format_diff(d))
            if not self.args.no_build:
                self.build(lock_bytes, d.changes_lockfile)
            config = self.verify_config(manifest, deployed)
            if self.args.json:
                emit_json({"preflight": self.data, "config": config}, self.findings)
                sys.stdout.flush()
            code = hand_off(config, self.args.forwarded, self.root, json_mode=self.args.json)
        except BaseException:
            guard.release()  # the deploy stopped before wrangler finished: drop the lease
            raise
        return guard.finish(code)

    def ledger_guard(self, deployed: Lockfile) -> DeployGuard:
        """The deploy ledger on origin: refuse a lockfile that drops a live entry, take the
        lease (see ayjnt_hooks/ledger.py)."""
        from .ledger import DeployGuard, Refused

        guard = DeployGuard(self.root, self.args.forwarded, override=self.args.override_ledger,
                            force=self.args.force, say_ok=self.say_ok, warn=self.warn)
        try:
            guard.before(deployed)
        except Refused as e:
            raise Refusal(e.message, e.code, e.hint) from None
        self.data["ledger"] = guard.data
        return guard


def project_bins(root: str) -> list[str]:
    """``node_modules/.bin`` of the project and of each folder above it, nearest first: where
    ``bun run``/``npm run`` find a project's own tools (a workspace root holds them too)."""
    found: list[str] = []
    folder = os.path.abspath(root)
    while True:
        candidate = os.path.join(folder, "node_modules", ".bin")
        if os.path.isdir(candidate):
            found.append(candidate)
        parent = os.path.dirname(folder)
        if parent == folder:
            return found
        folder = parent


def project_env(root: str) -> dict[str, str]:
    """The environment for the build and wrangler: the project's own bins first on PATH (so a
    `bun` devDependency runs ayjnt's `#!/usr/bin/env bun` scripts), as `bun run` does."""
    path = os.pathsep.join([*project_bins(root), os.environ.get("PATH", "")])
    return {**os.environ, "PATH": path}


def bun_launcher(root: str, purpose: str) -> list[str]:
    """``bunx``, or ``bun x``, from PATH or the project's node_modules/.bin."""
    import shutil

    path = project_env(root)["PATH"]
    for name, argv in (("bunx", ["bunx"]), ("bun", ["bun", "x"])):
        found = shutil.which(name, path=path)
        if found:
            return [found, *argv[1:]]
    raise Refusal(f"cannot run `{purpose}`: Bun is not installed (no bunx or bun on PATH, nor "
                  "in node_modules/.bin of the project or a folder above it). Install Bun from "
                  "https://bun.com or as a dev dependency (`npm i -D bun`), or set "
                  "AYJNT_BUILD_COMMAND / AYJNT_WRANGLER.", "launcher-missing",
                  "npm i -D bun")


def require_ayjnt(root: str) -> None:
    """`bunx ayjnt` without ayjnt installed asks the registry and fails with its 404: say
    what is missing instead."""
    import shutil

    if shutil.which("ayjnt", path=project_env(root)["PATH"]):
        return
    listed = any(folder for folder in _package_roots(root)
                 if "ayjnt" in _dependencies(os.path.join(folder, "package.json")))
    if listed:
        raise Refusal("ayjnt is listed in package.json but not installed (no "
                      "node_modules/.bin/ayjnt). Run `bun install`, then deploy again.",
                      "ayjnt-missing", "bun install")
    raise Refusal("ayjnt is not installed in this project: no node_modules/.bin/ayjnt and no "
                  "\"ayjnt\" in package.json. Add it with `bun add -d ayjnt` (or "
                  "`npm i -D ayjnt`), then deploy again.", "ayjnt-missing", "bun add -d ayjnt")


def _package_roots(root: str) -> list[str]:
    return [os.path.dirname(os.path.dirname(b)) for b in project_bins(root)] or \
        [os.path.abspath(root)]


def _dependencies(package_json: str) -> set[str]:
    import json

    try:
        with open(package_json, encoding="utf-8") as f:
            data = json.load(f)
    except (OSError, ValueError):
        return set()
    if not isinstance(data, dict):
        return set()
    names: set[str] = set()
    for key in ("dependencies", "devDependencies", "optionalDependencies"):
        value = data.get(key)
        if isinstance(value, dict):
            names.update(value)
    return names


def _read(path: str) -> bytes | None:
    from .engine.snapshot import read_regular_file

    return read_regular_file(path)


def _restore(root: str, path: str, data: bytes | None) -> None:
    if data is None:
        os.remove(path)  # (removes a link itself, never its target)
    else:
        from .safewrite import write_file

        write_file(root, LOCKFILE, data)  # (never through a symlink)


def hand_off(config: str, forwarded: Sequence[str], cwd: str, *, json_mode: bool = False
             ) -> int:
    """Spawn wrangler with inherited stdio, forward SIGINT/SIGTERM, return its exit code.

    With ``--json`` wrangler's stdout goes to stderr, so stdout holds only our JSON object."""
    import shlex
    import subprocess

    custom = os.environ.get("AYJNT_WRANGLER")
    launcher = shlex.split(custom) if custom else [*bun_launcher(cwd, "wrangler deploy"),
                                                   "wrangler"]
    argv = [*launcher, "deploy", "--config", config, *forwarded]
    try:
        child = subprocess.Popen(argv, cwd=cwd, env=project_env(cwd),
                                 stdout=sys.stderr if json_mode else None)
    except FileNotFoundError:
        raise Refusal(f"could not launch {launcher[0]} (from AYJNT_WRANGLER). Check the "
                      "command.", "launcher-missing") from None

    def forward(signum: int, _frame: FrameType | None) -> None:
        if child.poll() is None:
            child.send_signal(signum)

    previous = {s: signal.signal(s, forward) for s in (signal.SIGINT, signal.SIGTERM)}
    try:
        code = child.wait()
    finally:
        for s, handler in previous.items():
            signal.signal(s, handler)
    return 128 - code if code < 0 else code


# Requests for information: answered before anything else is looked at (as ayjnt answers
# --help), so none of them can reach a build or a deploy.
HELP_FLAGS = ("-h", "--help")
VERSION_FLAGS = ("-V", "--version", "-v")  # -v: wrangler's own alias for --version


def main(argv: Sequence[str] | None = None) -> int:
    use_js_text_output()
    argv = list(sys.argv[1:] if argv is None else argv)
    ours = argv[:argv.index("--")] if "--" in argv else argv
    flags = {a.split("=", 1)[0] for a in ours}
    if flags.intersection(HELP_FLAGS):
        sys.stdout.write(HELP)
        return EXIT_OK
    if flags.intersection(VERSION_FLAGS):
        from . import __version__

        sys.stdout.write(f"ayjnt-deploy (ayjnt-hooks) {__version__}\n")
        return EXIT_OK
    try:
        args = parse_args(argv)
    except UsageError as e:
        sys.stderr.write(f"ayjnt: {e}\n")
        return EXIT_USAGE
    deploy = Deploy(args)
    try:
        return deploy.run()
    except Refusal as e:
        deploy.findings.append(Finding(ERROR, e.code, e.message, hint=e.hint))
        if args.json:
            emit_json({"preflight": deploy.data}, deploy.findings)
        sys.stderr.write("\n" + paint(f"ayjnt: {e.message}", ERROR, sys.stderr) + "\n")
        _annotate(deploy.findings)
        return EXIT_FAILED
    except UsageError as e:
        sys.stderr.write(f"ayjnt: {e}\n")
        return EXIT_USAGE
    except AyjntError as e:
        error, finding = error_json("input", e.message, e.path, e.hint)
        deploy.findings.append(finding)
        if args.json:
            emit_json({"preflight": deploy.data, "error": error}, deploy.findings)
        sys.stderr.write("\n")
        print_error(e)
        _annotate(deploy.findings)
        return EXIT_CANNOT_CHECK
    except KeyboardInterrupt:
        return 130
    except Exception as e:
        report_internal_error(e)
        if args.json:
            error, finding = error_json("internal", internal_error_text(e))
            emit_json({"preflight": deploy.data, "error": error}, [*deploy.findings, finding])
        return EXIT_CANNOT_CHECK


def _annotate(findings: list[Finding]) -> None:
    from .report import github_annotations

    for line in github_annotations(findings):
        sys.stdout.write(line + "\n")


if __name__ == "__main__":
    raise SystemExit(main())
