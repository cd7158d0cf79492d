"""Contract: security groups, their rules and their targets on the VPC emulator, driven by the real ibm-vpc SDK."""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Callable
from typing import Any

import pytest
from ibm_cloud_sdk_core import ApiException
from ibm_cloud_sdk_core.authenticators import IAMAuthenticator
from ibm_platform_services import ResourceManagerV2
from ibm_vpc import VpcV1
from ibm_vpc.vpc_v1 import (
    VPC,
    DefaultSecurityGroup,
    SecurityGroup,
    SecurityGroupCollection,
    SecurityGroupRule,
    SecurityGroupRuleCollection,
    SecurityGroupsPager,
    SecurityGroupTargetCollection,
    SecurityGroupTargetReferenceEndpointGatewayReference,
    SecurityGroupTargetReferenceLoadBalancerReference,
    SecurityGroupTargetReferenceNetworkInterfaceReferenceTargetContext,
    SecurityGroupTargetReferenceVirtualNetworkInterfaceReference,
    SecurityGroupTargetsPager,
)
from vpc_sdk import (
    NEW,
    OLD,
    add_target,
    client,
    events,
    make_sg,
    make_subnet,
    make_vpc,
    parsed,
    refused,
    remove_target,
    vpc_requests,
)

from netwarden.fakes.iam import API_KEY
from netwarden.fakes.server import FakeServer
from netwarden.fakes.vpc.exceptions import BadField, Conflict

ANYWHERE = {"cidr_block": "0.0.0.0/0"}
REFERENCE = ("crn", "href", "id", "name")
#: Each target kind and the SDK model of its ``SecurityGroupTargetReference`` variant.
TARGET_MODELS: dict[str, Any] = {
    "network_interface": SecurityGroupTargetReferenceNetworkInterfaceReferenceTargetContext,
    "virtual_network_interface": SecurityGroupTargetReferenceVirtualNetworkInterfaceReference,
    "endpoint_gateway": SecurityGroupTargetReferenceEndpointGatewayReference,
    "load_balancer": SecurityGroupTargetReferenceLoadBalancerReference,
}
ZONAL = ("network_interface", "virtual_network_interface")


@pytest.fixture
def sdk(fake: FakeServer) -> VpcV1:
    return client(fake)


@pytest.fixture
def vpc(sdk: VpcV1) -> dict[str, Any]:
    return parsed(VPC, sdk.create_vpc(name="prod-vpc"), 201)


def sg_rule(direction: str = "inbound", protocol: str = "tcp", **extra: Any) -> dict[str, Any]:
    return {"direction": direction, "protocol": protocol, **extra}


def reference(sg: dict[str, Any]) -> dict[str, Any]:
    return {k: sg[k] for k in REFERENCE}


def parsed_group(model: Any, response: Any, status: int = 200) -> dict[str, Any]:
    """A group parsed by ``model``, its rules by ``SecurityGroupRule`` and its targets by their variants."""
    group = parsed(model, response, status)
    for r in group["rules"]:
        SecurityGroupRule.from_dict(r)
    for t in group["targets"]:
        TARGET_MODELS[t["resource_type"]].from_dict(t)
    return group


def target_in(fake: FakeServer, kind: str, vpc: dict[str, Any], subnet: dict[str, Any] | None, name: str,
              groups: list[str] | None = None) -> str:
    where = {"subnet_id": subnet["id"]} if kind in ZONAL and subnet else {"vpc_id": vpc["id"]}
    return add_target(fake, kind, name=name, security_group_ids=groups, **where).id


# --- the default group --------------------------------------------------------------------------------------


def test_a_new_vpc_has_a_default_group_with_ibms_two_rules(fake: FakeServer, sdk: VpcV1, vpc: dict[str, Any]) -> None:
    default = parsed_group(DefaultSecurityGroup, sdk.get_vpc_default_security_group(vpc["id"]))
    assert reference(default) == vpc["default_security_group"]
    assert (default["vpc"]["id"], default["targets"]) == (vpc["id"], [])
    assert re.fullmatch(r"[a-z]+(-[a-z]+){3}", default["name"])
    assert [(r["name"], r["direction"], r["protocol"], r["remote"], r["local"]) for r in default["rules"]] == [
        ("inbound-icmp-tcp-udp-from-this-security-group", "inbound", "icmp_tcp_udp", reference(default), ANYWHERE),
        ("outbound-icmp-tcp-udp", "outbound", "icmp_tcp_udp", ANYWHERE, ANYWHERE),
    ]
    old = client(fake, version=OLD).get_vpc_default_security_group(vpc["id"]).get_result()
    assert [r["protocol"] for r in old["rules"]] == ["all", "all"]
    assert [g["id"] for g in SecurityGroupsPager(client=sdk).get_all()] == [default["id"]]
    assert parsed_group(SecurityGroup, sdk.get_security_group(default["id"])) == default


