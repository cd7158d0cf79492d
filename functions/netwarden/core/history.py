"""How drift has developed: one record per run, and what a span of them says.

Every scan, event and watcher run leaves one record (``run_record``): the run's summary line (status,
counts, channels, remediation) and the findings it opened, changed and resolved, each with its
resource, times and who made the change when an Activity Tracker event said (``core.initiator``).
The records are kept one object per run (``app.history``), so a run adds one and rewrites none, and
retention removes the oldest whole.

``summarize`` answers what an SRE reviewing a week asks: how many runs, how often the estate drifted,
what was opened and resolved and how long each took to resolve, which resources drift most, and who
changed what. It reads only the records it is given; records from before finding events were kept
(schema 1, the old ``history.jsonl`` lines) count as runs with no events.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from statistics import median
from typing import Any

from netwarden.core.initiator import UNKNOWN, from_dict
from netwarden.core.lifecycle import FindingState, parse_time

SCHEMA_VERSION = 2
#: The transitions a run record keeps per finding; ``ongoing`` and ``unknown`` say nothing new.
EVENTS = ("new", "changed", "resolved")
#: How many of the most drifted resources and of the initiators a summary lists.
TOP = 10


def run_record(summary: Mapping[str, Any], transitions: Mapping[str, str],
               states: Mapping[str, FindingState]) -> dict[str, Any]:
    """A run's record: its summary line and one event per finding it opened, changed or resolved."""
    events = []
    for fp, transition in sorted(transitions.items()):
        state = states.get(fp)
        if transition not in EVENTS or state is None:
            continue
        f = state.finding
        events.append({
            "transition": transition, "fingerprint": fp, "code": f.code, "severity": f.severity,
            "resource": f.resource.path, "first_seen": state.first_seen,
            "resolved_at": state.resolved_at if transition == "resolved" else None,
            "initiator": state.initiator.to_dict() if state.initiator else None,
            "suppressed": state.suppressed is not None,
        })
    return {**summary, "schema_version": SCHEMA_VERSION, "events": events}


@dataclass(frozen=True, slots=True)
class Resolution:
    fingerprint: str
    code: str
    resource: str
    first_seen: str
    resolved_at: str
    seconds: float


@dataclass(frozen=True, slots=True)
class Change:
    """One finding opened or changed, and who made it (``None``: no event said)."""

    at: str
    transition: str
    code: str
    severity: str
    resource: str
    who: str | None


@dataclass(frozen=True, slots=True)
class Summary:
    since: str | None
    until: str | None
    runs: int
    by_kind: Mapping[str, int]
    by_status: Mapping[str, int]
    opened: int
    changed: int
    resolved: int
    resolutions: tuple[Resolution, ...]
    most_drifted: tuple[tuple[str, int], ...]
    changes: tuple[Change, ...]
    by_initiator: tuple[tuple[str, int], ...]
    open_now: Mapping[str, int]

    @property
    def median_resolve_s(self) -> float | None:
        return median(r.seconds for r in self.resolutions) if self.resolutions else None

    @property
    def longest_resolve_s(self) -> float | None:
        return max(r.seconds for r in self.resolutions) if self.resolutions else None

    def to_dict(self) -> dict[str, Any]:
        return {
            "since": self.since, "until": self.until, "runs": self.runs, "by_kind": dict(self.by_kind),
            "by_status": dict(self.by_status), "opened": self.opened, "changed": self.changed,
            "resolved": self.resolved, "median_time_to_resolve_s": self.median_resolve_s,
            "longest_time_to_resolve_s": self.longest_resolve_s,
            "resolutions": [{"fingerprint": r.fingerprint, "code": r.code, "resource": r.resource,
                             "first_seen": r.first_seen, "resolved_at": r.resolved_at, "seconds": r.seconds}
                            for r in self.resolutions],
            "most_drifted": [{"resource": res, "changes": n} for res, n in self.most_drifted],
            "changes": [{"at": c.at, "transition": c.transition, "code": c.code, "severity": c.severity,
                         "resource": c.resource, "who": c.who} for c in self.changes],
            "by_initiator": [{"who": who, "changes": n} for who, n in self.by_initiator],
            "open_now": dict(self.open_now),
        }


def summarize(records: Iterable[Mapping[str, Any]], *, since: datetime | None = None) -> Summary:
    """What ``records`` (any order) say about the runs that started at or after ``since``."""
    dated = [(moment, r) for r in records if (moment := _started(r)) is not None]
    runs = [r for moment, r in sorted(dated, key=lambda mr: mr[0]) if since is None or moment >= since]
    kinds: Counter[str] = Counter(str(r.get("kind", "scan")) for r in runs)
    statuses: Counter[str] = Counter(str(r.get("status", "unknown")) for r in runs)
    drifted: Counter[str] = Counter()
    who_counts: Counter[str] = Counter()
    counts: Counter[str] = Counter()
    resolutions: list[Resolution] = []
    changes: list[Change] = []
    for run in runs:
        at = str(run.get("started_at"))
        for e in _events(run):
            transition, resource = str(e.get("transition")), str(e.get("resource"))
            counts[transition] += 1
            if transition in ("new", "changed"):
                drifted[resource] += 1
                initiator = from_dict(e.get("initiator") if isinstance(e.get("initiator"), Mapping) else None)
                who = initiator.text if initiator else None
                who_counts[who or UNKNOWN] += 1
                changes.append(Change(at, transition, str(e.get("code")), str(e.get("severity")), resource, who))
            elif transition == "resolved":
                resolution = _resolution(e)
                if resolution is not None:
                    resolutions.append(resolution)
    last = runs[-1] if runs else {}
    return Summary(
        since=since.strftime("%Y-%m-%dT%H:%M:%SZ") if since else None,
        until=str(last.get("finished_at") or last.get("started_at")) if runs else None,
        runs=len(runs), by_kind=dict(sorted(kinds.items())), by_status=dict(sorted(statuses.items())),
        opened=counts["new"], changed=counts["changed"], resolved=counts["resolved"],
        resolutions=tuple(resolutions), most_drifted=_top(drifted), changes=tuple(changes),
        by_initiator=_top(who_counts), open_now=dict(last.get("by_severity") or {}),
    )


def _events(run: Mapping[str, Any]) -> Sequence[Mapping[str, Any]]:
    events = run.get("events")
    return [e for e in events if isinstance(e, Mapping)] if isinstance(events, list) else []


def _started(run: Mapping[str, Any]) -> datetime | None:
    try:
        moment = parse_time(str(run.get("started_at")))
    except ValueError:
        return None
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def _resolution(e: Mapping[str, Any]) -> Resolution | None:
    try:
        opened, closed = parse_time(str(e.get("first_seen"))), parse_time(str(e.get("resolved_at")))
    except ValueError:
        return None
    return Resolution(str(e.get("fingerprint")), str(e.get("code")), str(e.get("resource")), str(e["first_seen"]),
                      str(e["resolved_at"]), (closed - opened).total_seconds())


def _top(counter: Counter[str]) -> tuple[tuple[str, int], ...]:
    return tuple(sorted(counter.items(), key=lambda kv: (-kv[1], kv[0]))[:TOP])
