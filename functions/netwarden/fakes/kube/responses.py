"""Thin HTTP handlers of the Kubernetes emulator: read the path, query and body; call the cluster's
state; write JSON. Errors raised by the models become ``Status`` bodies here, and only here.

JSON goes out as the API server sends it, ``Content-Type: application/json`` with no charset, errors
included. A list with ``?watch=true`` answers a stream (``watch.Watch``): chunked JSON lines, written
by the server after the handler returned. ``/healthz``, ``/livez`` and ``/readyz`` answer ``ok`` (with
``?verbose``, the checks), and ``/openapi/v2`` the Swagger document (``openapi_v2``), JSON or protobuf.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from typing import Any

import yaml

from netwarden.fakes.kube import discovery, openapi_v2, protobuf, tables
from netwarden.fakes.kube.exceptions import (
    BadRequest,
    Cause,
    Invalid,
    KubeError,
    NoResource,
    Resource,
    UnsupportedMediaType,
)
from netwarden.fakes.kube.kinds import Kind, kind_for
from netwarden.fakes.kube.models import PATCH_TYPES, Actor, ClusterState, KubeBackend, Page
from netwarden.fakes.wire import Request, Response

JSON = "application/json"
TRUE = ("1", "t", "T", "TRUE", "true", "True")  # Go's strconv.ParseBool


def _json(data: Any, status: int = 200, headers: Mapping[str, str] | None = None) -> Response:
    return Response.json(data, status, headers, content_type=JSON)


def status_response(error: KubeError) -> Response:
    return _json(error.status(), error.code, error.headers)


def _cluster(backend: KubeBackend, request: Request) -> ClusterState:
    return backend.cluster(request.mount_args.get("cluster", "default"))


def _respond(data: Any, actor: Actor | None = None, status: int = 200) -> Response:
    headers = {}
    if actor is not None and actor.warnings:
        headers["Warning"] = ", ".join(f'299 - {json.dumps(w)}' for w in actor.warnings)
    return _json(data, status, headers)


# --- discovery and OpenAPI -----------------------------------------------------------------------


def version(backend: KubeBackend, request: Request) -> Response:
    return _json(discovery.VERSION)


def core_versions(backend: KubeBackend, request: Request) -> Response:
    host = request.base_url.split("/")[2] if "//" in request.base_url else "127.0.0.1"
    return _json(discovery.api_versions(host))


def groups(backend: KubeBackend, request: Request) -> Response:
    return _json(discovery.api_groups())


def group(backend: KubeBackend, request: Request) -> Response:
    doc = discovery.api_group(request.params["group"])
    if doc is None:
        raise NoResource()
    return _json(doc)


def resources(backend: KubeBackend, request: Request) -> Response:
    group_name = request.params.get("group")
    version_name = request.params["version"]
    doc = discovery.resource_list(f"{group_name}/{version_name}" if group_name else version_name)
    if doc is None:
        raise NoResource()
    return _json(doc)


HEALTH_CHECKS = {
    "healthz": ("ping", "log", "etcd", "poststarthook/start-apiserver-admission-initializer",
                "poststarthook/generic-apiserver-start-informers"),
    "livez": ("ping", "log", "etcd", "poststarthook/start-apiserver-admission-initializer",
              "poststarthook/generic-apiserver-start-informers"),
    "readyz": ("ping", "log", "etcd", "etcd-readiness", "informer-sync",
               "poststarthook/start-apiserver-admission-initializer", "poststarthook/generic-apiserver-start-informers",
               "shutdown"),
}


def health(backend: KubeBackend, request: Request) -> Response:
    """``healthz.handleRootHealth``: ``ok``; with ``?verbose`` each check, then ``<name> check passed``."""
    name, check = request.params["endpoint"], request.params.get("check")
    checks = HEALTH_CHECKS[name]
    if check is not None and check not in checks:
        raise NoResource()
    text = "ok"
    if check is None and "verbose" in request.query:
        excluded = set(request.query.get("exclude", []))
        text = "".join(f"[+]{c} excluded: ok\n" if c in excluded else f"[+]{c} ok\n" for c in checks)
        text += f"{name} check passed\n"
    response = Response.text(text)
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response


def openapi_v2_document(backend: KubeBackend, request: Request) -> Response:
    """kube-openapi's handler: the first Accept clause it can serve (JSON, or gnostic protobuf), else 406."""
    served = openapi_v2.negotiate(request.header("Accept"))
    headers = {"Vary": "Accept"}
    if served is None:
        return Response(406, b"", headers)
    content_type, body, etag = served
    headers["Etag"] = f'"{etag}"'
    if request.header("If-None-Match") == headers["Etag"]:
        return Response(304, b"", headers)
    return Response(200, body, {"Content-Type": content_type, **headers})


