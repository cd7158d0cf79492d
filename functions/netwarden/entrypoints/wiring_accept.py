"""``netwarden baseline accept``: the baseline and the live state read as ``check`` reads them, the
findings selected, their resources taken into the baseline (``core.accept``) and the files changed
(``adapters.baseline_edit``).

Kept apart from ``wiring`` (the composition root of every command) because it is one command's
composition. What it decides is when nothing is written: when a finding named by its fingerprint
cannot be accepted (the reviewer asked for exactly that one), when no finding can, and when the new
baseline would still produce an accepted finding (``core.accept.still_reported``; a bug, never a
partial write). A finding selected by ``--code``, ``--resource`` or ``--all`` that cannot be accepted
is left out and said; the rest are written.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from netwarden.adapters.baseline_edit import Written, file_of, write_changes
from netwarden.app import check as check_app
from netwarden.config import Settings
from netwarden.core import accept as core
from netwarden.core.errors import BaselineError, ConfigError, Location
from netwarden.core.model import Unreadable
from netwarden.entrypoints import wiring


@dataclass(frozen=True, slots=True)
class AcceptOutcome:
    """What was accepted and refused, and the files changed (None: nothing was written, ``blocked`` says why)."""

    acceptance: core.Acceptance
    written: Written | None
    baseline: Path
    unreadable: tuple[Unreadable, ...] = ()
    blocked: str | None = None

    def file(self, accepted: core.Accepted) -> str:
        """The baseline file an accepted finding's resource is in, as a report names it."""
        return wiring.repo_path(self.baseline / file_of(accepted.finding.resource))


def accept(settings: Settings, selection: core.Selection) -> AcceptOutcome:
    """Accept the findings ``selection`` names from the live state into the config's baseline directory."""
    path = settings.baseline
    if path.is_file():
        raise ConfigError(f"{path} is a snapshot file: baseline accept edits a baseline directory",
                          location=Location("--baseline"))
    baseline = wiring.read_baseline(path)  # the files themselves, not a compiled form: they are what is edited
    live = wiring.live_snapshot(settings)
    ibm_churn = settings.ibm_churn == "expected"
    report = check_app.run(baseline, live, suppressions=settings.suppressions, generated_at=wiring.now_rfc3339(),
                           ibm_churn=ibm_churn)
    suppressed = {fp for fp, mark in report.suppressions.items() if not mark.expired}
    chosen = core.select(report.findings, selection, suppressed=suppressed)
    acceptance = core.accept(baseline, live, chosen)
    named = set(selection.fingerprints)
    blocked = None
    if any(r.finding.fingerprint in named for r in acceptance.refused):
        blocked = "a finding named by its fingerprint cannot be accepted"
    elif not acceptance.accepted:
        blocked = "no selected finding can be accepted"
    if blocked is not None:
        return AcceptOutcome(acceptance, None, path, live.unreadable, blocked)
    left = core.still_reported(acceptance, live, ibm_churn=ibm_churn)
    if left:
        raise BaselineError("the accepted baseline would still report " + ", ".join(
            f"{f.code} {f.resource.path}" for f in left) + ": nothing was written", location=Location(str(path)))
    return AcceptOutcome(acceptance, write_changes(baseline, acceptance.baseline, path), path, live.unreadable)
