"""core.plan.build: each finding code with a remediation -> its steps; the order of steps (never more open than
before or after); the fewest moves (longest increasing subsequence); unsafe protocols refused.

Every plan is also executed against an in-memory estate (``remediation_doubles.MemoryEstate``) with the
real step executor, and the diff of the result against the baseline must be empty.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from dataclasses import replace

import pytest
from remediation_doubles import MemoryEstate, apply_all

import snapshot_factory as f
from netwarden.core.acl import evaluate as acl_eval
from netwarden.core.drift.diff import diff
from netwarden.core.errors import PlanRefused
from netwarden.core.findings import Finding
from netwarden.core.model import AclRule, Snapshot
from netwarden.core.plan import guards
from netwarden.core.plan.build import PlanOptions, build, is_unsafe_protocol, refuse_unsafe_protocols
from netwarden.core.plan.steps import (
    ATTACH,
    CLOSE,
    NARROW,
    OPEN,
    CreateRule,
    MoveRule,
    RuleRef,
    SetNamespaceLabels,
    Step,
    kind_of,
)

BASE = f.recipe()
LIVE = f.live_of(BASE)
Edit = Callable[[Snapshot], Snapshot]
ACL = "acl-zone1"

SSH_ANYWHERE = f.rule("allow-ssh", "allow", "inbound", "tcp", "0.0.0.0/0", "10.240.0.0/24", destination_port=22)


def edit_rules(acl: str, fn: Callable[[list[AclRule]], list[AclRule]]) -> Edit:
    return lambda s: f.with_acl(s, acl, fn(f.rules_of(s, acl)))


def insert(index: int, rule: AclRule, acl: str = ACL) -> Edit:
    return edit_rules(acl, lambda rules: [*rules[:index], replace(rule, id=f"live-{rule.name}"), *rules[index:]])


def delete(name: str, acl: str = ACL) -> Edit:
    return edit_rules(acl, lambda rules: [r for r in rules if r.name != name])


def change(rule_name: str, /, acl: str = ACL, **changes: object) -> Edit:
    return edit_rules(acl, lambda rules: [replace(r, **changes) if r.name == rule_name else r  # type: ignore[arg-type]
                                          for r in rules])


def reorder(order: Callable[[list[AclRule]], list[AclRule]], acl: str = ACL) -> Edit:
    return edit_rules(acl, order)


def subnet(name: str, **changes: object) -> Edit:
    return lambda s: f.with_subnet(s, name, **changes)


def with_gateways(*names: str) -> Edit:
    return lambda s: replace(s, vpcs=(replace(s.vpcs[0], public_gateways=names),))


def policies(fn: Callable[[list], list]) -> Edit:  # type: ignore[type-arg]
    return lambda s: f.with_policies(s, fn(list(s.clusters[0].policies)))


def chain(*edits: Edit) -> Edit:
    def run(s: Snapshot) -> Snapshot:
        for e in edits:
            s = e(s)
        return s
    return run


def swap(i: int, j: int) -> Callable[[list[AclRule]], list[AclRule]]:
    def fn(rules: list[AclRule]) -> list[AclRule]:
        rules[i], rules[j] = rules[j], rules[i]
        return rules
    return fn


ALL = PlanOptions()


def plan_for(live: Snapshot, options: PlanOptions = ALL, baseline: Snapshot = BASE) -> tuple[list[Finding], list[Step]]:
    findings = diff(baseline, live)
    plan = build(findings, baseline, live, options)
    return findings, list(plan.steps)


def execute(live: Snapshot, steps: list[Step]) -> list[Snapshot]:
    estate = MemoryEstate(live)
    return [live, *apply_all(estate, steps)]


# --- one case per finding code that has a remediation -------------------------------------------------

CASES: list[tuple[str, Edit, list[str], list[str]]] = [
    # (id, drift, codes found, step kinds in order)
    ("rule-missing", delete("allow-org-https-in"), ["acl-rule-missing"], ["create-rule"]),
    ("rule-missing-last", delete("deny-all-out"), ["acl-rule-missing"], ["create-rule"]),
    ("rule-unexpected", insert(0, SSH_ANYWHERE), ["acl-rule-unexpected"], ["delete-rule"]),
    ("rule-changed-port", change("allow-org-https-in", destination_port=f.normalize.port_range(22)),
     ["acl-rule-changed"], ["update-rule"]),
    ("rule-changed-source", change("allow-org-https-in", source="10.0.0.0/8"), ["acl-rule-changed"], ["update-rule"]),
    ("rule-renamed", change("allow-ping-in", name="ping"), ["acl-rule-changed"], ["update-rule"]),
    ("rule-changed-protocol-allow", change("allow-ping-in", protocol="udp", icmp_type=None, icmp_code=None,
                                           destination_port=f.normalize.ALL_PORTS, source_port=f.normalize.ALL_PORTS),
     ["acl-rule-changed"], ["delete-rule", "create-rule"]),
    ("rule-changed-protocol-deny", change("deny-all-in", protocol="tcp", destination_port=f.normalize.ALL_PORTS,
                                          source_port=f.normalize.ALL_PORTS),
     ["acl-rule-changed"], ["update-rule", "create-rule", "delete-rule"]),
    ("rules-swapped", reorder(swap(0, 1)), ["acl-rules-reordered"], ["move-rule"]),
    ("rules-deny-moved-last", reorder(lambda rules: [r for r in rules if r.name != "deny-all-in"]
                                      + [r for r in rules if r.name == "deny-all-in"]),
     ["acl-rules-reordered"], ["move-rule"]),
    ("subnet-allow-all", subnet("subnet-zone1", network_acl="default-acl"), ["subnet-allow-all"],
     ["replace-subnet-acl"]),
    ("subnet-acl-changed", subnet("subnet-zone2", network_acl="acl-zone3"), ["subnet-acl-changed"],
     ["replace-subnet-acl"]),
    ("allow-all-by-rules", insert(0, f.rule("open", "allow", "inbound", "all", "0.0.0.0/0", "0.0.0.0/0")),
     ["acl-rule-unexpected", "subnet-allow-all"], ["delete-rule"]),
    ("gateway-attached", subnet("subnet-zone2", public_gateway="pgw-zone1"), ["gateway-attached"],
     ["unset-gateway"]),
    ("gateway-detached", subnet("subnet-zone1", public_gateway=None), ["gateway-detached"], ["set-gateway"]),
    ("gateway-changed", chain(with_gateways("pgw-zone1", "pgw-other"),
                              subnet("subnet-zone1", public_gateway="pgw-other")),
     ["gateway-changed"], ["unset-gateway", "set-gateway"]),
    ("netpol-missing", policies(lambda ps: [p for p in ps if p.name != "allow-web"]), ["netpol-missing"],
     ["apply-policy"]),
    ("netpol-changed", policies(lambda ps: [replace(p, spec={**p.spec, "policyTypes": ["Egress", "Ingress"]})
                                            if p.name == "allow-web" else p for p in ps]),
     ["netpol-changed"], ["apply-policy"]),
    ("netpol-unexpected", policies(lambda ps: [*ps, f.policy("accounts", "allow-all", {"podSelector": {},
                                                                                       "ingress": [{}]})]),
     ["netpol-unexpected"], ["delete-policy"]),
    ("namespace-labels", lambda s: f.with_namespace(s, "finance", {"tier": "other"}), ["namespace-labels-changed"],
     ["set-namespace-labels"]),
]


@pytest.mark.parametrize(("drift", "codes", "kinds"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_each_code_has_its_steps_and_they_restore_the_baseline(drift: Edit, codes: list[str], kinds: list[str]) -> None:
    live = drift(LIVE)
    findings, steps = plan_for(live, PlanOptions(restore_namespace_labels=True))
    assert sorted(x.code for x in findings) == sorted(codes)
    assert [kind_of(s.op) for s in steps] == kinds
    assert {fp for s in steps for fp in s.fixes} == {x.fingerprint for x in findings}
    after = execute(live, steps)[-1]
    assert diff(BASE, after) == []
    assert build(diff(BASE, after), BASE, after).steps == ()  # a second run plans nothing


@pytest.mark.parametrize("drift", [c[1] for c in CASES], ids=[c[0] for c in CASES])
def test_no_single_code_plan_is_destructive_and_the_guards_see_the_acls_the_steps_leave(drift: Edit) -> None:
    """The blast-radius guards play each ACL's steps over the live rules: what they see is what the
    executed steps leave, and none of these plans (one finding each) breaches a guard."""
    live = drift(LIVE)
    _, steps = plan_for(live, PlanOptions(restore_namespace_labels=True))
    assert guards.breaches(steps, live) == []
    after = execute(live, steps)[-1]
    for acl in live.vpcs[0].acls:
        mine = [s for s in steps if getattr(getattr(s.op, "target", None), "acl", None) == acl.name]
        done = after.vpcs[0].acl(acl.name)
        assert done is not None
        assert guards.rules_after(acl, mine) == done.rules, acl.name


def test_the_calls_are_the_api_calls() -> None:
    live = chain(delete("deny-all-in"), subnet("subnet-zone1", network_acl="default-acl"))(LIVE)
    _, steps = plan_for(live)
    attach, create = (s.call for s in steps)
    assert (attach.method, attach.path, attach.body) == (
        "PUT", "/v1/subnets/id-subnet-zone1/network_acl", {"id": "acl-acl-zone1"})
    assert attach.api == "vpc us-south"
    assert (create.method, create.path) == ("POST", "/v1/network_acls/acl-acl-zone1/rules")
    assert create.body is not None
    assert create.body["before"] == {"id": "r-acl-zone1-deny-all-out"}
    assert create.body["name"] == "deny-all-in" and create.body["action"] == "deny"


def test_a_move_to_the_end_sends_before_null() -> None:
    live = reorder(lambda rules: [rules[-1], *rules[:-1]])(LIVE)
    _, steps = plan_for(live)
    assert len(steps) == 1
    assert steps[0].call.method == "PATCH" and steps[0].call.body == {"before": None}


def test_missing_rules_in_a_row_are_created_in_baseline_order() -> None:
    live = chain(delete("allow-org-https-in"), delete("allow-org-https-out"), delete("allow-ping-in"))(LIVE)
    _, steps = plan_for(live)
    befores = [s.op.before for s in steps if isinstance(s.op, CreateRule)]
    assert befores == [RuleRef("deny-all-in", "r-acl-zone1-deny-all-in")] * 3
    assert diff(BASE, execute(live, steps)[-1]) == []


def test_a_missing_allow_goes_before_a_deny_the_plan_created_first() -> None:
    live = chain(delete("allow-ping-in"), delete("deny-all-in"))(LIVE)
    _, steps = plan_for(live)
    deny, allow = (s.op for s in steps)
    assert isinstance(deny, CreateRule) and isinstance(allow, CreateRule)
    assert (deny.rule.name, deny.before) == ("deny-all-in", RuleRef("deny-all-out", "r-acl-zone1-deny-all-out"))
    assert (allow.rule.name, allow.before) == ("allow-ping-in", RuleRef("deny-all-in", None))
    assert steps[1].call.body is not None
    assert steps[1].call.body["before"] == {"id": "<id of rule deny-all-in, created above>"}
    assert diff(BASE, execute(live, steps)[-1]) == []


def test_a_replaced_deny_keeps_denying_while_it_is_replaced() -> None:
    live = change("deny-all-in", protocol="tcp", destination_port=f.normalize.ALL_PORTS,
                  source_port=f.normalize.ALL_PORTS)(LIVE)
    _, steps = plan_for(live)
    rename, create, delete_old = steps
    assert rename.call.body == {"name": "deny-all-in-old"}
    assert delete_old.call.path.endswith("/r-acl-zone1-deny-all-in")
    assert (rename.phase, create.phase) == (NARROW, NARROW)


# --- the fewest moves ----------------------------------------------------------------------------------


def _lis(seq: list[int]) -> int:
    best = [1] * len(seq)
    for i in range(len(seq)):
        for j in range(i):
            if seq[j] < seq[i]:
                best[i] = max(best[i], best[j] + 1)
    return max(best, default=0)


PERMUTATIONS = [list(p) for p in itertools.permutations(range(5))][1::7]


@pytest.mark.parametrize("order", PERMUTATIONS, ids=["".join(map(str, p)) for p in PERMUTATIONS])
def test_reordering_moves_only_the_rules_outside_a_longest_increasing_run(order: list[int]) -> None:
    first = f.rules_of(LIVE, ACL)[:5]
    live = reorder(lambda rules: [first[i] for i in order] + rules[5:])(LIVE)
    findings, steps = plan_for(live)
    assert [x.code for x in findings] == ["acl-rules-reordered"]
    assert all(isinstance(s.op, MoveRule) for s in steps)
    assert len(steps) == 5 - _lis(order)
    assert diff(BASE, execute(live, steps)[-1]) == []


def test_reversed_acl_needs_n_minus_one_moves() -> None:
    live = reorder(lambda rules: rules[::-1])(LIVE)
    _, steps = plan_for(live)
    assert len(steps) == len(f.rules_of(LIVE, ACL)) - 1
    assert diff(BASE, execute(live, steps)[-1]) == []


# --- order: never more open than before or after -------------------------------------------------------

MIXED = chain(
    subnet("subnet-zone1", network_acl="default-acl"),                          # allow-all
    subnet("subnet-zone2", public_gateway="pgw-zone1"),                         # gateway-attached
    subnet("subnet-zone3", network_acl="acl-zone2"),                            # subnet-acl-changed
    insert(0, SSH_ANYWHERE, acl="acl-zone2"),                                   # unexpected allow
    delete("deny-all-in", acl="acl-zone2"),                                     # missing deny
    change("allow-org-https-in", acl="acl-zone2", source="0.0.0.0/0"),         # changed (widened)
    delete("allow-ping-in", acl="acl-zone3"),                                   # missing allow
    change("deny-all-out", acl="acl-zone3", protocol="udp", destination_port=f.normalize.ALL_PORTS,
           source_port=f.normalize.ALL_PORTS),                                  # changed protocol of a deny
    reorder(swap(0, 12), acl=ACL),                                              # reordered
    policies(lambda ps: [*ps[1:], f.policy("accounts", "allow-all", {"podSelector": {}, "ingress": [{}]})]),
)


def _flows(snapshot: Snapshot) -> dict[tuple[str, str], acl_eval.FlowSet]:
    """Allowed flows per (subnet, direction): what the subnet's live ACL lets through."""
    vpc = snapshot.vpcs[0]
    out = {}
    for s in vpc.subnets:
        acl = vpc.acl(s.network_acl or "")
        assert acl is not None
        for direction in acl_eval.DIRECTIONS:
            out[(s.name, direction)] = acl_eval.allowed_flows(acl.rules, direction)
    return out


