"""The emulated cluster's control loops, run to completion after every write, before the response.

A real cluster converges a moment after a write; the emulator converges before it answers, so a test
sees the pods of a Deployment as soon as its create, patch, apply or delete returns. A write notes
what it touched (a workload, a pod's owner, a node); the notes go on one queue, and the queue is
worked until it is empty, each step reconciling one object as its controller would (``deployments``,
``statefulsets``, ``daemonsets``). Controllers write through the same API paths as any client
(admission, field managers, audit records), as ``kube-controller-manager``'s controllers do, and the status of a
workload through its status subresource (no generation bump). Also here, because they react to
deletions and to nodes: the garbage collector (deleting an owner deletes what it owned, in the
background; ``Orphan`` releases them instead), the pod garbage collector (pods bound to a node that
is gone), and the scheduler's retry of pending pods when a node appears or changes. Pods are
never moved off a node whose labels change (IgnoredDuringExecution); a DaemonSet follows its
nodes, as the real one does.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Mapping
from typing import Any, Protocol

from netwarden.fakes.kube import actors, daemonsets, deployments, kubelet, statefulsets
from netwarden.fakes.kube.actors import Actor
from netwarden.fakes.kube.exceptions import KubeError
from netwarden.fakes.kube.kinds import (
    DAEMON_SETS,
    DEPLOYMENTS,
    KINDS,
    NODES,
    PODS,
    REPLICA_SETS,
    STATEFUL_SETS,
    WORKLOADS,
    Kind,
)
from netwarden.fakes.kube.owners import Controls, Store, controller_ref

Object = dict[str, Any]
QueueKey = tuple[str, str, str]
#: More steps than this means two controllers fight; the emulator says so rather than spin.
MAX_STEPS = 20000
SCHEDULER = ("", "", "scheduler")
GARBAGE_COLLECTOR = actors.controller("generic-garbage-collector")
POD_GARBAGE_COLLECTOR = actors.controller("pod-garbage-collector")
_KINDS = {k.kind: k for k in KINDS}
RECONCILERS: Mapping[str, Callable[[Controls, Object], None]] = {
    DEPLOYMENTS.resource: deployments.reconcile_deployment, REPLICA_SETS.resource: deployments.reconcile_replica_set,
    STATEFUL_SETS.resource: statefulsets.reconcile_stateful_set, DAEMON_SETS.resource: daemonsets.reconcile_daemon_set,
}


class ApiServer(Protocol):
    """What the controllers write through (``models.ClusterState``): the API server's own paths."""

    store: Store

    def create(self, kind: Kind, namespace: str, body: Any, actor: Actor, *, emit: bool = True) -> Object: ...

    def replace(self, kind: Kind, namespace: str, name: str, body: Any, actor: Actor, *,
                verb: str = "update") -> Object: ...

    def delete(self, kind: Kind, namespace: str, name: str, actor: Actor,
               preconditions: Mapping[str, Any] | None = None, *, propagation: str | None = None) -> Object: ...

    def put(self, kind: Kind, obj: Object) -> Object: ...

    def emit(self, verb: str, kind: Kind, obj: Object, actor: Actor, subresource: str | None = None) -> None: ...


