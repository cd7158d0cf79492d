"""Watches of the Kubernetes emulator, read with the kubernetes client's own ``watch.Watch``.

Every write is an event (each patch type and apply, deletes with their final resourceVersion, and what
the cluster's controllers, scheduler and namespace controller write); ``resourceVersion`` unset or
``"0"`` starts with the current state, a number resumes after it with nothing missed or repeated;
selectors turn an object that stops matching into DELETED and one that starts into ADDED; bookmarks,
``timeoutSeconds``, the 410 of a compacted history and the 504 of a version from the future, as the
API server answers them. What the server does with the connections (restart, reset, faults) is in
``test_kube_watch_server``.
"""

from __future__ import annotations

import http.client
import json
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from kube_watch_support import CLUSTER, END, Background, Kube, watched
from kubernetes import watch
from kubernetes.client.exceptions import ApiException

from netwarden.fakes.server import FakeServer

NP = "/apis/networking.k8s.io/v1/namespaces/accounts/networkpolicies"


@pytest.fixture
def kube(fake: FakeServer) -> Iterator[Kube]:
    k = Kube(fake.url, fake.cloud)
    k.core.create_namespace({"metadata": {"name": "accounts"}})
    k.core.create_namespace({"metadata": {"name": "finance"}})
    yield k
    k.close()


def _raw(kube: Kube, method: str, path: str, body: Any, content_type: str) -> Any:
    response = kube.api.call_api(method, kube.base + path, {"Content-Type": content_type}, body)
    response.read()
    return json.loads(response.data)


def _apply(name: str) -> Callable[[Kube], Any]:
    config = {"apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy",
              "metadata": {"name": name, "labels": {"applied": "yes"}}, "spec": {"podSelector": {}}}
    return lambda k: _raw(k, "PATCH", f"{NP}/{name}?fieldManager=deployer", config, "application/apply-patch+yaml")


WEB: Any = {"metadata": {"name": "web"}, "spec": {"podSelector": {"matchLabels": {"app": "web"}}}}
WRITES: list[tuple[str, Callable[[Kube], Any], list[tuple[str, str]]]] = [
    ("create", lambda k: k.policy("accounts", "api"), [("ADDED", "accounts/api")]),
    ("replace", lambda k: k.net.replace_namespaced_network_policy("web", "accounts", WEB),
     [("MODIFIED", "accounts/web")]),
    ("merge patch", lambda k: k.label("accounts", "web", {"a": "b"}), [("MODIFIED", "accounts/web")]),
    ("json patch", lambda k: k.net.patch_namespaced_network_policy(
        "web", "accounts", [{"op": "add", "path": "/metadata/labels", "value": {"a": "b"}}],
        _content_type="application/json-patch+json"), [("MODIFIED", "accounts/web")]),
    ("strategic merge patch", lambda k: k.net.patch_namespaced_network_policy(
        "web", "accounts", {"spec": {"podSelector": {"matchLabels": {"app": "x"}}}},
        _content_type="application/strategic-merge-patch+json"), [("MODIFIED", "accounts/web")]),
    ("apply that updates", _apply("web"), [("MODIFIED", "accounts/web")]),
    ("apply that creates", _apply("new"), [("ADDED", "accounts/new")]),
    ("delete", lambda k: k.net.delete_namespaced_network_policy("web", "accounts"), [("DELETED", "accounts/web")]),
    ("a replace that changes nothing", lambda k: k.net.replace_namespaced_network_policy(
        "web", "accounts", k.net.read_namespaced_network_policy("web", "accounts")), []),
    ("dry run", lambda k: k.net.create_namespaced_network_policy("accounts", {**WEB, "metadata": {"name": "dry"}},
                                                                 dry_run="All"), []),
]


