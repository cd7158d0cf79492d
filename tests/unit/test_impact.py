"""Impact analysis: what each drift opens or closes, what it breaks, and the severity that follows.

The estates are recipe-shaped (IBM's "Controlling traffic with VPC ACLs and network policies"): one
custom ACL per worker subnet with inter-zone rules, the IBM private ranges both ways, deny-all last.
Findings come from ``core.drift.diff`` as ``check`` makes them, then ``core.drift.impact.annotate``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from netwarden.adapters.baseline_fs import read_baseline
from netwarden.app import check as check_app
from netwarden.core.drift import diff, impact
from netwarden.core.findings import Finding, ResourceRef, make
from netwarden.core.model import (
    AclRule,
    Cluster,
    ContainerPort,
    Namespace,
    NetworkAcl,
    NetworkPolicy,
    Pod,
    PortRange,
    Snapshot,
    Subnet,
    Vpc,
)
from netwarden.core.normalize import netpol_spec


def rule(name: str, action: str, direction: str, protocol: str = "icmp_tcp_udp", source: str = "0.0.0.0/0",
         destination: str = "0.0.0.0/0", dport: tuple[int, int] | None = None) -> AclRule:
    ports = protocol in ("tcp", "udp")
    return AclRule(name, action, direction, protocol, source, destination,
                   destination_port=PortRange(*(dport or (1, 65535))) if ports else None,
                   source_port=PortRange(1, 65535) if ports else None)


def recipe_rules(other: str) -> list[AclRule]:
    return [
        rule("allow-workers-outbound", "allow", "outbound", destination=other),
        rule("allow-workers-inbound", "allow", "inbound", source=other),
        rule("allow-ibm-private-network2-outbound", "allow", "outbound", destination="161.26.0.0/16"),
        rule("allow-ibm-private-network2-inbound", "allow", "inbound", source="161.26.0.0/16"),
        rule("allow-ibm-private-network-outbound", "allow", "outbound", destination="166.8.0.0/14"),
        rule("allow-ibm-private-network-inbound", "allow", "inbound", source="166.8.0.0/14"),
        rule("corporate-network-outbound", "allow", "outbound", destination="207.42.8.0/24"),
        rule("corporate-network-inbound", "allow", "inbound", source="207.42.8.0/24"),
        rule("deny-all-outbound", "deny", "outbound", "any"),
        rule("deny-all-inbound", "deny", "inbound", "any"),
        rule("allow-ssh-inbound", "allow", "inbound", "tcp", dport=(22, 22)),  # dead: after deny-all
    ]


ACL1, ACL2 = "cluster-us-south-1-acl", "cluster-us-south-2-acl"
SUB1, SUB2 = "vpc-us-south-1", "vpc-us-south-2"
CIDR1, CIDR2 = "10.240.0.0/24", "10.240.64.0/24"
DEFAULT = NetworkAcl("vpc-default-acl", (rule("allow-inbound", "allow", "inbound"),
                                         rule("allow-outbound", "allow", "outbound")))


def vpc(acl1: list[AclRule] | None = None, *, sub1_acl: str = ACL1, gateway: str | None = "gw-1") -> Vpc:
    acls = [NetworkAcl(ACL1, tuple(acl1 if acl1 is not None else recipe_rules(CIDR2))),
            NetworkAcl(ACL2, tuple(recipe_rules(CIDR1))), DEFAULT]
    return Vpc("us-south", "vpc", tuple(sorted(acls, key=lambda a: a.name)),
               (Subnet(SUB1, sub1_acl, gateway, "us-south-1", CIDR1), Subnet(SUB2, ACL2, None, "us-south-2", CIDR2)),
               default_acl=DEFAULT.name)


BASE = recipe_rules(CIDR2)


def swapped(rules: list[AclRule], a: str, b: str) -> list[AclRule]:
    names = [r.name for r in rules]
    i, j = names.index(a), names.index(b)
    out = list(rules)
    out[i], out[j] = out[j], out[i]
    return out


def without(rules: list[AclRule], name: str) -> list[AclRule]:
    return [r for r in rules if r.name != name]


def changed(rules: list[AclRule], name: str, **fields: Any) -> list[AclRule]:
    return [replace(r, **fields) if r.name == name else r for r in rules]


def check(base: Vpc, live: Vpc) -> list[Finding]:
    return impact.annotate(diff.diff(Snapshot(vpcs=(base,)), Snapshot(vpcs=(live,))),
                           Snapshot(vpcs=(base,)), Snapshot(vpcs=(live,)))


@pytest.mark.parametrize(
    ("live", "code", "exposure", "severity", "example", "breakage"),
    [
        pytest.param(vpc(swapped(BASE, "allow-ssh-inbound", "deny-all-inbound")), "acl-rules-reordered", "widened",
                     "critical", "tcp 22 from 0.0.0.0/0 to 10.240.0.0/24", None, id="swap-allow-above-deny"),
        pytest.param(vpc(swapped(BASE, "allow-workers-inbound", "allow-ibm-private-network2-inbound")),
                     "acl-rules-reordered", "unchanged", "low", None, None, id="reorder-changes-nothing"),
        pytest.param(vpc(without(BASE, "allow-ibm-private-network-outbound")), "acl-rule-missing", "narrowed",
                     "critical", "icmp from 10.240.0.0/24 to 166.8.0.0/14", "outbound to the IBM private service "
                     "endpoints 166.8.0.0/14", id="delete-166.8-outbound"),
        pytest.param(vpc(without(BASE, "allow-ibm-private-network2-inbound")), "acl-rule-missing", "narrowed",
                     "critical", None, "inbound from the IBM private network 161.26.0.0/16",
                     id="delete-161.26-inbound"),
        pytest.param(vpc(without(BASE, "allow-workers-inbound")), "acl-rule-missing", "narrowed", "critical", None,
                     "inter-zone traffic with worker subnet vpc-us-south-2 (10.240.64.0/24)", id="delete-inter-zone"),
        pytest.param(vpc(without(BASE, "corporate-network-inbound")), "acl-rule-missing", "narrowed", "medium",
                     "icmp from 207.42.8.0/24 to 10.240.0.0/24", None, id="delete-corporate-no-breakage"),
        pytest.param(vpc(changed(BASE, "corporate-network-inbound", source="0.0.0.0/0")), "acl-rule-changed",
                     "widened", "critical", "tcp 1-65535 from 0.0.0.0/0 to 10.240.0.0/24", None,
                     id="source-widened-to-anywhere"),
        pytest.param(vpc(changed(BASE, "corporate-network-inbound", source="207.42.0.0/16")), "acl-rule-changed",
                     "widened", "high", "tcp 1-65535 from 207.42.0.0/16 to 10.240.0.0/24", None,
                     id="source-widened-a-little"),
        pytest.param(vpc([rule("deny-rdp", "deny", "inbound", "tcp", "207.42.8.0/24", dport=(3389, 3389)), *BASE]),
                     "acl-rule-unexpected", "narrowed", "medium", "tcp 3389 from 207.42.8.0/24 to 10.240.0.0/24", None,
                     id="deny-added"),
        pytest.param(vpc([*BASE[:-3], rule("x", "allow", "inbound", "udp", "198.51.100.0/24", dport=(53, 53)),
                          *BASE[-3:]]), "acl-rule-unexpected", "widened", "high",
                     "udp 53 from 198.51.100.0/24 to 10.240.0.0/24", None, id="allow-added"),
    ],
)
def test_acl_drift(live: Vpc, code: str, exposure: str, severity: str, example: str | None,
                   breakage: str | None) -> None:
    findings = [f for f in check(vpc(), live) if f.resource.acl == ACL1]
    assert [f.code for f in findings] == [code]
    found = findings[0]
    assert found.impact.exposure == exposure
    assert found.severity == severity
    if example is not None:
        assert example in found.impact.examples
    if breakage is None:
        assert not found.impact.breakage
    else:
        assert any(breakage in b for b in found.impact.breakage), found.impact.breakage


def test_breakage_names_what_was_lost() -> None:
    [found] = check(vpc(), vpc(without(BASE, "allow-ibm-private-network-outbound")))
    assert found.impact.breakage == (
        "outbound to the IBM private service endpoints 166.8.0.0/14 (the cluster master, registry) at subnet "
        "vpc-us-south-1 is no longer allowed: tcp 1-65535 from 10.240.0.0/24 to 166.8.0.0/14",)
    assert found.to_dict()["impact"]["breakage"]


@pytest.mark.parametrize(
    ("live", "codes", "exposure", "example"),
    [
        pytest.param(vpc(sub1_acl=DEFAULT.name), ["subnet-allow-all"], "widened",
                     "tcp 1-65535 from 0.0.0.0/0 to 10.240.0.0/24", id="reverted-to-default"),
        pytest.param(vpc(sub1_acl=ACL2), ["subnet-acl-changed"], "narrowed",
                     "tcp 1-65535 from 10.240.64.0/24 to 10.240.0.0/24", id="other-recipe-acl"),
        pytest.param(vpc(gateway=None), ["gateway-detached"], "narrowed", None, id="gateway-detached"),
        pytest.param(vpc(gateway="gw-2"), ["gateway-changed"], "unchanged", None, id="gateway-changed"),
    ],
)
def test_subnet_drift(live: Vpc, codes: list[str], exposure: str, example: str | None) -> None:
    findings = check(vpc(), live)
    assert [f.code for f in findings] == codes
    assert findings[0].impact.exposure == exposure
    assert findings[0].impact.summary
    if example is not None:
        assert example in findings[0].impact.examples, findings[0].impact.examples


def test_other_recipe_acl_breaks_inter_zone_traffic() -> None:
    [found] = check(vpc(), vpc(sub1_acl=ACL2))
    assert any("inter-zone traffic with worker subnet vpc-us-south-2" in b for b in found.impact.breakage)
    assert found.severity == "high"  # subnet-acl-changed keeps its severity; impact is the detail


SUB3, CIDR3 = "vpc-us-south-3", "10.240.128.0/24"


def three_zones(acl1: list[AclRule]) -> Vpc:
    """``vpc()`` with a third zone's subnet under the second zone's ACL, and ACL1 letting both others in."""
    two = vpc(acl1)
    third = Subnet(SUB3, ACL2, None, "us-south-3", CIDR3)
    return replace(two, subnets=(*two.subnets, third))


ZONE3 = [rule("allow-zone3-outbound", "allow", "outbound", destination=CIDR3),
         rule("allow-zone3-inbound", "allow", "inbound", source=CIDR3)]


@pytest.mark.parametrize(
    ("removed", "named", "not_named"),
    [
        ("allow-workers-inbound", [SUB2], [SUB3]),
        ("allow-zone3-inbound", [SUB3], [SUB2]),
        ("deny-all-inbound", [], [SUB2, SUB3]),  # removing a deny loses nothing
    ],
    ids=["zone-2-lost", "zone-3-lost", "nothing-lost"],
)
def test_inter_zone_breakage_names_only_the_subnets_that_lost_traffic(removed: str, named: list[str],
                                                                      not_named: list[str]) -> None:
    base = three_zones(ZONE3 + BASE)
    [found] = check(base, three_zones(without(ZONE3 + BASE, removed)))
    lines = [b for b in found.impact.breakage if b.startswith("inter-zone")]
    assert [n for n in named if not any(f"worker subnet {n} " in b for b in lines)] == []
    assert [n for n in not_named if any(f"worker subnet {n} " in b for b in lines)] == []
    assert len(lines) == len(named)


def test_gateway_attached_shows_what_the_acl_lets_out() -> None:
    open_out = [rule("web-out", "allow", "outbound", "tcp", destination="0.0.0.0/0", dport=(443, 443)), *BASE]
    gw = next(f for f in check(vpc(open_out, gateway=None), vpc(open_out)) if f.code == "gateway-attached")
    assert gw.impact.exposure == "widened"
    assert gw.impact.examples[0].startswith("tcp 443 from 10.240.0.0/24 to ")
    assert gw.severity == "critical"


@pytest.mark.parametrize(
    ("rules", "exposure", "example"),
    [
        pytest.param(BASE, "widened", "tcp 1-65535 from 10.240.0.0/24 to 207.42.8.0/24", id="corporate-network"),
        pytest.param(without(BASE, "corporate-network-outbound"), "unchanged", None, id="nothing-public"),
    ],
)
def test_gateway_attached_opens_what_the_acl_lets_out(rules: list[AclRule], exposure: str,
                                                      example: str | None) -> None:
    [gw] = check(vpc(rules, gateway=None), vpc(rules))
    assert gw.code == "gateway-attached"
    assert gw.impact.exposure == exposure
    assert (example in gw.impact.examples) if example else not gw.impact.examples


def test_acl_missing_compares_with_what_the_subnet_uses_now() -> None:
    live = vpc(sub1_acl=DEFAULT.name)
    live = replace(live, acls=tuple(a for a in live.acls if a.name != ACL1))
    findings = {f.code: f for f in check(vpc(), live)}
    assert findings["acl-missing"].impact.exposure == "widened"
    assert findings["subnet-allow-all"].severity == "critical"


def test_acl_of_no_subnet_is_evaluated_as_a_whole() -> None:
    base = replace(vpc(), subnets=())
    live = replace(vpc(swapped(BASE, "allow-ssh-inbound", "deny-all-inbound")), subnets=())
    [found] = check(base, live)
    assert "tcp 22 from 0.0.0.0/0 to 0.0.0.0/0" in found.impact.examples


def test_unrelated_findings_pass_through() -> None:
    other = make("subnet-missing", ResourceRef("subnet", region="us-south", vpc="vpc", subnet="gone"), "gone")
    [found] = impact.annotate([other], Snapshot(vpcs=(vpc(),)), Snapshot(vpcs=(vpc(),)))
    assert found.impact.exposure == "unknown"


def test_each_acl_is_evaluated_once(monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[int] = []
    real = impact.AclFlows.of

    def counting(rules: Any) -> Any:
        calls.append(len(rules))
        return real(rules)

    monkeypatch.setattr(impact.AclFlows, "of", staticmethod(counting))
    live = vpc(without(swapped(BASE, "allow-ssh-inbound", "deny-all-inbound"), "corporate-network-outbound"))
    findings = check(vpc(), live)
    assert len(findings) == 2
    # once: the baseline's rule list. Each finding's own change (the reorder alone, the deletion alone) is
    # derived from it (core.acl.derive), and the live ACL as a whole is not needed
    assert sorted(calls) == [11]


def test_past_the_limit_the_findings_of_one_acl_share_its_drift(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(impact, "PER_FINDING_LIMIT", 1)
    live = vpc(without(swapped(BASE, "allow-ssh-inbound", "deny-all-inbound"), "corporate-network-outbound"))
    findings = check(vpc(), live)
    assert len(findings) == 2
    assert len({f.impact for f in findings}) == 1  # the ACL's whole drift, shared


# --- NetworkPolicies ------------------------------------------------------------------------------


def policy(ns: str, name: str, spec: dict[str, Any]) -> NetworkPolicy:
    return NetworkPolicy(ns, name, netpol_spec(spec))


DB_ALLOW = policy("accounts", "db-allow", {"podSelector": {"matchLabels": {"tier": "db"}},
                                           "ingress": [{"from": [{"podSelector": {"matchLabels": {"tier": "backend"}}}],
                                                        "ports": [{"port": 5432}]}]})
ACCOUNTS_ALLOW = policy("accounts", "accounts-allow", {
    "podSelector": {"matchLabels": {"tier": "backend"}},
    "ingress": [{"from": [{"namespaceSelector": {"matchLabels": {"usage": "finance"}}}], "ports": [{"port": 3111}]}]})
DNS_EGRESS = policy("accounts", "egress", {
    "podSelector": {}, "policyTypes": ["Egress"],
    "egress": [{"to": [{"namespaceSelector": {}, "podSelector": {"matchLabels": {"k8s-app": "kube-dns"}}}],
                "ports": [{"port": 53, "protocol": "UDP"}]}, {"to": [{"podSelector": {}}]}]})
PODS = (
    Pod("accounts", "backend", {"tier": "backend"}, (ContainerPort(3111),)),
    Pod("accounts", "db", {"tier": "db"}, (ContainerPort(5432),)),
    Pod("finance", "frontend", {"tier": "frontend"}),
    Pod("kube-system", "coredns", {"k8s-app": "kube-dns"}),
)
NAMESPACES = (Namespace("accounts", {"usage": "accounts"}), Namespace("finance", {"usage": "finance"}))


def cluster(policies: tuple[NetworkPolicy, ...], namespaces: tuple[Namespace, ...] = NAMESPACES,
            pods: tuple[Pod, ...] = ()) -> Cluster:
    return Cluster("iks", namespaces, policies, pods)


def kube_check(base: Cluster, live: Cluster) -> list[Finding]:
    b, lv = Snapshot(clusters=(base,)), Snapshot(clusters=(live,))
    return impact.annotate(diff.diff(b, lv), b, lv)


BASE_POLICIES = (ACCOUNTS_ALLOW, DB_ALLOW, DNS_EGRESS)


def _relabel(ns: Namespace) -> Namespace:
    return Namespace(ns.name, {"usage": "retired"}) if ns.name == "finance" else ns


LIVE_CASES: dict[str, Callable[[], Cluster]] = {
    "policy-deleted": lambda: cluster((ACCOUNTS_ALLOW, DNS_EGRESS), pods=PODS),
    "port-changed": lambda: cluster((ACCOUNTS_ALLOW, replace(DB_ALLOW, spec=netpol_spec({
        "podSelector": {"matchLabels": {"tier": "db"}},
        "ingress": [{"from": [{"podSelector": {"matchLabels": {"tier": "backend"}}}], "ports": [{"port": 5433}]}]})),
        DNS_EGRESS), pods=PODS),
    "namespace-relabelled": lambda: cluster(BASE_POLICIES, tuple(_relabel(n) for n in NAMESPACES), pods=PODS),
    "dns-egress-lost": lambda: cluster((ACCOUNTS_ALLOW, DB_ALLOW, replace(DNS_EGRESS, spec=netpol_spec({
        "podSelector": {}, "policyTypes": ["Egress"], "egress": [{"to": [{"podSelector": {}}]}]}))), pods=PODS),
    "no-pods": lambda: cluster((ACCOUNTS_ALLOW, DNS_EGRESS)),
}


@pytest.mark.parametrize(
    ("case", "code", "exposure", "severity", "example", "breakage"),
    [
        pytest.param("policy-deleted", "netpol-missing", "widened", "critical",
                     "tcp 1-65535 from 0.0.0.0/0 to accounts/db", False, id="policy-deleted"),
        pytest.param("port-changed", "netpol-changed", "widened", "high",
                     "tcp 5433 from accounts/backend to accounts/db", False, id="port-changed"),
        pytest.param("namespace-relabelled", "namespace-labels-changed", "narrowed", "medium",
                     "tcp 3111 from finance/frontend to accounts/backend", False, id="namespace-relabelled"),
        pytest.param("dns-egress-lost", "netpol-changed", "narrowed", "critical",
                     "udp 53 from accounts/backend to kube-system/coredns", True, id="dns-egress-lost"),
        pytest.param("no-pods", "netpol-missing", "unknown", "high", None, False, id="no-pods"),
    ],
)
def test_netpol_drift(case: str, code: str, exposure: str, severity: str, example: str | None,
                      breakage: bool) -> None:
    base = cluster(BASE_POLICIES)
    findings = kube_check(base, LIVE_CASES[case]())
    assert [f.code for f in findings] == [code]
    found = findings[0]
    assert found.impact.exposure == exposure
    assert found.severity == severity
    if example is not None:
        assert example in found.impact.examples, found.impact.examples
    assert bool(found.impact.breakage) is breakage


# --- the committed recipe baseline, through ``check`` ----------------------------------------------

RECIPE_DIR = Path(__file__).resolve().parents[2] / "baseline"
RECIPE_ACL = "iks-cluster-us-south-1-acl"
SSH_ANYWHERE = AclRule("allow-ssh-inbound", "allow", "inbound", "tcp", "0.0.0.0/0", "0.0.0.0/0",
                       PortRange(22, 22), PortRange(1, 65535))


def _recipe_drift(edit: Callable[[list[AclRule]], list[AclRule]]) -> tuple[Snapshot, Snapshot]:
    baseline = read_baseline(RECIPE_DIR)
    vpc0 = baseline.vpcs[0]
    acls = tuple(replace(a, rules=tuple(edit(list(a.rules)))) if a.name == RECIPE_ACL else a for a in vpc0.acls)
    return baseline, replace(baseline, vpcs=(replace(vpc0, acls=acls), *baseline.vpcs[1:]))


def _swap_ssh_above_deny(rules: list[AclRule]) -> list[AclRule]:
    """The baseline plus a dead allow below deny-all-inbound, then that allow swapped above it."""
    return [*rules[:-1], SSH_ANYWHERE, rules[-1]]


@pytest.mark.parametrize(
    ("edit", "code", "severity", "example", "breakage"),
    [
        # the workers' security group lets the pod subnet in, and nothing else on 22: that much is open now
        pytest.param(_swap_ssh_above_deny, "acl-rule-unexpected", "high", "tcp 22 from 172.17.0.0/18 to 10.240.0.0/24",
                     None, id="allow-above-deny"),
        pytest.param(lambda rules: [r for r in rules if r.name != "allow-ibm-private-network-outbound"],
                     "acl-rule-missing", "critical", "tcp 1-65535 from 10.240.0.0/24 to 166.8.0.0/14",
                     "outbound to the IBM private service endpoints 166.8.0.0/14", id="delete-166.8-outbound"),
    ],
)
def test_check_on_the_recipe_baseline(edit: Callable[[list[AclRule]], list[AclRule]], code: str, severity: str,
                                      example: str, breakage: str | None) -> None:
    baseline, live = _recipe_drift(edit)
    report = check_app.run(baseline, live)
    [found] = [f for f in report.findings if f.resource.acl == RECIPE_ACL]
    assert (found.code, found.severity) == (code, severity)
    assert example in found.impact.examples
    assert bool(breakage) == bool(found.impact.breakage)
    assert breakage is None or breakage in found.impact.breakage[0]


def test_namespace_relabel_is_judged_on_its_own_next_to_a_policy_drift() -> None:
    """finance relabelled (it loses accounts-allow) while db-allow is deleted (every pod may reach the db):
    the label change only narrows; the pairs the deletion opens are the policy's, not the namespace's."""
    live = cluster((ACCOUNTS_ALLOW, DNS_EGRESS), tuple(_relabel(n) for n in NAMESPACES), pods=PODS)
    findings = {f.code: f for f in kube_check(cluster(BASE_POLICIES), live)}
    assert set(findings) == {"netpol-missing", "namespace-labels-changed"}
    relabel = findings["namespace-labels-changed"]
    assert relabel.impact.exposure == "narrowed", relabel.impact.examples
    assert relabel.severity == "medium"
    assert "tcp 3111 from finance/frontend to accounts/backend" in relabel.impact.examples
    missing = findings["netpol-missing"]
    assert missing.impact.exposure == "widened"
    assert missing.severity == "critical"


def test_workers_known_by_subnet_id_count_for_a_baseline_without_ids() -> None:
    """The nodes name their subnets by id, which the baseline does not hold: a live subnet of the same
    name carries it, so dropping the inter-zone rule still breaks traffic with the other zone's workers."""
    live = vpc(without(BASE, "allow-workers-inbound"))
    live = replace(live, subnets=tuple(replace(s, id=f"{s.name}-id") for s in live.subnets))
    workers = Cluster("iks", worker_subnets=(f"{SUB1}-id", f"{SUB2}-id"))
    base_snap = Snapshot(vpcs=(vpc(),))
    live_snap = Snapshot(vpcs=(live,), clusters=(workers,))
    [found] = impact.annotate(diff.diff(base_snap, live_snap), base_snap, live_snap)
    assert found.code == "acl-rule-missing"
    assert any("inter-zone traffic with worker subnet vpc-us-south-2" in b for b in found.impact.breakage), \
        found.impact.breakage
    assert found.severity == "critical"