def test_the_default_group_cannot_be_deleted_and_goes_with_its_vpc(sdk: VpcV1, vpc: dict[str, Any]) -> None:
    default_id = vpc["default_security_group"]["id"]
    refused(lambda: sdk.delete_security_group(default_id), 409, "is the default security group")
    custom = make_sg(sdk, vpc["id"], "web", [sg_rule()])
    assert sdk.delete_vpc(vpc["id"]).get_status_code() == 204
    for sg_id in (default_id, custom["id"]):
        refused(lambda sg_id=sg_id: sdk.get_security_group(sg_id), 404, "not found")
    assert sdk.list_security_groups().get_result()["security_groups"] == []
    refused(lambda: sdk.get_vpc_default_security_group(vpc["id"]), 404, "VPC")


# --- protocols by API version -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("created_by", "protocol", "new_reads", "old_reads"),
    [
        (NEW, "icmp_tcp_udp", "icmp_tcp_udp", "all"),
        (OLD, "all", "icmp_tcp_udp", "all"),
        (NEW, "any", "any", "any"),
        (OLD, "any", "any", "any"),
        (OLD, "udp", "udp", "udp"),
        (NEW, "number_99", "number_99", "number_99"),
        (NEW, "gre", "gre", "gre"),
    ],
)
def test_one_stored_rule_is_spelled_by_the_reader_version(fake: FakeServer, vpc: dict[str, Any], created_by: str,
                                                          protocol: str, new_reads: str, old_reads: str) -> None:
    sg = make_sg(client(fake), vpc["id"], "web")
    created = client(fake, version=created_by).create_security_group_rule(sg["id"], sg_rule(protocol=protocol))
    assert created.get_status_code() == 201
    rule_id = created.get_result()["id"]
    new = client(fake, version=NEW)
    assert parsed(SecurityGroupRule, new.get_security_group_rule(sg["id"], rule_id))["protocol"] == new_reads
    assert parsed_group(SecurityGroup, new.get_security_group(sg["id"]))["rules"][0]["protocol"] == new_reads
    old = client(fake, version=OLD)
    assert old.get_security_group_rule(sg["id"], rule_id).get_result()["protocol"] == old_reads
    assert old.list_security_group_rules(sg["id"]).get_result()["rules"][0]["protocol"] == old_reads


@pytest.mark.parametrize(
    ("version", "protocol", "message"),
    [(NEW, "all", "protocol `all` is not supported"), (OLD, "icmp_tcp_udp", "needs version 2025-12-09")],
)
def test_the_other_versions_spelling_is_refused(fake: FakeServer, vpc: dict[str, Any], version: str, protocol: str,
                                                message: str) -> None:
    sdk = client(fake, version=version)
    refused(lambda: sdk.create_security_group({"id": vpc["id"]}, name="web", rules=[sg_rule(protocol=protocol)]),
            400, message)
    assert [g["name"] for g in sdk.list_security_groups(vpc_id=vpc["id"]).get_result()["security_groups"]] == \
        [vpc["default_security_group"]["name"]]


# --- rules ------------------------------------------------------------------------------------------------------

RULE_SHAPES = [
    ("tcp one port", sg_rule(port_min=22, port_max=22, remote={"cidr_block": "10.0.0.0/8"}),
     {"protocol": "tcp", "port_min": 22, "port_max": 22, "remote": {"cidr_block": "10.0.0.0/8"}, "local": ANYWHERE},
     ("type", "code")),
    ("udp every port", sg_rule("outbound", "udp"), {"protocol": "udp", "remote": ANYWHERE, "local": ANYWHERE},
     ("port_min", "port_max")),
    ("icmp echo", sg_rule(protocol="icmp", type=8, code=0), {"type": 8, "code": 0}, ("port_min",)),
    ("icmp every type", sg_rule(protocol="icmp"), {"protocol": "icmp"}, ("type", "code")),
    ("remote address, local block", sg_rule(protocol="any", remote={"address": "10.1.2.3"},
                                            local={"cidr_block": "10.240.0.0/24"}),
     {"remote": {"address": "10.1.2.3"}, "local": {"cidr_block": "10.240.0.0/24"}}, ("port_min", "type")),
    ("local address", sg_rule(local={"address": "10.240.0.4"}, name="to-one-host"),
     {"local": {"address": "10.240.0.4"}, "name": "to-one-host"}, ("port_min",)),
]


@pytest.mark.parametrize(("prototype", "shown", "absent"), [c[1:] for c in RULE_SHAPES],
                         ids=[c[0] for c in RULE_SHAPES])
def test_a_rule_reads_back_as_it_was_created(sdk: VpcV1, vpc: dict[str, Any], prototype: dict[str, Any],
                                             shown: dict[str, Any], absent: tuple[str, ...]) -> None:
    sg = make_sg(sdk, vpc["id"], "web")
    created = parsed(SecurityGroupRule, sdk.create_security_group_rule(sg["id"], prototype), 201)
    assert {k: created[k] for k in shown} == shown
    assert [k for k in absent if k in created] == []
    assert (created["direction"], created["ip_version"], created["resource_type"]) == \
        (prototype["direction"], "ipv4", "security_group_rule")
    assert created["href"].endswith(f"/security_groups/{sg['id']}/rules/{created['id']}")
    assert parsed(SecurityGroupRule, sdk.get_security_group_rule(sg["id"], created["id"])) == created
    assert parsed(SecurityGroupRuleCollection, sdk.list_security_group_rules(sg["id"]))["rules"] == [created]


