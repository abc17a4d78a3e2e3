"""Odd input through every output: text, ``--json``, GitHub annotations and the ``--fix`` writer.

Issue #11 B and D, issue #10 §4. Each expected answer was checked by running ayjnt 0.5.9's own
``scan.ts``/``migrations.ts`` under Bun 1.4.5 on the same project.
"""
from __future__ import annotations

import json
import os
import re
from pathlib import Path
from typing import Callable

import pytest

from ayjnt_hooks.cli import main

from .conftest import sh
from .test_hooks import make_repo

Project = Callable[[dict[str, "str | bytes"]], Path]
TS_RE = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z")
A_AGENT = "export default class AAgent extends Agent {}"
LONE = (b'{"version":1,"migrations":[{"tag":"v1"}],"classes":{"a":{"agentId":"a",'
        b'"className":"\\ud800","firstTag":"v1"}}}')  # the JSON escape, written literally


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(argv)
    out, err = capsys.readouterr()
    return code, out, err


# --- B. a leading UTF-8 BOM -----------------------------------------------------------------

BOM_LOCK = b'\xef\xbb\xbf{"version":1,"migrations":[],"classes":{}}'
# What ayjnt's build writes for that project (applyDiff + JSON.stringify(x, null, 2) + "\n",
# Bun.write): no BOM. <ts> stands for the build's timestamp.
BUILT = """{
  "version": 1,
  "migrations": [
    {
      "tag": "v1",
      "timestamp": "<ts>",
      "new_sqlite_classes": [
        "AAgent"
      ]
    }
  ],
  "classes": {
    "a": {
      "agentId": "a",
      "className": "AAgent",
      "firstTag": "v1"
    }
  }
}
"""


def test_issue11_b_bom_lockfile_is_read(project: Project,
                                        capsys: pytest.CaptureFixture[str]) -> None:
    root = project({"agents/a/agent.ts": A_AGENT, ".ayjnt/migrations.json": BOM_LOCK})
    code, out, err = run(capsys, "migrate", "--cwd", str(root), "--json")
    assert (code, err) == (0, "")
    pending = json.loads(out)["pending"]
    assert (pending["tag"], pending["new_sqlite_classes"]) == ("v1", ["AAgent"])


def test_issue11_b_fix_writes_what_ayjnt_build_writes_without_the_bom(
        project: Project, capsys: pytest.CaptureFixture[str]) -> None:
    """ayjnt rewrites the whole file with Bun.write(JSON.stringify(...)): the BOM is dropped."""
    root = project({"agents/a/agent.ts": A_AGENT, ".ayjnt/migrations.json": BOM_LOCK})
    code, _, _ = run(capsys, "check-migrations", "--stage", "manual", "--fix", "--cwd", str(root))
    assert code == 0  # a manual run that fixed it
    written = (root / ".ayjnt/migrations.json").read_bytes()
    assert not written.startswith(b"\xef\xbb\xbf")
    assert TS_RE.sub("<ts>", written.decode()) == BUILT


def test_issue11_b_bom_in_the_index_and_the_pushed_commit(
        tmp_path: Path, capsys: pytest.CaptureFixture[str],
        monkeypatch: pytest.MonkeyPatch) -> None:
    proj = make_repo(tmp_path)
    monkeypatch.chdir(proj)
    lock = proj / ".ayjnt/migrations.json"
    lock.write_bytes(b"\xef\xbb\xbf" + lock.read_bytes())
    sh(proj, "git add .ayjnt/migrations.json")
    for command in ("check-migrations", "check-lockfile"):
        assert run(capsys, command, "--stage", "pre-commit")[:2] == (0, "")
    sh(proj, "git commit -qm bom")
    for command in ("check-migrations", "check-lockfile"):
        assert run(capsys, command, "--stage", "pre-push")[:2] == (0, "")


# --- D. a lone surrogate in a lockfile class name -------------------------------------------


def test_issue11_d_lone_surrogate_text(project: Project,
                                       capsys: pytest.CaptureFixture[str]) -> None:
    """Bun's console writes the unpaired code unit as U+FFFD."""
    root = project({"agents/a/agent.ts": A_AGENT, ".ayjnt/migrations.json": LONE})
    code, out, err = run(capsys, "migrate", "--cwd", str(root))
    assert (code, err) == (0, "")
    assert TS_RE.sub("<ts>", out) == (
        "Pending migration: v2 (<ts>)\n  ~ renamed:\n      \ufffd -> AAgent (agentId: a)\n\n"
        "Run `ayjnt build` to stage this in .ayjnt/migrations.json, then commit it before "
        "deploying.\n")


