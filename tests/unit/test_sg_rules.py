"""core.sg_rules: a security group rule in one spelling, from the VPC API and back, to a file and as text.

The API facts these tests hold the code to are those of ``SecurityGroupRule`` in the ``ibm_vpc`` SDK
(``SecurityGroupRuleRemoteSecurityGroupRuleCIDR`` carries ``cidr_block``, ``...RuleIP`` an ``address``,
``...SecurityGroupReference`` ``id``/``name``/``crn``/``href``; icmp ``type``/``code`` absent means all;
tcp/udp ``port_min``/``port_max``) and ``shared/reference/ibm-cloud-apis.md`` (``all`` is the spelling of
``icmp_tcp_udp`` before API version 2025-12-09; security groups are stateful, allow-only, unordered).
"""

from __future__ import annotations

import itertools
from typing import Any

import pytest

from netwarden.core import sg_rules
from netwarden.core.model import ALL_PORTS, ANYWHERE, PortRange, SgRule, SgTarget
from netwarden.core.normalize import NormalizeError

GROUP_IDS = {"web": "r006-1111", "db": "r006-2222"}
GROUP_NAMES = {v: k for k, v in GROUP_IDS.items()}


def rule(**fields: Any) -> SgRule:
    base: dict[str, Any] = {"direction": "inbound", "protocol_": "tcp", "remote": "10.0.0.0/8"}
    base.update(fields)
    if "remote_group" in fields and "remote" not in fields:
        base.pop("remote")
    return sg_rules.sg_rule(**base)


# --- sg_rule: refusals name their field ------------------------------------------------------------


@pytest.mark.parametrize(("fields", "field"), [
    ({"direction": "ingress"}, "direction"),
    ({"direction": "INBOUND"}, "direction"),
    ({"remote": "10.0.0.0/8", "remote_group": "web"}, "remote"),
    ({"remote": None}, "remote"),
    ({"protocol_": "icmp", "ports": PortRange(22, 22)}, "ports"),
    ({"protocol_": "icmp_tcp_udp", "ports": PortRange(22, 22)}, "ports"),
    ({"protocol_": "all", "ports": ALL_PORTS}, "ports"),
    ({"protocol_": "tcp", "icmp_type": 8}, "type"),
    ({"protocol_": "tcp", "icmp_code": 0}, "code"),
    ({"protocol_": "udp", "icmp_type": 8, "icmp_code": 0}, "type"),
    ({"protocol_": "icmp", "icmp_code": 0}, "code"),
    ({"protocol_": "icmp", "icmp_type": 255}, "type"),
    ({"protocol_": "icmp", "icmp_type": -1}, "type"),
    ({"protocol_": "icmp", "icmp_type": 8, "icmp_code": 256}, "code"),
    ({"remote": "10.0.0.1/8"}, "remote"),
    ({"remote": "not-an-address"}, "remote"),
    ({"local": "10.240.0.5/24"}, "local"),
], ids=["direction-ingress", "direction-upper", "both-remotes", "no-remote", "ports-on-icmp",
        "ports-on-icmp-tcp-udp", "ports-on-all", "type-on-tcp", "code-on-tcp", "type-and-code-on-udp",
        "code-without-type", "type-255", "type-negative", "code-256", "remote-host-bits", "remote-garbage",
        "local-host-bits"])
def test_refusals_name_their_field(fields: dict[str, Any], field: str) -> None:
    with pytest.raises(NormalizeError) as caught:
        rule(**fields)
    assert caught.value.field == field, caught.value.message


@pytest.mark.parametrize(("fields", "expected"), [
    ({"protocol_": "icmp", "icmp_type": 254, "icmp_code": 255}, {"icmp_type": 254, "icmp_code": 255}),
    ({"protocol_": "icmp", "icmp_type": 0, "icmp_code": 0}, {"icmp_type": 0, "icmp_code": 0}),
    ({"protocol_": "icmp"}, {"icmp_type": None, "icmp_code": None, "ports": None}),
    ({"protocol_": "all"}, {"protocol": "icmp_tcp_udp", "ports": None}),
    ({"protocol_": "icmp_tcp_udp"}, {"protocol": "icmp_tcp_udp", "ports": None}),
    ({"protocol_": "tcp"}, {"ports": ALL_PORTS}),
    ({"protocol_": "udp", "ports": PortRange(53, 53)}, {"ports": PortRange(53, 53)}),
    ({"remote": "207.42.8.9"}, {"remote": "207.42.8.9/32"}),
    ({"remote": " 10.240.0.0/16 "}, {"remote": "10.240.0.0/16"}),
    ({}, {"local": ANYWHERE, "remote_group": None}),
    ({"local": "10.240.0.4"}, {"local": "10.240.0.4/32"}),
    ({"remote_group": "web"}, {"remote": None, "remote_group": "web"}),
    ({"remote": "10.0.0.1/8", "strict_cidrs": False}, {"remote": "10.0.0.0/8"}),
    ({"local": "10.240.0.5/24", "strict_cidrs": False}, {"local": "10.240.0.0/24"}),
], ids=["icmp-max", "icmp-zero", "icmp-all", "all-folds", "icmp-tcp-udp", "tcp-all-ports", "udp-one-port",
        "bare-address", "spaces", "defaults", "bare-local", "group-remote", "host-bits-masked",
        "local-host-bits-masked"])
