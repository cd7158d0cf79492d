"""Use-case: the scheduled scan. Snapshot, check, remediate (in ``auto`` mode), decide what to tell whom,
tell them, and remember it all.

This is where netwarden gets its memory. Under the state store's ``scan`` lock, one run:

1. reads the finding states of the last run (``findings.json``; missing is a first run, unreadable is
   logged, kept aside and started afresh: better one repeated alert than silence);
2. in ``auto`` mode, hands the snapshot and report to the remediator (the seam ``app.remediate`` plugs
   into); what it did becomes a note on the alerts of the findings it touched;
3. moves the lifecycle one step (``core.lifecycle``) and sends each channel what it has not been told;
   a channel that fails keeps its alerts pending for the next run, and the run says so;
4. writes, in this order: the finding states (with what each channel was told), the last snapshot,
   the run's history record (``app.history``: one object per run, the oldest past the retention
   removed). A failure between two writes leaves states the next run reads: at worst a history record
   is missing, or (before the first write) alerts go out once more.

``record`` is the second half alone, for a targeted check (an Activity Tracker event, the watcher's
re-read of a cluster): it resolves only what it looked at (``core.coverage``).

Every run of a deployment keeps one finding state (``findings.json`` under the configured prefix):
the full scan, each shard of an array scan (which covers its own VPCs and clusters only), the event
job and the watcher. So a finding is alerted once whoever sees it first, and resolved once by whoever
sees it gone; the lock serialises them. Each alert says which run sent it (``context["source"]``)
and counts what is open in the whole state, not only in the part the run read.
"""

from __future__ import annotations

import json
import logging
import time
import uuid
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from netwarden.app import check, history
from netwarden.app.remediation_outcome import RemediationOutcome, Remediator
from netwarden.core import history as core_history
from netwarden.core import lifecycle, snapshot_format, suppressions
from netwarden.core.coverage import Coverage
from netwarden.core.errors import LockHeld, NetwardenError, NotifyError, StateError
from netwarden.core.findings import Finding
from netwarden.core.initiator import Initiator
from netwarden.core.lifecycle import FindingState
from netwarden.core.model import Snapshot
from netwarden.core.ports import Notifier, StateStore
from netwarden.core.routing import Route
from netwarden.core.suppressions import SuppressionRule

log = logging.getLogger(__name__)

FINDINGS_KEY = "findings.json"
SNAPSHOT_KEY = "snapshot.json"
LOCK = "scan"


@dataclass(frozen=True, slots=True)
class ScanOptions:
    remind_after: int = 24 * 3600
    suppressions: Sequence[SuppressionRule] = ()
    remediation_mode: str = "alert"
    ibm_churn: bool = True
    lock_attempts: int = 6
    lock_delay: float = 5.0
    #: The array shard this run is (``3-of-8``), None when unsharded: named in alerts, keys the snapshot.
    shard: str | None = None
    #: What the run reads (a shard's VPCs and clusters); None: everything in scope.
    checked: tuple[Coverage, ...] | None = None
    #: How long run history records are kept (``history.retention``).
    history_retention: int = history.DEFAULT_RETENTION_S
    #: Per channel, which findings it is told of (``core.routing``); a channel without one hears all.
    routes: Mapping[str, Route] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class ChannelResult:
    """One channel in one run: alerts sent (``retried`` of them had failed before), delivered or not,
    and how many findings still owe it an alert afterwards."""

    channel: str
    sent: int = 0
    retried: int = 0
    delivered: bool = True
    error: str | None = None
    pending: int = 0


