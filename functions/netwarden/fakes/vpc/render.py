"""The JSON shapes of the emulated VPC API: what each stored record looks like on the wire.

Every shape carries the fields ibm-vpc 0.36.0's models require (``NetworkACL.from_dict``,
``Subnet.from_dict``, ``VPC.from_dict``, ``PublicGateway.from_dict``, ``SecurityGroup.from_dict``, the
``SecurityGroupRule`` and ``SecurityGroupTargetReference`` variants and the collections; the contract
tests parse every response with them). hrefs are absolute and point back at the emulator; CRNs follow
IBM's pattern (``crn:v1:bluemix:public:is:<region or zone>:a/<account>::<type>:<id>``). Rules are rendered
in the spelling of the request's ``version`` (``all`` or ``icmp_tcp_udp``); ACL rules each with ``before``
naming the next rule of the list they are shown in, security group rules with ``remote`` and ``local``
(``{"cidr_block"}``, ``{"address"}``, or a group's reference) and their ports or ICMP type and code only
when set. Targets are rendered per kind, as the ``SecurityGroupTargetReference`` variant of their
``resource_type`` (network interfaces under their instance, virtual network interfaces with their subnet
and primary IP).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

from netwarden.fakes.vpc.models import Acl, Gateway, Page, Region, ResourceGroup, Rule, Subnet, Vpc
from netwarden.fakes.vpc.models_acl import PORT_PROTOCOLS, rendered_protocol
from netwarden.fakes.vpc.models_sg import GROUP, SecurityGroup, SecurityGroupRule, SecurityGroupTarget
from netwarden.fakes.vpc.models_sg_groups import spelled_protocol
from netwarden.fakes.vpc.models_sg_targets import targets_of


@dataclass(frozen=True, slots=True)
class View:
    """How to render for one request: the region, the emulator's base URL for it, the API version."""

    region: Region
    base: str
    version: str

    @property
    def v1(self) -> str:
        return f"{self.base}/v1"

    def crn(self, kind: str, ident: str, location: str | None = None) -> str:
        account = self.region.cloud.account_id
        return f"crn:v1:bluemix:public:is:{location or self.region.name}:a/{account}::{kind}:{ident}"

    def group(self, group_id: str) -> dict[str, Any]:
        group = self.region.cloud.resource_groups.get(group_id) or self.region.cloud.default_group
        return resource_group_ref(self.base.split("/vpc/")[0], group)

    def zone(self, name: str) -> dict[str, Any]:
        return {"href": f"{self.v1}/regions/{self.region.name}/zones/{name}", "name": name}


def resource_group_ref(server: str, group: ResourceGroup) -> dict[str, Any]:
    return {"href": f"{server}/rm/v2/resource_groups/{group.id}", "id": group.id, "name": group.name}


# --- references ---------------------------------------------------------------------------------------


def vpc_ref(view: View, vpc: Vpc) -> dict[str, Any]:
    return {"crn": view.crn("vpc", vpc.id), "href": f"{view.v1}/vpcs/{vpc.id}", "id": vpc.id, "name": vpc.name,
            "resource_type": "vpc"}


def acl_ref(view: View, acl: Acl) -> dict[str, Any]:
    return {"crn": view.crn("network-acl", acl.id), "href": f"{view.v1}/network_acls/{acl.id}", "id": acl.id,
            "name": acl.name}


def subnet_ref(view: View, subnet: Subnet) -> dict[str, Any]:
    return {"crn": view.crn("subnet", subnet.id, subnet.zone), "href": f"{view.v1}/subnets/{subnet.id}",
            "id": subnet.id, "name": subnet.name, "resource_type": "subnet"}


def gateway_ref(view: View, gateway: Gateway) -> dict[str, Any]:
    return {"crn": view.crn("public-gateway", gateway.id, gateway.zone),
            "href": f"{view.v1}/public_gateways/{gateway.id}", "id": gateway.id, "name": gateway.name,
            "resource_type": "public_gateway"}


def rule_href(view: View, acl_id: str, rule: Rule) -> str:
    return f"{view.v1}/network_acls/{acl_id}/rules/{rule.id}"


# --- resources ------------------------------------------------------------------------------------------


