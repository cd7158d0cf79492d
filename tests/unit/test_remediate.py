"""app.remediate: every safeguard, against hand-written port doubles (an estate and a state store in memory).

dry run by default; incomplete snapshot refused; plan over max_changes refused whole; only the selected
codes touched; audit record and pre-remediation snapshot stored before the first write; verification by
a fresh check; a second run plans nothing; the lock; temporary errors retried with bounded backoff,
permanent ones stop the run and are recorded; a destructive plan (the blast-radius guards) refused
unless allowed, in a dry run, an applying run and scan's auto mode; a baseline with error-level lint
findings refused.
"""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from remediation_doubles import MemoryEstate, MemoryStateStore

import snapshot_factory as f
from netwarden.app.remediate import (
    Context,
    Refresh,
    RemediationResult,
    Request,
    RetryPolicy,
    Writers,
    plan_from,
    remediate,
    run,
)
from netwarden.app.remediate_report import render
from netwarden.core.errors import (
    LockHeld,
    PermanentRemediationError,
    PlanRefused,
    ProviderThrottled,
    ProviderUnavailable,
    TemporaryRemediationError,
)
from netwarden.core.lint import LintFinding
from netwarden.core.model import Snapshot, Unreadable
from netwarden.core.plan.build import PlanOptions
from netwarden.core.plan.guards import GuardOptions
from netwarden.core.plan.steps import Step
from netwarden.entrypoints import cli

BASE = f.recipe()
LIVE = f.live_of(BASE)
SSH = f.rule("allow-ssh", "allow", "inbound", "tcp", "0.0.0.0/0", "10.240.0.0/24", destination_port=22)
NOW = "2026-11-27T10:00:00Z"
RETRY = RetryPolicy(attempts=3, base_delay=0.5, max_delay=2.0)


def drifted() -> Snapshot:
    """Four findings: subnet on the allow-all ACL, an unexpected allow, a missing deny, a gateway attached."""
    live = f.with_subnet(LIVE, "subnet-zone1", network_acl="default-acl")
    rules = f.rules_of(live, "acl-zone2")
    live = f.with_acl(live, "acl-zone2", [replace(SSH, id="live-ssh"), *[r for r in rules if r.name != "deny-all-in"]])
    return f.with_subnet(live, "subnet-zone3", public_gateway="pgw-zone1")


class World:
    """An estate, a state store, recorded sleeps and observed steps, and ``go()`` to run remediation."""

    def __init__(self, live: Snapshot | None = None, baseline: Snapshot = BASE) -> None:
        self.baseline = baseline
        self.estate = MemoryEstate(live or drifted())
        self.state = MemoryStateStore()
        self.sleeps: list[float] = []
        self.observed: list[tuple[int, str]] = []

    def go(self, *, dry_run: bool = False, codes: set[str] | None = None, max_changes: int = 10,
           retry: RetryPolicy = RETRY, guard: GuardOptions | None = None,
           baseline_lint: tuple[LintFinding, ...] = ()) -> RemediationResult:
        request = Request(options=PlanOptions(codes=frozenset(codes) if codes is not None else None),
                          dry_run=dry_run, max_changes=max_changes, guard=guard or GuardOptions(),
                          baseline_lint=baseline_lint)
        return run(self.baseline, self.estate.read, Writers(self.estate, self.estate), request, state=self.state,
                   run_id="run-1", clock=lambda: NOW, retry=retry, sleep=self.sleeps.append,
                   observer=lambda n, step: self.observed.append((n, step.description)))

    def audit(self) -> dict[str, Any]:
        keys = [k for k in self.state.data if k.startswith("audit/") and k.endswith("-run-1.json")]
        assert len(keys) == 1, keys
        return dict(json.loads(self.state.data[keys[0]]))


def test_dry_run_is_the_default_and_writes_nothing() -> None:
    w = World()
    plan = plan_from_live(w.estate.read())
    result = remediate(plan, Writers(w.estate, w.estate))
    assert (result.status, result.dry_run) == ("planned", True)
    assert w.estate.writes == [] and w.state.data == {}
    assert w.go(dry_run=True).status == "planned"
    assert w.estate.writes == [] and w.state.data == {}


def plan_from_live(live: Snapshot) -> Any:
    from netwarden.app import check

    return plan_from(check.run(BASE, live), BASE, live, PlanOptions())


