"""The fast clean-tree proof on the unusual inputs it must give up on (and still be right)."""
from __future__ import annotations

import os
import sys
import threading
from pathlib import Path

import pytest

from ayjnt_hooks.git.cleanproof import proven_clean
from ayjnt_hooks.git.repo import discover
from ayjnt_hooks.git.status import status

from ..conftest import AGE, forced_fork, git_porcelain, sh


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    sh(tmp_path, "git init -q -b main . && mkdir -p d && echo a > a.txt && echo b > d/b.txt "
                 "&& git add . && git commit -qm init" + AGE.replace("-10", "-20"))
    return tmp_path


@pytest.mark.parametrize("version", [2, 4])
def test_long_names_and_long_shared_prefixes(repo: Path, monkeypatch: pytest.MonkeyPatch,
                                             version: int) -> None:
    """Index v4 drops more than 127 bytes of the previous path (a two-byte varint); a path of
    4095+ bytes does not fit the 12-bit length field, so the proof leaves it to the full
    check."""
    long_dir = "x" * 200
    sh(repo, f"mkdir -p {long_dir}/{long_dir}/{long_dir} && echo 1 > {long_dir}/{long_dir}/f "
             f"&& echo 2 > {long_dir}/{long_dir}/{long_dir}/g && echo 3 > z.txt && git add . "
             f"&& git commit -qm long && git update-index --index-version {version}" + AGE)
    forks = forced_fork(monkeypatch, 2)
    assert proven_clean(discover(str(repo)))
    assert forks == [1]
    # An entry whose path is longer than any the file system takes: only the index holds it.
    long_path = "/".join(str(i % 10) * 250 for i in range(17))
    sh(repo, f"git update-index --add --cacheinfo 100644,$(git hash-object -w a.txt),{long_path}"
             f" && git update-index --index-version {version}")
    assert not proven_clean(discover(str(repo)))
    assert status(discover(str(repo))).lines == git_porcelain(repo) != []


@pytest.mark.parametrize("damage", ["truncated", "bad-signature", "no-entries"])
def test_a_damaged_or_empty_index_is_not_proven(repo: Path, damage: str) -> None:
    index = repo / ".git" / "index"
    data = index.read_bytes()
    if damage == "truncated":
        index.write_bytes(data[:100])
    elif damage == "bad-signature":
        index.write_bytes(b"XXXX" + data[4:])
    else:
        sh(repo, "git rm -rq --cached .")
    assert not proven_clean(discover(str(repo)))


