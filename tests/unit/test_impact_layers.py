"""One verdict across the layers (``core.reach``): a change in the subnet's ACL or in the workers'
security group is judged by what passes through both. Table by table, through ``app.check`` on a
one-subnet VPC: what one layer opens and the other still blocks is "defence in depth reduced" (medium);
what opens 0.0.0.0/0 through both is critical; what takes the IBM private ranges away from workers the
group lets use them is critical breakage."""

from __future__ import annotations

from dataclasses import replace

import pytest

from netwarden.app import check as check_app
from netwarden.core import sg_rules
from netwarden.core.model import AclRule, NetworkAcl, PortRange, SecurityGroup, SgRule, Snapshot, Subnet, Vpc

CIDR = "10.240.0.0/24"
WORKERS = "kube-coekl4a107ovqfndhh60"
ALL = PortRange(1, 65535)


def allow(name: str, direction: str, source: str, destination: str, protocol: str = "icmp_tcp_udp",
          port: int | None = None) -> AclRule:
    if protocol in ("tcp", "udp"):
        dport = PortRange(port, port) if port else ALL
        return AclRule(name, "allow", direction, protocol, source, destination, dport, ALL)
    return AclRule(name, "allow", direction, protocol, source, destination)


def deny_all(direction: str) -> AclRule:
    return AclRule(f"deny-all-{direction}", "deny", direction, "any", "0.0.0.0/0", "0.0.0.0/0")


BASE_RULES = (allow("ibm-out", "outbound", "0.0.0.0/0", "166.8.0.0/14"),
              allow("ibm-in", "inbound", "166.8.0.0/14", "0.0.0.0/0"),
              deny_all("outbound"), deny_all("inbound"))
SSH_IN = allow("ssh-in", "inbound", "0.0.0.0/0", "0.0.0.0/0", "tcp", 22)
REPLIES_OUT = allow("replies-out", "outbound", "0.0.0.0/0", "0.0.0.0/0", "tcp")


def sg_rule(direction: str, protocol: str, remote: str, ports: tuple[int, int] | None = None) -> SgRule:
    return sg_rules.sg_rule(direction=direction, protocol_=protocol, remote=remote,
                            ports=PortRange(*ports) if ports else None)


IBM_OUT = sg_rule("outbound", "icmp_tcp_udp", "166.8.0.0/14")
#: the workers let each other in, as kube-<clusterID> does (so a subnet's own traffic is not what changes)
SELF = sg_rules.sg_rule(direction="inbound", protocol_="icmp_tcp_udp", remote_group=WORKERS)
#: an ACL that lets in only the replies from 166.8.0.0/14 (tcp to the ephemeral ports): it denies ssh from anywhere
REPLIES_ONLY = (BASE_RULES[0], AclRule("ibm-replies-in", "allow", "inbound", "tcp", "166.8.0.0/14", "0.0.0.0/0",
                                       PortRange(1024, 65535), ALL), *BASE_RULES[2:])
SSH_ANYWHERE = sg_rule("inbound", "tcp", "0.0.0.0/0", (22, 22))


def estate(acl_rules: tuple[AclRule, ...], group_rules: tuple[SgRule, ...] | None) -> Snapshot:
    groups: tuple[SecurityGroup, ...] = () if group_rules is None else (
        sg_rules.group(WORKERS, group_rules, managed_by="ibm"), SecurityGroup("default-sg"))
    return Snapshot(vpcs=(Vpc("us-south", "vpc", acls=(NetworkAcl("acl", acl_rules),),
                              subnets=(Subnet("s1", "acl", cidr=CIDR),), security_groups=groups),))


def before_deny(rules: tuple[AclRule, ...], *added: AclRule) -> tuple[AclRule, ...]:
    return (*rules[:-2], *added, *rules[-2:])


CASES = [
    ("an ACL rule opens ssh from anywhere, the workers' group blocks it",
     estate(before_deny(BASE_RULES, REPLIES_OUT), (IBM_OUT,)),
     estate(before_deny(BASE_RULES, REPLIES_OUT, SSH_IN), (IBM_OUT,)), "acl-rule-unexpected", "reduced", "medium"),
    ("the same, and the workers' group lets ssh in",
     estate(before_deny(BASE_RULES, REPLIES_OUT), (IBM_OUT, SSH_ANYWHERE)),
     estate(before_deny(BASE_RULES, REPLIES_OUT, SSH_IN), (IBM_OUT, SSH_ANYWHERE)), "acl-rule-unexpected", "widened",
     "critical"),
    ("the group opens ssh from anywhere, the ACL denies it", estate(REPLIES_ONLY, (IBM_OUT, SELF)),
     estate(REPLIES_ONLY, (IBM_OUT, SELF, SSH_ANYWHERE)), "sg-rule-unexpected", "reduced", "medium"),
    ("the group opens ssh from anywhere, the ACL lets it in", estate(before_deny(BASE_RULES, SSH_IN, REPLIES_OUT),
                                                                     (IBM_OUT,)),
     estate(before_deny(BASE_RULES, SSH_IN, REPLIES_OUT), (IBM_OUT, SSH_ANYWHERE)), "sg-rule-unexpected", "widened",
     "critical"),
    ("no workers' group: the ACL alone decides, as before", estate(before_deny(BASE_RULES, REPLIES_OUT), None),
     estate(before_deny(BASE_RULES, REPLIES_OUT, SSH_IN), None), "acl-rule-unexpected", "widened", "critical"),
]