def test_no_intermediate_state_is_more_open_than_before_or_after() -> None:
    live = MIXED(LIVE)
    _, steps = plan_for(live)
    states = execute(live, steps)
    assert diff(BASE, states[-1]) == []
    before, after = _flows(states[0]), _flows(states[-1])
    for n, state in enumerate(states[1:-1], 1):
        for key, flows in _flows(state).items():
            assert flows.issubset(before[key] | after[key]), f"step {n} ({steps[n - 1].description}) opens {key}"
        assert all(s.public_gateway in (None, "pgw-zone1") for s in state.vpcs[0].subnets)


def test_phases_close_first_and_open_last() -> None:
    live = chain(MIXED, subnet("subnet-zone1", public_gateway=None))(LIVE)
    _, steps = plan_for(live)
    phases = [s.phase for s in steps]
    assert phases == sorted(phases)
    kinds = [kind_of(s.op) for s in steps]
    assert kinds[:3] == ["replace-subnet-acl", "unset-gateway", "create-rule"] or kinds[0] == "unset-gateway"
    assert steps[0].phase == CLOSE and steps[1].phase == CLOSE
    assert kinds[-1] == "set-gateway" and steps[-1].phase == OPEN
    attach = [s for s in steps if kind_of(s.op) == "replace-subnet-acl"]
    assert [s.phase for s in attach] == [CLOSE, ATTACH]  # allow-all first, the other after the narrowing


