"""``remediation.mode: approve`` on the emulators, as the Code Engine job runs it: the scheduled scan stores a plan
for the codes ``remediation.auto`` lists and alerts Slack with its id and how to approve it, instead of
applying; later scans of the same drift keep that one plan; nothing is written until ``netwarden remediate
--approve ID``, which applies it once."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from ce_deployment import Deployment, delete_rule, deploy, rule_names

from netwarden.entrypoints import job

ACL = "iks-cluster-us-south-1-acl"
CRON = {"CE_TYPE": "dev.knative.sources.ping", "CE_DATA": "{}", "JOB_INDEX": "0", "JOB_ARRAY_SIZE": "1"}
NOTE = re.compile(r"remediation plan ([0-9a-f]{16}) awaits approval: netwarden remediate --approve \1 "
                  r"\(or the function's apply request with plan_id \1\)")


def scan(d: Deployment, monkeypatch: pytest.MonkeyPatch) -> int:
    for key, value in {**d.env, **CRON}.items():
        monkeypatch.setenv(key, value)
    return job.main()


def netwarden(d: Deployment, *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("NETWARDEN_", "SLACK_", "IBMCLOUD_", "CE_"))}
    return subprocess.run([sys.executable, "-m", "netwarden", *args], env={**env, **d.env}, cwd=d.root,
                          capture_output=True, text=True, timeout=120, check=False)


def plan_files(d: Deployment) -> list[str]:
    return sorted(p.name for p in (d.root / "state" / "plans").glob("*.json"))


@pytest.fixture
def approve_mode(fake: Any, tmp_path: Path) -> Deployment:
    return deploy(fake, tmp_path, config={"remediation": {"mode": "approve", "auto": ["acl-rule-missing"]}})


def test_a_scan_alerts_a_plan_to_approve_and_nothing_is_applied_until_it_is(approve_mode: Deployment,
                                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    d, sdk = approve_mode, approve_mode.sdk()
    expected = rule_names(sdk, ACL)
    delete_rule(sdk)
    drifted = rule_names(sdk, ACL)
    assert scan(d, monkeypatch) == 0
    [plan_id] = {m.group(1) for m in NOTE.finditer(json.dumps(d.slack()))}
    assert plan_files(d) == [f"{plan_id}.json"]
    assert rule_names(sdk, ACL) == drifted, "approve mode applies nothing"
    history = [json.loads(p.read_text()) for p in sorted((d.root / "state").rglob("*.json")) if "history" in p.parts]
    assert any((h.get("remediation") or {}).get("plan_id") == plan_id for h in history)

    sent = len(d.slack())
    assert scan(d, monkeypatch) == 0
    assert plan_files(d) == [f"{plan_id}.json"], "the same drift: the same plan, not one per scan"
    assert len(d.slack()) == sent and rule_names(sdk, ACL) == drifted

    approved = netwarden(d, "remediate", "--approve", plan_id)
    assert approved.returncode == 0, approved.stderr
    assert approved.stdout.startswith("netwarden remediate: applied and verified: in sync with the baseline")
    assert rule_names(sdk, ACL) == expected

    again = netwarden(d, "remediate", "--approve", plan_id)
    assert again.returncode == 1 and again.stdout == ""
    assert again.stderr.strip().startswith(f"netwarden: error: plan {plan_id} was applied already (run cli-")

    assert scan(d, monkeypatch) == 0
    assert "resolved" in json.dumps(d.slack()[sent:]).lower()


def test_a_plan_of_a_state_that_moved_is_refused_on_approval(approve_mode: Deployment,
                                                             monkeypatch: pytest.MonkeyPatch) -> None:
    d, sdk = approve_mode, approve_mode.sdk()
    delete_rule(sdk)
    assert scan(d, monkeypatch) == 0
    [plan_id] = {m.group(1) for m in NOTE.finditer(json.dumps(d.slack()))}
    delete_rule(sdk, "iks-cluster-us-south-2-acl", "deny-all-inbound")
    before = rule_names(sdk, ACL)
    refused = netwarden(d, "remediate", "--approve", plan_id)
    assert refused.returncode == 1
    assert ("netwarden: error: remediation refused: the live state has moved since the plan was made: "
            "us-south/iks-vpc changed after") in refused.stderr
    assert rule_names(sdk, ACL) == before
    assert scan(d, monkeypatch) == 0
    assert len(plan_files(d)) == 2, "the state moved: the next scan stores a new plan"


def test_an_event_stores_a_plan_to_approve_and_the_next_scan_keeps_it(approve_mode: Deployment,
                                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    from test_job import kafka_env

    d, sdk = approve_mode, approve_mode.sdk()
    expected = rule_names(sdk, ACL)
    seen = len(d.events())
    delete_rule(sdk)
    drifted = rule_names(sdk, ACL)
    [event] = d.events(seen)
    for key, value in {**d.env, **kafka_env(event)}.items():
        monkeypatch.setenv(key, value)
    assert job.main() == 0
    [plan_id] = {m.group(1) for m in NOTE.finditer(json.dumps(d.slack()))}
    assert plan_files(d) == [f"{plan_id}.json"] and rule_names(sdk, ACL) == drifted

    sent = len(d.slack())
    assert scan(d, monkeypatch) == 0
    assert plan_files(d) == [f"{plan_id}.json"], "the scan of the same drift finds the event's plan pending"
    assert len(d.slack()) == sent

    approved = netwarden(d, "remediate", "--approve", plan_id)
    assert approved.returncode == 0, approved.stderr
    assert rule_names(sdk, ACL) == expected
