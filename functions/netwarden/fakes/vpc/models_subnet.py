"""Subnets and public gateways, and what ties them to network ACLs.

Every subnet has exactly one ACL (the VPC's default unless the request names one), and the ACL's
``subnets`` list is computed from the subnets, so the two can never disagree. A subnet has at most one
public gateway, which must be of the same VPC and zone; a VPC has at most one gateway per zone; a
gateway still attached to a subnet cannot be deleted. Attaching and detaching go through
``PUT``/``DELETE /subnets/{id}/public_gateway``, ``PUT /subnets/{id}/network_acl``, or a ``PATCH
/subnets/{id}`` that names ``network_acl`` or ``public_gateway`` (``null`` detaches the gateway).

A subnet created by address count gets the first free block of its size in the zone's default
address prefix (``10.240.0.0/18``, ``10.240.64.0/18``, ``10.240.128.0/18`` for zones 1, 2, 3).
"""

from __future__ import annotations

import ipaddress
from typing import Any

from netwarden.fakes.vpc.exceptions import BadField, Conflict, MissingField, NotFound, OverQuota
from netwarden.fakes.vpc.models import (
    MAX_SUBNETS_PER_VPC,
    Gateway,
    Region,
    Subnet,
    body_object,
    check_name,
    identity_id,
    random_name,
    reject_unknown,
)

_SUBNET_FIELDS = {"ipv4_cidr_block", "total_ipv4_address_count", "vpc", "zone", "name", "network_acl",
                  "public_gateway", "resource_group", "routing_table", "ip_version"}


def zone_of(region: Region, identity: Any, field_name: str = "zone") -> str:
    """A zone identity (``{"name"}`` or ``{"href"}``) -> the zone name, checked against the region."""
    if not isinstance(identity, dict):
        raise BadField(f"{field_name} must be a zone identity {{'name'}}", field=field_name)
    name = identity.get("name") or identity_id({"href": identity.get("href")}, field_name)
    if name not in region.zones:
        raise BadField(f"zone {name!r} is not a zone of region {region.name}", field=f"{field_name}.name", value=name)
    return str(name)


def _zone_prefix(zone: str) -> ipaddress.IPv4Network:
    index = int(zone.rsplit("-", 1)[-1]) - 1
    return ipaddress.IPv4Network(f"10.240.{64 * index}.0/18")


def _free_block(region: Region, vpc_id: str, zone: str, count: Any) -> str:
    if not isinstance(count, int) or isinstance(count, bool) or count < 8 or count & (count - 1):
        raise BadField("total_ipv4_address_count must be a power of two, at least 8",
                       field="total_ipv4_address_count", value=count)
    prefix = 32 - (count.bit_length() - 1)
    taken = [ipaddress.IPv4Network(s.cidr) for s in region.subnets.values() if s.vpc_id == vpc_id]
    for block in _zone_prefix(zone).subnets(new_prefix=prefix):
        if not any(block.overlaps(t) for t in taken):
            return str(block)
    raise Conflict(f"no free block of {count} addresses left in zone {zone}", field="total_ipv4_address_count")


def _cidr(value: Any) -> ipaddress.IPv4Network:
    try:
        net = ipaddress.ip_network(str(value), strict=True)
    except ValueError as e:
        raise BadField(f"ipv4_cidr_block {value!r} is not a valid CIDR block", field="ipv4_cidr_block",
                       value=value) from e
    if net.version != 4 or not 9 <= net.prefixlen <= 29:
        raise BadField("ipv4_cidr_block must be an IPv4 block from /9 to /29", field="ipv4_cidr_block", value=value)
    return net


def create_subnet(region: Region, body: Any) -> Subnet:
    body = body_object(body)
    reject_unknown(body, _SUBNET_FIELDS)
    if body.get("vpc") is None:
        raise MissingField("vpc is required", field="vpc")
    vpc = region.vpc(region.referenced("vpc", body["vpc"], "vpc"))
    in_vpc = [s for s in region.subnets.values() if s.vpc_id == vpc.id]
    if len(in_vpc) >= MAX_SUBNETS_PER_VPC:
        raise OverQuota(f"VPC {vpc.id} already has {MAX_SUBNETS_PER_VPC} subnets (quota)")
    if body.get("zone") is None:
        raise MissingField("zone is required", field="zone")
    zone = zone_of(region, body["zone"])
    if body.get("ipv4_cidr_block") is not None:
        net = _cidr(body["ipv4_cidr_block"])
        clash = next((s for s in in_vpc if ipaddress.IPv4Network(s.cidr).overlaps(net)), None)
        if clash is not None:
            raise Conflict(f"ipv4_cidr_block {net} overlaps subnet {clash.name} ({clash.cidr})",
                           field="ipv4_cidr_block", value=str(net))
        cidr = str(net)
    elif body.get("total_ipv4_address_count") is not None:
        cidr = _free_block(region, vpc.id, zone, body["total_ipv4_address_count"])
    else:
        raise MissingField("ipv4_cidr_block or total_ipv4_address_count is required", field="ipv4_cidr_block")
    name = check_name(body["name"]) if body.get("name") is not None else random_name()
    region.unique_name(name, [s.name for s in in_vpc], "subnet")
    acl_id = vpc.default_acl_id
    if body.get("network_acl") is not None:
        acl_id = _acl_for(region, vpc.id, body["network_acl"], "network_acl")
    group = region.cloud.resource_group(body.get("resource_group"))
    subnet = Subnet(region.new_id(zone), name, vpc.id, zone, cidr, acl_id, group.id)
    if body.get("public_gateway") is not None:
        subnet.gateway_id = _gateway_for(region, subnet, body["public_gateway"], "public_gateway")
    region.subnets[subnet.id] = subnet
    return subnet


