"""The canonical model of a network perimeter: what a baseline says and what a live snapshot shows.

Both sides of every comparison are a ``Snapshot``: the baseline directory is read into one, the live
collectors build one, and a snapshot file is one serialised. Values here are already normalised
(``core.normalize``): CIDRs canonical, protocol synonyms folded, default ports filled, NetworkPolicy
specs in canonical order. Volatile identity (ids, hrefs, CRNs) is carried for remediation and
reports, but never compared.

Names are the keys: an ACL is known by ``region/vpc/acl-name``, a rule by its name within its ACL
and by its position, a subnet by ``region/vpc/subnet-name``, a security group by
``region/vpc/group-name`` and its rules by what they allow (a set: they have no order and IBM names
its own at random), a policy by ``cluster/namespace/name``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from netwarden.core.scope import ReadScope

Action = Literal["allow", "deny"]
Direction = Literal["inbound", "outbound"]

#: Protocols whose rules carry tcp/udp port ranges.
PORT_PROTOCOLS = frozenset({"tcp", "udp"})
#: The canonical name of "icmp, tcp and udp" (the API said ``all`` before 2025-12-09).
ICMP_TCP_UDP = "icmp_tcp_udp"


@dataclass(frozen=True, slots=True, order=True)
class PortRange:
    """An inclusive port range; ``str()`` gives the baseline spelling (``443`` or ``30000-32767``)."""

    min: int
    max: int

    def __str__(self) -> str:
        return str(self.min) if self.min == self.max else f"{self.min}-{self.max}"

    @property
    def is_all(self) -> bool:
        return self.min == 1 and self.max == 65535


ALL_PORTS = PortRange(1, 65535)


@dataclass(frozen=True, slots=True)
class AclRule:
    """One network ACL rule. For tcp/udp both port ranges are always set (ALL_PORTS by default);
    for icmp ``icmp_type``/``icmp_code`` are None when they match everything; other protocols carry
    neither."""

    name: str
    action: str
    direction: str
    protocol: str
    source: str
    destination: str
    destination_port: PortRange | None = None
    source_port: PortRange | None = None
    icmp_type: int | None = None
    icmp_code: int | None = None
    id: str | None = field(default=None, compare=False)

    def essence(self) -> tuple[Any, ...]:
        """Everything that decides what the rule matches and does, without its name or id."""
        return (
            self.action,
            self.direction,
            self.protocol,
            self.source,
            self.destination,
            self.destination_port,
            self.source_port,
            self.icmp_type,
            self.icmp_code,
        )


@dataclass(frozen=True, slots=True)
class NetworkAcl:
    """A network ACL: both directions in one ordered list, as IBM evaluates them."""

    name: str
    rules: tuple[AclRule, ...]
    id: str | None = field(default=None, compare=False)


@dataclass(frozen=True, slots=True)
class Subnet:
    """A subnet and what is attached to it, by name. ``zone`` and ``cidr`` feed the impact analysis;
    a baseline may leave them out."""

    name: str
    network_acl: str | None
    public_gateway: str | None = None
    zone: str | None = None
    cidr: str | None = None
    id: str | None = field(default=None, compare=False)


#: A security group rule's ``local`` when it names none: every address of the target.
ANYWHERE = "0.0.0.0/0"
#: Who keeps a security group: IBM (the secure-by-default groups of a cluster) or its users.
MANAGED_BY = ("ibm", "user")


@dataclass(frozen=True, slots=True)
class SgRule:
    """One security group rule: stateful and allow-only. The remote is addresses (``remote``, a
    canonical CIDR) or another group of the VPC (``remote_group``, by name): exactly one is set. For
    tcp/udp ``ports`` is always set (ALL_PORTS by default); for icmp ``icmp_type``/``icmp_code`` are
    None when they match everything. ``core.sg_rules`` builds one from the API or a file."""

    direction: str
    protocol: str
    remote: str | None = None
    remote_group: str | None = None
    local: str = ANYWHERE
    ports: PortRange | None = None
    icmp_type: int | None = None
    icmp_code: int | None = None
    id: str | None = field(default=None, compare=False)


@dataclass(frozen=True, slots=True)
class SgTarget:
    """What a group is bound to, by its kind (the API's ``resource_type``) and name."""

    type: str
    name: str
    id: str | None = field(default=None, compare=False)


@dataclass(frozen=True, slots=True)
class SecurityGroup:
    """A security group: its rules in canonical order without repeats (so that equal tuples are equal
    sets), its targets sorted by (type, name), and who keeps it (``MANAGED_BY``)."""

    name: str
    rules: tuple[SgRule, ...] = ()
    targets: tuple[SgTarget, ...] = ()
    managed_by: str = "user"
    id: str | None = field(default=None, compare=False)

    @property
    def ibm_managed(self) -> bool:
        return self.managed_by == "ibm"


@dataclass(frozen=True, slots=True)
class Vpc:
    """One VPC of one region: its ACLs (sorted by name), subnets (sorted by name), security groups
    (sorted by name), and which ACL and which group are the VPC's defaults (the allow-all ACL a subnet
    falls back to; the group a target created without one gets)."""

    region: str
    name: str
    acls: tuple[NetworkAcl, ...] = ()
    subnets: tuple[Subnet, ...] = ()
    default_acl: str | None = None
    public_gateways: tuple[str, ...] = ()
    id: str | None = field(default=None, compare=False)
    security_groups: tuple[SecurityGroup, ...] = ()
    default_security_group: str | None = None

    @property
    def scope(self) -> str:
        return f"{self.region}/{self.name}"

    def acl(self, name: str) -> NetworkAcl | None:
        return next((a for a in self.acls if a.name == name), None)

    def subnet(self, name: str) -> Subnet | None:
        return next((s for s in self.subnets if s.name == name), None)

    def security_group(self, name: str) -> SecurityGroup | None:
        return next((g for g in self.security_groups if g.name == name), None)


@dataclass(frozen=True, slots=True)
class Namespace:
    name: str
    labels: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class NetworkPolicy:
    """A NetworkPolicy; ``spec`` is the canonical spec (``normalize.netpol_spec``) as plain JSON data,
    ``labels`` the policy's own metadata labels (kept for a faithful manifest, not compared)."""

    namespace: str
    name: str
    spec: Mapping[str, Any]
    labels: Mapping[str, str] = field(default_factory=dict, compare=False)

    @property
    def key(self) -> str:
        return f"{self.namespace}/{self.name}"


@dataclass(frozen=True, slots=True)
class ContainerPort:
    port: int
    protocol: str = "TCP"
    name: str | None = None


@dataclass(frozen=True, slots=True)
class Pod:
    """A pod as the reachability analysis needs it: where it lives, its labels and named ports."""

    namespace: str
    name: str
    labels: Mapping[str, str] = field(default_factory=dict)
    ports: tuple[ContainerPort, ...] = ()
    ip: str | None = None
    node: str | None = None


#: The kinds of workload the gateway recipe pins (``Workload.kind``).
WORKLOAD_KINDS = ("Deployment", "StatefulSet", "DaemonSet")


@dataclass(frozen=True, slots=True)
class Workload:
    """A Deployment, StatefulSet or DaemonSet of a managed namespace, as the gateway recipe needs it:
    the labels of its pods, the worker subnet ids (and zones) its required node affinity or node selector
    admits (None: not pinned, any), its pods by name, and the subnet ids of the nodes they run on."""

    namespace: str
    name: str
    kind: str
    labels: Mapping[str, str] = field(default_factory=dict)
    subnets: tuple[str, ...] | None = None
    zones: tuple[str, ...] | None = None
    pods: tuple[str, ...] = ()
    running: tuple[str, ...] = ()

    @property
    def key(self) -> str:
        return f"{self.namespace}/{self.name}"


@dataclass(frozen=True, slots=True)
class EgressPin:
    """A baseline's word (``workloads.yaml``) that a workload needs public egress, pinned to ``subnet`` (a
    subnet name; the affinity names its id, resolved at run time); ``exclusive``: only pinned workloads
    may run there."""

    namespace: str
    name: str
    subnet: str
    exclusive: bool = False

    @property
    def key(self) -> str:
        return f"{self.namespace}/{self.name}"


@dataclass(frozen=True, slots=True)
class Cluster:
    """One Kubernetes cluster. ``namespaces`` holds the managed namespaces with their labels;
    ``worker_subnets`` the VPC subnet ids (or names) its workers run on, from the nodes'
    ``ibm-cloud.kubernetes.io/subnet-id`` label; ``workloads`` the live workloads of the managed
    namespaces; ``egress`` (a baseline's) the workloads that need public egress and where they are pinned."""

    name: str
    namespaces: tuple[Namespace, ...] = ()
    policies: tuple[NetworkPolicy, ...] = ()
    pods: tuple[Pod, ...] = ()
    worker_subnets: tuple[str, ...] = ()
    workloads: tuple[Workload, ...] = ()
    egress: tuple[EgressPin, ...] = ()

    @property
    def scope(self) -> str:
        return f"k8s/{self.name}"

    def namespace(self, name: str) -> Namespace | None:
        return next((n for n in self.namespaces if n.name == name), None)


@dataclass(frozen=True, slots=True)
class Unreadable:
    """A scope that could not be read: its resources are unknown, never empty."""

    scope: str
    reason: str


@dataclass(frozen=True, slots=True)
class Snapshot:
    """The state of a perimeter at one moment (live) or as reviewed (baseline)."""

    vpcs: tuple[Vpc, ...] = ()
    clusters: tuple[Cluster, ...] = ()
    unreadable: tuple[Unreadable, ...] = ()
    taken_at: str | None = field(default=None, compare=False)
    #: What the live read was configured to cover; None for a baseline or a snapshot file.
    scope: ReadScope | None = field(default=None, compare=False)

    @property
    def complete(self) -> bool:
        return not self.unreadable

    def vpc(self, region: str, name: str) -> Vpc | None:
        return next((v for v in self.vpcs if v.region == region and v.name == name), None)

    def cluster(self, name: str) -> Cluster | None:
        return next((c for c in self.clusters if c.name == name), None)

    def is_unreadable(self, scope: str) -> bool:
        """True when ``scope`` or any scope above it (``region``, ``region/vpc``) could not be read."""
        return any(scope == u.scope or scope.startswith(u.scope + "/") for u in self.unreadable)
