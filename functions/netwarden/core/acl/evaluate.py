"""First-match evaluation of an IBM VPC network ACL into the exact set of flows it allows.

A raw diff says "rule 3 moved"; this module says what the move lets through. IBM evaluates an ACL per
direction: the rules of the packet's direction, in list order; the first rule whose protocol,
source, destination, ports (tcp/udp) and type/code (icmp) match decides; no match is deny. The
evaluation here does exactly that over whole sets (``core.flows.algebra``), never over samples: the
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

import functools
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from itertools import islice

from netwarden.core.flows.algebra import (
    ADDRESSES,
    ICMP,
    PROTOCOL_NUMBERS,
    PROTOCOLS,
    TCP,
    UDP,
    Box,
    FlowSet,
    Interval,
    cidr_interval,
    field_domains,
    flow_text,
    union_all,
)
from netwarden.core.flows.shortcuts import covers, product
from netwarden.core.model import ICMP_TCP_UDP, AclRule
from netwarden.core.normalize import NormalizeError

DIRECTIONS = ("inbound", "outbound")
#: icmp, tcp and udp: what the VPC default ACL allows, and what "all traffic" means here.
ICMP_TCP_UDP_SET = frozenset({ICMP, TCP, UDP})
#: What a reader's refusal of a protocol lists as accepted.
PROTOCOL_CHOICES = "icmp_tcp_udp, all, any, icmp, tcp, udp, ah, esp, gre, ip_in_ip, l2tp, rsvp, sctp, vrrp or number_N"


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
    """The exact set of flows of ``direction`` the ordered rules allow.

    The same set as ``evaluate(...).allowed`` at a third of the cost: walked from the last rule to the
    first, each rule simply overrides what the later ones decided (adds its flows, or takes them
    away), so the first matching rule has the last word, and no "still unmatched" set is kept. Sets
    are canonical, so the result is identical. A rule that cannot be read falls back to ``evaluate``,
    which raises only when first-match ever reaches it."""
    if direction not in DIRECTIONS:
        raise ValueError(f"direction must be inbound or outbound, not {direction!r}")
    allowed = FlowSet()
    try:
        for rule in reversed(rules):
            if rule.direction == direction:
                allowed = allowed | rule_flows(rule) if rule.action == "allow" else allowed - rule_flows(rule)
    except ValueError:  # NormalizeError, or an address ipaddress cannot parse
        return evaluate(rules, direction).allowed
    return allowed


@functools.lru_cache(maxsize=65536)
def all_traffic(destination: str | None = None, source: str | None = None) -> FlowSet:
    """icmp, tcp and udp, every port/type/code, from ``source`` to ``destination`` (None: 0.0.0.0/0).
    Cached (the set is immutable): the impact analysis asks for the same subnet pairs again and again."""
    dst = cidr_interval(destination) if destination else ADDRESSES
    src = cidr_interval(source) if source else ADDRESSES
    if dst is None or src is None:
        return FlowSet()
    out = FlowSet()
    for n in sorted(ICMP_TCP_UDP_SET):
        out = out | FlowSet.box((n, n), src, dst)
    return out


def all_traffic_among(sources: Sequence[str], destinations: Sequence[str]) -> FlowSet:
    """icmp, tcp and udp, every port/type/code, from any of ``sources`` to any of ``destinations``
    (CIDRs; IPv6 ones allow nothing): the union of ``all_traffic`` over every pair, built at once."""
    src = [iv for c in sources if (iv := cidr_interval(c)) is not None]
    dst = [iv for c in destinations if (iv := cidr_interval(c)) is not None]
    if not src or not dst:
        return FlowSet()
    parts = []
    for n in sorted(ICMP_TCP_UDP_SET):
        a, b = field_domains(n)
        parts.append(FlowSet(product([[(n, n)], src, dst, [a], [b]])))
    return union_all(parts)


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


# --- per ACL, per subnet, and the exposure diff ---------------------------------------------------


@dataclass(frozen=True, slots=True)
class AclFlows:
    """What an ACL allows, both directions. Compute it once per ACL and reuse it for every subnet."""

    inbound: FlowSet
    outbound: FlowSet

    @staticmethod
    def of(rules: Sequence[AclRule]) -> AclFlows:
        return AclFlows(allowed_flows(rules, "inbound"), allowed_flows(rules, "outbound"))

    def for_subnet(self, cidr: str | None) -> AclFlows:
        """The flows the ACL lets into (inbound) or out of (outbound) the subnet ``cidr``, as its rules
        say (None: the ACL as a whole)."""
        if cidr is None:
            return self
        local = cidr_interval(cidr)
        if local is None:
            return AclFlows(FlowSet(), FlowSet())
        return AclFlows(self.inbound.restrict(destination=local), self.outbound.restrict(source=local))

    def effective(self, cidr: str | None) -> AclFlows:
        """What really passes at the subnet ``cidr``: ``for_subnet``, plus the traffic between two
        addresses of the subnet, which never crosses its ACL whatever the rules say."""
        if cidr is None:
            return self
        local = cidr_interval(cidr)
        if local is None:
            return AclFlows(FlowSet(), FlowSet())
        inside = FlowSet.box(PROTOCOLS, local, local)
        own = self.for_subnet(cidr)
        return AclFlows(own.inbound | inside, own.outbound | inside)

    def all(self) -> FlowSet:
        return self.inbound | self.outbound


#: Ports whose exposure a reader wants to see first in examples.
SENSITIVE_PORTS = (22, 3389, 23, 445, 6443, 10250, 2379)
EXAMPLES = 5
#: How many boxes are ranked for examples at most (the ranking needs no more to find the worst),
#: and how many of the worst are widened for display.
RANKED = 5000
WIDENED = 50


@dataclass(frozen=True, slots=True)
class Exposure:
    """The exposure diff: flows the live side allows and the baseline does not (``opened``), and the
    reverse (``closed``). Widened when anything opened (even if more closed): an opening is what an
    attacker uses, a closing what an operator notices. ``before``/``after`` are the two allowed sets,
    kept so that examples can name the whole range now open ("from 0.0.0.0/0"), not only the slivers
    that were closed before."""

    opened: FlowSet
    closed: FlowSet
    before: FlowSet = field(default_factory=FlowSet)
    after: FlowSet = field(default_factory=FlowSet)

    @staticmethod
    def between(baseline: FlowSet, live: FlowSet) -> Exposure:
        return Exposure(live - baseline, baseline - live, baseline, live)

    @staticmethod
    def of_acls(baseline: AclFlows, live: AclFlows) -> Exposure:
        return Exposure((live.inbound - baseline.inbound) | (live.outbound - baseline.outbound),
                        (baseline.inbound - live.inbound) | (baseline.outbound - live.outbound),
                        baseline.all(), live.all())

    @property
    def state(self) -> str:
        if self.opened:
            return "widened"
        return "narrowed" if self.closed else "unchanged"

    def examples(self, limit: int = EXAMPLES) -> tuple[str, ...]:
        """Concrete flows opened (or, when nothing opened, closed), worst first."""
        if self.opened:
            return examples(self.opened, limit, within=self.after)
        return examples(self.closed, limit, within=self.before)

    def summary(self) -> str:
        return self.describe()[1]

    def describe(self, limit: int = EXAMPLES) -> tuple[tuple[str, ...], str]:
        """``examples(limit)`` and ``summary()`` together, ranking each side's flows once for both."""
        opened = _ranked_texts(self.opened, self.after) if self.opened else ()
        closed = _ranked_texts(self.closed, self.before) if self.closed else ()
        shown = _first(opened or closed, limit)
        if not self.opened and not self.closed:
            return shown, "the allowed traffic is the same"
        parts = []
        if self.opened:
            parts.append(f"opens {_count(len(opened))}")
        if self.closed:
            parts.append(f"closes {_count(len(closed))}" + (f" (e.g. {closed[0]})" if self.opened else ""))
        return shown, "; ".join(parts)


