"""Contract: network ACLs and their ordered rules on the VPC emulator, driven by the real ibm-vpc SDK."""

from __future__ import annotations

import itertools
from typing import Any

import pytest
from ibm_vpc import VpcV1
from ibm_vpc.vpc_v1 import (
    VPC,
    DefaultNetworkACL,
    NetworkACL,
    NetworkACLCollection,
    NetworkACLRule,
    NetworkACLRuleCollection,
    NetworkAclRulesPager,
)
from vpc_sdk import NEW, OLD, client, make_acl, make_subnet, make_vpc, parsed, refused, rule, vpc_requests

from netwarden.fakes.server import FakeServer


@pytest.fixture
def sdk(fake: FakeServer) -> VpcV1:
    return client(fake)


@pytest.fixture
def vpc_id(sdk: VpcV1) -> str:
    return str(parsed(VPC, sdk.create_vpc(name="prod-vpc"), 201)["id"])


def names(acl: dict[str, Any]) -> list[str]:
    return [r["name"] for r in acl["rules"]]


def assert_chain(rules: list[dict[str, Any]]) -> None:
    """Each rule's ``before`` names the next one; the last has none."""
    for current, following in itertools.pairwise(rules):
        assert current["before"]["id"] == following["id"]
        assert current["before"]["name"] == following["name"]
    assert "before" not in rules[-1]


def test_a_new_vpc_has_a_default_acl_that_allows_everything(fake: FakeServer, sdk: VpcV1, vpc_id: str) -> None:
    vpc = parsed(VPC, sdk.get_vpc(vpc_id))
    default = parsed(DefaultNetworkACL, sdk.get_vpc_default_network_acl(vpc_id))
    assert default["id"] == vpc["default_network_acl"]["id"]
    assert [(r["name"], r["action"], r["direction"], r["protocol"], r["source"], r["destination"])
            for r in default["rules"]] == [
        ("allow-inbound", "allow", "inbound", "icmp_tcp_udp", "0.0.0.0/0", "0.0.0.0/0"),
        ("allow-outbound", "allow", "outbound", "icmp_tcp_udp", "0.0.0.0/0", "0.0.0.0/0"),
    ]
    assert_chain(default["rules"])
    old = client(fake, version=OLD).get_vpc_default_network_acl(vpc_id).get_result()
    assert [r["protocol"] for r in old["rules"]] == ["all", "all"]
    listed = parsed(NetworkACLCollection, sdk.list_network_acls())
    assert [a["id"] for a in listed["network_acls"]] == [default["id"]]


@pytest.mark.parametrize(
    ("created_by", "action", "protocol", "new_reads", "old_reads"),
    [
        (NEW, "allow", "icmp_tcp_udp", "icmp_tcp_udp", "all"),
        (OLD, "allow", "all", "icmp_tcp_udp", "all"),
        (OLD, "deny", "all", "any", "all"),
        (NEW, "deny", "any", "any", "any"),
        (OLD, "allow", "tcp", "tcp", "tcp"),
        (NEW, "allow", "number_99", "number_99", "number_99"),
    ],
)
def test_one_stored_rule_is_spelled_by_the_reader_version(fake: FakeServer, vpc_id: str, created_by: str, action: str,
                                                          protocol: str, new_reads: str, old_reads: str) -> None:
    acl = make_acl(client(fake), vpc_id, "acl-a", [])
    creator = client(fake, version=created_by)
    created = creator.create_network_acl_rule(acl["id"], rule("r1", action=action, protocol=protocol)).get_result()
    new = client(fake, version=NEW)
    assert parsed(NetworkACLRule, new.get_network_acl_rule(acl["id"], created["id"]))["protocol"] == new_reads
    assert parsed(NetworkACL, new.get_network_acl(acl["id"]))["rules"][0]["protocol"] == new_reads
    old = client(fake, version=OLD)
    assert old.get_network_acl_rule(acl["id"], created["id"]).get_result()["protocol"] == old_reads
    assert old.list_network_acl_rules(acl["id"]).get_result()["rules"][0]["protocol"] == old_reads


