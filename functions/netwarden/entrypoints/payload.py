"""Bounded JSON for what arrives from outside: the job's ``CE_DATA`` and the function's request body.

An event or a request is small, so anything larger than ``MAX_BYTES`` or nested deeper than
``MAX_DEPTH`` is refused before it is parsed; what is parsed is plain JSON (``core.strict_json``: no
``NaN``, no repeated key, no ``RecursionError``). Each refusal is one ``EventFormatError`` line naming
where the text came from and, when it can, the field.
"""

from __future__ import annotations

from typing import Any

from netwarden.core import strict_json
from netwarden.core.errors import EventFormatError

#: The largest payload read: the function's body bound, and well above any Activity Tracker event.
MAX_BYTES = 64 * 1024
#: The deepest nesting of arrays and objects read (an Activity Tracker event nests about 5 deep).
MAX_DEPTH = 32


def loads(text: str, *, source: str, max_bytes: int = MAX_BYTES, max_depth: int = MAX_DEPTH) -> Any:
    """The JSON value of ``text``; ``EventFormatError`` (``source: why``) when it is too large, nested
    deeper than ``max_depth``, not JSON, or JSON with NaN, Infinity or a repeated key."""
    size = len(text.encode("utf-8", "surrogatepass"))
    if size > max_bytes:
        raise EventFormatError(f"{size} bytes, larger than {max_bytes} bytes", source=source)
    try:
        return strict_json.loads(text, max_depth=max_depth)
    except strict_json.JsonRefused as e:
        where = f" at line {e.line}" if e.line is not None and e.path is None else ""
        raise EventFormatError(f"{e.reason}{where}", field=e.path, source=source) from e


def too_deep(value: Any, max_depth: int = MAX_DEPTH) -> bool:
    """Whether an already-decoded value nests deeper than ``max_depth`` (``json.dumps`` of it would recurse)."""
    return strict_json.too_deep(value, max_depth)
