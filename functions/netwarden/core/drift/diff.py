"""Baseline x live -> findings: what drifted, one finding for one drift.

Only what the baseline covers is compared: its VPCs (their ACLs and subnets) and its clusters (their
managed namespaces, i.e. those the baseline names, and the NetworkPolicies in them). A live ACL,
subnet or namespace the baseline does not know is not drift. A scope the live side could not read
(``Snapshot.unreadable``: a region, a VPC, a cluster, or anything below them by path) produces no
finding at all, never a "missing" one: unreadable is not empty. Nor does a part of the baseline the live
read was not configured to cover (``Snapshot.scope``; ``core.drift.scope`` sets it aside): out of scope
is not missing either.

ACL rule lists are compared by position (``core.acl.rule_diff``); NetworkPolicy specs are already
canonical (``core.normalize``), so their order-free parts compare by value and a change is detailed
field by field; security groups as sets (``core.drift.sg_diff``). ``subnet-allow-all`` is decided from
the rules of the live attached ACL (first-match, ``core.acl.evaluate``), never from its name, and
replaces ``subnet-acl-changed`` for that subnet. Everything is indexed by name first, so the work is
linear in the size of the estate.
"""

from __future__ import annotations

import functools
import ipaddress
import json
from collections import Counter
from collections.abc import Iterator, Mapping
from typing import Any

from netwarden.core.acl import evaluate as acl_eval
from netwarden.core.acl.rule_diff import diff_acl
from netwarden.core.drift.scope import split
from netwarden.core.drift.sg_diff import diff_groups
from netwarden.core.drift.workloads import workload_findings
from netwarden.core.findings import Finding, ResourceRef, make
from netwarden.core.flows.algebra import FlowSet
from netwarden.core.model import AclRule, Cluster, NetworkAcl, NetworkPolicy, Snapshot, Subnet, Vpc


def diff(baseline: Snapshot, live: Snapshot, *, ibm_churn: bool = True,
         churn: Counter[tuple[str, str]] | None = None) -> list[Finding]:
    """Every finding of ``live`` against ``baseline``, in baseline order. With ``ibm_churn`` (the
    default), the changes IBM documents making to its own security groups are no finding; ``churn``
    counts them by (group path, reason)."""
    return list(diff_iter(baseline, live, ibm_churn=ibm_churn, churn=churn))


def diff_iter(baseline: Snapshot, live: Snapshot, *, ibm_churn: bool = True,
              churn: Counter[tuple[str, str]] | None = None) -> Iterator[Finding]:
    baseline = split(baseline, live.scope)[0]
    live_vpcs = {(v.region, v.name): v for v in live.vpcs}
    for vpc in baseline.vpcs:
        if not live.is_unreadable(vpc.scope):
            yield from _diff_vpc(vpc, live_vpcs.get((vpc.region, vpc.name)), live, ibm_churn=ibm_churn, churn=churn)
    live_clusters = {c.name: c for c in live.clusters}
    checked = {s.name for vpc in baseline.vpcs if not live.is_unreadable(vpc.scope) for s in vpc.subnets}
    for cluster in baseline.clusters:
        if not live.is_unreadable(cluster.scope):
            live_cluster = live_clusters.get(cluster.name) or Cluster(name=cluster.name)
            yield from _diff_cluster(cluster, live_cluster, live)
            yield from (f for f in workload_findings(cluster, live_cluster, live, checked)
                        if not live.is_unreadable(f"{cluster.scope}/{f.resource.namespace}"))


# --- VPCs ----------------------------------------------------------------------------------------