def openapi_root(backend: KubeBackend, request: Request) -> Response:
    prefix = "/" + request.base_url.split("/", 3)[3] if request.base_url.count("/") >= 3 else ""
    return _json(discovery.openapi_root(prefix))


def openapi_group_version(backend: KubeBackend, request: Request) -> Response:
    doc = discovery.openapi_for_path(request.params["path"])
    if doc is None:
        raise NoResource()
    return _json(doc)


# --- objects -------------------------------------------------------------------------------------


def _kind(request: Request, *, item: bool) -> tuple[Kind, str | None]:
    p = request.params
    kind = kind_for(p.get("group", ""), p["version"], p["resource"])
    namespace = p.get("namespace")
    if kind is None or (namespace is not None and not kind.namespaced):
        raise NoResource()
    if kind.namespaced and namespace is None and (item or request.method == "POST"):
        raise NoResource()
    return kind, namespace


def _actor(request: Request) -> Actor:
    dry_run = request.arg("dryRun")
    if dry_run not in (None, "", "All"):
        raise BadRequest(f'Invalid dry run value "{dry_run}": valid values are "All"')
    return Actor(user_agent=request.header("User-Agent") or "", field_manager=request.arg("fieldManager"),
                 dry_run=dry_run == "All", field_validation=request.arg("fieldValidation"))


BODY_TYPES = ("application/json", "application/yaml", protobuf.CONTENT_TYPE)


def _body(request: Request, *, yaml_ok: bool = True, kind: Kind | None = None) -> Any:
    content_type = (request.header("Content-Type") or "application/json").split(";")[0].strip().lower()
    if request.method in ("POST", "PUT") and content_type == protobuf.CONTENT_TYPE and kind is not None:
        try:
            decoded = protobuf.decode(request.body, kind.kind)
        except (protobuf.ProtobufError, UnicodeDecodeError) as e:
            raise BadRequest(f"error decoding the protobuf body: {e}") from e
        if decoded is not None:
            return decoded
    if request.method in ("POST", "PUT") and content_type not in BODY_TYPES[:2]:
        raise UnsupportedMediaType(content_type, BODY_TYPES)
    text = request.body.decode("utf-8", errors="replace")
    if not text.strip():
        raise BadRequest("the body of the request was empty")
    try:
        return json.loads(text)
    except ValueError:
        if not yaml_ok:
            raise BadRequest("the body of the request is not JSON") from None
    try:
        return yaml.safe_load(text)
    except yaml.YAMLError as e:
        raise BadRequest(f"error decoding YAML: {e}") from e


def _list_body(kind: Kind, page: Page) -> dict[str, Any]:
    meta: dict[str, Any] = {"resourceVersion": page.resource_version}
    if page.continue_token:
        meta["continue"] = page.continue_token
        if page.remaining is not None:
            meta["remainingItemCount"] = page.remaining
    return {"kind": f"{kind.kind}List", "apiVersion": kind.api_version, "metadata": meta, "items": page.items}


def _watch(backend: KubeBackend, request: Request, kind: Kind, namespace: str | None) -> Response:
    """A watch, as a server without the WatchList feature (``sendInitialEvents``) answers one."""
    errors = []
    if request.arg("sendInitialEvents") is not None:
        if request.arg("resourceVersionMatch") != "NotOlderThan":
            errors.append(Cause("FieldValueForbidden", "Forbidden: sendInitialEvents requires setting "
                                "resourceVersionMatch to NotOlderThan", "resourceVersionMatch"))
        errors.append(Cause("FieldValueForbidden", "Forbidden: sendInitialEvents is forbidden for watch unless the "
                            "WatchList feature gate is enabled", "sendInitialEvents"))
    elif request.arg("resourceVersionMatch"):
        errors.append(Cause("FieldValueForbidden", "Forbidden: resourceVersionMatch is forbidden for watch unless "
                            "sendInitialEvents is provided", "resourceVersionMatch"))
    if errors:
        raise Invalid(Resource("meta.k8s.io", "ListOptions"), errors)
    timeout = request.arg("timeoutSeconds")
    if timeout is not None and not re.fullmatch(r"-?[0-9]+", timeout):
        raise BadRequest(f'strconv.ParseInt: parsing "{timeout}": invalid syntax')
    stream = _cluster(backend, request).watch(
        kind, namespace, labels=request.arg("labelSelector"), fields=request.arg("fieldSelector"),
        resource_version=request.arg("resourceVersion"), table=tables.wants_table(request.header("Accept")),
        bookmarks=request.arg("allowWatchBookmarks") in TRUE, timeout=int(timeout) if timeout else None)
    return Response(200, b"", {"Content-Type": JSON}, stream=stream)


