"""The Kubernetes adapter sends the requests the client's generated API classes sent for the same calls.

The adapter calls the API through the client's ``ApiClient`` (``KubeConnection.request``) rather than
``CoreV1Api`` and ``NetworkingV1Api``. A recording HTTP server answers both, in turn, with the same
scripted answers; what each side sent (method, path, query, headers, JSON body) must be the same, for
every read and write, with a bearer token from ``token_env`` and from a kubeconfig.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import pytest
import yaml
from kubernetes import client
from kubernetes.client.exceptions import ApiException

from netwarden.adapters.kube import POLICIES, KubeClusterWriter
from netwarden.adapters.kube_client import PAGE_SIZE, TIMEOUT, KubeConnection, connect, list_all
from netwarden.config import ClusterSettings
from netwarden.core import normalize
from netwarden.core.model import Namespace, NetworkPolicy

CLUSTER = "recorded"
TOKEN = "recorded-token"
POLICY = NetworkPolicy("accounts", "web", {"podSelector": {"matchLabels": {"app": "web"}}, "policyTypes": ["Ingress"],
                                           "ingress": [{"from": [{"ipBlock": {"cidr": "10.0.0.0/8"}}]}]},
                       {"team": "payments"})
EMPTY_LIST: dict[str, Any] = {"kind": "List", "apiVersion": "v1", "metadata": {"resourceVersion": "7"}, "items": []}
IGNORED_HEADERS = {"host", "content-length"}


@dataclass
class Recorder:
    """What the server was sent, and the answers it gives next (then 200 with an empty list)."""

    url: str = ""
    seen: list[dict[str, Any]] = field(default_factory=list)
    answers: list[tuple[int, Any]] = field(default_factory=list)

    def take(self) -> list[dict[str, Any]]:
        seen, self.seen = self.seen, []
        return seen


def _handler(recorder: Recorder) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def _answer(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            raw = self.rfile.read(length) if length else b""
            url = urlsplit(self.path)
            recorder.seen.append({
                "method": self.command, "path": url.path, "query": parse_qsl(url.query),
                "headers": {k.lower(): v for k, v in self.headers.items() if k.lower() not in IGNORED_HEADERS},
                "body": json.loads(raw) if raw else None})
            status, body = recorder.answers.pop(0) if recorder.answers else (200, EMPTY_LIST)
            data = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = _answer

        def log_message(self, format: str, *args: Any) -> None:
            """Quiet: ``Recorder.seen`` is the record."""

    return Handler


@pytest.fixture(scope="module")
def server() -> Iterator[Recorder]:
    recorder = Recorder()
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), _handler(recorder))
    recorder.url = f"http://127.0.0.1:{httpd.server_address[1]}/k8s/{CLUSTER}"
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield recorder
    httpd.shutdown()
    httpd.server_close()
    thread.join()


@pytest.fixture(params=["token_env", "kubeconfig"])
def cluster(request: pytest.FixtureRequest, server: Recorder, tmp_path: Path,
            monkeypatch: pytest.MonkeyPatch) -> ClusterSettings:
    server.seen.clear()
    server.answers.clear()
    if request.param == "token_env":
        monkeypatch.setenv("RECORDED_TOKEN", TOKEN)
        return ClusterSettings(name=CLUSTER, server=server.url, token_env="RECORDED_TOKEN")
    kubeconfig = tmp_path / "kubeconfig"
    kubeconfig.write_text(yaml.safe_dump({
        "apiVersion": "v1", "kind": "Config", "current-context": "here",
        "clusters": [{"name": "c", "cluster": {"server": server.url}}],
        "users": [{"name": "u", "user": {"token": TOKEN}}],
        "contexts": [{"name": "here", "context": {"cluster": "c", "user": "u"}}]}))
    return ClusterSettings(name=CLUSTER, kubeconfig=str(kubeconfig), context="here")


def _raw(call: Callable[[], Any]) -> None:
    """A typed call made with ``_preload_content=False`` (as the adapter made them): drain the answer."""
    try:
        response = call()
    except ApiException:
        return
    _ = response.data
    response.release_conn()


LIVE_POLICY = {"metadata": {"name": "web", "namespace": "accounts", "resourceVersion": "41",
                            "annotations": {"owner": "x"}}, "spec": {"podSelector": {}}}
LIVE_NAMESPACE = {"metadata": {"name": "finance", "resourceVersion": "12",
                               "labels": {"kubernetes.io/metadata.name": "finance", "usage": "old", "extra": "x"}}}
NOT_FOUND = {"kind": "Status", "status": "Failure", "reason": "NotFound", "code": 404, "message": "not found"}
NEXT_PAGE = {**EMPTY_LIST, "metadata": {"continue": "page/2=="}, "items": [{"metadata": {"name": "a"}}]}


def typed_lists(api: Any) -> None:
    core, net = client.CoreV1Api(api), client.NetworkingV1Api(api)
    options = {"limit": PAGE_SIZE, "_preload_content": False, "_request_timeout": TIMEOUT}
    _raw(lambda: core.list_node(**options))
    _raw(lambda: net.list_network_policy_for_all_namespaces(**options))
    _raw(lambda: net.list_network_policy_for_all_namespaces(_continue="page/2==", **options))
    _raw(lambda: core.list_pod_for_all_namespaces(**options))


def adapter_lists(conn: KubeConnection, writer: KubeClusterWriter) -> None:
    list_all(conn, "/api/v1/nodes")
    list_all(conn, POLICIES)
    list_all(conn, "/api/v1/pods")


def typed_create(api: Any) -> None:
    net = client.NetworkingV1Api(api)
    _raw(lambda: net.read_namespaced_network_policy("web", "accounts", _preload_content=False))
    _raw(lambda: net.create_namespaced_network_policy("accounts", normalize.netpol_manifest(POLICY),
                                                      _preload_content=False))


def typed_replace(api: Any) -> None:
    net = client.NetworkingV1Api(api)
    body = normalize.netpol_manifest(POLICY)
    body["metadata"].update(resourceVersion="41", annotations={"owner": "x"})
    _raw(lambda: net.read_namespaced_network_policy("web", "accounts", _preload_content=False))
    _raw(lambda: net.replace_namespaced_network_policy("web", "accounts", body, _preload_content=False))


def typed_delete(api: Any) -> None:
    _raw(lambda: client.NetworkingV1Api(api).delete_namespaced_network_policy("web", "accounts",
                                                                               _preload_content=False))


def typed_labels(api: Any) -> None:
    core = client.CoreV1Api(api)
    patch = {"metadata": {"labels": {"usage": "finance", "extra": None}, "resourceVersion": "12"}}
    _raw(lambda: core.read_namespace("finance", _preload_content=False))
    _raw(lambda: core.patch_namespace("finance", patch, _content_type="application/merge-patch+json",
                                      _preload_content=False))


@pytest.mark.parametrize(("typed", "adapter", "answers"), [
    (typed_lists, adapter_lists, [(200, EMPTY_LIST), (200, NEXT_PAGE)]),
    (typed_create, lambda c, w: w.apply_policy(CLUSTER, POLICY), [(404, NOT_FOUND), (201, LIVE_POLICY)]),
    (typed_replace, lambda c, w: w.apply_policy(CLUSTER, POLICY), [(200, LIVE_POLICY), (200, LIVE_POLICY)]),
    (typed_delete, lambda c, w: w.delete_policy(CLUSTER, "accounts", "web"), [(200, {"kind": "Status"})]),
    (typed_labels, lambda c, w: w.set_namespace_labels(CLUSTER, Namespace("finance", {"usage": "finance"})),
     [(200, LIVE_NAMESPACE), (200, LIVE_NAMESPACE)]),
], ids=["chunked-lists", "create-policy", "replace-policy", "delete-policy", "namespace-labels"])
def test_the_adapter_sends_what_the_generated_classes_sent(
        server: Recorder, cluster: ClusterSettings, typed: Callable[[Any], None],
        adapter: Callable[[KubeConnection, KubeClusterWriter], None], answers: list[tuple[int, Any]]) -> None:
    conn = connect(cluster)
    server.answers[:] = answers
    typed(conn.api)
    before = server.take()
    server.answers[:] = answers
    adapter(conn, KubeClusterWriter([cluster], connector=lambda _: conn))
    after = server.take()
    assert before, "the typed calls reached the server"
    assert after == before
    assert {r["headers"].get("authorization") for r in after} == {f"Bearer {TOKEN}"}
    assert {r["headers"].get("user-agent") for r in after} == {"netwarden/0.1.0"}
