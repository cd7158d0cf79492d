"""The Deployment and ReplicaSet controllers: what each does to its object when the queue reaches it.

* Deployment: one ReplicaSet per pod template, named ``<deployment>-<pod-template-hash>`` with the
  hash in its selector, template and labels; the current one scaled to ``spec.replicas``, the others
  to 0 (a rollout completes at once, for RollingUpdate and Recreate alike, and so do their pods),
  the oldest idle ones beyond ``revisionHistoryLimit`` deleted; the ``deployment.kubernetes.io/revision``
  annotation and a status summed from its ReplicaSets, with the Available and Progressing conditions.
* ReplicaSet: ``spec.replicas`` pods named ``<replicaset>-<5 random characters>``; it adopts orphans its
  selector matches, releases pods relabelled out of it (and replaces them), and deletes the surplus
  in ``ActivePods`` order (unscheduled, then pending, then not ready, newest first).
"""

from __future__ import annotations

import copy
import math
from collections.abc import Mapping
from typing import Any

from netwarden.core.netpol.selectors import selector_matches
from netwarden.fakes.kube import actors, kubelet
from netwarden.fakes.kube.kinds import DEPLOYMENTS, PODS, REPLICA_SETS
from netwarden.fakes.kube.owners import (
    HASH_LABEL,
    Controls,
    go_status,
    owner_reference,
    pod_body,
    spec_of,
    template_hash,
)
from netwarden.fakes.kube.workloads import ZERO_STATUS

Object = dict[str, Any]
REVISION = "deployment.kubernetes.io/revision"
DEPLOYMENT_CONTROLLER = actors.controller("deployment-controller")
REPLICASET_CONTROLLER = actors.controller("replicaset-controller")


def _without_hash(template: Mapping[str, Any]) -> Object:
    out = copy.deepcopy(dict(template))
    labels = (out.get("metadata") or {}).get("labels")
    if labels:
        labels.pop(HASH_LABEL, None)
    return out


def _surge(spec: Mapping[str, Any]) -> int:
    rolling = (spec.get("strategy") or {}).get("rollingUpdate") or {}
    value, replicas = rolling.get("maxSurge", 0), int(spec.get("replicas") or 0)
    if isinstance(value, str) and value.endswith("%"):
        return math.ceil(int(value[:-1]) * replicas / 100)
    return int(value or 0)


def _max_unavailable(spec: Mapping[str, Any]) -> int:
    rolling = (spec.get("strategy") or {}).get("rollingUpdate") or {}
    value, replicas = rolling.get("maxUnavailable", 0), int(spec.get("replicas") or 0)
    if isinstance(value, str) and value.endswith("%"):
        return min(math.floor(int(value[:-1]) * replicas / 100), replicas)
    return min(int(value or 0), replicas)


def _revision(rs: Mapping[str, Any]) -> int:
    return int(((rs.get("metadata") or {}).get("annotations") or {}).get(REVISION) or 0)


