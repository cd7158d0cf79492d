"""A NetworkPolicy checked as the Kubernetes API server checks it, in the server's own words.

Two users need exactly the server's verdict: the baseline reader (what the server would refuse must
not sit in a baseline that remediation will apply; what it accepts must load) and the Kubernetes
emulator (its admission must refuse what a real cluster refuses). ``validate`` runs the server's two
stages in its order:

1. **Decoding** (HTTP 400 ``BadRequest``): the body is decoded into the typed object with strict field
   validation, which ``kubectl apply`` asks for by default. A value of the wrong JSON type is refused
   with Go's ``cannot unmarshal`` message; otherwise every unknown field is refused (``unknown field
   "spec.ingress[0].from[0].NamespaceSelector"``). When decoding fails, validation is not reached.
2. **Validation** (HTTP 422 ``Invalid``): ``ValidateNetworkPolicy`` of kubernetes
   ``pkg/apis/networking/validation/validation.go`` and the ObjectMeta and LabelSelector rules it
   calls: name a DNS-1123 subdomain, namespace a DNS-1123 label, label keys and values, selector
   operators (In/NotIn need values, Exists/DoesNotExist take none), protocol TCP/UDP/SCTP, port
   1-65535 or an IANA_SVC_NAME, ``endPort`` only with a numeric ``port`` and not below it, a peer needs
   one field and an ``ipBlock`` stands alone, ``cidr`` and each ``except`` valid CIDRs (strict, as from
   Kubernetes 1.36), each ``except`` a strict subset of ``cidr``, ``policyTypes`` Ingress/Egress.

As the server does, a missing ``apiVersion``/``kind`` is accepted (the endpoint implies them; the
baseline reader requires them, as ``kubectl`` does) and a missing ``metadata.namespace`` is left to the
caller, who knows the namespace of the request. Each problem is a ``Violation``: the field path, the
message as the server words it, and the reason (a ``StatusCause`` type, or ``BadRequest`` for decoding).

Why not the ``kubernetes-validate`` package: version 1.37.0 is a 22.5 MB wheel that installs 72 MB in
16,954 files (the OpenAPI schemas of every Kubernetes release), it checks only the schema (none of the
semantic rules above), and a drift detector that runs as a serverless job should stay small. So it is
neither a runtime nor a test dependency; the schema table below is instead cross-checked in the tests
against the field tables of the ``kubernetes`` client's models, which netwarden already depends on.
"""

from __future__ import annotations

import datetime
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from netwarden.core.netpol import syntax

API_VERSION = "networking.k8s.io/v1"
KIND = "NetworkPolicy"
#: The reason of a violation found while decoding: the server answers 400 and validates nothing.
DECODE = "BadRequest"
INVALID, REQUIRED, NOT_SUPPORTED = "FieldValueInvalid", "FieldValueRequired", "FieldValueNotSupported"
FORBIDDEN, TOO_LONG = "FieldValueForbidden", "FieldValueTooLong"
_ANNOTATIONS_LIMIT = 256 * 1024


@dataclass(frozen=True, slots=True)
class Violation:
    """One problem: ``field`` (``spec.ingress[0].from[0].ipBlock.except[0]``), the server's message, and
    its reason (``FieldValueInvalid``..., or ``BadRequest`` for a body the server cannot decode)."""

    field: str
    message: str
    reason: str

    def __str__(self) -> str:
        return f"{self.field}: {self.message}" if self.field else self.message


def validate(manifest: Mapping[str, Any]) -> list[Violation]:
    """All the reasons the API server would refuse ``manifest`` on create; empty when it accepts it."""
    decoding = decode_errors(manifest)
    if decoding:
        return decoding
    out: list[Violation] = []
    if manifest.get("apiVersion") not in (None, "", API_VERSION):
        out.append(Violation("apiVersion", f"Invalid value: {_q(manifest['apiVersion'])}: must be {API_VERSION!r}",
                             DECODE))
    if manifest.get("kind") not in (None, "", KIND):
        out.append(Violation("kind", f"Invalid value: {_q(manifest['kind'])}: must be {KIND!r}", DECODE))
    if out:
        return out
    _metadata(manifest.get("metadata") or {}, out)
    _spec(manifest.get("spec") or {}, out)
    return out


# --- stage 1: decoding ----------------------------------------------------------------------------

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


# --- stage 2: validation -------------------------------------------------------------------------


