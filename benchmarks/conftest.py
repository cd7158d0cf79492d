"""What the benchmarks share at the end of a run: the table of netwarden's time and memory as ratios to
the reference checker (``test_reference_bench.py`` fills it), printed after pytest-benchmark's own,
which has no room for figures other than the timer's. The end-to-end tests' harness for
``netwarden watch`` (``tests/watch_process.py``) is shared with the latency benchmarks."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

sys.path.append(str(Path(__file__).resolve().parents[1] / "tests"))

from compare import CACHE_ENV, KINDS, Cache, Row, table

ROWS = pytest.StashKey[list[Row]]()


@pytest.fixture(scope="session")
def ratio_rows(pytestconfig: pytest.Config) -> list[Row]:
    """The rows of the end-of-run table; a benchmark appends its own."""
    return pytestconfig.stash.setdefault(ROWS, [])


@pytest.hookimpl(trylast=True)  # after pytest-benchmark's table
def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter, config: pytest.Config) -> None:
    rows = config.stash.get(ROWS, [])
    if rows:
        terminalreporter.write_sep("-", "netwarden check against the reference checker")
        estates = list(dict.fromkeys(r.estate for r in rows))  # in the order they were measured
        ordered = sorted(rows, key=lambda r: (estates.index(r.estate), KINDS.index(r.kind)))
        terminalreporter.write_line(table(ordered, Cache.parse(os.environ.get(CACHE_ENV))))
