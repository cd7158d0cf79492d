"""Stage 1 of the API server's check of a NetworkPolicy (``core.netpol.validate``): strict decoding.

The body is decoded into the typed v1 object as the server does with strict field validation (what
``kubectl apply`` asks for by default): a value of the wrong JSON type is refused with Go's ``cannot
unmarshal`` message; otherwise every unknown field is refused. When decoding fails, the server answers
400 ``BadRequest`` and validates nothing. ``Violation``, the one problem both stages report, lives here.
"""

from __future__ import annotations

import datetime
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

#: The reason of a violation found while decoding: the server answers 400 and validates nothing.
DECODE = "BadRequest"


@dataclass(frozen=True, slots=True)
class Violation:
    """One problem: ``field`` (``spec.ingress[0].from[0].ipBlock.except[0]``), the server's message, and
    its reason (``FieldValueInvalid``..., or ``BadRequest`` for a body the server cannot decode)."""

    field: str
    message: str
    reason: str

    def __str__(self) -> str:
        return f"{self.field}: {self.message}" if self.field else self.message


# The v1 types as the server decodes them: struct name -> JSON field -> Go type. Kept to what a
# NetworkPolicy can carry; a field not listed is an unknown field.
STRUCTS: dict[str, dict[str, str]] = {
    "NetworkPolicy": {"apiVersion": "string", "kind": "string", "metadata": "ObjectMeta", "spec": "NetworkPolicySpec"},
    "ObjectMeta": {
        "name": "string", "generateName": "string", "namespace": "string", "selfLink": "string", "uid": "string",
        "resourceVersion": "string", "generation": "int64", "creationTimestamp": "Time", "deletionTimestamp": "Time",
        "deletionGracePeriodSeconds": "int64", "labels": "map[string]string", "annotations": "map[string]string",
        "ownerReferences": "[]OwnerReference", "finalizers": "[]string", "managedFields": "[]ManagedFieldsEntry",
    },
    "OwnerReference": {"apiVersion": "string", "kind": "string", "name": "string", "uid": "string",
                       "controller": "bool", "blockOwnerDeletion": "bool"},
    "ManagedFieldsEntry": {"manager": "string", "operation": "string", "apiVersion": "string", "time": "Time",
                           "fieldsType": "string", "fieldsV1": "RawJSON", "subresource": "string"},
    "NetworkPolicySpec": {"podSelector": "LabelSelector", "ingress": "[]NetworkPolicyIngressRule",
                          "egress": "[]NetworkPolicyEgressRule", "policyTypes": "[]string"},
    "NetworkPolicyIngressRule": {"ports": "[]NetworkPolicyPort", "from": "[]NetworkPolicyPeer"},
    "NetworkPolicyEgressRule": {"ports": "[]NetworkPolicyPort", "to": "[]NetworkPolicyPeer"},
    "NetworkPolicyPeer": {"podSelector": "LabelSelector", "namespaceSelector": "LabelSelector", "ipBlock": "IPBlock"},
    "IPBlock": {"cidr": "string", "except": "[]string"},
    "NetworkPolicyPort": {"protocol": "string", "port": "IntOrString", "endPort": "int32"},
    "LabelSelector": {"matchLabels": "map[string]string", "matchExpressions": "[]LabelSelectorRequirement"},
    "LabelSelectorRequirement": {"key": "string", "operator": "string", "values": "[]string"},
}
_GO_NAMES = {"IntOrString": "intstr.IntOrString", "Time": "v1.Time", "RawJSON": "v1.FieldsV1"}
_INT_RANGES = {"int32": (-(2**31), 2**31 - 1), "int64": (-(2**63), 2**63 - 1)}


class _TypeError(Exception):
    def __init__(self, violation: Violation) -> None:
        self.violation = violation


def decode_errors(manifest: Any) -> list[Violation]:
    """Stage 1 alone: the first type error, or else every unknown field (strict decoding)."""
    if not isinstance(manifest, Mapping):
        return [Violation("", f"json: cannot unmarshal {_json_kind(manifest)} into Go value of type v1.NetworkPolicy",
                          DECODE)]
    if _decodes(manifest, "NetworkPolicy"):
        return []
    unknown: list[str] = []
    try:
        _decode_struct(manifest, "NetworkPolicy", "", unknown)
    except _TypeError as e:
        return [e.violation]
    return [Violation(path, f'unknown field "{path}"', DECODE) for path in unknown]


