"""The run history's summary as text, JSON and one self-contained HTML page (``netwarden history``).

The text is for a terminal or a pipe (wrapped to the width, 80 columns in a pipe, like the check
report); the JSON is ``Summary.to_dict`` for scripts and dashboards; the page is for a weekly review:
the counts, time to resolve, the most drifted resources and who changed what, loading nothing
(the check report's Content-Security-Policy and stylesheet).
"""

from __future__ import annotations

import json
from collections.abc import Iterable

from netwarden.core.history import Summary
from netwarden.core.initiator import UNKNOWN
from netwarden.core.report.html_parts import esc, table
from netwarden.core.report.html_style import document
from netwarden.core.wrap import wrap

#: How many of the latest changes the text and the page list (the JSON has them all).
RECENT = 20


def render_history(summary: Summary, fmt: str, *, width: int = 80) -> str:
    if fmt == "json":
        return json.dumps(summary.to_dict(), indent=2, sort_keys=True) + "\n"
    if fmt == "html":
        return _html(summary)
    return _text(summary, width)


def duration(seconds: float | None) -> str:
    """``3d 4h``, ``2h 5m``, ``40s``; ``-`` for none."""
    if seconds is None:
        return "-"
    s = int(seconds)
    for unit, size, sub, subsize in (("d", 86400, "h", 3600), ("h", 3600, "m", 60), ("m", 60, "s", 1)):
        if s >= size:
            rest = (s % size) // subsize
            return f"{s // size}{unit}" + (f" {rest}{sub}" if rest else "")
    return f"{s}s"


def _span(s: Summary) -> str:
    return f"since {s.since}" if s.since else "all kept history"


def _counts(s: Summary) -> list[str]:
    kinds = ", ".join(f"{n} {k}" for k, n in s.by_kind.items()) or "none"
    statuses = ", ".join(f"{n} {k}" for k, n in s.by_status.items()) or "none"
    open_now = ", ".join(f"{n} {k}" for k, n in s.open_now.items()) or "none"
    return [f"runs: {s.runs} ({kinds}); outcomes: {statuses}",
            f"findings: {s.opened} opened, {s.changed} changed, {s.resolved} resolved; open at the last run: "
            f"{open_now}",
            f"time to resolve: median {duration(s.median_resolve_s)}, longest {duration(s.longest_resolve_s)}"]


def _who(who: str | None) -> str:
    return who or UNKNOWN


def _text(s: Summary, width: int) -> str:
    lines = wrap(f"netwarden history ({_span(s)}): {s.runs} run(s)", width)
    for line in _counts(s):
        lines += wrap(line, width, "  ", "    ")
    sections: list[tuple[str, Iterable[str]]] = [
        ("most drifted resources", (f"{n}x {res}" for res, n in s.most_drifted)),
        ("who changed what", (f"{n} change(s): {who}" for who, n in s.by_initiator)),
        (f"latest changes (up to {RECENT})", (f"{c.at} {c.transition} {c.severity} {c.code} {c.resource}, by "
                                               f"{_who(c.who)}" for c in s.changes[-RECENT:])),
        ("resolved", (f"{r.code} {r.resource}: open {duration(r.seconds)} (from {r.first_seen} to {r.resolved_at})"
                      for r in s.resolutions[-RECENT:])),
    ]
    for title, items in sections:
        body = [line for item in items for line in wrap(item, width, "  ", "    ")]
        if body:
            lines += ["", f"{title}:", *body]
    return "\n".join(lines) + "\n"


def _html(s: Summary) -> str:
    counts = "".join(f"<li>{esc(line)}</li>" for line in _counts(s))
    drifted = table(("resource", "changes"), (f"<tr><td>{esc(res)}</td><td>{n}</td></tr>" for res, n in s.most_drifted))
    who = table(("who", "changes"), (f"<tr><td>{esc(w)}</td><td>{n}</td></tr>" for w, n in s.by_initiator))
    changes = table(("when", "what", "severity", "code", "resource", "who"), (
        f"<tr><td>{esc(c.at)}</td><td>{esc(c.transition)}</td><td>{esc(c.severity)}</td><td>{esc(c.code)}</td>"
        f"<td>{esc(c.resource)}</td><td>{esc(_who(c.who))}</td></tr>" for c in reversed(s.changes[-RECENT:])))
    resolved = table(("code", "resource", "open for", "opened", "resolved"), (
        f"<tr><td>{esc(r.code)}</td><td>{esc(r.resource)}</td><td>{esc(duration(r.seconds))}</td>"
        f"<td>{esc(r.first_seen)}</td><td>{esc(r.resolved_at)}</td></tr>" for r in reversed(s.resolutions[-RECENT:])))
    sections = [("Most drifted resources", drifted, s.most_drifted), ("Who changed what", who, s.by_initiator),
                ("Latest changes", changes, s.changes), ("Resolved", resolved, s.resolutions)]
    body = "".join(f"<section><h2>{title}</h2>{html}</section>" for title, html, rows in sections if rows)
    title = f"netwarden history ({_span(s)})"
    return document(esc(title), f"<h1>{esc(title)}</h1>", f"<section><ul>{counts}</ul></section>{body}",
                    "netwarden run history. Self-contained: it loads nothing.")
