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

import json
from collections.abc import Mapping, Sequence
from typing import Any

from netwarden.core.netpol import syntax
from netwarden.core.netpol.decode import DECODE, Violation, decode_errors

__all__ = ["API_VERSION", "DECODE", "HOST_BITS", "KIND", "Violation", "decode_errors", "label_selector", "labels",
           "stored", "validate"]

API_VERSION = "networking.k8s.io/v1"
KIND = "NetworkPolicy"
INVALID, REQUIRED, NOT_SUPPORTED = "FieldValueInvalid", "FieldValueRequired", "FieldValueNotSupported"
FORBIDDEN, TOO_LONG = "FieldValueForbidden", "FieldValueTooLong"
_ANNOTATIONS_LIMIT = 256 * 1024


HOST_BITS = syntax.HOST_BITS


def stored(violations: list[Violation]) -> list[Violation]:
    """The violations that would keep a policy out of *any* supported cluster. An ipBlock CIDR with host
    bits set is refused from Kubernetes 1.36 (StrictIPCIDRValidation) but accepted and kept by the
    releases before it, which IKS and ROKS still run: a cluster may hold one, so a baseline or snapshot
    that holds one is read (the comparison masks it, ``core.normalize``), not refused."""
    return [v for v in violations if not (v.message.endswith(HOST_BITS) and ".ipBlock." in f".{v.field}")]


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
