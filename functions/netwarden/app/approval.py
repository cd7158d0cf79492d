"""Plans that wait for approval: stored in the state store, applied once, by whoever approves them.

The function's ``plan`` request and ``remediation.mode: approve`` (a scan plans for the codes
``remediation.auto`` lists, and alerts with the plan's id instead of applying) store a plan here; an
``apply`` request naming its id, or ``netwarden remediate --approve ID``, applies it through
``app.plans.apply`` (its precondition, every safeguard). The state store holds, per plan:

* ``plans/<id>.json``: the plan document (``core.plan.document``), as it was made;
* ``plans/<id>.status.json``: written once a run applied it (``applied``) or stopped part way
  (``failed``): a plan runs once, so a second approval is refused (``PlanConsumed``);
* ``plans/index/<identity>.json``: the id of the pending plan that makes these writes from this state,
  so a scan every 15 minutes over the same drift alerts one plan, not a new one each run.

A plan is approved within ``remediation.plan_expiry`` of being made (default 7 days), or not at all: an
approval after that is refused and writes nothing (a reviewer should not approve last month's plan
because the state happens to be the same), and the next scan of the same drift stores a new plan in
place of the expired one, with a new id. Expired plans stay in the store, as the record of what was
proposed.

Approving takes the lock ``plan/<id>`` first: of two approvals at once, one applies, the other waits
its turn in vain (``LockHeld``) or finds the plan applied.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

from netwarden.app import plans
from netwarden.app.remediate import PLAN_EXPIRY_S, RemediationResult, Request, Writers, auto_remediator, run
from netwarden.app.remediation_outcome import RemediationOutcome, Remediator, outcome_of
from netwarden.core.errors import EventFormatError, Location, PlanConsumed, PlanFormatError, PlanNotFound
from netwarden.core.lifecycle import parse_time
from netwarden.core.model import Snapshot
from netwarden.core.plan import document
from netwarden.core.plan.document import PlanDocument
from netwarden.core.ports import StateStore
from netwarden.core.report.history import duration
from netwarden.core.report.model import CheckReport

log = logging.getLogger(__name__)

PREFIX = "plans/"


def plan_key(plan_id: str) -> str:
    return f"{PREFIX}{plan_id}.json"


def status_key(plan_id: str) -> str:
    return f"{PREFIX}{plan_id}.status.json"


def checked_id(plan_id: str, source: str = "plan_id") -> str:
    """``plan_id`` if it has a plan id's shape (it becomes part of a state key); one clear error if not."""
    if not document.ID.fullmatch(plan_id):
        raise EventFormatError("not a plan id (letters, digits, - and _, 8 to 64 of them)", source=source)
    return plan_id


def store(state: StateStore, doc: PlanDocument, *, expiry_s: int = PLAN_EXPIRY_S) -> str:
    """Store ``doc``, unless a pending plan with its identity, not expired at ``doc.created_at``, is stored
    already: then that plan's id."""
    index = f"{PREFIX}index/{doc.identity.removeprefix('sha256:')}.json"
    known = _json(state.get(index))
    pending = known.get("id") if isinstance(known, dict) else None
    if isinstance(pending, str) and document.ID.fullmatch(pending) and state.get(plan_key(pending)) is not None \
            and state.get(status_key(pending)) is None:
        if expires_at(str(known.get("created_at", "")), expiry_s) > parse_time(doc.created_at):
            log.info("plan %s is pending for this state already: not stored again", pending)
            return pending
        log.info("plan %s for this state has expired unapproved: a new plan replaces it", pending)
    state.put(plan_key(doc.id), doc.dumps().encode("utf-8"))
    state.put(index, _bytes({"id": doc.id, "created_at": doc.created_at}))
    log.info("plan %s stored (%d step(s)) for approval", doc.id, len(doc.steps))
    return doc.id


def load(state: StateStore, plan_id: str) -> PlanDocument:
    data = state.get(plan_key(checked_id(plan_id)))
    if data is None:
        raise PlanNotFound(f"no remediation plan {plan_id} in the state store")
    doc = document.loads(data, plan_key(plan_id))
    if doc.id != plan_id:
        raise PlanFormatError(f"holds plan {doc.id}, not {plan_id}", location=Location(plan_key(plan_id), field="id"))
    return doc