@pytest.mark.parametrize(
    ("version", "protocol", "message"),
    [(NEW, "all", "protocol `all` is not supported"), (OLD, "icmp_tcp_udp", "needs version 2025-12-09")],
)
def test_the_other_versions_spelling_is_refused(fake: FakeServer, vpc_id: str, version: str, protocol: str,
                                                message: str) -> None:
    acl = make_acl(client(fake), vpc_id, "acl-a", [])
    refused(lambda: client(fake, version=version).create_network_acl_rule(acl["id"], rule("r", protocol=protocol)),
            400, message)


def test_create_inserts_before_and_patch_moves_before_or_to_the_end(sdk: VpcV1, vpc_id: str) -> None:
    acl = parsed(NetworkACL, sdk.create_network_acl({"name": "acl-a", "vpc": {"id": vpc_id},
                                                     "rules": [rule("a"), rule("b"), rule("c")]}), 201)
    ids = {r["name"]: r["id"] for r in acl["rules"]}
    created = parsed(NetworkACLRule, sdk.create_network_acl_rule(acl["id"], {**rule("d"), "before": {"id": ids["b"]}}),
                     201)
    ids["d"] = created["id"]
    assert created["before"]["id"] == ids["b"]
    assert names(sdk.get_network_acl(acl["id"]).get_result()) == ["a", "d", "b", "c"]
    moved = parsed(NetworkACLRule, sdk.update_network_acl_rule(acl["id"], ids["c"], {"before": {"id": ids["a"]}}))
    assert moved["before"]["id"] == ids["a"]
    assert names(sdk.get_network_acl(acl["id"]).get_result()) == ["c", "a", "d", "b"]
    last = parsed(NetworkACLRule, sdk.update_network_acl_rule(acl["id"], ids["a"], {"before": None}))
    assert "before" not in last
    after = parsed(NetworkACL, sdk.get_network_acl(acl["id"]))
    assert names(after) == ["c", "d", "b", "a"]
    assert_chain(after["rules"])
    sdk.update_network_acl_rule(acl["id"], ids["b"], {"name": "b2"})  # no ``before``: stays where it is
    assert names(sdk.get_network_acl(acl["id"]).get_result()) == ["c", "d", "b2", "a"]


def test_rules_page_in_order_and_filter_by_direction(fake: FakeServer, sdk: VpcV1, vpc_id: str) -> None:
    directions = ["inbound", "outbound"] * 3 + ["inbound"]
    acl = make_acl(sdk, vpc_id, "acl-a", [rule(f"r{i}", direction=d) for i, d in enumerate(directions)])
    fake.cloud.requests.clear()
    every = NetworkAclRulesPager(client=sdk, network_acl_id=acl["id"], limit=2).get_all()
    assert [r["name"] for r in every] == [f"r{i}" for i in range(7)]
    assert_chain(every)
    starts = [r["query"].get("start") for r in vpc_requests(fake)]
    assert len(starts) == 4 and starts[0] is None and all(starts[1:])
    inbound = NetworkAclRulesPager(client=sdk, network_acl_id=acl["id"], limit=3, direction="inbound").get_all()
    assert [r["name"] for r in inbound] == ["r0", "r2", "r4", "r6"]
    assert_chain(inbound)  # in a filtered collection, ``before`` names the next rule shown
    page = parsed(NetworkACLRuleCollection, sdk.list_network_acl_rules(acl["id"], limit=3, direction="outbound"))
    assert page["total_count"] == 3 and page["limit"] == 3 and "next" not in page
    assert "direction=outbound" in page["first"]["href"]


