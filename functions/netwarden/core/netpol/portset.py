"""The connections a NetworkPolicy rule or a pod allows, as one exact, canonical set of (protocol, port).

Its own module because everything NetworkPolicy-side speaks it: the reachability (``reachability``),
its diff, the impact, the examples and the conformance adapter. TCP, UDP and SCTP carry their ports;
every other IP protocol (ICMP among them) carries port 0, since a policy can only allow them all at
once (a rule without ports, or a pod no policy isolates: ``ALL``).
"""

from __future__ import annotations

from dataclasses import dataclass

from netwarden.core.flows.algebra import Interval, Tree, box_tree, boxes, merge, union_trees

PROTOCOLS = {"TCP": 6, "UDP": 17, "SCTP": 132}
PROTOCOL_NAMES = {n: name for name, n in PROTOCOLS.items()}
#: The IP protocols without ports (ICMP is 1), each carried with port 0; a policy can only name them all.
OTHER_PROTOCOLS: tuple[Interval, ...] = ((0, 5), (7, 16), (18, 131), (133, 255))


@dataclass(frozen=True, slots=True)
class PortSet:
    """A set of (protocol, port) pairs, canonical (equal sets are equal): TCP, UDP and SCTP with their
    ports, every other IP protocol with port 0."""

    tree: Tree = ()

    @staticmethod
    def of(protocol: str, low: int = 1, high: int = 65535) -> PortSet:
        n = PROTOCOLS[protocol]
        return PortSet(box_tree([(n, n), (max(low, 1), min(high, 65535))]))

    def __or__(self, other: PortSet) -> PortSet:
        return PortSet(merge(self.tree, other.tree, "or"))

    def __and__(self, other: PortSet) -> PortSet:
        return PortSet(merge(self.tree, other.tree, "and"))

    def __sub__(self, other: PortSet) -> PortSet:
        return PortSet(merge(self.tree, other.tree, "sub"))

    def __bool__(self) -> bool:
        return bool(self.tree)

    def ranges(self) -> list[tuple[str, int, int]]:
        """(protocol, first, last) in protocol-name order, as netpol-analyzer prints them; the protocols
        without ports as (``ICMP`` or ``protocol N``, 0, 0), after the others."""
        out, other = [], []
        for (plo, phi), port in boxes(self.tree):
            for n in range(plo, phi + 1):
                if n in PROTOCOL_NAMES:
                    out.append((PROTOCOL_NAMES[n], port[0], port[1]))
                else:
                    other.append(n)
        return sorted(out) + [("ICMP" if n == 1 else f"protocol {n}", 0, 0) for n in sorted(other)]

    def text(self) -> str:
        """``All Connections``, ``No Connections``, or ``TCP 80,8080-8090,UDP 53`` (netpol-analyzer's spelling)."""
        if self == ALL:
            return "All Connections"
        if not self:
            return "No Connections"
        parts: list[str] = []
        last = None
        ranges = self.ranges()
        portless = [proto for proto, lo, _ in ranges if lo == 0]
        for proto, lo, hi in ranges:
            if lo == 0:
                continue
            ports = str(lo) if lo == hi else f"{lo}-{hi}"
            parts.append(f"{proto} {ports}" if proto != last else ports)
            last = proto
        if len(portless) == sum(hi - lo + 1 for lo, hi in OTHER_PROTOCOLS):
            parts.append("all other IP protocols")
        else:
            parts.extend(portless)
        return ",".join(parts)

    def flows(self) -> list[str]:
        """``tcp 80``, ``udp 1-65535``, ``icmp``: one entry per range, for examples."""
        return [p.lower() if lo == 0 else f"{p.lower()} {lo if lo == hi else f'{lo}-{hi}'}"
                for p, lo, hi in self.ranges()]


ALL = PortSet(union_trees([*(PortSet.of(p).tree for p in PROTOCOLS),
                           *(box_tree([span, (0, 0)]) for span in OTHER_PROTOCOLS)]))
NONE = PortSet()
