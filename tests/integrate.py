"""A small team on real git: a bare origin, one clone, branches that each change agents and run
`ayjnt build`, and the four ways a branch lands on main (merge, rebase, pull --rebase,
cherry-pick) — with `rebase-lockfile` or the merge driver resolving the lockfile."""
from __future__ import annotations

import contextlib
import io
import json
import os
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from ayjnt_hooks.cli import main
from ayjnt_hooks.engine import jsjson
from ayjnt_hooks.engine import lockfile as lf
from ayjnt_hooks.engine.scan import scan
from ayjnt_hooks.engine.snapshot import WorkTree
from ayjnt_hooks.engine.soundness import soundness_problems

from .conftest import agent_src, write_files

LOCK = lf.LOCKFILE_PATH
METHODS = ("merge", "rebase", "pull-rebase", "cherry-pick")
# What each branch slot changes, so that branches never touch the same agent files.
SLOTS = (
    {"folder": "chat", "cls": "ChatAgent", "renamed": "TalkAgent", "moved": "talk",
     "new": ("xray", "XrayAgent")},
    {"folder": "notes", "cls": "NotesAgent", "renamed": "MemoAgent", "moved": "memo",
     "new": ("yankee", "YankeeAgent")},
    {"folder": "docs", "cls": "DocsAgent", "renamed": "GuideAgent", "moved": "guide",
     "new": ("zulu", "ZuluAgent")},
)
BASE_AGENTS: dict[str, str | bytes] = {"agents/chat/agent.ts": agent_src("ChatAgent"),
               "agents/notes/agent.ts": agent_src("NotesAgent"),
               "agents/docs/agent.ts": agent_src("DocsAgent"),
               "agents/admin/agent.ts": agent_src("AdminAgent", "admin_v1")}


def build(proj: Path) -> bool:
    """`ayjnt build`'s lockfile step (reference §2.6): write iff the diff changes it."""
    tree = WorkTree(str(proj))
    lock = lf.parse_lockfile(tree.read(LOCK))
    d = lf.diff(lock, scan(tree))
    if d.changes_lockfile:
        (proj / LOCK).parent.mkdir(exist_ok=True)
        (proj / LOCK).write_bytes(lf.serialize(lf.apply_diff(lock, d)))
    return d.changes_lockfile


def run_cli(*argv: str) -> tuple[int, str]:
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        code = main(argv)
    return code, out.getvalue()


