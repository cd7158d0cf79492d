"""What a public gateway finding does to traffic: the egress to the internet it opens or takes away.

A public gateway is the workers' only path to the internet, so attaching one opens, and detaching one
takes away, whatever the subnet's ACL and the workers' security groups together let out to a public
address. ``core.drift.impact`` calls it with the ACL flows it has already computed and the security
group layer of the subnet (``core.reach.sg_flows``; None where there is none).
"""

from __future__ import annotations

from collections.abc import Callable

from netwarden.core.acl.evaluate import AclFlows, examples
from netwarden.core.findings import Impact
from netwarden.core.model import NetworkAcl, Vpc
from netwarden.core.reach.sg_flows import GroupFlows
from netwarden.core.reach.verdict import public


def gateway_impact(code: str, subnet: str, base_vpc: Vpc | None, live_vpc: Vpc | None, *,
                   flows: Callable[[NetworkAcl | None], AclFlows], groups: GroupFlows | None) -> Impact:
    base_sub = base_vpc.subnet(subnet) if base_vpc else None
    live_sub = live_vpc.subnet(subnet) if live_vpc else None
    cidr = (live_sub.cidr if live_sub else None) or (base_sub.cidr if base_sub else None)
    sub = live_sub if code != "gateway-detached" else base_sub
    vpc = live_vpc if code != "gateway-detached" else base_vpc
    acl = vpc.acl(sub.network_acl) if vpc and sub and sub.network_acl else None
    egress = flows(acl).for_subnet(cidr).outbound & public()
    gateway = (live_sub.public_gateway if live_sub else None) or (base_sub.public_gateway if base_sub else None)
    if code == "gateway-changed":
        return Impact("unchanged", summary=f"same egress path through another gateway ({gateway}): the "
                                           "workers' public source address changes")
    if not egress:
        return Impact("unchanged", summary="the subnet's ACL lets nothing out to the public internet")
    if groups is not None:
        egress &= groups.outbound
        if not egress:
            return Impact("unchanged", summary="the subnet's ACL lets traffic out to the public internet, but the "
                                               "workers' security groups let none of it out (outbound protection)")
    shown = examples(egress, within=egress)
    if code == "gateway-attached":
        return Impact("widened", shown, summary=f"the workers can now open connections to the internet "
                                                f"through public gateway {gateway}")
    return Impact("narrowed", shown, breakage=(f"egress to the public internet through public gateway {gateway}",),
                  summary="the workers lost their path to the internet")
