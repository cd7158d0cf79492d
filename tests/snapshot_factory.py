"""Snapshots built in code for the diff, report and check tests: a recipe-shaped estate.

One VPC in three zones, one custom ACL per zone subnet (IBM private ranges both ways, inter-zone,
the organisation subnet, deny-all last), the VPC's default allow-all ACL, a public gateway on the
zone-1 subnet only, and a cluster with the namespaces ``accounts`` and ``finance`` and their
NetworkPolicies. ``recipe()`` is the baseline; tests derive live snapshots from it with
``dataclasses.replace`` and the helpers below.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from netwarden.core import normalize
from netwarden.core.model import AclRule, Cluster, Namespace, NetworkAcl, NetworkPolicy, Snapshot, Subnet, Vpc

REGION, VPC, CLUSTER = "us-south", "prod-vpc", "prod-cluster"
ZONES = {1: "10.240.0.0/24", 2: "10.240.64.0/24", 3: "10.240.128.0/24"}


def rule(name: str, action: str, direction: str, protocol: str, source: str, destination: str,
         **extra: Any) -> AclRule:
    ports = {k: normalize.port_range(extra.pop(k), field=k) for k in ("destination_port", "source_port") if k in extra}
    return normalize.acl_rule(name=name, action=action, direction=direction, protocol_=protocol, source=source,
                              destination=destination, icmp_type=extra.pop("type", None),
                              icmp_code=extra.pop("code", None), **ports, **extra)


def zone_acl(zone: int) -> NetworkAcl:
    cidr = ZONES[zone]
    rules = [
        rule("allow-ibm-private-1-in", "allow", "inbound", "all", "161.26.0.0/16", cidr),
        rule("allow-ibm-private-1-out", "allow", "outbound", "all", cidr, "161.26.0.0/16"),
        rule("allow-ibm-private-2-in", "allow", "inbound", "all", "166.8.0.0/14", cidr),
        rule("allow-ibm-private-2-out", "allow", "outbound", "all", cidr, "166.8.0.0/14"),
    ]
    for other, other_cidr in ZONES.items():
        if other != zone:
            rules += [
                rule(f"allow-zone{other}-in", "allow", "inbound", "all", other_cidr, cidr),
                rule(f"allow-zone{other}-out", "allow", "outbound", "all", cidr, other_cidr),
            ]
    rules += [
        rule("allow-org-https-in", "allow", "inbound", "tcp", "207.42.8.0/24", cidr, destination_port=443),
        rule("allow-org-https-out", "allow", "outbound", "tcp", cidr, "207.42.8.0/24", source_port=443),
        rule("allow-ping-in", "allow", "inbound", "icmp", "207.42.8.0/24", cidr, type=8, code=0),
        rule("deny-all-in", "deny", "inbound", "any", "0.0.0.0/0", "0.0.0.0/0"),
        rule("deny-all-out", "deny", "outbound", "any", "0.0.0.0/0", "0.0.0.0/0"),
    ]
    return NetworkAcl(name=f"acl-zone{zone}", rules=tuple(rules))


def default_acl() -> NetworkAcl:
    return NetworkAcl(name="default-acl", rules=(
        rule("allow-inbound", "allow", "inbound", "all", "0.0.0.0/0", "0.0.0.0/0"),
        rule("allow-outbound", "allow", "outbound", "all", "0.0.0.0/0", "0.0.0.0/0"),
    ))


def policy(namespace: str, name: str, spec: dict[str, Any]) -> NetworkPolicy:
    return NetworkPolicy(namespace=namespace, name=name, spec=normalize.netpol_spec(spec))


def recipe_policies() -> tuple[NetworkPolicy, ...]:
    return (
        policy("accounts", "accounts-isolation", {
            "podSelector": {},
            "ingress": [{"from": [{"podSelector": {}}, {"namespaceSelector": {"matchLabels": {"tier": "finance"}}}]}],
        }),
        policy("accounts", "allow-web", {
            "podSelector": {"matchLabels": {"app": "web"}},
            "ingress": [{"ports": [{"port": 443, "protocol": "TCP"}, {"port": 80}],
                         "from": [{"ipBlock": {"cidr": "207.42.8.0/24"}}]}],
        }),
        policy("finance", "finance-egress", {
            "podSelector": {"matchLabels": {"app": "ledger"}},
            "policyTypes": ["Egress"],
            "egress": [{"to": [{"namespaceSelector": {"matchLabels": {"tier": "accounts"}}}],
                        "ports": [{"port": 5432}]}],
        }),
    )


def recipe(*, with_default_acl_in_baseline: bool = True) -> Snapshot:
    acls = [zone_acl(z) for z in ZONES]
    if with_default_acl_in_baseline:
        acls.append(default_acl())
    subnets = tuple(
        Subnet(name=f"subnet-zone{z}", network_acl=f"acl-zone{z}", public_gateway="pgw-zone1" if z == 1 else None,
               zone=f"us-south-{z}", cidr=cidr)
        for z, cidr in ZONES.items()
    )
    vpc = Vpc(region=REGION, name=VPC, acls=normalize.sorted_by_name(acls), subnets=subnets,
              default_acl="default-acl", public_gateways=("pgw-zone1",))
    cluster = Cluster(
        name=CLUSTER,
        namespaces=(Namespace("accounts", {"tier": "accounts"}), Namespace("finance", {"tier": "finance"})),
        policies=recipe_policies(),
    )
    return Snapshot(vpcs=(vpc,), clusters=(cluster,), taken_at="2026-11-27T10:00:00Z")


def live_of(baseline: Snapshot) -> Snapshot:
    """What a live read of the baseline's estate gives: every ACL, the default ACL, ids set."""
    vpcs = []
    for vpc in baseline.vpcs:
        acls = {a.name: a for a in vpc.acls}
        acls.setdefault("default-acl", default_acl())
        acls = {name: replace(a, id=f"acl-{name}", rules=tuple(replace(r, id=f"r-{name}-{r.name}") for r in a.rules))
                for name, a in acls.items()}
        vpcs.append(replace(vpc, acls=normalize.sorted_by_name(list(acls.values())),
                            subnets=tuple(replace(s, id=f"id-{s.name}") for s in vpc.subnets)))
    return replace(baseline, vpcs=tuple(vpcs))


