"""What a snapshot file must be before its content is believed: bounded, UTF-8, plain JSON, typed.

A snapshot file is read as the live state (``check --snapshot``) and as the baseline of a rollback
(``--baseline F``), so a file that is wrong in a quiet way is as dangerous as a bad baseline: a VPC
listed twice lets the second copy win in the diff and hides the drift of the first. The reader
(``core.snapshot_read``) therefore holds a snapshot to the baseline's strictness, and this module
holds the checks it is built from: the size limit and the decoding of the bytes; plain JSON (``NaN``,
unbounded nesting or a key given twice in one object are refused by ``core.strict_json``); typed
access that names the field and, only when there is an error to report, its line; duplicates found
with sets (one pass each, so a 100,000-rule file reads as fast as before); and the ``taken_at``
timestamp.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Mapping
from datetime import datetime
from typing import Any, TypeVar

from netwarden.core import normalize, strict_json
from netwarden.core.errors import Location, SnapshotFormatError
from netwarden.core.model import PortRange
from netwarden.core.strict_json import join, key_text, line_of

#: The largest snapshot file read: 256 MiB. The 100% account of ``benchmarks/scale.py`` (100,000 rules,
#: 20,000 NetworkPolicies) writes about 69 MiB, so this leaves room for an account 3.5 times larger.
MAX_BYTES = 256 * 1024 * 1024

T = TypeVar("T")


def decode(data: bytes | str, source: str) -> str:
    """The text of a file of at most MAX_BYTES bytes of UTF-8; anything else is one error naming it."""
    if len(data) > MAX_BYTES:
        raise SnapshotFormatError(f"cannot read the snapshot file: larger than the {limit()} a snapshot file may "
                                  "have", location=Location(source))
    if isinstance(data, str):
        return data
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as e:
        line = data.count(b"\n", 0, e.start) + 1
        raise SnapshotFormatError(f"cannot read the snapshot file: not UTF-8 (line {line}: byte 0x{data[e.start]:02x} "
                                  f"at offset {e.start}, {e.reason})", location=Location(source)) from e


def limit() -> str:
    """MAX_BYTES as a message says it (``256 MiB``)."""
    mib, rest = divmod(MAX_BYTES, 1024 * 1024)
    return f"{mib} MiB" if mib and not rest else f"{MAX_BYTES} bytes"


def parse(text: str, source: str) -> Any:
    """JSON as a snapshot allows it (``core.strict_json``), or one error naming the file, path and line."""
    try:
        return strict_json.loads(text)
    except strict_json.JsonRefused as e:
        raise SnapshotFormatError(e.reason, location=Location(source, e.line, e.path)) from e


def kind_of(value: Any) -> str:
    return {dict: "an object", list: "a list", str: "a string", bool: "a boolean", int: "a number",
            float: "a number", type(None): "null"}.get(type(value), type(value).__name__)


def shown(value: Any) -> str:
    """A value as a message quotes it: JSON, cut at 40 characters."""
    text = json.dumps(value, ensure_ascii=True, sort_keys=True)
    return text if len(text) <= 40 else text[:37] + "..."


class Reader:
    """Typed access to a snapshot's JSON data; every error names the file, the field and its line."""

    def __init__(self, source: str, text: str) -> None:
        self.source = source
        self.text = text
        self._ports: dict[Any, PortRange | None] = {}

    def fail(self, path: str, message: str) -> SnapshotFormatError:
        line = line_of(self.text, path) if path else None
        return SnapshotFormatError(message, location=Location(self.source, line, path or None))

    def mapping(self, value: Any, path: str, allowed: frozenset[str] | None = None) -> Mapping[str, Any]:
        if type(value) is not dict:
            raise self.fail(path, f"expected an object, got {kind_of(value)}")
        if allowed is not None and not allowed.issuperset(value):
            unknown = sorted(set(value) - allowed)
            raise self.fail(join(path, key_text(unknown[0])), "unknown field")
        return value

    def items(self, data: Mapping[str, Any], key: str, path: str, build: Callable[[Any, str], T]) -> tuple[T, ...]:
        value = data.get(key)
        if value is None:
            if key in data:
                raise self.fail(join(path, key), "expected a list, got null")
            return ()
        where = join(path, key)
        if type(value) is not list:
            raise self.fail(where, f"expected a list, got {kind_of(value)}")
        return tuple(build(item, f"{where}[{i}]") for i, item in enumerate(value))

    def text_of(self, data: Mapping[str, Any], key: str, path: str, *, required: bool = False) -> str | None:
        value = data.get(key)
        if value is None:
            if required:
                raise self.fail(join(path, key), "missing")
            return None
        if type(value) is not str or not value:
            raise self.fail(join(path, key), f"expected a non-empty string, got {kind_of(value)}")
        return value

    def name(self, data: Mapping[str, Any], key: str, path: str) -> str:
        value = data.get(key)
        if type(value) is str and value:
            return value
        return self.text_of(data, key, path, required=True) or ""  # raises: missing, or of a wrong type

    def names(self, data: Mapping[str, Any], keys: tuple[str, ...], path: str) -> list[str]:
        """The required strings ``keys`` of ``data``, in one pass (a rule has six)."""
        values: list[Any] = [data.get(key) for key in keys]
        if all(type(value) is str and value for value in values):
            return values
        return [self.name(data, key, path) for key in keys]  # raises at the first missing or of a wrong type

    def integer(self, data: Mapping[str, Any], key: str, path: str, low: int, high: int) -> int | None:
        """A whole number in ``low..high`` (a boolean is not one, though Python's bool is an int)."""
        value = data.get(key)
        if value is None:
            return None
        if type(value) is not int:
            raise self.fail(join(path, key), f"expected a whole number, got {kind_of(value)}")
        if not low <= value <= high:
            raise self.fail(join(path, key), f"{value} is outside {low}-{high}")
        return value

    def port_range(self, data: Mapping[str, Any], key: str, path: str) -> PortRange | None:
        value = data.get(key)
        if value is None:
            return None
        if type(value) not in (int, str):
            raise self.fail(join(path, key), f"expected a port or a range 'MIN-MAX', got {kind_of(value)}")
        if value not in self._ports:
            try:
                self._ports[value] = normalize.port_range(value, field=key)
            except normalize.NormalizeError as e:
                raise self.fail(join(path, key), e.message) from e
        return self._ports[value]

    def labels(self, data: Mapping[str, Any], key: str, path: str) -> dict[str, str]:
        value = data.get(key)
        if value is None:
            return {}
        if type(value) is not dict or not all(type(v) is str for v in value.values()):
            raise self.fail(join(path, key), "expected an object of string labels")
        return normalize.labels(value)

    def strings(self, data: Mapping[str, Any], key: str, path: str) -> tuple[str, ...]:
        value = data.get(key)
        if value is None:
            return ()
        if type(value) is not list or not all(type(v) is str and v for v in value):
            raise self.fail(join(path, key), "expected a list of non-empty strings")
        return tuple(value)

    def timestamp(self, data: Mapping[str, Any], key: str) -> str | None:
        """An ISO 8601 date and time with a timezone. The key is required; ``null`` says "not a live read"
        (a baseline written as a snapshot)."""
        if key not in data:
            raise self.fail(key, "missing: when the state was read, e.g. \"2026-11-27T10:00:00Z\"")
        value = data[key]
        if value is None:
            return None
        if type(value) is not str:
            raise self.fail(key, f"expected a timestamp string, got {kind_of(value)}")
        try:
            parsed = datetime.fromisoformat(value)
        except ValueError:
            parsed = None
        if parsed is None or parsed.tzinfo is None:
            raise self.fail(key, f"expected an ISO 8601 date and time with a timezone (2026-11-27T10:00:00Z), "
                                 f"got {shown(value)}")
        return value

    def unique(self, keys: Iterable[str | None], path: str, field: str, what: str) -> None:
        """Refuse the second item of ``path`` with the same key (None: no key, never a duplicate)."""
        seen: dict[str, int] = {}
        for i, key in enumerate(keys):
            if key is None:
                continue
            first = seen.setdefault(key, i)
            if first != i:
                raise self.fail(f"{path}[{i}].{field}", f"duplicate {what} {key!r} (also {path}[{first}])")
