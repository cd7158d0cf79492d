"""Semantic analysis at estate scale: the exposure diff of two ACLs and NetworkPolicy reachability.

Figures, not limits: pytest-benchmark reports them (``make bench``); nothing here asserts a time.
Each benchmark runs at a few sizes so the README can say how the cost grows.

* ACLs: two recipe-shaped ACLs of N rules (N = 50, 100, 200; 200 is the per-ACL quota), the live one
  a reorder plus a few edits of the baseline; the diff evaluates both first-match and compares.
* NetworkPolicies: P pods in 10 namespaces under Q policies (tier selectors, namespace selectors,
  named and numeric ports, some egress, some ipBlocks), at (125, 50), (250, 100), (500, 200).
"""

from __future__ import annotations

import random
from dataclasses import replace
from typing import Any

import pytest

from netwarden.core.acl.evaluate import AclFlows, Exposure
from netwarden.core.model import AclRule, Cluster, ContainerPort, Namespace, NetworkPolicy, Pod, PortRange
from netwarden.core.netpol.reachability import reachability
from netwarden.core.netpol.reachability_diff import compare, diff
from netwarden.core.normalize import netpol_spec

SUBNET = "10.240.0.0/24"


def acl_rules(n: int, seed: int = 7) -> list[AclRule]:
    """A recipe-shaped ACL of ``n`` rules: specific allows and denies (tcp/udp ports, icmp, whole
    protocols) from many remote ranges, both directions, deny-all last."""
    rng = random.Random(seed)
    rules: list[AclRule] = []
    for i in range(n - 2):
        direction = "inbound" if i % 2 else "outbound"
        remote = f"{rng.choice([10, 100, 161, 166, 172, 192, 203])}.{rng.randrange(256)}.{rng.randrange(256)}.0/24"
        proto = rng.choice(["tcp", "tcp", "tcp", "udp", "icmp", "icmp_tcp_udp"])
        action = "deny" if rng.random() < 0.25 else "allow"
        if proto == "icmp_tcp_udp":
            action = "allow"  # the API refuses deny with icmp_tcp_udp
        ports: dict[str, Any] = {}
        if proto in ("tcp", "udp"):
            low = rng.choice([22, 53, 80, 443, 3389, 8080, 30000, rng.randrange(1, 60000)])
            ports = {"destination_port": PortRange(low, low + rng.choice([0, 0, 10, 2767])),
                     "source_port": PortRange(1, 65535)}
        src, dst = (remote, "0.0.0.0/0") if direction == "inbound" else ("0.0.0.0/0", remote)
        rules.append(AclRule(f"rule-{i}", action, direction, proto, src, dst, **ports))
    rules.append(AclRule("deny-all-outbound", "deny", "outbound", "any", "0.0.0.0/0", "0.0.0.0/0"))
    rules.append(AclRule("deny-all-inbound", "deny", "inbound", "any", "0.0.0.0/0", "0.0.0.0/0"))
    return rules


def drifted(rules: list[AclRule], seed: int = 11) -> list[AclRule]:
    """The same ACL after a drift: a few rules swapped, one widened to 0.0.0.0/0, one deleted."""
    rng = random.Random(seed)
    out = list(rules)
    for _ in range(max(1, len(rules) // 20)):
        i, j = rng.randrange(len(out) - 2), rng.randrange(len(out) - 2)
        out[i], out[j] = out[j], out[i]
    k = next(i for i, r in enumerate(out) if r.direction == "inbound" and r.action == "allow")
    out[k] = replace(out[k], source="0.0.0.0/0")
    del out[len(out) // 2]
    return out


@pytest.mark.parametrize("n", [50, 100, 200])
def test_exposure_diff_of_two_acls(benchmark: Any, n: int) -> None:
    base, live = acl_rules(n), drifted(acl_rules(n))

    def run() -> Exposure:
        e = Exposure.of_acls(AclFlows.of(base).effective(SUBNET), AclFlows.of(live).effective(SUBNET))
        e.examples()
        return e

    exposure = benchmark(run)
    assert exposure.state == "widened"


NAMESPACES = 10
TIERS = ("frontend", "backend", "db", "cache", "worker")


def estate(pods: int, policies: int, seed: int = 3) -> Cluster:
    rng = random.Random(seed)
    namespaces = tuple(Namespace(f"ns-{i}", {"team": f"t{i % 4}", "env": rng.choice(["prod", "dev"])})
                       for i in range(NAMESPACES))
    pod_list = tuple(Pod(f"ns-{i % NAMESPACES}", f"pod-{i}", {"app": f"app-{i % 25}", "tier": TIERS[i % len(TIERS)]},
                         (ContainerPort(8080 + i % 5, "TCP", "http"), ContainerPort(9090, "TCP", "metrics")))
                     for i in range(pods))
    out: list[NetworkPolicy] = []
    for i in range(policies):
        ns = f"ns-{i % NAMESPACES}"
        peer: dict[str, Any] = rng.choice([
            {"podSelector": {"matchLabels": {"tier": rng.choice(TIERS)}}},
            {"namespaceSelector": {"matchLabels": {"team": f"t{rng.randrange(4)}"}}},
            {"namespaceSelector": {"matchExpressions": [{"key": "env", "operator": "In", "values": ["prod"]}]},
             "podSelector": {"matchLabels": {"app": f"app-{rng.randrange(25)}"}}},
            {"ipBlock": {"cidr": f"10.{rng.randrange(256)}.0.0/16", "except": [f"10.{rng.randrange(256)}.1.0/24"]}},
        ])
        ports = rng.choice([[{"port": "http"}], [{"port": 5432}], [{"port": 8000, "endPort": 8100}], []])
        spec: dict[str, Any] = {"podSelector": {"matchLabels": {"tier": TIERS[i % len(TIERS)]}},
                                "ingress": [{"from": [peer], "ports": ports}]}
        if i % 4 == 0:
            spec["egress"] = [{"to": [{"podSelector": {}}]}, {"to": [{"ipBlock": {"cidr": "0.0.0.0/0"}}],
                                                             "ports": [{"port": 443}]}]
        out.append(NetworkPolicy(ns, f"np-{i}", netpol_spec(spec)))
    return Cluster("bench", namespaces, tuple(out), pod_list)


@pytest.mark.parametrize(("pods", "policies"), [(125, 50), (250, 100), (500, 200)])
def test_reachability(benchmark: Any, pods: int, policies: int) -> None:
    cluster = estate(pods, policies)
    reach = benchmark(reachability, cluster)
    assert reach.conns


@pytest.mark.parametrize(("pods", "policies"), [(125, 50), (250, 100), (500, 200)])
def test_reachability_diff(benchmark: Any, pods: int, policies: int) -> None:
    base = estate(pods, policies)
    live = replace(base, policies=base.policies[: policies // 2] + base.policies[policies // 2 + 1:])

    def run() -> int:
        return len(diff(*compare(base, live)))

    assert benchmark(run) > 0
