"""What the workers' security groups let in and out of a worker subnet, as exact flow sets.

The security group layer of the reachability verdict (``core.reach``). A group is stateful and
allow-only: an inbound rule admits connections from its remote to its local side, and their replies
go back whatever the outbound rules say; an outbound rule the other way round. Two views follow:

* the connections the groups let be opened (``inbound``: from outside to the subnet; ``outbound``:
  by the workers), each named by its first packet. This is what a change can expose: a reply is part
  of the connection it answers, never an opening of its own;
* the packets the groups pass (``passes_in``, ``passes_out``): those connections and their replies.
  This is what a stateless ACL must let through for the connections to work, so what an ACL change
  can break.

All groups on a target apply together: the union.

Which groups: the ones IBM puts on a cluster's workers (``kube-<clusterID>``, ``core.sbd``). A VPC's
clusters are told apart by name only, so every workers' group of the VPC counts at every subnet: the
layer is taken to allow more, never less, than it does. A VPC without one (a pre-SbD cluster, or a
snapshot without groups) has no security group layer here: ``layer`` returns None and the ACL alone
decides. A remote group's members are not in the model (their targets' addresses are not read): they
are taken to be anywhere in the VPC's subnets (private space when no subnet has a CIDR).
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

from netwarden.core import sbd
from netwarden.core.acl.evaluate import protocol_numbers
from netwarden.core.flows.algebra import ADDRESSES, FlowSet, Interval, cidr_interval, union_all
from netwarden.core.model import SecurityGroup, SgRule, Vpc


@dataclass(frozen=True, slots=True)
class GroupFlows:
    """At one subnet: the connections the groups let be opened into it (``inbound``) and out of it
    (``outbound``), and the packets they pass each way, replies included (``passes_in``, ``passes_out``)."""

    inbound: FlowSet
    outbound: FlowSet
    passes_in: FlowSet
    passes_out: FlowSet


def workers_groups(vpc: Vpc) -> tuple[SecurityGroup, ...]:
    """The VPC's groups on cluster workers, by IBM's naming."""
    out = []
    for group in vpc.security_groups:
        owner = sbd.parse_group_name(group.name)
        if owner is not None and owner.kind is sbd.GroupKind.WORKERS:
            out.append(group)
    return tuple(out)


def layer(vpc: Vpc | None, cidr: str | None) -> GroupFlows | None:
    """What the workers' groups of ``vpc`` let through at the subnet ``cidr``; None when the VPC has no
    workers' group (or the subnet's CIDR is unknown): no security group layer to apply."""
    if vpc is None or cidr is None:
        return None
    groups = workers_groups(vpc)
    local = cidr_interval(cidr)
    if not groups or local is None:
        return None
    rules = tuple(rule for group in groups for rule in group.rules)
    return _at(rules, local, members(vpc))


def members(vpc: Vpc) -> tuple[Interval, ...]:
    """Where a remote group's members may be: the VPC's subnets (private space when none has a CIDR)."""
    found = tuple(sorted({iv for s in vpc.subnets if s.cidr and (iv := cidr_interval(s.cidr)) is not None}))
    return found or tuple(iv for block in sbd.PRIVATE_RANGES if (iv := cidr_interval(block)) is not None)


@functools.lru_cache(maxsize=4096)
def _at(rules: tuple[SgRule, ...], local: Interval, members: tuple[Interval, ...]) -> GroupFlows:
    """The layer of the whole address line, cut to one subnet: the line once per rule list, each cut once."""
    whole = _layer(rules, members)
    return GroupFlows(whole.inbound.restrict(destination=local), whole.outbound.restrict(source=local),
                      whole.passes_in.restrict(destination=local), whole.passes_out.restrict(source=local))


@functools.lru_cache(maxsize=256)
def _layer(rules: tuple[SgRule, ...], members: tuple[Interval, ...]) -> GroupFlows:
    """Once per rule list and member space: a VPC's subnets share it (each is a cut of it, ``_at``)."""
    return group_flows(rules, ADDRESSES, lambda _rule: members)


def group_flows(rules: Iterable[SgRule], local: Interval,
                members_of: Callable[[SgRule], Sequence[Interval]]) -> GroupFlows:
    """What the groups holding ``rules`` (all on one target: their union) let through at the addresses
    ``local``; ``members_of`` says where the members of a rule's remote group are."""
    admitted: dict[str, list[FlowSet]] = {"inbound": [], "outbound": []}
    for rule in rules:
        admitted[rule.direction].append(connections(rule, local, members_of(rule)))
    inbound, outbound = union_all(admitted["inbound"]), union_all(admitted["outbound"])
    return GroupFlows(inbound, outbound, inbound | outbound.swap_endpoints(), outbound | inbound.swap_endpoints())


def connections(rule: SgRule, local: Interval, members: Sequence[Interval]) -> FlowSet:
    """The connections ``rule`` admits at the addresses ``local``: from its remote for an inbound rule,
    to it for an outbound one (a remote group: ``members``)."""
    mine = _overlap(local, cidr_interval(rule.local) or ADDRESSES)
    if mine is None:
        return FlowSet()
    remotes: Sequence[Interval]
    if rule.remote_group is not None:
        remotes = members
    else:
        remote = cidr_interval(rule.remote or "0.0.0.0/0")
        remotes = [remote] if remote is not None else []
    ports = (rule.ports.min, rule.ports.max) if rule.ports is not None else None
    icmp = ((rule.icmp_type, rule.icmp_type) if rule.icmp_type is not None else None,
            (rule.icmp_code, rule.icmp_code) if rule.icmp_code is not None else None)
    parts = []
    for protocols in protocol_numbers(rule.protocol):
        for remote in remotes:
            source, destination = (remote, mine) if rule.direction == "inbound" else (mine, remote)
            if ports is not None:
                parts.append(FlowSet.box(protocols, source, destination, None, ports))
            else:
                parts.append(FlowSet.box(protocols, source, destination, *icmp))
    return union_all(parts)


def _overlap(a: Interval, b: Interval) -> Interval | None:
    lo, hi = max(a[0], b[0]), min(a[1], b[1])
    return (lo, hi) if lo <= hi else None
