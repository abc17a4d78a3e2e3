"""The fast object reader against `git cat-file`, in loose and packed (deltified) stores."""
from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from ayjnt_hooks.git.damage import Corrupt, MissingObject
from ayjnt_hooks.git.objects import ObjectReader, apply_delta
from ayjnt_hooks.git.repo import discover

from ..conftest import sh

TYPES = {"commit": 1, "tree": 2, "blob": 3, "tag": 4}


@pytest.mark.parametrize("repack", [
    None,
    "git gc -q --aggressive",
    "git -c repack.useDeltaBaseOffset=false repack -q -a -d -f",
], ids=["loose", "packed-ofs-delta", "packed-ref-delta"])
def test_reads_every_object_like_git(tmp_path: Path, repack: str | None) -> None:
    sh(tmp_path, "git init -q -b main . && for i in $(seq 30); do seq 1 $((i * 50)) > big.txt; "
                 "echo $i > small.txt; git add . && git commit -qm c$i; done && "
                 "git tag -a -m annotated t1")
    if repack:
        sh(tmp_path, repack)
        verify = sh(tmp_path, "git verify-pack -v .git/objects/pack/*.idx").stdout
        chained = [line for line in verify.splitlines() if len(line.split()) == 7]
        assert len(chained) > 20  # the test is about delta chains: make sure there are some
    reader = ObjectReader(str(tmp_path / ".git" / "objects"))
    repo = discover(str(tmp_path))
    listing = sh(tmp_path, "git cat-file --batch-all-objects --batch-check").stdout.splitlines()
    for line in listing:
        sha, kind, _size = line.split()
        raw = subprocess.run(["git", "cat-file", kind, sha], cwd=tmp_path, check=True,
                             capture_output=True).stdout
        assert reader.read(sha) == (TYPES[kind], raw)
        assert repo.read_object(sha) == (TYPES[kind], raw)
    with pytest.raises(MissingObject):
        reader.read("0" * 40)
    with pytest.raises(KeyError):  # (a MissingObject is a KeyError too)
        repo.read_object("0" * 40)


def test_objects_in_an_alternate_store(tmp_path: Path) -> None:
    origin = tmp_path / "origin"
    origin.mkdir()
    sh(origin, "git init -q -b main . && echo a > a.txt && git add . && git commit -qm c && "
               "git gc -q")
    sh(tmp_path, "git clone -q --shared origin shared")  # objects via info/alternates
    clone = tmp_path / "shared"
    head = sh(clone, "git rev-parse HEAD").stdout.strip()
    raw = sh(clone, "git cat-file commit HEAD").stdout.encode()
    assert ObjectReader(str(clone / ".git" / "objects")).read(head) == (1, raw)
    assert discover(str(clone)).read_object(head) == (1, raw)


@pytest.mark.parametrize(("base", "delta"), [
    (b"abc", bytes([4, 3, 0x90, 3])),  # the base is not the size the delta names
    (b"abc", bytes([3, 3, 0x00])),  # reserved opcode
    (b"abc", bytes([3, 3, 0x91])),  # truncated copy instruction
    (b"abc", bytes([3, 5, 0x90, 3])),  # result shorter than announced
], ids=["base-size", "reserved-op", "truncated", "result-size"])
def test_bad_deltas_are_refused_not_guessed(base: bytes, delta: bytes) -> None:
    with pytest.raises(Corrupt):
        apply_delta(base, delta)


def test_delta_copy_and_insert() -> None:
    # copy 3 bytes from offset 0, insert "XY", copy 0x10000 bytes is never asked here
    assert apply_delta(b"abcdef", bytes([6, 7, 0x90, 3, 2]) + b"XY" + bytes([0x91, 4, 2])
                        ) == b"abcXYef"
