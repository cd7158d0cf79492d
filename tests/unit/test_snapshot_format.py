"""core.snapshot_format: the snapshot file round-trips, is canonical, folds synonyms, and is read as strictly
as a baseline: every bad file is one error naming the file, the JSON path and (where it can) the line."""

from __future__ import annotations

import importlib.util
import json
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

import snapshot_factory as f
from netwarden.adapters import snapshot_file
from netwarden.core import snapshot_checks, snapshot_format
from netwarden.core.drift.diff import diff
from netwarden.core.errors import SnapshotFormatError
from netwarden.core.model import ContainerPort, EgressPin, Pod, Snapshot, Unreadable, Workload

BASE = f.recipe()
LIVE = f.live_of(BASE)
SCALE = Path(__file__).resolve().parents[2] / "benchmarks" / "scale.py"


def test_round_trip() -> None:
    pod = Pod("accounts", "web-1", {"app": "web"}, (ContainerPort(443, name="https"),), ip="172.30.0.4",
              node="10.240.0.5")
    workloads = (Workload("accounts", "web", "Deployment", {"app": "web"}, subnets=("subnet-zone1",),
                          zones=("us-south-1",), pods=("web-1",), running=("subnet-zone1",)),
                 Workload("accounts", "agent", "DaemonSet", {"app": "agent"}))
    cluster = replace(LIVE.clusters[0], pods=(pod,), worker_subnets=("subnet-zone1",), workloads=workloads,
                      egress=(EgressPin("accounts", "web", "iks-vpc-us-south-1", exclusive=True),))
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


# --- building documents --------------------------------------------------------------------------


def _rule(**fields: Any) -> dict[str, Any]:
    return {"name": "r", "action": "allow", "direction": "inbound", "protocol": "tcp", "source": "10.0.0.0/8",
            "destination": "10.240.0.0/24", **fields}


def _vpc(name: str = "v", region: str = "us-south", **fields: Any) -> dict[str, Any]:
    return {"region": region, "name": name, **fields}


def _cluster(**fields: Any) -> dict[str, Any]:
    return {"name": "c", **fields}


def _policy(namespace: str = "n", name: str = "p", **fields: Any) -> dict[str, Any]:
    return {"namespace": namespace, "name": name, "spec": {}, **fields}


def _top(**fields: Any) -> dict[str, Any]:
    return {"schema_version": 1, "kind": "netwarden/snapshot", "taken_at": "2026-11-27T10:00:00Z", **fields}


def _text(data: Any) -> str:
    return json.dumps(data, indent=2)


def _doc(rules: list[dict[str, Any]], **extra: Any) -> str:
    return _text(_top(vpcs=[_vpc(acls=[{"name": "a", "rules": rules}], subnets=[])], **extra))


def _rules(*rules: dict[str, Any]) -> str:
    return _doc(list(rules))


def _vpcs(*vpcs: dict[str, Any]) -> str:
    return _text(_top(vpcs=list(vpcs)))


def _clusters(*clusters: dict[str, Any]) -> str:
    return _text(_top(clusters=list(clusters)))


def _without(data: dict[str, Any], key: str) -> dict[str, Any]:
    return {k: v for k, v in data.items() if k != key}


@pytest.mark.parametrize(("written", "canonical"), [
    ({"protocol": "all"}, {"protocol": "icmp_tcp_udp"}),
    ({}, {"destination_port": "1-65535", "source_port": "1-65535"}),
    ({"destination_port": 443}, {"destination_port": "443", "source_port": "1-65535"}),
    ({"source": "10.1.2.3"}, {"source": "10.1.2.3/32"}),
    ({"protocol": "icmp", "type": 8}, {"protocol": "icmp", "type": 8}),
], ids=["all", "default ports", "port number", "bare address", "icmp type"])
def test_loads_folds_synonyms(written: dict[str, Any], canonical: dict[str, Any]) -> None:
    snap = snapshot_format.loads(_doc([_rule(**written)]), source="s.json")
    data = snapshot_format.rule_to_data(snap.vpcs[0].acls[0].rules[0])
    assert {k: data.get(k) for k in canonical} == canonical


