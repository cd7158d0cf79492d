"""IBM's secure-by-default groups as data: names to kinds and back, the rule changes IBM makes itself
(and the ones it does not), and which outbound rules reach the public internet."""

from __future__ import annotations

import pytest

from netwarden.core import sbd
from netwarden.core.acl.private_ranges import IBM_PRIVATE_RANGES
from netwarden.core.sbd import Change, ClusterValue, DocumentedRule, GroupKind, GroupRef, LiveRule, ManagedName

CLUSTER = "coekl4a107ovqfndhh60"  # the cluster id in IBM's vpc-sbd-allow-outbound.md example
OLD_CLUSTER = "df253b6025d64744ab99ed63bb4567b6"  # the 32-character id in vpc-security-group-manage.md
OTHER = "bqcssbbd0bsui62odcdg"
VPC = "r006-4727d842-f94f-4a2d-824a-9bc9b02c523b"
OLD_VPC = "0717-0c0899ce-48ac-4eb6-892d-4e2e1ff8c947"  # a four-digit prefix, as in IBM's subnet id examples
WORKERS, LBAAS = f"kube-{CLUSTER}", f"kube-lbaas-{CLUSTER}"
MASTER_VPE, SHARED_VPE = f"kube-vpegw-{CLUSTER}", f"kube-vpegw-{VPC}"
POOL_SUBNETS = frozenset({"10.240.0.0/24", "10.240.64.0/24"})


@pytest.mark.parametrize(("kind", "owner_id", "name"), [
    (GroupKind.WORKERS, CLUSTER, WORKERS),
    (GroupKind.WORKERS, OLD_CLUSTER, f"kube-{OLD_CLUSTER}"),
    (GroupKind.MASTER_VPE, CLUSTER, MASTER_VPE),
    (GroupKind.SHARED_VPE, VPC, SHARED_VPE),
    (GroupKind.LOAD_BALANCERS, CLUSTER, LBAAS),
    (GroupKind.LEGACY_VPC, VPC, f"kube-{VPC}"),
    (GroupKind.LEGACY_VPC, OLD_VPC, f"kube-{OLD_VPC}"),
])
def test_names_round_trip(kind: GroupKind, owner_id: str, name: str) -> None:
    assert sbd.group_name(kind, owner_id) == name
    assert sbd.parse_group_name(name) == ManagedName(kind, owner_id)


@pytest.mark.parametrize("name", [
    "trench-hexagon-matriarch-flower",  # a VPC default group's random name
    "kube-", "kube-vpegw-", "kube-lbaas-",
    f"kube-lbaas-{VPC}",  # IBM names no load balancer group after a VPC
    f"kube-vpegw-{CLUSTER}-x", f"kube-{CLUSTER.upper()}", f"my-kube-{CLUSTER}", f"kube_{CLUSTER}",
    "kube-r006-111a11aa-aaa1-1a1a-aa11-1a1a111aa11",  # IBM's placeholder VPC id: not a UUID
])
def test_names_ibm_does_not_give_are_no_kind(name: str) -> None:
    assert sbd.parse_group_name(name) is None


@pytest.mark.parametrize(("kind", "owner_id"), [
    (GroupKind.WORKERS, VPC), (GroupKind.MASTER_VPE, VPC), (GroupKind.LOAD_BALANCERS, VPC),
    (GroupKind.SHARED_VPE, CLUSTER), (GroupKind.LEGACY_VPC, CLUSTER), (GroupKind.WORKERS, ""),
    (GroupKind.VPC_DEFAULT, VPC),
])
def test_a_name_needs_the_owner_its_kind_has(kind: GroupKind, owner_id: str) -> None:
    with pytest.raises(ValueError, match=r"id|random"):
        sbd.group_name(kind, owner_id)


def test_every_kind_has_facts_and_a_rule_table() -> None:
    assert set(sbd.KINDS) == set(GroupKind) == set(sbd.RULES)
    assert all(facts.kind is kind for kind, facts in sbd.KINDS.items())