def _decodes(value: Any, typ: str) -> bool:
    """True when ``value`` certainly decodes as ``typ`` with no error and no unknown field: a quick pass
    that builds no paths. False means "look closer": ``_decode`` then finds (and words) the problem."""
    if typ.startswith("[]"):
        item_type = typ[2:]
        return type(value) is list and all(item is None or _decodes(item, item_type) for item in value)
    fields = STRUCTS.get(typ)
    if fields is not None:
        if type(value) is not dict:
            return False
        for key, item in value.items():
            field_type = fields.get(key) if type(key) is str else None
            if field_type is None or (item is not None and not _decodes(item, field_type)):
                return False
        return True
    if typ == "string":
        return type(value) is str
    if typ == "map[string]string":
        return type(value) is dict and all(item is None or type(item) is str for item in value.values())
    if typ == "IntOrString":
        return type(value) is str or (type(value) is int and -(2**31) <= value < 2**31)
    if typ in _INT_RANGES:
        low, high = _INT_RANGES[typ]
        return type(value) is int and low <= value <= high
    if typ == "bool":
        return type(value) is bool
    return typ == "RawJSON"


def _go_type(typ: str) -> str:
    if typ.startswith("[]"):
        return "[]" + _go_type(typ[2:])
    if typ in STRUCTS:
        return f"v1.{typ}"
    return _GO_NAMES.get(typ, typ)


def _json_kind(value: Any) -> str:
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, int | float):
        return f"number {value}"
    if isinstance(value, str | datetime.date):
        return "string"
    if isinstance(value, Mapping):
        return "object"
    return "array" if isinstance(value, Sequence) else type(value).__name__


def _type_error(value: Any, typ: str, path: str, struct: str) -> _TypeError:
    go_field = ".".join(part.split("[")[0] for part in path.split("."))
    return _TypeError(Violation(path, f"json: cannot unmarshal {_json_kind(value)} into Go struct field "
                                      f"{struct}.{go_field} of type {_go_type(typ)}", DECODE))


def _decode_struct(value: Mapping[Any, Any], struct: str, path: str, unknown: list[str]) -> None:
    fields = STRUCTS[struct]
    for key, item in value.items():
        child = f"{path}.{key}" if path else str(key)
        typ = fields.get(str(key))
        if typ is None:
            unknown.append(child)
        elif item is not None:
            _decode(item, typ, child, struct, unknown)


def _decode(value: Any, typ: str, path: str, struct: str, unknown: list[str]) -> None:
    if typ.startswith("[]"):
        if isinstance(value, str | bytes | Mapping) or not isinstance(value, Sequence):
            raise _type_error(value, typ, path, struct)
        for i, item in enumerate(value):
            if item is not None:
                _decode(item, typ[2:], f"{path}[{i}]", struct, unknown)
    elif typ in STRUCTS:
        if not isinstance(value, Mapping):
            raise _type_error(value, typ, path, struct)
        _decode_struct(value, typ, path, unknown)
    elif typ == "map[string]string":
        if not isinstance(value, Mapping):
            raise _type_error(value, typ, path, struct)
        for item in value.values():
            if item is not None and not isinstance(item, str):
                raise _type_error(item, "string", path, struct)
    elif typ in ("string", "Time"):
        if not isinstance(value, str) and not (typ == "Time" and isinstance(value, datetime.date)):
            raise _type_error(value, typ, path, struct)
    elif typ in _INT_RANGES:
        low, high = _INT_RANGES[typ]
        if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
            raise _type_error(value, typ, path, struct)
    elif typ == "IntOrString":
        if isinstance(value, str):
            return
        if isinstance(value, bool) or not isinstance(value, int) or not -(2**31) <= value < 2**31:
            raise _type_error(value, typ, path, struct)
    elif typ == "bool" and not isinstance(value, bool):
        raise _type_error(value, typ, path, struct)
    # RawJSON (managedFields[].fieldsV1) takes any value.
