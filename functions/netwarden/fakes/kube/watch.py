"""Watches: the event history of one emulated cluster, and the stream one ``?watch=true`` request reads.

Every write to a cluster's store (``models.ClusterState.put`` and ``remove``, the only two) records an
event here: ADDED, MODIFIED or DELETED, the object at its new resourceVersion, and the object it
replaced. A watch is served as the API server's watch cache serves it (``storage/cacher``):

* ``resourceVersion`` unset or ``"0"``: the objects that match, as synthetic ADDED events (in key
  order), then every change after; a number: every change after it, in order, none repeated.
  Older than the history kept (``HISTORY_SIZE`` events, or ``compact``), one ERROR event carrying the
  410 ``Expired`` Status ``too old resource version: X (Y)`` (``watchCacheHistory.GetIntervalLocked``),
  and the stream ends. Newer than the cluster's, the watch waits ``too_large_wait`` (the watch cache's
  3 s ``blockTimeout``) for it, then sends the 504 ``Timeout`` Status with the
  ``ResourceVersionTooLarge`` cause (``storage.NewTooLargeResourceVersionError``), which is how a
  watcher sees that the emulator it resumes against restarted without its state.
* Selectors apply to events as in ``cacheWatcher.convertToWatchEvent``: an object that starts to
  match is ADDED, one that stops matching is DELETED (its previous content, at the event's version).
* ``allowWatchBookmarks``: a BOOKMARK (the kind, apiVersion and ``metadata.resourceVersion`` only)
  every ``bookmark_interval`` seconds (the cacher's minute) and when the watch times out.
* ``timeoutSeconds``, else ``max_timeout`` (the API server's ``--min-request-timeout``, 1800 s; it
  picks between one and two times that); a watch also ends when its cluster is reset.
* As a Table (kubectl's ``Accept: ...;as=Table``): each object is a Table of one row, with the
  column definitions in the first event only, as ``watchEmbeddedEncoder`` does.

A ``Watch`` is made under the cloud's lock by the handler and read after it returned: it takes the
lock only to copy the new events, and waits on the history's condition (on that same lock), which
every recorded event notifies; so a waiting watch never holds the lock.
"""

from __future__ import annotations

import copy
import json
import re
import threading
import time
from collections import deque
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from netwarden.fakes.kube import tables
from netwarden.fakes.kube.exceptions import Cause, Expired, Invalid, KubeError, Resource, TooLargeResourceVersion
from netwarden.fakes.kube.kinds import Kind
from netwarden.fakes.kube.selectors import field_selector, label_selector

Object = dict[str, Any]
Key = tuple[str, str]
HISTORY_SIZE = 1000
BOOKMARK_INTERVAL = 60.0
MAX_TIMEOUT = 1800.0
TOO_LARGE_WAIT = 3.0
#: How often an idle watch lets the server look whether its client is still there.
POLL = 1.0


@dataclass(frozen=True, slots=True)
class Event:
    rv: int
    kind: Kind
    type: str
    obj: Object
    prev: Object | None


class History:
    """The events of one cluster, oldest first; ``floor``: every event after it is still here."""

    def __init__(self, lock: threading.RLock) -> None:
        self.cond = threading.Condition(lock)
        self.events: deque[Event] = deque()
        self.floor = 0
        self.rv = 0
        self.closed = False
        self.watches = 0
        self.size = HISTORY_SIZE
        self.bookmark_interval = BOOKMARK_INTERVAL
        self.max_timeout = MAX_TIMEOUT
        self.too_large_wait = TOO_LARGE_WAIT

    def record(self, kind: Kind, type_: str, obj: Object, prev: Object | None) -> None:
        with self.cond:
            self.rv = int(obj["metadata"]["resourceVersion"])
            self.events.append(Event(self.rv, kind, type_, copy.deepcopy(obj), copy.deepcopy(prev)))
            while len(self.events) > self.size:
                self.floor = self.events.popleft().rv
            self.cond.notify_all()

    def compact(self, revision: int | None = None) -> int:
        """Forget the events up to ``revision`` (default: all), as an etcd compaction does."""
        with self.cond:
            upto = self.rv if revision is None else min(revision, self.rv)
            while self.events and self.events[0].rv <= upto:
                self.events.popleft()
            self.floor = max(self.floor, upto)
            return self.floor

    def close(self) -> None:
        """The cluster is gone (a reset): every watch of it ends."""
        with self.cond:
            self.closed = True
            self.cond.notify_all()

    def since(self, rv: int) -> list[Event]:
        return [e for e in self.events if e.rv > rv]


def _uint(value: str, kind: Kind) -> int:
    if not re.fullmatch(r"[0-9]+", value):
        raise Invalid(Resource(kind.group, kind.resource), [Cause(
            "FieldValueInvalid", f'Invalid value: "{value}": strconv.ParseUint: parsing "{value}": invalid syntax',
            "resourceVersion")])
    return int(value)


