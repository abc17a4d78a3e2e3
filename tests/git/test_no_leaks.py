"""No message quotes what a git file holds: errors name the file and the line, never the text.

A secret marker is planted in each input the reader parses — an included config file shaped
like ``/etc/shadow``, a config line, a config value, a loose ref, ``HEAD``, ``packed-refs``,
``shallow``, ``commondir``, the index, a loose object — so that parsing fails right there. Every
gate must refuse (exit 3) without the marker appearing on stdout, stderr or in JSON.
"""
from __future__ import annotations

import zlib
from pathlib import Path

import pytest

from ayjnt_hooks.cli import main as cli_main
from ayjnt_hooks.deploy import main as deploy_main

from .test_refusals import loose_path, make_project

SECRET = "s3cr3t-Marker-9f2c"


def plant(work: Path, tmp_path: Path, where: str) -> None:
    git = work / ".git"
    if where == "included-file":
        shadow = tmp_path / "shadow"
        shadow.write_text(f"root:{SECRET}:19000:0:99999:7:::\n")
        with open(git / "config", "a") as f:
            f.write(f"[include]\n\tpath = {shadow}\n")
    elif where == "config-line":
        with open(git / "config", "a") as f:
            f.write(f"{SECRET}: not a key\n")
    elif where == "config-value":
        with open(git / "config", "a") as f:
            f.write(f"[core]\n\tfilemode = {SECRET}\n")
    elif where == "config-quote":
        with open(git / "config", "a") as f:
            f.write(f'[core]\n\tx = "{SECRET}\n')
    elif where == "format-version":
        with open(git / "config", "a") as f:
            f.write(f"[core]\n\trepositoryformatversion = {SECRET}\n")
    elif where == "loose-ref":
        (git / "refs" / "heads" / "main").write_text(f"{SECRET}\n")
    elif where == "head":
        (git / "HEAD").write_text(f"ref: {SECRET}\n")
    elif where == "head-garbage":
        (git / "HEAD").write_text(f"{SECRET}\n")
    elif where == "packed-refs":
        (git / "packed-refs").write_text(f"# pack-refs with: peeled\n{SECRET} refs/heads/x\n")
    elif where == "packed-refs-bytes":
        (git / "packed-refs").write_bytes(f"{SECRET}\xff refs/x\n".encode("latin-1"))
    elif where == "shallow":
        (git / "shallow").write_text(f"{SECRET}\n")
    elif where == "index":
        data = (git / "index").read_bytes()
        (git / "index").write_bytes(data[:12] + SECRET.encode() * 4 + data[12 + 4 * 18:])
    elif where == "loose-commit":
        path = loose_path(work, "HEAD")
        path.chmod(0o644)
        path.write_bytes(zlib.compress(f"commit 40\0tree {SECRET}\n".encode()))
    elif where == "loose-commit-valid-hash":
        # a well-formed loose object whose commit body is nonsense: it hashes right, so only
        # the parse of the commit can fail
        import hashlib

        body = f"tree {SECRET}{SECRET}xxxx\n".encode()
        raw = b"commit %d\0" % len(body) + body
        sha = hashlib.sha1(raw).hexdigest()
        obj = git / "objects" / sha[:2] / sha[2:]
        obj.parent.mkdir(exist_ok=True)
        obj.write_bytes(zlib.compress(raw))
        (git / "refs" / "heads" / "main").write_text(sha + "\n")
    elif where == "alternates":
        (git / "objects" / "info").mkdir(exist_ok=True)
        (git / "objects" / "info" / "alternates").write_text(f'"{SECRET}\n')
    elif where == "gitfile":
        from ..conftest import write_files
        from .test_refusals import built_lockfile

        write_files(work / "app", {"agents/chat/agent.ts": "export default class C {}\n",
                                   ".ayjnt/migrations.json": built_lockfile(),
                                   ".git": f"gitdir {SECRET}\n"})
    else:
        raise AssertionError(where)


PLACES = ["included-file", "config-line", "config-value", "config-quote", "format-version",
          "loose-ref", "head", "head-garbage", "packed-refs", "packed-refs-bytes", "shallow",
          "index", "loose-commit", "loose-commit-valid-hash", "alternates", "gitfile"]


@pytest.mark.parametrize("where", PLACES)
def test_no_message_quotes_a_file(tmp_path: Path, where: str,
                                  capsys: pytest.CaptureFixture[str],
                                  monkeypatch: pytest.MonkeyPatch) -> None:
    work = make_project(tmp_path)
    plant(work, tmp_path, where)
    cwd = work / "app" if where == "gitfile" else work
    runs = [
        lambda: cli_main(("status", "--json", "--cwd", str(cwd))),
        lambda: cli_main(("status", "--cwd", str(cwd))),
        lambda: deploy_main(("--check", "--cwd", str(cwd))),
        lambda: deploy_main(("--check", "--json", "--cwd", str(cwd))),
        lambda: cli_main(("check-migrations", "--stage", "pre-push", "--cwd", str(cwd))),
        lambda: cli_main(("check-lockfile", "--stage", "pre-commit", "--cwd", str(cwd))),
    ]
    monkeypatch.setenv("PRE_COMMIT_TO_REF", "HEAD")
    codes = []
    for run in runs:
        codes.append(run())
        out = capsys.readouterr()
        assert SECRET not in out.out + out.err, (where, out.out, out.err)
        assert SECRET.lower() not in (out.out + out.err).lower()
        assert "internal error" not in out.err and "Traceback" not in out.err
    assert 3 in codes  # (each place is damage some gate reads)
