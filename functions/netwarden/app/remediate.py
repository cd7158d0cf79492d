"""Use-case: put the baseline back, with every safeguard an operator who grants write access expects.

``remediate(plan, writers, dry_run=...)`` is the only function in netwarden that reads ``dry_run``.
In order, it:

1. refuses a plan made from an incomplete snapshot (status ``incomplete``; nothing is written);
2. refuses, whole, a plan made from a baseline that fails the recipe's error-level lint rules
   (``core.lint.ERROR_RULES``), a destructive one (``core.plan.guards``: it would empty a namespace of
   its NetworkPolicies or an ACL of its rules, take the IBM private ranges from a worker subnet, or
   delete more than ``max_delete_percent`` of one kind) unless ``allow_destructive``, and one of more
   than ``max_changes`` steps, or one a writer is missing for;
3. with ``dry_run`` (the default) stops here: the plan is the outcome;
4. takes the state store's lock of every scope the plan writes to (``LockHeld`` if another run holds
   one), re-reads the live state and re-plans under the lock, and refuses if the plan changed;
5. before the first write, stores the pre-remediation snapshot and an audit record (what, when, which
   run, the plan);
6. executes the steps in order. A temporary error (throttled, 5xx, conflict) is retried with bounded
   exponential backoff; a permanent one, or a temporary one that outlasts the retries, stops the run:
   the audit record says which steps were applied and which failed;
7. after the last write, takes a fresh snapshot and checks it: every finding a step remediated must be
   gone, otherwise the outcome is ``drift`` with what remains. The audit record gets the verdict.

``run`` wires it for the CLI and for scan's auto mode: live snapshot, check, plan, remediate.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field, replace
from typing import Any

from netwarden.app import check
from netwarden.app.remediate_exec import (
    DEFAULT_RETRY,
    Observer,
    RetryPolicy,
    StepFailure,
    Writers,
    apply_step,
    execute,
)
from netwarden.app.remediation_outcome import RemediationOutcome, Remediator, outcome_of
from netwarden.core import snapshot_format
from netwarden.core.errors import PlanRefused
from netwarden.core.findings import Finding
from netwarden.core.lint import LintFinding
from netwarden.core.model import Snapshot
from netwarden.core.plan import build as planner
from netwarden.core.plan import guards
from netwarden.core.plan.guards import GuardOptions
from netwarden.core.plan.steps import KubeOperation, RemediationPlan
from netwarden.core.ports import StateStore
from netwarden.core.report.model import CheckReport
from netwarden.core.suppressions import SuppressionRule

log = logging.getLogger(__name__)

__all__ = ["STATUSES", "Context", "Observer", "Refresh", "RemediationResult", "Request", "RetryPolicy",
           "StepFailure", "Verification", "Writers", "apply_step", "auto_remediator", "plan_from", "remediate",
           "run"]

#: Outcomes. ``nothing-to-do`` and ``in_sync``: 0; ``planned`` and ``drift``: 2; ``incomplete``: 3;
#: ``refused`` and ``failed``: 1 (``entrypoints.exits.of_remediation``).
STATUSES = ("nothing-to-do", "planned", "refused", "incomplete", "failed", "in_sync", "drift")


@dataclass(frozen=True, slots=True)
class Verification:
    """The fresh check after the writes: ``remaining`` are findings a step should have fixed and did not;
    ``other`` is drift the plan did not cover (not selected, suppressed or no automatic fix)."""

    status: str
    remaining: tuple[Finding, ...] = ()
    other: tuple[Finding, ...] = ()
    unreadable: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        return {"status": self.status, "remaining": [f.to_dict() for f in self.remaining],
                "other": [f.to_dict() for f in self.other], "unreadable": list(self.unreadable)}


@dataclass(frozen=True, slots=True)
class RemediationResult:
    status: str
    plan: RemediationPlan
    dry_run: bool
    run_id: str
    applied: tuple[int, ...] = ()
    failure: StepFailure | None = None
    verification: Verification | None = None
    audit_key: str | None = None
    reason: str | None = None
    max_changes: int | None = None

    def to_dict(self) -> dict[str, Any]:
        return {"schema_version": 1, "status": self.status, "dry_run": self.dry_run, "run_id": self.run_id,
                "reason": self.reason, "max_changes": self.max_changes, "plan": self.plan.to_dict(),
                "applied": list(self.applied), "failed": self.failure.to_dict() if self.failure else None,
                "verification": self.verification.to_dict() if self.verification else None,
                "audit": self.audit_key}


@dataclass(frozen=True, slots=True)
class Refresh:
    """What a re-read under the lock gives: the plan made again, and the snapshot it was made from."""

    plan: RemediationPlan
    snapshot: Snapshot


@dataclass(frozen=True, slots=True)
class Context:
    """What an applying run needs besides the plan and the writers."""

    state: StateStore
    run_id: str
    clock: Callable[[], str]
    refresh: Callable[[], Refresh]
    verify: Callable[[], CheckReport]
    initiator: str = "cli"
    retry: RetryPolicy = field(default_factory=RetryPolicy)
    sleep: Callable[[float], None] = time.sleep
    observer: Observer | None = None
    #: The reviewed plan this run applies (``app.plans``), named in the audit record.
    plan_id: str | None = None


def remediate(plan: RemediationPlan, writers: Writers, *, dry_run: bool = True, max_changes: int = 10,
              context: Context | None = None, run_id: str = "-", live: Snapshot | None = None,
              guard: GuardOptions | None = None, baseline_lint: Sequence[LintFinding] = ()) -> RemediationResult:
    """Check the safeguards, and unless ``dry_run``, execute ``plan`` and verify it (module docstring).
    The blast-radius guards need ``live``, the snapshot the plan was made from (without it they are not
    checked); ``baseline_lint`` are the baseline's lint findings (its errors refuse the plan)."""
    run_id = context.run_id if context is not None else run_id
    result = RemediationResult("planned", plan, dry_run, run_id, max_changes=max_changes)
    if plan.unreadable:
        scopes = ", ".join(u.scope for u in plan.unreadable)
        log.warning("remediation refused: the live snapshot is incomplete (%s)", scopes)
        return replace(result, status="incomplete", reason=f"the live state could not be read in full ({scopes}): "
                       "nothing was changed")
    if not plan.steps:
        return replace(result, status="nothing-to-do")
    refusal = _lint_refusal(baseline_lint)
    if refusal is None and live is not None:
        refusal = guards.refusal(plan.steps, live, guard or GuardOptions())
    if refusal is None:
        refusal = _refusal(plan, writers, max_changes)
    if refusal is not None:
        log.warning("remediation refused: %s", refusal)
        return replace(result, status="refused", reason=refusal)
    if dry_run:
        log.info("dry run: %d step(s) planned, nothing written", len(plan))
        return result
    if context is None:
        raise PlanRefused("applying a plan needs a state store for the audit record")
    return _apply(plan, writers, context, result)