def approve(state: StateStore, plan_id: str, baseline: Snapshot, read_live: Callable[[], Snapshot], *,
            writers: Writers, request: Request, run_id: str, clock: Callable[[], str],
            approved_by: str) -> RemediationResult:
    """Apply the stored plan ``plan_id`` once (``app.plans.apply``), and record that it ran; refused, and
    nothing written, once ``request.plan_expiry_s`` have passed since it was made."""
    with state.lock(f"plan/{checked_id(plan_id)}", run_id):
        spent = state.get(status_key(plan_id))
        if spent is not None:
            done = _json(spent)
            said = (f"{done.get('status')} already (run {done.get('run_id')}, {done.get('at')})"
                    if isinstance(done, dict) else "applied already")
            raise PlanConsumed(f"plan {plan_id} was {said}: a plan runs once; make a new one")
        doc = load(state, plan_id)
        if expires_at(doc.created_at, request.plan_expiry_s) <= parse_time(clock()):
            log.warning("plan %s refused: it expired unapproved", plan_id)
            return RemediationResult(
                "refused", doc.plan(), False, run_id, max_changes=request.max_changes,
                reason=f"plan {plan_id} expired unapproved: made {doc.created_at}, it could be approved for "
                       f"{duration(request.plan_expiry_s)} (remediation.plan_expiry): nothing was changed "
                       "(make a new plan)")
        result = plans.apply(doc, baseline, read_live, writers, request, state=state, run_id=run_id, clock=clock)
        if result.audit_key is not None:  # writes were made, or tried: this plan is spent
            state.put(status_key(plan_id), _bytes({
                "id": plan_id, "status": "failed" if result.status == "failed" else "applied", "run_id": run_id,
                "at": clock(), "approved_by": approved_by, "result": result.status, "audit": result.audit_key}))
        return result


def expires_at(created_at: str, expiry_s: int) -> datetime:
    """When a plan made at ``created_at`` expires; a time that cannot be read counts as long past."""
    try:
        made = parse_time(created_at)
    except ValueError:
        return datetime.min.replace(tzinfo=UTC)
    return made + timedelta(seconds=expiry_s) if made.tzinfo is not None else datetime.min.replace(tzinfo=UTC)


def how_to_approve(plan_id: str) -> str:
    return f"netwarden remediate --approve {plan_id} (or the function's apply request with plan_id {plan_id})"


def approve_remediator(baseline: Snapshot, read_live: Callable[[], Snapshot],
                       prepare: Callable[[], tuple[Request, Writers]], *, state: StateStore,
                       clock: Callable[[], str]) -> Remediator:
    """``remediation.mode: approve`` for a scan: plan what ``prepare`` asks for (the codes ``remediation.auto``
    lists) from the scan's snapshot and report, store the plan, and tell each finding's alert its id."""

    def remediator(live: Snapshot, report: CheckReport, run_id: str) -> RemediationOutcome:
        request, writers = prepare()
        return plan_for_approval(baseline, read_live, writers, request, state=state, run_id=run_id, clock=clock,
                                 live=live, report=report)

    return remediator


def plan_for_approval(baseline: Snapshot, read_live: Callable[[], Snapshot], writers: Writers, request: Request, *,
                      state: StateStore, run_id: str, clock: Callable[[], str], live: Snapshot | None = None,
                      report: CheckReport | None = None) -> RemediationOutcome:
    """Plan ``request`` as a dry run (from ``live`` and ``report`` when given, as a scan has them; read and
    checked otherwise, as for an event), store the plan (or find the pending one for the same state), and
    say its id in each finding's note: news, alerted again, when the plan is new."""
    live = live if live is not None else read_live()
    result = run(baseline, read_live, writers, replace(request, dry_run=True), state=None, run_id=run_id,
                 clock=clock, live=live, report=report)
    doc = plans.make(result, baseline, live, created_at=clock(), created_by=request.initiator)
    if doc is None:
        outcome = outcome_of(result)
        notes = {fp: f"no remediation plan was stored for approval: {result.status}: {result.reason}"
                 for fp in result.plan.fixes} if result.status != "nothing-to-do" else {}
        return replace(outcome, notes=notes)
    plan_id = store(state, doc, expiry_s=request.plan_expiry_s)
    note = f"remediation plan {plan_id} awaits approval: {how_to_approve(plan_id)}"
    return RemediationOutcome("awaiting-approval", f"plan {plan_id}: {len(doc.steps)} step(s) for "
                              f"{len(doc.fixes)} finding(s) await approval: {how_to_approve(plan_id)}",
                              dict.fromkeys(sorted(doc.fixes), note),
                              detail={"plan_id": plan_id, "steps": len(doc.steps), "findings": len(doc.fixes)},
                              # a new plan (the first, or one in place of an expired one) is told even to
                              # channels that already know the finding; a pending one is not told again
                              news=frozenset(doc.fixes) if plan_id == doc.id else frozenset())


#: The remediator each ``remediation.mode`` plugs into a scan (``alert`` plugs in none).
REMEDIATORS = {"auto": auto_remediator, "approve": approve_remediator}


def _json(data: bytes | None) -> Any:
    if data is None:
        return None
    try:
        return json.loads(data)
    except ValueError:
        return None


def _bytes(data: dict[str, Any]) -> bytes:
    return (json.dumps(data, indent=2, sort_keys=True) + "\n").encode("utf-8")
