"""The synonyms real estates contain fold to one spelling; what the API would refuse names its field."""

from __future__ import annotations

import pytest

from netwarden.core import normalize
from netwarden.core.model import ALL_PORTS, PortRange
from netwarden.core.normalize import NormalizeError


@pytest.mark.parametrize(
    ("given", "canonical"),
    [
        ("10.0.0.1", "10.0.0.1/32"),
        ("10.0.0.1/32", "10.0.0.1/32"),
        ("10.240.0.0/24", "10.240.0.0/24"),
        (" 0.0.0.0/0 ", "0.0.0.0/0"),
    ],
)
def test_cidr_synonyms(given: str, canonical: str) -> None:
    assert normalize.cidr(given) == canonical


@pytest.mark.parametrize(
    ("given", "message"),
    [("10.0.0.1/24", "host bits set"), ("10.0.0.300/24", "not a valid"), ("banana", "not a valid")],
)
def test_cidr_errors_name_the_field(given: str, message: str) -> None:
    with pytest.raises(NormalizeError) as e:
        normalize.cidr(given, field="source")
    assert e.value.field == "source"
    assert message in e.value.message


@pytest.mark.parametrize(
    ("given", "expected"),
    [(443, PortRange(443, 443)), ("443", PortRange(443, 443)), ("30000-32767", PortRange(30000, 32767)), (None, None)],
)
def test_port_range(given: int | str | None, expected: PortRange | None) -> None:
    assert normalize.port_range(given) == expected


@pytest.mark.parametrize("given", [0, 65536, "10-5", "a-b", "1-2-3", True, 4.5])
def test_port_range_errors(given: object) -> None:
    with pytest.raises(NormalizeError) as e:
        normalize.port_range(given, field="destination_port")  # type: ignore[arg-type]
    assert e.value.field == "destination_port"


def _rule(**kw: object) -> dict[str, object]:
    base: dict[str, object] = {"name": "r", "action": "allow", "direction": "inbound", "protocol_": "tcp",
                               "source": "0.0.0.0/0", "destination": "10.0.0.0/24"}
    return {**base, **kw}


def test_protocol_all_is_icmp_tcp_udp() -> None:
    old = normalize.acl_rule(**_rule(protocol_="all"))  # type: ignore[arg-type]
    new = normalize.acl_rule(**_rule(protocol_="icmp_tcp_udp"))  # type: ignore[arg-type]
    assert old == new


def test_legacy_deny_all_is_any() -> None:
    old = normalize.acl_rule(**_rule(action="deny", protocol_="all"))  # type: ignore[arg-type]
    assert old.protocol == "any"
    assert normalize.acl_rule_from_api({"name": "d", "action": "deny", "direction": "inbound", "protocol": "all",
                                        "source": "0.0.0.0/0", "destination": "0.0.0.0/0"}).protocol == "any"


def test_tcp_ports_default_to_all() -> None:
    rule = normalize.acl_rule(**_rule())  # type: ignore[arg-type]
    assert rule.destination_port == ALL_PORTS and rule.source_port == ALL_PORTS
    explicit = normalize.acl_rule(**_rule(destination_port=ALL_PORTS, source_port=ALL_PORTS))  # type: ignore[arg-type]
    assert rule == explicit


@pytest.mark.parametrize(
    ("kw", "field"),
    [
        ({"action": "permit"}, "action"),
        ({"direction": "in"}, "direction"),
        ({"protocol_": "icmp_tcp_udp", "destination_port": PortRange(1, 2)}, "destination_port"),
        ({"protocol_": "tcp", "icmp_type": 8}, "type"),
        ({"protocol_": "icmp", "icmp_code": 0}, "code"),
        ({"protocol_": "icmp", "icmp_type": 300}, "type"),
        ({"source": "10.0.0.1/8"}, "source"),
    ],
)
def test_acl_rule_errors(kw: dict[str, object], field: str) -> None:
    with pytest.raises(NormalizeError) as e:
        normalize.acl_rule(**_rule(**kw))  # type: ignore[arg-type]
    assert e.value.field == field


def test_api_rule_round_trip() -> None:
    api = {"id": "r-1", "name": "ssh", "action": "allow", "direction": "inbound", "protocol": "tcp",
           "source": "207.42.8.0/24", "destination": "10.240.0.0/24", "destination_port_min": 22,
           "destination_port_max": 22, "source_port_min": 1, "source_port_max": 65535}
    rule = normalize.acl_rule_from_api(api)
    assert rule.id == "r-1" and rule.destination_port == PortRange(22, 22)
    body = normalize.acl_rule_to_api(rule)
    assert normalize.acl_rule_from_api({**body, "id": "r-1"}) == rule


def test_legacy_all_from_api() -> None:
    rule = normalize.acl_rule_from_api({"name": "a", "action": "allow", "direction": "outbound", "protocol": "all",
                                        "source": "0.0.0.0/0", "destination": "0.0.0.0/0"})
    assert rule.protocol == "icmp_tcp_udp"


NETPOL_SYNONYMS = [
    # policyTypes inferred from the presence of egress rules
    ({"podSelector": {}, "ingress": [{}]}, {"podSelector": {}, "policyTypes": ["Ingress"], "ingress": [{}]}),
    ({"podSelector": {"matchLabels": {}}, "egress": [{"to": [{"ipBlock": {"cidr": "10.0.0.0/8"}}]}]},
     {"podSelector": {}, "policyTypes": ["Egress", "Ingress"],
      "egress": [{"to": [{"ipBlock": {"cidr": "10.0.0.0/8"}}]}]}),
    # default protocol TCP; peers and ports reordered
    (
        {"podSelector": {}, "policyTypes": ["Ingress"], "ingress": [{
            "ports": [{"port": 80}, {"port": 53, "protocol": "UDP"}],
            "from": [{"podSelector": {"matchLabels": {"b": "2"}}}, {"podSelector": {"matchLabels": {"a": "1"}}}],
        }]},
        {"podSelector": {}, "policyTypes": ["Ingress"], "ingress": [{
            "from": [{"podSelector": {"matchLabels": {"a": "1"}}}, {"podSelector": {"matchLabels": {"b": "2"}}}],
            "ports": [{"port": 53, "protocol": "UDP"}, {"port": 80, "protocol": "TCP"}],
        }]},
    ),
    # an empty podSelector beside a namespaceSelector means all pods, as an absent one does
    ({"podSelector": {}, "ingress": [{"from": [{"namespaceSelector": {"matchLabels": {"usage": "finance"}},
                                                "podSelector": {}}]}]},
     {"podSelector": {}, "ingress": [{"from": [{"namespaceSelector": {"matchLabels": {"usage": "finance"}}}]}]}),
]


@pytest.mark.parametrize(("left", "right"), NETPOL_SYNONYMS)
def test_netpol_synonyms(left: dict[str, object], right: dict[str, object]) -> None:
    assert normalize.netpol_spec(left) == normalize.netpol_spec(right)


@pytest.mark.parametrize(
    ("left", "right"),
    [
        # absent namespaceSelector (same namespace) is not {} (all namespaces)
        ({"podSelector": {}, "ingress": [{"from": [{"podSelector": {}}]}]},
         {"podSelector": {}, "ingress": [{"from": [{"namespaceSelector": {}}]}]}),
        # no rules (deny all) is not one empty rule (allow all)
        ({"podSelector": {}, "policyTypes": ["Ingress"]}, {"podSelector": {}, "ingress": [{}]}),
    ],
)
def test_netpol_meanings_stay_apart(left: dict[str, object], right: dict[str, object]) -> None:
    assert normalize.netpol_spec(left) != normalize.netpol_spec(right)
