"""core.snapshot_format: the snapshot file round-trips, is canonical, folds synonyms, and names the bad field."""

from __future__ import annotations

import json
from dataclasses import replace
from typing import Any

import pytest

import snapshot_factory as f
from netwarden.core import snapshot_format
from netwarden.core.errors import SnapshotFormatError
from netwarden.core.model import ContainerPort, Pod, Unreadable

LIVE = f.live_of(f.recipe())


def test_round_trip() -> None:
    pod = Pod("accounts", "web-1", {"app": "web"}, (ContainerPort(443, name="https"),), ip="172.30.0.4",
              node="10.240.0.5")
    cluster = replace(LIVE.clusters[0], pods=(pod,), worker_subnets=("subnet-zone1",))
    snap = replace(LIVE, clusters=(cluster,), unreadable=(Unreadable("eu-de", "HTTP 503"),))
    back = snapshot_format.loads(snapshot_format.dumps(snap), source="s.json")
    assert back == snap
    assert back.taken_at == snap.taken_at
    # ids are not compared by the model, but they must survive (remediation needs them)
    assert [r.id for r in back.vpcs[0].acls[0].rules] == [r.id for r in snap.vpcs[0].acls[0].rules]
    assert back.vpcs[0].subnets[0].id == "id-subnet-zone1"


def test_canonical_and_versioned() -> None:
    text = snapshot_format.dumps(LIVE)
    assert text == snapshot_format.dumps(snapshot_format.loads(text, source="s.json"))
    data = json.loads(text)
    assert list(data)[:2] == ["schema_version", "kind"]
    assert (data["schema_version"], data["kind"]) == (1, "netwarden/snapshot")
    rule = data["vpcs"][0]["acls"][0]["rules"][8]
    assert rule["name"] == "allow-org-https-in"
    assert (rule["destination_port"], rule["source_port"]) == ("443", "1-65535")
    # Mappings are written in key order whatever order they were built in.
    shuffled = replace(LIVE, clusters=(replace(LIVE.clusters[0], namespaces=tuple(
        replace(n, labels=dict(reversed(list({**n.labels, "a": "1", "z": "2"}.items()))))
        for n in LIVE.clusters[0].namespaces)),))
    labels = json.loads(snapshot_format.dumps(shuffled))["clusters"][0]["namespaces"][0]["labels"]
    assert list(labels) == sorted(labels)


def _rule(**fields: Any) -> dict[str, Any]:
    return {"name": "r", "action": "allow", "direction": "inbound", "protocol": "tcp", "source": "10.0.0.0/8",
            "destination": "10.240.0.0/24", **fields}


def _doc(rules: list[dict[str, Any]], **extra: Any) -> str:
    return json.dumps({"schema_version": 1, "kind": "netwarden/snapshot",
                       "vpcs": [{"region": "us-south", "name": "v", "acls": [{"name": "a", "rules": rules}],
                                 "subnets": []}], **extra})


@pytest.mark.parametrize(("written", "canonical"), [
    ({"protocol": "all"}, {"protocol": "icmp_tcp_udp"}),
    ({}, {"destination_port": "1-65535", "source_port": "1-65535"}),
    ({"destination_port": 443}, {"destination_port": "443", "source_port": "1-65535"}),
    ({"source": "10.1.2.3"}, {"source": "10.1.2.3/32"}),
    ({"protocol": "icmp", "type": 8}, {"protocol": "icmp", "type": 8}),
])
def test_loads_folds_synonyms(written: dict[str, Any], canonical: dict[str, Any]) -> None:
    snap = snapshot_format.loads(_doc([_rule(**written)]), source="s.json")
    data = snapshot_format.rule_to_data(snap.vpcs[0].acls[0].rules[0])
    assert {k: data.get(k) for k in canonical} == canonical


def test_loads_canonicalises_network_policies() -> None:
    raw = {"podSelector": {"matchLabels": {}}, "ingress": [{"ports": [{"port": 80}, {"port": 443, "protocol": "TCP"}]}]}
    doc = json.dumps({"schema_version": 1, "kind": "netwarden/snapshot", "clusters": [{"name": "c", "policies": [
        {"namespace": "n", "name": "p", "spec": raw}]}]})
    spec = snapshot_format.loads(doc, source="s.json").clusters[0].policies[0].spec
    assert spec == {"podSelector": {}, "policyTypes": ["Ingress"],
                    "ingress": [{"ports": [{"port": 443, "protocol": "TCP"}, {"port": 80, "protocol": "TCP"}]}]}