def _q(value: Any) -> str:
    """A bad value as the server prints it: strings quoted, numbers and booleans bare."""
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    return json.dumps(value, sort_keys=True, default=str)


def _invalid(out: list[Violation], path: str, value: Any, detail: str) -> None:
    out.append(Violation(path, f"Invalid value: {_q(value)}: {detail}", INVALID))


def _required(out: list[Violation], path: str, detail: str = "") -> None:
    out.append(Violation(path, f"Required value: {detail}" if detail else "Required value", REQUIRED))


def _forbidden(out: list[Violation], path: str, detail: str) -> None:
    out.append(Violation(path, f"Forbidden: {detail}", FORBIDDEN))


def _not_supported(out: list[Violation], path: str, value: Any, supported: Sequence[str]) -> None:
    values = ", ".join(json.dumps(s) for s in supported)
    out.append(Violation(path, f"Unsupported value: {_q(value)}: supported values: {values}", NOT_SUPPORTED))


def _metadata(meta: Mapping[str, Any], out: list[Violation]) -> None:
    name, generate = meta.get("name") or "", meta.get("generateName") or ""
    if generate:
        for msg in syntax.dns1123_subdomain(_mask_trailing_dash(generate)):
            _invalid(out, "metadata.generateName", generate, msg)
    if not name and not generate:
        _required(out, "metadata.name", "name or generateName is required")
    elif name:
        for msg in syntax.dns1123_subdomain(name):
            _invalid(out, "metadata.name", name, msg)
    namespace = meta.get("namespace") or ""
    if namespace:
        for msg in syntax.dns1123_label(namespace):
            _invalid(out, "metadata.namespace", namespace, msg)
    generation = meta.get("generation")
    if generation is not None and generation < 0:
        _invalid(out, "metadata.generation", generation, "must be greater than or equal to 0")
    labels(meta.get("labels") or {}, "metadata.labels", out)
    annotations = meta.get("annotations") or {}
    for key in annotations:
        for msg in syntax.label_key(str(key).lower()):
            _invalid(out, "metadata.annotations", key, msg)
    if sum(len(str(k)) + len(v or "") for k, v in annotations.items()) > _ANNOTATIONS_LIMIT:
        out.append(Violation("metadata.annotations", f"Too long: must have at most {_ANNOTATIONS_LIMIT} bytes",
                             TOO_LONG))
    for i, raw_ref in enumerate(meta.get("ownerReferences") or []):
        ref, where = raw_ref or {}, f"metadata.ownerReferences[{i}]"
        if not str(ref.get("apiVersion") or "").rpartition("/")[2]:
            _invalid(out, f"{where}.apiVersion", ref.get("apiVersion") or "", "version must not be empty")
        for key in ("kind", "name", "uid"):
            if not ref.get(key):
                _invalid(out, f"{where}.{key}", "", "must not be empty")
    for finalizer in meta.get("finalizers") or []:
        for msg in syntax.label_key(finalizer or ""):
            _invalid(out, "metadata.finalizers", finalizer or "", msg)
    for i, raw_entry in enumerate(meta.get("managedFields") or []):
        entry = raw_entry or {}
        if entry.get("operation") not in ("Apply", "Update"):
            _invalid(out, f"metadata.managedFields[{i}].operation", entry.get("operation") or "",
                     "must be `Apply` or `Update`")
        if entry.get("fieldsType") not in (None, "", "FieldsV1"):
            _invalid(out, f"metadata.managedFields[{i}].fieldsType", entry["fieldsType"], "must be `FieldsV1`")


def _mask_trailing_dash(name: str) -> str:
    return name[:-1] + "a" if len(name) > 1 and name.endswith("-") else name


def labels(values: Mapping[str, Any], path: str, out: list[Violation]) -> None:
    """``ValidateLabels``: each key a qualified name, each value a label value."""
    for key, value in values.items():
        for msg in syntax.label_key(str(key)):
            _invalid(out, path, str(key), msg)
        for msg in syntax.label_value(value or ""):
            _invalid(out, path, value or "", msg)


