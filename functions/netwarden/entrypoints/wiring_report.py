"""The check report with where in the baseline each finding is, for the formats that show lines.

SARIF (code scanning), Markdown (a pull-request comment) and HTML send a reviewer to the line of the
rule, subnet, namespace, policy, security group rule or workload a finding is about. The check reads
the baseline through the compiled cache, which keeps no lines; the lines come from parsing the YAML
again with its sources (``adapters.baseline_fs.read_baseline_with_sources``), so only the formats in
``LOCATED_FORMATS`` pay for that read. Its own module because ``wiring`` is at the house's size limit.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from netwarden.core.report.model import CheckReport
from netwarden.entrypoints import wiring

#: The ``check --format`` values whose output points at baseline lines.
LOCATED_FORMATS = frozenset({"sarif", "markdown", "html"})


def with_locations(report: CheckReport, baseline: Path) -> CheckReport:
    """``report`` with ``locations``: the baseline file (named as ``wiring.repo_path`` names the
    baseline) and line of each finding (``core.report.locations``). A snapshot file standing in for
    the baseline has no lines, and a report without findings needs none: either comes back as it is."""
    if not report.findings or not baseline.is_dir():
        return report
    from netwarden.adapters.baseline_fs import read_baseline_with_sources
    from netwarden.core.report.locations import locate

    _, sources = read_baseline_with_sources(baseline)
    return replace(report, locations=locate(report.findings, sources, root=str(baseline),
                                            baseline_dir=wiring.repo_path(baseline)))
