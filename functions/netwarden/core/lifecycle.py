"""Finding lifecycle: which drift is new, which is still there, which is gone, and who was told.

People read an alert once. So each finding is tracked by its ``fingerprint`` (code + resource)
across runs: ``new`` the first time it is seen, ``ongoing`` while it lasts (``changed`` when its
severity or content moves), ``resolved`` when a readable scan no longer finds it. A scope that could
not be read resolves nothing: its findings stay open, untouched, until it can be read again.

What each channel was last told is kept per channel (``Delivery``). A channel gets an alert when what
it knows is out of date: ``new`` when it knows nothing (or was told it was resolved), ``changed`` when
it was told another content, ``resolved`` when it was told "open" and the drift is gone, ``reminder``
after ``remind_after`` seconds of silence. So an alert never goes twice for one state, and one that
failed to reach a channel is simply decided again, for that channel, on the next run (it is
"pending"; the alert says it is a retry).

Suppressions (``core.suppressions``) match by code and resource path, with an optional trailing ``*``;
a suppression is active through its ``expires`` day. A suppressed finding is tracked and reported,
marked, but sends nothing. An expired suppression no longer suppresses; its finding alerts with a
note that says so.

A channel's route (``core.routing``: a minimum severity, codes, resource patterns) decides which
findings it hears of first. Once a channel was told a finding is open, it hears the rest of its story
(changed, reminders, resolved) whatever the route says, so nothing it was told stays open there.

Pure: time comes in as an argument, channels by name; the caller sends and reports back.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any

from netwarden.core.coverage import Coverage, covered, in_scopes
from netwarden.core.findings import SEVERITY_RANK, Finding, Impact, ResourceRef
from netwarden.core.initiator import Initiator
from netwarden.core.initiator import from_dict as initiator_from_dict
from netwarden.core.routing import Route
from netwarden.core.suppressions import SuppressionRule, match_suppression, suppression_note

OPEN, RESOLVED = "open", "resolved"
#: Alert kinds, in the order an alert message lists them.
KINDS = ("new", "changed", "reminder", "resolved")
#: Transitions of one run, per fingerprint (``unknown``: not re-checked: unreadable, or outside what it read).
TRANSITIONS = ("new", "changed", "ongoing", "resolved", "unknown")
SCHEMA_VERSION = 1


@dataclass(frozen=True, slots=True)
class Delivery:
    """What one channel was last told about one finding, and when."""

    status: str
    content_hash: str
    severity: str
    at: str


@dataclass(frozen=True, slots=True)
class FindingState:
    """One fingerprint across runs. ``failed`` lists the channels whose last attempt failed: an alert
    is pending there. ``suppressed`` holds the note of the suppression active at the last sighting."""

    fingerprint: str
    content_hash: str
    finding: Finding
    status: str
    first_seen: str
    last_seen: str
    resolved_at: str | None = None
    suppressed: str | None = None
    delivered: Mapping[str, Delivery] = field(default_factory=dict)
    failed: tuple[str, ...] = ()
    #: Who made the change, when an Activity Tracker event said (``core.initiator``); kept until resolved.
    initiator: Initiator | None = None


@dataclass(frozen=True, slots=True)
class Alert:
    """One thing to tell a channel. ``retry`` is set when an earlier attempt to this channel failed."""

    kind: str
    finding: Finding
    first_seen: str
    previous_severity: str | None = None
    resolved_at: str | None = None
    notes: tuple[str, ...] = ()
    retry: bool = False
    initiator: Initiator | None = None

    @property
    def fingerprint(self) -> str:
        return self.finding.fingerprint


@dataclass(frozen=True, slots=True)
class Marked:
    """A finding of this run as reports show it: its transition and suppression, if any."""

    finding: Finding
    transition: str
    suppression: SuppressionRule | None = None
    expired: bool = False

    @property
    def suppressed(self) -> bool:
        return self.suppression is not None and not self.expired


@dataclass(frozen=True, slots=True)
class Step:
    """One run's lifecycle: the states after it (deliveries not yet recorded), the transitions, the
    findings as marked, and per channel the alerts to send."""

    states: Mapping[str, FindingState]
    transitions: Mapping[str, str]
    marked: tuple[Marked, ...]
    outbox: Mapping[str, tuple[Alert, ...]]


def advance(
    previous: Mapping[str, FindingState],
    findings: Sequence[Finding],
    *,
    now: datetime,
    channels: Sequence[str],
    remind_after: int,
    suppressions: Sequence[SuppressionRule] = (),
    unreadable: Sequence[str] = (),
    notes: Mapping[str, str] | None = None,
    news: Iterable[str] = (),
    checked: Sequence[Coverage] | None = None,
    initiators: Mapping[str, Initiator] | None = None,
    routes: Mapping[str, Route] | None = None,
) -> Step:
    """Move every fingerprint one run on and decide, per channel, what to send.

    ``unreadable`` lists scopes (``us-south``, ``us-south/prod-vpc``, ``k8s/prod-cluster``,
    ``k8s/prod-cluster/accounts``) that could not be read or that the config leaves out: open findings
    there were not re-checked and stay open; ``notes`` adds a line (for example a remediation outcome)
    to a fingerprint's alerts, and a fingerprint in ``news`` is alerted again with it even when nothing
    changed (a reminder: a new remediation plan awaits approval). A run that saw only part of the
    estate (a shard, an event's targeted check, the watcher's re-read of one cluster) passes what it
    read as ``checked``: an open finding outside it stays as it was, for the run that reads its part to
    resolve. ``initiators`` (by fingerprint) name who made the change an event reported: a finding keeps
    the first it was given while it stays open, and takes a new one when its content changes. ``routes``
    (by channel) decide which findings a channel is first told of (``core.routing``).
    """
    stamp = rfc3339(now)
    states: dict[str, FindingState] = {}
    transitions: dict[str, str] = {}
    marked: list[Marked] = []
    outbox: dict[str, list[Alert]] = {ch: [] for ch in channels}
    extra = notes or {}
    fresh = frozenset(news)
    seen: set[str] = set()
    for f in findings:
        fp = f.fingerprint
        if fp in seen:
            continue
        seen.add(fp)
        prev = previous.get(fp)
        rule, expired = match_suppression(f, suppressions, now.date())
        active = rule is not None and not expired
        transition = _transition(prev, f)
        transitions[fp] = transition
        marked.append(Marked(f, transition, rule, expired))
        state = FindingState(
            fingerprint=fp,
            content_hash=f.content_hash,
            finding=f,
            status=OPEN,
            first_seen=stamp if transition == "new" or prev is None else prev.first_seen,
            last_seen=stamp,
            suppressed=suppression_note(rule, False) if active and rule is not None else None,
            delivered=prev.delivered if prev else {},
            failed=() if active or prev is None else prev.failed,
            initiator=_initiator(prev, transition, (initiators or {}).get(fp)),
        )
        states[fp] = state
        if active:
            continue
        lines = tuple(n for n in (suppression_note(rule, True) if rule is not None else None, extra.get(fp)) if n)
        was_suppressed = prev is not None and prev.suppressed is not None and prev.status == OPEN
        force = was_suppressed or (fp in fresh and fp in extra)
        for ch in channels:
            route = (routes or {}).get(ch)
            if route is not None and not route.accepts(f) and not _told_open(state, ch):
                if ch in state.failed:  # what failed to reach it is no longer its to hear
                    state = states[fp] = replace(state, failed=tuple(c for c in state.failed if c != ch))
                continue
            alert = _open_alert(state, ch, now, remind_after, force=force, notes=lines)
            if alert is not None:
                outbox[ch].append(alert)
    for fp, old in previous.items():
        if fp in seen:
            continue
        if old.status == OPEN and (not covered(old.finding.resource, checked)
                                   or in_scopes(old.finding.resource, unreadable)):
            states[fp] = old
            transitions[fp] = "unknown"
            continue
        gone = old
        if old.status == OPEN:
            transitions[fp] = "resolved"
            gone = replace(old, status=RESOLVED, resolved_at=stamp)
        states[fp] = gone
        for ch in channels:
            if _owes_resolution(gone, ch):
                outbox[ch].append(Alert("resolved", gone.finding, gone.first_seen, resolved_at=gone.resolved_at,
                                        notes=tuple(n for n in (extra.get(fp),) if n), retry=ch in gone.failed,
                                        initiator=gone.initiator))
    return Step(states, transitions, tuple(marked), {ch: tuple(sorted(a, key=alert_order)) for ch, a in outbox.items()})


def settle(step: Step, outcomes: Mapping[str, bool], now: datetime) -> dict[str, FindingState]:
    """The states to persist once the channels reported back (True: delivered, False: failed).

    Delivered alerts update what the channel knows; failed ones leave the channel behind, marked, so
    the next run decides again. A resolved state is dropped once no channel still owes it a word.
    """
    stamp = rfc3339(now)
    states = dict(step.states)
    for ch, alerts in step.outbox.items():
        ok = outcomes.get(ch, False)
        for a in alerts:
            s = states[a.fingerprint]
            if ok:
                status = RESOLVED if a.kind == "resolved" else OPEN
                delivered = {**s.delivered, ch: Delivery(status, s.content_hash, a.finding.severity, stamp)}
                states[a.fingerprint] = replace(s, delivered=delivered, failed=tuple(c for c in s.failed if c != ch))
            elif ch not in s.failed:
                states[a.fingerprint] = replace(s, failed=(*s.failed, ch))
    channels = list(step.outbox)
    return {fp: s for fp, s in states.items()
            if s.status == OPEN or any(_owes_resolution(s, ch) for ch in channels)}


def _initiator(prev: FindingState | None, transition: str, told: Initiator | None) -> Initiator | None:
    """The new one for a new or changed finding (an event said who); else the one it had."""
    kept = prev.initiator if prev is not None and transition != "new" else None
    return told if told is not None and (kept is None or transition == "changed") else kept


def _transition(prev: FindingState | None, f: Finding) -> str:
    if prev is None or prev.status == RESOLVED:
        return "new"
    return "changed" if prev.content_hash != f.content_hash else "ongoing"


def _open_alert(state: FindingState, ch: str, now: datetime, remind_after: int, *, force: bool,
                notes: tuple[str, ...]) -> Alert | None:
    told = state.delivered.get(ch)
    retry = ch in state.failed
    if told is None or told.status == RESOLVED:
        return Alert("new", state.finding, state.first_seen, notes=notes, retry=retry, initiator=state.initiator)
    if told.content_hash != state.content_hash:
        previous = told.severity if told.severity != state.finding.severity else None
        return Alert("changed", state.finding, state.first_seen, previous_severity=previous, notes=notes, retry=retry,
                     initiator=state.initiator)
    due = remind_after > 0 and (now - parse_time(told.at)).total_seconds() >= remind_after
    if due or force:
        return Alert("reminder", state.finding, state.first_seen, notes=notes, retry=retry, initiator=state.initiator)
    return None


def _told_open(state: FindingState, ch: str) -> bool:
    told = state.delivered.get(ch)
    return told is not None and told.status == OPEN


def _owes_resolution(state: FindingState, ch: str) -> bool:
    if state.status != RESOLVED or state.suppressed is not None:
        return False
    told = state.delivered.get(ch)
    return (told is not None and told.status == OPEN) or ch in state.failed


def alert_order(a: Alert) -> tuple[int, int, str, str]:
    return (KINDS.index(a.kind), SEVERITY_RANK.get(a.finding.severity, 99), a.finding.resource.path, a.finding.code)


def counts(findings: Iterable[Finding]) -> dict[str, int]:
    """Findings by severity, every severity present (zeros included), most severe first."""
    out = dict.fromkeys(SEVERITY_RANK, 0)
    for f in findings:
        out[f.severity] = out.get(f.severity, 0) + 1
    return out


# --- time and serialisation -------------------------------------------------------------------------


def rfc3339(moment: datetime) -> str:
    return moment.replace(microsecond=0).isoformat().replace("+00:00", "Z")


def parse_time(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def states_to_dict(states: Mapping[str, FindingState]) -> dict[str, Any]:
    """The JSON document of ``findings.json`` in the state store."""
    return {"schema_version": SCHEMA_VERSION,
            "findings": [state_to_dict(states[fp]) for fp in sorted(states)]}


def states_from_dict(doc: Mapping[str, Any]) -> dict[str, FindingState]:
    """Read ``findings.json``; fields an older file lacks take their defaults. Raises ValueError,
    KeyError or TypeError on a document that is not one."""
    items = doc.get("findings", [])
    if not isinstance(items, list):
        raise ValueError("findings is not a list")
    return {s.fingerprint: s for s in (state_from_dict(d) for d in items)}


def state_to_dict(s: FindingState) -> dict[str, Any]:
    return {
        "fingerprint": s.fingerprint,
        "content_hash": s.content_hash,
        "status": s.status,
        "first_seen": s.first_seen,
        "last_seen": s.last_seen,
        "resolved_at": s.resolved_at,
        "suppressed": s.suppressed,
        "delivered": {ch: {"status": d.status, "content_hash": d.content_hash, "severity": d.severity, "at": d.at}
                      for ch, d in sorted(s.delivered.items())},
        "failed": list(s.failed),
        "initiator": s.initiator.to_dict() if s.initiator else None,
        "finding": s.finding.to_dict(),
    }


def state_from_dict(d: Mapping[str, Any]) -> FindingState:
    finding = finding_from_dict(d["finding"])
    delivered = {str(ch): Delivery(str(v["status"]), str(v["content_hash"]), str(v.get("severity", "")), str(v["at"]))
                 for ch, v in (d.get("delivered") or {}).items()}
    return FindingState(
        fingerprint=str(d.get("fingerprint") or finding.fingerprint),
        content_hash=str(d.get("content_hash") or finding.content_hash),
        finding=finding,
        status=RESOLVED if d.get("status") == RESOLVED else OPEN,
        first_seen=str(d["first_seen"]),
        last_seen=str(d.get("last_seen") or d["first_seen"]),
        resolved_at=d.get("resolved_at"),
        suppressed=d.get("suppressed"),
        delivered=delivered,
        failed=tuple(str(c) for c in d.get("failed") or ()),
        initiator=initiator_from_dict(d.get("initiator") if isinstance(d.get("initiator"), Mapping) else None),
    )


def finding_from_dict(d: Mapping[str, Any]) -> Finding:
    """The inverse of ``Finding.to_dict`` (an empty ``baseline``/``live`` reads back as None)."""
    resource = {k: str(v) for k, v in (d.get("resource") or {}).items() if k in ResourceRef.__slots__}
    impact = d.get("impact") or {}
    return Finding(
        code=str(d["code"]),
        severity=str(d["severity"]),
        resource=ResourceRef(**resource),
        message=str(d.get("message", "")),
        baseline=d.get("baseline") or None,
        live=d.get("live") or None,
        impact=Impact(
            exposure=str(impact.get("exposure", "unknown")),
            examples=tuple(impact.get("examples") or ()),
            breakage=tuple(impact.get("breakage") or ()),
            summary=impact.get("summary"),
        ),
    )
