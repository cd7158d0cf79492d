"""Exact sets of IPv4 flows: the algebra the ACL evaluation and the exposure diff are computed in.

A flow is a 5-tuple ``(protocol, source, destination, a, b)``: the IP protocol number (0-255), the
source and destination IPv4 addresses as integers, and two protocol-dependent fields:

* tcp (6) and udp (17): ``a`` is the source port and ``b`` the destination port, both 1-65535
  (an ACL rule cannot name port 0, so the port domain starts at 1);
* icmp (1): ``a`` is the ICMP type and ``b`` the ICMP code, both 0-255;
* every other protocol: ``a`` and ``b`` are always 0.

A set of flows is stored in canonical form as nested interval lists, one level per dimension: a
level is a sorted tuple of disjoint ``(lo, hi, child)`` triples, where ``child`` is the set of the
remaining dimensions for every value in ``lo..hi`` (``True`` below the last dimension). Adjacent
intervals with equal children are merged and empty children dropped, so two sets are equal exactly
when their trees are equal. There is no sampling anywhere: union, intersection and difference are
exact, and so is everything derived from them (exposure, shadowing, reachability).
"""

from __future__ import annotations

import functools
import ipaddress
from bisect import bisect_left, bisect_right
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from operator import itemgetter
from typing import Any, Literal

# A level of the tree: ((lo, hi, child), ...); the child of the last level is True.
Tree = tuple[tuple[int, int, Any], ...]
Interval = tuple[int, int]
Box = tuple[Interval, Interval, Interval, Interval, Interval]

ICMP, TCP, UDP = 1, 6, 17
DEPTH = 5
PROTOCOLS: Interval = (0, 255)
ADDRESSES: Interval = (0, 2**32 - 1)
PORTS: Interval = (1, 65535)
ICMP_FIELD: Interval = (0, 255)
NO_FIELD: Interval = (0, 0)

#: IBM VPC protocol names (API versions from 2025-12-09) and their IP protocol numbers.
PROTOCOL_NUMBERS = {"icmp": ICMP, "tcp": TCP, "udp": UDP, "ip_in_ip": 4, "rsvp": 46, "gre": 47, "esp": 50, "ah": 51,
                    "vrrp": 112, "l2tp": 115, "sctp": 132}
PROTOCOL_NAMES = {n: name for name, n in PROTOCOL_NUMBERS.items()}

Op = Literal["or", "and", "sub"]


def field_domains(protocol: int) -> tuple[Interval, Interval]:
    """The domains of ``a`` and ``b`` for one protocol number."""
    if protocol in (TCP, UDP):
        return PORTS, PORTS
    if protocol == ICMP:
        return ICMP_FIELD, ICMP_FIELD
    return NO_FIELD, NO_FIELD


def protocol_class(protocol: int) -> int:
    """Protocols with the same field domains share a class: icmp, tcp, udp, or -1 for the others."""
    return protocol if protocol in (ICMP, TCP, UDP) else -1


@functools.lru_cache(maxsize=65536)
def cidr_interval(cidr: str) -> Interval | None:
    """``10.0.0.0/24`` -> (first, last) as integers; None for IPv6 (IBM ACLs are IPv4 only). Cached:
    an estate names the same CIDRs in every rule and subnet, and parsing is most of the cost."""
    net = ipaddress.ip_network(cidr, strict=False)
    if net.version != 4:
        return None
    return int(net.network_address), int(net.broadcast_address)


def interval_cidrs(lo: int, hi: int) -> list[str]:
    """The fewest CIDRs that cover exactly ``lo..hi``."""
    first, last = ipaddress.IPv4Address(lo), ipaddress.IPv4Address(hi)
    return [str(n) for n in ipaddress.summarize_address_range(first, last)]


def interval_text(lo: int, hi: int) -> str:
    """An address range as one CIDR when it is one, else ``a.b.c.d-e.f.g.h``."""
    cidrs = interval_cidrs(lo, hi)
    if len(cidrs) == 1:
        return cidrs[0]
    return f"{ipaddress.IPv4Address(lo)}-{ipaddress.IPv4Address(hi)}"