@pytest.mark.parametrize(("write", "expected"), [(w, e) for _, w, e in WRITES], ids=[i for i, _, _ in WRITES])
def test_every_write_is_one_event_at_its_resource_version(kube: Kube, write: Callable[[Kube], Any],
                                                          expected: list[tuple[str, str]]) -> None:
    kube.policy("accounts", "web")
    before = kube.rv()
    write(kube)
    events = watched(kube, kube.net.list_namespaced_network_policy, "accounts", resource_version=before)
    assert [(t, key) for t, key, _ in events] == expected
    assert [rv for *_, rv in events] == ([kube.rv()] if expected else [])


def test_the_clusters_own_writes_are_events(kube: Kube) -> None:
    """The scheduler binding a pending pod, a Deployment's controllers, the namespace controller."""
    kube.policy("accounts", "web")
    before = kube.rv()
    container = {"containers": [{"name": "c", "image": "nginx:1.27"}]}
    kube.core.create_namespaced_pod("accounts", {"metadata": {"name": "solo"}, "spec": container})
    kube.core.create_node({"metadata": {"name": "10.240.0.4"}, "status": {
        "addresses": [{"type": "InternalIP", "address": "10.240.0.4"}], "conditions": [{"type": "Ready",
                                                                                         "status": "True"}]}})
    labels = {"app": "api"}
    kube.apps.create_namespaced_deployment("accounts", {"metadata": {"name": "api"}, "spec": {
        "replicas": 1, "selector": {"matchLabels": labels}, "template": {"metadata": {"labels": labels},
                                                                         "spec": container}}})
    kube.core.delete_namespace("accounts")
    pods = watched(kube, kube.core.list_pod_for_all_namespaces, resource_version=before)
    assert [(t, key.split("-")[0]) for t, key, _ in pods] == [
        ("ADDED", "accounts/solo"), ("MODIFIED", "accounts/solo"), ("ADDED", "accounts/api"),
        ("DELETED", "accounts/solo"), ("DELETED", "accounts/api")]
    deployments = watched(kube, kube.apps.list_namespaced_deployment, "accounts", resource_version=before)
    assert [t for t, *_ in deployments] == ["ADDED", "MODIFIED", "MODIFIED", "DELETED"]
    namespaces = watched(kube, kube.core.list_namespace, resource_version=before)
    assert [(t, key) for t, key, _ in namespaces] == [("MODIFIED", "accounts"), ("DELETED", "accounts")]
    assert namespaces[-1][2] == kube.rv()  # the namespace goes last, at the cluster's newest version
    everything = sorted(int(rv) for fn in (kube.core.list_pod_for_all_namespaces, kube.core.list_namespace,
                                           kube.core.list_node, kube.apps.list_deployment_for_all_namespaces,
                                           kube.apps.list_replica_set_for_all_namespaces,
                                           kube.net.list_network_policy_for_all_namespaces)
                        for *_, rv in watched(kube, fn, resource_version=before))
    assert everything == list(range(int(before) + 1, int(kube.rv()) + 1))  # every version is one event


@pytest.mark.parametrize("resource_version", [None, "0"])
def test_without_a_resource_version_the_watch_starts_with_the_current_state(kube: Kube,
                                                                              resource_version: str | None) -> None:
    kube.policy("finance", "b")
    a = kube.policy("accounts", "a")
    kube.net.delete_namespaced_network_policy("b", "finance")
    kube.policy("finance", "b")
    options = {"resource_version": resource_version} if resource_version is not None else {}
    follower = Background(kube.net.list_network_policy_for_all_namespaces, timeout_seconds=5, **options)
    initial = follower.take(2)
    assert initial == [("ADDED", "accounts/a", a["metadata"]["resourceVersion"]),
                       ("ADDED", "finance/b", kube.rv())]  # in key order, each at its own version
    changed = kube.label("accounts", "a", {"v": "2"})
    assert follower.take(1) == [("MODIFIED", "accounts/a", changed)]