def test_truncated_index_with_a_worker(repo: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    index = repo / ".git" / "index"
    index.write_bytes(index.read_bytes()[:100])
    forced_fork(monkeypatch, 2)
    assert not proven_clean(discover(str(repo)))


def test_platform_without_nofollow_is_left_to_the_full_check(
        repo: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delattr(os, "O_NOFOLLOW")
    assert not proven_clean(discover(str(repo)))
    assert status(discover(str(repo))).lines == []


@pytest.mark.parametrize("why", ["macos", "threads", "fork-fails"])
def test_no_worker_when_forking_is_unsafe_or_fails(repo: Path, monkeypatch: pytest.MonkeyPatch,
                                                   why: str) -> None:
    forks = forced_fork(monkeypatch, 2)
    stop = threading.Event()
    helper = threading.Thread(target=stop.wait)
    if why == "macos":
        monkeypatch.setattr(sys, "platform", "darwin")
    elif why == "threads":
        helper.start()
    else:
        def failing_fork() -> int:
            forks.append(1)
            raise OSError("no more processes")
        monkeypatch.setattr(os, "fork", failing_fork)
    try:
        assert proven_clean(discover(str(repo)))  # one process does it all
    finally:
        stop.set()
        if helper.is_alive():
            helper.join()
    assert forks == ([1] if why == "fork-fails" else [])


def test_missing_worktree_or_unreadable_index(repo: Path, tmp_path: Path) -> None:
    r = discover(str(repo))
    (repo / ".git" / "index").chmod(0)
    if os.access(repo / ".git" / "index", os.R_OK):  # root reads anything: use a folder
        (repo / ".git" / "index").unlink()
        (repo / ".git" / "index").mkdir()
    assert not proven_clean(r)
    r.worktree = str(tmp_path / "gone")
    assert not proven_clean(r)


def _racy(name: str) -> str:
    return f" && m=$(stat -c %y {name}) && touch -d \"$m\" .git/index"


BINARY = "printf 'P\\r\\n\\0x\\r\\n' > img.bin && git add img.bin && git commit -qm b"


@pytest.mark.parametrize(("script", "proven", "git_sees_a_change"), [
    pytest.param("printf '* text=auto eol=lf\\n' > .gitattributes && git add .gitattributes && "
                 + BINARY + _racy("img.bin"), True, False, id="binary-crlf-text-auto"),
    pytest.param(BINARY + " && git config core.autocrlf true" + _racy("img.bin"), True, False,
                 id="binary-crlf-autocrlf"),
    pytest.param("printf '*.txt text\\n' > .gitattributes && printf 'a\\rb\\n' > cr.txt && "
                 "git add . && git commit -qm c" + _racy("cr.txt"), True, False,
                 id="lone-cr-text-set"),
    pytest.param(BINARY + " && printf '*.bin text\\n' > .gitattributes && "
                 "git add .gitattributes && git commit -qm t" + _racy("img.bin"), False, True,
                 id="binary-crlf-text-set"),
    pytest.param(BINARY + " && printf '* text=auto\\n*.bin text\\n' > .gitattributes && "
                 "git add .gitattributes && git commit -qm t" + _racy("img.bin"), False, True,
                 id="binary-crlf-text-auto-then-text"),
    pytest.param(BINARY + " && printf '*.bin eol=lf\\n' > .gitattributes && "
                 "git add .gitattributes && git commit -qm t" + _racy("img.bin"), False, True,
                 id="binary-crlf-eol-alone"),
    pytest.param(BINARY + " && printf '[attr]mine text\\n* text=auto\\n*.bin mine\\n' > "
                 ".gitattributes && git add .gitattributes && git commit -qm t" + _racy("img.bin"),
                 False, True, id="binary-crlf-macro"),
    pytest.param(BINARY + " && printf '* text=auto\\n' > .gitattributes && "
                 "git add .gitattributes && git commit -qm t && "
                 "printf '*.bin text\\n' > .git/info/attributes" + _racy("img.bin"),
                 False, True, id="binary-crlf-info-attributes-text"),
    pytest.param(BINARY + " && printf '*.sh text eol=lf\\n/d/*.bin text\\n*.bat eol=crlf\\n' > "
                 ".gitattributes && git add .gitattributes && git commit -qm t"
                 + _racy("img.bin"), True, False, id="binary-crlf-text-rules-for-others"),
    pytest.param(BINARY + " && printf '*.bin text\\n*.bin -text\\n' > .gitattributes && "
                 "git add .gitattributes && git commit -qm t" + _racy("img.bin"), True, False,
                 id="binary-crlf-later-line-wins"),
    pytest.param(BINARY + " && printf '*.bin text eol=lf\\n*.bin binary\\n' > .gitattributes "
                 "&& git add .gitattributes && git commit -qm t" + _racy("img.bin"), True,
                 False, id="binary-crlf-binary-macro-wins"),
    pytest.param(BINARY.replace("img.bin", "d/img.bin")
                 + " && printf '*.bin -text\\n' > .gitattributes && printf '*.bin text\\n' > "
                 "d/.gitattributes && git add .gitattributes d/.gitattributes && "
                 "git commit -qm t" + _racy("d/img.bin"), False, True,
                 id="binary-crlf-subfolder-overrides"),
    pytest.param(BINARY.replace("img.bin", "d/img.bin") + " && printf '*.bin text\\n' > "
                 ".gitattributes && printf '*.bin -text\\n' > d/.gitattributes && "
                 "git add .gitattributes d/.gitattributes && git commit -qm t"
                 + _racy("d/img.bin"), True, False, id="binary-crlf-subfolder-unsets"),
    pytest.param(BINARY.replace("img.bin", "d/img.bin") + " && printf '/d/*.bin text\\n' > "
                 ".gitattributes && git add .gitattributes && git commit -qm t"
                 + _racy("d/img.bin"), False, True, id="binary-crlf-path-pattern"),
    pytest.param(BINARY.replace("img.bin", "d/img.bin") + " && printf '/img.bin text\\n' > "
                 ".gitattributes && git add .gitattributes && git commit -qm t"
                 + _racy("d/img.bin"), True, False, id="binary-crlf-anchored-elsewhere"),
    pytest.param(BINARY + " && printf '*.bin -text\\n' > real && ln -s real .gitattributes && "
                 "git add real .gitattributes && git commit -qm t && "
                 "printf '*.bin text\\n' > ../user-attributes && "
                 "git config core.attributesFile \"$PWD/../user-attributes\""
                 + _racy("img.bin"), False, True, id="binary-crlf-symlinked-attributes"),
    pytest.param("printf '*.txt filter=nobody-set-up\\n' > .gitattributes && echo f > f.txt && "
                 "git add . && git commit -qm f" + _racy("f.txt"), True, False,
                 id="filter-without-a-driver"),
    pytest.param("printf '*.txt filter=up\\n' > .gitattributes && echo f > f.txt && "
                 "git add . && git commit -qm f && git config filter.up.clean 'tr a-z A-Z'"
                 + _racy("f.txt"), False, True, id="filter-with-a-driver"),
    pytest.param("printf '* text=auto\\n' > .gitattributes && printf 'a\\r\\n' > t.txt && "
                 "git add . && git commit -qm t" + _racy("t.txt"), False, False,
                 id="text-crlf-text-auto"),  # (git: clean; not binary: the proof gives up)
])
def test_racy_crlf_content(repo: Path, script: str, proven: bool,
                           git_sees_a_change: bool) -> None:
    """Racily clean files git might convert before hashing (a fresh clone's images and fonts
    holding CR bytes, a filter attribute): where git's conversion is sure to leave the
    content as it is, the content decides; where it may convert, the proof gives up."""
    sh(repo, script)
    theirs = git_porcelain(repo)
    assert bool(theirs) is git_sees_a_change
    assert proven_clean(discover(str(repo))) is proven


@pytest.mark.parametrize(("count", "running", "load", "forks"), [
    pytest.param(1_000, b"1", 0.0, False, id="small-idle"),
    pytest.param(4_000, b"1", 9.0, True, id="mid-a-cpu-free-now-after-a-busy-minute"),
    pytest.param(4_000, b"2", 0.0, False, id="mid-both-cpus-busy-now"),
    pytest.param(4_000, b"x", 0.0, True, id="mid-no-count-idle-load-average"),
    pytest.param(4_000, b"x", 9.0, False, id="mid-no-count-busy-load-average"),
    pytest.param(4_000, None, None, False, id="mid-neither"),
    pytest.param(20_000, b"5", 9.0, True, id="large-busy"),
])
def test_when_the_worker_is_forked(monkeypatch: pytest.MonkeyPatch, tmp_path: Path,
                                   count: int, running: bytes | None, load: float | None,
                                   forks: bool) -> None:
    """A second process for a mid-size index only while a second CPU is free: the tasks
    running at this instant (/proc/loadavg's fourth field), else the load average."""
    import builtins

    from ayjnt_hooks.git import cleanproof

    def getloadavg() -> tuple[float, float, float]:
        if load is None:
            raise OSError("no load average")
        return load, load, load

    fake = tmp_path / "loadavg"
    fake.write_bytes(b"0.1 0.1 0.1 " + running + b"/80 123\n" if running else b"")
    real_open = builtins.open

    def fake_open(path: object, *args: object, **kwargs: object) -> object:
        if path == "/proc/loadavg":
            if running is None:
                raise FileNotFoundError(path)
            path = fake
        return real_open(path, *args, **kwargs)  # type: ignore[call-overload]

    monkeypatch.setattr(builtins, "open", fake_open)
    monkeypatch.setattr(os, "getloadavg", getloadavg)
    monkeypatch.setattr(os, "sched_getaffinity", lambda pid: {0, 1}, raising=False)
    assert cleanproof._fork_pays(count) is forks


def test_this_kernel_counts_running_tasks_where_cpu_free_reads_them() -> None:
    """The field _cpu_free reads is there and counts this process (so at least 1)."""
    if not os.path.exists("/proc/loadavg"):
        pytest.skip("no /proc/loadavg here")
    with open("/proc/loadavg", "rb") as f:
        assert int(f.read().split()[3].split(b"/")[0]) >= 1
