"""First-match ACL evaluation: allows_all, shadowed rules, and the flow sets behind them."""

from __future__ import annotations

import random

import pytest

from netwarden.core.acl import evaluate as acl_eval
from netwarden.core.flows.algebra import FlowSet, box_tree, cidr_interval
from netwarden.core.flows.shortcuts import covers
from netwarden.core.model import AclRule, PortRange
from netwarden.core.normalize import NormalizeError


def rule(name: str, action: str, direction: str, protocol: str = "icmp_tcp_udp", source: str = "0.0.0.0/0",
         destination: str = "0.0.0.0/0", dport: tuple[int, int] | None = None,
         sport: tuple[int, int] | None = None, icmp: tuple[int | None, int | None] = (None, None)) -> AclRule:
    ports = protocol in ("tcp", "udp")
    return AclRule(
        name=name, action=action, direction=direction, protocol=protocol, source=source, destination=destination,
        destination_port=PortRange(*dport) if dport else (PortRange(1, 65535) if ports else None),
        source_port=PortRange(*sport) if sport else (PortRange(1, 65535) if ports else None),
        icmp_type=icmp[0], icmp_code=icmp[1],
    )


ALLOW_IN = rule("allow-inbound", "allow", "inbound")
ALLOW_OUT = rule("allow-outbound", "allow", "outbound")
DENY_IN = rule("deny-all-inbound", "deny", "inbound", "any")
DENY_OUT = rule("deny-all-outbound", "deny", "outbound", "any")
SSH_IN = rule("ssh", "allow", "inbound", "tcp", dport=(22, 22))

RECIPE = [
    rule("allow-workers-inbound", "allow", "inbound", source="10.240.64.0/24"),
    rule("allow-workers-outbound", "allow", "outbound", destination="10.240.64.0/24"),
    rule("allow-ibm-private-network2-inbound", "allow", "inbound", source="161.26.0.0/16"),
    rule("allow-ibm-private-network2-outbound", "allow", "outbound", destination="161.26.0.0/16"),
    rule("allow-ibm-private-network-inbound", "allow", "inbound", source="166.8.0.0/14"),
    rule("allow-ibm-private-network-outbound", "allow", "outbound", destination="166.8.0.0/14"),
    DENY_OUT,
    DENY_IN,
]