def test_denies_are_added_before_allows_are_removed() -> None:
    live = chain(insert(0, SSH_ANYWHERE), delete("deny-all-in"))(LIVE)
    _, steps = plan_for(live)
    assert [kind_of(s.op) for s in steps] == ["create-rule", "delete-rule"]


def test_missing_allows_come_after_unexpected_allows_are_removed() -> None:
    live = chain(insert(0, SSH_ANYWHERE), delete("allow-org-https-in"))(LIVE)
    _, steps = plan_for(live)
    assert [kind_of(s.op) for s in steps] == ["delete-rule", "create-rule"]


def test_policies_are_applied_before_unexpected_ones_are_deleted() -> None:
    live = policies(lambda ps: [*ps[1:], f.policy("accounts", "x", {"podSelector": {}})])(LIVE)
    _, steps = plan_for(live)
    assert [kind_of(s.op) for s in steps] == ["apply-policy", "delete-policy"]
    assert steps[0].call.method == "POST"


# --- selection, suppression, what is left -----------------------------------------------------------


def test_only_selected_codes_are_remediated_and_the_rest_is_listed() -> None:
    live = chain(insert(0, SSH_ANYWHERE), delete("allow-org-https-in"))(LIVE)
    findings = diff(BASE, live)
    plan = build(findings, BASE, live, PlanOptions(codes=frozenset({"acl-rule-missing"})))
    assert [kind_of(s.op) for s in plan.steps] == ["create-rule"]
    assert [(s.finding.code, s.reason.split(" ")[0]) for s in plan.skipped] == [("acl-rule-unexpected", "not")]