@dataclass(frozen=True, slots=True)
class ScanResult:
    run_id: str
    kind: str
    status: str
    started_at: str
    finished_at: str
    duration_s: float
    findings: int
    by_severity: Mapping[str, int]
    suppressed: int
    expired_suppressions: int
    transitions: Mapping[str, int]
    unreadable: tuple[str, ...]
    channels: tuple[ChannelResult, ...]
    remediation: RemediationOutcome | None = None
    state_reset: bool = False
    #: Stale suppressions (``core.suppressions.hygiene``): expired, expiring within a week, matching nothing.
    suppression_hygiene: tuple[str, ...] = ()

    @property
    def failed(self) -> bool:
        return any(not c.delivered for c in self.channels) or bool(self.remediation and self.remediation.failed)

    def problems(self) -> list[str]:
        """One line per thing that went wrong, for the command's last word."""
        out = [f"alerts for {c.channel} not delivered ({c.error}); {c.pending} pending for the next run"
               for c in self.channels if not c.delivered]
        if self.remediation is not None and self.remediation.failed:
            out.append(f"automatic remediation failed: {self.remediation.summary}")
        return out

    def history(self) -> dict[str, Any]:
        """The run's summary in its history record (``app.history``)."""
        return {
            "schema_version": 1, "run_id": self.run_id, "kind": self.kind, "status": self.status,
            "started_at": self.started_at, "finished_at": self.finished_at, "duration_s": self.duration_s,
            "findings": self.findings, "by_severity": dict(self.by_severity), "suppressed": self.suppressed,
            "expired_suppressions": self.expired_suppressions, "transitions": dict(self.transitions),
            "unreadable": list(self.unreadable),
            "alerts": {c.channel: {"sent": c.sent, "retried": c.retried, "delivered": c.delivered, "error": c.error,
                                   "pending": c.pending} for c in self.channels},
            "remediation": None if self.remediation is None else {
                "status": self.remediation.status, "summary": self.remediation.summary,
                "failed": self.remediation.failed, **dict(self.remediation.detail)},
            "state_reset": self.state_reset,
            "suppression_hygiene": list(self.suppression_hygiene),
        }


def utc_now() -> datetime:
    return datetime.now(UTC)


def new_run_id(now: datetime) -> str:
    return f"{now.strftime('%Y%m%dT%H%M%SZ')}-{uuid.uuid4().hex[:6]}"


def run(
    baseline: Snapshot,
    take_snapshot: Callable[[], Snapshot],
    *,
    store: StateStore,
    notifiers: Sequence[Notifier],
    options: ScanOptions = ScanOptions(),
    remediator: Remediator | None = None,
    clock: Callable[[], datetime] = utc_now,
    run_id: str | None = None,
    sleep: Callable[[float], None] = time.sleep,
) -> ScanResult:
    """One full scan (module docstring)."""
    started = clock()
    run_id = run_id or new_run_id(started)
    log.info("scan %s started", run_id, extra={"run_id": run_id})
    live = take_snapshot()
    log.info("snapshot: %d VPC(s), %d cluster(s), %d scope(s) unreadable", len(live.vpcs), len(live.clusters),
             len(live.unreadable), extra={"run_id": run_id})
    report = check.run(baseline, live, suppressions=options.suppressions, today=started.date(),
                       generated_at=lifecycle.rfc3339(started), ibm_churn=options.ibm_churn)

    def remediate() -> RemediationOutcome | None:
        if options.remediation_mode not in ("auto", "approve"):
            return None
        if remediator is None:
            log.warning("remediation.mode is %s, but no remediator is available: alerting only",
                        options.remediation_mode, extra={"run_id": run_id})
            return RemediationOutcome("unavailable", "no remediator is available in this build")
        try:
            outcome = remediator(live, report, run_id)
        except NetwardenError as e:
            log.error("automatic remediation failed: %s", e, extra={"run_id": run_id})
            return RemediationOutcome("error", str(e), failed=True)
        log.info("automatic remediation: %s (%s)", outcome.status, outcome.summary, extra={"run_id": run_id})
        return outcome

    return record(report.findings, store=store, notifiers=notifiers, options=options, run_id=run_id,
                  started=started, status=report.status, unreadable=[u.scope for u in report.unreadable], live=live,
                  out_of_scope=[n.scope for n in report.notes if n.kind == "out-of-scope"],
                  checked=options.checked, remediate=remediate, clock=clock, sleep=sleep)


