"""``netwarden check`` held against the reference checker (``reference_check.py``) on one estate: the wall
time, CPU time and peak memory of each, and netwarden's ratios to the reference, with its compiled-baseline
cache cold and warm. ``test_reference_bench.py`` runs this under pytest-benchmark at 1% and 10%; run it
by hand for an estate already written (the README's 100% row)::

    python benchmarks/scale.py --scale 1.0 --out scale-100
    python benchmarks/compare.py --estate scale-100 --rounds 3

Each command runs as the only child of a small launcher, which reports the child's own wall time and
the kernel's accounting of it (``getrusage(RUSAGE_CHILDREN)``: CPU seconds, peak RSS). A direct child of
a large Python process would be charged that process's memory at fork. Timings are best of the
rounds (the machine may be shared); nothing here asserts one.

The compiled-baseline cache lives in a directory of the comparison's own (never the user's): how
netwarden is pointed at it is set by ``NETWARDEN_BENCH_CACHE``:

    (unset)          netwarden's default place: ``XDG_CACHE_HOME`` is set to the cache directory
    config:<key>     a config file is written with ``baseline: <dir>`` and ``<key>: <cache dir>`` and
                     passed with ``--config`` (e.g. ``config:baseline_cache``)
    env:<VARIABLE>   ``<VARIABLE>=<cache dir>`` is set in netwarden's environment as well

Each cold round starts from an empty cache directory, the warm rounds from one that an untimed run has
filled. A netwarden that writes no cache there gets the same command twice: then "warm" is a second
run (files and bytecode in the page cache), and the table says so. Every round also checks that the
command ran (exit 0 or 2, not an error); the reports of the cold and the warm runs are compared,
timestamps aside, and the objects they report drifted are counted against the reference's count.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
REFERENCE = HERE / "reference_check.py"
CACHE_ENV = "NETWARDEN_BENCH_CACHE"
KINDS = ("reference", "cold", "warm")
LABELS = {"reference": "reference", "cold": "netwarden cold", "warm": "netwarden warm"}
HANG_GUARD_SECONDS = 900.0
#: Runs argv[2:] and writes its exit code, wall seconds, CPU seconds and peak memory (KiB) to argv[1].
LAUNCHER = ("import resource, subprocess, sys, time\n"
            "start = time.perf_counter()\n"
            "code = subprocess.call(sys.argv[2:])\n"
            "wall = time.perf_counter() - start\n"
            "u = resource.getrusage(resource.RUSAGE_CHILDREN)\n"
            "open(sys.argv[1], 'w').write(f'{code} {wall} {u.ru_utime + u.ru_stime} {u.ru_maxrss}')\n")


class BenchError(Exception):
    """A command of the comparison did not run as it should (the message is one line)."""


@dataclass(frozen=True)
class Usage:
    """One run of one command."""
    code: int
    wall_s: float
    cpu_s: float
    rss_kib: int


@dataclass(frozen=True)
class Cache:
    """How netwarden is pointed at its compiled-baseline cache (see the module's docstring)."""
    how: str = "default"
    name: str = ""

    @classmethod
    def parse(cls, value: str | None) -> Cache:
        if not value:
            return cls("default")
        how, _, name = value.partition(":")
        if how not in ("config", "env") or not name:
            raise BenchError(f"{CACHE_ENV}={value!r}: expected config:<key> or env:<VARIABLE>")
        return cls(how, name)

    def describe(self, cache_files: int) -> str:
        where = "netwarden's default place" if self.how == "default" else f"{self.how} {self.name}"
        if not cache_files:
            return f"no baseline cache was written ({where}): warm = a second run"
        return f"baseline cache at {where}: cold = empty, warm = filled by one run ({cache_files} file(s))"


@dataclass(frozen=True)
class Row:
    """A command's best figures on one estate and its ratios to the reference's (1.0 for the reference)."""
    estate: str
    kind: str
    wall_s: float
    wall_median_s: float
    cpu_s: float
    rss_mib: float
    wall_ratio: float
    cpu_ratio: float
    rss_ratio: float
    rounds: int
    cache_files: int = 0

    def extra_info(self) -> dict[str, Any]:
        return {"estate": self.estate, "child_wall_s": round(self.wall_s, 3),
                "child_wall_median_s": round(self.wall_median_s, 3), "cpu_s": round(self.cpu_s, 3),
                "peak_mib": round(self.rss_mib, 1), "wall_ratio": round(self.wall_ratio, 3),
                "cpu_ratio": round(self.cpu_ratio, 3), "rss_ratio": round(self.rss_ratio, 3)}


def clean_env(extra: Mapping[str, str] = {}) -> dict[str, str]:
    """This environment without netwarden's own variables (a developer's config must not leak in)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("NETWARDEN_", "CE_", "IBMCLOUD_", "IC_"))}
    env.pop("KUBECONFIG", None)
    return {**env, **extra}


def launch(argv: list[str], work: Path, env: Mapping[str, str], tag: str) -> Usage:
    """Run ``argv`` under the launcher in ``work``; its output goes to ``work/<tag>.out`` and ``.err``."""
    usage_file = work / f"{tag}.usage"
    usage_file.unlink(missing_ok=True)
    with (work / f"{tag}.out").open("wb") as out, (work / f"{tag}.err").open("wb") as err:
        launcher = subprocess.Popen([sys.executable, "-c", LAUNCHER, str(usage_file), *argv], cwd=work,
                                    stdin=subprocess.DEVNULL, stdout=out, stderr=err, env=dict(env),
                                    start_new_session=True)
    try:
        launcher.wait(timeout=HANG_GUARD_SECONDS)
    except subprocess.TimeoutExpired:
        os.killpg(launcher.pid, signal.SIGKILL)  # the session started here, by its leader's PID
        launcher.wait()
        raise BenchError(f"{tag}: still running after {HANG_GUARD_SECONDS:.0f} s") from None
    if not usage_file.exists():
        raise BenchError(f"{tag}: the launcher failed: {_last_line(work / f'{tag}.err')}")
    code, wall, cpu, rss = usage_file.read_text(encoding="utf-8").split()
    usage = Usage(int(code), float(wall), float(cpu), int(rss))
    if usage.code not in (0, 2):
        raise BenchError(f"{tag}: exit {usage.code}: {_last_line(work / f'{tag}.err')}")
    return usage


def _last_line(path: Path) -> str:
    lines = path.read_text(encoding="utf-8", errors="replace").strip().splitlines()
    return lines[-1][:300] if lines else "(nothing on stderr)"


class Bench:
    """The commands of the comparison on one estate (``baseline/`` and ``live.json`` in ``estate``),
    with ``work`` for their outputs and netwarden's cache."""

    def __init__(self, estate: Path, work: Path, cache: Cache) -> None:
        self.baseline, self.snapshot = estate / "baseline", estate / "live.json"
        for path in (self.baseline, self.snapshot):
            if not path.exists():
                raise BenchError(f"{path}: not found (write an estate with benchmarks/scale.py --out)")
        self.work, self.cache = work, cache
        self.cache_dir = work / "baseline-cache"
        self.config = work / "netwarden.yaml"
        if cache.how == "config":
            self.config.write_text(f"baseline: {json.dumps(str(self.baseline))}\n"
                                   f"{cache.name}: {json.dumps(str(self.cache_dir))}\n", encoding="utf-8")

    def argv(self, kind: str) -> list[str]:
        if kind == "reference":
            return [sys.executable, str(REFERENCE), "--baseline", str(self.baseline), "--snapshot", str(self.snapshot)]
        where = ["--config", str(self.config)] if self.cache.how == "config" else ["--baseline", str(self.baseline)]
        return [sys.executable, "-m", "netwarden", "check", *where, "--snapshot", str(self.snapshot),
                "--format", "json", "--out", str(self.report(kind))]

    def report(self, kind: str) -> Path:
        return self.work / f"report-{kind}.json"

    def run(self, kind: str) -> Usage:
        extra = {"XDG_CACHE_HOME": str(self.cache_dir)}
        if self.cache.how == "env":
            extra[self.cache.name] = str(self.cache_dir)
        return launch(self.argv(kind), self.work, clean_env(extra), kind)

    def cache_files(self) -> int:
        """How many files the last runs left in the cache directory."""
        return sum(1 for p in self.cache_dir.rglob("*") if p.is_file()) if self.cache_dir.exists() else 0

    def before_round(self, kind: str) -> None:
        """What each timed round of ``kind`` starts from: for a cold round, an empty cache."""
        if kind == "cold":
            self.empty_cache()

    def prepare(self, kind: str) -> None:
        """The untimed run before the rounds: the reference and a warm cache start from a first run."""
        if kind == "warm":
            self.empty_cache()
        if kind in ("reference", "warm"):
            self.run(kind)

    def empty_cache(self) -> None:
        shutil.rmtree(self.cache_dir, ignore_errors=True)
        self.cache_dir.mkdir(parents=True)

    def rounds(self, kind: str, n: int) -> list[Usage]:
        self.prepare(kind)
        usages = []
        for _ in range(n):
            self.before_round(kind)
            usages.append(self.run(kind))
        return usages

    def differing_count(self) -> int:
        """The reference's count of differing objects, from its last run's output."""
        line = (self.work / "reference.out").read_text(encoding="utf-8").strip().splitlines()[-1]
        return int(line.split()[0])

    def reports_agree(self) -> bool:
        """The cold and the warm runs reported the same, timestamps aside."""
        def load(kind: str) -> Any:
            report = json.loads(self.report(kind).read_text(encoding="utf-8"))
            report.pop("generated_at", None)
            return report
        return bool(load("cold") == load("warm"))


def drifted_objects(report: Mapping[str, Any]) -> set[tuple[str, ...]]:
    """The objects a netwarden report has findings on, under ``reference_check``'s keys."""
    keys: set[tuple[str, ...]] = set()
    for finding in report.get("findings") or []:
        r = finding["resource"]
        match r["kind"]:
            case "network-acl":
                keys.add(("acl", r["region"], r["vpc"], r["acl"]))
            case "subnet":
                keys.add(("subnet", r["region"], r["vpc"], r["subnet"]))
            case "network-policy":
                keys.add(("policy", r["cluster"], r["namespace"], r["name"]))
            case "namespace":
                keys.add(("namespace", r["cluster"], r["namespace"]))
            case "vpc":
                keys.add(("vpc", r["region"], r["vpc"]))
            case other:
                keys.add((other, *map(str, r.values())))
    return keys


def summarise(estate: str, kind: str, usages: list[Usage], reference: Usage | None, cache_files: int = 0) -> Row:
    """Best of ``usages``; ratios to ``reference`` (the reference's own best), or 1.0 for the reference."""
    best = best_of(usages)
    base = reference or best
    median = statistics.median(u.wall_s for u in usages)
    return Row(estate, kind, best.wall_s, median, best.cpu_s, best.rss_kib / 1024, best.wall_s / base.wall_s,
               best.cpu_s / base.cpu_s, best.rss_kib / base.rss_kib, len(usages), cache_files)


def best_of(usages: Iterable[Usage]) -> Usage:
    runs = list(usages)
    return Usage(0, min(u.wall_s for u in runs), min(u.cpu_s for u in runs), min(u.rss_kib for u in runs))


def table(rows: list[Row], cache: Cache) -> str:
    head = (f"{'estate':<8}{'command':<16}{'wall s':>8}{'median':>8}{'cpu s':>8}{'peak MiB':>10}{'wall x':>8}"
            f"{'cpu x':>7}{'memory x':>10}{'rounds':>8}")
    lines = [head, "-" * len(head)]
    lines += [f"{r.estate:<8}{LABELS[r.kind]:<16}{r.wall_s:>8.2f}{r.wall_median_s:>8.2f}{r.cpu_s:>8.2f}"
              f"{r.rss_mib:>10.1f}{r.wall_ratio:>8.2f}{r.cpu_ratio:>7.2f}{r.rss_ratio:>10.2f}{r.rounds:>8}"
              for r in rows]
    lines.append("best of the rounds (median: of wall time); x = netwarden / reference")
    lines.append(cache.describe(max((r.cache_files for r in rows if r.kind == "warm"), default=0)))
    return "\n".join(lines)


def compare(estate: Path, rounds: int, cache: Cache, label: str, work: Path) -> list[Row]:
    bench = Bench(estate, work, cache)
    measured, files = {}, {}
    for kind in KINDS:
        measured[kind] = bench.rounds(kind, rounds)
        files[kind] = bench.cache_files()
    if not bench.reports_agree():
        raise BenchError(f"{estate}: the cold and the warm reports differ ({bench.report('cold')}, "
                         f"{bench.report('warm')})")
    drifted = drifted_objects(json.loads(bench.report("warm").read_text(encoding="utf-8")))
    if len(drifted) != bench.differing_count():
        raise BenchError(f"{estate}: netwarden reports drift on {len(drifted)} objects, the reference "
                         f"{bench.differing_count()}: one of them is wrong")
    reference = best_of(measured["reference"])
    return [summarise(label, kind, measured[kind], None if kind == "reference" else reference, files[kind])
            for kind in KINDS]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--estate", type=Path, required=True, help="a directory holding baseline/ and live.json")
    parser.add_argument("--rounds", type=int, default=3, help="timed runs of each command (best is shown)")
    parser.add_argument("--label", help="the estate's name in the table (default: the directory's name)")
    parser.add_argument("--keep", type=Path, help="keep the commands' outputs in this directory")
    args = parser.parse_args(argv)
    try:
        cache = Cache.parse(os.environ.get(CACHE_ENV))
        with tempfile.TemporaryDirectory(prefix="netwarden-compare-") as scratch:
            work = args.keep or Path(scratch)
            work.mkdir(parents=True, exist_ok=True)
            rows = compare(args.estate.resolve(), max(1, args.rounds), cache, args.label or args.estate.name, work)
    except BenchError as e:
        print(f"compare: error: {e}", file=sys.stderr)
        return 1
    print(table(rows, cache))
    return 0


if __name__ == "__main__":
    sys.exit(main())
