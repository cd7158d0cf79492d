"""Read IBM Cloud VPC network state through the official ibm-vpc SDK: the live side of every check.

A full read of a region costs one list call per 100 items of each collection (VPCs, network ACLs with
their rules embedded, subnets, public gateways, security groups with their rules and targets embedded)
and no per-item GET: ``ceil(n/100)`` calls per
collection. An ACL's rules are listed separately only when the embedded list is cut short (its last
rule still names a ``before``). One IAM token serves every region. Reads retry 429 and 5xx with
backoff, honouring ``Retry-After`` up to a bound. A region that still fails is reported
``Unreadable("us-south", reason)``; a VPC whose data cannot be read, ``Unreadable("us-south/vpc")``;
the rest is returned. Only refused credentials (IAM refusing the API key, the API refusing the token),
an unknown resource group, a VPC of ``ibmcloud.vpcs`` (a name or an id) that no configured region has, or an
API that cannot be reached in any region fail the whole read: those are the user's to fix, and a scan that
reported them as unreadable scopes (or a VPC that is not there as an empty one) would hide them. The
error about a VPC names the VPCs that do exist there (a bounded list). The read says what it covered
(``VpcRead.scope``: the regions, and the configured VPCs by name), so that a check sets the baseline's
other VPCs aside as out of scope instead of reporting them missing.

SDK results are converted into ``core.model`` once, here (rules with ``normalize.acl_rule_from_api``).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, NotRequired, TypedDict, cast

from ibm_cloud_sdk_core.authenticators import Authenticator, IAMAuthenticator
from ibm_vpc import VpcV1
from ibm_vpc.vpc_v1 import (
    NetworkAclRulesPager,
    NetworkAclsPager,
    PublicGatewaysPager,
    SecurityGroupsPager,
    SubnetsPager,
    VpcsPager,
)
from urllib3.util.retry import Retry

from netwarden import config
from netwarden.adapters.ibm_vpc_errors import translate_vpc_errors
from netwarden.adapters.ibm_vpc_sg import RawSecurityGroup, group_from_api, groups_from_api
from netwarden.config import IbmCloudSettings
from netwarden.core import normalize
from netwarden.core.errors import ConfigError, ProviderAuthError, ProviderError, ProviderUnavailable
from netwarden.core.model import NetworkAcl, Subnet, Unreadable, Vpc
from netwarden.core.ports import VpcRead
from netwarden.core.scope import ReadScope, listing

PAGE_LIMIT = 100
MAX_RETRY_AFTER = 30.0
DEFAULT_RESOURCE_MANAGER_URL = "https://resource-controller.cloud.ibm.com"


class RawRef(TypedDict):
    id: str
    name: str


class RawZone(TypedDict):
    name: str


class RawVpc(TypedDict):
    id: str
    name: str
    default_network_acl: RawRef
    default_security_group: RawRef


class RawNetworkAcl(TypedDict):
    id: str
    name: str
    vpc: RawRef
    rules: list[dict[str, Any]]


class RawSubnet(TypedDict):
    id: str
    name: str
    vpc: RawRef
    zone: RawZone
    ipv4_cidr_block: str
    network_acl: RawRef
    public_gateway: NotRequired[RawRef]


class RawPublicGateway(TypedDict):
    id: str
    name: str
    vpc: RawRef
    zone: RawZone


#: One VPC's share of a region's lists: its ACLs, subnets, public gateways and security groups.
_VpcParts = tuple[list[RawNetworkAcl], list[RawSubnet], list[RawPublicGateway], list[RawSecurityGroup]]


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """Retries of reads: how many, the backoff cap, and the longest ``Retry-After`` obeyed."""

    max_retries: int = 4
    retry_interval: float = 10.0
    max_retry_after: float = MAX_RETRY_AFTER
    timeout: float = 30.0


class _BoundedRetry(Retry):
    """urllib3's Retry, with ``Retry-After`` capped so that a server cannot park a job for hours."""

    cap = MAX_RETRY_AFTER

    def get_retry_after(self, response: Any) -> float | None:
        value = super().get_retry_after(response)
        return None if value is None else min(value, self.cap)


def _bounded_retry(policy: RetryPolicy) -> type[_BoundedRetry]:
    return cast(type[_BoundedRetry], type("BoundedRetry", (_BoundedRetry,), {"cap": policy.max_retry_after}))


