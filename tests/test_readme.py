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
    assert commands == ["pip install . && ayjnt-hooks migrate --cwd examples/chat-app",
                        "bash .ci/run"]


def test_ci_runs_the_readme_test_command() -> None:
    assert "The test command is `python -m pytest`" in README
    ci = (ROOT / ".ci" / "run").read_text().strip().splitlines()
    assert ci[-1] == "python -m pytest"