def test_a_subnet_opened_by_its_own_rules_gets_the_whole_acl_back_when_allow_all_is_selected() -> None:
    live = chain(insert(0, f.rule("open", "allow", "inbound", "all", "0.0.0.0/0", "0.0.0.0/0")),
                 delete("allow-ping-in"), insert(0, SSH_ANYWHERE, acl="acl-zone2"))(LIVE)
    findings = diff(BASE, live)
    plan = build(findings, BASE, live, PlanOptions(codes=frozenset({"subnet-allow-all"})))
    assert [kind_of(s.op) for s in plan.steps] == ["delete-rule", "create-rule"]
    assert all("subnet-allow-all" in s.codes for s in plan.steps)
    assert [(s.finding.code, s.finding.resource.acl) for s in plan.skipped] == [("acl-rule-unexpected", "acl-zone2")]


def test_suppressed_findings_are_not_remediated() -> None:
    live = insert(0, SSH_ANYWHERE)(LIVE)
    findings = diff(BASE, live)
    plan = build(findings, BASE, live, PlanOptions(suppressed=frozenset(x.fingerprint for x in findings)))
    assert plan.steps == ()
    assert plan.skipped[0].reason == "suppressed in the config"


@pytest.mark.parametrize(("drift", "reason"), [
    (lambda s: f.without_acl(s, "acl-zone2"), "does not create network ACLs"),
    (lambda s: f.without_subnet(s, "subnet-zone3"), "does not create subnets"),
    (lambda s: f.with_namespace(s, "finance", {"tier": "x"}), "restore_namespace_labels is false"),
    (chain(with_gateways(), subnet("subnet-zone1", public_gateway=None)), "does not exist"),
], ids=["acl-missing", "subnet-missing", "labels-off", "gateway-gone"])
def test_findings_without_an_automatic_fix_are_skipped_with_the_reason(drift: Edit, reason: str) -> None:
    live = drift(LIVE)
    findings = diff(BASE, live)
    plan = build(findings, BASE, live)
    assert any(reason in s.reason for s in plan.skipped), [s.reason for s in plan.skipped]
    assert not any(s.fixes and set(s.fixes) & {x.fingerprint for x in plan.skipped} for s in plan.steps)


