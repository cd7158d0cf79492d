"""Events end to end on the emulators: a mutation through the SDK -> the Activity Tracker event the
VPC emulator logged -> the targeted check of that one resource, with at most 3 VPC API calls."""

from __future__ import annotations

import json
import urllib.request
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from ibm_cloud_sdk_core.authenticators import IAMAuthenticator
from ibm_vpc import VpcV1

from netwarden.adapters.baseline_fs import read_baseline
from netwarden.adapters.ibm_vpc import IbmVpcReader
from netwarden.app.event import MAX_CALLS, Scope, check
from netwarden.config import IbmCloudSettings
from netwarden.core import activity_tracker
from netwarden.core.model import Snapshot
from netwarden.fakes import scenarios
from netwarden.fakes.iam import API_KEY
from netwarden.fakes.server import FakeServer

BASELINE = Path(__file__).resolve().parents[2] / "baseline"
VPC = "iks-vpc"


def fake_get(fake: FakeServer, path: str) -> Any:
    with urllib.request.urlopen(f"{fake.url}{path}") as r:
        return json.load(r)


def vpc_calls(fake: FakeServer, since: int) -> list[str]:
    requests = fake_get(fake, f"/_fake/requests?since={since}")["requests"]
    return [f"{r['method']} {r['path']}" for r in requests if r["path"].startswith("/vpc/")]


@pytest.fixture
def baseline() -> Snapshot:
    return read_baseline(BASELINE)


@pytest.fixture
def estate(fake: FakeServer, baseline: Snapshot) -> VpcV1:
    """The recipe's VPC built in the emulator; returns an SDK client to change it with."""
    scenarios.build("recipe", fake.url, baseline=baseline)
    sdk = VpcV1(authenticator=IAMAuthenticator(API_KEY, url=f"{fake.url}/iam"))
    sdk.set_service_url(f"{fake.url}/vpc/us-south/v1")
    return sdk


@pytest.fixture
def reader(fake: FakeServer, monkeypatch: pytest.MonkeyPatch) -> IbmVpcReader:
    monkeypatch.setenv("NW_TEST_API_KEY", API_KEY)
    settings = IbmCloudSettings(regions=("us-south",), api_key_env="NW_TEST_API_KEY",
                                vpc_url=f"{fake.url}/vpc/{{region}}/v1", iam_url=f"{fake.url}/iam")
    return IbmVpcReader.from_settings(settings)


def by_name(items: list[dict[str, Any]], name: str) -> dict[str, Any]:
    return next(i for i in items if i["name"] == name)


def delete_rule(sdk: VpcV1) -> None:
    acl = by_name(sdk.list_network_acls().get_result()["network_acls"], "iks-cluster-us-south-1-acl")
    rule = by_name(acl["rules"], "allow-workers-us-south-2-inbound")
    sdk.delete_network_acl_rule(acl["id"], rule["id"])


def change_rule(sdk: VpcV1) -> None:
    acl = by_name(sdk.list_network_acls().get_result()["network_acls"], "iks-cluster-us-south-2-acl")
    rule = by_name(acl["rules"], "allow-workers-us-south-1-inbound")
    sdk.update_network_acl_rule(acl["id"], rule["id"], {"source": "0.0.0.0/0"})


def revert_to_default_acl(sdk: VpcV1) -> None:
    subnet = by_name(sdk.list_subnets().get_result()["subnets"], "iks-vpc-us-south-3")
    vpc = by_name(sdk.list_vpcs().get_result()["vpcs"], VPC)
    sdk.replace_subnet_network_acl(subnet["id"], {"id": vpc["default_network_acl"]["id"]})


def detach_gateway(sdk: VpcV1) -> None:
    subnet = by_name(sdk.list_subnets().get_result()["subnets"], "iks-vpc-us-south-1")
    sdk.unset_subnet_public_gateway(subnet["id"])


WORKERS_SG, LBAAS_SG = "kube-cq2f9ha20m7cn4qhs0vg", "kube-lbaas-cq2f9ha20m7cn4qhs0vg"


def group(sdk: VpcV1, name: str) -> dict[str, Any]:
    return by_name(sdk.list_security_groups(vpc_name=VPC).get_result()["security_groups"], name)


def ssh_from_anywhere(sdk: VpcV1) -> None:
    sdk.create_security_group_rule(group(sdk, WORKERS_SG)["id"], {
        "direction": "inbound", "protocol": "tcp", "port_min": 22, "port_max": 22,
        "remote": {"cidr_block": "0.0.0.0/0"}})


def delete_sg_rule(sdk: VpcV1) -> None:
    g = group(sdk, "iks-bastion-sg")
    sdk.delete_security_group_rule(g["id"], next(r["id"] for r in g["rules"] if r["direction"] == "outbound"))


def change_sg_rule(sdk: VpcV1) -> None:
    g = group(sdk, "iks-bastion-sg")
    sdk.update_security_group_rule(g["id"], next(r["id"] for r in g["rules"] if r.get("port_min") == 22),
                                   {"port_min": 2222, "port_max": 2222})


