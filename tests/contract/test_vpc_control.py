"""The VPC emulator owner's routes (``/_fake/vpc/<region>/...``): targets registered and taken away, a
VPC given the id the names of IBM's groups carry; what they refuse; and that the SDK sees the result."""

from __future__ import annotations

from typing import Any

import pytest
import requests
from ibm_cloud_sdk_core.authenticators import IAMAuthenticator
from ibm_vpc import VpcV1

from netwarden.fakes.iam import API_KEY
from netwarden.fakes.server import FakeServer

VPC_ID = "r006-2c5d8e1a-7f3b-4c9e-a1d2-6b8f0e4a9c37"


def sdk(fake: FakeServer) -> VpcV1:
    client = VpcV1(authenticator=IAMAuthenticator(API_KEY, url=f"{fake.url}/iam"))
    client.set_service_url(f"{fake.url}/vpc/us-south/v1")
    return client


def post(fake: FakeServer, what: str, body: Any) -> requests.Response:
    return requests.post(f"{fake.url}/_fake/vpc/us-south/{what}", json=body, timeout=5)


def test_a_pinned_id_is_the_id_the_vpc_is_created_with(fake: FakeServer) -> None:
    assert post(fake, "vpc-ids", {"name": "iks-vpc", "id": VPC_ID}).status_code == 201
    assert sdk(fake).create_vpc(name="iks-vpc").get_result()["id"] == VPC_ID
    assert sdk(fake).create_vpc(name="other").get_result()["id"] != VPC_ID
    assert post(fake, "vpc-ids", {"name": "again", "id": VPC_ID}).status_code == 400  # in use


@pytest.mark.parametrize(("body", "words"), [
    ({"name": "v", "id": "r010-2c5d8e1a-7f3b-4c9e-a1d2-6b8f0e4a9c37"}, "not a VPC id of us-south"),
    ({"name": "v", "id": "r006-xyz"}, "not a VPC id"),
    ({"name": "v"}, "expected"),
    ([], "expected"),
])
def test_a_pin_that_is_not_an_id_of_the_region_is_refused(fake: FakeServer, body: Any, words: str) -> None:
    answer = post(fake, "vpc-ids", body)
    assert answer.status_code == 400 and words in answer.json()["error"]


def test_a_registered_target_is_bound_and_listed_and_can_be_taken_away(fake: FakeServer) -> None:
    client = sdk(fake)
    vpc = client.create_vpc(name="v").get_result()
    group = client.create_security_group(vpc={"id": vpc["id"]}, name="g").get_result()
    answer = post(fake, "targets", {"kind": "load_balancer", "name": "lb1", "vpc": vpc["id"],
                                    "security_groups": [group["id"]]})
    assert answer.status_code == 201
    listed = client.list_security_group_targets(group["id"]).get_result()["targets"]
    assert [(t["name"], t["resource_type"]) for t in listed] == [("lb1", "load_balancer")]
    gone = requests.delete(f"{fake.url}/_fake/vpc/us-south/targets/{answer.json()['id']}", timeout=5)
    assert gone.status_code == 204
    assert client.list_security_group_targets(group["id"]).get_result()["targets"] == []
    log = requests.get(f"{fake.url}/_fake/requests", timeout=5).json()["requests"]
    assert not [r for r in log if r["path"].startswith("/_fake/")]  # the owner's calls are not API calls


@pytest.mark.parametrize(("body", "status", "words"), [
    ({"kind": "instance", "name": "x", "vpc": "nope"}, 400, "is not one of"),
    ({"kind": "network_interface", "name": "eth0"}, 400, "needs a subnet_id"),
    ({"kind": "load_balancer", "name": "lb", "vpc": "r006-00000000-0000-0000-0000-000000000000"}, 404, "VPC"),
])
def test_a_target_that_cannot_be_registered_is_refused(fake: FakeServer, body: dict[str, Any], status: int,
                                                        words: str) -> None:
    answer = post(fake, "targets", body)
    assert answer.status_code == status and words in answer.json()["error"]


def test_an_unknown_owner_route_is_not_found(fake: FakeServer) -> None:
    assert post(fake, "volumes", {}).status_code == 404
