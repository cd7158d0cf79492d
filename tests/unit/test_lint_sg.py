"""``core.lint_sg`` table by table: the recipe's secure-by-default groups pass; each departure from IBM's
documented rules gives its finding at its group or rule; pre-SbD and user groups are left to their owners;
and ``baseline lint`` places the findings at file:line of the group's file."""

from __future__ import annotations

import shutil
from dataclasses import replace
from pathlib import Path

import pytest
import yaml

from netwarden.adapters.baseline_fs import read_baseline
from netwarden.core import sg_rules
from netwarden.core.lint import lint
from netwarden.core.model import PortRange, SecurityGroup, SgRule, Snapshot, Vpc
from netwarden.entrypoints import cli

BASELINE = Path(__file__).resolve().parents[2] / "baseline"
CLUSTER = "cq2f9ha20m7cn4qhs0vg"
WORKERS, MASTER_VPE = f"kube-{CLUSTER}", f"kube-vpegw-{CLUSTER}"
GROUPS = BASELINE / "vpc" / "us-south" / "iks-vpc" / "security-groups"


@pytest.fixture(scope="module")
def recipe() -> Snapshot:
    return read_baseline(BASELINE)


def rule(direction: str, protocol: str, remote: str | None = None, group: str | None = None,
         ports: tuple[int, int] | None = None, icmp: int | None = None) -> SgRule:
    return sg_rules.sg_rule(direction=direction, protocol_=protocol, remote=remote, remote_group=group,
                            ports=PortRange(*ports) if ports else None, icmp_type=icmp)


def with_group(snapshot: Snapshot, name: str, change: object) -> Snapshot:
    """The snapshot with group ``name``'s rules passed through ``change`` (a function of the rule list)."""
    vpc = snapshot.vpcs[0]
    groups = tuple(sg_rules.group(g.name, change(list(g.rules)), g.targets, managed_by=g.managed_by)  # type: ignore[operator]
                   if g.name == name else g for g in vpc.security_groups)
    return replace(snapshot, vpcs=(replace(vpc, security_groups=groups),))


def without(*gone: SgRule) -> object:
    return lambda rules: [r for r in rules if r not in gone]


def plus(*added: SgRule) -> object:
    return lambda rules: [*rules, *added]


def sg_findings(snapshot: Snapshot) -> list[tuple[str, str]]:
    return [(f.rule, f.message) for f in lint(snapshot) if f.rule.startswith("sg-")]


def test_the_recipes_groups_pass(recipe: Snapshot) -> None:
    assert sg_findings(recipe) == []


def custom(text: str) -> tuple[str, str]:
    return ("sg-ibm-group-custom-rule", f"rule {text} of security group {WORKERS} is none of IBM's documented "
            "kube-<clusterID> rules: IBM asks that this group's rules be left as they are, and `ibmcloud ks "
            "security-group reset` removes rules added to it")


