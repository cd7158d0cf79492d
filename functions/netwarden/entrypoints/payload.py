"""Bounded JSON for what arrives from outside: the job's ``CE_DATA`` and the function's request body.

``json.loads`` recurses once per nesting level, so 100000 ``[`` in an event is a ``RecursionError``,
not a ``ValueError``; it accepts ``NaN`` and ``Infinity``, which are not JSON; it keeps the last of two
equal keys, so ``{"action": "plan", "action": "remediate"}`` would mean what a reviewer did not read;
and it turns an integer of more than 4300 digits into a ``ValueError`` of its own. ``loads`` refuses
each of these, and anything larger than ``MAX_BYTES``, before or while parsing, as one
``EventFormatError`` line naming where the text came from.
"""

from __future__ import annotations

import json
import math
import re
from typing import Any

from netwarden.core.errors import EventFormatError

#: The largest payload read: the function's body bound, and well above any Activity Tracker event.
MAX_BYTES = 64 * 1024
#: The deepest nesting of arrays and objects read (an Activity Tracker event nests about 5 deep).
MAX_DEPTH = 32

_STRING = re.compile(r'"(?:[^"\\]|\\.)*"', re.DOTALL)
_BRACKET = re.compile(r"[\[\]{}]")


class _Refused(ValueError):
    """A well-formed JSON text netwarden does not read (a duplicate key, a non-finite number)."""


class _NotANumber:
    """Where ``NaN``, ``Infinity`` or a float past the largest stood, so the refusal can name its field."""

    __slots__ = ("text", "why")

    def __init__(self, text: str, why: str) -> None:
        self.text, self.why = text, why


def loads(text: str, *, source: str, max_bytes: int = MAX_BYTES, max_depth: int = MAX_DEPTH) -> Any:
    """The JSON value of ``text``; ``EventFormatError`` (``source: why``) when it is too large, nested
    deeper than ``max_depth``, not JSON, or JSON with NaN, Infinity or a repeated key."""
    size = len(text.encode("utf-8", "surrogatepass"))
    if size > max_bytes:
        raise EventFormatError(f"{size} bytes, larger than {max_bytes} bytes", source=source)
    if nesting(text, stop_after=max_depth) > max_depth:
        raise EventFormatError(f"nested deeper than {max_depth} levels of arrays and objects", source=source)
    try:
        value = json.loads(text, object_pairs_hook=_object, parse_constant=_constant, parse_float=_float)
        _refuse_non_numbers(value)
        return value
    except _Refused as e:
        raise EventFormatError(str(e), source=source) from e
    except json.JSONDecodeError as e:
        raise EventFormatError(f"not JSON: {e.msg} at line {e.lineno} column {e.colno}", source=source) from e
    except (ValueError, RecursionError) as e:  # an integer past Python's digit limit; a depth missed above
        raise EventFormatError(f"not JSON netwarden reads: {str(e)[:120]}", source=source) from e


def nesting(text: str, *, stop_after: int = MAX_DEPTH) -> int:
    """How deep arrays and objects nest in ``text`` (brackets inside strings do not count), without
    recursing; counting stops once past ``stop_after``."""
    level = deepest = 0
    for m in _BRACKET.finditer(_STRING.sub('""', text)):
        if m.group() in "[{":
            level += 1
            deepest = max(deepest, level)
            if deepest > stop_after:
                break
        else:
            level -= 1
    return deepest


def too_deep(value: Any, max_depth: int = MAX_DEPTH) -> bool:
    """Whether an already-decoded value nests lists and dicts deeper than ``max_depth``, found without
    recursing (``json.dumps`` of such a value would be a ``RecursionError``)."""
    stack: list[tuple[Any, int]] = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, dict | list | tuple):
            if depth > max_depth:
                return True
            stack.extend((child, depth + 1) for child in (item.values() if isinstance(item, dict) else item))
    return False


def _object(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in pairs:
        if key in out:
            raise _Refused(f"the key {key[:60]!r} appears twice in one object")
        out[key] = value
    return out


def _constant(name: str) -> Any:
    return _NotANumber(name, "is not a JSON number")


def _float(text: str) -> Any:
    value = float(text)
    return value if math.isfinite(value) else _NotANumber(text[:60], "is too large for a number")


def _refuse_non_numbers(value: Any) -> None:
    """Raise naming the field (``only[0]``) of the first NaN, Infinity or overflowing float, if any."""
    stack: list[tuple[Any, str]] = [(value, "")]
    while stack:
        item, path = stack.pop()
        if isinstance(item, _NotANumber):
            raise _Refused(f"{path or '(top level)'}: {item.text} {item.why}")
        if isinstance(item, dict):
            stack.extend((v, f"{path}.{k[:60]}" if path else k[:60]) for k, v in reversed(item.items()))
        elif isinstance(item, list):
            stack.extend((v, f"{path}[{i}]") for i, v in reversed(list(enumerate(item))))
