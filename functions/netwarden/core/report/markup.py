"""The check report as Markdown (a pull-request comment) and as JUnit XML (a CI test report).

Markdown: a status line, one table row per finding (most severe first), each naming the baseline
``file:line`` it is about (``CheckReport.locations``; the file alone when the report has no line for
it) and, folded under ``<details>``, the impact of each finding. A comment has a size limit (65,536
characters on GitHub), so past ``MAX_ROWS`` rows the table says how many more there are instead of
being cut mid-way.

JUnit: one test case per finding (a ``failure``, or ``skipped`` when suppressed), one per unreadable
scope (an ``error``), one per out-of-scope note (``skipped``: not checked), and a single passing case
when there is no finding and no unreadable scope, so a dashboard shows green.
"""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from typing import Any

from netwarden.core.findings import Finding
from netwarden.core.report.model import CheckReport, baseline_file, summary

MAX_ROWS = 100
_STATUS_TITLE = {"in_sync": "in sync", "drift": "drift detected", "incomplete": "incomplete check"}


def _cell(text: str) -> str:
    """Text safe inside a Markdown table cell."""
    return text.replace("\\", "\\\\").replace("|", "\\|").replace("\n", " ").replace("<", "&lt;")


def _code(text: str) -> str:
    return f"`{text.replace('`', '')}`"


def render_markdown(report: CheckReport, *, baseline_dir: str = "baseline") -> str:
    lines = [f"### netwarden: {_STATUS_TITLE.get(report.status, report.status)}", "",
             f"**{_cell(summary(report))}**" + (f" (generated {report.generated_at})" if report.generated_at else "")]
    if report.findings:
        lines += ["", "| Severity | Code | Resource | What changed | Baseline file |", "|---|---|---|---|---|"]
        for f in report.findings[:MAX_ROWS]:
            severity = f"**{f.severity}**" if f.severity in ("critical", "high") else f.severity
            mark = report.suppression(f)
            message = _cell(f.message)
            if mark is not None:
                message += (f" _(suppression expired {mark.expires}: {_cell(mark.reason)})_" if mark.expired
                            else f" _(suppressed: {_cell(mark.reason)})_")
            lines.append(f"| {severity} | {_code(f.code)} | {_code(f.resource.path)} | {message} | "
                         f"{_code(_where(report, f, baseline_dir))} |")
        if len(report.findings) > MAX_ROWS:
            lines.append(f"\n_... and {len(report.findings) - MAX_ROWS} more findings: see the JSON or SARIF report._")
        impacts = [f for f in report.findings[:MAX_ROWS] if f.impact.examples or f.impact.breakage]
        if impacts:
            lines += ["", "<details><summary>Impact</summary>", ""]
            for f in impacts:
                lines.append(f"- {_code(f.resource.path)} ({f.code}): exposure {f.impact.exposure}")
                lines += [f"  - {_cell(e)}" for e in f.impact.examples[:5]]
                lines += [f"  - breaks: {_cell(b)}" for b in f.impact.breakage]
            lines += ["", "</details>"]
    if report.unreadable:
        lines += ["", "**Not checked** (could not be read):", ""]
        lines += [f"- {_code(u.scope)}: {_cell(u.reason)}" for u in report.unreadable]
    if report.notes:
        lines += ["", "**Notes**:", ""]
        lines += [f"- {_cell(n.message)}" for n in report.notes]
    return "\n".join(lines) + "\n"


def _where(report: CheckReport, finding: Finding, baseline_dir: str) -> str:
    """``file:line`` of the finding in the baseline, or its file when the report has no line for it."""
    place = report.locations.get(finding.fingerprint)
    return baseline_file(finding, baseline_dir) if place is None else f"{place[0]}:{place[1]}"


def render_junit(report: CheckReport) -> str:
    suite = ET.Element("testsuite", name="netwarden check")
    failures = errors = skipped = 0
    for f in report.findings:
        case = ET.SubElement(suite, "testcase", classname=f"netwarden.{f.code}", name=f.resource.path)
        mark = report.suppression(f)
        if mark is not None and not mark.expired:
            ET.SubElement(case, "skipped", message=f"suppressed: {mark.reason}" +
                          (f" (until {mark.expires})" if mark.expires else ""))
            skipped += 1
            continue
        failure = ET.SubElement(case, "failure", type=f.code, message=f"[{f.severity}] {f.message}")
        failure.text = _details(f, report)
        failures += 1
    for u in report.unreadable:
        case = ET.SubElement(suite, "testcase", classname="netwarden.unreadable", name=u.scope)
        ET.SubElement(case, "error", type="unreadable", message=f"{u.scope} could not be read: {u.reason}")
        errors += 1
    for n in report.notes:
        case = ET.SubElement(suite, "testcase", classname=f"netwarden.{n.kind}", name=n.scope)
        ET.SubElement(case, "skipped", message=n.message)
        skipped += 1
    if not report.findings and not report.unreadable:
        ET.SubElement(suite, "testcase", classname="netwarden", name="baseline in sync")
    tests = len(suite)
    attrs = {"tests": str(tests), "failures": str(failures), "errors": str(errors), "skipped": str(skipped)}
    suite.attrib.update(attrs)
    if report.generated_at:
        suite.set("timestamp", report.generated_at)
    root = ET.Element("testsuites", {"name": "netwarden", **attrs})
    root.append(suite)
    ET.indent(root)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, encoding="unicode") + "\n"


def _details(f: Finding, report: CheckReport) -> str:
    data: dict[str, Any] = {"severity": f.severity, "resource": f.resource.to_dict(), "fingerprint": f.fingerprint}
    if f.baseline:
        data["baseline"] = dict(f.baseline)
    if f.live:
        data["live"] = dict(f.live)
    data["impact"] = f.impact.to_dict()
    mark = report.suppression(f)
    if mark is not None:
        data["suppression_expired"] = mark.to_dict()
    return json.dumps(data, indent=2, sort_keys=True, default=str)
