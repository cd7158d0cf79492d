"""What a client asks before it asks for objects: the version, discovery and the OpenAPI v3 documents.

kubectl reads ``/version``, then the legacy discovery documents (``/api``, ``/apis`` and each group
version's ``APIResourceList``) to map ``networkpolicy`` or ``netpol`` to a path, then OpenAPI v3
(``/openapi/v3`` and one document per group version) to learn that the server validates fields
itself (``fieldValidation`` on PATCH) and which lists a strategic merge patch merges. All of it is
generated from ``kinds``, so what discovery promises is what the emulator serves; ``kubectl explain``
works from the same documents.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

from netwarden.fakes.kube.kinds import ATOMIC_STRUCTS, MERGE_KEYS, Kind, ListOf, MapOf, Struct, Type, group_versions

VERSION = {
    "major": "1", "minor": "32", "gitVersion": "v1.32.4+IKS", "gitCommit": "59526cd4867447956156ae3a602fcbac10a2c335",
    "gitTreeState": "clean", "buildDate": "2025-04-22T16:02:27Z", "goVersion": "go1.23.6", "compiler": "gc",
    "platform": "linux/amd64",
}

_PACKAGES = {
    "ObjectMeta": "io.k8s.apimachinery.pkg.apis.meta.v1", "LabelSelector": "io.k8s.apimachinery.pkg.apis.meta.v1",
    "LabelSelectorRequirement": "io.k8s.apimachinery.pkg.apis.meta.v1",
    "OwnerReference": "io.k8s.apimachinery.pkg.apis.meta.v1",
    "ManagedFieldsEntry": "io.k8s.apimachinery.pkg.apis.meta.v1",
}


def api_versions(host: str) -> dict[str, Any]:
    return {"kind": "APIVersions", "versions": ["v1"],
            "serverAddressByClientCIDRs": [{"clientCIDR": "0.0.0.0/0", "serverAddress": host}]}


def _group(group: str, versions: list[str]) -> dict[str, Any]:
    entries = [{"groupVersion": f"{group}/{v}", "version": v} for v in versions]
    return {"name": group, "versions": entries, "preferredVersion": entries[0]}


def api_groups() -> dict[str, Any]:
    groups: dict[str, list[str]] = {}
    for kinds in group_versions().values():
        if kinds[0].group:
            groups.setdefault(kinds[0].group, []).append(kinds[0].version)
    return {"kind": "APIGroupList", "apiVersion": "v1", "groups": [_group(g, vs) for g, vs in groups.items()]}


def api_group(group: str) -> dict[str, Any] | None:
    versions = [kinds[0].version for kinds in group_versions().values() if kinds[0].group == group]
    return {"kind": "APIGroup", "apiVersion": "v1", **_group(group, versions)} if versions else None


def resource_list(group_version: str) -> dict[str, Any] | None:
    kinds = group_versions().get(group_version)
    if kinds is None:
        return None
    resources = []
    for k in kinds:
        entry: dict[str, Any] = {"name": k.resource, "singularName": k.singular, "namespaced": k.namespaced,
                                 "kind": k.kind, "verbs": list(k.verbs)}
        if k.short_names:
            entry["shortNames"] = list(k.short_names)
        if k.categories:
            entry["categories"] = list(k.categories)
        entry["storageVersionHash"] = hashlib.sha256(k.qualified.encode()).digest()[:8].hex()
        resources.append(entry)
    return {"kind": "APIResourceList", "apiVersion": "v1", "groupVersion": group_version, "resources": resources}


# --- OpenAPI v3 ----------------------------------------------------------------------------------


def _gv_path(group_version: str) -> str:
    return "api/v1" if group_version == "v1" else f"apis/{group_version}"


def openapi_root(prefix: str) -> dict[str, Any]:
    """``/openapi/v3``: one entry per group version; ``prefix`` is the mount path (``/k8s/c1``)."""
    paths = {}
    for gv in group_versions():
        doc = json.dumps(openapi_document(gv), sort_keys=True).encode()
        digest = hashlib.sha512(doc).hexdigest().upper()
        paths[_gv_path(gv)] = {"serverRelativeURL": f"{prefix}/openapi/v3/{_gv_path(gv)}?hash={digest}"}
    return {"paths": paths}


_APPS = ("Deployment", "ReplicaSet", "StatefulSet", "DaemonSet", "RollingUpdate")


def _component(go: str) -> str:
    name = go.rpartition(".")[2]
    default = ("io.k8s.api.networking.v1" if name.startswith(("NetworkPolicy", "IPBlock")) else
               "io.k8s.api.apps.v1" if name.startswith(_APPS) else "io.k8s.api.core.v1")
    return f"{_PACKAGES.get(name, default)}.{name}"


def _schema(t: Type, names: tuple[str, ...], out: dict[str, Any]) -> dict[str, Any]:
    if isinstance(t, Struct):
        name = _component(t.go)
        if name not in out:
            out[name] = {}
            props = {k: _schema(v, (*names, k), out) for k, v in t.fields.items()}
            body: dict[str, Any] = {"type": "object", "properties": props}
            if t.open:
                body["x-kubernetes-preserve-unknown-fields"] = True
            if names in ATOMIC_STRUCTS or t.go == "v1.LabelSelector":
                body["x-kubernetes-map-type"] = "atomic"
            out[name] = body
        return {"$ref": f"#/components/schemas/{name}"}
    if isinstance(t, ListOf):
        schema: dict[str, Any] = {"type": "array", "items": _schema(t.item, names, out)}
        if names in MERGE_KEYS:
            key = MERGE_KEYS[names]
            schema["x-kubernetes-patch-strategy"] = "merge"
            if key:
                schema["x-kubernetes-patch-merge-key"] = key
                schema["x-kubernetes-list-type"] = "map"
                schema["x-kubernetes-list-map-keys"] = [key]
            else:
                schema["x-kubernetes-list-type"] = "set"
        else:
            schema["x-kubernetes-list-type"] = "atomic"
        return schema
    if isinstance(t, MapOf):
        return {"type": "object", "additionalProperties": _schema(t.value, names, out)}
    scalars: dict[str, dict[str, Any]] = {
        "string": {"type": "string"}, "bool": {"type": "boolean"},
        "int32": {"type": "integer", "format": "int32"}, "int64": {"type": "integer", "format": "int64"},
        "intstr.IntOrString": {"type": "string", "format": "int-or-string", "x-kubernetes-int-or-string": True},
    }
    return dict(scalars.get(t, {}))


_PARAMS = {
    "dryRun": "When present, indicates that modifications should not be persisted.",
    "fieldManager": "fieldManager is a name associated with the actor or entity that is making these changes.",
    "watch": "Watch for changes to the described resources and return them as a stream of add, update, and "
             "remove notifications.",
    "allowWatchBookmarks": "allowWatchBookmarks requests watch events with type \"BOOKMARK\".",
    "timeoutSeconds": "Timeout for the list/watch call.",
    "fieldValidation": "fieldValidation instructs the server on how to handle objects in the request containing "
                       "unknown or duplicate fields: Ignore, Warn (the default) or Strict.",
}
_PATCH_TYPES = ("application/apply-patch+yaml", "application/json-patch+json", "application/merge-patch+json",
                "application/strategic-merge-patch+json")


def _params(*names: str) -> list[dict[str, Any]]:
    return [{"name": n, "in": "query", "description": _PARAMS.get(n, ""), "schema": {"type": "string"}}
            for n in names]


def _operation(kind: Kind, action: str, ref: dict[str, Any], params: list[dict[str, Any]],
               body_types: tuple[str, ...] = ()) -> dict[str, Any]:
    op: dict[str, Any] = {
        "operationId": f"{action}{kind.kind}", "x-kubernetes-action": action,
        "x-kubernetes-group-version-kind": {"group": kind.group, "version": kind.version, "kind": kind.kind},
        "parameters": params,
        "responses": {"200": {"description": "OK", "content": {"application/json": {"schema": ref}}}},
    }
    if body_types:
        op["requestBody"] = {"required": True, "content": {t: {"schema": ref} for t in body_types}}
    return op


def openapi_document(group_version: str) -> dict[str, Any]:
    kinds = group_versions()[group_version]
    schemas: dict[str, Any] = {}
    paths: dict[str, Any] = {}
    base = f"/{_gv_path(group_version)}"
    for k in kinds:
        ref = _schema(k.schema, (), schemas)
        schemas[ref["$ref"].rsplit("/", 1)[-1]]["x-kubernetes-group-version-kind"] = [
            {"group": k.group, "version": k.version, "kind": k.kind}]
        collection = f"{base}/namespaces/{{namespace}}/{k.resource}" if k.namespaced else f"{base}/{k.resource}"
        writes = _params("dryRun", "fieldManager", "fieldValidation")
        paths[collection] = {
            "get": _operation(k, "list", {"type": "object"}, _params(
                "labelSelector", "fieldSelector", "limit", "continue", "resourceVersion", "watch",
                "allowWatchBookmarks", "timeoutSeconds")),
            "post": _operation(k, "post", ref, writes, ("*/*",)),
        }
        paths[f"{collection}/{{name}}"] = {
            "get": _operation(k, "get", ref, []),
            "put": _operation(k, "put", ref, writes, ("*/*",)),
            "patch": _operation(k, "patch", ref, [*writes, *_params("force")], _PATCH_TYPES),
            "delete": _operation(k, "delete", {"type": "object"}, _params("dryRun")),
        }
        if k.namespaced:
            paths[f"{base}/{k.resource}"] = {"get": _operation(k, "list", {"type": "object"}, [])}
    return {"openapi": "3.0.0", "info": {"title": "Kubernetes", "version": VERSION["gitVersion"]},
            "paths": paths, "components": {"schemas": schemas}}


def openapi_for_path(path: str) -> dict[str, Any] | None:
    """The document for ``api/v1``, ``apis/apps/v1`` or ``apis/networking.k8s.io/v1``; None for anything else."""
    for gv in group_versions():
        if _gv_path(gv) == path:
            return openapi_document(gv)
    return None