def test_resuming_from_the_last_version_seen_misses_and_repeats_nothing(kube: Kube) -> None:
    start = kube.rv()
    written = [kube.policy("accounts", "web")["metadata"]["resourceVersion"]]
    written += [kube.label("accounts", "web", {"step": str(i)}) for i in range(3)]
    w = watch.Watch()
    seen = [e["raw_object"]["metadata"]["resourceVersion"]
            for e in w.stream(kube.net.list_namespaced_network_policy, "accounts", resource_version=start,
                              timeout_seconds=1)]
    assert seen == written and w.resource_version == written[-1]
    written += [kube.label("accounts", "web", {"step": str(i)}) for i in range(3, 5)]
    kube.net.delete_namespaced_network_policy("web", "accounts")
    resumed = watched(kube, kube.net.list_namespaced_network_policy, "accounts", resource_version=w.resource_version)
    assert [rv for *_, rv in resumed] == [*written[4:], kube.rv()]
    assert [t for t, *_ in resumed] == ["MODIFIED", "MODIFIED", "DELETED"]
    assert watched(kube, kube.net.list_namespaced_network_policy, "accounts", resource_version=kube.rv()) == []


STEPS = [("accounts", "web", {"app": "web"}), ("finance", "web", {"app": "web"}), ("accounts", "web", {"app": "api"}),
         ("accounts", "web", {"app": "web"}), ("accounts", "web", {"tier": "x"}), ("accounts", "web", None)]


@pytest.mark.parametrize(("namespace", "labels", "fields", "expected"), [
    (None, "app=web", None, [("ADDED", "accounts/web", 0), ("ADDED", "finance/web", 1), ("DELETED", "accounts/web", 2),
                             ("ADDED", "accounts/web", 3), ("MODIFIED", "accounts/web", 4),
                             ("DELETED", "accounts/web", 5)]),
    (None, "app=api", None, [("ADDED", "accounts/web", 2), ("DELETED", "accounts/web", 3)]),
    (None, None, "metadata.namespace=finance", [("ADDED", "finance/web", 1)]),
    ("accounts", None, None, [("ADDED", "accounts/web", 0), ("MODIFIED", "accounts/web", 2),
                              ("MODIFIED", "accounts/web", 3), ("MODIFIED", "accounts/web", 4),
                              ("DELETED", "accounts/web", 5)]),
    ("finance", "app=web", "metadata.name=web", [("ADDED", "finance/web", 1)]),
    ("accounts", "app", "metadata.name!=web", []),
])
def test_selectors_apply_to_events(kube: Kube, namespace: str | None, labels: str | None, fields: str | None,
                                   expected: list[tuple[str, str, int]]) -> None:
    start = kube.rv()
    versions = []
    for ns, name, change in STEPS:
        if change is None:
            kube.net.delete_namespaced_network_policy(name, ns)
            versions.append(kube.rv())
        elif len(versions) < 2:
            versions.append(kube.policy(ns, name, change)["metadata"]["resourceVersion"])
        else:
            versions.append(kube.label(ns, name, {"app": None, **change} if "app" in change else change))
    options: dict[str, Any] = {"resource_version": start, "label_selector": labels, "field_selector": fields}
    options = {k: v for k, v in options.items() if v is not None}
    fn: Any = kube.net.list_network_policy_for_all_namespaces if namespace is None else \
        kube.net.list_namespaced_network_policy
    events = watched(kube, fn, *([namespace] if namespace else []), **options)
    assert events == [(t, key, versions[step]) for t, key, step in expected]


def test_an_object_that_stops_matching_leaves_with_its_last_matching_content(kube: Kube) -> None:
    kube.policy("accounts", "web", {"app": "web"})
    start = kube.rv()
    moved = kube.label("accounts", "web", {"app": "api"})
    w = watch.Watch()
    [event] = list(w.stream(kube.net.list_namespaced_network_policy, "accounts", resource_version=start,
                            label_selector="app=web", timeout_seconds=1))
    assert event["type"] == "DELETED"
    assert (event["object"].metadata.labels, event["object"].metadata.resource_version) == ({"app": "web"}, moved)