def test_the_ibm_ranges_are_the_ones_the_acl_checks_hold_workers_to() -> None:
    assert sbd.IBM_SERVICE_RANGES == IBM_PRIVATE_RANGES


ALL_RULES = [(kind, rule) for kind, rules in sbd.RULES.items() for rule in rules] + [
    (GroupKind.WORKERS, rule) for rule in sbd.PRE_SBD_WORKER_REQUIREMENTS]


@pytest.mark.parametrize(("kind", "rule"), ALL_RULES, ids=lambda v: getattr(v, "why", str(v))[:40])
def test_documented_rules_are_well_formed(kind: GroupKind, rule: DocumentedRule) -> None:
    assert rule.direction in ("inbound", "outbound")
    assert rule.protocol in ("icmp_tcp_udp", "tcp", "udp", "icmp")
    assert (rule.port_min is None) == (rule.port_max is None)
    if rule.port_min is not None or rule.ports is not None:
        assert rule.protocol in ("tcp", "udp") and not (rule.port_min is not None and rule.ports is not None)
    if rule.icmp_type is not None or rule.icmp_code is not None:
        assert rule.protocol == "icmp"


#: Example values for what IBM fills in per cluster (ports from IBM's examples: 30685, 30829, 31062).
PORTS = {ClusterValue.LB_NODE_PORTS: 30080, ClusterValue.APISERVER_NODE_PORT: 30685,
         ClusterValue.KONNECTIVITY_PORT: 30829, ClusterValue.OAUTH_PORT: 31062, ClusterValue.IGNITION_PORT: 22623}
REMOTES = {ClusterValue.POD_SUBNET: "172.17.0.0/18", ClusterValue.WORKER_POOL_SUBNETS: "10.240.0.0/24",
           ClusterValue.IAM_PRIVATE_ENDPOINTS: "166.9.228.45", ClusterValue.DNS_RESOLVERS: "10.241.0.4",
           ClusterValue.INGRESS_ALB_PUBLIC_IPS: "150.240.66.9", ClusterValue.OAUTH_PUBLIC_ENDPOINTS: "169.63.111.82"}
OWNERS = {sbd.Owner.CLUSTER: CLUSTER, sbd.Owner.VPC: VPC}


def live(rule: DocumentedRule) -> LiveRule:
    """``rule`` as the API would show it for CLUSTER in VPC."""
    port = PORTS.get(rule.ports) if rule.ports is not None else rule.port_min
    port_max = port if rule.ports is not None else rule.port_max
    if isinstance(rule.remote, GroupRef):
        owner = OWNERS[sbd.KINDS[rule.remote.kind].owner]
        group = "trench-hexagon-matriarch-flower" if rule.remote.kind is GroupKind.VPC_DEFAULT else \
            sbd.group_name(rule.remote.kind, owner)
        return LiveRule(rule.direction, rule.protocol, port, port_max, remote_group=group)
    cidr = REMOTES[rule.remote] if isinstance(rule.remote, ClusterValue) else rule.remote
    return LiveRule(rule.direction, rule.protocol, port, port_max, remote_cidr=cidr)


def name_of(kind: GroupKind) -> str:
    return "trench-hexagon-matriarch-flower" if kind is GroupKind.VPC_DEFAULT else \
        sbd.group_name(kind, OWNERS[sbd.KINDS[kind].owner])


MAINTAINED = [(k, r) for k, r in ALL_RULES if r.ibm_maintained]
KEPT = [(k, r) for k, r in ALL_RULES if not r.ibm_maintained and r in sbd.RULES[k]]


@pytest.mark.parametrize("change", list(Change))
@pytest.mark.parametrize(("kind", "rule"), MAINTAINED, ids=lambda v: getattr(v, "why", str(v))[:40])
def test_rules_ibm_documents_as_its_own_churn_are_churn(kind: GroupKind, rule: DocumentedRule, change: Change) -> None:
    assert sbd.churn_reason(name_of(kind), live(rule), change, POOL_SUBNETS) is not None


