"""Contract: subnets, their ACL and public gateway, on the VPC emulator, driven by the real ibm-vpc SDK."""

from __future__ import annotations

from typing import Any

import pytest
from ibm_vpc import VpcV1
from ibm_vpc.vpc_v1 import NetworkACL, PublicGateway, Subnet, SubnetCollection, SubnetsPager
from vpc_sdk import client, events, make_acl, make_subnet, make_vpc, parsed, refused, rule

from netwarden.core import activity_tracker
from netwarden.fakes.server import FakeServer


@pytest.fixture
def sdk(fake: FakeServer) -> VpcV1:
    return client(fake)


@pytest.fixture
def estate(sdk: VpcV1) -> dict[str, Any]:
    """A VPC with a custom ACL and a gateway in zone 1."""
    vpc = make_vpc(sdk)
    acl = make_acl(sdk, vpc["id"], "acl-1", [rule("a")])
    gateway = parsed(PublicGateway, sdk.create_public_gateway(vpc={"id": vpc["id"]}, zone={"name": "us-south-1"},
                                                              name="gateway-1"), 201)
    return {"vpc": vpc, "acl": acl, "gateway": gateway, "default": vpc["default_network_acl"]}


def subnet_ids(acl: dict[str, Any]) -> list[str]:
    return [s["id"] for s in acl["subnets"]]


def test_a_subnet_gets_the_default_acl_and_both_sides_agree(sdk: VpcV1, estate: dict[str, Any]) -> None:
    subnet = parsed(Subnet, sdk.create_subnet({"name": "subnet-1", "vpc": {"id": estate["vpc"]["id"]},
                                               "zone": {"name": "us-south-1"}, "total_ipv4_address_count": 256}), 201)
    assert subnet["network_acl"]["id"] == estate["default"]["id"]
    assert "public_gateway" not in subnet
    assert (subnet["ipv4_cidr_block"], subnet["total_ipv4_address_count"]) == ("10.240.0.0/24", 256)
    assert subnet_ids(sdk.get_network_acl(estate["default"]["id"]).get_result()) == [subnet["id"]]
    replaced = parsed(NetworkACL, sdk.replace_subnet_network_acl(subnet["id"], {"id": estate["acl"]["id"]}), 201)
    assert replaced["id"] == estate["acl"]["id"] and subnet_ids(replaced) == [subnet["id"]]
    assert subnet_ids(sdk.get_network_acl(estate["default"]["id"]).get_result()) == []
    assert parsed(NetworkACL, sdk.get_subnet_network_acl(subnet["id"]))["id"] == estate["acl"]["id"]
    assert sdk.get_subnet(subnet["id"]).get_result()["network_acl"]["id"] == estate["acl"]["id"]


def test_zone_subnets_by_count_take_the_zones_default_prefixes(sdk: VpcV1, estate: dict[str, Any]) -> None:
    vpc_id = estate["vpc"]["id"]
    cidrs = [make_subnet(sdk, vpc_id, f"subnet-{z}", f"us-south-{z}")["ipv4_cidr_block"] for z in (1, 2, 3)]
    assert cidrs == ["10.240.0.0/24", "10.240.64.0/24", "10.240.128.0/24"]
    assert make_subnet(sdk, vpc_id, "subnet-1b", "us-south-1")["ipv4_cidr_block"] == "10.240.1.0/24"


def test_a_gateway_attaches_in_its_own_zone_and_detaches(sdk: VpcV1, estate: dict[str, Any]) -> None:
    vpc_id, gateway = estate["vpc"]["id"], estate["gateway"]
    one = make_subnet(sdk, vpc_id, "subnet-1", "us-south-1")
    two = make_subnet(sdk, vpc_id, "subnet-2", "us-south-2")
    attached = parsed(PublicGateway, sdk.set_subnet_public_gateway(one["id"], {"id": gateway["id"]}), 201)
    assert attached["id"] == gateway["id"]
    assert parsed(Subnet, sdk.get_subnet(one["id"]))["public_gateway"]["id"] == gateway["id"]
    assert parsed(PublicGateway, sdk.get_subnet_public_gateway(one["id"]))["id"] == gateway["id"]
    refused(lambda: sdk.set_subnet_public_gateway(two["id"], {"id": gateway["id"]}), 400, "is in zone us-south-1")
    refused(lambda: sdk.delete_public_gateway(gateway["id"]), 409, "is attached to subnet")
    assert sdk.unset_subnet_public_gateway(one["id"]).get_status_code() == 204
    assert "public_gateway" not in sdk.get_subnet(one["id"]).get_result()
    refused(lambda: sdk.get_subnet_public_gateway(one["id"]), 404, "has no public gateway")
    refused(lambda: sdk.unset_subnet_public_gateway(one["id"]), 404, "has no public gateway")
    assert sdk.delete_public_gateway(gateway["id"]).get_status_code() == 204