def test_accepted_rules_are_canonical(fields: dict[str, Any], expected: dict[str, Any]) -> None:
    made = rule(**fields)
    for key, value in expected.items():
        assert getattr(made, key) == value, key


def test_the_id_is_kept_but_not_compared() -> None:
    assert rule(id="r006-a") == rule(id="r006-b") == rule()
    assert rule(id="r006-a").id == "r006-a"


# --- canonical and group: a set -------------------------------------------------------------------


RULES = [
    rule(remote="10.240.128.0/24"),
    rule(remote="10.240.64.0/24"),
    rule(remote_group="db"),
    rule(remote_group="app"),
    rule(direction="outbound", protocol_="icmp_tcp_udp", remote="0.0.0.0/0"),
    rule(protocol_="icmp", icmp_type=8),
    rule(protocol_="udp", ports=PortRange(53, 53)),
]


@pytest.mark.parametrize("order", list(itertools.islice(itertools.permutations(range(len(RULES))), 0, None, 719)))
def test_canonical_is_order_free(order: tuple[int, ...]) -> None:
    assert sg_rules.canonical(RULES[i] for i in order) == sg_rules.canonical(RULES)


@pytest.mark.parametrize(("first", "second"), [
    (rule(remote="10.240.64.0/24"), rule(remote="10.240.128.0/24")),
    (rule(remote="9.0.0.0/8"), rule(remote="10.0.0.0/8")),
    (rule(remote="10.0.0.0/8"), rule(remote="10.0.0.0/16")),
    (rule(remote="255.255.255.255/32"), rule(remote_group="a-group")),
    (rule(remote_group="app"), rule(remote_group="db")),
    (rule(direction="inbound", remote_group="db"), rule(direction="outbound", remote="0.0.0.0/0")),
    (rule(ports=PortRange(22, 22)), rule(ports=PortRange(443, 443))),
    (rule(protocol_="icmp"), rule(protocol_="icmp", icmp_type=0)),
], ids=["numeric-not-lexical", "numeric-first-octet", "shorter-prefix-first", "addresses-before-groups",
        "groups-by-name", "direction-first", "ports", "icmp-all-types-first"])
def test_canonical_order(first: SgRule, second: SgRule) -> None:
    assert sg_rules.canonical([second, first]) == (first, second)
    assert sg_rules.canonical([first, second]) == (first, second)


@pytest.mark.parametrize("rules", [
    [rule(id="a"), rule(id="b")],
    [rule(remote="10.0.0.1", id="a"), rule(remote="10.0.0.1/32", id="b"), rule(remote="10.0.0.1/32")],
    [rule(protocol_="all"), rule(protocol_="icmp_tcp_udp", id="x")],
    [rule(protocol_="tcp"), rule(protocol_="tcp", ports=ALL_PORTS)],
])
def test_repeats_are_dropped_and_the_first_id_kept(rules: list[SgRule]) -> None:
    (kept,) = sg_rules.canonical(rules)
    assert kept.id == rules[0].id


@pytest.mark.parametrize(("targets", "expected"), [
    ([SgTarget("network_interface", "b"), SgTarget("load_balancer", "z"), SgTarget("network_interface", "a")],
     [("load_balancer", "z"), ("network_interface", "a"), ("network_interface", "b")]),
    ([SgTarget("vpn_server", "v"), SgTarget("vpn_server", "v")], [("vpn_server", "v")]),
    ([], []),
])
def test_group_sorts_targets_and_rules(targets: list[SgTarget], expected: list[tuple[str, str]]) -> None:
    made = sg_rules.group("web", reversed(RULES), targets, managed_by="ibm", id="r006-x")
    assert [(t.type, t.name) for t in made.targets] == expected
    assert made.rules == sg_rules.canonical(RULES)
    assert (made.managed_by, made.id) == ("ibm", "r006-x")
    assert made == sg_rules.group("web", RULES, list(reversed(targets)), managed_by="ibm", id="other")
    assert sg_rules.group("web", RULES).managed_by == "user"


