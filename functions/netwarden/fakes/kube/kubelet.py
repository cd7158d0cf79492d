"""What a scheduler and a kubelet would do for the emulated cluster, done at once.

A node gets a pod CIDR (``172.30.N.0/24``, IKS's pod network) when it has none. A pod is bound to the
node it names, or else to the least loaded of the nodes it may run on, and comes up ``Running`` with
the first free address of that node's pod CIDR and the node's InternalIP as its host IP. The nodes a
pod may run on are the ones the scheduler's filters keep: not cordoned (``spec.unschedulable``,
unless the pod tolerates it, as a DaemonSet's pods do), matching the pod's ``nodeSelector`` and its
required node affinity (``nodeSelectorTerms`` ORed, the expressions and fields of one term ANDed;
``In``, ``NotIn``, ``Exists``, ``DoesNotExist``, ``Gt``, ``Lt``; ``matchFields`` on ``metadata.name``).
With none, the pod stays ``Pending`` with ``PodScheduled`` False, reason ``Unschedulable``, and the
scheduler's message ("0/3 nodes are available: 3 node(s) didn't match Pod's node affinity/selector.
..."). Taints other than the cordon are not modelled. Placement is decided once (IgnoredDuringExecution):
a node's labels changing later does not move a running pod.
"""

from __future__ import annotations

import ipaddress
from collections import Counter
from collections.abc import Iterable, Mapping
from typing import Any

from netwarden.fakes.kube.actors import now

Object = dict[str, Any]
UNSCHEDULABLE_TAINT = "node.kubernetes.io/unschedulable"
NO_NODES = "no nodes available to schedule pods"
_NOT_MATCHING = "node(s) didn't match Pod's node affinity/selector"
_CORDONED = "node(s) were unschedulable"


def assign_pod_cidr(node: Object, allocated: int) -> int:
    """Give ``node`` the next pod CIDR if it has none; returns how many have been handed out."""
    spec = node.setdefault("spec", {})
    if spec.get("podCIDR"):
        return allocated
    spec["podCIDR"] = f"172.30.{allocated}.0/24"
    spec["podCIDRs"] = [spec["podCIDR"]]
    return allocated + 1


# --- node selection ------------------------------------------------------------------------------


def _requirement(req: Mapping[str, Any], value: str | None) -> bool:
    operator, values = req.get("operator"), [str(v) for v in req.get("values") or []]
    if operator == "In":
        return value is not None and value in values
    if operator == "NotIn":
        return value is None or value not in values
    if operator == "Exists":
        return value is not None
    if operator == "DoesNotExist":
        return value is None
    if operator in ("Gt", "Lt") and value is not None and len(values) == 1:
        try:
            have, bound = int(value), int(values[0])
        except ValueError:
            return False
        return have > bound if operator == "Gt" else have < bound
    return False


def term_matches(term: Mapping[str, Any], node: Mapping[str, Any]) -> bool:
    """One ``NodeSelectorTerm``: every expression on the node's labels and every field on its name; an
    empty term matches no node."""
    expressions, fields = term.get("matchExpressions") or [], term.get("matchFields") or []
    if not expressions and not fields:
        return False
    meta = node.get("metadata") or {}
    labels = meta.get("labels") or {}
    return (all(_requirement(e, labels.get(e.get("key"))) for e in expressions)
            and all(_requirement(f, meta.get("name") if f.get("key") == "metadata.name" else None) for f in fields))


def node_admits(spec: Mapping[str, Any], node: Mapping[str, Any]) -> bool:
    """Whether a pod (template) ``spec``'s node selector and required node affinity admit ``node``."""
    labels = (node.get("metadata") or {}).get("labels") or {}
    if any(labels.get(k) != v for k, v in (spec.get("nodeSelector") or {}).items()):
        return False
    required = ((spec.get("affinity") or {}).get("nodeAffinity") or {}).get(
        "requiredDuringSchedulingIgnoredDuringExecution")
    if required is None:
        return True
    return any(term_matches(t or {}, node) for t in required.get("nodeSelectorTerms") or [])


def _tolerates_cordon(spec: Mapping[str, Any]) -> bool:
    return any(t.get("key") in (None, "", UNSCHEDULABLE_TAINT) and t.get("operator") == "Exists"
               and t.get("effect") in (None, "", "NoSchedule") for t in spec.get("tolerations") or [])


def _rejection(spec: Mapping[str, Any], node: Mapping[str, Any]) -> str | None:
    """Why the scheduler's filters (NodeUnschedulable, then NodeAffinity) leave ``node`` out, or None."""
    if (node.get("spec") or {}).get("unschedulable") and not _tolerates_cordon(spec):
        return _CORDONED
    return None if node_admits(spec, node) else _NOT_MATCHING


def unschedulable_message(total: int, reasons: Iterable[str]) -> str:
    """The scheduler's ``FitError``: counts per reason, sorted, then what preemption found."""
    if not total:
        return NO_NODES
    histogram = sorted(f"{n} {reason}" for reason, n in Counter(reasons).items())
    return (f"0/{total} nodes are available: {', '.join(histogram)}. preemption: 0/{total} nodes are available: "
            f"{total} Preemption is not helpful for scheduling.")


# --- binding and starting ------------------------------------------------------------------------


def schedule(pod: Object, nodes: Mapping[tuple[str, str], Object], pods: Iterable[Object]) -> bool:
    """Bind ``pod`` to a node and start it; returns whether it was bound. A pod naming a node that does
    not exist stays Pending as it was; one no node admits is marked Unschedulable."""
    spec = pod.setdefault("spec", {})
    placed = [p for p in pods if (p.get("spec") or {}).get("nodeName") and p is not pod]
    name = spec.get("nodeName")
    if not name:
        verdicts = {n: _rejection(spec, node) for (_, n), node in nodes.items()}
        feasible = [n for n, why in verdicts.items() if why is None]
        if not feasible:
            message = unschedulable_message(len(verdicts), [why for why in verdicts.values() if why])
            pod["status"] = {"phase": "Pending", "conditions": [{
                "type": "PodScheduled", "status": "False", "lastProbeTime": None, "lastTransitionTime": now(),
                "reason": "Unschedulable", "message": message}], "qosClass": "BestEffort"}
            return False
        load = Counter(p["spec"]["nodeName"] for p in placed)
        name = min(feasible, key=lambda n: (load[n], n))
    node = nodes.get(("", name))
    if node is None:
        return False
    spec["nodeName"] = name
    network = ipaddress.ip_network(str(node.get("spec", {}).get("podCIDR") or "172.30.255.0/24"))
    used = {(p.get("status") or {}).get("podIP") for p in placed if p["spec"]["nodeName"] == name}
    address = next(str(ip) for ip in network.hosts() if ip != network.network_address + 1 and str(ip) not in used)
    addresses = (node.get("status") or {}).get("addresses") or []
    host_ip = next((a.get("address") for a in addresses if a.get("type") == "InternalIP"), None)
    pod["status"] = {"phase": "Running", "podIP": address, "podIPs": [{"ip": address}], "startTime": now(),
                     "conditions": [{"type": "Ready", "status": "True"}]}
    if host_ip:
        pod["status"]["hostIP"] = host_ip
    return True


def ready(pod: Mapping[str, Any]) -> bool:
    """Running with its Ready condition True: what controllers count as ready (and available)."""
    status = pod.get("status") or {}
    return status.get("phase") == "Running" and any(
        c.get("type") == "Ready" and c.get("status") == "True" for c in status.get("conditions") or [])
