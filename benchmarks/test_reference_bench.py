"""``netwarden check --snapshot`` against the reference checker a user could write (``reference_check.py``),
as processes, on the 1% and 10% accounts of ``scale.py``: wall time, CPU time and peak memory of each
command, and netwarden's as ratios to the reference's, with the baseline cache cold and warm.

Figures, not limits: nothing here asserts a time. ``make bench`` prints the ratios as a table at the
end (``conftest.py``); each benchmark also carries them in ``extra_info`` for ``--benchmark-json``. The
timer's own column is the launcher's wall time; the child's wall and CPU time and its peak RSS come
from the launcher (``compare.py``, which also says how ``NETWARDEN_BENCH_CACHE`` points netwarden at a
cache). What is asserted is that both checkers did the work: each exits with drift, they count the same
drifted objects, and a warm run reports what a cold one does.

For an estate already written (the 100% account), the same table by hand::

    python benchmarks/test_reference_bench.py --estate scale-100 --label 100%
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import Any

import pytest
import reference_check
import scale
from compare import CACHE_ENV, KINDS, Bench, Cache, Row, Usage, best_of, drifted_objects, main, summarise

from netwarden.adapters.baseline_write import write_baseline
from netwarden.core import snapshot_format
from netwarden.entrypoints.cli import main as netwarden

SIZES = {"1%": 0.01, "10%": 0.1}
ROUNDS = 3


@pytest.fixture(scope="module", params=list(SIZES), ids=list(SIZES))
def estate(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> tuple[str, Bench]:
    """(label, the comparison's commands) on a freshly written estate."""
    label = request.param
    root = tmp_path_factory.mktemp(f"estate-{label.rstrip('%')}")
    scale.write(SIZES[label], root / "estate")
    (root / "work").mkdir()
    return label, Bench(root / "estate", root / "work", Cache.parse(os.environ.get(CACHE_ENV)))


@pytest.fixture(scope="module")
def measured() -> dict[tuple[str, str], list[Usage]]:
    """(estate, command) -> the runs measured so far in this module."""
    return {}


def _reference(label: str, bench: Bench, measured: dict[tuple[str, str], list[Usage]]) -> Usage:
    """The reference's best run on this estate (measured here if its own benchmark has not run)."""
    if (label, "reference") not in measured:
        measured[(label, "reference")] = bench.rounds("reference", ROUNDS)
    return best_of(measured[(label, "reference")])


def _report(bench: Bench, kind: str) -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads(bench.report(kind).read_text(encoding="utf-8"))
    loaded.pop("generated_at", None)
    return loaded


@pytest.mark.parametrize("kind", KINDS)
def test_check_against_the_reference(benchmark: Any, estate: tuple[str, Bench], kind: str,
                                     measured: dict[tuple[str, str], list[Usage]], ratio_rows: list[Row]) -> None:
    label, bench = estate
    bench.prepare(kind)
    usages: list[Usage] = []
    benchmark.pedantic(lambda: usages.append(bench.run(kind)), setup=lambda: bench.before_round(kind),
                       rounds=ROUNDS, iterations=1)
    measured[(label, kind)] = usages
    reference = None if kind == "reference" else _reference(label, bench, measured)
    row = summarise(label, kind, usages, reference, bench.cache_files())
    benchmark.extra_info.update(row.extra_info())
    ratio_rows.append(row)

    assert {u.code for u in usages} == {2}  # the generated drift is found
    if kind != "reference":
        drifted = drifted_objects(_report(bench, kind))
        assert drifted and len(drifted) == bench.differing_count()
    if kind == "warm":
        if not bench.report("cold").exists():
            bench.before_round("cold")
            bench.run("cold")
        assert _report(bench, "warm") == _report(bench, "cold")


@pytest.fixture(scope="module")
def drifted_estate(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The 1% account with drift on one resource in twenty, so every kind of object differs somewhere."""
    root = tmp_path_factory.mktemp("drifted")
    base = scale.baseline(0.01)
    write_baseline(base, root / "baseline")
    (root / "live.json").write_text(snapshot_format.dumps(scale.live(base, seed=3, rate=0.05)), encoding="utf-8")
    return root


def test_the_reference_finds_the_objects_netwarden_reports(drifted_estate: Path) -> None:
    out = drifted_estate / "report.json"
    assert netwarden(["check", "--snapshot", str(drifted_estate / "live.json"), "--baseline",
                      str(drifted_estate / "baseline"), "--format", "json", "--out", str(out)]) == 2
    found = reference_check.differing(reference_check.load_baseline(drifted_estate / "baseline"),
                                      reference_check.load_live(drifted_estate / "live.json"))
    assert {key[0] for key in found} == {"acl", "subnet", "policy"}
    assert set(found) == drifted_objects(json.loads(out.read_text(encoding="utf-8")))


def test_the_reference_finds_nothing_in_a_snapshot_of_the_baseline(tmp_path: Path) -> None:
    base = scale.baseline(0.01)
    write_baseline(base, tmp_path / "baseline")
    (tmp_path / "live.json").write_text(snapshot_format.dumps(scale.live(base, rate=0.0)), encoding="utf-8")
    objects = reference_check.load_baseline(tmp_path / "baseline")
    assert {key[0] for key in objects} == {"vpc", "acl", "subnet", "namespace", "policy"}
    assert reference_check.differing(objects, reference_check.load_live(tmp_path / "live.json")) == {}


@pytest.mark.parametrize(("baseline", "live", "differs"), [
    ({"name": "a", "destination_port": 22}, {"name": "a", "destination_port": "22", "id": "r-1"}, False),
    ({"name": "a"}, {"name": "a", "destination_port": "1-65535", "source_port": "1-65535"}, False),
    ({"name": "a", "destination_port": "8000-8010"}, {"name": "a", "destination_port": "8000-8010"}, False),
    ({"name": "a", "destination_port": 22}, {"name": "a", "destination_port": "23"}, True),
    ({"name": "a", "destination_port": 22}, {"name": "a", "source_port": "22"}, True),
    ({"name": "a", "action": "allow"}, {"name": "a", "action": "deny"}, True),
], ids=["port-as-number-and-id", "any-port-spelt-out", "port-range", "other-port", "other-side", "other-action"])
def test_the_reference_smooths_only_how_a_rule_is_spelt(baseline: dict[str, Any], live: dict[str, Any],
                                                        differs: bool) -> None:
    key = ("acl", "us-south", "vpc", "acl")
    want, have = reference_check.comparable_rule(baseline), reference_check.comparable_rule(live)
    found = reference_check.differing({key: [want]}, {key: [have]})
    assert (key in found) is differs


def test_ports_as_spelt_differ() -> None:
    rule = {"name": "a", "destination_port": 22}
    assert reference_check.comparable_rule(rule) == reference_check.comparable_rule({**rule, "destination_port": "22"})
    assert reference_check.comparable_rule(rule, smooth_ports=False) != reference_check.comparable_rule(
        {**rule, "destination_port": "22"}, smooth_ports=False)


@pytest.mark.parametrize("in_baseline", [True, False], ids=["missing", "unexpected"])
def test_an_object_on_one_side_only_differs(in_baseline: bool) -> None:
    key, labels = ("namespace", "cluster", "ns"), {"team": "a"}
    one_side: dict[tuple[str, ...], Any] = {key: labels}
    found = reference_check.differing(one_side if in_baseline else {}, {} if in_baseline else one_side)
    assert found == {key: None}


if __name__ == "__main__":
    sys.exit(main())
