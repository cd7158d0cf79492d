"""The README's commands run as shown: a newcomer copying them must get what the README says.

Every ```sh block is extracted and run with bash (``set -e``) in a scratch git repository holding
what the README assumes (the repository root: ``baseline/``, ``.venv/``, ``.gitignore``), except the
first, whose ``make`` targets are checked to exist (``make demo`` is run by ``test_demo``; ``make
test`` is what runs this). The emulator walk-through must leave ``git status`` clean, must fail at
once (never wait) when the emulators cannot start, and each run ends only the processes it started.
The YAML blocks of the configuration sections must load as netwarden configs.
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import signal
import socket
import subprocess
from pathlib import Path

import pytest

from netwarden.config import Settings

ROOT = Path(__file__).resolve().parents[2]
README = (ROOT / "README.md").read_text(encoding="utf-8")
BLOCK = re.compile(r"^( *)```(\w*)\n(.*?)^\1```", re.S | re.M)


def blocks(lang: str) -> list[str]:
    return [_dedent(m.group(3), len(m.group(1))) for m in BLOCK.finditer(README) if m.group(2) == lang]


def _dedent(text: str, width: int) -> str:
    return "\n".join(line[width:] for line in text.splitlines())


SH = blocks("sh")


def test_readme_starts_with_the_two_commands() -> None:
    first = SH[0].splitlines()
    assert [line.split("#")[0].strip() for line in first] == ["make demo", "make test"]
    makefile = (ROOT / "Makefile").read_text()
    for target in ("demo", "test"):
        assert re.search(rf"^{target}:", makefile, re.M), target


def _scratch(tmp_path: Path) -> Path:
    """A git repository holding what the README assumes of the root (``baseline/``, ``.venv/``, the
    ``.gitignore``), committed: ``git status`` after a walk-through shows what it left behind."""
    work = tmp_path / "repo"
    work.mkdir()
    shutil.copytree(ROOT / "baseline", work / "baseline")
    shutil.copy2(ROOT / ".gitignore", work / ".gitignore")
    (work / "benchmarks").symlink_to(ROOT / "benchmarks")
    (work / ".venv").symlink_to(ROOT / ".venv")
    for command in (["init", "-q"], ["add", "-A"], ["-c", "user.name=readme", "-c", "user.email=readme@example.com",
                                                    "commit", "-q", "-m", "the root the README assumes"]):
        subprocess.run(["git", *command], cwd=work, check=True, capture_output=True)
    return work


def _run(script: str, cwd: Path, timeout: int) -> subprocess.CompletedProcess[str]:
    """Run ``script`` with bash in a process group of its own, and end that group (by the PID of the bash
    this started) when the script is done or its time is up: nothing it left running outlives the test,
    and nothing else is touched. Output goes to files, which a process left running cannot hold open."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("NETWARDEN")}
    env["PATH"] = f"{ROOT / '.venv' / 'bin'}{os.pathsep}{env.get('PATH', '')}"
    out, err = cwd.parent / "stdout.txt", cwd.parent / "stderr.txt"
    with out.open("w") as stdout, err.open("w") as stderr:
        process = subprocess.Popen(["bash", "-e", "-c", script], cwd=cwd, env=env, stdout=stdout, stderr=stderr,
                                   text=True, start_new_session=True)
        try:
            code = process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            code = -1
        finally:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGTERM)
            process.wait()
    return subprocess.CompletedProcess(process.args, code, out.read_text(), err.read_text())


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _emulator_walk_through() -> str:
    script = next(b for b in SH if "fake serve" in b)
    if "kubectl" in script and shutil.which("kubectl") is None:
        pytest.skip("kubectl is not installed: the README's emulator walk-through uses it")
    return script


def test_try_it_on_the_emulators(tmp_path: Path) -> None:
    script = _emulator_walk_through().replace("8765", str(_free_port()))  # the README's port may be in use
    work = _scratch(tmp_path)
    result = _run(script, work, timeout=240)
    assert result.returncode == 0, result.stdout + result.stderr
    out = result.stdout
    assert "in sync: no drift" in out
    assert "`netpol-missing`" in out and "exit 2 (2: drift)" in out
    assert "exit 2 (2: a plan, nothing written)" in out
    assert "Verification (fresh snapshot): in sync" in out
    report = work / ".netwarden" / "report.json"
    assert report.is_file() and '"status": "in_sync"' in report.read_text()
    status = subprocess.run(["git", "status", "--porcelain", "--untracked-files=all", "--ignored=no"], cwd=work,
                            capture_output=True, text=True, check=True)
    assert status.stdout == "", "the walk-through leaves files git would show:\n" + status.stdout


def test_the_walk_through_fails_at_once_when_the_emulators_cannot_start(tmp_path: Path) -> None:
    """Its port taken, the walk-through stops at its first command with the reason, instead of waiting."""
    script = _emulator_walk_through()
    work = _scratch(tmp_path)
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        result = _run(script.replace("8765", str(taken.getsockname()[1])), work, timeout=120)
    assert result.returncode == 1, result.stdout + result.stderr
    assert "netwarden: error: cannot listen on 127.0.0.1:" in result.stderr
    assert result.stdout == ""
    assert not (work / ".netwarden" / "netwarden.yaml").exists()


def test_the_walk_through_waits_boundedly_and_stops_only_what_it_started() -> None:
    script = _emulator_walk_through()
    serve = [line for line in script.replace("\\\n", " ").splitlines() if "fake serve" in line]
    assert serve and all("--detach" in line and "--ready-timeout" in line and "--pid-file" in line for line in serve)
    assert not re.search(r"\b(until|while)\b|&\s*$|pkill|killall|kill %", script, re.M)
    assert 'kill "$(cat .netwarden/fake.pid)"' in script


@pytest.mark.slow
def test_performance_reproduction_runs(tmp_path: Path) -> None:
    script = next(b for b in SH if "benchmarks/scale.py" in b)
    if "/usr/bin/time" in script and not Path("/usr/bin/time").exists():
        pytest.skip("/usr/bin/time is not installed (Debian package time): the README measures with it")
    work = _scratch(tmp_path)
    result = _run(script.replace("/var/tmp/", f"{tmp_path}/"), work, timeout=900)
    assert result.returncode == 0, result.stdout + result.stderr
    assert '"status"' in (tmp_path / "scale-10" / "report.json").read_text()


@pytest.mark.parametrize("text", [b for b in blocks("yaml") if "ibmcloud:" in b])
def test_config_examples_load(tmp_path: Path, text: str) -> None:
    path = tmp_path / "netwarden.yaml"
    path.write_text(text)
    settings = Settings.load(path, environ={})
    assert settings.ibmcloud is not None and settings.ibmcloud.regions
