"""JSON read/write with JavaScript's semantics (``JSON.parse`` / ``JSON.stringify``).

ayjnt writes the lockfile with ``JSON.stringify(x, null, 2) + "\\n"``; to reproduce its bytes we
need JS number formatting, JS property order (integer-like keys first) and JS string escaping
(lone surrogates escaped).
"""
from __future__ import annotations

import json
import re

TYPE_CHECKING = False  # (typing is not imported at run time: start-up time counts here)
if TYPE_CHECKING:
    from typing import Any

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
    """``JSON.parse``: raises ValueError (or RecursionError) on invalid input."""
    return json.loads(text, parse_int=parse_int, parse_constant=_reject_constant,
                      object_pairs_hook=_object_hook)
