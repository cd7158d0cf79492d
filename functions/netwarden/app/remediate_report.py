"""The outcome of a remediation run for people (text) and tools (JSON).

The text shows every step with the exact API call it makes (method, path, body), so a dry run can be
reviewed like a pull request before ``--apply``; then what was left out and why, and the outcome:
which steps were applied, which failed, what the verification found, where the audit record is.
"""

from __future__ import annotations

import json
from typing import Any

from netwarden.app.remediate import RemediationResult
from netwarden.core.findings import Finding

HEADLINES = {
    "nothing-to-do": "nothing to remediate",
    "planned": "dry run: nothing was changed",
    "refused": "REFUSED: nothing was changed",
    "incomplete": "INCOMPLETE: nothing was changed",
    "failed": "FAILED: stopped part way",
    "in_sync": "applied and verified: in sync with the baseline",
    "drift": "applied: drift remains",
}


def render(result: RemediationResult, fmt: str) -> str:
    if fmt == "json":
        return json.dumps(result.to_dict(), indent=2, sort_keys=True) + "\n"
    return render_text(result)


def render_text(result: RemediationResult) -> str:
    plan = result.plan
    lines = [f"netwarden remediate: {HEADLINES.get(result.status, result.status)}"]
    if result.reason:
        lines.append(f"  {result.reason}")
    if plan.steps:
        lines += ["", f"Plan: {len(plan)} step(s) for {len(plan.fixes)} finding(s)"
                  + (f", max_changes {result.max_changes}" if result.max_changes is not None else "")]
        applied = set(result.applied)
        for n, step in enumerate(plan.steps, 1):
            mark = _mark(n, applied, result)
            call = step.call
            lines.append(f"  {n:>2}. {mark}{step.description}")
            lines.append(f"      fixes: {', '.join(step.codes)}")
            lines.append(f"      {call.method} {call.path}  ({call.api})")
            if call.body is not None:
                lines.append(f"      {json.dumps(call.body, sort_keys=True, separators=(', ', ': '))}")
    if plan.skipped:
        lines += ["", f"Not remediated ({len(plan.skipped)}):"]
        lines += [f"  - {s.finding.code} {s.finding.resource.path}: {s.reason}" for s in plan.skipped]
    lines += _outcome(result)
    return "\n".join(lines) + "\n"


def _mark(n: int, applied: set[int], result: RemediationResult) -> str:
    if result.status in ("planned", "refused", "incomplete", "nothing-to-do"):
        return ""
    if n in applied:
        return "[applied] "
    if result.failure is not None and result.failure.step == n:
        return "[FAILED] "
    return "[not run] "


def _outcome(result: RemediationResult) -> list[str]:
    lines: list[str] = []
    if result.status == "planned":
        lines += ["", "Re-run with --apply to execute this plan."]
    if result.failure is not None:
        f = result.failure
        applied = ", ".join(map(str, result.applied)) or "none"
        lines += ["", f"Step {f.step} failed after {f.attempts} attempt(s) "
                      f"({'temporary' if f.temporary else 'permanent'} error): {f.error}",
                  f"Applied before it: {applied}. The next run plans what is left."]
    v = result.verification
    if v is not None:
        lines += ["", f"Verification (fresh snapshot): {v.status.replace('_', ' ')}"]
        lines += [f"  still there: {_finding(x)}" for x in v.remaining]
        lines += [f"  not in this plan: {_finding(x)}" for x in v.other]
        lines += [f"  could not be read: {scope}" for scope in v.unreadable]
    if result.audit_key:
        lines.append(f"Audit record: {result.audit_key} (run {result.run_id})")
    return lines


def _finding(f: Finding) -> str:
    return f"{f.code} {f.resource.path}: {f.message}"


def summary(result: RemediationResult) -> dict[str, Any]:
    """A small dict for logs and scan reports: status, steps, applied, remaining."""
    v = result.verification
    return {"status": result.status, "steps": len(result.plan), "applied": len(result.applied),
            "remaining": len(v.remaining) if v else None, "audit": result.audit_key}
