"""Security groups, baseline x live -> findings: one finding for one drift of a group of the baseline.

A group's rules are a set, so a rule is missing or unexpected by what it allows, never by position or
name. A missing and an unexpected rule of one group with the same direction and remote are one
``sg-rule-changed`` (its ports, protocol, ICMP type or local side moved), paired in canonical order.
Targets are compared by type and name. Only the groups of the baseline are compared: a live group
the baseline does not list is not drift (it may be another team's), as with ACLs.

``sg-allow-all`` replaces ``sg-rule-unexpected`` (or ``-changed``) for a rule that, on a group guarding
the workers (``kube-<clusterID>`` by IBM's naming, ``core.sbd``), lets all traffic in from 0.0.0.0/0,
or all traffic out to 0.0.0.0/0 where the baseline's group allowed no public egress (outbound traffic
protection on).

Rule changes IBM documents that it makes itself (``sbd.churn_reason``: load balancer node ports,
worker-pool subnets, one rule per cluster in the shared VPE group) are expected churn in a group the
baseline marks ``managed_by: ibm``: they are no finding, and ``ibm_churn`` counts them, so that a
report can say how many it set aside and why.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator, Mapping
from typing import Any

from netwarden.core import sbd, sg_rules
from netwarden.core.findings import Finding, ResourceRef, make
from netwarden.core.model import ANYWHERE, SecurityGroup, SgRule, Vpc

#: Protocols that, with all ports, are all traffic for a security group rule.
ALL_TRAFFIC = frozenset({"icmp_tcp_udp", "any"})


def diff_groups(base: Vpc, live: Vpc | None, *, churn: Counter[tuple[str, str]] | None = None,
                expected_churn: bool = True) -> Iterator[Finding]:
    """The findings of the baseline's groups of ``base`` against ``live`` (None: the VPC is gone). With
    ``expected_churn``, IBM's own documented changes to IBM-managed groups are left out and counted in
    ``churn`` by (group path, reason)."""
    if live is not None and not live.security_groups:
        return  # every VPC has its default group: none at all is a snapshot made without groups, not none
    live_groups = {g.name: g for g in live.security_groups} if live is not None else {}
    subnets = frozenset(s.cidr for s in (live or base).subnets if s.cidr)
    absent = "" if live is not None else f" (VPC {base.name} does not exist in {base.region})"
    for group in base.security_groups:
        ref = ResourceRef("security-group", region=base.region, vpc=base.name, security_group=group.name)
        found = live_groups.get(group.name)
        if found is None:
            yield make("sg-missing", ref, f"security group {group.name} does not exist{absent}",
                       baseline={"rules": len(group.rules),
                                 "targets": [sg_rules.target_text(t) for t in group.targets]})
            continue
        yield from _rules(ref, group, found, subnets, churn if churn is not None else Counter(),
                          expected_churn=expected_churn)
        yield from _targets(ref, group, found)


def _rules(ref: ResourceRef, base: SecurityGroup, live: SecurityGroup, subnets: frozenset[str],
           churn: Counter[tuple[str, str]], *, expected_churn: bool) -> Iterator[Finding]:
    live_set, base_set = set(live.rules), set(base.rules)
    missing = [r for r in base.rules if r not in live_set]
    unexpected = [r for r in live.rules if r not in base_set]
    if expected_churn and base.ibm_managed:
        missing = _drop_churn(ref, missing, sbd.Change.REMOVED, subnets, churn)
        unexpected = _drop_churn(ref, unexpected, sbd.Change.ADDED, subnets, churn)
    pairs, missing, unexpected = _pair(missing, unexpected)
    on_workers = _guards_workers(base.name)
    protected = not any(sbd.opens_public_egress(live_rule(r)) for r in base.rules)
    for rule in missing:
        yield make("sg-rule-missing", _at(ref, rule), f"security group {base.name}: rule {sg_rules.text(rule)} is gone",
                   baseline={"rule": sg_rules.to_data(rule)})
    for old, new in pairs:
        if on_workers and _allows_all(new, protected):
            yield _allow_all(ref, base.name, new, old)
            continue
        yield make("sg-rule-changed", _at(ref, old),
                   f"security group {base.name}: rule {sg_rules.text(old)} is now {sg_rules.text(new)}",
                   baseline={"rule": sg_rules.to_data(old)}, live={"rule": sg_rules.to_data(new, with_id=True)})
    for rule in unexpected:
        if on_workers and _allows_all(rule, protected):
            yield _allow_all(ref, base.name, rule, None)
            continue
        yield make("sg-rule-unexpected", _at(ref, rule),
                   f"security group {base.name}: rule {sg_rules.text(rule)} is not in the baseline",
                   live={"rule": sg_rules.to_data(rule, with_id=True)})


def _targets(ref: ResourceRef, base: SecurityGroup, live: SecurityGroup) -> Iterator[Finding]:
    base_keys = {(t.type, t.name) for t in base.targets}
    live_keys = {(t.type, t.name) for t in live.targets}
    for t in base.targets:
        if (t.type, t.name) not in live_keys:
            text = sg_rules.target_text(t)
            yield make("sg-target-removed", _target_ref(ref, text),
                       f"security group {base.name} is no longer bound to {text}",
                       baseline={"target": {"type": t.type, "name": t.name}})
    for t in live.targets:
        if (t.type, t.name) not in base_keys:
            text = sg_rules.target_text(t)
            yield make("sg-target-added", _target_ref(ref, text),
                       f"security group {base.name} is bound to {text}, which the baseline does not name",
                       live={"target": {"type": t.type, "name": t.name, "id": t.id}})


def _drop_churn(ref: ResourceRef, rules: list[SgRule], change: sbd.Change, subnets: frozenset[str],
                churn: Counter[tuple[str, str]]) -> list[SgRule]:
    kept = []
    for rule in rules:
        reason = sbd.churn_reason(ref.security_group or "", live_rule(rule), change, subnets)
        if reason is None:
            kept.append(rule)
        else:
            churn[(ref.path, reason)] += 1
    return kept


def _pair(missing: list[SgRule], unexpected: list[SgRule]) -> tuple[list[tuple[SgRule, SgRule]], list[SgRule],
                                                                    list[SgRule]]:
    """Missing and unexpected rules with the same direction and remote, paired in order; the rest."""
    waiting: dict[tuple[Any, ...], list[SgRule]] = {}
    for rule in unexpected:
        waiting.setdefault(_peer(rule), []).append(rule)
    pairs, alone = [], []
    for rule in missing:
        candidates = waiting.get(_peer(rule))
        if candidates:
            pairs.append((rule, candidates.pop(0)))
        else:
            alone.append(rule)
    paired = {id(new) for _, new in pairs}
    return pairs, alone, [r for r in unexpected if id(r) not in paired]


def _peer(rule: SgRule) -> tuple[Any, ...]:
    return (rule.direction, rule.remote, rule.remote_group)


def _guards_workers(name: str) -> bool:
    owner = sbd.parse_group_name(name)
    return owner is not None and owner.kind is sbd.GroupKind.WORKERS


def _allows_all(rule: SgRule, protected: bool) -> bool:
    if rule.protocol not in ALL_TRAFFIC or rule.remote != ANYWHERE or rule.local != ANYWHERE:
        return False
    return rule.direction == "inbound" or protected


def _allow_all(ref: ResourceRef, group: str, rule: SgRule, old: SgRule | None) -> Finding:
    side = "in from" if rule.direction == "inbound" else "out to"
    return make("sg-allow-all", _at(ref, rule),
                f"security group {group} on the cluster's workers lets all traffic {side} 0.0.0.0/0 "
                f"(rule {sg_rules.text(rule)})" + (f"; the baseline's rule was {sg_rules.text(old)}" if old else ""),
                baseline={"rule": sg_rules.to_data(old)} if old is not None else None,
                live={"rule": sg_rules.to_data(rule, with_id=True)})


def _at(ref: ResourceRef, rule: SgRule) -> ResourceRef:
    return ResourceRef(ref.kind, region=ref.region, vpc=ref.vpc, security_group=ref.security_group,
                       rule=sg_rules.text(rule))


def _target_ref(ref: ResourceRef, target: str) -> ResourceRef:
    return ResourceRef(ref.kind, region=ref.region, vpc=ref.vpc, security_group=ref.security_group, target=target)


def live_rule(rule: SgRule) -> sbd.LiveRule:
    """The part of a rule ``core.sbd`` reads."""
    ports: Mapping[str, int | None] = ({"port_min": rule.ports.min, "port_max": rule.ports.max}
                                       if rule.ports is not None else {})
    return sbd.LiveRule(direction=rule.direction, protocol=rule.protocol, remote_cidr=rule.remote,
                        remote_group=rule.remote_group, **ports)
