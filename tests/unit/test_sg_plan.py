"""``core.plan.sg_plan`` table by table: each security group drift gets the steps that undo it, in the
phase that keeps every intermediate state no more open than before or after; the steps, run by the real
executor over the in-memory estate, give back the baseline; IBM-managed groups keep IBM's rules unless
the config lets the plan restore them; what cannot be planned says why."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest
from remediation_doubles import MemoryEstate, apply_all

from netwarden.core import sg_rules
from netwarden.core.drift.diff import diff
from netwarden.core.model import PortRange, SgRule, SgTarget, Snapshot, Subnet, Vpc
from netwarden.core.plan import guards
from netwarden.core.plan.build import PlanOptions, build
from netwarden.core.plan.sg_ops import CreateSgRule, patch_between
from netwarden.core.plan.steps import CLOSE, NARROW, OPEN

CLUSTER = "coekl4a107ovqfndhh60"
WORKERS, LBAAS = f"kube-{CLUSTER}", f"kube-lbaas-{CLUSTER}"


def rule(direction: str, protocol: str, remote: str | None = None, group: str | None = None,
         ports: tuple[int, int] | None = None, icmp: int | None = None, rid: str | None = None) -> SgRule:
    return sg_rules.sg_rule(direction=direction, protocol_=protocol, remote=remote, remote_group=group,
                            ports=PortRange(*ports) if ports else None, icmp_type=icmp, id=rid)


SSH = rule("inbound", "tcp", "207.42.8.0/24", ports=(22, 22))
EGRESS = rule("outbound", "icmp_tcp_udp", "10.0.0.0/8")
IAM = rule("outbound", "icmp_tcp_udp", "161.26.0.0/16")
SELF = rule("inbound", "icmp_tcp_udp", group=WORKERS)
ETH0, ALB = SgTarget("network_interface", "bastion-eth0", id="t-eth0"), SgTarget("load_balancer", "alb1", id="t-alb")


def estate(bastion: list[SgRule], workers: list[SgRule], *, bastion_targets: tuple[SgTarget, ...] = (ETH0,),
           default_targets: tuple[SgTarget, ...] = (ETH0,), with_bastion: bool = True) -> Snapshot:
    """A user group on a bastion, the VPC's default group (on the bastion too), the workers' group and
    the load balancers' group, as IBM names them."""
    out = [sg_rules.group(WORKERS, workers, managed_by="ibm", id="sg-workers"),
           sg_rules.group(LBAAS, [rule("outbound", "tcp", group=WORKERS, ports=(31380, 31380), rid="r-lb")], (ALB,),
                          managed_by="ibm", id="sg-lbaas"),
           sg_rules.group("default", [rule("outbound", "icmp_tcp_udp", "0.0.0.0/0", rid="r-default")],
                          default_targets, id="sg-default")]
    if with_bastion:
        out.append(sg_rules.group("bastion", bastion, bastion_targets, id="sg-bastion"))
    return Snapshot(vpcs=(Vpc("us-south", "vpc", id="vpc-1", subnets=(Subnet("s1", "acl", cidr="10.240.0.0/24"),),
                              security_groups=tuple(out)),))


def live_of(bastion: list[SgRule], workers: list[SgRule], **kwargs: Any) -> Snapshot:
    """The estate with ids on every rule, as a live read gives them."""
    return estate([replace(r, id=f"rb-{n}") for n, r in enumerate(bastion)],
                  [replace(r, id=f"rw-{n}") for n, r in enumerate(workers)], **kwargs)


BASELINE = estate([SSH, EGRESS], [SELF, IAM])
ALL_IN = rule("inbound", "icmp_tcp_udp", "0.0.0.0/0")
PORTS = rule("inbound", "tcp", "207.42.8.0/24", ports=(1, 1024))
MOVED = rule("inbound", "tcp", "207.42.8.0/24", ports=(2222, 2222))
STRAY = rule("inbound", "tcp", "1.2.3.0/24", ports=(80, 80))

