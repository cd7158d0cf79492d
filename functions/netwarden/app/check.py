"""Use-case: check a live snapshot against the baseline, and decide what the outcome is.

The diff (``core.drift.diff``) says what differs; this use-case adds what it means and what to do with it:
the impact of each finding (``core.drift.impact``), which findings a
suppression from the config covers (``core.suppressions.match_suppression``: code plus resource path,
a trailing ``*`` matches a prefix, active through its ``expires`` day), and the status:

* ``incomplete`` when any scope of the live side could not be read (whatever else was found);
* ``drift`` when a finding no active suppression covers remains;
* ``in_sync`` otherwise.

What the live read was not configured to cover (``Snapshot.scope``) is left out of the comparison and
reported once per region, VPC, cluster or namespace as an ``out-of-scope`` note (``core.drift.scope``),
never as missing findings; a configured cluster the baseline has no folder for is an unreadable scope.
The rule changes IBM documents making to its own security groups are set aside and counted, one
``ibm-churn`` note per group and reason, unless ``ibm_churn`` is off.

A suppressed finding stays in the report, marked, and does not fail the check; an expired
suppression is reported as expired and suppresses nothing. Decisions are logged here, nowhere else.
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Sequence
from datetime import UTC, date, datetime

from netwarden.core import gc_pause
from netwarden.core.drift.diff import diff
from netwarden.core.drift.impact import annotate
from netwarden.core.drift.scope import split, unbaselined, unmanaged
from netwarden.core.model import Snapshot
from netwarden.core.report.model import CheckReport, Note, SuppressionMark, sorted_findings
from netwarden.core.suppressions import SuppressionRule, match_suppression

log = logging.getLogger(__name__)


def run(
    baseline: Snapshot,
    live: Snapshot,
    *,
    suppressions: Sequence[SuppressionRule] = (),
    today: date | None = None,
    generated_at: str | None = None,
    ibm_churn: bool = True,
) -> CheckReport:
    """Diff ``live`` against ``baseline`` and return the report. ``today`` decides which suppressions
    have expired, ``generated_at`` stamps the report (both default to now, in UTC); ``ibm_churn``
    (config ``security_groups.ibm_churn: expected``) sets IBM's own changes to its groups aside, each
    group's count in an ``ibm-churn`` note."""
    now = datetime.now(UTC)
    today = today or now.date()
    generated_at = generated_at or now.replace(microsecond=0).isoformat().replace("+00:00", "Z")
    baseline, outside = split(baseline, live.scope)
    notes = (*(Note("out-of-scope", o.scope, o.message) for o in outside),
             *(Note("unmanaged", scope, f"live VPC {scope} has no baseline folder vpc/{scope}/: not checked (capture "
                    "it with netwarden baseline capture, or name the VPCs to check in ibmcloud.vpcs)")
               for scope in unmanaged(baseline, live)))
    for note in notes:
        log.info("%s", note.message)
    unreadable = tuple(sorted(live.unreadable + unbaselined(baseline, live), key=lambda u: u.scope))
    churn: Counter[tuple[str, str]] = Counter()
    with gc_pause.paused():  # the diff and the analysis make no cycles: see core.gc_pause
        findings = annotate(diff(baseline, live, ibm_churn=ibm_churn, churn=churn), baseline, live)
    notes += tuple(Note("ibm-churn", path, f"security group {path}: {n} rule change(s) IBM makes itself set aside "
                        f"({reason})") for (path, reason), n in sorted(churn.items()))
    marks: dict[str, SuppressionMark] = {}
    for finding in findings:
        rule, expired = match_suppression(finding, suppressions, today)
        if rule is None:
            continue
        expires = rule.expires.isoformat() if rule.expires else None
        marks[finding.fingerprint] = SuppressionMark(reason=rule.reason, expires=expires, expired=expired)
        if expired:
            log.warning("suppression expired on %s, finding counts again: %s %s (%s)", expires, finding.code,
                        finding.resource.path, rule.reason)
        else:
            log.info("finding suppressed: %s %s (%s)", finding.code, finding.resource.path, rule.reason)
    suppressed = sum(1 for mark in marks.values() if not mark.expired)
    status = "incomplete" if unreadable else ("drift" if len(findings) > suppressed else "in_sync")
    for u in unreadable:
        log.warning("not checked, could not be read: %s (%s)", u.scope, u.reason)
    log.info("check %s: %d finding(s), %d suppressed, %d scope(s) unreadable, %d not checked", status,
             len(findings), suppressed, len(unreadable), len(notes))
    return CheckReport(status=status, findings=sorted_findings(findings), unreadable=unreadable,
                       generated_at=generated_at, suppressions=marks, notes=notes)
