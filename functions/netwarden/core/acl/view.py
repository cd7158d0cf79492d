"""The subnet-level view of ACLs: which remote ranges reach a subnet, on what, and whether replies return.

``core.acl.evaluate`` answers "which flows does this ACL allow"; a network engineer asks it per subnet:
"from where can the zone-1 workers be reached, on which ports, and can they answer?". ACLs are
stateless, so a tcp connection that is let in is useless (and an alert of its own) when the subnet's
outbound rules drop the replies. Two subnets talk when the source subnet's ACL lets the flow out AND
the destination subnet's ACL lets it in; traffic inside one subnet never crosses its ACL.

Replies are checked for tcp and udp (the reply has source and destination, and their ports, swapped).
ICMP replies are other types (an echo reply answers an echo request), so icmp is not checked here.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from netwarden.core.acl.evaluate import AclFlows
from netwarden.core.flows.algebra import (
    ADDRESSES,
    TCP,
    UDP,
    FlowSet,
    Interval,
    Tree,
    boxes,
    class_ranges,
    connection_text,
    drop_last,
    interval_text,
    merge,
    permuted,
)

#: Dimension orders that put (local, remote) first: inbound flows are remote -> local.
_INBOUND_ORDER = (2, 1, 0, 3, 4)
_OUTBOUND_ORDER = (1, 2, 0, 3, 4)


@dataclass(frozen=True, slots=True)
class Conns:
    """A set of connections without addresses: (protocol, a, b) as in ``core.flows.algebra``."""

    tree: Tree = ()

    def __bool__(self) -> bool:
        return bool(self.tree)

    def boxes(self) -> Iterator[tuple[Interval, Interval, Interval]]:
        """Disjoint (protocols, a, b) boxes; a protocol range never mixes classes."""
        yield from _class_split(self.tree)

    def text(self) -> str:
        """``tcp 22; udp 53; icmp`` (one part per box)."""
        return "; ".join(connection_text(p, a, b) for p, a, b in _class_split(self.tree)) or "nothing"


@dataclass(frozen=True, slots=True)
class Reach:
    """``remote`` addresses reach (or are reached from) ``local`` addresses of the subnet on ``conns``."""

    local: Interval
    remote: Interval
    conns: Conns

    def text(self, direction: str) -> str:
        local, remote = interval_text(*self.local), interval_text(*self.remote)
        arrow = f"{remote} -> {local}" if direction == "inbound" else f"{local} -> {remote}"
        return f"{arrow}: {self.conns.text()}"


@dataclass(frozen=True, slots=True)
class SubnetView:
    """What reaches a subnet (``ingress``) and where it can go (``egress``), by remote range;
    ``unanswered``: the inbound tcp/udp connections whose replies the subnet's ACL drops, and
    ``unanswered_out`` the outbound ones whose replies it does not let back in."""

    cidr: str
    ingress: tuple[Reach, ...]
    egress: tuple[Reach, ...]
    unanswered: tuple[Reach, ...]
    unanswered_out: tuple[Reach, ...]

    def lines(self) -> list[str]:
        out = [f"subnet {self.cidr}", "ingress:"]
        out += [f"  {r.text('inbound')}" for r in self.ingress] or ["  nothing"]
        out.append("egress:")
        out += [f"  {r.text('outbound')}" for r in self.egress] or ["  nothing"]
        if self.unanswered:
            out.append("let in, but the replies are dropped:")
            out += [f"  {r.text('inbound')}" for r in self.unanswered]
        if self.unanswered_out:
            out.append("let out, but the replies are dropped:")
            out += [f"  {r.text('outbound')}" for r in self.unanswered_out]
        return out


def subnet_view(acl: AclFlows, cidr: str) -> SubnetView:
    """The view of one subnet ``cidr`` under the ACL whose flows are ``acl`` (``AclFlows.of(rules)``)."""
    flows = acl.for_subnet(cidr)
    return SubnetView(
        cidr=cidr,
        ingress=_reaches(flows.inbound, _INBOUND_ORDER),
        egress=_reaches(flows.outbound, _OUTBOUND_ORDER),
        unanswered=_reaches(unanswered(flows.inbound, flows.outbound), _INBOUND_ORDER),
        unanswered_out=_reaches(unanswered(flows.outbound, flows.inbound), _OUTBOUND_ORDER),
    )


def unanswered(requests: FlowSet, replies_allowed: FlowSet) -> FlowSet:
    """The tcp/udp flows of ``requests`` whose replies (endpoints and ports swapped) are not in
    ``replies_allowed``."""
    stateful = requests.restrict(protocols=(TCP, TCP)) | requests.restrict(protocols=(UDP, UDP))
    return stateful - replies_allowed.swap_endpoints()


def pair_flows(source_acl: AclFlows, source_cidr: str, destination_acl: AclFlows, destination_cidr: str) -> FlowSet:
    """The flows from subnet ``source_cidr`` to subnet ``destination_cidr``: let out by the source
    subnet's ACL and let in by the destination subnet's."""
    out = source_acl.for_subnet(source_cidr).outbound
    into = destination_acl.for_subnet(destination_cidr).inbound
    return out & into


def conns_between(flows: FlowSet, source: Interval | None = None, destination: Interval | None = None) -> Conns:
    """The connections of ``flows`` that EVERY address of ``source`` has to every address of
    ``destination`` (None: all addresses): what a subnet-level report prints for a pair."""
    window = FlowSet.everything().restrict(source=source or ADDRESSES, destination=destination or ADDRESSES)
    return Conns(merge(project(window), project(window - flows), "sub"))


def project(flows: FlowSet) -> Tree:
    """The (protocol, a, b) of the flows in the set, addresses forgotten."""
    return drop_last(drop_last(permuted(flows.tree, (0, 3, 4, 1, 2)), 5), 4)


def _reaches(flows: FlowSet, order: tuple[int, ...]) -> tuple[Reach, ...]:
    tree = permuted(flows.tree, order)
    out: list[Reach] = []
    for llo, lhi, by_remote in tree:
        for rlo, rhi, conns in by_remote:
            out.append(Reach((llo, lhi), (rlo, rhi), Conns(conns)))
    return tuple(out)


def _class_split(tree: Tree) -> Iterator[tuple[Interval, Interval, Interval]]:
    for (plo, phi), a, b in boxes(tree):
        for lo, hi in class_ranges(plo, phi):
            yield (lo, hi), a, b
