"""Test-side adapter: np-guard/vpc-network-config-analyzer configs and reports -> comparable sets.

The analyzer's subnet-level report (``*_subnetsBased_withPGW``) prints, per ordered pair of subnets of
a VPC, the connections every address of the source subnet has to every address of the destination
(source ACL outbound AND destination ACL inbound), and for subnets with a public gateway what they
reach on the public internet; ``*`` marks TCP whose replies the ACLs drop. Its per-subnet report
(``_analysisPerSubnetSeparately``) is one subnet's ACL alone, per remote range. Both are parsed into
exact sets so that how the analyzer groups ranges and lines does not matter.

netwarden's side is computed with the product API only (``AclFlows``, ``pair_flows``,
``conns_between``, ``subnet_view``); what is analyzer presentation (its "Public Internet" ranges,
the service network) lives here.
"""

from __future__ import annotations

import ipaddress
import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from netwarden.core.acl.evaluate import AclFlows
from netwarden.core.acl.view import conns_between, pair_flows, subnet_view
from netwarden.core.flows.algebra import (
    ICMP,
    ICMP_FIELD,
    PORTS,
    TCP,
    UDP,
    FlowSet,
    Tree,
    box_tree,
    boxes,
    cidr_interval,
    drop_last,
    merge,
    permuted,
    union_trees,
)
from netwarden.core.model import NetworkAcl, Subnet, Vpc
from netwarden.core.normalize import acl_rule_from_api

#: The analyzer's "Public Internet" (pkg/vpcmodel/externalNetwork.go) and IBM's service network.
PUBLIC_INTERNET = ("1.0.0.0-9.255.255.255", "11.0.0.0-100.63.255.255", "100.128.0.0-126.255.255.255",
                   "128.0.0.0-169.253.255.255", "169.255.0.0-172.15.255.255", "172.32.0.0-191.255.255.255",
                   "192.0.1.0-192.0.1.255", "192.0.3.0-192.88.98.255", "192.88.100.0-192.167.255.255",
                   "192.169.0.0-198.17.255.255", "198.20.0.0-198.51.99.255", "198.51.101.0-203.0.112.255",
                   "203.0.114.0-223.255.255.255")
SERVICE_NETWORK = ("161.26.0.0/16", "166.8.0.0/14")
THREE = {"ICMP": ICMP, "TCP": TCP, "UDP": UDP}


def _ip(text: str) -> int:
    return int(ipaddress.IPv4Address(text))


def address_tree(ranges: Iterable[str]) -> Tree:
    """Address ranges (``a-b`` or CIDR) as a one-level tree."""
    parts: list[Tree] = []
    for r in ranges:
        if "-" in r:
            lo, hi = r.split("-")
            parts.append(box_tree([(_ip(lo), _ip(hi))]))
        else:
            iv = cidr_interval(r)
            assert iv is not None
            parts.append(box_tree([iv]))
    return union_trees(parts)


PUBLIC = merge(address_tree(PUBLIC_INTERNET), address_tree(SERVICE_NETWORK), "sub")
SERVICE = address_tree(SERVICE_NETWORK)
ALL3: Tree = union_trees([box_tree([(ICMP, ICMP), ICMP_FIELD, ICMP_FIELD]), box_tree([(TCP, TCP), PORTS, PORTS]),
                          box_tree([(UDP, UDP), PORTS, PORTS])])
TCP_ONLY: Tree = box_tree([(TCP, TCP), (0, 65535), (0, 65535)])


@dataclass(frozen=True)
class Config:
    vpcs: tuple[Vpc, ...]
    gateways: frozenset[str]  # ids of the subnets with a public gateway


def load_config(path: Path) -> Config:
    data = json.loads(path.read_text(encoding="utf-8"))
    acls: dict[str, list[NetworkAcl]] = {}
    for acl in data.get("network_acls") or []:
        rules = tuple(acl_rule_from_api(r) for r in acl.get("rules") or [])
        acls.setdefault(acl["vpc"]["id"], []).append(NetworkAcl(acl["name"], rules, id=acl["id"]))
    subnets: dict[str, list[Subnet]] = {}
    gateways = set()
    for s in data.get("subnets") or []:
        subnets.setdefault(s["vpc"]["id"], []).append(Subnet(
            s["name"], s["network_acl"]["name"], (s.get("public_gateway") or {}).get("name"),
            (s.get("zone") or {}).get("name"), s["ipv4_cidr_block"], id=s["id"]))
        if s.get("public_gateway"):
            gateways.add(s["id"])
    vpcs = tuple(Vpc((v.get("region") or "r"), v["name"], tuple(acls.get(v["id"], ())),
                     tuple(subnets.get(v["id"], ())), id=v["id"]) for v in data.get("vpcs") or [])
    return Config(vpcs, frozenset(gateways))


