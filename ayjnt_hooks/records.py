"""``typing.NamedTuple`` without importing :mod:`typing` (7 ms of every commit hook's start).

``class Move(Record): ...`` with annotated fields (and defaults) is, for mypy, exactly a
``typing.NamedTuple`` class; at run time it is a tuple subclass that behaves like one (indexing,
unpacking, equality and hashing as a tuple, keyword construction, defaults, the same ``repr``,
``_fields``, ``_field_defaults``, ``_replace``, ``_asdict``, ``_make``) and is built without
``exec``, which ``collections.namedtuple`` spends a sixth of a millisecond on per class.

A leaf every layer may use, like :mod:`ayjnt_hooks.errors`: it imports nothing of ours.
"""
from __future__ import annotations

from operator import itemgetter

TYPE_CHECKING = False  # (typing is not imported at run time: start-up time counts here)
if TYPE_CHECKING:
    from collections.abc import Iterable
    from typing import Any
    from typing import NamedTuple as Record

try:  # namedtuple's own C field accessor; attribute reads stay as fast as a namedtuple's
    from _collections import _tuplegetter  # type: ignore[import-not-found]
except ImportError:  # pragma: no cover - a Python without the C accelerator
    def _tuplegetter(index: int, doc: str) -> Any:
        return property(itemgetter(index), doc=doc)


class _Base(tuple):  # type: ignore[type-arg]
    """What every record class inherits: namedtuple's methods, written once."""

    __slots__ = ()
    _fields: tuple[str, ...] = ()
    _field_defaults: dict[str, Any] = {}  # noqa: RUF012 - replaced per class, never mutated

    def __new__(cls, *args: Any, **kwargs: Any) -> Any:
        fields = cls._fields
        if len(args) == len(fields) and not kwargs:
            return tuple.__new__(cls, args)
        if len(args) > len(fields):
            raise TypeError(f"{cls.__name__}() takes {len(fields)} positional arguments but "
                            f"{len(args)} were given")
        values = list(args)
        defaults = cls._field_defaults
        for name in fields[len(args):]:
            if name in kwargs:
                values.append(kwargs.pop(name))
            elif name in defaults:
                values.append(defaults[name])
            else:
                raise TypeError(f"{cls.__name__}() missing required argument: {name!r}")
        if kwargs:
            name = next(iter(kwargs))
            why = "got multiple values for argument" if name in fields else \
                "got an unexpected keyword argument"
            raise TypeError(f"{cls.__name__}() {why} {name!r}")
        return tuple.__new__(cls, values)

    @classmethod
    def _make(cls, iterable: Iterable[Any]) -> Any:
        result = tuple.__new__(cls, iterable)
        if len(result) != len(cls._fields):
            raise TypeError(f"Expected {len(cls._fields)} arguments, got {len(result)}")
        return result

    def _replace(self, **changes: Any) -> Any:
        result = tuple.__new__(type(self), [changes.pop(name, value)
                                            for name, value in zip(self._fields, self)])
        if changes:
            raise ValueError(f"Got unexpected field names: {list(changes)!r}")
        return result

    def _asdict(self) -> dict[str, Any]:
        return dict(zip(self._fields, self))

    def __repr__(self) -> str:
        return f"{self.__class__.__name__}(" + ", ".join(
            f"{name}={value!r}" for name, value in zip(self._fields, self)) + ")"

    def __getnewargs__(self) -> tuple[Any, ...]:
        return tuple(self)


class _RecordMeta(type):
    """Turns ``class X(Record)``'s annotations into a tuple subclass of :class:`_Base`."""

    def __new__(mcls, name: str, bases: tuple[type, ...], ns: dict[str, Any]) -> Any:
        if ns.get("_root"):
            return super().__new__(mcls, name, bases, ns)
        if bases != (Record,):
            raise TypeError("a record class derives from Record alone")
        fields = tuple(ns.get("__annotations__", {}))
        defaults: dict[str, Any] = {}
        for field in fields:
            if field in ns:
                defaults[field] = ns.pop(field)
            elif defaults:
                raise TypeError(f"Non-default namedtuple field {field} cannot follow default "
                                f"field(s) {', '.join(defaults)}")
        body = {**ns, "__slots__": (), "_fields": fields, "_field_defaults": defaults,
                "__match_args__": fields}
        for index, field in enumerate(fields):
            body[field] = _tuplegetter(index, f"Alias for field number {index}")
        return type(name, (_Base,), body)


if not TYPE_CHECKING:
    class Record(metaclass=_RecordMeta):
        """Derive from this as from ``typing.NamedTuple``."""

        _root = True

__all__ = ["Record"]
