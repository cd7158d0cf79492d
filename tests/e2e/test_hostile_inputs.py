"""Every hostile input of the corpus (``hostile_inputs.CASES``) is refused cleanly, as its own process.

The contract, for each case: the exit status (or the function's HTTP status) the case names; one line
on stderr besides structured log records (or the answer's ``error``) that names where the problem is
and stays short, never a traceback or an "internal error"; at most 2 s of CPU and 200 MiB of memory;
and nothing in the state store changes. Resources are read from the kernel's accounting of the
process (``getrusage`` of a small launcher's child), not timed in the test.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import signal
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest
from hostile_inputs import CASES, Case, Invocation, process_env

from netwarden.adapters.baseline_fs import read_baseline
from netwarden.core import lifecycle, snapshot_format

REPO = Path(__file__).resolve().parents[2]
MAX_CPU_SECONDS = 2.0
MAX_RSS_KIB = 200 * 1024
MAX_LINE = 1000
HANG_GUARD_SECONDS = 60.0
#: Runs argv[2:] and writes its peak memory (KiB) and CPU seconds to argv[1].
MEASURE = ("import resource, subprocess, sys\n"
           "code = subprocess.call(sys.argv[2:])\n"
           "u = resource.getrusage(resource.RUSAGE_CHILDREN)\n"
           "open(sys.argv[1], 'w').write(f'{u.ru_maxrss} {u.ru_utime + u.ru_stime}')\n"
           "sys.exit(code)\n")
FUNCTION = ("import json, sys\n"
            "from netwarden.entrypoints import function\n"
            "print(json.dumps(function.main(json.load(sys.stdin))))\n")


@dataclass(frozen=True)
class Outcome:
    code: int
    stdout: str
    stderr: str
    cpu_seconds: float
    max_rss_kib: int


def run(ws: Path, invocation: Invocation) -> Outcome:
    """Run the case as a grandchild under ``MEASURE`` and read its CPU time and peak memory from the
    kernel's accounting (a direct child would be charged the memory of this test process it forked from)."""
    if invocation.request is not None:
        argv = [sys.executable, "-c", FUNCTION]
        stdin = json.dumps(invocation.request).encode()
    else:
        argv = [sys.executable, "-m", "netwarden", *invocation.argv]
        stdin = b""
    (ws / ".stdin").write_bytes(stdin)
    usage_file = ws / ".usage"
    with (ws / ".stdin").open("rb") as i, (ws / ".stdout").open("wb") as o, (ws / ".stderr").open("wb") as e:
        launcher = subprocess.Popen([sys.executable, "-c", MEASURE, str(usage_file), *argv], cwd=ws, stdin=i,
                                    stdout=o, stderr=e, env=process_env(ws, invocation.env), start_new_session=True)
    try:
        code = launcher.wait(timeout=HANG_GUARD_SECONDS)
    except subprocess.TimeoutExpired:
        os.killpg(launcher.pid, signal.SIGKILL)  # the session this test started, by its leader's PID
        launcher.wait()
        raise
    max_rss_kib, cpu_seconds = usage_file.read_text(encoding="utf-8").split()
    return Outcome(code, text(ws / ".stdout"), text(ws / ".stderr"), float(cpu_seconds), int(max_rss_kib))


def text(path: Path) -> str:
    return path.read_bytes().decode("utf-8", "replace")


def is_log_record(line: str) -> bool:
    """A structured log line (the job and event commands log JSON lines to stderr, as Code Engine keeps them)."""
    try:
        record = json.loads(line)
    except ValueError:
        return False
    return isinstance(record, dict) and {"time", "level", "message"} <= record.keys() and "Traceback" not in line


def digest(root: Path) -> dict[str, str]:
    return {p.relative_to(root).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(root.rglob("*")) if p.is_file() and not p.is_symlink()}


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A valid workspace: the recipe baseline, a snapshot in sync with it, a config, a state store."""
    ws = tmp_path_factory.mktemp("workspace")
    shutil.copytree(REPO / "baseline", ws / "baseline")
    (ws / "snapshot.json").write_text(snapshot_format.dumps(read_baseline(ws / "baseline")), encoding="utf-8")
    (ws / "netwarden.yaml").write_text(
        "baseline: baseline\nstate: file://state\nibmcloud:\n  regions: [us-south]\n"
        "  vpc_url: https://{region}.iaas.cloud.ibm.com/v1\n", encoding="utf-8")
    (ws / "state").mkdir()
    (ws / "state" / "findings.json").write_text(json.dumps(lifecycle.states_to_dict({})), encoding="utf-8")
    (ws / "state" / "runs.jsonl").write_text('{"run": "earlier"}\n', encoding="utf-8")
    return ws


def test_the_corpus_is_large_and_covers_every_surface() -> None:
    assert len(CASES) >= 60
    assert len({c.id for c in CASES}) == len(CASES)
    assert {c.surface for c in CASES} == {"baseline", "config", "environment", "snapshot", "event", "function"}


def test_a_valid_workspace_passes(template: Path, tmp_path: Path) -> None:
    """The control: the same workspace, unchanged, checks clean, so each case fails for its own input."""
    ws = tmp_path / "ws"
    shutil.copytree(template, ws, symlinks=True)
    outcome = run(ws, Invocation(("check", "--config", "netwarden.yaml", "--snapshot", "snapshot.json")))
    assert (outcome.code, outcome.stderr) == (0, "")
    assert run(ws, Invocation(("baseline", "lint", "baseline", "--config", "netwarden.yaml"))).code == 0


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_hostile_input_is_refused_cleanly(case: Case, template: Path, tmp_path: Path) -> None:
    ws = tmp_path / "ws"
    shutil.copytree(template, ws, symlinks=True)
    invocation = case.make(ws)
    state_before = digest(ws / "state")
    outcome = run(ws, invocation)

    if invocation.request is not None:
        assert outcome.code == 0, outcome.stderr[-2000:]
        answer = json.loads(outcome.stdout)
        assert answer["statusCode"] == case.status, answer
        line = str(answer["body"]["error"])
        assert "\n" not in line
    else:
        assert outcome.code == case.status, outcome.stderr[-2000:]
        assert outcome.stdout == ""
        lines = [line for line in outcome.stderr.strip().splitlines() if not is_log_record(line)]
        assert len(lines) == 1, outcome.stderr[-2000:]
        line = lines[0]
        assert line.startswith("netwarden: error: "), line
    assert "Traceback" not in outcome.stderr
    assert "internal error" not in line
    assert len(line) <= MAX_LINE, line[:300]
    assert case.where in line, line
    assert "corpus-api-key" not in outcome.stderr + outcome.stdout
    assert outcome.cpu_seconds <= MAX_CPU_SECONDS, f"{outcome.cpu_seconds:.2f} s of CPU"
    assert outcome.max_rss_kib <= MAX_RSS_KIB, f"{outcome.max_rss_kib // 1024} MiB"
    assert digest(ws / "state") == state_before
