"""What a run read decides what it may resolve: table-driven over the coverages the runs declare (a
shard, an event's ACL, subnet or security group, the watcher's cluster), then through the lifecycle."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from netwarden.core import lifecycle
from netwarden.core.coverage import Coverage, covered
from netwarden.core.findings import ResourceRef, make

T0 = datetime(2026, 3, 1, 10, 0, tzinfo=UTC)

RULE_A = ResourceRef("network-acl", region="us-south", vpc="prod-vpc", acl="acl-a", rule="r1")
ACL_B = ResourceRef("network-acl", region="us-south", vpc="prod-vpc", acl="acl-b")
SUBNET = ResourceRef("subnet", region="us-south", vpc="prod-vpc", subnet="subnet-1")
GROUP = ResourceRef("security-group", region="us-south", vpc="prod-vpc", security_group="kube-c1", target="ni-1")
OTHER_VPC = ResourceRef("network-acl", region="us-south", vpc="dev-vpc", acl="acl-a")
EU = ResourceRef("subnet", region="eu-de", vpc="prod-vpc", subnet="subnet-1")
POLICY = ResourceRef("network-policy", cluster="prod", namespace="accounts", name="deny")
NAMESPACE = ResourceRef("namespace", cluster="prod", namespace="accounts", name="accounts")
WORKLOAD = ResourceRef("workload", cluster="prod", namespace="accounts", name="notifier")
OTHER_CLUSTER = ResourceRef("network-policy", cluster="dev", namespace="accounts", name="deny")
EVERYTHING = (RULE_A, ACL_B, SUBNET, GROUP, OTHER_VPC, EU, POLICY, NAMESPACE, WORKLOAD, OTHER_CLUSTER)

CASES = {
    "a full scan": (None, EVERYTHING),
    "nothing (a run that read nothing)": ((), ()),
    "a shard owning prod-vpc and cluster prod": (
        (Coverage("us-south/prod-vpc"), Coverage("eu-de/prod-vpc"), Coverage("k8s/prod")),
        (RULE_A, ACL_B, SUBNET, GROUP, EU, POLICY, NAMESPACE, WORKLOAD)),
    "a shard owning the region eu-de": ((Coverage("eu-de"),), (EU,)),
    "an event that re-read acl-a": (
        (Coverage("us-south/prod-vpc", frozenset({"network-acl"}), (("acl", "acl-a"),)),), (RULE_A,)),
    "an event that re-read subnet-1": (
        (Coverage("us-south/prod-vpc", frozenset({"subnet"}), (("subnet", "subnet-1"),)),), (SUBNET,)),
    "an event that re-read kube-c1": (
        (Coverage("us-south/prod-vpc", frozenset({"security-group"}), (("security_group", "kube-c1"),)),), (GROUP,)),
    "the watcher's re-read of cluster prod": (
        (Coverage("k8s/prod", frozenset({"network-policy", "namespace"})),), (POLICY, NAMESPACE)),
}


@pytest.mark.parametrize(("checked", "inside"), CASES.values(), ids=CASES.keys())
def test_a_run_covers_exactly_what_it_read(checked: tuple[Coverage, ...] | None,
                                           inside: tuple[ResourceRef, ...]) -> None:
    assert [r for r in EVERYTHING if covered(r, checked)] == list(inside)


@pytest.mark.parametrize(("checked", "inside"), CASES.values(), ids=CASES.keys())
def test_a_run_resolves_what_it_read_and_carries_the_rest(checked: tuple[Coverage, ...] | None,
                                                          inside: tuple[ResourceRef, ...]) -> None:
    findings = [make("acl-rule-missing" if r.kind == "network-acl" else "subnet-allow-all", r, r.path)
                for r in EVERYTHING]
    first = lifecycle.advance({}, findings, now=T0, channels=["slack"], remind_after=0)
    states = lifecycle.settle(first, {"slack": True}, T0)
    step = lifecycle.advance(states, [], now=T0, channels=["slack"], remind_after=0, checked=checked)
    resolved = {f.resource for f in findings if step.transitions[f.fingerprint] == "resolved"}
    carried = {f.resource for f in findings if step.transitions[f.fingerprint] == "unknown"}
    assert resolved == set(inside)
    assert carried == set(EVERYTHING) - set(inside)
    assert sorted(a.kind for a in step.outbox["slack"]) == ["resolved"] * len(inside)
    assert {a.finding.resource for a in step.outbox["slack"]} == set(inside)
