"""JSON as netwarden reads it from what it did not write: plain JSON, and nothing JSON leaves unsaid.

Snapshot files, Activity Tracker events (``CE_DATA``) and the function's request bodies come from
outside, and Python's ``json`` reads more than JSON, quietly: ``NaN`` and ``Infinity``, a float past
the largest (``1e999`` becomes ``inf``), and the last of two equal keys in one object, so
``{"action": "plan", "action": "remediate"}`` or a snapshot with two ``vpcs`` means what no reviewer
read. It also recurses once per nesting level (100,000 ``[`` is a ``RecursionError``, not a
``ValueError``) and refuses an integer of more than 4,300 digits with a ``ValueError`` of its own.

``loads`` refuses each of these as one ``JsonRefused`` naming the JSON path and line of the first
offending value. The common case costs nothing extra: the path is looked for only after a refusal, by
a second parse that marks where the refused parts stood. ``line_of`` finds the line of any path; the
callers translate ``JsonRefused`` into their own error (``SnapshotFormatError``, ``EventFormatError``).
"""

from __future__ import annotations

import json
import math
import re
from typing import Any, NoReturn

from netwarden.core.errors import shown

_STRING = re.compile(r'"(?:[^"\\]|\\.)*"', re.DOTALL)
_BRACKET = re.compile(r"[\[\]{}]")
_PATH_PART = re.compile(r"([^.\[\]]+)|\[(\d+)\]")
_PLAIN_KEY = re.compile(r"[A-Za-z0-9_-]+")


class JsonRefused(ValueError):
    """Text that is not JSON netwarden reads: ``reason``, and where (``path``, ``line``) when known."""

    def __init__(self, reason: str, *, path: str | None = None, line: int | None = None) -> None:
        super().__init__(f"{path}: {reason}" if path else reason)
        self.reason, self.path, self.line = reason, path, line


class _Refused(ValueError):
    """Raised by the strict decoder's hooks; ``loads`` then looks for where."""


def _refuse(_: str) -> NoReturn:
    raise _Refused


def _finite(literal: str) -> float:
    value = float(literal)
    if not math.isfinite(value):
        raise _Refused
    return value


def _unique(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    out = dict(pairs)
    if len(out) != len(pairs):
        raise _Refused
    return out


#: The decoder of plain JSON: every hook raises at the first value JSON does not define.
DECODER = json.JSONDecoder(parse_constant=_refuse, parse_float=_finite, object_pairs_hook=_unique)


def loads(text: str, *, max_depth: int | None = None) -> Any:
    """The JSON value of ``text``; ``JsonRefused`` for anything else, or for nesting past ``max_depth``."""
    if text.startswith("\ufeff"):
        raise JsonRefused("not JSON: Unexpected UTF-8 BOM (write the text as UTF-8 without a byte order mark)", line=1)
    if max_depth is not None and nesting(text, stop_after=max_depth) > max_depth:
        raise JsonRefused(f"nested deeper than {max_depth} levels of arrays and objects")
    try:
        return DECODER.decode(text)
    except json.JSONDecodeError as e:
        raise JsonRefused(f"not JSON: {e.msg} (column {e.colno})", line=e.lineno) from e
    except _Refused as e:
        raise _located(text) from e
    except RecursionError as e:
        raise JsonRefused("nested too deeply to read") from e
    except ValueError as e:  # an integer of more digits than Python converts (4,300)
        raise JsonRefused("a number of more than 4300 digits") from e


class _Mark:
    """Where a refused value stood, in the second parse: what is wrong with it."""

    __slots__ = ("reason",)

    def __init__(self, reason: str) -> None:
        self.reason = reason


def _mark_constant(literal: str) -> _Mark:
    return _Mark(f"{literal} is not a JSON number")


def _mark_float(literal: str) -> float | _Mark:
    value = float(literal)
    return value if math.isfinite(value) else _Mark(f"{literal[:40]} is too large for a number")


def _mark_twice(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in pairs:
        out[key] = _Mark(f"the key {shown(key)} appears twice in one object (JSON would keep the second and drop "
                         "the first unseen)") if key in out else value
    return out


_MARKING = json.JSONDecoder(parse_constant=_mark_constant, parse_float=_mark_float, object_pairs_hook=_mark_twice)


def _located(text: str) -> JsonRefused:
    """The refusal of the first marked value of ``text`` in document order, with its path and line."""
    stack: list[tuple[Any, str]] = [(_MARKING.decode(text), "")]
    while stack:
        item, path = stack.pop()
        if isinstance(item, _Mark):
            return JsonRefused(item.reason, path=path or None, line=line_of(text, path) if path else None)
        if isinstance(item, dict):
            stack.extend((v, join(path, key_text(k))) for k, v in reversed(item.items()))
        elif isinstance(item, list):
            stack.extend((v, f"{path}[{i}]") for i, v in reversed(list(enumerate(item))))
    return JsonRefused("not plain JSON")  # not reached: the strict decoder refused something the walk marks


def nesting(text: str, *, stop_after: int) -> int:
    """How deep arrays and objects nest in ``text`` (brackets inside strings do not count), found without
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


def too_deep(value: Any, max_depth: int) -> bool:
    """Whether a decoded value nests lists and dicts deeper than ``max_depth``, found without recursing."""
    stack: list[tuple[Any, int]] = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, dict | list | tuple):
            if depth > max_depth:
                return True
            stack.extend((child, depth + 1) for child in (item.values() if isinstance(item, dict) else item))
    return False


def key_text(key: str) -> str:
    """A key as a path shows it: plain keys bare, anything else quoted and escaped (one line, printable)."""
    return key if _PLAIN_KEY.fullmatch(key) else ascii(key)


def join(path: str, key: str) -> str:
    return f"{path}.{key}" if path else key


def line_of(text: str, path: str) -> int | None:
    """The line on which the value at ``path`` (``vpcs[1].acls[0].name``) starts; None when it cannot be
    found. Walks only the objects and lists along the path, skipping siblings whole."""
    parts: list[str | int] = [int(m.group(2)) if m.group(2) is not None else m.group(1)
                              for m in _PATH_PART.finditer(path)]
    try:
        pos = _space(text, 0)
        for part in parts:
            found = _child(text, pos, part)
            if found is None:
                return None
            pos = found
    except (ValueError, IndexError, RecursionError):
        return None
    return text.count("\n", 0, pos) + 1


def _space(text: str, pos: int) -> int:
    while pos < len(text) and text[pos] in " \t\n\r":
        pos += 1
    return pos


def _child(text: str, pos: int, part: str | int) -> int | None:
    """Where the value of ``part`` (a key, or an index) of the object or list at ``pos`` starts."""
    opener, closer = ("[", "]") if isinstance(part, int) else ("{", "}")
    if text[pos] != opener:
        return None
    pos = _space(text, pos + 1)
    index, found = 0, None
    while text[pos] != closer:
        if isinstance(part, int):
            if index == part:
                return pos
        else:
            key, pos = _MARKING.raw_decode(text, pos)
            pos = _space(text, _space(text, pos) + 1)  # past the colon
            if key_text(key) == part:
                found = pos  # the last of equal keys is the one JSON keeps
        _, pos = _MARKING.raw_decode(text, pos)
        pos = _space(text, pos)
        if text[pos] == ",":
            pos = _space(text, pos + 1)
        index += 1
    return found
