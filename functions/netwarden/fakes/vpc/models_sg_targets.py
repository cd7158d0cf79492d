"""Security group targets: the resources groups are bound to, and the bindings.

The emulator serves no instances, endpoint gateways or load balancers, so a target is a record made
only by the emulator's owner, never over HTTP: ``add_target`` registers one (as creating an instance
network interface, a virtual network interface, an endpoint gateway or a load balancer would) and
``remove_target`` takes it away (as deleting that resource would). Scenarios and tests call them on the
region, under ``FakeCloud.lock`` when the server is serving. The API's own calls bind and unbind.

Facts followed (ibm-vpc 0.36.0 ``create_security_group_target_binding``,
``delete_security_group_target_binding``, ``get_security_group_target`` docstrings; ibm-cloud-docs/vpc
``security-groups.md`` and ``quotas.md``): a group is bound only to targets of its own VPC; a target
has at most 5 groups (a service limit) and a group other than the VPC's default at most 1,000 targets
(a quota); a resource created without a group gets its VPC's default group; unbinding needs the target
to keep at least one other group; a target that is not a group's is not found in it. Binding a target
already bound answers 200 with the target (201 when it is new): that split is an assumption.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Sequence

from netwarden.fakes.vpc.exceptions import BadField, Conflict, NotFound, OverQuota
from netwarden.fakes.vpc.models import (
    MAX_SECURITY_GROUPS_PER_TARGET,
    MAX_TARGETS_PER_SECURITY_GROUP,
    Region,
    check_name,
    found,
    random_name,
)
from netwarden.fakes.vpc.models_sg import TARGET_KINDS, ZONAL_KINDS, SecurityGroup, SecurityGroupTarget
from netwarden.fakes.vpc.models_sg_groups import group

#: Addresses IBM keeps in every subnet: the first four (network, gateway, two reserved) and the last.
_RESERVED_LOW = 4


def target(region: Region, target_id: str) -> SecurityGroupTarget:
    return found(region.targets, target_id, "Security group target")


def targets_of(region: Region, sg_id: str) -> list[SecurityGroupTarget]:
    """The targets bound to a group, in the order they were registered."""
    return [t for t in region.targets.values() if sg_id in t.security_group_ids]


def targets_of_vpc(region: Region, vpc_id: str) -> list[SecurityGroupTarget]:
    return [t for t in region.targets.values() if t.vpc_id == vpc_id]


# --- the registry (not an API call) ----------------------------------------------------------------------


def add_target(region: Region, kind: str, *, vpc_id: str | None = None, subnet_id: str | None = None,
               name: str | None = None, security_group_ids: Sequence[str] | None = None) -> SecurityGroupTarget:
    """Register a target of ``kind`` (one of ``TARGET_KINDS``). Network interfaces (``network_interface``,
    ``virtual_network_interface``) need ``subnet_id`` and get the subnet's next free address; the others
    need ``vpc_id`` (or a subnet of the VPC). Bound to ``security_group_ids`` in that order, or to the VPC's
    default group when None. Raises ``ValueError`` for a call that cannot describe a target, and the API's
    errors (``NotFound``, ``BadField``, ``Conflict``, ``OverQuota``) for what IBM would refuse."""
    if kind not in TARGET_KINDS:
        raise ValueError(f"target kind {kind!r} is not one of {', '.join(TARGET_KINDS)}")
    subnet = region.subnet(subnet_id) if subnet_id is not None else None
    if kind in ZONAL_KINDS and subnet is None:
        raise ValueError(f"a {kind} target needs a subnet_id")
    if subnet is not None and vpc_id is not None and subnet.vpc_id != vpc_id:
        raise ValueError(f"subnet {subnet.id} is not in VPC {vpc_id}")
    vpc_id = subnet.vpc_id if subnet is not None else vpc_id
    if vpc_id is None:
        raise ValueError(f"a {kind} target needs a vpc_id")
    vpc = region.vpc(vpc_id)
    name = check_name(name) if name is not None else random_name()
    region.unique_name(name, [t.name for t in targets_of_vpc(region, vpc.id) if t.kind == kind],
                       kind.replace("_", " "))
    home = subnet if kind in ZONAL_KINDS else None
    new = SecurityGroupTarget(kind, region.new_id(home.zone if home is not None else None), name, vpc.id)
    if home is not None:
        new.subnet_id, new.subnet_name, new.zone = home.id, home.name, home.zone
        new.address, new.parent_id = _free_address(region, home.id, home.cidr), region.new_id(home.zone)
    wanted = [vpc.default_security_group_id] if security_group_ids is None else list(security_group_ids)
    for sg_id in dict.fromkeys(wanted):
        sg = group(region, sg_id)
        _check_binding(region, sg, new)
        new.security_group_ids = (*new.security_group_ids, sg.id)
    region.targets[new.id] = new
    return new


def remove_target(region: Region, target_id: str) -> SecurityGroupTarget:
    """Take a target away, as deleting its resource does: it leaves every group it was bound to."""
    return region.targets.pop(target(region, target_id).id)


def _free_address(region: Region, subnet_id: str, cidr: str) -> str:
    taken = {t.address for t in region.targets.values() if t.subnet_id == subnet_id}
    network = ipaddress.IPv4Network(cidr)
    for offset in range(_RESERVED_LOW, network.num_addresses - 1):
        address = str(network.network_address + offset)
        if address not in taken:
            return address
    raise Conflict(f"subnet {subnet_id} has no free address left")


# --- bindings (the API's calls) ----------------------------------------------------------------------------


def _check_binding(region: Region, sg: SecurityGroup, t: SecurityGroupTarget) -> None:
    if t.vpc_id != sg.vpc_id:
        raise BadField(f"target {t.id} is in VPC {t.vpc_id}, security group {sg.id} in VPC {sg.vpc_id}",
                       field="id", value=t.id, target_type="parameter")
    if len(t.security_group_ids) >= MAX_SECURITY_GROUPS_PER_TARGET:
        raise OverQuota(f"target {t.id} already has {MAX_SECURITY_GROUPS_PER_TARGET} security groups (limit)",
                        field="id", value=t.id, target_type="parameter")
    default = region.vpc(sg.vpc_id).default_security_group_id == sg.id
    if not default and len(targets_of(region, sg.id)) >= MAX_TARGETS_PER_SECURITY_GROUP:
        raise OverQuota(f"security group {sg.id} already has {MAX_TARGETS_PER_SECURITY_GROUP} targets (quota)")


def bind(region: Region, sg_id: str, target_id: str) -> tuple[SecurityGroupTarget, bool]:
    """``PUT /security_groups/{id}/targets/{target_id}``: the target, and whether the binding is new."""
    sg = group(region, sg_id)
    t = target(region, target_id)
    if sg.id in t.security_group_ids:
        return t, False
    _check_binding(region, sg, t)
    t.security_group_ids = (*t.security_group_ids, sg.id)
    return t, True


def bound_target(region: Region, sg_id: str, target_id: str) -> SecurityGroupTarget:
    """A target of the group (``GET``): one that exists but is not bound to it is not found in it."""
    sg = group(region, sg_id)
    t = target(region, target_id)
    if sg.id not in t.security_group_ids:
        raise NotFound(f"Security group target {t.id} is not a target of security group {sg.id}")
    return t


def unbind(region: Region, sg_id: str, target_id: str) -> SecurityGroupTarget:
    t = bound_target(region, sg_id, target_id)
    if len(t.security_group_ids) == 1:
        raise Conflict(f"target {t.id} must keep at least one security group: bind another before removing "
                       f"security group {sg_id}")
    t.security_group_ids = tuple(g for g in t.security_group_ids if g != sg_id)
    return t
