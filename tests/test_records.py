"""records.Record stands in for typing.NamedTuple at run time: the same class, declared both
ways, must behave the same in everything the code (or a reader of a repr) can see."""
from __future__ import annotations

import pickle
import typing
from typing import Any, Callable

import pytest

from ayjnt_hooks.records import Record


class Ours(Record):
    name: str
    total: int
    tags: tuple[str, ...] = ()
    note: str | None = None


class Theirs(typing.NamedTuple):
    name: str
    total: int
    tags: tuple[str, ...] = ()
    note: str | None = None


def _outcome(make: type, action: Callable[[type], Any]) -> tuple[str, Any]:
    try:
        value = action(make)
    except Exception as e:  # (the exception is what is compared)
        return type(e).__name__, None
    return "ok", value.replace(make.__name__, "X") if isinstance(value, str) else value


@pytest.mark.parametrize("action", [
    pytest.param(lambda k: tuple(k("a", 1)), id="positional"),
    pytest.param(lambda k: tuple(k("a", total=2, note="n")), id="keywords-and-defaults"),
    pytest.param(lambda k: tuple(k(name="a", total=1, tags=("t",))), id="all-keywords"),
    pytest.param(lambda k: repr(k("a", 1, ("x",), None)), id="repr"),
    pytest.param(lambda k: k("a", 1) == ("a", 1, (), None), id="equals-a-tuple"),
    pytest.param(lambda k: hash(k("a", 1)) == hash(("a", 1, (), None)), id="hash"),
    pytest.param(lambda k: k("a", 1).total + k("a", 1)[1], id="attribute-and-index"),
    pytest.param(lambda k: (lambda name, total, tags, note: (name, note))(*k("a", 1)),
                 id="unpacking"),
    pytest.param(lambda k: tuple(k("a", 1)._replace(total=5)), id="_replace"),
    pytest.param(lambda k: k("a", 1)._asdict(), id="_asdict"),
    pytest.param(lambda k: tuple(k._make(["a", 1, (), "z"])), id="_make"),
    pytest.param(lambda k: (k._fields, k._field_defaults), id="fields"),
    pytest.param(lambda k: tuple(pickle.loads(pickle.dumps(k("a", 1)))), id="pickle"),
    pytest.param(lambda k: sorted([k("b", 1), k("a", 2)])[0].name, id="ordering"),
    pytest.param(lambda k: k("a"), id="missing-argument"),
    pytest.param(lambda k: k("a", 1, (), None, "extra"), id="too-many"),
    pytest.param(lambda k: k("a", 1, name="b"), id="twice"),
    pytest.param(lambda k: k("a", 1, colour="red"), id="unknown-keyword"),
    pytest.param(lambda k: k("a", 1)._replace(colour="red"), id="_replace-unknown"),
    pytest.param(lambda k: k._make(["a"]), id="_make-short"),
    pytest.param(lambda k: setattr(k("a", 1), "total", 3), id="immutable"),
    pytest.param(lambda k: k("a", 1).__dict__, id="no-instance-dict"),
    pytest.param(lambda k: isinstance(k("a", 1), tuple), id="a-tuple"),
])
def test_record_behaves_as_named_tuple(action: Callable[[type], Any]) -> None:
    assert _outcome(Ours, action) == _outcome(Theirs, action)


def test_a_record_takes_no_other_base() -> None:
    with pytest.raises(TypeError):
        class Mixed(Record, dict):  # type: ignore[misc, type-arg]
            x: int


def test_a_field_without_default_after_one_with_is_refused() -> None:
    with pytest.raises(TypeError):
        class Late(Record):
            a: int = 1
            b: int  # type: ignore[misc]