def test_tcp_ports_default_to_every_port_and_icmp_fields_are_optional(sdk: VpcV1, vpc_id: str) -> None:
    acl = make_acl(sdk, vpc_id, "acl-a", [rule("tcp"), rule("icmp", protocol="icmp", type=8, code=0),
                                          rule("icmp-any", protocol="icmp")])
    tcp, icmp, icmp_any = parsed(NetworkACL, sdk.get_network_acl(acl["id"]))["rules"]
    assert [tcp[k] for k in ("destination_port_min", "destination_port_max", "source_port_min", "source_port_max")] \
        == [1, 65535, 1, 65535]
    assert (icmp["type"], icmp["code"]) == (8, 0)
    assert "type" not in icmp_any and "code" not in icmp_any
    cleared = parsed(NetworkACLRule, sdk.update_network_acl_rule(acl["id"], icmp["id"], {"type": None, "code": None}))
    assert "type" not in cleared and "code" not in cleared
    narrowed = parsed(NetworkACLRule, sdk.update_network_acl_rule(acl["id"], tcp["id"], {"destination_port_min": 443,
                                                                                       "destination_port_max": 443}))
    assert (narrowed["destination_port_min"], narrowed["destination_port_max"]) == (443, 443)


CREATE_REFUSALS = [
    ("deny icmp_tcp_udp", rule("x", action="deny", protocol="icmp_tcp_udp"), 400, "must not be `deny`"),
    ("min without max", rule("x", destination_port_min=22), 400, "must be given together"),
    ("max without min", rule("x", source_port_max=22), 400, "must be given together"),
    ("min above max", rule("x", destination_port_min=90, destination_port_max=80), 400, "must not be larger"),
    ("port out of range", rule("x", destination_port_min=0, destination_port_max=80), 400, "from 1 to 65535"),
    ("ports on icmp", rule("x", protocol="icmp", destination_port_min=1, destination_port_max=2), 400,
     "not used by protocol icmp"),
    ("type on tcp", rule("x", type=8), 400, "not used by protocol tcp"),
    ("code without type", rule("x", protocol="icmp", code=0), 400, "can only be given with a `type`"),
    ("icmp type out of range", rule("x", protocol="icmp", type=255), 400, "from 0 to 254"),
    ("bad source", rule("x", source="10.0.0.300/24"), 400, "not an IPv4 address or CIDR block"),
    ("ipv6 destination", rule("x", destination="2001:db8::/32"), 400, "only IPv4"),
    ("bad action", rule("x", action="permit"), 400, "action must be one of allow, deny"),
    ("bad direction", rule("x", direction="both"), 400, "direction must be one of inbound, outbound"),
    ("unknown protocol", rule("x", protocol="http"), 400, "protocol 'http' is not supported"),
    ("no source", {k: v for k, v in rule("x").items() if k != "source"}, 400, "source is required"),
    ("bad name", rule("Not_A_Name"), 400, "is not a valid name"),
    ("duplicate name", rule("a"), 409, "'a' is already in use"),
    ("before another ACL's rule", {**rule("x"), "before": {"id": "r006-nope"}}, 400, "is not a rule of this network"),
    ("unknown property", {**rule("x"), "priority": 1}, 400, "unknown property priority"),
]


@pytest.mark.parametrize(("body", "status", "message"), [c[1:] for c in CREATE_REFUSALS],
                         ids=[c[0] for c in CREATE_REFUSALS])
def test_invalid_rules_are_refused_and_change_nothing(sdk: VpcV1, vpc_id: str, body: dict[str, Any], status: int,
                                                      message: str) -> None:
    acl = make_acl(sdk, vpc_id, "acl-a", [rule("a")])
    refused(lambda: sdk.create_network_acl_rule(acl["id"], body), status, message)
    assert names(sdk.get_network_acl(acl["id"]).get_result()) == ["a"]


PATCH_REFUSALS = [
    ("protocol", "tcp", {"protocol": "udp"}, 400, "protocol cannot be updated"),
    ("ports on icmp", "icmp", {"destination_port_min": 1}, 400, "not used by protocol icmp"),
    ("type on tcp", "tcp", {"type": 3}, 400, "not used by protocol tcp"),
    ("deny on icmp_tcp_udp", "all", {"action": "deny"}, 400, "cannot be `deny`"),
    ("min above existing max", "web", {"destination_port_min": 444}, 400, "must not be larger"),
    ("code left without type", "icmp", {"type": None}, 400, "can only be given with a `type`"),
    ("before itself", "tcp", {"before": {"id": "SELF"}}, 400, "before itself"),
    ("duplicate name", "tcp", {"name": "icmp"}, 409, "'icmp' is already in use"),
    ("bad source", "tcp", {"source": "nowhere"}, 400, "not an IPv4 address"),
]


