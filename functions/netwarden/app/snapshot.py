"""Use-case: take a live snapshot of everything in scope.

Reads the VPC side and the Kubernetes side through their ports and joins them into one Snapshot.
What either side could not read is carried as ``unreadable``, never dropped: a scope that failed is
not a scope that is empty.
"""

from __future__ import annotations

import logging

from netwarden.core.model import Snapshot
from netwarden.core.ports import KubeReader, VpcReader

log = logging.getLogger(__name__)


def take(vpc: VpcReader | None, kube: KubeReader | None, *, taken_at: str | None = None) -> Snapshot:
    vpc_read = vpc.read_vpcs() if vpc is not None else None
    kube_read = kube.read_clusters() if kube is not None else None
    unreadable = (vpc_read.unreadable if vpc_read else ()) + (kube_read.unreadable if kube_read else ())
    for u in unreadable:
        log.warning("scope unreadable", extra={"scope": u.scope, "reason": u.reason})
    return Snapshot(
        vpcs=tuple(sorted(vpc_read.vpcs, key=lambda v: (v.region, v.name))) if vpc_read else (),
        clusters=tuple(sorted(kube_read.clusters, key=lambda c: c.name)) if kube_read else (),
        unreadable=tuple(sorted(unreadable, key=lambda u: u.scope)),
        taken_at=taken_at,
    )
