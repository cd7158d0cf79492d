"""``/openapi/v2``: the Swagger 2.0 document of the kinds the emulator serves, as JSON or protobuf.

kubectl asks for it with ``Accept: application/com.github.proto-openapi.spec.v2@v1.0+protobuf`` only
(``kubectl explain --output plaintext-openapiv2``, and clients that predate OpenAPI v3), and reads the
answer as gnostic's ``openapi_v2.Document``; other clients ask for JSON. The document is derived from
the OpenAPI v3 documents ``discovery`` builds (one per group version), merged into one, as the API
server's aggregated v2 spec is: the same schemas under ``definitions``, each operation with its
parameters, body and responses. ``negotiate`` picks the type as kube-openapi's handler does: the first
clause of the Accept header (by ``q``) it can serve, ``*/*`` included; none is a 406.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping
from functools import cache
from typing import Any

import yaml

from netwarden.fakes.kube import discovery
from netwarden.fakes.kube.kinds import group_versions

JSON = "application/json"
PROTOBUF = "application/com.github.proto-openapi.spec.v2.v1.0+protobuf"
_PROTOBUF_TYPES = ("com.github.proto-openapi.spec.v2@v1.0+protobuf", "com.github.proto-openapi.spec.v2.v1.0+protobuf")
_PRODUCES = ["application/json", "application/yaml", "application/vnd.kubernetes.protobuf"]
_METHODS = {"get": 2, "put": 3, "post": 4, "delete": 5, "patch": 8}
_VERBS = {"list": "list", "post": "create", "get": "read", "put": "replace", "patch": "patch", "delete": "delete"}


def _v2_refs(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: (v.replace("#/components/schemas/", "#/definitions/") if k == "$ref" else _v2_refs(v))
                for k, v in value.items()}
    if isinstance(value, list):
        return [_v2_refs(v) for v in value]
    return value


def _operation_id(op: Mapping[str, Any], path: str, namespaced: bool) -> str:
    """The API server's: ``listNetworkingV1NamespacedNetworkPolicy``, ``listCoreV1PodForAllNamespaces``."""
    gvk = op["x-kubernetes-group-version-kind"]
    group = gvk["group"].split(".")[0].capitalize() if gvk["group"] else "Core"
    scope = "Namespaced" if "{namespace}" in path else ""
    tail = "ForAllNamespaces" if namespaced and not scope else ""
    return f"{_VERBS[op['x-kubernetes-action']]}{group}{gvk['version'].capitalize()}{scope}{gvk['kind']}{tail}"


def _operation(op: Mapping[str, Any], path: str, namespaced: bool) -> dict[str, Any]:
    params = [{"uniqueItems": True, "type": "string", "description": p.get("description", ""), "name": p["name"],
               "in": "query"} for p in op.get("parameters", [])]
    body = op.get("requestBody")
    if body:
        params.insert(0, {"name": "body", "in": "body", "required": True,
                          "schema": next(iter(body["content"].values()))["schema"]})
    ok = op["responses"]["200"]
    out: dict[str, Any] = {"consumes": list(body["content"]) if body else ["*/*"], "produces": _PRODUCES,
                           "schemes": ["https"], "operationId": _operation_id(op, path, namespaced),
                           "parameters": params,
                           "responses": {"200": {"description": ok["description"],
                                                 "schema": ok["content"]["application/json"]["schema"]},
                                         "401": {"description": "Unauthorized"}}}
    out.update({k: v for k, v in op.items() if k.startswith("x-")})
    return out


def _path_params(path: str) -> list[dict[str, Any]]:
    return [{"uniqueItems": True, "type": "string", "description": f"name of the {n}" if n == "name" else
             "object name and auth scope, such as for teams and projects", "name": n, "in": "path", "required": True}
            for n in ("name", "namespace") if f"{{{n}}}" in path]


@cache
def document() -> dict[str, Any]:
    paths: dict[str, Any] = {}
    definitions: dict[str, Any] = {}
    for gv, kinds in group_versions().items():
        namespaced = {k.kind for k in kinds if k.namespaced}
        v3 = _v2_refs(discovery.openapi_document(gv))
        definitions.update(v3["components"]["schemas"])
        for path, item in v3["paths"].items():
            paths[path] = {method: _operation(op, path, op["x-kubernetes-group-version-kind"]["kind"] in namespaced)
                           for method, op in item.items()}
            if _path_params(path):
                paths[path]["parameters"] = _path_params(path)
    return {"swagger": "2.0", "info": {"title": "Kubernetes", "version": discovery.VERSION["gitVersion"]},
            "paths": dict(sorted(paths.items())), "definitions": dict(sorted(definitions.items()))}


# --- gnostic's protobuf (OpenAPIv2.proto) -------------------------------------------------------------


def _varint(n: int) -> bytes:
    out = bytearray()
    while True:
        byte, n = n & 0x7F, n >> 7
        out.append(byte | (0x80 if n else 0))
        if not n:
            return bytes(out)


def _bytes(number: int, payload: bytes) -> bytes:
    return _varint(number << 3 | 2) + _varint(len(payload)) + payload


def _str(number: int, text: Any) -> bytes:
    return _bytes(number, str(text).encode("utf-8")) if text not in (None, "") else b""


