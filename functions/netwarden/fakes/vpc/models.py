"""The emulated IBM Cloud VPC API's state and its rules: regions, VPCs, resource groups, paging.

One ``VpcCloud`` per server holds the account (its id and resource groups, served at ``/rm``) and one
``Region`` per region, created on first use. A region holds plain records keyed by id, in creation
order; the rules of each noun live beside it (``models_acl`` for network ACLs and their rules,
``models_subnet`` for subnets and public gateways, ``models_sg_groups`` and ``models_sg_targets`` for
security groups, their rules and targets, whose records are ``models_sg``'s) and raise ``exceptions`` on
what IBM refuses. Nothing here knows about HTTP or JSON shapes: ``render`` and ``responses`` do.

Facts followed (``ibm-cloud-apis.md`` sections 1 and 3): a VPC is created with a default ACL that
allows all inbound and all outbound traffic (rules ``allow-inbound`` and ``allow-outbound``,
icmp_tcp_udp, 0.0.0.0/0); names are unique per VPC (VPCs per region); omitted names become hyphenated
random words; ``version`` (YYYY-MM-DD, not after today) and ``generation`` (2) are required on every
call; pages hold 50 items by default and at most 100, and ``start`` is an opaque token (here, the index
and id of the first item of the page).
"""

from __future__ import annotations

import ipaddress
import random
import re
import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, TypeVar
from urllib.parse import urlsplit

from netwarden.fakes.vpc.exceptions import BadField, BadVersion, Conflict, MissingField, NotFound, VersionOutOfRange
from netwarden.fakes.vpc.models_sg import SecurityGroup, SecurityGroupTarget

#: The VPC regions (``VpcV1.REGIONAL_ENDPOINTS``) and the id prefix each uses for regional resources.
REGIONS = {
    "au-syd": "r026", "br-sao": "r042", "ca-mon": "r058", "ca-tor": "r038", "eu-de": "r010", "eu-es": "r050",
    "eu-gb": "r018", "in-che": "r062", "in-mum": "r066", "jp-osa": "r034", "jp-tok": "r022", "us-east": "r014",
    "us-south": "r006",
}
ZONES_PER_REGION = 3
#: Quotas (quotas.md): raised by support in real accounts, fixed here.
MAX_RULES_PER_ACL = 200
MAX_ACLS_PER_VPC = 100
MAX_SUBNETS_PER_VPC = 100
MAX_SECURITY_GROUPS_PER_VPC = 100
MAX_RULES_PER_SECURITY_GROUP = 250
MAX_TARGETS_PER_SECURITY_GROUP = 1000  # not for the VPC's default group (security-groups.md)
MAX_SECURITY_GROUPS_PER_TARGET = 5  # a service limit, not a quota
DEFAULT_LIMIT, MAX_LIMIT = 50, 100
#: From this API version on, ``protocol: all`` is spelled ``icmp_tcp_udp`` (api-change-log 2025-12-09).
ICMP_TCP_UDP_SINCE = "2025-12-09"

_NAME = re.compile(r"^-?([a-z]|[a-z][-a-z0-9]*[a-z0-9]|[0-9][-a-z0-9]*([a-z]|[-a-z][-a-z0-9]*[a-z0-9]))$")
_VERSION = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_WORDS = (
    "amber", "brisk", "cedar", "dune", "ember", "fable", "glade", "harbor", "island", "jasper", "kettle",
    "lumen", "maple", "nectar", "onyx", "pebble", "quill", "raven", "sable", "thistle", "umber", "velvet",
    "willow", "yonder", "zephyr", "acorn", "basin", "canyon", "delta", "fjord", "granite", "hollow",
)


def now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def random_name() -> str:
    """What IBM gives a resource created without a name: a hyphenated list of random words."""
    return "-".join(random.choice(_WORDS) for _ in range(4))


