"""Contract: what every VPC call shares (version, paging, errors), IAM tokens and the resource manager."""

from __future__ import annotations

import base64
import json
import time
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import requests
from ibm_cloud_sdk_core import ApiException
from ibm_cloud_sdk_core.authenticators import BearerTokenAuthenticator, IAMAuthenticator
from ibm_platform_services import ResourceManagerV2
from ibm_platform_services.resource_manager_v2 import ResourceGroup, ResourceGroupList
from ibm_vpc.vpc_v1 import (
    VPC,
    NetworkACLCollection,
    NetworkAclsPager,
    PublicGatewayCollection,
    PublicGatewaysPager,
    VPCCollection,
    VpcsPager,
)
from vpc_sdk import bearer, client, events, make_acl, make_vpc, parsed, refused, vpc_requests

from netwarden.fakes.iam import API_KEY
from netwarden.fakes.server import FakeServer


def raw(fake: FakeServer, path: str, **params: str) -> requests.Response:
    return requests.get(f"{fake.url}/vpc/us-south/v1{path}", params=params, headers=bearer(fake), timeout=5)


@pytest.mark.parametrize(
    ("params", "message"),
    [({"generation": "2"}, "`version` query parameter is required"),
     ({"version": "2026-10-06"}, "`generation` query parameter is required"),
     ({"version": "2026-13-40", "generation": "2"}, "is not a date"),
     ({"version": "yesterday", "generation": "2"}, "must be a date YYYY-MM-DD"),
     ({"version": "2026-10-06", "generation": "1"}, "must be 2")],
)
def test_version_and_generation_are_required(fake: FakeServer, params: dict[str, str], message: str) -> None:
    r = raw(fake, "/vpcs", **params)
    assert r.status_code == 400
    body = r.json()
    assert message in body["errors"][0]["message"]
    assert body["errors"][0]["target"]["type"] == "parameter" and body["status_code"] == 400 and body["trace"]


def _at(utc: str) -> float:
    return datetime.fromisoformat(utc).replace(tzinfo=UTC).timestamp()


@pytest.mark.parametrize(
    ("now", "version", "status", "code"),
    [("2026-12-02T23:59:59", "2026-12-03", 400, "invalid_version_range"),
     ("2026-12-02T23:59:59", "2027-01-01", 400, "invalid_version_range"),
     ("2026-12-02T23:59:59", "2026-12-02", 200, None),
     ("2026-12-02T00:00:00", "2026-12-02", 200, None),
     ("2026-12-03T00:00:00", "2026-12-03", 200, None),
     ("2026-12-02T12:00:00", "2019-01-01", 200, None),
     ("2026-12-02T12:00:00", "2026-12-3", 400, "bad_version"),
     ("2026-12-02T12:00:00", "20261202", 400, "bad_version"),
     ("2026-12-02T12:00:00", "2026-02-30", 400, "bad_version")],
    ids=["tomorrow", "next-year", "today-last-second", "today-first-second", "tomorrow-after-midnight",
         "long-ago", "one-digit-day", "no-dashes", "no-such-day"],
)
def test_version_must_not_be_after_today_utc(fake: FakeServer, now: str, version: str, status: int,
                                             code: str | None) -> None:
    fake.cloud.clock = lambda: _at(now)  # before the token is issued: it is stamped by the same clock
    r = raw(fake, "/vpcs", version=version, generation="2")
    assert r.status_code == status, r.text
    if code is not None:
        body = r.json()
        assert (body["errors"][0]["code"], body["status_code"]) == (code, 400) and body["trace"]
        assert body["errors"][0]["target"] == {"name": "version", "type": "parameter", "value": version}


def test_the_sdk_is_refused_a_future_version_by_the_real_date(fake: FakeServer) -> None:
    """The default clock is the UTC date; two days ahead is in the future whenever midnight falls."""
    ahead = (datetime.now(UTC).date() + timedelta(days=2)).isoformat()
    refused(client(fake, version=ahead).list_vpcs, 400, "cannot be after")
    assert client(fake).list_vpcs().get_status_code() == 200