def rule(view: View, acl_id: str, r: Rule, before: Rule | None) -> dict[str, Any]:
    out: dict[str, Any] = {
        "action": r.action, "created_at": r.created_at, "destination": r.destination, "direction": r.direction,
        "href": rule_href(view, acl_id, r), "id": r.id, "ip_version": "ipv4", "name": r.name,
        "protocol": rendered_protocol(r, view.version), "source": r.source,
    }
    if before is not None:
        out["before"] = {"href": rule_href(view, acl_id, before), "id": before.id, "name": before.name}
    if r.protocol in PORT_PROTOCOLS:
        dmin, dmax = r.destination_ports or (1, 65535)
        smin, smax = r.source_ports or (1, 65535)
        out.update(destination_port_min=dmin, destination_port_max=dmax, source_port_min=smin, source_port_max=smax)
    elif r.protocol == "icmp":
        if r.icmp_type is not None:
            out["type"] = r.icmp_type
        if r.icmp_code is not None:
            out["code"] = r.icmp_code
    return out


def rules(view: View, acl_id: str, ordered: Sequence[Rule],
          shown: Sequence[Rule] | None = None) -> list[dict[str, Any]]:
    """``shown`` (a page) rendered with ``before`` taken from the full ordered list ``ordered``."""
    index = {r.id: i for i, r in enumerate(ordered)}
    out = []
    for r in ordered if shown is None else shown:
        i = index[r.id]
        out.append(rule(view, acl_id, r, ordered[i + 1] if i + 1 < len(ordered) else None))
    return out


def single_rule(view: View, acl: Acl, r: Rule) -> dict[str, Any]:
    i = acl.rules.index(r)
    return rule(view, acl.id, r, acl.rules[i + 1] if i + 1 < len(acl.rules) else None)


def acl(view: View, a: Acl) -> dict[str, Any]:
    return {
        **acl_ref(view, a), "created_at": a.created_at, "resource_group": view.group(a.resource_group_id),
        "rules": rules(view, a.id, a.rules),
        "subnets": [subnet_ref(view, s) for s in view.region.subnets_of_acl(a.id)],
        "vpc": vpc_ref(view, view.region.vpc(a.vpc_id)),
    }


def subnet(view: View, s: Subnet) -> dict[str, Any]:
    prefix = int(s.cidr.rsplit("/", 1)[1])
    total = 2 ** (32 - prefix)
    vpc = view.region.vpc(s.vpc_id)
    out: dict[str, Any] = {
        **subnet_ref(view, s), "available_ipv4_address_count": max(total - 5, 0), "created_at": s.created_at,
        "ip_version": "ipv4", "ipv4_cidr_block": s.cidr,
        "network_acl": acl_ref(view, view.region.acl(s.acl_id)),
        "resource_group": view.group(s.resource_group_id),
        "routing_table": routing_table_ref(view, vpc), "status": "available", "total_ipv4_address_count": total,
        "vpc": vpc_ref(view, vpc), "zone": view.zone(s.zone),
    }
    if s.gateway_id is not None:
        out["public_gateway"] = gateway_ref(view, view.region.gateway(s.gateway_id))
    return out


def routing_table_ref(view: View, vpc: Vpc) -> dict[str, Any]:
    rt = vpc.default_routing_table_id
    return {"crn": view.crn("vpc", f"{vpc.id}/routing_table:{rt}"),
            "href": f"{view.v1}/vpcs/{vpc.id}/routing_tables/{rt}", "id": rt,
            "name": f"{vpc.name}-default-routing-table"[:63], "resource_type": "routing_table"}


def gateway(view: View, g: Gateway) -> dict[str, Any]:
    return {
        **gateway_ref(view, g), "created_at": g.created_at,
        "floating_ip": {"address": g.floating_ip_address, "crn": view.crn("floating-ip", g.floating_ip_id, g.zone),
                        "href": f"{view.v1}/floating_ips/{g.floating_ip_id}", "id": g.floating_ip_id,
                        "name": f"{g.name}-ip"[:63]},
        "resource_group": view.group(g.resource_group_id), "status": "available",
        "vpc": vpc_ref(view, view.region.vpc(g.vpc_id)), "zone": view.zone(g.zone),
    }


def vpc(view: View, v: Vpc) -> dict[str, Any]:
    zones = view.region.zones
    return {
        **vpc_ref(view, v), "classic_access": v.classic_access, "created_at": v.created_at,
        "cse_source_ips": [{"ip": {"address": f"10.16.{i}.4"}, "zone": view.zone(z)} for i, z in enumerate(zones)],
        "default_network_acl": acl_ref(view, view.region.acl(v.default_acl_id)),
        "default_routing_table": routing_table_ref(view, v),
        "default_security_group": sg_ref(view, view.region.security_groups[v.default_security_group_id]),
        "dns": {"enable_hub": False, "resolution_binding_count": 0,
                "resolver": {"servers": [{"address": "161.26.0.10"}, {"address": "161.26.0.11"}],
                             "type": "system", "configuration": "default"}},
        "health_reasons": [], "health_state": "ok", "public_address_ranges": [],
        "resource_group": view.group(v.resource_group_id), "resource_type": "vpc", "status": "available",
    }