def test_a_gateway_swap_without_the_baseline_gateway_leaves_the_subnet_its_gateway() -> None:
    live = chain(with_gateways("pgw-renamed"), subnet("subnet-zone1", public_gateway="pgw-renamed"))(LIVE)
    plan = build(diff(BASE, live), BASE, live)
    assert plan.steps == ()
    assert [s.finding.code for s in plan.skipped] == ["gateway-changed"]
    assert "pgw-zone1 does not exist" in plan.skipped[0].reason


def test_a_subnet_whose_baseline_acl_is_missing_is_not_touched() -> None:
    live = chain(lambda s: f.without_acl(s, "acl-zone2"), subnet("subnet-zone2", network_acl="default-acl"))(LIVE)
    plan = build(diff(BASE, live), BASE, live)
    assert plan.steps == ()
    assert {s.finding.code for s in plan.skipped} == {"acl-missing", "subnet-allow-all"}


def test_namespace_labels_remove_only_the_compared_keys() -> None:
    live = f.with_namespace(LIVE, "finance", {"tier": "finance", "team": "x", "kubernetes.io/metadata.name": "finance"})
    base = f.with_namespace(BASE, "finance", {"team": "y"})
    plan = build(diff(base, live), base, live, PlanOptions(restore_namespace_labels=True))
    (step,) = plan.steps
    assert step.call.body == {"metadata": {"labels": {"team": "y", "tier": None,
                                                      "kubernetes.io/metadata.name": "finance"}}}
    assert isinstance(step.op, SetNamespaceLabels)
    assert step.op.namespace.labels == {"team": "y", "kubernetes.io/metadata.name": "finance"}


