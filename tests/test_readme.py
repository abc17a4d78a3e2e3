"""README stays true: every hook id is documented, and .ci/run runs README's test command."""
from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
README = (ROOT / "README.md").read_text()


def test_every_hook_id_is_documented() -> None:
    ids = re.findall(r"^- id: (\S+)$", (ROOT / ".pre-commit-hooks.yaml").read_text(), re.M)
    assert ids == ["ayjnt-migrations", "ayjnt-lockfile", "ayjnt"]
    for hook_id in ids:
        assert f"id: {hook_id}" in README


def test_readme_opens_with_the_two_commands() -> None:
    first_block = README.split("```sh\n", 1)[1].split("```", 1)[0]
    commands = [line for line in first_block.splitlines() if line and not line.startswith("#")]
    assert commands == [FIRST_COMMAND, "bash .ci/run"]


FIRST_COMMAND = ("python3 -m venv /tmp/ayjnt-hooks && /tmp/ayjnt-hooks/bin/pip install -q . && "
                 "/tmp/ayjnt-hooks/bin/ayjnt-hooks migrate --cwd examples/chat-app")


def test_the_first_command_works_as_pasted(tmp_path: Path) -> None:
    """README's first command, run by bash exactly as written, in a copy of the source tree
    and with its virtualenv moved into tmp_path (the command's text is checked above)."""
    import os
    import shutil
    import subprocess

    src = tmp_path / "src"
    for name in ("ayjnt_hooks", "examples"):
        shutil.copytree(ROOT / name, src / name, ignore=shutil.ignore_patterns("__pycache__"))
    for name in ("pyproject.toml", "README.md", "LICENSE"):
        shutil.copy(ROOT / name, src / name)
    command = FIRST_COMMAND.replace("/tmp/ayjnt-hooks", str(tmp_path / "venv"))
    env = {k: v for k, v in os.environ.items() if k not in ("VIRTUAL_ENV", "PYTHONPATH")}
    proc = subprocess.run(["bash", "-c", command], cwd=src, capture_output=True, text=True,
                          env=env)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert proc.stdout.startswith("Pending migration: v2 ("), proc.stdout
    assert "SupportAgent (agentId: support) at /support" in proc.stdout


def test_ci_runs_the_readme_test_command() -> None:
    assert "The test command is `python -m pytest`" in README
    ci = (ROOT / ".ci" / "run").read_text().strip().splitlines()
    assert ci[-1] == "python -m pytest"


def test_the_completion_commands_work_as_pasted_in_a_fresh_home(tmp_path: Path) -> None:
    """The bash and fish lines of "Tab completion", run by bash as written with a HOME that
    has neither completions folder yet (zsh's line writes into the shell's own $fpath)."""
    import os
    import subprocess
    import sys

    block = README.split("## Tab completion", 1)[1].split("```sh\n", 1)[1].split("```", 1)[0]
    lines = [line for line in block.splitlines() if line and "zsh" not in line]
    assert any("completion bash" in line for line in lines)
    home = tmp_path / "home"
    home.mkdir()
    env = {**os.environ, "HOME": str(home),
           "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}"}
    for line in lines:
        proc = subprocess.run(["bash", "-c", line], env=env, capture_output=True, text=True)
        assert proc.returncode == 0, (line, proc.stderr)
    assert "complete -F" in (home / ".local/share/bash-completion/completions/ayjnt-hooks"
                             ).read_text()
    assert "complete -c ayjnt-hooks" in (home / ".config/fish/completions/ayjnt-hooks.fish"
                                         ).read_text()
