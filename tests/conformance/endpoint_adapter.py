"""Test-side adapter: np-guard/vpc-network-config-analyzer's endpoint-level reports -> comparable sets.

The analyzer's endpoint report (``*_all_vpcs_.txt``, ``*__with_grouping.txt``) prints, per VPC, what
each endpoint (an instance's network interface, an endpoint gateway's reserved IP, an IKS worker node)
can open to each other endpoint, to the public internet and to IBM's service network, with both
layers applied: the security groups of both ends (stateful, allow-only, the union of a target's
groups, a remote group resolved to its members' addresses) and, between subnets, both subnets' ACLs
(stateless, first match). ``*`` marks TCP whose replies the ACLs drop (security groups let replies
back). Its endpoints diff (``*_endpointsDiff.txt``) says what changed between two configs.

netwarden's side is computed with the product's layers (the config is read by ``endpoint_config``):
``core.reach.sg_flows.group_flows`` gives what all the groups on one endpoint let it open and be
opened, ``AclFlows`` what an ACL passes. The analyzer's routing model lives here, as it defines it
(``pkg/ibmvpc/vpc.go``):

* the service network is reached from and reaches every endpoint;
* the public internet is reached both ways by an interface with a floating IP, and only outbound by
  an instance interface or IKS worker on a subnet with a public gateway (an endpoint gateway's
  reserved IPs are not a gateway's sources).

Load balancers are not endpoints here (netwarden reads no load balancers): the lines that name one
are left out of both sides.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Iterable, Iterator

from endpoint_config import Endpoint, Estate
from vpc_adapter import (
    PUBLIC,
    SERVICE,
    TCP_ONLY,
    TGW_SECTION,
    Connectivity,
    address_tree,
    diff_lines,
    nonempty,
    parse_conn,
    per_address,
    per_address_three,
    swap_tcp,
    swap_tcp_4,
    three,
    widen,
)

from netwarden.core.acl.view import project
from netwarden.core.flows.algebra import FlowSet, Tree, drop_last, merge, permuted, union_trees
from netwarden.core.reach.sg_flows import GroupFlows, group_flows

PUBLIC_LABEL, SERVICE_LABEL = "Public Internet", "Service Network"
EXTERNAL = {PUBLIC_LABEL: PUBLIC, SERVICE_LABEL: SERVICE}
#: How the analyzer names a load balancer's addresses (not endpoints here, see the module docstring).
LOAD_BALANCER = re.compile(r"\[(LB private IP|Potential LB private IP|LoadBalancer)\]")


# --- netwarden's endpoint connectivity ----------------------------------------------------------


class Reachability(Connectivity):
    """Per (vpc, source, destination): the connections, and their TCP part whose replies the ACLs drop.
    Endpoint pairs map to a (protocol, a, b) tree; a pair with the public internet or the service
    network to an (external address, protocol, a, b) tree."""

    def only(self, vpcs: set[str]) -> Reachability:
        """The part about the VPCs ``vpcs``."""
        return Reachability({k: t for k, t in self.conns.items() if k[0] in vpcs},
                            {k: t for k, t in self.unanswered.items() if k[0] in vpcs})

    def without_vpc(self) -> Reachability:
        """The same keyed by (source, destination) only (a diff compares two configs' VPCs)."""
        return Reachability({("", s, d): t for (_, s, d), t in self.conns.items()},
                            {("", s, d): t for (_, s, d), t in self.unanswered.items()})


def _groups(estate: Estate, endpoint: Endpoint) -> GroupFlows:
    """What the endpoint's groups let it open (outbound) and be opened (inbound): all its groups' rules."""
    rules = [rule for gid, members in estate.membership.items() if endpoint.label in members
             for rule in estate.rules[gid]]
    return group_flows(rules, endpoint.address,
                       lambda rule: estate.addresses.get(estate.group_ids.get(rule.remote_group or "", ""), []))


def _remote_tree(flows: FlowSet, remote_is_destination: bool) -> Tree:
    """(remote address, protocol, a, b) of flows whose local side is one address."""
    order = (2, 0, 3, 4, 1) if remote_is_destination else (1, 0, 3, 4, 2)
    return drop_last(permuted(flows.tree, order), 5)


def endpoint_reachability(estates: Iterable[Estate]) -> Reachability:
    out = Reachability({}, {})
    for estate in estates:
        shown = [e for e in estate.endpoints if not LOAD_BALANCER.search(e.label)]
        groups = {e.label: _groups(estate, e) for e in shown}
        egress = {label: g.outbound for label, g in groups.items()}
        ingress = {label: g.inbound for label, g in groups.items()}
        for s in shown:
            for d in shown:
                if s is not d:
                    _pair(out, estate, s, d, egress[s.label] & ingress[d.label])
            _external(out, estate, s, egress[s.label], ingress[s.label])
    return out


def _acl(estate: Estate, source: Endpoint, destination: Endpoint) -> FlowSet:
    """What the ACLs pass from ``source`` to ``destination``: nothing to cross inside one subnet."""
    if source.subnet == destination.subnet:
        return FlowSet.everything()
    return estate.acls[source.subnet].outbound & estate.acls[destination.subnet].inbound


def _pair(out: Reachability, estate: Estate, s: Endpoint, d: Endpoint, groups: FlowSet) -> None:
    flows = (groups & _acl(estate, s, d)).restrict(source=s.address, destination=d.address)
    conn = three(project(flows))
    back = three(project(_acl(estate, d, s).restrict(source=d.address, destination=s.address)))
    key = (estate.name, s.label, d.label)
    out.conns[key] = conn
    out.unanswered[key] = merge(merge(conn, TCP_ONLY, "and"), swap_tcp(back), "sub")


def _external(out: Reachability, estate: Estate, e: Endpoint, egress: FlowSet, ingress: FlowSet) -> None:
    acl = estate.acls[e.subnet]
    sent = _remote_tree((egress & acl.outbound).restrict(source=e.address), True)
    heard = _remote_tree(acl.inbound.restrict(destination=e.address), False)
    received = _remote_tree((ingress & acl.inbound).restrict(destination=e.address), False)
    said = _remote_tree(acl.outbound.restrict(source=e.address), True)
    for label, space in EXTERNAL.items():
        internet = label == PUBLIC_LABEL
        if not internet or e.public or (e.via_gateway and e.subnet in estate.gateways):
            _one_way(out, (estate.name, e.label, label), sent, heard, space)
        if not internet or e.public:
            _one_way(out, (estate.name, label, e.label), received, said, space)


def _one_way(out: Reachability, key: tuple[str, str, str], there: Tree, back: Tree, space: Tree) -> None:
    conn = per_address_three(merge(there, widen(space), "and"))
    replies = per_address_three(merge(back, widen(space), "and"))
    out.conns[key] = conn
    out.unanswered[key] = merge(merge(conn, per_address(TCP_ONLY, space), "and"), swap_tcp_4(replies), "sub")


# --- the analyzer's text -> the same shape ------------------------------------------------------

_LINE = re.compile(r"^(?P<src>.+?) => (?P<dst>.+?) : (?P<conn>.+?)\s*$")
_EXTERNAL = re.compile(rf"^({PUBLIC_LABEL}|{SERVICE_LABEL}) (.+)$")


def _side(text: str) -> tuple[list[str], Tree | None]:
    """Endpoint labels (a grouped side is comma-separated), or an external label and its addresses."""
    ext = _EXTERNAL.match(text)
    if ext:
        label, where = ext.groups()
        return [label], EXTERNAL[label] if where == "(all ranges)" else address_tree(where.split(","))
    labels, depth, start = [], 0, 0
    for i, ch in enumerate(text):
        depth += {"[": 1, "]": -1}.get(ch, 0)
        if ch == "," and depth == 0:
            labels.append(text[start:i])
            start = i + 1
    labels.append(text[start:])
    return labels, None


def _conn_parts(text: str, per_part: bool) -> tuple[Tree, Tree]:
    """A connection text -> (all, unanswered). A report marks a whole line with a final ``*``; a diff
    marks each part (parts are separated by ``;``)."""
    text = text.strip()
    if not per_part:
        star = text.endswith("*")
        conn = parse_conn(text.rstrip(" *"))
        return conn, merge(conn, TCP_ONLY, "and") if star else ()
    whole: list[Tree] = []
    stars: list[Tree] = []
    for raw in text.split(";"):
        part = raw.strip()
        tree = parse_conn(part.rstrip(" *"))
        whole.append(tree)
        if part.endswith("*"):
            stars.append(merge(tree, TCP_ONLY, "and"))
    return union_trees(whole), union_trees(stars)


def _lines(text: str) -> Iterator[tuple[str, str, str, str]]:
    """(vpc, source, destination, connection) of each connection line, load balancers left out."""
    vpc, in_tgw = "", False
    for line in text.splitlines():
        if line.startswith(("Endpoint connectivity for VPC ", TGW_SECTION)):
            in_tgw = line.startswith(TGW_SECTION)
            vpc = "" if in_tgw else line.split("VPC ", 1)[1].strip()
            continue
        m = _LINE.match(line)
        if in_tgw or not m or line.startswith("TCP connections"):
            continue
        yield vpc, m.group("src"), m.group("dst"), m.group("conn")


def report_vpcs(text: str) -> set[str]:
    """The VPCs a report analysed (a run filtered by resource group or region names fewer)."""
    return {line.split("VPC ", 1)[1].strip() for line in text.splitlines()
            if line.startswith("Endpoint connectivity for VPC ")}


def parse_endpoints_report(text: str, *, vpc: str | None = None, per_part: bool = False) -> Reachability:
    """A report's sections (or, with ``vpc``, all of them as that VPC); ``per_part``: a diff's marks."""
    conns: dict[tuple[str, str, str], list[Tree]] = {}
    unanswered: dict[tuple[str, str, str], list[Tree]] = {}
    for section, src, dst, conn_text in _lines(text):
        conn, stars = _conn_parts(conn_text, per_part)
        sources, src_space = _side(src)
        destinations, dst_space = _side(dst)
        space = src_space if src_space is not None else dst_space
        for s in sources:
            for d in destinations:
                if s == d or LOAD_BALANCER.search(s) or LOAD_BALANCER.search(d):
                    continue  # a grouped self-loop; a load balancer
                key = (section if vpc is None else vpc, s, d)
                for table, tree in ((conns, conn), (unanswered, stars)):
                    if tree:
                        table.setdefault(key, []).append(per_address(tree, space) if space is not None else tree)
    return Reachability({k: union_trees(v) for k, v in conns.items()},
                        {k: union_trees(v) for k, v in unanswered.items()})


# --- the endpoints diff --------------------------------------------------------------------------


def _external_key(key: tuple[str, str, str]) -> bool:
    return key[1] in EXTERNAL or key[2] in EXTERNAL


def reachability_diff(first: Reachability, second: Reachability) -> dict[str, Reachability]:
    """What changed between two configs, as "before"/"after" reachabilities of the changed parts:
    a pair whose connections or unanswered part differ, with both of its sides; for the outside, the
    addresses where they differ."""
    out = {"before": Reachability({}, {}), "after": Reachability({}, {})}
    keys = set(nonempty(first.conns)) | set(nonempty(second.conns))
    for key in keys:
        pairs = [(first.conns.get(key, ()), second.conns.get(key, ())),
                 (first.unanswered.get(key, ()), second.unanswered.get(key, ()))]
        if _external_key(key):
            pairs = _differing(pairs)
        elif all(b == a for b, a in pairs):
            continue
        for table, (b, a) in zip(("conns", "unanswered"), pairs, strict=True):
            getattr(out["before"], table)[key] = b
            getattr(out["after"], table)[key] = a
    return out


def _differing(pairs: list[tuple[Tree, Tree]]) -> list[tuple[Tree, Tree]]:
    """(before, after) trees by address, each cut to the addresses where any pair differs."""
    trees = [t for pair in pairs for t in pair]
    cuts = sorted({p for t in trees for lo, hi, _ in t for p in (lo, hi + 1)})
    kept: list[list[Tree]] = [[] for _ in trees]
    for lo, nxt in itertools.pairwise(cuts):
        at = [next((c for x, y, c in t if x <= lo <= y), ()) for t in trees]
        if any(at[i] != at[i + 1] for i in range(0, len(at), 2)):
            for i, child in enumerate(at):
                if child:
                    kept[i].append(((lo, nxt - 1, child),))
    merged = [union_trees(k) for k in kept]
    return [(merged[i], merged[i + 1]) for i in range(0, len(merged), 2)]


def parse_endpoints_diff(text: str) -> dict[str, Reachability]:
    return {side: parse_endpoints_report("\n".join(v), vpc="", per_part=True) for side, v in diff_lines(text).items()}