def test_a_renamed_rule_is_not_charged_with_the_other_drift_of_its_acl() -> None:
    """The ssh rule moved above deny-all opens tcp 22 from anywhere (critical); the rule renamed next to
    it decides the same traffic as before, so it is not critical too."""
    renamed = [replace(r, name="corp-out") if r.name == "corporate-network-outbound" else r
               for r in swapped(BASE, "deny-all-inbound", "allow-ssh-inbound")]
    found = {f.code: f for f in check(vpc(), vpc(renamed))}
    assert found["acl-rules-reordered"].severity == "critical"
    rename = found["acl-rule-changed"]
    assert (rename.impact.exposure, rename.impact.examples, rename.impact.breakage) == ("unchanged", (), ())
    assert rename.severity == "low"


def test_each_rule_finding_is_judged_by_its_own_change() -> None:
    """deny-all-inbound deleted (harmless: the implicit deny stays) next to an ssh allow added before it
    (opens tcp 22 from anywhere): one is unchanged and low, the other widened and critical."""
    recipe = without(BASE, "allow-ssh-inbound")  # nothing after deny-all that its deletion would wake
    ssh = rule("allow-ssh-from-anywhere", "allow", "inbound", "tcp", dport=(22, 22))
    live_rules = without(recipe, "deny-all-inbound")
    live_rules.insert([r.name for r in recipe].index("deny-all-outbound"), ssh)
    found = {f.code: f for f in check(vpc(recipe), vpc(live_rules))}
    assert set(found) == {"acl-rule-missing", "acl-rule-unexpected"}
    deny = found["acl-rule-missing"]
    assert (deny.impact.exposure, deny.severity) == ("unchanged", "low")
    opened = found["acl-rule-unexpected"]
    assert (opened.impact.exposure, opened.severity) == ("widened", "critical")
    assert any("tcp 22 from 0.0.0.0/0" in e for e in opened.impact.examples)