def test_errors_have_ibms_shape(fake: FakeServer) -> None:
    missing = raw(fake, "/network_acls/r006-nope", version="2026-10-06", generation="2")
    assert missing.status_code == 404 and missing.headers["Content-Type"].startswith("application/json")
    assert missing.json()["errors"][0]["code"] == "not_found"
    assert raw(fake, "/nothing", version="2026-10-06", generation="2").status_code == 404
    wrong = requests.put(f"{fake.url}/vpc/us-south/v1/vpcs?version=2026-10-06&generation=2", json={},
                         headers=bearer(fake), timeout=5)
    assert (wrong.status_code, wrong.json()["errors"][0]["code"]) == (405, "method_not_allowed")
    region = requests.get(f"{fake.url}/vpc/mars-north/v1/vpcs?version=2026-10-06&generation=2", timeout=5)
    assert region.status_code == 404 and "region mars-north" in region.json()["errors"][0]["message"]
    not_json = requests.post(f"{fake.url}/vpc/us-south/v1/vpcs?version=2026-10-06&generation=2", data=b"{",
                             headers={"Content-Type": "application/json", **bearer(fake)}, timeout=5)
    assert not_json.status_code == 400 and "not valid JSON" in not_json.json()["errors"][0]["message"]


@pytest.mark.parametrize(
    ("count", "limit", "pages"),
    [(0, 100, 1), (5, 2, 3), (6, 2, 3), (6, 100, 1), (100, 100, 1), (101, 100, 2)],
)
def test_vpcs_page_with_first_next_and_total_count(fake: FakeServer, count: int, limit: int, pages: int) -> None:
    sdk = client(fake)
    for i in range(count):
        make_vpc(sdk, f"vpc-{i:03d}")
    fake.cloud.requests.clear()
    listed = VpcsPager(client=sdk, limit=limit).get_all()
    assert [v["name"] for v in listed] == [f"vpc-{i:03d}" for i in range(count)]
    assert len(vpc_requests(fake)) == pages
    page = parsed(VPCCollection, sdk.list_vpcs(limit=limit))
    assert (page["limit"], page["total_count"], len(page["vpcs"])) == (limit, count, min(count, limit))
    assert page["first"]["href"].endswith(f"/vpcs?limit={limit}")
    assert ("next" in page) == (count > limit)
    for vpc in page["vpcs"]:
        VPC.from_dict(vpc)


def test_paging_defaults_to_50_and_refuses_bad_limits_and_tokens(fake: FakeServer) -> None:
    sdk = client(fake)
    vpc = make_vpc(sdk)
    for i in range(55):
        sdk.create_network_acl({"name": f"acl-{i:02d}", "vpc": {"id": vpc["id"]}})
    page = parsed(NetworkACLCollection, sdk.list_network_acls())
    assert (page["limit"], page["total_count"], len(page["network_acls"])) == (50, 56, 50)
    assert len(NetworkAclsPager(client=sdk, limit=7).get_all()) == 56
    fake.cloud.add_fault({"path": r"/network_acls\?.*start=14_", "status": 503, "count": 1})  # page 3 of 7s
    fake.cloud.requests.clear()
    refused(NetworkAclsPager(client=sdk, limit=7).get_all, 503, "injected fault")
    assert [r["status"] for r in vpc_requests(fake)] == [200, 200, 503]
    assert len(NetworkAclsPager(client=sdk, limit=7).get_all()) == 56
    refused(lambda: sdk.list_network_acls(limit=101), 400, "from 1 to 100")
    refused(lambda: sdk.list_network_acls(limit=0), 400, "from 1 to 100")
    refused(lambda: sdk.list_network_acls(start="not-a-token"), 400, "start token")


def test_public_gateways_page(fake: FakeServer) -> None:
    sdk = client(fake)
    for i in range(4):
        vpc = make_vpc(sdk, f"vpc-{i}")
        sdk.create_public_gateway(vpc={"id": vpc["id"]}, zone={"name": "us-south-1"}, name="gateway")
    assert len(PublicGatewaysPager(client=sdk, limit=3).get_all()) == 4
    page = parsed(PublicGatewayCollection, sdk.list_public_gateways(limit=3))
    assert page["total_count"] == 4 and "next" in page


