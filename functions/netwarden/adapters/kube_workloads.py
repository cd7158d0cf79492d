"""A cluster's Deployments, StatefulSets and DaemonSets, read for the gateway recipe: where each may run and runs.

The recipe pins the pods that need the internet to the one subnet with a public gateway, with a
required node affinity on the worker label ``ibm-cloud.kubernetes.io/subnet-id``. So a workload is read
as: the labels of its pods, the subnet ids (and zones) its pod template admits, and the subnets of the
nodes its pods run on now. Three more chunked lists per cluster (one per kind, across all namespaces),
no per-object GET: a pod names its owner (a ReplicaSet ``<deployment>-<pod-template-hash>``, the
StatefulSet or the DaemonSet), so the ReplicaSets need not be read.

What a pod template admits, as the scheduler reads it: its ``nodeSelector`` and the terms of
``requiredDuringSchedulingIgnoredDuringExecution`` (ORed; the expressions of one term ANDed). It is
pinned to a label's values when every term says ``In`` on that label (or the node selector names one
value); a term without such an expression admits any value, so the workload is not pinned (None).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from netwarden.core import normalize
from netwarden.core.model import Workload

#: The list calls, per kind.
WORKLOAD_LISTS = (("Deployment", "/apis/apps/v1/deployments"), ("StatefulSet", "/apis/apps/v1/statefulsets"),
                  ("DaemonSet", "/apis/apps/v1/daemonsets"))
SUBNET_LABELS = ("ibm-cloud.kubernetes.io/subnet-id", "ibm-provider.kubernetes.io/subnet-id")
ZONE_LABELS = ("ibm-cloud.kubernetes.io/zone", "topology.kubernetes.io/zone", "failure-domain.beta.kubernetes.io/zone")

Raw = Mapping[str, Any]


def admitted(template: Raw, labels: Sequence[str]) -> tuple[str, ...] | None:
    """The values of the node labels ``labels`` a pod template admits (sorted), or None when it admits any."""
    spec = template.get("spec") or {}
    allowed: set[str] | None = None
    selector = spec.get("nodeSelector") or {}
    for label in labels:
        if label in selector:
            allowed = {str(selector[label])}
    required = (((spec.get("affinity") or {}).get("nodeAffinity") or {})
                .get("requiredDuringSchedulingIgnoredDuringExecution") or {})
    terms = required.get("nodeSelectorTerms") or []
    if terms:
        union: set[str] = set()
        for term in terms:
            values = _term_values(term, labels)
            if values is None:
                union = set()
                break
            union |= values
        else:
            allowed = union if allowed is None else allowed & union
    return tuple(sorted(allowed)) if allowed is not None else None


def _term_values(term: Raw, labels: Sequence[str]) -> set[str] | None:
    """The values one node selector term admits for the labels, None when it admits any."""
    found: set[str] | None = None
    for expression in term.get("matchExpressions") or []:
        if expression.get("key") in labels and expression.get("operator") == "In":
            values = {str(v) for v in expression.get("values") or []}
            found = values if found is None else found & values
    return found


def owner(pod: Raw) -> tuple[str, str] | None:
    """(kind, name) of the workload a pod belongs to: a ReplicaSet's Deployment by its pod-template-hash."""
    meta = pod.get("metadata") or {}
    for ref in meta.get("ownerReferences") or []:
        if not ref.get("controller"):
            continue
        kind, name = str(ref.get("kind")), str(ref.get("name"))
        if kind == "ReplicaSet":
            suffix = f"-{(meta.get('labels') or {}).get('pod-template-hash', '')}"
            return ("Deployment", name.removesuffix(suffix)) if name.endswith(suffix) and suffix != "-" else None
        if kind in ("StatefulSet", "DaemonSet"):
            return kind, name
    return None


def node_subnets(nodes: Sequence[Raw]) -> dict[str, str]:
    """Node name -> the subnet id of its label."""
    out = {}
    for node in nodes:
        meta = node.get("metadata") or {}
        labels = meta.get("labels") or {}
        subnet = next((labels[k] for k in SUBNET_LABELS if labels.get(k)), None)
        if subnet and meta.get("name"):
            out[str(meta["name"])] = str(subnet)
    return out


def workloads(listed: Sequence[tuple[str, Raw]], pods: Sequence[Raw], nodes: Sequence[Raw]) -> tuple[Workload, ...]:
    """The workloads (kind, raw object) with their pods and the subnets those run on, sorted."""
    subnets = node_subnets(nodes)
    members: dict[tuple[str, str, str], list[Raw]] = {}
    for pod in pods:
        found = owner(pod)
        if found is not None:
            namespace = str((pod.get("metadata") or {}).get("namespace", ""))
            members.setdefault((found[0], namespace, found[1]), []).append(pod)
    out = []
    for kind, raw in listed:
        meta = raw.get("metadata") or {}
        namespace, name = str(meta.get("namespace", "")), str(meta.get("name", ""))
        template = (raw.get("spec") or {}).get("template") or {}
        own = members.get((kind, namespace, name), [])
        nodes_of = {str((p.get("spec") or {}).get("nodeName")) for p in own if (p.get("spec") or {}).get("nodeName")}
        out.append(Workload(
            namespace=namespace, name=name, kind=kind,
            labels=normalize.labels((template.get("metadata") or {}).get("labels")),
            subnets=admitted(template, SUBNET_LABELS), zones=admitted(template, ZONE_LABELS),
            pods=tuple(sorted(str((p.get("metadata") or {}).get("name", "")) for p in own)),
            running=tuple(sorted({subnets[n] for n in nodes_of if n in subnets}))))
    return tuple(sorted(out, key=lambda w: (w.namespace, w.name, w.kind)))