# --- the VPC API ----------------------------------------------------------------------------------


def api(**fields: Any) -> dict[str, Any]:
    base: dict[str, Any] = {"direction": "inbound", "id": "r006-rule", "ip_version": "ipv4", "name": "rule-1",
                            "protocol": "tcp", "port_min": 22, "port_max": 22, "href": "https://x/rules/r006-rule",
                            "local": {"cidr_block": "0.0.0.0/0"}, "remote": {"cidr_block": "10.0.0.0/8"}}
    base.update(fields)
    return {k: v for k, v in base.items() if v is not None}


REFERENCE = {"id": "r006-2222", "name": "db", "crn": "crn:v1:bluemix:public:is:us-south:a/x::security-group:r006-2222",
             "href": "https://us-south.iaas.cloud.ibm.com/v1/security_groups/r006-2222"}


@pytest.mark.parametrize(("raw", "expected"), [
    (api(), rule(ports=PortRange(22, 22))),
    (api(remote={"address": "10.0.0.7"}), rule(remote="10.0.0.7/32", ports=PortRange(22, 22))),
    (api(remote={"cidr_block": "10.0.0.7/8"}), rule(remote="10.0.0.0/8", ports=PortRange(22, 22))),
    (api(remote=REFERENCE), rule(remote_group="db", ports=PortRange(22, 22))),
    (api(remote={**REFERENCE, "name": "db-renamed"}), rule(remote_group="db-renamed", ports=PortRange(22, 22))),
    (api(remote={k: v for k, v in REFERENCE.items() if k != "name"}), rule(remote_group="db", ports=PortRange(22, 22))),
    (api(remote=None), rule(remote="0.0.0.0/0", ports=PortRange(22, 22))),
    (api(port_min=None, port_max=None), rule(ports=ALL_PORTS)),
    (api(protocol="udp", port_min=30000, port_max=32767), rule(protocol_="udp", ports=PortRange(30000, 32767))),
    (api(protocol="all", port_min=None, port_max=None), rule(protocol_="icmp_tcp_udp")),
    (api(protocol="icmp_tcp_udp", port_min=None, port_max=None), rule(protocol_="icmp_tcp_udp")),
    (api(protocol="icmp", port_min=None, port_max=None, type=8, code=0),
     rule(protocol_="icmp", icmp_type=8, icmp_code=0)),
    (api(protocol="icmp", port_min=None, port_max=None), rule(protocol_="icmp")),
    (api(local={"address": "10.240.0.4"}), rule(local="10.240.0.4/32", ports=PortRange(22, 22))),
    (api(local=None), rule(ports=PortRange(22, 22))),
    (api(direction="outbound"), rule(direction="outbound", ports=PortRange(22, 22))),
], ids=["cidr", "address", "cidr-host-bits", "group-ref", "group-ref-name-wins", "group-by-id", "no-remote",
        "tcp-no-ports", "udp-range", "all", "icmp-tcp-udp", "icmp-type-code", "icmp-all", "local-address",
        "no-local", "outbound"])
def test_from_api(raw: dict[str, Any], expected: SgRule) -> None:
    made = sg_rules.from_api(raw, GROUP_NAMES)
    assert made == expected
    assert (made.remote, made.remote_group, made.local, made.ports) == (
        expected.remote, expected.remote_group, expected.local, expected.ports)
    assert made.id == raw["id"]


@pytest.mark.parametrize(("raw", "field"), [
    (api(remote={"id": "r006-9999", "href": "https://x/security_groups/r006-9999"}), "remote"),
    (api(direction="ingress"), "direction"),
    (api(port_min=70000, port_max=70000), "ports"),
    (api(port_min=443, port_max=80), "ports"),
    (api(protocol="icmp", port_min=None, port_max=None, type=300), "type"),
], ids=["unknown-group", "direction", "port-too-big", "min-over-max", "icmp-type"])
def test_from_api_refusals(raw: dict[str, Any], field: str) -> None:
    with pytest.raises(NormalizeError) as caught:
        sg_rules.from_api(raw, GROUP_NAMES)
    assert caught.value.field == field


