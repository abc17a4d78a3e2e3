"""Property-based tests: arbitrary input never escapes as anything but AyjntError."""
from __future__ import annotations

import contextlib
import io
import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ayjnt_hooks.engine import lockfile as lf
from ayjnt_hooks.engine.scan import Agent, Manifest, parse_agent_source, scan, strip_comments
from ayjnt_hooks.engine.snapshot import WorkTree
from ayjnt_hooks.engine.soundness import soundness_problems
from ayjnt_hooks.errors import JS_TEXT_ERRORS, AyjntError, register_js_text_errors
from ayjnt_hooks.report import ERROR, Finding, emit_json, github_annotations

register_js_text_errors()  # what the entry points' stdout and stderr use


@contextlib.contextmanager
def environment(values: dict[str, str]) -> Iterator[None]:
    saved = {k: os.environ.get(k) for k in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v

# Text with lone surrogates as well: a lockfile's "\ud800" escape reads as one (issue #11 D).
js_text = st.lists(st.characters(categories=["Cs"]) | st.characters(), max_size=8).map("".join)

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text()
    | js_text,
    lambda children: st.lists(children, max_size=4)
    | st.dictionaries(st.text(max_size=8), children, max_size=4),
    max_leaves=20)

lockfile_like = st.fixed_dictionaries(
    {"version": st.sampled_from([1, 1.0, 2, "1", None])},
    optional={"migrations": st.lists(st.dictionaries(
        st.sampled_from(["tag", "timestamp", "new_sqlite_classes"]), json_values, max_size=3),
        max_size=3) | json_values,
        "classes": st.dictionaries(st.text(max_size=5) | js_text, st.dictionaries(
            st.sampled_from(["agentId", "className", "firstTag"]),
            st.text(max_size=5) | js_text | json_values, max_size=3), max_size=4)
        | json_values})


def _read(data: bytes) -> None:
    try:
        lock = lf.parse_lockfile(data, "x.json")
    except AyjntError as e:
        _reaches_output(e.message)
        return
    written = lf.serialize(lock)
    assert json.loads(written) == json.loads(json.dumps(lock))  # lone surrogates survive
    lf.next_tag(lock)
    d = lf.diff(lock, _MANIFEST)
    _reaches_output(lf.format_diff(d))
    lf.serialize(lf.apply_diff(lock, d))
    problems = soundness_problems(lock)
    _reaches_output("; ".join(problems))


_MANIFEST = Manifest((Agent("a", "AAgent", "Agent", "a", "/a", "AAGENT", "agents/a/agent.ts",
                            "agents/a/agent.ts"),))


def _reaches_output(text: str) -> None:
    """Every way a message leaves: text on a real stream, --json, a GitHub annotation."""
    stream = io.TextIOWrapper(io.BytesIO(), encoding="utf-8", errors=JS_TEXT_ERRORS)
    stream.write(text)
    stream.flush()
    out = io.StringIO()
    finding = Finding(ERROR, "x", text, text)
    emit_json({"error": text}, [finding], out)
    assert json.loads(out.getvalue().encode("utf-8"))["error"] == text
    with environment({"GITHUB_ACTIONS": "true"}):
        for line in github_annotations([finding]):
            line.encode("utf-8", JS_TEXT_ERRORS)


@given(st.binary(max_size=300))
def test_lockfile_reader_on_bytes(data: bytes) -> None:
    _read(data)


@given(json_values)
def test_lockfile_reader_on_json(value: Any) -> None:
    _read(json.dumps(value).encode())


@given(lockfile_like)
def test_lockfile_reader_on_lockfile_shapes(value: Any) -> None:
    _read(json.dumps(value).encode())


@given(st.text())
def test_strip_comments_keeps_length_and_newlines(src: str) -> None:
    out = strip_comments(src)
    assert len(out) == len(src)
    assert [i for i, c in enumerate(out) if c == "\n"] == \
        [i for i, c in enumerate(src) if c == "\n"]


def reference_strip_comments(source: str) -> str:
    """ayjnt's ``stripComments`` transcribed character by character (reference §1.2): the
    oracle for the regex version, which must give the same string on every input."""
    out: list[str] = []
    i, n = 0, len(source)
    mode = "code"
    closing = {"single": "'", "double": '"', "template": "`"}
    while i < n:
        ch = source[i]
        nxt = source[i + 1] if i + 1 < n else ""
        if mode == "code":
            if ch == "/" and nxt in ("/", "*"):
                mode = "line" if nxt == "/" else "block"
                out.append("  ")
                i += 2
                continue
            mode = {"'": "single", '"': "double", "`": "template"}.get(ch, "code")
            out.append(ch)
        elif mode == "line":
            mode = "code" if ch == "\n" else "line"
            out.append(ch if ch == "\n" else " ")
        elif mode == "block":
            if ch == "*" and nxt == "/":
                mode = "code"
                out.append("  ")
                i += 2
                continue
            out.append("\n" if ch == "\n" else " ")
        else:
            if ch == "\\":
                out.append(ch + nxt)
                i += 2
                continue
            if ch == closing[mode] or (ch == "\n" and mode != "template"):
                mode = "code"
            out.append(ch)
        i += 1
    return "".join(out)


STRIP_ALPHABET = st.sampled_from([*"/*'\"`\\\nab \r", "\u2028", "\U0001f600"])


@settings(max_examples=1000)
@given(st.text(alphabet=STRIP_ALPHABET, max_size=40) | st.text())
def test_strip_comments_is_ayjnts_state_machine(src: str) -> None:
    assert strip_comments(src) == reference_strip_comments(src)


TS_ALPHABET = [*"export default class const agentId extends Agent = \"'`/*\\\n\r\t{}<>()$_:;",
               "\u2028"]
ts_ish = st.text(alphabet=st.sampled_from(TS_ALPHABET), max_size=120)


@given(st.one_of(st.text(), ts_ish))
def test_agent_parser_never_raises(src: str) -> None:
    parsed = parse_agent_source(src)
    if parsed is not None:
        assert parsed.class_name and parsed.base_class


@settings(max_examples=60, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.binary(max_size=200) | ts_ish.map(str.encode))
def test_scan_on_arbitrary_agent_bytes(tmp_path: Path, data: bytes) -> None:
    agent = tmp_path / "agents" / "a" / "agent.ts"
    agent.parent.mkdir(parents=True, exist_ok=True)
    agent.write_bytes(data)
    with contextlib.suppress(AyjntError):
        scan(WorkTree(str(tmp_path)))
