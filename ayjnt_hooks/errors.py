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


def use_js_text_output() -> None:
    """Let stdout/stderr write what JavaScript's console writes for any string: a lone
    surrogate (a lockfile's ``"\\ud800"`` escape, a file name that was not UTF-8) becomes
    U+FFFD, as in Bun, where Python would raise ``UnicodeEncodeError`` mid-message."""
    import sys

    register_js_text_errors()
    for stream in (sys.stdout, sys.stderr):
        reconfigure = getattr(stream, "reconfigure", None)
        if reconfigure is not None:
            reconfigure(errors=JS_TEXT_ERRORS)


JS_TEXT_ERRORS = "ayjnt-js"


def register_js_text_errors() -> None:
    """Make ``errors="ayjnt-js"`` available to ``str.encode`` and text streams."""
    import codecs

    codecs.register_error(JS_TEXT_ERRORS, _as_javascript_writes)


def _as_javascript_writes(e: UnicodeError) -> tuple[bytes, int]:
    if not isinstance(e, UnicodeEncodeError):
        raise e
    # UTF-16 code units, read back with U+FFFD for the unpaired ones: JavaScript's rule. (Bytes,
    # because CPython's UTF-8 encoder takes only ASCII text back from an error handler.)
    text = e.object[e.start:e.end].encode("utf-16-le", "surrogatepass").decode(
        "utf-16-le", "replace")
    return text.encode(e.encoding, "backslashreplace"), e.end


def internal_error_text(e: Exception) -> str:
    """``internal error: <type> in <file>:<line> (<function>)`` — the innermost frame of ours.
    The exception's own text is left out: it may quote the file that broke us (a
    ``ValueError`` carries the bytes it could not parse)."""
    import os

    where = ""
    tb = e.__traceback__
    while tb is not None:
        code = tb.tb_frame.f_code
        if f"{os.sep}ayjnt_hooks{os.sep}" in code.co_filename:
            where = f" in {os.path.basename(code.co_filename)}:{tb.tb_lineno} ({code.co_name})"
        tb = tb.tb_next
    return f"internal error: {type(e).__name__}{where}"


def print_error(err: AyjntError) -> None:
    """``ayjnt: <message>``, then ``  fix: <hint>`` when there is one, on stderr."""
    import sys

    sys.stderr.write(f"ayjnt: {err.message}\n" + (f"  fix: {err.hint}\n" if err.hint else ""))


def report_internal_error(e: Exception) -> None:
    """The last line of defence: one line on stderr, the traceback only on request."""
    import os
    import sys

    if os.environ.get("AYJNT_HOOKS_DEBUG") == "1":
        import traceback

        traceback.print_exc()
    sys.stderr.write(f"ayjnt: {internal_error_text(e)}\n"
                     f"  please report it at {REPORT_URL} "
                     f"(rerun with AYJNT_HOOKS_DEBUG=1 for the traceback)\n")
