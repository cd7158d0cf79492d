"""The state of the emulated clusters, and the API server's rules for changing it.

One ``ClusterState`` per cluster name, created on first use (``/k8s/<cluster>/...``) with the four
namespaces every cluster starts with. Objects are stored as the API server returns them: defaulted,
validated, with ``uid``, ``creationTimestamp``, ``generation`` and a cluster-wide ``resourceVersion``
that increases with every write (an update carrying a stale one is a 409, a write that changes
nothing changes no version). Lists are in key order (namespace, name), filtered by label and field
selectors, and chunked with ``limit``/``continue`` over a consistent snapshot that expires like an
etcd compaction. Every mutation is emitted to the cloud's event log as an audit-style record, so
tests can see what changed. Pods are placed on a node when nodes exist, and get an address. After
every write the cluster's controllers (``controllers``) run to completion before the response goes
out: workloads get their ReplicaSets and pods, deletions cascade to what the deleted object owned.

The store is written in two places only, ``put`` (a new resourceVersion) and ``remove`` (the
deletion's resourceVersion), whoever writes (a client, a controller, the scheduler, the namespace
controller); each records its watch event in the cluster's ``watch.History``, from which ``watch``
serves ``?watch=true``. ``compact`` forgets that history, as an etcd compaction does.
"""

from __future__ import annotations

import base64
import binascii
import copy
import json
import threading
import uuid
from collections import OrderedDict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from netwarden.fakes.kube import admission, apply, kubelet, patches, watch, workloads
from netwarden.fakes.kube.actors import NAMESPACE_CONTROLLER, Actor, now
from netwarden.fakes.kube.controllers import Controllers
from netwarden.fakes.kube.decode import decode
from netwarden.fakes.kube.exceptions import (
    STALE,
    AlreadyExists,
    BadRequest,
    Conflict,
    Expired,
    KubeError,
    NotFound,
    Resource,
)
from netwarden.fakes.kube.kinds import KINDS, NAMESPACES, NODES, PODS, WORKLOADS, Kind
from netwarden.fakes.kube.selectors import field_selector, label_selector

Object = dict[str, Any]
Key = tuple[str, str]
SYSTEM_NAMESPACES = ("default", "kube-node-lease", "kube-public", "kube-system")
SNAPSHOTS_KEPT = 32
PATCH_TYPES = ("application/json-patch+json", "application/merge-patch+json",
               "application/strategic-merge-patch+json", "application/apply-patch+yaml")


@dataclass(slots=True)
class Page:
    items: list[Object]
    resource_version: str
    continue_token: str | None = None
    remaining: int | None = None


