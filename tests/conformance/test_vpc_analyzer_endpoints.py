"""Security groups and ACLs together against np-guard/vpc-network-config-analyzer's endpoint-level reports.

Families (all run on ``data/vpc-network-config-analyzer``; the adapter is ``endpoint_adapter``):

* endpoint connectivity (``*_all_vpcs_.txt``, ``*__with_grouping*.txt``, ``*_EdgeConsistent.txt``,
  and two runs filtered to one VPC by its CRN): for each VPC, what every instance interface, endpoint
  gateway IP and IKS worker can open to every other, to the public internet and to the service
  network, through both ends' security groups and both subnets' ACLs, and which TCP the ACLs leave
  unanswered. A run filtered by resource group or region is compared on the VPCs it reports;
* endpoints diff (``*_endpointsDiff.txt``): what changed between a config and its ``_2nd``.

Excluded, with the reason:

* the sections "Connectivity between VPCs connected by TGW" (transit gateway routes and prefix
  filters, not netwarden's model; the per-VPC sections of those reports are compared);
* load balancers as endpoints (netwarden reads none): the lines naming one are left out of both
  sides; their private IPs still count as members of their groups.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from endpoint_adapter import (
    endpoint_reachability,
    nonempty,
    parse_endpoints_diff,
    parse_endpoints_report,
    reachability_diff,
    report_vpcs,
)
from endpoint_config import load_estates

DATA = Path(__file__).parent / "data" / "vpc-network-config-analyzer" / "pkg" / "ibmvpc" / "examples"
REPORTS = DATA / "out" / "analysis_out"
#: Reports of runs filtered to one VPC, named after the VPC's CRN instead of ``_all_vpcs``.
FILTERED = {"acl_testing3_with_two_vpcs_crn12": "acl_testing3_with_two_vpcs",
            "experiments_env_crn1crn17": "experiments_env"}
NOT_ENDPOINTS = ("subnetsBased", "PerSubnetSeparately", "explain")


def _input(report: Path) -> Path:
    stem = report.name.removesuffix(".txt")
    return DATA / "input" / f"input_{FILTERED.get(stem) or stem.split('_all_vpcs')[0]}.json"


ENDPOINTS = [pytest.param(p, marks=pytest.mark.conformance("vpc-network-config-analyzer endpoints"),
                          id=p.name.removesuffix(".txt"))
             for p in sorted(REPORTS.glob("*.txt")) if not any(word in p.name for word in NOT_ENDPOINTS)
             and ("_all_vpcs" in p.name or p.name.removesuffix(".txt") in FILTERED)]
DIFFS = [pytest.param(p, marks=pytest.mark.conformance("vpc-network-config-analyzer endpoints-diff"),
                      id=p.name.split("_all_vpcs")[0])
         for p in sorted((DATA / "out" / "diff_out").glob("*_endpointsDiff.txt"))]


@pytest.mark.parametrize("report", ENDPOINTS)
def test_endpoint_connectivity(report: Path) -> None:
    text = report.read_text(encoding="utf-8")
    want = parse_endpoints_report(text)
    got = endpoint_reachability(load_estates(_input(report))).only(report_vpcs(text))
    assert got == want, got.differences(want)


@pytest.mark.parametrize("report", DIFFS)
def test_endpoints_diff(report: Path) -> None:
    name = report.name.split("_all_vpcs")[0]
    first = endpoint_reachability(load_estates(DATA / "input" / f"input_{name}.json")).without_vpc()
    second = endpoint_reachability(load_estates(DATA / "input" / f"input_{name}_2nd.json")).without_vpc()
    got = reachability_diff(first, second)
    want = parse_endpoints_diff(report.read_text(encoding="utf-8"))
    for side in ("before", "after"):
        assert got[side] == want[side], f"{side}: {got[side].differences(want[side])}"


def test_the_security_group_and_iks_cases_are_present() -> None:
    names = {p.values[0].name.removesuffix(".txt") for p in ENDPOINTS}  # type: ignore[attr-defined]
    assert {"sg_testing1_new_all_vpcs_", "sg_testing_3_all_vpcs_", "sg_testing_3_with_empty_remote_all_vpcs_",
            "sg_testing1_new_respond_partly_all_vpcs__with_grouping", "iks_workers_large_all_vpcs__with_grouping",
            "iks_config_object_all_vpcs__with_grouping"} <= names
    assert len(ENDPOINTS) == 37 and len(DIFFS) == 7


def test_the_reports_are_read_whole() -> None:
    """The parser must not lose lines: every connection line of a report lands in some pair."""
    text = (REPORTS / "sg_testing_3_all_vpcs_.txt").read_text(encoding="utf-8")
    lines = [line for line in text.splitlines() if " => " in line]
    assert len(nonempty(parse_endpoints_report(text).conns)) == len(lines) == 11