def test_loads_canonicalises_network_policies() -> None:
    raw = {"podSelector": {"matchLabels": {}}, "ingress": [{"ports": [{"port": 80}, {"port": 443, "protocol": "TCP"}]}]}
    doc = _clusters(_cluster(policies=[_policy(spec=raw)]))
    spec = snapshot_format.loads(doc, source="s.json").clusters[0].policies[0].spec
    assert spec == {"podSelector": {}, "policyTypes": ["Ingress"],
                    "ingress": [{"ports": [{"port": 443, "protocol": "TCP"}, {"port": 80, "protocol": "TCP"}]}]}


# --- what is refused -----------------------------------------------------------------------------

NESTED = "[" * 100_000 + "]" * 100_000
DENY_ALL = _rule(name="d", action="deny", protocol="any", source="0.0.0.0/0", destination="0.0.0.0/0")

#: (id, file text, a fragment of the message, the JSON path named, or None when the file as a whole is wrong)
BAD: list[tuple[str, str | bytes, str, str | None]] = [
    # the file and its JSON
    ("not json", "{", "s.json:1: not JSON", None),
    ("empty", "", "s.json:1: not JSON", None),
    ("byte order mark", "\ufeff" + _text(_top()), "not JSON: Unexpected UTF-8 BOM", None),
    ("not UTF-8", b'{"kind":\n "\xff"}', "cannot read the snapshot file: not UTF-8 (line 2: byte 0xff", None),
    ("NaN", _text(_top(vpcs=[_vpc(acls=[{"name": "a", "rules": [_rule(type=float("nan"))]}])])),
     "NaN is not a JSON number", None),
    ("Infinity", '{"schema_version": Infinity}', "s.json:1: schema_version: Infinity is not a JSON number",
     "schema_version"),
    ("-Infinity", '{"schema_version": -Infinity}', "-Infinity is not a JSON number", "schema_version"),
    ("a float past the largest", '{"schema_version": 1e999}', "1e999 is too large for a number", "schema_version"),
    ("a number of 5,000 digits", '{"schema_version": ' + "1" * 5000 + "}", "a number of more than 4300 digits",
     None),
    ("a key twice", '{"schema_version": 1, "vpcs": [], "vpcs": []}',
     "s.json:1: vpcs: the key 'vpcs' appears twice in one object (JSON would keep the second", "vpcs"),
    ("a VPC name twice in its object", '{"vpcs": [{"name": "a", "region": "r", "name": "b"}]}',
     "the key 'name' appears twice", "vpcs[0].name"),
    ("nested 100,000 deep", NESTED, "s.json: nested too deeply to read", None),
    # the top level
    ("a list", "[]", "not a netwarden snapshot: expected a JSON object, got a list", None),
    ("a string", '"netwarden/snapshot"', "not a netwarden snapshot: expected a JSON object, got a string", None),
    ("wrong kind", _text(_top(kind="other")), "not a netwarden snapshot: expected 'netwarden/snapshot', got \"other\"",
     "kind"),
    ("no kind", _text(_without(_top(), "kind")), "not a netwarden snapshot", "kind"),
    ("no version", _text(_without(_top(), "schema_version")),
     "missing (this netwarden reads snapshot version 1)", "schema_version"),
    ("future version", _text(_top(schema_version=2)),
     "unsupported snapshot version 2 (this netwarden reads snapshot version 1)", "schema_version"),
    ("version as a string", _text(_top(schema_version="1")), 'unsupported snapshot version "1"', "schema_version"),
    ("version true", _text(_top(schema_version=True)), "unsupported snapshot version true", "schema_version"),
    ("version 1.0", _text(_top(schema_version=1.0)), "unsupported snapshot version 1.0", "schema_version"),
    ("no taken_at", _text(_without(_top(), "taken_at")), "missing: when the state was read", "taken_at"),
    ("taken_at a number", _text(_top(taken_at=5)), "expected a timestamp string, got a number", "taken_at"),
    ("taken_at not a time", _text(_top(taken_at="yesterday")),
     "expected an ISO 8601 date and time with a timezone (2026-11-27T10:00:00Z), got \"yesterday\"", "taken_at"),
    ("taken_at without a timezone", _text(_top(taken_at="2026-11-27T10:00:00")), "with a timezone", "taken_at"),
    ("taken_at a date", _text(_top(taken_at="2026-11-27")), "with a timezone", "taken_at"),
    ("unknown top-level key", _doc([], extra=1), "unknown field", "extra"),
    ("an unknown key with a line break", _text(_top(**{"a\nb": 1})), "unknown field", "'a\\nb'"),
    ("vpcs an object", _text(_top(vpcs={})), "expected a list, got an object", "vpcs"),
    ("vpcs a string", _text(_top(vpcs="prod-vpc")), "expected a list, got a string", "vpcs"),
    ("vpcs null", _text(_top(vpcs=None)), "expected a list, got null", "vpcs"),
    # VPCs, their ACLs and subnets
    ("a VPC a string", _text(_top(vpcs=["prod-vpc"])), "expected an object, got a string", "vpcs[0]"),
    ("a VPC without region", _vpcs(_without(_vpc(), "region")), "missing", "vpcs[0].region"),
    ("a VPC name a number", _vpcs(_vpc(name=7)), "expected a non-empty string, got a number", "vpcs[0].name"),
    ("a VPC name empty", _vpcs(_vpc(name="")), "expected a non-empty string, got a string", "vpcs[0].name"),
    ("a VPC twice", _vpcs(_vpc(), _vpc(name="w"), _vpc()),
     "duplicate VPC 'us-south/v' (also vpcs[0])", "vpcs[2].name"),
    ("a VPC id twice", _vpcs(_vpc(id="r006-1"), _vpc(name="w", region="eu-de", id="r006-1")),
     "duplicate VPC id 'r006-1' (also vpcs[0])", "vpcs[1].id"),
    ("acls a string", _vpcs(_vpc(acls="acl-a")), "expected a list, got a string", "vpcs[0].acls"),
    ("public gateways a string", _vpcs(_vpc(public_gateways="pgw")), "expected a list of non-empty strings",
     "vpcs[0].public_gateways"),
    ("public gateways of numbers", _vpcs(_vpc(public_gateways=[1])), "expected a list of non-empty strings",
     "vpcs[0].public_gateways"),
    ("an ACL twice", _vpcs(_vpc(acls=[{"name": "a", "rules": []}, {"name": "a", "rules": []}])),
     "duplicate ACL 'a' (also vpcs[0].acls[0])", "vpcs[0].acls[1].name"),
    ("an ACL id twice", _vpcs(_vpc(acls=[{"name": "a", "id": "x"}, {"name": "b", "id": "x"}])),
     "duplicate ACL id 'x'", "vpcs[0].acls[1].id"),
    ("a subnet twice", _vpcs(_vpc(subnets=[{"name": "s", "network_acl": "a"}, {"name": "s", "network_acl": "b"}])),
     "duplicate subnet 's' (also vpcs[0].subnets[0])", "vpcs[0].subnets[1].name"),
    ("a subnet id twice", _vpcs(_vpc(subnets=[{"name": "s", "id": "x"}, {"name": "t", "id": "x"}])),
     "duplicate subnet id 'x'", "vpcs[0].subnets[1].id"),
    ("a subnet CIDR invalid", _vpcs(_vpc(subnets=[{"name": "s", "cidr": "10.0.0.0/33"}])),
     "'10.0.0.0/33' is not a valid IP address or CIDR", "vpcs[0].subnets[0].cidr"),
    ("a subnet CIDR a number", _vpcs(_vpc(subnets=[{"name": "s", "cidr": 10}])),
     "expected a non-empty string, got a number", "vpcs[0].subnets[0].cidr"),
    ("a subnet ACL true", _vpcs(_vpc(subnets=[{"name": "s", "network_acl": True}])),
     "expected a non-empty string, got a boolean", "vpcs[0].subnets[0].network_acl"),
    ("an unknown subnet key", _vpcs(_vpc(subnets=[{"name": "s", "vpc": "v"}])), "unknown field",
     "vpcs[0].subnets[0].vpc"),
    # rules
    ("rules a string", _vpcs(_vpc(acls=[{"name": "a", "rules": "allow-all"}])), "expected a list, got a string",
     "vpcs[0].acls[0].rules"),
    ("a rule without action", _rules(_without(_rule(), "action")), "missing", "vpcs[0].acls[0].rules[0].action"),
    ("a bad CIDR", _rules(_rule(source="10.0.0.300/8")), "'10.0.0.300/8' is not a valid IP address or CIDR",
     "vpcs[0].acls[0].rules[0].source"),
    ("a CIDR a list", _rules(_rule(destination=["10.0.0.0/8"])), "expected a non-empty string, got a list",
     "vpcs[0].acls[0].rules[0].destination"),
    ("port 0", _rules(_rule(destination_port="0-80")), "port 0 is outside 1-65535",
     "vpcs[0].acls[0].rules[0].destination_port"),
    ("port 70000", _rules(_rule(source_port=70000)), "port 70000 is outside 1-65535",
     "vpcs[0].acls[0].rules[0].source_port"),
    ("min over max", _rules(_rule(destination_port="443-80")), "min 443 is greater than max 80",
     "vpcs[0].acls[0].rules[0].destination_port"),
    ("a port true", _rules(_rule(destination_port=True)), "expected a port or a range 'MIN-MAX', got a boolean",
     "vpcs[0].acls[0].rules[0].destination_port"),
    ("a port a list", _rules(_rule(destination_port=[1])), "expected a port or a range 'MIN-MAX', got a list",
     "vpcs[0].acls[0].rules[0].destination_port"),
    ("a port not a range", _rules(_rule(destination_port="https")), "'https' is not a port or a range",
     "vpcs[0].acls[0].rules[0].destination_port"),
    ("ports on icmp", _rules(_rule(protocol="icmp", destination_port=80)), "protocol icmp has no ports",
     "vpcs[0].acls[0].rules[0].destination_port"),
    ("an icmp code without type", _rules(_rule(protocol="icmp", code=1)), "an icmp code needs a type",
     "vpcs[0].acls[0].rules[0].code"),
    ("an icmp type true", _rules(_rule(protocol="icmp", type=True)), "expected a whole number, got a boolean",
     "vpcs[0].acls[0].rules[0].type"),
    ("an icmp type a string", _rules(_rule(protocol="icmp", type="8")), "expected a whole number, got a string",
     "vpcs[0].acls[0].rules[0].type"),
    ("an icmp type 300", _rules(_rule(protocol="icmp", type=300)), "300 is outside 0-254",
     "vpcs[0].acls[0].rules[0].type"),
    ("an icmp code -1", _rules(_rule(protocol="icmp", type=3, code=-1)), "-1 is outside 0-255",
     "vpcs[0].acls[0].rules[0].code"),
    ("a bad action", _rules(_rule(action="permit")), "'permit' is not 'allow' or 'deny'",
     "vpcs[0].acls[0].rules[0].action"),
    ("a bad direction", _rules(_rule(direction="in")), "'in' is not 'inbound' or 'outbound'",
     "vpcs[0].acls[0].rules[0].direction"),
    ("an unknown protocol", _rules(_rule(protocol="http")), "unknown ACL rule protocol 'http'",
     "vpcs[0].acls[0].rules[0].protocol"),
    ("a protocol in capitals", _rules(_rule(protocol="TCP")), "unknown ACL rule protocol 'TCP'",
     "vpcs[0].acls[0].rules[0].protocol"),
    ("protocol number_300", _rules(_rule(protocol="number_300")), "unknown ACL rule protocol",
     "vpcs[0].acls[0].rules[0].protocol"),
    ("a rule name twice", _rules(_rule(), DENY_ALL, _rule(destination_port=22)),
     "duplicate rule 'r' (also vpcs[0].acls[0].rules[0])", "vpcs[0].acls[0].rules[2].name"),
    ("a rule id twice", _rules(_rule(id="x"), {**DENY_ALL, "id": "x"}), "duplicate rule id 'x'",
     "vpcs[0].acls[0].rules[1].id"),
    ("an unknown rule key", _rules(_rule(priority=1)), "unknown field", "vpcs[0].acls[0].rules[0].priority"),
    # clusters
    ("a cluster twice", _clusters(_cluster(), _cluster()), "duplicate cluster 'c' (also clusters[0])",
     "clusters[1].name"),
    ("a namespace twice", _clusters(_cluster(namespaces=[{"name": "n"}, {"name": "n"}])),
     "duplicate namespace 'n'", "clusters[0].namespaces[1].name"),
    ("a namespace name invalid", _clusters(_cluster(namespaces=[{"name": "Bad_NS"}])),
     "\"Bad_NS\" is not a namespace name: a lowercase RFC 1123 label", "clusters[0].namespaces[0].name"),
    ("labels not strings", _clusters(_cluster(namespaces=[{"name": "n", "labels": {"a": 1}}])),
     "expected an object of string labels", "clusters[0].namespaces[0].labels"),
    ("labels a list", _clusters(_cluster(namespaces=[{"name": "n", "labels": []}])),
     "expected an object of string labels", "clusters[0].namespaces[0].labels"),
    ("a label key invalid", _clusters(_cluster(namespaces=[{"name": "n", "labels": {"bad key": "x"}}])),
     'Invalid value: "bad key"', "clusters[0].namespaces[0].labels"),
    ("a policy twice", _clusters(_cluster(policies=[_policy(), _policy("m"), _policy()])),
     "duplicate NetworkPolicy 'n/p' (also clusters[0].policies[0])", "clusters[0].policies[2].name"),
    ("a policy name invalid", _clusters(_cluster(policies=[_policy(name="Bad_Name")])),
     "a lowercase RFC 1123 subdomain", "clusters[0].policies[0].name"),
    ("a policy namespace invalid", _clusters(_cluster(policies=[_policy(namespace="a.b")])),
     "must not contain dots", "clusters[0].policies[0].namespace"),
    ("a policy label invalid", _clusters(_cluster(policies=[_policy(labels={"-x": "y"})])),
     'Invalid value: "-x"', "clusters[0].policies[0].labels"),
    ("a spec a list", _clusters(_cluster(policies=[_policy(spec=[])])), "expected an object, got a list",
     "clusters[0].policies[0].spec"),
    ("an ipBlock without cidr", _clusters(_cluster(policies=[_policy(spec={"ingress": [{"from": [
        {"ipBlock": {}}]}]})])),
     "Required value", "clusters[0].policies[0].spec.ingress[0].from[0].ipBlock.cidr"),
    ("an except outside its cidr", _clusters(_cluster(policies=[_policy(spec={"ingress": [{"from": [{"ipBlock": {
        "cidr": "10.0.0.0/8", "except": ["11.0.0.0/16"]}}]}]})])),
     "must be a strict subset of `cidr`", "clusters[0].policies[0].spec.ingress[0].from[0].ipBlock.except[0]"),
    ("a policy port 70000", _clusters(_cluster(policies=[_policy(spec={"ingress": [{"ports": [{"port": 70000}]}]})])),
     "Invalid value: 70000: must be between 1 and 65535", "clusters[0].policies[0].spec.ingress[0].ports[0].port"),
    ("a policy port true", _clusters(_cluster(policies=[_policy(spec={"ingress": [{"ports": [{"port": True}]}]})])),
     "cannot unmarshal bool", "clusters[0].policies[0].spec.ingress[0].ports[0].port"),
    ("a policy protocol HTTP", _clusters(_cluster(policies=[_policy(spec={"egress": [{"ports": [
        {"protocol": "HTTP"}]}]})])),
     'Unsupported value: "HTTP"', "clusters[0].policies[0].spec.egress[0].ports[0].protocol"),
    ("ingress a string", _clusters(_cluster(policies=[_policy(spec={"ingress": "all"})])),
     "cannot unmarshal string", "clusters[0].policies[0].spec.ingress"),
    ("a policyType unknown", _clusters(_cluster(policies=[_policy(spec={"policyTypes": ["Both"]})])),
     'Unsupported value: "Both"', "clusters[0].policies[0].spec.policyTypes[0]"),
    ("an unknown spec field", _clusters(_cluster(policies=[_policy(spec={"podselector": {}})])),
     'unknown field "spec.podselector"', "clusters[0].policies[0].spec.podselector"),
    ("a pod twice", _clusters(_cluster(pods=[{"namespace": "n", "name": "w"}, {"namespace": "n", "name": "w"}])),
     "duplicate pod 'n/w'", "clusters[0].pods[1].name"),
    ("a pod port 0", _clusters(_cluster(pods=[{"namespace": "n", "name": "w", "ports": [{"port": 0}]}])),
     "0 is outside 1-65535", "clusters[0].pods[0].ports[0].port"),
    ("a pod port true", _clusters(_cluster(pods=[{"namespace": "n", "name": "w", "ports": [{"port": True}]}])),
     "expected a whole number, got a boolean", "clusters[0].pods[0].ports[0].port"),
    ("a pod protocol HTTP", _clusters(_cluster(pods=[{"namespace": "n", "name": "w", "ports": [
        {"port": 80, "protocol": "HTTP"}]}])), "'HTTP' is not one of TCP, UDP, SCTP",
     "clusters[0].pods[0].ports[0].protocol"),
    ("worker subnets a string", _clusters(_cluster(worker_subnets="s")), "expected a list of non-empty strings",
     "clusters[0].worker_subnets"),
    ("a workload of an unknown kind", _clusters(_cluster(workloads=[{"namespace": "n", "name": "w", "kind": "Job"}])),
     "'Job' is not one of Deployment, StatefulSet, DaemonSet", "clusters[0].workloads[0].kind"),
    ("a workload twice", _clusters(_cluster(workloads=[{"namespace": "n", "name": "w", "kind": "Deployment"}] * 2)),
     "duplicate workload 'n/w'", "clusters[0].workloads[1].name"),
    ("workload subnets a string", _clusters(_cluster(workloads=[{"namespace": "n", "name": "w", "kind": "DaemonSet",
                                                                 "subnets": "s"}])),
     "expected a list of non-empty strings", "clusters[0].workloads[0].subnets"),
    ("an egress pin without its subnet", _clusters(_cluster(egress=[{"namespace": "n", "name": "w"}])), "missing",
     "clusters[0].egress[0].subnet"),
    ("an egress pin exclusive \"yes\"", _clusters(_cluster(egress=[{"namespace": "n", "name": "w", "subnet": "s",
                                                                    "exclusive": "yes"}])),
     "expected true or false", "clusters[0].egress[0].exclusive"),
    ("unreadable without scope", _text(_top(unreadable=[{"reason": "503"}])), "missing", "unreadable[0].scope"),
]


