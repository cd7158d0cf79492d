"""``netwarden fake serve`` as a user runs it: a process that serves a scenario, writes a config pointing at
it, prints one line with its URL, and stops cleanly on SIGTERM; with ``--detach``, a command that returns
once the emulators serve, or fails with their error, never waiting past ``--ready-timeout``."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
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
    process = serve(tmp_path, "--scenario", "recipe", "--write-config", "netwarden.yaml", "--pid-file", "fake.pid")
    try:
        assert process.stdout is not None
        line = process.stdout.readline()
        assert (tmp_path / "fake.pid").read_text() == f"{process.pid}\n"
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
    assert not (tmp_path / "fake.pid").exists()


def test_an_unknown_scenario_is_one_line_and_exit_1(tmp_path: Path) -> None:
    process = serve(tmp_path, "--scenario", "huge")
    out, err = process.communicate(timeout=60)
    assert process.returncode == 1 and out == ""
    assert err == "netwarden: error: unknown scenario 'huge' (expected recipe, none or large:N)\n"


def detach(tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "NETWARDEN_BASELINE": str(BASELINE)}
    return subprocess.run([sys.executable, "-m", "netwarden", "fake", "serve", "--port", "0", "--detach", *args],
                          cwd=tmp_path, env=env, capture_output=True, text=True, timeout=180, check=False)


def test_detach_returns_once_serving_and_the_pid_file_stops_it(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                                              monkeypatch: pytest.MonkeyPatch) -> None:
    run = detach(tmp_path, "--scenario", "recipe", "--write-config", ".netwarden/netwarden.yaml",
                 "--pid-file", ".netwarden/fake.pid")
    pid_file = tmp_path / ".netwarden" / "fake.pid"
    pid = int(pid_file.read_text()) if pid_file.is_file() else None
    try:
        assert run.returncode == 0, run.stderr
        assert run.stderr == ""
        serving, stopping = run.stdout.splitlines()
        assert serving.startswith("netwarden fake: serving http://127.0.0.1:") and serving.endswith("(scenario recipe)")
        assert stopping == f'netwarden fake: pid {pid}; stop it with: kill "$(cat .netwarden/fake.pid)"'
        monkeypatch.setenv(API_KEY_ENV, "fake-apikey")
        config = tmp_path / ".netwarden" / "netwarden.yaml"
        assert cli.main(["check", "--config", str(config)]) == 0, capsys.readouterr()
    finally:
        if pid is not None:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGTERM)
    for _ in range(600):  # a bounded wait for the server to stop; it removes its pid file as it goes
        if not pid_file.exists():
            break
        time.sleep(0.1)
    assert not pid_file.exists()


@pytest.mark.parametrize(("args", "error"), [
    (["--scenario", "huge"], "netwarden: error: unknown scenario 'huge' (expected recipe, none or large:N)"),
    (["--scenario", "none", "--host", "256.0.0.1"], "netwarden: error: cannot listen on 256.0.0.1:0: "),
    (["--scenario", "none", "--ready-timeout", "0.001"],
     "netwarden: error: fake serve did not serve within 0.001 s (--ready-timeout); stopped it"),
    (["--scenario", "none", "--ready-timeout", "0"], "netwarden: error: --ready-timeout: expected a number of "
                                                      "seconds > 0"),
], ids=["serve-fails", "cannot-listen", "not-serving-in-time", "no-time"])
def test_detach_fails_with_one_line_and_leaves_nothing_running(tmp_path: Path, args: list[str], error: str) -> None:
    run = detach(tmp_path, "--pid-file", "fake.pid", *args)
    assert run.returncode == 1 and run.stdout == ""
    assert run.stderr.splitlines() == [run.stderr.strip()] and run.stderr.startswith(error), run.stderr
    assert not (tmp_path / "fake.pid").exists()