def _diff_vpc(base: Vpc, live_vpc: Vpc | None, live: Snapshot, *, ibm_churn: bool,
              churn: Counter[tuple[str, str]] | None) -> Iterator[Finding]:
    absent = "" if live_vpc is not None else f" (VPC {base.name} does not exist in {base.region})"
    live_acls = {a.name: a for a in live_vpc.acls} if live_vpc is not None else {}
    for acl in base.acls:
        ref = ResourceRef("network-acl", region=base.region, vpc=base.name, acl=acl.name)
        if live.is_unreadable(ref.path):
            continue
        found = live_acls.get(acl.name)
        if found is None:
            yield make("acl-missing", ref, f"ACL {acl.name} does not exist{absent}",
                       baseline={"rules": len(acl.rules)})
        else:
            yield from diff_acl(base.region, base.name, acl, found)
    subnets = _SubnetDiff(base, live_acls)
    live_subnets = {s.name: s for s in live_vpc.subnets} if live_vpc is not None else {}
    for subnet in base.subnets:
        ref = ResourceRef("subnet", region=base.region, vpc=base.name, subnet=subnet.name)
        if live.is_unreadable(ref.path):
            continue
        live_subnet = live_subnets.get(subnet.name)
        if live_subnet is None:
            yield make("subnet-missing", ref, f"subnet {subnet.name} does not exist{absent}",
                       baseline=_subnet_data(subnet))
        else:
            yield from subnets.diff(ref, subnet, live_subnet)
    groups = diff_groups(base, live_vpc, churn=churn, expected_churn=ibm_churn)
    yield from (f for f in groups if not live.is_unreadable(f.resource.path))


class _SubnetDiff:
    """Subnet comparisons of one VPC, with the first-match results they need computed once per ACL."""

    def __init__(self, base: Vpc, live_acls: Mapping[str, NetworkAcl]) -> None:
        self.base_acls = {a.name: a for a in base.acls}
        self.live_acls = live_acls
        self._same: dict[str, bool] = {}
        self._allows: dict[tuple[str, str, str | None], bool] = {}
        self._flows: dict[tuple[str, str], FlowSet] = {}

    def diff(self, ref: ResourceRef, base: Subnet, live: Subnet) -> Iterator[Finding]:
        name = base.name
        allow_all = self._became_allow_all(base, live)
        if allow_all:
            yield make("subnet-allow-all", ref,
                       f"subnet {name}: its ACL {live.network_acl} lets all traffic in from 0.0.0.0/0"
                       + (f" (baseline: {base.network_acl})" if base.network_acl != live.network_acl else ""),
                       baseline={"network_acl": base.network_acl}, live={"network_acl": live.network_acl})
        elif base.network_acl != live.network_acl:
            yield make("subnet-acl-changed", ref,
                       f"subnet {name} uses ACL {_show(live.network_acl)} instead of {_show(base.network_acl)}",
                       baseline={"network_acl": base.network_acl}, live={"network_acl": live.network_acl})
        bg, lg = base.public_gateway, live.public_gateway
        if bg == lg:
            return
        data = {"baseline": {"public_gateway": bg}, "live": {"public_gateway": lg}}
        if bg is None:
            yield make("gateway-attached", ref,
                       f"subnet {name} has public gateway {lg} attached; the baseline has none", **data)
        elif lg is None:
            yield make("gateway-detached", ref, f"subnet {name} lost its public gateway {bg}", **data)
        else:
            yield make("gateway-changed", ref, f"subnet {name} uses public gateway {lg} instead of {bg}", **data)

    def _became_allow_all(self, base: Subnet, live: Subnet) -> bool:
        """Whether the live ACL lets everything in to the subnet and the baseline's did not."""
        acl = live.network_acl
        if acl is None or acl not in self.live_acls:
            return False
        if acl == base.network_acl and self._unchanged(acl):
            return False  # same rules on both sides: nothing can have opened
        destination = live.cidr or base.cidr
        if not self._allows_all("live", acl, destination):
            return False
        if base.network_acl is None:
            return True
        side = "base" if base.network_acl in self.base_acls else "live"
        if side == "live" and base.network_acl not in self.live_acls:
            return True  # the baseline's ACL is unknown on both sides: it is not known to allow all
        return not self._allows_all(side, base.network_acl, destination)

    def _unchanged(self, acl: str) -> bool:
        if acl not in self._same:
            b, lv = self.base_acls.get(acl), self.live_acls.get(acl)
            self._same[acl] = b is not None and lv is not None and b.rules == lv.rules
        return self._same[acl]

    def _allows_all(self, side: str, acl: str, destination: str | None) -> bool:
        key = (side, acl, destination)
        if key not in self._allows:
            rules = (self.base_acls if side == "base" else self.live_acls)[acl].rules
            if not _sources_cover_everything(rules):
                self._allows[key] = False  # the exact evaluation cannot say otherwise; skip its cost
            else:
                if (side, acl) not in self._flows:
                    self._flows[(side, acl)] = acl_eval.allowed_flows(rules, "inbound")
                self._allows[key] = acl_eval.all_traffic(destination).issubset(self._flows[(side, acl)])
        return self._allows[key]


