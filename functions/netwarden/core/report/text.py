"""The ``text`` format of a check report: what a person reads in a terminal.

One block per finding, most severe first: a head line (severity, code, resource), then the message,
the impact, what breaks and the suppression, each wrapped to ``width`` with a hanging indent. Words
are never broken: a token longer than a line (a long resource path) is split only after a ``/``, a
``,`` or a ``;``, and stands alone on its line otherwise. With more than ``GROUP_AFTER`` findings they
are grouped under a heading per severity with its count. ``color`` puts the severity (and the status)
in ANSI colour; the caller decides (a terminal, no ``NO_COLOR``, no ``--no-color``). Without colour
the output is plain and stable, for pipes and files. Then what could not be read, and the notes.
"""

from __future__ import annotations

from collections.abc import Iterable

from netwarden.core.findings import SEVERITIES, Finding
from netwarden.core.initiator import UNKNOWN
from netwarden.core.report.model import CheckReport, summary
from netwarden.core.wrap import wrap

#: Past this many findings, the blocks are grouped under a heading per severity.
GROUP_AFTER = 5
#: The fewest columns the layout is made for; a narrower terminal gets this width.
MIN_WIDTH = 40
_COLORS = {"critical": "1;31", "high": "31", "medium": "33", "low": "36", "info": "2",
           "in_sync": "32", "drift": "33", "incomplete": "1;31"}
_INDENT = "    "


def render_text(report: CheckReport, *, width: int = 80, color: bool = False) -> str:
    width = max(MIN_WIDTH, width)
    paint = _Paint(color)
    lines = wrap(f"netwarden check: {summary(report)}", width)
    lines[0] = lines[0].replace(report.status.replace("_", " "), paint(report.status.replace("_", " "),
                                                                         report.status), 1)
    if report.generated_at:
        lines.append(f"generated at {report.generated_at}")
    grouped = len(report.findings) > GROUP_AFTER
    for severity in SEVERITIES:
        findings = [f for f in report.findings if f.severity == severity]
        if not findings:
            continue
        if grouped:
            lines += ["", paint(f"{severity.upper()} ({len(findings)})", severity)]
        for f in findings:
            lines.append("")
            lines += _block(report, f, width, paint)
    if report.unreadable:
        lines += ["", "not checked (could not be read):"]
        for u in report.unreadable:
            lines += wrap(f"{u.scope}: {u.reason}", width, "  ", _INDENT)
    if report.notes:
        lines += ["", "notes:"]
        for n in report.notes:
            lines += wrap(n.message, width, "  ", _INDENT)
    return "\n".join(lines) + "\n"


def _block(report: CheckReport, f: Finding, width: int, paint: _Paint) -> list[str]:
    head = wrap(f"{f.severity.upper()} {f.code} {f.resource.path}", width, "  ", _INDENT)
    head[0] = head[0].replace(f.severity.upper(), paint(f.severity.upper(), f.severity), 1)
    out = head + wrap(f.message, width, _INDENT, _INDENT)
    for label, text in _details(report, f):
        out += wrap(f"{label}: {text}", width, _INDENT, _INDENT + "  ")
    return out


def _details(report: CheckReport, f: Finding) -> Iterable[tuple[str, str]]:
    impact = f.impact
    if impact.exposure != "unknown" or impact.examples:
        examples = "; ".join(impact.examples[:3])
        more = f" (and {len(impact.examples) - 3} more)" if len(impact.examples) > 3 else ""
        yield "impact", impact.exposure + (f": {examples}{more}" if examples else "")
    if impact.summary:
        yield "in short", impact.summary
    if impact.breakage:
        yield "breaks", "; ".join(impact.breakage)
    mark = report.suppression(f)
    if mark is not None:
        until = f" until {mark.expires}" if mark.expires else ""
        if mark.expired:
            yield f"suppression expired {mark.expires}", mark.reason
        else:
            yield f"suppressed{until}", mark.reason
    if report.initiators is not None:
        who = report.initiators.get(f.fingerprint)
        yield ("changed by", who.text) if who else ("who", UNKNOWN)


class _Paint:
    """ANSI colour for a severity or a status, or nothing."""

    def __init__(self, on: bool) -> None:
        self.on = on

    def __call__(self, text: str, key: str) -> str:
        code = _COLORS.get(key)
        return f"\x1b[{code}m{text}\x1b[0m" if self.on and code else text