def test_regions_are_separate(fake: FakeServer) -> None:
    make_vpc(client(fake, "us-south"), "prod-vpc")
    assert client(fake, "eu-de").list_vpcs().get_result()["vpcs"] == []
    assert make_vpc(client(fake, "eu-de"), "prod-vpc")["crn"].startswith("crn:v1:bluemix:public:is:eu-de:")


def _claims(token: str) -> dict[str, Any]:
    payload = token.split(".")[1]
    claims: dict[str, Any] = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    return claims


def test_iam_issues_a_jwt_for_the_fake_key_and_the_sdk_uses_it(fake: FakeServer) -> None:
    authenticator = IAMAuthenticator(API_KEY, url=f"{fake.url}/iam")
    sdk = client(fake, authenticator=authenticator)
    make_vpc(sdk)
    sdk.list_vpcs()
    calls = requests.get(f"{fake.url}/_fake/requests", timeout=5).json()["requests"]
    assert [c["path"] for c in calls].count("/iam/identity/token") == 1  # one token for every call
    token = authenticator.token_manager.get_token()
    claims = _claims(token)
    assert isinstance(claims["exp"], int) and isinstance(claims["iat"], int)
    assert claims["exp"] - claims["iat"] == 3600 and claims["iat"] <= time.time() + 1
    assert events(fake)[0]["initiator"]["id"] == claims["iam_id"]


def test_iam_refuses_other_keys_in_its_own_shape(fake: FakeServer) -> None:
    r = requests.post(f"{fake.url}/iam/identity/token", timeout=5, data={
        "grant_type": "urn:ibm:params:oauth:grant-type:apikey", "apikey": "not-the-key"})
    assert r.status_code == 400
    assert (r.json()["errorCode"], r.json()["errorMessage"]) == ("BXNIM0415E", "Provided API key could not be found.")
    sdk = client(fake, authenticator=IAMAuthenticator("not-the-key", url=f"{fake.url}/iam"))
    with pytest.raises(ApiException) as info:
        sdk.list_vpcs()
    assert info.value.status_code == 400 and info.value.message == "Provided API key could not be found."
    logged = json.dumps([requests.get(f"{fake.url}/_fake/{what}", timeout=5).json()
                         for what in ("requests", "events", "state")])
    assert "not-the-key" not in logged and API_KEY not in logged


def test_a_token_iam_did_not_issue_is_refused(fake: FakeServer) -> None:
    sdk = client(fake, authenticator=BearerTokenAuthenticator("eyJhbGciOiJIUzI1NiJ9.e30.c2lnbmF0dXJl"))
    refused(sdk.list_vpcs, 401, "not one IAM issued")


def test_resource_groups_resolve_by_name_and_scope_listings(fake: FakeServer) -> None:
    manager = ResourceManagerV2(authenticator=IAMAuthenticator(API_KEY, url=f"{fake.url}/iam"))
    manager.set_service_url(f"{fake.url}/rm")
    default = ResourceGroupList.from_dict(manager.list_resource_groups(name="Default").get_result())
    assert [g.name for g in default.resources] == ["Default"] and default.resources[0].default
    created = manager.create_resource_group(name="prod-rg")
    assert created.get_status_code() == 201
    group_id = created.get_result()["id"]
    assert ResourceGroup.from_dict(manager.get_resource_group(group_id).get_result()).name == "prod-rg"
    assert manager.list_resource_groups(name="nothing").get_result()["resources"] == []
    sdk = client(fake)
    scoped = sdk.create_vpc(name="prod-vpc", resource_group={"id": group_id}).get_result()
    assert scoped["resource_group"] == {"href": f"{fake.url}/rm/v2/resource_groups/{group_id}", "id": group_id,
                                        "name": "prod-rg"}
    make_vpc(sdk, "default-vpc")
    make_acl(sdk, scoped["id"], "acl-a", [])
    assert [v["name"] for v in sdk.list_vpcs(resource_group_id=group_id).get_result()["vpcs"]] == ["prod-vpc"]
    in_group = sdk.list_network_acls(resource_group_id=group_id).get_result()["network_acls"]
    assert [a["id"] for a in in_group] == [scoped["default_network_acl"]["id"]]  # acl-a went to the default group
    refused(lambda: sdk.create_vpc(name="x", resource_group={"id": "nope"}), 400, "resource group nope not found")
