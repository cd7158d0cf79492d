"""Suppressions: which finding an operator has said to keep quiet about, until when, and which of those
promises have gone stale.

A suppression names a finding code and a resource path (exact, or a prefix with a trailing ``*``) and
is active through its ``expires`` day. ``core.lifecycle`` and ``app.check`` ask ``match_suppression``
which one applies; ``hygiene`` says what a reviewer of the config should look at: suppressions that
have expired (they no longer suppress), that expire within a week, and that match none of the
findings they were checked against (a typo, or a drift long fixed). Channel routes (``core.routing``)
use the same resource patterns.

Pure: today's date and the findings come in as arguments.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Protocol

from netwarden.core.findings import Finding

#: A suppression expiring within this many days is reported as expiring soon.
EXPIRING_DAYS = 7
#: Hygiene kinds, in the order they are reported.
HYGIENE = ("suppression-expired", "suppression-expiring", "suppression-matches-nothing")


class SuppressionRule(Protocol):
    """What lifecycle needs of a suppression (``config.Suppression`` is one)."""

    @property
    def code(self) -> str: ...

    @property
    def resource(self) -> str: ...

    @property
    def reason(self) -> str: ...

    @property
    def expires(self) -> date | None: ...


@dataclass(frozen=True, slots=True)
class HygieneNote:
    """One stale or soon-stale suppression: its index in the config's list, the kind, and why."""

    index: int
    kind: str
    rule: SuppressionRule
    message: str


def match_suppression(
    finding: Finding, suppressions: Iterable[SuppressionRule], today: date
) -> tuple[SuppressionRule | None, bool]:
    """The suppression that applies to ``finding`` and whether it has expired.

    An active match wins over an expired one; of expired ones, the latest to expire. ``(None, False)``
    when none matches. A suppression is active through its ``expires`` day.
    """
    matching = [s for s in suppressions if s.code == finding.code and resource_matches(s.resource, finding)]
    for s in matching:
        if s.expires is None or today <= s.expires:
            return s, False
    if matching:
        return max(matching, key=lambda s: s.expires or date.min), True
    return None, False


def resource_matches(pattern: str, finding: Finding) -> bool:
    """``us-south/prod-vpc/acl-a/rule-x`` matches exactly; ``us-south/prod-vpc/*`` matches the prefix."""
    return path_matches(pattern, finding.resource.path)


def path_matches(pattern: str, path: str) -> bool:
    if pattern.endswith("*"):
        return path.startswith(pattern[:-1])
    return path == pattern.rstrip("/")


def suppression_note(rule: SuppressionRule, expired: bool) -> str:
    until = f" on {rule.expires.isoformat()}" if rule.expires else ""
    return f"suppression expired{until}: {rule.reason}" if expired else f"suppressed: {rule.reason}"


def hygiene(suppressions: Sequence[SuppressionRule], today: date,
            findings: Sequence[Finding] | None = None) -> list[HygieneNote]:
    """What is stale about ``suppressions`` today. ``findings``: what they are checked against for
    matching nothing (None: not checked, for want of findings to check against)."""
    by_code: dict[str, list[Finding]] = {}
    for f in findings or ():
        by_code.setdefault(f.code, []).append(f)
    soon = today + timedelta(days=EXPIRING_DAYS)
    out: list[HygieneNote] = []
    for i, s in enumerate(suppressions):
        label = f"{s.code} {s.resource}"
        if s.expires is not None and s.expires < today:
            out.append(HygieneNote(i, HYGIENE[0], s, f"{label}: expired on {s.expires.isoformat()}, it no longer "
                                                       "suppresses; renew it or remove it"))
        elif s.expires is not None and s.expires <= soon:
            days = (s.expires - today).days
            when = "today" if days == 0 else f"in {days} day{'s' if days != 1 else ''}"
            out.append(HygieneNote(i, HYGIENE[1], s, f"{label}: expires {when} ({s.expires.isoformat()})"))
        if findings is not None and not any(resource_matches(s.resource, f) for f in by_code.get(s.code, ())):
            out.append(HygieneNote(i, HYGIENE[2], s, f"{label}: matches no current finding"))
    return sorted(out, key=lambda n: (HYGIENE.index(n.kind), n.index))
