"""A large account, generated: the estate ``check`` has to scale to, as a baseline directory and a live
snapshot file.

At scale 1.0: 100 VPCs (over three regions), 2,500 custom ACLs with 100,000 rules (40 each, built
like the recipe's: IBM private ranges, inter-zone, organisation ports, deny-all last), 10,000 subnets
(4 per ACL, a public gateway on one zone), and 20 clusters of 50 namespaces holding 20,000
NetworkPolicies. Every count scales linearly with ``scale`` (0.1 is the "10%" account).

The live snapshot is the baseline as the API returns it (ids set, the VPCs' default ACLs present) with
a little drift spread over it (about one change per 1,000 rules, subnets and policies), so a check
does the full work of a real run and has findings to report. Generation is deterministic (seeded).

    python benchmarks/scale.py --scale 0.1 --out /var/tmp/scale-10
    /usr/bin/time -v .venv/bin/netwarden check --snapshot /var/tmp/scale-10/live.json \\
        --baseline /var/tmp/scale-10/baseline --format json --out /dev/null
"""

from __future__ import annotations

import argparse
import random
import sys
import time
from dataclasses import replace
from pathlib import Path

from netwarden.core import normalize, snapshot_format
from netwarden.core.model import AclRule, Cluster, Namespace, NetworkAcl, NetworkPolicy, Snapshot, Subnet, Vpc

REGIONS = ("us-south", "us-east", "eu-de")
VPCS = 100
ACLS_PER_VPC = 25
RULES_PER_ACL = 40
SUBNETS_PER_ACL = 4
CLUSTERS = 20
NAMESPACES_PER_CLUSTER = 50
POLICIES = 20_000
PRIVATE = ("161.26.0.0/16", "166.8.0.0/14")
ORG = ("207.42.8.0/24", "198.51.100.0/24", "203.0.113.0/24")


def _rule(name: str, action: str, direction: str, protocol: str, source: str, destination: str,
          port: int | None = None) -> AclRule:
    dport = normalize.port_range(port) if port is not None and direction == "inbound" else None
    sport = normalize.port_range(port) if port is not None and direction == "outbound" else None
    return normalize.acl_rule(name=name, action=action, direction=direction, protocol_=protocol, source=source,
                              destination=destination, destination_port=dport, source_port=sport)


def _acl(name: str, cidr: str, others: list[str]) -> NetworkAcl:
    rules: list[AclRule] = []
    for i, private in enumerate(PRIVATE):
        rules += [_rule(f"ibm-private-{i}-in", "allow", "inbound", "icmp_tcp_udp", private, cidr),
                  _rule(f"ibm-private-{i}-out", "allow", "outbound", "icmp_tcp_udp", cidr, private)]
    for i, other in enumerate(others):
        rules += [_rule(f"zone-{i}-in", "allow", "inbound", "icmp_tcp_udp", other, cidr),
                  _rule(f"zone-{i}-out", "allow", "outbound", "icmp_tcp_udp", cidr, other)]
    port = 8000
    while len(rules) < RULES_PER_ACL - 2:
        org = ORG[len(rules) % len(ORG)]
        rules += [_rule(f"org-{port}-in", "allow", "inbound", "tcp", org, cidr, port),
                  _rule(f"org-{port}-out", "allow", "outbound", "tcp", cidr, org, port)]
        port += 1
    rules += [_rule("deny-all-in", "deny", "inbound", "any", "0.0.0.0/0", "0.0.0.0/0"),
              _rule("deny-all-out", "deny", "outbound", "any", "0.0.0.0/0", "0.0.0.0/0")]
    return NetworkAcl(name=name, rules=tuple(rules[:RULES_PER_ACL]))


def _vpc(index: int, acls: int) -> Vpc:
    region = REGIONS[index % len(REGIONS)]
    cidrs = [f"10.{index % 250}.{a}.0/24" for a in range(acls)]
    custom = [_acl(f"acl-{a:02d}", cidr, [c for c in cidrs[max(0, a - 1):a + 2] if c != cidr][:2])
              for a, cidr in enumerate(cidrs)]
    subnets = [
        Subnet(name=f"subnet-{a:02d}-{s}", network_acl=f"acl-{a:02d}",
               public_gateway="pgw-1" if a == 0 and s == 0 else None, zone=f"{region}-{s % 3 + 1}",
               cidr=f"10.{index % 250}.{a}.{s * 64}/26")
        for a in range(acls) for s in range(SUBNETS_PER_ACL)
    ]
    default = NetworkAcl("default-acl", (
        _rule("allow-inbound", "allow", "inbound", "icmp_tcp_udp", "0.0.0.0/0", "0.0.0.0/0"),
        _rule("allow-outbound", "allow", "outbound", "icmp_tcp_udp", "0.0.0.0/0", "0.0.0.0/0"),
    ))
    return Vpc(region=region, name=f"vpc-{index:03d}", acls=normalize.sorted_by_name([*custom, default]),
               subnets=normalize.sorted_by_name(subnets), default_acl="default-acl", public_gateways=("pgw-1",))


