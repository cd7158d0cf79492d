"""What a security group finding does to traffic, once the subnets' ACLs apply too.

A rule finding of a workers' group (``kube-<clusterID>``) is judged on its own, as an ACL rule finding
is: the baseline's groups with only that one change, against the baseline's groups, at every subnet
of the VPC, each behind the ACL it has now; past ``impact.PER_FINDING_LIMIT`` findings on one group they
share the group's whole drift, computed once. What the change opens that the subnet's ACL lets through
is exposure; what it opens that the ACL still blocks is defence in depth reduced; what it takes away
of the IBM private ranges is breakage (``core.reach.verdict``). Groups that are not on the workers,
a group gone and its targets are not evaluated here: their impact stays unknown and their severity the
code's.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace

from netwarden.core import sg_rules
from netwarden.core.acl.evaluate import AclFlows, Exposure, examples
from netwarden.core.findings import Finding, Impact
from netwarden.core.flows.algebra import FlowSet, union_all
from netwarden.core.model import SecurityGroup, Subnet, Vpc
from netwarden.core.reach.explain import deciding_of
from netwarden.core.reach.sg_flows import layer, workers_groups
from netwarden.core.reach.verdict import needs, verdict

RULE_CODES = frozenset({"sg-rule-missing", "sg-rule-unexpected", "sg-rule-changed", "sg-allow-all"})
#: What the ACL that stands now lets through at a subnet of the live VPC (``AclFlows.effective``; None:
#: the snapshot knows no ACL for it).
AclAt = Callable[[Subnet], AclFlows | None]


def sg_impact(finding: Finding, base_vpc: Vpc | None, live_vpc: Vpc | None, acl_at: AclAt, *,
              whole: bool = False) -> Impact:
    """The finding's impact: its one change (``whole``: the group's whole drift, shared by its findings)."""
    name = finding.resource.security_group
    base = base_vpc.security_group(name) if base_vpc is not None and name else None
    if base is None or base_vpc is None or base not in workers_groups(base_vpc) or finding.code not in RULE_CODES:
        return Impact("unknown", summary="not a rule of a group on the cluster's workers: what it reaches is not "
                                         "evaluated")
    live = live_vpc.security_group(base.name) if live_vpc is not None else None
    changed = live if whole and live is not None else _one_change(finding, base, live)
    if changed is None:
        return Impact("unknown", summary="the rule is no longer there to evaluate")
    as_if = replace(base_vpc, security_groups=tuple(changed if g.name == base.name else g
                                                    for g in base_vpc.security_groups))
    opened: list[FlowSet] = []
    closed: list[FlowSet] = []
    held: list[FlowSet] = []
    group_after: list[FlowSet] = []
    before: list[FlowSet] = []
    after: list[FlowSet] = []
    breakage: list[str] = []
    for subnet in (live_vpc or base_vpc).subnets:
        acl, was, now = acl_at(subnet), layer(base_vpc, subnet.cidr), layer(as_if, subnet.cidr)
        if acl is None or was is None or now is None:
            continue
        ins, outs = now.inbound - was.inbound, now.outbound - was.outbound
        held += [ins - acl.inbound, outs - acl.outbound]
        group_after.append(now.inbound | now.outbound)
        opened += [ins & acl.inbound, outs & acl.outbound]
        closed += [(was.inbound - now.inbound) & acl.inbound, (was.outbound - now.outbound) & acl.outbound]
        before.append((was.inbound & acl.inbound) | (was.outbound & acl.outbound))
        after.append((now.inbound & acl.inbound) | (now.outbound & acl.outbound))
        lost = ((was.passes_in - now.passes_in) & acl.inbound) | ((was.passes_out - now.passes_out) & acl.outbound)
        for need, why in needs(subnet.cidr) if lost else ():
            if gone := need & lost:
                breakage.append(f"{why} at subnet {subnet.name} is no longer allowed: {examples(gone, 1)[0]}")
    exposure = Exposure(union_all(opened), union_all(closed), union_all(before), union_all(after))
    held_back, group_now = union_all(held), union_all(group_after)
    standing = replace(live_vpc or base_vpc, security_groups=as_if.security_groups)
    return verdict(exposure, held_back, tuple(dict.fromkeys(breakage)), changed="security group",
                   other="subnets' ACLs", layer_after=group_now,
                   decided=deciding_of(standing, exposure, held_back, group_now))


def _one_change(finding: Finding, base: SecurityGroup, live: SecurityGroup | None) -> SecurityGroup | None:
    """The baseline group with only the finding's change: its baseline rule gone, its live rule in."""
    old = sg_rules.named(base, finding.baseline)
    new = sg_rules.named(live, finding.live) if live is not None and finding.live else None
    if finding.live and new is None:
        return None
    rules = [r for r in base.rules if old is None or r != old] + ([new] if new is not None else [])
    return sg_rules.group(base.name, rules, base.targets, managed_by=base.managed_by, id=base.id)