def examples(flows: FlowSet, limit: int = EXAMPLES, *, within: FlowSet | None = None) -> tuple[str, ...]:
    """Up to ``limit`` boxes of ``flows`` as text, worst first: widest source, sensitive ports, tcp.
    With ``within`` (a superset of ``flows``), a box's source, then its destination, is shown as the
    widest CIDR around it that ``within`` allows whole: "tcp 22 from 0.0.0.0/0", not the four ranges
    left between the ones allowed before."""
    return _first(_ranked_texts(flows, within), limit)


def _first(texts: tuple[str, ...], limit: int) -> tuple[str, ...]:
    """The first ``limit`` texts (all of them for a ``limit`` below 1, as the search never stops then)."""
    return texts[:limit] if limit > 0 else texts


def _ranked_texts(flows: FlowSet, within: FlowSet | None) -> tuple[str, ...]:
    """The distinct texts of the ``WIDENED`` worst boxes, worst first: every ``limit`` takes a prefix."""
    return tuple(dict.fromkeys(flow_text(box) for box in _worst(flows, within)))


def _worst(flows: FlowSet, within: FlowSet | None) -> list[Box]:
    ranked = sorted(islice(flows.boxes(), RANKED), key=_badness)[:WIDENED]
    return sorted((_widen(b, within) for b in ranked), key=_badness)


