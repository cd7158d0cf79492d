"""core.plan.guards: the blast-radius guards over real plans (``core.plan.build`` of a baseline and a live
snapshot made with ``snapshot_factory``).

Each guard refuses the plan that breaches it and lets it run with ``allow_destructive``; a plan that
deletes no more than the share allowed passes; a namespace the baseline itself keeps a policy in, or
gives a new one, is not emptied; a rule deleted to be re-created under its name (a protocol change) is
not counted as deleted; the IBM private ranges count only on worker subnets when the clusters name them.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace

import pytest

import snapshot_factory as f
from netwarden.core.drift.diff import diff
from netwarden.core.model import NetworkAcl, Snapshot
from netwarden.core.plan import guards
from netwarden.core.plan.build import PlanOptions, build
from netwarden.core.plan.guards import HOW_TO_ALLOW, GuardOptions
from netwarden.core.plan.steps import Step

BASE = f.recipe()
LIVE = f.live_of(BASE)
Edit = Callable[[Snapshot], Snapshot]
PRIVATE = ("allow-ibm-private-1-in", "allow-ibm-private-1-out", "allow-ibm-private-2-in", "allow-ibm-private-2-out")
DENIES = ("deny-all-in", "deny-all-out")


def same(s: Snapshot) -> Snapshot:
    return s


def keep_rules(acl: str, *names: str) -> Edit:
    return lambda s: f.with_acl(s, acl, [r for r in f.rules_of(s, acl) if r.name in names])


def drop_rules(acl: str, *names: str) -> Edit:
    return lambda s: f.with_acl(s, acl, [r for r in f.rules_of(s, acl) if r.name not in names])


def keep_policies(*keys: str, add: tuple[str, ...] = ()) -> Edit:
    """Only the policies ``namespace/name`` of ``keys``, plus an allow-nothing policy for each of ``add``."""
    def edit(s: Snapshot) -> Snapshot:
        kept = [p for p in s.clusters[0].policies if p.key in keys]
        extra = [f.policy(key.split("/")[0], key.split("/")[1], {"podSelector": {}}) for key in add]
        return f.with_policies(s, [*kept, *extra])
    return edit


def extra_policies(n: int) -> Edit:
    return lambda s: f.with_policies(s, [*s.clusters[0].policies, *(
        f.policy("accounts", f"stray-{i}", {"podSelector": {}, "ingress": [{}]}) for i in range(n))])


def with_bare_acl(s: Snapshot) -> Snapshot:
    """An ACL that denies everything, the IBM private ranges too."""
    vpc = s.vpcs[0]
    bare = NetworkAcl("bare-acl", tuple(r for r in f.zone_acl(1).rules if r.name in DENIES))
    return replace(s, vpcs=(replace(vpc, acls=f.normalize.sorted_by_name([*vpc.acls, bare])),))


def workers(*subnets: str) -> Edit:
    return lambda s: replace(s, clusters=(replace(s.clusters[0], worker_subnets=subnets),))


def protocol_tcp(acl: str, *names: str) -> Edit:
    ports = {"destination_port": f.normalize.ALL_PORTS, "source_port": f.normalize.ALL_PORTS}
    return lambda s: f.with_acl(s, acl, [replace(r, protocol="tcp", **ports) if r.name in names else r
                                         for r in f.rules_of(s, acl)])


def chain(*edits: Edit) -> Edit:
    def run(s: Snapshot) -> Snapshot:
        for e in edits:
            s = e(s)
        return s
    return run


def plan(baseline: Snapshot, live: Snapshot) -> tuple[Step, ...]:
    return build(diff(baseline, live), baseline, live, PlanOptions()).steps


ALLOW_ALL_SHARES = GuardOptions(max_delete_percent=100)
ZONE1_ALLOWS = ("allow-zone2-in", "allow-zone2-out", "allow-zone3-in", "allow-zone3-out", "allow-org-https-in",
                "allow-org-https-out")
ATTACH_BARE = chain(with_bare_acl, lambda s: f.with_subnet(s, "subnet-zone1", network_acl="bare-acl"))
BARE_LIVE: Edit = lambda s: f.live_of(with_bare_acl(BASE))  # noqa: E731

#: (id, baseline edit, live edit (of live_of(baseline)), options, the guards breached)
CASES: list[tuple[str, Edit, Edit, GuardOptions, set[str]]] = [
    ("namespace-emptied", keep_policies("finance/finance-egress"), same, ALLOW_ALL_SHARES, {"namespace-emptied"}),
    ("namespace-emptied-and-most-policies", keep_policies("finance/finance-egress"), same, GuardOptions(),
     {"namespace-emptied", "delete-share"}),
    ("namespace-the-baseline-keeps-one-policy-in", keep_policies("accounts/allow-web", "finance/finance-egress"),
     same, GuardOptions(), set()),
    ("namespace-the-baseline-gives-a-new-policy", keep_policies("finance/finance-egress", add=("accounts/deny",)),
     same, ALLOW_ALL_SHARES, set()),
    ("acl-emptied", keep_rules("default-acl"), same, ALLOW_ALL_SHARES, {"acl-emptied"}),
    ("acl-emptied-all-rules-deleted", keep_rules("default-acl"), same, GuardOptions(),
     {"acl-emptied", "delete-share"}),
    ("private-range-rules-deleted", drop_rules("acl-zone1", *PRIVATE), same, GuardOptions(),
     {"private-ranges-removed"}),
    ("private-range-only-inbound-deleted", drop_rules("acl-zone1", "allow-ibm-private-2-in"), same, GuardOptions(),
     {"private-ranges-removed"}),
    ("worker-subnet-attached-to-an-acl-without-them", ATTACH_BARE, BARE_LIVE, GuardOptions(),
     {"private-ranges-removed"}),
    ("not-a-worker-subnet-of-the-cluster", drop_rules("acl-zone1", *PRIVATE), workers("id-subnet-zone2"),
     GuardOptions(), set()),
    ("a-worker-subnet-by-id", drop_rules("acl-zone1", *PRIVATE), workers("id-subnet-zone1"), GuardOptions(),
     {"private-ranges-removed"}),
    ("a-worker-subnet-by-name", drop_rules("acl-zone1", *PRIVATE), workers("subnet-zone1"), GuardOptions(),
     {"private-ranges-removed"}),
    ("private-ranges-already-denied-live", drop_rules("acl-zone1", *PRIVATE),
     drop_rules("acl-zone1", *PRIVATE, "allow-org-https-in"), GuardOptions(), set()),
    ("rules-deleted-over-the-share", keep_rules("acl-zone1", *PRIVATE, *DENIES), same, GuardOptions(),
     {"delete-share"}),
    ("rules-deleted-within-the-share", keep_rules("acl-zone1", *PRIVATE, *DENIES, "allow-ping-in"), same,
     GuardOptions(), set()),
    ("rules-share-from-the-config", keep_rules("acl-zone1", *PRIVATE, *DENIES, "allow-ping-in"), same,
     GuardOptions(max_delete_percent=40), {"delete-share"}),
    ("policies-deleted-over-the-share", same, extra_policies(4), GuardOptions(), {"delete-share"}),
    ("policies-deleted-within-the-share", same, extra_policies(3), GuardOptions(), set()),
    ("no-deletion-allowed-at-all", same, extra_policies(1), GuardOptions(max_delete_percent=0), {"delete-share"}),
    ("rules-replaced-not-deleted", same, protocol_tcp("acl-zone1", *PRIVATE, *ZONE1_ALLOWS[:4]), GuardOptions(),
     set()),
    ("nothing-deleted", same, drop_rules("acl-zone1", "allow-org-https-in"), GuardOptions(max_delete_percent=0),
     set()),
]


@pytest.mark.parametrize(("base_edit", "live_edit", "options", "breached"), [c[1:] for c in CASES],
                         ids=[c[0] for c in CASES])
def test_each_guard_refuses_what_breaches_it_and_allow_destructive_lets_it_run(
        base_edit: Edit, live_edit: Edit, options: GuardOptions, breached: set[str]) -> None:
    baseline = base_edit(BASE)
    live = live_edit(LIVE)
    steps = plan(baseline, live)
    assert steps, "every case plans something"
    found = guards.breaches(steps, live, options)
    assert {b.guard for b in found} == breached
    refusal = guards.refusal(steps, live, options)
    assert (refusal is not None) == bool(breached)
    if refusal is not None:
        assert refusal.startswith("the plan is destructive: it would ")
        assert refusal.endswith(f"nothing was changed ({HOW_TO_ALLOW})")
    assert guards.refusal(steps, live, replace(options, allow_destructive=True)) is None


@pytest.mark.parametrize(("base_edit", "live_edit", "resource", "words"), [
    (keep_policies("finance/finance-egress"), same, "k8s/prod-cluster/accounts",
     "delete every NetworkPolicy of namespace accounts in cluster prod-cluster (2 live) and leave the namespace open"),
    (keep_rules("default-acl"), same, "us-south/prod-vpc/default-acl",
     "leave network ACL default-acl in us-south/prod-vpc with no rules (2 live)"),
    (drop_rules("acl-zone1", "allow-ibm-private-2-in"), same, "us-south/prod-vpc/subnet-zone1",
     "worker subnet subnet-zone1 in us-south/prod-vpc on network ACL acl-zone1, which no longer allows the IBM "
     "private range traffic (inbound from 166.8.0.0/14)"),
    (ATTACH_BARE, BARE_LIVE, "us-south/prod-vpc/subnet-zone1",
     "on network ACL bare-acl (instead of acl-zone1)"),
    (keep_rules("acl-zone1", *PRIVATE, *DENIES), same, "us-south/prod-vpc/acl-zone1",
     "delete 7 of 13 (53%) of the rules of network ACL acl-zone1 in us-south/prod-vpc, more than max_delete_percent "
     "(50%)"),
    (same, extra_policies(4), "k8s/prod-cluster",
     "delete 4 of 7 (57%) of the NetworkPolicies of cluster prod-cluster, more than max_delete_percent (50%)"),
], ids=["namespace", "acl", "private-ranges", "private-ranges-by-attachment", "acl-rules-share", "policies-share"])
def test_a_breach_names_the_resource_and_what_the_plan_would_do(base_edit: Edit, live_edit: Edit, resource: str,
                                                                  words: str) -> None:
    baseline = base_edit(BASE)
    live = live_edit(LIVE)
    found = guards.breaches(plan(baseline, live), live)
    assert resource in [b.resource for b in found]
    message = next(b.message for b in found if b.resource == resource)
    assert words in message
    refusal = guards.refusal(plan(baseline, live), live)
    assert refusal is not None and message in refusal


def test_a_refusal_spells_out_three_breaches_and_counts_the_rest() -> None:
    baseline = chain(keep_rules("acl-zone1"), keep_rules("acl-zone2"), keep_rules("acl-zone3"))(BASE)
    live = LIVE
    found = guards.breaches(plan(baseline, live), live)
    assert len(found) == 9  # three ACLs: each emptied, most of it deleted, its worker subnet cut off
    refusal = guards.refusal(plan(baseline, live), live)
    assert refusal is not None
    assert refusal.count("it would ") == guards.SHOWN
    assert f"(and {len(found) - guards.SHOWN} more)" in refusal


def test_a_plan_without_steps_breaches_nothing() -> None:
    assert guards.breaches((), LIVE, GuardOptions(max_delete_percent=0)) == []
    assert guards.refusal((), LIVE) is None
