"""The writes remediation makes to IBM Cloud VPC, through the ibm-vpc SDK.

``IbmVpcWriter`` implements ``core.ports.VpcWriter``: ACLs, subnets, gateways and security groups come
by name and are resolved to ids with as few calls as possible (one listing of the region's ACLs,
gateways and VPCs, and of each VPC's subnets and security groups, cached for the writer's lifetime,
i.e. one remediation run, and told of the groups it creates); rules and targets come by id.
Writes are not retried by the SDK (a retried POST could create a rule twice); instead every failure
is raised as ``TemporaryRemediationError(delay)`` (429, 5xx, 409, unreachable), which the job retries
or re-queues, or ``PermanentRemediationError`` (refused, invalid, not found), which it reports.

``move_rule(before_id=None)`` sends ``{"before": null}`` as a plain dict: the SDK's
``NetworkACLRulePatch(before=None)`` would drop the key and move nothing.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, cast

from ibm_vpc.vpc_v1 import NetworkAclsPager, PublicGatewaysPager, SecurityGroupsPager, SubnetsPager, VpcsPager

from netwarden.adapters.ibm_vpc import PAGE_LIMIT, RawNetworkAcl, RawPublicGateway, RawSubnet, RetryPolicy, VpcClients
from netwarden.adapters.ibm_vpc_errors import remediation_errors, translate_vpc_errors
from netwarden.config import IbmCloudSettings
from netwarden.core import normalize, sg_rules
from netwarden.core.errors import PermanentRemediationError
from netwarden.core.model import AclRule, PortRange, SgRule

#: Patch keys in the model's vocabulary -> the API's (``NetworkACLRulePatch``).
_ICMP_KEYS = {"icmp_type": "type", "icmp_code": "code"}


def rule_patch(patch: Mapping[str, Any]) -> dict[str, Any]:
    """A patch in the model's words (``destination_port: 443``, ``icmp_type``) or the API's
    (``destination_port_min``, ``type``) -> a ``NetworkACLRulePatch`` body."""
    out: dict[str, Any] = {}
    for key, value in patch.items():
        if key == "protocol":
            raise PermanentRemediationError("a rule's protocol cannot be changed in place: delete and re-create it")
        if key in ("destination_port", "source_port"):
            prefix = key.removesuffix("_port")
            try:
                ports = value if isinstance(value, PortRange) else normalize.port_range(value, field=key)
            except normalize.NormalizeError as e:
                raise PermanentRemediationError(f"patch {key}: {e.message}") from e
            if ports is not None:
                out[f"{prefix}_port_min"], out[f"{prefix}_port_max"] = ports.min, ports.max
        else:
            out[_ICMP_KEYS.get(key, key)] = value
    return out


class IbmVpcWriter:
    def __init__(self, settings: IbmCloudSettings, clients: VpcClients) -> None:
        self.settings = settings
        self.clients = clients
        self._acls: dict[str, dict[tuple[str, str], str]] = {}
        self._gateways: dict[str, dict[tuple[str, str], str]] = {}
        self._subnets: dict[tuple[str, str], dict[str, str]] = {}
        self._groups: dict[tuple[str, str], dict[str, str]] = {}
        self._vpcs: dict[str, dict[str, str]] = {}

    @classmethod
    def from_settings(cls, settings: IbmCloudSettings, policy: RetryPolicy | None = None) -> IbmVpcWriter:
        return cls(settings, VpcClients.from_settings(settings, policy))

    # --- names -> ids ----------------------------------------------------------------------------------------

    def _list(self, pager: Any, endpoint: str) -> list[Any]:
        with remediation_errors(), translate_vpc_errors(endpoint):
            return list(pager.get_all())

    def acl_id(self, region: str, vpc: str, acl: str) -> str:
        if region not in self._acls:
            pager = NetworkAclsPager(client=self.clients.vpc(region), limit=PAGE_LIMIT)
            raws = cast(list[RawNetworkAcl], self._list(pager, f"GET /network_acls ({region})"))
            self._acls[region] = {(a["vpc"]["name"], a["name"]): a["id"] for a in raws}
        return self._found(self._acls[region].get((vpc, acl)), f"network ACL {acl} of {region}/{vpc}")

    def gateway_id(self, region: str, vpc: str, gateway: str) -> str:
        if region not in self._gateways:
            pager = PublicGatewaysPager(client=self.clients.vpc(region), limit=PAGE_LIMIT)
            raws = cast(list[RawPublicGateway], self._list(pager, f"GET /public_gateways ({region})"))
            self._gateways[region] = {(g["vpc"]["name"], g["name"]): g["id"] for g in raws}
        return self._found(self._gateways[region].get((vpc, gateway)), f"public gateway {gateway} of {region}/{vpc}")

    def subnet_id(self, region: str, vpc: str, subnet: str) -> str:
        if (region, vpc) not in self._subnets:
            pager = SubnetsPager(client=self.clients.vpc(region), limit=PAGE_LIMIT, vpc_name=vpc)
            raws = cast(list[RawSubnet], self._list(pager, f"GET /subnets?vpc.name={vpc} ({region})"))
            self._subnets[(region, vpc)] = {s["name"]: s["id"] for s in raws}
        return self._found(self._subnets[(region, vpc)].get(subnet), f"subnet {subnet} of {region}/{vpc}")

    def group_ids(self, region: str, vpc: str) -> dict[str, str]:
        """The VPC's security groups, name -> id."""
        if (region, vpc) not in self._groups:
            pager = SecurityGroupsPager(client=self.clients.vpc(region), limit=PAGE_LIMIT, vpc_name=vpc)
            raws = self._list(pager, f"GET /security_groups?vpc.name={vpc} ({region})")
            self._groups[(region, vpc)] = {g["name"]: g["id"] for g in raws}
        return self._groups[(region, vpc)]

    def group_id(self, region: str, vpc: str, group: str) -> str:
        return self._found(self.group_ids(region, vpc).get(group), f"security group {group} of {region}/{vpc}")

    def vpc_id(self, region: str, vpc: str) -> str:
        if region not in self._vpcs:
            pager = VpcsPager(client=self.clients.vpc(region), limit=PAGE_LIMIT)
            self._vpcs[region] = {v["name"]: v["id"] for v in self._list(pager, f"GET /vpcs ({region})")}
        return self._found(self._vpcs[region].get(vpc), f"VPC {vpc} of {region}")

    @staticmethod
    def _found(ident: str | None, what: str) -> str:
        if ident is None:
            raise PermanentRemediationError(f"{what} does not exist")
        return ident

    # --- core.ports.VpcWriter ----------------------------------------------------------------------------------

    def create_rule(self, region: str, vpc: str, acl: str, rule: AclRule, before_id: str | None) -> str:
        acl_id = self.acl_id(region, vpc, acl)
        body = normalize.acl_rule_to_api(rule)
        if before_id is not None:
            body["before"] = {"id": before_id}
        client = self.clients.vpc(region, retries=False)
        with remediation_errors(), translate_vpc_errors(f"POST /network_acls/{acl_id}/rules ({region})"):
            created = client.create_network_acl_rule(acl_id, body).get_result()
        return str(created["id"])

    def update_rule(self, region: str, vpc: str, acl: str, rule_id: str, patch: dict[str, Any]) -> None:
        self._patch(region, self.acl_id(region, vpc, acl), rule_id, rule_patch(patch))

    def move_rule(self, region: str, vpc: str, acl: str, rule_id: str, before_id: str | None) -> None:
        before = None if before_id is None else {"id": before_id}
        self._patch(region, self.acl_id(region, vpc, acl), rule_id, {"before": before})

    def _patch(self, region: str, acl_id: str, rule_id: str, body: dict[str, Any]) -> None:
        client = self.clients.vpc(region, retries=False)
        with remediation_errors(), translate_vpc_errors(f"PATCH /network_acls/{acl_id}/rules/{rule_id} ({region})"):
            client.update_network_acl_rule(acl_id, rule_id, body)

    def delete_rule(self, region: str, vpc: str, acl: str, rule_id: str) -> None:
        acl_id = self.acl_id(region, vpc, acl)
        client = self.clients.vpc(region, retries=False)
        with remediation_errors(), translate_vpc_errors(f"DELETE /network_acls/{acl_id}/rules/{rule_id} ({region})"):
            client.delete_network_acl_rule(acl_id, rule_id)

    def replace_subnet_acl(self, region: str, vpc: str, subnet: str, acl: str) -> None:
        subnet_id, acl_id = self.subnet_id(region, vpc, subnet), self.acl_id(region, vpc, acl)
        client = self.clients.vpc(region, retries=False)
        with remediation_errors(), translate_vpc_errors(f"PUT /subnets/{subnet_id}/network_acl ({region})"):
            client.replace_subnet_network_acl(subnet_id, {"id": acl_id})

    def set_subnet_gateway(self, region: str, vpc: str, subnet: str, gateway: str) -> None:
        subnet_id, gateway_id = self.subnet_id(region, vpc, subnet), self.gateway_id(region, vpc, gateway)
        client = self.clients.vpc(region, retries=False)
        with remediation_errors(), translate_vpc_errors(f"PUT /subnets/{subnet_id}/public_gateway ({region})"):
            client.set_subnet_public_gateway(subnet_id, {"id": gateway_id})

    def unset_subnet_gateway(self, region: str, vpc: str, subnet: str) -> None:
        subnet_id = self.subnet_id(region, vpc, subnet)
        client = self.clients.vpc(region, retries=False)
        with remediation_errors(), translate_vpc_errors(f"DELETE /subnets/{subnet_id}/public_gateway ({region})"):
            client.unset_subnet_public_gateway(subnet_id)

    # --- security groups ---------------------------------------------------------------------------------------

    def create_security_group(self, region: str, vpc: str, group: str) -> str:
        vpc_id, ids = self.vpc_id(region, vpc), self.group_ids(region, vpc)
        client = self.clients.vpc(region, retries=False)
        with remediation_errors(), translate_vpc_errors(f"POST /security_groups ({region})"):
            created = client.create_security_group({"id": vpc_id}, name=group).get_result()
        ids[group] = str(created["id"])
        return ids[group]

    def create_sg_rule(self, region: str, vpc: str, group: str, rule: SgRule) -> str:
        sg_id, ids = self.group_id(region, vpc, group), self.group_ids(region, vpc)
        if rule.remote_group is not None:
            self.group_id(region, vpc, rule.remote_group)
        client = self.clients.vpc(region, retries=False)
        with remediation_errors(), translate_vpc_errors(f"POST /security_groups/{sg_id}/rules ({region})"):
            created = client.create_security_group_rule(sg_id, sg_rules.to_api(rule, ids)).get_result()
        return str(created["id"])

    def update_sg_rule(self, region: str, vpc: str, group: str, rule_id: str, patch: dict[str, Any]) -> None:
        sg_id = self.group_id(region, vpc, group)
        client = self.clients.vpc(region, retries=False)
        with remediation_errors(), translate_vpc_errors(f"PATCH /security_groups/{sg_id}/rules/{rule_id} ({region})"):
            client.update_security_group_rule(sg_id, rule_id, patch)

    def delete_sg_rule(self, region: str, vpc: str, group: str, rule_id: str) -> None:
        sg_id = self.group_id(region, vpc, group)
        client = self.clients.vpc(region, retries=False)
        with remediation_errors(), translate_vpc_errors(f"DELETE /security_groups/{sg_id}/rules/{rule_id} ({region})"):
            client.delete_security_group_rule(sg_id, rule_id)

    def bind_sg_target(self, region: str, vpc: str, group: str, target_id: str) -> None:
        sg_id = self.group_id(region, vpc, group)
        client = self.clients.vpc(region, retries=False)
        with remediation_errors(), translate_vpc_errors(f"PUT /security_groups/{sg_id}/targets/{target_id} ({region})"):
            client.create_security_group_target_binding(sg_id, target_id)

    def unbind_sg_target(self, region: str, vpc: str, group: str, target_id: str) -> None:
        sg_id = self.group_id(region, vpc, group)
        client = self.clients.vpc(region, retries=False)
        with remediation_errors(), translate_vpc_errors(
                f"DELETE /security_groups/{sg_id}/targets/{target_id} ({region})"):
            client.delete_security_group_target_binding(sg_id, target_id)
