"""Use-case: the resident watcher. Changes arrive as they happen (a Kubernetes watch event, an Activity
Tracker event posted to the watcher), each is re-checked for what it touched, bursts are coalesced,
and the findings go through the same lifecycle, state store and lock as a scan (``app.scan.record``).

* A change to a cluster's NetworkPolicies or namespaces, or a relist after a gap in a watch, touches
  the cluster ``k8s/<name>``. Once the cluster has been quiet for ``quiet`` seconds (or ``longest``
  after the first change of a burst that does not stop), it is read once, and its NetworkPolicies and
  namespaces are compared with the baseline's (``recheck_cluster``): what they no longer show is
  resolved, what else the cluster holds is the scan's (``core.coverage``). So ``kubectl apply -f dir/``
  of five policies is one read and one alert.
* An Activity Tracker event touches the one resource it names, and is checked as the event job
  checks it (``app.event``), once per burst: ten rule changes to one ACL in a second are one check.

A re-check that fails (the state lock held too long, an API down) is tried again after ``retry``
seconds, doubling to ``MAX_RETRY``, merged with whatever touched the target meanwhile: a change is
never dropped while the process runs. ``Watcher.run`` is the worker loop (one thread: re-checks never
race each other for the lock); ``changed`` may be called from any thread.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from netwarden.app import check, scan
from netwarden.core import lifecycle
from netwarden.core.coverage import Coverage
from netwarden.core.errors import NetwardenError
from netwarden.core.model import Snapshot
from netwarden.core.ports import Notifier, StateStore
from netwarden.core.shard import Scope, restrict

log = logging.getLogger(__name__)

#: What the watcher watches, and so what a re-read of a cluster resolves.
WATCHED_KINDS = frozenset({"network-policy", "namespace"})
#: The longest wait before a failed re-check is tried again (seconds).
MAX_RETRY = 60.0


@dataclass(frozen=True, slots=True)
class Change:
    """One thing that changed. ``target`` is what a re-check reads: ``k8s/<cluster>``, or
    ``vpc/<region>/<kind>/<id>`` for an event, whose ``event`` holds its JSON."""

    target: str
    what: str
    event: Any = None


@dataclass(slots=True)
class _Pending:
    first: float
    last: float
    changes: list[Change] = field(default_factory=list)
    not_before: float = 0.0
    failures: int = 0


class Coalescer:
    """Changes per target, due once the target was quiet for ``quiet`` seconds or ``longest`` after the
    first of them, whichever comes first. Times come in as arguments (seconds of a monotonic clock)."""

    def __init__(self, quiet: float, longest: float) -> None:
        self.quiet, self.longest = quiet, max(quiet, longest)
        self._pending: dict[str, _Pending] = {}

    def add(self, change: Change, now: float) -> None:
        pending = self._pending.get(change.target)
        if pending is None:
            pending = self._pending[change.target] = _Pending(now, now)
        pending.last = now
        pending.changes.append(change)

    def _due_at(self, p: _Pending) -> float:
        return max(p.not_before, min(p.last + self.quiet, p.first + self.longest))

    def due(self, now: float) -> list[tuple[str, tuple[Change, ...], int]]:
        """The targets due at ``now``, oldest first, taken out: (target, its changes, failures so far)."""
        ready = sorted((p.first, t) for t, p in self._pending.items() if self._due_at(p) <= now)
        out = []
        for _, target in ready:
            p = self._pending.pop(target)
            out.append((target, tuple(p.changes), p.failures))
        return out

    def retry(self, target: str, changes: Sequence[Change], failures: int, now: float, delay: float) -> None:
        """Put a target back after a failed re-check, due no sooner than ``now + delay``."""
        pending = self._pending.get(target)
        if pending is None:
            pending = self._pending[target] = _Pending(now, now)
        pending.changes[:0] = list(changes)
        pending.failures = failures
        pending.not_before = now + delay

    def next_due(self) -> float | None:
        return min((self._due_at(p) for p in self._pending.values()), default=None)

    def __len__(self) -> int:
        return len(self._pending)


#: Re-checks one target with the changes that touched it (raises NetwardenError when it could not).
Recheck = Callable[[str, Sequence[Change]], object]


class Watcher:
    """The worker: takes changes from any thread, re-checks each target when it is due."""

    def __init__(self, recheck: Recheck, *, quiet: float = 0.5, longest: float = 5.0, retry: float = 2.0,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self._recheck = recheck
        self._coalescer = Coalescer(quiet, longest)
        self._retry = retry
        self._clock = clock
        self._wake = threading.Condition()
        self.rechecks = 0

    def changed(self, change: Change) -> None:
        with self._wake:
            self._coalescer.add(change, self._clock())
            self._wake.notify()

    def pending(self) -> int:
        with self._wake:
            return len(self._coalescer)

    def run(self, stop: threading.Event) -> None:
        """Re-check what is due until ``stop`` is set (what is still pending then is re-read at the next
        start, which re-checks every cluster)."""
        while not stop.is_set():
            with self._wake:
                now = self._clock()
                due = self._coalescer.due(now)
                if not due:
                    upcoming = self._coalescer.next_due()
                    self._wake.wait(timeout=0.5 if upcoming is None else min(0.5, max(0.0, upcoming - now)))
                    continue
            for target, changes, failures in due:
                if stop.is_set():
                    return
                self._run_one(target, changes, failures)

    def _run_one(self, target: str, changes: Sequence[Change], failures: int) -> None:
        log.info("re-checking %s: %s", target, _summary(changes), extra={"target": target, "changes": len(changes)})
        try:
            self._recheck(target, changes)
            self.rechecks += 1
        except NetwardenError as e:
            delay = min(MAX_RETRY, self._retry * 2 ** failures)
            log.error("re-check of %s failed, trying again in %.0f s: %s", target, delay, e, extra={"target": target})
            with self._wake:
                self._coalescer.retry(target, changes, failures + 1, self._clock(), delay)
        except Exception as e:  # one bad re-check must not stop the watcher; its text may hold a secret
            delay = min(MAX_RETRY, self._retry * 2 ** failures)
            log.error("re-check of %s: internal error (%s), trying again in %.0f s", target, e.__class__.__name__,
                      delay, extra={"target": target})
            with self._wake:
                self._coalescer.retry(target, changes, failures + 1, self._clock(), delay)


def _summary(changes: Sequence[Change]) -> str:
    shown = ", ".join(c.what for c in changes[:5])
    return shown + (f" and {len(changes) - 5} more" if len(changes) > 5 else "")


def recheck_cluster(cluster: str, baseline: Snapshot, read: Callable[[], Snapshot], *, store: StateStore,
                    notifiers: Sequence[Notifier], options: scan.ScanOptions,
                    clock: Callable[[], Any] = scan.utc_now) -> scan.ScanResult:
    """Read ``cluster`` (``read`` returns a snapshot of it alone) and compare its NetworkPolicies and
    namespaces with the baseline's; record the findings as a scan would, resolving only those kinds in
    that cluster. The cluster's other findings (its workloads, which need the VPC) are the scan's."""
    started = clock()
    run_id = f"watch-{scan.new_run_id(started)}"
    part = restrict(baseline, Scope(regions=(), vpcs=(), clusters=(cluster,)))
    live = read()
    report = check.run(part, live, suppressions=options.suppressions, today=started.date(),
                       generated_at=lifecycle.rfc3339(started), ibm_churn=options.ibm_churn)
    findings = [f for f in report.findings if f.resource.kind in WATCHED_KINDS]
    marks = report.suppressions
    drifted = any(f.fingerprint not in marks or marks[f.fingerprint].expired for f in findings)
    status = "incomplete" if report.unreadable else "drift" if drifted else "in_sync"
    return scan.record(findings, store=store, notifiers=notifiers, options=options, run_id=run_id, started=started,
                       status=status, unreadable=[u.scope for u in report.unreadable],
                       checked=(Coverage(f"k8s/{cluster}", WATCHED_KINDS),), kind="watch", clock=clock)