def label_selector(selector: Mapping[str, Any], path: str, out: list[Violation]) -> None:
    """``ValidateLabelSelector``: matchLabels as labels; each requirement's operator, values and key."""
    labels(selector.get("matchLabels") or {}, f"{path}.matchLabels", out)
    for i, raw_req in enumerate(selector.get("matchExpressions") or []):
        req = raw_req or {}
        where = f"{path}.matchExpressions[{i}]"
        operator, values = req.get("operator") or "", req.get("values") or []
        if operator in ("In", "NotIn"):
            if not values:
                _required(out, f"{where}.values", "must be specified when `operator` is 'In' or 'NotIn'")
        elif operator in ("Exists", "DoesNotExist"):
            if values:
                _forbidden(out, f"{where}.values", "may not be specified when `operator` is 'Exists' or 'DoesNotExist'")
        else:
            _invalid(out, f"{where}.operator", operator, "not a valid selector operator")
        key = req.get("key") or ""
        for msg in syntax.label_key(key):
            _invalid(out, f"{where}.key", key, msg)
        for j, value in enumerate(values):
            for msg in syntax.label_value(value or ""):
                _invalid(out, f"{where}.values[{j}]", value or "", msg)


def _port(port: Mapping[str, Any], path: str, out: list[Violation]) -> None:
    protocol = port.get("protocol")
    if protocol is not None and protocol not in ("TCP", "UDP", "SCTP"):
        _not_supported(out, f"{path}.protocol", protocol, ("TCP", "UDP", "SCTP"))
    number, end = port.get("port"), port.get("endPort")
    if number is None:
        if end is not None:
            _invalid(out, f"{path}.endPort", end, "may not be specified when `port` is not specified")
    elif isinstance(number, int):
        for msg in syntax.port_number(number):
            _invalid(out, f"{path}.port", number, msg)
        if end is not None:
            if end < number:
                _invalid(out, f"{path}.endPort", end, "must be greater than or equal to `port`")
            for msg in syntax.port_number(end):
                _invalid(out, f"{path}.endPort", end, msg)
    else:
        if end is not None:
            _invalid(out, f"{path}.endPort", end, "may not be specified when `port` is non-numeric")
        for msg in syntax.port_name(number):
            _invalid(out, f"{path}.port", number, msg)


def _ip_block(block: Mapping[str, Any], path: str, out: list[Violation]) -> None:
    value = block.get("cidr") or ""
    if not value:
        _required(out, f"{path}.cidr")
        return
    network, messages = syntax.cidr(value)
    for msg in messages:
        _invalid(out, f"{path}.cidr", value, msg)
    if network is None:
        return
    for i, raw_except in enumerate(block.get("except") or []):
        except_value = raw_except or ""
        where = f"{path}.except[{i}]"
        inner, messages = syntax.cidr(except_value)
        for msg in messages:
            _invalid(out, where, except_value, msg)
        if inner is None:
            continue
        if (inner.version != network.version or inner.network_address not in network
                or network.prefixlen >= inner.prefixlen):
            _invalid(out, where, except_value, "must be a strict subset of `cidr`")


def _peer(peer: Mapping[str, Any], path: str, out: list[Violation]) -> None:
    count = 0
    for key in ("podSelector", "namespaceSelector"):
        if peer.get(key) is not None:
            count += 1
            label_selector(peer[key], f"{path}.{key}", out)
    if peer.get("ipBlock") is not None:
        count += 1
        _ip_block(peer["ipBlock"], f"{path}.ipBlock", out)
    if count == 0:
        _required(out, path, "must specify a peer")
    elif count > 1 and peer.get("ipBlock") is not None:
        _forbidden(out, path, "may not specify both ipBlock and another peer")


def _spec(spec: Mapping[str, Any], out: list[Violation]) -> None:
    label_selector(spec.get("podSelector") or {}, "spec.podSelector", out)
    for direction, peers in (("ingress", "from"), ("egress", "to")):
        for i, raw_rule in enumerate(spec.get(direction) or []):
            rule = raw_rule or {}
            for j, port in enumerate(rule.get("ports") or []):
                _port(port or {}, f"spec.{direction}[{i}].ports[{j}]", out)
            for j, peer in enumerate(rule.get(peers) or []):
                _peer(peer or {}, f"spec.{direction}[{i}].{peers}[{j}]", out)
    types = [t or "" for t in spec.get("policyTypes") or []]
    if len(types) > 2:
        _invalid(out, "spec.policyTypes", types, "may not specify more than two policyTypes")
        return
    for i, value in enumerate(types):
        if value not in ("Ingress", "Egress"):
            _not_supported(out, f"spec.policyTypes[{i}]", value, ("Ingress", "Egress"))