def _strs(number: int, texts: Iterable[Any]) -> bytes:
    return b"".join(_bytes(number, str(t).encode("utf-8")) for t in texts)


def _bool(number: int, value: Any) -> bytes:
    return _varint(number << 3) + b"\x01" if value else b""


def _extensions(number: int, obj: Mapping[str, Any]) -> bytes:
    """``repeated NamedAny``: each ``x-`` key, its value as the YAML gnostic keeps (``Any.yaml``)."""
    out = b""
    for key, value in obj.items():
        if key.startswith("x-"):
            text = yaml.safe_dump(value, default_flow_style=False, sort_keys=False).removesuffix("...\n")
            out += _bytes(number, _str(1, key) + _bytes(2, _str(2, text)))
    return out


def _schema(s: Mapping[str, Any]) -> bytes:
    out = _str(1, s.get("$ref")) + _str(2, s.get("format")) + _str(4, s.get("description"))
    out += _strs(19, s.get("required", []))
    extra = s.get("additionalProperties")
    if isinstance(extra, Mapping):
        out += _bytes(21, _bytes(1, _schema(extra)))
    elif isinstance(extra, bool):
        out += _bytes(21, _varint(2 << 3) + (b"\x01" if extra else b"\x00"))
    if "type" in s:
        out += _bytes(22, _strs(1, s["type"] if isinstance(s["type"], list) else [s["type"]]))
    if "items" in s:
        out += _bytes(23, _bytes(1, _schema(s["items"])))
    if "properties" in s:
        out += _bytes(25, b"".join(_bytes(1, _str(1, k) + _bytes(2, _schema(v))) for k, v in s["properties"].items()))
    return out + _extensions(31, s)


def _parameter(p: Mapping[str, Any]) -> bytes:
    if p["in"] == "body":
        inner = _bytes(1, _str(1, p.get("description")) + _str(2, p["name"]) + _str(3, "body")
                       + _bool(4, p.get("required")) + _bytes(5, _schema(p["schema"])))
    elif p["in"] == "path":  # PathParameterSubSchema
        inner = _bytes(2, _bytes(4, _bool(1, True) + _str(2, "path") + _str(3, p.get("description"))
                                 + _str(4, p["name"]) + _str(5, p["type"]) + _bool(19, p.get("uniqueItems"))))
    else:  # QueryParameterSubSchema
        inner = _bytes(2, _bytes(3, _str(2, "query") + _str(3, p.get("description")) + _str(4, p["name"])
                                 + _str(6, p["type"]) + _bool(20, p.get("uniqueItems"))))
    return _bytes(1, inner)  # ParametersItem.parameter


def _operation_pb(op: Mapping[str, Any]) -> bytes:
    responses = b"".join(
        _bytes(1, _str(1, code) + _bytes(2, _bytes(1, _str(1, r["description"])
                                                   + (_bytes(2, _bytes(1, _schema(r["schema"]))) if "schema" in r
                                                      else b""))))
        for code, r in op["responses"].items())
    return (_str(5, op["operationId"]) + _strs(6, op["produces"]) + _strs(7, op["consumes"])
            + b"".join(_bytes(8, _parameter(p)) for p in op["parameters"]) + _bytes(9, responses)
            + _strs(10, op["schemes"]) + _extensions(13, op))


def to_protobuf(doc: Mapping[str, Any]) -> bytes:
    paths = b""
    for path, item in doc["paths"].items():
        body = b"".join(_bytes(_METHODS[m], _operation_pb(op)) for m, op in sorted(
            ((m, op) for m, op in item.items() if m in _METHODS), key=lambda pair: _METHODS[pair[0]]))
        body += b"".join(_bytes(9, _parameter(p)) for p in item.get("parameters", []))
        paths += _bytes(2, _str(1, path) + _bytes(2, body))
    definitions = b"".join(_bytes(1, _str(1, name) + _bytes(2, _schema(s))) for name, s in doc["definitions"].items())
    return (_str(1, doc["swagger"]) + _bytes(2, _str(1, doc["info"]["title"]) + _str(2, doc["info"]["version"]))
            + _bytes(8, paths) + _bytes(9, definitions))


@cache
def _served() -> dict[str, tuple[bytes, str]]:
    """The two bodies, each with kube-openapi's ETag (the SHA-512 of the JSON, upper-case hex)."""
    doc = document()
    body = json.dumps(doc, separators=(",", ":")).encode("utf-8")
    etag = hashlib.sha512(body).hexdigest().upper()
    return {JSON: (body, etag), PROTOBUF: (to_protobuf(doc), etag)}


def negotiate(accept: str | None) -> tuple[str, bytes, str] | None:
    """(content type, body, etag) for the first Accept clause served, by ``q``; None: a 406."""
    clauses = []
    for i, part in enumerate((accept or "*/*").split(",")):
        media, *params = [p.strip() for p in part.split(";")]
        q = next((float(p[2:]) for p in params if p.startswith("q=") and p[2:].replace(".", "", 1).isdigit()), 1.0)
        clauses.append((-q, i, media))
    for _, _, media in sorted(clauses):
        kind, _, sub = media.partition("/")
        if kind not in ("application", "*"):
            continue
        if sub in ("json", "*"):
            return (JSON, *_served()[JSON])
        if sub in _PROTOBUF_TYPES:
            return (PROTOBUF, *_served()[PROTOBUF])
    return None