class Watch:
    """One watch of one collection (``namespace`` None: across namespaces): a ``wire.Stream``."""

    def __init__(self, history: History, kind: Kind, namespace: str | None, store: Mapping[Key, Object], *,
                 labels: str | None, fields: str | None, resource_version: str | None, table: bool,
                 bookmarks: bool, timeout: int | None) -> None:
        match_labels = label_selector(labels)
        match_fields = field_selector(fields, kind.field_selectors)
        self.match: Callable[[Mapping[str, Any]], bool] = lambda o: (
            (namespace is None or o["metadata"].get("namespace", "") == namespace)
            and match_labels(o["metadata"].get("labels") or {}) and bool(match_fields(o)))
        self.history, self.kind, self.table, self.bookmarks = history, kind, table, bookmarks
        self.headers = True
        self.initial: list[Object] = []
        self.error: KubeError | None = None
        self.start = history.rv
        if resource_version in (None, "", "0"):
            self.initial = [copy.deepcopy(store[k]) for k in sorted(store) if self.match(store[k])]
        else:
            self.start = _uint(resource_version, kind)
            if self.start < history.floor:
                self.error = Expired(f"too old resource version: {self.start} ({history.floor})")
        self.started = time.monotonic()
        self.deadline = self.started + (timeout if timeout and timeout > 0 else history.max_timeout)
        self.stopped = False
        history.watches += 1

    # --- the stream --------------------------------------------------------------------------------
    def __iter__(self) -> Iterator[bytes]:
        try:
            yield from self._run()
        finally:
            self.close()

    def close(self) -> None:
        with self.history.cond:
            if not self.stopped:
                self.stopped = True
                self.history.watches -= 1
            self.history.cond.notify_all()

    def _run(self) -> Iterator[bytes]:
        if self.error is None and self.start > self.history.rv:
            self.error = self._wait_for(self.start)
        if self.error is not None:
            yield self._encode("ERROR", self.error.status())
            return
        for obj in self.initial:
            yield self._encode("ADDED", obj)
        pos = self.start
        next_bookmark = self.started + self.history.bookmark_interval
        while True:
            what, events = self._next(pos, next_bookmark)
            if what == "end":
                return
            for event in events:
                pos = event.rv
                converted = self._convert(event)
                if converted is not None:
                    yield self._encode(*converted)
            now = time.monotonic()
            if what == "timeout":
                if self.bookmarks:
                    yield self._bookmark(pos)
                return
            if self.bookmarks and now >= next_bookmark:
                yield self._bookmark(pos)
                next_bookmark = now + self.history.bookmark_interval
            if what == "idle":
                yield b""

    def _wait_for(self, rv: int) -> KubeError | None:
        """Wait (a while) for the cluster to reach ``rv``; the 504 if it does not."""
        until = min(time.monotonic() + self.history.too_large_wait, self.deadline)
        with self.history.cond:
            while self.history.rv < rv and not self.stopped and not self.history.closed:
                left = until - time.monotonic()
                if left <= 0:
                    return TooLargeResourceVersion(rv, self.history.rv)
                self.history.cond.wait(min(left, POLL))
            return None

    def _next(self, pos: int, next_bookmark: float) -> tuple[str, list[Event]]:
        """Under the lock, at most one ``POLL``: the events after ``pos`` ("events"), or why there are none."""
        with self.history.cond:
            waited = False
            while True:
                if self.stopped or self.history.closed or self.history.floor > pos:
                    return "end", []  # a watcher left behind by the history is closed, as the cacher does
                if self.history.rv > pos:
                    return "events", self.history.since(pos)
                now = time.monotonic()
                if now >= self.deadline:
                    return "timeout", []
                if (self.bookmarks and now >= next_bookmark) or waited:
                    return "idle", []
                until = min(self.deadline, next_bookmark if self.bookmarks else self.deadline, now + POLL)
                self.history.cond.wait(until - now)
                waited = time.monotonic() >= now + POLL

    # --- what one event looks like to this watcher -----------------------------------------------
    def _convert(self, event: Event) -> tuple[str, Object] | None:
        if event.kind is not self.kind:
            return None
        now_matches = event.type != "DELETED" and self.match(event.obj)
        matched = event.prev is not None and self.match(event.prev)
        if now_matches:
            return ("MODIFIED" if matched else "ADDED"), event.obj
        if not matched or event.prev is None:
            return None
        if event.type == "DELETED":
            return "DELETED", event.obj
        gone = {**event.prev, "metadata": {**event.prev["metadata"], "resourceVersion": str(event.rv)}}
        return "DELETED", gone

    def _bookmark(self, rv: int) -> bytes:
        return self._encode("BOOKMARK", {"kind": self.kind.kind, "apiVersion": self.kind.api_version,
                                         "metadata": {"resourceVersion": str(rv)}})

    def _encode(self, type_: str, obj: Mapping[str, Any]) -> bytes:
        if self.table and obj.get("kind") != "Status":
            obj = tables.table(self.kind.resource, [obj], str(obj["metadata"].get("resourceVersion", "")),
                               headers=self.headers)
        self.headers = False
        return json.dumps({"type": type_, "object": obj}, separators=(",", ":")).encode("utf-8") + b"\n"
