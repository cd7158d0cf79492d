"""Decoding a request body as the API server does, before any admission runs.

The API server unmarshals JSON into Go structs: a value of the wrong JSON type is refused with Go's
``json: cannot unmarshal ...`` message (400), and a field the struct does not have is dropped. With
``fieldValidation=Strict`` (what kubectl sends by default) unknown fields are refused instead; with
``Warn`` (the default since 1.23) each one comes back as a ``Warning`` header. This is how the
recipe's ``NamespaceSelector`` and ``ports:`` written as a mapping are caught by a real cluster.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from netwarden.fakes.kube.exceptions import BadRequest
from netwarden.fakes.kube.kinds import Kind, ListOf, MapOf, Struct, Type

FIELD_VALIDATION = ("Ignore", "Warn", "Strict")


@dataclass(slots=True)
class Decoded:
    """The body with unknown fields dropped, and the warnings to send (``unknown field "spec.x"``)."""

    body: dict[str, Any]
    warnings: list[str] = field(default_factory=list)


class _TypeError(Exception):
    pass


def _json_type(value: Any) -> str:
    if isinstance(value, dict):
        return "object"
    if isinstance(value, list):
        return "array"
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, int | float):
        return f"number {value}"
    return "string"


def _go_type(t: Type) -> str:
    if isinstance(t, Struct):
        return t.go
    if isinstance(t, ListOf):
        return "[]" + _go_type(t.item)
    if isinstance(t, MapOf):
        return "map[string]" + _go_type(t.value)
    return "interface {}" if t == "any" else t


def _scalar_ok(t: str, value: Any) -> bool:
    if t == "any":
        return True
    if t == "string":
        return isinstance(value, str)
    if t == "bool":
        return isinstance(value, bool)
    if t in ("int32", "int64"):
        return isinstance(value, int) and not isinstance(value, bool)
    if t == "intstr.IntOrString":
        return isinstance(value, str) or (isinstance(value, int) and not isinstance(value, bool))
    return True


class _Decoder:
    def __init__(self) -> None:
        self.unknown: list[str] = []

    def value(self, t: Type, value: Any, where: str, path: str, owner: str) -> Any:
        """Check ``value`` against ``t``; ``where`` is the path with indexes (for unknown fields),
        ``path`` without (for Go's type errors), ``owner`` the Go struct holding the field."""
        if value is None:
            return None
        if isinstance(t, Struct):
            if not isinstance(value, dict):
                raise _TypeError(self._message(value, owner, path, t))
            return self.struct(t, value, where, path)
        if isinstance(t, ListOf):
            if not isinstance(value, list):
                raise _TypeError(self._message(value, owner, path, t))
            return [self.value(t.item, v, f"{where}[{i}]", path, owner) for i, v in enumerate(value)]
        if isinstance(t, MapOf):
            if not isinstance(value, dict):
                raise _TypeError(self._message(value, owner, path, t))
            return {k: self.value(t.value, v, f"{where}.{k}", path, owner) for k, v in value.items()}
        if not _scalar_ok(t, value):
            raise _TypeError(self._message(value, owner, path, t))
        return value

    def struct(self, t: Struct, value: dict[str, Any], where: str, path: str) -> dict[str, Any]:
        out: dict[str, Any] = {}
        owner = t.go.split(".", 1)[-1]
        for key, item in value.items():
            sub_where = f"{where}.{key}" if where else key
            sub_path = f"{path}.{key}" if path else key
            if key in t.fields:
                out[key] = self.value(t.fields[key], item, sub_where, sub_path, owner)
            elif t.open:
                out[key] = item
            else:
                self.unknown.append(sub_where)
        return out

    @staticmethod
    def _message(value: Any, owner: str, path: str, t: Type) -> str:
        return f"json: cannot unmarshal {_json_type(value)} into Go struct field {owner}.{path} of type {_go_type(t)}"


def decode(kind: Kind, body: Any, validation: str | None) -> Decoded:
    """Decode ``body`` as a ``kind`` object under ``fieldValidation=validation`` (None: Warn)."""
    mode = validation or "Warn"
    if mode not in FIELD_VALIDATION:
        raise BadRequest(f'fieldValidation must be one of "Ignore", "Warn" or "Strict", got "{mode}"')
    prefix = f'{kind.kind} in version "{kind.version}" cannot be handled as a {kind.kind}'
    if not isinstance(body, dict):
        raise BadRequest(f"{prefix}: json: cannot unmarshal {_json_type(body)} into Go value of type "
                         f"{kind.schema.go}")
    decoder = _Decoder()
    try:
        out = decoder.struct(kind.schema, body, "", "")
    except _TypeError as e:
        raise BadRequest(f"{prefix}: {e}") from e
    unknown = [f'unknown field "{u}"' for u in decoder.unknown]
    if unknown and mode == "Strict":
        raise BadRequest(f"{prefix}: strict decoding error: {', '.join(unknown)}")
    return Decoded(out, unknown if mode == "Warn" else [])