@pytest.mark.parametrize(("target", "patch", "status", "message"), [c[1:] for c in PATCH_REFUSALS],
                         ids=[c[0] for c in PATCH_REFUSALS])
def test_invalid_patches_are_refused_and_change_nothing(sdk: VpcV1, vpc_id: str, target: str, patch: dict[str, Any],
                                                        status: int, message: str) -> None:
    acl = make_acl(sdk, vpc_id, "acl-a", [
        rule("tcp"), rule("icmp", protocol="icmp", type=3, code=1), rule("all", protocol="icmp_tcp_udp"),
        rule("web", destination_port_min=443, destination_port_max=443)])
    before = sdk.get_network_acl(acl["id"]).get_result()["rules"]
    rule_id = next(r["id"] for r in before if r["name"] == target)
    if patch.get("before") == {"id": "SELF"}:
        patch = {"before": {"id": rule_id}}
    refused(lambda: sdk.update_network_acl_rule(acl["id"], rule_id, patch), status, message)
    assert sdk.get_network_acl(acl["id"]).get_result()["rules"] == before


def test_an_acl_holds_at_most_200_rules(sdk: VpcV1, vpc_id: str) -> None:
    refused(lambda: make_acl(sdk, vpc_id, "too-big", [rule(f"r{i}") for i in range(201)]), 400, "at most 200 rules")
    acl = make_acl(sdk, vpc_id, "full", [rule(f"r{i}") for i in range(200)])
    assert len(acl["rules"]) == 200
    refused(lambda: sdk.create_network_acl_rule(acl["id"], rule("one-more")), 400, "already has 200 rules")


def test_a_vpc_holds_at_most_100_acls(sdk: VpcV1, vpc_id: str) -> None:
    for i in range(99):  # and the default ACL
        sdk.create_network_acl({"name": f"acl-{i}", "vpc": {"id": vpc_id}})
    refused(lambda: sdk.create_network_acl({"name": "acl-100", "vpc": {"id": vpc_id}}), 400, "already has 100")


def test_default_and_attached_acls_cannot_be_deleted(sdk: VpcV1, vpc_id: str) -> None:
    default = sdk.get_vpc_default_network_acl(vpc_id).get_result()
    refused(lambda: sdk.delete_network_acl(default["id"]), 409, "is the default network ACL")
    acl = make_acl(sdk, vpc_id, "acl-a", [rule("a")])
    subnet = make_subnet(sdk, vpc_id, "subnet-1", "us-south-1", network_acl={"id": acl["id"]})
    refused(lambda: sdk.delete_network_acl(acl["id"]), 409, "is attached to subnet")
    sdk.replace_subnet_network_acl(subnet["id"], {"id": default["id"]})
    assert sdk.delete_network_acl(acl["id"]).get_status_code() == 204
    refused(lambda: sdk.get_network_acl(acl["id"]), 404, "not found")


def test_acl_names_are_unique_per_vpc_and_rules_copy_from_a_source_acl(sdk: VpcV1, vpc_id: str) -> None:
    source = make_acl(sdk, vpc_id, "acl-a", [rule("a"), rule("b", direction="outbound")])
    refused(lambda: make_acl(sdk, vpc_id, "acl-a", []), 409, "'acl-a' is already in use")
    other_vpc = make_vpc(sdk, "other-vpc")
    assert make_acl(sdk, other_vpc["id"], "acl-a", [])["name"] == "acl-a"
    copy = parsed(NetworkACL, sdk.create_network_acl({"name": "acl-copy", "source_network_acl": {"id": source["id"]}}),
                  201)
    assert names(copy) == ["a", "b"] and copy["vpc"]["id"] == vpc_id
    assert {r["id"] for r in copy["rules"]}.isdisjoint(r["id"] for r in source["rules"])
    renamed = parsed(NetworkACL, sdk.update_network_acl(copy["id"], {"name": "acl-b"}))
    assert renamed["name"] == "acl-b"
    refused(lambda: sdk.create_network_acl({"name": "acl-c"}), 400, "vpc is required")