# --- the tree algebra -----------------------------------------------------------------------------


def _append(out: list[tuple[int, int, Any]], lo: int, hi: int, child: Any) -> None:
    """Append ``lo..hi -> child`` keeping the level canonical (merge with an equal neighbour)."""
    if out:
        plo, phi, pchild = out[-1]
        if phi == lo - 1 and (pchild is child or pchild == child):
            out[-1] = (plo, hi, pchild)
            return
    out.append((lo, hi, child))


def _combine(a: Any, b: Any, op: Op) -> Any:
    """Children (or None for 'absent') combined by ``op``; returns None when the result is empty."""
    if op == "or":
        if a is None or a is b:
            return b if a is None else a
        if b is None:
            return a
    elif op == "and":
        if a is None or b is None:
            return None
        if a is b:
            return a
    else:
        if a is None or b is None:
            return a
        if a is b:
            return None
    if a is True or a == b:  # the last level (both present), or equal subtrees: compared in C, not merged
        return a if op != "sub" else None
    return merge(a, b, op) or None


def merge(a: Tree, b: Tree, op: Op) -> Tree:
    """Union, intersection or difference of two levels of equal depth, in canonical form.

    One sweep over both interval lists; the parts of ``a`` before and after ``b`` are copied in bulk
    (found by bisection), so subtracting or intersecting a small box costs little in a big set."""
    if not a:
        return b if op == "or" else ()
    if not b:
        return () if op == "and" else a
    first, last = b[0][0], b[-1][1]
    if op == "and" and len(b) == 1 and first <= a[0][0] and a[-1][1] <= last:
        return _within(a, b[0][2])
    i = bisect_left(a, first, key=_hi)  # a[:i] lies wholly before b
    k = bisect_right(a, last, key=_lo)  # a[k:] lies wholly after b
    out: list[tuple[int, int, Any]] = []
    if op != "and":
        out.extend(a[:i])
    j = 0
    alo = a[i][0] if i < k else 0
    blo = first
    while i < k and j < len(b):
        ahi, ac = a[i][1], a[i][2]
        bhi, bc = b[j][1], b[j][2]
        if ahi < blo:  # the rest of a[i] lies before b[j]
            if op != "and":
                _append(out, alo, ahi, ac)
            i += 1
            alo = a[i][0] if i < k else 0
            continue
        if bhi < alo:  # the rest of b[j] lies before a[i]
            if op == "or":
                _append(out, blo, bhi, bc)
            j += 1
            blo = b[j][0] if j < len(b) else 0
            continue
        if alo < blo:
            if op != "and":
                _append(out, alo, blo - 1, ac)
            alo = blo
        elif blo < alo:
            if op == "or":
                _append(out, blo, alo - 1, bc)
            blo = alo
        end = min(ahi, bhi)
        child = _combine(ac, bc, op)
        if child is not None:
            _append(out, alo, end, child)
        if ahi == end:
            i += 1
            alo = a[i][0] if i < k else 0
        else:
            alo = end + 1
        if bhi == end:
            j += 1
            blo = b[j][0] if j < len(b) else 0
        else:
            blo = end + 1
    if op != "and" and i < k:
        _append(out, alo, a[i][1], a[i][2])
        for lo, hi, child in a[i + 1:k]:
            _append(out, lo, hi, child)
    if op == "or" and j < len(b):
        _append(out, blo, b[j][1], b[j][2])
        for lo, hi, child in b[j + 1:]:
            _append(out, lo, hi, child)
    if op != "and" and k < len(a):
        _append(out, *a[k])
        out.extend(a[k + 1:])
    return tuple(out)


