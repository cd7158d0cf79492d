"""The words of an alert, shared by every channel so Slack, email, Event Notifications and a webhook
say the same thing: a title with counts, one line per finding (severity, what happened, where),
its impact, and the notes (a retry, an expired suppression, a remediation).

``context`` is what ``app.scan`` passes every notifier: ``run_id``, ``time`` (RFC 3339), ``status``
(in_sync | drift | incomplete), ``open`` (open findings by severity, suppressed ones left out, in the
whole state: not only the part this run read), ``unreadable`` (scopes that could not be read) and
``source`` (the run that sends it: ``scan``, ``scan, shard 3-of-8``, ``event``, ``watch``).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from typing import Any

from netwarden.core.findings import SEVERITIES, SEVERITY_RANK
from netwarden.core.initiator import UNKNOWN
from netwarden.core.lifecycle import KINDS, Alert

KIND_LABEL = {"new": "New", "changed": "Changed", "reminder": "Still open", "resolved": "Resolved"}
KIND_PLURAL = {"new": "new", "changed": "changed", "reminder": "still open", "resolved": "resolved"}


def ordered(alerts: Sequence[Any]) -> list[Alert]:
    return sorted((a for a in alerts if isinstance(a, Alert)),
                  key=lambda a: (KINDS.index(a.kind), SEVERITY_RANK.get(a.finding.severity, 99),
                                 a.finding.resource.path, a.finding.code))


def kind_counts(alerts: Sequence[Alert]) -> str:
    """``2 new, 1 resolved``."""
    c = Counter(a.kind for a in alerts)
    return ", ".join(f"{c[k]} {KIND_PLURAL[k]}" for k in KINDS if c[k])


def severity_counts(counts: Mapping[str, int]) -> str:
    """``1 critical, 2 high`` (zeros left out); ``none`` when empty."""
    return ", ".join(f"{counts[s]} {s}" for s in SEVERITIES if counts.get(s)) or "none"


def alert_severities(alerts: Sequence[Alert]) -> dict[str, int]:
    c = Counter(a.finding.severity for a in alerts if a.kind != "resolved")
    return {s: c[s] for s in SEVERITIES if c[s]}


def highest(alerts: Sequence[Alert]) -> str:
    """The most severe open severity among ``alerts``; ``info`` when only resolutions."""
    opened = [a.finding.severity for a in alerts if a.kind != "resolved"]
    return min(opened, key=lambda s: SEVERITY_RANK.get(s, 99)) if opened else "info"


def title(alerts: Sequence[Alert], context: Mapping[str, Any]) -> str:
    """``netwarden: 2 new, 1 resolved (1 critical, 1 high)``."""
    sev = severity_counts(alert_severities(alerts))
    detail = f" ({sev})" if sev != "none" else ""
    return f"netwarden: {kind_counts(alerts) or 'no changes'}{detail}"


def headline(a: Alert) -> str:
    """``CRITICAL new subnet-allow-all at us-south/prod-vpc/subnet-1``."""
    return f"{a.finding.severity.upper()} {KIND_PLURAL[a.kind]} {a.finding.code} at {a.finding.resource.path}"


def impact_text(a: Alert, *, examples: int = 3) -> str | None:
    impact = a.finding.impact
    if impact.exposure == "unknown" and not impact.examples and not impact.breakage and not impact.summary:
        return None
    parts = [impact.summary or f"exposure {impact.exposure}"]
    if impact.examples:
        shown = "; ".join(impact.examples[:examples])
        more = f" (+{len(impact.examples) - examples} more)" if len(impact.examples) > examples else ""
        parts.append(shown + more)
    if impact.breakage:
        parts.append("breaks: " + "; ".join(impact.breakage))
    return " - ".join(parts)


def detail_lines(a: Alert) -> list[str]:
    """What follows the headline: severity change, timing, notes, retry."""
    lines = []
    if a.kind == "changed" and a.previous_severity:
        lines.append(f"severity {a.previous_severity} -> {a.finding.severity}")
    if a.kind == "resolved":
        lines.append(f"open since {a.first_seen}, resolved {a.resolved_at}")
    elif a.kind in ("changed", "reminder"):
        lines.append(f"open since {a.first_seen}")
    if a.kind != "resolved":
        lines.append(f"changed by {a.initiator.text}" if a.initiator else f"who: {UNKNOWN}")
    lines.extend(a.notes)
    if a.retry:
        lines.append("sent late: an earlier delivery to this channel failed")
    return lines


def plain(alerts: Sequence[Alert], context: Mapping[str, Any]) -> str:
    """The alert as plain text (email body, Event Notifications long text)."""
    out = [title(alerts, context), ""]
    for a in ordered(alerts):
        out.append(f"- {headline(a)}")
        out.append(f"  {a.finding.message}")
        if (imp := impact_text(a)) and a.kind != "resolved":
            out.append(f"  impact: {imp}")
        out.extend(f"  {line}" for line in detail_lines(a))
    out += ["", footer(context)]
    return "\n".join(out) + "\n"


def footer(context: Mapping[str, Any]) -> str:
    unreadable = context.get("unreadable") or []
    tail = f"; could not read: {', '.join(unreadable)}" if unreadable else ""
    return (f"Open now: {severity_counts(context.get('open') or {})}. Run {run_label(context)} at "
            f"{context.get('time', '?')}{tail}.")


def run_label(context: Mapping[str, Any]) -> str:
    """``20261203T101500Z-ab12cd (scan, shard 3-of-8)``: the run, and which kind of run it is."""
    source = context.get("source")
    return f"{context.get('run_id', '?')}" + (f" ({source})" if source else "")


def to_dict(a: Alert) -> dict[str, Any]:
    """An alert as JSON data (webhook, Event Notifications ``data``)."""
    out: dict[str, Any] = {"kind": a.kind, **a.finding.to_dict(), "first_seen": a.first_seen,
                           "initiator": a.initiator.to_dict() if a.initiator else None}
    if a.previous_severity:
        out["previous_severity"] = a.previous_severity
    if a.resolved_at:
        out["resolved_at"] = a.resolved_at
    if a.notes:
        out["notes"] = list(a.notes)
    if a.retry:
        out["retry"] = True
    return out


def clip(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: max(0, limit - 1)] + "\u2026"