def _policy(namespace: str, index: int) -> NetworkPolicy:
    spec = {
        "podSelector": {"matchLabels": {"app": f"app-{index % 7}"}},
        "ingress": [{"from": [{"namespaceSelector": {"matchLabels": {"tier": f"tier-{index % 3}"}},
                               "podSelector": {"matchLabels": {"role": "client"}}},
                              {"ipBlock": {"cidr": ORG[index % len(ORG)]}}],
                     "ports": [{"port": 8000 + index % 50}, {"port": 443}]}],
        "egress": [{"to": [{"namespaceSelector": {}}], "ports": [{"port": 53, "protocol": "UDP"}]}],
    }
    return NetworkPolicy(namespace, f"np-{index:04d}", normalize.netpol_spec(spec))


def _cluster(index: int, namespaces: int, per_namespace: int) -> Cluster:
    spaces = tuple(Namespace(f"ns-{n:02d}", {"tier": f"tier-{n % 3}", "team": f"team-{n % 5}"})
                   for n in range(namespaces))
    policies = tuple(_policy(ns.name, p) for ns in spaces for p in range(per_namespace))
    return Cluster(name=f"cluster-{index:02d}", namespaces=spaces, policies=policies)


def baseline(scale: float = 1.0) -> Snapshot:
    """The baseline of the account at ``scale`` (1.0 = the full account)."""
    vpcs = max(1, round(VPCS * scale))
    clusters = max(1, round(CLUSTERS * scale))
    per_namespace = max(1, POLICIES * scale // (clusters * NAMESPACES_PER_CLUSTER))
    return Snapshot(
        vpcs=tuple(sorted((_vpc(i, ACLS_PER_VPC) for i in range(vpcs)), key=lambda v: (v.region, v.name))),
        clusters=tuple(_cluster(i, NAMESPACES_PER_CLUSTER, int(per_namespace)) for i in range(clusters)),
    )


def live(base: Snapshot, *, seed: int = 7, rate: float = 0.001) -> Snapshot:
    """``base`` as a live read returns it (ids on everything) with drift at ``rate`` per resource."""
    rng = random.Random(seed)
    vpcs = []
    for vpc in base.vpcs:
        acls = []
        for acl in vpc.acls:
            rules = [replace(r, id=f"{vpc.name}-{acl.name}-{r.name}") for r in acl.rules]
            if acl.name != "default-acl" and rng.random() < rate * len(rules):
                kind = rng.randrange(3)
                at = rng.randrange(len(rules) - 2)
                if kind == 0:
                    rules.insert(at, _rule("added-ssh", "allow", "inbound", "tcp", "0.0.0.0/0", "0.0.0.0/0", 22))
                elif kind == 1:
                    del rules[at]
                else:
                    rules[at], rules[at + 1] = rules[at + 1], rules[at]
            acls.append(replace(acl, id=f"{vpc.name}-{acl.name}", rules=tuple(rules)))
        subnets = []
        for subnet in vpc.subnets:
            drifted = subnet
            if rng.random() < rate:
                drifted = replace(subnet, network_acl="default-acl")
            elif rng.random() < rate:
                drifted = replace(subnet, public_gateway="pgw-1" if subnet.public_gateway is None else None)
            subnets.append(replace(drifted, id=f"{vpc.name}-{subnet.name}"))
        vpcs.append(replace(vpc, id=vpc.name, acls=tuple(acls), subnets=tuple(subnets)))
    clusters = []
    for cluster in base.clusters:
        policies = []
        for policy in cluster.policies:
            if rng.random() < rate:
                continue  # deleted
            changed = rng.random() < rate
            policies.append(replace(policy, spec={**policy.spec, "podSelector": {}}) if changed else policy)
        clusters.append(replace(cluster, policies=tuple(policies)))
    return Snapshot(vpcs=tuple(vpcs), clusters=tuple(clusters), taken_at="2026-11-27T10:00:00Z")


def counts(snapshot: Snapshot) -> dict[str, int]:
    return {
        "vpcs": len(snapshot.vpcs),
        "acls": sum(1 for v in snapshot.vpcs for a in v.acls if a.name != "default-acl"),
        "rules": sum(len(a.rules) for v in snapshot.vpcs for a in v.acls if a.name != "default-acl"),
        "subnets": sum(len(v.subnets) for v in snapshot.vpcs),
        "policies": sum(len(c.policies) for c in snapshot.clusters),
    }


def write(scale: float, out: Path) -> dict[str, int]:
    """Write ``out/baseline/`` and ``out/live.json`` for the account at ``scale``; return its counts."""
    from netwarden.adapters.baseline_write import write_baseline

    base = baseline(scale)
    write_baseline(base, out / "baseline")
    (out / "live.json").write_text(snapshot_format.dumps(live(base)), encoding="utf-8")
    return counts(base)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--scale", type=float, default=1.0, help="1.0 = the full account, 0.1 = 10%%")
    parser.add_argument("--out", type=Path, required=True, help="directory to write baseline/ and live.json to")
    args = parser.parse_args(argv)
    started = time.perf_counter()
    figures = write(args.scale, args.out)
    print(f"{args.out}: " + ", ".join(f"{n:,} {k}" for k, n in figures.items()) +
          f" (written in {time.perf_counter() - started:.1f} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
