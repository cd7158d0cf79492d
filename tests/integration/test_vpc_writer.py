"""The VPC writer (adapters.ibm_vpc_writer) against the emulator: each remediation write, what it costs
to resolve names, and how failures split into worth-retrying and not."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
import requests
from ibm_cloud_sdk_core.authenticators import IAMAuthenticator
from ibm_vpc import VpcV1

from netwarden.adapters.baseline_fs import read_baseline
from netwarden.adapters.ibm_vpc import IbmVpcReader
from netwarden.adapters.ibm_vpc_writer import IbmVpcWriter
from netwarden.config import IbmCloudSettings
from netwarden.core.errors import PermanentRemediationError, TemporaryRemediationError
from netwarden.core.model import AclRule, PortRange, Vpc
from netwarden.fakes import scenarios
from netwarden.fakes.iam import API_KEY
from netwarden.fakes.server import FakeServer

BASELINE = Path(__file__).resolve().parents[2] / "baseline"
KEY_ENV = "NW_VPC_WRITER_KEY"
REGION, VPC, ACL = "us-south", "iks-vpc", "iks-cluster-us-south-1-acl"
SSH = AclRule("allow-ssh-inbound", "allow", "inbound", "tcp", "10.0.0.0/8", "0.0.0.0/0",
              destination_port=PortRange(22, 22), source_port=PortRange(1, 65535))


def settings_for(server: FakeServer) -> IbmCloudSettings:
    return IbmCloudSettings(regions=(REGION,), api_key_env=KEY_ENV, vpc_url=f"{server.url}/vpc/{{region}}/v1",
                            iam_url=f"{server.url}/iam")


def build_recipe(server: FakeServer) -> None:
    scenarios.build("recipe", server.url, baseline=replace(read_baseline(BASELINE), clusters=()))
    server.cloud.requests.clear()


@pytest.fixture(autouse=True)
def api_key(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(KEY_ENV, API_KEY)


@pytest.fixture
def settings(fake: FakeServer) -> IbmCloudSettings:
    """The recipe in the emulator, for tests that change it."""
    build_recipe(fake)
    return settings_for(fake)


@pytest.fixture
def writer(settings: IbmCloudSettings) -> IbmVpcWriter:
    return IbmVpcWriter.from_settings(settings)


@pytest.fixture(scope="module")
def unchanged() -> Iterator[FakeServer]:
    """The recipe built once, for the tests whose writes all fail (faults are cleared after each)."""
    with FakeServer() as server:
        build_recipe(server)
        yield server


@pytest.fixture
def failing(unchanged: FakeServer) -> Iterator[IbmVpcWriter]:
    unchanged.cloud.requests.clear()
    yield IbmVpcWriter.from_settings(settings_for(unchanged))
    unchanged.cloud.faults.clear()


def live(settings: IbmCloudSettings) -> Vpc:
    [vpc] = IbmVpcReader.from_settings(settings).read_vpcs().vpcs
    return vpc


def rules(settings: IbmCloudSettings, acl: str = ACL) -> list[AclRule]:
    found = live(settings).acl(acl)
    assert found is not None
    return list(found.rules)


def calls(fake: FakeServer) -> Counter[str]:
    got = requests.get(f"{fake.url}/_fake/requests", timeout=5).json()["requests"]
    return Counter(f"{r['method']} {r['path'].split('/v1/')[-1].split('/')[0]}" for r in got
                   if r["path"].startswith("/vpc/"))


def add_fault(fake: FakeServer, **spec: Any) -> None:
    requests.post(f"{fake.url}/_fake/faults", json=spec, timeout=5).raise_for_status()


def test_rules_are_created_before_updated_moved_and_deleted(fake: FakeServer, settings: IbmCloudSettings,
                                                             writer: IbmVpcWriter) -> None:
    before = rules(settings)
    deny_in = next(r for r in before if r.name == "deny-all-inbound")
    created = writer.create_rule(REGION, VPC, ACL, SSH, deny_in.id)
    after = rules(settings)
    assert [r.name for r in after] == [*[r.name for r in before][:-1], "allow-ssh-inbound", "deny-all-inbound"]
    assert after[-2] == SSH and after[-2].id == created
    writer.update_rule(REGION, VPC, ACL, created, {"destination_port": "2222-2223", "name": "allow-ssh2-inbound"})
    changed = next(r for r in rules(settings) if r.id == created)
    assert (changed.name, changed.destination_port) == ("allow-ssh2-inbound", PortRange(2222, 2223))
    writer.move_rule(REGION, VPC, ACL, created, None)
    assert rules(settings)[-1].id == created
    writer.move_rule(REGION, VPC, ACL, created, before[0].id)
    assert rules(settings)[0].id == created
    writer.delete_rule(REGION, VPC, ACL, created)
    assert rules(settings) == before


def test_subnet_acl_and_gateway_are_replaced_attached_and_detached(fake: FakeServer, settings: IbmCloudSettings,
                                                                    writer: IbmVpcWriter) -> None:
    default = live(settings).default_acl
    assert default is not None
    writer.replace_subnet_acl(REGION, VPC, "iks-vpc-us-south-2", default)
    sdk = VpcV1(authenticator=IAMAuthenticator(API_KEY, url=f"{fake.url}/iam"))
    sdk.set_service_url(f"{fake.url}/vpc/{REGION}/v1")
    sdk.create_public_gateway(vpc={"id": live(settings).id}, zone={"name": "us-south-2"}, name="zone-2-gateway")
    writer.set_subnet_gateway(REGION, VPC, "iks-vpc-us-south-2", "zone-2-gateway")
    subnet = live(settings).subnet("iks-vpc-us-south-2")
    assert subnet is not None and (subnet.network_acl, subnet.public_gateway) == (default, "zone-2-gateway")
    writer.unset_subnet_gateway(REGION, VPC, "iks-vpc-us-south-2")
    writer.replace_subnet_acl(REGION, VPC, "iks-vpc-us-south-2", "iks-cluster-us-south-2-acl")
    [base] = read_baseline(BASELINE).vpcs
    assert live(settings).subnets == base.subnets


def test_names_are_resolved_once_per_run(fake: FakeServer, settings: IbmCloudSettings, writer: IbmVpcWriter) -> None:
    created = [writer.create_rule(REGION, VPC, ACL, replace(SSH, name=f"extra-{i}"), None) for i in range(3)]
    for rule_id in created:
        writer.delete_rule(REGION, VPC, ACL, rule_id)
    writer.unset_subnet_gateway(REGION, VPC, "iks-vpc-us-south-1")
    writer.set_subnet_gateway(REGION, VPC, "iks-vpc-us-south-1", "iks-cluster-us-south-1-gateway")
    writer.replace_subnet_acl(REGION, VPC, "iks-vpc-us-south-3", "iks-cluster-us-south-3-acl")
    assert calls(fake) == {"GET network_acls": 1, "GET subnets": 1, "GET public_gateways": 1,
                           "POST network_acls": 3, "DELETE network_acls": 3, "DELETE subnets": 1, "PUT subnets": 2}


@pytest.mark.parametrize(
    ("fault", "delay"),
    [({"status": 429, "retry_after": 7}, 7.0), ({"status": 503}, 5.0), ({"status": 502}, 5.0)],
)
def test_throttled_and_failing_writes_are_temporary_and_not_retried(unchanged: FakeServer, failing: IbmVpcWriter,
                                                                    fault: dict[str, Any], delay: float) -> None:
    failing.acl_id(REGION, VPC, ACL)  # names resolved before the fault
    add_fault(unchanged, path="/rules", method="POST", **fault)
    with pytest.raises(TemporaryRemediationError) as info:
        failing.create_rule(REGION, VPC, ACL, SSH, None)
    assert info.value.delay == delay and f"(HTTP {fault['status']})" in str(info.value)
    assert calls(unchanged)["POST network_acls"] == 1  # a write is never replayed by the SDK


@pytest.mark.parametrize(
    ("write", "error", "message"),
    [(lambda w: w.create_rule(REGION, VPC, ACL, replace(SSH, name="deny-all-inbound"), None),
      TemporaryRemediationError, "already in use (HTTP 409)"),
     (lambda w: w.create_rule(REGION, VPC, ACL, replace(SSH, action="deny", protocol="icmp_tcp_udp",
                                                        destination_port=None, source_port=None), None),
      PermanentRemediationError, "in three rules (HTTP 400)"),
     (lambda w: w.create_rule(REGION, VPC, "no-such-acl", SSH, None),
      PermanentRemediationError, "network ACL no-such-acl of us-south/iks-vpc does not exist"),
     (lambda w: w.update_rule(REGION, VPC, ACL, "r006-gone", {"name": "x"}),
      PermanentRemediationError, "rule r006-gone not found"),
     (lambda w: w.update_rule(REGION, VPC, ACL, "r006-any", {"protocol": "udp"}),
      PermanentRemediationError, "protocol cannot be changed in place"),
     (lambda w: w.set_subnet_gateway(REGION, VPC, "iks-vpc-us-south-2", "iks-cluster-us-south-1-gateway"),
      PermanentRemediationError, "is in zone us-south-1, the subnet in us-south-2 (HTTP 400)"),
     (lambda w: w.unset_subnet_gateway(REGION, VPC, "iks-vpc-us-south-3"),
      PermanentRemediationError, "has no public gateway attached (HTTP 404)")],
    ids=["name conflict", "invalid rule", "unknown acl", "gone rule", "protocol patch", "gateway zone",
         "nothing to detach"],
)
def test_refused_writes_say_whether_to_retry(failing: IbmVpcWriter, write: Any, error: type[Exception],
                                             message: str) -> None:
    with pytest.raises(error) as info:
        write(failing)
    assert message in str(info.value)


def test_a_refused_api_key_is_permanent(unchanged: FakeServer, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(KEY_ENV, "not-the-key")
    with pytest.raises(PermanentRemediationError, match="IAM refused the API key") as info:
        IbmVpcWriter.from_settings(settings_for(unchanged)).delete_rule(REGION, VPC, ACL, "r006-x")
    assert "not-the-key" not in str(info.value)