#: (case, live bastion rules, live workers' rules, estate kwargs, ibm_managed_groups,
#:  steps as (kind, phase), codes left after the steps ran)
CASES: list[tuple[str, list[SgRule], list[SgRule], dict[str, Any], bool, list[tuple[str, int]], list[str]]] = [
    ("unexpected rule: deleted with the narrowing", [SSH, EGRESS, STRAY], [SELF, IAM], {}, False,
     [("delete-sg-rule", NARROW)], []),
    ("missing rule: created last", [SSH], [SELF, IAM], {}, False, [("create-sg-rule", OPEN)], []),
    ("rule widened: patched back with the narrowing", [PORTS, EGRESS], [SELF, IAM], {}, False,
     [("update-sg-rule", NARROW)], []),
    ("port moved: deleted, then created", [MOVED, EGRESS], [SELF, IAM], {}, False,
     [("delete-sg-rule", NARROW), ("create-sg-rule", OPEN)], []),
    ("protocol changed: deleted, then created", [SSH, rule("outbound", "tcp", "10.0.0.0/8")], [SELF, IAM], {}, False,
     [("delete-sg-rule", NARROW), ("create-sg-rule", OPEN)], []),
    ("all in on the workers: closed first", [SSH, EGRESS], [SELF, IAM, ALL_IN], {}, False,
     [("delete-sg-rule", CLOSE)], []),
    ("IBM's rule made all in: closed, and IBM's rule left to IBM", [SSH, EGRESS],
     [rule("inbound", "icmp_tcp_udp", "0.0.0.0/0"), IAM], {}, False, [("delete-sg-rule", CLOSE)], ["sg-rule-missing"]),
    ("... and restored when the config allows", [SSH, EGRESS], [ALL_IN, IAM], {}, True,
     [("delete-sg-rule", CLOSE), ("create-sg-rule", OPEN)], []),
    ("IBM's rule gone: left to IBM", [SSH, EGRESS], [SELF], {}, False, [], ["sg-rule-missing"]),
    ("... and created when the config allows", [SSH, EGRESS], [SELF], {}, True, [("create-sg-rule", OPEN)], []),
    ("bound to another target: unbound with the narrowing", [SSH, EGRESS], [SELF, IAM],
     {"bastion_targets": (ETH0, ALB)}, False, [("unbind-sg-target", NARROW)], []),
    ("unbound: bound again last", [SSH, EGRESS], [SELF, IAM], {"bastion_targets": ()}, False,
     [("bind-sg-target", OPEN)], []),
    ("group gone: created, then its rules and targets", [], [SELF, IAM], {"with_bastion": False}, False,
     [("create-security-group", OPEN), ("create-sg-rule", OPEN), ("create-sg-rule", OPEN), ("bind-sg-target", OPEN)],
     []),
]


@pytest.mark.parametrize(("bastion", "workers", "kwargs", "ibm_managed", "steps", "left"), [c[1:] for c in CASES],
                         ids=[c[0] for c in CASES])
def test_each_drift_gets_its_steps_and_they_give_back_the_baseline(
        bastion: list[SgRule], workers: list[SgRule], kwargs: dict[str, Any], ibm_managed: bool,
        steps: list[tuple[str, int]], left: list[str]) -> None:
    live = live_of(bastion, workers, **kwargs)
    findings = diff(BASELINE, live)
    assert findings, "the case is a drift"
    plan = build(findings, BASELINE, live, PlanOptions(ibm_managed_groups=ibm_managed))
    assert [(s.to_dict()["kind"], s.phase) for s in plan.steps] == steps
    after = list(apply_all(MemoryEstate(live), plan.steps))[-1] if plan.steps else live
    assert [f.code for f in diff(BASELINE, after)] == left
    again = build(diff(BASELINE, after), BASELINE, after, PlanOptions(ibm_managed_groups=ibm_managed))
    assert again.steps == (), "a second plan has nothing to do"


def test_a_narrowed_rule_is_widened_back_with_the_additions() -> None:
    base = estate([rule("inbound", "tcp", "207.42.8.0/24", ports=(22, 80)), EGRESS], [SELF, IAM])
    live = live_of([SSH, EGRESS], [SELF, IAM])
    plan = build(diff(base, live), base, live)
    [step] = plan.steps
    assert (step.to_dict()["kind"], step.phase, step.call.method, step.call.body) == (
        "update-sg-rule", OPEN, "PATCH", {"port_min": 22, "port_max": 80})
    assert diff(base, list(apply_all(MemoryEstate(live), plan.steps))[-1]) == []


def test_ibm_rules_are_left_to_ibm_with_the_command_that_restores_them() -> None:
    live = live_of([SSH, EGRESS], [SELF])
    plan = build(diff(BASELINE, live), BASELINE, live)
    assert plan.steps == ()
    [skipped] = plan.skipped
    assert skipped.finding.code == "sg-rule-missing"
    assert skipped.reason.startswith(f"security group {WORKERS} is managed by IBM")
    assert f"ibmcloud ks security-group sync --cluster {CLUSTER}" in skipped.reason
    assert "remediation.ibm_managed_groups: true" in skipped.reason


def test_a_recreated_group_names_itself_in_its_rules_before_it_has_an_id() -> None:
    base = estate([SSH, rule("inbound", "icmp_tcp_udp", group="bastion")], [SELF, IAM])
    live = live_of([], [SELF, IAM], with_bastion=False)
    plan = build(diff(base, live), base, live)
    placeholder = "<id of security group bastion, created above>"
    own = next(s for s in plan.steps if isinstance(s.op, CreateSgRule) and s.op.rule.remote_group == "bastion")
    assert own.call.path == f"/v1/security_groups/{placeholder}/rules"
    assert own.call.body is not None and own.call.body["remote"] == {"id": placeholder}
    assert diff(base, list(apply_all(MemoryEstate(live), plan.steps))[-1]) == []