# --- refusals ----------------------------------------------------------------------------------------


UNSAFE = ["any", "number_17", "gre", "ah", "esp", "ip_in_ip", "l2tp", "rsvp", "sctp", "vrrp"]


@pytest.mark.parametrize(("protocol", "unsafe"), [(p, True) for p in UNSAFE] + [
    ("tcp", False), ("udp", False), ("icmp", False), ("icmp_tcp_udp", False)])
def test_unsafe_protocols(protocol: str, unsafe: bool) -> None:
    assert is_unsafe_protocol(protocol) is unsafe


@pytest.mark.parametrize("protocol", UNSAFE)
def test_a_rule_with_an_unsafe_protocol_the_baseline_does_not_hold_is_refused(protocol: str) -> None:
    rule = f.rule("odd", "deny", "inbound", protocol, "0.0.0.0/0", "0.0.0.0/0")
    step = Step(CreateRule(_target(), rule, None), "create")
    with pytest.raises(PlanRefused, match=f"protocol {protocol}"):
        refuse_unsafe_protocols([step], BASE)
    holding = f.with_acl(BASE, ACL, [*f.rules_of(BASE, ACL), rule])
    refuse_unsafe_protocols([step], holding)  # the baseline holds that very rule: allowed


def test_a_missing_any_rule_the_baseline_holds_is_restored() -> None:
    deny_any = f.rule("deny-all-in", "deny", "inbound", "any", "0.0.0.0/0", "0.0.0.0/0")
    base = f.with_acl(BASE, ACL, [deny_any if r.name == "deny-all-in" else r for r in f.rules_of(BASE, ACL)])
    live = delete("deny-all-in")(f.live_of(base))
    _, steps = plan_for(live, baseline=base)
    assert [kind_of(s.op) for s in steps] == ["create-rule"]
    assert steps[0].call.body is not None and steps[0].call.body["protocol"] == "any"


