"""The event use-case on a hand-written reader: which resource is compared, what is only acknowledged."""

from __future__ import annotations

from dataclasses import replace

import pytest

from netwarden.app.event import Scope, check
from netwarden.core import sg_rules
from netwarden.core.activity_tracker import ChangeEvent
from netwarden.core.errors import ProviderNotFound
from netwarden.core.findings import ResourceRef
from netwarden.core.model import AclRule, NetworkAcl, PortRange, SecurityGroup, Snapshot, Subnet, Vpc

DENY_ALL = AclRule("deny-all-in", "deny", "inbound", "any", "0.0.0.0/0", "0.0.0.0/0")
SSH = AclRule("allow-ssh", "allow", "inbound", "tcp", "10.0.0.0/8", "10.240.0.0/24")
ALLOW_ALL = AclRule("allow-inbound", "allow", "inbound", "icmp_tcp_udp", "0.0.0.0/0", "0.0.0.0/0")
ACL_A = NetworkAcl("acl-a", (SSH, DENY_ALL), id="acl-a-id")
DEFAULT = NetworkAcl("default-acl", (ALLOW_ALL,), id="default-id")
SUBNET = Subnet("subnet-1", "acl-a", None, cidr="10.240.0.0/24", id="subnet-1-id")
SG_SSH = sg_rules.sg_rule(direction="inbound", protocol_="tcp", remote="10.0.0.0/8", ports=PortRange(22, 22))
BASTION = sg_rules.group("bastion-sg", [SG_SSH], id="bastion-id")
DEFAULT_SG = sg_rules.group("default-sg", [], id="default-sg-id")
BASE = Snapshot(vpcs=(Vpc("us-south", "prod-vpc", acls=(ACL_A, DEFAULT), subnets=(SUBNET,),
                          security_groups=(BASTION, DEFAULT_SG)),))


class Reader:
    """Serves resources of one live VPC by id and counts reads."""

    def __init__(self, vpc: Vpc) -> None:
        self.vpc, self.calls = vpc, 0

    def read_acl(self, region: str, acl_id: str) -> Vpc:
        self.calls += 1
        acl = next((a for a in self.vpc.acls if a.id == acl_id), None)
        if region != self.vpc.region or acl is None:
            raise ProviderNotFound("not found", status=404)
        return replace(self.vpc, acls=(acl,), subnets=())

    def read_subnet(self, region: str, subnet_id: str) -> Vpc:
        self.calls += 2
        subnet = next((s for s in self.vpc.subnets if s.id == subnet_id), None)
        if region != self.vpc.region or subnet is None:
            raise ProviderNotFound("not found", status=404)
        attached = tuple(a for a in self.vpc.acls if a.name == subnet.network_acl)
        return replace(self.vpc, subnets=(subnet,), acls=attached)

    def read_security_group(self, region: str, sg_id: str) -> Vpc:
        self.calls += 1
        group = next((g for g in self.vpc.security_groups if g.id == sg_id), None)
        if region != self.vpc.region or group is None:
            raise ProviderNotFound("not found", status=404)
        return replace(self.vpc, acls=(), subnets=(), security_groups=(group,))


def ev(check_kind: str | None, resource: str, *, region: str = "us-south", name: str | None = None,
       action: str = "is.network-acl.rule.delete") -> ChangeEvent:
    return ChangeEvent(action, "ev", None, "success", "alice", "crn", name, region, resource, None, check_kind,
                       None if check_kind else "not watched")


def live(acls: tuple[NetworkAcl, ...] = (ACL_A, DEFAULT), subnets: tuple[Subnet, ...] = (SUBNET,),
         groups: tuple[SecurityGroup, ...] = (BASTION, DEFAULT_SG)) -> Vpc:
    return Vpc("us-south", "prod-vpc", acls=acls, subnets=subnets, security_groups=groups)


SG_RULE = "is.security-group.security-group-rule.create"
OPEN_SSH = sg_rules.sg_rule(direction="inbound", protocol_="tcp", remote="0.0.0.0/0", ports=PortRange(22, 22))


@pytest.mark.parametrize(("event", "vpc", "codes", "status"), [
    (ev("acl", "acl-a-id"), live(), [], "checked"),
    (ev("acl", "acl-a-id"), live(acls=(replace(ACL_A, rules=(DENY_ALL,)), DEFAULT)), ["acl-rule-missing"], "checked"),
    (ev("subnet", "subnet-1-id", action="is.subnet.network-acl.update"),
     live(subnets=(replace(SUBNET, network_acl="default-acl"),)), ["subnet-allow-all"], "checked"),
    (ev("subnet", "subnet-1-id", action="is.subnet.public-gateway.attach"),
     live(subnets=(replace(SUBNET, public_gateway="pgw-1"),)), ["gateway-attached"], "checked"),
    (ev("acl", "acl-a-id", name="acl-a", action="is.network-acl.network-acl.delete"),
     live(acls=(DEFAULT,)), ["acl-missing"], "checked"),
    (ev("acl", "other-id"), live(acls=(ACL_A, DEFAULT, NetworkAcl("other", (), id="other-id"))), [], "ignored"),
    (ev("acl", "acl-a-id", region="eu-de"), live(), [], "ignored"),
    (ev(None, "x"), live(), [], "ignored"),
    (ev("security-group", "bastion-id", action=SG_RULE), live(), [], "checked"),
    (ev("security-group", "bastion-id", action=SG_RULE),
     live(groups=(sg_rules.group("bastion-sg", [SG_SSH, OPEN_SSH], id="bastion-id"), DEFAULT_SG)),
     ["sg-rule-unexpected"], "checked"),
    (ev("security-group", "bastion-id", name="bastion-sg", action="is.security-group.security-group.delete"),
     live(groups=(DEFAULT_SG,)), ["sg-missing"], "checked"),
    (ev("security-group", "bastion-id", name="rule-name", action="is.security-group.security-group-rule.delete"),
     live(groups=(DEFAULT_SG,)), [], "ignored"),
    (ev("security-group", "other-id", action=SG_RULE),
     live(groups=(BASTION, DEFAULT_SG, sg_rules.group("other", [], id="other-id"))), [], "ignored"),
])
def test_event_checks(event: ChangeEvent, vpc: Vpc, codes: list[str], status: str) -> None:
    reader = Reader(vpc)
    outcome = check(event, BASE, reader, Scope(regions=("us-south",)))
    assert (outcome.status, [f.code for f in outcome.findings]) == (status, codes)
    assert reader.calls <= 3