# --- netwarden's subnet-level connectivity ------------------------------------------------------


@dataclass(eq=False)
class Connectivity:
    """Per (source, destination): connections, and the TCP part whose replies are dropped. Subnet
    destinations map to a (protocol, a, b) tree; "Public Internet"/"Service Network" to an
    (address, protocol, a, b) tree."""

    conns: dict[tuple[str, ...], Tree]
    unanswered: dict[tuple[str, ...], Tree]

    def __eq__(self, other: object) -> bool:
        return (isinstance(other, Connectivity) and nonempty(self.conns) == nonempty(other.conns)
                and nonempty(self.unanswered) == nonempty(other.unanswered))

    __hash__ = None  # type: ignore[assignment]  # mutable, compared by content

    def differences(self, other: Connectivity, limit: int = 6) -> str:
        out = []
        for name, mine, theirs in (("conns", self.conns, other.conns),
                                   ("unanswered", self.unanswered, other.unanswered)):
            a, b = nonempty(mine), nonempty(theirs)
            for key in sorted(set(a) | set(b)):
                if a.get(key) != b.get(key):
                    out.append(f"{name} {key}: got {show(a.get(key))} want {show(b.get(key))}")
        return "; ".join(out[:limit]) + (f" (+{len(out) - limit} more)" if len(out) > limit else "")


def nonempty(d: Mapping[tuple[str, ...], Tree]) -> dict[tuple[str, ...], Tree]:
    return {k: v for k, v in d.items() if v}


def show(tree: Tree | None) -> str:
    if not tree:
        return "nothing"
    first = next(iter(boxes(tree)))
    return f"{len(list(boxes(tree)))} boxes, first {first}"


def swap_tcp(tree: Tree) -> Tree:
    """(protocol, a, b) with a and b swapped for tcp: the replies' ports."""
    return union_trees([box_tree([p, b, a] if p == (TCP, TCP) else [p, a, b]) for p, a, b in boxes(tree)])


def three(tree: Tree) -> Tree:
    return merge(tree, ALL3, "and")


def _remote_conns(flows: FlowSet, local: tuple[int, int], outgoing: bool) -> Tree:
    """(remote address, protocol, a, b) that hold for EVERY local address: per remote address."""
    window = FlowSet.everything().restrict(source=local) if outgoing else FlowSet.everything().restrict(
        destination=local)
    order = (2, 0, 3, 4, 1) if outgoing else (1, 0, 3, 4, 2)
    full = drop_last(permuted(window.tree, order), 5)
    missing = drop_last(permuted((window - flows).tree, order), 5)
    return merge(full, missing, "sub")


def subnet_connectivity(config: Config) -> Connectivity:
    conns: dict[tuple[str, str], Tree] = {}
    unanswered: dict[tuple[str, str], Tree] = {}
    for vpc in config.vpcs:
        flows = {acl.name: AclFlows.of(acl.rules) for acl in vpc.acls}
        subnets = [s for s in vpc.subnets if s.cidr and s.network_acl in flows]
        for s in subnets:
            for d in subnets:
                if s is d:
                    continue
                assert s.cidr and d.cidr and s.network_acl and d.network_acl
                there = pair_flows(flows[s.network_acl], s.cidr, flows[d.network_acl], d.cidr)
                back = pair_flows(flows[d.network_acl], d.cidr, flows[s.network_acl], s.cidr)
                src, dst = cidr_interval(s.cidr), cidr_interval(d.cidr)
                c = three(conns_between(there, src, dst).tree)
                r = three(conns_between(back, dst, src).tree)
                conns[(s.name, d.name)] = c
                unanswered[(s.name, d.name)] = merge(merge(c, TCP_ONLY, "and"), swap_tcp(r), "sub")
            local = cidr_interval(s.cidr or "")
            assert local is not None and s.network_acl
            acl = flows[s.network_acl].for_subnet(s.cidr)
            out = _remote_conns(acl.outbound, local, True)
            into = _remote_conns(acl.inbound, local, False)
            targets = []
            if s.id in config.gateways:  # the outside is reached through a gateway
                targets = [("Public Internet", PUBLIC), ("Service Network", SERVICE)]
            for label, space in targets:
                c = per_address_three(merge(out, widen(space), "and"))
                back = per_address_three(merge(into, widen(space), "and"))
                conns[(s.name, label)] = c
                unanswered[(s.name, label)] = merge(merge(c, per_address(TCP_ONLY, space), "and"),
                                                    swap_tcp_4(back), "sub")
    return Connectivity(conns, unanswered)


