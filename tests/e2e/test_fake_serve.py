"""``netwarden fake serve`` as a user runs it: a process that serves a scenario, writes a config pointing at
it, prints one line with its URL, and stops cleanly on SIGTERM."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from netwarden.entrypoints import cli
from netwarden.fakes.scenarios import API_KEY_ENV

BASELINE = Path(__file__).resolve().parents[2] / "baseline"


def serve(tmp_path: Path, *args: str) -> subprocess.Popen[str]:
    env = {**os.environ, "NETWARDEN_BASELINE": str(BASELINE)}
    return subprocess.Popen([sys.executable, "-m", "netwarden", "fake", "serve", "--port", "0", *args],
                            cwd=tmp_path, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def test_serve_the_recipe_write_a_config_check_it_and_stop(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                                           monkeypatch: pytest.MonkeyPatch) -> None:
    process = serve(tmp_path, "--scenario", "recipe", "--write-config", "netwarden.yaml")
    try:
        assert process.stdout is not None
        line = process.stdout.readline()
        assert line.startswith("netwarden fake: serving http://127.0.0.1:") and line.endswith("(scenario recipe)\n")
        url = line.split()[3]
        config = yaml.safe_load((tmp_path / "netwarden.yaml").read_text())
        assert config["ibmcloud"] == {"regions": ["us-south"], "api_key_env": API_KEY_ENV,
                                      "vpc_url": f"{url}/vpc/{{region}}/v1", "iam_url": f"{url}/iam",
                                      "resource_manager_url": f"{url}/rm"}
        assert config["baseline"] == str(BASELINE)
        monkeypatch.setenv(API_KEY_ENV, "fake-apikey")
        code = cli.main(["check", "--config", str(tmp_path / "netwarden.yaml")])
        assert code == 0, capsys.readouterr()
    finally:
        process.send_signal(signal.SIGTERM)
        out, err = process.communicate(timeout=30)
    assert process.returncode == 0, err
    assert out == "" and err == ""


def test_an_unknown_scenario_is_one_line_and_exit_1(tmp_path: Path) -> None:
    process = serve(tmp_path, "--scenario", "huge")
    out, err = process.communicate(timeout=60)
    assert process.returncode == 1 and out == ""
    assert err == "netwarden: error: unknown scenario 'huge' (expected recipe, none or large:N)\n"
