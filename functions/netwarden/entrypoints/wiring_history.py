"""The composition of ``netwarden history``: the state store's run records, summarized and rendered.

Kept beside ``wiring`` (the one composition root for the use-cases that read and write the estate)
because it reads nothing but the state store: the records of the span asked for
(``app.history.read``), what they say (``core.history.summarize``), in the format asked for
(``core.report.history``).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from netwarden.config import Settings
from netwarden.entrypoints import wiring


def history(settings: Settings, *, since_s: int | None, fmt: str, width: int = 80,
            now: datetime | None = None) -> tuple[str, int]:
    """The history of the last ``since_s`` seconds (all kept when None), rendered; and how many runs."""
    from netwarden.app import history as store_history
    from netwarden.core.history import summarize
    from netwarden.core.report.history import render_history

    since = (now or datetime.now(UTC)) - timedelta(seconds=since_s) if since_s is not None else None
    summary = summarize(store_history.read(wiring.state_store(settings), since=since), since=since)
    return render_history(summary, fmt, width=width), summary.runs