def _acl_for(region: Region, vpc_id: str, identity: Any, field_name: str) -> str:
    acl = region.acl(region.referenced("network_acl", identity, field_name))
    if acl.vpc_id != vpc_id:
        raise BadField(f"network ACL {acl.id} belongs to another VPC", field=f"{field_name}.id", value=acl.id)
    return acl.id


def _gateway_for(region: Region, subnet: Subnet, identity: Any, field_name: str) -> str:
    gateway = region.gateway(region.referenced("public_gateway", identity, field_name))
    if gateway.vpc_id != subnet.vpc_id:
        raise BadField(f"public gateway {gateway.id} belongs to another VPC", field=f"{field_name}.id",
                       value=gateway.id)
    if gateway.zone != subnet.zone:
        raise BadField(f"public gateway {gateway.id} is in zone {gateway.zone}, the subnet in {subnet.zone}",
                       field=f"{field_name}.id", value=gateway.id)
    return gateway.id


def update_subnet(region: Region, subnet_id: str, body: Any) -> Subnet:
    """``PATCH /subnets/{id}``: validated whole, then applied."""
    subnet = region.subnet(subnet_id)
    body = body_object(body)
    reject_unknown(body, {"name", "network_acl", "public_gateway", "routing_table"})
    name = subnet.name
    if body.get("name") is not None:
        name = check_name(body["name"])
        region.unique_name(name, [s.name for s in region.subnets.values()
                                  if s.vpc_id == subnet.vpc_id and s.id != subnet.id], "subnet")
    acl_id = subnet.acl_id
    if "network_acl" in body:
        if body["network_acl"] is None:
            raise BadField("network_acl cannot be null: every subnet has a network ACL", field="network_acl")
        acl_id = _acl_for(region, subnet.vpc_id, body["network_acl"], "network_acl")
    gateway_id = subnet.gateway_id
    if "public_gateway" in body:
        gateway_id = None if body["public_gateway"] is None else _gateway_for(region, subnet, body["public_gateway"],
                                                                                "public_gateway")
    subnet.name, subnet.acl_id, subnet.gateway_id = name, acl_id, gateway_id
    return subnet


def delete_subnet(region: Region, subnet_id: str) -> Subnet:
    """Deleting a subnet detaches it from its ACL and its public gateway."""
    return region.subnets.pop(region.subnet(subnet_id).id)


def replace_subnet_acl(region: Region, subnet_id: str, body: Any) -> Subnet:
    subnet = region.subnet(subnet_id)
    subnet.acl_id = _acl_for(region, subnet.vpc_id, body_object(body), "network_acl")
    return subnet


def subnet_gateway(region: Region, subnet_id: str) -> Gateway:
    subnet = region.subnet(subnet_id)
    if subnet.gateway_id is None:
        raise NotFound(f"Subnet {subnet.id} has no public gateway attached")
    return region.gateway(subnet.gateway_id)


def set_subnet_gateway(region: Region, subnet_id: str, body: Any) -> Gateway:
    subnet = region.subnet(subnet_id)
    subnet.gateway_id = _gateway_for(region, subnet, body_object(body), "public_gateway")
    return region.gateway(subnet.gateway_id)


def unset_subnet_gateway(region: Region, subnet_id: str) -> Gateway:
    gateway = subnet_gateway(region, subnet_id)
    region.subnet(subnet_id).gateway_id = None
    return gateway


# --- public gateways ------------------------------------------------------------------------------------


def create_gateway(region: Region, body: Any) -> Gateway:
    body = body_object(body)
    reject_unknown(body, {"vpc", "zone", "floating_ip", "name", "resource_group"})
    for key in ("vpc", "zone"):
        if body.get(key) is None:
            raise MissingField(f"{key} is required", field=key)
    vpc = region.vpc(region.referenced("vpc", body["vpc"], "vpc"))
    zone = zone_of(region, body["zone"])
    in_vpc = [g for g in region.gateways.values() if g.vpc_id == vpc.id]
    taken = next((g for g in in_vpc if g.zone == zone), None)
    if taken is not None:
        raise Conflict(f"VPC {vpc.id} already has public gateway {taken.name} in zone {zone} (one per zone)",
                       field="zone.name", value=zone)
    name = check_name(body["name"]) if body.get("name") is not None else random_name()
    region.unique_name(name, [g.name for g in in_vpc], "public gateway")
    group = region.cloud.resource_group(body.get("resource_group"))
    gateway = Gateway(region.new_id(zone), name, vpc.id, zone, group.id, region.new_id(zone),
                      region.next_floating_ip())
    region.gateways[gateway.id] = gateway
    return gateway


def update_gateway(region: Region, gateway_id: str, body: Any) -> Gateway:
    gateway = region.gateway(gateway_id)
    body = body_object(body)
    reject_unknown(body, {"name"})
    if body.get("name") is not None:
        name = check_name(body["name"])
        region.unique_name(name, [g.name for g in region.gateways.values()
                                  if g.vpc_id == gateway.vpc_id and g.id != gateway.id], "public gateway")
        gateway.name = name
    return gateway


def delete_gateway(region: Region, gateway_id: str) -> Gateway:
    gateway = region.gateway(gateway_id)
    attached = [s.id for s in region.subnets.values() if s.gateway_id == gateway.id]
    if attached:
        raise Conflict(f"public gateway {gateway.id} is attached to subnet(s) {', '.join(attached)}")
    return region.gateways.pop(gateway.id)