@pytest.mark.parametrize(
    ("rules", "direction", "destination", "expected"),
    [
        pytest.param([ALLOW_IN, ALLOW_OUT], "inbound", None, True, id="vpc-default"),
        pytest.param([ALLOW_IN, ALLOW_OUT], "outbound", "10.240.0.0/24", True, id="default-outbound"),
        pytest.param([rule("any", "allow", "inbound", "any")], "inbound", None, True, id="any-protocol"),
        pytest.param([], "inbound", None, False, id="no-rules-deny"),
        pytest.param([ALLOW_OUT], "inbound", None, False, id="other-direction-ignored"),
        pytest.param([DENY_IN, ALLOW_IN], "inbound", None, False, id="deny-first"),
        pytest.param([ALLOW_IN, DENY_IN], "inbound", None, True, id="allow-first"),
        pytest.param(RECIPE, "inbound", "10.240.0.0/24", False, id="recipe"),
        pytest.param([rule("tcp", "allow", "inbound", "tcp"), rule("udp", "allow", "inbound", "udp")],
                     "inbound", None, False, id="no-icmp"),
        pytest.param([rule("tcp", "allow", "inbound", "tcp"), rule("udp", "allow", "inbound", "udp"),
                      rule("icmp", "allow", "inbound", "icmp")], "inbound", None, True, id="three-rules"),
        pytest.param([rule("tcp", "allow", "inbound", "tcp", dport=(1, 65534)), rule("udp", "allow", "inbound", "udp"),
                      rule("icmp", "allow", "inbound", "icmp")], "inbound", None, False, id="one-port-short"),
        pytest.param([rule("deny-22", "deny", "inbound", "tcp", dport=(22, 22)), ALLOW_IN], "inbound", None, False,
                     id="one-port-denied"),
        pytest.param([rule("deny-echo", "deny", "inbound", "icmp", icmp=(8, 0)), ALLOW_IN], "inbound", None, False,
                     id="one-icmp-denied"),
        pytest.param([rule("deny-gre", "deny", "inbound", "gre"), ALLOW_IN], "inbound", None, True,
                     id="gre-is-not-all"),
        pytest.param([rule("half", "allow", "inbound", source="0.0.0.0/1"), rule("other-half", "allow", "inbound",
                      source="128.0.0.0/1")], "inbound", None, True, id="halves"),
        pytest.param([rule("deny-one-host", "deny", "inbound", source="203.0.113.7/32"), ALLOW_IN], "inbound", None,
                     False, id="one-source-denied"),
        pytest.param([rule("deny-elsewhere", "deny", "inbound", destination="10.0.0.0/8"), ALLOW_IN], "inbound",
                     "192.168.0.0/24", True, id="deny-elsewhere"),
        pytest.param([rule("deny-elsewhere", "deny", "inbound", destination="10.0.0.0/8"), ALLOW_IN], "inbound",
                     "10.1.0.0/24", False, id="deny-here"),
        pytest.param([rule("to-subnet", "allow", "inbound", destination="10.240.0.0/24")], "inbound",
                     "10.240.0.0/24", True, id="subnet-only"),
        pytest.param([rule("sport", "allow", "inbound", "tcp", sport=(1024, 65535)),
                      rule("u", "allow", "inbound", "udp"), rule("i", "allow", "inbound", "icmp")],
                     "inbound", None, False, id="source-ports-short"),
    ],
)
def test_allows_all(rules: list[AclRule], direction: str, destination: str | None, expected: bool) -> None:
    assert acl_eval.allows_all(rules, direction, destination) is expected


@pytest.mark.parametrize(
    ("rules", "expected"),
    [
        pytest.param(RECIPE, [], id="recipe-clean"),
        pytest.param([ALLOW_IN, SSH_IN], [(1, 0)], id="single-cover"),
        pytest.param([DENY_IN, ALLOW_IN, ALLOW_OUT], [(1, 0)], id="deny-all-first"),
        pytest.param([rule("h1", "allow", "inbound", source="0.0.0.0/1"), rule("h2", "deny", "inbound",
                      source="128.0.0.0/1"), SSH_IN], [(2, None)], id="union-cover"),
        pytest.param([SSH_IN, ALLOW_IN], [], id="narrow-first"),
        pytest.param([ALLOW_OUT, SSH_IN], [], id="other-direction"),
        pytest.param([rule("a", "allow", "inbound", "tcp", dport=(1, 100)), rule("b", "allow", "inbound", "tcp",
                      dport=(50, 60))], [(1, 0)], id="port-range"),
        pytest.param([rule("a", "allow", "inbound", "tcp", dport=(1, 100)), rule("b", "allow", "inbound", "tcp",
                      dport=(50, 160))], [], id="port-partial"),
        pytest.param([rule("icmp", "allow", "inbound", "icmp"), rule("echo", "deny", "inbound", "icmp",
                      icmp=(8, None))], [(1, 0)], id="icmp-type"),
        pytest.param([rule("echo", "deny", "inbound", "icmp", icmp=(8, None)), rule("icmp", "allow", "inbound",
                      "icmp")], [], id="icmp-type-first"),
        pytest.param([ALLOW_IN, rule("gre", "allow", "inbound", "gre")], [], id="gre-not-in-all"),
        pytest.param([rule("any", "deny", "inbound", "any"), rule("gre", "allow", "inbound", "gre")], [(1, 0)],
                     id="gre-in-any"),
        pytest.param([rule("n47", "deny", "inbound", "number_47"), rule("gre", "allow", "inbound", "gre")],
                     [(1, 0)], id="number-n"),
    ],
)
def test_shadowed(rules: list[AclRule], expected: list[tuple[int, int | None]]) -> None:
    assert acl_eval.shadowed(rules) == expected


