"""The VPC emulator's VPCs: create (with the default ACL and default security group every new VPC
gets), rename, delete.

Apart from ``models`` (the tables and shared checks) because a new VPC needs ``models_acl``'s default
ACL and ``models_sg_groups``' default security group, and both need ``models``: here all are imported,
and none imports this module. Deleting a VPC (delete_vpc docstring, ibm-vpc 0.36.0) needs it to hold no
subnets, public gateways or resources security groups are bound to (instances' network interfaces,
endpoint gateways, load balancers), and deletes its network ACLs and security groups with it.
"""

from __future__ import annotations

from typing import Any

from netwarden.fakes.vpc.exceptions import BadField, Conflict
from netwarden.fakes.vpc.models import Region, Vpc, check_name, random_name, reject_unknown
from netwarden.fakes.vpc.models_acl import default_acl
from netwarden.fakes.vpc.models_sg_groups import default_group, delete_groups_of_vpc
from netwarden.fakes.vpc.models_sg_targets import targets_of_vpc


def create_vpc(region: Region, body: dict[str, Any]) -> Vpc:
    reject_unknown(body, {"address_prefix_management", "classic_access", "dns", "name", "resource_group"})
    name = check_name(body["name"]) if body.get("name") is not None else random_name()
    region.unique_name(name, [v.name for v in region.vpcs.values()], "VPC")
    group = region.cloud.resource_group(body.get("resource_group"))
    classic = body.get("classic_access", False)
    if not isinstance(classic, bool):
        raise BadField("classic_access must be true or false", field="classic_access", value=classic)
    pinned = region.pinned_vpc_ids.pop(name, "")
    vpc = Vpc(pinned or region.new_id(), name, group.id, default_acl_id="", default_routing_table_id=region.new_id(),
              default_security_group_id=region.new_id(), classic_access=classic)
    acl = default_acl(region, vpc)
    vpc.default_acl_id = acl.id
    region.vpcs[vpc.id] = vpc
    region.acls[acl.id] = acl
    region.security_groups[vpc.default_security_group_id] = default_group(region, vpc)
    return vpc


def update_vpc(region: Region, vpc_id: str, body: dict[str, Any]) -> Vpc:
    vpc = region.vpc(vpc_id)
    reject_unknown(body, {"name", "dns"})
    if body.get("name") is not None:
        name = check_name(body["name"])
        region.unique_name(name, [v.name for v in region.vpcs.values() if v.id != vpc.id], "VPC")
        vpc.name = name
    return vpc


def delete_vpc(region: Region, vpc_id: str) -> Vpc:
    """A VPC with subnets, public gateways or security group targets cannot be deleted; its ACLs and
    security groups go with it."""
    vpc = region.vpc(vpc_id)
    if any(s.vpc_id == vpc.id for s in region.subnets.values()):
        raise Conflict(f"VPC {vpc.id} still has subnets")
    if any(g.vpc_id == vpc.id for g in region.gateways.values()):
        raise Conflict(f"VPC {vpc.id} still has public gateways")
    if targets_of_vpc(region, vpc.id):
        raise Conflict(f"VPC {vpc.id} still has resources that security groups are bound to")
    for acl_id in [a.id for a in region.acls.values() if a.vpc_id == vpc.id]:
        del region.acls[acl_id]
    delete_groups_of_vpc(region, vpc.id)
    del region.vpcs[vpc.id]
    return vpc
