"""Array-job sharding: which part of the scope one Code Engine array instance owns.

Code Engine runs an array job as ``JOB_ARRAY_SIZE`` instances, each told its ``JOB_INDEX``. netwarden
splits the scope between them by name: every VPC name (or, when no VPC names are configured, every
region) and every cluster goes to exactly one shard, picked by a stable hash of the name. Stable
means the same shard on every run and every machine (never Python's per-process randomised
``hash()``), and independent of the other names, so adding a VPC moves no other VPC to another shard.

The scope has to be known before anything is read, which is why the units are configured names and
not whatever a listing returns. ``restrict`` cuts a snapshot (the baseline) down to one shard's
scope, so that a shard never reports the VPCs of its siblings as missing, and ``coverage`` says what
the shard read, so that it resolves only its own findings in the state every shard shares.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace

from netwarden.core.coverage import Coverage
from netwarden.core.model import Snapshot

#: Code Engine's largest array size (limits.md: "array size max 1000").
MAX_SHARDS = 1000


def shard_of(name: str, size: int) -> int:
    """The shard (0..size-1) that owns ``name``: the first 8 bytes of its SHA-256, modulo ``size``."""
    if size < 1:
        raise ValueError(f"a shard count must be at least 1, not {size}")
    digest = hashlib.sha256(name.encode("utf-8")).digest()
    return int.from_bytes(digest[:8], "big") % size


@dataclass(frozen=True, slots=True)
class Shard:
    """One instance of an array run: ``index`` of ``size``. ``Shard(0, 1)`` is an unsharded run."""

    index: int
    size: int

    def __post_init__(self) -> None:
        if not 1 <= self.size <= MAX_SHARDS:
            raise ValueError(f"the array size must be between 1 and {MAX_SHARDS}, not {self.size}")
        if not 0 <= self.index < self.size:
            raise ValueError(f"the index must be between 0 and {self.size - 1}, not {self.index}")

    @property
    def sharded(self) -> bool:
        return self.size > 1

    @property
    def label(self) -> str:
        """``3-of-8``: names the shard in logs and in its state keys."""
        return f"{self.index}-of-{self.size}"

    def owns(self, name: str) -> bool:
        return shard_of(name, self.size) == self.index

    def select(self, names: Iterable[str]) -> tuple[str, ...]:
        """The names this shard owns, in their given order, without duplicates."""
        seen: set[str] = set()
        out: list[str] = []
        for name in names:
            if name not in seen and self.owns(name):
                seen.add(name)
                out.append(name)
        return tuple(out)


@dataclass(frozen=True, slots=True)
class Scope:
    """What one run covers; ``None`` on an axis means "everything configured on that axis"."""

    regions: tuple[str, ...] | None = None
    vpcs: tuple[str, ...] | None = None
    clusters: tuple[str, ...] | None = None

    @property
    def empty(self) -> bool:
        """True when the run owns nothing at all (a shard that drew no names)."""
        vpc_side_empty = self.regions == () or self.vpcs == ()
        return vpc_side_empty and self.clusters == ()

    def has_vpc(self, region: str, name: str) -> bool:
        return (self.regions is None or region in self.regions) and (self.vpcs is None or name in self.vpcs)

    def has_cluster(self, name: str) -> bool:
        return self.clusters is None or name in self.clusters

    def has_scope(self, scope: str) -> bool:
        """For ``Unreadable.scope`` strings: ``region``, ``region/vpc`` or ``k8s/cluster``."""
        if scope.startswith("k8s/"):
            return self.has_cluster(scope[len("k8s/"):].split("/", 1)[0])
        region, _, rest = scope.partition("/")
        if self.regions is not None and region not in self.regions:
            return False
        vpc = rest.split("/", 1)[0]
        return not vpc or self.vpcs is None or vpc in self.vpcs


def restrict(snapshot: Snapshot, scope: Scope) -> Snapshot:
    """The part of ``snapshot`` inside ``scope``: what one shard compares its live state against."""
    return replace(
        snapshot,
        vpcs=tuple(v for v in snapshot.vpcs if scope.has_vpc(v.region, v.name)),
        clusters=tuple(c for c in snapshot.clusters if scope.has_cluster(c.name)),
        unreadable=tuple(u for u in snapshot.unreadable if scope.has_scope(u.scope)),
    )


def coverage(scope: Scope, regions: Sequence[str]) -> tuple[Coverage, ...]:
    """What a shard with ``scope`` reads, of the configured ``regions``: each of its VPCs in every
    region (VPC names are the unit when configured), else each of its regions, and its clusters."""
    if scope.vpcs is not None:
        vpc_side = tuple(Coverage(f"{region}/{vpc}") for region in regions for vpc in scope.vpcs)
    else:
        vpc_side = tuple(Coverage(region) for region in (regions if scope.regions is None else scope.regions))
    return (*vpc_side, *(Coverage(f"k8s/{cluster}") for cluster in scope.clusters or ()))
