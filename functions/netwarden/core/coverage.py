"""What a run read: the part of the estate where a finding it did not find is gone.

A finding is resolved only by a run that looked where it was. A full scan looks everywhere; a shard of
an array job, an Activity Tracker event's targeted check and the watcher's re-read of one cluster each
look at part of the estate, and say which part as ``Coverage``: open findings elsewhere are left as
they are, for the run that reads them. Scopes are the snapshot's: ``us-south``, ``us-south/prod-vpc``,
``k8s/prod-cluster``, ``k8s/prod-cluster/accounts``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from netwarden.core.findings import ResourceRef


@dataclass(frozen=True, slots=True)
class Coverage:
    """A part of the estate a run read completely, so that an open finding there that the run did not
    find is resolved: the resources in ``scope`` (a snapshot scope: ``us-south``, ``us-south/prod-vpc``,
    ``k8s/prod-cluster``), of ``kinds`` when given, whose ``where`` fields (``("acl", "acl-a")``) match.

    A full scan covers everything (no coverage list at all); a shard covers its VPCs and clusters; an
    Activity Tracker event covers the one ACL, subnet or security group it re-read; the watcher covers
    the NetworkPolicies and namespaces of the cluster it re-read."""

    scope: str
    kinds: frozenset[str] | None = None
    where: tuple[tuple[str, str], ...] = ()

    def covers(self, resource: ResourceRef) -> bool:
        if not in_scopes(resource, (self.scope,)):
            return False
        if self.kinds is not None and resource.kind not in self.kinds:
            return False
        return all(getattr(resource, name, None) == value for name, value in self.where)


def covered(resource: ResourceRef, checked: Sequence[Coverage] | None) -> bool:
    """Whether a run that read ``checked`` (None: everything) saw ``resource``'s whole part."""
    return checked is None or any(c.covers(resource) for c in checked)


def scope_of(resource: ResourceRef) -> str:
    """The snapshot scope a resource lives in: ``k8s/<cluster>[/<namespace>]`` or ``<region>/<vpc>``."""
    if resource.cluster is not None:
        return "/".join(p for p in ("k8s", resource.cluster, resource.namespace) if p)
    return "/".join(p for p in (resource.region, resource.vpc) if p)


def in_scopes(resource: ResourceRef, scopes: Sequence[str]) -> bool:
    scope = scope_of(resource)
    return any(scope == u or scope.startswith(u + "/") for u in scopes)
