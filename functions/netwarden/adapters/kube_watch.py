"""Watching a cluster's NetworkPolicies and namespaces, for the resident watcher (``app.watch``).

Each watched collection runs as an informer's reflector does: list once for a resourceVersion, then
watch from it (``watch=1``, ``allowWatchBookmarks``, ``timeoutSeconds``), keeping the version of every
event and bookmark so that a reconnect resumes where the stream ended, with no change missed or seen
twice. A version the API server no longer has (410 Gone, as an HTTP status or as an ERROR event) or
has not reached (``Too large resource version``, from a server that lost its history) means changes
may have been missed: the watch lists again and reports ``RELIST``, which the watcher answers with a
re-read of the cluster. A dropped connection or an API error reconnects with exponential backoff
(``BACKOFF`` doubling to ``MAX_BACKOFF``, with jitter); an authorisation error too, logged as such,
since a token may be rotated under a running watcher.

What crosses the boundary is a ``KubeChange`` per ADDED/MODIFIED/DELETED event in a managed namespace
(``SYNC`` once the first list is done, ``RELIST`` after a gap), never the raw objects: the watcher
re-reads the cluster, so the events are hints, as the Activity Tracker events are.
"""

from __future__ import annotations

import contextlib
import json
import logging
import random
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from netwarden.adapters.kube import POLICIES
from netwarden.adapters.kube_client import KubeConnection, call, read_json, translate_kube_errors
from netwarden.core.errors import ProviderError

log = logging.getLogger(__name__)

NAMESPACES = "/api/v1/namespaces"
#: The collections the watcher watches: (resource, list path).
WATCHED = (("networkpolicies", POLICIES), ("namespaces", NAMESPACES))
#: How long one watch request asks the server to stream before it ends and is resumed (seconds).
WATCH_TIMEOUT = 300
BACKOFF, MAX_BACKOFF = 0.5, 30.0


@dataclass(frozen=True, slots=True)
class KubeChange:
    """``type``: ADDED, MODIFIED, DELETED (of ``namespace``/``name``), SYNC (first list) or RELIST."""

    cluster: str
    resource: str
    type: str
    namespace: str | None = None
    name: str | None = None

    @property
    def what(self) -> str:
        where = "/".join(p for p in (self.namespace, self.name) if p)
        return f"{self.resource} {where} {self.type}".replace("  ", " ") if where else f"{self.resource} {self.type}"


class _Gone(Exception):
    """The resourceVersion is no longer (or not yet) served: list again."""