def _within(a: Tree, window: Any) -> Tree:
    """``a`` & one interval spanning it whose child is ``window``; ``a`` itself, not a copy, where nothing
    is cut away: a restriction shares the subtrees it keeps whole, and allocates nothing for them."""
    if window is True:
        return a
    out: list[tuple[int, int, Any]] = []
    same = True
    for lo, hi, child in a:
        cut = _combine(child, window, "and")
        if cut is not child:
            same = False
        if cut is not None:
            _append(out, lo, hi, cut)
    return a if same else tuple(out)


_lo = itemgetter(0)  # the bisection keys of a level: its intervals' bounds, read in C
_hi = itemgetter(1)


def box_tree(intervals: Sequence[Interval]) -> Tree:
    """The tree of one box (one interval per remaining dimension)."""
    child: Any = True
    for lo, hi in reversed(intervals):
        child = ((lo, hi, child),)
    result: Tree = child
    return result


def boxes(tree: Tree) -> Iterator[tuple[Interval, ...]]:
    """The disjoint boxes a tree is made of, in order."""
    for lo, hi, child in tree:
        if child is True:
            yield ((lo, hi),)
        else:
            for rest in boxes(child):
                yield ((lo, hi), *rest)


def _count(tree: Tree) -> int:
    total = 0
    for lo, hi, child in tree:
        total += (hi - lo + 1) * (1 if child is True else _count(child))
    return total


@dataclass(frozen=True, slots=True)
class FlowSet:
    """An exact, canonical set of IPv4 flows. Equal sets compare equal; ``-``, ``|``, ``&`` are exact."""

    tree: Tree = ()

    @staticmethod
    def box(protocols: Interval, source: Interval, destination: Interval,
            a: Interval | None = None, b: Interval | None = None) -> FlowSet:
        """All flows in one box; ``a``/``b`` default to, and are clipped to, each protocol's domain."""
        return _box(tuple(protocols), tuple(source), tuple(destination), tuple(a) if a else a, tuple(b) if b else b)

    @staticmethod
    def everything(protocols: Interval = PROTOCOLS) -> FlowSet:
        return FlowSet.box(protocols, ADDRESSES, ADDRESSES)

    def __or__(self, other: FlowSet) -> FlowSet:
        return FlowSet(merge(self.tree, other.tree, "or"))

    def __and__(self, other: FlowSet) -> FlowSet:
        return FlowSet(merge(self.tree, other.tree, "and"))

    def __sub__(self, other: FlowSet) -> FlowSet:
        return FlowSet(merge(self.tree, other.tree, "sub"))

    def __bool__(self) -> bool:
        return bool(self.tree)

    def issubset(self, other: FlowSet) -> bool:
        return not (self - other)

    def boxes(self) -> Iterator[Box]:
        """Disjoint boxes ``(protocols, source, destination, a, b)``; a protocol range never mixes classes."""
        for box in boxes(self.tree):
            (plo, phi), rest = box[0], box[1:]
            for lo, hi in class_ranges(plo, phi):
                yield ((lo, hi), rest[0], rest[1], rest[2], rest[3])

    def size(self) -> int:
        """The number of distinct flows (for tests and summaries; can be astronomically large)."""
        return _count(self.tree)

    def restrict(self, *, source: Interval | None = None, destination: Interval | None = None,
                 protocols: Interval | None = None) -> FlowSet:
        """The flows of this set within the given source, destination or protocol ranges."""
        window = FlowSet.box(protocols or PROTOCOLS, source or ADDRESSES, destination or ADDRESSES)
        return self & window

    def swap_endpoints(self) -> FlowSet:
        """The replies: source and destination swapped, and for tcp/udp the ports swapped too.
        ICMP replies are not mirrored by type (an echo reply is another type), so icmp keeps a/b."""
        parts: list[FlowSet] = []
        for (plo, phi), src, dst, a, b in self.boxes():
            if plo in (TCP, UDP):
                parts.append(FlowSet(box_tree([(plo, phi), dst, src, b, a])))
            else:
                parts.append(FlowSet(box_tree([(plo, phi), dst, src, a, b])))
        return union_all(parts)


