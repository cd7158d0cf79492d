"""Helpers for the VPC emulator's contract tests: the real ibm-vpc SDK pointed at the emulator.

The emulator refuses any call without a token from its IAM, as IBM Cloud does: ``client`` authenticates
the way the product does (``IAMAuthenticator`` with the emulated API key), and ``bearer`` gets a token
for tests that speak raw HTTP.

Every result that goes through ``parsed`` is also parsed with the SDK's own model (``from_dict``), so a
response shape the SDK would reject fails the test that received it.

Security group targets (instance network interfaces, endpoint gateways...) have no API call of their own
in the emulator: ``add_target`` and ``remove_target`` register and remove one through its Python model,
under the server's lock, as a scenario does.
"""

from __future__ import annotations

from typing import Any

import pytest
import requests
from ibm_cloud_sdk_core import ApiException, DetailedResponse
from ibm_cloud_sdk_core.authenticators import Authenticator, IAMAuthenticator
from ibm_vpc import VpcV1

from netwarden.fakes.iam import API_KEY
from netwarden.fakes.server import FakeServer
from netwarden.fakes.vpc import models_sg_targets
from netwarden.fakes.vpc.models import Region
from netwarden.fakes.vpc.models_sg import SecurityGroupTarget

NEW = "2026-10-06"  # the default of ibm-vpc 0.36.0: protocols spelled icmp_tcp_udp
OLD = "2025-12-08"  # the last version that spells them all


def client(fake: FakeServer, region: str = "us-south", *, version: str | None = None,
           authenticator: Authenticator | None = None) -> VpcV1:
    authenticator = authenticator or IAMAuthenticator(API_KEY, url=f"{fake.url}/iam")
    sdk = VpcV1(version=version, authenticator=authenticator) if version else VpcV1(authenticator=authenticator)
    sdk.set_service_url(f"{fake.url}/vpc/{region}/v1")
    return sdk


def bearer(fake: FakeServer) -> dict[str, str]:
    """An ``Authorization`` header with a fresh token from the emulated IAM, as the SDK would send it."""
    answer = requests.post(f"{fake.url}/iam/identity/token", timeout=5, data={
        "grant_type": "urn:ibm:params:oauth:grant-type:apikey", "apikey": API_KEY, "response_type": "cloud_iam"})
    assert answer.status_code == 200, answer.text
    return {"Authorization": f"Bearer {answer.json()['access_token']}"}


def parsed(model: Any, response: DetailedResponse, status: int = 200) -> dict[str, Any]:
    """The result of ``response``, after checking its status and that ``model.from_dict`` accepts it."""
    assert response.get_status_code() == status
    result: dict[str, Any] = response.get_result()
    model.from_dict(result)
    return result


def rule(name: str, *, action: str = "allow", direction: str = "inbound", protocol: str = "tcp",
         source: str = "0.0.0.0/0", destination: str = "0.0.0.0/0", **extra: Any) -> dict[str, Any]:
    return {"name": name, "action": action, "direction": direction, "protocol": protocol, "source": source,
            "destination": destination, **extra}


def make_vpc(sdk: VpcV1, name: str = "prod-vpc") -> dict[str, Any]:
    result: dict[str, Any] = sdk.create_vpc(name=name).get_result()
    return result


def make_acl(sdk: VpcV1, vpc_id: str, name: str, rules: list[dict[str, Any]]) -> dict[str, Any]:
    result: dict[str, Any] = sdk.create_network_acl({"name": name, "vpc": {"id": vpc_id}, "rules": rules}).get_result()
    return result


def make_subnet(sdk: VpcV1, vpc_id: str, name: str, zone: str, **extra: Any) -> dict[str, Any]:
    body = {"name": name, "vpc": {"id": vpc_id}, "zone": {"name": zone}, "total_ipv4_address_count": 256, **extra}
    result: dict[str, Any] = sdk.create_subnet(body).get_result()
    return result


def make_sg(sdk: VpcV1, vpc_id: str, name: str, rules: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    result: dict[str, Any] = sdk.create_security_group({"id": vpc_id}, name=name, rules=rules).get_result()
    return result


def region(fake: FakeServer, name: str = "us-south") -> Region:
    """The emulator's model of one region (for what the API cannot do: register targets)."""
    found: Region = fake.cloud.state("netwarden.fakes.vpc.urls").region(name)
    return found


def add_target(fake: FakeServer, kind: str, *, in_region: str = "us-south", **kwargs: Any) -> SecurityGroupTarget:
    with fake.cloud.lock:
        return models_sg_targets.add_target(region(fake, in_region), kind, **kwargs)


def remove_target(fake: FakeServer, target_id: str, *, in_region: str = "us-south") -> None:
    with fake.cloud.lock:
        models_sg_targets.remove_target(region(fake, in_region), target_id)


def refused(call: Any, status: int, message: str) -> ApiException:
    """Run ``call``; assert the SDK raised ApiException with ``status`` and ``message`` in its message."""
    with pytest.raises(ApiException) as info:
        call()
    assert info.value.status_code == status, info.value.message
    assert message in (info.value.message or ""), info.value.message
    body = info.value.http_response.json()
    assert body["status_code"] == status and body["trace"] and body["errors"][0]["code"]
    return info.value


def events(fake: FakeServer) -> list[dict[str, Any]]:
    result: list[dict[str, Any]] = requests.get(f"{fake.url}/_fake/events", timeout=5).json()["events"]
    return result


def vpc_requests(fake: FakeServer) -> list[dict[str, Any]]:
    got = requests.get(f"{fake.url}/_fake/requests", timeout=5).json()["requests"]
    return [r for r in got if r["path"].startswith("/vpc/")]
