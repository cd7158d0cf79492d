"""adapters.baseline_fs: the baseline directory read into a Snapshot and written back, byte for byte."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from netwarden.adapters.baseline_fs import parse_tree, read_baseline, read_baseline_with_sources
from netwarden.adapters.baseline_write import render, write_baseline
from netwarden.core import lint, normalize
from netwarden.core.errors import BaselineError
from netwarden.core.model import (
    ALL_PORTS,
    Cluster,
    ContainerPort,
    EgressPin,
    Namespace,
    NetworkAcl,
    NetworkPolicy,
    Pod,
    PortRange,
    Snapshot,
    Subnet,
    Unreadable,
    Vpc,
)
from netwarden.core.netpol.validate import validate

REPO = Path(__file__).resolve().parents[2]
RECIPE = REPO / "baseline"
ACL = "vpc/us-south/edge-vpc/network-acls/edge-acl.yaml"
SUBNETS = "vpc/us-south/edge-vpc/subnets.yaml"
NAMESPACES = "kubernetes/prod-cluster/namespaces.yaml"
POLICY = "kubernetes/prod-cluster/accounts/db-allow.yaml"


def make(root: Path, files: dict[str, str]) -> Path:
    for rel, text in files.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text(text, encoding="utf-8")
    return root


def rule_yaml(**fields: Any) -> str:
    base: dict[str, Any] = {"name": "allow-https-in", "action": "allow", "direction": "inbound", "protocol": "tcp",
                            "source": "10.0.0.0/8", "destination": "0.0.0.0/0"}
    base.update(fields)
    return yaml.safe_dump({"name": "edge-acl", "rules": [{k: v for k, v in base.items() if v is not None}]},
                          sort_keys=False)


# --- the recipe baseline -------------------------------------------------------------------------


def test_the_recipe_baseline() -> None:
    snap = read_baseline(RECIPE)
    (vpc,) = snap.vpcs
    assert (vpc.region, vpc.name, vpc.default_acl) == ("us-south", "iks-vpc", "iks-vpc-default-acl")
    assert [a.name for a in vpc.acls] == ["iks-cluster-us-south-1-acl", "iks-cluster-us-south-2-acl",
                                         "iks-cluster-us-south-3-acl", "iks-vpc-default-acl"]
    assert [(s.name, s.network_acl, s.public_gateway, s.zone, s.cidr) for s in vpc.subnets] == [
        ("iks-vpc-us-south-1", "iks-cluster-us-south-1-acl", "iks-cluster-us-south-1-gateway", "us-south-1",
         "10.240.0.0/24"),
        ("iks-vpc-us-south-2", "iks-cluster-us-south-2-acl", None, "us-south-2", "10.240.64.0/24"),
        ("iks-vpc-us-south-3", "iks-cluster-us-south-3-acl", None, "us-south-3", "10.240.128.0/24"),
    ]
    assert not any(s.network_acl == vpc.default_acl for s in vpc.subnets)
    zone1 = vpc.acl("iks-cluster-us-south-1-acl")
    assert zone1 is not None
    assert [r.name for r in zone1.rules][-2:] == ["deny-all-outbound", "deny-all-inbound"]
    assert {r.destination for r in zone1.rules if r.direction == "outbound"} >= {
        "10.240.64.0/24", "10.240.128.0/24", "161.26.0.0/16", "166.8.0.0/14", "207.42.8.0/24"}
    (cluster,) = snap.clusters
    assert cluster.name == "iks-cluster"
    assert [(n.name, dict(n.labels)) for n in cluster.namespaces] == [
        ("accounts", {"usage": "accounts"}), ("finance", {"usage": "finance"})]
    assert [p.key for p in cluster.policies] == ["accounts/accounts-allow", "accounts/backend-allow",
                                                 "accounts/db-allow"]
    assert len(cluster.pods) == 7
    assert cluster.egress == (EgressPin("accounts", "srv1-notifier", "iks-vpc-us-south-1"),)


def test_the_recipe_baseline_passes_lint() -> None:
    assert lint.lint(read_baseline(RECIPE)) == []


def test_the_committed_baseline_is_in_canonical_form() -> None:
    """``baseline capture`` of the recipe estate reproduces the committed files byte for byte."""
    on_disk = {p.relative_to(RECIPE).as_posix(): p.read_text(encoding="utf-8")
               for p in RECIPE.rglob("*.yaml")}
    assert render(read_baseline(RECIPE)) == on_disk


def test_policies_are_manifests_the_api_server_accepts() -> None:
    for rel, text in render(read_baseline(RECIPE)).items():
        if rel.startswith("kubernetes/") and rel.count("/") == 3:
            manifest = yaml.safe_load(text)
            assert manifest["apiVersion"] == "networking.k8s.io/v1"
            assert manifest["kind"] == "NetworkPolicy"
            assert manifest["metadata"]["namespace"] == rel.split("/")[2]
            assert validate(manifest) == []


# --- round trip ----------------------------------------------------------------------------------


def test_round_trip_of_the_recipe(tmp_path: Path) -> None:
    original = read_baseline(RECIPE)
    files = write_baseline(original, tmp_path / "out")
    assert read_baseline(tmp_path / "out") == original
    assert sorted(p.relative_to(tmp_path / "out").as_posix() for p in files) == sorted(render(original))


def test_rewriting_the_same_snapshot_changes_nothing(tmp_path: Path) -> None:
    snap = read_baseline(RECIPE)
    write_baseline(snap, tmp_path)
    stamps = {p: (p.stat().st_mtime_ns, p.read_bytes()) for p in tmp_path.rglob("*.yaml")}
    os.utime(next(iter(stamps)), ns=(1, 1))
    first = next(iter(stamps))
    stamps[first] = (1, stamps[first][1])
    write_baseline(snap, tmp_path)
    assert {p: (p.stat().st_mtime_ns, p.read_bytes()) for p in tmp_path.rglob("*.yaml")} == stamps


names = st.from_regex(r"[a-z][a-z0-9]{0,6}", fullmatch=True)
cidrs = st.builds(lambda a, b, p: normalize.cidr(f"{a}.{b}.0.0/{p}", strict=False),
                  st.integers(0, 255), st.integers(0, 255), st.integers(0, 32))
port_ranges = st.one_of(st.just(ALL_PORTS), st.builds(lambda a, b: PortRange(min(a, b), max(a, b)),
                                                      st.integers(1, 65535), st.integers(1, 65535)))


@st.composite
def acl_rules(draw: st.DrawFn, name: str) -> Any:
    protocol = draw(st.sampled_from(["tcp", "udp", "icmp", "icmp_tcp_udp", "any", "gre", "number_47"]))
    action = draw(st.sampled_from(["allow", "deny"]))
    if action == "deny" and protocol == "icmp_tcp_udp":
        protocol = "any"
    icmp_type = draw(st.none() | st.integers(0, 254)) if protocol == "icmp" else None
    icmp_code = draw(st.none() | st.integers(0, 255)) if icmp_type is not None else None
    ports = protocol in ("tcp", "udp")
    return normalize.acl_rule(name=name, action=action, direction=draw(st.sampled_from(["inbound", "outbound"])),
                              protocol_=protocol, source=draw(cidrs), destination=draw(cidrs),
                              destination_port=draw(port_ranges) if ports else None,
                              source_port=draw(port_ranges) if ports else None, icmp_type=icmp_type,
                              icmp_code=icmp_code)


@st.composite
def vpcs(draw: st.DrawFn, region: str, name: str) -> Vpc:
    acl_names = draw(st.lists(names, min_size=1, max_size=3, unique=True))
    acls = [NetworkAcl(a, tuple(draw(acl_rules(f"r{i}")) for i in range(draw(st.integers(0, 4)))))
            for a in acl_names]
    gateways = draw(st.lists(names, max_size=2, unique=True))
    subnets = [Subnet(s, draw(st.sampled_from(acl_names)), draw(st.none() | st.sampled_from(gateways or [None])),
                      draw(st.none() | st.sampled_from([f"{region}-1", f"{region}-2"])),
                      draw(st.none() | st.just(f"10.{i}.0.0/24")))
               for i, s in enumerate(draw(st.lists(names, max_size=3, unique=True)))]
    return Vpc(region, name, normalize.sorted_by_name(acls), normalize.sorted_by_name(subnets),
               default_acl=draw(st.none() | st.sampled_from(acl_names)), public_gateways=tuple(sorted(gateways)))


label_maps = st.dictionaries(st.from_regex(r"([a-z]{1,3}\.[a-z]{2,3}/)?[A-Za-z]([A-Za-z0-9_.-]{0,5}[A-Za-z0-9])?",
                                           fullmatch=True),
                             st.from_regex(r"([A-Za-z0-9][A-Za-z0-9_.-]{0,6}[A-Za-z0-9])?", fullmatch=True),
                             max_size=3).map(normalize.labels)


@st.composite
def clusters(draw: st.DrawFn, name: str) -> Cluster:
    ns_names = draw(st.lists(names, min_size=1, max_size=3, unique=True))
    namespaces = [Namespace(n, draw(label_maps)) for n in ns_names]
    policies = []
    for i, ns in enumerate(draw(st.lists(st.sampled_from(ns_names), max_size=3))):
        spec = {"podSelector": {"matchLabels": draw(label_maps)}, "ingress": [
            {"from": [draw(st.sampled_from([{"podSelector": {"matchLabels": {"tier": "web"}}},
                                            {"namespaceSelector": {}},
                                            {"ipBlock": {"cidr": "10.0.0.0/8", "except": ["10.1.0.0/16"]}}]))],
             "ports": [{"port": draw(st.integers(1, 65535)), "protocol": draw(st.sampled_from(["TCP", "UDP"]))}]}]}
        policies.append(NetworkPolicy(ns, f"p{i}", normalize.netpol_spec(spec), labels=draw(label_maps)))
    pods = [Pod(draw(st.sampled_from(ns_names)), f"w{i}", draw(label_maps),
                tuple(ContainerPort(p, "TCP", draw(st.none() | st.just("http"))) for p in draw(
                    st.lists(st.integers(1, 65535), max_size=2))))
            for i in range(draw(st.integers(0, 3)))]
    return Cluster(name, normalize.sorted_by_name(namespaces),
                   tuple(sorted(policies, key=lambda p: (p.namespace, p.name))),
                   tuple(sorted(pods, key=lambda p: (p.namespace, p.name))))


snapshots = st.builds(lambda v, c: Snapshot(tuple(sorted(v, key=lambda x: x.name)),
                                            tuple(sorted(c, key=lambda x: x.name))),
                      st.lists(names, max_size=2, unique=True).flatmap(
                          lambda ns: st.tuples(*[vpcs("us-south", n) for n in ns])),
                      st.lists(names, max_size=2, unique=True).flatmap(
                          lambda ns: st.tuples(*[clusters(n) for n in ns]))).filter(
    lambda s: bool(s.vpcs or s.clusters))


@settings(max_examples=60, deadline=None)
@given(snap=snapshots)
def test_round_trip_property(snap: Snapshot) -> None:
    """What ``write_baseline`` writes (``render``) reads back (``parse_tree``, what ``read_baseline`` runs)."""
    assert parse_tree(render(snap), "b")[0] == snap


@settings(max_examples=5, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(first=snapshots, second=snapshots)
def test_round_trip_on_disk_over_an_older_baseline(first: Snapshot, second: Snapshot, tmp_path: Path) -> None:
    out = tmp_path / "b"
    write_baseline(first, out)
    write_baseline(second, out)
    assert read_baseline(out) == second


# --- writing -------------------------------------------------------------------------------------


def test_writing_replaces_the_managed_trees_and_keeps_other_files(tmp_path: Path) -> None:
    snap = read_baseline(RECIPE)
    write_baseline(snap, tmp_path)
    (tmp_path / "README.md").write_text("hand written\n")
    (tmp_path / "vpc" / "NOTES.txt").write_text("kept\n")
    vpc, cluster = snap.vpcs[0], snap.clusters[0]
    smaller = Snapshot(
        vpcs=(Vpc(vpc.region, vpc.name, vpc.acls[1:], tuple(s for s in vpc.subnets if s.name != "iks-vpc-us-south-1"),
                  default_acl=vpc.default_acl, public_gateways=vpc.public_gateways),),
        clusters=(Cluster(cluster.name, cluster.namespaces, cluster.policies[1:]),))
    write_baseline(smaller, tmp_path)
    assert read_baseline(tmp_path) == smaller
    assert not (tmp_path / "vpc/us-south/iks-vpc/network-acls/iks-cluster-us-south-1-acl.yaml").exists()
    assert not (tmp_path / "kubernetes/iks-cluster/accounts/accounts-allow.yaml").exists()
    assert not (tmp_path / "kubernetes/iks-cluster/workloads.yaml").exists()
    assert (tmp_path / "README.md").read_text() == "hand written\n"
    assert (tmp_path / "vpc" / "NOTES.txt").exists()
    write_baseline(Snapshot(clusters=smaller.clusters), tmp_path)
    assert not (tmp_path / "vpc" / "us-south").exists()


def test_writing_an_incomplete_snapshot_writes_nothing(tmp_path: Path) -> None:
    snap = Snapshot(vpcs=read_baseline(RECIPE).vpcs, unreadable=(Unreadable("us-south/iks-vpc", "HTTP 503"),))
    with pytest.raises(BaselineError, match="incomplete snapshot"):
        write_baseline(snap, tmp_path / "b")
    assert not (tmp_path / "b").exists()


def test_a_snapshot_that_would_not_read_back_writes_nothing(tmp_path: Path) -> None:
    vpc = Vpc("us-south", "v", acls=(), subnets=(Subnet("s", "missing-acl"),))
    with pytest.raises(BaselineError, match=r"does not make a valid baseline.*missing-acl"):
        write_baseline(Snapshot(vpcs=(vpc,)), tmp_path / "b")
    assert not (tmp_path / "b").exists()


def test_spelling_of_written_rules() -> None:
    rules = (
        normalize.acl_rule(name="one-port", action="allow", direction="inbound", protocol_="tcp", source="10.0.0.1",
                           destination="0.0.0.0/0", destination_port=PortRange(443, 443)),
        normalize.acl_rule(name="a-range", action="allow", direction="outbound", protocol_="udp",
                           source="0.0.0.0/0", destination="0.0.0.0/0", source_port=PortRange(30000, 32767)),
        normalize.acl_rule(name="ping", action="allow", direction="inbound", protocol_="icmp", source="0.0.0.0/0",
                           destination="0.0.0.0/0", icmp_type=8, icmp_code=0),
    )
    text = render(Snapshot(vpcs=(Vpc("us-south", "v", (NetworkAcl("a", rules),)),)))[
        "vpc/us-south/v/network-acls/a.yaml"]
    assert yaml.safe_load(text)["rules"] == [
        {"name": "one-port", "action": "allow", "direction": "inbound", "protocol": "tcp", "source": "10.0.0.1/32",
         "destination": "0.0.0.0/0", "destination_port": 443},
        {"name": "a-range", "action": "allow", "direction": "outbound", "protocol": "udp", "source": "0.0.0.0/0",
         "destination": "0.0.0.0/0", "source_port": "30000-32767"},
        {"name": "ping", "action": "allow", "direction": "inbound", "protocol": "icmp", "source": "0.0.0.0/0",
         "destination": "0.0.0.0/0", "type": 8, "code": 0},
    ]


# --- reading: synonyms and defaults ---------------------------------------------------------------


@pytest.mark.parametrize(("fields", "expected"), [
    ({"protocol": "all", "action": "allow"}, {"protocol": "icmp_tcp_udp"}),
    ({"protocol": "all", "action": "deny"}, {"protocol": "any"}),
    ({"protocol": "tcp"}, {"destination_port": ALL_PORTS, "source_port": ALL_PORTS}),
    ({"protocol": "udp", "destination_port": "53"}, {"destination_port": PortRange(53, 53)}),
    ({"protocol": "tcp", "destination_port": "30000-32767"}, {"destination_port": PortRange(30000, 32767)}),
    ({"source": "207.42.8.9"}, {"source": "207.42.8.9/32"}),
    ({"protocol": "icmp", "type": 8}, {"icmp_type": 8, "icmp_code": None, "destination_port": None}),
])
def test_rule_synonyms_fold(tmp_path: Path, fields: dict[str, Any], expected: dict[str, Any]) -> None:
    make(tmp_path, {ACL: rule_yaml(**fields)})
    (rule,) = read_baseline(tmp_path).vpcs[0].acls[0].rules
    for key, value in expected.items():
        assert getattr(rule, key) == value


def test_empty_files_are_empty_collections(tmp_path: Path) -> None:
    make(tmp_path, {SUBNETS: "", NAMESPACES: "", ACL: "name: edge-acl\nrules: []\n"})
    snap = read_baseline(tmp_path)
    assert snap.vpcs[0].subnets == () and snap.vpcs[0].acls[0].rules == ()
    assert snap.clusters[0].namespaces == ()


def test_non_yaml_and_hidden_files_are_ignored(tmp_path: Path) -> None:
    make(tmp_path, {ACL: rule_yaml(), "README.md": "x", ".git/config.yaml": "x: [", "vpc/.draft.yaml": "x: ["})
    assert len(read_baseline(tmp_path).vpcs) == 1


# --- reading: every error names file, line and field ----------------------------------------------


ERRORS: dict[str, tuple[dict[str, str], str, str]] = {
    "rule-source-not-a-string": ({ACL: rule_yaml(source=10)}, f"{ACL}:7: rules[0].source", "non-empty string"),
    "rule-type-not-a-number": ({ACL: rule_yaml(protocol="icmp", type="8")}, f"{ACL}:9: rules[0].type", "whole number"),
    "rule-code-a-bool": ({ACL: rule_yaml(protocol="icmp", type=8, code=True)}, f"{ACL}:10: rules[0].code",
                         "whole number"),
    "rule-not-a-mapping": ({ACL: "name: edge-acl\nrules:\n- allow-all\n"}, f"{ACL}:3: rules[0]", "a rule"),
    "acl-file-a-list": ({ACL: "- name: edge-acl\n"}, f"{ACL}:1: (top level)", "mapping with name and rules"),
    "acl-without-name": ({ACL: "rules: []\n"}, f"{ACL}:1: name", "missing"),
    "acl-unknown-top-key": ({ACL: "name: edge-acl\nrule: []\n"}, f"{ACL}:2: rule", "unknown key"),
    "acl-bad-name": ({ACL: "name: Edge-ACL\n"}, f"{ACL}:1: name", "not a valid IBM Cloud network ACL name"),
    "port-range-text": ({ACL: rule_yaml(destination_port="80-90-100")}, f"{ACL}:9: rules[0].destination_port",
                        "not a port or a range"),
    "number-protocol-out-of-range": ({ACL: rule_yaml(protocol="number_300")}, f"{ACL}:6: rules[0].protocol",
                                     "unknown ACL rule protocol"),
    "subnets-a-list": ({SUBNETS: "- s1\n"}, f"{SUBNETS}:1: (top level)", "subnet name -> attachments"),
    "subnet-bad-name": ({ACL: rule_yaml(), SUBNETS: "Subnet_1:\n  network_acl: edge-acl\n"}, f"{SUBNETS}:1: Subnet_1",
                        "not a valid IBM Cloud subnet name"),
    "subnet-ipv6-cidr": ({ACL: rule_yaml(), SUBNETS: "s1:\n  network_acl: edge-acl\n  cidr: 2001:db8::/64\n"},
                         f"{SUBNETS}:3: s1.cidr", "IPv6"),
    "vpc-yaml-gateways-not-a-list": ({ACL: rule_yaml(), "vpc/us-south/edge-vpc/vpc.yaml": "public_gateways: gw\n"},
                                     "vpc/us-south/edge-vpc/vpc.yaml:1: public_gateways", "list of public gateway"),
    "vpc-yaml-duplicate-gateway": ({ACL: rule_yaml(), "vpc/us-south/edge-vpc/vpc.yaml":
                                    "public_gateways:\n- gw\n- gw\n"}, "vpc/us-south/edge-vpc/vpc.yaml:3: "
                                   "public_gateways[1]", "duplicate public gateway"),
    "namespace-bad-name": ({NAMESPACES: "Accounts: {}\n"}, f"{NAMESPACES}:1: Accounts", "not a valid namespace name"),
    "namespace-metadata-name-label": ({NAMESPACES: "accounts:\n  kubernetes.io/metadata.name: finance\n"},
                                      f"{NAMESPACES}:2: accounts.kubernetes.io/metadata.name", "sets"),
    "workload-bad-port": ({NAMESPACES: "accounts: {}\n", "kubernetes/prod-cluster/workloads.yaml":
                           "accounts:\n- name: w\n  ports:\n  - port: 70000\n"},
                          "kubernetes/prod-cluster/workloads.yaml:4: accounts[0].ports[0].port", "outside 1-65535"),
    "workload-duplicate": ({NAMESPACES: "accounts: {}\n", "kubernetes/prod-cluster/workloads.yaml":
                            "accounts:\n- name: w\n- name: w\n"},
                           "kubernetes/prod-cluster/workloads.yaml:3: accounts[1].name", "duplicate workload"),
    "policy-generate-name": ({NAMESPACES: "accounts: {}\n", POLICY: "apiVersion: networking.k8s.io/v1\n"
                              "kind: NetworkPolicy\nmetadata:\n  generateName: db-\n"},
                             f"{POLICY}:3: metadata.name", "generateName cannot name a baseline file"),
    "policy-bad-directory": ({NAMESPACES: "accounts: {}\n", "kubernetes/prod-cluster/Accounts/db-allow.yaml":
                              "apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata:\n  name: db-allow\n"},
                             "kubernetes/prod-cluster/Accounts/db-allow.yaml", "not a valid namespace name"),
    "region-directory": ({"vpc/US-South/edge-vpc/subnets.yaml": "{}\n"}, "vpc/US-South/edge-vpc/subnets.yaml",
                         "not a valid IBM Cloud region name"),
    "cluster-without-namespaces": ({"kubernetes/prod-cluster/workloads.yaml": "{}\n"},
                                   "kubernetes/prod-cluster/namespaces.yaml", "needs namespaces.yaml"),
    "invalid-date": ({ACL: "name: edge-acl\nrules:\n- name: 2026-02-30\n"}, f"{ACL}:3: rules[0].name",
                     "'2026-02-30' is not a valid date or time (day is out of range for month)"),
    "list-as-key": ({SUBNETS: "s1: {}\n? [a, b]\n: x\n"}, f"{SUBNETS}:2: ", "a key must be a name or a number"),
    "deep-nesting": ({NAMESPACES: "[" * 100_000}, f"{NAMESPACES}:1: ", "nested too deeply"),
    "control-character": ({NAMESPACES: "accounts:\n  usage: a\x1bb\n"}, f"{NAMESPACES}:2: ", "U+001B"),
    "huge-namespace-name": ({NAMESPACES: f"? {'a' * 5_000_000}\n: {{}}\n"}, f"{NAMESPACES}:1: aaaa",
                            "(4999920 more characters) is not a valid namespace name"),
}


@pytest.mark.parametrize("case", list(ERRORS.values()), ids=list(ERRORS))
def test_errors_name_file_line_and_field(case: tuple[dict[str, str], str, str], tmp_path: Path) -> None:
    files, where, words = case
    make(tmp_path, files)
    with pytest.raises(BaselineError) as caught:
        read_baseline(tmp_path)
    text = str(caught.value)
    assert text.startswith(f"{tmp_path}/{where}"), text
    assert words in text
    assert "\n" not in text


def test_a_file_written_from_a_snapshot_is_held_to_the_size_limit() -> None:
    with pytest.raises(BaselineError, match=r"too large: 8,388,609 bytes, over the limit of 8 MiB"):
        parse_tree({NAMESPACES: "#" * 8_388_608 + "\n"}, "baseline")


def test_a_missing_directory(tmp_path: Path) -> None:
    with pytest.raises(BaselineError, match="baseline directory not found"):
        read_baseline(tmp_path / "nope")
    (tmp_path / "file").write_text("x")
    with pytest.raises(BaselineError, match="not a directory"):
        read_baseline(tmp_path / "file")


# --- sources, for lint ------------------------------------------------------------------------------


def test_sources_place_rules_subnets_and_selectors() -> None:
    _, sources = read_baseline_with_sources(RECIPE)
    acl = "vpc/us-south/iks-vpc/network-acls/iks-cluster-us-south-1-acl.yaml"
    where = sources[lint.rule_subject("us-south", "iks-vpc", "iks-cluster-us-south-1-acl", 1)]
    assert (where.file, where.line) == (f"{RECIPE}/{acl}", 9)
    where = sources[lint.subnet_subject("us-south", "iks-vpc", "iks-vpc-us-south-1", "public_gateway")]
    assert (where.file, where.line) == (f"{RECIPE}/vpc/us-south/iks-vpc/subnets.yaml", 3)
    policy = lint.policy_subject("iks-cluster", "accounts", "backend-allow")
    where = sources[lint.key_subject(policy, "tier")]
    assert (where.file, where.line) == (f"{RECIPE}/kubernetes/iks-cluster/accounts/backend-allow.yaml", 10)
    where = sources[lint.selector_subject(policy, "podSelector", {"matchLabels": {"tier": "frontend", "app": "Srv1"}})]
    assert where.line == 15
