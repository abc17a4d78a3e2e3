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
    pytest.param(["check", "--stage", "pre-commit", "--fix", "--json"], id="check"),
    pytest.param(["pre-commit", "--cwd", ".", "--fix"], id="pre-commit"),
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


# What `status` costs to start: everything below is imported on the everyday path only when
# it is needed (each is milliseconds on every run; `re` and `signal` pull in `enum`).
STATUS_PATH_NEVER = ("typing", "re", "enum", "collections", "signal", "json", "binascii",
                     "argparse", "ayjnt_hooks.git.porcelain")
# an ayjnt project's usual ignore rules (plain names, one "*"), and what they ignore
PROJECT_IGNORES = "node_modules\n.ayjnt/*\n!.ayjnt/migrations.json\n*.tgz\n.env.*.local\n"


@pytest.mark.parametrize(("argv", "state", "expected"), [
    pytest.param(["status", "--json"], "clean", [], id="clean-json"),
    pytest.param(["status", "--porcelain"], "clean", [], id="clean-porcelain"),
    pytest.param(["status"], "clean", [], id="clean-text"),
    pytest.param(["status", "--json"], "ignored", [], id="ignored-build-output-json"),
    pytest.param(["status", "--json"], "ahead", [], id="ahead-a-walk-over-objects"),
    # the control: a dirty tree needs git's exact rules, so the check above can fail
    pytest.param(["status", "--json"], "dirty", ["ayjnt_hooks.git.porcelain"], id="dirty-json"),
])
def test_a_clean_status_imports_only_what_it_needs(tmp_path: object, argv: list[str],
                                                   state: str, expected: list[str]) -> None:
    import ast
    import subprocess
    import sys
    from pathlib import Path

    from tests.conftest import AGE, sh

    root = Path(str(tmp_path))
    sh(root, "git init -q --bare origin.git && git init -q -b main work && cd work && "
             "mkdir -p agents/a && echo x > agents/a/agent.ts && echo y > README.md && "
             f"printf '{PROJECT_IGNORES}' > .gitignore && "
             "printf '[core]\\n\\tx = \"a b\"\\n[remote \"origin\"]\\n' >> .git/config && "
             "git remote add up ../origin.git && git add -A && git commit -qm one && "
             "git push -q up main && git update-ref refs/remotes/origin/main HEAD" + AGE)
    if state == "dirty":
        (root / "work" / "README.md").write_text("changed\n")
    if state == "ahead":
        sh(root / "work", "git commit -q --allow-empty -m two && git commit -q --allow-empty "
                          "-m three" + AGE)
    if state == "ignored":
        sh(root / "work", "mkdir -p node_modules/x .ayjnt/dist && touch node_modules/x/i.js "
                          ".ayjnt/dist/w.jsonc p.tgz .env.dev.local")
    code = ("import sys; from ayjnt_hooks.cli import main; rc = main(sys.argv[1:]); "
            f"sys.stderr.write(repr(sorted(m for m in {STATUS_PATH_NEVER!r} "
            "if m in sys.modules)))")
    proc = subprocess.run([sys.executable, "-c", code, *argv], cwd=root / "work",
                          capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    loaded = ast.literal_eval(proc.stderr)
    dirty = state == "dirty"
    assert loaded == expected if not dirty else set(expected) <= set(loaded), loaded
    if argv[-1] == "--porcelain":
        assert proc.stdout == ""
    else:
        assert {"--json": f'"clean": {"false" if dirty else "true"}'}.get(
            argv[-1], "working tree: clean") in proc.stdout
        assert ('"ahead": 2' if state == "ahead" else '"ahead": 0') in proc.stdout or \
            argv[-1] != "--json"


# --- tab completion, generated from the parser, run by the real shells ---------------------

def _completion(shell: str) -> str:
    import io
    from contextlib import redirect_stdout

    out = io.StringIO()
    with redirect_stdout(out):
        assert main(("completion", shell)) == 0
    return out.getvalue()


def _shell(name: str) -> str:
    import os
    import shutil

    found = shutil.which(name)
    if found is None:
        if os.environ.get("AYJNT_HOOKS_REQUIRE_MANAGERS"):
            pytest.fail(f"{name} is not installed: .ci/run installs it")
        pytest.skip(f"{name} is not installed")
    return found


def _run(argv: list[str], script: str, tmp_path: object) -> list[str]:
    import subprocess

    proc = subprocess.run(argv, capture_output=True, text=True, cwd=str(tmp_path),
                          input=script)
    assert proc.returncode == 0, proc.stderr
    return proc.stdout.splitlines()


@pytest.mark.parametrize(("words", "expected"), [
    pytest.param("ayjnt-hooks ", set(COMMANDS), id="every-command"),
    pytest.param("ayjnt-hooks pre-", {"pre-commit", "pre-push"}, id="prefix"),
    pytest.param("ayjnt-hooks check --st", {"--stage"}, id="flag"),
    pytest.param("ayjnt-hooks check --stage ", {"pre-commit", "pre-push", "manual"},
                 id="choices"),
    pytest.param("ayjnt-hooks install --hook pre-p", {"pre-push"}, id="repeatable-choice"),
    pytest.param("ayjnt-hooks completion ", {"bash", "zsh", "fish"}, id="positional"),
    pytest.param("ayjnt-hooks migrate --cwd sub", {"subdir/"}, id="cwd-folders"),
    pytest.param("ayjnt-deploy --no-", {"--no-build"}, id="ayjnt-deploy"),
])
@pytest.mark.parametrize("shell", ["bash", "fish"])
def test_completion_in_the_real_shell(tmp_path: object, shell: str, words: str,
                                      expected: set[str]) -> None:
    import pathlib

    folder = pathlib.Path(str(tmp_path))
    (folder / "subdir").mkdir()
    (folder / "subfile").write_text("x")
    script = _completion(shell)
    if shell == "bash":
        parts = words.split(" ")
        function = "_ayjnt_deploy" if parts[0] == "ayjnt-deploy" else "_ayjnt_hooks"
        program = (script + "\nCOMP_WORDS=(" + " ".join(f"'{p}'" for p in parts) + ")\n"
                   f"COMP_CWORD={len(parts) - 1}\n{function}\n"
                   'printf "%s\\n" "${COMPREPLY[@]}"\n')
        got = _run([_shell("bash"), "--norc", "-s"], program, folder)
        got = [g + "/" if (folder / g).is_dir() else g for g in got]
    else:
        program = script + f"\ncomplete -C {words!r}\n"
        got = [line.split("\t")[0] for line in
               _run([_shell("fish"), "--no-config", "-c", "source -"], program, folder)]
        got = [g for g in got if not g.startswith("\t")]
    assert set(got) == expected, got


def test_zsh_completion_defines_every_command(tmp_path: object) -> None:
    """zsh's completion system needs a terminal; run the generated functions with
    _describe/_arguments stubbed to print what zsh would be given."""
    program = (_completion("zsh").replace("compdef _ayjnt_hooks", ": compdef")
               + "\n_describe() { print -rl -- ${(P)4} }\n_arguments() { print -rl -- \"$@\" }\n"
               "CURRENT=2; words=(ayjnt-hooks ''); _ayjnt_hooks\n"
               "CURRENT=3; words=(ayjnt-hooks check --stage); _ayjnt_hooks\n")
    got = _run([_shell("zsh"), "-f", "-s"], program, tmp_path)
    text = " ".join(got)
    for name in COMMANDS:
        assert f"{name}:" in text
    assert "--stage[which snapshot to check (default: inferred from git/pre-commit)]" \
           ":value:(pre-commit pre-push manual)" in got
    assert "--cwd[the ayjnt project folder]:folder:_files -/" in got
    assert "(-V --version)--version[show program's version number and exit]" in got
