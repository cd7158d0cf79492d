"""NetworkPolicy reachability: which pod may open which connection to which pod or outside address.

A literal diff says "policy db-allow changed"; this module says "accounts/frontend can now reach
accounts/db on tcp 5432". It evaluates Kubernetes NetworkPolicy v1 as the API documents it:

* a pod is isolated for ingress (egress) when any policy of its namespace selects it with
  ``Ingress`` (``Egress``) in ``policyTypes``; an isolated pod admits only what the union of those
  policies' rules allows; a pod no policy selects is open in that direction;
* a connection from pod S to pod D needs both S's egress and D's ingress to allow it;
* peers: ``podSelector`` (pods of the policy's namespace), ``namespaceSelector`` (all pods of the
  matching namespaces), both in one peer (pods matching the one in namespaces matching the other),
  ``ipBlock`` with ``except``; a rule without peers matches every peer; selectors use
  ``matchLabels`` and ``matchExpressions`` (In, NotIn, Exists, DoesNotExist); every namespace carries
  the ``kubernetes.io/metadata.name`` label;
* ports: a rule without ports allows all traffic: every port of TCP, UDP and SCTP, and every other IP
  protocol (ICMP among them: Calico, the IKS network plugin, enforces policies on them too), as does a
  pod no policy isolates; ``port`` with ``endPort`` is a
  range; a named port resolves against the container ports of the destination pod (for ingress the
  selected pod, for egress the peer pod), with the protocol of the rule; a name a pod does not
  declare matches nothing on that pod.

**The ipBlock model** (a choice; the conformance data of np-guard/netpol-analyzer and IBM's NCA
encode it): an ``ipBlock`` matches only addresses OUTSIDE the pod network. Pods are reached through
selectors, never through an ipBlock that happens to contain their IP; outside addresses are the
whole IPv4 space, cut into disjoint ranges at every ipBlock ``cidr``/``except`` boundary of the
policies compared, and each range is an endpoint of its own. Real CNIs differ on pod IPs inside
ipBlocks; a static drift check should not depend on which node a pod landed on.

Self-connections (a pod to itself) are never restricted and are not reported.
"""

from __future__ import annotations

import ipaddress
from bisect import bisect_right
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from netwarden.core.flows.algebra import ADDRESSES, Interval, Tree, interval_text
from netwarden.core.model import Cluster, NetworkPolicy, Pod
from netwarden.core.netpol.portset import ALL, NONE, OTHER_PROTOCOLS, PROTOCOL_NAMES, PROTOCOLS, PortSet
from netwarden.core.netpol.selectors import selector_matches

__all__ = ["ALL", "NAME_LABEL", "NONE", "OTHER_PROTOCOLS", "PORTS", "PROTOCOLS", "PROTOCOL_NAMES", "Endpoint",
           "PortSet", "Reachability", "endpoint_text", "key", "reachability"]

PORTS = (1, 65535)
NAME_LABEL = "kubernetes.io/metadata.name"

#: A pod ("namespace/name") or an outside address range (first, last).
Endpoint = str | Interval


#: IPv6 addresses are carried after the IPv4 ones: address ``a`` is ``V6 + a``.
V6 = ADDRESSES[1] + 1
V6_SPACE = (V6, V6 + 2**128 - 1)


def endpoint_text(endpoint: Endpoint) -> str:
    """A pod as ``ns/name``; an outside range as a CIDR when it is one, else ``a.b.c.d-e.f.g.h`` (or IPv6)."""
    if isinstance(endpoint, str):
        return endpoint
    lo, hi = endpoint
    if lo < V6:
        return interval_text(lo, hi)
    first, last = ipaddress.IPv6Address(lo - V6), ipaddress.IPv6Address(hi - V6)
    nets = list(ipaddress.summarize_address_range(first, last))
    return str(nets[0]) if len(nets) == 1 else f"{first}-{last}"


