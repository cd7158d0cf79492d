"""What the emulator server does with open watches: a restart on the same port over the same state (the
resumed watch continues where it stopped), ``stop()`` cutting the open streams, a reset ending them, a
client that goes away, and the faults of ``/_fake/faults``, which apply to watch requests too.
"""

from __future__ import annotations

import http.client
import socket
import time
import urllib.request
from collections.abc import Iterator

import pytest
import urllib3
from kube_watch_support import CLUSTER, END, Background, Kube
from kubernetes import watch
from kubernetes.client.exceptions import ApiException

from netwarden.fakes.server import FakeServer


@pytest.fixture
def kube(fake: FakeServer) -> Iterator[Kube]:
    k = Kube(fake.url, fake.cloud)
    k.core.create_namespace({"metadata": {"name": "accounts"}})
    yield k
    k.close()


def test_a_restarted_server_on_the_same_port_serves_the_resumed_watch() -> None:
    first = FakeServer().start()
    kube = Kube(first.url, first.cloud)
    try:
        kube.core.create_namespace({"metadata": {"name": "accounts"}})
        follower = Background(kube.core.list_namespace, resource_version=kube.rv(), timeout_seconds=30)
        kube.wait_watches(1)
        kube.core.patch_namespace("accounts", {"metadata": {"labels": {"step": "1"}}})
        [seen] = follower.take(1)
        first.stop()  # the client sees its connection cut, as from an API server that went away
        assert isinstance(follower.end(), urllib3.exceptions.ProtocolError)
        assert follower.watch.resource_version == seen[2]
        with pytest.raises(urllib3.exceptions.MaxRetryError):
            kube.core.list_namespace(_request_timeout=2)
        second = FakeServer(port=first.port, cloud=first.cloud).start()
        try:
            assert second.url == first.url
            kube.core.patch_namespace("accounts", {"metadata": {"labels": {"step": "2"}}})
            kube.core.create_namespace({"metadata": {"name": "finance"}})
            kube.history().bookmark_interval = 0.05
            resumed = []
            for event in watch.Watch().stream(kube.core.list_namespace, resource_version=seen[2],
                                              allow_watch_bookmarks=True, timeout_seconds=10):
                if event["type"] == "BOOKMARK":
                    break
                resumed.append((event["type"], event["object"].metadata.name,
                                (event["object"].metadata.labels or {}).get("step")))
            assert resumed == [("MODIFIED", "accounts", "2"), ("ADDED", "finance", None)]
        finally:
            second.stop()
    finally:
        kube.close()


def test_stop_cuts_every_open_stream() -> None:
    server = FakeServer().start()
    kube = Kube(server.url, server.cloud)
    try:
        followers = [Background(kube.core.list_namespace, timeout_seconds=30),
                     Background(kube.core.list_pod_for_all_namespaces, timeout_seconds=30)]
        kube.wait_watches(2)
        started = time.monotonic()
        server.stop()
        assert [type(f.end()) for f in followers] == [urllib3.exceptions.ProtocolError] * 2
        assert time.monotonic() - started < 3
        assert kube.history().watches == 0
    finally:
        kube.close()


@pytest.mark.parametrize("how", ["the control route", "the cloud"])
def test_a_reset_ends_the_watches_of_the_clusters_it_forgets(kube: Kube, fake: FakeServer, how: str) -> None:
    follower = Background(kube.net.list_network_policy_for_all_namespaces, timeout_seconds=30)
    kube.wait_watches(1)
    history = kube.history()
    started = time.monotonic()
    if how == "the cloud":
        fake.cloud.reset()
    else:
        urllib.request.urlopen(urllib.request.Request(f"{fake.url}/_fake/reset", data=b"", method="POST"), timeout=5)
    assert follower.end() == END  # a clean end of stream, as when a watch times out
    assert time.monotonic() - started < 3 and history.watches == 0


def test_a_client_that_goes_away_ends_its_stream_quietly(kube: Kube, capfd: pytest.CaptureFixture[str]) -> None:
    host, port = kube.url.split("//")[1].split(":")
    kube.history().bookmark_interval = 0.05
    for wait in (True, False):  # gone while the watch waits, and while it writes (bookmarks)
        with socket.create_connection((host, int(port)), timeout=5) as sock:
            query = "watch=1" if wait else "watch=1&allowWatchBookmarks=true"
            sock.sendall(f"GET /k8s/{CLUSTER}/api/v1/namespaces?{query} HTTP/1.1\r\nHost: {host}\r\n\r\n".encode())
            assert sock.recv(12) == b"HTTP/1.1 200"
            kube.wait_watches(1)
        kube.wait_watches(0, timeout=5)
    kube.core.create_namespace({"metadata": {"name": "after"}})  # writes still notify without a hitch
    assert "Traceback" not in capfd.readouterr().err


@pytest.mark.parametrize(("fault", "raised", "statuses"), [
    ({"status": 503, "count": 1}, ApiException, [503]),
    ({"status": 429, "retry_after": 1, "count": 1}, None, [429, 200]),  # urllib3 waits Retry-After, then retries
    ({"drop": True, "status": None}, urllib3.exceptions.MaxRetryError, [None] * 4),
])
def test_faults_apply_to_watch_requests(kube: Kube, fake: FakeServer, fault: dict[str, object],
                                        raised: type[Exception] | None, statuses: list[int | None]) -> None:
    fake.cloud.add_fault({"path": "watch=true", **fault})
    if raised is None:
        assert list(watch.Watch().stream(kube.core.list_namespace, timeout_seconds=1))
    else:
        with pytest.raises(raised) as e:
            list(watch.Watch().stream(kube.core.list_namespace, timeout_seconds=1))
        assert not isinstance(e.value, ApiException) or e.value.status == fault["status"]
    assert [r["status"] for r in fake.cloud.requests if r["query"].get("watch") == "true"] == statuses


def test_latency_delays_the_watch_it_does_not_break_it(kube: Kube, fake: FakeServer) -> None:
    fake.cloud.add_fault({"path": "watch=true", "status": None, "latency_ms": 300})
    started = time.monotonic()
    events = list(watch.Watch().stream(kube.core.list_namespace, timeout_seconds=1))
    assert time.monotonic() - started >= 1.3
    assert [(e["type"], e["object"].metadata.name) for e in events][-1] == ("ADDED", "kube-system")
    logged = [r for r in fake.cloud.requests if r["query"].get("watch") == "true"]
    assert [(r["fault"], r["status"]) for r in logged] == [(True, 200)]


def test_a_watch_is_a_long_request_that_leaves_the_connection_usable(kube: Kube) -> None:
    host = kube.url.split("//")[1]
    connection = http.client.HTTPConnection(host, timeout=10)
    connection.request("GET", f"/k8s/{CLUSTER}/api/v1/namespaces?watch=true&timeoutSeconds=1&resourceVersion="
                              f"{kube.rv()}")
    assert connection.getresponse().read() == b""  # nothing happened: the stream ends with its last chunk
    connection.request("GET", f"/k8s/{CLUSTER}/api/v1/namespaces/accounts")
    assert connection.getresponse().status == 200
    connection.close()
