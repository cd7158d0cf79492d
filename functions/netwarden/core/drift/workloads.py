"""The gateway recipe's pinned workloads, checked: their affinity, where their pods run, and who a gateway serves.

The baseline says which workloads need public egress and the subnet (with the public gateway) they
are pinned to (``EgressPin``); the live cluster says what each workload's pod template admits and
where its pods run (``Workload``). Two findings follow, one per workload and cause:

* ``workload-affinity-changed``: a pinned workload admits another subnet than its pin, none at all
  (the affinity was removed: its pods may run anywhere), or is gone. Where its pods now run is part of
  the message: the affinity is the cause, so it is not a second finding;
* ``workload-off-gateway``: the affinity is as pinned but pods run elsewhere (scheduled before the
  affinity was set, or the pin is not what the scheduler reads), or pods of a workload the baseline
  does not pin run on a subnet an ``exclusive`` pin keeps for pinned workloads.

Against a state that is itself a baseline (pins, no workloads read) the pins are compared as they are.

Neither is remediated by default: a workload's spec belongs to its owners. ``gateway_workloads`` adds to a
gateway finding's impact the workloads that lose or gain the internet with it.
"""

from __future__ import annotations

from collections.abc import Iterator

from netwarden.core.findings import Finding, Impact, ResourceRef, make
from netwarden.core.model import Cluster, EgressPin, Snapshot, Workload
from netwarden.core.workloads import subnet_named, subnet_text

AFFINITY_LABEL = "ibm-cloud.kubernetes.io/subnet-id"


def workload_findings(base: Cluster, live_cluster: Cluster, live: Snapshot, checked: set[str]) -> Iterator[Finding]:
    """The findings of ``base``'s pins against the live cluster (and the live VPCs, for the subnet ids).
    ``checked``: the subnets of the baseline's VPCs in the read's scope; a pin to a subnet outside it is
    not checked (the scope's note says what was left out)."""
    if live_cluster.egress and not live_cluster.workloads:  # the other side is a baseline too: pin against pin
        yield from _pins_against_pins(base, live_cluster)
        return
    workloads = {(w.namespace, w.name): w for w in live_cluster.workloads}
    kept: dict[str, EgressPin] = {}
    pinned = {(p.namespace, p.name) for p in base.egress}
    for pin in base.egress:
        if pin.subnet not in checked:
            continue
        ref = ResourceRef("workload", cluster=base.name, namespace=pin.namespace, name=pin.name)
        subnet = subnet_named(live, live_cluster, pin.subnet)
        want = {"subnet": pin.subnet, "exclusive": pin.exclusive}
        workload = workloads.get((pin.namespace, pin.name))
        if workload is None:
            yield make("workload-affinity-changed", ref, f"workload {pin.key}, pinned to {pin.subnet} for public "
                       "egress, is not in the cluster", baseline=want, live={"exists": False})
            continue
        if subnet is None or subnet.id is None:
            yield make("workload-affinity-changed", ref, f"workload {pin.key} is pinned to subnet {pin.subnet}, "
                       "which is not in the live VPC: its affinity cannot point at it", baseline=want,
                       live=_live(live, workload))
            continue
        want["subnet_id"] = subnet.id
        if pin.exclusive:
            kept[subnet.id] = pin
        if workload.subnets != (subnet.id,):
            yield make("workload-affinity-changed", ref, _affinity_text(live, pin, workload), baseline=want,
                       live=_live(live, workload))
            continue
        off = [s for s in workload.running if s != subnet.id]
        if off:
            yield make("workload-off-gateway", ref, f"pods of {workload.kind} {pin.key} run on "
                       f"{_subnets(live, off)}, not on {pin.subnet}, the subnet with the public gateway it is "
                       "pinned to", baseline=want, live=_live(live, workload))
    for workload in live_cluster.workloads:
        if (workload.namespace, workload.name) in pinned:
            continue
        on = [s for s in workload.running if s in kept]
        if on:
            ref = ResourceRef("workload", cluster=base.name, namespace=workload.namespace, name=workload.name)
            names = ", ".join(sorted({kept[s].subnet for s in on}))
            yield make("workload-off-gateway", ref, f"pods of {workload.kind} {workload.key} run on {names}, the "
                       "gateway subnet the baseline keeps for its pinned workloads: they have public egress",
                       baseline={"pinned": False, "exclusive_subnets": sorted({kept[s].subnet for s in on})},
                       live=_live(live, workload))


