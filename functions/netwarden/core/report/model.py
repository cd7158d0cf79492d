"""The check report: one value for the outcome of a check, as every rendering reads it.

``CheckReport`` is what ``app.check.run`` returns and what every output is made from: the status
(``in_sync`` | ``drift`` | ``incomplete``), the findings, the scopes that could not be read, which
findings a suppression covers, and notes: what was not checked and why, such as a baseline VPC outside
the configured scope (one note per scope, never one per resource, and never a finding), and where in
the baseline each finding is (``locations``, made by ``core.report.locations``), and who made each
change when the finding state knows (``initiators``). The JSON form
(DESIGN.md's report contract, validated by ``docs/report.schema.json``), the one-line summary and the
baseline file and line of a finding live here too, because every renderer (``core.report.text``,
``core.report.markup``, ``core.report.sarif``) needs them; ``core.report.render`` picks the renderer.
This module imports none of them.

Pure: the time comes in with the report, nothing is written here.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from netwarden.core.findings import SEVERITIES, Finding, sort_key
from netwarden.core.initiator import Initiator
from netwarden.core.model import Unreadable

SCHEMA_VERSION = 1
STATUSES = ("in_sync", "drift", "incomplete")


@dataclass(frozen=True, slots=True)
class SuppressionMark:
    """A suppression that matched a finding. An ``expired`` one is shown but no longer suppresses."""

    reason: str
    expires: str | None = None
    expired: bool = False

    def to_dict(self) -> dict[str, Any]:
        return {"reason": self.reason, "expires": self.expires}


@dataclass(frozen=True, slots=True)
class Note:
    """Something the reader of a report should know that is neither a finding nor an unreadable scope:
    ``kind`` says what (``out-of-scope``: a part of the baseline the config does not select;
    ``unmanaged``: a live VPC the baseline does not hold; ``ibm-churn``: IBM's own changes to one of
    its security groups, set aside), ``scope`` which part it is about."""

    kind: str
    scope: str
    message: str

    def to_dict(self) -> dict[str, str]:
        return {"kind": self.kind, "scope": self.scope, "message": self.message}


@dataclass(frozen=True, slots=True)
class CheckReport:
    """The outcome of one check. ``findings`` are sorted most severe first; ``suppressions`` maps a
    finding's fingerprint to the suppression that matched it (active or expired); ``locations`` maps it
    to the baseline file and line the finding is about (``core.report.locations``; empty when the
    baseline's lines were not read)."""

    status: str
    findings: tuple[Finding, ...] = ()
    unreadable: tuple[Unreadable, ...] = ()
    generated_at: str | None = None
    suppressions: Mapping[str, SuppressionMark] = field(default_factory=dict)
    notes: tuple[Note, ...] = ()
    locations: Mapping[str, tuple[str, int]] = field(default_factory=dict)
    #: Who made each finding's change, from the finding state of the runs that saw it through an
    #: Activity Tracker event (``core.initiator``); None when the state was not consulted.
    initiators: Mapping[str, Initiator] | None = None

    def suppression(self, finding: Finding) -> SuppressionMark | None:
        return self.suppressions.get(finding.fingerprint)

    def is_suppressed(self, finding: Finding) -> bool:
        mark = self.suppression(finding)
        return mark is not None and not mark.expired

    @property
    def active(self) -> tuple[Finding, ...]:
        """The findings no suppression covers: the ones that fail a check."""
        return tuple(f for f in self.findings if not self.is_suppressed(f))

    def counts(self) -> dict[str, int]:
        """Unsuppressed findings per severity, most severe first, zeros left out."""
        out = {s: 0 for s in SEVERITIES}
        for f in self.active:
            out[f.severity] += 1
        return {s: n for s, n in out.items() if n}


def sorted_findings(findings: list[Finding] | tuple[Finding, ...]) -> tuple[Finding, ...]:
    return tuple(sorted(findings, key=sort_key))


def finding_dict(report: CheckReport, finding: Finding) -> dict[str, Any]:
    """One finding as the JSON report has it, with its suppression if one matched."""
    out = finding.to_dict()
    mark = report.suppression(finding)
    if mark is not None:
        out["suppression_expired" if mark.expired else "suppressed"] = mark.to_dict()
    if report.initiators is not None:
        who = report.initiators.get(finding.fingerprint)
        out["initiator"] = who.to_dict() if who else None
    return out


def to_dict(report: CheckReport) -> dict[str, Any]:
    """The JSON report (DESIGN.md "Check report, JSON")."""
    return {
        "schema_version": SCHEMA_VERSION,
        "status": report.status,
        "generated_at": report.generated_at,
        "findings": [finding_dict(report, f) for f in report.findings],
        "unreadable": [{"scope": u.scope, "reason": u.reason} for u in report.unreadable],
        "notes": [n.to_dict() for n in report.notes],
    }


def summary(report: CheckReport) -> str:
    """``drift: 3 findings (1 critical, 2 high), 1 suppressed`` and the like."""
    counts = report.counts()
    active = sum(counts.values())
    suppressed = len(report.findings) - active
    head = {"in_sync": "in sync", "drift": "drift", "incomplete": "incomplete"}.get(report.status, report.status)
    parts = []
    if active:
        parts.append(f"{active} finding{'s' if active != 1 else ''} (" +
                     ", ".join(f"{n} {s}" for s, n in counts.items()) + ")")
    elif report.status != "incomplete":
        parts.append("no drift")
    if suppressed:
        parts.append(f"{suppressed} suppressed")
    if report.unreadable:
        parts.append(f"{len(report.unreadable)} scope{'s' if len(report.unreadable) != 1 else ''} unreadable")
    outside = sum(1 for n in report.notes if n.kind == "out-of-scope")
    if outside:
        parts.append(f"{outside} out of scope")
    unmanaged = sum(1 for n in report.notes if n.kind == "unmanaged")
    if unmanaged:
        parts.append(f"{unmanaged} not in the baseline")
    return f"{head}: " + ", ".join(parts)


def location(report: CheckReport, finding: Finding, baseline_dir: str = "baseline") -> tuple[str, int]:
    """The baseline file and line ``finding`` is about: from ``report.locations``, else its
    ``baseline_file``, line 1."""
    return report.locations.get(finding.fingerprint) or (baseline_file(finding, baseline_dir), 1)


def baseline_file(finding: Finding, baseline_dir: str = "baseline") -> str:
    """The baseline file that holds (or would hold) the resource of ``finding`` (or, when the baseline
    is a snapshot file, that file)."""
    if baseline_dir.endswith(".json"):
        return baseline_dir
    r = finding.resource
    root = baseline_dir.rstrip("/") or "."
    if r.kind == "network-acl":
        return f"{root}/vpc/{r.region}/{r.vpc}/network-acls/{r.acl}.yaml"
    if r.kind == "subnet":
        return f"{root}/vpc/{r.region}/{r.vpc}/subnets.yaml"
    if r.kind == "security-group":
        return f"{root}/vpc/{r.region}/{r.vpc}/security-groups/{r.security_group}.yaml"
    if r.kind == "network-policy":
        return f"{root}/kubernetes/{r.cluster}/{r.namespace}/{r.name}.yaml"
    if r.kind == "workload":
        return f"{root}/kubernetes/{r.cluster}/workloads.yaml"
    return f"{root}/kubernetes/{r.cluster}/namespaces.yaml"