def address_span(cidr: str) -> Interval:
    """A CIDR of either family as its (first, last) in the one address line (IPv6 after IPv4)."""
    net = ipaddress.ip_network(cidr, strict=False)
    base = 0 if net.version == 4 else V6
    return base + int(net.network_address), base + int(net.broadcast_address)


# --- the evaluation -------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Reachability:
    """Allowed connections between every ordered pair of distinct endpoints, without the empty ones.
    ``externals`` are the outside ranges (disjoint, covering IPv4) the pairs use."""

    pods: tuple[str, ...]
    externals: tuple[Interval, ...]
    conns: Mapping[tuple[Endpoint, Endpoint], PortSet] = field(default_factory=dict)

    def get(self, source: Endpoint, destination: Endpoint) -> PortSet:
        return self.conns.get((source, destination), NONE)

    def lines(self) -> list[str]:
        """``src => dst : conns`` per pair, sorted: the shape of netpol-analyzer's connlist."""
        rows = [(endpoint_text(s), endpoint_text(d), c.text()) for (s, d), c in self.conns.items()]
        return [f"{s} => {d} : {c}" for s, d, c in sorted(rows)]


@dataclass(frozen=True, slots=True)
class _Rule:
    pods: frozenset[int]
    externals: frozenset[int]
    numeric: PortSet
    named: tuple[tuple[str, str], ...]  # (port name, protocol)
    numeric_id: int

    def ports_on(self, pod: Pod | None) -> PortSet:
        """The rule's ports against a destination pod (named ports resolve on it; None: outside)."""
        if not self.named or pod is None:
            return self.numeric
        out = self.numeric
        for name, proto in self.named:
            for cp in pod.ports:
                if cp.name == name and (cp.protocol or "TCP") == proto:
                    out = out | PortSet.of(proto, cp.port, cp.port)
        return out


class _Pool:
    """Port sets interned as small ints, with their unions and intersections memoised: a cluster has
    a handful of distinct port sets, and the evaluation combines them hundreds of thousands of times."""

    def __init__(self) -> None:
        self.sets: list[PortSet] = [NONE, ALL]
        self._ids: dict[Tree, int] = {NONE.tree: 0, ALL.tree: 1}
        self._or: dict[tuple[int, int], int] = {}
        self._and: dict[tuple[int, int], int] = {}

    def id(self, ports: PortSet) -> int:
        found = self._ids.get(ports.tree)
        if found is None:
            found = self._ids[ports.tree] = len(self.sets)
            self.sets.append(ports)
        return found

    def union(self, a: int, b: int) -> int:
        if b in (a, 0):
            return a
        if a == 0:
            return b
        found = self._or.get((a, b))
        if found is None:
            found = self._or[(a, b)] = self.id(self.sets[a] | self.sets[b])
        return found

    def inter(self, a: int, b: int) -> int:
        if b in (a, 1):
            return a
        if a == 1:
            return b
        if a == 0 or b == 0:
            return 0
        found = self._and.get((a, b))
        if found is None:
            found = self._and[(a, b)] = self.id(self.sets[a] & self.sets[b])
        return found


@dataclass(frozen=True, slots=True)
class _Context:
    """What compiling and granting rules needs: the pods (and their keys), namespace labels and the
    outside ranges (with their first addresses, for bisection)."""

    pods: Sequence[Pod]
    keys: Sequence[str]
    ns_labels: Mapping[str, Mapping[str, str]]
    ext: Sequence[Interval]
    starts: list[int]
    pool: _Pool


def key(pod: Pod) -> str:
    return f"{pod.namespace}/{pod.name}"


