"""The check report with where in the baseline each finding is, for the formats that show lines.

SARIF (code scanning), Markdown (a pull-request comment) and HTML send a reviewer to the line of the
rule, subnet, namespace, policy, security group rule or workload a finding is about. The check reads
the baseline through the compiled cache, which keeps no lines; the lines come from parsing the YAML
again with its sources (``adapters.baseline_fs.read_baseline_with_sources``), so only the formats in
``LOCATED_FORMATS`` pay for that read. ``with_initiators`` adds who made each change, from the
finding state. Its own module because ``wiring`` is at the house's size limit.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from netwarden.config import Settings
from netwarden.core.report.model import CheckReport
from netwarden.entrypoints import wiring

#: The ``check --format`` values whose output points at baseline lines.
LOCATED_FORMATS = frozenset({"sarif", "markdown", "html"})


def with_initiators(report: CheckReport, settings: Settings) -> CheckReport:
    """``report`` with who made each finding's change, as the finding state (``findings.json``, written
    by the scans, events and the watcher) keeps it. Read only, without the scan lock: a check changes
    no state. A state that cannot be read leaves the report as it is, said in one warning line."""
    if not report.findings:
        return report
    import json
    import logging

    from netwarden.core import lifecycle
    from netwarden.core.errors import NetwardenError

    try:
        data = wiring.state_store(settings).get("findings.json")
        states = lifecycle.states_from_dict(json.loads(data)) if data else {}
    except (NetwardenError, ValueError, KeyError, TypeError) as e:
        logging.getLogger(__name__).warning("who made each change is not shown: the finding state could not "
                                            "be read (%s)", e)
        return report
    return replace(report, initiators={fp: s.initiator for fp, s in states.items() if s.initiator is not None})


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