@dataclass(slots=True)
class Rule:
    """One stored network ACL rule. ``protocol`` is stored in today's vocabulary (``icmp_tcp_udp``,
    ``any``...); ``legacy_all`` marks a deny rule created as ``all`` by an old client, which old
    clients still read as ``all`` and new ones as ``any``."""

    id: str
    name: str
    action: str
    direction: str
    protocol: str
    source: str
    destination: str
    destination_ports: tuple[int, int] | None = None
    source_ports: tuple[int, int] | None = None
    icmp_type: int | None = None
    icmp_code: int | None = None
    legacy_all: bool = False
    created_at: str = field(default_factory=now)


@dataclass(slots=True)
class Acl:
    id: str
    name: str
    vpc_id: str
    resource_group_id: str
    rules: list[Rule] = field(default_factory=list)
    created_at: str = field(default_factory=now)

    def rule(self, rule_id: str) -> Rule:
        for r in self.rules:
            if r.id == rule_id:
                return r
        raise NotFound(f"Network ACL rule {rule_id} not found in network ACL {self.id}")


@dataclass(slots=True)
class Vpc:
    id: str
    name: str
    resource_group_id: str
    default_acl_id: str
    default_routing_table_id: str
    default_security_group_id: str
    classic_access: bool = False
    created_at: str = field(default_factory=now)


@dataclass(slots=True)
class Subnet:
    id: str
    name: str
    vpc_id: str
    zone: str
    cidr: str
    acl_id: str
    resource_group_id: str
    gateway_id: str | None = None
    created_at: str = field(default_factory=now)


@dataclass(slots=True)
class Gateway:
    id: str
    name: str
    vpc_id: str
    zone: str
    resource_group_id: str
    floating_ip_id: str
    floating_ip_address: str
    created_at: str = field(default_factory=now)


@dataclass(slots=True)
class ResourceGroup:
    id: str
    name: str
    default: bool = False
    created_at: str = field(default_factory=now)


class Region:
    """The resources of one region, keyed by id in creation order."""

    def __init__(self, cloud: VpcCloud, name: str) -> None:
        self.cloud = cloud
        self.name = name
        self.code = REGIONS[name]
        self.vpcs: dict[str, Vpc] = {}
        self.acls: dict[str, Acl] = {}
        self.subnets: dict[str, Subnet] = {}
        self.gateways: dict[str, Gateway] = {}
        self.security_groups: dict[str, SecurityGroup] = {}
        self.targets: dict[str, SecurityGroupTarget] = {}
        self.pinned_vpc_ids: dict[str, str] = {}  # VPC name -> the id its creation takes (``control.pin``)
        self._floating = 0

    @property
    def zones(self) -> tuple[str, ...]:
        return tuple(f"{self.name}-{i}" for i in range(1, ZONES_PER_REGION + 1))

    def new_id(self, zone: str | None = None) -> str:
        if zone is None:
            return f"{self.code}-{uuid.uuid4()}"
        return f"0{self.code[-2:]}{zone[-1]}-{uuid.uuid4()}"

    def next_floating_ip(self) -> str:
        self._floating += 1
        return f"203.0.{113 + self._floating // 250}.{self._floating % 250 + 1}"

    # --- lookups --------------------------------------------------------------------------------
    def vpc(self, vpc_id: str) -> Vpc:
        return found(self.vpcs, vpc_id, "VPC")

    def acl(self, acl_id: str) -> Acl:
        return found(self.acls, acl_id, "Network ACL")

    def subnet(self, subnet_id: str) -> Subnet:
        return found(self.subnets, subnet_id, "Subnet")

    def gateway(self, gateway_id: str) -> Gateway:
        return found(self.gateways, gateway_id, "Public gateway")

    def referenced(self, kind: str, identity: Any, field_name: str) -> str:
        """The id an identity in a request body (``{"id"}``, ``{"crn"}`` or ``{"href"}``) names; a
        resource that does not exist is a bad field of the request (400), not a missing path (404)."""
        ident = identity_id(identity, field_name)
        tables: dict[str, dict[str, Any]] = {"vpc": self.vpcs, "network_acl": self.acls, "subnet": self.subnets,
                                             "public_gateway": self.gateways, "security_group": self.security_groups}
        table = tables[kind]
        if ident not in table:
            raise BadField(f"{kind.replace('_', ' ')} {ident} not found", field=f"{field_name}.id", value=ident)
        return ident

    def subnets_of_acl(self, acl_id: str) -> list[Subnet]:
        return [s for s in self.subnets.values() if s.acl_id == acl_id]

    def unique_name(self, name: str, existing: Sequence[str], what: str, field_name: str = "name") -> None:
        if name in existing:
            raise Conflict(f"{what} name {name!r} is already in use", field=field_name, value=name)

    def dump(self) -> dict[str, Any]:
        tables: dict[str, dict[str, Any]] = {
            "vpcs": self.vpcs, "network_acls": self.acls, "subnets": self.subnets, "public_gateways": self.gateways,
            "security_groups": self.security_groups, "security_group_targets": self.targets}
        return {key: [_record(v) for v in table.values()] for key, table in tables.items()}


