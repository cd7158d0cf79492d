"""``check`` at account scale: the diff, the snapshot file, and the whole check, at 1% and 10% of the
large account of ``scale.py`` (100 VPCs, 2,500 ACLs, 100,000 rules, 10,000 subnets, 20,000
NetworkPolicies at 100%).

Figures, not limits: nothing here asserts a time. Each benchmark records the size it ran at and the
cost per 1,000 rules in ``extra_info``, so two sizes can be compared as a ratio (linear growth keeps
the per-1,000-rules figure flat). The end-to-end figures at 10% and 100% (wall time and peak memory
of ``netwarden check`` under ``/usr/bin/time -v``) are in the README's "Performance" section; this
file is what tracks them between releases.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import scale

from netwarden.app.check import run
from netwarden.core import snapshot_format
from netwarden.core.drift.diff import diff
from netwarden.core.model import Snapshot
from netwarden.entrypoints.cli import main

SIZES = [0.01, 0.1]
_ESTATES: dict[float, tuple[Snapshot, Snapshot]] = {}


def estate(size: float) -> tuple[Snapshot, Snapshot]:
    """(baseline, live) of the account at ``size``, built once per session."""
    if size not in _ESTATES:
        base = scale.baseline(size)
        _ESTATES[size] = (base, scale.live(base))
    return _ESTATES[size]


def _measure(benchmark: Any, size: float, fn: Callable[[], object]) -> None:
    rules = scale.counts(estate(size)[0])["rules"]
    benchmark.extra_info.update({"size": size, "rules": rules})
    benchmark.pedantic(fn, rounds=3, iterations=1, warmup_rounds=1)
    benchmark.extra_info["ms_per_1000_rules"] = round(benchmark.stats.stats.median * 1e6 / rules, 2)


@pytest.mark.parametrize("size", SIZES)
def test_diff(benchmark: Any, size: float) -> None:
    base, live = estate(size)
    _measure(benchmark, size, lambda: diff(base, live))


@pytest.mark.parametrize("size", SIZES)
def test_check_use_case(benchmark: Any, size: float) -> None:
    """diff + impact + suppressions + status, as ``check`` runs them."""
    base, live = estate(size)
    _measure(benchmark, size, lambda: run(base, live, generated_at="2026-11-27T10:00:00Z"))


@pytest.mark.parametrize("size", SIZES)
def test_snapshot_file_read(benchmark: Any, size: float) -> None:
    text = snapshot_format.dumps(estate(size)[1])
    _measure(benchmark, size, lambda: snapshot_format.loads(text, source="live.json"))


@pytest.fixture(scope="module")
def files(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("scale")
    scale.write(SIZES[0], out)
    return out


def test_check_command(benchmark: Any, files: Path) -> None:
    """The whole command at 1%: read the baseline directory and the snapshot file, check, render JSON."""
    args = ["check", "--snapshot", str(files / "live.json"), "--baseline", str(files / "baseline"),
            "--format", "json", "--out", str(files / "report.json")]
    _measure(benchmark, SIZES[0], lambda: main(args))
    assert main(args) == 2  # the generated drift is found
