"""The check report as SARIF 2.1.0, the format GitHub code scanning ingests.

Each finding is one result: ``ruleId`` is the finding code, and the run's driver lists one rule per
code of ``core.findings.CODES`` with its help text, a default level and a ``security-severity`` (how
code scanning ranks security alerts). Code scanning needs a file and a line for every result, so
a result points at the baseline file and line of what it is about (the rule, the subnet's entry, the
policy: ``CheckReport.locations``, made by ``core.report.locations``), or, when the report has no
line for it (a snapshot file standing in for a baseline), at the file that holds (or would hold) the
resource, line 1; and it names the resource itself as a logical location. ``partialFingerprints``
carries the finding's fingerprint, so an alert stays one alert across runs. A suppressed finding
keeps its result, with an external suppression and its justification. Unreadable scopes are tool
notifications (``error``): they are not findings; so are the report's notes (``note``), such as a
baseline scope outside the configured one.
"""

from __future__ import annotations

from typing import Any

from netwarden import __version__
from netwarden.core.findings import CODES, Finding
from netwarden.core.report.model import CheckReport, location

SARIF_SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"
LEVELS = {"critical": "error", "high": "error", "medium": "warning", "low": "note", "info": "note"}
#: code scanning's security-severity (0-10): >= 9 critical, >= 7 high, >= 4 medium, else low.
SECURITY_SEVERITY = {"critical": "9.5", "high": "8.0", "medium": "5.5", "low": "3.0", "info": "1.0"}


def _rule(index: int, code: str) -> dict[str, Any]:
    spec = CODES[code]
    short = spec.help.split(". ")[0].rstrip(".") + "."
    return {
        "id": code,
        "name": "".join(part.capitalize() for part in code.split("-")),
        "shortDescription": {"text": short},
        "fullDescription": {"text": spec.help},
        "help": {"text": f"{spec.help} See docs/finding-codes.md#{code} for how to remediate it.",
                 "markdown": f"**{code}** ({spec.kind}, default severity {spec.severity}): {spec.help}\n\n"
                             f"See `docs/finding-codes.md#{code}` for an example and how to remediate it."},
        "defaultConfiguration": {"level": LEVELS[spec.severity]},
        "properties": {
            "tags": ["security", "network", spec.kind],
            "precision": "very-high",
            "security-severity": SECURITY_SEVERITY[spec.severity],
        },
    }


def _result(report: CheckReport, finding: Finding, rule_index: int, baseline_dir: str) -> dict[str, Any]:
    file, line = location(report, finding, baseline_dir)
    result: dict[str, Any] = {
        "ruleId": finding.code,
        "ruleIndex": rule_index,
        "level": LEVELS.get(finding.severity, "warning"),
        "message": {"text": finding.message},
        "locations": [{
            "physicalLocation": {
                "artifactLocation": {"uri": file},
                "region": {"startLine": line},
            },
            "logicalLocations": [{"fullyQualifiedName": finding.resource.path, "kind": "resource"}],
        }],
        "partialFingerprints": {"netwarden/v1": finding.fingerprint},
        "properties": {
            "severity": finding.severity,
            "security-severity": SECURITY_SEVERITY.get(finding.severity, "5.5"),
            "resource": finding.resource.to_dict(),
            "impact": finding.impact.to_dict(),
        },
    }
    mark = report.suppression(finding)
    if mark is not None and not mark.expired:
        until = f" (until {mark.expires})" if mark.expires else ""
        result["suppressions"] = [{"kind": "external", "status": "accepted", "justification": mark.reason + until}]
    return result


def render_sarif(report: CheckReport, *, baseline_dir: str = "baseline") -> dict[str, Any]:
    codes = list(CODES)
    index = {code: i for i, code in enumerate(codes)}
    invocation: dict[str, Any] = {"executionSuccessful": report.status != "incomplete"}
    if report.generated_at:
        invocation["endTimeUtc"] = report.generated_at
    notifications = [{"level": "error", "message": {"text": f"{u.scope} could not be read: {u.reason}"},
                      "descriptor": {"id": "unreadable-scope"}} for u in report.unreadable]
    notifications += [{"level": "note", "message": {"text": n.message}, "descriptor": {"id": n.kind}}
                      for n in report.notes]
    if notifications:
        invocation["toolExecutionNotifications"] = notifications
    return {
        "$schema": SARIF_SCHEMA,
        "version": "2.1.0",
        "runs": [{
            "tool": {"driver": {
                "name": "netwarden",
                "version": __version__,
                "semanticVersion": __version__,
                "rules": [_rule(i, code) for i, code in enumerate(codes)],
            }},
            "automationDetails": {"id": "netwarden/check/"},
            "invocations": [invocation],
            "results": [_result(report, f, index[f.code], baseline_dir) for f in report.findings],
            "properties": {"status": report.status},
        }],
    }