class VpcClients:
    """One ``VpcV1`` per region and purpose, sharing one IAM authenticator (one token for all)."""

    def __init__(self, settings: IbmCloudSettings, authenticator: Authenticator,
                 policy: RetryPolicy | None = None) -> None:
        self.settings = settings
        self.authenticator = authenticator
        self.policy = policy or RetryPolicy()
        self._clients: dict[tuple[str, bool], VpcV1] = {}

    @classmethod
    def from_settings(cls, settings: IbmCloudSettings, policy: RetryPolicy | None = None) -> VpcClients:
        api_key = config.secret(settings.api_key_env)
        if not api_key:
            raise ConfigError(f"environment variable {settings.api_key_env} (named by ibmcloud.api_key_env) "
                              "is not set: it must hold the IBM Cloud API key")
        try:
            authenticator = IAMAuthenticator(api_key, url=settings.iam_url)
        except ValueError as e:  # the SDK checks the key's shape; its message never repeats the key
            raise ConfigError(f"the API key in {settings.api_key_env} is not usable: {e}") from e
        return cls(settings, authenticator, policy)

    def vpc(self, region: str, *, retries: bool = True) -> VpcV1:
        key = (region, retries)
        if key not in self._clients:
            client = VpcV1(authenticator=self.authenticator)
            client.set_service_url(self.settings.url_for(region))
            client.set_http_config({"timeout": self.policy.timeout})
            if retries:
                p = self.policy
                client.enable_retries(max_retries=p.max_retries, retry_interval=p.retry_interval)
                client.http_adapter.max_retries = _bounded_retry(p)(
                    total=p.max_retries, backoff_factor=1.0, backoff_max=p.retry_interval,
                    status_forcelist=[429, 500, 502, 503, 504],
                    allowed_methods=["HEAD", "GET", "PUT", "DELETE", "OPTIONS", "TRACE", "POST"])
            self._clients[key] = client
        return self._clients[key]

    def resource_group_id(self, name: str) -> str:
        """Resolve ``ibmcloud.resource_group`` (a name) to its id with the resource manager."""
        from ibm_platform_services import ResourceManagerV2

        url = self.settings.resource_manager_url or DEFAULT_RESOURCE_MANAGER_URL
        manager = ResourceManagerV2(authenticator=self.authenticator)
        manager.set_service_url(url)
        with translate_vpc_errors(f"GET {url}/v2/resource_groups"):
            result = manager.list_resource_groups(name=name).get_result()
        groups = [g for g in (result or {}).get("resources", []) if g.get("name") == name]
        if not groups:
            raise ConfigError(f"resource group {name!r} (ibmcloud.resource_group) does not exist in the account")
        return str(groups[0]["id"])


def _all(pager: Any, endpoint: str) -> list[Any]:
    with translate_vpc_errors(endpoint):
        return list(pager.get_all())


def calls_for(count: int) -> int:
    """The list calls a collection of ``count`` items costs (an empty one still costs one)."""
    return max(1, math.ceil(count / PAGE_LIMIT))


# --- conversion: SDK dicts -> core.model, once -----------------------------------------------------------------


def acl_from_api(raw: RawNetworkAcl, rules: Sequence[Mapping[str, Any]] | None = None) -> NetworkAcl:
    listed = raw["rules"] if rules is None else rules
    return NetworkAcl(name=raw["name"], rules=tuple(normalize.acl_rule_from_api(r) for r in listed), id=raw["id"])


def subnet_from_api(raw: RawSubnet) -> Subnet:
    gateway = raw.get("public_gateway")
    return Subnet(name=raw["name"], network_acl=raw["network_acl"]["name"],
                  public_gateway=gateway["name"] if gateway else None, zone=raw["zone"]["name"],
                  cidr=normalize.cidr(raw["ipv4_cidr_block"], strict=False), id=raw["id"])


def rules_cut_short(raw: RawNetworkAcl) -> bool:
    """True when the embedded rule list ends on a rule that still has a successor."""
    return bool(raw["rules"]) and "before" in raw["rules"][-1]


@dataclass(slots=True)
class _RegionRead:
    vpcs: list[Vpc] = field(default_factory=list)
    unreadable: list[Unreadable] = field(default_factory=list)
    #: Every VPC the region lists (in the resource group), and the ``ibmcloud.vpcs`` entries they matched.
    listed: list[str] = field(default_factory=list)
    matched: set[str] = field(default_factory=set)
    selected: set[str] = field(default_factory=set)


