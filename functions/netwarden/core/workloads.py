"""The gateway recipe's workloads: which subnet a name or an id is, and what a capture writes for them.

The recipe attaches a public gateway to one subnet and pins the workloads that need the internet to
it with a node affinity on ``ibm-cloud.kubernetes.io/subnet-id``: the affinity names the subnet's id,
the baseline names it by name (an id changes when a subnet is recreated, a name is what a reviewer
reads). Both sides meet here: ``subnet_named`` resolves a baseline's name in the live VPCs,
``subnet_of_id`` names a live id. ``as_baseline`` is the live state as ``baseline capture`` writes
it: the pods of a Deployment, StatefulSet or DaemonSet become one workload entry, and a workload
pinned to exactly one subnet that has a public gateway is written as needing public egress there.
"""

from __future__ import annotations

from dataclasses import replace

from netwarden.core.model import Cluster, EgressPin, Pod, Snapshot, Subnet, Workload


def subnet_named(snapshot: Snapshot, cluster: Cluster, name: str) -> Subnet | None:
    """The live subnet ``name`` of the VPC the cluster's workers are in (else of any VPC)."""
    found = [s for vpc in snapshot.vpcs for s in vpc.subnets if s.name == name]
    workers = set(cluster.worker_subnets)
    return next((s for s in found if s.id in workers), found[0] if found else None)


def subnet_of_id(snapshot: Snapshot, subnet_id: str) -> Subnet | None:
    return next((s for vpc in snapshot.vpcs for s in vpc.subnets if s.id == subnet_id), None)


def subnet_text(snapshot: Snapshot, subnet_id: str) -> str:
    """A subnet id as a reader wants it: its name, with the id."""
    found = subnet_of_id(snapshot, subnet_id)
    return f"{found.name} ({subnet_id})" if found is not None else subnet_id


def as_baseline(live: Snapshot) -> Snapshot:
    """``live`` as a baseline holds it: each workload's pods as one entry named after it, and the public
    egress pins its affinities and gateways show."""
    return replace(live, clusters=tuple(_cluster(live, c) for c in live.clusters))


def _cluster(live: Snapshot, cluster: Cluster) -> Cluster:
    owned: dict[tuple[str, str], Workload] = {(w.namespace, p): w for w in cluster.workloads for p in w.pods}
    pods: dict[tuple[str, str], Pod] = {}
    for pod in cluster.pods:
        workload = owned.get((pod.namespace, pod.name))
        if workload is None:
            pods.setdefault((pod.namespace, pod.name), Pod(pod.namespace, pod.name, pod.labels, pod.ports))
        else:
            pods.setdefault((workload.namespace, workload.name),
                            Pod(workload.namespace, workload.name, workload.labels, pod.ports))
    pins = []
    for workload in cluster.workloads:
        subnet = subnet_of_id(live, workload.subnets[0]) if workload.subnets and len(workload.subnets) == 1 else None
        if subnet is not None and subnet.public_gateway:
            pins.append(EgressPin(workload.namespace, workload.name, subnet.name))
    return replace(cluster, pods=tuple(sorted(pods.values(), key=lambda p: (p.namespace, p.name))),
                   workloads=(), egress=tuple(pins))