class World:
    def __init__(self, tmp: Path, *, driver: bool) -> None:
        self.tmp = tmp
        self.driver = driver
        self.origin = tmp / "origin.git"
        self.work = tmp / "work"
        self.env = {**os.environ, "GIT_EDITOR": "true"}
        tmp.mkdir(parents=True, exist_ok=True)
        self.git_ok(tmp, "init", "-q", "--bare", "-b", "main", str(self.origin))
        self.git_ok(tmp, "clone", "-q", str(self.origin), str(self.work))
        write_files(self.work, {**BASE_AGENTS, ".gitignore": ".ayjnt/*\n!.ayjnt/migrations.json\n"})
        build(self.work)
        self.git("checkout", "-qb", "main")
        self.git("add", "-A")
        self.git("commit", "-qm", "init")
        if driver:
            code, out = run_cli("install", "--merge-driver", "--cwd", str(self.work))
            assert code == 0, out
            self.git("add", ".gitattributes")
            self.git("commit", "-qm", "lockfile merge driver")
        self.git("push", "-q", "origin", "main")
        self.root = self.sha("HEAD")
        self.log: list[str] = []

    # -- git
    def git_ok(self, cwd: Path, *args: str) -> str:
        proc = subprocess.run(("git", *args), cwd=cwd, capture_output=True, env=self.env)
        assert proc.returncode == 0, f"git {' '.join(args)}: {proc.stderr.decode()}"
        return proc.stdout.decode()

    def git(self, *args: str) -> str:
        return self.git_ok(self.work, *args)

    def try_git(self, *args: str) -> subprocess.CompletedProcess[bytes]:
        return subprocess.run(("git", *args), cwd=self.work, capture_output=True, env=self.env)

    def sha(self, rev: str) -> str:
        return self.git("rev-parse", rev).strip()

    def lock_at(self, rev: str) -> lf.Lockfile:
        proc = self.try_git("show", f"{rev}:{LOCK}")
        return lf.parse_lockfile(proc.stdout if proc.returncode == 0 else None)

    def unmerged(self) -> set[str]:
        return set(self.git("diff", "--name-only", "--diff-filter=U").split())

    # -- branches
    def branch(self, name: str, kind: str, slot: int, *, start: str | None = None) -> None:
        """A branch off ``start`` (the first main commit) with one change and its build."""
        s = SLOTS[slot]
        self.git("checkout", "-qB", name, start or self.root)
        self.change(kind, s)
        assert build(self.work) or kind == "edit"
        self.git("add", "-A")
        self.git("commit", "-qm", f"{name}: {kind} {s['folder']}")

    def change(self, kind: str, s: dict[str, Any]) -> None:
        folder = self.work / "agents" / s["folder"]
        if kind == "add":
            folder_name, cls = s["new"]
            write_files(self.work, {f"agents/{folder_name}/agent.ts": agent_src(cls)})
        elif kind == "rename":
            (folder / "agent.ts").write_text(agent_src(s["renamed"]))
        elif kind == "delete":
            self.git("rm", "-rq", f"agents/{s['folder']}")
        elif kind == "move":
            self.git("mv", f"agents/{s['folder']}", f"agents/{s['moved']}")
        elif kind == "edit":  # a change that does not touch the class
            (folder / "agent.ts").write_text(agent_src(s["cls"]) + "// edited\n")
        else:
            raise AssertionError(kind)

    # -- landing
    def land(self, name: str, method: str, *, deletes: bool = False) -> dict[str, Any]:
        """Integrate ``name`` with origin/main by ``method``, resolve the lockfile, push."""
        self.git("fetch", "-q", "origin")
        upstream_sha = self.sha("origin/main")
        upstream = self.lock_at("origin/main")
        tip = self.sha(name)
        if method == "cherry-pick":
            self.git("checkout", "-qB", f"land-{name}", "origin/main")
            proc = self.try_git("cherry-pick", tip)
        else:
            self.git("checkout", "-q", name)
            if method == "merge":
                proc = self.try_git("merge", "--no-edit", "origin/main")
            elif method == "rebase":
                proc = self.try_git("rebase", "origin/main")
            else:
                self.git("branch", "-q", "--set-upstream-to", "origin/main")
                proc = self.try_git("pull", "-q", "--rebase")
        info: dict[str, Any] = {"stopped": proc.returncode != 0, "resolved_by": None,
                                "driver_output": proc.stderr.decode()}
        flags = ("--fix-deletions",) if deletes else ()
        while proc.returncode != 0:
            unmerged = self.unmerged()
            assert unmerged == {LOCK}, (unmerged, proc.stderr.decode())
            code, out = run_cli("rebase-lockfile", "--cwd", str(self.work), *flags)
            assert code == 0, out
            info["resolved_by"] = "rebase-lockfile"
            info["output"] = out
            self.git("add", LOCK)
            cont = {"merge": ("commit", "--no-edit"), "cherry-pick": ("cherry-pick",
                                                                      "--continue")}
            proc = self.try_git(*cont.get(method, ("rebase", "--continue")))
        code, out = run_cli("rebase-lockfile", "--cwd", str(self.work), "--check", *flags)
        if code == 1:  # git merged the text without a conflict, but not soundly
            code, out = run_cli("rebase-lockfile", "--cwd", str(self.work), *flags)
            assert code == 0, out
            self.git("commit", "-qam", "rebase the lockfile")
            info["resolved_by"] = "rebase-lockfile after git"
        assert code == 0, out
        info.update(self.verify(upstream, upstream_sha))
        self.git("push", "-q", "origin", "HEAD:main")
        self.log.append(f"{name} by {method}: {info['resolved_by']}")
        return info

    def verify(self, upstream: lf.Lockfile, upstream_sha: str) -> dict[str, Any]:
        """Everything the issue asks of an integrated lockfile."""
        data = (self.work / LOCK).read_bytes()
        assert data == self.git_ok(self.work, "show", f"HEAD:{LOCK}").encode()
        result = lf.parse_lockfile(data)
        expected = expected_lockfile(upstream, self.work, result)
        assert result == expected, (json.dumps(result, indent=1),
                                    json.dumps(expected, indent=1))
        n = len(upstream["migrations"])
        # upstream entries byte for byte, tags never reused, sound
        for ours, theirs in zip(result["migrations"], upstream["migrations"]):
            assert jsjson.stringify(ours, 2) == jsjson.stringify(theirs, 2)
        tags = [m["tag"] for m in result["migrations"]]
        assert len(tags) == len(set(tags))
        assert not set(tags[n:]) & {m["tag"] for m in upstream["migrations"]}
        assert soundness_problems(result) == []
        # the hooks: sound, nothing pending, and the push is append-only
        for argv in (("check-lockfile", "--stage", "manual"),
                     ("check-migrations", "--stage", "manual")):
            code, out = run_cli(*argv, "--cwd", str(self.work))
            assert code == 0, out
        with pushing(self.sha("HEAD"), upstream_sha):
            for hook in ("check-lockfile", "check-migrations"):
                code, out = run_cli(hook, "--stage", "pre-push", "--cwd", str(self.work))
                assert code == 0, out
        return {"bytes_equal": data == lf.serialize(expected), "result": result}


@contextlib.contextmanager
def pushing(to_sha: str, from_sha: str) -> Iterator[None]:
    saved = {k: os.environ.get(k) for k in ("PRE_COMMIT_TO_REF", "PRE_COMMIT_FROM_REF")}
    os.environ["PRE_COMMIT_TO_REF"], os.environ["PRE_COMMIT_FROM_REF"] = to_sha, from_sha
    try:
        yield
    finally:
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


def expected_lockfile(upstream: lf.Lockfile, proj: Path, actual: lf.Lockfile) -> lf.Lockfile:
    """What `ayjnt build` writes from the upstream lockfile for the tree at ``proj`` (the new
    entry's timestamp taken from ``actual``: a build stamps its own time)."""
    d = lf.diff(upstream, scan(WorkTree(str(proj))))
    if d.next_entry is not None and len(actual["migrations"]) > len(upstream["migrations"]):
        d.next_entry["timestamp"] = actual["migrations"][-1].get("timestamp")
    return lf.apply_diff(upstream, d)
