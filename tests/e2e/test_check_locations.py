"""``netwarden check --format sarif|markdown``: each result at the file and line of the baseline entry it
is about (a rule far down an ACL file, a subnet's entry, a NetworkPolicy's name), found here by reading
the baseline file itself; a snapshot file standing in for the baseline has no lines, so line 1."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

import snapshot_factory as f
from netwarden.adapters.baseline_write import write_baseline
from netwarden.core import normalize, snapshot_format
from netwarden.core.model import Snapshot
from netwarden.entrypoints.cli import main

BASE = f.recipe()
LIVE = f.live_of(BASE)
ACL_FILE = "baseline/vpc/us-south/prod-vpc/network-acls/acl-zone1.yaml"
SUBNETS_FILE = "baseline/vpc/us-south/prod-vpc/subnets.yaml"
POLICY_FILE = "baseline/kubernetes/prod-cluster/accounts/allow-web.yaml"


@pytest.fixture
def estate(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    write_baseline(BASE, tmp_path / "baseline")
    return tmp_path


def _line_of(file: str, text: str) -> int:
    """The line of ``file`` that is exactly ``text`` (there must be one)."""
    (line,) = [i for i, line in enumerate(Path(file).read_text(encoding="utf-8").splitlines(), 1) if line == text]
    return line


def _check(estate: Path, live: Snapshot, fmt: str = "sarif") -> str:
    (estate / "live.json").write_text(snapshot_format.dumps(live))
    assert main(["check", "--snapshot", "live.json", "--baseline", "baseline", "--format", fmt, "--out",
                 f"report.{fmt}"]) == 2
    return (estate / f"report.{fmt}").read_text(encoding="utf-8")


def _location(sarif: str, code: str) -> dict[str, Any]:
    (result,) = [r for r in json.loads(sarif)["runs"][0]["results"] if r["ruleId"] == code]
    location: dict[str, Any] = result["locations"][0]["physicalLocation"]
    return location


def test_sarif_start_line_is_the_line_of_a_rule_far_down_an_acl_file(estate: Path) -> None:
    rules = f.rules_of(LIVE, "acl-zone1")
    lines = {r.name: _line_of(ACL_FILE, f"- name: {r.name}") for r in rules}
    far = next(r for r in rules if lines[r.name] >= 60 and r.protocol == "icmp")  # allow-ping-in, past line 60
    changed = [replace(r, source="198.51.100.0/24") if r is far else r for r in rules]
    sarif = _check(estate, f.with_acl(LIVE, "acl-zone1", changed))
    assert _location(sarif, "acl-rule-changed") == {"artifactLocation": {"uri": ACL_FILE},
                                                    "region": {"startLine": lines[far.name]}}
    markdown = _check(estate, f.with_acl(LIVE, "acl-zone1", changed), "markdown")
    assert f"`{ACL_FILE}:{lines[far.name]}`" in markdown


def test_an_unexpected_rule_is_at_the_rule_it_follows(estate: Path) -> None:
    rules = f.rules_of(LIVE, "acl-zone1")
    extra = f.rule("allow-ssh", "allow", "inbound", "tcp", "0.0.0.0/0", "10.240.0.0/24", destination_port=22)
    sarif = _check(estate, f.with_acl(LIVE, "acl-zone1", [*rules[:-2], extra, *rules[-2:]]))
    assert _location(sarif, "acl-rule-unexpected")["region"] == {
        "startLine": _line_of(ACL_FILE, f"- name: {rules[-3].name}")}


def test_sarif_start_line_is_the_line_of_the_subnet_entry(estate: Path) -> None:
    sarif = _check(estate, f.with_subnet(LIVE, "subnet-zone3", network_acl="default-acl"))
    line = _line_of(SUBNETS_FILE, "subnet-zone3:")
    assert line > 1
    assert _location(sarif, "subnet-allow-all") == {"artifactLocation": {"uri": SUBNETS_FILE},
                                                    "region": {"startLine": line}}


def test_sarif_start_line_is_the_line_of_the_network_policy(estate: Path) -> None:
    policies = [replace(p, spec=normalize.netpol_spec({"podSelector": {"matchLabels": {"app": "web"}},
                                                       "ingress": [{"from": [{"ipBlock": {"cidr": "0.0.0.0/0"}}]}]}))
                if p.name == "allow-web" else p for p in f.recipe_policies()]
    sarif = _check(estate, f.with_policies(LIVE, policies))
    line = _line_of(POLICY_FILE, "  name: allow-web")
    assert line > 1
    assert _location(sarif, "netpol-changed") == {"artifactLocation": {"uri": POLICY_FILE},
                                                  "region": {"startLine": line}}


def test_a_snapshot_file_as_baseline_keeps_line_1(estate: Path) -> None:
    (estate / "before.json").write_text(snapshot_format.dumps(BASE))
    (estate / "live.json").write_text(snapshot_format.dumps(f.with_subnet(LIVE, "subnet-zone3",
                                                                          network_acl="default-acl")))
    assert main(["check", "--snapshot", "live.json", "--baseline", "before.json", "--format", "sarif", "--out",
                 "report.sarif"]) == 2
    assert _location((estate / "report.sarif").read_text(), "subnet-allow-all") == {
        "artifactLocation": {"uri": "before.json"}, "region": {"startLine": 1}}
