"""Use-case: take a live snapshot of everything in scope.

Reads the VPC side and the Kubernetes side through their ports and joins them into one Snapshot.
What either side could not read is carried as ``unreadable``, never dropped: a scope that failed is
not a scope that is empty. The snapshot also says what the readers were configured to cover
(``Snapshot.scope``): a side with no reader covers nothing, so the check sets the baseline's part of it
aside as out of scope rather than reporting it missing.
"""

from __future__ import annotations

import logging

from netwarden.core.model import Snapshot
from netwarden.core.ports import KubeRead, KubeReader, VpcRead, VpcReader
from netwarden.core.scope import ReadScope

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
        scope=covered(vpc_read, kube_read),
    )


def covered(vpc_read: VpcRead | None, kube_read: KubeRead | None) -> ReadScope:
    """The scope of both reads together: no read covers nothing; a read that does not say, everything."""
    if vpc_read is None:
        regions: tuple[str, ...] | None = ()
        vpcs: tuple[str, ...] | None = ()
    else:
        regions = vpc_read.scope.regions if vpc_read.scope else None
        vpcs = vpc_read.scope.vpcs if vpc_read.scope else None
    clusters = {} if kube_read is None else (kube_read.scope.clusters if kube_read.scope else None)
    return ReadScope(regions=regions, vpcs=vpcs, clusters=clusters)