@pytest.mark.parametrize(("text", "message", "path"), [c[1:] for c in BAD], ids=[c[0] for c in BAD])
def test_a_bad_snapshot_is_one_error_naming_file_and_path(text: str | bytes, message: str, path: str | None) -> None:
    with pytest.raises(SnapshotFormatError) as e:
        snapshot_format.loads(text, source="s.json")
    assert message in str(e.value)
    assert str(e.value).startswith("s.json")
    assert "\n" not in str(e.value)
    assert e.value.location is not None and e.value.location.file == "s.json"
    if path is not None:
        assert e.value.location.field == path


GOOD = [
    ("a VPC name in two regions", _vpcs(_vpc(), _vpc(region="eu-de"))),
    ("a policy name in two namespaces", _clusters(_cluster(policies=[_policy("n"), _policy("m")]))),
    ("a cluster's namespace and pods", _clusters(_cluster(namespaces=[{"name": "n", "labels": {"tier": "web"}}],
                                                          pods=[{"namespace": "n", "name": "w"}]))),
    ("taken_at null (a baseline written as a snapshot)", _text(_top(taken_at=None))),
    ("taken_at with an offset", _text(_top(taken_at="2026-11-27T11:00:00+01:00"))),
    ("taken_at with fractions", _text(_top(taken_at="2026-11-27T10:00:00.123456Z"))),
    ("rules without ids", _rules(_rule(), DENY_ALL)),
    ("bytes", _text(_top()).encode("utf-8")),
]