@pytest.mark.parametrize(("baseline", "live", "code", "exposure", "severity"), [c[1:] for c in CASES],
                         ids=[c[0] for c in CASES])
def test_a_change_is_judged_by_what_passes_both_layers(baseline: Snapshot, live: Snapshot, code: str, exposure: str,
                                                         severity: str) -> None:
    [finding] = check_app.run(baseline, live).findings
    assert (finding.code, finding.impact.exposure, finding.severity) == (code, exposure, severity), finding.impact
    if exposure == "reduced":
        assert finding.impact.summary is not None and finding.impact.summary.startswith("defence in depth reduced")
        assert any("tcp 22 from 0.0.0.0/0" in e for e in finding.impact.examples), finding.impact.examples


@pytest.mark.parametrize(("group_rules", "severity", "broken"), [
    ((IBM_OUT,), "critical", True),
    ((), "low", False),
], ids=["the group lets the workers use 166.8.0.0/14: critical breakage", "the group never did: nothing breaks"])
def test_deleting_the_acl_rule_for_the_ibm_service_range(group_rules: tuple[SgRule, ...], severity: str,
                                                         broken: bool) -> None:
    baseline = estate(BASE_RULES, group_rules)
    live = replace(baseline, vpcs=(replace(baseline.vpcs[0], acls=(NetworkAcl("acl", BASE_RULES[1:]),)),))
    [finding] = check_app.run(baseline, live).findings
    assert (finding.code, finding.severity, bool(finding.impact.breakage)) == ("acl-rule-missing", severity, broken)
    if broken:
        assert "outbound to the IBM private service endpoints 166.8.0.0/14" in finding.impact.breakage[0]


def test_removing_the_groups_rule_for_the_ibm_service_range_is_critical_breakage() -> None:
    baseline = estate(BASE_RULES, (IBM_OUT,))
    live = estate(BASE_RULES, ())
    [finding] = check_app.run(baseline, live).findings
    assert (finding.code, finding.severity) == ("sg-rule-missing", "critical")
    assert any(b.startswith("outbound to the IBM private service endpoints 166.8.0.0/14 (the cluster master, "
                            "registry) at subnet s1") for b in finding.impact.breakage), finding.impact.breakage


def test_a_stateless_acl_needs_the_replies_the_group_lets_back_in() -> None:
    """The workers open connections to 166.8.0.0/14; their replies come in through the ACL's inbound rule."""
    baseline = estate(BASE_RULES, (IBM_OUT,))
    without_ibm_in = NetworkAcl("acl", (BASE_RULES[0], *BASE_RULES[2:]))
    live = replace(baseline, vpcs=(replace(baseline.vpcs[0], acls=(without_ibm_in,)),))
    [finding] = check_app.run(baseline, live).findings
    assert finding.severity == "critical"
    assert "inbound from the IBM private service endpoints 166.8.0.0/14" in finding.impact.breakage[0]


def test_a_finding_names_the_deciding_rule_of_each_layer() -> None:
    _, baseline, live, *_ = CASES[0]
    [finding] = check_app.run(baseline, live).findings  # type: ignore[arg-type]
    assert finding.impact.summary is not None
    assert finding.impact.summary.endswith(
        "; decided for tcp 22 from 0.0.0.0/0 to 10.240.0.0/24: network ACL acl: inbound: rule ssh-in (allow), reply "
        f"outbound: rule replies-out (allow); security groups {WORKERS}: no inbound rule of {WORKERS} admits it")


def test_past_the_limit_the_findings_of_one_group_share_its_whole_drift() -> None:
    from netwarden.core.drift.impact import PER_FINDING_LIMIT

    added = tuple(sg_rule("inbound", "tcp", f"203.0.113.{n}/32", (22, 22)) for n in range(PER_FINDING_LIMIT + 1))
    baseline = estate(before_deny(BASE_RULES, SSH_IN, REPLIES_OUT), (IBM_OUT,))
    live = estate(before_deny(BASE_RULES, SSH_IN, REPLIES_OUT), (IBM_OUT, *added))
    findings = check_app.run(baseline, live).findings
    assert len(findings) == PER_FINDING_LIMIT + 1 and {f.code for f in findings} == {"sg-rule-unexpected"}
    assert len({f.impact for f in findings}) == 1, "one impact, the group's whole drift"
    assert findings[0].impact.exposure == "widened"
    assert findings[0].impact.examples[0] == "tcp 22 from 203.0.113.0-203.0.113.25 to 10.240.0.0/24"