def test_apply_fixes_everything_and_verifies() -> None:
    w = World()
    result = w.go()
    assert result.status == "in_sync", result.reason
    assert result.applied == tuple(range(1, len(result.plan) + 1))
    assert result.verification is not None and result.verification.remaining == ()
    assert [n for n, _ in w.observed] == list(result.applied)


def test_a_second_run_plans_nothing() -> None:
    w = World()
    assert w.go().status == "in_sync"
    writes = len(w.estate.writes)
    again = w.go()
    assert again.status == "nothing-to-do" and again.plan.steps == ()
    assert len(w.estate.writes) == writes


@pytest.mark.parametrize("dry_run", [True, False])
def test_an_incomplete_snapshot_refuses_remediation(dry_run: bool) -> None:
    w = World(replace(drifted(), unreadable=(Unreadable("k8s/prod-cluster", "HTTP 503"),)))
    result = w.go(dry_run=dry_run)
    assert result.status == "incomplete"
    assert "nothing was changed" in (result.reason or "")
    assert w.estate.writes == [] and w.state.data == {}


@pytest.mark.parametrize(("max_changes", "status"), [(3, "refused"), (4, "in_sync"), (0, "refused")])
def test_a_plan_larger_than_max_changes_is_refused_whole(max_changes: int, status: str) -> None:
    w = World()
    result = w.go(max_changes=max_changes)
    assert len(result.plan) == 4
    assert result.status == status
    if status == "refused":
        assert "more than max_changes" in (result.reason or "")
        assert w.estate.writes == [] and w.state.data == {}


def test_a_missing_writer_refuses_the_plan() -> None:
    w = World()
    plan = plan_from_live(w.estate.read())
    result = remediate(plan, Writers(vpc=None, kube=w.estate), dry_run=False)
    assert result.status == "refused" and "no VPC writer" in (result.reason or "")


def test_applying_without_a_state_store_is_refused() -> None:
    w = World()
    with pytest.raises(PlanRefused, match="state store"):
        remediate(plan_from_live(w.estate.read()), Writers(w.estate, w.estate), dry_run=False)
    assert w.estate.writes == []


def test_only_the_selected_codes_are_touched() -> None:
    w = World()
    result = w.go(codes={"subnet-allow-all", "acl-rule-missing"})
    assert [name for name, _ in w.estate.writes] == ["replace_subnet_acl", "create_rule"]
    assert result.status == "drift"  # the unexpected rule and the gateway are still there
    assert result.verification is not None and result.verification.remaining == ()
    assert sorted(x.code for x in result.verification.other) == ["acl-rule-unexpected", "gateway-attached"]
    assert {s.finding.code for s in result.plan.skipped} == {"acl-rule-unexpected", "gateway-attached"}


def test_audit_record_and_snapshot_are_stored_before_the_first_write() -> None:
    w = World()
    seen: dict[str, Any] = {}

    def at_first_write(n: int, name: str) -> Exception | None:
        if n == 1:
            seen.update(w.state.data)
        return None

    w.estate.fail = at_first_write
    result = w.go()
    assert result.status == "in_sync"
    record = next(json.loads(v) for k, v in seen.items() if k.endswith("-run-1.json"))
    assert record["status"] == "started" and record["run_id"] == "run-1" and record["started_at"] == NOW
    assert len(record["plan"]["steps"]) == 4 and record["applied"] == []
    assert {x["code"] for x in record["findings"]} == {"subnet-allow-all", "acl-rule-unexpected",
                                                       "acl-rule-missing", "gateway-attached"}
    snapshot = json.loads(seen[record["pre_snapshot"]])
    assert snapshot["kind"] == "netwarden/snapshot"
    assert any(s["network_acl"] == "default-acl" for s in snapshot["vpcs"][0]["subnets"])
    final = w.audit()
    assert (final["status"], final["applied"], final["finished_at"]) == ("in_sync", [1, 2, 3, 4], NOW)
    index = [json.loads(line) for line in w.state.data["audit/index.jsonl"].splitlines()]
    assert [(x["run_id"], x["status"], x["applied"]) for x in index] == [("run-1", "in_sync", 4)]


class ForgetfulEstate(MemoryEstate):
    """Says it deleted a rule, and did not: the verification must notice."""

    def delete_rule(self, region: str, vpc: str, acl: str, rule_id: str) -> None:
        self._write("delete_rule", region, vpc, acl, rule_id)


