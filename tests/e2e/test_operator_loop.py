"""The on-call questions, as the CLI answers them on the emulators: who made this change (an ACL rule
added with an operator's own API key, named in the Slack alert, the JSON report and the history), and
how drift has developed (``netwarden history``)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from ce_deployment import Deployment, by_name, delete_rule, deploy

from netwarden.fakes.iam import OPERATOR_API_KEY, OPERATOR_EMAIL

ACL = "iks-cluster-us-south-1-acl"
SSH_RULE = {"name": "ssh-from-anywhere", "action": "allow", "direction": "inbound", "protocol": "tcp",
            "source": "0.0.0.0/0", "destination": "0.0.0.0/0", "destination_port_min": 22,
            "destination_port_max": 22, "source_port_min": 1, "source_port_max": 65535}


@pytest.fixture
def recipe(fake: Any, tmp_path: Path) -> Deployment:
    return deploy(fake, tmp_path)


def netwarden(d: Deployment, *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("NETWARDEN_", "SLACK_", "IBMCLOUD_"))}
    return subprocess.run([sys.executable, "-m", "netwarden", *args], env={**env, **d.env}, cwd=d.root,
                          capture_output=True, text=True, timeout=120, check=False)


def add_rule_as_operator(d: Deployment) -> dict[str, Any]:
    """The operator, with their own API key, adds an SSH rule at the top of the ACL; the event it logged."""
    seen = len(d.events())
    sdk = d.sdk(api_key=OPERATOR_API_KEY)
    acl = by_name(sdk.list_network_acls().get_result()["network_acls"], ACL)
    sdk.create_network_acl_rule(acl["id"], {**SSH_RULE, "before": {"id": acl["rules"][0]["id"]}})
    [event] = [e for e in d.events(seen) if e["action"] == "is.network-acl.rule.create"]
    return event


def test_an_operators_rule_names_them_in_slack_the_json_report_and_the_history(recipe: Deployment) -> None:
    event = add_rule_as_operator(recipe)
    assert event["initiator"]["name"] == OPERATOR_EMAIL
    payload = recipe.root / "event.json"
    payload.write_text(json.dumps(event), encoding="utf-8")
    ran = netwarden(recipe, "event", "--payload", str(payload))
    assert ran.returncode == 0, ran.stderr

    [message] = recipe.slack()
    assert f"changed by {OPERATOR_EMAIL} (user)" in json.dumps(message)

    scanned = netwarden(recipe, "scan")  # a later scan names nobody, and the finding keeps its initiator
    assert scanned.returncode == 0, scanned.stderr
    checked = netwarden(recipe, "check", "-o", "json")
    assert checked.returncode == 2, checked.stderr
    [finding] = [f for f in json.loads(checked.stdout)["findings"] if f["code"] == "acl-rule-unexpected"]
    assert finding["initiator"]["name"] == OPERATOR_EMAIL and finding["initiator"]["kind"] == "user"
    assert finding["initiator"]["event_id"] == event["id"]

    shown = netwarden(recipe, "history", "-o", "json")
    assert shown.returncode == 0, shown.stderr
    history = json.loads(shown.stdout)
    assert history["runs"] == 2 and history["by_kind"] == {"event": 1, "scan": 1}
    [change] = history["changes"]
    assert change["code"] == "acl-rule-unexpected" and change["who"].startswith(f"{OPERATOR_EMAIL} (user) at ")
    text = netwarden(recipe, "history", "--since", "1d")
    assert text.returncode == 0 and f"by {OPERATOR_EMAIL} (user)" in " ".join(text.stdout.split())
    assert max(len(line) for line in text.stdout.splitlines()) <= 80


def test_a_finding_no_event_explained_says_who_is_not_known(recipe: Deployment) -> None:
    delete_rule(recipe.sdk())
    assert netwarden(recipe, "scan").returncode == 0
    assert "who: not known" in json.dumps(recipe.slack())
    checked = netwarden(recipe, "check", "-o", "json")
    [finding] = json.loads(checked.stdout)["findings"]
    assert finding["initiator"] is None
    text = netwarden(recipe, "check")
    assert "who: not known (no Activity Tracker event named who)" in " ".join(text.stdout.split())


def test_history_counts_opened_and_resolved_and_the_time_to_resolve(recipe: Deployment) -> None:
    delete_rule(recipe.sdk())
    assert netwarden(recipe, "scan").returncode == 0
    assert netwarden(recipe, "remediate", "--apply").returncode == 0
    assert netwarden(recipe, "scan").returncode == 0
    history = json.loads(netwarden(recipe, "history", "--since", "30d", "-o", "json").stdout)
    assert (history["runs"], history["opened"], history["resolved"]) == (2, 1, 1)
    assert history["most_drifted"] == [{"resource": history["resolutions"][0]["resource"], "changes": 1}]
    assert history["median_time_to_resolve_s"] is not None and history["median_time_to_resolve_s"] >= 0
    page = netwarden(recipe, "history", "-o", "html", "--out", "history.html")
    assert page.returncode == 0 and "wrote the html history (2 run(s))" in page.stderr
    html = (recipe.root / "history.html").read_text(encoding="utf-8")
    assert "Content-Security-Policy" in html and "Resolved" in html and "<script" not in html


@pytest.mark.parametrize(("args", "message"), [
    (("--since", "forever"), "--since: 'forever' is not a duration"),
    (("-o", "yaml"), "invalid choice"),
])
def test_bad_history_arguments_are_one_line(recipe: Deployment, args: tuple[str, ...], message: str) -> None:
    ran = netwarden(recipe, "history", *args)
    assert ran.returncode in (1, 2) and message in ran.stderr and "Traceback" not in ran.stderr


def test_baseline_lint_with_the_config_reports_stale_suppressions_at_their_lines(fake: Any, tmp_path: Path) -> None:
    soon = (datetime.now(UTC).date() + timedelta(days=3)).isoformat()
    d = deploy(fake, tmp_path, config={"suppressions": [
        {"code": "acl-rule-missing", "resource": "us-south/*", "reason": "NET-4 rollout", "expires": soon},
        {"code": "subnet-allow-all", "resource": "us-south/*", "reason": "migration"},
        {"code": "acl-rule-unexpected", "resource": "eu-de/*", "reason": "old", "expires": "2026-01-01"}]})
    lines = [i for i, text in enumerate(d.config.read_text().splitlines(), 1) if text.lstrip().startswith("- code:")]
    before = netwarden(d, "-c", str(d.config), "baseline", "lint")  # no scan yet: matching is not judged
    assert before.returncode == 2, before.stderr
    assert "whether each suppression matches a finding was not checked: no scan has recorded findings" in before.stdout

    delete_rule(d.sdk())
    assert netwarden(d, "scan").returncode == 0
    ran = netwarden(d, "baseline", "lint", "--config", str(d.config))
    assert ran.returncode == 2, ran.stderr
    said = [line for line in ran.stdout.splitlines() if ": suppression-" in line]
    assert said == [
        f"{d.config}:{lines[2]}: suppression-expired: acl-rule-unexpected eu-de/*: expired on 2026-01-01, it no longer "
        "suppresses; renew it or remove it",
        f"{d.config}:{lines[0]}: suppression-expiring: acl-rule-missing us-south/*: expires in 3 days ({soon})",
        f"{d.config}:{lines[1]}: suppression-matches-nothing: subnet-allow-all us-south/*: matches no current finding",
        f"{d.config}:{lines[2]}: suppression-matches-nothing: acl-rule-unexpected eu-de/*: matches no current finding"]
    plain = netwarden(d, "baseline", "lint")  # without --config, the baseline alone
    assert plain.returncode == 0 and "suppression-" not in plain.stdout