def test_a_group_is_created_with_its_rules_in_order(sdk: VpcV1, vpc: dict[str, Any]) -> None:
    prototypes = [sg_rule(name="ssh", port_min=22, port_max=22), sg_rule("outbound", "icmp_tcp_udp", name="out"),
                  sg_rule(protocol="icmp", type=8)]
    sg = parsed_group(SecurityGroup, sdk.create_security_group({"id": vpc["id"]}, name="web", rules=prototypes), 201)
    assert [r["name"] for r in sg["rules"][:2]] == ["ssh", "out"]
    assert re.fullmatch(r"[a-z]+(-[a-z]+){3}", sg["rules"][2]["name"])  # no name given: random words
    assert [r["protocol"] for r in sg["rules"]] == ["tcp", "icmp_tcp_udp", "icmp"]
    assert (sg["vpc"]["id"], sg["targets"], sg["resource_group"]["name"]) == (vpc["id"], [], "Default")
    assert sdk.list_security_group_rules(sg["id"]).get_result()["rules"] == sg["rules"]


@pytest.mark.parametrize("identity", ["id", "crn", "href"])
def test_a_rule_whose_remote_is_a_group_shows_its_reference(sdk: VpcV1, vpc: dict[str, Any], identity: str) -> None:
    app = make_sg(sdk, vpc["id"], "app")
    web = make_sg(sdk, vpc["id"], "web")
    rule = parsed(SecurityGroupRule, sdk.create_security_group_rule(
        web["id"], sg_rule(port_min=8080, port_max=8080, remote={identity: app[identity]})), 201)
    assert rule["remote"] == reference(app)
    sdk.update_security_group(app["id"], {"name": "app-renamed"})
    assert sdk.get_security_group_rule(web["id"], rule["id"]).get_result()["remote"]["name"] == "app-renamed"
    refused(lambda: sdk.delete_security_group(app["id"]), 409, f"is the remote of rule {rule['name']}")
    assert sdk.delete_security_group_rule(web["id"], rule["id"]).get_status_code() == 204
    assert sdk.delete_security_group(app["id"]).get_status_code() == 204
    refused(lambda: sdk.get_security_group_rule(web["id"], rule["id"]), 404, "not found")


CREATE_REFUSALS = [
    ("no direction", {"protocol": "tcp"}, 400, "direction is required"),
    ("no protocol", {"direction": "inbound"}, 400, "protocol is required"),
    ("bad direction", sg_rule("both"), 400, "direction must be one of inbound, outbound"),
    ("ipv6", sg_rule(ip_version="ipv6"), 400, "ip_version must be ipv4"),
    ("port_min alone", sg_rule(port_min=22), 400, "must be given together (port_max is missing)"),
    ("port_max alone", sg_rule(protocol="udp", port_max=22), 400, "must be given together (port_min is missing)"),
    ("min above max", sg_rule(port_min=90, port_max=80), 400, "must not be larger"),
    ("port 0", sg_rule(port_min=0, port_max=80), 400, "from 1 to 65535"),
    ("ports on icmp", sg_rule(protocol="icmp", port_min=1, port_max=2), 400, "port_min is not used by protocol icmp"),
    ("ports on any", sg_rule(protocol="any", port_min=1, port_max=2), 400, "not used by protocol any"),
    ("type on tcp", sg_rule(type=8), 400, "type is not used by protocol tcp"),
    ("code without type", sg_rule(protocol="icmp", code=0), 400, "can only be given with a `type`"),
    ("icmp type 255", sg_rule(protocol="icmp", type=255), 400, "from 0 to 254"),
    ("icmp code 256", sg_rule(protocol="icmp", type=3, code=256), 400, "from 0 to 255"),
    ("named protocol number", sg_rule(protocol="number_6"), 400, "has a name: use `tcp`"),
    ("unknown protocol", sg_rule(protocol="http"), 400, "protocol 'http' is not supported"),
    ("bad remote block", sg_rule(remote={"cidr_block": "10.0.0.300/24"}), 400, "not an IPv4 address or CIDR block"),
    ("remote block without prefix", sg_rule(remote={"cidr_block": "10.0.0.1"}), 400, "must be a CIDR block"),
    ("remote address with prefix", sg_rule(remote={"address": "10.0.0.0/24"}), 400, "must be one address"),
    ("ipv6 remote", sg_rule(remote={"cidr_block": "2001:db8::/32"}), 400, "only IPv4"),
    ("remote of two kinds", sg_rule(remote={"cidr_block": "10.0.0.0/8", "address": "10.0.0.1"}), 400,
     "remote must be a CIDR block, an IP address or a security group"),
    ("unknown remote group", sg_rule(remote={"id": "r006-nope"}), 400, "security group r006-nope not found"),
    ("remote group of another VPC", sg_rule(remote={"id": "OTHER"}), 400, "belongs to another VPC"),
    ("local group", sg_rule(local={"id": "SELF"}), 400, "local must be a CIDR block or an IP address"),
    ("bad name", sg_rule(name="Not_A_Name"), 400, "is not a valid name"),
    ("duplicate name", sg_rule(name="a"), 409, "'a' is already in use"),
    ("unknown property", sg_rule(action="allow"), 400, "unknown property action"),
]