@pytest.mark.parametrize(("vpcs", "status"), [
    (("dev-vpc",), "ignored"), (("prod-vpc",), "checked"), (("r006-prod",), "checked"), (("r006-other",), "ignored"),
])
def test_ibmcloud_vpcs_selects_by_name_or_id(vpcs: tuple[str, ...], status: str) -> None:
    vpc = replace(live(acls=(replace(ACL_A, rules=()), DEFAULT)), id="r006-prod")
    outcome = check(ev("acl", "acl-a-id"), BASE, Reader(vpc), Scope(regions=("us-south",), vpcs=vpcs))
    assert outcome.status == status, outcome.reason
    assert status == "checked" or "not in scope" in outcome.reason


def test_a_checked_event_names_its_resource_and_covers_only_it() -> None:
    outcome = check(ev("acl", "acl-a-id"), BASE, Reader(live()), Scope(regions=("us-south",)))
    assert (outcome.scope, outcome.acted) == ("us-south/prod-vpc/acl-a", True)
    (covers,) = outcome.checked
    assert covers.covers(ResourceRef("network-acl", region="us-south", vpc="prod-vpc", acl="acl-a", rule="r1"))
    for other in (ResourceRef("network-acl", region="us-south", vpc="prod-vpc", acl="acl-b"),
                  ResourceRef("subnet", region="us-south", vpc="prod-vpc", subnet="subnet-1"),
                  ResourceRef("network-acl", region="us-south", vpc="other-vpc", acl="acl-a")):
        assert not covers.covers(other), other


# --- an event's findings are judged as the next scan judges them ------------------------------------

def _rule(name: str, action: str, direction: str, source: str, destination: str) -> AclRule:
    protocol = "any" if action == "deny" else "icmp_tcp_udp"
    return AclRule(name, action, direction, protocol, source, destination)


ZONE_RULES = (
    _rule("zone-2-out", "allow", "outbound", "0.0.0.0/0", "10.240.64.0/24"),
    _rule("zone-2-in", "allow", "inbound", "10.240.64.0/24", "0.0.0.0/0"),
    _rule("ibm-out", "allow", "outbound", "0.0.0.0/0", "166.8.0.0/14"),
    _rule("ibm-in", "allow", "inbound", "166.8.0.0/14", "0.0.0.0/0"),
    _rule("deny-out", "deny", "outbound", "0.0.0.0/0", "0.0.0.0/0"),
    _rule("deny-in", "deny", "inbound", "0.0.0.0/0", "0.0.0.0/0"),
)
ZONE_1 = NetworkAcl("zone-1-acl", ZONE_RULES, id="zone-1-acl-id")
ZONE_2 = NetworkAcl("zone-2-acl", ZONE_RULES, id="zone-2-acl-id")
LOCKED = NetworkAcl("locked-acl", ZONE_RULES[2:], id="locked-acl-id")
ZONED = (Subnet("subnet-1", "zone-1-acl", None, "us-south-1", "10.240.0.0/24", id="subnet-1-id"),
         Subnet("subnet-2", "zone-2-acl", None, "us-south-2", "10.240.64.0/24", id="subnet-2-id"))
ZONED_BASE = Vpc("us-south", "prod-vpc", acls=(LOCKED, ZONE_1, ZONE_2), subnets=ZONED)


@pytest.mark.parametrize(("event", "vpc"), [
    pytest.param(ev("acl", "zone-1-acl-id"),
                 replace(ZONED_BASE, acls=(LOCKED, replace(ZONE_1, rules=ZONE_RULES[:2] + ZONE_RULES[3:]), ZONE_2)),
                 id="rule-deleted"),
    pytest.param(ev("subnet", "subnet-1-id", action="is.subnet.network-acl.update"),
                 replace(ZONED_BASE, subnets=(replace(ZONED[0], network_acl="locked-acl"), ZONED[1])),
                 id="subnet-acl-swapped"),
])
def test_an_event_finding_is_the_one_the_next_scan_reports(event: ChangeEvent, vpc: Vpc) -> None:
    """Same fingerprint and same content (impact and breakage included, judged at the subnets that use
    the ACL and against the other zones), so the scan after the event does not alert it again as changed."""
    from netwarden.core.drift.diff import diff
    from netwarden.core.drift.impact import annotate

    base, current = Snapshot(vpcs=(ZONED_BASE,)), Snapshot(vpcs=(vpc,))
    scanned = annotate(diff(base, current), base, current)
    outcome = check(event, base, Reader(vpc), Scope(regions=("us-south",)))
    assert [f.code for f in outcome.findings] == [f.code for f in scanned] != []
    for got, want in zip(outcome.findings, scanned, strict=True):
        assert got.impact.breakage == want.impact.breakage
        assert got.impact == want.impact
        assert (got.fingerprint, got.content_hash, got.severity) == (want.fingerprint, want.content_hash, want.severity)