def external_ranges(policies: Iterable[NetworkPolicy]) -> tuple[Interval, ...]:
    """IPv4 cut at every ipBlock cidr/except boundary of ``policies``: the outside endpoints; and IPv6, cut
    the same way, when a policy names an IPv6 block (a dual-stack cluster's policies are evaluated for
    both families, never with the IPv6 blocks dropped)."""
    cuts = {ADDRESSES[0], ADDRESSES[1] + 1}
    for policy in policies:
        for block in _ip_blocks(policy.spec):
            for cidr in (block["cidr"], *(block.get("except") or [])):
                lo, hi = address_span(cidr)
                cuts.update((lo, hi + 1))
                if lo >= V6:
                    cuts.update((V6_SPACE[0], V6_SPACE[1] + 1))
    points = sorted(cuts)
    return tuple((points[i], points[i + 1] - 1) for i in range(len(points) - 1))


def reachability(cluster: Cluster, *, externals: Sequence[Interval] | None = None,
                 namespace_labels: Mapping[str, Mapping[str, str]] | None = None) -> Reachability:
    """Evaluate ``cluster.policies`` over ``cluster.pods``. ``externals`` overrides the outside ranges
    (pass the same to two evaluations to compare them); ``namespace_labels`` overrides the labels of
    ``cluster.namespaces``."""
    pods = list(cluster.pods)
    ext = tuple(externals) if externals is not None else external_ranges(cluster.policies)
    ns_labels = _namespace_labels(cluster, pods, namespace_labels)
    ingress: list[dict[Endpoint, int] | None] = [None] * len(pods)
    egress: list[dict[Endpoint, int] | None] = [None] * len(pods)
    by_ns: dict[str, list[int]] = {}
    for i, pod in enumerate(pods):
        by_ns.setdefault(pod.namespace, []).append(i)
    keys = [key(p) for p in pods]
    pool = _Pool()
    ctx = _Context(pods, keys, ns_labels, ext, [lo for lo, _ in ext], pool)
    for policy in cluster.policies:
        spec = policy.spec
        types = spec.get("policyTypes") or ["Ingress"]
        selected = [i for i in by_ns.get(policy.namespace, [])
                    if selector_matches(spec.get("podSelector") or {}, pods[i].labels)]
        for direction, table, peers_key in (("Ingress", ingress, "from"), ("Egress", egress, "to")):
            if direction not in types:
                continue
            rules = [_compile(r, peers_key, policy.namespace, ctx, by_ns) for r in spec.get(direction.lower()) or []]
            for i in selected:
                allowed = table[i]
                if allowed is None:
                    allowed = table[i] = {}
                for rule in rules:
                    _grant(allowed, rule, i if direction == "Ingress" else None, ctx)
    sets, inter = pool.sets, pool.inter
    conns: dict[tuple[Endpoint, Endpoint], PortSet] = {}
    for s, src in enumerate(keys):
        out = egress[s]
        for d, dst in enumerate(keys):
            if s == d:
                continue
            e = 1 if out is None else out.get(dst, 0)
            if not e:
                continue
            into = ingress[d]
            c = e if into is None else inter(e, into.get(src, 0))
            if c:
                conns[(src, dst)] = sets[c]
        for r in ext:
            e = 1 if out is None else out.get(r, 0)
            if e:
                conns[(src, r)] = sets[e]
    for d, dst in enumerate(keys):
        into = ingress[d]
        for r in ext:
            c = 1 if into is None else into.get(r, 0)
            if c:
                conns[(r, dst)] = sets[c]
    return Reachability(tuple(keys), ext, conns)


def _namespace_labels(cluster: Cluster, pods: Sequence[Pod],
                      override: Mapping[str, Mapping[str, str]] | None) -> dict[str, dict[str, str]]:
    labels = {ns.name: dict(ns.labels) for ns in cluster.namespaces}
    if override is not None:
        labels.update({k: dict(v) for k, v in override.items()})
    for name in {p.namespace for p in pods} | {p.namespace for p in cluster.policies}:
        labels.setdefault(name, {})
    for name, values in labels.items():
        values.setdefault(NAME_LABEL, name)
    return labels


