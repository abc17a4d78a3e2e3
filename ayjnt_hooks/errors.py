"""The one exception type the package raises for bad input."""
from __future__ import annotations


class AyjntError(Exception):
    """Expected failure: a scan/lockfile/snapshot problem with a user-facing message.

    ``message`` is the full text (ayjnt's own words where ayjnt has them); commands print it
    and exit 3 ("could not check") or 1, never a traceback.
    """

    def __init__(self, message: str, *, path: str | None = None,
                 hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.path = path
        self.hint = hint  # the command that fixes it, when the message does not already say
