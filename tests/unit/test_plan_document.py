"""core.plan.document and core.plan.codec: a reviewed plan saved and read back exactly, refused when it was
changed or is malformed (one error naming the file, the line and the field), and a precondition digest that
moves exactly when the live state of a scope the plan writes to moves."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import replace
from typing import Any

import pytest

import snapshot_factory as f
from netwarden.core.errors import PlanFormatError
from netwarden.core.model import (
    ALL_PORTS,
    Namespace,
    NetworkPolicy,
    Pod,
    PortRange,
    SgRule,
    SgTarget,
    Snapshot,
    Vpc,
)
from netwarden.core.plan import codec, document
from netwarden.core.plan.sg_ops import (
    BindSgTarget,
    CreateSecurityGroup,
    CreateSgRule,
    DeleteSgRule,
    SgRef,
    UnbindSgTarget,
    UpdateSgRule,
)
from netwarden.core.plan.steps import (
    CLOSE,
    NARROW,
    AclTarget,
    ApplyPolicy,
    CreateRule,
    DeletePolicy,
    DeleteRule,
    MoveRule,
    RemediationPlan,
    ReplaceSubnetAcl,
    RuleRef,
    SetGateway,
    SetNamespaceLabels,
    Step,
    UnsetGateway,
    UpdateRule,
    api_call,
    kind_of,
)

TARGET = AclTarget("us-south", "prod-vpc", "acl-zone1", "acl-id-1")
GROUP = SgRef("us-south", "prod-vpc", "web-sg", "sg-id-1")
NEW_GROUP = SgRef("us-south", "prod-vpc", "new-sg", None)
SSH = f.rule("allow-ssh", "allow", "inbound", "tcp", "0.0.0.0/0", "10.240.0.0/24", destination_port=22)
PING = f.rule("allow-ping", "allow", "inbound", "icmp", "207.42.8.0/24", "10.240.0.0/24", type=8, code=0)
SG_RULE = SgRule("inbound", "tcp", remote="10.0.0.0/8", ports=PortRange(443, 443), id="sgr-1")
SG_REMOTE = SgRule("outbound", "all", remote_group="web-sg")
POLICY = NetworkPolicy("accounts", "allow-web", {"podSelector": {"matchLabels": {"app": "web"}},
                                                 "policyTypes": ["Ingress"], "ingress": [{"from": [{}]}]},
                       labels={"team": "net"})
FP1, FP2 = "0123456789abcdef", "fedcba9876543210"

#: One step of every operation kind, with ids, None and every kind of field set somewhere.
STEPS = (
    Step(CreateRule(TARGET, replace(SSH, id="r-ssh"), RuleRef("deny-all-in", "r-deny")), "create ssh", (FP1,),
         ("acl-rule-missing",), NARROW),
    Step(CreateRule(TARGET, PING, RuleRef("allow-ssh")), "create ping", (FP1,), ("acl-rule-missing",)),
    Step(CreateRule(TARGET, replace(SSH, destination_port=ALL_PORTS, source_port=PortRange(1024, 65535)), None),
         "create at the end", (FP1,), ("acl-rule-missing",)),
    Step(UpdateRule(TARGET, "r-1", "allow-org", {"source": "207.42.8.0/24", "destination_port_min": 443}), "patch"),
    Step(MoveRule(TARGET, "r-2", "deny-all-in", None), "move to the end"),
    Step(DeleteRule(TARGET, "r-3", "ssh-anywhere"), "delete", (FP2,), ("acl-rule-unexpected",), CLOSE),
    Step(ReplaceSubnetAcl("us-south", "prod-vpc", "subnet-zone1", "sn-1", "acl-zone1", "acl-id-1"), "attach acl"),
    Step(SetGateway("us-south", "prod-vpc", "subnet-zone1", "sn-1", "pgw-zone1"), "attach gateway"),
    Step(UnsetGateway("us-south", "prod-vpc", "subnet-zone3", "sn-3"), "detach gateway"),
    Step(CreateSecurityGroup(NEW_GROUP, "vpc-id-1"), "create group"),
    Step(CreateSgRule(GROUP, SG_RULE), "create sg rule"),
    Step(CreateSgRule(NEW_GROUP, SG_REMOTE, remote_id=None), "create sg rule to a new group"),
    Step(UpdateSgRule(GROUP, "sgr-1", SG_RULE, {"port_min": 443, "port_max": 443,
                                                "local": {"cidr_block": "10.0.0.0/8"}}), "patch sg rule"),
    Step(DeleteSgRule(GROUP, "sgr-2", replace(SG_RULE, id=None, icmp_type=None)), "delete sg rule"),
    Step(BindSgTarget(GROUP, SgTarget("load_balancer", "alb-1", id="lb-1"), "lb-1"), "bind"),
    Step(UnbindSgTarget(GROUP, SgTarget("network_interface", "eth0"), "ni-1"), "unbind"),
    Step(ApplyPolicy("prod-cluster", POLICY, True), "replace policy"),
    Step(ApplyPolicy("prod-cluster", replace(POLICY, labels={}), False), "create policy"),
    Step(DeletePolicy("prod-cluster", "accounts", "allow-everything"), "delete policy"),
    Step(SetNamespaceLabels("prod-cluster", Namespace("finance", {"tier": "finance"}), ("usage",)), "labels"),
)
FINDINGS = (document.PlannedFinding(FP1, "acl-rule-missing", "high", "us-south/prod-vpc/acl-zone1/allow-ssh", "gone"),
            document.PlannedFinding(FP2, "acl-rule-unexpected", "critical", "us-south/prod-vpc/acl-zone1/x", "new"))
LIVE = f.live_of(f.recipe())


def doc(steps: tuple[Step, ...] = STEPS) -> document.PlanDocument:
    scopes = sorted({s.scope for s in steps})
    return document.PlanDocument(id="0a1b2c3d4e5f6071", created_at="2026-11-27T10:00:00Z", created_by="cli",
                                 run_id="cli-0123", baseline=document.baseline_digest(f.recipe(), scopes),
                                 precondition={s: document.state_digest(LIVE, s) for s in scopes}, steps=steps,
                                 findings=FINDINGS)


def test_every_operation_kind_is_in_the_round_trip() -> None:
    assert {kind_of(s.op) for s in STEPS} == set(codec.KINDS)


def test_a_plan_reads_back_as_it_was_written() -> None:
    original = doc()
    text = original.dumps()
    again = document.loads(text, "plan.json")
    assert again == original
    # fields that equality leaves out (ids) come back too, and so does every step's call
    assert [codec.op_to_data(s.op) for s in again.steps] == [codec.op_to_data(s.op) for s in STEPS]
    assert [s.call for s in again.steps] == [s.call for s in STEPS]
    assert again.dumps() == text, "canonical: written again, the same bytes"
    assert document.loads(text.encode("utf-8"), "plan.json") == original


def edited(change: Callable[[dict[str, Any]], None]) -> str:
    data = json.loads(doc().dumps())
    change(data)
    return json.dumps(data, indent=2)


def op(n: int) -> Callable[[dict[str, Any]], dict[str, Any]]:
    return lambda d: d["steps"][n]["op"]


def widened(step: dict[str, Any]) -> None:
    """The rule a step creates opened to anywhere, and the call it shows to match: a careful forgery."""
    step["op"]["rule"].update(source="0.0.0.0/0", destination="0.0.0.0/0")
    step["call"] = api_call(codec.op_from_data(step["op"], "op")).to_dict()


@pytest.mark.parametrize(("text", "where", "message"), [
    # changed after it was made, every field still well-formed: only the digest can tell
    (edited(lambda d: widened(d["steps"][0])), "digest", "the plan was changed after netwarden made it"),
    (edited(lambda d: d["precondition"].update({k: "sha256:" + "0" * 64 for k in d["precondition"]})), "digest",
     "does not match the plan's content"),
    (edited(lambda d: d.update(created_by="someone else")), "digest", "changed after netwarden made it"),
    # what is shown must be what runs
    (edited(lambda d: d["steps"][5]["call"].update(path="/v1/network_acls/acl-id-1/rules/r-other")), "steps[5].call",
     "the call shown is not the call made"),
    (edited(lambda d: d["steps"][6].update(scope="us-south/other-vpc")), "steps[6].scope",
     "does not match the step's operation"),
    # malformed
    (edited(lambda d: op(0)(d)["rule"]["destination_port"].update(min="22")), "steps[0].op.rule.destination_port.min",
     "expected a whole number, got a string"),
    (edited(lambda d: op(16)(d).update(exists="yes")), "steps[16].op.exists", "expected true or false"),
    (edited(lambda d: op(0)(d)["target"].pop("acl_id")), "steps[0].op.target.acl_id", "missing"),
    (edited(lambda d: op(3)(d).update(sudo=True)), "steps[3].op.sudo", "unknown field"),
    (edited(lambda d: op(3)(d).update(kind="drop-table")), "steps[3].op.kind", "not an operation netwarden knows"),
    (edited(lambda d: op(19)(d).update(remove="usage")), "steps[19].op.remove", "expected a list"),
    (edited(lambda d: op(16)(d)["policy"].update(labels={"team": 7})), "steps[16].op.policy.labels.team",
     "expected a string, got a number"),
    (edited(lambda d: d["steps"][2].update(n=9)), "steps[2].n", "expected 3"),
    (edited(lambda d: d["steps"][2].update(phase=0)), "steps[2].phase", "from 1 to 5"),
    (edited(lambda d: d["steps"][0].update(fixes=["1111111111111111"])), "steps[0].fixes", "names finding"),
    (edited(lambda d: d["precondition"].pop("k8s/prod-cluster")), "precondition", "exactly the scopes"),
    (edited(lambda d: d["findings"][0].update(code="acl-rule-vanished")), "findings[0].code", "not a finding code"),
    (edited(lambda d: d.update(id="../../findings")), "id", "not a plan id"),
    (edited(lambda d: d.update(baseline="md5:abc")), "baseline", "expected sha256:"),
    (edited(lambda d: d.update(extra=1)), "extra", "unknown field"),
    (edited(lambda d: d.pop("run_id")), "run_id", "missing"),
    (edited(lambda d: d.update(schema_version=2)), "schema_version", "unsupported plan version"),
    (edited(lambda d: d.update(kind="netwarden/snapshot")), "kind", "not a netwarden remediation plan"),
    ('{"kind": "netwarden/remediation-plan", "kind": "x"}', "kind", "appears twice"),
    ("{not json", None, "not JSON"),
], ids=lambda v: v if isinstance(v, str) and len(v) < 40 else "")
def test_a_changed_or_malformed_plan_is_one_error_naming_the_file_and_field(text: str, where: str | None,
                                                                            message: str) -> None:
    with pytest.raises(PlanFormatError) as e:
        document.loads(text, "plan.json")
    error = e.value
    assert error.location is not None and error.location.file == "plan.json"
    assert error.location.field == where
    assert message in error.message
    assert str(error).startswith("plan.json:") and "\n" not in str(error)


def test_an_error_names_the_line_of_the_field() -> None:
    text = edited(lambda d: op(3)(d).update(kind="drop-table"))
    with pytest.raises(PlanFormatError) as e:
        document.loads(text, "plan.json")
    line = e.value.location.line if e.value.location else None
    assert line is not None and '"kind": "drop-table"' in text.splitlines()[line - 1]


OTHER = Vpc(region="us-south", name="other-vpc", id="vpc-other")
TWO = replace(LIVE, vpcs=(*LIVE.vpcs, OTHER))
VPC_SCOPE, K8S_SCOPE, OTHER_SCOPE = "us-south/prod-vpc", "k8s/prod-cluster", "us-south/other-vpc"


def cluster_changed(snap: Snapshot, **changes: Any) -> Snapshot:
    return replace(snap, clusters=(replace(snap.clusters[0], **changes),))


@pytest.mark.parametrize(("change", "moved"), [
    (lambda s: s, []),
    (lambda s: replace(s, taken_at="2026-11-28T00:00:00Z"), []),
    (lambda s: f.with_acl(s, "acl-zone1", [replace(r, source="0.0.0.0/0") if r.name == "allow-org-https-in" else r
                                           for r in f.rules_of(s, "acl-zone1")]), [VPC_SCOPE]),
    # the same rule under another id: the steps name rules by id
    (lambda s: f.with_acl(s, "acl-zone1", [replace(r, id="r-recreated") if r.name == "deny-all-in" else r
                                           for r in f.rules_of(s, "acl-zone1")]), [VPC_SCOPE]),
    (lambda s: f.with_subnet(s, "subnet-zone3", public_gateway="pgw-zone1"), [VPC_SCOPE]),
    (lambda s: replace(s, vpcs=(s.vpcs[0], replace(OTHER, default_acl="x"))), []),
    (lambda s: replace(s, vpcs=(s.vpcs[1],)), [VPC_SCOPE]),
    (lambda s: cluster_changed(s, policies=s.clusters[0].policies[1:]), [K8S_SCOPE]),
    (lambda s: cluster_changed(s, namespaces=(Namespace("accounts", {"tier": "finance"}),
                                              *s.clusters[0].namespaces[1:])), [K8S_SCOPE]),
    (lambda s: cluster_changed(s, worker_subnets=("sn-1",)), [K8S_SCOPE]),
    # pods come and go: no step writes them
    (lambda s: cluster_changed(s, pods=(Pod("accounts", "web-1", {"app": "web"}, ip="172.30.0.5"),)), []),
    (lambda s: replace(s, clusters=()), [K8S_SCOPE]),
], ids=["same", "read-later", "rule-changed", "rule-recreated", "gateway", "other-vpc", "vpc-gone", "policy-gone",
        "namespace-labels", "worker-subnets", "pods", "cluster-gone"])
def test_the_precondition_moves_exactly_when_a_scope_the_plan_writes_to_moves(
        change: Callable[[Snapshot], Snapshot], moved: list[str]) -> None:
    plan = doc((STEPS[0], STEPS[17]))
    made = replace(plan, precondition={s: document.state_digest(TWO, s) for s in plan.scopes})
    assert made.scopes == (K8S_SCOPE, VPC_SCOPE)
    assert made.moved(change(TWO)) == moved


def test_make_keeps_the_findings_the_steps_fix_and_digests_their_scopes() -> None:
    from netwarden.app import check
    from netwarden.core.plan import build

    live = f.with_subnet(LIVE, "subnet-zone3", public_gateway="pgw-zone1")
    live = f.with_acl(live, "acl-zone2", [r for r in f.rules_of(live, "acl-zone2") if r.name != "deny-all-in"])
    report = check.run(f.recipe(), live, generated_at="2026-11-27T10:00:00Z")
    plan = build.build(report.findings, f.recipe(), live, build.PlanOptions(codes=frozenset({"gateway-attached"})))
    assert plan.steps and plan.skipped
    made = document.make(plan, f.recipe(), live, plan_id="feedc0ffee123456", created_at="2026-11-27T10:00:00Z",
                         created_by="scan", run_id="run-1")
    assert [x.code for x in made.findings] == ["gateway-attached"]
    assert made.scopes == plan.scopes == (VPC_SCOPE,)
    assert made.moved(live) == [] and made.moved(LIVE) == [VPC_SCOPE]
    assert made.plan(report.findings).fixes == plan.fixes
    assert isinstance(made.plan(), RemediationPlan)
    assert document.loads(made.dumps(), "p.json") == made
    with pytest.raises(ValueError, match="not a plan id"):
        document.make(plan, f.recipe(), live, plan_id="-rf", created_at="t", created_by="cli", run_id="r")


def test_the_identity_ignores_who_and_when_but_not_what() -> None:
    a = doc()
    later = replace(a, id="ffffffffffffffff", created_at="2027-01-01T00:00:00Z", created_by="scan", run_id="run-9")
    assert later.identity == a.identity
    assert replace(a, steps=a.steps[1:]).identity != a.identity
    assert replace(a, baseline="sha256:" + "1" * 64).identity != a.identity
