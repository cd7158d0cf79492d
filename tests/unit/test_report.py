"""core.report: the JSON report validates against docs/report.schema.json; SARIF has what code scanning
needs; JUnit parses; Markdown and text show every finding; a part of the baseline outside the configured
scope is one note in every format, never a finding."""

from __future__ import annotations

import json
import re
import xml.etree.ElementTree as ET
from dataclasses import replace
from datetime import date
from pathlib import Path
from typing import Any

import jsonschema
import pytest

import snapshot_factory as f
from netwarden.app.check import run
from netwarden.config import Suppression
from netwarden.core.findings import CODES
from netwarden.core.model import Unreadable
from netwarden.core.report.markup import MAX_ROWS
from netwarden.core.report.model import CheckReport, to_dict
from netwarden.core.report.render import FORMATS, render
from netwarden.core.scope import ReadScope

SCHEMA = json.loads((Path(__file__).parents[2] / "docs" / "report.schema.json").read_text())
BASE = f.recipe()
LIVE = f.live_of(BASE)
NOW = "2026-11-27T10:00:00Z"
TODAY = date(2026, 11, 27)

DRIFTED = f.with_namespace(
    f.with_subnet(f.with_subnet(f.with_acl(LIVE, "acl-zone1", [
        f.rule("allow-ssh", "allow", "inbound", "tcp", "0.0.0.0/0", "10.240.0.0/24", destination_port=22),
        *f.rules_of(LIVE, "acl-zone1")]), "subnet-zone2", network_acl="default-acl"),
        "subnet-zone3", public_gateway="pgw | zone3"),
    "finance", {"tier": "web"})
SUPPRESSIONS = (
    Suppression("gateway-attached", "us-south/prod-vpc/subnet-zone3", "egress test until the proxy lands",
                date(2027, 1, 31)),
    Suppression("namespace-labels-changed", "prod-cluster/*", "relabelling in progress", date(2026, 11, 1)),
)


def _report(live: Any = DRIFTED, **kw: Any) -> CheckReport:
    return run(BASE, live, suppressions=kw.pop("suppressions", SUPPRESSIONS), today=TODAY, generated_at=NOW, **kw)


#: A live read configured for another VPC: the baseline's prod-vpc is out of scope, not missing.
OUT_OF_SCOPE = replace(LIVE, vpcs=(), scope=ReadScope(regions=("us-south",), vpcs=("edge-vpc",)))
NOTE = "baseline vpc us-south/prod-vpc is outside the configured scope (ibmcloud.vpcs): not checked"

REPORTS = {
    "in_sync": lambda: _report(LIVE),
    "out_of_scope": lambda: _report(OUT_OF_SCOPE),
    "drift": _report,
    "incomplete": lambda: _report(replace(LIVE, clusters=(),
                                          unreadable=(Unreadable("k8s/prod-cluster", "connection refused"),))),
}


@pytest.mark.parametrize("name", list(REPORTS))
def test_json_validates_against_the_schema(name: str) -> None:
    report = REPORTS[name]()
    assert report.status == ("in_sync" if name == "out_of_scope" else name)
    doc = json.loads(render(report, "json"))
    jsonschema.Draft202012Validator(SCHEMA, format_checker=jsonschema.FormatChecker()).validate(doc)
    assert doc == json.loads(json.dumps(to_dict(report)))


def test_json_marks_suppressions() -> None:
    doc = json.loads(render(_report(), "json"))
    by_code = {x["code"]: x for x in doc["findings"]}
    assert by_code["gateway-attached"]["suppressed"] == {"reason": "egress test until the proxy lands",
                                                         "expires": "2027-01-31"}
    assert "suppressed" not in by_code["namespace-labels-changed"]
    assert by_code["namespace-labels-changed"]["suppression_expired"]["expires"] == "2026-11-01"
    assert "suppressed" not in by_code["subnet-allow-all"] and "suppression_expired" not in by_code["subnet-allow-all"]
    assert doc["findings"][0]["severity"] == "critical"  # most severe first


