"""VPC drift end to end through the CLI: the recipe in the emulator, ``baseline capture``, then each drift
made with the real SDK gives exactly its finding code and exit 2; a region that keeps failing gives exit 3
and nothing missing from it."""

from __future__ import annotations

import functools
import json
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import pytest
import yaml
from ibm_cloud_sdk_core.authenticators import IAMAuthenticator
from ibm_vpc import VpcV1

from netwarden.adapters import ibm_vpc
from netwarden.adapters.baseline_fs import read_baseline
from netwarden.entrypoints import cli
from netwarden.fakes import scenarios
from netwarden.fakes.iam import API_KEY
from netwarden.fakes.server import FakeServer

BASELINE = Path(__file__).resolve().parents[2] / "baseline"
KEY_ENV = "NW_DRIFT_TEST_KEY"
ZONE_1_ACL = "iks-cluster-us-south-1-acl"


@dataclass
class Estate:
    """The recipe's VPC in the emulator, an SDK client to change it, and a config pointing at it."""

    fake: FakeServer
    sdk: VpcV1
    config: Path
    baseline: Path

    def acl(self, name: str) -> dict[str, Any]:
        found: dict[str, Any] = next(a for a in self.sdk.list_network_acls().get_result()["network_acls"]
                                     if a["name"] == name)
        return found

    def rule_id(self, acl: dict[str, Any], name: str) -> str:
        return str(next(r["id"] for r in acl["rules"] if r["name"] == name))

    def subnet(self, name: str) -> dict[str, Any]:
        found: dict[str, Any] = self.sdk.list_subnets(vpc_name="iks-vpc").get_result()["subnets"]
        return next(s for s in found if s["name"] == name)

    def run(self, capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str]:
        capsys.readouterr()
        code = cli.main([*args, "--config", str(self.config)])
        return code, capsys.readouterr().out

    def check(self, capsys: pytest.CaptureFixture[str]) -> tuple[int, dict[str, Any]]:
        code, out = self.run(capsys, "check", "--format", "json")
        report: dict[str, Any] = json.loads(out)
        return code, report


