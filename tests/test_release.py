"""The release: one version everywhere, a CHANGELOG entry for it, metadata a package index
shows, an sdist whose own tests run, and a tag that `pre-commit autoupdate` finds."""
from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import tarfile
from pathlib import Path

import pytest

from ayjnt_hooks import __version__

from .test_e2e_hooks import PACKAGE_FILES

ROOT = Path(__file__).resolve().parent.parent


def test_one_version_everywhere() -> None:
    changelog = (ROOT / "CHANGELOG.md").read_text()
    assert re.search(rf"^## {re.escape(__version__)}$", changelog, re.M)
    readme = (ROOT / "README.md").read_text()
    assert f"rev: v{__version__}" in readme
    assert f"ayjnt-hooks/ayjnt-hooks@v{__version__}" in readme
    pyproject = (ROOT / "pyproject.toml").read_text()
    assert 'dynamic = ["version"]' in pyproject and 'path = "ayjnt_hooks/__init__.py"' in pyproject


@pytest.fixture(scope="module")
def sdist(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("dist")
    proc = subprocess.run([sys.executable, "-m", "build", "--sdist", "--outdir", str(out),
                           str(ROOT)], capture_output=True, text=True)
    if proc.returncode != 0 and "No module named build" in proc.stderr:
        pytest.skip("python -m build is not installed (the test extras install it)")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    (archive,) = out.glob("ayjnt_hooks-*.tar.gz")
    assert archive.name == f"ayjnt_hooks-{__version__}.tar.gz"
    with tarfile.open(archive) as tar:
        tar.extractall(out)
    return out / f"ayjnt_hooks-{__version__}"


def test_sdist_metadata(sdist: Path) -> None:
    meta = (sdist / "PKG-INFO").read_text()
    for line in ("Project-URL: Source, https://github.com/ayjnt-hooks/ayjnt-hooks",
                 "Project-URL: Changelog, ", "Classifier: Programming Language :: Python :: 3.9",
                 "Classifier: Programming Language :: Python :: 3.13",
                 f"Version: {__version__}", "Requires-Python: >=3.9"):
        assert line in meta, meta


def test_sdist_holds_every_file_its_tests_use(sdist: Path) -> None:
    tracked = subprocess.run(["git", "ls-files"], cwd=ROOT, capture_output=True, text=True,
                             check=True).stdout.split()
    needed = [p for p in tracked if p.split("/")[0] in
              ("ayjnt_hooks", "tests", "examples", "bench", ".ci")
              or p in ("README.md", "CHANGELOG.md", "LICENSE", "action.yml", "pyproject.toml",
                       ".pre-commit-hooks.yaml", "ARCHITECTURE.md")]
    missing = [p for p in needed if not (sdist / p).exists()]
    assert not missing, missing


def test_the_sdists_own_tests_pass(sdist: Path) -> None:
    """The tests that failed in the old sdist (examples/, bench/ and .ci/ missing), run from
    the unpacked sdist against its own package."""
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    proc = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider",
                           "tests/test_readme.py", "tests/test_cli_migrate.py",
                           "tests/test_layout.py", "-k", "not works_as_pasted"],
                          cwd=sdist, capture_output=True, text=True, env=env)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-2000:]
    assert " passed" in proc.stdout and "failed" not in proc.stdout
    code = "import ayjnt_hooks, sys; print(ayjnt_hooks.__file__)"
    where = subprocess.run([sys.executable, "-c", code], cwd=sdist, capture_output=True,
                           text=True, env=env).stdout
    assert where.startswith(str(sdist)), where  # it tested the sdist's package, not ours


@pytest.mark.parametrize("manager", ["pre-commit", "prek"])
def test_autoupdate_finds_the_version_tag(tmp_path: Path, manager: str) -> None:
    """A clone of the hooks repository with the release tag: `autoupdate` moves `rev:` from
    a commit to `v<version>` (the tag the lead creates on main, see CHANGELOG)."""
    from .test_e2e_managers import tool

    exe = tool(manager)
    upstream = tmp_path / "upstream"
    upstream.mkdir()
    for name in PACKAGE_FILES:
        shutil.copy(ROOT / name, upstream / name)
    shutil.copytree(ROOT / "ayjnt_hooks", upstream / "ayjnt_hooks",
                    ignore=shutil.ignore_patterns("__pycache__"))
    env = {**os.environ, "PRE_COMMIT_HOME": str(tmp_path / "home"),
           "PREK_HOME": str(tmp_path / "prek-home")}

    def git(*args: str, cwd: Path = upstream) -> str:
        return subprocess.run(["git", *args], cwd=cwd, env=env, check=True,
                              capture_output=True, text=True).stdout.strip()
    git("init", "-q", "-b", "main")
    git("add", "-A")
    git("commit", "-qm", "before the release")
    old = git("rev-parse", "HEAD")
    git("commit", "-q", "--allow-empty", "-m", "release")
    git("tag", "-a", f"v{__version__}", "-m", f"ayjnt-hooks {__version__}")
    clone = tmp_path / "clone"
    git("clone", "-q", str(upstream), str(clone))
    consumer = tmp_path / "consumer"
    consumer.mkdir()
    git("init", "-q", cwd=consumer)
    config = consumer / ".pre-commit-config.yaml"
    config.write_text(f"repos:\n- repo: {clone}\n  rev: {old}\n  hooks:\n  - id: ayjnt\n")
    proc = subprocess.run([exe, "autoupdate"], cwd=consumer, env=env, capture_output=True,
                          text=True)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert f"rev: v{__version__}" in config.read_text(), proc.stdout + config.read_text()
