"""``netwarden explain`` for a pod or a workload: the cluster's NetworkPolicies beside the VPC's layers.

A pod is named ``[CLUSTER/]NAMESPACE/NAME``: a pod of that name, or a workload of that name (the
baseline's ``workloads.yaml`` entry), whose pods are those of its namespace that carry all its
labels. Traffic between a pod and an outside address crosses two kinds of layer:

* the NetworkPolicies (``core.netpol.reachability``): the pod is isolated in that direction when a
  policy selects it, and then some rule of those policies must admit the peer, port and protocol; a
  pod no policy isolates lets everything through. The deciding rules are found by evaluating each
  rule of each isolating policy alone;
* the VPC's layers at the worker subnet the pod runs on: the subnet's ACL, the workers' security
  groups, the public gateway (``core.reach.explain``). The snapshot does not say which node a pod
  is on, so every worker subnet of the cluster is answered: the flow reaches the pod where every
  layer lets it through, and the verdict is ``allowed`` only if that holds at every worker subnet.

Between two pods only the NetworkPolicies are asked (both the source's egress and the
destination's ingress): the workers' own traffic between subnets is not a question about the pods.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import replace

from netwarden.core.acl import evaluate as acl_eval
from netwarden.core.flows.algebra import (
    ADDRESSES,
    PORTS,
    TCP,
    UDP,
    FlowSet,
    Interval,
    box_tree,
    boxes,
    cidr_interval,
    class_ranges,
    union_all,
)
from netwarden.core.model import Cluster, NetworkPolicy, Pod, Snapshot, Subnet, Vpc
from netwarden.core.netpol.portset import ALL, PortSet
from netwarden.core.netpol.reachability import Endpoint, external_ranges, key, reachability
from netwarden.core.netpol.selectors import selector_matches
from netwarden.core.reach.explain import Answer, Layer, Question, explain, verdict_of

NP_LAYER = "NetworkPolicies"
ADDRESSES_TEXT = "0.0.0.0/0"


def parse_target(text: str) -> tuple[str | None, str, str] | None:
    """``[CLUSTER/]NAMESPACE/NAME`` -> (cluster or None, namespace, name); None for any other shape."""
    parts = text.split("/")
    if len(parts) == 2 and all(parts):
        return None, parts[0], parts[1]
    if len(parts) == 3 and all(parts):
        return parts[0], parts[1], parts[2]
    return None


def find_pods(snapshot: Snapshot, target: tuple[str | None, str, str],
              workloads: Iterable[Cluster] = ()) -> tuple[Cluster, tuple[Pod, ...]] | None:
    """The cluster and pods ``target`` names in ``snapshot``: a pod of that name, else the pods carrying
    the labels of the workload of that name (in ``snapshot`` or in ``workloads``, the baseline's)."""
    cluster_name, namespace, name = target
    clusters = [c for c in snapshot.clusters if cluster_name is None or c.name == cluster_name]
    for cluster in clusters:
        exact = tuple(p for p in cluster.pods if p.namespace == namespace and p.name == name)
        if exact:
            return cluster, exact
    for cluster in clusters:
        declared = [p for c in (cluster, *workloads) if c.name == cluster.name for p in c.pods
                    if p.namespace == namespace and p.name == name and p.labels]
        for workload in declared:
            pods = tuple(p for p in cluster.pods if p.namespace == namespace
                         and all(p.labels.get(k) == v for k, v in workload.labels.items()))
            if pods:
                return cluster, pods
    return None


def wanted_ports(question: Question) -> PortSet:
    """The (protocol, port) the question asks about, as a NetworkPolicy sees it."""
    if question.protocol == "any":
        return ALL
    if question.protocol == "icmp":
        return PortSet(box_tree([(1, 1), (0, 0)]))
    low, high = (question.port, question.port) if question.port is not None else (1, 65535)
    return PortSet.of(question.protocol.upper(), low, high)


def explain_pod(vpcs: Sequence[Vpc], cluster: Cluster, pods: Sequence[Pod], question: Question, *, peer: str,
                direction: str, target: str) -> Answer:
    """The answer for traffic between ``pods`` and the outside range ``peer``, into the pods (``inbound``)
    or out of them (``outbound``), ``target`` naming them as asked."""
    span = cidr_interval(peer)
    assert span is not None
    policy = _policy_layer(cluster, pods, span, wanted_ports(question), direction)
    at_subnets = []
    for vpc, subnet in worker_subnets(vpcs, cluster):
        assert subnet.cidr is not None
        ends = (peer, subnet.cidr) if direction == "inbound" else (subnet.cidr, peer)
        at_subnets.append(explain(vpc, subnet, replace(question, source=ends[0], destination=ends[1]), direction))
    layers = [policy, *(replace(layer, name=f"worker subnet {a.subnet}: {layer.name}")
                        for a in at_subnets for layer in a.layers)]
    wanted = _outside(question, span, direction)
    if not at_subnets:
        layers.append(Layer("worker subnets", "blocked", (f"no worker subnet of {cluster.scope} is in the state",)))
        passes = FlowSet()
    else:
        passes = wanted & policy.allowed
        for answer in at_subnets:  # the pod may be on any of them: what gets through at all of them
            passes &= _forget_local(answer.allowed, direction)
    shown = tuple(_named(text, target, direction) for text in acl_eval.examples(passes, within=passes)) if passes \
        else ()
    return Answer(cluster.scope, target, direction, verdict_of(passes, wanted), tuple(layers), shown, passes,
                  at="pod")


def explain_pods(cluster: Cluster, sources: Sequence[Pod], destinations: Sequence[Pod], question: Question,
                 target: str) -> Answer:
    """Between two sets of pods of ``cluster``: the NetworkPolicies of both ends."""
    ports = wanted_ports(question)
    reach = reachability(replace(cluster, pods=_distinct(*sources, *destinations)), externals=[ADDRESSES])
    got = [reach.get(key(s), key(d)) & ports for s in sources for d in destinations if key(s) != key(d)]
    full = all(g == ports for g in got) and bool(got)
    none = not any(got)
    deciding = [*_deciding(cluster, sources, ports, "Egress", span=None, peers=destinations),
                *_deciding(cluster, destinations, ports, "Ingress", span=None, peers=sources)]
    verdict = "blocked" if none else "allowed" if full else "partly"
    return Answer(cluster.scope, target, f"from {question.source}", verdict,
                  (Layer(NP_LAYER, verdict, tuple(deciding)),), at="pod")


def _named(example: str, target: str, direction: str) -> str:
    """An example flow with the pods' side (any address, see ``_outside``) named as asked."""
    anywhere = ADDRESSES_TEXT
    if direction == "inbound" and example.endswith(f" to {anywhere}"):
        return f"{example.removesuffix(f' to {anywhere}')} to {target}"
    return example.replace(f" from {anywhere} ", f" from {target} ", 1)


def worker_subnets(vpcs: Sequence[Vpc], cluster: Cluster) -> list[tuple[Vpc, Subnet]]:
    """The subnets (with a CIDR) the cluster's workers run on, by id or name."""
    wanted = set(cluster.worker_subnets)
    return [(vpc, s) for vpc in vpcs for s in vpc.subnets if s.cidr and (s.id in wanted or s.name in wanted)]


def _distinct(*pods: Pod) -> tuple[Pod, ...]:
    return tuple({key(p): p for p in pods}.values())


def _outside(question: Question, span: Interval, direction: str) -> FlowSet:
    """The question's flows with the pods' side any address: the policy layer names no address for them."""
    side = {"source": span} if direction == "inbound" else {"destination": span}
    numbers = acl_eval.protocol_numbers(question.protocol)[0]
    port = (question.port, question.port) if question.port is not None else None
    whole = FlowSet.box(numbers, ADDRESSES, ADDRESSES, None, port if question.protocol in ("tcp", "udp") else None)
    return whole.restrict(**side)


def _forget_local(flows: FlowSet, direction: str) -> FlowSet:
    """``flows`` with the subnet's side widened to every address (compared with the policy layer)."""
    parts = []
    for protocols, source, destination, a, b in flows.boxes():
        src, dst = (source, ADDRESSES) if direction == "inbound" else (ADDRESSES, destination)
        parts.append(FlowSet(box_tree([protocols, src, dst, a, b])))
    return union_all(parts)


def _as_flows(ports: PortSet, span: Interval, direction: str) -> FlowSet:
    """A policy verdict for the outside range ``span`` as flows (the pods' side any address)."""
    parts = []
    src, dst = (span, ADDRESSES) if direction == "inbound" else (ADDRESSES, span)
    for (plo, phi), (lo, hi) in boxes(ports.tree):
        for first, last in class_ranges(plo, phi):
            if first in (TCP, UDP):
                parts.append(FlowSet.box((first, last), src, dst, None, (lo, hi)))
            elif lo == 0 or (lo, hi) == PORTS:  # a flow set keeps no ports for SCTP: only all of them count
                parts.append(FlowSet.box((first, last), src, dst))
    return union_all(parts)


def _policy_layer(cluster: Cluster, pods: Sequence[Pod], span: Interval, ports: PortSet, direction: str) -> Layer:
    cuts = _cut(external_ranges(cluster.policies), span)
    reach = reachability(replace(cluster, pods=_distinct(*pods)), externals=cuts)
    inside = _inside(cuts, span)
    allowed = FlowSet()
    for pod in pods:
        here = FlowSet()
        for r in inside:
            got = (reach.get(r, key(pod)) if direction == "inbound" else reach.get(key(pod), r)) & ports
            if got:
                here |= _as_flows(got, r, direction)
        allowed = here if pod is pods[0] else allowed & here
    wanted = _as_flows(ports, span, direction)
    kind = "Ingress" if direction == "inbound" else "Egress"
    deciding = _deciding(cluster, pods, ports, kind, span=span, peers=())
    return Layer(NP_LAYER, verdict_of(allowed, wanted), tuple(deciding), allowed)


def _cut(ranges: Sequence[Interval], span: Interval) -> tuple[Interval, ...]:
    """``ranges`` (disjoint, covering IPv4) cut again at the edges of ``span``."""
    out: list[Interval] = []
    for lo, hi in ranges:
        points = sorted({lo, hi + 1} | {p for p in (span[0], span[1] + 1) if lo < p <= hi})
        out.extend((points[i], points[i + 1] - 1) for i in range(len(points) - 1))
    return tuple(out)


def _inside(cuts: Sequence[Interval], span: Interval) -> list[Interval]:
    """The ranges of ``cuts`` (cut at ``span``'s edges, ``_cut``) that make up ``span``."""
    return [r for r in cuts if span[0] <= r[0] and r[1] <= span[1]]


def _deciding(cluster: Cluster, pods: Sequence[Pod], ports: PortSet, kind: str, *, span: Interval | None,
              peers: Sequence[Pod]) -> list[str]:
    """Per pod: which policies isolate it in ``kind`` and which of their rules admit (part of) the flow, each
    evaluated alone; or that none isolates it."""
    out = []
    for pod in pods:
        isolating = [p for p in cluster.policies if p.namespace == pod.namespace
                     and kind in (p.spec.get("policyTypes") or ["Ingress"])
                     and selector_matches(p.spec.get("podSelector") or {}, pod.labels)]
        who = f"{kind.lower()} of {key(pod)}"
        if not isolating:
            out.append(f"{who}: no policy isolates it: allowed")
            continue
        admitting = [f"{who}: policy {p.name} rule {i + 1}" for p in isolating
                     for i in range(len(p.spec.get(kind.lower()) or []))
                     if _admits(cluster, _alone(p, kind, i), pod, ports, kind=kind, span=span, peers=peers)]
        names = ", ".join(p.name for p in isolating)
        out.extend(admitting or [f"{who}: isolated by {names}; no rule admits it"])
    return out


def _alone(policy: NetworkPolicy, kind: str, index: int) -> NetworkPolicy:
    spec = dict(policy.spec)
    spec[kind.lower()] = [spec[kind.lower()][index]]
    spec["policyTypes"] = [kind]
    return replace(policy, spec=spec)


def _admits(cluster: Cluster, policy: NetworkPolicy, pod: Pod, ports: PortSet, *, kind: str, span: Interval | None,
            peers: Sequence[Pod]) -> bool:
    alone = replace(cluster, policies=(policy,), pods=_distinct(pod, *peers))
    ends: list[tuple[Endpoint, Endpoint]]
    if span is not None:
        cuts = _cut(external_ranges(alone.policies), span)
        reach = reachability(alone, externals=cuts)
        ends = [(r, key(pod)) if kind == "Ingress" else (key(pod), r) for r in _inside(cuts, span)]
    else:
        reach = reachability(alone, externals=[ADDRESSES])
        ends = [(key(p), key(pod)) if kind == "Ingress" else (key(pod), key(p)) for p in peers if key(p) != key(pod)]
    return any(reach.get(s, d) & ports for s, d in ends)