def test_one_gateway_per_zone_per_vpc(sdk: VpcV1, estate: dict[str, Any]) -> None:
    vpc_id = estate["vpc"]["id"]
    refused(lambda: sdk.create_public_gateway(vpc={"id": vpc_id}, zone={"name": "us-south-1"}, name="second"),
            409, "one per zone")
    other = parsed(PublicGateway, sdk.create_public_gateway(vpc={"id": vpc_id}, zone={"name": "us-south-2"}), 201)
    assert other["zone"]["name"] == "us-south-2" and other["name"]  # a generated name
    other_vpc = make_vpc(sdk, "other-vpc")
    assert sdk.create_public_gateway(vpc={"id": other_vpc["id"]}, zone={"name": "us-south-1"}).get_status_code() == 201
    refused(lambda: sdk.create_public_gateway(vpc={"id": vpc_id}, zone={"name": "eu-de-1"}), 400,
            "is not a zone of region us-south")


def test_patch_changes_acl_and_gateway_and_null_detaches(sdk: VpcV1, estate: dict[str, Any]) -> None:
    subnet = make_subnet(sdk, estate["vpc"]["id"], "subnet-1", "us-south-1")
    patched = parsed(Subnet, sdk.update_subnet(subnet["id"], {"network_acl": {"id": estate["acl"]["id"]},
                                                              "public_gateway": {"id": estate["gateway"]["id"]}}))
    assert patched["network_acl"]["id"] == estate["acl"]["id"]
    assert patched["public_gateway"]["id"] == estate["gateway"]["id"]
    detached = parsed(Subnet, sdk.update_subnet(subnet["id"], {"public_gateway": None, "name": "subnet-one"}))
    assert "public_gateway" not in detached and detached["name"] == "subnet-one"
    refused(lambda: sdk.update_subnet(subnet["id"], {"network_acl": None}), 400, "every subnet has a network ACL")


def test_references_to_other_vpcs_are_refused(sdk: VpcV1, estate: dict[str, Any]) -> None:
    other = make_vpc(sdk, "other-vpc")
    foreign_acl = make_acl(sdk, other["id"], "foreign", [])
    subnet = make_subnet(sdk, estate["vpc"]["id"], "subnet-1", "us-south-1")
    refused(lambda: sdk.replace_subnet_network_acl(subnet["id"], {"id": foreign_acl["id"]}), 400,
            "belongs to another VPC")
    refused(lambda: make_subnet(sdk, estate["vpc"]["id"], "subnet-2", "us-south-2",
                                network_acl={"id": foreign_acl["id"]}), 400, "belongs to another VPC")
    refused(lambda: sdk.replace_subnet_network_acl(subnet["id"], {"id": "r006-missing"}), 400, "not found")
    refused(lambda: sdk.get_subnet("0717-missing"), 404, "not found")


@pytest.mark.parametrize(
    ("extra", "status", "message"),
    [({"ipv4_cidr_block": "10.240.0.0/25"}, 409, "overlaps subnet subnet-1"),
     ({"ipv4_cidr_block": "10.240.0.1/24"}, 400, "not a valid CIDR block"),
     ({"ipv4_cidr_block": "10.0.0.0/30"}, 400, "from /9 to /29"),
     ({"total_ipv4_address_count": 100}, 400, "power of two"),
     ({"zone": {"name": "us-south-9"}}, 400, "is not a zone of region"),
     ({"name": "subnet-1"}, 409, "'subnet-1' is already in use")],
)
def test_invalid_subnets_are_refused(sdk: VpcV1, estate: dict[str, Any], extra: dict[str, Any], status: int,
                                     message: str) -> None:
    make_subnet(sdk, estate["vpc"]["id"], "subnet-1", "us-south-1")
    body = {"name": "subnet-2", "vpc": {"id": estate["vpc"]["id"]}, "zone": {"name": "us-south-1"}, **extra}
    if "ipv4_cidr_block" not in extra:
        body.setdefault("total_ipv4_address_count", 256)
    refused(lambda: sdk.create_subnet(body), status, message)