def _pins_against_pins(base: Cluster, other: Cluster) -> Iterator[Finding]:
    """Two baselines compared (a rollback target, a snapshot of a baseline): the pins themselves."""
    theirs = {(p.namespace, p.name): p for p in other.egress}
    for pin in base.egress:
        found = theirs.get((pin.namespace, pin.name))
        if found is None or found.subnet != pin.subnet:
            ref = ResourceRef("workload", cluster=base.name, namespace=pin.namespace, name=pin.name)
            now = f"pinned to {found.subnet}" if found is not None else "not pinned"
            yield make("workload-affinity-changed", ref, f"workload {pin.key} is {now} instead of {pin.subnet}",
                       baseline={"subnet": pin.subnet}, live={"subnet": found.subnet if found else None})


def _affinity_text(live: Snapshot, pin: EgressPin, workload: Workload) -> str:
    where = f"; its pods run on {_subnets(live, workload.running)}" if workload.running else ""
    if workload.subnets is None:
        return (f"{workload.kind} {pin.key} lost its node affinity on {AFFINITY_LABEL}: its pods may run on any "
                f"worker subnet, not only on {pin.subnet}, the one with the public gateway{where}")
    admitted = _subnets(live, workload.subnets) if workload.subnets else "no subnet"
    return f"{workload.kind} {pin.key} is pinned to {admitted} instead of {pin.subnet}{where}"


def _subnets(live: Snapshot, ids: tuple[str, ...] | list[str]) -> str:
    return ", ".join(subnet_text(live, s) for s in ids)


def _live(live: Snapshot, workload: Workload) -> dict[str, object]:
    return {"kind": workload.kind,
            "subnets": None if workload.subnets is None else [subnet_text(live, s) for s in workload.subnets],
            "running": [subnet_text(live, s) for s in workload.running]}


# --- the gateway findings' impact ----------------------------------------------------------------


def gateway_workloads(impact: Impact, code: str, subnet: str, baseline: Snapshot, live: Snapshot) -> Impact:
    """``impact`` of a gateway finding on ``subnet`` with the workloads it concerns: for a detached gateway
    those pinned to the subnet lose the internet (breakage) and those running there lose it too; for an
    attached one those running there gain it."""
    if code == "gateway-changed":
        return impact
    running = []
    for cluster in live.clusters:  # the subnet resolved once per cluster, not once per workload
        found = subnet_named(live, cluster, subnet)
        if found is not None:
            running += [f"{cluster.name}/{w.key}" for w in cluster.workloads if found.id in w.running]
    if code == "gateway-attached":
        if not running:
            return impact
        return Impact(impact.exposure, impact.examples, impact.breakage,
                      _joined(impact.summary, f"workloads that now have public egress: {', '.join(running)}"))
    pinned = [f"{c.name}/{p.key}" for c in baseline.clusters for p in c.egress if p.subnet == subnet]
    losing = pinned + [w for w in running if w not in pinned]
    if not losing:
        return impact
    lost = tuple(f"public egress of workload {w}" + (" (pinned to this subnet for it)" if w in pinned else "")
                 for w in losing)
    summary = _joined(impact.summary, f"workloads that lose the internet: {', '.join(losing)}")
    return Impact(impact.exposure, impact.examples, (*impact.breakage, *lost), summary)


def _joined(summary: str | None, more: str) -> str:
    return f"{summary}; {more}" if summary else more
