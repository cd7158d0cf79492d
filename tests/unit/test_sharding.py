"""Array-job sharding: every name in exactly one shard, the same one every run, up to 1,000 shards."""

from __future__ import annotations

import subprocess
import sys

import pytest

from netwarden.config import ClusterSettings, IbmCloudSettings, Settings
from netwarden.core.coverage import covered
from netwarden.core.findings import ResourceRef
from netwarden.core.model import Cluster, Snapshot, Unreadable, Vpc
from netwarden.core.shard import MAX_SHARDS, Scope, Shard, coverage, restrict, shard_of
from netwarden.entrypoints.job import read_environment
from netwarden.entrypoints.wiring import owns_nothing, shard_settings

VPCS = [f"vpc-{i:02d}" for i in range(12)]


@pytest.mark.parametrize("size", [1, 2, 4, 7, 100, MAX_SHARDS])
def test_every_name_lands_in_exactly_one_shard(size: int) -> None:
    names = [f"prod-vpc-{i}" for i in range(60)]
    owners = {name: [i for i in range(size) if Shard(i, size).owns(name)] for name in names}
    assert all(len(o) == 1 for o in owners.values())
    union = [n for i in range(size) for n in Shard(i, size).select(names)]
    assert sorted(union) == sorted(names)


def test_four_shards_over_twelve_vpcs_partition_them() -> None:
    parts = [Shard(i, 4).select(VPCS) for i in range(4)]
    assert sorted(n for p in parts for n in p) == sorted(VPCS)
    assert sum(len(p) for p in parts) == 12


def test_assignment_is_stable_across_processes() -> None:
    """Python's str hash changes with PYTHONHASHSEED; the shard of a name must not."""
    cases = [("prod-vpc", 4), ("us-south", 10), ("cluster-a", 1000)]
    code = f"from netwarden.core.shard import shard_of; print([shard_of(n, s) for n, s in {cases!r}])"
    expected = str([shard_of(n, s) for n, s in cases])
    for seed in ("1", "12345"):
        out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                             env={"PYTHONHASHSEED": seed, "PATH": ""})
        assert out.stdout.strip() == expected


def test_known_values_do_not_drift() -> None:
    # sha256("prod-vpc")[:8] big-endian, modulo: a change of hash would silently move every shard.
    import hashlib
    n = int.from_bytes(hashlib.sha256(b"prod-vpc").digest()[:8], "big")
    assert [shard_of("prod-vpc", s) for s in (1, 2, 3, 1000)] == [0, n % 2, n % 3, n % 1000]


def test_adding_a_name_moves_no_other_name() -> None:
    before = {n: shard_of(n, 8) for n in VPCS}
    after = {n: shard_of(n, 8) for n in [*VPCS, "new-vpc"]}
    assert all(after[n] == before[n] for n in VPCS)


@pytest.mark.parametrize(("index", "size"), [(0, 0), (-1, 4), (4, 4), (0, MAX_SHARDS + 1)])
def test_invalid_shards_are_refused(index: int, size: int) -> None:
    with pytest.raises(ValueError, match="must be between"):
        Shard(index, size)


def test_select_keeps_order_and_drops_duplicates() -> None:
    assert Shard(0, 1).select(["b", "a", "b"]) == ("b", "a")
    assert Shard(0, 1).label == "0-of-1" and not Shard(0, 1).sharded and Shard(3, 8).sharded


def _snapshot() -> Snapshot:
    return Snapshot(
        vpcs=(Vpc("us-south", "a"), Vpc("us-south", "b"), Vpc("eu-de", "a")),
        clusters=(Cluster("c1"), Cluster("c2")),
        unreadable=(Unreadable("us-south/b", "x"), Unreadable("eu-de", "y"), Unreadable("k8s/c2", "z")),
    )


