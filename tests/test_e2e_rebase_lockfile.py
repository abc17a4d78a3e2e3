"""End to end: after `ayjnt-hooks rebase-lockfile` (or the merge driver) resolves a diverged
lockfile, real `pre-commit` hooks and the plain git hooks let the commit and the push through
— the pushed lockfile is append-only over the remote's."""
from __future__ import annotations

import pytest

from .conftest import agent_src as agent
from .conftest import write_files
from .test_e2e_hooks import (  # noqa: F401  (fixtures this module's tests use)
    Consumer,
    assert_allowed,
    assert_blocked,
    consumer,
    hooks_repo,
    pre_commit_home,
)
from .test_hooks import build


@pytest.fixture
def team(consumer: Consumer) -> Consumer:  # noqa: F811
    """A clone with the pre-commit framework's hooks, or the plain ones, installed."""
    return consumer


def _diverge(c: Consumer) -> None:
    """origin/main gets v2 = AlphaAgent from a second clone; the local branch has v2 = Beta."""
    other = c.work.parent / "other"
    c.sh(f"git clone -q $(git remote get-url origin) {other}")
    write_files(other, {"agents/alpha/agent.ts": agent("AlphaAgent")})
    build(other)
    c.sh("git add -A && git commit -q --no-verify -m alpha && "
         "git push -q --no-verify origin main", cwd=other)
    c.add_agent("BetaAgent", "beta")
    build(c.proj)
    c.sh("git add -A")
    assert_allowed(c.commit("beta"))
    c.sh("git fetch -q origin")


@pytest.mark.parametrize("how", ["merge", "pull-rebase", "driver-merge"])
def test_push_after_rebase_lockfile_passes(team: Consumer, how: str) -> None:
    if how == "driver-merge":
        team.sh("ayjnt-hooks install --merge-driver && git add .gitattributes")
        assert_allowed(team.commit("driver"))
        team.sh("git push -q --no-verify origin main")
    _diverge(team)
    if how == "pull-rebase":
        stopped = team.sh("git pull -q --rebase origin main", check=False)
    else:
        stopped = team.sh("git merge --no-edit origin/main", check=False)
    if how == "driver-merge":
        assert_allowed(stopped)  # merged by the driver; the merge commit passed the hooks
        assert "keeping origin/main's entries" in stopped.stderr
    else:
        assert stopped.returncode != 0
        # a push now would be refused: the lockfile still holds conflict markers
        fixed = team.sh("ayjnt-hooks rebase-lockfile")
        assert "renumbered:  v2 (+BetaAgent) became v3 (+BetaAgent)" in fixed.stdout
        team.sh("git add .ayjnt/migrations.json")
        if how == "merge":
            assert_allowed(team.sh("git commit --no-edit", check=False))  # hooks ran
        else:
            team.sh("GIT_EDITOR=true git rebase --continue")
    assert_allowed(team.push("origin HEAD:main"))
    log = team.sh("git show origin/main:.ayjnt/migrations.json").stdout
    assert log.index('"AlphaAgent"') < log.index('"BetaAgent"')


def test_a_hand_merge_that_rewrites_is_still_blocked(team: Consumer) -> None:
    _diverge(team)
    assert team.sh("git merge --no-edit origin/main", check=False).returncode != 0
    team.sh("git checkout --ours .ayjnt/migrations.json && "
                "git add .ayjnt/migrations.json && git commit -q --no-verify --no-edit")
    assert_blocked(team.push("origin HEAD:main"), "rewrites the remote's migration history")
    team.sh("ayjnt-hooks rebase-lockfile && git add .ayjnt/migrations.json")
    assert_allowed(team.commit("lockfile continues origin/main"))
    assert_allowed(team.push("origin HEAD:main"))
