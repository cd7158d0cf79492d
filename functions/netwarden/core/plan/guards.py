"""Blast-radius guards: a plan that would gut what the perimeter holds is refused whole, unless allowed.

A plan answers findings one by one, and each step is right on its own; but a baseline that lost a
folder, or a live estate pointed at the wrong baseline, turns "put the baseline back" into "delete
everything". Like Argo CD, which does not prune or sync to an empty set of resources unless told to,
and Cloud Custodian's ``max-resources-percent``, these guards look at what the plan as a whole leaves
behind. The plan's steps are played, in order, over the live snapshot they were planned from; then a
plan breaches a guard when it would:

* ``namespace-emptied``: delete every NetworkPolicy of a namespace that has policies live (the plan
  creates none there), so the namespace is left open to all traffic;
* ``acl-emptied``: leave a network ACL that has rules live with no rule at all;
* ``private-ranges-removed``: leave a worker subnet whose ACL let all traffic from and to an IBM
  private range (``core.acl.private_ranges``) through with an ACL (its own, or the one it is attached
  to instead) that no longer does, cutting its workers off from the cluster master. Worker subnets are
  the ones the live clusters' nodes name; when no cluster names any, every subnet counts;
* ``delete-share``: delete more than ``max_delete_percent`` percent of the live resources of one kind:
  the NetworkPolicies of a cluster, the rules of an ACL, the rules of a security group. A rule deleted
  because the plan re-creates it under its name (a protocol cannot be patched) is replaced, not
  deleted; in a security group, whose rules have no names, every rule the plan creates there offsets
  one it deletes.

``allow_destructive`` (config ``remediation.allow_destructive``, or ``remediate --allow-destructive``)
lets such a plan run. Pure: ``app.remediate`` calls ``refusal`` where the other safeguards are.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from typing import Any

from netwarden.core.acl import private_ranges
from netwarden.core.model import AclRule, NetworkAcl, PortRange, Snapshot, Vpc
from netwarden.core.plan.sg_ops import CreateSgRule, DeleteSgRule
from netwarden.core.plan.steps import (
    AclTarget,
    ApplyPolicy,
    CreateRule,
    DeletePolicy,
    DeleteRule,
    MoveRule,
    ReplaceSubnetAcl,
    RuleRef,
    Step,
    UpdateRule,
)

GUARDS = ("namespace-emptied", "acl-emptied", "private-ranges-removed", "delete-share")
HOW_TO_ALLOW = "set remediation.allow_destructive: true, or pass --allow-destructive to netwarden remediate"
#: At most this many breaches are spelled out in a refusal; the rest are counted.
SHOWN = 3


@dataclass(frozen=True, slots=True)
class GuardOptions:
    """``allow_destructive``: run a plan that breaches a guard; ``max_delete_percent``: the largest share of
    one kind of live resource a plan may delete (0..100)."""

    allow_destructive: bool = False
    max_delete_percent: int = 50


@dataclass(frozen=True, slots=True)
class Breach:
    """One guard a plan breaches: which (``GUARDS``), where (a resource path), and what the plan would do."""

    guard: str
    resource: str
    message: str


def breaches(steps: Sequence[Step], live: Snapshot, options: GuardOptions = GuardOptions()) -> list[Breach]:
    """Every guard ``steps`` (a plan made from ``live``) breach, Kubernetes first, then each VPC."""
    out = _policies(steps, live, options.max_delete_percent)
    workers = frozenset(w for c in live.clusters for w in c.worker_subnets)
    for vpc in live.vpcs:
        out += _vpc(steps, vpc, options.max_delete_percent, workers)
        out += _groups(steps, vpc, options.max_delete_percent)
    return out


def refusal(steps: Sequence[Step], live: Snapshot, options: GuardOptions = GuardOptions()) -> str | None:
    """Why the plan is refused (the breaches, and how to allow them), or None when it may run."""
    if options.allow_destructive:
        return None
    found = breaches(steps, live, options)
    if not found:
        return None
    shown = "; ".join(b.message for b in found[:SHOWN])
    more = f" (and {len(found) - SHOWN} more)" if len(found) > SHOWN else ""
    return f"the plan is destructive: {shown}{more}: nothing was changed ({HOW_TO_ALLOW})"


def _share(deleted: int, total: int, limit: int) -> bool:
    return deleted > 0 and deleted * 100 > limit * total


def _percent(deleted: int, total: int) -> str:
    return f"{deleted} of {total} ({deleted * 100 // total}%)"


# --- NetworkPolicies ---------------------------------------------------------------------------------


def _policies(steps: Sequence[Step], live: Snapshot, limit: int) -> list[Breach]:
    out: list[Breach] = []
    for cluster in live.clusters:
        deleted = {(s.op.namespace, s.op.name) for s in steps
                   if isinstance(s.op, DeletePolicy) and s.op.cluster == cluster.name}
        created = {(s.op.policy.namespace, s.op.policy.name) for s in steps
                   if isinstance(s.op, ApplyPolicy) and s.op.cluster == cluster.name}
        have = {(p.namespace, p.name) for p in cluster.policies}
        gone = have & deleted
        after = (have - gone) | created
        for namespace in sorted({ns for ns, _ in have}):
            if any(ns == namespace for ns, _ in gone) and not any(ns == namespace for ns, _ in after):
                count = sum(1 for ns, _ in have if ns == namespace)
                out.append(Breach("namespace-emptied", f"k8s/{cluster.name}/{namespace}",
                                  f"it would delete every NetworkPolicy of namespace {namespace} in cluster "
                                  f"{cluster.name} ({count} live) and leave the namespace open"))
        if _share(len(gone), len(have), limit):
            out.append(Breach("delete-share", f"k8s/{cluster.name}",
                              f"it would delete {_percent(len(gone), len(have))} of the NetworkPolicies of cluster "
                              f"{cluster.name}, more than max_delete_percent ({limit}%)"))
    return out


# --- network ACLs ------------------------------------------------------------------------------------


@dataclass(slots=True)
class _Rule:
    """A rule of the simulated list: ``id`` None for one the plan creates."""

    id: str | None
    rule: AclRule


def _vpc(steps: Sequence[Step], vpc: Vpc, limit: int, workers: frozenset[str]) -> list[Breach]:
    out: list[Breach] = []
    after: dict[str, tuple[AclRule, ...]] = {}
    for acl in vpc.acls:
        mine = [s for s in steps if _on(s, vpc, acl.name)]
        rules = _play(acl, mine)
        after[acl.name] = tuple(r.rule for r in rules)
        where = f"{vpc.scope}/{acl.name}"
        if not mine:
            continue
        if acl.rules and not rules:
            out.append(Breach("acl-emptied", where, f"it would leave network ACL {acl.name} in {vpc.scope} with no "
                              f"rules ({len(acl.rules)} live)"))
        deleted = _deleted(acl, rules)
        if _share(deleted, len(acl.rules), limit):
            out.append(Breach("delete-share", where, f"it would delete {_percent(deleted, len(acl.rules))} of the "
                              f"rules of network ACL {acl.name} in {vpc.scope}, more than max_delete_percent "
                              f"({limit}%)"))
    out += _private_ranges(steps, vpc, after, workers)
    return out


def _groups(steps: Sequence[Step], vpc: Vpc, limit: int) -> list[Breach]:
    out: list[Breach] = []
    for group in vpc.security_groups:
        ops = [s.op for s in steps if isinstance(s.op, CreateSgRule | DeleteSgRule)
               and (s.op.ref.region, s.op.ref.vpc, s.op.ref.group) == (vpc.region, vpc.name, group.name)]
        deleted = sum(isinstance(op, DeleteSgRule) for op in ops) - sum(isinstance(op, CreateSgRule) for op in ops)
        if _share(deleted, len(group.rules), limit):
            out.append(Breach("delete-share", f"{vpc.scope}/{group.name}", f"it would delete "
                              f"{_percent(deleted, len(group.rules))} of the rules of security group {group.name} in "
                              f"{vpc.scope}, more than max_delete_percent ({limit}%)"))
    return out


def _on(step: Step, vpc: Vpc, acl: str) -> bool:
    target = getattr(step.op, "target", None)
    return isinstance(target, AclTarget) and (target.region, target.vpc, target.acl) == (vpc.region, vpc.name, acl)


def _deleted(acl: NetworkAcl, rules: Iterable[_Rule]) -> int:
    """Live rules gone after the plan that it does not re-create under their name."""
    kept = {r.id for r in rules if r.id is not None}
    created = {r.rule.name for r in rules if r.id is None}
    return sum(1 for r in acl.rules if r.id not in kept and r.name not in created)


def rules_after(acl: NetworkAcl, steps: Iterable[Step]) -> tuple[AclRule, ...]:
    """The rules of ``acl`` (live) once ``steps`` (all on this ACL, in plan order) have run."""
    return tuple(r.rule for r in _play(acl, steps))


def _play(acl: NetworkAcl, steps: Iterable[Step]) -> list[_Rule]:
    rules = [_Rule(r.id, r) for r in acl.rules]
    for step in steps:
        op = step.op
        if isinstance(op, CreateRule):
            rules.insert(_position(rules, op.before), _Rule(None, op.rule))
        elif isinstance(op, UpdateRule | MoveRule | DeleteRule):
            at = next((n for n, r in enumerate(rules) if r.id == op.rule_id), None)
            if at is None:
                continue
            if isinstance(op, UpdateRule):
                rules[at] = _Rule(op.rule_id, _patched(rules[at].rule, op.patch))
            elif isinstance(op, MoveRule):
                moving = rules.pop(at)
                rules.insert(_position(rules, op.before), moving)
            else:
                del rules[at]
    return rules


def _position(rules: list[_Rule], before: RuleRef | None) -> int:
    if before is None:
        return len(rules)
    if before.id is not None:
        found = next((n for n, r in enumerate(rules) if r.id == before.id), None)
    else:
        found = next((n for n, r in enumerate(rules) if r.id is None and r.rule.name == before.name), None)
    return len(rules) if found is None else found


def _patched(rule: AclRule, patch: Any) -> AclRule:
    """``rule`` with a rule patch (``acl_order.rule_patch``'s fields) applied."""
    changes: dict[str, Any] = {k: patch[k] for k in ("name", "action", "direction", "source", "destination")
                               if k in patch}
    for prefix in ("destination_port", "source_port"):
        if f"{prefix}_min" in patch or f"{prefix}_max" in patch:
            old = getattr(rule, prefix) or PortRange(1, 65535)
            changes[prefix] = PortRange(patch.get(f"{prefix}_min", old.min), patch.get(f"{prefix}_max", old.max))
    if "type" in patch:
        changes["icmp_type"] = patch["type"]
    if "code" in patch:
        changes["icmp_code"] = patch["code"]
    return replace(rule, **changes)


def _private_ranges(steps: Sequence[Step], vpc: Vpc, after: dict[str, tuple[AclRule, ...]],
                    workers: frozenset[str]) -> list[Breach]:
    attached = {s.op.subnet: s.op.acl for s in steps if isinstance(s.op, ReplaceSubnetAcl)
                and (s.op.region, s.op.vpc) == (vpc.region, vpc.name)}
    out: list[Breach] = []
    for subnet in vpc.subnets:
        if not _is_worker(subnet.name, subnet.id, workers) or subnet.network_acl is None:
            continue
        before_acl = vpc.acl(subnet.network_acl)
        after_name = attached.get(subnet.name, subnet.network_acl)
        if before_acl is None or after_name not in after:
            continue
        if after_name == subnet.network_acl and after[after_name] == before_acl.rules:
            continue
        lost = (private_ranges.allowed(before_acl.rules, subnet.cidr)
                - private_ranges.allowed(after[after_name], subnet.cidr))
        if lost:
            what = ", ".join(f"{d} {'from' if d == 'inbound' else 'to'} {cidr}" for d, cidr in sorted(lost))
            via = f"network ACL {after_name}" + (f" (instead of {subnet.network_acl})"
                                                 if after_name != subnet.network_acl else "")
            out.append(Breach("private-ranges-removed", f"{vpc.scope}/{subnet.name}",
                              f"it would leave worker subnet {subnet.name} in {vpc.scope} on {via}, which no longer "
                              f"allows the IBM private range traffic ({what}) its workers need"))
    return out


def _is_worker(name: str, subnet_id: str | None, workers: frozenset[str]) -> bool:
    """Whether the live clusters' nodes name the subnet (by name or id); every subnet when none is named."""
    return not workers or name in workers or (subnet_id is not None and subnet_id in workers)