@pytest.mark.parametrize(("scope", "vpcs", "clusters", "unreadable"), [
    (Scope(), ["us-south/a", "us-south/b", "eu-de/a"], ["c1", "c2"], ["us-south/b", "eu-de", "k8s/c2"]),
    (Scope(vpcs=("a",)), ["us-south/a", "eu-de/a"], ["c1", "c2"], ["eu-de", "k8s/c2"]),
    (Scope(regions=("eu-de",), clusters=("c1",)), ["eu-de/a"], ["c1"], ["eu-de"]),
    (Scope(regions=(), vpcs=(), clusters=()), [], [], []),
])
def test_restrict_cuts_a_snapshot_to_a_scope(scope: Scope, vpcs: list[str], clusters: list[str],
                                            unreadable: list[str]) -> None:
    cut = restrict(_snapshot(), scope)
    assert [v.scope for v in cut.vpcs] == vpcs
    assert [c.name for c in cut.clusters] == clusters
    assert [u.scope for u in cut.unreadable] == unreadable


# --- what one shard of the job runs with -----------------------------------------------------------------

REGIONS = ("us-south", "us-east", "eu-de", "eu-gb", "jp-tok", "au-syd")
CLUSTERS = tuple(ClusterSettings(f"cluster-{i}", server=f"http://k8s/{i}") for i in range(5))


#: A finding's resource in each configured VPC of each region, and in each cluster.
RESOURCES = (*(ResourceRef("subnet", region=r, vpc=v, subnet="s") for r in REGIONS for v in VPCS),
             *(ResourceRef("network-policy", cluster=c.name, namespace="ns", name="np") for c in CLUSTERS))


@pytest.mark.parametrize("vpcs", [None, tuple(VPCS)], ids=["by-region", "by-vpc-name"])
def test_shard_settings_partition_the_scope(vpcs: tuple[str, ...] | None) -> None:
    settings = Settings(ibmcloud=IbmCloudSettings(regions=REGIONS, vpcs=vpcs), clusters=CLUSTERS,
                        state="cos://bucket/state?region=us-south")
    units: list[str] = []
    clusters: list[str] = []
    owners: dict[ResourceRef, int] = {}
    for i in range(4):
        shard = Shard(i, 4)
        mine, scope = shard_settings(settings, shard)
        assert mine.state == settings.state, "every shard keeps the deployment's one state"
        for resource in RESOURCES:
            owners[resource] = owners.get(resource, 0) + covered(resource, coverage(scope, REGIONS))
        clusters += [c.name for c in mine.clusters]
        assert scope.clusters == tuple(c.name for c in mine.clusters)
        if mine.ibmcloud is None:
            assert (scope.vpcs if vpcs else scope.regions) == ()
            continue
        if vpcs:
            assert mine.ibmcloud.regions == REGIONS and scope.vpcs == mine.ibmcloud.vpcs
            units += mine.ibmcloud.vpcs or ()
        else:
            assert mine.ibmcloud.vpcs is None and scope.regions == mine.ibmcloud.regions
            units += mine.ibmcloud.regions
    assert sorted(units) == sorted(vpcs or REGIONS)
    assert sorted(clusters) == sorted(c.name for c in CLUSTERS)
    assert owners == dict.fromkeys(RESOURCES, 1), "each resource is resolved by exactly one shard"


def test_an_unsharded_run_keeps_everything() -> None:
    settings = Settings(ibmcloud=IbmCloudSettings(regions=REGIONS), clusters=CLUSTERS)
    assert shard_settings(settings, Shard(0, 1)) == (settings, Scope())


def test_a_shard_that_draws_nothing_owns_nothing() -> None:
    settings = Settings(ibmcloud=IbmCloudSettings(regions=("us-south",)))
    owners = [i for i in range(8) if not owns_nothing(shard_settings(settings, Shard(i, 8))[0])]
    assert owners == [shard_of("us-south", 8)]


@pytest.mark.parametrize(("env", "kind", "shard"), [
    ({}, "scan", Shard(0, 1)),
    ({"CE_TYPE": "dev.knative.sources.ping", "JOB_INDEX": "3", "JOB_ARRAY_SIZE": "8"}, "scan", Shard(3, 8)),
    ({"CE_TYPE": "dev.knative.kafka.event", "CE_DATA": "{}", "JOB_INDEX": "0"}, "event", Shard(0, 1)),
    ({"JOB_INDEX": "999", "JOB_ARRAY_SIZE": "1000"}, "scan", Shard(999, 1000)),
])
def test_read_environment(env: dict[str, str], kind: str, shard: Shard) -> None:
    run = read_environment(env)
    assert (run.kind, run.shard) == (kind, shard)
