"""The ``text`` format of a check report: a table for a terminal, most severe first, with each finding's
impact and suppression on the lines below it; then what could not be read, and the notes."""

from __future__ import annotations

from netwarden.core.findings import Finding
from netwarden.core.report.model import CheckReport, summary


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
    if report.notes:
        lines.append("")
        lines.append("notes:")
        lines.extend(f"  {n.message}" for n in report.notes)
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
