"""The impact analysis (``core.drift.impact.annotate``) when one run has many findings.

Figures, not limits: nothing here asserts a time. Each case records its number of findings and the
cost per finding in ``extra_info``. The impact of a finding depends on its ACL or subnet alone, so
the findings of one ACL share one exposure diff: 500 rules added to one ACL should cost about what
one does, while many ACLs with one change each, or many re-attached subnets, grow with their number.

* one ACL of ``scale.py``'s account with N rules added (N = 100, 500): N ``acl-rule-unexpected``;
* every ACL of 4 VPCs (100 ACLs, 400 subnets) with one change: an added, deleted or swapped rule;
* 100 subnets of those VPCs re-attached to the VPC's default allow-all ACL;
* the 10% account of ``scale.py`` as generated, baseline and live (its 20 findings: rules added, deleted
  or moved, subnets re-attached, gateways, NetworkPolicies), as ``check`` of ``/var/tmp/scale-10`` sees it;
* the one-change-per-ACL and re-attached-subnet cases again with a secure-by-default workers' group
  (``kube-<clusterID>``) in every VPC: each finding judged behind the groups (``core.reach``), with the
  deciding rule of each layer named, and 100 rules added to that group.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import replace
from typing import Any

import pytest
import scale

from netwarden.core import normalize, sg_rules
from netwarden.core.drift.diff import diff
from netwarden.core.drift.impact import annotate
from netwarden.core.findings import Finding
from netwarden.core.model import AclRule, PortRange, SgRule, Snapshot

VPCS = 0.04  # of the account: 4 VPCs, 100 ACLs, 400 subnets


def _added(rng: random.Random, name: str, local: str) -> AclRule:
    """A rule someone added by hand: a port, a protocol or everything, from a /24, a /16 or anywhere."""
    direction = rng.choice(["inbound", "outbound"])
    remote = rng.choice([f"{rng.randrange(1, 223)}.{rng.randrange(256)}.{rng.randrange(256)}.0/24",
                         f"{rng.randrange(1, 223)}.{rng.randrange(256)}.0.0/16", "0.0.0.0/0"])
    protocol = rng.choice(["tcp", "udp", "icmp", "icmp_tcp_udp", "any"])
    action = "allow" if protocol == "icmp_tcp_udp" else rng.choice(["allow", "allow", "deny"])
    port = normalize.port_range(rng.randrange(1, 65000)) if protocol in ("tcp", "udp") else None
    source, destination = (remote, local) if direction == "inbound" else (local, remote)
    return normalize.acl_rule(name=name, action=action, direction=direction, protocol_=protocol, source=source,
                              destination=destination, destination_port=port)


def _edit_acls(live: Snapshot, edit: Callable[[str, list[AclRule]], list[AclRule]]) -> Snapshot:
    vpcs = []
    for vpc in live.vpcs:
        acls = tuple(a if a.name == "default-acl" else replace(a, rules=tuple(edit(f"{vpc.name}/{a.name}",
                                                                                   list(a.rules))))
                     for a in vpc.acls)
        vpcs.append(replace(vpc, acls=acls))
    return replace(live, vpcs=tuple(vpcs))


def rules_added(n: int) -> tuple[Snapshot, Snapshot]:
    base = scale.baseline(VPCS)
    target = f"{base.vpcs[0].name}/acl-00"
    local = base.vpcs[0].subnets[0].cidr or "10.0.0.0/24"
    rng = random.Random(5)

    def edit(key: str, rules: list[AclRule]) -> list[AclRule]:
        return rules if key != target else rules[:4] + [_added(rng, f"added-{i}", local) for i in range(n)] + rules[4:]

    return base, _edit_acls(scale.live(base, rate=0), edit)


def one_change_per_acl() -> tuple[Snapshot, Snapshot]:
    base = scale.baseline(VPCS)
    rng = random.Random(7)

    def edit(_key: str, rules: list[AclRule]) -> list[AclRule]:
        kind, at = rng.randrange(3), rng.randrange(len(rules) - 2)
        if kind == 0:
            rules.insert(at, _added(rng, "added", "10.0.0.0/8"))
        elif kind == 1:
            del rules[at]
        else:
            rules[at], rules[at + 1] = rules[at + 1], rules[at]
        return rules

    return base, _edit_acls(scale.live(base, rate=0), edit)


def subnets_reattached(n: int) -> tuple[Snapshot, Snapshot]:
    base = scale.baseline(VPCS)
    live = scale.live(base, rate=0)
    chosen = set(random.Random(3).sample([(v.name, s.name) for v in live.vpcs for s in v.subnets], n))
    vpcs = tuple(replace(v, subnets=tuple(replace(s, network_acl="default-acl") if (v.name, s.name) in chosen else s
                                          for s in v.subnets))
                 for v in live.vpcs)
    return base, replace(live, vpcs=vpcs)


WORKERS = "kube-coekl4a107ovqfndhh60"


def _sg(direction: str, protocol: str, remote: str | None = None, group: str | None = None,
        ports: tuple[int, int] | None = None) -> SgRule:
    return sg_rules.sg_rule(direction=direction, protocol_=protocol, remote=remote, remote_group=group,
                            ports=PortRange(*ports) if ports else None)


SBD_RULES = (_sg("inbound", "icmp_tcp_udp", group=WORKERS), _sg("inbound", "icmp_tcp_udp", "172.17.0.0/18"),
             _sg("outbound", "icmp_tcp_udp", "161.26.0.0/16"), _sg("outbound", "icmp_tcp_udp", "166.8.0.0/14"),
             _sg("outbound", "icmp_tcp_udp", group=WORKERS),
             _sg("outbound", "tcp", "150.240.66.17/32", ports=(443, 443)),
             _sg("inbound", "tcp", group=WORKERS, ports=(30000, 32767)))


def behind_groups(make: Callable[[], tuple[Snapshot, Snapshot]], added: int = 0) -> tuple[Snapshot, Snapshot]:
    """``make``'s estate with the workers' group in every VPC (and ``added`` rules added to it live)."""
    base, live = make()

    def put(snapshot: Snapshot, extra: int) -> Snapshot:
        rng = random.Random(11)
        rules = [*SBD_RULES, *(_sg("inbound", "tcp", f"{rng.randrange(1, 223)}.{rng.randrange(256)}.0.0/16",
                                   ports=(p, p)) for p in range(1000, 1000 + extra))]
        group = sg_rules.group(WORKERS, rules, managed_by="ibm")
        return replace(snapshot, vpcs=tuple(replace(v, security_groups=(group,)) for v in snapshot.vpcs))

    return put(base, 0), put(live, added)


def account(scale_: float) -> tuple[Snapshot, Snapshot]:
    base = scale.baseline(scale_)
    return base, scale.live(base)


CASES: dict[str, Callable[[], tuple[Snapshot, Snapshot]]] = {
    "100-rules-added-to-one-acl": lambda: rules_added(100),
    "500-rules-added-to-one-acl": lambda: rules_added(500),
    "one-change-in-each-of-100-acls": one_change_per_acl,
    "100-subnets-reattached": lambda: subnets_reattached(100),
    "scale-10-account": lambda: account(0.1),
    "one-change-in-each-of-100-acls-behind-groups": lambda: behind_groups(one_change_per_acl),
    "100-subnets-reattached-behind-groups": lambda: behind_groups(lambda: subnets_reattached(100)),
    "100-rules-added-to-the-workers-group": lambda: behind_groups(lambda: rules_added(0), added=100),
}


@pytest.mark.parametrize("case", list(CASES))
def test_annotate_many_findings(benchmark: Any, case: str) -> None:
    base, live = CASES[case]()
    findings = diff(base, live)
    benchmark.extra_info["findings"] = len(findings)

    def run() -> list[Finding]:
        return annotate(findings, base, live)  # a fresh analysis each round (only small caches of boxes persist)

    annotated = benchmark.pedantic(run, rounds=3, iterations=1, warmup_rounds=1)
    benchmark.extra_info["ms_per_finding"] = round(benchmark.stats.stats.median * 1000 / len(findings), 2)
    assert len(annotated) == len(findings)
    assert all(f.impact.exposure != "unknown" for f in annotated if f.code.startswith(("acl-", "subnet-acl")))