def resolve(body: dict[str, Any], ids: dict[str, str]) -> dict[str, Any]:
    """``body`` with the placeholders SELF (the group) and OTHER (a group of another VPC) made ids."""
    return {k: resolve(v, ids) if isinstance(v, dict) else ids.get(v, v) if isinstance(v, str) else v
            for k, v in body.items()}


@pytest.mark.parametrize(("body", "status", "message"), [c[1:] for c in CREATE_REFUSALS],
                         ids=[c[0] for c in CREATE_REFUSALS])
def test_invalid_rules_are_refused_and_change_nothing(sdk: VpcV1, vpc: dict[str, Any], body: dict[str, Any],
                                                      status: int, message: str) -> None:
    sg = make_sg(sdk, vpc["id"], "web", [sg_rule(name="a")])
    other = make_vpc(sdk, "other-vpc")["default_security_group"]["id"]
    body = resolve(body, {"SELF": sg["id"], "OTHER": other})
    refused(lambda: sdk.create_security_group_rule(sg["id"], body), status, message)
    assert [r["name"] for r in sdk.list_security_group_rules(sg["id"]).get_result()["rules"]] == ["a"]
    if status == 409:
        return  # the name is taken in the group only
    with pytest.raises(ApiException) as info:  # the same rule in a new group's rules: the same refusal
        sdk.create_security_group({"id": vpc["id"]}, name="web-2", rules=[body])
    assert info.value.status_code == status and message in (info.value.message or "").replace("rules[0].", "")
    assert "web-2" not in [g["name"] for g in sdk.list_security_groups().get_result()["security_groups"]]


PATCHES = [
    ("narrow ports", sg_rule(port_min=22, port_max=22), {"port_min": 443, "port_max": 443},
     {"port_min": 443, "port_max": 443}, ()),
    ("every port again", sg_rule(port_min=22, port_max=22), {"port_min": None, "port_max": None}, {},
     ("port_min", "port_max")),
    ("ports on a rule of every port", sg_rule(protocol="udp"), {"port_min": 53, "port_max": 53},
     {"port_min": 53, "port_max": 53}, ()),
    ("icmp every type again", sg_rule(protocol="icmp", type=8, code=0), {"type": None, "code": None}, {},
     ("type", "code")),
    ("icmp type only", sg_rule(protocol="icmp", type=8, code=0), {"type": 3}, {"type": 3, "code": 0}, ()),
    ("remote, local, direction and name", sg_rule(protocol="any"),
     {"remote": {"address": "10.0.0.9"}, "local": {"cidr_block": "10.240.0.0/24"}, "direction": "outbound",
      "name": "renamed"},
     {"remote": {"address": "10.0.0.9"}, "local": {"cidr_block": "10.240.0.0/24"}, "direction": "outbound",
      "name": "renamed"}, ()),
    ("remote becomes the group", sg_rule(), {"remote": {"id": "SELF"}}, {"remote": "SELF"}, ()),
]


@pytest.mark.parametrize(("prototype", "patch", "changed", "absent"), [c[1:] for c in PATCHES],
                         ids=[c[0] for c in PATCHES])
def test_a_patch_changes_what_it_names_and_nothing_else(sdk: VpcV1, vpc: dict[str, Any], prototype: dict[str, Any],
                                                        patch: dict[str, Any], changed: dict[str, Any],
                                                        absent: tuple[str, ...]) -> None:
    sg = make_sg(sdk, vpc["id"], "web")
    before = sdk.create_security_group_rule(sg["id"], prototype).get_result()
    patch = resolve(patch, {"SELF": sg["id"]})
    expected_changes = {k: reference(sg) if v == "SELF" else v for k, v in changed.items()}
    after = parsed(SecurityGroupRule, sdk.update_security_group_rule(sg["id"], before["id"], patch))
    assert {k: after.get(k) for k in expected_changes} == expected_changes
    assert [k for k in absent if k in after] == []
    untouched = set(before) - set(patch) - set(absent)
    assert {k: after[k] for k in untouched} == {k: before[k] for k in untouched}
    assert sdk.get_security_group_rule(sg["id"], before["id"]).get_result() == after


PATCH_REFUSALS = [
    ("protocol", "ssh", {"protocol": "udp"}, 400, "protocol cannot be updated"),
    ("ports on icmp", "ping", {"port_min": 1}, 400, "port_min is not used by protocol icmp"),
    ("type on tcp", "ssh", {"type": 3}, 400, "type is not used by protocol tcp"),
    ("ports on any", "everything", {"port_max": 80}, 400, "port_max is not used by protocol any"),
    ("min above the max kept", "ssh", {"port_min": 23}, 400, "must not be larger"),
    ("one bound removed", "ssh", {"port_min": None}, 400, "must be given together"),
    ("code left without type", "ping", {"type": None}, 400, "can only be given with a `type`"),
    ("duplicate name", "ssh", {"name": "ping"}, 409, "'ping' is already in use"),
    ("bad remote", "ssh", {"remote": {"cidr_block": "nowhere"}}, 400, "not an IPv4 address"),
    ("null remote", "ssh", {"remote": None}, 400, "remote must be"),
    ("bad direction", "ssh", {"direction": "both"}, 400, "direction must be one of"),
    ("unknown property", "ssh", {"before": {"id": "x"}}, 400, "unknown property before"),
]


