"""``core.reach.sg_flows``: the workers' security groups as packet flows at a subnet, stateful both ways,
table by table (exact sets, ``core.acl.evaluate.all_traffic`` and friends as the yardstick)."""

from __future__ import annotations

import pytest

from netwarden.core import sg_rules
from netwarden.core.flows.algebra import TCP, UDP, FlowSet, cidr_interval
from netwarden.core.model import PortRange, SecurityGroup, SgRule, Subnet, Vpc
from netwarden.core.reach.sg_flows import layer, workers_groups

WORKERS = "kube-coekl4a107ovqfndhh60"
SUBNET, OTHER = "10.240.0.0/24", "10.240.64.0/24"


def rule(direction: str, protocol: str, remote: str | None = None, group: str | None = None,
         ports: tuple[int, int] | None = None, local: str | None = None) -> SgRule:
    return sg_rules.sg_rule(direction=direction, protocol_=protocol, remote=remote, remote_group=group, local=local,
                            ports=PortRange(*ports) if ports else None)


def vpc(*groups: SecurityGroup) -> Vpc:
    return Vpc("us-south", "vpc", subnets=(Subnet("s1", "acl", cidr=SUBNET), Subnet("s2", "acl", cidr=OTHER)),
               security_groups=groups)


def workers(*rules: SgRule) -> SecurityGroup:
    return sg_rules.group(WORKERS, rules, managed_by="ibm")


def iv(cidr: str) -> tuple[int, int]:
    found = cidr_interval(cidr)
    assert found is not None
    return found


def tcp(source: str, destination: str, sport: tuple[int, int] | None = None,
        dport: tuple[int, int] | None = None) -> FlowSet:
    return FlowSet.box((TCP, TCP), iv(source), iv(destination), sport, dport)


def test_only_the_workers_groups_make_the_layer() -> None:
    other = sg_rules.group("bastion", [rule("inbound", "tcp", "0.0.0.0/0", ports=(22, 22))])
    assert workers_groups(vpc(other)) == ()
    assert layer(vpc(other), SUBNET) is None, "no workers' group: no security group layer"
    assert layer(vpc(workers()), None) is None, "no CIDR: nothing to apply it to"


def test_an_inbound_rule_admits_connections_in_and_opens_none_out() -> None:
    flows = layer(vpc(workers(rule("inbound", "tcp", "0.0.0.0/0", ports=(22, 22)))), SUBNET)
    assert flows is not None
    assert flows.inbound == tcp("0.0.0.0/0", SUBNET, dport=(22, 22))
    assert flows.outbound == FlowSet(), "its replies belong to the connection: stateful, no opening of their own"


def test_an_outbound_rule_admits_connections_out_and_opens_none_in() -> None:
    flows = layer(vpc(workers(rule("outbound", "udp", "161.26.0.0/16", ports=(53, 53)))), SUBNET)
    assert flows is not None
    assert flows.outbound == FlowSet.box((UDP, UDP), iv(SUBNET), iv("161.26.0.0/16"), None, (53, 53))
    assert flows.inbound == FlowSet()


def test_a_remote_group_is_anywhere_in_the_vpcs_subnets() -> None:
    flows = layer(vpc(workers(rule("inbound", "tcp", group=WORKERS, ports=(10250, 10250)))), SUBNET)
    assert flows is not None
    assert flows.inbound == tcp(SUBNET, SUBNET, dport=(10250, 10250)) | tcp(OTHER, SUBNET, dport=(10250, 10250))


def test_the_local_side_narrows_a_rule_to_its_part_of_the_subnet() -> None:
    group = workers(rule("inbound", "tcp", "0.0.0.0/0", ports=(443, 443), local="10.240.0.0/25"))
    flows = layer(vpc(group), SUBNET)
    assert flows is not None and flows.inbound == tcp("0.0.0.0/0", "10.240.0.0/25", dport=(443, 443))
    assert layer(vpc(group), OTHER) == layer(vpc(workers()), OTHER), "another subnet: the rule does not apply"


@pytest.mark.parametrize(("protocol", "numbers"), [("icmp_tcp_udp", {1, 6, 17}), ("any", set(range(256))),
                                                   ("udp", {17})])
def test_protocols(protocol: str, numbers: set[int]) -> None:
    flows = layer(vpc(workers(rule("inbound", protocol, "0.0.0.0/0"))), SUBNET)
    assert flows is not None
    found = {n for (lo, hi), *_ in flows.inbound.boxes() for n in range(lo, hi + 1)}
    assert found == numbers
