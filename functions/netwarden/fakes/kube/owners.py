"""Ownership and naming as the workload controllers spell them, shared by every controller.

A controller's objects name it in an owner reference with ``controller: true`` (what the garbage
collector follows and what netwarden reads to tell which workload a pod belongs to); a template's
revision is a hash computed as ``controller.ComputeHash`` computes it (FNV-32a of the template,
plus the collision count, spelled with ``rand.SafeEncodeString``'s alphabet), here over the
template's JSON; a pod is made from a template as ``controller.GetPodFromTemplate`` makes it; a
status is written as Go writes it: the fields without ``omitempty`` always, the others when not zero.
``Controls`` is what a workload controller may do: read the store, and write as a controller.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Mapping
from typing import Any, Protocol

from netwarden.fakes.kube.actors import Actor
from netwarden.fakes.kube.kinds import Kind

Object = dict[str, Any]
Store = dict[str, dict[tuple[str, str], Object]]
HASH_LABEL = "pod-template-hash"
REVISION_LABEL = "controller-revision-hash"
SAFE_ALPHABET = "bcdfghjklmnpqrstvwxz2456789"


def controller_ref(obj: Mapping[str, Any] | None) -> Mapping[str, Any] | None:
    """The owner reference with ``controller: true``, if any."""
    refs = ((obj or {}).get("metadata") or {}).get("ownerReferences") or []
    return next((r for r in refs if r.get("controller")), None)


def owner_reference(kind: Kind, owner: Mapping[str, Any]) -> Object:
    meta = owner["metadata"]
    return {"apiVersion": kind.api_version, "kind": kind.kind, "name": meta["name"], "uid": meta["uid"],
            "controller": True, "blockOwnerDeletion": True}


def template_hash(template: Mapping[str, Any], collisions: int = 0) -> str:
    """``controller.ComputeHash``: FNV-32a of the template (and the collision count), safe-encoded."""
    data = json.dumps(template, sort_keys=True, separators=(",", ":")).encode()
    if collisions:
        data += collisions.to_bytes(4, "little")
    value = 0x811C9DC5
    for byte in data:
        value = ((value ^ byte) * 0x01000193) & 0xFFFFFFFF
    return "".join(SAFE_ALPHABET[ord(ch) % len(SAFE_ALPHABET)] for ch in str(value))


def pod_body(template: Mapping[str, Any], owner: Mapping[str, Any], owner_kind: Kind, labels: Mapping[str, str],
              **meta: Any) -> Object:
    """A pod as a controller makes it from its template: labels, annotations, spec, owner reference."""
    source = template.get("metadata") or {}
    metadata: Object = {**meta, "labels": dict(labels), "ownerReferences": [owner_reference(owner_kind, owner)]}
    if source.get("annotations"):
        metadata["annotations"] = dict(source["annotations"])
    return {"apiVersion": "v1", "kind": "Pod", "metadata": metadata, "spec": copy.deepcopy(template.get("spec") or {})}


def go_status(always: Mapping[str, Any], **counts: Any) -> Object:
    """A status as Go writes it: the fields without ``omitempty`` always, the others when set."""
    return {**always, **{k: v for k, v in counts.items() if v not in (0, None, "", [])}}


def spec_of(obj: Mapping[str, Any]) -> Object:
    return dict(obj.get("spec") or {})


class Controls(Protocol):
    """What a workload controller is given (``controllers.Controllers``): the store to read, and the
    writes a controller makes, each through the API server's own paths."""

    @property
    def store(self) -> Store: ...

    def owned(self, kind: Kind, owner: Mapping[str, Any]) -> list[Object]: ...

    def create(self, kind: Kind, namespace: str, body: Object, actor: Actor) -> Object | None: ...

    def update(self, kind: Kind, obj: Object, actor: Actor) -> Object | None: ...

    def delete(self, kind: Kind, obj: Mapping[str, Any], actor: Actor) -> None: ...

    def set_status(self, kind: Kind, obj: Mapping[str, Any], status: Object, actor: Actor,
                   annotations: Mapping[str, str] | None = None) -> None: ...

    def enqueue(self, kind: Kind, namespace: str, name: str) -> None: ...