def test_a_remediated_finding_that_remains_is_reported() -> None:
    w = World()
    w.estate = ForgetfulEstate(drifted())
    result = w.go()
    assert result.status == "drift"
    assert result.verification is not None
    assert [x.code for x in result.verification.remaining] == ["acl-rule-unexpected"]
    assert w.audit()["verification"]["remaining"][0]["code"] == "acl-rule-unexpected"


def test_the_lock_keeps_a_second_run_out() -> None:
    w = World()
    with w.state.lock("remediate/us-south/prod-vpc", "other-run"), pytest.raises(LockHeld, match="other-run"):
        w.go()
    assert w.estate.writes == [] and not any(k.startswith("audit/") for k in w.state.data)
    assert w.go().status == "in_sync"
    assert w.state.locks == {}
    assert [(a, name) for a, name, _ in w.state.lock_log[-2:]] == [("acquire", "remediate/us-south/prod-vpc"),
                                                                   ("release", "remediate/us-south/prod-vpc")]


def test_a_change_between_planning_and_the_lock_refuses_the_run() -> None:
    w = World()
    plan = plan_from_live(w.estate.read())
    other = plan_from_live(f.with_subnet(w.estate.read(), "subnet-zone2", network_acl="default-acl"))
    ctx = Context(state=w.state, run_id="run-1", clock=lambda: NOW,
                  refresh=lambda: Refresh(other, w.estate.read()), verify=lambda: pytest.fail("no verify"))
    result = remediate(plan, Writers(w.estate, w.estate), dry_run=False, context=ctx)
    assert result.status == "refused" and "changed since the plan" in (result.reason or "")
    assert w.estate.writes == []


@pytest.mark.parametrize(("error", "delays"), [
    (TemporaryRemediationError("busy", delay=0.1), [0.1, 0.1]),
    (ProviderThrottled("slow down", retry_after=30), [2.0, 2.0]),   # capped at max_delay
    (ProviderUnavailable("HTTP 503"), [0.5, 1.0]),                  # exponential without a hint
])
def test_temporary_errors_are_retried_with_bounded_backoff(error: Exception, delays: list[float]) -> None:
    w = World()
    w.estate.fail = lambda n, name: error if n in (2, 3) else None
    result = w.go()
    assert result.status == "in_sync"
    assert w.sleeps == delays
    assert [name for name, _ in w.estate.writes][1:4] == ["unset_subnet_gateway (failed)"] * 2 + [
        "unset_subnet_gateway"]


def test_a_temporary_error_that_outlasts_the_retries_stops_the_run() -> None:
    w = World()
    w.estate.fail = lambda n, name: ProviderUnavailable("HTTP 503") if n >= 3 else None
    result = w.go()
    assert result.status == "failed"
    assert result.applied == (1, 2)
    assert result.failure is not None
    assert (result.failure.step, result.failure.temporary, result.failure.attempts) == (3, True, 3)
    assert len(w.sleeps) == 2 and all(d <= 2.0 for d in w.sleeps)
    record = w.audit()
    assert (record["status"], record["applied"], record["failed"]["step"]) == ("failed", [1, 2], 3)


def test_a_permanent_error_stops_at_once_and_the_next_run_finishes_the_job() -> None:
    w = World()
    w.estate.fail = lambda n, name: PermanentRemediationError("403 forbidden") if n == 2 else None
    result = w.go()
    assert (result.status, result.applied, w.sleeps) == ("failed", (1,), [])
    assert result.failure is not None and result.failure.temporary is False
    assert "step 2 failed: 403 forbidden" in (result.reason or "")
    w.estate.fail = lambda n, name: None
    again = w.go()
    assert again.status == "in_sync" and len(again.plan) == 3


class Boom(Exception):
    pass


def test_an_unexpected_error_still_closes_the_audit_record() -> None:
    w = World()
    w.estate.fail = lambda n, name: Boom("bug") if n == 1 else None
    with pytest.raises(Boom):
        w.go()
    record = w.audit()
    assert record["status"] == "error" and "Boom: bug" in record["reason"]
    assert w.state.locks == {}


def test_result_to_dict_carries_plan_and_outcome() -> None:
    w = World()
    data = w.go().to_dict()
    assert data["status"] == "in_sync" and data["dry_run"] is False and data["applied"] == [1, 2, 3, 4]
    assert data["plan"]["steps"][0]["call"]["method"] == "PUT"
    assert data["audit"].startswith("audit/20261127T100000Z-run-1")


