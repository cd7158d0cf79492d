"""IBM's secure-by-default (SbD) security groups of VPC clusters, as data: which groups IBM creates,
how they are named, which rules IBM documents in each, and which rule changes IBM makes itself.

netwarden diffs live security groups against a baseline. Four groups per cluster are IBM's, and IBM
edits them at run time (load balancer node ports, worker-pool subnets, one rule per cluster in the
shared VPE group); without this module every such edit would be drift, and the lint of a baseline
could not say which documented default a group lost. Everything here restates IBM's documentation;
docs/security-groups.md gives every fact with its source and marks what IBM does not say.

Sources (ibm-cloud-docs repositories): openshift @e8eca99 and containers @11a03d8
``vpc-security-group2.md`` (the groups, their rules, "Do not modify the rules in the
`kube-<clusterID>` security group"); openshift ``vpc-sbd-enable-existing.md`` (the pre-SbD group
``kube-<vpcID>``, the quotas SbD needs); openshift ``vpc-security-group.md`` @b7fbed15 and containers
``vpc-security-group.md`` @0f16cc7 (before 1.30 / 4.15); openshift ``ts-sbd-nodeport-not-working.md``
and ``ts-sbd-non-sbd-clusters.md`` (rules IBM maintains); vpc @3fdff6f ``security-groups-default.md``
(the VPC default group), ``quotas.md``, ``security-groups-network-acls-rule-migration-any-protocol.md``
(``all`` is ``icmp_tcp_udp`` from API version 2025-12-09, which ibm-vpc 0.36.0 requests).

Ids: IBM documents no format for cluster or VPC ids. A cluster id is taken to be lowercase letters and
digits without a hyphen (IBM's examples: ``coekl4a107ovqfndhh60``, ``df253b6025d64744ab99ed63bb4567b6``),
a VPC id a four-character prefix and a UUID (``r006-4727d842-f94f-4a2d-824a-9bc9b02c523b``); the two
shapes never overlap, which is what tells ``kube-vpegw-<clusterID>`` from ``kube-vpegw-<vpcID>``.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Mapping
from dataclasses import dataclass
from enum import Enum


class Platform(Enum):
    IKS = "containers"  # IBM Cloud Kubernetes Service: SbD for clusters created at 1.30 and later
    OPENSHIFT = "openshift"  # Red Hat OpenShift on IBM Cloud: SbD for clusters created at 4.15 and later


#: The first version whose *new* clusters are SbD; an older cluster updated past it is not ("Clusters
#: created at versions 4.14 and earlier did not get the secure by default security group configurations
#: when updating to 4.15", vpc-sbd-enable-existing.md), unless ``vpc secure-by-default enable`` ran.
SBD_SINCE: Mapping[Platform, tuple[int, int]] = {Platform.IKS: (1, 30), Platform.OPENSHIFT: (4, 15)}
BOTH = frozenset(Platform)
ONLY_OPENSHIFT = frozenset({Platform.OPENSHIFT})


def created_secure_by_default(platform: Platform, major: int, minor: int) -> bool:
    """Whether a cluster *created* at ``major.minor`` got the SbD groups."""
    return (major, minor) >= SBD_SINCE[platform]


class GroupKind(Enum):
    """A group IBM creates for VPC clusters; the value is the name pattern IBM documents."""

    WORKERS = "kube-<clusterID>"  # on every worker node of the cluster
    MASTER_VPE = "kube-vpegw-<clusterID>"  # on the VPE gateway of the cluster's master
    SHARED_VPE = "kube-vpegw-<vpcID>"  # on the VPE gateways all clusters of the VPC share
    LOAD_BALANCERS = "kube-lbaas-<clusterID>"  # on the cluster's VPC load balancers (not on SDNLBs)
    LEGACY_VPC = "kube-<vpcID>"  # before SbD: on the VPE gateways and the VPC ALBs
    VPC_DEFAULT = "<randomly generated>"  # the VPC's default group; on the workers before SbD


class Owner(Enum):
    CLUSTER = "cluster"
    VPC = "vpc"


@dataclass(frozen=True, slots=True)
class KindFacts:
    kind: GroupKind
    owner: Owner
    prefix: str  # the name is prefix + the owner's id ("" for the VPC default group, which IBM names at random)
    targets: str  # what IBM attaches the group to
    target_resource_types: tuple[str, ...]  # the API's target resource_type values that fit (see docs)
    sbd: bool  # created by SbD (True) or the pre-SbD arrangement (False); WORKERS is both
    ibm_says_do_not_modify: bool
    ibm_may_remove_user_rules: bool


KINDS: Mapping[GroupKind, KindFacts] = {f.kind: f for f in (
    KindFacts(GroupKind.WORKERS, Owner.CLUSTER, "kube-", "the cluster's worker nodes (in IBM's service account)",
              ("network_interface", "virtual_network_interface"), True, True, True),
    KindFacts(GroupKind.MASTER_VPE, Owner.CLUSTER, "kube-vpegw-", "the VPE gateway of the cluster master",
              ("endpoint_gateway",), True, False, False),
    KindFacts(GroupKind.SHARED_VPE, Owner.VPC, "kube-vpegw-", "the shared VPE gateways of the VPC",
              ("endpoint_gateway",), True, False, False),
    KindFacts(GroupKind.LOAD_BALANCERS, Owner.CLUSTER, "kube-lbaas-", "the cluster's ALBs and NLBs",
              ("load_balancer",), True, False, True),
    KindFacts(GroupKind.LEGACY_VPC, Owner.VPC, "kube-", "cluster-related VPE gateways and VPC ALBs (pre-SbD)",
              ("endpoint_gateway", "load_balancer"), False, True, False),
    KindFacts(GroupKind.VPC_DEFAULT, Owner.VPC, "", "the workers of pre-SbD clusters; any target given no group",
              ("network_interface", "virtual_network_interface", "endpoint_gateway", "load_balancer"),
              False, False, False),
)}

CLUSTER_ID = re.compile(r"[a-z0-9]{1,64}")
VPC_ID = re.compile(r"[0-9a-z]{4}-[0-9a-f]{8}(?:-[0-9a-f]{4}){3}-[0-9a-f]{12}")


def is_cluster_id(text: str) -> bool:
    return CLUSTER_ID.fullmatch(text) is not None


def is_vpc_id(text: str) -> bool:
    return VPC_ID.fullmatch(text) is not None


def group_name(kind: GroupKind, owner_id: str) -> str:
    """The name IBM gives the group of ``kind`` for a cluster id or VPC id (as the kind's owner is)."""
    facts = KINDS[kind]
    if kind is GroupKind.VPC_DEFAULT:
        raise ValueError("IBM names the VPC default group at random: find it by the VPC's default_security_group")
    fits = is_cluster_id if facts.owner is Owner.CLUSTER else is_vpc_id
    if not fits(owner_id):
        raise ValueError(f"{owner_id!r} is not a {facts.owner.value} id; {kind.value} needs one")
    return facts.prefix + owner_id


@dataclass(frozen=True, slots=True)
class ManagedName:
    kind: GroupKind
    owner_id: str  # a cluster id or a VPC id, as KINDS[kind].owner says


def parse_group_name(name: str) -> ManagedName | None:
    """Which IBM group kind, and whose, ``name`` is; None for a name IBM's patterns do not give. A name is
    only *shaped* like IBM's: confirm the id against the clusters and VPCs you know."""
    for prefix, cluster_kind, vpc_kind in (("kube-vpegw-", GroupKind.MASTER_VPE, GroupKind.SHARED_VPE),
                                           ("kube-lbaas-", GroupKind.LOAD_BALANCERS, None),
                                           ("kube-", GroupKind.WORKERS, GroupKind.LEGACY_VPC)):
        if name.startswith(prefix):  # the longer prefixes come first, so the first that fits decides
            rest = name[len(prefix):]
            if is_cluster_id(rest):
                return ManagedName(cluster_kind, rest)
            if vpc_kind is not None and is_vpc_id(rest):
                return ManagedName(vpc_kind, rest)
            return None
    return None


def managed_by(name: str, vpc_id: str | None) -> str:
    """``ibm`` for a name IBM gives (of this VPC, for a VPC's kinds), else ``user``. Cluster ids are not
    in the VPC API, so a cluster's group is known by its name alone; the reviewed baseline has the last word."""
    owner = parse_group_name(name)
    mine = owner is not None and (KINDS[owner.kind].owner is Owner.CLUSTER or owner.owner_id == vpc_id)
    return "ibm" if mine else "user"


class ClusterValue(Enum):
    """A port or remote IBM fills in per cluster, VPC or zone, which no document gives as a value."""

    POD_SUBNET = "the cluster's pod subnet (172.17.0.0/18 for a VPC's first cluster, then the next /18)"
    WORKER_POOL_SUBNETS = "the subnet CIDR of every active worker pool"
    IAM_PRIVATE_ENDPOINTS = "the IAM private endpoint address of every zone"
    DNS_RESOLVERS = "the custom DNS resolver address in every zone (hub and spoke VPCs)"
    INGRESS_ALB_PUBLIC_IPS = "every public address of the Ingress ALB"
    OAUTH_PUBLIC_ENDPOINTS = "the public endpoint addresses of every zone of the MZR"
    LB_NODE_PORTS = "the node ports the load balancers open"
    APISERVER_NODE_PORT = "the server URL node port"
    KONNECTIVITY_PORT = "the Konnectivity (or OpenVPN) port"
    OAUTH_PORT = "the OAuth port"
    IGNITION_PORT = "the ignition server port"
    UNDOCUMENTED_PORTS = "ports IBM's table does not give"


@dataclass(frozen=True, slots=True)
class GroupRef:
    """A remote that is another IBM group: of the same cluster, or (SHARED_VPE) of the cluster's VPC."""

    kind: GroupKind


Remote = str | GroupRef | ClusterValue  # str: a CIDR block or an address


@dataclass(frozen=True, slots=True)
class DocumentedRule:
    """One rule as IBM's table gives it; protocol as the API spells it from version 2025-12-09."""

    direction: str  # inbound | outbound
    protocol: str  # icmp_tcp_udp (IBM's tables: "All", "ICMP/TCP/UDP") | tcp | udp | icmp
    remote: Remote
    why: str  # IBM's description of the rule
    port_min: int | None = None  # both None: all ports, or ``ports`` names them
    port_max: int | None = None
    ports: ClusterValue | None = None
    icmp_type: int | None = None
    icmp_code: int | None = None
    platforms: frozenset[Platform] = BOTH
    condition: str | None = None  # when IBM says the rule exists at all
    per: str | None = None  # one rule per this ("zone", "worker-pool subnet", ...)
    ibm_maintained: bool = False  # IBM adds and removes it at run time
    name: str | None = None  # the rule name, where IBM documents one


ICMP_TCP_UDP = "icmp_tcp_udp"
ANYWHERE = "0.0.0.0/0"
IBM_SERVICE_RANGES = ("161.26.0.0/16", "166.8.0.0/14")
#: RFC 1918: where a VPC's subnets, and so a cluster's pod and worker-pool subnets, live.
PRIVATE_RANGES = ("10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16")
METADATA_ADDRESS = "169.254.169.254"
NODE_PORT_RANGE = (30000, 32767)
IN, OUT = "inbound", "outbound"
_WORKERS, _LBAAS = GroupRef(GroupKind.WORKERS), GroupRef(GroupKind.LOAD_BALANCERS)
_ITU = ICMP_TCP_UDP

RULES: Mapping[GroupKind, tuple[DocumentedRule, ...]] = {
    GroupKind.WORKERS: (
        DocumentedRule(IN, _ITU, ClusterValue.POD_SUBNET, "Allows inbound traffic to the pod subnet."),
        DocumentedRule(IN, _ITU, _WORKERS, "Allows inbound access to self which allows worker-to-worker "
                       "communication."),
        DocumentedRule(IN, "icmp", ANYWHERE, "Allows inbound ICMP (ping) access.", icmp_type=8),
        DocumentedRule(IN, "tcp", _LBAAS, "Allows inbound traffic from nodeports opened by your load balancers "
                       "(ALBs/NLBs).", ports=ClusterValue.LB_NODE_PORTS, per="load balancer node port",
                       ibm_maintained=True),
        DocumentedRule(OUT, _ITU, ClusterValue.POD_SUBNET, "Allows outbound traffic to the pod subnet."),
        DocumentedRule(OUT, _ITU, IBM_SERVICE_RANGES[0], "Allows outbound traffic to the master control plane which "
                       "allows workers to be provisioned."),
        DocumentedRule(OUT, _ITU, _WORKERS, "Allows outbound access to self which allows worker-to-worker "
                       "communication."),
        DocumentedRule(OUT, _ITU, GroupRef(GroupKind.MASTER_VPE), "Allows outbound traffic to the master VPE gateway "
                       "security group."),
        DocumentedRule(OUT, _ITU, GroupRef(GroupKind.SHARED_VPE), "Allows outbound traffic to the shared VPE gateway "
                       "security group."),
        DocumentedRule(OUT, "tcp", ClusterValue.OAUTH_PUBLIC_ENDPOINTS, "Allows traffic to the public endpoint through "
                       "the oauth port for all zones of the MZR where the cluster is located.",
                       ports=ClusterValue.OAUTH_PORT, platforms=ONLY_OPENSHIFT,
                       condition="public service endpoint enabled", per="zone of the MZR"),
        DocumentedRule(OUT, "tcp", ClusterValue.INGRESS_ALB_PUBLIC_IPS, "Allows TCP traffic through Ingress ALB",
                       port_min=443, port_max=443, per="ALB public address"),
        *(DocumentedRule(OUT, protocol, ClusterValue.DNS_RESOLVERS, "Allows TCP and UDP traffic through custom DNS "
                         "resolver for zone n.", port_min=53, port_max=53,
                         condition="hub and spoke VPC with custom DNS resolvers", per="zone")
          for protocol in ("tcp", "udp")),
        DocumentedRule(OUT, _ITU, IBM_SERVICE_RANGES[1], "Allows traffic to the entire CSE service range."),
        DocumentedRule(OUT, _ITU, ClusterValue.IAM_PRIVATE_ENDPOINTS, "Allows traffic to the IAM private endpoint for "
                       "all zones.", per="zone"),
        DocumentedRule(OUT, _ITU, METADATA_ADDRESS, "Allows outbound traffic to the instance metadata API.",
                       condition="tagged 4.18 and later (the OpenShift page also lists it untagged)"),
    ),
    GroupKind.MASTER_VPE: (
        DocumentedRule(IN, "tcp", _WORKERS, "Allows inbound traffic from the cluster worker security group to the "
                       "server nodeport.", ports=ClusterValue.APISERVER_NODE_PORT),
        DocumentedRule(IN, "tcp", _WORKERS, "Allows inbound traffic from the cluster worker security group to the "
                       "openVPN or Konnectivity port.", ports=ClusterValue.KONNECTIVITY_PORT),
        DocumentedRule(IN, "tcp", _WORKERS, "Allows inbound traffic from the cluster worker security group to the "
                       "Oauth port.", ports=ClusterValue.OAUTH_PORT, platforms=ONLY_OPENSHIFT),
        DocumentedRule(IN, "tcp", _WORKERS, "Allows inbound traffic from the cluster worker security group to the "
                       "ignition server port", ports=ClusterValue.IGNITION_PORT, platforms=ONLY_OPENSHIFT,
                       condition="CoreOS-enabled clusters only"),
        DocumentedRule(IN, "tcp", ClusterValue.WORKER_POOL_SUBNETS, "Allows inbound traffic from the subnet of every "
                       "active worker pool in your cluster.", ports=ClusterValue.APISERVER_NODE_PORT,
                       per="worker-pool subnet", ibm_maintained=True),
        DocumentedRule(IN, "tcp", ClusterValue.WORKER_POOL_SUBNETS, "Allows inbound traffic from the subnet of every "
                       "active worker pool in your cluster.", ports=ClusterValue.OAUTH_PORT,
                       platforms=ONLY_OPENSHIFT, per="worker-pool subnet", ibm_maintained=True),
    ),
    GroupKind.SHARED_VPE: (
        DocumentedRule(IN, "tcp", _WORKERS, "Allows inbound traffic from the specified cluster.",
                       ports=ClusterValue.UNDOCUMENTED_PORTS, per="cluster in the VPC", ibm_maintained=True),
    ),
    GroupKind.LOAD_BALANCERS: (
        DocumentedRule(OUT, "tcp", _WORKERS, "Allows outbound access to node port opened by the load balancer.",
                       ports=ClusterValue.LB_NODE_PORTS, per="load balancer node port", ibm_maintained=True),
        *(DocumentedRule(IN, "tcp", ANYWHERE, f"Load balancer listens on port {port} allowing inbound access from "
                         "that port.", port_min=port, port_max=port, per="listener port", ibm_maintained=True,
                         condition="IBM's example: a cluster with one ALB")
          for port in (80, 443)),
    ),
    GroupKind.LEGACY_VPC: (),  # IBM only says it "Allows traffic necessary for the cluster infrastructure to function"
    GroupKind.VPC_DEFAULT: (
        DocumentedRule(IN, _ITU, GroupRef(GroupKind.VPC_DEFAULT), "allow inbound ICMP, TCP, and UDP traffic from any "
                       "member of this security group", name="inbound-icmp-tcp-udp-from-this-security-group"),
        DocumentedRule(OUT, _ITU, ANYWHERE, "allow outbound ICMP, TCP, and UDP traffic to any destination",
                       name="outbound-icmp-tcp-udp"),
    ),
}

#: Before SbD IBM gave no per-group table: what the VPC default group and ``kube-<clusterID>`` together
#: had to allow (containers vpc-security-group.md @0f16cc7, "Minimum inbound and outbound requirements").
PRE_SBD_WORKER_REQUIREMENTS: tuple[DocumentedRule, ...] = (
    DocumentedRule(IN, _ITU, GroupRef(GroupKind.VPC_DEFAULT), "Allow all worker nodes in this cluster to communicate "
                   "with each other."),
    DocumentedRule(IN, "tcp", ANYWHERE, "Allow incoming traffic requests to apps that run on your worker nodes.",
                   port_min=NODE_PORT_RANGE[0], port_max=NODE_PORT_RANGE[1]),
    DocumentedRule(IN, "udp", ANYWHERE, "If you require VPC VPN access or classic infrastructure access into this "
                   "cluster, allow incoming traffic requests to apps that run on your worker nodes.",
                   port_min=NODE_PORT_RANGE[0], port_max=NODE_PORT_RANGE[1], condition="VPN or classic access"),
    DocumentedRule(OUT, _ITU, IBM_SERVICE_RANGES[0], "Allow worker nodes to be created in your cluster."),
    DocumentedRule(OUT, _ITU, IBM_SERVICE_RANGES[1], "Allow worker nodes to communicate with other IBM Cloud services "
                   "that support private cloud service endpoints."),
    DocumentedRule(OUT, _ITU, _WORKERS, "Allow all worker nodes in this cluster to communicate with each other."),
)

#: Quotas (vpc quotas.md "Security groups", "Service limits") and what SbD takes of them.
GROUPS_PER_VPC = 100
RULES_PER_GROUP = 250
TARGETS_PER_USER_GROUP = 1000  # the default group is exempt
GROUPS_PER_TARGET = 5
CUSTOM_GROUPS_PER_WORKER = GROUPS_PER_TARGET - 1  # beside kube-<clusterID>, chosen only at creation
CLUSTERS_PER_VPC = 15  # containers / openshift docs; see docs/security-groups.md for the VPC side's change
SBD_GROUPS_FIRST_CLUSTER, SBD_GROUPS_NEXT_CLUSTER = 4, 3  # kube-vpegw-<vpcID> is shared


@dataclass(frozen=True, slots=True)
class LiveRule:
    """The part of a live rule the churn and egress questions read; ``remote_group`` is the remote
    group's name (the API's remote reference carries it; names are unique in a VPC)."""

    direction: str
    protocol: str
    port_min: int | None = None
    port_max: int | None = None
    remote_cidr: str | None = None  # a CIDR block or an address
    remote_group: str | None = None


class Change(Enum):
    ADDED = "added"
    REMOVED = "removed"


def protocol_of(value: str) -> str:
    """The protocol as API version 2025-12-09 and later spells it (``all`` became ``icmp_tcp_udp``)."""
    return ICMP_TCP_UDP if value == "all" else value


def _within_node_ports(rule: LiveRule) -> bool:
    return (rule.port_min is not None and rule.port_max is not None
            and NODE_PORT_RANGE[0] <= rule.port_min <= rule.port_max <= NODE_PORT_RANGE[1])


def _remote_kind(rule: LiveRule) -> ManagedName | None:
    return None if rule.remote_group is None else parse_group_name(rule.remote_group)


def churn_reason(group: str, rule: LiveRule, change: Change,
                 worker_pool_subnets: frozenset[str] = frozenset()) -> str | None:
    """Why IBM itself makes ``change`` to ``rule`` in the group named ``group``, or None when IBM's
    documents give no reason (then the change is drift). ``worker_pool_subnets`` are the CIDRs of the
    cluster's worker-pool subnets; without them no rule of the master VPE group is churn."""
    owner = parse_group_name(group)
    if owner is None:
        return None
    protocol, remote = protocol_of(rule.protocol), _remote_kind(rule)
    inbound_tcp = rule.direction == IN and protocol == "tcp"
    if owner.kind is GroupKind.WORKERS:
        if inbound_tcp and _within_node_ports(rule) and remote == ManagedName(GroupKind.LOAD_BALANCERS, owner.owner_id):
            return "a load balancer's node port: IBM adds and removes it as load balancers change"
        if (change is Change.REMOVED and rule.direction == IN and protocol in ("tcp", "udp")
                and _within_node_ports(rule)):
            return "IBM removes rules in the node port range that are not needed"
        if (change is Change.ADDED and rule.direction == OUT and protocol == ICMP_TCP_UDP and remote is not None
                and remote.kind is GroupKind.SHARED_VPE):
            return "IBM adds access to the shared VPE gateway group to existing clusters' worker groups"
    elif owner.kind is GroupKind.LOAD_BALANCERS:
        if (rule.direction == OUT and protocol == "tcp" and _within_node_ports(rule)
                and remote == ManagedName(GroupKind.WORKERS, owner.owner_id)):
            return "a load balancer's node port: IBM adds and removes it as load balancers change"
        if inbound_tcp and rule.remote_cidr == ANYWHERE:
            return "a load balancer's listener port: IBM adds and removes it as load balancers change"
        if change is Change.REMOVED:
            return "IBM says rules added to kube-lbaas-<clusterID> might be removed"
    elif owner.kind is GroupKind.MASTER_VPE:
        if (inbound_tcp and rule.port_min is not None and rule.port_min == rule.port_max
                and rule.remote_cidr in worker_pool_subnets):
            return "a worker-pool subnet: IBM keeps one rule per active worker pool's subnet"
    elif owner.kind is GroupKind.SHARED_VPE and inbound_tcp and remote is not None and remote.kind is GroupKind.WORKERS:
        return "a cluster of the VPC: IBM adds one rule per cluster's worker group"
    return None


class OutboundProtection(Enum):
    """SbD's outbound traffic protection: "public outbound traffic from the cluster workers is blocked"
    while ENABLED (the default); DISABLED "allows all outbound network connections". Which rules the
    toggle writes IBM does not document: read the state from the cluster, not from the rules."""

    ENABLED = "enabled"
    DISABLED = "disabled"


#: The kube-<clusterID> remotes IBM itself calls public although protection is enabled (the IAM private
#: endpoints' addresses IBM does not give, so whether they are public is not known).
PUBLIC_REMOTES_UNDER_PROTECTION = (ClusterValue.INGRESS_ALB_PUBLIC_IPS, ClusterValue.OAUTH_PUBLIC_ENDPOINTS)
#: What an outbound rule may reach without reaching the public internet: private-use, shared, loopback and
#: link-local space (the metadata service), and the IBM service ranges the workers need.
NOT_PUBLIC = tuple(ipaddress.IPv4Network(n) for n in (
    *PRIVATE_RANGES, "100.64.0.0/10", "127.0.0.0/8", "169.254.0.0/16", *IBM_SERVICE_RANGES))


def opens_public_egress(rule: LiveRule) -> bool:
    """Whether an outbound rule lets the workers reach some public internet address: what outbound
    traffic protection blocks. Remote groups are inside the VPC and never do."""
    if rule.direction != OUT or rule.remote_cidr is None:
        return False
    network = ipaddress.IPv4Network(rule.remote_cidr, strict=False)
    return not any(network.subnet_of(space) for space in NOT_PUBLIC)
