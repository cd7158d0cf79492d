"""Properties of core.drift.diff over random estates: a snapshot has no drift against itself (nor against its
own file round trip), and one random mutation yields exactly one finding, of the right code."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from netwarden.core import normalize, snapshot_format
from netwarden.core.drift.diff import diff
from netwarden.core.model import AclRule, Cluster, Namespace, NetworkAcl, NetworkPolicy, Snapshot, Subnet, Vpc

#: No generated allow rule has source 0.0.0.0/0, so no generated ACL (and no mutation of one) lets
#: everything in: only the default ACL does, and ``subnet-allow-all`` comes from attaching it.
CIDRS = ["10.1.0.0/16", "10.2.0.0/16", "192.168.0.0/24", "10.240.0.0/24", "172.16.0.0/12"]
PROTOCOLS = ["tcp", "udp", "icmp", "icmp_tcp_udp"]
DEFAULT_ACL = NetworkAcl("default-acl", (
    normalize.acl_rule(name="allow-in", action="allow", direction="inbound", protocol_="all", source="0.0.0.0/0",
                       destination="0.0.0.0/0"),
    normalize.acl_rule(name="allow-out", action="allow", direction="outbound", protocol_="all", source="0.0.0.0/0",
                       destination="0.0.0.0/0"),
))
PROPERTY_SETTINGS = settings(max_examples=60, deadline=None, database=None,
                             suppress_health_check=[HealthCheck.too_slow])


@st.composite
def rules(draw: st.DrawFn, name: str) -> AclRule:
    protocol = draw(st.sampled_from(PROTOCOLS))
    port = draw(st.sampled_from([None, 443, "8000-9000"])) if protocol in ("tcp", "udp") else None
    return normalize.acl_rule(
        name=name, action=draw(st.sampled_from(["allow", "deny"])),
        direction=draw(st.sampled_from(["inbound", "outbound"])), protocol_=protocol,
        source=draw(st.sampled_from(CIDRS)), destination=draw(st.sampled_from(CIDRS)),
        destination_port=normalize.port_range(port),
        icmp_type=draw(st.sampled_from([None, 8])) if protocol == "icmp" else None,
    )


@st.composite
def acls(draw: st.DrawFn, name: str) -> NetworkAcl:
    count = draw(st.integers(min_value=0, max_value=8))
    return NetworkAcl(name, tuple(draw(rules(f"rule-{i}")) for i in range(count)))


@st.composite
def vpcs(draw: st.DrawFn, name: str) -> Vpc:
    custom = [draw(acls(f"acl-{i}")) for i in range(draw(st.integers(min_value=1, max_value=3)))]
    subnets = tuple(
        Subnet(name=f"subnet-{i}", network_acl=draw(st.sampled_from([a.name for a in custom])),
               public_gateway=draw(st.sampled_from([None, "pgw-1"])), cidr=f"10.240.{i}.0/24")
        for i in range(draw(st.integers(min_value=1, max_value=3)))
    )
    return Vpc(region="us-south", name=name, acls=normalize.sorted_by_name([*custom, DEFAULT_ACL]), subnets=subnets,
               default_acl="default-acl")


def _policy(namespace: str, name: str, app: str, port: int) -> NetworkPolicy:
    return NetworkPolicy(namespace, name, normalize.netpol_spec({
        "podSelector": {"matchLabels": {"app": app}},
        "ingress": [{"from": [{"namespaceSelector": {"matchLabels": {"tier": "front"}}}], "ports": [{"port": port}]}],
    }))


@st.composite
def clusters(draw: st.DrawFn) -> Cluster:
    spaces = [Namespace(f"ns-{i}", {"tier": draw(st.sampled_from(["front", "back"]))})
              for i in range(draw(st.integers(min_value=1, max_value=2)))]
    policies = [
        _policy(draw(st.sampled_from([n.name for n in spaces])), f"np-{i}", draw(st.sampled_from(["web", "db"])),
                draw(st.sampled_from([80, 443, 5432])))
        for i in range(draw(st.integers(min_value=0, max_value=3)))
    ]
    ordered = tuple(sorted(policies, key=lambda p: (p.namespace, p.name)))
    return Cluster("c1", namespaces=tuple(spaces), policies=ordered)


@st.composite
def snapshots(draw: st.DrawFn) -> Snapshot:
    return Snapshot(vpcs=tuple(draw(vpcs(f"vpc-{i}")) for i in range(draw(st.integers(min_value=1, max_value=2)))),
                    clusters=(draw(clusters()),))


@given(snapshots())
@PROPERTY_SETTINGS
def test_a_snapshot_has_no_drift_against_itself(snap: Snapshot) -> None:
    assert diff(snap, snap) == []
    assert diff(snap, snapshot_format.loads(snapshot_format.dumps(snap), source="s.json")) == []


# --- one mutation, one finding -------------------------------------------------------------------

Mutation = Callable[[Snapshot], Snapshot]


def _vpc_edit(vpc_index: int, fn: Callable[[Vpc], Vpc]) -> Mutation:
    def edit(s: Snapshot) -> Snapshot:
        vpcs_ = list(s.vpcs)
        vpcs_[vpc_index] = fn(vpcs_[vpc_index])
        return replace(s, vpcs=tuple(vpcs_))
    return edit


def _acl_edit(vpc_index: int, acl: str, fn: Callable[[list[AclRule]], list[AclRule]]) -> Mutation:
    return _vpc_edit(vpc_index, lambda v: replace(v, acls=tuple(
        replace(a, rules=tuple(fn(list(a.rules)))) if a.name == acl else a for a in v.acls)))


def _subnet_edit(vpc_index: int, subnet: str, **changes: Any) -> Mutation:
    return _vpc_edit(vpc_index, lambda v: replace(v, subnets=tuple(
        replace(s, **changes) if s.name == subnet else s for s in v.subnets)))


def _cluster_edit(fn: Callable[[Cluster], Cluster]) -> Mutation:
    return lambda s: replace(s, clusters=(fn(s.clusters[0]),))


@st.composite
def mutations(draw: st.DrawFn, snap: Snapshot) -> tuple[str, Mutation]:
    """One random edit of ``snap`` and the finding code it must produce."""
    vi = draw(st.integers(min_value=0, max_value=len(snap.vpcs) - 1))
    vpc = snap.vpcs[vi]
    custom = [a for a in vpc.acls if a.name != "default-acl"]
    acl = draw(st.sampled_from(custom))
    subnet = draw(st.sampled_from(vpc.subnets))
    cluster = snap.clusters[0]
    n = len(acl.rules)
    options: list[str] = ["rule-unexpected", "acl-missing", "subnet-missing", "gateway", "subnet-allow-all",
                          "namespace-labels", "netpol-unexpected"]
    if acl.rules:
        options += ["rule-missing", "rule-changed"]
    if n >= 2:
        options.append("reordered")
    if len(custom) >= 2:
        options.append("subnet-acl-changed")
    if cluster.policies:
        options += ["netpol-missing", "netpol-changed"]
    kind = draw(st.sampled_from(options))
    if kind == "rule-unexpected":
        new = draw(rules("inserted"))
        at = draw(st.integers(min_value=0, max_value=n))
        return "acl-rule-unexpected", _acl_edit(vi, acl.name, lambda r: [*r[:at], new, *r[at:]])
    if kind == "rule-missing":
        at = draw(st.integers(min_value=0, max_value=n - 1))
        return "acl-rule-missing", _acl_edit(vi, acl.name, lambda r: r[:at] + r[at + 1:])
    if kind == "rule-changed":
        at = draw(st.integers(min_value=0, max_value=n - 1))
        old = acl.rules[at]
        field = draw(st.sampled_from(["action", "source"]))
        value = ("deny" if old.action == "allow" else "allow") if field == "action" else \
            draw(st.sampled_from([c for c in CIDRS if c != old.source]))
        return "acl-rule-changed", _acl_edit(vi, acl.name, lambda r: [
            replace(x, **{field: value}) if i == at else x for i, x in enumerate(r)])
    if kind == "reordered":
        i, j = draw(st.lists(st.integers(min_value=0, max_value=n - 1), min_size=2, max_size=2, unique=True))

        def swap(r: list[AclRule]) -> list[AclRule]:
            r[i], r[j] = r[j], r[i]
            return r
        return "acl-rules-reordered", _acl_edit(vi, acl.name, swap)
    if kind == "acl-missing":
        return "acl-missing", _vpc_edit(vi, lambda v: replace(v, acls=tuple(a for a in v.acls if a.name != acl.name)))
    if kind == "subnet-missing":
        return "subnet-missing", _vpc_edit(vi, lambda v: replace(v, subnets=tuple(
            s for s in v.subnets if s.name != subnet.name)))
    if kind == "gateway":
        if subnet.public_gateway is None:
            return "gateway-attached", _subnet_edit(vi, subnet.name, public_gateway="pgw-2")
        if draw(st.booleans()):
            return "gateway-detached", _subnet_edit(vi, subnet.name, public_gateway=None)
        return "gateway-changed", _subnet_edit(vi, subnet.name, public_gateway="pgw-2")
    if kind == "subnet-allow-all":
        return "subnet-allow-all", _subnet_edit(vi, subnet.name, network_acl="default-acl")
    if kind == "subnet-acl-changed":
        other = draw(st.sampled_from([a.name for a in custom if a.name != subnet.network_acl]))
        return "subnet-acl-changed", _subnet_edit(vi, subnet.name, network_acl=other)
    if kind == "namespace-labels":
        ns = draw(st.sampled_from(cluster.namespaces))
        flipped = {"tier": "back" if ns.labels["tier"] == "front" else "front"}
        return "namespace-labels-changed", _cluster_edit(lambda c: replace(c, namespaces=tuple(
            Namespace(x.name, flipped) if x.name == ns.name else x for x in c.namespaces)))
    if kind == "netpol-unexpected":
        ns = draw(st.sampled_from(cluster.namespaces))
        extra = _policy(ns.name, "np-new", "web", 8080)
        return "netpol-unexpected", _cluster_edit(lambda c: replace(c, policies=(*c.policies, extra)))
    policy = draw(st.sampled_from(cluster.policies))
    if kind == "netpol-missing":
        return "netpol-missing", _cluster_edit(lambda c: replace(c, policies=tuple(
            p for p in c.policies if p is not policy)))
    changed = _policy(policy.namespace, policy.name, "other", 9999)
    return "netpol-changed", _cluster_edit(lambda c: replace(c, policies=tuple(
        changed if p is policy else p for p in c.policies)))


@given(st.data())
@PROPERTY_SETTINGS
def test_one_mutation_gives_exactly_one_finding_of_the_right_code(data: st.DataObject) -> None:
    snap = data.draw(snapshots())
    code, mutate = data.draw(mutations(snap))
    findings = diff(snap, mutate(snap))
    assert [x.code for x in findings] == [code], [x.message for x in findings]