class ClusterState:
    def __init__(self, name: str, cloud: Any) -> None:
        self.name = name
        self.cloud = cloud
        self.rv = 0
        self.store: dict[str, dict[Key, Object]] = {k.resource: {} for k in KINDS}
        self.snapshots: OrderedDict[int, dict[str, list[Object]]] = OrderedDict()
        self.pod_cidrs = 0
        self.controllers = Controllers(self)
        self.history = watch.History(getattr(cloud, "lock", None) or threading.RLock())
        for ns in SYSTEM_NAMESPACES:
            self.create(NAMESPACES, "", {"metadata": {"name": ns}}, Actor("kube-apiserver"), emit=False)

    # --- helpers ---------------------------------------------------------------------------------
    def _who(self, kind: Kind, name: str) -> Resource:
        return Resource(kind.group, kind.resource, name)

    def _uid(self) -> str:
        return str(uuid.UUID(int=self.cloud.random.getrandbits(128), version=4))

    def next_rv(self) -> str:
        self.rv += 1
        return str(self.rv)

    def emit(self, verb: str, kind: Kind, obj: Object, actor: Actor, subresource: str | None = None) -> None:
        namespace, name = obj["metadata"].get("namespace", ""), obj["metadata"]["name"]
        self.cloud.emit({
            "source": "kubernetes", "cluster": self.name, "verb": verb, "resource": kind.resource,
            "api_group": kind.group, "kind": kind.kind, "namespace": namespace or None, "name": name,
            "user_agent": actor.user_agent, "field_manager": actor.manager,
            "resource_version": obj["metadata"].get("resourceVersion"), "time": now(),
            **({"subresource": subresource} if subresource else {}),
        })

    def put(self, kind: Kind, obj: Object) -> Object:
        """Store ``obj`` at a new resourceVersion (ADDED or MODIFIED); the stored object is returned."""
        meta = obj["metadata"]
        key = (meta.get("namespace", ""), meta["name"])
        meta["resourceVersion"] = self.next_rv()
        stored = _ordered(obj)
        prev = self.store[kind.resource].get(key)
        self.store[kind.resource][key] = stored
        self.history.record(kind, "MODIFIED" if prev is not None else "ADDED", stored, prev)
        return stored

    def remove(self, kind: Kind, key: Key) -> Object:
        """Take an object out of the store (DELETED); it is returned at the deletion's resourceVersion."""
        gone = self.store[kind.resource].pop(key)
        final = copy.deepcopy(gone)
        final["metadata"]["resourceVersion"] = self.next_rv()
        self.history.record(kind, "DELETED", final, gone)
        return final

    def compact(self, revision: int | None = None) -> int:
        """Forget the watch events up to ``revision`` (default: all): a watch from before gets a 410."""
        return self.history.compact(revision)

    def watch(self, kind: Kind, namespace: str | None, **options: Any) -> watch.Watch:
        """A watch of ``kind`` (``watch.Watch``: its options are the request's)."""
        return watch.Watch(self.history, kind, namespace, self.store[kind.resource], **options)

    def _require_namespace(self, kind: Kind, namespace: str) -> None:
        if kind.namespaced and ("", namespace) not in self.store[NAMESPACES.resource]:
            raise NotFound(Resource("", NAMESPACES.resource, namespace))

    def _decode(self, kind: Kind, body: Any, actor: Actor) -> Object:
        decoded = decode(kind, body, actor.field_validation)
        actor.warnings += decoded.warnings
        obj = decoded.body
        if obj.get("kind") not in (None, "", kind.kind) or obj.get("apiVersion") not in (None, "", kind.api_version):
            raise BadRequest(f"the object provided is unrecognized (must be of type {kind.kind}): "
                             f"{obj.get('apiVersion')}, Kind={obj.get('kind')}")
        obj["apiVersion"], obj["kind"] = kind.api_version, kind.kind
        obj["metadata"] = dict(obj.get("metadata") or {})
        return obj

    # --- reads -----------------------------------------------------------------------------------
    def get(self, kind: Kind, namespace: str, name: str) -> Object:
        obj = self.store[kind.resource].get((namespace, name))
        if obj is None:
            raise NotFound(self._who(kind, name))
        return copy.deepcopy(obj)

    def list(self, kind: Kind, namespace: str | None, *, labels: str | None = None, fields: str | None = None,
             limit: int | None = None, token: str | None = None) -> Page:
        match_labels = label_selector(labels)
        match_fields = field_selector(fields, kind.field_selectors)
        start, rv = "", self.rv
        if token:
            rv, start = _read_token(token)
            snapshot = self.snapshots.get(rv)
            if snapshot is None:
                raise Expired("The provided continue parameter is too old to display a consistent list result. "
                              "You can start a new list without the continue parameter.")
            if kind.resource not in snapshot:
                raise BadRequest("continue key is not valid: it was issued for another resource")
            items = snapshot[kind.resource]
        else:
            items = [self.store[kind.resource][k] for k in sorted(self.store[kind.resource])]
        selected = [o for o in items
                    if (namespace is None or o["metadata"].get("namespace", "") == namespace)
                    and _key(o) > start
                    and match_labels(o["metadata"].get("labels") or {}) and match_fields(o)]
        if limit is None or limit <= 0 or len(selected) <= limit:
            return Page([_item(o) for o in selected], str(rv))
        if not token:
            self.snapshots[rv] = {k.resource: [self.store[k.resource][x] for x in sorted(self.store[k.resource])]
                                  for k in (kind,)}
            while len(self.snapshots) > SNAPSHOTS_KEPT:
                self.snapshots.popitem(last=False)
        page = selected[:limit]
        remaining = len(selected) - limit if not labels and not fields else None
        return Page([_item(o) for o in page], str(rv), _make_token(rv, _key(page[-1])), remaining)

    # --- writes ----------------------------------------------------------------------------------
    def create(self, kind: Kind, namespace: str, body: Any, actor: Actor, *, emit: bool = True, verb: str = "create",
               managed_fields: Sequence[Object] | None = None) -> Object:
        obj = self._decode(kind, body, actor)
        meta = obj["metadata"]
        if kind.namespaced:
            if meta.get("namespace") not in (None, "", namespace):
                raise BadRequest("the namespace of the provided object does not match the namespace sent on the "
                                 "request")
            meta["namespace"] = namespace
        else:
            meta.pop("namespace", None)
        if not meta.get("name") and meta.get("generateName"):
            alphabet = "bcdfghjklmnpqrstvwxz2456789"
            meta["name"] = meta["generateName"] + "".join(self.cloud.random.choice(alphabet) for _ in range(5))
        for volatile in ("uid", "resourceVersion", "selfLink", "deletionTimestamp", "managedFields", "generation"):
            meta.pop(volatile, None)
        meta["creationTimestamp"] = now()
        if kind is PODS or kind in WORKLOADS:  # PrepareForCreate: the status is the server's
            obj["status"] = copy.deepcopy(workloads.ZERO_STATUS.get(kind.resource, {}))
        self._require_namespace(kind, namespace)  # NamespaceLifecycle admission runs before validation
        stored = admission.admit(kind, obj, None)
        name = stored["metadata"]["name"]
        if (namespace, name) in self.store[kind.resource]:
            raise AlreadyExists(self._who(kind, name))
        stored["metadata"]["uid"] = self._uid()
        if admission.generation(kind, stored, None):
            stored["metadata"]["generation"] = 1
        if managed_fields is None:
            apply.record_update(None, stored, actor.manager, kind.api_version, now())
        else:  # an apply that creates: the applier owns what it applied
            stored["metadata"]["managedFields"] = copy.deepcopy(managed_fields)
        if actor.dry_run:
            return stored
        if kind is NODES:
            self.pod_cidrs = kubelet.assign_pod_cidr(stored, self.pod_cidrs)
        if kind is PODS:
            kubelet.schedule(stored, self.store[NODES.resource], self.store[PODS.resource].values())
        stored = self.put(kind, stored)
        response = copy.deepcopy(stored)
        if emit:
            self.emit(verb, kind, stored, actor)
            self.controllers.changed(kind, None, stored)
        return response

    def replace(self, kind: Kind, namespace: str, name: str, body: Any, actor: Actor, *,
                verb: str = "update") -> Object:
        old = self.get(kind, namespace, name)
        obj = self._decode(kind, body, actor)
        meta = obj["metadata"]
        if meta.get("name") not in (None, name):
            raise BadRequest(f"the name of the object ({meta.get('name')}) does not match the name on the URL "
                             f"({name})")
        if kind.namespaced and meta.get("namespace") not in (None, "", namespace):
            raise BadRequest("the namespace of the provided object does not match the namespace sent on the request")
        rv = meta.get("resourceVersion")
        if rv and rv != old["metadata"]["resourceVersion"]:
            raise Conflict(self._who(kind, name), STALE)
        meta["name"] = name
        if kind.namespaced:
            meta["namespace"] = namespace
        for kept in ("uid", "creationTimestamp", "generation", "resourceVersion",
                     *(("managedFields",) if verb != "apply" else ())):
            if kept in old["metadata"]:
                meta[kept] = old["metadata"][kept]
        if "status" in old:  # the status subresource's, not the main resource's
            obj["status"] = old["status"]
        if kind is PODS and not (obj.get("spec") or {}).get("nodeName"):
            obj.setdefault("spec", {})["nodeName"] = (old.get("spec") or {}).get("nodeName")
        stored = admission.admit(kind, obj, old)
        generation = admission.generation(kind, stored, old)
        if generation:
            stored["metadata"]["generation"] = generation
        if verb != "apply":
            apply.record_update(old, stored, actor.manager, kind.api_version, now())
        if _same(stored, old) or actor.dry_run:
            return stored if actor.dry_run else old
        stored = self.put(kind, stored)
        response = copy.deepcopy(stored)
        self.emit(verb, kind, stored, actor)
        self.controllers.changed(kind, old, stored)
        return response

    def patch(self, kind: Kind, namespace: str, name: str, patch: Any, actor: Actor, *, content_type: str,
              force: bool | None = None) -> Object:
        if content_type == "application/apply-patch+yaml":
            return self._apply(kind, namespace, name, patch, actor, force=bool(force))
        if force is not None:
            raise BadRequest('PatchOptions.meta.k8s.io "" is invalid: force: Forbidden: may not be specified for '
                             "non-apply patch")
        old = self.get(kind, namespace, name)
        if content_type == "application/json-patch+json":
            patched = patches.json_patch(old, patch)
        elif content_type == "application/merge-patch+json":
            if not isinstance(patch, dict):
                raise BadRequest("json: cannot unmarshal array into Go value of type map[string]interface {}")
            patched = patches.merge_patch(old, patch)
        else:
            patched = patches.strategic_merge_patch(old, patch)
        return self.replace(kind, namespace, name, patched, actor, verb="patch")

    def _apply(self, kind: Kind, namespace: str, name: str, config: Any, actor: Actor, *, force: bool) -> Object:
        if not actor.field_manager:
            raise BadRequest('PatchOptions.meta.k8s.io "" is invalid: fieldManager: Required value: is required '
                             "for apply patch")
        if not isinstance(config, dict):
            raise BadRequest("error decoding YAML: the apply configuration is not an object")
        config = self._decode(kind, config, actor)
        meta = config["metadata"]
        if meta.get("name") not in (None, name):
            raise BadRequest(f"the name of the object ({meta.get('name')}) does not match the name on the URL "
                             f"({name})")
        meta["name"] = name
        live = self.store[kind.resource].get((namespace, name))
        merged = apply.apply(copy.deepcopy(live) if live else None, config, actor.manager, force=force,
                             api_version=kind.api_version, now=now(), who=self._who(kind, name))
        applier = Actor(actor.user_agent, actor.field_manager, actor.dry_run, "Ignore")
        if live is None:
            return self.create(kind, namespace, merged, applier, verb="apply",
                               managed_fields=merged["metadata"].get("managedFields") or [])
        return self.replace(kind, namespace, name, merged, applier, verb="apply")

    def delete(self, kind: Kind, namespace: str, name: str, actor: Actor,
               preconditions: Mapping[str, Any] | None = None, *, propagation: str | None = None) -> Object:
        old = self.get(kind, namespace, name)
        pre = preconditions or {}
        for key, label in (("uid", "UID"), ("resourceVersion", "ResourceVersion")):
            if pre.get(key) and pre[key] != old["metadata"].get(key):
                raise Conflict(self._who(kind, name), f"Precondition failed: {label} in precondition: {pre[key]}, "
                               f"{label} in object meta: {old['metadata'].get(key)}")
        if actor.dry_run:
            return old
        if kind is NAMESPACES:  # Terminating, then the namespace controller's work, done at once
            old["metadata"]["deletionTimestamp"] = now()
            old["status"] = {"phase": "Terminating"}
            self.put(kind, old)
            controller = Actor(NAMESPACE_CONTROLLER, "namespace-controller")
            for k in KINDS:
                for contained in [key for key in self.store[k.resource] if k.namespaced and key[0] == name]:
                    self.emit("delete", k, self.remove(k, contained), controller)
        gone = self.remove(kind, (namespace, name))
        self.emit("delete", kind, gone, actor)
        self.controllers.deleted(kind, gone, propagation)
        return gone


