"""The one exception type the package raises for bad input."""
from __future__ import annotations

REPORT_URL = "https://github.com/ayjnt-hooks/ayjnt-hooks/issues"


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


def print_error(err: AyjntError) -> None:
    """``ayjnt: <message>``, then ``  fix: <hint>`` when there is one, on stderr."""
    import sys

    sys.stderr.write(f"ayjnt: {err.message}\n" + (f"  fix: {err.hint}\n" if err.hint else ""))


def report_internal_error(e: Exception) -> None:
    """The last line of defence: one line on stderr, the traceback only on request.

    The exception's own text is not printed: it may quote the file that broke us (a
    ``ValueError`` carries the bytes it could not parse). Its type and where in our code it
    happened are enough for a report."""
    import os
    import sys

    if os.environ.get("AYJNT_HOOKS_DEBUG") == "1":
        import traceback

        traceback.print_exc()
    where = ""
    tb = e.__traceback__
    while tb is not None:
        code = tb.tb_frame.f_code
        if f"{os.sep}ayjnt_hooks{os.sep}" in code.co_filename:
            where = f" in {os.path.basename(code.co_filename)}:{tb.tb_lineno} ({code.co_name})"
        tb = tb.tb_next
    sys.stderr.write(f"ayjnt: internal error: {type(e).__name__}{where}\n"
                     f"  please report it at {REPORT_URL} "
                     f"(rerun with AYJNT_HOOKS_DEBUG=1 for the traceback)\n")