def _sources_cover_everything(rules: tuple[AclRule, ...]) -> bool:
    """A necessary condition for letting all traffic in: the sources of the inbound allow rules
    together cover every IPv4 address. Most custom ACLs fail it at once, without a flow evaluation."""
    spans = sorted(_span(r.source) for r in rules if r.direction == "inbound" and r.action == "allow")
    spans = [(low, high) for low, high in spans if low <= high]
    reach = 0
    for low, high in spans:
        if low > reach:
            return False
        reach = max(reach, high + 1)
    return reach > 0xFFFFFFFF


@functools.lru_cache(maxsize=65536)
def _span(cidr: str) -> tuple[int, int]:
    """The first and last IPv4 address of ``cidr`` as integers ((1, 0), an empty span, for IPv6)."""
    network = ipaddress.ip_network(cidr, strict=False)
    if network.version != 4:
        return (1, 0)
    return int(network.network_address), int(network.broadcast_address)


def _subnet_data(subnet: Subnet) -> dict[str, Any]:
    return {"network_acl": subnet.network_acl, "public_gateway": subnet.public_gateway}


# --- clusters ------------------------------------------------------------------------------------


def _diff_cluster(base: Cluster, live_cluster: Cluster | None, live: Snapshot) -> Iterator[Finding]:
    live_cluster = live_cluster or Cluster(name=base.name)
    managed = {n.name for n in base.namespaces} | {p.namespace for p in base.policies}

    def readable(namespace: str) -> bool:
        return not live.is_unreadable(f"{base.scope}/{namespace}")

    live_policies = {(p.namespace, p.name): p for p in live_cluster.policies}
    base_keys = set()
    for policy in base.policies:
        base_keys.add((policy.namespace, policy.name))
        if not readable(policy.namespace):
            continue
        found = live_policies.get((policy.namespace, policy.name))
        ref = _policy_ref(base.name, policy)
        if found is None:
            yield make("netpol-missing", ref, f"NetworkPolicy {policy.key} does not exist",
                       baseline={"spec": dict(policy.spec)})
        elif found.spec != policy.spec:
            yield _netpol_changed(ref, policy, found)
    for policy in live_cluster.policies:
        key = (policy.namespace, policy.name)
        if policy.namespace in managed and key not in base_keys and readable(policy.namespace):
            yield make("netpol-unexpected", _policy_ref(base.name, policy),
                       f"NetworkPolicy {policy.key} is not in the baseline", live={"spec": dict(policy.spec)})
    selector_keys = _namespace_selector_keys(base.policies) | _namespace_selector_keys(live_cluster.policies)
    live_namespaces = {n.name: n for n in live_cluster.namespaces}
    for ns in base.namespaces:
        if not readable(ns.name):
            continue
        found_ns = live_namespaces.get(ns.name)
        keys = set(ns.labels) | selector_keys
        before = {k: v for k, v in ns.labels.items() if k in keys}
        after = {k: v for k, v in found_ns.labels.items() if k in keys} if found_ns is not None else {}
        ref = ResourceRef("namespace", cluster=base.name, namespace=ns.name, name=ns.name)
        if found_ns is None and before:
            yield make("namespace-labels-changed", ref, f"namespace {ns.name} does not exist: its labels are gone",
                       baseline={"labels": before}, live={"labels": {}, "exists": False})
        elif found_ns is not None and before != after:
            yield make("namespace-labels-changed", ref, f"namespace {ns.name}: {_label_changes(before, after)}",
                       baseline={"labels": before}, live={"labels": after})


def _policy_ref(cluster: str, policy: NetworkPolicy) -> ResourceRef:
    return ResourceRef("network-policy", cluster=cluster, namespace=policy.namespace, name=policy.name)