def test_a_live_snapshot_without_ids_is_refused() -> None:
    live = insert(0, SSH_ANYWHERE)(LIVE)
    no_ids = f.with_acl(live, ACL, [replace(r, id=None) for r in f.rules_of(live, ACL)])
    with pytest.raises(PlanRefused, match="no id"):
        build(diff(BASE, no_ids), BASE, no_ids)


def test_plan_to_dict_numbers_the_steps_and_shows_the_calls() -> None:
    live = chain(insert(0, SSH_ANYWHERE), lambda s: f.without_subnet(s, "subnet-zone3"))(LIVE)
    data = build(diff(BASE, live), BASE, live).to_dict()
    assert data["steps"][0]["n"] == 1
    assert data["steps"][0]["call"]["method"] == "DELETE"
    assert data["steps"][0]["kind"] == "delete-rule"
    assert data["skipped"][0]["code"] == "subnet-missing"


def _target() -> object:
    from netwarden.core.plan.steps import AclTarget

    return AclTarget("us-south", "prod-vpc", ACL, "acl-acl-zone1")


def test_a_deny_replacement_cut_short_is_finished_without_another_rename() -> None:
    cut_short = change("deny-all-in", name="deny-all-in-old", protocol="tcp", destination_port=f.normalize.ALL_PORTS,
                       source_port=f.normalize.ALL_PORTS)(LIVE)
    _, steps = plan_for(cut_short)
    assert [kind_of(s.op) for s in steps] == ["create-rule", "delete-rule"]
    assert diff(BASE, execute(cut_short, steps)[-1]) == []


def _never_more_open(baseline: Snapshot, live: Snapshot) -> list[Step]:
    _, steps = plan_for(live, baseline=baseline)
    states = execute(live, steps)
    assert diff(baseline, states[-1]) == []
    before, after = _flows(states[0]), _flows(states[-1])
    for n, state in enumerate(states[1:-1], 1):
        for key, flows in _flows(state).items():
            assert flows.issubset(before[key] | after[key]), f"step {n} ({steps[n - 1].description}) opens {key}"
    return steps


ORG_SSH_DENY = f.rule("deny-org-ssh-in", "deny", "inbound", "tcp", "207.42.8.0/24", "10.240.0.0/24",
                      destination_port="22-23")


def test_a_widening_patch_waits_until_its_rule_is_back_behind_the_deny() -> None:
    # Baseline: deny org ssh, then allow org on every port. Live: the allow moved above the deny and
    # narrowed to 443. Patching the port back before the move would let org ssh in: neither state does.
    baseline = chain(insert(0, ORG_SSH_DENY),
                     change("allow-org-https-in", destination_port=f.normalize.ALL_PORTS))(BASE)
    live = chain(change("allow-org-https-in", destination_port=f.normalize.port_range(443)),
                 reorder(lambda rules: [r for r in rules if r.name == "allow-org-https-in"]
                         + [r for r in rules if r.name != "allow-org-https-in"]))(f.live_of(baseline))
    steps = _never_more_open(baseline, live)
    assert [kind_of(s.op) for s in steps] == ["move-rule", "update-rule"]