def _lint_refusal(findings: Sequence[LintFinding], shown: int = 2) -> str | None:
    errors = [f for f in findings if f.severity == "error"]
    if not errors:
        return None
    more = f"; and {len(errors) - shown} more" if len(errors) > shown else ""
    return (f"the baseline fails the recipe's error-level checks: {'; '.join(map(str, errors[:shown]))}{more}: "
            "nothing was changed (netwarden baseline lint shows them all)")


def _refusal(plan: RemediationPlan, writers: Writers, max_changes: int) -> str | None:
    if len(plan) > max_changes:
        return (f"the plan has {len(plan)} steps, more than max_changes ({max_changes}): nothing was changed "
                "(raise --max-changes, or remediate part of it with --only CODE)")
    for step in plan.steps:
        if isinstance(step.op, KubeOperation) and writers.kube is None:
            return f"no Kubernetes writer for {step.scope}: nothing was changed"
        if not isinstance(step.op, KubeOperation) and writers.vpc is None:
            return f"no VPC writer for {step.scope}: nothing was changed"
    return None


def _apply(plan: RemediationPlan, writers: Writers, ctx: Context, result: RemediationResult) -> RemediationResult:
    with _locks(ctx.state, plan.scopes, ctx.run_id):
        try:
            fresh = ctx.refresh()
        except PlanRefused as e:
            return replace(result, status="refused", reason=f"{e}: nothing was changed")
        if fresh.plan.unreadable:
            return replace(result, status="incomplete", reason="the live state could not be read in full when "
                           "re-read under the lock: nothing was changed")
        if [s.call for s in fresh.plan.steps] != [s.call for s in plan.steps]:
            log.warning("remediation refused: the live state changed between planning and the lock")
            return replace(result, status="refused", reason="the live state changed since the plan was made: "
                           "nothing was changed (run again to plan from the new state)")
        audit = _Audit(ctx, plan)
        audit.start(fresh.snapshot)
        result = replace(result, audit_key=audit.key)
        try:
            applied, failure = execute(plan.steps, writers, ctx.retry, ctx.sleep, ctx.observer)
        except BaseException as e:
            audit.finish("error", [], None, None, reason=f"{type(e).__name__}: {e}")
            raise
        result = replace(result, applied=applied, failure=failure)
        if failure is not None:
            audit.finish("failed", applied, failure, None)
            return replace(result, status="failed", reason=f"step {failure.step} failed: {failure.error}")
        verification = _verify(plan, ctx.verify())
        audit.finish(verification.status, applied, None, verification)
        if verification.status == "incomplete":
            return replace(result, status="drift", verification=verification,
                           reason="the fresh snapshot could not be read in full: the result is not verified")
        return replace(result, status=verification.status, verification=verification)