def test_bookmarks_carry_only_the_version_and_come_when_asked(kube: Kube) -> None:
    kube.history().bookmark_interval = 0.3
    kube.policy("accounts", "web")
    now = kube.rv()
    w = watch.Watch()
    events = list(w.stream(kube.net.list_namespaced_network_policy, "accounts", resource_version=now,
                           allow_watch_bookmarks=True, timeout_seconds=1))
    assert len(events) >= 3 and {e["type"] for e in events} == {"BOOKMARK"}
    assert all(e["raw_object"] == {"kind": "NetworkPolicy", "apiVersion": "networking.k8s.io/v1",
                                   "metadata": {"resourceVersion": now}} for e in events)
    assert w.resource_version == now


@pytest.mark.parametrize("bookmarks", [False, True])
def test_timeout_seconds_ends_the_stream(kube: Kube, bookmarks: bool) -> None:
    started = time.monotonic()
    events = list(watch.Watch().stream(kube.core.list_namespace, resource_version=kube.rv(), timeout_seconds=1,
                                       allow_watch_bookmarks=bookmarks))
    assert 0.9 <= time.monotonic() - started < 3
    assert [e["type"] for e in events] == (["BOOKMARK"] if bookmarks else [])  # the last one, as the stream ends


def _raw_watch(kube: Kube, query: str, accept: str = "application/json") -> tuple[http.client.HTTPResponse,
                                                                                 list[Any]]:
    host = kube.url.split("//")[1]
    connection = http.client.HTTPConnection(host, timeout=10)
    connection.request("GET", f"/k8s/{CLUSTER}{NP}?watch=true&{query}", headers={"Accept": accept})
    response = connection.getresponse()
    lines = [json.loads(line) for line in response.read().splitlines()]
    connection.close()
    return response, lines


@pytest.mark.parametrize("how", ["compaction", "a bounded history"])
def test_a_version_older_than_the_history_is_a_410_expired(kube: Kube, how: str) -> None:
    old = kube.rv()
    if how == "compaction":
        for name in ("a", "b"):
            kube.policy("accounts", name)
        assert kube.control("POST", "compact") == {"compacted": int(kube.rv())}
        floor = kube.rv()
    else:
        kube.history().size = 3
        for name in ("a", "b", "c", "d"):
            kube.policy("accounts", name)
        floor = str(int(old) + 1)
        assert [key for _, key, _ in watched(kube, kube.net.list_namespaced_network_policy, "accounts",
                                             resource_version=floor)] == ["accounts/b", "accounts/c", "accounts/d"]
    message = f"too old resource version: {old} ({floor})"
    response, lines = _raw_watch(kube, f"resourceVersion={old}")
    assert (response.status, response.getheader("Transfer-Encoding")) == (200, "chunked")
    assert lines == [{"type": "ERROR", "object": {"kind": "Status", "apiVersion": "v1", "metadata": {},
                                                  "status": "Failure", "message": message, "reason": "Expired",
                                                  "code": 410}}]
    for options in ({"timeout_seconds": 1}, {}):  # without a timeout the client retries once, then gives up
        with pytest.raises(ApiException) as e:
            list(watch.Watch().stream(kube.net.list_namespaced_network_policy, "accounts", resource_version=old,
                                      **options))
        assert (e.value.status, e.value.reason) == (410, f"Expired: {message}")


def test_a_version_the_cluster_has_not_reached_is_a_504_too_large(kube: Kube) -> None:
    kube.history().too_large_wait = 0.2
    now = int(kube.rv())
    _, lines = _raw_watch(kube, f"resourceVersion={now + 50}")
    assert lines == [{"type": "ERROR", "object": {
        "kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
        "message": f"Timeout: Too large resource version: {now + 50}, current: {now}", "reason": "Timeout",
        "details": {"causes": [{"reason": "ResourceVersionTooLarge", "message": "Too large resource version"}],
                    "retryAfterSeconds": 1}, "code": 504}}]
    with pytest.raises(ApiException) as e:
        list(watch.Watch().stream(kube.core.list_namespace, resource_version=str(now + 50), timeout_seconds=2))
    assert e.value.status == 504 and "Too large resource version" in e.value.reason