@pytest.mark.parametrize("text", [c[1] for c in GOOD], ids=[c[0] for c in GOOD])
def test_what_is_valid_stays_valid(text: str | bytes) -> None:
    assert isinstance(snapshot_format.loads(text, source="s.json"), Snapshot)


# --- the typed reader (adapters.snapshot_file) against this one -----------------------------------


def _bytes(text: str | bytes) -> bytes:
    return text if isinstance(text, bytes) else text.encode("utf-8", "surrogatepass")


@pytest.mark.parametrize("text", [c[1] for c in BAD], ids=[c[0] for c in BAD])
def test_the_typed_reader_refuses_every_bad_snapshot_in_the_same_words(text: str | bytes) -> None:
    """The typed decoding refuses each bad file itself (None), and its reader then gives this reader's error."""
    assert snapshot_file.typed(_bytes(text)) is None
    with pytest.raises(SnapshotFormatError) as core:
        snapshot_format.loads(text, source="s.json")
    with pytest.raises(SnapshotFormatError) as typed:
        snapshot_file.loads(_bytes(text), "s.json")
    assert (str(typed.value), typed.value.location) == (str(core.value), core.value.location)


@pytest.mark.parametrize("text", [c[1] for c in GOOD], ids=[c[0] for c in GOOD])
def test_the_typed_reader_reads_what_this_one_reads(text: str | bytes) -> None:
    typed = snapshot_file.typed(_bytes(text))
    core = snapshot_format.loads(text, source="s.json")
    assert typed is not None
    assert typed == core and snapshot_format.dumps(typed) == snapshot_format.dumps(core)


