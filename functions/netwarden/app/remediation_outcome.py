"""What automatic remediation did, as a scan's alerts and run history tell it.

``remediation.mode: auto`` plugs a ``Remediator`` into a scan or an event run; what it returns, a
``RemediationOutcome``, becomes a note on the alerts of the findings it touched and a part of the
history line. ``outcome_of`` reads an ``app.remediate`` run that way, through the Protocols below, so
that the scan never imports the remediation it may not need.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from netwarden.core.findings import Finding
from netwarden.core.model import Snapshot
from netwarden.core.report.model import CheckReport


@dataclass(frozen=True, slots=True)
class RemediationOutcome:
    """What automatic remediation did: a status, one line for people, a note per finding it touched
    (by fingerprint), whether it failed, and details for the run history. ``news``: the fingerprints
    whose note is news enough to alert again a finding that did not change (a new plan to approve)."""

    status: str
    summary: str
    notes: Mapping[str, str] = field(default_factory=dict)
    failed: bool = False
    detail: Mapping[str, Any] = field(default_factory=dict)
    news: frozenset[str] = frozenset()


#: The seam ``remediation.mode: auto`` plugs into: (live snapshot, its check report, run id) -> outcome.
Remediator = Callable[[Snapshot, CheckReport, str], RemediationOutcome]


class _Plan(Protocol):
    @property
    def fixes(self) -> frozenset[str]: ...


class _Verification(Protocol):
    @property
    def remaining(self) -> Sequence[Finding]: ...


class RemediationRun(Protocol):
    """What ``outcome_of`` reads of a remediation run (``app.remediate.RemediationResult``)."""

    @property
    def status(self) -> str: ...

    @property
    def plan(self) -> _Plan: ...

    @property
    def applied(self) -> Sequence[int]: ...

    @property
    def verification(self) -> _Verification | None: ...

    @property
    def audit_key(self) -> str | None: ...

    @property
    def reason(self) -> str | None: ...


def outcome_of(result: RemediationRun) -> RemediationOutcome:
    """A remediation run as alerts and history tell it."""
    fixes = result.plan.fixes
    remaining = {f.fingerprint for f in (result.verification.remaining if result.verification else ())}
    audit = f" (audit record {result.audit_key})" if result.audit_key else ""
    notes: dict[str, str] = {}
    if result.applied:
        for fp in fixes:
            notes[fp] = (f"automatic remediation ran but this remains{audit}" if fp in remaining
                         else f"remediated automatically{audit}; the next scan confirms it")
    elif result.status not in ("nothing-to-do", "in_sync"):
        for fp in fixes:
            notes[fp] = f"not remediated automatically: {result.status}: {result.reason or 'no reason given'}"
    summary = result.reason or f"{len(result.applied)} step(s) applied for {len(fixes)} finding(s)"
    detail = {"applied": len(result.applied), "findings": len(fixes), "audit": result.audit_key}
    return RemediationOutcome(result.status, summary, notes, failed=result.status == "failed", detail=detail)