@pytest.mark.parametrize("doc_edit", [
    lambda d: d.update(status="drifting"),
    lambda d: d.pop("unreadable"),
    lambda d: d["findings"][0].update(code="acl-gone"),
    lambda d: d["findings"][0]["resource"].pop("vpc"),
    lambda d: d["findings"][0].update(suppressed={"reason": "x"}),
    lambda d: d.update(generated_at="yesterday"),
    lambda d: d.update(notes=[{"kind": "remark", "scope": "us-south", "message": "m"}]),
    lambda d: d.update(notes=[{"kind": "out-of-scope", "message": "m"}]),
])
def test_schema_rejects_what_breaks_the_contract(doc_edit: Any) -> None:
    doc = json.loads(render(_report(), "json"))
    doc_edit(doc)
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.Draft202012Validator(SCHEMA, format_checker=jsonschema.FormatChecker()).validate(doc)


def test_sarif_has_what_code_scanning_needs() -> None:
    report = _report()
    sarif = json.loads(render(report, "sarif", baseline_dir="baseline"))
    assert sarif["version"] == "2.1.0" and sarif["$schema"].endswith("sarif-2.1.0.json")
    (run_,) = sarif["runs"]
    rules = run_["tool"]["driver"]["rules"]
    assert [r["id"] for r in rules] == list(CODES)  # one rule per code
    for rule in rules:
        assert rule["shortDescription"]["text"] and rule["fullDescription"]["text"] == CODES[rule["id"]].help
        assert CODES[rule["id"]].help in rule["help"]["text"]
        assert 0 < float(rule["properties"]["security-severity"]) <= 10
    assert len(run_["results"]) == len(report.findings)
    for result, finding in zip(run_["results"], report.findings, strict=True):
        assert rules[result["ruleIndex"]]["id"] == result["ruleId"] == finding.code
        assert result["level"] in ("error", "warning", "note")
        (location,) = result["locations"]
        assert location["physicalLocation"]["artifactLocation"]["uri"].startswith("baseline/")
        assert location["physicalLocation"]["region"]["startLine"] >= 1
        assert result["partialFingerprints"]["netwarden/v1"] == finding.fingerprint
    by_code = {r["ruleId"]: r for r in run_["results"]}
    assert by_code["acl-rule-unexpected"]["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] == \
        "baseline/vpc/us-south/prod-vpc/network-acls/acl-zone1.yaml"
    assert by_code["gateway-attached"]["suppressions"][0]["kind"] == "external"
    assert "suppressions" not in by_code["namespace-labels-changed"]  # expired: suppresses nothing


def test_sarif_reports_unreadable_scopes_as_notifications() -> None:
    sarif = json.loads(render(REPORTS["incomplete"](), "sarif"))
    (invocation,) = sarif["runs"][0]["invocations"]
    assert invocation["executionSuccessful"] is False
    assert "k8s/prod-cluster could not be read" in invocation["toolExecutionNotifications"][0]["message"]["text"]


def test_junit_parses_and_counts() -> None:
    report = _report(replace(DRIFTED, unreadable=(Unreadable("eu-de", "HTTP 503"),)))
    root = ET.fromstring(render(report, "junit"))
    (suite,) = root.findall("testsuite")
    cases = suite.findall("testcase")
    assert int(suite.get("tests", "")) == len(cases) == len(report.findings) + 1
    assert int(suite.get("skipped", "")) == 1 == len(suite.findall("testcase/skipped"))
    assert int(suite.get("failures", "")) == len(report.findings) - 1 == len(suite.findall("testcase/failure"))
    assert int(suite.get("errors", "")) == 1
    failure = suite.find("testcase[@classname='netwarden.subnet-allow-all']/failure")
    assert failure is not None and failure.get("type") == "subnet-allow-all"
    assert json.loads(failure.text or "")["live"] == {"network_acl": "default-acl"}
    assert root.get("tests") == suite.get("tests")


def test_junit_in_sync_is_one_passing_case() -> None:
    root = ET.fromstring(render(REPORTS["in_sync"](), "junit"))
    cases = root.findall("testsuite/testcase")
    assert len(cases) == 1 and list(cases[0]) == [] and root.get("failures") == "0"


def test_markdown_lists_every_finding() -> None:
    report = _report()
    text = render(report, "markdown")
    assert text.startswith("### netwarden: drift detected")
    for finding in report.findings:
        assert f"`{finding.code}`" in text and f"`{finding.resource.path}`" in text
    assert "pgw \\| zone3" in text  # a pipe in a value does not break the table
    assert "_(suppressed: egress test until the proxy lands)_" in text
    assert "suppression expired 2026-11-01" in text
    rows = [line for line in text.splitlines() if line.startswith("| ")]
    assert all(len(re.split(r"(?<!\\)\|", line)) == 7 for line in rows)  # five cells in every row


def test_markdown_caps_long_reports() -> None:
    rules = [f.rule(f"extra-{i}", "allow", "inbound", "tcp", "10.9.0.0/16", "10.240.0.0/24",
                    destination_port=1000 + i) for i in range(MAX_ROWS + 20)]
    report = _report(f.with_acl(LIVE, "acl-zone1", [*rules, *f.rules_of(LIVE, "acl-zone1")]), suppressions=())
    text = render(report, "markdown")
    assert f"... and {len(report.findings) - MAX_ROWS} more findings" in text
    assert len(text) < 65536


def test_text_is_one_block_per_finding() -> None:
    report = _report(replace(DRIFTED, unreadable=(Unreadable("eu-de", "HTTP 503"),)))
    text = render(report, "text")
    lines = text.splitlines()
    assert lines[0].startswith("netwarden check: incomplete:")
    for finding in report.findings:
        head = lines.index(f"  {finding.severity.upper()} {finding.code} {finding.resource.path}")
        assert lines[head - 1] == "" and lines[head + 1].startswith(f"    {finding.message.split()[0]}")
    assert "suppressed until 2027-01-31: egress test until the proxy lands" in text
    assert "eu-de" in text.split("not checked (could not be read):")[1]


def test_text_in_sync() -> None:
    assert render(REPORTS["in_sync"](), "text").splitlines()[0] == "netwarden check: in sync: no drift"


def test_every_format_renders_and_unknown_is_refused() -> None:
    for fmt in FORMATS:
        assert render(_report(), fmt).endswith("\n")
    with pytest.raises(ValueError, match="unknown report format 'yaml'"):
        render(_report(), "yaml")


def _junit_note(text: str) -> list[str]:
    root = ET.fromstring(text)
    assert root.get("skipped") == "1" and root.get("failures") == "0"
    cases = root.findall("testsuite/testcase[@classname='netwarden.out-of-scope']/skipped")
    return [s.get("message", "") for s in cases]


#: format -> the note(s) as that format carries them
NOTE_IN = {
    "json": lambda text: [n["message"] for n in json.loads(text)["notes"] if n["scope"] == "us-south/prod-vpc"],
    "text": lambda text: " ".join(text.split("notes:\n")[1].split()).split("\0") if "notes:" in text else [],
    "markdown": lambda text: [line[2:] for line in text.split("**Notes**:")[1].splitlines() if line.startswith("- ")],
    "sarif": lambda text: [n["message"]["text"] for n in json.loads(text)["runs"][0]["invocations"][0][
        "toolExecutionNotifications"] if n["level"] == "note" and n["descriptor"]["id"] == "out-of-scope"],
    "junit": _junit_note,
}


@pytest.mark.parametrize("fmt", FORMATS)
def test_out_of_scope_is_one_note_in_every_format_and_no_finding(fmt: str) -> None:
    report = REPORTS["out_of_scope"]()
    assert (report.status, report.findings, report.unreadable) == ("in_sync", (), ())
    text = render(report, fmt)
    assert NOTE_IN[fmt](text) == [NOTE]
    assert text.count("us-south/prod-vpc") == (2 if fmt in ("json", "junit") else 1)  # the note: scope, message


def test_the_summary_counts_what_is_out_of_scope() -> None:
    assert render(REPORTS["out_of_scope"](), "text").splitlines()[0] == \
        "netwarden check: in sync: no drift, 1 out of scope"
    sarif = json.loads(render(REPORTS["out_of_scope"](), "sarif"))
    assert sarif["runs"][0]["invocations"][0]["executionSuccessful"] is True  # a note is not a failure


def test_no_note_without_a_scope() -> None:
    report = REPORTS["in_sync"]()
    assert report.notes == () and to_dict(report)["notes"] == []
    assert "notes" not in render(report, "text") and "Notes" not in render(report, "markdown")