def record(
    findings: Sequence[Finding],
    *,
    store: StateStore,
    notifiers: Sequence[Notifier],
    options: ScanOptions,
    run_id: str,
    started: datetime,
    status: str,
    unreadable: Sequence[str] = (),
    live: Snapshot | None = None,
    out_of_scope: Sequence[str] = (),
    checked: Sequence[Coverage] | None = None,
    initiators: Mapping[str, Initiator] | None = None,
    kind: str = "scan",
    remediate: Callable[[], RemediationOutcome | None] | None = None,
    clock: Callable[[], datetime] = utc_now,
    sleep: Callable[[float], None] = time.sleep,
) -> ScanResult:
    """Lifecycle, alerts and persistence for ``findings``, under the scan lock. ``checked`` is what the
    run read (None: everything); open findings outside it, or in an ``unreadable`` or ``out_of_scope``
    scope, were not re-checked, so they stay open, never resolved. ``live`` is kept as the last snapshot
    (per shard when sharded); a targeted check passes none. ``initiators`` (by fingerprint): who made
    the change an event reported, kept in the finding's state (``core.initiator``)."""
    with _locked(store, run_id, options, sleep):
        previous, reset = load_states(store, run_id)
        outcome = remediate() if remediate is not None else None
        channels = [n.name for n in notifiers]
        step = lifecycle.advance(previous, findings, now=started, channels=channels,
                                 remind_after=options.remind_after, suppressions=options.suppressions,
                                 unreadable=[*unreadable, *out_of_scope], notes=outcome.notes if outcome else None,
                                 news=outcome.news if outcome else (),
                                 checked=checked, initiators=initiators, routes=options.routes)
        open_now = [m.finding for m in step.marked if not m.suppressed]
        # what this run could not see (an event's other resources, an unreadable scope) stays open too
        carried = [s.finding for fp, s in step.states.items()
                   if step.transitions.get(fp) == "unknown" and s.suppressed is None]
        context = {"run_id": run_id, "time": lifecycle.rfc3339(started), "status": status,
                   "source": kind if options.shard is None else f"{kind}, shard {options.shard}",
                   "open": {k: v for k, v in lifecycle.counts([*open_now, *carried]).items() if v},
                   "unreadable": list(unreadable)}
        sent = {n.name: _send(n, step.outbox.get(n.name, ()), context) for n in notifiers}
        states = lifecycle.settle(step, {ch: r.delivered for ch, r in sent.items()}, started)
        results = tuple(ChannelResult(r.channel, r.sent, r.retried, r.delivered, r.error,
                                      pending=sum(1 for s in states.values() if r.channel in s.failed))
                        for r in sent.values())
        finished = clock()
        result = ScanResult(
            run_id=run_id, kind=kind, status=status, started_at=lifecycle.rfc3339(started),
            finished_at=lifecycle.rfc3339(finished), duration_s=round((finished - started).total_seconds(), 3),
            findings=len(step.marked), by_severity={k: v for k, v in lifecycle.counts(open_now).items() if v},
            suppressed=sum(1 for m in step.marked if m.suppressed),
            expired_suppressions=sum(1 for m in step.marked if m.expired),
            transitions={t: n for t in lifecycle.TRANSITIONS if (n := list(step.transitions.values()).count(t))},
            unreadable=tuple(unreadable), channels=results, remediation=outcome, state_reset=reset,
            suppression_hygiene=_hygiene(options, kind, started, findings, whole=checked is None and not unreadable),
        )
        persist(store, states, result, live, snapshot_key(options.shard),
                events=core_history.run_record(result.history(), step.transitions, step.states),
                retention=options.history_retention, now=finished, started=started)
    _summarise(result)
    return result


def _send(notifier: Notifier, alerts: Sequence[lifecycle.Alert], context: dict[str, Any]) -> ChannelResult:
    name = notifier.name
    if not alerts:
        return ChannelResult(name)
    retried = sum(1 for a in alerts if a.retry)
    try:
        notifier.send(alerts, context)
    except NotifyError as e:
        log.error("%s: %d alert(s) not delivered, pending for the next run: %s", name, len(alerts), e,
                  extra={"run_id": context["run_id"], "channel": name})
        return ChannelResult(name, len(alerts), retried, False, str(e))
    except Exception as e:  # a notifier's bug must not cost the other channels their record; its text may hold a secret
        log.error("%s: internal error in the notifier (%s); alerts pending for the next run", name,
                  e.__class__.__name__, extra={"run_id": context["run_id"], "channel": name})
        return ChannelResult(name, len(alerts), retried, False, f"internal error ({e.__class__.__name__})")
    log.info("%s: %d alert(s) sent (%s)", name, len(alerts), _kinds(alerts),
             extra={"run_id": context["run_id"], "channel": name})
    return ChannelResult(name, len(alerts), retried)


def _kinds(alerts: Sequence[lifecycle.Alert]) -> str:
    return ", ".join(f"{n} {k}" for k in lifecycle.KINDS if (n := sum(1 for a in alerts if a.kind == k)))


