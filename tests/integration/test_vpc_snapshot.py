"""The VPC reader (adapters.ibm_vpc) against the emulator: what a snapshot reads, what it costs, and
what it does when the API throttles, fails or refuses."""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
import requests
from ibm_cloud_sdk_core.authenticators import IAMAuthenticator
from ibm_platform_services import ResourceManagerV2
from ibm_vpc import VpcV1

from netwarden.adapters.baseline_fs import read_baseline
from netwarden.adapters.ibm_vpc import IbmVpcReader, RetryPolicy, calls_for
from netwarden.config import IbmCloudSettings
from netwarden.core.errors import ConfigError, ProviderAuthError, ProviderNotFound, ProviderUnavailable
from netwarden.core.model import Snapshot
from netwarden.fakes import scenarios
from netwarden.fakes.iam import API_KEY
from netwarden.fakes.server import FakeServer

BASELINE = Path(__file__).resolve().parents[2] / "baseline"
KEY_ENV = "NW_VPC_TEST_KEY"
#: Fast backoff for tests: retries as many times as in production, without the seconds of waiting.
QUICK = RetryPolicy(retry_interval=0.05, max_retry_after=0.05)


@pytest.fixture
def baseline() -> Snapshot:
    """The committed recipe baseline, VPC side only (these tests read no cluster)."""
    return replace(read_baseline(BASELINE), clusters=())


