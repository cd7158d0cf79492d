"""What the API server does to an object between decoding and storage: defaulting, then validation.

Defaults are the ones a client reads back from a real cluster (a NetworkPolicy's ``policyTypes`` and
port protocol, a namespace's ``kubernetes.io/metadata.name`` label and ``Active`` phase, a pod's
restart and DNS policy). Validation refuses what the API server refuses with a 422 ``Invalid``
whose causes carry the server's field paths and words: a NetworkPolicy through
``core.netpol.validate`` (the same rules the baseline linter uses), the other kinds' metadata and
the pod spec rules a test can meet through ``podspec``, the ``apps/v1`` kinds through ``workloads``.
``generation`` is the server's too: which writes start or bump ``metadata.generation``.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Mapping
from typing import Any

from netwarden.core.netpol import syntax as k8s_syntax
from netwarden.fakes.kube import podspec, workloads
from netwarden.fakes.kube.exceptions import BadRequest, Cause, Invalid, Resource
from netwarden.fakes.kube.kinds import NAMESPACES, NETWORK_POLICIES, NODES, PODS, STATEFUL_SETS, WORKLOADS, Kind
from netwarden.fakes.kube.podspec import invalid_value, required

Object = dict[str, Any]
NAME_LABEL = "kubernetes.io/metadata.name"

# --- defaults ------------------------------------------------------------------------------------


def _default_netpol(obj: Object) -> None:
    spec = obj.setdefault("spec", {})
    if spec.get("podSelector") is None:
        spec["podSelector"] = {}
    if not spec.get("policyTypes"):
        spec["policyTypes"] = ["Ingress", "Egress"] if spec.get("egress") else ["Ingress"]
    for direction in ("ingress", "egress"):
        for rule in spec.get(direction) or []:
            for port in (rule or {}).get("ports") or []:
                if isinstance(port, dict) and not port.get("protocol"):
                    port["protocol"] = "TCP"
        if spec.get(direction) == []:
            del spec[direction]


def _default_namespace(obj: Object) -> None:
    meta = obj["metadata"]
    meta.setdefault("labels", {})[NAME_LABEL] = meta.get("name", "")
    obj.setdefault("spec", {}).setdefault("finalizers", ["kubernetes"])
    obj.setdefault("status", {})["phase"] = obj.get("status", {}).get("phase") or "Active"


def _default_pod(obj: Object) -> None:
    podspec.default_pod_spec(obj.setdefault("spec", {}), pod=True)
    obj.setdefault("status", {}).setdefault("phase", "Pending")


DEFAULTS: Mapping[str, Callable[[Object], None]] = {
    NETWORK_POLICIES.resource: _default_netpol,
    NAMESPACES.resource: _default_namespace,
    PODS.resource: _default_pod,
    **workloads.DEFAULTS,
}

# --- validation ----------------------------------------------------------------------------------


def _meta_causes(kind: Kind, obj: Object) -> list[Cause]:
    meta = obj.get("metadata") or {}
    name = meta.get("name") or ""
    causes: list[Cause] = []
    if not name:
        causes.append(required("metadata.name", "name or generateName is required"))
    else:
        check = k8s_syntax.dns1123_label if kind in (NAMESPACES, STATEFUL_SETS) else k8s_syntax.dns1123_subdomain
        causes += [invalid_value("metadata.name", name, m) for m in check(name)]
    for key, value in (meta.get("labels") or {}).items():
        causes += [invalid_value("metadata.labels", key, m) for m in k8s_syntax.label_key(key)]
        causes += [invalid_value("metadata.labels", value, m) for m in k8s_syntax.label_value(str(value))]
    for key in meta.get("annotations") or {}:
        causes += [invalid_value("metadata.annotations", key, m) for m in k8s_syntax.label_key(key.lower())]
    size = sum(len(k) + len(str(v)) for k, v in (meta.get("annotations") or {}).items())
    if size > 262144:
        causes.append(Cause("FieldValueTooLong", "Too long: must have at most 262144 bytes",
                            "metadata.annotations"))
    return causes


def _netpol_causes(obj: Object) -> list[Cause]:
    """``ValidateNetworkPolicy`` with the ObjectMeta rules it calls; a body that would not decode (the
    emulator decodes first, so this is a safety net) is the 400 it would have been."""
    from netwarden.core.netpol import validate as netpol_validate

    violations = netpol_validate.validate(obj)
    undecodable = [v for v in violations if v.reason == netpol_validate.DECODE]
    if undecodable:
        raise BadRequest(f'NetworkPolicy in version "v1" cannot be handled as a NetworkPolicy: '
                         f"{undecodable[0].message}")
    return [Cause(v.reason, v.message, v.field) for v in violations]


def _pod_causes(obj: Object, old: Object | None) -> list[Cause]:
    spec = obj.get("spec") or {}
    causes = podspec.pod_spec_causes(spec, "spec")
    if old is not None:
        def mutable(s: Mapping[str, Any]) -> Any:
            containers = [{k: v for k, v in c.items() if k != "image"} for c in s.get("containers") or []]
            return {**s, "containers": containers, "nodeName": None}

        if mutable(spec) != mutable(old.get("spec") or {}):
            causes.append(Cause("FieldValueForbidden", "Forbidden: pod updates may not change fields other than "
                                "`spec.containers[*].image`,`spec.initContainers[*].image`,"
                                "`spec.activeDeadlineSeconds`,`spec.tolerations` (only additions to existing "
                                "tolerations),`spec.terminationGracePeriodSeconds` (allow it to be set to 1 if it "
                                "was previously negative)", "spec"))
    return causes


def validate(kind: Kind, obj: Object, old: Object | None) -> None:
    """Raise Invalid (422) with every cause, as the API server reports them."""
    causes = _netpol_causes(obj) if kind is NETWORK_POLICIES else _meta_causes(kind, obj)
    if kind is PODS:
        causes += _pod_causes(obj, old)
    elif kind in WORKLOADS:
        causes += workloads.causes(kind, obj, old)
    elif kind is NODES and old is not None and (old.get("spec") or {}).get("podCIDR") not in (
            None, (obj.get("spec") or {}).get("podCIDR")):
        causes.append(Cause("FieldValueForbidden", "Forbidden: node updates may not change podCIDR except "
                            "from \"\" to valid", "spec.podCIDR"))
    if causes:
        name = (obj.get("metadata") or {}).get("name") or ""
        raise Invalid(Resource(kind.group, kind.kind, name), causes)


def admit(kind: Kind, obj: Object, old: Object | None) -> Object:
    """Default, then validate; returns the object to store."""
    out = copy.deepcopy(obj)
    out.setdefault("metadata", {})
    default = DEFAULTS.get(kind.resource)
    if default is not None:
        default(out)
    if kind in WORKLOADS:
        workloads.server_annotations(kind, out, old)
    validate(kind, out, old)
    return out


def generation(kind: Kind, new: Object, old: Object | None) -> int | None:
    """``metadata.generation`` after a write: 1 on create, one more when the spec changes (for a
    Deployment, its annotations too); None for the kinds that have none (pods, nodes, namespaces)."""
    if kind is not NETWORK_POLICIES and kind not in WORKLOADS:
        return None
    if old is None:
        return 1
    before = int((old.get("metadata") or {}).get("generation") or 1)
    return before + 1 if workloads.spec_changed(kind, new, old) else before