def reconcile_deployment(c: Controls, d: Object) -> None:
    spec, meta = spec_of(d), d["metadata"]
    namespace, replicas = meta["namespace"], int(spec.get("replicas") or 0)
    owned = c.owned(REPLICA_SETS, d)
    current = next((rs for rs in owned if _without_hash(spec_of(rs).get("template") or {})
                    == _without_hash(spec.get("template") or {})), None)
    latest = max((_revision(rs) for rs in owned), default=0)
    revision = _revision(current) if current is not None and _revision(current) == latest else latest + 1
    annotations = {REVISION: str(revision), "deployment.kubernetes.io/desired-replicas": str(replicas),
                   "deployment.kubernetes.io/max-replicas": str(replicas + _surge(spec))}
    collisions = int((d.get("status") or {}).get("collisionCount") or 0)
    if current is None:
        hashed = template_hash(spec.get("template") or {}, collisions)
        template = copy.deepcopy(spec.get("template") or {})
        template.setdefault("metadata", {}).setdefault("labels", {})[HASH_LABEL] = hashed
        selector = copy.deepcopy(spec.get("selector") or {})
        selector.setdefault("matchLabels", {})[HASH_LABEL] = hashed
        body: Object = {"apiVersion": "apps/v1", "kind": "ReplicaSet", "metadata": {
            "name": f"{meta['name']}-{hashed}", "labels": dict(template["metadata"]["labels"]),
            "annotations": annotations, "ownerReferences": [owner_reference(DEPLOYMENTS, d)]},
            "spec": {"replicas": replicas, "minReadySeconds": spec.get("minReadySeconds") or 0, "selector": selector,
                     "template": template}}
        current = c.create(REPLICA_SETS, namespace, body, DEPLOYMENT_CONTROLLER)
        if current is None:  # the name is taken: count the collision and try another hash
            status = {**(d.get("status") or {}), "collisionCount": collisions + 1}
            c.set_status(DEPLOYMENTS, d, status, DEPLOYMENT_CONTROLLER)
            c.enqueue(DEPLOYMENTS, namespace, meta["name"])
            return
        owned.append(current)
    elif spec_of(current).get("replicas") != replicas or any(
            ((current["metadata"].get("annotations") or {}).get(k)) != v for k, v in annotations.items()):
        current["spec"]["replicas"] = replicas
        current["metadata"]["annotations"] = {**(current["metadata"].get("annotations") or {}), **annotations}
        current = c.update(REPLICA_SETS, current, DEPLOYMENT_CONTROLLER) or current
    old = [rs for rs in owned if rs["metadata"]["uid"] != current["metadata"]["uid"]]
    for rs in old:
        if spec_of(rs).get("replicas"):
            rs["spec"]["replicas"] = 0
            c.update(REPLICA_SETS, rs, DEPLOYMENT_CONTROLLER)
    history = spec.get("revisionHistoryLimit")
    limit = int(history) if history is not None else 10
    idle = sorted((rs for rs in old if not (rs.get("status") or {}).get("replicas")), key=_revision)
    for rs in idle[:max(len(idle) - limit, 0)]:
        c.delete(REPLICA_SETS, rs, DEPLOYMENT_CONTROLLER)
    _deployment_status(c, d, c.owned(REPLICA_SETS, d), current, revision)


def _deployment_status(c: Controls, d: Object, owned: list[Object], current: Mapping[str, Any],
                       revision: int) -> None:
    spec, before = spec_of(d), d.get("status") or {}
    counts = {k: sum(int((rs.get("status") or {}).get(k) or 0) for rs in owned)
              for k in ("replicas", "readyReplicas", "availableReplicas")}
    now_live = next((rs for rs in owned if rs["metadata"]["uid"] == current["metadata"]["uid"]), current)
    updated = int((now_live.get("status") or {}).get("replicas") or 0)
    replicas = int(spec.get("replicas") or 0)
    available = counts["availableReplicas"]
    done = updated == replicas == counts["replicas"] and available == replicas
    rs_name = current["metadata"]["name"]
    conditions = [
        ("Available", available >= replicas - _max_unavailable(spec),
         ("MinimumReplicasAvailable", "Deployment has minimum availability."),
         ("MinimumReplicasUnavailable", "Deployment does not have minimum availability.")),
        ("Progressing", True,
         ("NewReplicaSetAvailable", f'ReplicaSet "{rs_name}" has successfully progressed.') if done else
         ("ReplicaSetUpdated", f'ReplicaSet "{rs_name}" is progressing.'), ("", "")),
    ]
    status = go_status({}, observedGeneration=d["metadata"].get("generation"), replicas=counts["replicas"],
                     updatedReplicas=updated, readyReplicas=counts["readyReplicas"], availableReplicas=available,
                     unavailableReplicas=max(replicas - available, 0), collisionCount=before.get("collisionCount"))
    status["conditions"] = _conditions(before, [(t, ok, good if ok else bad) for t, ok, good, bad in conditions])
    c.set_status(DEPLOYMENTS, d, status, DEPLOYMENT_CONTROLLER, {REVISION: str(revision)})