def bind_sg(sdk: VpcV1) -> None:
    alb = next(t["id"] for t in group(sdk, LBAAS_SG)["targets"])
    sdk.create_security_group_target_binding(group(sdk, "iks-bastion-sg")["id"], alb)


def unbind_sg(sdk: VpcV1) -> None:
    g = group(sdk, "iks-bastion-sg")
    sdk.delete_security_group_target_binding(g["id"], g["targets"][0]["id"])


def delete_sg(sdk: VpcV1) -> None:
    unbind_sg(sdk)
    sdk.delete_security_group(group(sdk, "iks-bastion-sg")["id"])


@pytest.mark.parametrize(("mutate", "action", "code", "resource"), [
    (delete_rule, "is.network-acl.rule.delete", "acl-rule-missing", "us-south/iks-vpc/iks-cluster-us-south-1-acl"),
    (change_rule, "is.network-acl.rule.update", "acl-rule-changed", "us-south/iks-vpc/iks-cluster-us-south-2-acl"),
    (revert_to_default_acl, "is.subnet.network-acl.update", "subnet-allow-all", "us-south/iks-vpc/iks-vpc-us-south-3"),
    (detach_gateway, "is.subnet.public-gateway.detach", "gateway-detached", "us-south/iks-vpc/iks-vpc-us-south-1"),
    (ssh_from_anywhere, "is.security-group.security-group-rule.create", "sg-rule-unexpected",
     f"us-south/iks-vpc/{WORKERS_SG}"),
    (delete_sg_rule, "is.security-group.security-group-rule.delete", "sg-rule-missing",
     "us-south/iks-vpc/iks-bastion-sg"),
    (change_sg_rule, "is.security-group.security-group-rule.update", "sg-rule-changed",
     "us-south/iks-vpc/iks-bastion-sg"),
    (bind_sg, "is.security-group.security-group-interface.attach", "sg-target-added",
     "us-south/iks-vpc/iks-bastion-sg"),
    (unbind_sg, "is.security-group.security-group-interface.detach", "sg-target-removed",
     "us-south/iks-vpc/iks-bastion-sg"),
    (delete_sg, "is.security-group.security-group.delete", "sg-missing", "us-south/iks-vpc/iks-bastion-sg"),
], ids=["rule-delete", "rule-update", "subnet-acl", "gateway-detach", "sg-rule-create", "sg-rule-delete",
        "sg-rule-update", "sg-bind", "sg-unbind", "sg-delete"])
def test_mutation_event_targeted_check(fake: FakeServer, estate: VpcV1, baseline: Snapshot, reader: IbmVpcReader,
                                       mutate: Callable[[VpcV1], None], action: str, code: str,
                                       resource: str) -> None:
    seen = len(fake_get(fake, "/_fake/events")["events"])
    mutate(estate)
    raw = fake_get(fake, f"/_fake/events?since={seen}")["events"][-1]
    event = activity_tracker.parse(raw)
    assert (event.action, event.check is not None) == (action, True)
    since = len(fake_get(fake, "/_fake/requests")["requests"])
    outcome = check(event, baseline, reader, Scope(regions=("us-south",)))
    assert outcome.status == "checked" and outcome.scope == resource
    assert [f.code for f in outcome.findings] == [code]
    calls = vpc_calls(fake, since)
    assert 1 <= len(calls) <= MAX_CALLS, calls


def test_an_unchanged_resource_checks_in_sync(fake: FakeServer, estate: VpcV1, baseline: Snapshot,
                                               reader: IbmVpcReader) -> None:
    acl = by_name(estate.list_network_acls().get_result()["network_acls"], "iks-cluster-us-south-3-acl")
    estate.update_network_acl(acl["id"], {"name": "iks-cluster-us-south-3-acl"})  # a no-op update
    raw = fake_get(fake, "/_fake/events")["events"][-1]
    outcome = check(activity_tracker.parse(raw), baseline, reader, Scope(regions=("us-south",)))
    assert (outcome.status, outcome.findings) == ("checked", ())


def test_events_outside_the_scope_are_acknowledged(fake: FakeServer, estate: VpcV1, baseline: Snapshot,
                                                    reader: IbmVpcReader) -> None:
    created = estate.create_vpc(name="sandbox-vpc").get_result()
    acl = created["default_network_acl"]
    rule = estate.get_network_acl(acl["id"]).get_result()["rules"][0]
    estate.delete_network_acl_rule(acl["id"], rule["id"])
    raw = fake_get(fake, "/_fake/events")["events"][-1]
    outcome = check(activity_tracker.parse(raw), baseline, reader, Scope(regions=("us-south",)))
    assert outcome.status == "ignored" and "sandbox-vpc" in outcome.reason
    scoped = check(activity_tracker.parse(raw), baseline, reader, Scope(regions=("us-south",), vpcs=(VPC,)))
    assert scoped.status == "ignored" and "not in scope" in scoped.reason
