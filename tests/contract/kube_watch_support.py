"""What the watch contract tests share: one cluster's typed APIs, a watch read in a thread, the control routes.

``Background`` runs the kubernetes client's own ``watch.Watch().stream`` in a thread and hands its
events (or the exception that ended it) to the test through a queue, so a test can make changes while
a watch is open; ``Kube.wait_watches`` waits until the emulator serves the watch a test started.
"""

from __future__ import annotations

import json
import queue
import threading
import time
import urllib.request
from collections.abc import Callable
from typing import Any

from kubernetes import client, watch

from netwarden.fakes.kube.watch import History

CLUSTER = "watch"
END = "end of stream"
Summary = tuple[str, str, str]


class Kube:
    """The typed APIs of the emulated cluster ``CLUSTER`` on the server at ``url``."""

    def __init__(self, url: str, cloud: Any) -> None:
        self.url, self.cloud = url, cloud
        self.base = f"{url}/k8s/{CLUSTER}"
        self.api = client.ApiClient(client.Configuration(host=self.base))
        self.core = client.CoreV1Api(self.api)
        self.net = client.NetworkingV1Api(self.api)
        self.apps = client.AppsV1Api(self.api)

    def policy(self, namespace: str, name: str, labels: dict[str, str] | None = None) -> dict[str, Any]:
        body: Any = {"metadata": {"name": name, "labels": labels or {}}, "spec": {"podSelector": {}}}
        return dict(self.api.sanitize_for_serialization(self.net.create_namespaced_network_policy(namespace, body)))

    def label(self, namespace: str, name: str, labels: dict[str, str | None]) -> str:
        """Merge-patch the labels of a policy; its new resourceVersion."""
        patched = self.net.patch_namespaced_network_policy(name, namespace, {"metadata": {"labels": labels}},
                                                           _content_type="application/merge-patch+json")
        return str(patched.metadata.resource_version)

    def rv(self) -> str:
        """The cluster's resourceVersion now (a list's)."""
        return str(self.core.list_namespace().metadata.resource_version)

    def history(self) -> History:
        history: History = self.cloud.state("netwarden.fakes.kube.urls").cluster(CLUSTER).history
        return history

    def control(self, method: str, what: str, body: Any = None) -> Any:
        data = json.dumps(body).encode() if body is not None else (b"" if method == "POST" else None)
        request = urllib.request.Request(f"{self.url}/_fake/kube/{CLUSTER}/{what}", data=data, method=method)
        with urllib.request.urlopen(request, timeout=10) as response:
            return json.load(response)

    def wait_watches(self, count: int, timeout: float = 5.0) -> None:
        deadline = time.monotonic() + timeout
        while self.control("GET", "watches")["watches"] != count:
            assert time.monotonic() < deadline, f"the emulator never had {count} open watches"
            time.sleep(0.02)

    def close(self) -> None:
        self.api.close()


def summary(event: dict[str, Any]) -> Summary:
    """(type, namespace/name or name, resourceVersion) of a watch event."""
    meta = event["raw_object"].get("metadata") or {}
    key = f"{meta['namespace']}/{meta.get('name', '')}" if meta.get("namespace") else meta.get("name", "")
    return event["type"], key, str(meta.get("resourceVersion", ""))


def watched(kube: Kube, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> list[Summary]:
    """The events of a watch up to the cluster's version now: read until a BOOKMARK says the watch has
    sent everything up to it (the cluster's ``bookmark_interval`` made short), without it."""
    kube.history().bookmark_interval = 0.02
    now, out = int(kube.rv()), []
    for event in watch.Watch().stream(fn, *args, allow_watch_bookmarks=True, timeout_seconds=10, **kwargs):
        if event["type"] != "BOOKMARK":
            out.append(summary(event))
        elif int(event["raw_object"]["metadata"]["resourceVersion"]) >= now:
            break
    else:
        raise AssertionError("the watch ended before it caught up")
    return out


class Background:
    """``watch.Watch().stream(fn, ...)`` read in a thread."""

    def __init__(self, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> None:
        self.watch = watch.Watch()
        self.queue: queue.Queue[Any] = queue.Queue()
        self.thread = threading.Thread(target=self._run, args=(fn, args, kwargs), daemon=True)
        self.thread.start()

    def _run(self, fn: Callable[..., Any], args: tuple[Any, ...], kwargs: dict[str, Any]) -> None:
        try:
            for event in self.watch.stream(fn, *args, **kwargs):
                self.queue.put(event)
            self.queue.put(END)
        except Exception as e:  # handed to the test, which says what it expected
            self.queue.put(e)

    def take(self, count: int, timeout: float = 5.0) -> list[Summary]:
        out = []
        for _ in range(count):
            item = self.queue.get(timeout=timeout)
            assert isinstance(item, dict), f"the watch ended early: {item!r}"
            out.append(summary(item))
        return out

    def end(self, timeout: float = 5.0) -> Any:
        """What ended the watch: ``END`` or the exception (events not taken yet are skipped)."""
        while isinstance(item := self.queue.get(timeout=timeout), dict):
            pass
        self.thread.join(timeout)
        return item
