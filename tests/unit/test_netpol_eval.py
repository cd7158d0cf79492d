"""NetworkPolicy reachability and its semantic diff, one rule of the API per case."""

from __future__ import annotations

from typing import Any

import pytest

from netwarden.core.flows.algebra import boxes
from netwarden.core.model import Cluster, ContainerPort, Namespace, NetworkPolicy, Pod
from netwarden.core.netpol.reachability import (
    ALL,
    NONE,
    PortSet,
    endpoint_text,
    external_ranges,
    reachability,
    selector_matches,
)
from netwarden.core.netpol.reachability_diff import compare, diff
from netwarden.core.normalize import netpol_spec

NAMESPACES = (Namespace("x", {"team": "x"}), Namespace("y", {"team": "y", "env": "prod"}))
PODS = (
    Pod("x", "a", {"pod": "a"}, (ContainerPort(80, "TCP", "http"), ContainerPort(53, "UDP", "dns"))),
    Pod("x", "b", {"pod": "b", "tier": "db"}, (ContainerPort(8080, "TCP", "http"),)),
    Pod("y", "a", {"pod": "a"}, (ContainerPort(81, "TCP", "http"),)),
)
ANYWHERE = (0, 2**32 - 1)


def pol(ns: str, spec: dict[str, Any], name: str = "p") -> NetworkPolicy:
    return NetworkPolicy(ns, name, netpol_spec(spec))


def ingress_to(pod: str, *rules: dict[str, Any]) -> dict[str, Any]:
    return {"podSelector": {"matchLabels": {"pod": pod}}, "ingress": list(rules)}


def egress_from(pod: str, *rules: dict[str, Any]) -> dict[str, Any]:
    return {"podSelector": {"matchLabels": {"pod": pod}}, "policyTypes": ["Egress"], "egress": list(rules)}


def tcp(lo: int, hi: int | None = None) -> PortSet:
    return PortSet.of("TCP", lo, hi or lo)


def conns(policies: list[NetworkPolicy], src: Any, dst: Any) -> PortSet:
    return reachability(Cluster("c", NAMESPACES, tuple(policies), PODS)).get(src, dst)


