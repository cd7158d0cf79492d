"""The Kubernetes emulator's other endpoints and wire details, as the API server answers them.

``/healthz``, ``/livez`` and ``/readyz`` (``ok``, or each check with ``?verbose``), ``/openapi/v2``
negotiated as kube-openapi does (JSON, gnostic protobuf, 406), ``Content-Type: application/json`` with
no charset on every JSON answer, errors included, and a forced server-side apply that takes over the
conflicting fields only, leaving other managers the fields they share with it.
"""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from collections.abc import Iterator
from typing import Any

import pytest
from kubernetes import client
from openapi_spec_validator.validation import OpenAPIV2SpecValidator

from netwarden.fakes.kube import protobuf
from netwarden.fakes.server import FakeServer

CLUSTER = "endpoints"
NP = "/apis/networking.k8s.io/v1/namespaces/accounts/networkpolicies"


class Raw:
    def __init__(self, fake: FakeServer) -> None:
        self.base = f"{fake.url}/k8s/{CLUSTER}"

    def __call__(self, method: str, path: str, body: Any = None, headers: dict[str, str] | None = None,
                 ) -> tuple[int, dict[str, str], bytes]:
        data = json.dumps(body).encode() if body is not None else None
        request = urllib.request.Request(self.base + path, data=data, method=method,
                                         headers={"Content-Type": "application/json", **(headers or {})})
        try:
            with urllib.request.urlopen(request, timeout=10) as response:
                return response.status, dict(response.headers), response.read()
        except urllib.error.HTTPError as e:
            return e.code, dict(e.headers), e.read()


@pytest.fixture
def raw(fake: FakeServer) -> Iterator[Raw]:
    r = Raw(fake)
    r("POST", "/api/v1/namespaces", {"metadata": {"name": "accounts"}})
    yield r


# --- health ----------------------------------------------------------------------------------------

@pytest.mark.parametrize(("path", "body"), [
    ("/healthz", "ok"), ("/livez", "ok"), ("/readyz", "ok"), ("/readyz/etcd", "ok"), ("/livez/ping", "ok"),
    ("/healthz?verbose", "[+]ping ok\n[+]log ok\n[+]etcd ok\n[+]poststarthook/start-apiserver-admission-initializer"
                         " ok\n[+]poststarthook/generic-apiserver-start-informers ok\nhealthz check passed\n"),
    ("/readyz?verbose&exclude=etcd", "[+]ping ok\n[+]log ok\n[+]etcd excluded: ok\n[+]etcd-readiness ok\n"
                                     "[+]informer-sync ok\n[+]poststarthook/start-apiserver-admission-initializer ok\n"
                                     "[+]poststarthook/generic-apiserver-start-informers ok\n[+]shutdown ok\n"
                                     "readyz check passed\n"),
])
def test_health_endpoints_answer_ok_in_plain_text(raw: Raw, path: str, body: str) -> None:
    status, headers, text = raw("GET", path)
    assert (status, headers["Content-Type"], headers["X-Content-Type-Options"], text.decode()) == (
        200, "text/plain; charset=utf-8", "nosniff", body)


def test_an_unknown_health_check_is_not_found(raw: Raw) -> None:
    status, _, body = raw("GET", "/readyz/nope")
    assert (status, json.loads(body)["reason"]) == (404, "NotFound")


# --- OpenAPI v2 --------------------------------------------------------------------------------------

@pytest.mark.parametrize(("accept", "content_type"), [
    ("application/json", "application/json"),
    ("*/*", "application/json"),
    (None, "application/json"),
    ("application/com.github.proto-openapi.spec.v2@v1.0+protobuf", "application/com.github.proto-openapi.spec.v2."
                                                                    "v1.0+protobuf"),
    ("application/com.github.proto-openapi.spec.v2.v1.0+protobuf;q=0.9,application/json;q=0.5",
     "application/com.github.proto-openapi.spec.v2.v1.0+protobuf"),
    ("text/html", None),
])
def test_openapi_v2_is_negotiated_as_kube_openapi_does(raw: Raw, accept: str | None,
                                                        content_type: str | None) -> None:
    status, headers, body = raw("GET", "/openapi/v2", headers={"Accept": accept} if accept else {})
    assert headers["Vary"] == "Accept"
    if content_type is None:
        assert (status, body) == (406, b"")
        return
    assert (status, headers["Content-Type"]) == (200, content_type)
    if content_type == "application/json":
        doc = json.loads(body)
        assert list(OpenAPIV2SpecValidator(doc).iter_errors()) == []
        policy = doc["definitions"]["io.k8s.api.networking.v1.NetworkPolicy"]
        assert policy["x-kubernetes-group-version-kind"] == [{"group": "networking.k8s.io", "version": "v1",
                                                              "kind": "NetworkPolicy"}]
        listed = doc["paths"]["/apis/networking.k8s.io/v1/namespaces/{namespace}/networkpolicies"]["get"]
        assert listed["operationId"] == "listNetworkingV1NamespacedNetworkPolicy"
        assert {"watch", "resourceVersion", "timeoutSeconds"} <= {p["name"] for p in listed["parameters"]}
    else:
        top = protobuf.fields(body)
        assert top[0] == (1, b"2.0") and {number for number, _ in top} == {1, 2, 8, 9}
    assert raw("GET", "/openapi/v2", headers={"If-None-Match": headers["Etag"], "Accept": accept or "*/*"})[0] == 304


