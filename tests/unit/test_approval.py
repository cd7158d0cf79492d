"""app.plans and app.approval against hand-written port doubles: a reviewed plan applies exactly its saved steps
while nothing moved, and is refused (nothing written) once the live state or the baseline moved, between the
save and the run or between the first read and the lock; a stored plan runs once; approve mode stores one plan
per state, not one per scan, and says in each finding's note how to approve it."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import replace
from datetime import timedelta

import pytest
from remediation_doubles import MemoryEstate, MemoryStateStore

import snapshot_factory as f
from netwarden.app import approval, check, plans
from netwarden.app.remediate import PLAN_EXPIRY_S, RemediationResult, Request, Writers, run
from netwarden.core import lifecycle
from netwarden.core.errors import EventFormatError, PlanConsumed, PlanNotFound
from netwarden.core.model import Snapshot, Unreadable
from netwarden.core.plan.build import PlanOptions
from netwarden.core.plan.document import PlanDocument

BASE = f.recipe()
NOW = "2026-11-27T10:00:00Z"
SSH = f.rule("allow-ssh", "allow", "inbound", "tcp", "0.0.0.0/0", "10.240.64.0/24", destination_port=22)


def drifted() -> Snapshot:
    live = f.with_subnet(f.live_of(BASE), "subnet-zone1", network_acl="default-acl")
    return f.with_acl(live, "acl-zone2", [replace(SSH, id="live-ssh"), *f.rules_of(live, "acl-zone2")])


class World:
    def __init__(self) -> None:
        self.estate = MemoryEstate(drifted())
        self.state = MemoryStateStore()

    def writers(self) -> Writers:
        return Writers(self.estate, self.estate)

    def saved(self, created_at: str = NOW) -> PlanDocument:
        """``remediate --out``: a dry run, and its document."""
        live = self.estate.read()
        result = run(BASE, self.estate.read, self.writers(), Request(), state=None, run_id="run-plan",
                     clock=lambda: created_at, live=live)
        doc = plans.make(result, BASE, live, created_at=created_at, created_by="cli")
        assert doc is not None and len(doc.steps) == 2
        return doc

    def apply(self, doc: PlanDocument, baseline: Snapshot = BASE,
              read: Callable[[], Snapshot] | None = None) -> RemediationResult:
        return plans.apply(doc, baseline, read or self.estate.read, self.writers(), Request(dry_run=False),
                           state=self.state, run_id="run-apply", clock=lambda: NOW)


def test_a_saved_plan_applies_its_own_steps_when_nothing_moved() -> None:
    w = World()
    doc = w.saved()
    result = w.apply(doc)
    assert result.status == "in_sync", result.reason
    assert result.applied == (1, 2)
    assert [s.call for s in result.plan.steps] == [s.call for s in doc.steps]
    assert [name for name, _ in w.estate.writes] == ["replace_subnet_acl", "delete_rule"]
    [audit] = [json.loads(v) for k, v in w.state.data.items() if k.startswith("audit/") and k.endswith("apply.json")]
    assert audit["plan_id"] == doc.id and audit["status"] == "in_sync"
    assert {x["fingerprint"] for x in audit["findings"]} == doc.fixes
    assert check.run(BASE, w.estate.read()).status == "in_sync"


def moved_rule(snapshot: Snapshot) -> Snapshot:
    return f.with_acl(snapshot, "acl-zone3", f.rules_of(snapshot, "acl-zone3")[1:])


@pytest.mark.parametrize(("change", "status", "reason"), [
    (lambda w: setattr(w.estate, "snapshot", moved_rule(w.estate.snapshot)), "refused",
     "the live state has moved since the plan was made: us-south/prod-vpc changed after"),
    # the very drift the plan fixes, fixed by hand: its steps would now fail (or do harm)
    (lambda w: setattr(w.estate, "snapshot", f.with_subnet(w.estate.snapshot, "subnet-zone1",
                                                            network_acl="acl-zone1")), "refused", "has moved"),
    (lambda w: setattr(w.estate, "snapshot", replace(w.estate.snapshot, unreadable=(
        Unreadable("us-south", "HTTP 503"),))), "incomplete", "could not be read in full (us-south)"),
], ids=["another-change", "fixed-by-hand", "unreadable"])
def test_a_saved_plan_is_refused_once_the_live_state_moved(change: Callable[[World], None], status: str,
                                                            reason: str) -> None:
    w = World()
    doc = w.saved()
    change(w)
    result = w.apply(doc)
    assert (result.status, result.applied, result.audit_key) == (status, (), None)
    assert reason in (result.reason or "") and (result.reason or "").endswith(
        "nothing was changed (make a new plan from the live state)" if status == "refused" else "nothing was changed")
    assert w.estate.writes == [] and w.state.data == {}


def test_a_change_between_the_first_read_and_the_lock_refuses_it_too() -> None:
    w = World()
    doc = w.saved()
    reads = iter([w.estate.read(), moved_rule(w.estate.read())])
    result = w.apply(doc, read=lambda: next(reads))
    assert result.status == "refused" and w.estate.writes == []
    assert result.reason is not None and result.reason.startswith("the live state has moved since the plan was made")
    assert result.reason.count("nothing was changed") == 1


def test_a_plan_made_from_another_baseline_is_refused() -> None:
    w = World()
    doc = w.saved()
    other = f.with_acl(BASE, "acl-zone2", f.rules_of(BASE, "acl-zone2")[:-1])
    result = w.apply(doc, baseline=other)
    assert result.status == "refused" and "was made from another baseline of us-south/prod-vpc" in (result.reason or "")
    assert w.estate.writes == []


def test_the_safeguards_still_hold_for_a_saved_plan() -> None:
    w = World()
    doc = w.saved()
    result = plans.apply(doc, BASE, w.estate.read, w.writers(), Request(dry_run=False, max_changes=1),
                         state=w.state, run_id="run-apply", clock=lambda: NOW)
    assert result.status == "refused" and "more than max_changes (1)" in (result.reason or "")
    result = plans.apply(doc, BASE, w.estate.read, Writers(), Request(dry_run=False), state=w.state,
                         run_id="run-apply", clock=lambda: NOW)
    assert result.status == "refused" and "no VPC writer" in (result.reason or "")
    assert w.estate.writes == []


def approve(w: World, plan_id: str, at: str = NOW, expiry_s: int = PLAN_EXPIRY_S) -> RemediationResult:
    return approval.approve(w.state, plan_id, BASE, w.estate.read, writers=w.writers(),
                            request=Request(dry_run=False, plan_expiry_s=expiry_s), run_id="run-approve",
                            clock=lambda: at, approved_by="test")


def test_a_stored_plan_runs_once() -> None:
    w = World()
    plan_id = approval.store(w.state, w.saved())
    assert approve(w, plan_id).status == "in_sync"
    status = json.loads(w.state.data[approval.status_key(plan_id)])
    assert (status["status"], status["run_id"], status["approved_by"]) == ("applied", "run-approve", "test")
    with pytest.raises(PlanConsumed, match=f"plan {plan_id} was applied already \\(run run-approve"):
        approve(w, plan_id)
    assert ("acquire", f"plan/{plan_id}", "run-approve") in w.state.lock_log


def test_a_refused_approval_leaves_the_plan_pending() -> None:
    w = World()
    plan_id = approval.store(w.state, w.saved())
    w.estate.snapshot = moved_rule(w.estate.snapshot)
    assert approve(w, plan_id).status == "refused"
    assert approval.status_key(plan_id) not in w.state.data


@pytest.mark.parametrize(("plan_id", "error", "message"), [
    ("0123456789abcdef", PlanNotFound, "no remediation plan 0123456789abcdef in the state store"),
    ("../findings", EventFormatError, "not a plan id"),
    ("-rf", EventFormatError, "not a plan id"),
])
def test_an_unknown_or_malformed_id_is_one_error(plan_id: str, error: type[Exception], message: str) -> None:
    w = World()
    with pytest.raises(error, match=message):
        approve(w, plan_id)
    assert w.estate.writes == []


def test_the_same_plan_of_the_same_state_is_stored_once() -> None:
    w = World()
    first = approval.store(w.state, w.saved())
    assert approval.store(w.state, w.saved()) == first, "same writes from the same state: the pending plan"
    assert len([k for k in w.state.data if k.startswith("plans/") and k.count("/") == 1]) == 1
    approve(w, first)
    w.estate.snapshot = drifted()
    assert approval.store(w.state, w.saved()) != first, "the first one is spent: a new plan"


@pytest.mark.parametrize(("age", "expiry_s", "status"), [
    (timedelta(days=7) - timedelta(seconds=1), PLAN_EXPIRY_S, "in_sync"),
    (timedelta(days=7), PLAN_EXPIRY_S, "refused"),
    (timedelta(hours=2), 3600, "refused"),
    (timedelta(minutes=59), 3600, "in_sync"),
])
def test_a_plan_is_approved_within_its_expiry_or_not_at_all(age: timedelta, expiry_s: int, status: str) -> None:
    w = World()
    plan_id = approval.store(w.state, w.saved())
    result = approve(w, plan_id, at=_later(age), expiry_s=expiry_s)
    assert result.status == status, result.reason
    if status == "refused":
        assert result.reason is not None and result.reason.startswith(
            f"plan {plan_id} expired unapproved: made {NOW}, it could be approved for ")
        assert w.estate.writes == [] and approval.status_key(plan_id) not in w.state.data


@pytest.mark.parametrize(("age", "same"), [(timedelta(days=6), True), (timedelta(days=7), False)])
def test_an_expired_pending_plan_is_replaced_by_a_new_one(age: timedelta, same: bool) -> None:
    w = World()
    first = approval.store(w.state, w.saved())
    again = approval.store(w.state, w.saved(created_at=_later(age)))
    assert (again == first) is same
    if not same:
        assert approve(w, first, at=_later(age)).status == "refused"
        assert approve(w, again, at=_later(age)).status == "in_sync"


def _later(age: timedelta) -> str:
    return lifecycle.rfc3339(lifecycle.parse_time(NOW) + age)


def test_approve_mode_stores_a_plan_and_notes_its_id_without_writing() -> None:
    w = World()
    live = w.estate.read()

    def prepare() -> tuple[Request, Writers]:
        return Request(options=PlanOptions(codes=frozenset({"subnet-allow-all"})), dry_run=False,
                       initiator="scan"), w.writers()

    remediator = approval.REMEDIATORS["approve"](BASE, w.estate.read, prepare, state=w.state, clock=lambda: NOW)
    report = check.run(BASE, live, generated_at=NOW)
    outcome = remediator(live, report, "run-scan")
    assert w.estate.writes == []
    plan_id = outcome.detail["plan_id"]
    assert outcome.status == "awaiting-approval" and not outcome.failed
    [fingerprint] = [x.fingerprint for x in report.findings if x.code == "subnet-allow-all"]
    assert outcome.notes == {fingerprint: f"remediation plan {plan_id} awaits approval: netwarden remediate --approve "
                                          f"{plan_id} (or the function's apply request with plan_id {plan_id})"}
    assert outcome.news == {fingerprint}, "a new plan: alerted even where the finding is known"
    again = remediator(live, report, "run-scan-2")
    assert again.detail["plan_id"] == plan_id and again.news == frozenset(), "the next scan: the same plan, not news"
    assert approve(w, plan_id).status == "drift", "applied: the unexpected rule was not in the plan"
    assert check.run(BASE, w.estate.read()).findings[0].code == "acl-rule-unexpected"


def test_approve_mode_says_why_no_plan_was_stored() -> None:
    w = World()

    def prepare() -> tuple[Request, Writers]:
        return Request(max_changes=1), w.writers()

    remediator = approval.approve_remediator(BASE, w.estate.read, prepare, state=w.state, clock=lambda: NOW)
    live = w.estate.read()
    outcome = remediator(live, check.run(BASE, live, generated_at=NOW), "run-scan")
    assert outcome.status == "refused" and w.state.data == {}
    assert all(n.startswith("no remediation plan was stored for approval: refused: the plan has 2 steps")
               for n in outcome.notes.values()) and len(outcome.notes) == 2