def test_the_typed_reader_reads_the_one_percent_account_as_this_one() -> None:
    """The 1% account of the scale benchmark (1,000 rules, 200 NetworkPolicies): the same model, ids,
    labels and taken_at included (the model's == leaves those out, the canonical text does not)."""
    text = snapshot_format.dumps(_scale().live(_scale().baseline(0.01)))
    typed = snapshot_file.typed(text.encode("utf-8"))
    core = snapshot_format.loads(text, source="live.json")
    assert typed is not None and typed.vpcs and typed.clusters
    assert typed == core
    assert snapshot_format.dumps(typed) == snapshot_format.dumps(core) == text


def test_the_line_is_where_the_field_is() -> None:
    text = _vpcs(_vpc(), _vpc(name="w"), _vpc(acls=[{"name": "a", "rules": [_rule(), _rule(source="10.0.0.0/33")]}]))
    with pytest.raises(SnapshotFormatError) as e:
        snapshot_format.loads(text, source="s.json")
    lines = text.splitlines()
    assert e.value.location is not None and e.value.location.line is not None
    assert lines[e.value.location.line - 1].strip() == '"source": "10.0.0.0/33",'
    assert str(e.value).startswith(f"s.json:{e.value.location.line}: vpcs[2].acls[0].rules[1].source: ")