def widen(space: Tree) -> Tree:
    """Addresses of ``space`` x every (protocol, a, b)."""
    return tuple((lo, hi, _ALL_PAB) for lo, hi, _ in space)


_ALL_PAB: Tree = drop_last(drop_last(permuted(FlowSet.everything().tree, (0, 3, 4, 1, 2)), 5), 4)


def per_address(pab: Tree, space: Tree) -> Tree:
    return tuple((lo, hi, pab) for lo, hi, _ in space)


def per_address_three(tree: Tree) -> Tree:
    out = []
    for lo, hi, pab in tree:
        t = three(pab)
        if t:
            out.append((lo, hi, t))
    return union_trees([(x,) for x in out])


def swap_tcp_4(tree: Tree) -> Tree:
    return union_trees([((lo, hi, swap_tcp(pab)),) for lo, hi, pab in tree])


# --- the analyzer's text -> the same shape ------------------------------------------------------

_LINE = re.compile(r"^(?P<src>\S+) => (?P<dst>.+?) : (?P<conn>.+?)\s*(?P<star>\*)?\s*$")


def _ports(text: str) -> list[tuple[int, int]]:
    out = []
    for part in text.split(","):
        lo, _, hi = part.partition("-")
        out.append((int(lo), int(hi or lo)))
    return out


def parse_conn(text: str) -> Tree:
    """``All Connections`` or ``protocol: TCP src-ports: 443 dst-ports: 1-10; protocol: ICMP icmp-type: 0``."""
    text = text.strip()
    if text == "All Connections":
        return ALL3
    if text == "No Connections":
        return ()
    parts: list[Tree] = []
    for raw in text.split(";"):
        item = raw.strip()
        if not item.startswith("protocol:"):  # the diff report leaves the "protocol:" out
            item = f"protocol: {item}"
        fields = dict(re.findall(r"([a-z-]+): (\S+)", item))
        for proto in fields["protocol"].split(","):
            n = THREE[proto]
            if n == ICMP:
                a = [(int(fields["icmp-type"]),) * 2] if "icmp-type" in fields else [ICMP_FIELD]
                b = [(int(fields["icmp-code"]),) * 2] if "icmp-code" in fields else [ICMP_FIELD]
            else:
                a = _ports(fields["src-ports"]) if "src-ports" in fields else [PORTS]
                b = _ports(fields["dst-ports"]) if "dst-ports" in fields else [PORTS]
            parts.extend(box_tree([(n, n), x, y]) for x in a for y in b)
    return union_trees(parts)


#: Report sections about transit gateways (cross-VPC routes and prefix filters: not netwarden's model).
TGW_SECTION = "Connectivity between VPCs connected by TGW"


def parse_subnets_report(text: str) -> Connectivity:
    """The per-VPC sections of a subnet-level report (TGW sections are skipped, see TGW_SECTION)."""
    conns: dict[tuple[str, str], list[Tree]] = {}
    unanswered: dict[tuple[str, str], list[Tree]] = {}
    in_tgw = False
    for line in text.splitlines():
        if line.startswith(("Subnet connectivity for VPC", TGW_SECTION)):
            in_tgw = line.startswith(TGW_SECTION)
        m = _LINE.match(line)
        if in_tgw or not m or line.startswith("TCP connections"):
            continue
        src, dst, conn = m.group("src"), m.group("dst"), parse_conn(m.group("conn"))
        ext = re.match(r"^(Public Internet|Service Network) (.+)$", dst)
        if ext:
            label, where = ext.groups()
            space = (PUBLIC if label == "Public Internet" else SERVICE) if where == "(all ranges)" \
                else address_tree(where.split(","))
            tree = per_address(conn, space)
            key = (src, label)
        else:
            tree, key = conn, (src, dst)
        conns.setdefault(key, []).append(tree)
        if m.group("star"):
            stars = merge(conn, TCP_ONLY, "and")
            unanswered.setdefault(key, []).append(per_address(stars, space) if ext else stars)
    return Connectivity({k: union_trees(v) for k, v in conns.items()},
                        {k: union_trees(v) for k, v in unanswered.items()})


# --- per subnet, one ACL alone -----------------------------------------------------------------


def per_subnet_view(config: Config) -> dict[str, dict[str, Tree]]:
    """cidr -> {"ingress"/"egress": (local, remote, protocol, a, b) tree}, from ``subnet_view``."""
    out: dict[str, dict[str, Tree]] = {}
    for vpc in config.vpcs:
        for s in vpc.subnets:
            acl = vpc.acl(s.network_acl or "")
            if acl is None or not s.cidr:
                continue
            view = subnet_view(AclFlows.of(acl.rules), s.cidr)
            out[s.cidr] = {"ingress": _view_tree(view.ingress), "egress": _view_tree(view.egress)}
    return out