@pytest.mark.parametrize(
    ("policies", "src", "dst", "expected"),
    [
        pytest.param([], "x/a", "x/b", ALL, id="no-policy-all"),
        pytest.param([pol("x", ingress_to("b"))], "x/a", "x/b", NONE, id="isolated-no-rules"),
        pytest.param([pol("x", ingress_to("b", {}))], "y/a", "x/b", ALL, id="empty-rule-allows-all"),
        pytest.param([pol("x", ingress_to("b", {"from": [{"podSelector": {"matchLabels": {"pod": "a"}}}]}))],
                     "x/a", "x/b", ALL, id="pod-selector-same-ns"),
        pytest.param([pol("x", ingress_to("b", {"from": [{"podSelector": {"matchLabels": {"pod": "a"}}}]}))],
                     "y/a", "x/b", NONE, id="pod-selector-other-ns"),
        pytest.param([pol("x", ingress_to("b", {"from": [{"namespaceSelector": {"matchLabels": {"team": "y"}}}]}))],
                     "y/a", "x/b", ALL, id="namespace-selector"),
        pytest.param([pol("x", ingress_to("b", {"from": [{"namespaceSelector": {"matchLabels": {"team": "y"}},
                                                           "podSelector": {"matchLabels": {"pod": "z"}}}]}))],
                     "y/a", "x/b", NONE, id="ns-and-pod-selector-and"),
        pytest.param([pol("x", ingress_to("b", {"from": [{"namespaceSelector": {"matchExpressions": [
            {"key": "env", "operator": "In", "values": ["prod"]}]}}]}))], "y/a", "x/b", ALL, id="expr-in"),
        pytest.param([pol("x", ingress_to("b", {"from": [{"namespaceSelector": {"matchExpressions": [
            {"key": "env", "operator": "NotIn", "values": ["prod"]}]}}]}))], "x/a", "x/b", ALL,
            id="expr-notin-absent-key"),
        pytest.param([pol("x", ingress_to("b", {"from": [{"namespaceSelector": {"matchExpressions": [
            {"key": "env", "operator": "DoesNotExist"}]}}]}))], "y/a", "x/b", NONE, id="expr-does-not-exist"),
        pytest.param([pol("x", ingress_to("b", {"from": [{"namespaceSelector": {"matchLabels": {
            "kubernetes.io/metadata.name": "y"}}}]}))], "y/a", "x/b", ALL, id="implicit-name-label"),
        pytest.param([pol("x", ingress_to("b", {"ports": [{"port": 8080}, {"port": 9000, "endPort": 9010}]}))],
                     "x/a", "x/b", tcp(8080) | tcp(9000, 9010), id="ports-and-endport"),
        pytest.param([pol("x", ingress_to("b", {"ports": [{"port": "http"}]}))], "x/a", "x/b", tcp(8080),
                     id="named-port-on-target"),
        pytest.param([pol("x", ingress_to("b", {"ports": [{"port": "dns", "protocol": "UDP"}]}))], "x/a", "x/b",
                     NONE, id="named-port-missing-on-target"),
        pytest.param([pol("x", ingress_to("b", {"ports": [{"protocol": "SCTP"}]}))], "x/a", "x/b",
                     PortSet.of("SCTP"), id="sctp-all-ports"),
        pytest.param([pol("x", ingress_to("b", {"ports": [{"port": 8080}]}), name="p1"),
                      pol("x", ingress_to("b", {"ports": [{"port": 9090}]}), name="p2")],
                     "x/a", "x/b", tcp(8080) | tcp(9090), id="policies-union"),
        pytest.param([pol("x", egress_from("a", {"to": [{"podSelector": {}}], "ports": [{"port": "http"}]}))],
                     "x/a", "x/b", tcp(8080), id="egress-named-port-on-peer"),
        pytest.param([pol("x", egress_from("a", {"to": [{"podSelector": {}}]})),
                      pol("x", ingress_to("b", {"ports": [{"port": 8080}, {"port": 22}]}), name="in")],
                     "x/a", "x/b", tcp(8080) | tcp(22), id="egress-and-ingress-intersect"),
        pytest.param([pol("x", egress_from("a", {"to": [{"podSelector": {}}], "ports": [{"port": 80}]})),
                      pol("x", ingress_to("b", {"ports": [{"port": 8080}]}), name="in")],
                     "x/a", "x/b", NONE, id="egress-and-ingress-disjoint"),
        pytest.param([pol("x", {"podSelector": {"matchLabels": {"pod": "b"}}, "policyTypes": ["Egress"]})],
                     "x/a", "x/b", ALL, id="egress-only-policy-keeps-ingress-open"),
        pytest.param([pol("x", egress_from("a", {"to": [{"ipBlock": {"cidr": "10.0.0.0/8"}}]}))],
                     "x/a", "x/b", NONE, id="ipblock-never-matches-pods"),
        pytest.param([pol("x", egress_from("a", {"to": [{"ipBlock": {"cidr": "10.0.0.0/8",
                                                                      "except": ["10.1.0.0/16"]}}]}))],
                     "x/a", (167772160, 167837695), ALL, id="ipblock-outside-range"),
        pytest.param([pol("x", egress_from("a", {"to": [{"ipBlock": {"cidr": "10.0.0.0/8",
                                                                      "except": ["10.1.0.0/16"]}}]}))],
                     "x/a", (167837696, 167903231), NONE, id="ipblock-except"),
        pytest.param([pol("x", ingress_to("b", {"from": [{"ipBlock": {"cidr": "0.0.0.0/0"}}],
                                                "ports": [{"port": "http"}]}))],
                     ANYWHERE, "x/b", tcp(8080), id="ingress-from-outside-named-port"),
    ],
)
def test_reachability(policies: list[NetworkPolicy], src: Any, dst: Any, expected: PortSet) -> None:
    assert conns(policies, src, dst) == expected


@pytest.mark.parametrize(
    ("selector", "labels", "expected"),
    [
        ({}, {}, True),
        ({"matchLabels": {"a": "1"}}, {"a": "1", "b": "2"}, True),
        ({"matchLabels": {"a": "1"}}, {"a": "2"}, False),
        ({"matchExpressions": [{"key": "a", "operator": "Exists"}]}, {"a": ""}, True),
        ({"matchExpressions": [{"key": "a", "operator": "In", "values": ["1", "2"]}]}, {}, False),
        ({"matchExpressions": [{"key": "a", "operator": "NotIn", "values": ["1"]}]}, {"a": "1"}, False),
        ({"matchExpressions": [{"key": "a", "operator": "Bogus"}]}, {"a": "1"}, False),
    ],
)
def test_selector_matches(selector: dict[str, Any], labels: dict[str, str], expected: bool) -> None:
    assert selector_matches(selector, labels) is expected


def test_self_pairs_are_not_reported_and_lines_read_like_netpol_analyzer() -> None:
    reach = reachability(Cluster("c", NAMESPACES, (pol("x", ingress_to("b", {"ports": [{"port": 8080}]})),), PODS))
    assert ("x/b", "x/b") not in reach.conns
    assert "x/a => x/b : TCP 8080" in reach.lines()
    assert "0.0.0.0/0 => x/a : All Connections" in reach.lines()


def test_external_ranges_cut_at_every_boundary() -> None:
    p = pol("x", egress_from("a", {"to": [{"ipBlock": {"cidr": "10.0.0.0/8", "except": ["10.1.0.0/16"]}}]}))
    assert [r[0] for r in external_ranges([p])] == [0, 167772160, 167837696, 167903232, 184549376]