class IbmVpcReader:
    """``core.ports.VpcReader`` over the ibm-vpc SDK; also the targeted reads of the event job."""

    def __init__(self, settings: IbmCloudSettings, clients: VpcClients) -> None:
        self.settings = settings
        self.clients = clients

    @classmethod
    def from_settings(cls, settings: IbmCloudSettings, policy: RetryPolicy | None = None) -> IbmVpcReader:
        return cls(settings, VpcClients.from_settings(settings, policy))

    def read_vpcs(self) -> VpcRead:
        group_id = None
        if self.settings.resource_group:
            group_id = self.clients.resource_group_id(self.settings.resource_group)
        vpcs: list[Vpc] = []
        unreadable: list[Unreadable] = []
        unreachable: list[ProviderUnavailable] = []
        listed: dict[str, list[str]] = {}
        matched: set[str] = set()
        selected: set[str] = set()
        for region in self.settings.regions:
            try:
                got = self._read_region(region, group_id)
            except ProviderAuthError:
                raise
            except ProviderError as e:
                unreadable.append(Unreadable(region, str(e)))
                if isinstance(e, ProviderUnavailable) and e.status is None:
                    unreachable.append(e)
                continue
            vpcs.extend(got.vpcs)
            unreadable.extend(got.unreadable)
            listed[region] = got.listed
            matched |= got.matched
            selected |= got.selected
        if unreachable and len(unreachable) == len(self.settings.regions):
            raise unreachable[0]
        wanted = self.settings.vpcs
        if wanted is not None:
            absent = [w for w in dict.fromkeys(wanted) if w not in matched]
            if absent and len(listed) == len(self.settings.regions):
                raise self._absent(absent, listed)
            selected |= set(absent)  # in a region that could not be read, perhaps: kept as configured
        scope = ReadScope(regions=self.settings.regions, vpcs=None if wanted is None else tuple(sorted(selected)))
        return VpcRead(tuple(vpcs), tuple(unreadable), scope)

    def _absent(self, absent: list[str], listed: Mapping[str, list[str]]) -> ConfigError:
        """The error for ``ibmcloud.vpcs`` entries no region has, naming the VPCs the regions do have."""
        regions = list(listed)
        where = regions[0] if len(regions) == 1 else f"{', '.join(regions[:-1])} or {regions[-1]}"
        if self.settings.resource_group:
            where += f" (resource group {self.settings.resource_group})"
        names = [name if len(regions) == 1 else f"{region}/{name}" for region in regions for name in listed[region]]
        what = (f"VPC {absent[0]!r} does not exist" if len(absent) == 1
                else f"VPCs {listing(repr(a) for a in absent)} do not exist")
        there = f"the VPCs there: {listing(names)}" if names else "there is no VPC there"
        return ConfigError(f"ibmcloud.vpcs: {what} in {where}; {there}")

    def _read_region(self, region: str, group_id: str | None) -> _RegionRead:
        client = self.clients.vpc(region)
        where = f"({region})"
        raw_vpcs = cast(list[RawVpc], _all(VpcsPager(client=client, limit=PAGE_LIMIT, resource_group_id=group_id),
                                           f"GET /vpcs {where}"))
        out = _RegionRead(listed=[v["name"] for v in raw_vpcs])
        if self.settings.vpcs is not None:  # an entry is a VPC's name or its id
            wanted = set(self.settings.vpcs)
            raw_vpcs = [v for v in raw_vpcs if wanted & {v["name"], v["id"]}]
            out.matched = {key for v in raw_vpcs for key in (v["name"], v["id"]) if key in wanted}
        out.selected = {v["name"] for v in raw_vpcs}
        acls = cast(list[RawNetworkAcl], _all(NetworkAclsPager(client=client, limit=PAGE_LIMIT),
                                              f"GET /network_acls {where}"))
        subnets = cast(list[RawSubnet], _all(SubnetsPager(client=client, limit=PAGE_LIMIT),
                                             f"GET /subnets {where}"))
        gateways = cast(list[RawPublicGateway], _all(PublicGatewaysPager(client=client, limit=PAGE_LIMIT),
                                                     f"GET /public_gateways {where}"))
        groups = cast(list[RawSecurityGroup], _all(SecurityGroupsPager(client=client, limit=PAGE_LIMIT),
                                                   f"GET /security_groups {where}"))
        by_vpc: dict[str, _VpcParts] = {v["id"]: ([], [], [], []) for v in raw_vpcs}
        collections: tuple[list[Any], ...] = (acls, subnets, gateways, groups)
        for index, listed in enumerate(collections):
            for item in listed:  # one pass over each collection, whatever the number of VPCs
                if (lists := by_vpc.get(item["vpc"]["id"])) is not None:
                    cast(list[Any], lists[index]).append(item)
        for raw in raw_vpcs:
            try:
                out.vpcs.append(self._vpc(region, raw, by_vpc[raw["id"]]))
            except ProviderAuthError:
                raise
            except ProviderError as e:
                out.unreadable.append(Unreadable(f"{region}/{raw['name']}", str(e)))
            except (normalize.NormalizeError, KeyError, TypeError, ValueError) as e:
                out.unreadable.append(Unreadable(f"{region}/{raw['name']}", f"unexpected data from the VPC API: {e}"))
        return out

    def _vpc(self, region: str, raw: RawVpc, parts: _VpcParts) -> Vpc:
        acls, subnets, gateways, groups = parts
        models = []
        for acl in acls:
            rules = None
            if rules_cut_short(acl):
                pager = NetworkAclRulesPager(client=self.clients.vpc(region), network_acl_id=acl["id"],
                                             limit=PAGE_LIMIT)
                rules = _all(pager, f"GET /network_acls/{acl['id']}/rules ({region})")
            models.append(acl_from_api(acl, rules))
        return Vpc(region=region, name=raw["name"], acls=normalize.sorted_by_name(models),
                   subnets=normalize.sorted_by_name([subnet_from_api(s) for s in subnets]),
                   default_acl=raw["default_network_acl"]["name"],
                   public_gateways=tuple(sorted(g["name"] for g in gateways)), id=raw["id"],
                   security_groups=groups_from_api(groups, raw["id"]),
                   default_security_group=raw["default_security_group"]["name"])

    # --- targeted reads (the event job: at most 3 VPC calls per event) --------------------------------------

    def read_acl(self, region: str, acl_id: str, *, with_default: bool = False) -> Vpc:
        """One ACL by id (1 call; 2 with ``with_default``), as a partial Vpc holding only that ACL."""
        client = self.clients.vpc(region)
        with translate_vpc_errors(f"GET /network_acls/{acl_id} ({region})"):
            raw = cast(RawNetworkAcl, client.get_network_acl(acl_id).get_result())
        rules = None
        if rules_cut_short(raw):
            pager = NetworkAclRulesPager(client=client, network_acl_id=acl_id, limit=PAGE_LIMIT)
            rules = _all(pager, f"GET /network_acls/{acl_id}/rules ({region})")
        default = self._default_acl(region, raw["vpc"]["id"]) if with_default else None
        return Vpc(region=region, name=raw["vpc"]["name"], acls=(acl_from_api(raw, rules),), default_acl=default,
                   id=raw["vpc"]["id"])

    def read_subnet(self, region: str, subnet_id: str, *, with_default: bool = False) -> Vpc:
        """One subnet and its ACL (2 calls; 3 with ``with_default``), as a partial Vpc holding only them."""
        client = self.clients.vpc(region)
        with translate_vpc_errors(f"GET /subnets/{subnet_id} ({region})"):
            raw = cast(RawSubnet, client.get_subnet(subnet_id).get_result())
        acl = self.read_acl(region, raw["network_acl"]["id"])
        default = self._default_acl(region, raw["vpc"]["id"]) if with_default else None
        return Vpc(region=region, name=raw["vpc"]["name"], acls=acl.acls, subnets=(subnet_from_api(raw),),
                   default_acl=default, id=raw["vpc"]["id"])

    def read_security_group(self, region: str, sg_id: str) -> Vpc:
        """One security group by id, its rules and targets embedded (1 call), as a partial Vpc holding only it."""
        with translate_vpc_errors(f"GET /security_groups/{sg_id} ({region})"):
            raw = cast(RawSecurityGroup, self.clients.vpc(region).get_security_group(sg_id).get_result())
        vpc_id = raw["vpc"]["id"]
        group = group_from_api(raw, vpc_id, {raw["id"]: raw["name"]})
        return Vpc(region=region, name=raw["vpc"]["name"], security_groups=(group,), id=vpc_id)

    def _default_acl(self, region: str, vpc_id: str) -> str:
        with translate_vpc_errors(f"GET /vpcs/{vpc_id} ({region})"):
            raw = cast(RawVpc, self.clients.vpc(region).get_vpc(vpc_id).get_result())
        return raw["default_network_acl"]["name"]