class ResourceWatch:
    """One collection of one cluster, watched until ``stop``; ``run`` is the thread's body."""

    def __init__(self, conn: KubeConnection, resource: str, path: str, on_change: Callable[[KubeChange], None], *,
                 managed: Sequence[str] | None = None, timeout: int = WATCH_TIMEOUT,
                 rng: random.Random | None = None) -> None:
        self.conn, self.resource, self.path = conn, resource, path
        self.on_change = on_change
        self.managed = frozenset(managed) if managed is not None else None
        self.timeout = timeout
        self.resource_version: str | None = None
        self.ready = threading.Event()
        #: Set once the first list was tried, whether or not it succeeded.
        self.started = threading.Event()
        self.state = "starting"
        self.relists = 0
        self._stop = threading.Event()
        self._response: Any = None
        self._random = rng or random.Random()
        self._listed = False

    @property
    def endpoint(self) -> str:
        return f"{self.conn.endpoint}{self.path}"

    def stop(self) -> None:
        self._stop.set()
        response = self._response
        if response is not None:
            with contextlib.suppress(Exception):  # the connection may be gone already
                response.shutdown()  # unblocks the read the thread is waiting in

    def run(self) -> None:
        delay = BACKOFF
        while not self._stop.is_set():
            try:
                if self.resource_version is None:
                    self.resource_version = self._list()
                    if self._listed:
                        self.relists += 1
                    self.on_change(KubeChange(self.conn.name, self.resource, "RELIST" if self._listed else "SYNC"))
                    self._listed = True
                self._watch()
                delay = BACKOFF
            except _Gone as e:
                log.warning("%s: %s; listing again", self.endpoint, e, extra={"cluster": self.conn.name})
                self.resource_version = None
            except ProviderError as e:
                self.ready.clear()
                self.started.set()
                if self._stop.is_set():
                    break
                self.state = f"reconnecting: {e.message}"
                wait = delay * (0.5 + self._random.random())
                kind = "not authorised" if e.status in (401, 403) else "watch interrupted"
                log.warning("%s: %s (%s); reconnecting in %.1f s", self.endpoint, kind, e.message, wait,
                            extra={"cluster": self.conn.name, "resource": self.resource})
                self._stop.wait(wait)
                delay = min(MAX_BACKOFF, delay * 2)
        self.ready.clear()
        self.state = "stopped"

    def _list(self) -> str:
        """The collection's current resourceVersion (one small list)."""
        response = call(lambda: self.conn.request("GET", self.path, query=[("limit", 1)], timeout=(5.0, 30.0)),
                        self.endpoint)
        data = read_json(response, self.endpoint)
        version = (data.get("metadata") or {}).get("resourceVersion") if isinstance(data, dict) else None
        if not version:
            raise ProviderError("the list has no resourceVersion", endpoint=self.endpoint)
        return str(version)

    def _watch(self) -> None:
        from kubernetes.watch.watch import iter_resp_lines

        query = [("watch", "1"), ("resourceVersion", self.resource_version), ("allowWatchBookmarks", "true"),
                 ("timeoutSeconds", self.timeout)]
        try:
            with translate_kube_errors(self.endpoint):
                response = self.conn.request("GET", self.path, query=query, timeout=(5.0, self.timeout + 30.0))
        except ProviderError as e:
            if e.status == 410 or _too_large(e.message):
                raise _Gone(e.message) from e
            raise
        self._response = response
        self.ready.set()
        self.started.set()
        self.state = "watching"
        try:
            with translate_kube_errors(self.endpoint):
                for line in iter_resp_lines(response):  # type: ignore[no-untyped-call]
                    if self._stop.is_set():
                        return
                    self._event(json.loads(line))
        finally:
            self._response = None
            response.release_conn()

    def _event(self, event: Any) -> None:
        kind = event.get("type") if isinstance(event, dict) else None
        obj = event.get("object") if isinstance(event, dict) else None
        if not isinstance(obj, dict):
            raise ProviderError(f"not a watch event: {str(event)[:80]}", endpoint=self.endpoint)
        if kind == "ERROR":
            message = str(obj.get("message") or obj.get("reason") or "watch error")
            if obj.get("code") == 410 or _too_large(message):
                raise _Gone(message)
            raise ProviderError(message, endpoint=self.endpoint, status=obj.get("code"))
        meta = obj.get("metadata") or {}
        if meta.get("resourceVersion"):
            self.resource_version = str(meta["resourceVersion"])
        if kind not in ("ADDED", "MODIFIED", "DELETED"):
            return  # BOOKMARK: the version only
        namespace = meta.get("namespace") if self.resource != "namespaces" else meta.get("name")
        if self.managed is not None and namespace not in self.managed:
            return
        self.on_change(KubeChange(self.conn.name, self.resource, str(kind), meta.get("namespace"), meta.get("name")))


def _too_large(message: str) -> bool:
    return "too large resource version" in message.lower()


class ClusterWatch:
    """The watches of one cluster, each in a daemon thread."""

    def __init__(self, conn: KubeConnection, on_change: Callable[[KubeChange], None], *,
                 managed: Sequence[str] | None = None, timeout: int = WATCH_TIMEOUT) -> None:
        self.name = conn.name
        self.watches = [ResourceWatch(conn, resource, path, on_change, managed=managed, timeout=timeout)
                        for resource, path in WATCHED]
        self._threads: list[threading.Thread] = []

    def start(self) -> None:
        for w in self.watches:
            thread = threading.Thread(target=w.run, name=f"watch-{self.name}-{w.resource}", daemon=True)
            thread.start()
            self._threads.append(thread)

    def stop(self, timeout: float = 5.0) -> None:
        for w in self.watches:
            w.stop()
        for thread in self._threads:
            thread.join(timeout)

    @property
    def watching(self) -> bool:
        """Every collection's watch is open now."""
        return all(w.ready.is_set() for w in self.watches)

    @property
    def started(self) -> bool:
        """Every collection was tried once (open now, or reconnecting with backoff)."""
        return all(w.started.is_set() for w in self.watches)

    def status(self) -> dict[str, dict[str, Any]]:
        """Per collection: its state (``watching``, ``reconnecting: why``...), the version it resumes
        from, and how many times it had to list again."""
        return {w.resource: {"state": w.state, "resource_version": w.resource_version, "relists": w.relists}
                for w in self.watches}
