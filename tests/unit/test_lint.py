"""core.lint: the recipe's checks, each shown to fire on its mistake and to stay quiet on the recipe."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from netwarden.adapters.baseline_fs import read_baseline
from netwarden.core import lint, normalize
from netwarden.core.errors import Location
from netwarden.core.model import AclRule, Cluster, NetworkAcl, NetworkPolicy, Snapshot, Vpc

RECIPE = read_baseline(Path(__file__).resolve().parents[2] / "baseline")
ZONE1 = "iks-cluster-us-south-1-acl"
SCOPE = ("us-south", "iks-vpc")


def rule(name: str, action: str, direction: str, protocol: str, source: str, destination: str,
         **extra: Any) -> AclRule:
    return normalize.acl_rule(name=name, action=action, direction=direction, protocol_=protocol, source=source,
                              destination=destination, **extra)


def vpc() -> Vpc:
    return RECIPE.vpcs[0]


def with_rules(name: str, edit: Any) -> Snapshot:
    v = vpc()
    acl = v.acl(name)
    assert acl is not None
    acls = tuple(NetworkAcl(a.name, tuple(edit(list(a.rules)))) if a.name == name else a for a in v.acls)
    return replace(RECIPE, vpcs=(replace(v, acls=acls),))


def index_of(name: str, rule_name: str) -> int:
    acl = vpc().acl(name)
    assert acl is not None
    return next(i for i, r in enumerate(acl.rules) if r.name == rule_name)


def without(*names: str) -> Any:
    return lambda rules: [r for r in rules if r.name not in names]


def inserted(at: int, new: AclRule) -> Any:
    return lambda rules: [*rules[:at], new, *rules[at:]]


def replaced(rule_name: str, **changes: Any) -> Any:
    return lambda rules: [replace(r, **changes) if r.name == rule_name else r for r in rules]


def findings(snapshot: Snapshot) -> list[tuple[str, lint.Subject]]:
    return [(f.rule, f.subject) for f in lint.lint(snapshot)]


def test_the_recipe_is_clean() -> None:
    assert lint.lint(RECIPE) == []


ACL_CASES: dict[str, tuple[Any, list[tuple[str, lint.Subject]]]] = {
    "no deny-all inbound": (
        without("deny-all-inbound"),
        [("acl-deny-all-last", lint.rule_subject(*SCOPE, ZONE1, index_of(ZONE1, "corporate-network-inbound")))]),
    "deny-all with icmp_tcp_udp only": (
        replaced("deny-all-outbound", protocol="icmp_tcp_udp"),
        [("acl-deny-all-last", lint.rule_subject(*SCOPE, ZONE1, index_of(ZONE1, "deny-all-outbound")))]),
    "deny-all from one network only": (
        replaced("deny-all-inbound", source="10.0.0.0/8"),
        [("acl-deny-all-last", lint.rule_subject(*SCOPE, ZONE1, index_of(ZONE1, "deny-all-inbound")))]),
    "no outbound rules at all": (
        lambda rules: [r for r in rules if r.direction == "inbound"],
        [("acl-deny-all-last", lint.acl_subject(*SCOPE, ZONE1)),
         ("ibm-private-ranges", lint.acl_subject(*SCOPE, ZONE1)),
         ("ibm-private-ranges", lint.acl_subject(*SCOPE, ZONE1))]),
    "161.26.0.0/16 inbound missing": (
        without("allow-ibm-private-network2-inbound"),
        [("ibm-private-ranges", lint.rule_subject(*SCOPE, ZONE1, index_of(ZONE1, "deny-all-inbound") - 1))]),
    "166.8.0.0/14 outbound allowed for tcp only": (
        replaced("allow-ibm-private-network-outbound", protocol="tcp", destination_port=normalize.ALL_PORTS,
                 source_port=normalize.ALL_PORTS),
        [("ibm-private-ranges", lint.rule_subject(*SCOPE, ZONE1, index_of(ZONE1, "deny-all-outbound")))]),
    "a deny of ssh from the IBM range comes first": (
        inserted(0, rule("deny-ssh", "deny", "inbound", "tcp", "161.26.0.0/16", "0.0.0.0/0",
                         destination_port=normalize.port_range(22))),
        [("ibm-private-ranges", lint.rule_subject(*SCOPE, ZONE1, 0))]),
    "a duplicate rule is shadowed by its twin": (
        inserted(1, rule("allow-workers-again", "allow", "outbound", "icmp_tcp_udp", "0.0.0.0/0", "10.240.64.0/24")),
        [("acl-rule-shadowed", lint.rule_subject(*SCOPE, ZONE1, 1))]),
    "a rule only partly covered by earlier ones": (
        inserted(index_of(ZONE1, "deny-all-inbound"),
                 rule("allow-both-zones", "allow", "inbound", "tcp", "10.240.64.0/23", "0.0.0.0/0")),
        []),
    "a rule after deny-all never matches": (
        lambda rules: [*rules, rule("allow-late", "allow", "inbound", "tcp", "10.0.0.0/8", "0.0.0.0/0")],
        [("acl-deny-all-last", lint.rule_subject(*SCOPE, ZONE1, 12)),
         ("acl-rule-shadowed", lint.rule_subject(*SCOPE, ZONE1, 12))]),
}


@pytest.mark.parametrize("case", list(ACL_CASES.values()), ids=list(ACL_CASES))
def test_acl_checks(case: tuple[Any, list[tuple[str, lint.Subject]]]) -> None:
    edit, expected = case
    assert findings(with_rules(ZONE1, edit)) == expected


def test_shadowing_names_the_single_rule_or_the_rules_together() -> None:
    twin = with_rules(ZONE1, inserted(1, rule("twin", "allow", "outbound", "icmp_tcp_udp", "0.0.0.0/0",
                                                   "10.240.64.0/24")))
    assert "rule allow-workers-us-south-2-outbound (rules[0])" in lint.lint(twin)[0].message
    split = [rule("a", "allow", "inbound", "tcp", "10.0.0.0/9", "0.0.0.0/0"),
             rule("b", "allow", "inbound", "tcp", "10.128.0.0/9", "0.0.0.0/0"),
             rule("c", "allow", "inbound", "tcp", "10.0.0.0/8", "0.0.0.0/0")]
    together = with_rules(ZONE1, lambda rules: [*split, *rules])
    (shadowed,) = [f for f in lint.lint(together) if f.rule == "acl-rule-shadowed"]
    assert "the earlier rules together already decide everything" in shadowed.message


def test_messages_read_as_english() -> None:
    late = with_rules(ZONE1, lambda rules: [*rules, rule("allow-late", "allow", "inbound", "tcp", "10.0.0.0/8",
                                                          "0.0.0.0/0")])
    messages = {f.rule: f.message for f in lint.lint(late)}
    assert f"ACL {ZONE1} must end with an inbound rule that denies all traffic" in messages["acl-deny-all-last"]
    assert "rule deny-all-inbound (rules[11]) already decides everything it matches" in messages["acl-rule-shadowed"]


def test_the_default_acl_is_not_held_to_the_recipe() -> None:
    assert vpc().default_acl == "iks-vpc-default-acl"
    assert findings(replace(RECIPE, vpcs=(replace(vpc(), default_acl=None),)))[:2] == [
        ("acl-deny-all-last", lint.rule_subject(*SCOPE, "iks-vpc-default-acl", 0)),
        ("acl-deny-all-last", lint.rule_subject(*SCOPE, "iks-vpc-default-acl", 1))]


def test_a_subnet_on_the_default_acl() -> None:
    subnets = tuple(replace(s, network_acl="iks-vpc-default-acl") if s.name == "iks-vpc-us-south-3" else s
                    for s in vpc().subnets)
    assert findings(replace(RECIPE, vpcs=(replace(vpc(), subnets=subnets),))) == [
        ("subnet-default-acl", lint.subnet_subject(*SCOPE, "iks-vpc-us-south-3", "network_acl"))]


def test_a_public_gateway_on_two_subnets() -> None:
    subnets = tuple(replace(s, public_gateway="iks-cluster-us-south-2-gateway") if s.name == "iks-vpc-us-south-2"
                    else s for s in vpc().subnets)
    (finding,) = lint.lint(replace(RECIPE, vpcs=(replace(vpc(), subnets=subnets),)))
    assert (finding.rule, finding.subject) == (
        "public-gateway-count", lint.subnet_subject(*SCOPE, "iks-vpc-us-south-2", "public_gateway"))
    assert "2 subnets have a public gateway" in finding.message


# --- selectors -------------------------------------------------------------------------------------

CLUSTER = RECIPE.clusters[0]


def with_policy(namespace: str, name: str, spec: dict[str, Any], *, workloads: bool = True) -> Snapshot:
    policy = NetworkPolicy(namespace, name, normalize.netpol_spec(spec))
    policies = tuple(sorted([*(p for p in CLUSTER.policies if p.key != policy.key), policy],
                            key=lambda p: (p.namespace, p.name)))
    cluster = replace(CLUSTER, policies=policies, pods=CLUSTER.pods if workloads else ())
    return replace(RECIPE, clusters=(cluster,))


def peer_spec(target: dict[str, str], peer: dict[str, Any]) -> dict[str, Any]:
    return {"podSelector": {"matchLabels": target}, "ingress": [{"from": [peer]}]}


def subject(name: str, *rest: Any) -> lint.Subject:
    return (*lint.policy_subject("iks-cluster", "accounts", name), *rest)


def selector(name: str, kind: str, sel: dict[str, Any]) -> lint.Subject:
    return lint.selector_subject(lint.policy_subject("iks-cluster", "accounts", name), kind, sel)


SRV1_BACKEND = {"app": "Srv1", "tier": "backend"}
RECIPE_TIER_TYPO = {"matchLabels": {"app": "Srv1", "Tier": "frontend"}}
SELECTOR_CASES: dict[str, tuple[Snapshot, list[tuple[str, lint.Subject]]]] = {
    "recipe's Tier, workloads declared": (
        with_policy("accounts", "backend-allow", peer_spec(SRV1_BACKEND, {"podSelector": RECIPE_TIER_TYPO})),
        [("selector-key-case", subject("backend-allow", "key", "Tier")),
         ("selector-matches-nothing", selector("backend-allow", "podSelector", RECIPE_TIER_TYPO))]),
    "recipe's Tier, pods implied by the other policies": (
        with_policy("accounts", "backend-allow", peer_spec(SRV1_BACKEND, {"podSelector": RECIPE_TIER_TYPO}),
                    workloads=False),
        [("selector-key-case", subject("backend-allow", "key", "Tier"))]),
    "recipe's Tier in the target": (
        with_policy("accounts", "accounts-allow", {"podSelector": {"matchLabels": {"app": "Srv1", "Tier": "backend"}},
                                                   "ingress": [{"from": [{"namespaceSelector": {}}]}]}),
        [("selector-key-case", subject("accounts-allow", "key", "Tier")),
         ("selector-matches-nothing", selector("accounts-allow", "podSelector",
                                               {"matchLabels": {"app": "Srv1", "Tier": "backend"}}))]),
    "namespace label value in another case": (
        with_policy("accounts", "accounts-allow", peer_spec(SRV1_BACKEND, {
            "namespaceSelector": {"matchLabels": {"usage": "Finance"}}})),
        [("selector-matches-nothing", selector("accounts-allow", "namespaceSelector",
                                               {"matchLabels": {"usage": "Finance"}}))]),
    "namespace label key in another case": (
        with_policy("accounts", "accounts-allow", peer_spec(SRV1_BACKEND, {
            "namespaceSelector": {"matchLabels": {"Usage": "finance"}}})),
        [("selector-key-case", subject("accounts-allow", "key", "Usage")),
         ("selector-matches-nothing", selector("accounts-allow", "namespaceSelector",
                                               {"matchLabels": {"Usage": "finance"}}))]),
    "the namespace name label the API server sets": (
        with_policy("accounts", "accounts-allow", peer_spec(SRV1_BACKEND, {
            "namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "finance"}}})),
        []),
    "pods of the selected namespace": (
        with_policy("accounts", "accounts-allow", peer_spec(SRV1_BACKEND, {
            "namespaceSelector": {"matchLabels": {"usage": "finance"}},
            "podSelector": {"matchLabels": {"app": "Srv2", "tier": "frontend"}}})),
        []),
    "no such pod in the selected namespace": (
        with_policy("accounts", "accounts-allow", peer_spec(SRV1_BACKEND, {
            "namespaceSelector": {"matchLabels": {"usage": "finance"}},
            "podSelector": {"matchLabels": {"app": "Srv1"}}})),
        [("selector-matches-nothing", selector("accounts-allow", "podSelector", {"matchLabels": {"app": "Srv1"}}))]),
    "a target no workload carries": (
        with_policy("accounts", "cache-allow", {"podSelector": {"matchLabels": {"tier": "cache"}}}),
        [("selector-matches-nothing", lint.selector_subject(
            lint.policy_subject("iks-cluster", "accounts", "cache-allow"), "podSelector",
            {"matchLabels": {"tier": "cache"}}))]),
    "expressions that match": (
        with_policy("accounts", "web-allow", {"podSelector": {"matchExpressions": [
            {"key": "tier", "operator": "In", "values": ["frontend", "web"]},
            {"key": "legacy", "operator": "DoesNotExist"}]}}),
        []),
    "expressions that match nothing": (
        with_policy("accounts", "web-allow", {"podSelector": {"matchExpressions": [
            {"key": "tier", "operator": "NotIn", "values": ["frontend", "backend", "db", "notifier"]}]}}),
        [("selector-matches-nothing", lint.selector_subject(
            lint.policy_subject("iks-cluster", "accounts", "web-allow"), "podSelector",
            {"matchExpressions": [{"key": "tier", "operator": "NotIn",
                                   "values": ["backend", "db", "frontend", "notifier"]}]}))]),
    "empty selectors select everything": (
        with_policy("accounts", "allow-all", {"podSelector": {}, "ingress": [{"from": [
            {"podSelector": {}}, {"namespaceSelector": {}}]}]}),
        []),
}


@pytest.mark.parametrize("case", list(SELECTOR_CASES.values()), ids=list(SELECTOR_CASES))
def test_selector_checks(case: tuple[Snapshot, list[tuple[str, lint.Subject]]]) -> None:
    snapshot, expected = case
    assert findings(snapshot) == expected


def test_the_key_case_message_names_both_spellings() -> None:
    snapshot = SELECTOR_CASES["recipe's Tier, workloads declared"][0]
    assert "selector key 'Tier' differs only in case from the label 'tier' that pods carry" in str(
        lint.lint(snapshot)[0])


@pytest.mark.parametrize(("selector_", "labels", "partial", "expected"), [
    ({"matchLabels": {"tier": "db"}}, {"tier": "db", "app": "x"}, False, True),
    ({"matchLabels": {"tier": "db"}}, {"app": "x"}, False, False),
    ({"matchLabels": {"tier": "db"}}, {"app": "x"}, True, True),
    ({"matchLabels": {"tier": "db"}}, {"tier": "web"}, True, False),
    ({"matchExpressions": [{"key": "tier", "operator": "Exists"}]}, {}, False, False),
    ({"matchExpressions": [{"key": "tier", "operator": "DoesNotExist"}]}, {}, False, True),
    ({"matchExpressions": [{"key": "tier", "operator": "DoesNotExist"}]}, {"tier": "db"}, True, False),
    ({"matchExpressions": [{"key": "tier", "operator": "NotIn", "values": ["db"]}]}, {}, False, True),
    ({"matchExpressions": [{"key": "tier", "operator": "In", "values": ["db", "web"]}]}, {"tier": "web"}, False, True),
    ({}, {}, False, True),
])
def test_matches(selector_: dict[str, Any], labels: dict[str, str], partial: bool, expected: bool) -> None:
    assert lint.matches(selector_, labels, partial=partial) is expected


def test_place_uses_the_nearest_known_subject() -> None:
    found = [lint.LintFinding("r", "why", lint.rule_subject(*SCOPE, ZONE1, 4)),
             lint.LintFinding("r", "why", ("netpol", "c", "n", "p", "key", "Tier"))]
    sources = {lint.acl_subject(*SCOPE, ZONE1): Location("acl.yaml", 1),
               lint.rule_subject(*SCOPE, ZONE1, 4): Location("acl.yaml", 27)}
    placed = lint.place(found, sources)
    assert str(placed[0]) == "acl.yaml:27: r: why"
    assert (placed[1].file, placed[1].line) == (None, None)
    assert str(placed[1]) == "c/n/p/key/Tier: r: why"


def test_lint_of_a_cluster_without_namespaces_or_pods_is_quiet() -> None:
    cluster = Cluster("bare", policies=(NetworkPolicy("x", "p", normalize.netpol_spec(
        peer_spec({"a": "b"}, {"podSelector": {"matchLabels": {"c": "d"}}}))),))
    assert lint.lint(Snapshot(clusters=(cluster,))) == []