def test_a_version_reached_while_waiting_is_watched_from(kube: Kube) -> None:
    kube.history().too_large_wait = 5
    now = int(kube.rv())
    follower = Background(kube.net.list_namespaced_network_policy, "accounts", resource_version=str(now + 1),
                          timeout_seconds=2)
    kube.wait_watches(1)
    kube.policy("accounts", "first")  # now + 1: not after the version asked for
    second = kube.policy("accounts", "second")
    assert follower.take(1) == [("ADDED", "accounts/second", second["metadata"]["resourceVersion"])]
    assert follower.end() == END


@pytest.mark.parametrize(("query", "code", "message"), [
    ("resourceVersion=abc", 422, 'networkpolicies.networking.k8s.io "" is invalid: resourceVersion: Invalid value: '
                                 '"abc": strconv.ParseUint: parsing "abc": invalid syntax'),
    ("labelSelector=a%20b", 400, "unable to parse requirement"),
    ("sendInitialEvents=true&resourceVersionMatch=NotOlderThan&allowWatchBookmarks=true", 422,
     'ListOptions.meta.k8s.io "" is invalid: sendInitialEvents: Forbidden: sendInitialEvents is forbidden for watch '
     "unless the WatchList feature gate is enabled"),
    ("resourceVersionMatch=NotOlderThan", 422, 'ListOptions.meta.k8s.io "" is invalid: resourceVersionMatch: '
                                               "Forbidden: resourceVersionMatch is forbidden for watch unless "
                                               "sendInitialEvents is provided"),
])
def test_a_watch_the_server_refuses_is_an_error_before_the_stream(kube: Kube, query: str, code: int,
                                                                  message: str) -> None:
    response, [status] = _raw_watch(kube, query)
    assert (response.status, response.getheader("Content-Type"), status["code"]) == (code, "application/json", code)
    assert message in status["message"]


def test_the_stream_is_chunked_json_lines(kube: Kube) -> None:
    kube.policy("accounts", "web")
    response, lines = _raw_watch(kube, "timeoutSeconds=1")
    assert (response.status, response.getheader("Content-Type"), response.getheader("Transfer-Encoding")) == (
        200, "application/json", "chunked")
    assert [(line["type"], line["object"]["kind"], line["object"]["metadata"]["name"]) for line in lines] == [
        ("ADDED", "NetworkPolicy", "web")]


def test_a_watch_as_a_table_sends_one_row_per_event_and_the_columns_once(kube: Kube) -> None:
    start = kube.rv()
    kube.policy("accounts", "web")
    changed = kube.label("accounts", "web", {"a": "b"})
    kube.history().bookmark_interval = 0.3
    accept = "application/json;as=Table;v=v1;g=meta.k8s.io,application/json;as=Table;v=v1beta1;g=meta.k8s.io"
    _, lines = _raw_watch(kube, f"resourceVersion={start}&timeoutSeconds=1&allowWatchBookmarks=true", accept)
    assert [line["type"] for line in lines[:2]] == ["ADDED", "MODIFIED"]
    first, second = (line["object"] for line in lines[:2])
    assert [c["name"] for c in first["columnDefinitions"]] == ["Name", "Pod-Selector", "Age"]
    assert second["columnDefinitions"] is None  # only the first event carries them
    assert (second["kind"], second["apiVersion"], second["metadata"]) == ("Table", "meta.k8s.io/v1",
                                                                          {"resourceVersion": changed})
    [row] = second["rows"]
    assert row["cells"][:2] == ["web", "<none>"]
    assert (row["object"]["kind"], row["object"]["metadata"]["labels"]) == ("PartialObjectMetadata", {"a": "b"})
    assert {line["type"] for line in lines[2:]} == {"BOOKMARK"}
