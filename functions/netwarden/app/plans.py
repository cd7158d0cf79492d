"""Use-case: apply a reviewed plan exactly as it was saved, and only while the estate is what it was made from.

``remediate --apply-plan FILE``, ``remediate --approve ID`` and the function's ``apply`` request come
here with a ``core.plan.document.PlanDocument``. What was reviewed is what runs: the saved steps, not a
new plan. So before anything is written:

1. the plan must have been made from this baseline (the digest of the baseline of its scopes);
2. the live state of every scope it writes to must still be what it was made from (its precondition):
   otherwise it is refused, "the live state has moved since the plan was made", and nothing is written;
3. then it goes through ``app.remediate.remediate`` like any plan: the baseline's lint, the blast-radius
   guards, ``max_changes``, the writers; the locks of its scopes, under which the live state is read and
   the precondition checked again; the audit record (naming the plan); the writes; the verification.

``make`` is the other half: the document of a dry run's plan, made from the snapshot it was planned from.
"""

from __future__ import annotations

import logging
import secrets
import time
from collections.abc import Callable
from dataclasses import replace

from netwarden.app import check
from netwarden.app.remediate import (
    Context,
    Refresh,
    RemediationResult,
    Request,
    RetryPolicy,
    Writers,
    remediate,
)
from netwarden.app.remediate_exec import DEFAULT_RETRY
from netwarden.core.errors import PlanRefused
from netwarden.core.model import Snapshot
from netwarden.core.plan import document
from netwarden.core.plan.document import PlanDocument
from netwarden.core.plan.steps import RemediationPlan
from netwarden.core.ports import StateStore
from netwarden.core.report.model import CheckReport

log = logging.getLogger(__name__)


def new_id() -> str:
    """A fresh plan id: 16 hexadecimal digits (url-safe, and never taken for an option on a command line)."""
    return secrets.token_hex(8)


def make(result: RemediationResult, baseline: Snapshot, live: Snapshot, *, created_at: str, created_by: str,
         plan_id: str | None = None) -> PlanDocument | None:
    """The document of a dry run's plan (None unless the run ``planned``: nothing to do, or refused)."""
    if result.status != "planned":
        return None
    return document.make(result.plan, baseline, live, plan_id=plan_id or new_id(), created_at=created_at,
                         created_by=created_by, run_id=result.run_id)


def apply(doc: PlanDocument, baseline: Snapshot, read_live: Callable[[], Snapshot], writers: Writers,
          request: Request, *, state: StateStore, run_id: str, clock: Callable[[], str],
          retry: RetryPolicy = DEFAULT_RETRY, sleep: Callable[[float], None] = time.sleep) -> RemediationResult:
    """Check that ``doc`` still applies, then execute its steps through every safeguard (module docstring)."""
    refused = RemediationResult("refused", doc.plan(), False, run_id, max_changes=request.max_changes)
    if document.baseline_digest(baseline, doc.scopes) != doc.baseline:
        log.warning("plan %s refused: made from another baseline", doc.id)
        return replace(refused, reason=f"plan {doc.id} was made from another baseline of {', '.join(doc.scopes)}: "
                       "nothing was changed (make a new plan from this one)")
    live = read_live()
    unreadable = tuple(u for u in live.unreadable if any(_within(s, u.scope) for s in doc.scopes))
    if unreadable:
        return replace(refused, status="incomplete", plan=RemediationPlan(doc.steps, unreadable=unreadable),
                       reason=f"the live state could not be read in full ({', '.join(u.scope for u in unreadable)}): "
                              "nothing was changed")
    moved = doc.moved(live)
    if moved:
        log.warning("plan %s refused: the live state of %s has moved", doc.id, ", ".join(moved))
        return replace(refused, reason=_moved(doc, moved))
    plan = doc.plan(_check(baseline, live, request, clock).findings)

    def refresh() -> Refresh:
        again = read_live()
        lost = tuple(u for u in again.unreadable if any(_within(s, u.scope) for s in doc.scopes))
        if lost:
            return Refresh(RemediationPlan(plan.steps, unreadable=lost), again)
        moved_since = doc.moved(again)
        if moved_since:
            raise PlanRefused(_moved(doc, moved_since, under_lock=True))
        return Refresh(plan, again)

    def verify() -> CheckReport:
        return _check(baseline, read_live(), request, clock)

    context = Context(state=state, run_id=run_id, clock=clock, refresh=refresh, verify=verify,
                      initiator=request.initiator, retry=retry, sleep=sleep, plan_id=doc.id)
    log.info("applying plan %s (%d step(s), made %s by %s)", doc.id, len(plan), doc.created_at, doc.created_by)
    return remediate(plan, writers, dry_run=False, max_changes=request.max_changes, context=context, run_id=run_id,
                     live=live, guard=request.guard, baseline_lint=request.baseline_lint)


def _moved(doc: PlanDocument, scopes: list[str], *, under_lock: bool = False) -> str:
    """Why a plan is refused whose precondition no longer holds (``remediate`` adds "nothing was changed"
    to a refusal under the lock)."""
    said = (f"the live state has moved since the plan was made: {', '.join(scopes)} changed after {doc.created_at} "
            f"(plan {doc.id})")
    return said if under_lock else f"{said}: nothing was changed (make a new plan from the live state)"


def _within(scope: str, unreadable: str) -> bool:
    """Whether ``unreadable`` (a region, a VPC, a cluster) covers ``scope``, or lies inside it."""
    return scope == unreadable or scope.startswith(unreadable + "/") or unreadable.startswith(scope + "/")


def _check(baseline: Snapshot, live: Snapshot, request: Request, clock: Callable[[], str]) -> CheckReport:
    return check.run(baseline, live, suppressions=request.suppressions, generated_at=clock(),
                     ibm_churn=request.ibm_churn)