def test_a_target_bound_to_no_group_cannot_be_bound_again_and_says_why() -> None:
    live = live_of([SSH, EGRESS], [SELF, IAM], bastion_targets=(), default_targets=())
    plan = build(diff(BASELINE, live), BASELINE, live)
    assert plan.steps == ()
    assert sorted((s.finding.resource.security_group, s.reason) for s in plan.skipped) == [
        (group, "no security group in us-south/vpc is bound to network interface bastion-eth0, so its id is not "
                f"known: bind {group} to it by hand") for group in ("bastion", "default")]


def test_a_rule_whose_remote_group_is_gone_is_not_created() -> None:
    base = estate([SSH, rule("outbound", "tcp", group="gone", ports=(443, 443))], [SELF, IAM])
    base = replace(base, vpcs=(replace(base.vpcs[0], security_groups=(*base.vpcs[0].security_groups,
                                                                       sg_rules.group("gone", [], managed_by="ibm"))),))
    live = live_of([SSH], [SELF, IAM])
    plan = build([f for f in diff(base, live) if f.code == "sg-rule-missing"], base, live)
    assert [s.reason for s in plan.skipped] == [
        "rule outbound tcp 443 to group gone names security group gone, which does not exist in us-south/vpc"]


PATCHES: list[tuple[str, SgRule, SgRule, dict[str, object] | None]] = [
    ("ports", SSH, replace(SSH, ports=PortRange(22, 80)), {"port_min": 22, "port_max": 80}),
    ("local", SSH, replace(SSH, local="10.240.0.0/24"), {"local": {"cidr_block": "10.240.0.0/24"}}),
    ("protocol", SSH, replace(SSH, protocol="udp"), None),
    ("remote", SSH, replace(SSH, remote="10.0.0.0/8"), None),
    ("icmp type", rule("inbound", "icmp", "0.0.0.0/0", icmp=8), rule("inbound", "icmp", "0.0.0.0/0", icmp=0), None),
    ("the same", SSH, SSH, None),
]


@pytest.mark.parametrize(("old", "new", "patch"), [p[1:] for p in PATCHES], ids=[p[0] for p in PATCHES])
def test_patch_between(old: SgRule, new: SgRule, patch: dict[str, object] | None) -> None:
    assert patch_between(old, new) == patch


@pytest.mark.parametrize(("stray", "breach"), [
    (1, None), (2, None),
    (3, "it would delete 3 of 5 (60%) of the rules of security group bastion in us-south/vpc, more than "
        "max_delete_percent (50%)"),
], ids=["1 of 3", "2 of 4", "3 of 5"])
def test_a_plan_that_deletes_most_of_a_groups_rules_breaches_the_delete_share(stray: int, breach: str | None) -> None:
    extra = [rule("inbound", "tcp", "1.2.3.0/24", ports=(port, port)) for port in range(80, 80 + stray)]
    live = live_of([SSH, EGRESS, *extra], [SELF, IAM])
    plan = build(diff(BASELINE, live), BASELINE, live)
    assert [s.to_dict()["kind"] for s in plan.steps] == ["delete-sg-rule"] * stray
    assert [b.message for b in guards.breaches(plan.steps, live)] == ([breach] if breach else [])
    assert guards.refusal(plan.steps, live, guards.GuardOptions(allow_destructive=True)) is None


def test_rules_created_in_a_group_offset_the_ones_deleted() -> None:
    live = live_of([MOVED, rule("outbound", "tcp", "10.0.0.0/8")], [SELF, IAM])
    plan = build(diff(BASELINE, live), BASELINE, live)
    assert [s.to_dict()["kind"] for s in plan.steps].count("delete-sg-rule") == 2
    assert guards.breaches(plan.steps, live) == []


def test_a_recreated_group_whose_rules_name_a_gone_group_is_not_created() -> None:
    base = estate([SSH, rule("outbound", "tcp", group="gone", ports=(443, 443))], [SELF, IAM])
    base = replace(base, vpcs=(replace(base.vpcs[0], security_groups=(*base.vpcs[0].security_groups,
                                                                       sg_rules.group("gone", [], managed_by="ibm"))),))
    live = live_of([], [SELF, IAM], with_bastion=False)
    plan = build([f for f in diff(base, live) if f.resource.security_group == "bastion"], base, live)
    assert plan.steps == ()
    assert [s.reason for s in plan.skipped] == [
        "its rules name security group gone, which does not exist in us-south/vpc: create that one first"]


def test_a_recreated_group_names_the_targets_it_cannot_bind() -> None:
    live = live_of([], [SELF, IAM], with_bastion=False, default_targets=())
    plan = build(diff(BASELINE, live), BASELINE, live)
    bastion = [s for s in plan.steps if s.scope == "us-south/vpc" and "bastion" in s.description]
    assert [s.to_dict()["kind"] for s in bastion] == ["create-security-group", "create-sg-rule", "create-sg-rule"]
    assert bastion[0].description.endswith("; bind it by hand to network interface bastion-eth0: no live group is "
                                           "bound there, so the id is not known")