def test_subnets_list_by_page_and_filter(sdk: VpcV1, estate: dict[str, Any]) -> None:
    vpc_id = estate["vpc"]["id"]
    other = make_vpc(sdk, "other-vpc")
    for z in (1, 2, 3):
        make_subnet(sdk, vpc_id, f"subnet-{z}", f"us-south-{z}")
        make_subnet(sdk, other["id"], f"other-{z}", f"us-south-{z}")
    assert len(SubnetsPager(client=sdk, limit=4).get_all()) == 6
    page = parsed(SubnetCollection, sdk.list_subnets(limit=4))
    assert (page["total_count"], page["limit"], len(page["subnets"])) == (6, 4, 4) and "start=" in page["next"]["href"]
    assert [s["name"] for s in SubnetsPager(client=sdk, limit=2, vpc_name="prod-vpc").get_all()] == \
        ["subnet-1", "subnet-2", "subnet-3"]
    assert [s["name"] for s in sdk.list_subnets(vpc_id=other["id"], zone_name="us-south-2").get_result()["subnets"]] \
        == ["other-2"]
    deleted = sdk.delete_subnet(sdk.list_subnets(vpc_name="prod-vpc", zone_name="us-south-1").get_result()
                                ["subnets"][0]["id"])
    assert deleted.get_status_code() == 204
    assert len(sdk.list_subnets(vpc_name="prod-vpc").get_result()["subnets"]) == 2


MUTATIONS = [
    ("replace ACL", "is.subnet.network-acl.update", "subnet",
     lambda sdk, e: sdk.replace_subnet_network_acl(e["subnet"]["id"], {"id": e["acl"]["id"]})),
    ("attach gateway", "is.subnet.public-gateway.attach", "subnet",
     lambda sdk, e: sdk.set_subnet_public_gateway(e["subnet"]["id"], {"id": e["gateway"]["id"]})),
    ("patch subnet", "is.subnet.subnet.update", "subnet",
     lambda sdk, e: sdk.update_subnet(e["subnet"]["id"], {"network_acl": {"id": e["acl"]["id"]}})),
    ("create rule", "is.network-acl.rule.create", "acl",
     lambda sdk, e: sdk.create_network_acl_rule(e["acl"]["id"], rule("b"))),
    ("update rule", "is.network-acl.rule.update", "acl",
     lambda sdk, e: sdk.update_network_acl_rule(e["acl"]["id"], e["acl"]["rules"][0]["id"], {"name": "a2"})),
    ("delete rule", "is.network-acl.rule.delete", "acl",
     lambda sdk, e: sdk.delete_network_acl_rule(e["acl"]["id"], e["acl"]["rules"][0]["id"])),
    ("rename ACL", "is.network-acl.network-acl.update", "acl",
     lambda sdk, e: sdk.update_network_acl(e["acl"]["id"], {"name": "acl-renamed"})),
]


@pytest.mark.parametrize(("action", "check", "call"), [m[1:] for m in MUTATIONS], ids=[m[0] for m in MUTATIONS])
def test_each_mutation_emits_one_activity_tracker_event(fake: FakeServer, sdk: VpcV1, estate: dict[str, Any],
                                                        action: str, check: str, call: Any) -> None:
    estate["subnet"] = make_subnet(sdk, estate["vpc"]["id"], "subnet-1", "us-south-1")
    fake.cloud.events.clear()
    call(sdk, estate)
    [emitted] = events(fake)
    assert (emitted["action"], emitted["outcome"]) == (action, "success")
    assert emitted["reason"]["reasonCode"] in (200, 201, 204)
    for key in ("id", "eventTime", "initiator", "target", "observer", "severity", "message", "logSourceCRN",
                "requestData", "responseData", "saveServiceCopy", "dataEvent"):
        assert key in emitted, key
    parsed_event = activity_tracker.parse(emitted)
    assert parsed_event.check == check and parsed_event.region == "us-south"
    expected = estate["subnet"]["id"] if check == "subnet" else estate["acl"]["id"]
    assert parsed_event.resource_id == expected
    assert emitted["requestData"]["subnet_id" if check == "subnet" else "network_acl_id"] == expected
    if action.startswith("is.network-acl.rule."):
        assert emitted["requestData"]["rule_id"] and parsed_event.rule_id == emitted["requestData"]["rule_id"]


def test_a_refused_mutation_emits_a_failure_event(fake: FakeServer, sdk: VpcV1, estate: dict[str, Any]) -> None:
    fake.cloud.events.clear()
    refused(lambda: sdk.create_network_acl_rule(estate["acl"]["id"], rule("a")), 409, "already in use")
    [emitted] = events(fake)
    assert (emitted["action"], emitted["outcome"], emitted["reason"]["reasonCode"]) == \
        ("is.network-acl.rule.create", "failure", 409)
    assert "already in use" in emitted["reason"]["reasonForFailure"]
    assert activity_tracker.parse(emitted).check is None  # nothing changed: nothing to re-check