def test_issue11_d_lone_surrogate_json(project: Project,
                                       capsys: pytest.CaptureFixture[str]) -> None:
    """ayjnt: no error, renamed_classes [{"from": "\\ud800", "to": "AAgent"}], written as
    JSON.stringify writes it (an escape)."""
    root = project({"agents/a/agent.ts": A_AGENT, ".ayjnt/migrations.json": LONE})
    code, out, _ = run(capsys, "migrate", "--cwd", str(root), "--json")
    assert code == 0
    assert '"from": "\\ud800"' in out
    assert json.loads(out)["pending"]["renamed_classes"] == [{"from": "\ud800", "to": "AAgent"}]


def test_issue11_d_lone_surrogate_hooks_annotations_and_fix(
        project: Project, capsys: pytest.CaptureFixture[str],
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GITHUB_ACTIONS", "true")
    root = project({"agents/a/agent.ts": A_AGENT, ".ayjnt/migrations.json": LONE})
    code, out, _ = run(capsys, "check-lockfile", "--stage", "manual", "--cwd", str(root))
    assert code == 1  # classes lists the class, no migration creates it: in the annotation too
    assert "\"classes\" lists \ufffd but no migration creates it" in out
    assert re.search("^::error file=.ayjnt/migrations.json.*lists \ufffd but", out, re.M)
    code, out, _ = run(capsys, "check-lockfile", "--stage", "manual", "--json", "--cwd", str(root))
    assert code == 1 and "lists \ud800 but" in json.loads(out)["findings"][0]["message"]

    code, out, _ = run(capsys, "check-migrations", "--stage", "manual", "--cwd", str(root))
    assert code == 1 and "\ufffd -> AAgent (agentId: a)" in out and "::error " in out
    code, out, _ = run(capsys, "check-migrations", "--stage", "manual", "--fix", "--cwd", str(root))
    assert code == 0 and "\ufffd -> AAgent (agentId: a)" in out
    written = (root / ".ayjnt/migrations.json").read_bytes()
    assert b'"from": "\\ud800"' in written and b'"className": "AAgent"' in written
    assert json.loads(written)["migrations"][1]["renamed_classes"] == [
        {"from": "\ud800", "to": "AAgent"}]


# --- issue #10 §4: a folder name that is not UTF-8 ------------------------------------------
# Bun's glob yields the name with U+FFFD for the bad byte, then Bun.file(...).text() fails with
# ENOENT: `ayjnt build` cannot run on such a project. We refuse it (exit 3) with the bytes shown.

BAD = "agents/x\\xffy/agent.ts"


def _bad_folder(root: Path) -> None:
    folder = os.path.join(os.fsencode(root), b"agents", b"x\xffy")
    os.makedirs(folder)
    with open(os.path.join(folder, b"agent.ts"), "w") as f:
        f.write(A_AGENT)


def test_issue10_4_non_utf8_folder_in_the_working_tree(
        project: Project, capsys: pytest.CaptureFixture[str]) -> None:
    root = project({"agents/a/agent.ts": A_AGENT})
    _bad_folder(root)
    code, out, err = run(capsys, "migrate", "--cwd", str(root))
    assert (code, out) == (3, "")
    assert err.startswith(f"ayjnt: {root}/{BAD}: the folder name is not valid UTF-8.")
    code, out, _ = run(capsys, "migrate", "--cwd", str(root), "--json")
    assert code == 3
    assert json.loads(out)["error"]["kind"] == "input"
    assert json.loads(out)["error"]["path"] == BAD


@pytest.mark.parametrize(("stage", "shown"), [
    pytest.param("pre-commit", f"{BAD} (staged)", id="index"),
    pytest.param("pre-push", f"{BAD} (in ", id="pushed-commit"),
])
def test_issue10_4_non_utf8_folder_in_git(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                          monkeypatch: pytest.MonkeyPatch, stage: str,
                                          shown: str) -> None:
    proj = make_repo(tmp_path)
    monkeypatch.chdir(proj)
    _bad_folder(proj)
    sh(proj, "git add -A" + (" && git commit -qm bad" if stage == "pre-push" else ""))
    code, out, err = run(capsys, "check-migrations", "--stage", stage)
    assert (code, out) == (3, "")
    assert err.startswith(f"ayjnt: {shown}") and "is not valid UTF-8" in err
    code, out, _ = run(capsys, "check-migrations", "--stage", stage, "--json")
    assert code == 3 and json.loads(out)["error"]["kind"] == "input"


# --- C. no agents/ folder -------------------------------------------------------------------


def test_issue11_c_workflows_without_agents_folder(project: Project,
                                                   capsys: pytest.CaptureFixture[str]) -> None:
    root = project({"workflows/w/workflow.ts": "export default class Ai extends AgentWorkflow {}"})
    assert run(capsys, "migrate", "--cwd", str(root)) == (0, "No pending migrations.\n", "")
    (root / "agents").mkdir()  # with an agents/ folder, even an empty one, ayjnt checks them
    code, _, err = run(capsys, "migrate", "--cwd", str(root))
    assert code == 3 and 'derives the binding name "AI"' in err
