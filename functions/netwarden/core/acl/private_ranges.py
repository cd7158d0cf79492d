"""The IBM Cloud private ranges a worker subnet's ACL must let through, defined once.

Workers are created over 161.26.0.0/16 and reach the cluster master and the private service endpoints
over 166.8.0.0/14 (the recipe's step 5): an ACL that stops allowing either cuts the workers off. The
recipe lint (``core.lint``) holds a baseline to them, and remediation's blast-radius guard
(``core.plan.guards``) refuses a plan that takes them away from a worker subnet; both read the ranges
and the traffic they mean from here.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence

from netwarden.core.acl.evaluate import DIRECTIONS, all_traffic, allowed_flows
from netwarden.core.flows.algebra import FlowSet
from netwarden.core.model import AclRule

IBM_PRIVATE_RANGES = ("161.26.0.0/16", "166.8.0.0/14")


def traffic(direction: str, cidr: str, subnet: str | None = None) -> FlowSet:
    """All traffic (icmp, tcp and udp) of ``direction`` from ``cidr`` (inbound) or to it (outbound);
    with ``subnet``, only the traffic to or from that subnet's CIDR."""
    if direction == "inbound":
        return all_traffic(destination=subnet, source=cidr)
    return all_traffic(destination=cidr, source=subnet)


def allowed(rules: Sequence[AclRule], subnet: str | None = None) -> frozenset[tuple[str, str]]:
    """The (direction, range) pairs whose traffic the ordered ``rules`` allow in full (first match)."""
    flows = {direction: allowed_flows(rules, direction) for direction in DIRECTIONS}
    return frozenset(pair for pair in pairs() if traffic(*pair, subnet=subnet).issubset(flows[pair[0]]))


def pairs() -> Iterator[tuple[str, str]]:
    """Every (direction, range): inbound from each range, outbound to each."""
    for direction in DIRECTIONS:
        for cidr in IBM_PRIVATE_RANGES:
            yield direction, cidr
