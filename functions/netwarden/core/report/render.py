"""``check --format``: a check report in one of its formats, each made by its own renderer.

* ``text``: a table for a terminal (``core.report.text``);
* ``json``: DESIGN.md's report contract, validated by ``docs/report.schema.json`` (``core.report.model``);
* ``markdown``: a pull-request comment (``core.report.markup``);
* ``sarif``: SARIF 2.1.0 for GitHub code scanning (``core.report.sarif``);
* ``junit``: JUnit XML for CI test dashboards (``core.report.markup``).
"""

from __future__ import annotations

import json

from netwarden.core.report.model import CheckReport, to_dict
from netwarden.core.report.text import render_text

FORMATS = ("text", "json", "markdown", "sarif", "junit")


def render(report: CheckReport, fmt: str, *, baseline_dir: str = "baseline") -> str:
    """``report`` in format ``fmt`` (one of FORMATS). ``baseline_dir`` is the baseline directory as
    the repository sees it; SARIF and Markdown point at the baseline file of each finding."""
    if fmt == "json":
        return json.dumps(to_dict(report), indent=2, ensure_ascii=False) + "\n"
    if fmt == "text":
        return render_text(report)
    if fmt == "markdown":
        from netwarden.core.report.markup import render_markdown

        return render_markdown(report, baseline_dir=baseline_dir)
    if fmt == "junit":
        from netwarden.core.report.markup import render_junit

        return render_junit(report)
    if fmt == "sarif":
        from netwarden.core.report.sarif import render_sarif

        return json.dumps(render_sarif(report, baseline_dir=baseline_dir), indent=2, ensure_ascii=False) + "\n"
    raise ValueError(f"unknown report format {fmt!r} (expected one of: {', '.join(FORMATS)})")