def _compile(rule: Mapping[str, Any], peers_key: str, namespace: str, ctx: _Context,
             by_ns: Mapping[str, list[int]]) -> _Rule:
    pods, ns_labels, ext = ctx.pods, ctx.ns_labels, ctx.ext
    peers = rule.get(peers_key) or []
    if not peers:
        pod_set: set[int] = set(range(len(pods)))
        ext_set: set[int] = set(range(len(ext)))
    else:
        pod_set, ext_set = set(), set()
        for peer in peers:
            if "ipBlock" in peer:
                ext_set |= _block_ranges(peer["ipBlock"], ctx.starts)
                continue
            ns_sel = peer.get("namespaceSelector")
            pod_sel = peer.get("podSelector") or {}
            if ns_sel is None:
                namespaces = [namespace]
            else:
                namespaces = [ns for ns in by_ns if selector_matches(ns_sel, ns_labels.get(ns, {}))]
            for ns in namespaces:
                pod_set.update(i for i in by_ns.get(ns, ()) if selector_matches(pod_sel, pods[i].labels))
    numeric = NONE
    named: list[tuple[str, str]] = []
    ports = rule.get("ports") or []
    if not ports:
        numeric = ALL
    for port in ports:
        proto = str(port.get("protocol") or "TCP")
        if proto not in PROTOCOLS:
            continue
        value = port.get("port")
        if value is None:
            numeric = numeric | PortSet.of(proto)
        elif isinstance(value, str) and not value.isdigit():
            named.append((value, proto))
        else:
            low = int(value)
            high = int(port.get("endPort") or low)
            if low <= high:
                numeric = numeric | PortSet.of(proto, low, high)
    return _Rule(frozenset(pod_set), frozenset(ext_set), numeric, tuple(named), ctx.pool.id(numeric))


def _block_ranges(block: Mapping[str, Any], starts: list[int]) -> set[int]:
    """Indices of the outside ranges inside ``cidr`` and outside every ``except``."""
    def span(cidr: str) -> tuple[int, int] | None:
        lo, hi = address_span(cidr)
        if lo >= V6 and (not starts or starts[-1] < V6):
            return None  # outside ranges given without IPv6 (``externals``): nothing of it to match
        return bisect_right(starts, lo) - 1, bisect_right(starts, hi) - 1

    whole = span(block["cidr"])
    if whole is None:
        return set()
    out = set(range(whole[0], whole[1] + 1))
    for cidr in block.get("except") or []:
        cut = span(cidr)
        if cut is not None:
            out -= set(range(cut[0], cut[1] + 1))
    return out


def _grant(allowed: dict[Endpoint, int], rule: _Rule, target: int | None, ctx: _Context) -> None:
    """Add what ``rule`` allows to ``allowed`` (peer -> interned port set). ``target``: the selected
    pod for ingress (named ports resolve on it); None for egress (they resolve on each peer pod)."""
    pods, keys, ext, pool = ctx.pods, ctx.keys, ctx.ext, ctx.pool
    union = pool.union
    if target is not None:
        ports = pool.id(rule.ports_on(pods[target])) if rule.named else rule.numeric_id
        if ports:
            for p in rule.pods:
                allowed[keys[p]] = union(allowed.get(keys[p], 0), ports)
            for r in rule.externals:
                allowed[ext[r]] = union(allowed.get(ext[r], 0), ports)
        return
    for p in rule.pods:
        ports = pool.id(rule.ports_on(pods[p])) if rule.named else rule.numeric_id
        if ports:
            allowed[keys[p]] = union(allowed.get(keys[p], 0), ports)
    if rule.numeric_id:
        for r in rule.externals:
            allowed[ext[r]] = union(allowed.get(ext[r], 0), rule.numeric_id)


def _ip_blocks(spec: Mapping[str, Any]) -> Iterable[Mapping[str, Any]]:
    for direction, peers_key in (("ingress", "from"), ("egress", "to")):
        for rule in spec.get(direction) or []:
            for peer in rule.get(peers_key) or []:
                if "ipBlock" in peer:
                    yield peer["ipBlock"]