class Controllers:
    """The work queue of one cluster, and what its controllers share (``owners.Controls``)."""

    def __init__(self, cluster: ApiServer) -> None:
        self.cluster = cluster
        self.queue: list[QueueKey] = []
        self.busy = False

    @property
    def store(self) -> Store:
        return self.cluster.store

    # --- notes from the API server ---------------------------------------------------------------
    def changed(self, kind: Kind, old: Object | None, new: Object | None) -> None:
        """After a write (``new``) or a deletion (``new`` None) of an object of ``kind``."""
        obj = new if new is not None else old
        if obj is None:
            return
        if kind in WORKLOADS:
            self.enqueue(kind, obj["metadata"].get("namespace", ""), obj["metadata"]["name"])
        if kind is NODES:
            self.queue_key(SCHEDULER)
            for ds in sorted(self.cluster.store[DAEMON_SETS.resource]):
                self.queue_key((DAEMON_SETS.resource, *ds))
        for o in (old, new):
            self.enqueue_owner(o)
        if kind is PODS and new is not None and controller_ref(new) is None:  # an orphan: who may adopt it
            namespace = new["metadata"].get("namespace", "")
            for key in sorted(k for k in self.cluster.store[REPLICA_SETS.resource] if k[0] == namespace):
                self.queue_key((REPLICA_SETS.resource, *key))
        self.run()

    def deleted(self, kind: Kind, old: Object, propagation: str | None) -> None:
        outer = not self.busy
        self.busy = True
        try:
            self._collect_garbage(old, propagation)
            if kind is NODES:
                name = old["metadata"]["name"]
                for pod in [p for p in self.cluster.store[PODS.resource].values()
                            if (p.get("spec") or {}).get("nodeName") == name]:
                    self.delete(PODS, pod, POD_GARBAGE_COLLECTOR)
        finally:
            if outer:
                self.busy = False
        self.changed(kind, old, None)

    # --- the queue -------------------------------------------------------------------------------
    def enqueue(self, kind: Kind, namespace: str, name: str) -> None:
        self.queue_key((kind.resource, namespace, name))

    def queue_key(self, key: QueueKey) -> None:
        if key not in self.queue:
            self.queue.append(key)

    def enqueue_owner(self, obj: Mapping[str, Any] | None) -> None:
        ref = controller_ref(obj)
        owner = _KINDS.get(str((ref or {}).get("kind")))
        if ref is not None and owner in WORKLOADS and obj is not None:
            self.enqueue(owner, obj["metadata"].get("namespace", ""), str(ref.get("name")))

    def run(self) -> None:
        if self.busy:
            return
        self.busy = True
        try:
            steps = 0
            while self.queue:
                steps += 1
                if steps > MAX_STEPS:
                    raise KubeError("the emulated controllers did not settle")
                resource, namespace, name = self.queue.pop(0)
                if (resource, namespace, name) == SCHEDULER:
                    self._retry_pending()
                    continue
                live = self.cluster.store[resource].get((namespace, name))
                if live is not None:
                    RECONCILERS[resource](self, copy.deepcopy(live))
        finally:
            self.queue.clear()
            self.busy = False

    # --- what the controllers share --------------------------------------------------------------
    def live(self, kind: Kind, obj: Mapping[str, Any]) -> Object | None:
        """The stored object ``obj`` is a copy of (None when it is gone or was replaced by another uid)."""
        meta = obj["metadata"]
        stored = self.cluster.store[kind.resource].get((meta.get("namespace", ""), meta["name"]))
        return stored if stored is not None and stored["metadata"].get("uid") == meta.get("uid") else None

    def owned(self, kind: Kind, owner: Mapping[str, Any]) -> list[Object]:
        """Copies of the objects of ``kind`` in the owner's namespace whose controller is ``owner``."""
        namespace, uid = owner["metadata"].get("namespace", ""), owner["metadata"]["uid"]
        store = self.cluster.store[kind.resource]
        return [copy.deepcopy(store[key]) for key in sorted(store)
                if key[0] == namespace and (controller_ref(store[key]) or {}).get("uid") == uid]

    def create(self, kind: Kind, namespace: str, body: Object, actor: Actor) -> Object | None:
        """Create as a controller does; a refusal (an invalid pod, a name taken) is None, as a
        ``FailedCreate`` event would be."""
        try:
            return self.cluster.create(kind, namespace, body, actor)
        except KubeError:
            return None

    def update(self, kind: Kind, obj: Object, actor: Actor) -> Object | None:
        meta = obj["metadata"]
        try:
            return self.cluster.replace(kind, meta.get("namespace", ""), meta["name"], obj, actor)
        except KubeError:
            return None

    def delete(self, kind: Kind, obj: Mapping[str, Any], actor: Actor) -> None:
        meta = obj["metadata"]
        try:
            self.cluster.delete(kind, meta.get("namespace", ""), meta["name"], actor, {"uid": meta.get("uid")})
        except KubeError:
            return

    def set_status(self, kind: Kind, obj: Mapping[str, Any], status: Object, actor: Actor,
                   annotations: Mapping[str, str] | None = None) -> None:
        """Write ``status`` (and controller annotations) through the status subresource: a new
        resourceVersion and an audit record, no new generation; the owner hears of it."""
        live = self.live(kind, obj)
        if live is None:
            return
        new = copy.deepcopy(live)
        new["status"] = status
        if annotations:
            new["metadata"]["annotations"] = {**(new["metadata"].get("annotations") or {}), **annotations}
        if new == live:
            return
        new = self.cluster.put(kind, new)
        self.cluster.emit("update", kind, new, actor, "status")
        self.enqueue_owner(new)

    # --- the garbage collectors and the scheduler ------------------------------------------------
    def _collect_garbage(self, owner: Object, propagation: str | None) -> None:
        """Dependents of a deleted ``owner``: deleted when it was their last owner (``Background``,
        ``Foreground``: both at once here), or released from it (``Orphan``)."""
        uid, namespace = owner["metadata"].get("uid"), owner["metadata"].get("namespace", "")
        for kind in KINDS:
            if not kind.namespaced:
                continue
            for key in sorted(self.cluster.store[kind.resource]):
                dependent = self.cluster.store[kind.resource].get(key)
                refs = ((dependent or {}).get("metadata") or {}).get("ownerReferences") or []
                if dependent is None or (namespace and key[0] != namespace) or not any(r.get("uid") == uid
                                                                                      for r in refs):
                    continue
                rest = [r for r in refs if r.get("uid") != uid]
                if propagation == "Orphan" or any(self._exists(r, key[0]) for r in rest):
                    released = copy.deepcopy(dependent)
                    released["metadata"]["ownerReferences"] = rest
                    if not rest:
                        del released["metadata"]["ownerReferences"]
                    self.update(kind, released, GARBAGE_COLLECTOR)
                else:
                    self.delete(kind, dependent, GARBAGE_COLLECTOR)

    def _exists(self, ref: Mapping[str, Any], namespace: str) -> bool:
        kind = _KINDS.get(str(ref.get("kind")))
        if kind is None:
            return False
        found = self.cluster.store[kind.resource].get((namespace if kind.namespaced else "", str(ref.get("name"))))
        return found is not None and found["metadata"].get("uid") == ref.get("uid")

    def _retry_pending(self) -> None:
        """The scheduler's second look at unbound pods, after a node was added or changed."""
        pods = self.cluster.store[PODS.resource]
        nodes = self.cluster.store[NODES.resource]
        for key in sorted(pods):
            pod = pods.get(key)
            if pod is None or (pod.get("spec") or {}).get("nodeName"):
                continue
            candidate = copy.deepcopy(pod)
            bound = kubelet.schedule(candidate, nodes, pods.values())
            if bound or candidate.get("status") != pod.get("status"):
                self._store_pod(candidate, bound)

    def _store_pod(self, pod: Object, bound: bool) -> None:
        pod = self.cluster.put(PODS, pod)
        self.cluster.emit("create" if bound else "update", PODS, pod, actors.SCHEDULER,
                          "binding" if bound else "status")
        self.enqueue_owner(pod)
