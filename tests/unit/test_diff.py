"""core.drift.diff: one case per finding code, the synonyms that must give no finding, alignment of rule lists,
unreadable and out-of-scope parts of the baseline, and fingerprints that stay the same for the same drift."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace

import pytest

import snapshot_factory as f
from netwarden.core import normalize
from netwarden.core.drift.diff import diff, diff_iter, spec_changes
from netwarden.core.drift.scope import OutOfScope, split, unbaselined
from netwarden.core.findings import CODES
from netwarden.core.model import Snapshot, Unreadable
from netwarden.core.scope import ReadScope, listing

BASE = f.recipe()
LIVE = f.live_of(BASE)
Edit = Callable[[Snapshot], Snapshot]


def _insert(acl: str, index: int, new: object) -> Edit:
    def edit(s: Snapshot) -> Snapshot:
        rules = f.rules_of(s, acl)
        rules.insert(index, new)  # type: ignore[arg-type]
        return f.with_acl(s, acl, rules)
    return edit


def _delete(acl: str, name: str) -> Edit:
    return lambda s: f.with_acl(s, acl, [r for r in f.rules_of(s, acl) if r.name != name])


def _change(acl: str, rule_name: str, /, **changes: object) -> Edit:
    return lambda s: f.with_acl(s, acl, [replace(r, **changes) if r.name == rule_name else r  # type: ignore[arg-type]
                                         for r in f.rules_of(s, acl)])


def _swap(acl: str, i: int, j: int) -> Edit:
    def edit(s: Snapshot) -> Snapshot:
        rules = f.rules_of(s, acl)
        rules[i], rules[j] = rules[j], rules[i]
        return f.with_acl(s, acl, rules)
    return edit


def _move(acl: str, src: int, dst: int) -> Edit:
    def edit(s: Snapshot) -> Snapshot:
        rules = f.rules_of(s, acl)
        rules.insert(dst, rules.pop(src))
        return f.with_acl(s, acl, rules)
    return edit


def _policy_spec(namespace: str, name: str, spec: dict[str, object]) -> Edit:
    def edit(s: Snapshot) -> Snapshot:
        others = [p for p in s.clusters[0].policies if (p.namespace, p.name) != (namespace, name)]
        return f.with_policies(s, [*others, f.policy(namespace, name, spec)])
    return edit


SSH_FROM_ANYWHERE = f.rule("allow-ssh", "allow", "inbound", "tcp", "0.0.0.0/0", "10.240.0.0/24", destination_port=22)
ALLOW_ALL_IN = f.rule("allow-everything", "allow", "inbound", "all", "0.0.0.0/0", "0.0.0.0/0")

#: (case id, edit of the live snapshot, expected code, expected resource path)
ONE_FINDING = [
    ("subnet-allow-all: reverted to the default ACL",
     lambda s: f.with_subnet(s, "subnet-zone2", network_acl="default-acl"),
     "subnet-allow-all", "us-south/prod-vpc/subnet-zone2"),
    ("gateway-attached", lambda s: f.with_subnet(s, "subnet-zone3", public_gateway="pgw-zone3"),
     "gateway-attached", "us-south/prod-vpc/subnet-zone3"),
    ("subnet-acl-changed: another custom ACL", lambda s: f.with_subnet(s, "subnet-zone2", network_acl="acl-zone3"),
     "subnet-acl-changed", "us-south/prod-vpc/subnet-zone2"),
    ("acl-missing", lambda s: f.without_acl(s, "acl-zone3"), "acl-missing", "us-south/prod-vpc/acl-zone3"),
    ("acl-rule-missing", _delete("acl-zone1", "allow-ibm-private-2-out"),
     "acl-rule-missing", "us-south/prod-vpc/acl-zone1/allow-ibm-private-2-out"),
    ("acl-rule-unexpected: inserted at the top", _insert("acl-zone1", 0, SSH_FROM_ANYWHERE),
     "acl-rule-unexpected", "us-south/prod-vpc/acl-zone1/allow-ssh"),
    ("acl-rule-unexpected: appended after deny-all", _insert("acl-zone1", 99, SSH_FROM_ANYWHERE),
     "acl-rule-unexpected", "us-south/prod-vpc/acl-zone1/allow-ssh"),
    ("acl-rule-changed: a port", _change("acl-zone1", "allow-org-https-in",
                                         destination_port=normalize.port_range("8443")),
     "acl-rule-changed", "us-south/prod-vpc/acl-zone1/allow-org-https-in"),
    ("acl-rule-changed: source widened", _change("acl-zone2", "allow-org-https-in", source="0.0.0.0/0"),
     "acl-rule-changed", "us-south/prod-vpc/acl-zone2/allow-org-https-in"),
    ("acl-rule-changed: renamed only", _change("acl-zone2", "allow-ping-in", name="ping"),
     "acl-rule-changed", "us-south/prod-vpc/acl-zone2/allow-ping-in"),
    ("acl-rules-reordered: a swap", _swap("acl-zone1", 0, 1), "acl-rules-reordered", "us-south/prod-vpc/acl-zone1"),
    ("acl-rules-reordered: deny-all moved to the top", _move("acl-zone1", 11, 0),
     "acl-rules-reordered", "us-south/prod-vpc/acl-zone1"),
    ("gateway-detached", lambda s: f.with_subnet(s, "subnet-zone1", public_gateway=None),
     "gateway-detached", "us-south/prod-vpc/subnet-zone1"),
    ("gateway-changed", lambda s: f.with_subnet(s, "subnet-zone1", public_gateway="pgw-other"),
     "gateway-changed", "us-south/prod-vpc/subnet-zone1"),
    ("subnet-missing", lambda s: f.without_subnet(s, "subnet-zone3"),
     "subnet-missing", "us-south/prod-vpc/subnet-zone3"),
    ("netpol-missing", lambda s: f.with_policies(s, [p for p in s.clusters[0].policies if p.name != "allow-web"]),
     "netpol-missing", "prod-cluster/accounts/allow-web"),
    ("netpol-unexpected", lambda s: f.with_policies(s, [*s.clusters[0].policies,
                                                        f.policy("finance", "allow-all", {"podSelector": {},
                                                                                          "ingress": [{}]})]),
     "netpol-unexpected", "prod-cluster/finance/allow-all"),
    ("netpol-changed: a port", _policy_spec("accounts", "allow-web", {
        "podSelector": {"matchLabels": {"app": "web"}},
        "ingress": [{"ports": [{"port": 8443}, {"port": 80}], "from": [{"ipBlock": {"cidr": "207.42.8.0/24"}}]}]}),
     "netpol-changed", "prod-cluster/accounts/allow-web"),
    ("netpol-changed: a peer added", _policy_spec("accounts", "allow-web", {
        "podSelector": {"matchLabels": {"app": "web"}},
        "ingress": [{"ports": [{"port": 443}, {"port": 80}],
                     "from": [{"ipBlock": {"cidr": "207.42.8.0/24"}}, {"ipBlock": {"cidr": "0.0.0.0/0"}}]}]}),
     "netpol-changed", "prod-cluster/accounts/allow-web"),
    ("namespace-labels-changed", lambda s: f.with_namespace(s, "finance", {"tier": "web"}),
     "namespace-labels-changed", "prod-cluster/finance"),
    ("namespace-labels-changed: a selected label removed", lambda s: f.with_namespace(s, "accounts", {}),
     "namespace-labels-changed", "prod-cluster/accounts"),
]


def test_every_code_has_a_case() -> None:
    """Security group codes have their own table (tests/unit/test_sg_diff.py), the workload codes theirs
    (tests/unit/test_workloads.py)."""
    assert {code for _, _, code, _ in ONE_FINDING} == {c for c in CODES if not c.startswith(("sg-", "workload-"))}


def test_in_sync() -> None:
    assert diff(BASE, LIVE) == []
    assert diff(BASE, BASE) == []


@pytest.mark.parametrize(("edit", "code", "path"), [c[1:] for c in ONE_FINDING], ids=[c[0] for c in ONE_FINDING])
def test_one_drift_one_finding(edit: Edit, code: str, path: str) -> None:
    findings = diff(BASE, edit(LIVE))
    assert [(x.code, x.resource.path) for x in findings] == [(code, path)]
    finding = findings[0]
    assert finding.severity == CODES[code].severity
    assert finding.message
    assert finding.resource.kind == CODES[code].kind


# Synonyms a real estate contains: the live side spells the same meaning another way.
def _netpol_synonym(raw: dict[str, object]) -> Edit:
    def edit(s: Snapshot) -> Snapshot:
        return f.with_policies(s, [f.policy("accounts", "allow-web", raw) if p.name == "allow-web" else p
                                   for p in s.clusters[0].policies])
    return edit


SYNONYMS = [
    ("protocol all == icmp_tcp_udp", lambda s: f.with_acl(s, "acl-zone1", [
        f.rule(r.name, r.action, r.direction, "icmp_tcp_udp" if r.protocol == "icmp_tcp_udp" else "all", r.source,
               r.destination) if r.protocol == "icmp_tcp_udp" else r for r in f.rules_of(s, "acl-zone1")])),
    ("omitted ports == 1-65535", lambda s: f.with_acl(s, "acl-zone1", [
        f.rule(r.name, r.action, r.direction, r.protocol, r.source, r.destination, destination_port="443",
               source_port="1-65535") if r.name == "allow-org-https-in" else r for r in f.rules_of(s, "acl-zone1")])),
    ("bare IP == /32", lambda s: f.with_acl(s, "acl-zone1", [
        *f.rules_of(s, "acl-zone1")[:1],
        f.rule("host", "allow", "inbound", "tcp", "10.1.2.3", "10.240.0.0/24"),
        *f.rules_of(s, "acl-zone1")[1:]])),
    ("NetworkPolicy peers and ports reordered", _netpol_synonym({
        "podSelector": {"matchLabels": {"app": "web"}},
        "ingress": [{"from": [{"ipBlock": {"cidr": "207.42.8.0/24"}}], "ports": [{"port": 80}, {"port": 443}]}]})),
    ("NetworkPolicy policyTypes inferred vs explicit, default protocol TCP", _netpol_synonym({
        "podSelector": {"matchLabels": {"app": "web"}}, "policyTypes": ["Ingress"],
        "ingress": [{"ports": [{"port": 443, "protocol": "TCP"}, {"port": 80, "protocol": "TCP"}],
                     "from": [{"ipBlock": {"cidr": "207.42.8.0/24", "except": []}}]}]})),
    ("NetworkPolicy empty matchLabels == absent", _netpol_synonym({
        "podSelector": {"matchLabels": {"app": "web"}, "matchExpressions": []},
        "ingress": [{"ports": [{"port": 443}, {"port": 80}], "from": [{"ipBlock": {"cidr": "207.42.8.0/24"}}]}]})),
    ("a namespace label no selector uses", lambda s: f.with_namespace(s, "finance",
                                                                       {"tier": "finance", "owner": "team-b"})),
    ("a live ACL and subnet the baseline does not cover", lambda s: f.with_acl(
        f.with_subnet(s, "subnet-zone1"), "acl-unmanaged", [])),
    ("a NetworkPolicy in an unmanaged namespace", lambda s: f.with_policies(
        s, [*s.clusters[0].policies, f.policy("kube-system", "anything", {"podSelector": {}})])),
    ("ids differ", lambda s: f.with_acl(s, "acl-zone1", [replace(r, id="other") for r in f.rules_of(s, "acl-zone1")])),
]


@pytest.mark.parametrize("edit", [c[1] for c in SYNONYMS], ids=[c[0] for c in SYNONYMS])
def test_synonyms_give_no_finding(edit: Edit) -> None:
    base = BASE
    if edit is SYNONYMS[2][1]:  # the baseline spells the host rule as a /32
        base = f.with_acl(BASE, "acl-zone1", [
            *f.rules_of(BASE, "acl-zone1")[:1],
            f.rule("host", "allow", "inbound", "tcp", "10.1.2.3/32", "10.240.0.0/24"),
            *f.rules_of(BASE, "acl-zone1")[1:]])
    assert diff(base, edit(LIVE)) == []


# --- rule alignment ------------------------------------------------------------------------------


def _codes(live: Snapshot) -> list[str]:
    return sorted(x.code for x in diff(BASE, live))


@pytest.mark.parametrize(("edit", "codes"), [
    (_insert("acl-zone1", 3, SSH_FROM_ANYWHERE), ["acl-rule-unexpected"]),
    (lambda s: _insert("acl-zone1", 5, replace(SSH_FROM_ANYWHERE, name="b"))(
        _insert("acl-zone1", 0, replace(SSH_FROM_ANYWHERE, name="a"))(s)), ["acl-rule-unexpected"] * 2),
    (_swap("acl-zone1", 0, 12), ["acl-rules-reordered"]),
    (lambda s: _swap("acl-zone1", 4, 5)(_swap("acl-zone1", 0, 1)(s)), ["acl-rules-reordered"]),
    (lambda s: _delete("acl-zone1", "allow-zone2-in")(_swap("acl-zone1", 0, 1)(s)),
     ["acl-rule-missing", "acl-rules-reordered"]),
    (lambda s: _change("acl-zone1", "allow-org-https-in", source="0.0.0.0/0")(_move("acl-zone1", 10, 0)(s)),
     ["acl-rule-changed", "acl-rules-reordered"]),
    # A rule replaced in place under a new name is one change, not a missing plus an unexpected.
    (lambda s: f.with_acl(s, "acl-zone1", [SSH_FROM_ANYWHERE if r.name == "allow-ping-in" else r
                                           for r in f.rules_of(s, "acl-zone1")]), ["acl-rule-changed"]),
    # The same edit in two ACLs is one finding in each.
    (lambda s: _delete("acl-zone2", "deny-all-out")(_delete("acl-zone1", "deny-all-out")(s)),
     ["acl-rule-missing"] * 2),
    # Every rule gone: each one is missing.
    (lambda s: f.with_acl(s, "acl-zone3", []), ["acl-rule-missing"] * 13),
])
def test_alignment(edit: Edit, codes: list[str]) -> None:
    assert _codes(edit(LIVE)) == codes


def test_rule_change_names_the_fields() -> None:
    edit = _change("acl-zone1", "allow-org-https-in", destination_port=normalize.port_range("8443"),
                   source="0.0.0.0/0")
    (finding,) = diff(BASE, edit(LIVE))
    assert finding.baseline is not None and finding.live is not None
    assert finding.baseline["changed"] == {"source": "207.42.8.0/24", "destination_port": "443"}
    assert finding.live["changed"] == {"source": "0.0.0.0/0", "destination_port": "8443"}
    assert finding.baseline["position"] == finding.live["position"] == 9
    assert finding.live["rule"]["id"] == "r-acl-zone1-allow-org-https-in"
    assert "destination_port 443 -> 8443" in finding.message and "source 207.42.8.0/24 -> 0.0.0.0/0" in finding.message


def test_reorder_names_the_moved_rule() -> None:
    (finding,) = diff(BASE, _move("acl-zone1", 11, 0)(LIVE))
    assert finding.baseline is not None and finding.live is not None
    assert finding.baseline["moved"] == [{"rule": "deny-all-in", "position": 12}]
    assert finding.live["moved"] == [{"rule": "deny-all-in", "position": 1}]
    assert "deny-all-in 12 -> 1" in finding.message


def test_a_swap_names_the_two_swapped_rules_not_one_left_in_place() -> None:
    """Rules 1 and 3 swapped: of the moves that explain it with the fewest rules, the one that leaves
    rule 2 where it was, so no rule is said to move from position 2 to position 2."""
    (finding,) = diff(BASE, _swap("acl-zone1", 0, 2)(LIVE))
    assert finding.baseline is not None and finding.live is not None
    names = [r.name for r in f.rules_of(BASE, "acl-zone1")]
    assert [m["position"] for m in finding.baseline["moved"]] == [1, 3]
    assert [m["position"] for m in finding.live["moved"]] == [3, 1]
    assert f"{names[0]} 1 -> 3, {names[2]} 3 -> 1" in finding.message


def test_netpol_change_is_detailed() -> None:
    edit = _policy_spec("accounts", "allow-web", {
        "podSelector": {"matchLabels": {"app": "web"}},
        "ingress": [{"ports": [{"port": 443}, {"port": 80}],
                     "from": [{"ipBlock": {"cidr": "207.42.8.0/24"}}, {"ipBlock": {"cidr": "0.0.0.0/0"}}]}]})
    (finding,) = diff(BASE, edit(LIVE))
    assert finding.live is not None
    assert finding.live["changed"] == {"ingress[0].from[0]": {"ipBlock": {"cidr": "0.0.0.0/0"}}}
    assert 'ingress[0].from[0] added: {"ipBlock":{"cidr":"0.0.0.0/0"}}' in finding.message


# --- subnet-allow-all is decided by the rules, not the name --------------------------------------


@pytest.mark.parametrize(("edit", "codes"), [
    # An ACL named like a custom one whose rules allow everything in.
    (lambda s: f.with_subnet(f.with_acl(s, "acl-zone3", [ALLOW_ALL_IN, *f.rules_of(s, "acl-zone3")]),
                             "subnet-zone2", network_acl="acl-zone3"), ["acl-rule-unexpected", "subnet-allow-all",
                                                                        "subnet-allow-all"]),
    # The default ACL with its inbound allow removed no longer allows all: it is only another ACL.
    (lambda s: f.with_subnet(f.with_acl(s, "default-acl", f.rules_of(s, "default-acl")[1:]),
                             "subnet-zone2", network_acl="default-acl"),
     ["acl-rule-missing", "subnet-acl-changed"]),
    # Allow-all only for tcp is not allow-all.
    (lambda s: f.with_subnet(f.with_acl(s, "default-acl", [
        f.rule("tcp-only", "allow", "inbound", "tcp", "0.0.0.0/0", "0.0.0.0/0"),
        f.rule("deny", "deny", "inbound", "any", "0.0.0.0/0", "0.0.0.0/0")]),
        "subnet-zone2", network_acl="default-acl"), ["acl-rule-changed", "acl-rule-changed", "subnet-acl-changed"]),
    # Allow-all to the subnet's own CIDR is enough.
    (lambda s: f.with_subnet(f.with_acl(s, "acl-zone3", [
        f.rule("all-to-zone2", "allow", "inbound", "all", "0.0.0.0/0", "10.240.64.0/24"), *f.rules_of(s, "acl-zone3")]),
        "subnet-zone2", network_acl="acl-zone3"), ["acl-rule-unexpected", "subnet-allow-all"]),
    # Two halves of the address space are all of it.
    (lambda s: f.with_acl(s, "acl-zone1", [
        f.rule("low-half", "allow", "inbound", "all", "0.0.0.0/1", "0.0.0.0/0"),
        f.rule("high-half", "allow", "inbound", "all", "128.0.0.0/1", "0.0.0.0/0"), *f.rules_of(s, "acl-zone1")]),
     ["acl-rule-unexpected", "acl-rule-unexpected", "subnet-allow-all"]),
    # A live edit of the attached ACL that opens everything: the rule, and what it does to the subnet.
    (_insert("acl-zone1", 0, ALLOW_ALL_IN), ["acl-rule-unexpected", "subnet-allow-all"]),
])
def test_subnet_allow_all_by_rules(edit: Edit, codes: list[str]) -> None:
    assert _codes(edit(LIVE)) == codes


def test_no_allow_all_when_the_baseline_already_allows_all() -> None:
    base = f.with_subnet(BASE, "subnet-zone2", network_acl="default-acl")
    live = f.with_subnet(LIVE, "subnet-zone2", network_acl="default-acl")
    assert diff(base, live) == []
    # Moving it to another allow-all ACL is a change of ACL, not an opening.
    other = f.with_acl(live, "acl-zone3", [ALLOW_ALL_IN])
    other = f.with_subnet(other, "subnet-zone2", network_acl="acl-zone3")
    assert [x.code for x in diff(base, other) if x.resource.subnet == "subnet-zone2"] == ["subnet-acl-changed"]


def test_allow_all_without_the_default_acl_in_the_baseline() -> None:
    base = f.recipe(with_default_acl_in_baseline=False)
    live = f.with_subnet(f.live_of(base), "subnet-zone1", network_acl="default-acl")
    assert [x.code for x in diff(base, live)] == ["subnet-allow-all"]


# --- what is not compared ------------------------------------------------------------------------


def _without_finance(s: Snapshot) -> Snapshot:
    kept = [p for p in s.clusters[0].policies if p.namespace != "finance"]
    return f.with_namespace(f.with_policies(s, kept), "finance", None)


#: (unreadable scope, the live snapshot as a failed read leaves it)
UNREADABLE = [
    ("us-south", lambda s: replace(s, vpcs=())),
    ("us-south/prod-vpc", lambda s: replace(s, vpcs=())),
    ("us-south/prod-vpc/acl-zone3", lambda s: f.without_acl(s, "acl-zone3")),
    ("us-south/prod-vpc/subnet-zone3", lambda s: f.without_subnet(s, "subnet-zone3")),
    ("k8s/prod-cluster", lambda s: replace(s, clusters=())),
    ("k8s/prod-cluster/finance", _without_finance),
]


@pytest.mark.parametrize(("scope", "edit"), UNREADABLE, ids=[c[0] for c in UNREADABLE])
def test_unreadable_scopes_give_no_finding(scope: str, edit: Edit) -> None:
    live = edit(LIVE)
    assert diff(BASE, live)  # read as empty, the scope would be all "missing"...
    marked = replace(live, unreadable=(Unreadable(scope, "HTTP 503"),))
    assert diff(BASE, marked) == []  # ...but unreadable is not empty.


def test_readable_but_absent_vpc_reports_missing() -> None:
    live = replace(LIVE, vpcs=())
    codes = sorted({x.code for x in diff(BASE, live)})
    assert codes == ["acl-missing", "subnet-missing"]
    assert all("does not exist in us-south" in x.message for x in diff(BASE, live))


def test_deleted_namespace() -> None:
    live = _without_finance(LIVE)
    assert sorted(x.code for x in diff(BASE, live)) == ["namespace-labels-changed", "netpol-missing"]


#: (what the config leaves out, the live snapshot a read of that scope gives, the one note expected)
OUT_OF_SCOPE = [
    ("region", ReadScope(regions=("eu-de",)), lambda s: replace(s, vpcs=()),
     OutOfScope("region", "us-south", "ibmcloud.regions", "us-south")),
    ("no-ibmcloud-section", ReadScope(regions=(), vpcs=()), lambda s: replace(s, vpcs=()),
     OutOfScope("region", "us-south", "the config has no ibmcloud section", "us-south")),
    ("vpc", ReadScope(vpcs=("edge-vpc",)), lambda s: replace(s, vpcs=()),
     OutOfScope("vpc", "us-south/prod-vpc", "ibmcloud.vpcs", "us-south/prod-vpc")),
    ("cluster", ReadScope(clusters={"other-cluster": None}), lambda s: replace(s, clusters=()),
     OutOfScope("cluster", "k8s/prod-cluster", "kubernetes.clusters", "prod-cluster")),
    ("no-kubernetes-section", ReadScope(clusters={}), lambda s: replace(s, clusters=()),
     OutOfScope("cluster", "k8s/prod-cluster", "the config has no kubernetes section", "prod-cluster")),
    ("namespace", ReadScope(clusters={"prod-cluster": ("accounts",)}), _without_finance,
     OutOfScope("namespace", "k8s/prod-cluster/finance", "kubernetes.clusters[prod-cluster].namespaces",
                "prod-cluster/finance")),
]


@pytest.mark.parametrize(("scope", "edit", "note"), [c[1:] for c in OUT_OF_SCOPE], ids=[c[0] for c in OUT_OF_SCOPE])
def test_out_of_scope_parts_give_no_finding_and_one_note(scope: ReadScope, edit: Edit, note: OutOfScope) -> None:
    live = edit(LIVE)
    assert diff(BASE, live)  # compared with a read that never covered it, the part would be all "missing"...
    assert diff(BASE, replace(live, scope=scope)) == []  # ...but out of scope is not missing
    inside, notes = split(BASE, scope)
    assert notes == (note,)
    assert inside.vpcs + inside.clusters  # the rest of the baseline is still compared


def test_a_note_names_the_scope_and_the_setting() -> None:
    (note,) = split(BASE, ReadScope(vpcs=("edge-vpc",)))[1]
    assert note.message == "baseline vpc us-south/prod-vpc is outside the configured scope (ibmcloud.vpcs): not checked"


def test_drift_inside_the_scope_is_still_found_beside_a_part_outside_it() -> None:
    live = replace(f.with_subnet(_without_finance(LIVE), "subnet-zone2", network_acl="default-acl"),
                   scope=ReadScope(clusters={"prod-cluster": ("accounts",)}))
    assert [x.code for x in diff(BASE, live)] == ["subnet-allow-all"]


def test_one_note_per_region_however_many_vpcs_it_holds() -> None:
    (vpc,) = BASE.vpcs
    base = replace(BASE, vpcs=(vpc, replace(vpc, name="edge-vpc"), replace(vpc, region="eu-de")))
    notes = split(base, ReadScope(regions=("eu-de",)))[1]
    assert [(n.kind, n.scope) for n in notes] == [("region", "us-south")]


def test_no_scope_keeps_the_whole_baseline() -> None:
    assert split(BASE, None) == (BASE, ())
    assert split(BASE, ReadScope()) == (BASE, ())


@pytest.mark.parametrize(("clusters", "unreadable", "expected"), [
    ({"prod-cluster": None}, (), []),
    ({"prod-cluster": None, "spare-cluster": None}, (), ["k8s/spare-cluster"]),
    ({"spare-cluster": None}, (Unreadable("k8s/spare-cluster", "connection refused"),), []),
    (None, (), []),
], ids=["in-the-baseline", "no-baseline-folder", "already-unreadable", "scope-not-known"])
def test_a_configured_cluster_without_a_baseline_folder_is_unreadable(
        clusters: dict[str, tuple[str, ...] | None] | None, unreadable: tuple[Unreadable, ...],
        expected: list[str]) -> None:
    live = replace(LIVE, unreadable=unreadable, scope=ReadScope(clusters=clusters))
    found = unbaselined(BASE, live)
    assert [u.scope for u in found] == expected
    assert all("kubernetes/spare-cluster/" in u.reason for u in found)


@pytest.mark.parametrize(("names", "text"), [
    ([], "(none)"),
    (["b", "a", "a"], "a, b"),
    ([f"vpc-{i:02}" for i in range(20)], ", ".join(f"vpc-{i:02}" for i in range(20))),
    ([f"vpc-{i:02}" for i in range(23)], ", ".join(f"vpc-{i:02}" for i in range(20)) + " and 3 more"),
    ([f"{i:02}" + "x" * 98 for i in range(5)], ", ".join(f"{i:02}" + "x" * 98 for i in range(2)) + " and 3 more"),
    (["x" * 400], "x" * 400),
], ids=["none", "sorted-distinct", "twenty", "bounded", "long-names", "one-longer-than-the-width"])
def test_listing_of_what_exists_is_bounded(names: list[str], text: str) -> None:
    assert listing(names) == text


# --- fingerprints --------------------------------------------------------------------------------


def test_fingerprints_stable_across_runs_and_unrelated_edits() -> None:
    edit = _insert("acl-zone1", 0, SSH_FROM_ANYWHERE)
    first = {x.fingerprint for x in diff(BASE, edit(LIVE))}
    again = {x.fingerprint for x in diff(BASE, edit(LIVE))}
    # Another drift elsewhere (and the rule shifted down by a second insertion) keeps the fingerprint.
    more = _insert("acl-zone1", 0, replace(SSH_FROM_ANYWHERE, name="another", destination_port=None))(edit(LIVE))
    later = {x.fingerprint for x in diff(BASE, more)}
    assert first == again
    assert first < later


def test_fingerprints_differ_by_code_and_resource() -> None:
    by_drift: dict[tuple[str, str], set[str]] = {}
    for _, edit, code, path in ONE_FINDING:
        by_drift.setdefault((code, path), set()).update(x.fingerprint for x in diff(BASE, edit(LIVE)))
    assert all(len(prints) == 1 for prints in by_drift.values())  # same code and resource: same fingerprint
    assert len(set().union(*by_drift.values())) == len(by_drift)


def test_diff_iter_is_lazy() -> None:
    it = diff_iter(BASE, f.with_subnet(LIVE, "subnet-zone1", public_gateway=None))
    assert next(it).code == "gateway-detached"


@pytest.mark.parametrize(("base", "live", "changes"), [
    ({"ingress": [{"ports": [{"port": 443}]}]}, {"ingress": [{"ports": [{"port": 8443}]}]},
     {"ingress[0].ports[0].port": (443, 8443)}),
    ({"policyTypes": ["Ingress"]}, {"policyTypes": ["Egress", "Ingress"]}, {"policyTypes[0]": (None, "Egress")}),
    ({"ingress": [{"from": [{"a": 1}]}, {"from": [{"b": 2}]}]}, {"ingress": [{"from": [{"b": 2}]}]},
     {"ingress[0]": ({"from": [{"a": 1}]}, None)}),
    ({"podSelector": {"matchLabels": {"app": "web"}}}, {"podSelector": {}},
     {"podSelector.matchLabels": ({"app": "web"}, None)}),
    ({"egress": [{"to": [{"x": 1}]}]}, {}, {"egress": ([{"to": [{"x": 1}]}], None)}),
    ({"a": [1, 1, 2]}, {"a": [1, 2, 2]}, {"a[2]": (1, 2)}),
    ({"a": [3, 1]}, {"a": [1, 3]}, {}),
])
def test_spec_changes(base: dict[str, object], live: dict[str, object], changes: dict[str, object]) -> None:
    assert spec_changes(base, live) == changes