@pytest.mark.parametrize(("kind", "rule"), KEPT, ids=lambda v: getattr(v, "why", str(v))[:40])
def test_losing_a_rule_ibm_keeps_is_drift(kind: GroupKind, rule: DocumentedRule) -> None:
    assert sbd.churn_reason(name_of(kind), live(rule), Change.REMOVED, POOL_SUBNETS) is None


@pytest.mark.parametrize(("group", "rule", "change", "subnets", "reason"), [
    # kube-<clusterID>: load balancer node ports come and go; other node-port rules only go
    (WORKERS, LiveRule("inbound", "tcp", 31500, 31500, remote_group=LBAAS), Change.ADDED, frozenset(), "node port"),
    (WORKERS, LiveRule("inbound", "tcp", 31500, 31500, remote_group=f"kube-lbaas-{OTHER}"), Change.ADDED, frozenset(),
     None),
    (WORKERS, LiveRule("inbound", "tcp", 29999, 30000, remote_group=LBAAS), Change.ADDED, frozenset(), None),
    (WORKERS, LiveRule("inbound", "tcp", remote_group=LBAAS), Change.ADDED, frozenset(), None),
    (WORKERS, LiveRule("inbound", "udp", 30500, 30500, remote_cidr="0.0.0.0/0"), Change.REMOVED, frozenset(),
     "not needed"),
    (WORKERS, LiveRule("inbound", "udp", 30500, 30500, remote_cidr="0.0.0.0/0"), Change.ADDED, frozenset(), None),
    (WORKERS, LiveRule("inbound", "tcp", 22, 22, remote_cidr="0.0.0.0/0"), Change.ADDED, frozenset(), None),
    (WORKERS, LiveRule("outbound", "tcp", 30685, 30685, remote_cidr="0.0.0.0/0"), Change.REMOVED, frozenset(), None),
    (WORKERS, LiveRule("outbound", "all", remote_group=SHARED_VPE), Change.ADDED, frozenset(), "shared VPE"),
    (WORKERS, LiveRule("outbound", "icmp_tcp_udp", remote_group=SHARED_VPE), Change.REMOVED, frozenset(), None),
    # kube-lbaas-<clusterID>: listeners and node ports come and go; anything may go
    (LBAAS, LiveRule("inbound", "tcp", 8443, 8443, remote_cidr="0.0.0.0/0"), Change.ADDED, frozenset(), "listener"),
    (LBAAS, LiveRule("inbound", "tcp", 8443, 8443, remote_cidr="203.0.113.0/24"), Change.ADDED, frozenset(), None),
    (LBAAS, LiveRule("inbound", "tcp", 8443, 8443, remote_cidr="203.0.113.0/24"), Change.REMOVED, frozenset(),
     "might be removed"),
    (LBAAS, LiveRule("outbound", "tcp", 31500, 31500, remote_group=f"kube-{OTHER}"), Change.ADDED, frozenset(), None),
    # kube-vpegw-<clusterID>: one rule per worker-pool subnet, known only with the subnets
    (MASTER_VPE, LiveRule("inbound", "tcp", 30685, 30685, remote_cidr="10.240.64.0/24"), Change.ADDED, POOL_SUBNETS,
     "worker-pool subnet"),
    (MASTER_VPE, LiveRule("inbound", "tcp", 30685, 30685, remote_cidr="10.240.64.0/24"), Change.ADDED, frozenset(),
     None),
    (MASTER_VPE, LiveRule("inbound", "tcp", 30829, 30829, remote_cidr="192.168.192.0/22"), Change.ADDED, POOL_SUBNETS,
     None),  # IBM's own example of a VPN rule a user adds
    (MASTER_VPE, LiveRule("inbound", "tcp", 1, 65535, remote_cidr="10.240.0.0/24"), Change.ADDED, POOL_SUBNETS, None),
    # kube-vpegw-<vpcID>: one rule per cluster's worker group, and nothing else
    (SHARED_VPE, LiveRule("inbound", "tcp", remote_group=f"kube-{OTHER}"), Change.ADDED, frozenset(), "cluster"),
    (SHARED_VPE, LiveRule("inbound", "tcp", remote_group=f"kube-lbaas-{OTHER}"), Change.ADDED, frozenset(), None),
    (SHARED_VPE, LiveRule("inbound", "icmp_tcp_udp", remote_cidr="10.250.0.0/24"), Change.ADDED, frozenset(), None),
    # groups IBM does not edit, or that are not IBM's
    (f"kube-{VPC}", LiveRule("inbound", "tcp", 80, 80, remote_cidr="0.0.0.0/0"), Change.REMOVED, frozenset(), None),
    ("my-app-sg", LiveRule("inbound", "tcp", 31500, 31500, remote_group=LBAAS), Change.REMOVED, frozenset(), None),
])
def test_churn_reasons(group: str, rule: LiveRule, change: Change, subnets: frozenset[str], reason: str | None) -> None:
    found = sbd.churn_reason(group, rule, change, subnets)
    assert (found is None) == (reason is None), found
    assert reason is None or (found is not None and reason in found)