@contextmanager
def _locks(state: StateStore, scopes: Sequence[str], owner: str) -> Iterator[None]:
    """Hold ``remediate/<scope>`` for every scope, in sorted order (two runs never wait on each other)."""
    with ExitStack() as stack:
        for scope in sorted(scopes):
            stack.enter_context(state.lock(f"remediate/{scope}", owner))
        yield


def _verify(plan: RemediationPlan, report: CheckReport) -> Verification:
    fixed = plan.fixes
    active = report.active
    remaining = tuple(f for f in active if f.fingerprint in fixed)
    other = tuple(f for f in active if f.fingerprint not in fixed)
    status = "incomplete" if report.status == "incomplete" else "in_sync" if not active else "drift"
    for f in remaining:
        log.error("still there after remediation: %s %s", f.code, f.resource.path)
    log.info("verification: %s (%d remediated finding(s) remain, %d other)", status, len(remaining), len(other))
    return Verification(status, remaining, other, tuple(u.scope for u in report.unreadable))


class _Audit:
    """The audit record of one applying run, in the state store: written before the first write,
    rewritten when the run ends; one line per run in ``audit/index.jsonl``."""

    def __init__(self, ctx: Context, plan: RemediationPlan) -> None:
        self.ctx = ctx
        self.plan = plan
        self.started_at = ctx.clock()
        stamp = self.started_at.replace("-", "").replace(":", "")
        self.key = f"audit/{stamp}-{ctx.run_id}.json"
        self.snapshot_key = f"audit/{stamp}-{ctx.run_id}.pre-snapshot.json"

    def record(self, status: str, **extra: Any) -> dict[str, Any]:
        return {"schema_version": 1, "kind": "netwarden/remediation-audit", "run_id": self.ctx.run_id,
                "initiator": self.ctx.initiator, "started_at": self.started_at, "status": status,
                "scopes": list(self.plan.scopes), "pre_snapshot": self.snapshot_key,
                "findings": [f.to_dict() for f in self.plan.findings if f.fingerprint in self.plan.fixes],
                "plan": self.plan.to_dict(), **({"plan_id": self.ctx.plan_id} if self.ctx.plan_id else {}), **extra}

    def start(self, snapshot: Snapshot) -> None:
        self.ctx.state.put(self.snapshot_key, snapshot_format.dumps(snapshot).encode("utf-8"))
        self.ctx.state.put(self.key, _json(self.record("started", applied=[])))
        log.info("audit record %s written before the first write", self.key)

    def finish(self, status: str, applied: Sequence[int], failure: StepFailure | None,
               verification: Verification | None, *, reason: str | None = None) -> None:
        finished = self.ctx.clock()
        self.ctx.state.put(self.key, _json(self.record(
            status, finished_at=finished, applied=list(applied), failed=failure.to_dict() if failure else None,
            verification=verification.to_dict() if verification else None, reason=reason)))
        line = {"run_id": self.ctx.run_id, "started_at": self.started_at, "finished_at": finished,
                "status": status, "steps": len(self.plan), "applied": len(applied), "record": self.key}
        self.ctx.state.append("audit/index.jsonl", json.dumps(line, sort_keys=True).encode("utf-8"))


def _json(data: dict[str, Any]) -> bytes:
    return (json.dumps(data, indent=2, sort_keys=True) + "\n").encode("utf-8")