@pytest.mark.parametrize(("target", "patch", "status", "message"), [c[1:] for c in PATCH_REFUSALS],
                         ids=[c[0] for c in PATCH_REFUSALS])
def test_invalid_patches_are_refused_and_change_nothing(sdk: VpcV1, vpc: dict[str, Any], target: str,
                                                        patch: dict[str, Any], status: int, message: str) -> None:
    sg = make_sg(sdk, vpc["id"], "web", [sg_rule(name="ssh", port_min=22, port_max=22),
                                         sg_rule(name="ping", protocol="icmp", type=8, code=0),
                                         sg_rule(name="everything", protocol="any")])
    before = sdk.list_security_group_rules(sg["id"]).get_result()["rules"]
    rule_id = next(r["id"] for r in before if r["name"] == target)
    refused(lambda: sdk.update_security_group_rule(sg["id"], rule_id, patch), status, message)
    assert sdk.list_security_group_rules(sg["id"]).get_result()["rules"] == before


# --- groups ------------------------------------------------------------------------------------------------------


def test_group_names_are_unique_per_vpc_and_can_change(sdk: VpcV1, vpc: dict[str, Any]) -> None:
    web = make_sg(sdk, vpc["id"], "web")
    refused(lambda: make_sg(sdk, vpc["id"], "web"), 409, "'web' is already in use")
    assert make_sg(sdk, make_vpc(sdk, "other-vpc")["id"], "web")["name"] == "web"
    renamed = parsed_group(SecurityGroup, sdk.update_security_group(web["id"], {"name": "web-2"}))
    assert (renamed["id"], renamed["name"]) == (web["id"], "web-2")
    make_sg(sdk, vpc["id"], "app")
    refused(lambda: sdk.update_security_group(web["id"], {"name": "app"}), 409, "'app' is already in use")
    refused(lambda: sdk.update_security_group(web["id"], {"rules": []}), 400, "unknown property rules")
    unnamed = parsed_group(SecurityGroup, sdk.create_security_group({"id": vpc["id"]}), 201)
    assert re.fullmatch(r"[a-z]+(-[a-z]+){3}", unnamed["name"]) and unnamed["rules"] == []
    refused(lambda: sdk.create_security_group({"id": "r006-nope"}, name="x"), 400, "vpc r006-nope not found")
    refused(lambda: sdk.create_security_group({"id": vpc["id"]}, name="Bad Name"), 400, "is not a valid name")
    assert sdk.delete_security_group(web["id"]).get_status_code() == 204
    refused(lambda: sdk.delete_security_group(web["id"]), 404, f"Security group {web['id']} not found")


