"""``netwarden scan`` as a user runs it, on the recipe estate in the emulators: JSON log lines on a
non-terminal stderr, alerts to the Slack and Event Notifications emulators, exit codes, and a Slack
outage that the next scan makes up for."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from ce_deployment import Deployment, delete_rule, deploy

from netwarden.adapters.state_file import FileStateStore
from netwarden.app import scan
from netwarden.entrypoints import cli

SLACK_URL_PATH = "/slack/services/T0E2E/B0E2E/e2eS3cretToken"


@pytest.fixture
def recipe(fake: Any, tmp_path: Path) -> Deployment:
    d = deploy(fake, tmp_path, slack=False, config={"notify": {
        "slack": {"webhook_url_env": "NW_TEST_SLACK"},
        "event_notifications": {"instance_id": "en-e2e", "url": f"{fake.url}/en", "source_id": "src-e2e",
                                "api_key_env": "NW_TEST_API_KEY"},
        "remind_after": "24h"}})
    d.env["NW_TEST_SLACK"] = fake.url + SLACK_URL_PATH
    return d


def netwarden(d: Deployment, *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("NETWARDEN_", "SLACK_", "IBMCLOUD_"))}
    return subprocess.run([sys.executable, "-m", "netwarden", *args], env={**env, **d.env}, cwd=d.root,
                          capture_output=True, text=True, timeout=120, check=False)


def in_process(d: Deployment, monkeypatch: pytest.MonkeyPatch, *args: str) -> int:
    monkeypatch.chdir(d.root)
    for key, value in d.env.items():
        monkeypatch.setenv(key, value)
    return cli.main(["scan", *args])


def test_scan_command_alerts_once_and_logs_json_lines(recipe: Deployment, monkeypatch: pytest.MonkeyPatch) -> None:
    delete_rule(recipe.sdk())
    first = netwarden(recipe, "scan")
    assert first.returncode == 0, first.stderr
    lines = [json.loads(line) for line in first.stderr.splitlines()]
    assert {line["level"] for line in lines} <= {"info", "warning"}
    run_ids = {line.get("run_id") for line in lines} - {None}
    assert len(run_ids) == 1
    summary = lines[-1]
    assert summary["status"] == "drift" and summary["message"].startswith(f"scan {run_ids.pop()}: drift, 1 finding")
    assert "e2eS3cretToken" not in first.stderr and "fake-apikey" not in first.stderr
    assert len(recipe.slack()) == 1
    assert "allow-workers-us-south-2-inbound" in json.dumps(recipe.slack()[0])
    (notification,) = recipe.get("/_fake/en")["notifications"]
    assert notification["body"]["ibmenseverity"] in ("HIGH", "MEDIUM")

    assert in_process(recipe, monkeypatch) == 0
    assert len(recipe.slack()) == 1
    history = scan.read_history(FileStateStore(recipe.root / "state"))
    assert [h["transitions"] for h in history] == [{"new": 1}, {"ongoing": 1}]


def test_slack_down_for_one_scan(recipe: Deployment, monkeypatch: pytest.MonkeyPatch,
                                 capsys: pytest.CaptureFixture[str]) -> None:
    delete_rule(recipe.sdk())
    recipe.fake.cloud.add_fault({"path": "^/slack", "status": 503, "retry_after": 0})  # no waits between retries
    assert in_process(recipe, monkeypatch) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1
    assert err[0].startswith("netwarden: error: scan ")
    assert "alerts for slack not delivered" in err[0] and "1 pending for the next run" in err[0]
    assert "e2eS3cretToken" not in err[0]
    assert recipe.slack() == [] and len(recipe.get("/_fake/en")["notifications"]) == 1

    recipe.fake.cloud.faults.clear()
    assert in_process(recipe, monkeypatch) == 0
    assert len(recipe.slack()) == 1
    assert len(recipe.get("/_fake/en")["notifications"]) == 1


def test_scan_in_sync_sends_nothing_and_a_bad_state_url_is_one_line(recipe: Deployment,
                                                                   monkeypatch: pytest.MonkeyPatch,
                                                                   capsys: pytest.CaptureFixture[str]) -> None:
    assert in_process(recipe, monkeypatch) == 0
    assert recipe.slack() == []
    monkeypatch.setenv("NETWARDEN_STATE", "s3://bucket/x")
    capsys.readouterr()
    assert in_process(recipe, monkeypatch) == 1
    (line,) = capsys.readouterr().err.strip().splitlines()
    assert line == (f"netwarden: error: {recipe.config}: state: 's3://bucket/x' is not file://DIRECTORY or "
                    "cos://BUCKET/PREFIX")
