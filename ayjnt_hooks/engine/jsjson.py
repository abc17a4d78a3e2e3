"""JSON read/write with JavaScript's semantics (``JSON.parse`` / ``JSON.stringify``).

ayjnt writes the lockfile with ``JSON.stringify(x, null, 2) + "\\n"``; to reproduce its bytes we
need JS number formatting, JS property order (integer-like keys first) and JS string escaping
(lone surrogates escaped).
"""
from __future__ import annotations

import re
import sys

TYPE_CHECKING = False  # (typing is not imported at run time: start-up time counts here)
if TYPE_CHECKING:
    from typing import Any, Callable

_ESCAPES = {'"': '\\"', "\\": "\\\\", "\b": "\\b", "\f": "\\f", "\n": "\\n", "\r": "\\r",
            "\t": "\\t"}
_NEEDS_ESCAPE = '["\\\\\x00-\x1f\ud800-\udfff]'  # (compiled on first use: 0.8 ms)
_MAX_SAFE = 2**53
_ARRAY_INDEX_LIMIT = 2**32 - 1


def _escape_char(match: re.Match[str]) -> str:
    ch = match.group()
    return _ESCAPES.get(ch) or f"\\u{ord(ch):04x}"


def js_string(s: str) -> str:
    return '"' + re.compile(_NEEDS_ESCAPE).sub(_escape_char, s) + '"'


def js_number(x: float) -> str:
    """A number as ``JSON.stringify`` writes it: Number::toString, non-finite as ``null``."""
    if isinstance(x, int) and abs(x) < _MAX_SAFE:
        return str(x)
    f = float(x)
    if f != f or f in (float("inf"), float("-inf")):
        return "null"
    return number_to_string(f)


def number_to_string(x: float) -> str:
    """ECMAScript Number::toString (what a template literal writes): ``Infinity``, ``NaN``."""
    if isinstance(x, int) and abs(x) < _MAX_SAFE:
        return str(x)
    f = float(x)
    if f != f:
        return "NaN"
    if f in (float("inf"), float("-inf")):
        return "Infinity" if f > 0 else "-Infinity"
    if f == 0:
        return "0"
    sign = "-" if f < 0 else ""
    digits, _, exp_text = repr(abs(f)).partition("e")
    int_part, _, frac_part = digits.partition(".")
    if frac_part == "0":
        frac_part = ""
    all_digits = (int_part + frac_part).lstrip("0")
    # n = position of the decimal point relative to the start of all_digits
    exponent = int(exp_text) if exp_text else 0
    leading_zeros = len(int_part + frac_part) - len((int_part + frac_part).lstrip("0"))
    n = len(int_part) + exponent - leading_zeros
    all_digits = all_digits.rstrip("0") or "0"
    k = len(all_digits)
    if k <= n <= 21:
        out = all_digits + "0" * (n - k)
    elif 0 < n <= 21:
        out = all_digits[:n] + "." + all_digits[n:]
    elif -6 < n <= 0:
        out = "0." + "0" * (-n) + all_digits
    else:
        e = n - 1
        mantissa = all_digits[0] + ("." + all_digits[1:] if k > 1 else "")
        out = f"{mantissa}e{'+' if e >= 0 else '-'}{abs(e)}"
    return sign + out


def is_array_index(key: str) -> bool:
    return key.isdigit() and key.isascii() and str(int(key)) == key \
        and int(key) < _ARRAY_INDEX_LIMIT


def js_key_order(obj: dict[str, Any]) -> dict[str, Any]:
    """Return ``obj`` with JavaScript's own-property order: array-index keys first, ascending."""
    index_keys = [k for k in obj if is_array_index(k)]
    if not index_keys:
        return obj
    ordered = {k: obj[k] for k in sorted(index_keys, key=int)}
    ordered.update((k, v) for k, v in obj.items() if k not in ordered)
    return ordered


def stringify(value: Any, indent: int | None = None) -> str:
    """``JSON.stringify(value, null, indent)`` for JSON-shaped Python values."""
    parts: list[str] = []
    _write(value, parts, "" if indent is None else " " * indent, "")
    return "".join(parts)


