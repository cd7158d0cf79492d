"""The Kubernetes emulator's route table, and its entry points for the one emulator server.

The server mounts this module at ``/k8s/<cluster>/...``: ``create(cloud)`` makes the state of every
cluster (each created on first use), ``handle(state, request)`` serves one request. A path the table
does not know is a 404 ``Status``, a known path with another method a 405, as the API server says.

Served: ``/version``; discovery (``/api``, ``/apis``, each group and group version); OpenAPI v2
(``/openapi/v2``, JSON or protobuf) and v3; ``/healthz``, ``/livez``, ``/readyz`` (and each check
under them); and for every kind, core and grouped, namespaced or across namespaces: list (``?watch=true``
streams its changes), create, get, replace, patch (the four patch types) and delete.
"""

from __future__ import annotations

from typing import Any

from netwarden.fakes.kube import responses as r
from netwarden.fakes.kube.exceptions import KubeError, MethodNotAllowed, NoResource
from netwarden.fakes.kube.models import KubeBackend
from netwarden.fakes.wire import NoRoute, Request, Response, dispatch, routes

_CORE = r"/api/(?P<version>v1)"
_GROUP = r"/apis/(?P<group>[a-z0-9.-]+)/(?P<version>v[a-z0-9]+)"
_NS = r"(?:/namespaces/(?P<namespace>[^/]+))?"
_COLLECTION = _NS + r"/(?P<resource>[a-z]+)"
_ITEM = _COLLECTION + r"/(?P<name>[^/]+)"

ROUTES = routes([
    ("GET", r"/version/?", r.version),
    ("GET", r"/api/?", r.core_versions),
    ("GET", r"/apis/?", r.groups),
    ("GET", _CORE + "/?", r.resources),
    ("GET", r"/apis/(?P<group>[a-z0-9.-]+)/?", r.group),
    ("GET", _GROUP + "/?", r.resources),
    ("GET", r"/(?P<endpoint>healthz|livez|readyz)(?:/(?P<check>.+))?", r.health),
    ("GET", r"/openapi/v2/?", r.openapi_v2_document),
    ("GET", r"/openapi/v3/?", r.openapi_root),
    ("GET", r"/openapi/v3/(?P<path>.+)", r.openapi_group_version),
    *((method, prefix + _COLLECTION, handler) for prefix in (_CORE, _GROUP)
      for method, handler in (("GET", r.list_objects), ("POST", r.create_object))),
    *((method, prefix + _ITEM, handler) for prefix in (_CORE, _GROUP)
      for method, handler in (("GET", r.get_object), ("PUT", r.replace_object), ("PATCH", r.patch_object),
                              ("DELETE", r.delete_object))),
])


def create(cloud: Any) -> KubeBackend:
    return KubeBackend(cloud)


def handle(state: KubeBackend, request: Request) -> Response:
    try:
        return dispatch(ROUTES, state, request)
    except NoRoute as e:
        return r.status_response(MethodNotAllowed(sorted(set(e.allowed))) if e.allowed else NoResource())
    except KubeError as e:
        return r.status_response(e)