def test_unknown_protocol_names_the_field() -> None:
    with pytest.raises(NormalizeError) as e:
        acl_eval.rule_flows(rule("x", "allow", "inbound", "carrier-pigeon"))
    assert e.value.field == "protocol"


def test_first_match_decides_per_rule() -> None:
    rules = [SSH_IN, rule("deny-tcp", "deny", "inbound", "tcp"), ALLOW_IN]
    ev = acl_eval.evaluate(rules, "inbound")
    decided = dict(ev.decided)
    assert decided[0] == acl_eval.rule_flows(SSH_IN)
    assert decided[1] == acl_eval.rule_flows(rules[1]) - acl_eval.rule_flows(SSH_IN)
    anywhere = cidr_interval("0.0.0.0/0")
    assert anywhere is not None
    assert ev.allowed == (acl_eval.rule_flows(SSH_IN) | FlowSet.box((1, 1), anywhere, anywhere)
                          | FlowSet.box((17, 17), anywhere, anywhere))


def test_evaluate_rejects_bad_direction() -> None:
    with pytest.raises(ValueError, match="direction"):
        acl_eval.evaluate([], "sideways")


# --- the exposure diff and the subnet-level view ----------------------------------------------------

SUBNET = "10.240.0.0/24"


@pytest.mark.parametrize(
    ("base", "live", "state", "first"),
    [
        pytest.param(RECIPE, RECIPE, "unchanged", None, id="same"),
        pytest.param([*RECIPE[:-1], SSH_IN, DENY_IN], RECIPE, "narrowed", "tcp 22 from 0.0.0.0/0 to 10.240.0.0/24",
                     id="ssh-closed"),
        pytest.param(RECIPE, [*RECIPE[:-1], SSH_IN, DENY_IN], "widened", "tcp 22 from 0.0.0.0/0 to 10.240.0.0/24",
                     id="ssh-opened"),
        pytest.param(RECIPE, [rule("open-out", "allow", "outbound", "udp", destination="8.8.8.8/32", dport=(53, 53)),
                              *RECIPE], "widened", "udp 53 from 10.240.0.0/24 to 8.8.8.8/32", id="dns-out"),
        pytest.param(RECIPE, [rule("rdp", "allow", "inbound", "tcp", source="203.0.113.0/24", dport=(3389, 3389)),
                              SSH_IN, *RECIPE], "widened", "tcp 22 from 0.0.0.0/0 to 10.240.0.0/24",
                     id="widest-first"),
    ],
)
def test_exposure(base: list[AclRule], live: list[AclRule], state: str, first: str | None) -> None:
    e = acl_eval.exposure(base, live, SUBNET)
    assert e.state == state
    assert (e.examples()[0] if e.examples() else None) == first
    assert e.summary()


def test_traffic_inside_the_subnet_never_counts() -> None:
    inside = rule("inside", "deny", "inbound", source=SUBNET)
    e = acl_eval.Exposure.of_acls(acl_eval.AclFlows.of(RECIPE).effective(SUBNET),
                                  acl_eval.AclFlows.of([inside, *RECIPE]).effective(SUBNET))
    assert e.state == "unchanged"


def test_subnet_view_and_unanswered_replies() -> None:
    from netwarden.core.acl.view import subnet_view

    rules = [SSH_IN, *RECIPE]  # ssh let in from anywhere, replies only to the allowed ranges
    view = subnet_view(acl_eval.AclFlows.of(rules), SUBNET)
    texts = [r.text("inbound") for r in view.ingress]
    assert "10.240.64.0/24 -> 10.240.0.0/24: icmp; tcp 1-65535; udp 1-65535" in texts
    assert "0.0.0.0-10.240.63.255 -> 10.240.0.0/24: tcp 22" in texts
    unanswered = [r.text("inbound") for r in view.unanswered]
    assert "0.0.0.0-10.240.63.255 -> 10.240.0.0/24: tcp 22" in unanswered
    assert not any(t.startswith("166.8.0.0/14") for t in unanswered)
    assert view.lines()[0] == f"subnet {SUBNET}"