@pytest.mark.parametrize(
    ("filters", "expected"),
    [
        ({}, ["prod-default", "other-default", "web", "app", "db", "other-web"]),
        ({"vpc_id": "PROD"}, ["prod-default", "web", "app", "db"]),
        ({"vpc_crn": "PROD"}, ["prod-default", "web", "app", "db"]),
        ({"vpc_name": "other-vpc"}, ["other-default", "other-web"]),
        ({"resource_group_id": "TEAM"}, ["db", "other-web"]),
        ({"vpc_name": "prod-vpc", "resource_group_id": "TEAM"}, ["db"]),
        ({"vpc_name": "nowhere"}, []),
    ],
)
def test_groups_list_by_page_and_filter(fake: FakeServer, sdk: VpcV1, vpc: dict[str, Any], filters: dict[str, str],
                                        expected: list[str]) -> None:
    manager = ResourceManagerV2(authenticator=IAMAuthenticator(API_KEY, url=f"{fake.url}/iam"))
    manager.set_service_url(f"{fake.url}/rm")
    team = manager.create_resource_group(name="team").get_result()["id"]
    other = make_vpc(sdk, "other-vpc")
    sdk.update_security_group(vpc["default_security_group"]["id"], {"name": "prod-default"})
    sdk.update_security_group(other["default_security_group"]["id"], {"name": "other-default"})
    make_sg(sdk, vpc["id"], "web")
    make_sg(sdk, vpc["id"], "app")
    sdk.create_security_group({"id": vpc["id"]}, name="db", resource_group={"id": team})
    sdk.create_security_group({"id": other["id"]}, name="other-web", resource_group={"id": team})
    values = {"PROD": vpc["id"], "TEAM": team}
    kwargs = {k: vpc["crn"] if (k, v) == ("vpc_crn", "PROD") else values.get(v, v) for k, v in filters.items()}
    fake.cloud.requests.clear()
    every = SecurityGroupsPager(client=sdk, limit=2, **kwargs).get_all()
    assert [g["name"] for g in every] == expected
    assert len(vpc_requests(fake)) == max(1, -(-len(expected) // 2))
    page = parsed(SecurityGroupCollection, sdk.list_security_groups(limit=2, **kwargs))
    assert (page["total_count"], page["limit"], len(page["security_groups"])) == (len(expected), 2,
                                                                                  min(2, len(expected)))
    assert ("next" in page) == (len(expected) > 2)
    for g in page["security_groups"]:
        parsed_group(SecurityGroup, sdk.get_security_group(g["id"]))


def test_a_vpc_holds_at_most_100_security_groups(sdk: VpcV1, vpc: dict[str, Any]) -> None:
    for i in range(99):  # and the default group
        make_sg(sdk, vpc["id"], f"sg-{i}")
    refused(lambda: make_sg(sdk, vpc["id"], "sg-100"), 400, "already has 100 security groups")
    assert make_sg(sdk, make_vpc(sdk, "other-vpc")["id"], "sg-100")["name"] == "sg-100"


def test_a_group_holds_at_most_250_rules(sdk: VpcV1, vpc: dict[str, Any]) -> None:
    too_many = [sg_rule(port_min=i, port_max=i) for i in range(1, 252)]
    refused(lambda: make_sg(sdk, vpc["id"], "too-big", too_many), 400, "at most 250 rules")
    full = make_sg(sdk, vpc["id"], "full", too_many[:250])
    assert len(full["rules"]) == 250
    refused(lambda: sdk.create_security_group_rule(full["id"], sg_rule()), 400, "already has 250 rules")


# --- targets -------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("kind", sorted(TARGET_MODELS))
def test_a_target_is_bound_read_listed_and_unbound(fake: FakeServer, sdk: VpcV1, vpc: dict[str, Any],
                                                   kind: str) -> None:
    subnet = make_subnet(sdk, vpc["id"], "subnet-1", "us-south-1")
    target_id = target_in(fake, kind, vpc, subnet, f"{kind.replace('_', '-')}-1")
    default_id = vpc["default_security_group"]["id"]
    [in_default] = parsed_group(SecurityGroup, sdk.get_security_group(default_id))["targets"]
    model = TARGET_MODELS[kind]
    model.from_dict(in_default)
    assert (in_default["id"], in_default["resource_type"]) == (target_id, kind)
    web = make_sg(sdk, vpc["id"], "web")
    bound = sdk.create_security_group_target_binding(web["id"], target_id)
    assert bound.get_status_code() == 201 and bound.get_result() == in_default
    again = sdk.create_security_group_target_binding(web["id"], target_id)
    assert again.get_status_code() == 200 and again.get_result() == in_default
    read = sdk.get_security_group_target(web["id"], target_id).get_result()
    model.from_dict(read)
    assert read == in_default
    assert parsed_group(SecurityGroup, sdk.get_security_group(web["id"]))["targets"] == [in_default]
    assert sdk.delete_security_group_target_binding(default_id, target_id).get_status_code() == 204
    refused(lambda: sdk.get_security_group_target(default_id, target_id), 404, "is not a target of security group")
    refused(lambda: sdk.delete_security_group_target_binding(web["id"], target_id), 409, "at least one security group")
    assert sdk.get_security_group(default_id).get_result()["targets"] == []
    if kind == "network_interface":
        assert re.search(r"/instances/[^/]+/network_interfaces/" + target_id + "$", read["href"])
    if kind == "virtual_network_interface":
        assert read["subnet"]["id"] == subnet["id"]
        assert ipaddress.ip_address(read["primary_ip"]["address"]) in ipaddress.ip_network(subnet["ipv4_cidr_block"])
    if kind not in ZONAL:
        assert read["crn"].endswith(f"::{kind.replace('_', '-')}:{target_id}")


def test_targets_page_in_the_order_they_were_registered(fake: FakeServer, sdk: VpcV1, vpc: dict[str, Any]) -> None:
    subnet = make_subnet(sdk, vpc["id"], "subnet-1", "us-south-1")
    ids = [target_in(fake, "virtual_network_interface", vpc, subnet, f"vni-{i}") for i in range(5)]
    default_id = vpc["default_security_group"]["id"]
    every = SecurityGroupTargetsPager(client=sdk, security_group_id=default_id, limit=2).get_all()
    assert [t["id"] for t in every] == ids
    assert len({t["primary_ip"]["address"] for t in every}) == 5  # each interface its own address
    page = parsed(SecurityGroupTargetCollection, sdk.list_security_group_targets(default_id, limit=2))
    assert (page["total_count"], page["limit"], len(page["targets"])) == (5, 2, 2) and "start=" in page["next"]["href"]


BIND_REFUSALS: list[tuple[str, Callable[[VpcV1, dict[str, Any]], tuple[str, str]], int, str]] = [
    ("a target of another VPC", lambda sdk, e: (e["other_sg"], e["target"]), 400, "is in VPC"),
    ("a sixth group", lambda sdk, e: (e["sixth"], e["full"]), 400, "already has 5 security groups"),
    ("an unknown target", lambda sdk, e: (e["web"], "r006-nope"), 404, "Security group target r006-nope not found"),
    ("an unknown group", lambda sdk, e: ("r006-nope", e["target"]), 404, "Security group r006-nope not found"),
]


@pytest.mark.parametrize(("pick", "status", "message"), [c[1:] for c in BIND_REFUSALS],
                         ids=[c[0] for c in BIND_REFUSALS])
def test_bindings_ibm_refuses_are_refused(fake: FakeServer, sdk: VpcV1, vpc: dict[str, Any],
                                          pick: Callable[[VpcV1, dict[str, Any]], tuple[str, str]], status: int,
                                          message: str) -> None:
    groups = [make_sg(sdk, vpc["id"], f"sg-{i}")["id"] for i in range(6)]
    other_vpc = make_vpc(sdk, "other-vpc")["id"]
    estate = {"web": groups[0], "sixth": groups[5], "other_sg": make_sg(sdk, other_vpc, "x")["id"],
              "target": target_in(fake, "endpoint_gateway", vpc, None, "vpe-1"),
              "full": target_in(fake, "load_balancer", vpc, None, "lb-1", groups[:5])}
    sg_id, target_id = pick(sdk, estate)
    before = [sdk.list_security_group_targets(g).get_result()["targets"] for g in groups]
    refused(lambda: sdk.create_security_group_target_binding(sg_id, target_id), status, message)
    assert [sdk.list_security_group_targets(g).get_result()["targets"] for g in groups] == before


def test_a_group_other_than_the_default_holds_at_most_1000_targets(fake: FakeServer, sdk: VpcV1,
                                                                    vpc: dict[str, Any]) -> None:
    web = make_sg(sdk, vpc["id"], "web")
    for i in range(1000):
        target_in(fake, "endpoint_gateway", vpc, None, f"vpe-{i}", [web["id"]])
    last = target_in(fake, "endpoint_gateway", vpc, None, "vpe-1000")  # in the default group: no such quota
    assert sdk.list_security_group_targets(vpc["default_security_group"]["id"]).get_result()["total_count"] == 1
    refused(lambda: sdk.create_security_group_target_binding(web["id"], last), 400, "already has 1000 targets")
    assert sdk.list_security_group_targets(web["id"], limit=1).get_result()["total_count"] == 1000


def test_groups_with_targets_and_vpcs_with_targets_stay(fake: FakeServer, sdk: VpcV1, vpc: dict[str, Any]) -> None:
    web = make_sg(sdk, vpc["id"], "web")
    target_id = target_in(fake, "load_balancer", vpc, None, "lb-1", [web["id"]])
    refused(lambda: sdk.delete_security_group(web["id"]), 409, "still has targets")
    refused(lambda: sdk.delete_vpc(vpc["id"]), 409, "still has resources that security groups are bound to")
    remove_target(fake, target_id)
    refused(lambda: sdk.get_security_group_target(web["id"], target_id), 404, "not found")
    assert sdk.delete_security_group(web["id"]).get_status_code() == 204
    assert sdk.delete_vpc(vpc["id"]).get_status_code() == 204


@pytest.mark.parametrize(
    ("kind", "where", "error", "message"),
    [
        ("instance", {"vpc_id": "VPC"}, ValueError, "is not one of"),
        ("virtual_network_interface", {"vpc_id": "VPC"}, ValueError, "needs a subnet_id"),
        ("endpoint_gateway", {}, ValueError, "needs a vpc_id"),
        ("network_interface", {"subnet_id": "SUBNET", "vpc_id": "OTHER"}, ValueError, "is not in VPC"),
        ("load_balancer", {"vpc_id": "VPC", "security_group_ids": ["OTHER_SG"]}, BadField, "is in VPC"),
        ("load_balancer", {"vpc_id": "VPC", "name": "lb-1"}, Conflict, "'lb-1' is already in use"),
    ],
)
def test_registering_a_target_that_cannot_exist_fails(fake: FakeServer, sdk: VpcV1, vpc: dict[str, Any], kind: str,
                                                      where: dict[str, Any], error: type[Exception],
                                                      message: str) -> None:
    other = make_vpc(sdk, "other-vpc")
    subnet = make_subnet(sdk, vpc["id"], "subnet-1", "us-south-1")
    add_target(fake, "load_balancer", vpc_id=vpc["id"], name="lb-1")
    values = {"VPC": vpc["id"], "OTHER": other["id"], "SUBNET": subnet["id"],
              "OTHER_SG": other["default_security_group"]["id"]}
    kwargs = {k: [values[x] for x in v] if isinstance(v, list) else values.get(v, v) for k, v in where.items()}
    with pytest.raises(error, match=re.escape(message)):
        add_target(fake, kind, **kwargs)
    assert len(sdk.list_security_group_targets(vpc["default_security_group"]["id"]).get_result()["targets"]) == 1


# --- Activity Tracker ------------------------------------------------------------------------------------------

MUTATIONS: list[tuple[str, str, Callable[[VpcV1, dict[str, Any]], Any], tuple[str, ...]]] = [
    ("create group", "is.security-group.security-group.create",
     lambda sdk, e: sdk.create_security_group({"id": e["vpc"]}, name="app"), ()),
    ("rename group", "is.security-group.security-group.update",
     lambda sdk, e: sdk.update_security_group(e["web"], {"name": "web-2"}), ("security_group_id",)),
    ("delete group", "is.security-group.security-group.delete",
     lambda sdk, e: sdk.delete_security_group(e["spare"]), ("security_group_id",)),
    ("create rule", "is.security-group.security-group-rule.create",
     lambda sdk, e: sdk.create_security_group_rule(e["web"], sg_rule(port_min=443, port_max=443)),
     ("security_group_id", "rule_id")),
    ("update rule", "is.security-group.security-group-rule.update",
     lambda sdk, e: sdk.update_security_group_rule(e["web"], e["rule"], {"port_min": 2222, "port_max": 2222}),
     ("security_group_id", "rule_id")),
    ("delete rule", "is.security-group.security-group-rule.delete",
     lambda sdk, e: sdk.delete_security_group_rule(e["web"], e["rule"]), ("security_group_id", "rule_id")),
    ("bind target", "is.security-group.security-group-interface.attach",
     lambda sdk, e: sdk.create_security_group_target_binding(e["web"], e["target"]),
     ("security_group_id", "target_id")),
    ("unbind target", "is.security-group.security-group-interface.detach",
     lambda sdk, e: sdk.delete_security_group_target_binding(e["default"], e["target"]),
     ("security_group_id", "target_id")),
]


@pytest.fixture
def estate(fake: FakeServer, sdk: VpcV1, vpc: dict[str, Any]) -> dict[str, Any]:
    web = make_sg(sdk, vpc["id"], "web", [sg_rule(name="ssh", port_min=22, port_max=22)])
    subnet = make_subnet(sdk, vpc["id"], "subnet-1", "us-south-1")
    target = target_in(fake, "virtual_network_interface", vpc, subnet, "vni-1",
                       [vpc["default_security_group"]["id"], web["id"]])
    return {"vpc": vpc["id"], "web": web["id"], "rule": web["rules"][0]["id"], "target": target,
            "default": vpc["default_security_group"]["id"], "spare": make_sg(sdk, vpc["id"], "spare")["id"]}


@pytest.mark.parametrize(("action", "call", "from_path"), [m[1:] for m in MUTATIONS], ids=[m[0] for m in MUTATIONS])
def test_each_mutation_emits_one_activity_tracker_event(fake: FakeServer, sdk: VpcV1, estate: dict[str, Any],
                                                        action: str, call: Any, from_path: tuple[str, ...]) -> None:
    fake.cloud.events.clear()
    answer = call(sdk, estate).get_result()
    [emitted] = events(fake)
    assert (emitted["action"], emitted["outcome"]) == (action, "success")
    assert emitted["reason"]["reasonCode"] in (200, 201, 204)
    assert emitted["target"]["typeURI"] == "is.security-group/" + action.split(".")[2]
    data = emitted["requestData"]
    sg_id = data["security_group_id"]
    assert emitted["target"]["id"].split("::security-group:")[1].split("/")[0] == sg_id
    assert data["vpc_id"] == estate["vpc"]
    if "rule_id" in from_path:
        rule_id = data["rule_id"]
        assert emitted["target"]["id"].endswith(f"/rule:{rule_id}")
        assert rule_id == (answer["id"] if action.endswith("rule.create") else estate["rule"])
    if "target_id" in from_path:
        assert (data["target_id"], data["target_resource_type"]) == (estate["target"], "virtual_network_interface")
    if action.endswith("security-group.create"):
        assert sg_id == answer["id"]
    else:
        assert sg_id in (estate["web"], estate["spare"], estate["default"])


@pytest.mark.parametrize(
    ("call", "status", "ids"),
    [
        (lambda sdk, e: sdk.delete_security_group("r006-nope"), 404, {"security_group_id": "r006-nope"}),
        (lambda sdk, e: sdk.delete_security_group_rule(e["web"], "r006-gone"), 404,
         {"security_group_id": "WEB", "rule_id": "r006-gone"}),
        (lambda sdk, e: sdk.create_security_group_target_binding(e["web"], "r006-none"), 404,
         {"security_group_id": "WEB", "target_id": "r006-none"}),
        (lambda sdk, e: sdk.delete_security_group_target_binding(e["web"], e["target"]), 204, None),
    ],
    ids=["unknown group", "unknown rule", "unknown target", "then the last group cannot go"],
)
def test_a_refused_mutation_emits_a_failure_event_naming_the_path_ids(fake: FakeServer, sdk: VpcV1,
                                                                      estate: dict[str, Any], call: Any, status: int,
                                                                      ids: dict[str, str] | None) -> None:
    fake.cloud.events.clear()
    if ids is None:  # unbinding one group works; the target's last group is refused
        assert call(sdk, estate).get_status_code() == status
        fake.cloud.events.clear()
        refused(lambda: sdk.delete_security_group_target_binding(estate["default"], estate["target"]), 409,
                "at least one security group")
        ids, status = {"security_group_id": estate["default"], "target_id": estate["target"]}, 409
    else:
        refused(lambda: call(sdk, estate), status, "not found")
    [emitted] = events(fake)
    assert (emitted["outcome"], emitted["reason"]["reasonCode"]) == ("failure", status)
    wanted = {k: estate["web"] if v == "WEB" else v for k, v in ids.items()}
    assert {k: emitted["requestData"].get(k) for k in wanted} == wanted