def collection(view: View, key: str, path: str, page: Page, items: list[dict[str, Any]], *,
               filters: dict[str, str]) -> dict[str, Any]:
    """The envelope of a listing: ``first``, ``limit``, ``total_count``, ``next`` while more remain."""
    query = "".join(f"&{k}={quote(v, safe='')}" for k, v in filters.items())
    out: dict[str, Any] = {key: items, "first": {"href": f"{view.v1}{path}?limit={page.limit}{query}"},
                           "limit": page.limit, "total_count": page.total_count}
    if page.next_start is not None:
        out["next"] = {"href": f"{view.v1}{path}?start={page.next_start}&limit={page.limit}{query}"}
    return out


# --- security groups ------------------------------------------------------------------------------------


def sg_ref(view: View, sg: SecurityGroup) -> dict[str, Any]:
    return {"crn": view.crn("security-group", sg.id), "href": f"{view.v1}/security_groups/{sg.id}", "id": sg.id,
            "name": sg.name}


def _side(view: View, side: tuple[str, str]) -> dict[str, Any]:
    kind, value = side
    if kind == GROUP:
        return sg_ref(view, view.region.security_groups[value])
    return {kind: value}


def sg_rule(view: View, sg_id: str, r: SecurityGroupRule) -> dict[str, Any]:
    out: dict[str, Any] = {
        "direction": r.direction, "href": f"{view.v1}/security_groups/{sg_id}/rules/{r.id}", "id": r.id,
        "ip_version": "ipv4", "local": _side(view, r.local), "name": r.name,
        "protocol": spelled_protocol(r.protocol, view.version), "remote": _side(view, r.remote),
        "resource_type": "security_group_rule",
    }
    if r.ports is not None:
        out["port_min"], out["port_max"] = r.ports
    if r.icmp_type is not None:
        out["type"] = r.icmp_type
    if r.icmp_code is not None:
        out["code"] = r.icmp_code
    return out


def sg_target(view: View, t: SecurityGroupTarget) -> dict[str, Any]:
    """A target as the ``SecurityGroupTargetReference`` variant of its kind."""
    out: dict[str, Any] = {"id": t.id, "name": t.name, "resource_type": t.kind}
    if t.kind == "network_interface":
        out["href"] = f"{view.v1}/instances/{t.parent_id}/network_interfaces/{t.id}"
        return out
    path = {"virtual_network_interface": "virtual_network_interfaces", "endpoint_gateway": "endpoint_gateways",
            "load_balancer": "load_balancers"}[t.kind]
    out["href"] = f"{view.v1}/{path}/{t.id}"
    out["crn"] = view.crn(t.kind.replace("_", "-"), t.id, t.zone)
    if t.kind == "virtual_network_interface":
        out["primary_ip"] = {"address": t.address, "id": t.parent_id, "name": f"{t.name}-ip"[:63],
                             "href": f"{view.v1}/subnets/{t.subnet_id}/reserved_ips/{t.parent_id}",
                             "resource_type": "subnet_reserved_ip"}
        subnet = view.region.subnets.get(t.subnet_id or "")
        out["subnet"] = subnet_ref(view, subnet) if subnet is not None else {
            "crn": view.crn("subnet", str(t.subnet_id), t.zone), "href": f"{view.v1}/subnets/{t.subnet_id}",
            "id": t.subnet_id, "name": t.subnet_name, "resource_type": "subnet",
            "deleted": {"more_info": "https://cloud.ibm.com/apidocs/vpc#deleted-resources"}}
    return out


def security_group(view: View, sg: SecurityGroup) -> dict[str, Any]:
    return {
        **sg_ref(view, sg), "created_at": sg.created_at, "resource_group": view.group(sg.resource_group_id),
        "rules": [sg_rule(view, sg.id, r) for r in sg.rules],
        "targets": [sg_target(view, t) for t in targets_of(view.region, sg.id)],
        "vpc": vpc_ref(view, view.region.vpc(sg.vpc_id)),
    }
