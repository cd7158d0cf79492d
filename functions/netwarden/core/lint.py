"""The recipe's checks over a baseline: what the API accepts but the recipe says is a mistake.

A baseline can be valid (every API would take it) and still leave the perimeter open, or protect
nothing. ``baseline lint`` runs these checks, each a rule name and a reason:

* ``acl-deny-all-last``: a custom ACL (any ACL but the VPC's default) must end, in each direction,
  with a rule that denies everything: ``deny``, protocol ``any``, ``0.0.0.0/0`` to ``0.0.0.0/0``;
* ``ibm-private-ranges``: a custom ACL must allow all traffic (icmp, tcp and udp) from and to
  161.26.0.0/16 and 166.8.0.0/14, first-match, so no earlier deny may take any of it (workers are
  created and reach the cluster master over these ranges);
* ``acl-rule-shadowed``: a rule that can never match, because earlier rules of its direction
  already decide everything it matches (``core.acl.evaluate.shadowed``);
* ``subnet-default-acl``: a subnet attached to the VPC's default (allow-all) ACL;
* ``public-gateway-count``: a public gateway on more than one subnet of a VPC (the recipe keeps
  internet egress to the workers of one subnet);
* ``selector-key-case``: a selector key that differs only in case from a label that pods or
  namespaces carry (the recipe writes ``Tier`` for ``tier``, which selects nothing);
* ``selector-matches-nothing``: a non-empty selector that matches no namespace, or no pod, the
  baseline knows.
* ``sg-workers-egress``, ``sg-inbound-anywhere``, ``sg-ibm-group-custom-rule``: IBM's documented
  secure-by-default rules for the security groups it manages (``core.lint_sg``);
* ``workload-egress-pin``: a workload needing public egress pinned to a subnet that is not one of the
  baseline's or has no public gateway (``core.lint_workloads``).

What the baseline knows: namespaces and their labels (``namespaces.yaml``, plus the
``kubernetes.io/metadata.name`` label the API server puts on every namespace), and the pods of a
namespace: its declared workloads (``workloads.yaml``) when it has any, else the label sets that
other policies' ``matchLabels`` imply. With only such implied pods, a pod is known only by part of
its labels: a selector is taken to match it unless they disagree on a key both name; and among label
keys that differ only in case, the all-lowercase spelling is taken as the one pods carry.

The checks are pure: a ``LintFinding`` names its ``subject`` (a tuple such as
``("acl", region, vpc, acl, "rule", 3)``); the baseline reader maps subjects to file and line
(``core.lint_findings``, re-exported here).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from netwarden.core.acl import evaluate as acl_eval
from netwarden.core.acl.private_ranges import IBM_PRIVATE_RANGES
from netwarden.core.lint_findings import (
    ERROR_RULES,
    RULES,
    LintFinding,
    Subject,
    acl_subject,
    key_subject,
    namespace_subject,
    place,
    policy_subject,
    rule_subject,
    selector_subject,
    sg_rule_subject,
    sg_subject,
    subnet_subject,
    vpc_subject,
    workload_subject,
)
from netwarden.core.lint_sg import lint_groups
from netwarden.core.lint_workloads import lint_pins
from netwarden.core.model import AclRule, Cluster, NetworkAcl, NetworkPolicy, Pod, Snapshot, Vpc

__all__ = ["ERROR_RULES", "METADATA_NAME_LABEL", "RULES", "LintFinding", "Subject", "acl_subject", "key_subject",
           "lint", "matches", "namespace_subject", "place", "policy_subject", "rule_subject", "selector_subject",
           "sg_rule_subject", "sg_subject", "subnet_subject", "vpc_subject", "workload_subject"]

METADATA_NAME_LABEL = "kubernetes.io/metadata.name"
ANYWHERE = "0.0.0.0/0"


# --- the checks ------------------------------------------------------------------------------------


def lint(snapshot: Snapshot) -> list[LintFinding]:
    """Every recipe problem of a baseline, VPCs first, in baseline order."""
    out: list[LintFinding] = []
    for vpc in snapshot.vpcs:
        out.extend(_vpc(vpc))
    for cluster in snapshot.clusters:
        out.extend(_cluster(cluster))
    out.extend(lint_pins(snapshot))
    return out


def _vpc(vpc: Vpc) -> Iterator[LintFinding]:
    for acl in vpc.acls:
        if acl.name != vpc.default_acl:
            yield from _custom_acl(vpc, acl)
    for subnet in vpc.subnets:
        if vpc.default_acl is not None and subnet.network_acl == vpc.default_acl:
            yield LintFinding("subnet-default-acl", f"subnet {subnet.name} uses the VPC's default ACL "
                              f"{vpc.default_acl}, which allows all traffic; the recipe gives each worker subnet "
                              "its own custom ACL", subnet_subject(vpc.region, vpc.name, subnet.name, "network_acl"))
    with_gateway = [s for s in vpc.subnets if s.public_gateway is not None]
    if len(with_gateway) > 1:
        names = ", ".join(f"{s.name} ({s.public_gateway})" for s in with_gateway)
        yield LintFinding("public-gateway-count", f"{len(with_gateway)} subnets have a public gateway: {names}; the "
                          "recipe attaches one to a single subnet, so only the pods placed there reach the internet",
                          subnet_subject(vpc.region, vpc.name, with_gateway[1].name, "public_gateway"))
    yield from lint_groups(vpc)


def _is_deny_all(rule: AclRule) -> bool:
    return (rule.action == "deny" and rule.protocol == "any" and rule.source == ANYWHERE
            and rule.destination == ANYWHERE)


def _custom_acl(vpc: Vpc, acl: NetworkAcl) -> Iterator[LintFinding]:
    for direction in acl_eval.DIRECTIONS:
        indexed = [(i, r) for i, r in enumerate(acl.rules) if r.direction == direction]
        if not indexed or not _is_deny_all(indexed[-1][1]):
            subject = (rule_subject(vpc.region, vpc.name, acl.name, indexed[-1][0]) if indexed
                       else acl_subject(vpc.region, vpc.name, acl.name))
            last = f"its last {direction} rule is {indexed[-1][1].name}" if indexed else f"it has no {direction} rules"
            yield LintFinding("acl-deny-all-last", f"ACL {acl.name} must end with an {direction} rule that denies all "
                              f"traffic (deny, protocol any, {ANYWHERE} to {ANYWHERE}); {last}", subject)
    yield from _private_ranges(vpc, acl)
    for index, covering in acl_eval.shadowed(acl.rules):
        rule = acl.rules[index]
        by = (f"rule {acl.rules[covering].name} (rules[{covering}]) already decides" if covering is not None
              else "the earlier rules together already decide")
        yield LintFinding("acl-rule-shadowed", f"rule {rule.name} can never match: {by} everything it matches",
                          rule_subject(vpc.region, vpc.name, acl.name, index))


def _private_ranges(vpc: Vpc, acl: NetworkAcl) -> Iterator[LintFinding]:
    for direction in acl_eval.DIRECTIONS:
        evaluation = acl_eval.evaluate(acl.rules, direction)
        for cidr in IBM_PRIVATE_RANGES:
            need = (acl_eval.all_traffic(source=cidr) if direction == "inbound"
                    else acl_eval.all_traffic(destination=cidr))
            if need.issubset(evaluation.allowed):
                continue
            blocker = next((i for i, taken in evaluation.decided
                            if acl.rules[i].action == "deny" and bool(taken & need)), None)
            why = (f"rule {acl.rules[blocker].name} denies part of it first" if blocker is not None
                   else "no rule allows all of it")
            side = "from" if direction == "inbound" else "to"
            subject = (rule_subject(vpc.region, vpc.name, acl.name, blocker) if blocker is not None
                       else acl_subject(vpc.region, vpc.name, acl.name))
            yield LintFinding("ibm-private-ranges", f"ACL {acl.name} must allow all {direction} traffic {side} "
                              f"{cidr} (IBM Cloud private network) before any deny; {why}", subject)


# --- NetworkPolicy selectors -----------------------------------------------------------------------

Selector = Mapping[str, Any]


def _requirements(selector: Selector) -> list[tuple[str, str, tuple[str, ...]]]:
    labels = selector.get("matchLabels") or {}
    reqs: list[tuple[str, str, tuple[str, ...]]] = [(k, "In", (v,)) for k, v in labels.items()]
    reqs += [(e["key"], e["operator"], tuple(e.get("values") or ())) for e in selector.get("matchExpressions") or []]
    return reqs


def matches(selector: Selector, labels: Mapping[str, str], *, partial: bool = False) -> bool:
    """Label selector semantics; with ``partial``, a key ``labels`` does not name is unknown, so it
    cannot rule a match out."""
    for key, op, values in _requirements(selector):
        if key not in labels:
            if partial or op in ("NotIn", "DoesNotExist"):
                continue
            return False
        value = labels[key]
        if (op == "In" and value not in values) or (op == "NotIn" and value in values) or op == "DoesNotExist":
            return False
    return True


@dataclass(frozen=True, slots=True)
class _Known:
    """What the baseline knows of one cluster's namespaces and pods."""

    namespaces: dict[str, dict[str, str]]
    declared: dict[str, list[Pod]]

    def pods(self, namespace: str, policies: Sequence[NetworkPolicy], skip: NetworkPolicy) -> tuple[list[Any], bool]:
        """Known pod label sets of ``namespace``, and whether they are partial (implied by policies)."""
        if namespace in self.declared:
            return [p.labels for p in self.declared[namespace]], False
        implied = [dict(s.get("matchLabels") or {}) for p in policies if p is not skip and p.namespace == namespace
                   for kind, s in _selectors(p) if kind in ("spec", "podSelector") and s.get("matchLabels")]
        return implied, True


