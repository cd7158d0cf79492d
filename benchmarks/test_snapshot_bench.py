"""A live VPC snapshot through the real ibm-vpc SDK against the emulator, at growing account sizes.

Figures, not limits: ``make bench`` prints them. The estate is ``large:N`` (N VPCs in each of three
regions, 20 ACLs of up to 10 rules, 3 subnets and a gateway per VPC), so doubling N doubles every
collection; the time per VPC should stay about the same, and the list calls grow as ceil(n/100).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import Any

import pytest

from netwarden.adapters.ibm_vpc import IbmVpcReader
from netwarden.config import IbmCloudSettings
from netwarden.fakes import scenarios
from netwarden.fakes.iam import API_KEY
from netwarden.fakes.server import FakeServer

KEY_ENV = "NETWARDEN_BENCH_APIKEY"


@pytest.fixture(scope="module", params=[5, 10, 20])
def estate(request: pytest.FixtureRequest) -> Iterator[tuple[int, IbmCloudSettings]]:
    os.environ[KEY_ENV] = API_KEY
    with FakeServer() as fake:
        scenarios.build(f"large:{request.param}", fake.url)
        yield request.param, IbmCloudSettings(regions=scenarios.LARGE_REGIONS, api_key_env=KEY_ENV,
                                              vpc_url=f"{fake.url}/vpc/{{region}}/v1", iam_url=f"{fake.url}/iam")
    os.environ.pop(KEY_ENV, None)


def test_vpc_snapshot(benchmark: Any, estate: tuple[int, IbmCloudSettings]) -> None:
    per_region, settings = estate
    read = benchmark(lambda: IbmVpcReader.from_settings(settings).read_vpcs())
    vpcs = 3 * per_region
    assert len(read.vpcs) == vpcs and not read.unreadable
    benchmark.extra_info["vpcs"] = vpcs
    benchmark.extra_info["ms_per_vpc"] = round(benchmark.stats.stats.median * 1000 / vpcs, 2)