@pytest.mark.parametrize(("text", "path", "line"), [
    ('{"a": {"b": [1, {"c": 2}]}}', "a.b[1].c", 1),
    ('{\n "a": 1,\n "b": [\n  0,\n  {"x": "\\"}[,"}, 7\n ]\n}', "b[2]", 5),
    ('{"a": 1,\n "a": 2}', "a", 2),  # the last of equal keys is the one JSON keeps
    ('{"a": [1]}', "a[3]", None),
    ('{"a": 1}', "b", None),
    ('{"a": 1}', "a.b", None),
], ids=["nested", "skips strings and lists", "the kept key", "past the end", "no such key", "not an object"])
def test_line_of(text: str, path: str, line: int | None) -> None:
    assert snapshot_checks.line_of(text, path) == line


def test_the_size_limit(monkeypatch: pytest.MonkeyPatch) -> None:
    data = _text(_top()).encode("utf-8")
    monkeypatch.setattr(snapshot_checks, "MAX_BYTES", len(data))
    assert snapshot_format.loads(data, source="s.json").vpcs == ()
    with pytest.raises(SnapshotFormatError) as e:
        snapshot_format.loads(data + b" ", source="s.json")
    assert str(e.value) == (f"s.json: cannot read the snapshot file: larger than the {len(data)} bytes a snapshot "
                            "file may have")