def _write(value: Any, out: list[str], step: str, cur: str) -> None:
    if value is None:
        out.append("null")
    elif value is True:
        out.append("true")
    elif value is False:
        out.append("false")
    elif isinstance(value, str):
        out.append(js_string(value))
    elif isinstance(value, (int, float)):
        out.append(js_number(value))
    elif isinstance(value, list):
        if not value:
            out.append("[]")
            return
        inner = cur + step
        sep, open_, close = (",\n" + inner, "[\n" + inner, "\n" + cur + "]") if step \
            else (",", "[", "]")
        out.append(open_)
        for i, item in enumerate(value):
            if i:
                out.append(sep)
            _write(item, out, step, inner)
        out.append(close)
    else:
        obj = js_key_order(value)
        if not obj:
            out.append("{}")
            return
        inner = cur + step
        sep, open_, close = (",\n" + inner, "{\n" + inner, "\n" + cur + "}") if step \
            else (",", "{", "}")
        colon = ": " if step else ":"
        out.append(open_)
        for i, (k, v) in enumerate(obj.items()):
            if i:
                out.append(sep)
            out.append(js_string(k) + colon)
            _write(v, out, step, inner)
        out.append(close)


_SAFE_DIGITS = 15  # every integer of up to 15 digits is below 2**53, so int() is exact


def parse_int(text: str) -> int | float:
    """A decimal integer read as a JavaScript number (a double), as ``JSON.parse`` and
    ``parseInt(s, 10)`` read it: exact below 2**53, else the nearest double (``Infinity`` past
    the largest). ``float()`` of the text rounds correctly, as JavaScriptCore does, and has no
    digit limit (``int()`` refuses more than 4,300 digits)."""
    digits = len(text) - (text[:1] == "-")
    if digits <= _SAFE_DIGITS:
        return int(text)
    n = float(text)
    return int(n) if abs(n) < _MAX_SAFE else n


def _reject_constant(name: str) -> Any:
    raise ValueError(f"Unexpected token {name[0]!r}")


def _object_hook(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    return js_key_order(dict(pairs))


def parse(text: str) -> Any:
    """``JSON.parse``: raises ValueError (or RecursionError) on invalid input.

    What ``json.loads(text, parse_int=parse_int, parse_constant=…, object_pairs_hook=…)``
    does, with the same errors, but through the C scanner directly: :mod:`json` (4 ms to
    import, its decoder compiles regexes) is imported only to raise an error."""
    scanner = _scanner()
    if scanner is None:  # pragma: no cover - a Python without the C accelerator
        import json

        return json.loads(text, parse_int=parse_int, parse_constant=_reject_constant,
                          object_pairs_hook=_object_hook)
    return _loads(scanner, text)


class _Decoder:
    """What ``_json.make_scanner`` reads off a ``json.JSONDecoder``."""

    def __init__(self) -> None:
        self.strict = True
        self.object_hook = None
        self.object_pairs_hook = _object_hook
        self.parse_float = float
        self.parse_int = parse_int
        self.parse_constant = _reject_constant
        self.memo: dict[str, str] = {}


_SCANNER: list[Callable[[str, int], tuple[Any, int]] | None] = []
_WHITESPACE = " \t\n\r"  # JSON's (json.decoder.WHITESPACE)


def _scanner() -> Callable[[str, int], tuple[Any, int]] | None:
    if not _SCANNER:
        try:
            from _json import make_scanner
        except ImportError:  # pragma: no cover - a Python without the C accelerator
            _SCANNER.append(None)
        else:
            _SCANNER.append(make_scanner(_Decoder()))  # type: ignore[arg-type]
    return _SCANNER[0]


# json.loads → JSONDecoder.decode → raw_decode, one frame each, so that the nesting depth at
# which the C scanner runs out of recursion (RecursionError) is the same as through json.

def _loads(scanner: Callable[[str, int], tuple[Any, int]], text: str) -> Any:
    if text.startswith("\ufeff"):
        raise _decode_error("Unexpected UTF-8 BOM (decode using utf-8-sig)", text, 0)
    return _decode(scanner, text)


def _decode(scanner: Callable[[str, int], tuple[Any, int]], text: str) -> Any:
    value, end = _raw_decode(scanner, text, len(text) - len(text.lstrip(_WHITESPACE)))
    rest = len(text[end:].lstrip(_WHITESPACE))
    if rest:
        raise _decode_error("Extra data", text, len(text) - rest)
    return value


def _raw_decode(scanner: Callable[[str, int], tuple[Any, int]], text: str, start: int
                ) -> tuple[Any, int]:
    for _ in range(2):
        try:
            return scanner(text, start)
        except StopIteration as err:
            raise _decode_error("Expecting value", text, err.value) from None
        except SystemError:
            # Python 3.10 and 3.11's scanner raises its JSONDecodeError only once json.decoder
            # is imported (else this): import it, scan again (in this frame) to the same error.
            if "json.decoder" in sys.modules:
                raise
        import json.decoder  # noqa: F401
    raise AssertionError("unreachable: the second scan returns or raises")


def _decode_error(message: str, text: str, pos: int) -> ValueError:
    from json import JSONDecodeError  # (the C scanner's own errors are JSONDecodeErrors too)

    return JSONDecodeError(message, text, pos)