@pytest.fixture
def estate(fake: FakeServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Estate:
    monkeypatch.setenv(KEY_ENV, API_KEY)
    scenarios.build("recipe", fake.url, baseline=replace(read_baseline(BASELINE), clusters=()))
    config = tmp_path / "netwarden.yaml"
    config.write_text(yaml.safe_dump({
        "baseline": "captured",
        "ibmcloud": {"regions": ["us-south"], "api_key_env": KEY_ENV, "vpc_url": f"{fake.url}/vpc/{{region}}/v1",
                     "iam_url": f"{fake.url}/iam"},
    }))
    sdk = VpcV1(authenticator=IAMAuthenticator(API_KEY, url=f"{fake.url}/iam"))
    sdk.set_service_url(f"{fake.url}/vpc/us-south/v1")
    return Estate(fake, sdk, config, tmp_path / "captured")


def test_capture_of_the_recipe_then_check_is_in_sync(estate: Estate, capsys: pytest.CaptureFixture[str]) -> None:
    code, out = estate.run(capsys, "baseline", "capture")
    assert code == 0 and "captured 1 VPC(s)" in out
    assert read_baseline(estate.baseline).vpcs == replace(read_baseline(BASELINE), clusters=()).vpcs
    code, report = estate.check(capsys)
    assert (code, report["status"], report["findings"], report["unreadable"]) == (0, "in_sync", [], [])


def _delete_rule(e: Estate) -> None:
    acl = e.acl(ZONE_1_ACL)
    e.sdk.delete_network_acl_rule(acl["id"], e.rule_id(acl, "allow-ibm-private-network-inbound"))


def _allow_before_deny_all(e: Estate) -> None:
    acl = e.acl(ZONE_1_ACL)
    e.sdk.create_network_acl_rule(acl["id"], {
        "name": "allow-ssh-inbound", "action": "allow", "direction": "inbound", "protocol": "tcp",
        "source": "0.0.0.0/0", "destination": "0.0.0.0/0", "destination_port_min": 22, "destination_port_max": 22,
        "before": {"id": e.rule_id(acl, "deny-all-inbound")}})


def _add_https(e: Estate) -> None:
    acl = e.acl(ZONE_1_ACL)
    e.sdk.create_network_acl_rule(acl["id"], {
        "name": "allow-https-inbound", "action": "allow", "direction": "inbound", "protocol": "tcp",
        "source": "207.42.8.0/24", "destination": "0.0.0.0/0", "destination_port_min": 443,
        "destination_port_max": 443, "before": {"id": e.rule_id(acl, "deny-all-outbound")}})


def _change_port(e: Estate) -> None:
    acl = e.acl(ZONE_1_ACL)
    e.sdk.update_network_acl_rule(acl["id"], e.rule_id(acl, "allow-https-inbound"),
                                  {"destination_port_min": 8443, "destination_port_max": 8443})


def _swap_rules(e: Estate) -> None:
    acl = e.acl(ZONE_1_ACL)
    two, three = (e.rule_id(acl, f"allow-workers-us-south-{z}-inbound") for z in (2, 3))
    after_three = acl["rules"][[r["id"] for r in acl["rules"]].index(three) + 1]["id"]
    e.sdk.update_network_acl_rule(acl["id"], three, {"before": {"id": two}})
    e.sdk.update_network_acl_rule(acl["id"], two, {"before": {"id": after_three}})


def _default_acl_on_subnet(e: Estate) -> None:
    subnet = e.subnet("iks-vpc-us-south-2")
    default = e.sdk.get_vpc_default_network_acl(subnet["vpc"]["id"]).get_result()
    e.sdk.replace_subnet_network_acl(subnet["id"], {"id": default["id"]})


def _gateway_on_another_subnet(e: Estate) -> None:
    subnet = e.subnet("iks-vpc-us-south-2")
    gateway = e.sdk.create_public_gateway(vpc={"id": subnet["vpc"]["id"]}, zone={"name": "us-south-2"},
                                          name="iks-cluster-us-south-2-gateway").get_result()
    e.sdk.set_subnet_public_gateway(subnet["id"], {"id": gateway["id"]})


def _detach_gateway(e: Estate) -> None:
    e.sdk.unset_subnet_public_gateway(e.subnet("iks-vpc-us-south-1")["id"])


Step = Callable[[Estate], None]
DRIFTS: list[tuple[str, Step | None, Step, str, dict[str, str]]] = [
    ("rule deleted", None, _delete_rule, "acl-rule-missing",
     {"acl": ZONE_1_ACL, "rule": "allow-ibm-private-network-inbound"}),
    ("allow inserted before deny-all", None, _allow_before_deny_all, "acl-rule-unexpected",
     {"acl": ZONE_1_ACL, "rule": "allow-ssh-inbound"}),
    ("port changed", _add_https, _change_port, "acl-rule-changed", {"acl": ZONE_1_ACL, "rule": "allow-https-inbound"}),
    ("two rules swapped", None, _swap_rules, "acl-rules-reordered", {"acl": ZONE_1_ACL}),
    ("subnet back on the default ACL", None, _default_acl_on_subnet, "subnet-allow-all",
     {"subnet": "iks-vpc-us-south-2"}),
    ("gateway on another subnet", None, _gateway_on_another_subnet, "gateway-attached",
     {"subnet": "iks-vpc-us-south-2"}),
    ("gateway detached", None, _detach_gateway, "gateway-detached", {"subnet": "iks-vpc-us-south-1"}),
]


@pytest.mark.parametrize(("prepare", "drift", "code", "resource"), [d[1:] for d in DRIFTS], ids=[d[0] for d in DRIFTS])
def test_each_drift_gives_exactly_its_finding(estate: Estate, capsys: pytest.CaptureFixture[str], prepare: Step | None,
                                              drift: Step, code: str, resource: dict[str, str]) -> None:
    if prepare is not None:
        prepare(estate)
    assert estate.run(capsys, "baseline", "capture")[0] == 0
    drift(estate)
    exit_code, report = estate.check(capsys)
    assert (exit_code, report["status"]) == (2, "drift")
    [finding] = report["findings"]
    assert finding["code"] == code
    assert {k: finding["resource"].get(k) for k in resource} == resource
    assert (finding["resource"]["region"], finding["resource"]["vpc"]) == ("us-south", "iks-vpc")


def test_a_region_that_keeps_failing_is_incomplete_and_nothing_in_it_is_missing(
        estate: Estate, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    quick = functools.partial(ibm_vpc.RetryPolicy, retry_interval=0.05, max_retry_after=0.05)
    monkeypatch.setattr(ibm_vpc, "RetryPolicy", quick)  # as many retries as in production, without the waits
    eu = VpcV1(authenticator=IAMAuthenticator(API_KEY, url=f"{estate.fake.url}/iam"))
    eu.set_service_url(f"{estate.fake.url}/vpc/eu-de/v1")
    vpc = eu.create_vpc(name="eu-vpc").get_result()
    eu.create_subnet({"name": "eu-subnet-1", "vpc": {"id": vpc["id"]}, "zone": {"name": "eu-de-1"},
                      "total_ipv4_address_count": 256})
    settings = yaml.safe_load(estate.config.read_text())
    settings["ibmcloud"]["regions"] = ["eu-de", "us-south"]
    estate.config.write_text(yaml.safe_dump(settings))
    assert estate.run(capsys, "baseline", "capture")[0] == 0
    assert {v.region for v in read_baseline(estate.baseline).vpcs} == {"eu-de", "us-south"}
    estate.fake.cloud.add_fault({"path": "^/vpc/eu-de/", "status": 503})
    _delete_rule(estate)  # drift in the region that can be read is still reported
    exit_code, report = estate.check(capsys)
    assert (exit_code, report["status"]) == (3, "incomplete")
    assert [u["scope"] for u in report["unreadable"]] == ["eu-de"]
    assert "503" in report["unreadable"][0]["reason"]
    assert [(f["code"], f["resource"]["region"]) for f in report["findings"]] == [("acl-rule-missing", "us-south")]