ROUND_TRIP = [
    rule(),
    rule(ports=PortRange(443, 443)),
    rule(protocol_="udp", ports=PortRange(30000, 32767), remote="10.0.0.9"),
    rule(remote_group="web", direction="outbound", protocol_="icmp_tcp_udp"),
    rule(remote_group="db", local="10.240.0.0/24"),
    rule(protocol_="icmp", icmp_type=3, icmp_code=4),
    rule(protocol_="icmp", icmp_type=8),
    rule(protocol_="icmp"),
    rule(protocol_="all", remote="0.0.0.0/0"),
]


@pytest.mark.parametrize("original", ROUND_TRIP, ids=[sg_rules.text(r) for r in ROUND_TRIP])
def test_to_api_round_trip(original: SgRule) -> None:
    body = sg_rules.to_api(original, GROUP_IDS)
    assert body["ip_version"] == "ipv4"
    assert sg_rules.from_api(body, GROUP_NAMES) == original
    if original.remote_group is not None:
        assert body["remote"] == {"id": GROUP_IDS[original.remote_group]}


def test_to_api_of_an_unknown_remote_group() -> None:
    with pytest.raises(KeyError, match="security group cache"):
        sg_rules.to_api(rule(remote_group="cache"), GROUP_IDS)


# --- files and text -------------------------------------------------------------------------------


@pytest.mark.parametrize(("made", "expected"), [
    (rule(ports=PortRange(22, 22)), {"direction": "inbound", "protocol": "tcp", "remote": "10.0.0.0/8", "ports": 22}),
    (rule(ports=PortRange(30000, 32767)), {"direction": "inbound", "protocol": "tcp", "remote": "10.0.0.0/8",
                                           "ports": "30000-32767"}),
    (rule(), {"direction": "inbound", "protocol": "tcp", "remote": "10.0.0.0/8"}),
    (rule(remote_group="web", local="10.240.0.0/24"),
     {"direction": "inbound", "protocol": "tcp", "remote_group": "web", "local": "10.240.0.0/24"}),
    (rule(protocol_="icmp", icmp_type=8, icmp_code=0),
     {"direction": "inbound", "protocol": "icmp", "remote": "10.0.0.0/8", "type": 8, "code": 0}),
    (rule(protocol_="all", direction="outbound"),
     {"direction": "outbound", "protocol": "icmp_tcp_udp", "remote": "10.0.0.0/8"}),
], ids=["one-port", "range", "all-ports", "group-and-local", "icmp", "all"])
def test_to_data(made: SgRule, expected: dict[str, Any]) -> None:
    data = sg_rules.to_data(made)
    assert data == expected
    assert list(data) == [k for k in sg_rules.RULE_KEYS if k in data]
    assert type(data.get("ports", "")) is type(expected.get("ports", ""))


@pytest.mark.parametrize(("with_id", "expected"), [(True, {"id": "r006-a"}), (False, {})])
def test_to_data_id(with_id: bool, expected: dict[str, str]) -> None:
    data = sg_rules.to_data(rule(id="r006-a"), with_id=with_id)
    assert {k: v for k, v in data.items() if k == "id"} == expected


@pytest.mark.parametrize(("made", "expected"), [
    (rule(ports=PortRange(22, 22), remote="0.0.0.0/0"), "inbound tcp 22 from 0.0.0.0/0"),
    (rule(), "inbound tcp all ports from 10.0.0.0/8"),
    (rule(ports=PortRange(30000, 32767)), "inbound tcp 30000-32767 from 10.0.0.0/8"),
    (rule(direction="outbound", protocol_="icmp_tcp_udp", remote_group="kube-vpegw-x"),
     "outbound icmp_tcp_udp to group kube-vpegw-x"),
    (rule(protocol_="icmp", icmp_type=8, icmp_code=0), "inbound icmp type 8 code 0 from 10.0.0.0/8"),
    (rule(protocol_="icmp", icmp_type=3), "inbound icmp type 3 from 10.0.0.0/8"),
    (rule(protocol_="icmp"), "inbound icmp from 10.0.0.0/8"),
    (rule(direction="outbound", protocol_="udp", ports=PortRange(53, 53), local="10.240.0.0/24"),
     "outbound udp 53 to 10.0.0.0/8 on 10.240.0.0/24"),
], ids=["inbound", "all-ports", "range", "outbound-group", "icmp-type-code", "icmp-type", "icmp-all", "local"])
def test_text(made: SgRule, expected: str) -> None:
    assert sg_rules.text(made) == expected


