from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path
from typing import Callable

import pytest

from ayjnt_hooks.cli import main

from .conftest import agent_src

Project = Callable[[dict[str, "str | bytes"]], Path]
EXAMPLE = Path(__file__).resolve().parent.parent / "examples" / "chat-app"
TS_RE = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z")
V1 = ('{"version":1,"migrations":[{"tag":"v1","timestamp":"t","new_sqlite_classes":["ChatAgent"]}],'
      '"classes":{"chat":{"agentId":"chat","className":"ChatAgent","firstTag":"v1"}}}')


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(argv)
    out, err = capsys.readouterr()
    return code, out, err


def test_example_project_text(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(capsys, "migrate", "--cwd", str(EXAMPLE))
    assert code == 0 and err == ""
    assert TS_RE.sub("<ts>", out) == (
        "Pending migration: v2 (<ts>)\n"
        "  + added:\n"
        "      SupportAgent (agentId: support) at /support\n"
        "\n"
        "Run `ayjnt build` to stage this in .ayjnt/migrations.json, then commit it before "
        "deploying.\n")


def test_check_and_json(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "migrate", "--cwd", str(EXAMPLE), "--check", "--json")
    assert code == 1
    data = json.loads(out)
    assert data["ok"] is False and data["staged"] is True and data["moved"] == []
    assert [a["routePath"] for a in data["agents"]] == ["/admin/users", "/chat", "/support"]
    assert data["agents"][2] == {
        "agentId": "support", "className": "SupportAgent", "baseClass": "Agent",
        "folderPath": "(public)/support", "routePath": "/support", "binding": "SUPPORT_AGENT",
        "sourceFile": "agents/(public)/support/agent.ts"}
    assert set(data["pending"]) == {"tag", "timestamp", "new_sqlite_classes"}
    assert data["pending"]["new_sqlite_classes"] == ["SupportAgent"]


def test_nothing_pending(project: Project, capsys: pytest.CaptureFixture[str]) -> None:
    root = project({"agents/chat/agent.ts": agent_src("ChatAgent"),
                    ".ayjnt/migrations.json": V1})
    assert run(capsys, "migrate", "--cwd", str(root), "--check") == (
        0, "No pending migrations.\n", "")
    code, out, _ = run(capsys, "migrate", "--cwd", str(root), "--json")
    assert code == 0
    assert json.loads(out) == {"ok": True, "agents": [{
        "agentId": "chat", "className": "ChatAgent", "baseClass": "Agent", "folderPath": "chat",
        "routePath": "/chat", "binding": "CHAT_AGENT", "sourceFile": "agents/chat/agent.ts"}],
        "pending": None, "moved": [], "staged": False, "findings": []}


def test_move_only(project: Project, capsys: pytest.CaptureFixture[str]) -> None:
    root = project({"agents/support/agent.ts": agent_src("ChatAgent"),
                    ".ayjnt/migrations.json": V1})
    code, out, _ = run(capsys, "migrate", "--cwd", str(root))
    assert code == 0
    assert out == ("  = moved (folder renamed; storage preserved, no migration):\n"
                   "      ChatAgent: agentId chat -> support\n\n"
                   "Run `ayjnt build` to stage this in .ayjnt/migrations.json, then commit it "
                   "before deploying.\n")
    code, out, _ = run(capsys, "migrate", "--cwd", str(root), "--json", "--check")
    assert code == 1
    data = json.loads(out)
    assert data["pending"] is None and data["staged"] is True
    assert data["moved"] == [{"fromAgentId": "chat", "toAgentId": "support",
                              "className": "ChatAgent"}]


def test_default_cwd_is_absolute(project: Project, capsys: pytest.CaptureFixture[str],
                                 monkeypatch: pytest.MonkeyPatch) -> None:
    root = project({"agents/x/agent.ts": "nothing here"})
    monkeypatch.chdir(root)
    code, out, err = run(capsys, "migrate")
    assert code == 3 and out == ""
    assert err.startswith(f"ayjnt: {root}/agents/x/agent.ts: could not find a default-exported")


@pytest.mark.parametrize(("files", "needle"), [
    pytest.param({".ayjnt/migrations.json": "{ not json"}, "is not valid JSON", id="json"),
    pytest.param({".ayjnt/migrations.json": ""}, "is not valid JSON", id="empty"),
    pytest.param({".ayjnt/migrations.json/x": "1"}, "is a folder", id="dir-as-lockfile"),
    pytest.param({".ayjnt/migrations.json": '{"version":1,"migrations":[],"classes":[]}'},
                 '"classes" must be an object', id="shape"),
    pytest.param({"agents": "file"}, "is a file, but ayjnt expects a folder", id="agents-file"),
])
def test_bad_input_exit_3(project: Project, capsys: pytest.CaptureFixture[str],
                          files: dict[str, str], needle: str) -> None:
    root = project(files)
    code, out, err = run(capsys, "migrate", "--cwd", str(root))
    assert code == 3 and out == "" and needle in err and "Traceback" not in err
    code, out, err = run(capsys, "migrate", "--cwd", str(root), "--json")
    assert code == 3 and err == ""
    data = json.loads(out)
    assert data["ok"] is False and needle in data["error"]["message"]
    assert data["error"]["kind"] == "input"


def test_shape_error_names_fix(project: Project, capsys: pytest.CaptureFixture[str]) -> None:
    root = project({".ayjnt/migrations.json": "[]"})
    code, _, err = run(capsys, "migrate", "--cwd", str(root))
    assert code == 3
    assert err.endswith("  fix: git checkout HEAD -- .ayjnt/migrations.json\n")


@pytest.mark.parametrize(("argv", "needle"), [
    pytest.param(("migrate", "--cwd", "/definitely/missing"),
                 "--cwd /definitely/missing is not a directory", id="missing"),
    pytest.param(("migrate", "--cwd=",), "--cwd requires a path", id="empty-value"),
    pytest.param(("migrate", "--cwd", "--json"), "expected one argument", id="no-value"),
    pytest.param(("migrate", "--bogus"), "unrecognized arguments", id="unknown-flag"),
    pytest.param((), "required", id="no-command"),
])
def test_usage_errors_exit_2(capsys: pytest.CaptureFixture[str], argv: tuple[str, ...],
                             needle: str) -> None:
    with pytest.raises(SystemExit) as info:
        main(argv)
    assert info.value.code == 2
    assert needle in capsys.readouterr().err


def test_internal_error_is_one_line(project: Project, capsys: pytest.CaptureFixture[str],
                                    monkeypatch: pytest.MonkeyPatch) -> None:
    root = project({"agents/a/agent.ts": agent_src("A")})

    def boom(*a: object, **k: object) -> None:
        raise RuntimeError("kaboom")
    monkeypatch.setattr("ayjnt_hooks.engine.scan.scan", boom)
    code, _, err = run(capsys, "migrate", "--cwd", str(root))
    assert code == 3
    assert err.startswith("ayjnt: internal error: RuntimeError in cli.py:")
    assert "Traceback" not in err and "kaboom" not in err  # (its text may quote a file)
    code, out, _ = run(capsys, "migrate", "--cwd", str(root), "--json")
    assert code == 3
    data = json.loads(out)  # a bug of ours, told apart from bad input
    assert data["error"]["kind"] == "internal"
    assert data["error"]["message"].startswith("internal error: RuntimeError in cli.py:")
    assert "kaboom" not in out
    assert data["findings"][0]["code"] == "internal-error"
    monkeypatch.setenv("AYJNT_HOOKS_DEBUG", "1")
    code, _, err = run(capsys, "migrate", "--cwd", str(root))
    assert code == 3 and "Traceback" in err


def test_python_dash_m_and_no_dulwich_import(tmp_path: Path) -> None:
    code = ("import sys, runpy; sys.argv=['ayjnt-hooks','migrate','--cwd',sys.argv[1]];\n"
            "try:\n runpy.run_module('ayjnt_hooks', run_name='__main__')\n"
            "except SystemExit as e:\n"
            " assert 'dulwich' not in sys.modules, 'migrate must not import dulwich'\n"
            " raise")
    proc = subprocess.run([sys.executable, "-c", code, str(EXAMPLE)], capture_output=True,
                          text=True)
    assert proc.returncode == 0, proc.stderr
    assert "SupportAgent (agentId: support) at /support" in proc.stdout


def test_console_script_outside_git(tmp_path: Path) -> None:
    import shutil
    exe = shutil.which("ayjnt-hooks", path=str(Path(sys.executable).parent))
    assert exe, "ayjnt-hooks console script not installed"
    (tmp_path / "agents").mkdir()
    proc = subprocess.run([exe, "migrate"], cwd=tmp_path, capture_output=True, text=True)
    assert (proc.returncode, proc.stdout) == (0, "No pending migrations.\n")


@pytest.mark.parametrize("argv", [["migrate"], ["migrate", "--check"], ["check-migrations"],
                                  ["check", "--stage", "manual"]])
def test_a_folder_that_is_not_a_project_is_said_so(tmp_path: Path, argv: list[str],
                                                    capsys: pytest.CaptureFixture[str]) -> None:
    """No agents/, no lockfile: "not an ayjnt project", exit 3 (before: "No pending
    migrations." about the wrong folder)."""
    (tmp_path / "src").mkdir()
    code, out, err = run(capsys, *argv, "--cwd", str(tmp_path))
    assert code == 3 and out == ""
    assert f"ayjnt: {tmp_path} is not an ayjnt project: it has no agents/ folder and no " \
           ".ayjnt/migrations.json" in err
    assert "fix: run it in the project folder, or pass --cwd" in err


def test_hundred_megabyte_lockfile(project: Project, capsys: pytest.CaptureFixture[str]) -> None:
    """Over the documented cap (8 MiB) a lockfile is refused unread; under it, read."""
    root = project({"agents/chat/agent.ts": agent_src("ChatAgent")})
    (root / ".ayjnt").mkdir()
    lock = root / ".ayjnt/migrations.json"
    lock.write_text(V1[:-1] + f',"pad":"{"x" * 7_000_000}"}}')
    assert run(capsys, "migrate", "--cwd", str(root), "--check")[0] == 0
    lock.write_text(V1[:-1] + f',"pad":"{"x" * 100_000_000}"}}')
    code, out, err = run(capsys, "migrate", "--cwd", str(root), "--check")
    assert code == 3 and out == ""
    assert f"{lock} is {lock.stat().st_size:,} bytes, over the 8 MiB" in err
    lock.write_bytes(b"\xff" * 1_000_000)
    code, out, err = run(capsys, "migrate", "--cwd", str(root))
    assert code == 3 and out == "" and "is not valid JSON" in err and len(err) < 2000


def test_the_one_command_parser_knows_every_command() -> None:
    """main() builds only the subparser it needs; COMMANDS must list every one of them."""
    import argparse

    from ayjnt_hooks.cli import COMMANDS, build_parser

    sub = next(a for a in build_parser()._actions if isinstance(a, argparse._SubParsersAction))
    assert tuple(sub.choices) == COMMANDS
    for name in COMMANDS:
        only = next(a for a in build_parser(name)._actions
                    if isinstance(a, argparse._SubParsersAction))
        assert tuple(only.choices) == (name,)