def test_steps_are_executed_in_plan_order() -> None:
    w = World()
    result = w.go()
    steps: tuple[Step, ...] = result.plan.steps
    assert [d for _, d in w.observed] == [s.description for s in steps]
    assert [name for name, _ in w.estate.writes] == ["replace_subnet_acl", "unset_subnet_gateway", "create_rule",
                                                     "delete_rule"]


# --- what people and tools read ----------------------------------------------------------------------


def test_text_shows_each_step_with_its_call_and_the_outcome() -> None:
    w = World()
    w.estate.fail = lambda n, name: PermanentRemediationError("HTTP 403: not authorized") if n == 3 else None
    text = render(w.go(), "text")
    assert text.startswith("netwarden remediate: FAILED: stopped part way\n")
    assert "   1. [applied] Attach network ACL acl-zone1 to subnet subnet-zone1 again" in text
    assert "      PUT /v1/subnets/id-subnet-zone1/network_acl  (vpc us-south)" in text
    assert "   3. [FAILED] Create rule deny-all-in" in text
    assert "   4. [not run] Delete rule allow-ssh" in text
    assert "Step 3 failed after 1 attempt(s) (permanent error): HTTP 403: not authorized" in text
    assert "Applied before it: 1, 2." in text
    assert "Audit record: audit/20261127T100000Z-run-1.json (run run-1)" in text


def test_dry_run_text_and_json() -> None:
    w = World()
    result = w.go(dry_run=True, codes={"subnet-allow-all"})
    text = render(result, "text")
    assert "dry run: nothing was changed" in text and "[applied]" not in text
    assert "Re-run with --apply to execute this plan." in text
    assert "  - gateway-attached us-south/prod-vpc/subnet-zone3: not selected (--only / remediation.auto)" in text
    data = json.loads(render(result, "json"))
    assert (data["status"], data["dry_run"], data["applied"], data["audit"]) == ("planned", True, [], None)
    assert [s["kind"] for s in data["plan"]["steps"]] == ["replace-subnet-acl"]
    assert {s["code"] for s in data["plan"]["skipped"]} == {"acl-rule-unexpected", "acl-rule-missing",
                                                           "gateway-attached"}


@pytest.mark.parametrize(("args", "message"), [
    (["--only", "acl-rule-gone"], "--only: unknown finding code(s) acl-rule-gone"),
    (["--max-changes", "-1"], "--max-changes: expected a whole number >= 0"),
])
def test_bad_arguments_are_one_line_and_exit_1(args: list[str], message: str, tmp_path: Path,
                                               capsys: pytest.CaptureFixture[str]) -> None:
    config = tmp_path / "netwarden.yaml"
    config.write_text("baseline: nowhere\n")
    assert cli.main(["remediate", "--config", str(config), *args]) == 1
    err = capsys.readouterr().err
    assert err.startswith("netwarden: error: ") and message in err and err.count("\n") == 1


def test_a_plan_refused_while_planning_is_a_refused_run() -> None:
    live = drifted()
    live = f.with_acl(live, "acl-zone2", [replace(r, id=None) for r in f.rules_of(live, "acl-zone2")])
    w = World(live)
    result = w.go()
    assert result.status == "refused" and "no id for rule" in (result.reason or "")
    assert w.estate.writes == [] and w.state.data == {}


# --- the blast-radius guards and the baseline's lint -----------------------------------------------------

#: A baseline that lost the folder of namespace accounts: putting it back deletes both policies there.
WITHOUT_ACCOUNTS = f.with_policies(BASE, [p for p in BASE.clusters[0].policies if p.namespace != "accounts"])


@pytest.mark.parametrize("dry_run", [True, False], ids=["dry-run", "apply"])
def test_a_destructive_plan_is_refused_whole_unless_allowed(dry_run: bool) -> None:
    w = World(LIVE, baseline=WITHOUT_ACCOUNTS)
    result = w.go(dry_run=dry_run)
    assert result.status == "refused"
    assert [s.call.method for s in result.plan.steps] == ["DELETE", "DELETE"]
    reason = result.reason or ""
    assert "delete every NetworkPolicy of namespace accounts in cluster prod-cluster (2 live)" in reason
    assert "delete 2 of 3 (66%) of the NetworkPolicies of cluster prod-cluster" in reason
    assert "--allow-destructive" in reason and "remediation.allow_destructive: true" in reason
    assert w.estate.writes == [] and w.state.data == {}
    assert "REFUSED: nothing was changed" in render(result, "text")
    allowed = w.go(dry_run=dry_run, guard=GuardOptions(allow_destructive=True))
    assert allowed.status == ("planned" if dry_run else "in_sync"), allowed.reason
    assert [name for name, _ in w.estate.writes] == ([] if dry_run else ["delete_policy", "delete_policy"])


