"""The impact of NetworkPolicy and namespace-label drift: which pod pairs gained or lost connections.

The baseline holds policies and namespace labels, not pods; the pods are the live ones. So both
sides are evaluated over the same live pods: the baseline's policies and labels for the namespaces
the baseline manages (the live ones elsewhere, which are not drift), against the live policies and
labels. A policy can only change the pairs whose destination it selects (ingress) or whose source it
selects (egress); a namespace's labels only the pairs with a pod of that namespace as the peer. Each
finding's impact is the semantic diff restricted to those pairs.

Breakage: a pod that could resolve names (udp or tcp 53 to the cluster DNS pods, labelled
``k8s-app: kube-dns``) and no longer can.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from typing import Any

from netwarden.core.findings import Finding, Impact
from netwarden.core.model import Cluster, Namespace, NetworkPolicy, Pod, Snapshot
from netwarden.core.netpol.reachability import PortSet, key
from netwarden.core.netpol.reachability_diff import PairChange, compare, diff
from netwarden.core.netpol.selectors import selector_matches

EXAMPLES = 5
DNS = PortSet.of("UDP", 53, 53) | PortSet.of("TCP", 53, 53)
DNS_LABEL = ("k8s-app", "kube-dns")


class NetpolImpact:
    """Per cluster, the semantic diff computed once; per finding, the part of it the finding explains."""

    def __init__(self, baseline: Snapshot, live: Snapshot) -> None:
        self.baseline = baseline
        self.live = live
        self._changes: dict[str, list[PairChange] | None] = {}

    def impact(self, finding: Finding) -> Impact:
        ref = finding.resource
        assert ref.cluster is not None
        changes = self._cluster_changes(ref.cluster)
        if changes is None:
            return Impact("unknown", summary="no live pods known: reachability needs the pods the policies select")
        live_cluster = self.live.cluster(ref.cluster)
        assert live_cluster is not None
        pods = {key(p): p for p in live_cluster.pods}
        if finding.code == "namespace-labels-changed":
            ns = ref.namespace
            own = self._relabel_changes(ref.cluster, ns or "")
            touched = [c for c in own if _in_namespace(c.source, ns) or _in_namespace(c.destination, ns)]
        else:
            touched = self._policy_changes(finding, changes, pods)
        return _impact(touched, pods)

    def _cluster_changes(self, name: str) -> list[PairChange] | None:
        if name not in self._changes:
            base, live = self.baseline.cluster(name), self.live.cluster(name)
            if base is None or live is None or not live.pods:
                self._changes[name] = None
            else:
                before, after = compare(_as_baseline(base, live), live)
                self._changes[name] = diff(before, after)
        return self._changes[name]

    def _relabel_changes(self, name: str, namespace: str) -> list[PairChange]:
        """The pairs that the live labels of ``namespace`` alone change: the baseline's policies and
        labels against the same with that one namespace relabelled, so that policy drift elsewhere in
        the cluster is not counted as the relabelling's."""
        base, live = self.baseline.cluster(name), self.live.cluster(name)
        assert base is not None and live is not None
        before = _as_baseline(base, live)
        relabelled = next((n for n in live.namespaces if n.name == namespace), None)
        if relabelled is None:
            return []
        namespaces = tuple(relabelled if n.name == namespace else n for n in before.namespaces)
        return diff(*compare(before, replace(before, namespaces=namespaces)))

    def _policy_changes(self, finding: Finding, changes: list[PairChange], pods: Mapping[str, Pod]) -> list[PairChange]:
        ref = finding.resource
        specs = []
        for snap in (self.baseline, self.live):
            cluster = snap.cluster(ref.cluster or "")
            policy = next((p for p in cluster.policies if p.namespace == ref.namespace and p.name == ref.name),
                          None) if cluster else None
            if policy is not None:
                specs.append(policy.spec)
        ingress: set[str] = set()
        egress: set[str] = set()
        for spec in specs:
            selected = {k for k, p in pods.items()
                        if p.namespace == ref.namespace and selector_matches(spec.get("podSelector") or {}, p.labels)}
            types = spec.get("policyTypes") or ["Ingress"]
            if "Ingress" in types:
                ingress |= selected
            if "Egress" in types:
                egress |= selected
        return [c for c in changes if c.destination in ingress or c.source in egress]


def _as_baseline(base: Cluster, live: Cluster) -> Cluster:
    """The live pods under the baseline's policies and labels where the baseline manages the
    namespace, and the live ones where it does not."""
    managed = {ns.name for ns in base.namespaces} | {p.namespace for p in base.policies}
    policies: list[NetworkPolicy] = list(base.policies) + [p for p in live.policies if p.namespace not in managed]
    namespaces: list[Namespace] = list(base.namespaces) + [n for n in live.namespaces if n.name not in managed]
    return Cluster(live.name, tuple(namespaces), tuple(policies), live.pods, live.worker_subnets)


def _in_namespace(endpoint: Any, namespace: str | None) -> bool:
    return isinstance(endpoint, str) and endpoint.split("/", 1)[0] == namespace


def _impact(changes: list[PairChange], pods: Mapping[str, Pod]) -> Impact:
    opened = [c for c in changes if c.opened]
    closed = [c for c in changes if c.closed]
    breakage = sorted({f"DNS for {c.source}: {', '.join(c.examples(opened=False))}" for c in closed
                       if _is_dns(c.destination, pods) and (c.closed & DNS)})
    if opened:
        state, shown = "widened", _examples(opened, opened=True)
    elif closed:
        state, shown = "narrowed", _examples(closed, opened=False)
    else:
        return Impact("unchanged", summary="no pod pair gains or loses a connection")
    summary = f"{len(opened)} pair(s) gain connections, {len(closed)} lose some"
    return Impact(state, shown, tuple(breakage), summary)


def _examples(changes: list[PairChange], *, opened: bool) -> tuple[str, ...]:
    """Widest first: outside ranges (biggest first), then pod pairs."""
    def rank(c: PairChange) -> tuple[int, str]:
        far = c.source if isinstance(c.source, tuple) else c.destination
        width = (far[1] - far[0]) if isinstance(far, tuple) else -1
        return (-width, str(c.source) + str(c.destination))

    out: list[str] = []
    for change in sorted(changes, key=rank):
        for text in change.examples(opened=opened):
            if text not in out:
                out.append(text)
            if len(out) == EXAMPLES:
                return tuple(out)
    return tuple(out)


def _is_dns(endpoint: Any, pods: Mapping[str, Pod]) -> bool:
    pod = pods.get(endpoint) if isinstance(endpoint, str) else None
    return pod is not None and pod.labels.get(DNS_LABEL[0]) == DNS_LABEL[1]