#: How the run summary says a transition: ``unknown`` is a finding this run did not see (outside an
#: event's resource, or in an unreadable scope), which stays open.
_SAID = {"unknown": "not re-checked (still open)"}


def _hygiene(options: ScanOptions, kind: str, started: datetime, findings: Sequence[Finding], *,
             whole: bool) -> tuple[str, ...]:
    """A scan's word on stale suppressions; whether one matches nothing only when it read everything."""
    if kind != "scan" or not options.suppressions:
        return ()
    notes = suppressions.hygiene(options.suppressions, started.date(), findings if whole else None)
    return tuple(f"{n.kind}: {n.message}" for n in notes)


def _summarise(r: ScanResult) -> None:
    changes = ", ".join(f"{n} {_SAID.get(t, t)}" for t, n in r.transitions.items() if t != "ongoing") or "no changes"
    log.info("scan %s: %s, %d finding(s) (%s), %d suppressed; %s", r.run_id, r.status, r.findings,
             ", ".join(f"{n} {s}" for s, n in r.by_severity.items()) or "none open", r.suppressed, changes,
             extra={"run_id": r.run_id, "status": r.status, "duration_s": r.duration_s})
    for note in r.suppression_hygiene:
        log.warning("suppression hygiene: %s", note, extra={"run_id": r.run_id})


@contextmanager
def _locked(store: StateStore, run_id: str, options: ScanOptions, sleep: Callable[[float], None]) -> Iterator[None]:
    for attempt in range(1, max(1, options.lock_attempts) + 1):
        try:
            lock = store.lock(LOCK, run_id)
            lock.__enter__()
        except LockHeld as e:
            if attempt >= options.lock_attempts:
                raise LockHeld(f"another run holds the state: {e}") from e
            log.info("waiting for the state lock: %s", e, extra={"run_id": run_id})
            sleep(options.lock_delay)
            continue
        try:
            yield
        finally:
            lock.__exit__(None, None, None)
        return


def load_states(store: StateStore, run_id: str) -> tuple[dict[str, FindingState], bool]:
    """The last run's finding states; ``(states, True)`` when the file could not be read and was set aside."""
    data = store.get(FINDINGS_KEY)
    if data is None:
        return {}, False
    try:
        doc = json.loads(data)
        if not isinstance(doc, dict):
            raise ValueError("not a JSON object")
        version = doc.get("schema_version", 1)
        if isinstance(version, int) and version > lifecycle.SCHEMA_VERSION:
            raise StateError(f"{FINDINGS_KEY} has schema version {version}, newer than this netwarden "
                             f"({lifecycle.SCHEMA_VERSION}): upgrade before scanning")
        return lifecycle.states_from_dict(doc), False
    except (ValueError, KeyError, TypeError) as e:
        aside = f"findings.unreadable-{run_id}.json"
        log.error("%s could not be read (%s: %s); kept as %s, starting afresh: open findings alert again",
                  FINDINGS_KEY, e.__class__.__name__, e, aside, extra={"run_id": run_id})
        store.put(aside, data)
        return {}, True


def snapshot_key(shard: str | None) -> str:
    """Where a run keeps its last snapshot: one per shard, since each reads only its part."""
    return SNAPSHOT_KEY if shard is None else f"snapshot-shard-{shard}.json"


def persist(store: StateStore, states: Mapping[str, FindingState], result: ScanResult, live: Snapshot | None,
            key: str = SNAPSHOT_KEY, *, events: Mapping[str, Any] | None = None,
            retention: int = history.DEFAULT_RETENTION_S, now: datetime | None = None,
            started: datetime | None = None) -> None:
    """States first, then the snapshot, then the history record (module docstring). ``events`` is the
    run's record with its findings' transitions (``core.history.run_record``); the summary alone if None."""
    doc = {**lifecycle.states_to_dict(states), "run_id": result.run_id, "updated_at": result.finished_at}
    store.put(FINDINGS_KEY, (json.dumps(doc, indent=1, sort_keys=True) + "\n").encode("utf-8"))
    if live is not None:
        store.put(key, snapshot_format.dumps(live).encode("utf-8"))
    history.write(store, events if events is not None else result.history(), started)
    history.prune(store, now=now or utc_now(), retention_s=retention)


def read_history(store: StateStore) -> list[dict[str, Any]]:
    """The run history, oldest first (``app.history.read``)."""
    return history.read(store)