CASES: list[tuple[str, str, object, list[tuple[str, str]]]] = [
    ("no egress to the CSE range", WORKERS, without(rule("outbound", "icmp_tcp_udp", "166.8.0.0/14")),
     [("sg-workers-egress", f"security group {WORKERS} on the cluster's workers must allow outbound icmp_tcp_udp to "
                            "166.8.0.0/14 (IBM: \"Allows traffic to the entire CSE service range.\"); no rule of the "
                            "group does")]),
    ("no egress to the master's VPE", WORKERS, without(rule("outbound", "icmp_tcp_udp", group=MASTER_VPE)),
     [("sg-workers-egress", f"security group {WORKERS} on the cluster's workers must allow outbound icmp_tcp_udp to "
                            f"group {MASTER_VPE} (IBM: \"Allows outbound traffic to the master VPE gateway security "
                            "group.\"); no rule of the group does")]),
    ("egress narrowed to tcp", WORKERS, lambda rules: [
        rule("outbound", "tcp", "161.26.0.0/16") if r == rule("outbound", "icmp_tcp_udp", "161.26.0.0/16") else r
        for r in rules], [
        ("sg-workers-egress", f"security group {WORKERS} on the cluster's workers must allow outbound icmp_tcp_udp to "
                              "161.26.0.0/16 (IBM: \"Allows outbound traffic to the master control plane which allows "
                              "workers to be provisioned.\"); no rule of the group does"),
        custom("outbound tcp all ports to 161.26.0.0/16")]),
    ("a wider rule still lets the workers out", WORKERS, plus(rule("outbound", "icmp_tcp_udp", "0.0.0.0/0")),
     [custom("outbound icmp_tcp_udp to 0.0.0.0/0")]),
    ("ssh from anywhere on the workers", WORKERS, plus(rule("inbound", "tcp", "0.0.0.0/0", ports=(22, 22))),
     [("sg-inbound-anywhere", f"security group {WORKERS} (IBM's kube-<clusterID>) lets traffic in from 0.0.0.0/0: "
                              "rule inbound tcp 22 from 0.0.0.0/0, which IBM does not document for it")]),
    ("ping from anywhere is IBM's", WORKERS, plus(rule("inbound", "icmp", "0.0.0.0/0", icmp=8)), []),
    ("a node port from the load balancers is IBM's", WORKERS,
     plus(rule("inbound", "tcp", group=f"kube-lbaas-{CLUSTER}", ports=(30500, 30500))), []),
    ("an IAM endpoint IBM gives no address for", WORKERS, plus(rule("outbound", "icmp_tcp_udp", "166.9.231.45/32")),
     []),
    ("an outbound exception to a public address", WORKERS, plus(rule("outbound", "icmp_tcp_udp", "203.0.113.7/32")),
     [custom("outbound icmp_tcp_udp to 203.0.113.7/32")]),
    ("a listener port on the load balancers is IBM's", f"kube-lbaas-{CLUSTER}",
     plus(rule("inbound", "tcp", "0.0.0.0/0", ports=(8443, 8443))), []),
    ("anything from anywhere into the master's VPE", MASTER_VPE,
     plus(rule("inbound", "tcp", "0.0.0.0/0", ports=(30411, 30411))),
     [("sg-inbound-anywhere", f"security group {MASTER_VPE} (IBM's kube-vpegw-<clusterID>) lets traffic in from "
                              "0.0.0.0/0: rule inbound tcp 30411 from 0.0.0.0/0, which IBM does not document for it")]),
    ("a user group is its owner's", "iks-bastion-sg", plus(rule("inbound", "tcp", "0.0.0.0/0", ports=(22, 22))), []),
]


@pytest.mark.parametrize(("group", "change", "expected"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_each_departure_gives_its_finding(recipe: Snapshot, group: str, change: object,
                                          expected: list[tuple[str, str]]) -> None:
    assert sg_findings(with_group(recipe, group, change)) == expected


def test_only_the_egress_check_is_an_error(recipe: Snapshot) -> None:
    drifted = with_group(recipe, WORKERS, lambda rules: [
        *[r for r in rules if r != rule("outbound", "icmp_tcp_udp", "161.26.0.0/16")],
        rule("inbound", "tcp", "0.0.0.0/0", ports=(22, 22))])
    assert sorted((f.rule, f.severity) for f in lint(drifted) if f.rule.startswith("sg-")) == [
        ("sg-inbound-anywhere", "warning"), ("sg-workers-egress", "error")]


def test_a_cluster_before_secure_by_default_is_not_held_to_its_table() -> None:
    """No kube-vpegw-<clusterID>: the workers' rules are split with the VPC's default group (pre-SbD)."""
    workers = sg_rules.group(WORKERS, [rule("inbound", "icmp_tcp_udp", group=WORKERS)], managed_by="ibm")
    vpc = Vpc("us-south", "old-vpc", security_groups=(workers, SecurityGroup("default-sg")))
    assert sg_findings(Snapshot(vpcs=(vpc,))) == []


def test_baseline_lint_places_them_in_the_groups_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    copy = tmp_path / "baseline"
    shutil.copytree(BASELINE, copy)
    path = copy / GROUPS.relative_to(BASELINE) / f"{WORKERS}.yaml"
    doc = yaml.safe_load(path.read_text())
    doc["rules"] = [r for r in doc["rules"] if r.get("remote") != "166.8.0.0/14"]
    doc["rules"].append({"direction": "inbound", "protocol": "tcp", "remote": "0.0.0.0/0", "ports": 22})
    path.write_text(yaml.safe_dump(doc, sort_keys=False))
    assert cli.main(["baseline", "lint", str(copy)]) == 2
    out = capsys.readouterr().out
    lines = path.read_text().splitlines()
    name_line = next(n for n, line in enumerate(lines, 1) if line.startswith("name:"))
    rule_line = max(n for n, line in enumerate(lines, 1) if line.startswith("- direction:"))
    assert f"{path}:{name_line}: sg-workers-egress: " in out
    assert f"{path}:{rule_line}: sg-inbound-anywhere: " in out