@pytest.mark.parametrize(
    ("base", "live", "expected"),
    [
        pytest.param([], [], [], id="same"),
        pytest.param([pol("x", ingress_to("b", {"ports": [{"port": 8080}]}))], [],
                     ["changed x/a x/b", "changed y/a x/b", "changed 0.0.0.0/0 x/b"],
                     id="policy-removed"),
        pytest.param([], [pol("x", ingress_to("b"))],
                     ["removed x/a x/b", "removed y/a x/b", "removed 0.0.0.0/0 x/b"], id="deny-all-added"),
        pytest.param([pol("x", ingress_to("b", {"ports": [{"port": 8080}]}))],
                     [pol("x", ingress_to("b", {"ports": [{"port": 8080, "protocol": "UDP"}]}))],
                     ["changed x/a x/b", "changed y/a x/b", "changed 0.0.0.0/0 x/b"], id="protocol-changed"),
        pytest.param([pol("x", egress_from("a", {"to": [{"ipBlock": {"cidr": "10.0.0.0/8"}}]}))],
                     [pol("x", egress_from("a", {"to": [{"ipBlock": {"cidr": "10.0.0.0/7"}}]}))],
                     ["added x/a 11.0.0.0/8"], id="ipblock-widened"),
    ],
)
def test_diff(base: list[NetworkPolicy], live: list[NetworkPolicy], expected: list[str]) -> None:
    before, after = compare(Cluster("c", NAMESPACES, tuple(base), PODS), Cluster("c", NAMESPACES, tuple(live), PODS))
    got = [f"{c.kind} {endpoint_text(c.source)} {endpoint_text(c.destination)}" for c in diff(before, after)]
    assert sorted(got) == sorted(expected)


def test_diff_names_added_workloads() -> None:
    base = Cluster("c", NAMESPACES, (), PODS[:2])
    live = Cluster("c", NAMESPACES, (), PODS)
    changes = diff(*compare(base, live))
    assert changes and all(c.kind == "added" and c.note == "workload y/a added" for c in changes)
    assert changes[0].text().startswith("diff-type: added, source: x/a, destination: y/a, ref1: No Connections, "
                                        "ref2: All Connections")


def test_port_set_text() -> None:
    assert (tcp(80) | tcp(8080, 8090) | PortSet.of("UDP", 53, 53)).text() == "TCP 80,8080-8090,UDP 53"
    assert ALL.text() == "All Connections"
    assert NONE.text() == "No Connections"


# --- every IP protocol, not only the three a policy can name ------------------------------------

ICMP = PortSet(((1, 1, ((0, 0, True),)),))


@pytest.mark.parametrize(("policies", "icmp"), [
    pytest.param([], True, id="no-policy-isolates-the-pod"),
    pytest.param([pol("x", ingress_to("b", {}))], True, id="a-rule-without-ports"),
    pytest.param([pol("x", ingress_to("b", {"ports": [{"port": 8080}]}))], False, id="a-rule-with-ports"),
    pytest.param([pol("x", ingress_to("b"))], False, id="isolated-without-rules"),
])
def test_icmp_and_the_other_portless_protocols_follow_the_rules(policies: list[NetworkPolicy], icmp: bool) -> None:
    assert bool(conns(policies, "x/a", "x/b") & ICMP) is icmp


def test_all_traffic_is_every_ip_protocol_and_says_so() -> None:
    assert ALL.text() == "All Connections"
    numbers = {n for (lo, hi), _ in boxes(ALL.tree) for n in range(lo, hi + 1)}
    assert numbers == set(range(256))
    assert (ALL - tcp(1, 65535)).text() == "SCTP 1-65535,UDP 1-65535,all other IP protocols"
    assert (ICMP | tcp(22)).text() == "TCP 22,ICMP" and (ICMP | tcp(22)).flows() == ["tcp 22", "icmp"]


def test_an_ipv6_block_is_evaluated_not_dropped() -> None:
    egress = pol("x", egress_from("a", {"to": [{"ipBlock": {"cidr": "2001:db8::/32", "except": ["2001:db8:1::/48"]}}]}))
    reach = reachability(Cluster("c", NAMESPACES, (egress,), PODS))
    reached = {endpoint_text(dst) for (src, dst), allowed in reach.conns.items() if src == "x/a" and allowed
               and not isinstance(dst, str)}
    assert reached == {"2001:db8::/48", "2001:db8:2::-2001:db8:ffff:ffff:ffff:ffff:ffff:ffff"}
    ipv4 = [e for e in reach.externals if e[1] < 2**32]
    assert ipv4 and all(not reach.get("x/a", e) for e in ipv4), "the IPv4 outside is not in the block"
    assert reach.get(next(e for e in reach.externals if endpoint_text(e) == "2001:db8:1::/48"), "x/a") == ALL, \
        "ingress to the pod is not isolated, from IPv6 either"
