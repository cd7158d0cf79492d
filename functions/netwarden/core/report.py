"""The check report: one value for the outcome of a check, and its renderings for people and tools.

``CheckReport`` is what ``app.check.run`` returns and what every output is made from: the status
(``in_sync`` | ``drift`` | ``incomplete``), the findings, the scopes that could not be read, and which
findings a suppression covers. ``render`` turns it into one of the formats of ``check --format``:

* ``text``: a table for a terminal;
* ``json``: DESIGN.md's report contract, validated by ``docs/report.schema.json``;
* ``markdown``: a pull-request comment (``core.report_markup``);
* ``sarif``: SARIF 2.1.0 for GitHub code scanning (``core.report_sarif``);
* ``junit``: JUnit XML for CI test dashboards (``core.report_markup``).

Pure: the time comes in with the report, nothing is written here.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from netwarden.core.findings import SEVERITIES, Finding, sort_key
from netwarden.core.model import Unreadable

SCHEMA_VERSION = 1
STATUSES = ("in_sync", "drift", "incomplete")
FORMATS = ("text", "json", "markdown", "sarif", "junit")


@dataclass(frozen=True, slots=True)
class SuppressionMark:
    """A suppression that matched a finding. An ``expired`` one is shown but no longer suppresses."""

    reason: str
    expires: str | None = None
    expired: bool = False

    def to_dict(self) -> dict[str, Any]:
        return {"reason": self.reason, "expires": self.expires}


@dataclass(frozen=True, slots=True)
class CheckReport:
    """The outcome of one check. ``findings`` are sorted most severe first; ``suppressions`` maps a
    finding's fingerprint to the suppression that matched it (active or expired)."""

    status: str
    findings: tuple[Finding, ...] = ()
    unreadable: tuple[Unreadable, ...] = ()
    generated_at: str | None = None
    suppressions: Mapping[str, SuppressionMark] = field(default_factory=dict)

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
    return out


def to_dict(report: CheckReport) -> dict[str, Any]:
    """The JSON report (DESIGN.md "Check report, JSON")."""
    return {
        "schema_version": SCHEMA_VERSION,
        "status": report.status,
        "generated_at": report.generated_at,
        "findings": [finding_dict(report, f) for f in report.findings],
        "unreadable": [{"scope": u.scope, "reason": u.reason} for u in report.unreadable],
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
    return f"{head}: " + ", ".join(parts)


def render(report: CheckReport, fmt: str, *, baseline_dir: str = "baseline") -> str:
    """``report`` in format ``fmt`` (one of FORMATS). ``baseline_dir`` is the baseline directory as
    the repository sees it; SARIF and Markdown point at the baseline file of each finding."""
    if fmt == "json":
        return json.dumps(to_dict(report), indent=2, ensure_ascii=False) + "\n"
    if fmt == "text":
        return render_text(report)
    if fmt == "markdown":
        from netwarden.core.report_markup import render_markdown

        return render_markdown(report, baseline_dir=baseline_dir)
    if fmt == "junit":
        from netwarden.core.report_markup import render_junit

        return render_junit(report)
    if fmt == "sarif":
        from netwarden.core.report_sarif import render_sarif

        return json.dumps(render_sarif(report, baseline_dir=baseline_dir), indent=2, ensure_ascii=False) + "\n"
    raise ValueError(f"unknown report format {fmt!r} (expected one of: {', '.join(FORMATS)})")


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
    if r.kind == "network-policy":
        return f"{root}/kubernetes/{r.cluster}/{r.namespace}/{r.name}.yaml"
    return f"{root}/kubernetes/{r.cluster}/namespaces.yaml"


# --- text ----------------------------------------------------------------------------------------


def render_text(report: CheckReport) -> str:
    """A table for a terminal: one row per finding, most severe first; impact and suppression below."""
    lines = [f"netwarden check: {summary(report)}"]
    if report.generated_at:
        lines.append(f"generated at {report.generated_at}")
    if report.findings:
        header = ("SEVERITY", "CODE", "RESOURCE", "MESSAGE")
        rows = [(f.severity, f.code, f.resource.path, f.message) for f in report.findings]
        widths = [max(len(header[i]), *(len(r[i]) for r in rows)) for i in range(3)]
        lines.append("")
        lines.append(_row(header, widths))
        indent = " " * (sum(widths) + 6)
        for f, row in zip(report.findings, rows, strict=True):
            lines.append(_row(row, widths))
            for note in _notes(report, f):
                lines.append(f"{indent}{note}")
    if report.unreadable:
        lines.append("")
        lines.append("not checked (could not be read):")
        width = max(len(u.scope) for u in report.unreadable)
        lines.extend(f"  {u.scope.ljust(width)}  {u.reason}" for u in report.unreadable)
    return "\n".join(lines) + "\n"


def _row(cells: tuple[str, ...], widths: list[int]) -> str:
    return "  ".join(c.ljust(w) for c, w in zip(cells[:3], widths, strict=True)) + "  " + cells[3]


def _notes(report: CheckReport, f: Finding) -> list[str]:
    notes = []
    if f.impact.exposure != "unknown" or f.impact.examples:
        examples = "; ".join(f.impact.examples[:3])
        notes.append(f"impact: {f.impact.exposure}" + (f" ({examples})" if examples else ""))
    if f.impact.breakage:
        notes.append("breaks: " + "; ".join(f.impact.breakage))
    mark = report.suppression(f)
    if mark is not None:
        until = f" until {mark.expires}" if mark.expires else ""
        notes.append(f"suppression expired {mark.expires}: {mark.reason}" if mark.expired
                     else f"suppressed{until}: {mark.reason}")
    return notes