def _conditions(before: Mapping[str, Any], wanted: list[tuple[str, bool, tuple[str, str]]]) -> list[Object]:
    """Conditions with their times kept while nothing about them changes."""
    old = {c.get("type"): c for c in before.get("conditions") or []}
    out = []
    for kind, ok, (reason, message) in wanted:
        status = "True" if ok else "False"
        prior = old.get(kind) or {}
        same = prior.get("status") == status and prior.get("reason") == reason
        moment = actors.now()
        out.append({"type": kind, "status": status,
                    "lastUpdateTime": prior.get("lastUpdateTime") if same and prior.get("message") == message
                    else moment,
                    "lastTransitionTime": prior.get("lastTransitionTime") if prior.get("status") == status
                    else moment, "reason": reason, "message": message})
    return out


# --- ReplicaSet ----------------------------------------------------------------------------------


def _matches(selector: Mapping[str, Any], labels: Mapping[str, str]) -> bool:
    return bool(selector) and selector_matches(selector, labels)


def _surplus_first(pods: list[Object]) -> list[Object]:
    """``controller.ActivePods`` order: unscheduled, pending, not ready before the rest, newest first."""
    newest = sorted(pods, key=lambda p: (str(p["metadata"].get("creationTimestamp")), p["metadata"]["name"]),
                    reverse=True)
    return sorted(newest, key=lambda p: (bool(p["spec"].get("nodeName")),
                                         (p.get("status") or {}).get("phase") == "Running", kubelet.ready(p)))


def reconcile_replica_set(c: Controls, rs: Object) -> None:
    spec, namespace, uid = spec_of(rs), rs["metadata"]["namespace"], rs["metadata"]["uid"]
    selector, template = spec.get("selector") or {}, spec.get("template") or {}
    pods: list[Object] = []
    for key in sorted(k for k in c.store[PODS.resource] if k[0] == namespace):
        pod = copy.deepcopy(c.store[PODS.resource][key])
        labels, refs = pod["metadata"].get("labels") or {}, pod["metadata"].get("ownerReferences") or []
        mine = any(r.get("controller") and r.get("uid") == uid for r in refs)
        if mine and not _matches(selector, labels):  # relabelled: released, and replaced
            pod["metadata"]["ownerReferences"] = [r for r in refs if r.get("uid") != uid]
            if not pod["metadata"]["ownerReferences"]:
                del pod["metadata"]["ownerReferences"]
            c.update(PODS, pod, REPLICASET_CONTROLLER)
        elif mine:
            pods.append(pod)
        elif not any(r.get("controller") for r in refs) and _matches(selector, labels):  # an orphan: adopted
            pod["metadata"]["ownerReferences"] = [*refs, owner_reference(REPLICA_SETS, rs)]
            adopted = c.update(PODS, pod, REPLICASET_CONTROLLER)
            if adopted is not None:
                pods.append(adopted)
    wanted = int(spec.get("replicas") or 0)
    labels = dict((template.get("metadata") or {}).get("labels") or {})
    for _ in range(wanted - len(pods)):
        created = c.create(PODS, namespace, pod_body(template, rs, REPLICA_SETS, labels,
                                                      generateName=f"{rs['metadata']['name']}-"),
                           REPLICASET_CONTROLLER)
        if created is None:
            break
        pods.append(created)
    for pod in _surplus_first(pods)[:max(len(pods) - wanted, 0)]:
        c.delete(PODS, pod, REPLICASET_CONTROLLER)
        pods.remove(pod)
    ready = sum(1 for p in pods if kubelet.ready(p))
    labelled = sum(1 for p in pods if all((p["metadata"].get("labels") or {}).get(k) == v for k, v in labels.items()))
    c.set_status(REPLICA_SETS, rs, go_status(ZERO_STATUS[REPLICA_SETS.resource], replicas=len(pods),
                                           fullyLabeledReplicas=labelled, readyReplicas=ready,
                                           availableReplicas=ready,
                                           observedGeneration=rs["metadata"].get("generation")),
                 REPLICASET_CONTROLLER)
