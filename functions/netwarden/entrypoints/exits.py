"""The exit codes of every command, and how a use-case's outcome becomes one (DESIGN.md's table).

One place, so the CLI, the Code Engine job and the tests agree: 0 ok / in sync, 1 error, 2 drift (or a
plan only), 3 incomplete (a scope could not be read). CI reads 2 as drift, so nothing else may use it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from netwarden.core.errors import NotifyError, RemediationError

if TYPE_CHECKING:
    from netwarden.app.remediate import RemediationResult
    from netwarden.app.scan import ScanResult

EXIT_OK, EXIT_ERROR, EXIT_DRIFT, EXIT_INCOMPLETE = 0, 1, 2, 3
EXIT_INTERRUPTED = 130


def of_check(status: str) -> int:
    """A check report's status: in sync 0, drift 2, anything else (incomplete) 3."""
    return {"in_sync": EXIT_OK, "drift": EXIT_DRIFT}.get(status, EXIT_INCOMPLETE)


def of_remediation(result: RemediationResult) -> int:
    """0 in sync after, 2 drift remains or a plan only, 3 incomplete (nothing changed), 1 refused or failed."""
    if result.status in ("refused", "failed"):
        return EXIT_ERROR
    if result.status == "incomplete":
        return EXIT_INCOMPLETE
    in_sync = result.status == "in_sync" or (result.status == "nothing-to-do" and not result.plan.drift_left)
    return EXIT_OK if in_sync else EXIT_DRIFT


def of_scan(result: ScanResult | None) -> int:
    """0 when the run ran (drift or not; ``None``: nothing to run). An alert that could not be delivered
    (it stays pending for the next run) or a failed remediation is an error naming what went wrong,
    raised after the state was saved."""
    problems = result.problems() if result is not None else []
    if result is None or not problems:
        return EXIT_OK
    error = NotifyError if any(not c.delivered for c in result.channels) else RemediationError
    raise error(f"scan {result.run_id}: " + "; ".join(problems))
