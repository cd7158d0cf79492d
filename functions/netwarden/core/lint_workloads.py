"""The gateway recipe's rule for pinned workloads, checked over a baseline (``core.lint`` runs it).

``workload-egress-pin``: a workload that ``workloads.yaml`` says needs public egress must be pinned to
a subnet of the baseline's VPCs (the worker subnets; a subnet of another zone or VPC has none of the
cluster's workers to run it) that has a public gateway: pinned anywhere else, its pods have no path to
the internet. That only one subnet has a gateway is ``public-gateway-count``'s check.
"""

from __future__ import annotations

from collections.abc import Iterator

from netwarden.core.lint_findings import LintFinding, workload_subject
from netwarden.core.model import Snapshot


def lint_pins(snapshot: Snapshot) -> Iterator[LintFinding]:
    subnets = {s.name: s for vpc in snapshot.vpcs for s in vpc.subnets}
    for cluster in snapshot.clusters:
        for pin in cluster.egress:
            subject = workload_subject(cluster.name, pin.namespace, pin.name)
            subnet = subnets.get(pin.subnet)
            if subnet is None:
                yield LintFinding("workload-egress-pin", f"workload {pin.key} is pinned for public egress to subnet "
                                  f"{pin.subnet}, which is not a subnet of the baseline's VPCs: no worker of the "
                                  "cluster is there to run it", subject)
            elif subnet.public_gateway is None:
                yield LintFinding("workload-egress-pin", f"workload {pin.key} is pinned for public egress to subnet "
                                  f"{pin.subnet}, which has no public gateway: its pods would not reach the "
                                  "internet; pin it to the subnet with the gateway", subject)