def _scale() -> Any:
    """``benchmarks/scale.py``, the generator of the scale estates."""
    spec = importlib.util.spec_from_file_location("scale", SCALE)
    assert spec is not None and spec.loader is not None
    scale = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(scale)
    return scale


def test_the_size_limit_holds_the_largest_account_with_room() -> None:
    """The limit is 256 MiB; the 100% account of the scale benchmark, at least twice over, fits in it."""
    scale = _scale()
    one_percent = len(snapshot_format.dumps(scale.live(scale.baseline(0.01))).encode("utf-8"))
    assert snapshot_checks.limit() == "256 MiB"
    assert 2 * 100 * one_percent < snapshot_format.MAX_BYTES


def test_a_vpc_listed_twice_cannot_hide_drift() -> None:
    """A live snapshot that lists a VPC twice, first as it drifted and then as the baseline has it. Keyed
    by name, the second copy wins, and the drift of the first is never reported: the reader refuses it."""
    drifted = f.with_subnet(LIVE, "subnet-zone2", network_acl="default-acl").vpcs[0]
    clean = LIVE.vpcs[0]
    assert diff(BASE, Snapshot(vpcs=(drifted,), clusters=LIVE.clusters))  # the drift is there...
    assert diff(BASE, Snapshot(vpcs=(drifted, clean), clusters=LIVE.clusters)) == []  # ...and hidden by the copy
    data = json.loads(snapshot_format.dumps(LIVE))
    data["vpcs"] = [json.loads(snapshot_format.dumps(replace(LIVE, vpcs=(v,))))["vpcs"][0] for v in (drifted, clean)]
    with pytest.raises(SnapshotFormatError) as e:
        snapshot_format.loads(json.dumps(data, indent=2), source="live.json")
    assert e.value.location is not None
    assert (e.value.location.field, e.value.location.line) == ("vpcs[1].name", _line_of_second(data, "vpcs"))
    assert "duplicate VPC 'us-south/prod-vpc' (also vpcs[0])" in str(e.value)


def _line_of_second(data: dict[str, Any], key: str) -> int:
    """The line of the second VPC's name in ``json.dumps(data, indent=2)``, found by counting."""
    lines = json.dumps(data, indent=2).splitlines()
    names = [i for i, line in enumerate(lines, 1) if line == f'      "name": "{data[key][0]["name"]}",']
    return names[1]


def test_empty_snapshot() -> None:
    snap = snapshot_format.loads(_text(_top(taken_at=None)), source="s.json")
    assert snap.vpcs == () and snap.clusters == () and snap.unreadable == () and snap.taken_at is None