@functools.lru_cache(maxsize=65536)
def _box(protocols: Interval, source: Interval, destination: Interval, a: Interval | None,
         b: Interval | None) -> FlowSet:
    """``FlowSet.box``, cached (sets are immutable): rules, subnets and windows repeat the same boxes."""
    parts: list[FlowSet] = []
    plo, phi = protocols
    for lo, hi in class_ranges(plo, phi):
        da, db = field_domains(lo)
        ia = _clip(a or da, da)
        ib = _clip(b or db, db)
        if ia is None or ib is None:
            continue
        parts.append(FlowSet(box_tree([(lo, hi), source, destination, ia, ib])))
    return union_all(parts)


def union_all(sets: Sequence[FlowSet]) -> FlowSet:
    """The union of many sets, by balanced pairing (keeps intermediate trees small)."""
    return FlowSet(union_trees([s.tree for s in sets]))


def union_trees(trees: Sequence[Tree]) -> Tree:
    """The union of many trees of equal depth, by balanced pairing."""
    items = [t for t in trees if t]
    if not items:
        return ()
    while len(items) > 1:
        paired = [merge(items[i], items[i + 1], "or") for i in range(0, len(items) - 1, 2)]
        if len(items) % 2:
            paired.append(items[-1])
        items = paired
    return items[0]


def permuted(tree: Tree, order: Sequence[int]) -> Tree:
    """The same set with its dimensions in another ``order`` (indices of the current dimensions)."""
    return union_trees([box_tree([box[i] for i in order]) for box in boxes(tree)])


def drop_last(tree: Tree, depth: int) -> Tree:
    """Forget the last dimension of a ``depth``-level tree (existential projection; the levels above
    stay disjoint, adjacent equal children are merged)."""
    out: list[tuple[int, int, Any]] = []
    for lo, hi, child in tree:
        sub: Any = True if depth == 2 else drop_last(child, depth - 1)
        _append(out, lo, hi, sub)
    return tuple(out)


def protocol_text(lo: int, hi: int) -> str:
    """``tcp``, ``gre``, ``protocol 18``, ``protocols 18-46`` (a range of one class)."""
    if lo == hi:
        return PROTOCOL_NAMES.get(lo, f"protocol {lo}")
    return f"protocols {lo}-{hi}"


def range_text(lo: int, hi: int) -> str:
    return str(lo) if lo == hi else f"{lo}-{hi}"


def connection_text(protocols: Interval, a: Interval, b: Interval) -> str:
    """What one box allows, without addresses: ``tcp 22``, ``udp 53 (source ports 53)``,
    ``icmp type 8 code 0``, ``icmp``, ``gre``."""
    plo, phi = protocols
    text = protocol_text(plo, phi)
    if plo == phi and plo in (TCP, UDP):
        text += f" {range_text(*b)}"
        if a != PORTS:
            text += f" (source ports {range_text(*a)})"
    elif plo == phi == ICMP and (a, b) != (ICMP_FIELD, ICMP_FIELD):
        if a != ICMP_FIELD:
            text += f" type {range_text(*a)}"
        if b != ICMP_FIELD:
            text += f" code {range_text(*b)}"
    return text


def flow_text(box: Box) -> str:
    """One box as a concrete flow description: ``tcp 22 from 0.0.0.0/0 to 10.240.0.0/24``."""
    protocols, source, destination, a, b = box
    return (f"{connection_text(protocols, a, b)} from {interval_text(*source)} "
            f"to {interval_text(*destination)}")


def _clip(value: Interval, domain: Interval) -> Interval | None:
    lo, hi = max(value[0], domain[0]), min(value[1], domain[1])
    return (lo, hi) if lo <= hi else None


def class_ranges(lo: int, hi: int) -> Iterator[Interval]:
    """Split a protocol range where the field domains change (at icmp, tcp and udp)."""
    start = lo
    for special in (ICMP, TCP, UDP):
        if start <= special <= hi:
            if start < special:
                yield (start, special - 1)
            yield (special, special)
            start = special + 1
    if start <= hi:
        yield (start, hi)