def test_a_narrowing_patch_comes_before_a_move_that_would_open_with_the_old_content() -> None:
    # Baseline: allow org 443 above the org ssh deny. Live: the allow moved below the deny and widened to
    # every port. Moving it up first, still wide, would let org ssh in: the patch goes first.
    baseline = chain(insert(9, ORG_SSH_DENY))(BASE)
    live = chain(change("allow-org-https-in", destination_port=f.normalize.ALL_PORTS),
                 reorder(lambda rules: [r for r in rules if r.name != "allow-org-https-in"][:9]
                         + [r for r in rules if r.name == "allow-org-https-in"]
                         + [r for r in rules if r.name != "allow-org-https-in"][9:]))(f.live_of(baseline))
    steps = _never_more_open(baseline, live)
    assert [kind_of(s.op) for s in steps] == ["update-rule", "move-rule"]


def test_a_rule_is_patched_while_a_deny_still_shadows_it_when_moving_the_deny_first_would_open_it() -> None:
    # Live: deny-all-in moved to the top (it shadows every inbound allow) and allow-org-https-in on port
    # 8080. Moving the deny back first would let org 8080 in, which neither ACL does: patch it first.
    live = chain(change("allow-org-https-in", destination_port=f.normalize.port_range(8080)),
                 reorder(lambda rules: [r for r in rules if r.name == "deny-all-in"]
                         + [r for r in rules if r.name != "deny-all-in"]))(LIVE)
    steps = _never_more_open(BASE, live)
    assert [kind_of(s.op) for s in steps] == ["update-rule", "move-rule"]


def test_a_suppressed_rule_is_left_alone_while_other_rules_of_its_acl_are_restored() -> None:
    live = chain(insert(0, SSH_ANYWHERE), delete("allow-org-https-in"), reorder(swap(3, 4)))(LIVE)
    findings = diff(BASE, live)
    held = frozenset(x.fingerprint for x in findings if x.code in ("acl-rule-unexpected", "acl-rules-reordered"))
    plan = build(findings, BASE, live, PlanOptions(suppressed=held))
    assert [kind_of(s.op) for s in plan.steps] == ["create-rule"]
    assert {s.finding.code for s in plan.skipped if s.suppressed} == {"acl-rule-unexpected", "acl-rules-reordered"}
    after = execute(live, list(plan.steps))[-1]
    again = diff(BASE, after)
    assert {x.code for x in again} == {"acl-rule-unexpected", "acl-rules-reordered"}
    assert build(again, BASE, after, PlanOptions(suppressed=frozenset(x.fingerprint for x in again))).steps == ()


def test_a_rule_patched_narrower_is_patched_before_a_subnet_gets_its_acl_back() -> None:
    # subnet-zone3 uses acl-zone2; its own acl-zone3 lets org https in from anywhere. Attached again
    # before the patch, it would let in what neither acl-zone2 nor the baseline acl-zone3 does.
    live = chain(subnet("subnet-zone3", network_acl="acl-zone2"),
                 change("allow-org-https-in", acl="acl-zone3", source="0.0.0.0/0"))(LIVE)
    steps = _never_more_open(BASE, live)
    assert [kind_of(s.op) for s in steps] == ["update-rule", "replace-subnet-acl"]
    assert steps[0].phase == NARROW


def test_a_subnet_gets_its_acl_back_only_once_a_rule_patched_sideways_there_is_restored() -> None:
    # subnet-zone1 uses acl-zone2; acl-zone1 lets 10.0.0.0/8 in where the baseline lets 166.8.0.0/14 in
    # (neither narrower nor wider). Attached before the patch, the subnet would let 10.0.0.0/8 in, which
    # neither acl-zone2 nor the baseline acl-zone1 does.
    live = chain(subnet("subnet-zone1", network_acl="acl-zone2"),
                 change("allow-ibm-private-2-in", source="10.0.0.0/8"))(LIVE)
    steps = _never_more_open(BASE, live)
    assert [kind_of(s.op) for s in steps] == ["update-rule", "replace-subnet-acl"]