def _record(value: Any) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for name in value.__slots__:
        item = getattr(value, name)
        out[name] = [_record(r) for r in item] if isinstance(item, list) else item
    return out


class VpcCloud:
    """The account behind every region: its id, resource groups, and the regions used so far."""

    def __init__(self, cloud: Any) -> None:
        self.cloud = cloud
        self.account_id = uuid.uuid4().hex
        self.default_group = ResourceGroup(uuid.uuid4().hex, "Default", default=True)
        self.regions: dict[str, Region] = {}
        self.resource_groups: dict[str, ResourceGroup] = {}
        self.reset()

    def reset(self) -> None:
        self.regions.clear()
        self.resource_groups = {self.default_group.id: self.default_group}

    def region(self, name: str) -> Region:
        if name not in REGIONS:
            raise NotFound(f"region {name} does not exist", field="region", value=name, target_type="parameter")
        if name not in self.regions:
            self.regions[name] = Region(self, name)
        return self.regions[name]

    def resource_group(self, identity: Any, field_name: str = "resource_group") -> ResourceGroup:
        """The group a request names (``{"id": ...}``), or the account's default group when absent."""
        if identity is None:
            return self.default_group
        ident = identity_id(identity, field_name)
        group = self.resource_groups.get(ident)
        if group is None:
            raise BadField(f"resource group {ident} not found", field=f"{field_name}.id", value=ident)
        return group

    def create_resource_group(self, name: Any) -> ResourceGroup:
        if not isinstance(name, str) or not name:
            raise MissingField("a resource group needs a name", field="name")
        if any(g.name == name for g in self.resource_groups.values()):
            raise Conflict(f"resource group name {name!r} is already in use", field="name", value=name)
        group = ResourceGroup(uuid.uuid4().hex, name)
        self.resource_groups[group.id] = group
        return group

    def dump(self) -> dict[str, Any]:
        return {"account_id": self.account_id,
                "resource_groups": [_record(g) for g in self.resource_groups.values()],
                "regions": {name: region.dump() for name, region in self.regions.items()}}


# --- request vocabulary ---------------------------------------------------------------------------


def check_version(version: str | None, generation: str | None, today: str) -> str:
    """The request's ``version``, a date no later than ``today`` (UTC, YYYY-MM-DD); every VPC API call
    must carry ``version`` and ``generation=2``."""
    if not version:
        raise BadVersion("The `version` query parameter is required", field="version", target_type="parameter")
    if not _VERSION.match(version):
        raise BadVersion(f"The `version` query parameter must be a date YYYY-MM-DD, not {version!r}",
                         field="version", value=version, target_type="parameter")
    try:
        datetime.strptime(version, "%Y-%m-%d")
    except ValueError as e:
        raise BadVersion(f"The `version` query parameter {version!r} is not a date", field="version",
                         value=version, target_type="parameter") from e
    if version > today:
        raise VersionOutOfRange(f"The `version` value cannot be after `{today}`", field="version", value=version,
                                target_type="parameter")
    if not generation:
        raise BadVersion("The `generation` query parameter is required", field="generation",
                         target_type="parameter")
    if generation != "2":
        raise BadVersion(f"The `generation` query parameter must be 2, not {generation!r}", field="generation",
                         value=generation, target_type="parameter")
    return version


def new_protocols(version: str) -> bool:
    return version >= ICMP_TCP_UDP_SINCE