def _selectors(policy: NetworkPolicy) -> Iterator[tuple[str, Selector]]:
    """(kind, selector) of the policy: its target (``spec``), then each peer's selectors."""
    yield "spec", policy.spec.get("podSelector") or {}
    for direction, key in (("ingress", "from"), ("egress", "to")):
        for rule in policy.spec.get(direction) or []:
            for peer in rule.get(key) or []:
                for kind in ("namespaceSelector", "podSelector"):
                    if peer.get(kind) is not None:
                        yield (f"peer-{kind}" if "namespaceSelector" in peer and kind == "podSelector" else kind,
                               peer[kind])


def _cluster(cluster: Cluster) -> Iterator[LintFinding]:
    declared: dict[str, list[Pod]] = {}
    for pod in cluster.pods:
        declared.setdefault(pod.namespace, []).append(pod)
    known = _Known({n.name: {**n.labels, METADATA_NAME_LABEL: n.name} for n in cluster.namespaces}, declared)
    namespace_keys = {k for labels in known.namespaces.values() for k in labels}
    pod_keys = _pod_keys(cluster, known)
    for policy in cluster.policies:
        subject = policy_subject(cluster.name, policy.namespace, policy.name)
        yield from _key_case(policy, subject, namespace_keys, pod_keys)
        yield from _matches_nothing(cluster, policy, subject, known)


