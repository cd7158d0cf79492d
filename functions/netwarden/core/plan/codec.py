"""A plan's operations as JSON data, and back, exactly.

A reviewed plan (``core.plan.document``) is executed as it was saved, never planned again, so each
operation must come back from its file as the very value the planner made: the same fields, the same
types, nothing added or dropped. Operations are frozen dataclasses built of a few kinds of field (text,
whole numbers, booleans, None, tuples of text, JSON mappings, and more such dataclasses: a rule, a
policy, a reference), so one typed walk over their declared fields writes and reads them all, and a
new operation needs no code here (``tests/unit/test_plan_document.py`` round-trips every kind).

Reading is strict: an unknown kind, a missing or unknown field, or a value of another type than the
field declares is a ``CodecError`` naming the JSON path of the value.
"""

from __future__ import annotations

import dataclasses
import types
import typing
from collections.abc import Mapping
from typing import Any

from netwarden.core.plan.steps import Operation, kind_of


class CodecError(ValueError):
    """A value that is not what its field declares: ``path`` (``op.rule.destination_port.min``) and why."""

    def __init__(self, path: str, reason: str) -> None:
        super().__init__(f"{path}: {reason}")
        self.path, self.reason = path, reason


def _kebab(name: str) -> str:
    return "".join("-" + c.lower() if c.isupper() else c for c in name).lstrip("-")


#: Every operation by its kind (``create-rule``...), as ``steps.kind_of`` names it.
KINDS: dict[str, type[Any]] = {_kebab(cls.__name__): cls for cls in typing.get_args(Operation)}


def op_to_data(op: Operation) -> dict[str, Any]:
    """``op`` as JSON data: ``{"kind": ..., <its fields>}``."""
    return {"kind": kind_of(op), **_fields(op)}


def op_from_data(data: Any, path: str) -> Operation:
    """The operation ``data`` (written by ``op_to_data``) stands for; ``CodecError`` for anything else."""
    if type(data) is not dict:
        raise CodecError(path, f"expected an object, got {_kind_of(data)}")
    kind = data.get("kind")
    cls = KINDS.get(kind) if type(kind) is str else None
    if cls is None:
        raise CodecError(f"{path}.kind", f"not an operation netwarden knows: {str(kind)[:60]!r} (known: "
                                         f"{', '.join(sorted(KINDS))})")
    op: Operation = _dataclass(cls, {k: v for k, v in data.items() if k != "kind"}, path)
    return op


def _fields(value: Any) -> dict[str, Any]:
    return {f.name: _data(getattr(value, f.name)) for f in dataclasses.fields(value)}


def _data(value: Any) -> Any:
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return _fields(value)
    if isinstance(value, Mapping):
        return {str(k): _data(v) for k, v in value.items()}
    if isinstance(value, tuple | list):
        return [_data(v) for v in value]
    return value


_HINTS: dict[type[Any], dict[str, Any]] = {}


def _hints(cls: type[Any]) -> dict[str, Any]:
    """The declared field types of ``cls`` (resolved once per class)."""
    found = _HINTS.get(cls)
    if found is None:
        found = _HINTS[cls] = typing.get_type_hints(cls)
    return found


def _dataclass(cls: type[Any], data: Any, path: str) -> Any:
    if type(data) is not dict:
        raise CodecError(path, f"expected an object, got {_kind_of(data)}")
    hints = _hints(cls)
    names = [f.name for f in dataclasses.fields(cls)]
    unknown = sorted(set(data) - set(names))
    if unknown:
        raise CodecError(_join(path, unknown[0]), "unknown field")
    missing = [n for n in names if n not in data]
    if missing:
        raise CodecError(_join(path, missing[0]), "missing")
    return cls(**{n: _read(hints[n], data[n], _join(path, n)) for n in names})


def _read(tp: Any, value: Any, path: str) -> Any:
    origin = typing.get_origin(tp)
    if origin in (types.UnionType, typing.Union):
        options = [a for a in typing.get_args(tp) if a is not type(None)]
        if value is None and len(options) < len(typing.get_args(tp)):
            return None
        if len(options) != 1:  # pragma: no cover - no field of an operation is a union of two types
            raise TypeError(f"{path}: a union of {options} cannot be read")
        return _read(options[0], value, path)
    if tp in (str, int, bool):
        if type(value) is not tp:
            raise CodecError(path, f"expected {_NAMES[tp]}, got {_kind_of(value)}")
        return value
    if origin is tuple:
        if type(value) is not list:
            raise CodecError(path, f"expected a list, got {_kind_of(value)}")
        return tuple(_read(typing.get_args(tp)[0], v, f"{path}[{i}]") for i, v in enumerate(value))
    if origin is Mapping:
        if type(value) is not dict:
            raise CodecError(path, f"expected an object, got {_kind_of(value)}")
        of = typing.get_args(tp)[1]
        return value if of is Any else {k: _read(of, v, _join(path, k)) for k, v in value.items()}
    if isinstance(tp, type) and dataclasses.is_dataclass(tp):
        return _dataclass(tp, value, path)
    raise TypeError(f"{path}: a field of type {tp} cannot be read")  # pragma: no cover - the tests read every kind


_NAMES = {str: "a string", int: "a whole number", bool: "true or false"}


def _kind_of(value: Any) -> str:
    return {dict: "an object", list: "a list", str: "a string", bool: "a boolean", int: "a number",
            float: "a number", type(None): "null"}.get(type(value), type(value).__name__)


def _join(path: str, key: str) -> str:
    return f"{path}.{key}" if path else key