# --- wiring for the CLI and scan -----------------------------------------------------------------------


#: The default of ``remediation.plan_expiry``: a week.
PLAN_EXPIRY_S = 7 * 86400


@dataclass(frozen=True, slots=True)
class Request:
    """One remediation run as the CLI or scan asks for it."""

    options: planner.PlanOptions = field(default_factory=planner.PlanOptions)
    dry_run: bool = True
    max_changes: int = 10
    suppressions: Sequence[SuppressionRule] = ()
    initiator: str = "cli"
    guard: GuardOptions = field(default_factory=GuardOptions)
    #: The baseline's recipe findings (``core.lint``, placed at file:line when known): errors refuse the plan.
    baseline_lint: tuple[LintFinding, ...] = ()
    #: ``security_groups.ibm_churn: expected``: IBM's own changes to its groups are no finding to undo.
    ibm_churn: bool = True
    #: How long a plan stored for approval can be approved (``remediation.plan_expiry``; ``app.approval``).
    plan_expiry_s: int = PLAN_EXPIRY_S


def plan_from(report: CheckReport, baseline: Snapshot, live: Snapshot, options: planner.PlanOptions) -> RemediationPlan:
    """The plan for a check report: suppressed findings are never remediated."""
    suppressed = frozenset(f.fingerprint for f in report.findings if report.is_suppressed(f))
    return planner.build(report.findings, baseline, live, replace(options, suppressed=suppressed))


def run(baseline: Snapshot, read_live: Callable[[], Snapshot], writers: Writers, request: Request, *,
        state: StateStore | None, run_id: str, clock: Callable[[], str], live: Snapshot | None = None,
        report: CheckReport | None = None, observer: Observer | None = None, retry: RetryPolicy = DEFAULT_RETRY,
        sleep: Callable[[float], None] = time.sleep) -> RemediationResult:
    """Snapshot (or ``live``), check (or ``report``), plan, and ``remediate``. Scan's auto mode passes the
    snapshot and report it already has, ``options.codes`` = ``remediation.auto`` and ``dry_run=False``."""
    live = live if live is not None else read_live()
    report = report if report is not None else _check(baseline, live, request, clock)
    try:
        plan = plan_from(report, baseline, live, request.options)
    except PlanRefused as e:
        log.warning("remediation refused: %s", e)
        return RemediationResult("refused", RemediationPlan(unreadable=live.unreadable), request.dry_run, run_id,
                                 reason=f"{e}: nothing was changed", max_changes=request.max_changes)
    log.info("remediation plan: %d step(s) for %d finding(s), %d skipped", len(plan), len(plan.fixes),
             len(plan.skipped))

    def refresh() -> Refresh:
        again = read_live()
        return Refresh(plan_from(_check(baseline, again, request, clock), baseline, again, request.options), again)

    def verify() -> CheckReport:
        return _check(baseline, read_live(), request, clock)

    context = None
    if state is not None:
        context = Context(state=state, run_id=run_id, clock=clock, refresh=refresh, verify=verify,
                          initiator=request.initiator, retry=retry, sleep=sleep, observer=observer)
    return remediate(plan, writers, dry_run=request.dry_run, max_changes=request.max_changes, context=context,
                     run_id=run_id, live=live, guard=request.guard, baseline_lint=request.baseline_lint)


def _check(baseline: Snapshot, live: Snapshot, request: Request, clock: Callable[[], str]) -> CheckReport:
    return check.run(baseline, live, suppressions=request.suppressions, generated_at=clock(),
                     ibm_churn=request.ibm_churn)


def auto_remediator(baseline: Snapshot, read_live: Callable[[], Snapshot],
                    prepare: Callable[[], tuple[Request, Writers]], *, state: StateStore,
                    clock: Callable[[], str]) -> Remediator:
    """``remediation.mode: auto`` for a scan: each run remediates with what ``prepare`` builds (the codes
    ``remediation.auto`` lists, the config's safeguards), from the snapshot and report the scan has."""

    def remediator(live: Snapshot, report: CheckReport, run_id: str) -> RemediationOutcome:
        request, writers = prepare()
        result = run(baseline, read_live, writers, request, state=state, run_id=run_id, clock=clock, live=live,
                     report=report)
        return outcome_of(result)

    return remediator
