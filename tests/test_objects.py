"""The fast object reader against `git cat-file`, in loose and packed (deltified) stores."""
from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from ayjnt_hooks.gitrepo import discover
from ayjnt_hooks.objects import ObjectReader

from .conftest import sh

TYPES = {"commit": 1, "tree": 2, "blob": 3, "tag": 4}


@pytest.mark.parametrize("pack", [False, True], ids=["loose", "packed"])
def test_reads_every_object_like_git(tmp_path: Path, pack: bool) -> None:
    sh(tmp_path, "git init -q -b main . && for i in $(seq 30); do seq 1 $((i * 50)) > big.txt; "
                 "echo $i > small.txt; git add . && git commit -qm c$i; done && "
                 "git tag -a -m annotated t1")
    if pack:
        sh(tmp_path, "git gc -q --aggressive")
    reader = ObjectReader(str(tmp_path / ".git" / "objects"))
    repo = discover(str(tmp_path))
    served = 0
    listing = sh(tmp_path, "git cat-file --batch-all-objects --batch-check").stdout.splitlines()
    for line in listing:
        sha, kind, _size = line.split()
        raw = subprocess.run(["git", "cat-file", kind, sha], cwd=tmp_path, check=True,
                             capture_output=True).stdout
        got = reader.read(sha)
        if got is not None:
            served += 1
            assert got == (TYPES[kind], raw)
        assert repo.read_object(sha) == (TYPES[kind], raw)  # with the dulwich fallback
    assert served > len(listing) // 3
    if pack:
        assert served < len(listing)  # deltified entries are left to dulwich
    assert reader.read("0" * 40) is None
    with pytest.raises(KeyError):
        repo.read_object("0" * 40)