def _key(obj: Mapping[str, Any]) -> str:
    meta = obj["metadata"]
    return f"{meta.get('namespace', '')}/{meta['name']}"


def _ordered(obj: Object) -> Object:
    """The API server's field order: apiVersion, kind, metadata, spec, status."""
    first = ("apiVersion", "kind", "metadata", "spec", "status")
    return {**{k: obj[k] for k in first if k in obj}, **{k: v for k, v in obj.items() if k not in first}}


def _item(obj: Object) -> Object:
    """A list item, as the API server sends it: without ``apiVersion`` and ``kind``."""
    return {k: copy.deepcopy(v) for k, v in obj.items() if k not in ("apiVersion", "kind")}


def _same(a: Object, b: Object) -> bool:
    """Whether a write changed nothing (a no-op write keeps its resourceVersion); field ownership counts,
    the time an owner last wrote does not."""
    def strip(o: Object) -> Object:
        meta = {k: v for k, v in o.get("metadata", {}).items() if k not in ("managedFields", "resourceVersion")}
        owners = [{k: v for k, v in e.items() if k != "time"} for e in o.get("metadata", {}).get("managedFields") or []]
        return {**o, "metadata": meta, "owners": owners}

    return strip(a) == strip(b)


def _make_token(rv: int, start: str) -> str:
    raw = json.dumps({"v": "meta.k8s.io/v1", "rv": rv, "start": start + "\x00"}, separators=(",", ":"))
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def _read_token(token: str) -> tuple[int, str]:
    try:
        data = json.loads(base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)))
        return int(data["rv"]), str(data["start"]).rstrip("\x00")
    except (ValueError, KeyError, TypeError, binascii.Error) as e:
        raise BadRequest(f"continue key is not valid: {e}") from e


class KubeBackend:
    """Every emulated cluster, by name; ``reset()`` forgets them all."""

    def __init__(self, cloud: Any) -> None:
        self.cloud = cloud
        self.clusters: dict[str, ClusterState] = {}

    def cluster(self, name: str) -> ClusterState:
        if name not in self.clusters:
            self.clusters[name] = ClusterState(name, self.cloud)
        return self.clusters[name]

    def reset(self) -> None:
        for cluster in self.clusters.values():
            cluster.history.close()
        self.clusters.clear()

    def dump(self) -> dict[str, Any]:
        return {name: {resource: [copy.deepcopy(o) for _, o in sorted(objs.items())]
                       for resource, objs in c.store.items()} for name, c in sorted(self.clusters.items())}


__all__ = ["PATCH_TYPES", "Actor", "ClusterState", "KubeBackend", "KubeError", "Page"]