@pytest.mark.parametrize(("target", "expected"), [
    (SgTarget("network_interface", "eth0"), "network interface eth0"),
    (SgTarget("load_balancer", "lb"), "load balancer lb"),
])
def test_target_text(target: SgTarget, expected: str) -> None:
    assert sg_rules.target_text(target) == expected


TCP_22 = rule(direction="inbound", protocol_="tcp", remote="10.0.0.0/24", ports=PortRange(22, 22))
COVERS: list[tuple[str, SgRule, SgRule, bool]] = [
    ("itself", TCP_22, TCP_22, True),
    ("a wider port range", rule(direction="inbound", protocol_="tcp", remote="10.0.0.0/24", ports=PortRange(1, 1024)),
     TCP_22, True),
    ("a narrower port range", TCP_22,
     rule(direction="inbound", protocol_="tcp", remote="10.0.0.0/24", ports=PortRange(1, 1024)), False),
    ("a wider remote", rule(direction="inbound", protocol_="tcp", remote="10.0.0.0/8", ports=PortRange(22, 22)),
     TCP_22, True),
    ("a narrower remote", rule(direction="inbound", protocol_="tcp", remote="10.0.0.0/25", ports=PortRange(22, 22)),
     TCP_22, False),
    ("a narrower local", rule(direction="inbound", protocol_="tcp", remote="10.0.0.0/24", local="10.240.0.0/24",
                              ports=PortRange(22, 22)), TCP_22, False),
    ("the other direction", rule(direction="outbound", protocol_="tcp", remote="10.0.0.0/24",
                                 ports=PortRange(22, 22)), TCP_22, False),
    ("icmp_tcp_udp covers tcp", rule(direction="inbound", protocol_="icmp_tcp_udp", remote="10.0.0.0/24"), TCP_22,
     True),
    ("icmp_tcp_udp does not cover any", rule(direction="inbound", protocol_="icmp_tcp_udp", remote="0.0.0.0/0"),
     rule(direction="inbound", protocol_="any", remote="10.0.0.0/24"), False),
    ("any covers icmp_tcp_udp", rule(direction="inbound", protocol_="any", remote="0.0.0.0/0"),
     rule(direction="inbound", protocol_="icmp_tcp_udp", remote="10.0.0.0/24"), True),
    ("udp does not cover tcp", rule(direction="inbound", protocol_="udp", remote="10.0.0.0/24",
                                    ports=PortRange(22, 22)), TCP_22, False),
    ("all icmp covers echo", rule(direction="inbound", protocol_="icmp", remote="0.0.0.0/0"),
     rule(direction="inbound", protocol_="icmp", remote="0.0.0.0/0", icmp_type=8), True),
    ("echo does not cover all icmp", rule(direction="inbound", protocol_="icmp", remote="0.0.0.0/0", icmp_type=8),
     rule(direction="inbound", protocol_="icmp", remote="0.0.0.0/0"), False),
    ("a type covers its codes", rule(direction="inbound", protocol_="icmp", remote="0.0.0.0/0", icmp_type=3),
     rule(direction="inbound", protocol_="icmp", remote="0.0.0.0/0", icmp_type=3, icmp_code=1), True),
    ("a group covers itself", rule(direction="inbound", protocol_="tcp", remote_group="web", ports=ALL_PORTS),
     rule(direction="inbound", protocol_="tcp", remote_group="web", ports=PortRange(22, 22)), True),
    ("a group does not cover another", rule(direction="inbound", protocol_="icmp_tcp_udp", remote_group="web"),
     rule(direction="inbound", protocol_="tcp", remote_group="db", ports=PortRange(22, 22)), False),
    ("0.0.0.0/0 covers a group", rule(direction="inbound", protocol_="icmp_tcp_udp", remote=ANYWHERE),
     rule(direction="inbound", protocol_="tcp", remote_group="db", ports=PortRange(22, 22)), True),
    ("a smaller block does not (the members are not known)",
     rule(direction="inbound", protocol_="icmp_tcp_udp", remote="10.0.0.0/8"),
     rule(direction="inbound", protocol_="tcp", remote_group="db", ports=PortRange(22, 22)), False),
    ("a group does not cover addresses", rule(direction="inbound", protocol_="icmp_tcp_udp", remote_group="db"),
     TCP_22, False),
]


@pytest.mark.parametrize(("wide", "narrow", "expected"), [c[1:] for c in COVERS], ids=[c[0] for c in COVERS])
def test_covers(wide: SgRule, narrow: SgRule, expected: bool) -> None:
    assert sg_rules.covers(wide, narrow) is expected
