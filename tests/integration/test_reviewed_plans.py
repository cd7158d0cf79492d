"""Reviewed plans end to end on the emulators: ``netwarden remediate --out plan.json`` (the CLI, in process), then
``--apply-plan plan.json``, with drift made through the ibm-vpc SDK and the kubernetes client.

For every kind of drift that has a remediation (``test_remediation.GROUPS``: every operation a plan makes), the
saved plan writes nothing when saved, and applied while nothing moved puts the baseline back exactly (the next
``check`` exits 0). After another change through the SDK, or a plan file changed by hand, ``--apply-plan`` is
refused with one line and exit 1, and the emulators' state is byte for byte what it was: no write, no audit
record.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest
import yaml
from ibm_cloud_sdk_core.authenticators import IAMAuthenticator
from ibm_vpc import VpcV1
from kubernetes import client as k8s
from test_remediation import (
    BASELINE,
    CLUSTER,
    GROUPS,
    Estate,
    policy_added,
    policy_deleted,
    rule_added,
    rule_deleted,
    subnet_to_default_acl,
)

from netwarden.adapters.baseline_fs import read_baseline
from netwarden.core.model import Snapshot
from netwarden.entrypoints import cli
from netwarden.fakes import scenarios
from netwarden.fakes.iam import API_KEY
from netwarden.fakes.server import FakeServer


@pytest.fixture(scope="module")
def recipe_baseline() -> Snapshot:
    return read_baseline(BASELINE)


@pytest.fixture
def live(fake: FakeServer, recipe_baseline: Snapshot, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Estate:
    """The recipe in the emulators, and a config (state in ``tmp_path/state``) pointing at them."""
    scenarios.build("recipe", fake.url, baseline=recipe_baseline)
    config = scenarios.config_for(fake.url, "recipe", recipe_baseline, str(BASELINE))
    config["state"] = f"file://{tmp_path / 'state'}"
    config["remediation"] = {"restore_namespace_labels": True, "max_changes": 10}
    path = tmp_path / "netwarden.yaml"
    path.write_text(yaml.safe_dump(config))
    monkeypatch.setenv(scenarios.API_KEY_ENV, API_KEY)
    sdk = VpcV1(authenticator=IAMAuthenticator(API_KEY, url=f"{fake.url}/iam"))
    sdk.set_service_url(f"{fake.url}/vpc/us-south/v1")
    api = k8s.ApiClient(k8s.Configuration(host=f"{fake.url}/k8s/{CLUSTER}"))
    return Estate(fake, path, sdk, k8s.NetworkingV1Api(api), k8s.CoreV1Api(api))


def save(e: Estate, *args: str) -> tuple[Path, dict[str, object]]:
    plan = e.config.parent / "plan.json"
    code, out = e.netwarden("remediate", "--out", str(plan), *args)
    assert code == 2, (out, e.err)
    assert "netwarden: wrote plan " in e.err and f"netwarden remediate --apply-plan {plan}" in e.err
    return plan, json.loads(plan.read_text(encoding="utf-8"))


def audit_records(e: Estate) -> list[str]:
    audit = e.config.parent / "state" / "audit"
    return sorted(p.name for p in audit.iterdir()) if audit.is_dir() else []


@pytest.mark.parametrize("drifts", [g[1] for g in GROUPS], ids=[g[0] for g in GROUPS])
def test_a_saved_plan_of_each_kind_applies_when_nothing_moved(
        live: Estate, drifts: list[tuple[Callable[[Estate], None], str]]) -> None:
    for drift, _ in drifts:
        drift(live)
    before = live.state()
    plan, data = save(live)
    assert live.state() == before, "saving a plan writes nothing to the estate"
    steps = data["steps"]
    assert isinstance(steps, list) and {c for s in steps for c in s["codes"]} >= {code for _, code in drifts}
    exit_code, out = live.netwarden("remediate", "--apply-plan", str(plan), "--format", "json")
    assert exit_code == 0, (out, live.err)
    result = json.loads(out)
    assert result["status"] == "in_sync" and result["applied"] == list(range(1, len(steps) + 1))
    assert [s["call"] for s in result["plan"]["steps"]] == [s["call"] for s in steps], "the saved steps, not new ones"
    audit = json.loads((live.config.parent / "state" / result["audit"]).read_text())
    assert audit["plan_id"] == data["id"] and audit["status"] == "in_sync"
    assert live.netwarden("check")[0] == 0


@pytest.mark.parametrize(("drifts", "change", "scope"), [
    ([rule_deleted], rule_added, "us-south/iks-vpc"),
    ([rule_deleted], subnet_to_default_acl, "us-south/iks-vpc"),
    ([rule_deleted, policy_deleted], policy_added, "k8s/iks-cluster"),
], ids=["another-rule", "another-subnet", "another-policy"])
def test_a_saved_plan_is_refused_after_another_change_and_nothing_is_written(
        live: Estate, drifts: list[Callable[[Estate], None]], change: Callable[[Estate], None], scope: str) -> None:
    for drift in drifts:
        drift(live)
    plan, data = save(live)
    change(live)
    before, audits = live.state(), audit_records(live)
    exit_code, out = live.netwarden("remediate", "--apply-plan", str(plan))
    assert exit_code == 1, out
    assert out.startswith("netwarden remediate: REFUSED: nothing was changed")
    [line] = live.err.strip().splitlines()
    assert line.startswith("netwarden: error: remediation refused: the live state has moved since the plan was made: "
                           f"{scope} changed after {data['created_at']} (plan {data['id']}): nothing was changed")
    assert live.state() == before and audit_records(live) == audits == [], "no write, no audit record"


def test_a_change_where_the_plan_writes_nothing_does_not_stop_it(live: Estate) -> None:
    rule_deleted(live)
    plan, data = save(live)
    assert data["precondition"] and list(data["precondition"]) == ["us-south/iks-vpc"]  # type: ignore[call-overload]
    policy_deleted(live)
    exit_code, out = live.netwarden("remediate", "--apply-plan", str(plan))
    assert exit_code == 2, out  # applied; the new drift is the next plan's
    assert "[applied] Create rule corporate-network-inbound" in out
    assert "not in this plan: netpol-missing iks-cluster/accounts/db-allow" in out


def test_a_plan_applied_is_refused_the_second_time_its_own_writes_moved_the_state(live: Estate) -> None:
    rule_deleted(live)
    plan, _ = save(live)
    assert live.netwarden("remediate", "--apply-plan", str(plan))[0] == 0
    before = live.state()
    exit_code, out = live.netwarden("remediate", "--apply-plan", str(plan))
    assert exit_code == 1 and "the live state has moved since the plan was made: us-south/iks-vpc" in live.err, out
    assert live.state() == before


@pytest.mark.parametrize(("edit", "field"), [
    (lambda d: d["steps"][0]["op"]["rule"].update(source="0.0.0.0/0"), "steps[0].call"),
    (lambda d: d.update(created_by="mallory"), "digest"),
    (lambda d: d["steps"][0]["op"].update(kind="delete-everything"), "steps[0].op.kind"),
], ids=["op-and-call-disagree", "digest", "unknown-kind"])
def test_a_plan_file_changed_by_hand_is_one_line_and_exit_1(live: Estate, edit: Callable[[dict[str, object]], None],
                                                             field: str) -> None:
    rule_deleted(live)
    plan, data = save(live)
    edit(data)  # type: ignore[arg-type]
    plan.write_text(json.dumps(data, indent=2), encoding="utf-8")
    before = live.state()
    exit_code, out = live.netwarden("remediate", "--apply-plan", str(plan))
    assert (exit_code, out) == (1, "")
    [line] = live.err.strip().splitlines()
    assert line.startswith(f"netwarden: error: {plan}:") and f": {field}: " in line, line
    assert "Traceback" not in live.err and live.state() == before


@pytest.mark.parametrize(("args", "message"), [
    (("--apply-plan", "missing.json"), "missing.json: cannot read the plan: No such file or directory"),
    (("--approve", "0123456789abcdef", "--only", "acl-rule-missing"), "--only: a saved plan is applied as it is"),
    (("--approve", "0123456789abcdef"), "no remediation plan 0123456789abcdef in the state store"),
    (("--approve", "../findings"), "--approve: not a plan id"),
])
def test_bad_plan_arguments_are_one_line_and_exit_1(live: Estate, args: tuple[str, ...], message: str) -> None:
    exit_code, out = live.netwarden("remediate", *args)
    assert exit_code == 1 and out == ""
    [line] = live.err.strip().splitlines()
    assert line.startswith("netwarden: error: ") and message in line


@pytest.mark.parametrize(("args", "message"), [
    (("--apply", "--out", "plan.json"), "argument --out: not allowed with argument --apply"),
    (("--apply-plan", "p.json", "--approve", "0123456789abcdef"), "not allowed with argument --apply-plan"),
])
def test_one_way_to_run_at_a_time(live: Estate, args: tuple[str, ...], message: str,
                                  capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as done:
        cli.main(["remediate", *args, "--config", str(live.config)])
    assert done.value.code == 1 and message in capsys.readouterr().err


def test_nothing_to_remediate_saves_no_plan(live: Estate) -> None:
    code, out = live.netwarden("remediate", "--out", str(live.config.parent / "plan.json"))
    assert code == 0 and out.startswith("netwarden remediate: nothing to remediate")
    assert "no plan to save (nothing-to-do): nothing was written to" in live.err
    assert not (live.config.parent / "plan.json").exists()
