"""``jsjson.parse`` reads with the C scanner directly (``json`` is not imported on success): its
values and its errors must be exactly those of ``json.loads`` with the same hooks."""
from __future__ import annotations

import json
import subprocess
import sys
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ayjnt_hooks.engine import jsjson


def through_json(text: str) -> Any:
    """What jsjson.parse did before it used the C scanner itself."""
    return json.loads(text, parse_int=jsjson.parse_int, parse_constant=jsjson._reject_constant,
                      object_pairs_hook=jsjson._object_hook)


def outcome(parse: Any, text: str) -> tuple[str, Any]:
    try:
        value = parse(text)
    except (ValueError, RecursionError) as e:
        return type(e).__name__, (str(e), getattr(e, "pos", None), getattr(e, "msg", None))
    return "value", (value, json.dumps(value))  # (json.dumps: key order and int/float kinds)


CASES = ["", " ", "\ufeff{}", " \ufeff{}", "{}", " \t\n\r{} \t\n\r", "{} x", "{}\n\n}", "[1,]",
         '{"a":1,"a":2}', '{"2":1,"1":2,"b":3}', "NaN", "-Infinity", "[Infinity]", "1e400",
         "12345678901234567890", "-0", "0.0", '"\\ud800"', '"\\x"', '"a\nb"', "{'a':1}",
         "\u00a0{}", "{}\u00a0", "\x0b{}", "nul", "[", '{"a"', "tru", "1 2", "[1 2]",
         '{"version":1,"migrations":[],"classes":{}}\n', "9" * 5000, "[" * 50 + "]" * 50]


@pytest.mark.parametrize("text", CASES)
def test_parse_is_json_loads(text: str) -> None:
    assert outcome(jsjson.parse, text) == outcome(through_json, text)


@given(st.text(alphabet=' \t\n\r{}[],:"\\0123456789.eE+-aflnrstuNIy\ufeff\u00a0x', max_size=40))
def test_parse_is_json_loads_on_any_text(text: str) -> None:
    assert outcome(jsjson.parse, text) == outcome(through_json, text)


def test_too_deep_is_a_recursion_error() -> None:
    text = "[" * 200_000 + "]" * 200_000
    assert outcome(jsjson.parse, text)[0] == outcome(through_json, text)[0] == "RecursionError"


def test_success_does_not_import_json_and_errors_are_the_same_without_it() -> None:
    """In a fresh interpreter: a good document leaves json unimported; the first errors (raised
    before json is imported: Python 3.10 and 3.11's scanner needs json.decoder for its own) are
    json.loads's."""
    code = ("import sys\nfrom ayjnt_hooks.engine import jsjson\n"
            "assert jsjson.parse('{\"a\": [1, 2.5, null]}') == {'a': [1, 2.5, None]}\n"
            "assert 'json' not in sys.modules and 'json.decoder' not in sys.modules\n"
            "def error(parse, text):\n"
            "    try:\n        parse(text)\n"
            "    except ValueError as e:\n        return type(e).__name__, str(e)\n"
            "texts = ['{', '[1,', '\"\\\\x\"', '{} x', '\\ufeff1', 'NaN', '{\"a\" 1}']\n"
            "ours = [error(jsjson.parse, t) for t in texts]\n"
            "import json\n"
            "theirs = [error(lambda t: json.loads(t, parse_int=jsjson.parse_int, "
            "parse_constant=jsjson._reject_constant, object_pairs_hook=jsjson._object_hook), t) "
            "for t in texts]\n"
            "assert ours == theirs, (ours, theirs)\n"
            "print(len(ours))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True).stdout
    assert out.strip() == "7"