BAD = [
    ("not json", "{", "s.json:1: not JSON"),
    ("not an object", "[]", "not a netwarden snapshot"),
    ("wrong kind", json.dumps({"schema_version": 1, "kind": "other"}), "s.json: kind: not a netwarden snapshot"),
    ("future version", json.dumps({"schema_version": 2, "kind": "netwarden/snapshot"}),
     "s.json: schema_version: unsupported snapshot version 2"),
    ("unknown top-level key", _doc([], extra=1), "s.json: extra: unknown field"),
    ("vpcs not a list", json.dumps({"schema_version": 1, "kind": "netwarden/snapshot", "vpcs": {}}),
     "s.json: vpcs: expected a list, got an object"),
    ("rule without action", _doc([{k: v for k, v in _rule().items() if k != "action"}]),
     "s.json: vpcs[0].acls[0].rules[0].action: missing"),
    ("bad CIDR", _doc([_rule(source="10.0.0.300/8")]),
     "s.json: vpcs[0].acls[0].rules[0].source: '10.0.0.300/8' is not a valid IP address or CIDR"),
    ("port out of range", _doc([_rule(destination_port="0-80")]),
     "s.json: vpcs[0].acls[0].rules[0].destination_port: port 0 is outside 1-65535"),
    ("port of a wrong type", _doc([_rule(destination_port=[1])]),
     "s.json: vpcs[0].acls[0].rules[0].destination_port: expected a port or a range"),
    ("ports on icmp", _doc([_rule(protocol="icmp", destination_port=80)]),
     "s.json: vpcs[0].acls[0].rules[0].destination_port: protocol icmp has no ports"),
    ("icmp code without type", _doc([_rule(protocol="icmp", code=1)]),
     "s.json: vpcs[0].acls[0].rules[0].code: an icmp code needs a type"),
    ("bad action", _doc([_rule(action="permit")]), "rules[0].action: 'permit' is not 'allow' or 'deny'"),
    ("unknown rule key", _doc([_rule(priority=1)]), "s.json: vpcs[0].acls[0].rules[0].priority: unknown field"),
    ("type of a number", _doc([_rule(protocol="icmp", type="8")]), "rules[0].type: expected a whole number"),
    ("duplicate ACL", json.dumps({"schema_version": 1, "kind": "netwarden/snapshot", "vpcs": [
        {"region": "r", "name": "v", "acls": [{"name": "a", "rules": []}, {"name": "a", "rules": []}]}]}),
     "s.json: vpcs[0].acls[1].name: duplicate ACL 'a'"),
    ("labels not strings", json.dumps({"schema_version": 1, "kind": "netwarden/snapshot", "clusters": [
        {"name": "c", "namespaces": [{"name": "n", "labels": {"a": 1}}]}]}),
     "s.json: clusters[0].namespaces[0].labels: expected an object of string labels"),
    ("spec not a spec", json.dumps({"schema_version": 1, "kind": "netwarden/snapshot", "clusters": [
        {"name": "c", "policies": [{"namespace": "n", "name": "p",
                                    "spec": {"ingress": [{"from": [{"ipBlock": {}}]}]}}]}]}),
     "s.json: clusters[0].policies[0].spec: not a NetworkPolicy spec"),
    ("taken_at not a string", json.dumps({"schema_version": 1, "kind": "netwarden/snapshot", "taken_at": 5}),
     "s.json: taken_at: expected a timestamp string"),
]


@pytest.mark.parametrize(("text", "message"), [c[1:] for c in BAD], ids=[c[0] for c in BAD])
def test_loads_names_source_and_field(text: str, message: str) -> None:
    with pytest.raises(SnapshotFormatError) as e:
        snapshot_format.loads(text, source="s.json")
    assert message in str(e.value)
    assert "\n" not in str(e.value)


def test_empty_snapshot() -> None:
    snap = snapshot_format.loads('{"schema_version": 1, "kind": "netwarden/snapshot"}', source="s.json")
    assert snap.vpcs == () and snap.clusters == () and snap.unreadable == () and snap.taken_at is None
