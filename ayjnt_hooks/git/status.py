"""The working tree's ``git status --porcelain`` verdict: the fast proof of a clean tree
(:mod:`.cleanproof`) first, and only when it gives up git's exact rules (:mod:`.porcelain`,
a large module that a clean tree, the everyday case, never imports)."""
from __future__ import annotations

from ..errors import AyjntError
from .cleanproof import proven_clean

TYPE_CHECKING = False  # (typing is not imported at run time: start-up time counts here)
if TYPE_CHECKING:
    from .repo import Repo


class Status:
    """The porcelain lines and the clean verdict. ``inexact``: why the exact lines cannot be
    given (git's rename or copy pairing that this reader cannot replay exactly); the verdict
    stands ("dirty" either way) and ``shown_lines`` lists the changes unpaired."""
    __slots__ = ("_lines", "conflicted", "inexact")

    def __init__(self, lines: list[str], conflicted: bool = False,
                 inexact: str | None = None) -> None:
        self._lines = lines
        self.conflicted = conflicted
        self.inexact = inexact

    @property
    def lines(self) -> list[str]:
        """git's exact porcelain lines; refused (exit 3) rather than a wrong line."""
        if self.inexact is not None:
            raise AyjntError(self.inexact)
        return self._lines

    @property
    def shown_lines(self) -> list[str]:
        return self._lines

    @property
    def clean(self) -> bool:
        return not self._lines


def status(repo: Repo, *, first_only: bool = False) -> Status:
    """The fast proof of a clean tree first; git's exact rules when it gives up."""
    if proven_clean(repo):
        return Status([])
    from .porcelain import StatusComputer

    return Status(*StatusComputer(repo).compute(first_only=first_only))