# --- Content-Type ------------------------------------------------------------------------------------

@pytest.mark.parametrize(("method", "path", "body", "headers", "code"), [
    ("GET", "/version", None, {}, 200),
    ("GET", "/apis", None, {}, 200),
    ("GET", "/openapi/v3", None, {}, 200),
    ("GET", "/api/v1/namespaces", None, {}, 200),
    ("GET", "/api/v1/namespaces", None, {"Accept": "application/json;as=Table;v=v1;g=meta.k8s.io"}, 200),
    ("POST", "/api/v1/namespaces", {"metadata": {"name": "accounts"}}, {}, 409),
    ("GET", NP + "/nope", None, {}, 404),
    ("GET", "/apis/nowhere/v1", None, {}, 404),
    ("DELETE", "/version", None, {}, 405),
    ("PATCH", "/api/v1/namespaces/accounts", {}, {"Content-Type": "text/plain"}, 415),
    ("POST", NP, {"metadata": {"name": "bad"}, "spec": {"podSelector": {}, "policyTypes": ["In"]}}, {}, 422),
])
def test_json_answers_are_exactly_application_json(raw: Raw, method: str, path: str, body: Any,
                                                   headers: dict[str, str], code: int) -> None:
    status, got, data = raw(method, path, body, headers)
    assert (status, got["Content-Type"]) == (code, "application/json")
    if code >= 400:
        assert json.loads(data)["kind"] == "Status"


# --- forced server-side apply ---------------------------------------------------------------------

def _apply(fake: FakeServer, manager: str, labels: dict[str, str], *, force: bool = False,
           spec: bool = False) -> dict[str, Any]:
    api = client.ApiClient(client.Configuration(host=f"{fake.url}/k8s/{CLUSTER}"))
    config: dict[str, Any] = {"apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy",
                              "metadata": {"name": "web", "labels": labels}}
    if spec:
        config["spec"] = {"podSelector": {"matchLabels": {"app": "web"}}}
    query = f"?fieldManager={manager}" + ("&force=true" if force else "")
    response = api.call_api("PATCH", f"{fake.url}/k8s/{CLUSTER}{NP}/web{query}",
                            {"Content-Type": "application/apply-patch+yaml"}, config)
    response.read()
    api.close()
    assert response.status in (200, 201), response.data
    return dict(json.loads(response.data))


def _owners(obj: dict[str, Any]) -> dict[str, Any]:
    return {e["manager"]: e["fieldsV1"] for e in obj["metadata"]["managedFields"]}


def test_a_forced_apply_takes_only_the_conflicting_fields(raw: Raw, fake: FakeServer) -> None:
    _apply(fake, "deployer", {"app": "web", "team": "a"}, spec=True)
    before = _owners(_apply(fake, "ops", {"team": "a", "owner": "ops"}))  # team: the same value, shared
    assert before == {
        "deployer": {"f:metadata": {"f:labels": {"f:app": {}, "f:team": {}}}, "f:spec": {"f:podSelector": {}}},
        "ops": {"f:metadata": {"f:labels": {"f:owner": {}, "f:team": {}}}}}
    forced = _apply(fake, "takeover", {"app": "web", "owner": "me"}, force=True)  # owner conflicts, app does not
    assert forced["metadata"]["labels"] == {"app": "web", "team": "a", "owner": "me"}
    assert _owners(forced) == {
        "deployer": {"f:metadata": {"f:labels": {"f:app": {}, "f:team": {}}}, "f:spec": {"f:podSelector": {}}},
        "ops": {"f:metadata": {"f:labels": {"f:team": {}}}},
        "takeover": {"f:metadata": {"f:labels": {"f:app": {}, "f:owner": {}}}}}
