"""``baseline lint --config``: the config's suppressions beside the baseline's recipe checks.

A suppression goes stale quietly: it expires and its finding alerts again, or the drift it covered is
fixed and it waits to hide the next one. ``core.suppressions.hygiene`` judges them; this module gives
it the findings the last scans left open, read from the state store without changing it, and places
each note at the suppression's line of the config. A store that cannot be read is said, and then
whether a suppression matches anything is not judged.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime

from netwarden.config import Settings
from netwarden.core.findings import Finding
from netwarden.core.lint_findings import LintFinding


@dataclass(frozen=True, slots=True)
class ConfigHygiene:
    findings: tuple[LintFinding, ...]
    #: Why ``suppression-matches-nothing`` was not judged, when it was not.
    not_judged: str | None = None


def config_hygiene(settings: Settings, today: date | None = None) -> ConfigHygiene:
    from netwarden.core import suppressions

    if not settings.suppressions:
        return ConfigHygiene(())
    found, why = open_findings(settings)
    notes = suppressions.hygiene(settings.suppressions, today or datetime.now(UTC).date(), found)
    return ConfigHygiene(tuple(LintFinding(n.kind, n.message, ("suppression", f"suppressions[{n.index}]"),
                                           file=settings.source, line=getattr(n.rule, "line", None))
                               for n in notes), why)


def open_findings(settings: Settings) -> tuple[list[Finding] | None, str | None]:
    """The findings open in the state store's finding states, or None and why they cannot be had."""
    import json

    from netwarden.app.scan import FINDINGS_KEY
    from netwarden.core import lifecycle
    from netwarden.core.errors import NetwardenError
    from netwarden.entrypoints.wiring import state_store

    try:
        data = state_store(settings).get(FINDINGS_KEY)
    except NetwardenError as e:
        return None, f"the state store could not be read ({e})"
    if data is None:
        return None, f"no scan has recorded findings in {settings.state} yet"
    try:
        states = lifecycle.states_from_dict(json.loads(data))
    except (ValueError, KeyError, TypeError) as e:
        return None, f"the state store's {FINDINGS_KEY} is not readable ({e.__class__.__name__})"
    return [s.finding for s in states.values() if s.status == lifecycle.OPEN], None