def test_pair_flows_need_both_acls() -> None:
    from netwarden.core.acl.view import conns_between, pair_flows

    one = acl_eval.AclFlows.of(RECIPE)  # lets 10.240.64.0/24 in and out
    two = acl_eval.AclFlows.of([rule("in", "allow", "inbound", "tcp", source=SUBNET, dport=(443, 443)),
                                rule("out", "allow", "outbound", "tcp", destination=SUBNET)])
    there = pair_flows(one, SUBNET, two, "10.240.64.0/24")
    assert conns_between(there, cidr_interval(SUBNET), cidr_interval("10.240.64.0/24")).text() == "tcp 443"
    back = pair_flows(two, "10.240.64.0/24", one, SUBNET)
    assert conns_between(back).text() == "nothing"  # not every address pair of IPv4: 0.0.0.0/0 is not covered
    assert conns_between(back, cidr_interval("10.240.64.0/24"), cidr_interval(SUBNET)).text() == "tcp 1-65535"


def _random_rules(seed: int, n: int) -> list[AclRule]:
    rng = random.Random(seed)
    out = []
    for i in range(n):
        protocol = rng.choice(["tcp", "udp", "icmp", "icmp_tcp_udp", "any", "gre"])
        action = "allow" if protocol == "icmp_tcp_udp" else rng.choice(["allow", "deny"])
        remote = rng.choice(["0.0.0.0/0", "10.0.0.0/8", f"10.{rng.randrange(4)}.0.0/16",
                             f"10.0.{rng.randrange(4)}.0/24"])
        ports = {}
        if protocol in ("tcp", "udp"):
            low = rng.choice([22, 80, 443, 1000])
            ports = {"destination_port": PortRange(low, low + rng.choice([0, 100])), "source_port": PortRange(1, 65535)}
        out.append(AclRule(f"r{i}", action, rng.choice(["inbound", "outbound"]), protocol, remote, "10.0.0.0/16",
                           **ports))
    return out


@pytest.mark.parametrize("seed", range(12))
def test_allowed_flows_equals_first_match(seed: int) -> None:
    """The last-to-first shortcut of ``allowed_flows`` gives exactly the first-match evaluation's set."""
    rules = _random_rules(seed, 3 + seed * 3)
    for direction in acl_eval.DIRECTIONS:
        assert acl_eval.allowed_flows(rules, direction) == acl_eval.evaluate(rules, direction).allowed


def test_allowed_flows_raises_only_where_first_match_reaches() -> None:
    deny_all = AclRule("deny-all", "deny", "inbound", "any", "0.0.0.0/0", "0.0.0.0/0")
    bad = AclRule("bad", "allow", "inbound", "nonsense", "0.0.0.0/0", "0.0.0.0/0")
    assert not acl_eval.allowed_flows([deny_all, bad], "inbound")
    with pytest.raises(NormalizeError):
        acl_eval.allowed_flows([bad, deny_all], "inbound")


@pytest.mark.parametrize("seed", range(6))
def test_covers_and_all_traffic_among_match_the_algebra(seed: int) -> None:
    rng = random.Random(seed)
    allowed = acl_eval.allowed_flows(_random_rules(seed, 12), "inbound")
    for box in [*list(allowed.boxes())[:20], ((6, 6), (0, 2**32 - 1), (0, 2**32 - 1), (1, 65535), (22, 22))]:
        assert covers(allowed.tree, box) == FlowSet(box_tree(box)).issubset(allowed)
    cidrs = [f"10.{rng.randrange(3)}.{rng.randrange(3) * 64}.0/{rng.choice([18, 24, 26])}" for _ in range(5)]
    expected = FlowSet()
    for other in cidrs:
        expected = expected | acl_eval.all_traffic(source=other, destination="10.9.0.0/24")
    assert acl_eval.all_traffic_among(cidrs, ["10.9.0.0/24"]) == expected
    assert acl_eval.all_traffic_among([], ["10.9.0.0/24"]) == FlowSet()
