"""The ``ayjnt-hooks`` command line itself: versions, completion."""
from __future__ import annotations

import pytest

from ayjnt_hooks import __version__
from ayjnt_hooks.cli import COMMANDS, main


@pytest.mark.parametrize("command", COMMANDS)
def test_every_subcommand_has_version(capsys: pytest.CaptureFixture[str], command: str) -> None:
    with pytest.raises(SystemExit) as exc:
        main((command, "--version"))
    assert exc.value.code == 0
    assert capsys.readouterr().out == f"ayjnt-hooks {__version__}\n"