# --- edits ---------------------------------------------------------------------------------------


def with_acl(snapshot: Snapshot, name: str, rules: list[AclRule] | tuple[AclRule, ...]) -> Snapshot:
    vpc = snapshot.vpcs[0]
    acls = tuple(replace(a, rules=tuple(rules)) if a.name == name else a for a in vpc.acls)
    return replace(snapshot, vpcs=(replace(vpc, acls=acls), *snapshot.vpcs[1:]))


def without_acl(snapshot: Snapshot, name: str) -> Snapshot:
    vpc = snapshot.vpcs[0]
    return replace(snapshot, vpcs=(replace(vpc, acls=tuple(a for a in vpc.acls if a.name != name)),
                                   *snapshot.vpcs[1:]))


def rules_of(snapshot: Snapshot, name: str) -> list[AclRule]:
    acl = snapshot.vpcs[0].acl(name)
    assert acl is not None
    return list(acl.rules)


def with_subnet(snapshot: Snapshot, name: str, **changes: Any) -> Snapshot:
    vpc = snapshot.vpcs[0]
    subnets = tuple(replace(s, **changes) if s.name == name else s for s in vpc.subnets)
    return replace(snapshot, vpcs=(replace(vpc, subnets=subnets), *snapshot.vpcs[1:]))


def without_subnet(snapshot: Snapshot, name: str) -> Snapshot:
    vpc = snapshot.vpcs[0]
    return replace(snapshot, vpcs=(replace(vpc, subnets=tuple(s for s in vpc.subnets if s.name != name)),
                                   *snapshot.vpcs[1:]))


def with_policies(snapshot: Snapshot, policies: tuple[NetworkPolicy, ...] | list[NetworkPolicy]) -> Snapshot:
    cluster = snapshot.clusters[0]
    ordered = tuple(sorted(policies, key=lambda p: (p.namespace, p.name)))
    return replace(snapshot, clusters=(replace(cluster, policies=ordered), *snapshot.clusters[1:]))


def with_namespace(snapshot: Snapshot, name: str, labels: dict[str, str] | None) -> Snapshot:
    """Set a namespace's labels; ``None`` removes the namespace."""
    cluster = snapshot.clusters[0]
    spaces = [n for n in cluster.namespaces if n.name != name]
    if labels is not None:
        spaces.append(Namespace(name, labels))
    return replace(snapshot, clusters=(replace(cluster, namespaces=normalize.sorted_by_name(spaces)),
                                       *snapshot.clusters[1:]))