def test_a_new_drift_on_an_acl_leaves_the_findings_it_had_as_they_were() -> None:
    """So the alert of an open finding is not sent again as "changed" when another rule drifts."""
    first = {f.fingerprint: f for f in check(vpc(), vpc(without(BASE, "corporate-network-outbound")))}
    both = {f.fingerprint: f for f in check(vpc(), vpc(changed(without(BASE, "corporate-network-outbound"),
                                                               "allow-workers-inbound", source="10.0.0.0/8")))}
    assert len(first) == 1 and len(both) == 2
    (fingerprint, finding), = first.items()
    assert both[fingerprint].content_hash == finding.content_hash


@pytest.mark.parametrize(
    ("code", "base_position", "live_position", "expected"),
    [
        ("acl-rule-missing", 2, None, ["a", "c", "d"]),
        ("acl-rule-changed", 2, 2, ["a", "B", "c", "d"]),
        ("acl-rule-unexpected", None, 2, ["a", "x", "b", "c", "d"]),
        ("acl-rules-reordered", None, None, ["a", "c", "b", "d"]),
        ("acl-rule-missing", 9, None, None),
    ],
)
def test_one_change(code: str, base_position: int | None, live_position: int | None,
                    expected: list[str] | None) -> None:
    base = [rule(n, "allow", "inbound") for n in "abcd"]
    live = {"acl-rule-missing": [base[0], base[2], base[3]],
            "acl-rule-changed": [base[0], rule("B", "deny", "inbound", "any"), base[2], base[3]],
            "acl-rule-unexpected": [base[0], rule("x", "deny", "inbound", "any"), *base[1:]],
            "acl-rules-reordered": [base[0], base[2], base[1], base[3]]}[code]
    got = impact.one_change(base, live, code, base_position, live_position)
    assert (None if got is None else [r.name for r in got]) == expected