def list_objects(backend: KubeBackend, request: Request) -> Response:
    kind, namespace = _kind(request, item=False)
    if request.arg("watch") in TRUE:
        return _watch(backend, request, kind, namespace)
    limit = request.arg("limit")
    if limit is not None and not limit.lstrip("-").isdigit():
        raise BadRequest(f"limit: Invalid value: {limit!r}: must be an integer")
    page = _cluster(backend, request).list(kind, namespace, labels=request.arg("labelSelector"),
                                            fields=request.arg("fieldSelector"),
                                            limit=int(limit) if limit else None, token=request.arg("continue"))
    if tables.wants_table(request.header("Accept")):
        return _json(tables.table(kind.resource, page.items, page.resource_version, page.continue_token))
    return _json(_list_body(kind, page))


def create_object(backend: KubeBackend, request: Request) -> Response:
    kind, namespace = _kind(request, item=False)
    actor = _actor(request)
    obj = _cluster(backend, request).create(kind, namespace or "", _body(request, kind=kind), actor)
    return _respond(obj, actor, 201)


def get_object(backend: KubeBackend, request: Request) -> Response:
    kind, namespace = _kind(request, item=True)
    obj = _cluster(backend, request).get(kind, namespace or "", request.params["name"])
    if tables.wants_table(request.header("Accept")):
        return _json(tables.table(kind.resource, [obj], obj["metadata"]["resourceVersion"]))
    return _json(obj)


def replace_object(backend: KubeBackend, request: Request) -> Response:
    kind, namespace = _kind(request, item=True)
    actor = _actor(request)
    obj = _cluster(backend, request).replace(kind, namespace or "", request.params["name"],
                                             _body(request, kind=kind), actor)
    return _respond(obj, actor)


def patch_object(backend: KubeBackend, request: Request) -> Response:
    kind, namespace = _kind(request, item=True)
    content_type = (request.header("Content-Type") or "").split(";")[0].strip().lower()
    if content_type not in PATCH_TYPES:
        raise UnsupportedMediaType(content_type, PATCH_TYPES)
    force = request.arg("force")
    if force not in (None, "true", "false", "True", "False"):
        raise BadRequest(f"force: Invalid value: {force!r}")
    actor = _actor(request)
    body = _body(request, yaml_ok=content_type == "application/apply-patch+yaml")
    cluster = _cluster(backend, request)
    existed = (namespace or "", request.params["name"]) in cluster.store[kind.resource]
    obj = cluster.patch(kind, namespace or "", request.params["name"], body, actor, content_type=content_type,
                        force=None if force is None else force.lower() == "true")
    return _respond(obj, actor, 200 if existed else 201)


def delete_object(backend: KubeBackend, request: Request) -> Response:
    kind, namespace = _kind(request, item=True)
    actor = _actor(request)
    options = _body(request, yaml_ok=False) if request.body.strip() else {}
    if isinstance(options, dict) and options.get("dryRun") == ["All"]:
        actor.dry_run = True
    preconditions = options.get("preconditions") if isinstance(options, dict) else None
    propagation = (options.get("propagationPolicy") if isinstance(options, dict) else None) or \
        request.arg("propagationPolicy")
    if propagation not in (None, "", "Orphan", "Background", "Foreground"):
        raise BadRequest(f'propagationPolicy: Unsupported value: "{propagation}": supported values: "Foreground", '
                         '"Background", "Orphan"')
    name = request.params["name"]
    old = _cluster(backend, request).delete(kind, namespace or "", name, actor, preconditions,
                                            propagation=propagation or None)
    if kind.resource in ("namespaces", "pods"):
        return _json(old)
    details: dict[str, Any] = {"name": name, "kind": kind.resource, "uid": old["metadata"].get("uid")}
    if kind.group:
        details["group"] = kind.group
    return _json({"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Success",
                          "details": details})
