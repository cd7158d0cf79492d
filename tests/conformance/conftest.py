"""Conformance suites: tally the results per family and print the pass counts at the end of the run.

A case is marked ``conformance(family)``; an excluded case is a skipped parameter (its reason is in
the test module and in ``-rA`` output), a known failure an ``xfail(strict=True)``."""

from __future__ import annotations

from collections import Counter, defaultdict
from typing import Any

import pytest

_TALLY: dict[str, Counter[str]] = defaultdict(Counter)


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[Any]) -> Any:
    outcome = yield
    report = outcome.get_result()
    marker = item.get_closest_marker("conformance")
    if marker is None:
        return
    family = str(marker.args[0])
    if report.when == "call" or (report.when == "setup" and report.outcome != "passed"):
        if hasattr(report, "wasxfail"):
            _TALLY[family]["known failure"] += 1
        elif report.outcome == "skipped":
            _TALLY[family]["excluded"] += 1
        else:
            _TALLY[family][report.outcome] += 1


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "conformance(family): a third-party conformance case of that family")


def pytest_terminal_summary(terminalreporter: Any) -> None:
    if not _TALLY:
        return
    terminalreporter.section("conformance pass counts")
    for family in sorted(_TALLY):
        t = _TALLY[family]
        applicable = t["passed"] + t["failed"] + t["known failure"]
        rate = 100.0 * t["passed"] / applicable if applicable else 0.0
        terminalreporter.write_line(
            f"{family}: {t['passed']}/{applicable} applicable cases pass ({rate:.1f}%), "
            f"{t['known failure']} known failure(s), {t['excluded']} excluded")
