"""The composite GitHub Action (action.yml): its steps' commands, run as the runner runs them
(bash, `${{ }}` expressions substituted, `if:` evaluated, $GITHUB_PATH honoured) against real
repos with a bare origin."""
from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from .conftest import sh, write_files
from .test_deploy import FAKE_BUILD, STUB, make_project
from .test_hooks import agent, build, make_repo

ROOT = Path(__file__).resolve().parent.parent
ACTION = yaml.safe_load((ROOT / "action.yml").read_text())


@pytest.fixture(scope="module")
def runner(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """A runner's environment after the action's install step, run once for the module."""
    temp = tmp_path_factory.mktemp("runner")
    action = temp / "action"
    for name in ("ayjnt_hooks", "examples"):
        shutil.copytree(ROOT / name, action / name, ignore=shutil.ignore_patterns("__pycache__"))
    for name in ("pyproject.toml", "README.md", "LICENSE", "action.yml"):
        shutil.copy(ROOT / name, action / name)
    env = {k: v for k, v in os.environ.items() if k not in ("VIRTUAL_ENV", "PYTHONPATH")}
    env.update(GITHUB_ACTIONS="true", GITHUB_ACTION_PATH=str(action), RUNNER_TEMP=str(temp),
               GITHUB_PATH=str(temp / "github_path"))
    (temp / "github_path").write_text("")
    env["PATH"] = os.pathsep.join(p for p in env["PATH"].split(os.pathsep)
                                  if Path(p) != Path(sys.executable).parent)
    return env


def run_action(runner: dict[str, str], cwd: Path, inputs: dict[str, str],
               extra_env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    """Every step whose `if:` holds, in order, stopping at the first failure."""
    values = {"run": "lockfile", "args": "", "working-directory": ".", "base": "", **inputs}
    env = dict(runner, **(extra_env or {}))
    out, code = "", 0
    for step in ACTION["runs"]["steps"]:
        condition = step.get("if")
        if condition and not _holds(condition, values):
            continue
        def expand(text: str) -> str:
            return re.sub(r"\$\{\{\s*inputs\.([\w-]+)\s*\}\}", lambda m: values[m.group(1)], text)
        step_env = dict(env, **{k: expand(v) for k, v in step.get("env", {}).items()})
        added = Path(runner["GITHUB_PATH"]).read_text().split()
        step_env["PATH"] = os.pathsep.join([*reversed(added), env["PATH"]])
        where = cwd / expand(step.get("working-directory", "."))
        assert step["shell"] == "bash"
        proc = subprocess.run(["bash", "--noprofile", "--norc", "-eo", "pipefail", "-c",
                               expand(step["run"])], cwd=where, env=step_env,
                              capture_output=True, text=True)
        out += proc.stdout + proc.stderr
        code = proc.returncode
        if code:
            break
    return subprocess.CompletedProcess([], code, out, "")


def _holds(condition: str, values: dict[str, str]) -> bool:
    expr = re.sub(r"inputs\.([\w-]+)", lambda m: repr(values[m.group(1)]), condition)
    expr = expr.replace("&&", " and ").replace("||", " or ")
    return bool(eval(expr, {"__builtins__": {}}))  # only the action's own `if:` strings


def test_action_lockfile_checks(runner: dict[str, str], tmp_path: Path) -> None:
    proj = make_repo(tmp_path)
    base = sh(proj, "git rev-parse HEAD").stdout.strip()
    proc = run_action(runner, proj, {"base": base})
    assert proc.returncode == 0, proc.stdout
    # a commit without its lockfile change: annotated and refused
    write_files(proj, {"agents/support/agent.ts": agent("SupportAgent")})
    sh(proj, "git add -A && git commit -qm stale")
    proc = run_action(runner, proj, {"base": base})
    assert proc.returncode == 1, proc.stdout
    assert "::error file=.ayjnt/migrations.json,title=ayjnt%3A pending-lockfile::" in proc.stdout
    # with it, it passes; a rewrite of base's history is refused
    build(proj)
    sh(proj, "git commit -qam fixed")
    assert run_action(runner, proj, {"base": base}).returncode == 0
    lock = proj / ".ayjnt/migrations.json"
    lock.write_text(lock.read_text().replace('"v1"', '"v0"', 1))
    sh(proj, "git commit -qam rewrite")
    proc = run_action(runner, proj, {"base": base})
    assert proc.returncode == 1, proc.stdout
    assert "title=ayjnt%3A lockfile-diverged::" in proc.stdout


def test_action_fetches_a_base_a_shallow_checkout_lacks(runner: dict[str, str],
                                                        tmp_path: Path) -> None:
    proj = make_repo(tmp_path)
    base = sh(proj, "git rev-parse HEAD").stdout.strip()
    lock = proj / ".ayjnt/migrations.json"
    lock.write_text(lock.read_text().replace("Z", "9Z", 1))  # rewrite entry #1's timestamp
    sh(proj, "git commit -qam retime && git push -q origin main")
    shallow = tmp_path / "ci"
    sh(tmp_path, f"git clone -q --depth=1 file://{tmp_path / 'origin.git'} {shallow}")
    proc = run_action(runner, shallow, {"base": base})
    assert proc.returncode == 1, proc.stdout
    assert "they differ in timestamp" in proc.stdout


def test_action_deploy(runner: dict[str, str], tmp_path: Path) -> None:
    proj = make_project(tmp_path)
    record = tmp_path / "record.json"
    env = {"AYJNT_BUILD_COMMAND": FAKE_BUILD, "AYJNT_WRANGLER": STUB,
           "STUB_RECORD": str(record), "GITHUB_REF_NAME": "main"}
    proc = run_action(runner, proj, {"run": "deploy", "args": "--dry-run"}, env)
    assert proc.returncode == 0, proc.stdout
    assert "✓ HEAD is the tip of origin/main" in proc.stdout
    assert '"--dry-run"' in record.read_text()
    write_files(proj, {"agents/support/agent.ts": agent("SupportAgent")})
    record.unlink()
    proc = run_action(runner, proj, {"run": "deploy"}, env)
    assert proc.returncode == 1 and "::error title=ayjnt%3A dirty-tree::" in proc.stdout
    assert not record.exists()


def test_action_refuses_an_unknown_run(runner: dict[str, str], tmp_path: Path) -> None:
    proc = run_action(runner, tmp_path, {"run": "deploy-please"})
    assert proc.returncode == 2 and "unknown input run: 'deploy-please'" in proc.stdout
