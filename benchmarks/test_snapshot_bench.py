"""Snapshots: a live VPC snapshot through the real ibm-vpc SDK against the emulator, and a snapshot file
read back, at growing account sizes.

Figures, not limits: ``make bench`` prints them. The live estate is ``large:N`` (N VPCs in each of
three regions, 20 ACLs of up to 10 rules, 3 subnets and a gateway per VPC), so doubling N doubles
every collection; the time per VPC should stay about the same, and the list calls grow as ceil(n/100).
The file is the live side of ``scale.py``'s account at 1% and 10%, read by ``check --snapshot``'s
reader (``adapters.snapshot_file``, typed) and by the core reader it stands in for; ``cpu_s`` is the
CPU time of one more read, which other work on the machine does not inflate as it does the clock.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import scale

from netwarden.adapters import snapshot_file
from netwarden.adapters.ibm_vpc import IbmVpcReader
from netwarden.config import IbmCloudSettings
from netwarden.core import snapshot_format
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


READERS: dict[str, Callable[[Path], object]] = {
    "typed": snapshot_file.read,
    "core": lambda path: snapshot_format.loads(path.read_bytes(), source=str(path)),
}


@pytest.fixture(scope="module", params=[0.01, 0.1], ids=["1%", "10%"])
def snapshot_path(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> tuple[float, Path]:
    path = tmp_path_factory.mktemp("snapshot") / "live.json"
    path.write_text(snapshot_format.dumps(scale.live(scale.baseline(request.param))), encoding="utf-8")
    return request.param, path


@pytest.mark.parametrize("reader", list(READERS))
def test_snapshot_file_read(benchmark: Any, snapshot_path: tuple[float, Path], reader: str) -> None:
    size, path = snapshot_path
    read = READERS[reader]
    benchmark.pedantic(lambda: read(path), rounds=3, iterations=1, warmup_rounds=1)
    start = time.process_time()
    read(path)
    benchmark.extra_info.update({"size": size, "reader": reader, "mib": round(path.stat().st_size / 2**20, 1),
                                 "cpu_s": round(time.process_time() - start, 3)})