def test_the_guards_come_before_max_changes() -> None:
    w = World(LIVE, baseline=WITHOUT_ACCOUNTS)
    result = w.go(max_changes=1)
    assert result.status == "refused" and (result.reason or "").startswith("the plan is destructive: ")


def test_a_plan_below_the_share_allowed_runs() -> None:
    w = World()  # 4 steps, one of them deletes 1 of the 13 rules of acl-zone2
    result = w.go(guard=GuardOptions(max_delete_percent=10))
    assert result.status == "in_sync", result.reason
    assert w.go(guard=GuardOptions(max_delete_percent=0)).status == "nothing-to-do"
    again = World()
    refused = again.go(guard=GuardOptions(max_delete_percent=0))
    assert refused.status == "refused" and "more than max_delete_percent (0%)" in (refused.reason or "")


@pytest.mark.parametrize(("allow", "status"), [(False, "refused"), (True, "in_sync")],
                         ids=["config-false", "config-true"])
def test_scans_auto_mode_goes_by_the_guard_options_it_is_prepared_with(allow: bool, status: str) -> None:
    from netwarden.app import check
    from netwarden.app.remediate import auto_remediator

    estate, state = MemoryEstate(LIVE), MemoryStateStore()
    request = Request(dry_run=False, guard=GuardOptions(allow_destructive=allow))
    remediator = auto_remediator(WITHOUT_ACCOUNTS, estate.read, lambda: (request, Writers(estate, estate)),
                                 state=state, clock=lambda: NOW)
    outcome = remediator(LIVE, check.run(WITHOUT_ACCOUNTS, LIVE, generated_at=NOW), "run-auto")
    assert outcome.status == status
    if not allow:
        assert "delete every NetworkPolicy of namespace accounts" in outcome.summary
        assert all("not remediated automatically: refused" in note for note in outcome.notes.values())
        assert estate.writes == [] and state.data == {}


def lint_finding(rule: str, line: int | None = 12) -> LintFinding:
    return LintFinding(rule, f"the {rule} message", ("acl", "us-south", "prod-vpc", "acl-zone2"),
                       file="vpc/us-south/prod-vpc/network-acls/acl-zone2.yaml" if line else None, line=line)


@pytest.mark.parametrize(("findings", "refused", "words"), [
    ((lint_finding("acl-deny-all-last"),), True,
     ["vpc/us-south/prod-vpc/network-acls/acl-zone2.yaml:12: acl-deny-all-last: the acl-deny-all-last message"]),
    ((lint_finding("ibm-private-ranges", None),), True, ["us-south/prod-vpc/acl-zone2: ibm-private-ranges"]),
    ((lint_finding("subnet-default-acl"), lint_finding("acl-rule-shadowed"), lint_finding("ibm-private-ranges", 3),
      lint_finding("acl-deny-all-last", 40)), True, [":12: subnet-default-acl", ":3: ibm-private-ranges",
                                                     "; and 1 more"]),
    ((lint_finding("acl-rule-shadowed"), lint_finding("selector-matches-nothing"),
      lint_finding("public-gateway-count"), lint_finding("selector-key-case")), False, []),
], ids=["error-with-file-line", "error-without-a-place", "the-first-two-errors-and-a-count", "warnings-only"])
def test_a_baseline_with_error_level_lint_findings_is_refused(findings: tuple[LintFinding, ...], refused: bool,
                                                              words: list[str]) -> None:
    w = World()
    result = w.go(baseline_lint=findings, guard=GuardOptions(allow_destructive=True))
    if not refused:
        assert result.status == "in_sync", result.reason
        return
    assert result.status == "refused"
    reason = result.reason or ""
    assert reason.startswith("the baseline fails the recipe's error-level checks: ")
    assert reason.endswith("nothing was changed (netwarden baseline lint shows them all)")
    for word in words:
        assert word in reason
    assert "acl-rule-shadowed" not in reason
    assert w.estate.writes == [] and w.state.data == {}
