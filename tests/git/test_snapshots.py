"""Index and commit snapshots feed the same engine as the working tree."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from ayjnt_hooks.cli import main
from ayjnt_hooks.engine import lockfile as lf
from ayjnt_hooks.engine.scan import scan
from ayjnt_hooks.errors import AyjntError
from ayjnt_hooks.git.index import read_index
from ayjnt_hooks.git.repo import discover
from ayjnt_hooks.git.snapshots import CommitSnapshot, IndexSnapshot

from ..conftest import agent_src, sh, write_files


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    root = tmp_path / "repo"
    root.mkdir()
    sh(root, "git init -q -b main .")
    write_files(root, {"app/agents/chat/agent.ts": agent_src("ChatAgent"),
                       "app/agents/.hidden/agent.ts": agent_src("Hidden"),
                       "app/workflows/w/workflow.ts":
                           "export default class Flow extends AgentWorkflow {}",
                       "app/.ayjnt/migrations.json": '{"version":1,"migrations":[],"classes":{}}',
                       "other/big.txt": "x"})
    (root / "app/agents/link").symlink_to("chat")
    sh(root, "git add . && git commit -qm init")
    return root


def classes(snapshot: object) -> list[str]:
    return [a.class_name for a in scan(snapshot).agents]  # type: ignore[arg-type]


def test_commit_snapshot(repo: Path) -> None:
    r = discover(str(repo))
    head = r.ref_sha("HEAD")
    assert head
    snap = CommitSnapshot(r, head, "app")
    assert classes(snap) == ["ChatAgent"]
    assert [w.class_name for w in scan(snap).workflows] == ["Flow"]
    assert snap.read(".ayjnt/migrations.json") == b'{"version":1,"migrations":[],"classes":{}}'
    assert snap.read("agents/nope.ts") is None and snap.files_under("nothing") == []
    assert snap.read("agents/link") is None  # symlink entry
    assert snap.display("agents/chat/agent.ts") == f"app/agents/chat/agent.ts (in {head[:7]})"
    with pytest.raises(AyjntError, match="is a folder"):
        snap.read("agents")


def test_index_snapshot_sees_staged_not_disk(repo: Path) -> None:
    write_files(repo, {"app/agents/new/agent.ts": agent_src("NewAgent")})
    sh(repo, "git add app/agents/new")
    write_files(repo, {"app/agents/disk/agent.ts": agent_src("DiskOnly")})
    r = discover(str(repo))
    snap = IndexSnapshot(r, read_index(r.index_file), "app")
    assert classes(snap) == ["ChatAgent", "NewAgent"]
    d = lf.diff(lf.parse_lockfile(snap.read(lf.LOCKFILE_PATH)), scan(snap))
    assert [a.class_name for a in d.added] == ["ChatAgent", "NewAgent"]
    assert snap.exists("agents/chat") and not snap.exists("agents/disk")


def test_index_snapshot_conflict(repo: Path) -> None:
    sh(repo, "git checkout -qb other; echo '{}' > app/.ayjnt/migrations.json; git commit -qam o;"
             "git checkout -q main; echo '[]' > app/.ayjnt/migrations.json; git commit -qam m;"
             "git merge other >/dev/null 2>&1 || true")
    r = discover(str(repo))
    snap = IndexSnapshot(r, read_index(r.index_file), "app")
    with pytest.raises(AyjntError, match="unresolved merge conflicts"):
        snap.read(lf.LOCKFILE_PATH)


def test_index_snapshot_sparse_index(repo: Path) -> None:
    sh(repo, "git sparse-checkout set --cone other; git config index.sparse true; "
             "git sparse-checkout reapply")
    r = discover(str(repo))
    index = read_index(r.index_file)
    assert index.sparse
    snap = IndexSnapshot(r, index, "app")
    assert classes(snap) == ["ChatAgent"]
    assert snap.read(lf.LOCKFILE_PATH) is not None


def test_agents_file_in_commit(repo: Path) -> None:
    sh(repo, "git rm -rqf app/agents; echo x > app/agents; git add app/agents; git commit -qm f")
    r = discover(str(repo))
    head = r.ref_sha("HEAD")
    assert head
    with pytest.raises(AyjntError, match="is a file"):
        scan(CommitSnapshot(r, head, "app"))


def test_status_command(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    write_files(repo, {"u.txt": "u"})
    assert main(("status", "--cwd", str(repo), "--json")) == 0
    data = json.loads(capsys.readouterr().out)
    assert data == {"ok": True, "clean": False, "porcelain": ["?? u.txt"], "branch": "main",
                    "detached": False, "unborn": False, "upstream": None, "ahead": None,
                    "behind": None, "shallow": False, "findings": []}
    assert main(("status", "--cwd", str(repo))) == 0
    out = capsys.readouterr().out
    assert out == "branch main\nno origin/main\nworking tree: dirty\n  ?? u.txt\n"


def test_status_outside_repo(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(("status", "--cwd", str(tmp_path))) == 3
    err = capsys.readouterr().err
    assert "not a git repository" in err and "fix: run it inside a git checkout" in err


def test_status_porcelain_flag(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    write_files(repo, {"u.txt": "u", "app/agents/chat/agent.ts": "changed"})
    assert main(("status", "--cwd", str(repo), "--porcelain")) == 0
    assert capsys.readouterr().out == " M app/agents/chat/agent.ts\n?? u.txt\n"


def test_three_snapshots_agree(repo: Path) -> None:
    """Working tree, index and commit give the same manifest for the same content."""
    from ayjnt_hooks.engine.snapshot import WorkTree

    write_files(repo, {"app/agents/(g)/deep/er/agent.ts": agent_src("DeepAgent", "pinned"),
                       "app/agents/node_modules/x/agent.ts": agent_src("NmAgent"),
                       "app/agents/a/.hidden/agent.ts": agent_src("Hidden2"),
                       "app/agents/a/agent.ts": agent_src("AAgent"),
                       "app/agents/a/tools.host.ts": "// @ayjnt-optional-on-deploy\n"})
    sh(repo, "git add -A && git commit -qm more")
    r = discover(str(repo))
    head = r.ref_sha("HEAD")
    assert head
    snaps = [WorkTree(str(repo / "app")), IndexSnapshot(r, read_index(r.index_file), "app"),
             CommitSnapshot(r, head, "app")]
    manifests = [scan(s) for s in snaps]
    keys = [[(a.agent_id, a.class_name, a.route_path, a.path,
              tuple((t.path, t.optional_on_deploy) for t in a.tools)) for a in m.agents]
            for m in manifests]
    assert keys[0] == keys[1] == keys[2]
    assert [k[1] for k in keys[0]] == ["AAgent", "ChatAgent", "DeepAgent", "NmAgent"]
