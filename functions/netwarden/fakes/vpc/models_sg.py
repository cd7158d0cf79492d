"""The VPC emulator's security group state: groups, their rules, and the targets groups are bound to.

Plain records, as ``models`` holds for ACLs and subnets, kept in this module (which imports nothing of
the emulator's but its errors) so that ``models.Region`` can type its tables while the rules IBM applies
to them live beside it: ``models_sg_groups`` (groups and their rules) and ``models_sg_targets`` (the
targets and the bindings).

Facts followed (ibm-vpc 0.36.0 ``SecurityGroup``, ``SecurityGroupRule`` and
``SecurityGroupTargetReference`` models; ibm-cloud-docs/vpc ``security-groups.md``): a group belongs to
one VPC and holds unordered, allow-only rules (all are considered); a rule's ``remote`` is a CIDR block,
an IP address or a security group of the same VPC, its ``local`` a CIDR block or an IP address
(``0.0.0.0/0`` when not given); tcp and udp rules carry both ``port_min`` and ``port_max`` or neither
(every port), icmp rules an optional ``type`` and an optional ``code``. A target (an instance network
interface, a virtual network interface, an endpoint gateway or a load balancer) belongs to one VPC and
keeps the groups bound to it in binding order.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from netwarden.fakes.vpc.exceptions import NotFound

#: The ``resource_type`` of each kind of target the emulator registers (``SecurityGroupTargetReference``).
TARGET_KINDS = ("network_interface", "virtual_network_interface", "endpoint_gateway", "load_balancer")
#: Kinds that live in a subnet (and so in a zone) and have a primary IP address.
ZONAL_KINDS = frozenset({"network_interface", "virtual_network_interface"})
#: ``remote`` / ``local`` kinds: the request property that names each, and for remote a group's id.
CIDR, ADDRESS, GROUP = "cidr_block", "address", "security_group"
ANYWHERE = (CIDR, "0.0.0.0/0")


@dataclass(slots=True)
class SecurityGroupRule:
    """One stored rule. ``protocol`` is kept in today's vocabulary (``icmp_tcp_udp``, ``any``, ``tcp``...);
    ``remote`` and ``local`` are ``(kind, value)``: ``("cidr_block", "10.0.0.0/8")``, ``("address",
    "10.0.0.5")``, or for ``remote`` ``("security_group", <group id>)``. ``ports`` is ``(min, max)``
    for tcp/udp, None for every port."""

    id: str
    name: str
    direction: str
    protocol: str
    remote: tuple[str, str]
    local: tuple[str, str]
    created_at: str
    ports: tuple[int, int] | None = None
    icmp_type: int | None = None
    icmp_code: int | None = None


@dataclass(slots=True)
class SecurityGroup:
    id: str
    name: str
    vpc_id: str
    resource_group_id: str
    created_at: str
    rules: list[SecurityGroupRule] = field(default_factory=list)

    def rule(self, rule_id: str) -> SecurityGroupRule:
        for r in self.rules:
            if r.id == rule_id:
                return r
        raise NotFound(f"Security group rule {rule_id} not found in security group {self.id}")


@dataclass(slots=True)
class SecurityGroupTarget:
    """A resource security groups are bound to. ``security_group_ids`` is in binding order. Zonal kinds
    (network interfaces) have a subnet, a zone and a primary IP ``address``; ``parent_id`` is the
    instance of a network interface (its href is under the instance) or the reserved IP of a virtual
    network interface's primary IP."""

    kind: str
    id: str
    name: str
    vpc_id: str
    security_group_ids: tuple[str, ...] = ()
    subnet_id: str | None = None
    subnet_name: str | None = None
    zone: str | None = None
    address: str | None = None
    parent_id: str | None = None
