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

import shutil
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


# --- the compiled baseline (adapters/baseline_cache.py): cold = parse the files and compile them, warm =
# key the files and read the compiled form; the command warm is `check` of a baseline that did not change.

_WRITTEN: dict[float, Path] = {}


@pytest.fixture(scope="module")
def estate_dirs(tmp_path_factory: pytest.TempPathFactory) -> Callable[[float], Path]:
    """The estate at ``size`` written as files (``baseline/``, ``live.json``), once per module."""
    def written(size: float) -> Path:
        if size not in _WRITTEN:
            out = tmp_path_factory.mktemp(f"scale-{size}")
            scale.write(size, out)
            _WRITTEN[size] = out
        return _WRITTEN[size]
    return written


def _baseline_read(benchmark: Any, size: float, root: Path, cache: Path, *, warm: bool) -> None:
    from netwarden.adapters import baseline_cache

    def fresh() -> tuple[tuple[()], dict[str, Any]]:
        if not warm:
            shutil.rmtree(cache, ignore_errors=True)
        return (), {}

    baseline_cache.read_baseline(root, cache)  # a warm round starts from one compiled form
    rules = scale.counts(estate(size)[0])["rules"]
    benchmark.extra_info.update({"size": size, "rules": rules, "cache": "warm" if warm else "cold"})
    benchmark.pedantic(lambda: baseline_cache.read_baseline(root, cache), setup=fresh, rounds=3, iterations=1)
    benchmark.extra_info["ms_per_1000_rules"] = round(benchmark.stats.stats.median * 1e6 / rules, 2)


@pytest.mark.parametrize("warm", [False, True], ids=["cold", "warm"])
@pytest.mark.parametrize("size", SIZES)
def test_baseline_read_cached(benchmark: Any, estate_dirs: Callable[[float], Path], tmp_path: Path, size: float,
                              warm: bool) -> None:
    _baseline_read(benchmark, size, estate_dirs(size) / "baseline", tmp_path / "cache", warm=warm)


@pytest.mark.parametrize("warm", [False, True], ids=["cold", "warm"])
@pytest.mark.parametrize("size", SIZES)
def test_check_command_cached(benchmark: Any, estate_dirs: Callable[[float], Path], tmp_path: Path, size: float,
                              warm: bool) -> None:
    """The whole command with ``baseline_cache`` set: cold starts each round from an empty cache."""
    files, cache = estate_dirs(size), tmp_path / "cache"
    config = tmp_path / "netwarden.yaml"
    config.write_text(f"baseline: {files / 'baseline'}\nbaseline_cache: {cache}\nstate: file://{tmp_path / 'state'}\n",
                      encoding="utf-8")
    args = ["check", "--config", str(config), "--snapshot", str(files / "live.json"), "--format", "json",
            "--out", str(tmp_path / "report.json")]

    def fresh() -> tuple[tuple[()], dict[str, Any]]:
        if not warm:
            shutil.rmtree(cache, ignore_errors=True)
        return (), {}

    assert main(args) == 2  # the generated drift is found; a warm round starts from one compiled form
    rules = scale.counts(estate(size)[0])["rules"]
    benchmark.extra_info.update({"size": size, "rules": rules, "cache": "warm" if warm else "cold"})
    benchmark.pedantic(lambda: main(args), setup=fresh, rounds=3, iterations=1)
    benchmark.extra_info["ms_per_1000_rules"] = round(benchmark.stats.stats.median * 1e6 / rules, 2)