def check_name(value: Any, field_name: str = "name") -> str:
    if not isinstance(value, str) or len(value) > 63 or not _NAME.match(value):
        raise BadField(f"{field_name} {value!r} is not a valid name (lowercase letters, digits and hyphens, "
                       "starting with a letter, at most 63 characters)", field=field_name, value=value)
    return value


def check_ipv4(value: Any, field_name: str) -> str:
    """An IPv4 address or CIDR block, as given (IBM echoes the request's spelling)."""
    if not isinstance(value, str):
        raise BadField(f"{field_name} must be an IPv4 address or CIDR block", field=field_name, value=value)
    try:
        net = ipaddress.ip_network(value.strip(), strict=False)
    except ValueError as e:
        raise BadField(f"{field_name} {value!r} is not an IPv4 address or CIDR block", field=field_name,
                       value=value) from e
    if net.version != 4:
        raise BadField(f"{field_name} {value!r}: only IPv4 is supported", field=field_name, value=value)
    return value.strip()


def identity_id(identity: Any, field_name: str) -> str:
    """``{"id": X}`` / ``{"crn": "...:X"}`` / ``{"href": ".../X"}`` -> X."""
    if not isinstance(identity, dict) or not identity:
        raise BadField(f"{field_name} must be an identity: {{'id'}}, {{'crn'}} or {{'href'}}", field=field_name)
    if isinstance(identity.get("id"), str) and identity["id"]:
        return str(identity["id"])
    if isinstance(identity.get("crn"), str) and identity["crn"]:
        return str(identity["crn"]).rsplit(":", 1)[-1]
    if isinstance(identity.get("href"), str) and identity["href"]:
        return urlsplit(str(identity["href"])).path.rstrip("/").rsplit("/", 1)[-1]
    raise BadField(f"{field_name} must be an identity: {{'id'}}, {{'crn'}} or {{'href'}}", field=field_name)


def body_object(body: Any) -> dict[str, Any]:
    if not isinstance(body, dict):
        raise BadField("the request body must be a JSON object")
    return body


def reject_unknown(body: dict[str, Any], allowed: set[str], where: str = "") -> None:
    for key in body:
        if key not in allowed:
            raise BadField(f"unknown property {where}{key}", field=f"{where}{key}")


T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class Page:
    items: list[Any]
    limit: int
    total_count: int
    next_start: str | None


def parse_limit(value: str | None) -> int:
    if value is None or value == "":
        return DEFAULT_LIMIT
    if not value.isdigit() or not 1 <= int(value) <= MAX_LIMIT:
        raise BadField(f"limit must be a whole number from 1 to {MAX_LIMIT}, not {value!r}", field="limit",
                       value=value, target_type="parameter")
    return int(value)


def page(items: Sequence[T], key: Callable[[T], str], start: str | None, limit_arg: str | None) -> Page:
    """One page of ``items``. ``start`` is opaque to clients; here it is ``<index>_<id>`` of the page's first
    item: the id says where the page starts (so pages survive inserts and deletes before them), the index
    lets a fault's regex on ``path?query`` pick a page (``start=100_`` is the second page of 100)."""
    limit = parse_limit(limit_arg)
    offset = 0
    if start:
        keys = [key(item) for item in items]
        index, _, ident = start.partition("_")
        if not index.isdigit() or ident not in keys:
            raise BadField(f"start token {start!r} is not valid for this collection", field="start",
                           value=start, target_type="parameter")
        offset = keys.index(ident)
    chunk = list(items[offset: offset + limit])
    rest = items[offset + limit:]
    return Page(chunk, limit, len(items), f"{offset + limit}_{key(rest[0])}" if rest else None)


def filter_by_group(items: list[T], group_id: str | None) -> list[T]:
    return [i for i in items if group_id is None or getattr(i, "resource_group_id", None) == group_id]


def found(table: Mapping[str, T], resource_id: str, kind: str) -> T:
    """``table[resource_id]``, or the API's 404 naming the kind of resource."""
    found = table.get(resource_id)
    if found is None:
        raise NotFound(f"{kind} {resource_id} not found")
    return found
