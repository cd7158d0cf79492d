"""ACL evaluation against np-guard/vpc-network-config-analyzer's expected subnet-level reports.

Families (all run on ``data/vpc-network-config-analyzer``):

* subnet-level NACL connectivity (``*_subnetsBased_withPGW.txt``): for each ordered pair of subnets
  of a VPC, the connections every source address has to every destination address (source ACL
  outbound AND destination ACL inbound), which TCP replies the ACLs drop (``*``), and for subnets with
  a public gateway what they reach on the public internet and the service network;
* per-subnet analysis (``*_analysisPerSubnetSeparately.txt``): one subnet's ACL alone, per remote
  range and per local sub-range (``subnet_view``);
* subnets diff (``acl_testing5`` -> ``acl_testing5_2nd``): what changed between two configs.

Excluded, with the reason (these outputs are not copied and not run):

* the sections "Connectivity between VPCs connected by TGW" of the ``tgw_*`` and ``tg-prefix-filters``
  reports: cross-VPC reachability through a transit gateway depends on its routes and prefix filters,
  which netwarden does not model; the per-VPC sections of those reports are compared;
* the endpoint-level reports and diffs (security groups and ACLs together): they are in
  ``test_vpc_analyzer_endpoints.py``;
* the explain outputs: rule-level explanations of endpoint connections, not connectivity; and the
  lints other than "Network ACL rules shadowed by higher priority rules" (security groups, split
  subnets, CIDRs outside the VPC, unattached ACLs).

* shadowed rules (``lint_out/*_Lint``, every lint test whose expected output exists): the ACL rules
  the analyzer reports as shadowed by higher-priority rules are exactly those ``acl_eval.shadowed``
  finds, and the one rule ``shadowed`` names as covering is among the analyzer's shadowing rules.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
from vpc_adapter import (
    connectivity_diff,
    load_config,
    parse_per_subnet,
    parse_subnets_diff,
    parse_subnets_report,
    per_subnet_view,
    subnet_connectivity,
)

from netwarden.core.acl.evaluate import shadowed

ROOT = Path(__file__).parent / "data" / "vpc-network-config-analyzer"
DATA = ROOT / "pkg" / "ibmvpc" / "examples"
LINT_CASES: list[dict[str, Any]] = json.loads((ROOT / "lint_cases.json").read_text(encoding="utf-8"))["cases"]
SHADOWED = re.compile(r'network ACL "(?P<acl>[^"]+)" rule is shadowed by higher priority rules\n'
                      r'\tRule details: name: (?P<rule>[^,]+),.*?\n\t\tShadowing rules:\n(?P<by>(?:\t\t\t.*\n?)+)')
REPORTS = DATA / "out" / "analysis_out"


def _config(report: Path) -> Path:
    return DATA / "input" / f"input_{report.name.split('_all_vpcs')[0]}.json"


def _cases(pattern: str, family: str) -> list[object]:
    return [pytest.param(p, marks=pytest.mark.conformance(family), id=p.name.split("_all_vpcs")[0])
            for p in sorted(REPORTS.glob(pattern))]


SUBNET_LEVEL = _cases("*_subnetsBased_withPGW.txt", "vpc-network-config-analyzer subnet-level")
PER_SUBNET = _cases("*_analysisPerSubnetSeparately.txt", "vpc-network-config-analyzer per-subnet")


@pytest.mark.parametrize("report", SUBNET_LEVEL)
def test_subnet_level_connectivity(report: Path) -> None:
    got = subnet_connectivity(load_config(_config(report)))
    want = parse_subnets_report(report.read_text(encoding="utf-8"))
    assert got == want, got.differences(want)


@pytest.mark.parametrize("report", PER_SUBNET)
def test_per_subnet_analysis(report: Path) -> None:
    want = parse_per_subnet(report.read_text(encoding="utf-8"))
    got = {cidr: views for cidr, views in per_subnet_view(load_config(_config(report))).items() if cidr in want}
    assert set(got) == set(want)
    for cidr, views in want.items():
        for direction in ("ingress", "egress"):
            assert got[cidr].get(direction, ()) == views.get(direction, ()), f"{cidr} {direction}"


@pytest.mark.conformance("vpc-network-config-analyzer subnets-diff")
@pytest.mark.parametrize("name", ["acl_testing5"])
def test_subnets_diff(name: str) -> None:
    first = subnet_connectivity(load_config(DATA / "input" / f"input_{name}.json"))
    second = subnet_connectivity(load_config(DATA / "input" / f"input_{name}_2nd.json"))
    got = connectivity_diff(first, second)
    want = parse_subnets_diff((DATA / "out" / "diff_out" / f"{name}_all_vpcs_subnetsDiff.txt").read_text("utf-8"))
    for side in ("before", "after"):
        assert got[side] == want[side], f"{side}: {got[side].differences(want[side])}"


@pytest.mark.parametrize("case", [pytest.param(c, marks=pytest.mark.conformance(
    "vpc-network-config-analyzer shadowed-rules"), id=c["name"]) for c in LINT_CASES])
def test_shadowed_rules(case: dict[str, Any]) -> None:
    text = (ROOT / case["expected_output"]).read_text(encoding="utf-8")
    want = {(m["acl"], m["rule"]): set(re.findall(r"name: ([^,]+),", m["by"])) for m in SHADOWED.finditer(text)}
    got: dict[tuple[str, str], str | None] = {}
    for vpc in load_config(ROOT / case["input"]).vpcs:
        for acl in vpc.acls:
            for index, by in shadowed(acl.rules):
                got[(acl.name, acl.rules[index].name)] = acl.rules[by].name if by is not None else None
    assert set(got) == set(want)
    for key, by in got.items():
        assert by is None or by in want[key]


def test_the_recommended_cases_are_present() -> None:
    names = {p.values[0].name.split("_all_vpcs")[0] for p in SUBNET_LEVEL}  # type: ignore[attr-defined]
    assert {"acl_testing5", "acl_testing5_old", "demo_with_instances", "multiple_vpcs", "sg_testing1_new",
            "sg_testing_3"} <= names
    assert len(PER_SUBNET) == 3