@pytest.mark.parametrize(("rule", "public"), [
    (LiveRule("outbound", "icmp_tcp_udp", remote_cidr="0.0.0.0/0"), True),
    (LiveRule("outbound", "tcp", 30685, 30685, remote_cidr="0.0.0.0/0"), True),
    (LiveRule("outbound", "tcp", 443, 443, remote_cidr="150.240.66.9"), True),
    (LiveRule("outbound", "icmp_tcp_udp", remote_cidr="140.82.112.0/20"), True),
    (LiveRule("outbound", "icmp_tcp_udp", remote_cidr="8.0.0.0/7"), True),
    (LiveRule("outbound", "icmp_tcp_udp", remote_cidr="166.8.0.0/14"), False),
    (LiveRule("outbound", "icmp_tcp_udp", remote_cidr="161.26.0.0/16"), False),
    (LiveRule("outbound", "icmp_tcp_udp", remote_cidr="169.254.169.254"), False),
    (LiveRule("outbound", "icmp_tcp_udp", remote_cidr="172.17.0.0/18"), False),
    (LiveRule("outbound", "icmp_tcp_udp", remote_cidr="10.0.0.0/7"), True),  # spills past 10.0.0.0/8
    (LiveRule("outbound", "icmp_tcp_udp", remote_group=SHARED_VPE), False),
    (LiveRule("inbound", "icmp_tcp_udp", remote_cidr="0.0.0.0/0"), False),
])
def test_which_outbound_rules_reach_the_public_internet(rule: LiveRule, public: bool) -> None:
    assert sbd.opens_public_egress(rule) is public


@pytest.mark.parametrize("rule", [r for r in sbd.RULES[GroupKind.WORKERS] if isinstance(r.remote, str)],
                         ids=lambda r: r.why[:40])
def test_no_fixed_default_of_the_worker_group_opens_public_egress(rule: DocumentedRule) -> None:
    assert not sbd.opens_public_egress(live(rule))


@pytest.mark.parametrize(("platform", "version", "sbd_groups"), [
    (sbd.Platform.IKS, (1, 29), False), (sbd.Platform.IKS, (1, 30), True), (sbd.Platform.IKS, (1, 34), True),
    (sbd.Platform.OPENSHIFT, (4, 14), False), (sbd.Platform.OPENSHIFT, (4, 15), True),
    (sbd.Platform.OPENSHIFT, (4, 9), False),
])
def test_which_new_clusters_are_secure_by_default(platform: sbd.Platform, version: tuple[int, int],
                                                  sbd_groups: bool) -> None:
    assert sbd.created_secure_by_default(platform, *version) is sbd_groups


@pytest.mark.parametrize(("value", "spelled"), [("all", "icmp_tcp_udp"), ("icmp_tcp_udp", "icmp_tcp_udp"),
                                                ("tcp", "tcp"), ("any", "any")])
def test_the_old_protocol_spelling_is_read_as_the_new(value: str, spelled: str) -> None:
    assert sbd.protocol_of(value) == spelled
