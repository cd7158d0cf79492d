"""``core.drift.sg_diff`` table by table: one drift of a security group, one finding; IBM's own churn in
an IBM-managed group, none; rules compared as sets."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import replace

import pytest

from netwarden.core import sg_rules
from netwarden.core.drift.diff import diff
from netwarden.core.drift.sg_diff import diff_groups
from netwarden.core.findings import CODES
from netwarden.core.model import PortRange, SecurityGroup, SgRule, SgTarget, Snapshot, Subnet, Vpc

CLUSTER = "coekl4a107ovqfndhh60"
WORKERS, LBAAS = f"kube-{CLUSTER}", f"kube-lbaas-{CLUSTER}"


def rule(direction: str, protocol: str, remote: str | None = None, group: str | None = None,
         ports: tuple[int, int] | None = None) -> SgRule:
    return sg_rules.sg_rule(direction=direction, protocol_=protocol, remote=remote, remote_group=group,
                            ports=PortRange(*ports) if ports else None)


SSH_CORP = rule("inbound", "tcp", "207.42.8.0/24", ports=(22, 22))
BASE_VPC = Vpc("us-south", "vpc", subnets=(Subnet("s1", "acl", cidr="10.240.0.0/24"),), security_groups=(
    sg_rules.group(WORKERS, [rule("inbound", "icmp_tcp_udp", group=WORKERS),
                             rule("outbound", "icmp_tcp_udp", "161.26.0.0/16"),
                             rule("inbound", "tcp", group=LBAAS, ports=(31380, 31380))], managed_by="ibm"),
    sg_rules.group(LBAAS, [rule("outbound", "tcp", group=WORKERS, ports=(31380, 31380))],
                   [SgTarget("load_balancer", "alb1")], managed_by="ibm"),
    sg_rules.group("bastion", [SSH_CORP, rule("outbound", "icmp_tcp_udp", "10.0.0.0/8")],
                   [SgTarget("network_interface", "bastion-eth0")]),
))
BASE = Snapshot(vpcs=(BASE_VPC,))

Edit = Callable[[SecurityGroup], SecurityGroup]


def edit(name: str, change: Edit) -> Snapshot:
    groups = tuple(change(g) if g.name == name else g for g in BASE_VPC.security_groups)
    return Snapshot(vpcs=(replace(BASE_VPC, security_groups=groups),))


def rules(*changes: tuple[str, SgRule]) -> Edit:
    def apply(g: SecurityGroup) -> SecurityGroup:
        current = list(g.rules)
        for what, r in changes:
            current = [x for x in current if x != r] if what == "-" else [*current, r]
        return sg_rules.group(g.name, current, g.targets, managed_by=g.managed_by)
    return apply


def targets(*wanted: SgTarget) -> Edit:
    return lambda g: sg_rules.group(g.name, g.rules, wanted, managed_by=g.managed_by)


ONE_FINDING = [
    ("rule gone", edit("bastion", rules(("-", SSH_CORP))), "sg-rule-missing",
     "us-south/vpc/bastion/inbound tcp 22 from 207.42.8.0/24"),
    ("rule added", edit("bastion", rules(("+", rule("inbound", "tcp", "207.42.8.0/24", ports=(443, 443))))),
     "sg-rule-unexpected", "us-south/vpc/bastion/inbound tcp 443 from 207.42.8.0/24"),
    ("port changed", edit("bastion", rules(("-", SSH_CORP), ("+", rule("inbound", "tcp", "207.42.8.0/24",
                                                                        ports=(2222, 2222))))),
     "sg-rule-changed", "us-south/vpc/bastion/inbound tcp 22 from 207.42.8.0/24"),
    ("group gone", Snapshot(vpcs=(replace(BASE_VPC, security_groups=BASE_VPC.security_groups[:2]),)),
     "sg-missing", "us-south/vpc/bastion"),
    ("bound to another target", edit("bastion", targets(SgTarget("network_interface", "bastion-eth0"),
                                                          SgTarget("load_balancer", "alb1"))),
     "sg-target-added", "us-south/vpc/bastion/load balancer alb1"),
    ("unbound", edit("bastion", targets()), "sg-target-removed", "us-south/vpc/bastion/network interface bastion-eth0"),
    ("all in on the workers", edit(WORKERS, rules(("+", rule("inbound", "icmp_tcp_udp", "0.0.0.0/0")))),
     "sg-allow-all", f"us-south/vpc/{WORKERS}/inbound icmp_tcp_udp from 0.0.0.0/0"),
    ("all out on the workers, protection on", edit(WORKERS, rules(("+", rule("outbound", "any", "0.0.0.0/0")))),
     "sg-allow-all", f"us-south/vpc/{WORKERS}/outbound any to 0.0.0.0/0"),
    ("all in on a group not on the workers",
     edit("bastion", rules(("+", rule("inbound", "icmp_tcp_udp", "0.0.0.0/0")))),
     "sg-rule-unexpected", "us-south/vpc/bastion/inbound icmp_tcp_udp from 0.0.0.0/0"),
    ("a node port opened to the world is not churn",
     edit(WORKERS, rules(("+", rule("inbound", "tcp", "0.0.0.0/0", ports=(31500, 31500))))),
     "sg-rule-unexpected", f"us-south/vpc/{WORKERS}/inbound tcp 31500 from 0.0.0.0/0"),
]
SG_CODES = {c for c in CODES if c.startswith("sg-")}


def test_the_table_has_every_security_group_code() -> None:
    assert {code for _, _, code, _ in ONE_FINDING} == SG_CODES


@pytest.mark.parametrize(("live", "code", "path"), [c[1:] for c in ONE_FINDING], ids=[c[0] for c in ONE_FINDING])
def test_one_drift_one_finding(live: Snapshot, code: str, path: str) -> None:
    findings = diff(BASE, live)
    assert [(f.code, f.resource.path) for f in findings] == [(code, path)]
    assert findings[0].resource.kind == CODES[code].kind == "security-group" and findings[0].message


NODE_PORT_IN = rule("inbound", "tcp", group=LBAAS, ports=(31500, 31500))
NODE_PORT_OUT = rule("outbound", "tcp", group=WORKERS, ports=(31500, 31500))
OLD_NODE_PORT = rule("inbound", "tcp", group=LBAAS, ports=(31380, 31380))


@pytest.mark.parametrize(("live", "churned"), [
    (edit(WORKERS, rules(("+", NODE_PORT_IN))), 1),
    (edit(WORKERS, rules(("-", OLD_NODE_PORT))), 1),
    (edit(LBAAS, rules(("+", NODE_PORT_OUT))), 1),
    (edit(WORKERS, rules(("+", NODE_PORT_IN), ("-", OLD_NODE_PORT))), 2),
], ids=["node port added", "node port removed", "load balancer side", "one replaced by another"])
def test_ibm_node_port_churn_is_no_finding_and_is_counted(live: Snapshot, churned: int) -> None:
    churn: Counter[tuple[str, str]] = Counter()
    assert list(diff_groups(BASE_VPC, live.vpcs[0], churn=churn)) == []
    assert sum(churn.values()) == churned and all("node port" in reason for _, reason in churn)
    assert {path for path, _ in churn} <= {f"us-south/vpc/{WORKERS}", f"us-south/vpc/{LBAAS}"}
    reported = list(diff_groups(BASE_VPC, live.vpcs[0], expected_churn=False))
    assert len(reported) >= 1  # as drift, when the config says to report it


def test_the_same_churn_in_a_group_the_baseline_says_a_user_keeps_is_drift() -> None:
    base = edit(WORKERS, lambda g: replace(g, managed_by="user"))
    live = edit(WORKERS, rules(("+", NODE_PORT_IN)))
    assert [f.code for f in diff(base, live)] == ["sg-rule-unexpected"]


def test_rules_are_a_set_and_ids_are_not_compared() -> None:
    shuffled = edit("bastion", lambda g: SecurityGroup(g.name, tuple(reversed([replace(r, id="x") for r in g.rules])),
                                                         g.targets, g.managed_by))
    assert shuffled.vpcs[0].security_group("bastion") != BASE_VPC.security_group("bastion")  # another order
    assert diff(BASE, shuffled) == []


def test_a_live_vpc_without_any_group_was_read_without_groups() -> None:
    assert diff(BASE, Snapshot(vpcs=(replace(BASE_VPC, security_groups=()),))) == []