@pytest.fixture(autouse=True)
def api_key(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(KEY_ENV, API_KEY)


def settings_for(fake: FakeServer, *regions: str, **extra: Any) -> IbmCloudSettings:
    return IbmCloudSettings(regions=regions or ("us-south",), api_key_env=KEY_ENV,
                            vpc_url=f"{fake.url}/vpc/{{region}}/v1", iam_url=f"{fake.url}/iam",
                            resource_manager_url=f"{fake.url}/rm", **extra)


def sdk(fake: FakeServer, region: str = "us-south") -> VpcV1:
    client = VpcV1(authenticator=IAMAuthenticator(API_KEY, url=f"{fake.url}/iam"))
    client.set_service_url(f"{fake.url}/vpc/{region}/v1")
    return client


def logged(fake: FakeServer) -> list[dict[str, Any]]:
    got: list[dict[str, Any]] = requests.get(f"{fake.url}/_fake/requests", timeout=5).json()["requests"]
    return got


def add_fault(fake: FakeServer, **spec: Any) -> None:
    requests.post(f"{fake.url}/_fake/faults", json=spec, timeout=5).raise_for_status()


@pytest.fixture
def recipe(fake: FakeServer, baseline: Snapshot) -> Snapshot:
    scenarios.build("recipe", fake.url, baseline=baseline)
    fake.cloud.requests.clear()
    return baseline


def test_a_snapshot_of_the_recipe_equals_its_baseline(fake: FakeServer, recipe: Snapshot) -> None:
    read = IbmVpcReader.from_settings(settings_for(fake)).read_vpcs()
    assert read.unreadable == ()
    assert read.vpcs == recipe.vpcs  # rules in order, subnets with ACL, gateway, zone and CIDR, default ACL
    [vpc] = read.vpcs
    assert vpc.id and all(acl.id for acl in vpc.acls) and all(s.id for s in vpc.subnets)
    assert all(r.id for acl in vpc.acls for r in acl.rules)


@pytest.fixture
def seeded() -> Iterator[FakeServer]:
    """A server of its own, with a fixed seed: which calls a 30% fault hits is the same on every run."""
    with FakeServer(seed=2026) as server:
        yield server


def test_429_and_503_on_30_percent_of_calls_give_the_same_snapshot(seeded: FakeServer, baseline: Snapshot) -> None:
    scenarios.build("recipe", seeded.url, baseline=baseline)
    clean = IbmVpcReader.from_settings(settings_for(seeded)).read_vpcs()
    add_fault(seeded, path="^/vpc/", status=429, rate=0.15, retry_after=0)
    add_fault(seeded, path="^/vpc/", status=503, rate=0.15 / 0.85)
    seeded.cloud.requests.clear()
    for _ in range(3):
        assert IbmVpcReader.from_settings(settings_for(seeded), QUICK).read_vpcs() == clean
    statuses = Counter(r["status"] for r in logged(seeded) if r["path"].startswith("/vpc/"))
    assert statuses[429] and statuses[503] and statuses[200] == 3 * 5  # every list call answered in the end


def test_retry_after_is_honoured_up_to_its_bound(fake: FakeServer, recipe: Snapshot) -> None:
    add_fault(fake, path="^/vpc/us-south/v1/vpcs", status=429, count=1, retry_after=3600)
    started = time.monotonic()
    read = IbmVpcReader.from_settings(settings_for(fake), RetryPolicy(max_retry_after=0.2)).read_vpcs()
    assert read.vpcs == recipe.vpcs and time.monotonic() - started < 30


def test_a_region_that_keeps_failing_is_unreadable_and_the_rest_is_read(fake: FakeServer, recipe: Snapshot) -> None:
    sdk(fake, "eu-de").create_vpc(name="eu-vpc")
    add_fault(fake, path="^/vpc/eu-de/", status=503)
    fake.cloud.requests.clear()
    read = IbmVpcReader.from_settings(settings_for(fake, "eu-de", "us-south"), QUICK).read_vpcs()
    assert read.vpcs == recipe.vpcs
    [unreadable] = read.unreadable
    assert unreadable.scope == "eu-de"
    assert unreadable.reason == "GET /vpcs (eu-de): still failing after retries (too many 503 responses) (HTTP 503)"
    assert Counter(r["status"] for r in logged(fake) if "/eu-de/" in r["path"]) == {503: 1 + QUICK.max_retries}


def test_a_full_snapshot_of_3_regions_x_10_vpcs_x_20_acls_costs_19_calls(fake: FakeServer) -> None:
    scenarios.build("large:10", fake.url)
    fake.cloud.requests.clear()
    read = IbmVpcReader.from_settings(settings_for(fake, *scenarios.LARGE_REGIONS)).read_vpcs()
    assert (len(read.vpcs), sum(len(v.acls) for v in read.vpcs), read.unreadable) == (30, 600, ())
    groups = [g for v in read.vpcs for g in v.security_groups]
    assert len(groups) == 150 and sum(len(g.rules) for g in groups) == 30 * (2 + 3 * 2)
    assert all(any(r.remote_group == "bench-sg-workers" for r in g.rules)
               for g in groups if g.name.startswith("bench-sg-0"))
    calls = [f"{r['method']} {r['path']}" for r in logged(fake)]
    # Per region: 10 VPCs, 200 ACLs (rules embedded), 30 subnets, 10 gateways, 50 security groups (rules
    # and targets embedded) -> 1 + 2 + 1 + 1 + 1 list calls, and no GET of any one group, rule or target.
    per_region = calls_for(10) + calls_for(200) + calls_for(30) + calls_for(10) + calls_for(50)
    assert per_region == 6
    assert len(calls) == 1 + 3 * per_region == 19  # and one IAM token for all of them
    assert Counter(calls) == {
        "POST /iam/identity/token": 1,
        **{f"GET /vpc/{region}/v1/{what}": n for region in scenarios.LARGE_REGIONS
           for what, n in (("vpcs", 1), ("network_acls", 2), ("subnets", 1), ("public_gateways", 1),
                           ("security_groups", 1))},
    }


def test_scope_by_vpc_names_and_by_resource_group(fake: FakeServer, recipe: Snapshot) -> None:
    manager = ResourceManagerV2(authenticator=IAMAuthenticator(API_KEY, url=f"{fake.url}/iam"))
    manager.set_service_url(f"{fake.url}/rm")
    group = manager.create_resource_group(name="prod-rg").get_result()["id"]
    sdk(fake).create_vpc(name="prod-vpc", resource_group={"id": group})
    by_name = IbmVpcReader.from_settings(settings_for(fake, vpcs=("prod-vpc",))).read_vpcs()
    assert [v.name for v in by_name.vpcs] == ["prod-vpc"]
    fake.cloud.requests.clear()
    by_group = IbmVpcReader.from_settings(settings_for(fake, resource_group="prod-rg")).read_vpcs()
    assert [v.name for v in by_group.vpcs] == ["prod-vpc"]
    assert [r["path"] for r in logged(fake)].count("/rm/v2/resource_groups") == 1
    everything = IbmVpcReader.from_settings(settings_for(fake)).read_vpcs()
    assert sorted(v.name for v in everything.vpcs) == ["iks-vpc", "prod-vpc"]
    with pytest.raises(ConfigError, match="resource group 'nope'"):
        IbmVpcReader.from_settings(settings_for(fake, resource_group="nope")).read_vpcs()


def test_a_refused_api_key_fails_the_read_naming_iam_not_the_key(fake: FakeServer, recipe: Snapshot,
                                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(KEY_ENV, "a-wrong-key")
    with pytest.raises(ProviderAuthError) as info:
        IbmVpcReader.from_settings(settings_for(fake)).read_vpcs()
    text = str(info.value)
    assert text == (f"{fake.url}/iam/identity/token: IAM refused the API key: Provided API key could not be found. "
                    "(HTTP 400)")
    assert "a-wrong-key" not in text and isinstance(info.value.__cause__, Exception)


def test_a_missing_api_key_is_a_config_error(fake: FakeServer, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(KEY_ENV)
    with pytest.raises(ConfigError, match=f"environment variable {KEY_ENV}"):
        IbmVpcReader.from_settings(settings_for(fake))


def test_an_api_that_cannot_be_reached_fails_the_read_naming_the_endpoint(fake: FakeServer) -> None:
    closed = replace(settings_for(fake, "us-south", "eu-de"), vpc_url="http://127.0.0.1:9/{region}/v1")
    with pytest.raises(ProviderUnavailable) as info:
        IbmVpcReader.from_settings(closed, QUICK).read_vpcs()
    assert str(info.value) == "GET /vpcs (us-south): cannot connect (ConnectionError)"


def test_targeted_reads_cost_one_or_two_calls(fake: FakeServer, recipe: Snapshot) -> None:
    reader = IbmVpcReader.from_settings(settings_for(fake))
    [live] = reader.read_vpcs().vpcs
    [base] = recipe.vpcs
    subnet = live.subnet("iks-vpc-us-south-1")
    assert subnet is not None and subnet.id
    acl = live.acl("iks-cluster-us-south-1-acl")
    assert acl is not None and acl.id
    fake.cloud.requests.clear()
    one = reader.read_acl("us-south", acl.id)
    assert (one.name, one.acls, one.subnets, one.default_acl) == ("iks-vpc", (base.acl(acl.name),), (), None)
    assert len(logged(fake)) == 1
    fake.cloud.requests.clear()
    two = reader.read_subnet("us-south", subnet.id, with_default=True)
    assert (two.subnets, two.acls, two.default_acl) == ((base.subnet(subnet.name),), (base.acl(acl.name),),
                                                         base.default_acl)
    assert len(logged(fake)) == 3
    with pytest.raises(ProviderNotFound, match="Network ACL r006-gone not found"):
        reader.read_acl("us-south", "r006-gone")