def _netpol_changed(ref: ResourceRef, base: NetworkPolicy, live: NetworkPolicy) -> Finding:
    changes = spec_changes(base.spec, live.spec)
    shown = "; ".join(_change_text(path, old, new) for path, (old, new) in list(changes.items())[:4])
    more = f" and {len(changes) - 4} more" if len(changes) > 4 else ""
    return make("netpol-changed", ref, f"NetworkPolicy {base.key} differs: {shown}{more}",
                baseline={"spec": dict(base.spec), "changed": {p: old for p, (old, _) in changes.items()}},
                live={"spec": dict(live.spec), "changed": {p: new for p, (_, new) in changes.items()}})


def spec_changes(base: Mapping[str, Any], live: Mapping[str, Any]) -> dict[str, tuple[Any, Any]]:
    """``{"ingress[0].ports[0].port": (443, 8443), ...}``: the changed, added (None, x) and removed
    (x, None) parts of two canonical specs. Lists are compared as multisets (their order means
    nothing): what both sides hold is no change, and what is left is paired in order when both sides
    have as many left, else reported added or removed."""
    out: dict[str, tuple[Any, Any]] = {}
    _walk(base, live, [], out)
    return dict(sorted(out.items()))


def _walk(base: Any, live: Any, path: list[Any], out: dict[str, tuple[Any, Any]]) -> None:
    if base == live:
        return
    if isinstance(base, Mapping) and isinstance(live, Mapping):
        for key in sorted(set(base) | set(live), key=str):
            if key not in live:
                out[_dotted([*path, key])] = (base[key], None)
            elif key not in base:
                out[_dotted([*path, key])] = (None, live[key])
            else:
                _walk(base[key], live[key], [*path, key], out)
        return
    if isinstance(base, list) and isinstance(live, list):
        left_b, left_l = _unmatched(base, live), _unmatched(live, base)
        if len(left_b) == len(left_l):
            for (_, b), (j, lv) in zip(left_b, left_l, strict=True):
                _walk(b, lv, [*path, j], out)
            return
        for i, b in left_b:
            out[_dotted([*path, i])] = (b, None)
        for j, lv in left_l:
            out[_dotted([*path, j])] = (None, lv)
        return
    out[_dotted(path)] = (base, live)


def _unmatched(items: list[Any], others: list[Any]) -> list[tuple[int, Any]]:
    """(index, item) of ``items`` that ``others`` does not hold (as many times)."""
    available = Counter(_compact(x) for x in others)
    left = []
    for i, item in enumerate(items):
        key = _compact(item)
        if available[key]:
            available[key] -= 1
        else:
            left.append((i, item))
    return left


def _dotted(parts: list[Any]) -> str:
    out = ""
    for part in parts:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out or "spec"


def _change_text(path: str, old: Any, new: Any) -> str:
    if old is None:
        return f"{path} added: {_compact(new)}"
    if new is None:
        return f"{path} removed: {_compact(old)}"
    return f"{path} {_compact(old)} -> {_compact(new)}"


def _compact(value: Any) -> str:
    return value if isinstance(value, str) else json.dumps(value, sort_keys=True, separators=(",", ":"))


def _namespace_selector_keys(policies: tuple[NetworkPolicy, ...]) -> set[str]:
    """The namespace label keys any namespaceSelector of ``policies`` matches on."""
    keys: set[str] = set()
    for policy in policies:
        for direction, peers_key in (("ingress", "from"), ("egress", "to")):
            for rule in policy.spec.get(direction) or []:
                for peer in rule.get(peers_key) or []:
                    selector = peer.get("namespaceSelector") or {}
                    keys.update(selector.get("matchLabels") or {})
                    keys.update(e["key"] for e in selector.get("matchExpressions") or [])
    return keys


def _label_changes(before: Mapping[str, str], after: Mapping[str, str]) -> str:
    parts = []
    for key in sorted(set(before) | set(after)):
        b, a = before.get(key), after.get(key)
        if b == a:
            continue
        if b is None:
            parts.append(f"label {key}={a} added")
        elif a is None:
            parts.append(f"label {key}={b} removed")
        else:
            parts.append(f"label {key} {b} -> {a}")
    return "; ".join(parts)


def _show(value: str | None) -> str:
    return "(none)" if value is None else value