def _pod_keys(cluster: Cluster, known: _Known) -> set[str]:
    """Pod label keys taken as carried: declared ones; else the lowercase spelling of implied ones."""
    keys = {k for pods in known.declared.values() for p in pods for k in p.labels}
    if keys:
        return keys
    implied = Counter(k for p in cluster.policies for kind, s in _selectors(p) if kind != "namespaceSelector"
                      for k, _, _ in _requirements(s))
    return {k for k in implied if k == k.lower() or k.lower() not in implied}


def _key_case(policy: NetworkPolicy, subject: Subject, namespace_keys: set[str],
              pod_keys: set[str]) -> Iterator[LintFinding]:
    reported: set[str] = set()
    for kind, selector in _selectors(policy):
        carried, what = (namespace_keys, "namespaces") if kind == "namespaceSelector" else (pod_keys, "pods")
        for key, _, _ in _requirements(selector):
            twin = next((k for k in sorted(carried) if k != key and k.lower() == key.lower()), None)
            if key in carried or twin is None or key in reported:
                continue
            reported.add(key)
            yield LintFinding("selector-key-case", f"NetworkPolicy {policy.key}: selector key {key!r} differs only in "
                              f"case from the label {twin!r} that {what} carry; label keys are case-sensitive, so it "
                              "selects nothing", key_subject(subject, key))


def _matches_nothing(cluster: Cluster, policy: NetworkPolicy, subject: Subject, known: _Known) -> Iterator[LintFinding]:
    def pods_in(namespaces: Sequence[str], selector: Selector) -> bool | None:
        """Whether a known pod matches; None when nothing is known of those namespaces' pods."""
        found_any = False
        for ns in namespaces:
            pods, partial = known.pods(ns, cluster.policies, policy)
            found_any = found_any or bool(pods)
            if any(matches(selector, labels, partial=partial) for labels in pods):
                return True
        return False if found_any else None

    where = f"NetworkPolicy {policy.key}"
    target = policy.spec.get("podSelector") or {}
    if target and pods_in([policy.namespace], target) is False:
        yield LintFinding("selector-matches-nothing", f"{where}: spec.podSelector {_show(target)} matches no pod "
                          f"known in namespace {policy.namespace}, so the policy protects nothing",
                          selector_subject(subject, "podSelector", target))
    for direction, key in (("ingress", "from"), ("egress", "to")):
        for rule in policy.spec.get(direction) or []:
            for peer in rule.get(key) or []:
                yield from _peer(policy, subject, peer, known, pods_in)


def _peer(policy: NetworkPolicy, subject: Subject, peer: Mapping[str, Any], known: _Known,
          pods_in: Any) -> Iterator[LintFinding]:
    where = f"NetworkPolicy {policy.key}"
    namespaces = [policy.namespace]
    ns_selector = peer.get("namespaceSelector")
    if ns_selector is not None:
        namespaces = [n for n, labels in known.namespaces.items() if matches(ns_selector, labels)]
        if ns_selector and known.namespaces and not namespaces:
            yield LintFinding("selector-matches-nothing", f"{where}: namespaceSelector {_show(ns_selector)} matches "
                              "no namespace of namespaces.yaml", selector_subject(subject, "namespaceSelector",
                                                                                   ns_selector))
            return
    pod_selector = peer.get("podSelector")
    if pod_selector and pods_in(namespaces, pod_selector) is False:
        scope = f"namespace {policy.namespace}" if ns_selector is None else "the namespaces it selects"
        yield LintFinding("selector-matches-nothing", f"{where}: podSelector {_show(pod_selector)} matches no pod "
                          f"known in {scope}", selector_subject(subject, "podSelector", pod_selector))


def _show(selector: Selector) -> str:
    parts = [f"{k}={v}" for k, v in (selector.get("matchLabels") or {}).items()]
    parts += [f"{e['key']} {e['operator']} {list(e.get('values') or [])}"
              for e in selector.get("matchExpressions") or []]
    return "{" + ", ".join(parts) + "}"