def worst(flows: FlowSet, within: FlowSet | None = None) -> Box | None:
    """The box ``examples(flows, within=within)`` names first (None: ``flows`` is empty)."""
    boxes = _worst(flows, within)
    return boxes[0] if boxes else None


def _widen(box: Box, within: FlowSet | None) -> Box:
    if within is None:
        return box
    protocols, source, destination, a, b = box
    source = _widest(source, lambda s: covers(within.tree, (protocols, s, destination, a, b)))
    destination = _widest(destination, lambda d: covers(within.tree, (protocols, source, d, a, b)))
    return (protocols, source, destination, a, b)


def _widest(span: Interval, fits: Callable[[Interval], bool]) -> Interval:
    """The widest CIDR containing ``span`` that ``fits`` (fitting is monotone: a CIDR inside one that
    fits fits too), by binary search on the prefix length; ``span`` itself when none does."""
    lo, hi = span
    smallest = 32 - (lo ^ hi).bit_length()

    def cidr(prefix: int) -> Interval:
        size = 1 << (32 - prefix)
        start = lo & ~(size - 1) & ADDRESSES[1]
        return (start, start + size - 1)

    if not fits(cidr(smallest)):
        return span
    low, high = 0, smallest
    while low < high:
        mid = (low + high) // 2
        if fits(cidr(mid)):
            high = mid
        else:
            low = mid + 1
    return cidr(low)


def _badness(box: Box) -> tuple[int, int, int, Box]:
    """Widest remote side first (the source of inbound flows, the destination of outbound ones:
    whichever is wider), then sensitive tcp ports, then tcp, udp, icmp, others."""
    protocols, source, destination, _, b = box
    sensitive = protocols[0] == protocols[1] == TCP and any(b[0] <= p <= b[1] for p in SENSITIVE_PORTS)
    order = {TCP: 0, UDP: 1, ICMP: 2}.get(protocols[0], 3)
    width = max(source[1] - source[0], destination[1] - destination[0])
    return (-width, 0 if sensitive else 1, order, box)


def _count(n: int) -> str:
    """How many distinct flow ranges (as the examples show them) changed, of ``n`` ranked; "50+" beyond."""
    more = "+" if n >= WIDENED else ""
    return f"{n}{more} flow range{'s' if n != 1 else ''}"


def exposure(baseline: Sequence[AclRule], live: Sequence[AclRule], subnet: str | None = None) -> Exposure:
    """The exposure diff of two rule lists, at the subnet ``subnet`` (a CIDR) or as a whole."""
    return Exposure.of_acls(AclFlows.of(baseline).effective(subnet), AclFlows.of(live).effective(subnet))


def lost(baseline: AclFlows, live: AclFlows, need: FlowSet) -> FlowSet:
    """The part of ``need`` (flows a cluster cannot do without) the baseline allowed and live does not."""
    return (need & baseline.all()) - live.all()
