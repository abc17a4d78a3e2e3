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


@pytest.mark.parametrize("argv", [
    pytest.param(["status"], id="status"),
    pytest.param(["status", "--json", "--porcelain", "--json"], id="status-flags"),
    pytest.param(["status", "--cwd", "."], id="cwd"),
    pytest.param(["status", "--cwd=.", "--cwd", "tests"], id="cwd-twice"),
    pytest.param(["check-migrations", "--stage", "pre-push", "--fix", "--fix-deletions"],
                 id="check-migrations"),
    pytest.param(["check-lockfile", "--stage=manual", "--json"], id="check-lockfile"),
])
def test_plain_spellings_parse_as_argparse_parses_them(argv: list[str]) -> None:
    from ayjnt_hooks.cli import build_parser, plain_args

    plain = plain_args(argv)
    assert plain is not None
    assert vars(plain) == vars(build_parser(argv[0]).parse_args(argv))


@pytest.mark.parametrize("argv", [
    pytest.param([], id="nothing"),
    pytest.param(["migrate"], id="other-command"),
    pytest.param(["status", "--js"], id="abbreviation"),
    pytest.param(["status", "--cwd"], id="cwd-without-value"),
    pytest.param(["status", "--cwd", "--json"], id="cwd-then-flag"),
    pytest.param(["status", "--cwd", "/no/such/folder"], id="cwd-missing"),
    pytest.param(["status", "--cwd="], id="cwd-empty"),
    pytest.param(["status", "--json=1"], id="flag-with-value"),
    pytest.param(["status", "--", "x"], id="double-dash"),
    pytest.param(["status", "-h"], id="help"),
    pytest.param(["check-lockfile", "--stage", "commit"], id="bad-stage"),
    pytest.param(["check-lockfile", "--fix"], id="flag-of-another-command"),
])
def test_everything_else_goes_to_argparse(argv: list[str]) -> None:
    from ayjnt_hooks.cli import plain_args

    assert plain_args(argv) is None


def test_status_runs_without_importing_argparse() -> None:
    import subprocess
    import sys

    code = ("import sys; from ayjnt_hooks.cli import main; main(['status', '--json']); "
            "sys.stderr.write(str('argparse' in sys.modules))")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert proc.stderr == "False"
