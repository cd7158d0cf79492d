"""The baseline cut to what the live read covered, and what was set aside: out of scope, not missing.

A baseline may hold more than one run reads: VPCs of a region ``ibmcloud.regions`` leaves out, VPCs
``ibmcloud.vpcs`` does not name, clusters ``kubernetes.clusters`` does not list, namespaces a cluster's
``namespaces`` does not manage. Compared with a live snapshot that never read them, every resource in
them would be "missing". ``split`` keeps the part of the baseline inside the live snapshot's
``scope`` (``core.scope.ReadScope``) and returns one ``OutOfScope`` per part it set aside (a region, a
VPC, a cluster or a namespace), never one per resource, for the report to show as a note.

The other way round, a configured cluster or VPC (named in ``ibmcloud.vpcs``) the baseline has no
folder for cannot be checked either: ``unbaselined`` names it as unreadable, so the check is incomplete
rather than in sync with nothing. A VPC read only because its region was (``ibmcloud.vpcs`` unset)
and that the baseline does not hold is not checked: ``unmanaged`` says so, one note per VPC.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from netwarden.core.model import Cluster, Snapshot, Unreadable
from netwarden.core.scope import ReadScope


@dataclass(frozen=True, slots=True)
class OutOfScope:
    """A part of the baseline the config does not select: ``kind`` region | vpc | cluster | namespace,
    ``scope`` as unreadable scopes are named (``us-south``, ``us-south/vpc``, ``k8s/c``, ``k8s/c/ns``),
    ``setting`` the config key that leaves it out."""

    kind: str
    scope: str
    setting: str
    name: str

    @property
    def message(self) -> str:
        return f"baseline {self.kind} {self.name} is outside the configured scope ({self.setting}): not checked"


def split(baseline: Snapshot, scope: ReadScope | None) -> tuple[Snapshot, tuple[OutOfScope, ...]]:
    """The part of ``baseline`` inside ``scope`` and the parts left out (``scope`` None: all of it, none)."""
    if scope is None:
        return baseline, ()
    notes: dict[str, OutOfScope] = {}
    vpcs = []
    for vpc in baseline.vpcs:
        if not scope.has_region(vpc.region):
            setting = "ibmcloud.regions" if scope.regions else "the config has no ibmcloud section"
            notes.setdefault(vpc.region, OutOfScope("region", vpc.region, setting, vpc.region))
        elif not scope.has_vpc(vpc.region, vpc.name):
            notes[vpc.scope] = OutOfScope("vpc", vpc.scope, "ibmcloud.vpcs", vpc.scope)
        else:
            vpcs.append(vpc)
    clusters = []
    for cluster in baseline.clusters:
        if not scope.has_cluster(cluster.name):
            setting = "kubernetes.clusters" if scope.clusters else "the config has no kubernetes section"
            notes[cluster.scope] = OutOfScope("cluster", cluster.scope, setting, cluster.name)
            continue
        kept, left_out = _namespaces(cluster, scope)
        for namespace in left_out:
            notes[f"{cluster.scope}/{namespace}"] = OutOfScope(
                "namespace", f"{cluster.scope}/{namespace}", f"kubernetes.clusters[{cluster.name}].namespaces",
                f"{cluster.name}/{namespace}")
        clusters.append(kept)
    inside = replace(baseline, vpcs=tuple(vpcs), clusters=tuple(clusters))
    return inside, tuple(notes[key] for key in sorted(notes))


def _namespaces(cluster: Cluster, scope: ReadScope) -> tuple[Cluster, list[str]]:
    """``cluster`` with only its managed namespaces (their labels, policies, pods and pins), and the others."""
    names = {n.name for n in cluster.namespaces} | {p.namespace for p in cluster.policies} | {
        p.namespace for p in cluster.pods} | {p.namespace for p in cluster.egress}
    left_out = sorted(n for n in names if not scope.has_namespace(cluster.name, n))
    if not left_out:
        return cluster, []
    out = set(left_out)
    return replace(cluster, namespaces=tuple(n for n in cluster.namespaces if n.name not in out),
                   policies=tuple(p for p in cluster.policies if p.namespace not in out),
                   pods=tuple(p for p in cluster.pods if p.namespace not in out),
                   egress=tuple(p for p in cluster.egress if p.namespace not in out)), left_out


def unbaselined(baseline: Snapshot, live: Snapshot) -> tuple[Unreadable, ...]:
    """The configured clusters, and the VPCs ``ibmcloud.vpcs`` names, the baseline has no folder for (and
    that were not unreadable already)."""
    if live.scope is None:
        return ()
    out: list[Unreadable] = []
    if live.scope.vpcs is not None:
        held = {v.scope for v in baseline.vpcs}
        out.extend(Unreadable(v.scope, f"the baseline has no folder vpc/{v.scope}/: nothing to check it against")
                   for v in live.vpcs if v.scope not in held and v.name in live.scope.vpcs)
    known = {c.name for c in baseline.clusters}
    out.extend(Unreadable(f"k8s/{name}", f"the baseline has no folder kubernetes/{name}/: nothing to check it "
                          "against") for name in sorted(live.scope.clusters or ())
               if name not in known and not live.is_unreadable(f"k8s/{name}"))
    return tuple(out)


def unmanaged(baseline: Snapshot, live: Snapshot) -> tuple[str, ...]:
    """The scopes (``us-south/other-vpc``) of the live VPCs read because their region was, that the
    baseline does not hold: they are not checked."""
    if live.scope is None or live.scope.vpcs is not None:
        return ()
    held = {v.scope for v in baseline.vpcs}
    return tuple(sorted(v.scope for v in live.vpcs if v.scope not in held))
