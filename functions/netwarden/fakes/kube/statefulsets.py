"""The StatefulSet controller: pods with an identity, ``<name>-<ordinal>``, made and replaced in order.

Each pod carries ``controller-revision-hash`` (``<name>-<hash of the template>``), its
``statefulset.kubernetes.io/pod-name`` and ``apps.kubernetes.io/pod-index``, and its name as its
hostname (with ``serviceName`` as subdomain). ``OrderedReady`` makes pods from ordinal 0 up and stops
at the first one that is not ready (so a StatefulSet no node admits has one Pending pod), ``Parallel``
makes them all; scaling down removes the highest ordinals. A template change replaces pods from the
highest ordinal down to ``partition`` (``OnDelete``: only pods someone deleted get the new revision).
A pod the API server refuses (the server does not validate a StatefulSet's pod spec) is not made.
"""

from __future__ import annotations

from typing import Any

from netwarden.fakes.kube import actors, kubelet
from netwarden.fakes.kube.kinds import PODS, STATEFUL_SETS
from netwarden.fakes.kube.owners import REVISION_LABEL, Controls, go_status, pod_body, spec_of, template_hash

Object = dict[str, Any]
STATEFULSET_CONTROLLER = actors.controller("statefulset-controller")


def reconcile_stateful_set(c: Controls, sts: Object) -> None:
    spec, meta = spec_of(sts), sts["metadata"]
    namespace, name = meta["namespace"], meta["name"]
    template = spec.get("template") or {}
    revision = f"{name}-{template_hash(template, int((sts.get('status') or {}).get('collisionCount') or 0))}"
    start = int((spec.get("ordinals") or {}).get("start") or 0)
    wanted = range(start, start + int(spec.get("replicas") or 0))
    ordered = spec.get("podManagementPolicy") != "Parallel"
    pods = {int(p["metadata"]["name"].rsplit("-", 1)[1]): p for p in c.owned(PODS, sts)
            if p["metadata"]["name"].rsplit("-", 1)[-1].isdigit()}
    for ordinal in sorted((o for o in pods if o not in wanted), reverse=True):
        c.delete(PODS, pods.pop(ordinal), STATEFULSET_CONTROLLER)

    def make(ordinal: int) -> Object | None:
        pod_name = f"{name}-{ordinal}"
        labels = {**((template.get("metadata") or {}).get("labels") or {}), REVISION_LABEL: revision,
                  "statefulset.kubernetes.io/pod-name": pod_name, "apps.kubernetes.io/pod-index": str(ordinal)}
        body = pod_body(template, sts, STATEFUL_SETS, labels, name=pod_name)
        body["spec"]["hostname"] = pod_name
        if spec.get("serviceName"):
            body["spec"]["subdomain"] = spec["serviceName"]
        return c.create(PODS, namespace, body, STATEFULSET_CONTROLLER)

    healthy = True
    for ordinal in wanted:
        if ordinal not in pods:
            made = make(ordinal)
            if made is None:
                healthy = False
                break
            pods[ordinal] = made
        if ordered and not kubelet.ready(pods[ordinal]):
            healthy = False
            break
    strategy = spec.get("updateStrategy") or {}
    if healthy and strategy.get("type") != "OnDelete":
        partition = int((strategy.get("rollingUpdate") or {}).get("partition") or 0)
        for ordinal in sorted((o for o in pods if o >= start + partition), reverse=True):
            if (pods[ordinal]["metadata"].get("labels") or {}).get(REVISION_LABEL) == revision:
                continue
            c.delete(PODS, pods.pop(ordinal), STATEFULSET_CONTROLLER)
            made = make(ordinal)
            if made is None:
                break
            pods[ordinal] = made
            if ordered and not kubelet.ready(made):
                break
    revisions = [(p["metadata"].get("labels") or {}).get(REVISION_LABEL) for p in pods.values()]
    before = sts.get("status") or {}
    current = before.get("currentRevision") if before.get("currentRevision") in revisions else revision
    ready = sum(1 for p in pods.values() if kubelet.ready(p))
    status = go_status({"replicas": len(pods), "availableReplicas": ready}, observedGeneration=meta.get("generation"),
                     readyReplicas=ready, currentReplicas=revisions.count(current),
                     updatedReplicas=revisions.count(revision), currentRevision=current, updateRevision=revision)
    status["collisionCount"] = int(before.get("collisionCount") or 0)
    c.set_status(STATEFUL_SETS, sts, status, STATEFULSET_CONTROLLER)
