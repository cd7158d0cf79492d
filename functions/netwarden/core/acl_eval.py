"""First-match evaluation of an IBM VPC network ACL into the exact set of flows it allows.

A raw diff says "rule 3 moved"; this module says what the move lets through. IBM evaluates an ACL per
direction: the rules of the packet's direction, in list order; the first rule whose protocol,
source, destination, ports (tcp/udp) and type/code (icmp) match decides; no match is deny. The
evaluation here does exactly that over whole sets (``core.flowset``), never over samples: the
flows still unmatched are carried from rule to rule, each rule takes its share of them.

Protocol vocabulary: ``icmp_tcp_udp`` (the API's ``all`` before 2025-12-09) is protocols 1, 6, 17;
``any`` is 0-255; ``gre``, ``esp``, ``ah``, ``ip_in_ip``, ``l2tp``, ``rsvp``, ``sctp``, ``vrrp`` and
``number_N`` are one protocol each. Ports are 1-65535 (a rule cannot name port 0); an icmp rule
without type/code matches every type and code (0-255).

"All traffic", for ``allows_all`` and so for the ``subnet-allow-all`` finding, means icmp, tcp and
udp on every port, type and code: what the VPC default ACL allows (its rules are ``icmp_tcp_udp``).
A live ACL that allows those from anywhere is "allow-all" whether or not it also allows gre or esp.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from netwarden.core.flowset import (
    ADDRESSES,
    ICMP,
    PROTOCOL_NUMBERS,
    TCP,
    UDP,
    FlowSet,
    Interval,
    cidr_interval,
)
from netwarden.core.model import ICMP_TCP_UDP, AclRule
from netwarden.core.normalize import NormalizeError

DIRECTIONS = ("inbound", "outbound")
#: icmp, tcp and udp: what the VPC default ACL allows, and what "all traffic" means here.
ICMP_TCP_UDP_SET = frozenset({ICMP, TCP, UDP})


def protocol_numbers(protocol: str) -> list[Interval]:
    """The IP protocol numbers a rule's ``protocol`` matches, as intervals."""
    if protocol in (ICMP_TCP_UDP, "all"):
        return [(ICMP, ICMP), (TCP, TCP), (UDP, UDP)]
    if protocol == "any":
        return [(0, 255)]
    if protocol in PROTOCOL_NUMBERS:
        n = PROTOCOL_NUMBERS[protocol]
        return [(n, n)]
    if protocol.startswith("number_") and protocol[7:].isdigit() and 0 <= int(protocol[7:]) <= 255:
        n = int(protocol[7:])
        return [(n, n)]
    raise NormalizeError("protocol", f"unknown ACL rule protocol {protocol!r}")


def rule_flows(rule: AclRule) -> FlowSet:
    """Every flow the rule matches (regardless of its action); empty for an IPv6 rule."""
    source, destination = cidr_interval(rule.source), cidr_interval(rule.destination)
    if source is None or destination is None:
        return FlowSet()
    a: Interval | None = None
    b: Interval | None = None
    if rule.protocol in ("tcp", "udp"):
        if rule.source_port is not None:
            a = (rule.source_port.min, rule.source_port.max)
        if rule.destination_port is not None:
            b = (rule.destination_port.min, rule.destination_port.max)
    elif rule.protocol == "icmp":
        if rule.icmp_type is not None:
            a = (rule.icmp_type, rule.icmp_type)
        if rule.icmp_code is not None:
            b = (rule.icmp_code, rule.icmp_code)
    parts = FlowSet()
    for protocols in protocol_numbers(rule.protocol):
        parts = parts | FlowSet.box(protocols, source, destination, a, b)
    return parts


@dataclass(frozen=True, slots=True)
class Evaluation:
    """What one direction of an ACL does: ``allowed`` flows, and for each rule (by index in the
    original list) the flows it actually decides (empty when earlier rules shadow it entirely)."""

    direction: str
    allowed: FlowSet
    decided: tuple[tuple[int, FlowSet], ...]


def evaluate(rules: Sequence[AclRule], direction: str) -> Evaluation:
    """First-match evaluation of the rules of ``direction`` (the others are ignored); no match = deny."""
    if direction not in DIRECTIONS:
        raise ValueError(f"direction must be inbound or outbound, not {direction!r}")
    remaining = FlowSet.everything()
    allowed = FlowSet()
    decided: list[tuple[int, FlowSet]] = []
    for index, rule in enumerate(rules):
        if rule.direction != direction:
            continue
        if not remaining:
            decided.append((index, FlowSet()))
            continue
        matched = rule_flows(rule)
        taken = remaining & matched
        decided.append((index, taken))
        if taken:
            if rule.action == "allow":
                allowed = allowed | taken
            remaining = remaining - matched
    return Evaluation(direction, allowed, tuple(decided))


def allowed_flows(rules: Sequence[AclRule], direction: str) -> FlowSet:
    """The exact set of flows of ``direction`` the ordered rules allow."""
    return evaluate(rules, direction).allowed


def all_traffic(destination: str | None = None, source: str | None = None) -> FlowSet:
    """icmp, tcp and udp, every port/type/code, from ``source`` to ``destination`` (None: 0.0.0.0/0)."""
    dst = cidr_interval(destination) if destination else ADDRESSES
    src = cidr_interval(source) if source else ADDRESSES
    if dst is None or src is None:
        return FlowSet()
    out = FlowSet()
    for n in sorted(ICMP_TCP_UDP_SET):
        out = out | FlowSet.box((n, n), src, dst)
    return out


def allows_all(rules: Sequence[AclRule], direction: str, destination: str | None = None) -> bool:
    """Whether the ordered rules allow all traffic (icmp, tcp and udp on every port, type and code;
    see the module docstring) of ``direction`` from 0.0.0.0/0 to ``destination`` (None: 0.0.0.0/0)."""
    return all_traffic(destination).issubset(allowed_flows(rules, direction))


def shadowed(rules: Sequence[AclRule]) -> list[tuple[int, int | None]]:
    """Rules that can never match because earlier rules of the same direction cover all they match:
    ``(index, covering)`` where ``covering`` is the index of one earlier rule that covers it alone,
    or None when it takes several. An IPv6 (or otherwise empty) rule is not reported."""
    out: list[tuple[int, int | None]] = []
    for direction in DIRECTIONS:
        earlier: list[tuple[int, FlowSet]] = []
        covered = FlowSet()
        for index, rule in enumerate(rules):
            if rule.direction != direction:
                continue
            flows = rule_flows(rule)
            if flows and flows.issubset(covered):
                single = next((i for i, f in earlier if flows.issubset(f)), None)
                out.append((index, single))
            earlier.append((index, flows))
            covered = covered | flows
    return sorted(out)
