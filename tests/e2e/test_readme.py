"""The README's commands run as shown: a newcomer copying them must get what the README says.

Every ```sh block is extracted and run with bash (``set -e``) in a scratch copy of what the README
assumes (the repository root: ``baseline/`` and ``.venv/``), except the first, whose ``make``
targets are checked to exist (``make demo`` is run by ``test_demo``; ``make test`` is what runs
this). The YAML blocks of the configuration sections must load as netwarden configs.
"""

from __future__ import annotations

import os
import re
import shutil
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
    work = tmp_path / "repo"
    work.mkdir()
    shutil.copytree(ROOT / "baseline", work / "baseline")
    (work / "benchmarks").symlink_to(ROOT / "benchmarks")
    (work / ".venv").symlink_to(ROOT / ".venv")
    return work


def _run(script: str, cwd: Path, timeout: int) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("NETWARDEN")}
    env["PATH"] = f"{ROOT / '.venv' / 'bin'}{os.pathsep}{env.get('PATH', '')}"
    return subprocess.run(["bash", "-e", "-c", script], cwd=cwd, env=env, capture_output=True, text=True,
                          timeout=timeout, check=False)


def test_try_it_on_the_emulators(tmp_path: Path) -> None:
    script = next(b for b in SH if "fake serve" in b)
    if "kubectl" in script and shutil.which("kubectl") is None:
        pytest.skip("kubectl is not installed: the README's emulator walk-through uses it")
    work = _scratch(tmp_path)
    try:
        result = _run(script, work, timeout=240)
    finally:
        subprocess.run(["pkill", "-f", "fake serve --port 8765"], check=False)
    assert result.returncode == 0, result.stdout + result.stderr
    out = result.stdout
    assert "in sync: no drift" in out
    assert "`netpol-missing`" in out and "exit 2 (2: drift)" in out
    assert "exit 2 (2: a plan, nothing written)" in out
    assert "Verification (fresh snapshot): in sync" in out
    assert (work / "report.json").is_file() and '"status": "in_sync"' in (work / "report.json").read_text()


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
