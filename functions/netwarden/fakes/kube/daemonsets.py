"""The DaemonSet controller: one pod per node the template's node selector and required affinity admit.

Each pod is pinned to its node by a required ``matchFields`` term on ``metadata.name`` (replacing the
template's required terms, as ``util.ReplaceDaemonSetPodNodeNameNodeAffinity`` does), tolerates what
daemon pods tolerate (a cordon among it), and carries ``controller-revision-hash`` and
``pod-template-generation``. Unlike other pods, a daemon pod follows its node: when a node stops
matching, its pod is deleted; when one starts, it gets one. A template change replaces the pods
(RollingUpdate) or waits for them to be deleted (OnDelete).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from netwarden.fakes.kube import actors, kubelet
from netwarden.fakes.kube.kinds import DAEMON_SETS, NODES, PODS
from netwarden.fakes.kube.owners import REVISION_LABEL, Controls, go_status, pod_body, spec_of, template_hash

Object = dict[str, Any]
DAEMONSET_CONTROLLER = actors.controller("daemon-set-controller")
#: What the DaemonSet controller adds to each of its pods (``util.AddOrUpdateDaemonPodTolerations``).
DAEMON_TOLERATIONS = [
    {"key": "node.kubernetes.io/not-ready", "operator": "Exists", "effect": "NoExecute"},
    {"key": "node.kubernetes.io/unreachable", "operator": "Exists", "effect": "NoExecute"},
    {"key": "node.kubernetes.io/disk-pressure", "operator": "Exists", "effect": "NoSchedule"},
    {"key": "node.kubernetes.io/memory-pressure", "operator": "Exists", "effect": "NoSchedule"},
    {"key": "node.kubernetes.io/pid-pressure", "operator": "Exists", "effect": "NoSchedule"},
    {"key": kubelet.UNSCHEDULABLE_TAINT, "operator": "Exists", "effect": "NoSchedule"},
]


def _node_of(pod: Mapping[str, Any]) -> str | None:
    """The node a daemon pod is for: where it runs, or the node its ``matchFields`` term names."""
    if (pod.get("spec") or {}).get("nodeName"):
        return str(pod["spec"]["nodeName"])
    required = (((pod.get("spec") or {}).get("affinity") or {}).get("nodeAffinity") or {}).get(
        "requiredDuringSchedulingIgnoredDuringExecution") or {}
    for term in required.get("nodeSelectorTerms") or []:
        for field in term.get("matchFields") or []:
            if field.get("key") == "metadata.name" and field.get("operator") == "In" and field.get("values"):
                return str(field["values"][0])
    return None


def reconcile_daemon_set(c: Controls, ds: Object) -> None:
    spec, meta = spec_of(ds), ds["metadata"]
    template = spec.get("template") or {}
    revision = template_hash(template, int((ds.get("status") or {}).get("collisionCount") or 0))
    generation = (meta.get("annotations") or {}).get("deprecated.daemonset.template.generation", "1")
    nodes = {name: node for (_, name), node in sorted(c.store[NODES.resource].items())}
    eligible = [n for n, node in nodes.items() if kubelet.node_admits(template.get("spec") or {}, node)]
    by_node: dict[str | None, list[Object]] = {}
    for pod in c.owned(PODS, ds):
        by_node.setdefault(_node_of(pod), []).append(pod)
    for node_name, pods in list(by_node.items()):
        keep = pods[:1] if node_name in eligible else []
        for pod in pods[len(keep):]:
            c.delete(PODS, pod, DAEMONSET_CONTROLLER)
        by_node[node_name] = keep
    rolling = (spec.get("updateStrategy") or {}).get("type") != "OnDelete"
    for node_name in eligible:
        here = by_node.get(node_name) or []
        if here and rolling and (here[0]["metadata"].get("labels") or {}).get(REVISION_LABEL) != revision:
            c.delete(PODS, here.pop(), DAEMONSET_CONTROLLER)
        if not here:
            labels = {**((template.get("metadata") or {}).get("labels") or {}), REVISION_LABEL: revision,
                      "pod-template-generation": generation}
            body = pod_body(template, ds, DAEMON_SETS, labels, generateName=f"{meta['name']}-")
            pinned = {"nodeSelectorTerms": [{"matchFields": [
                {"key": "metadata.name", "operator": "In", "values": [node_name]}]}]}
            affinity = body["spec"].setdefault("affinity", {})
            affinity.setdefault("nodeAffinity", {})["requiredDuringSchedulingIgnoredDuringExecution"] = pinned
            existing = body["spec"].get("tolerations") or []
            body["spec"]["tolerations"] = [*existing, *(t for t in DAEMON_TOLERATIONS if t not in existing)]
            made = c.create(PODS, meta["namespace"], body, DAEMONSET_CONTROLLER)
            by_node[node_name] = [made] if made is not None else []
    placed = [p for n in eligible for p in by_node.get(n) or []]
    ready = sum(1 for p in placed if kubelet.ready(p))
    updated = sum(1 for p in placed if (p["metadata"].get("labels") or {}).get(REVISION_LABEL) == revision)
    status = go_status({"currentNumberScheduled": len(placed), "numberMisscheduled": 0,
                      "desiredNumberScheduled": len(eligible), "numberReady": ready},
                     observedGeneration=meta.get("generation"), updatedNumberScheduled=updated,
                     numberAvailable=ready, numberUnavailable=len(eligible) - ready)
    c.set_status(DAEMON_SETS, ds, status, DAEMONSET_CONTROLLER)