def _view_tree(reaches: Any) -> Tree:
    parts = []
    for r in reaches:
        conns = three(r.conns.tree)
        if conns:
            parts.append(((r.local[0], r.local[1], ((r.remote[0], r.remote[1], conns),)),))
    return union_trees(parts)


def parse_per_subnet(text: str) -> dict[str, dict[str, Tree]]:
    out: dict[str, dict[str, list[Tree]]] = {}
    cidr = local = direction = None
    for raw in text.splitlines():
        line = raw.strip()
        if line.startswith("Subnet: "):
            cidr = line.split(": ", 1)[1]
            local = cidr_interval(cidr)
        elif line.startswith("local range within subnet: "):
            lo, hi = line.split(": ", 1)[1].split("-")
            local = (_ip(lo), _ip(hi))
        elif line.startswith("Ingress Connectivity"):
            direction = "ingress"
        elif line.startswith("Egress Connectivity"):
            direction = "egress"
        elif line.startswith("remote: "):
            remote, conn = line[len("remote: "):].split(", conn: ", 1)
            tree = parse_conn(conn)
            assert cidr and local and direction
            if tree:
                r = address_tree([remote])
                out.setdefault(cidr, {}).setdefault(direction, []).append(
                    tuple((local[0], local[1], tuple((lo, hi, tree) for lo, hi, _ in r)) for _ in [0]))
    return {c: {d: union_trees(v) for d, v in dirs.items()} for c, dirs in out.items()}


# --- the subnets diff ----------------------------------------------------------------------------

_DIFF = re.compile(r"^diff-type: (\w+), source: (.+?), destination: (.+?), config1: (.+?), config2: (.+?)"
                   r"(?:, vsis-diff-info: .*)?\s*$")


def differing(before: Tree, after: Tree) -> tuple[Tree, Tree]:
    """For (address, ...) trees: both restricted to the addresses where they differ."""
    cuts = sorted({p for lo, hi, _ in (*before, *after) for p in (lo, hi + 1)})
    b_out: list[Tree] = []
    a_out: list[Tree] = []
    for i in range(len(cuts) - 1):
        lo, hi = cuts[i], cuts[i + 1] - 1
        cb = next((c for x, y, c in before if x <= lo <= y), None)
        ca = next((c for x, y, c in after if x <= lo <= y), None)
        if cb != ca:
            if cb:
                b_out.append(((lo, hi, cb),))
            if ca:
                a_out.append(((lo, hi, ca),))
    return union_trees(b_out), union_trees(a_out)


def connectivity_diff(first: Connectivity, second: Connectivity) -> dict[str, Connectivity]:
    """What changed between two configs, as "before"/"after" connectivities of the changed parts."""
    out = {"before": Connectivity({}, {}), "after": Connectivity({}, {})}
    for table in ("conns", "unanswered"):
        mine, theirs = getattr(first, table), getattr(second, table)
        for key in set(mine) | set(theirs):
            b, a = mine.get(key, ()), theirs.get(key, ())
            if key[1] in ("Public Internet", "Service Network"):
                b, a = differing(b, a)
            elif a == b:
                continue
            getattr(out["before"], table)[key] = b
            getattr(out["after"], table)[key] = a
    # a pair whose connections are equal but whose unanswered part changed is a change of both
    for key in set(out["before"].unanswered) | set(out["after"].unanswered):
        if key not in out["before"].conns and key[1] not in ("Public Internet", "Service Network"):
            out["before"].conns[key] = first.conns.get(key, ())
            out["after"].conns[key] = second.conns.get(key, ())
    return out


def diff_lines(text: str) -> dict[str, list[str]]:
    """A diff report's lines as report lines ``src => dst : conn`` of each side ("before", "after")."""
    lines: dict[str, list[str]] = {"before": [], "after": []}
    for raw in text.splitlines():
        m = _DIFF.match(raw.strip())
        if not m:
            continue
        _, src, dst, one, two = m.groups()
        for side, conn in (("before", one), ("after", two)):
            if conn.rstrip(" *") != "No Connections":
                lines[side].append(f"{src} => {dst} : {conn.strip()}")
    return lines


def parse_subnets_diff(text: str) -> dict[str, Connectivity]:
    return {side: parse_subnets_report("\n".join(v)) for side, v in diff_lines(text).items()}
