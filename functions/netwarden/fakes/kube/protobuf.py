"""The Kubernetes protobuf encoding, read for the objects kubectl sends that way.

``kubectl create namespace`` (and the other typed generators) post ``application/vnd.kubernetes.protobuf``:
the magic ``k8s\\0``, then a ``runtime.Unknown`` whose ``raw`` bytes are the object. The emulator reads
the kinds whose field numbers it knows (a Namespace: its ObjectMeta and spec) into the same JSON
shape a JSON client would have sent; anything else stays a 415, as from a server that cannot decode it.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

MAGIC = b"k8s\x00"
CONTENT_TYPE = "application/vnd.kubernetes.protobuf"

Fields = list[tuple[int, int | bytes]]


class ProtobufError(ValueError):
    pass


def _varint(data: bytes, pos: int) -> tuple[int, int]:
    value = shift = 0
    while True:
        if pos >= len(data):
            raise ProtobufError("truncated varint")
        byte = data[pos]
        pos += 1
        value |= (byte & 0x7F) << shift
        if not byte & 0x80:
            return value, pos
        shift += 7


def fields(data: bytes) -> Fields:
    """The (field number, value) pairs of one message: varints as ints, length-delimited as bytes."""
    out: Fields = []
    pos = 0
    while pos < len(data):
        key, pos = _varint(data, pos)
        number, wire = key >> 3, key & 7
        if wire == 0:
            value, pos = _varint(data, pos)
            out.append((number, value))
        elif wire == 2:
            length, pos = _varint(data, pos)
            if pos + length > len(data):
                raise ProtobufError("truncated field")
            out.append((number, data[pos:pos + length]))
            pos += length
        elif wire in (1, 5):
            pos += 8 if wire == 1 else 4
        else:
            raise ProtobufError(f"unsupported wire type {wire}")
    return out


def _text(value: int | bytes) -> str:
    if not isinstance(value, bytes):
        raise ProtobufError("expected a string")
    return value.decode("utf-8")


def _map_entry(value: int | bytes) -> tuple[str, str]:
    entry = dict(fields(value if isinstance(value, bytes) else b""))
    return _text(entry.get(1, b"")), _text(entry.get(2, b""))


def object_meta(data: bytes) -> dict[str, Any]:
    meta: dict[str, Any] = {}
    names = {1: "name", 2: "generateName", 3: "namespace", 6: "resourceVersion"}
    for number, value in fields(data):
        if number in names and _text(value):  # proto2 strings arrive empty rather than absent
            meta[names[number]] = _text(value)
        elif number in (11, 12):
            key, text = _map_entry(value)
            meta.setdefault("labels" if number == 11 else "annotations", {})[key] = text
        elif number == 14:
            meta.setdefault("finalizers", []).append(_text(value))
    return meta


def _namespace(data: bytes) -> dict[str, Any]:
    obj: dict[str, Any] = {"apiVersion": "v1", "kind": "Namespace"}
    for number, value in fields(data):
        if number == 1 and isinstance(value, bytes):
            obj["metadata"] = object_meta(value)
        elif number == 2 and isinstance(value, bytes):
            finalizers = [_text(v) for n, v in fields(value) if n == 1]
            if finalizers:
                obj["spec"] = {"finalizers": finalizers}
    return obj


DECODERS: dict[str, Callable[[bytes], dict[str, Any]]] = {"Namespace": _namespace}


def decode(body: bytes, kind: str) -> dict[str, Any] | None:
    """The object in a protobuf body as JSON data; None when the kind is not one the emulator reads."""
    if not body.startswith(MAGIC) or kind not in DECODERS:
        return None
    unknown = dict(fields(body[len(MAGIC):]))
    raw = unknown.get(2)
    if not isinstance(raw, bytes):
        raise ProtobufError("no object in the envelope")
    return DECODERS[kind](raw)
