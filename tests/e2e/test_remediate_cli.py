"""``netwarden remediate`` as a user runs it, on the recipe estate in the emulators, when the baseline would
have it do damage: a baseline that lost most of an ACL's rules is refused by the blast-radius guard (exit 1,
the reason on stderr, nothing written) until ``--allow-destructive`` (or ``remediation.allow_destructive``,
what the function and scheduled runs go by) allows it; a baseline that fails an error-level recipe check
is refused with its file:line, whatever is allowed."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml
from ce_deployment import Deployment, deploy, rule_names

from netwarden.config import Settings
from netwarden.entrypoints import wiring

ACL1, ACL2 = "iks-cluster-us-south-1-acl", "iks-cluster-us-south-2-acl"
#: What acl-1 keeps in the shrunk baseline: the IBM private ranges and the denies (6 of its 12 rules).
KEPT = ["allow-ibm-private-network2-outbound", "allow-ibm-private-network2-inbound",
        "allow-ibm-private-network-outbound", "allow-ibm-private-network-inbound", "deny-all-outbound",
        "deny-all-inbound"]


def netwarden(d: Deployment, *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("NETWARDEN_", "SLACK_", "IBMCLOUD_"))}
    return subprocess.run([sys.executable, "-m", "netwarden", *args], env={**env, **d.env}, cwd=d.root,
                          capture_output=True, text=True, timeout=120, check=False)


def acl_file(d: Deployment, acl: str) -> Path:
    return d.root / "baseline" / "vpc" / "us-south" / "iks-vpc" / "network-acls" / f"{acl}.yaml"


def edit_rules(d: Deployment, acl: str, keep: Any) -> None:
    path = acl_file(d, acl)
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    data["rules"] = [r for r in data["rules"] if keep(r)]
    path.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")


@pytest.fixture
def shrunk(fake: Any, tmp_path: Path) -> Deployment:
    """The recipe live; a baseline whose acl-1 lost half its rules; at most 40% of one kind may go."""
    d = deploy(fake, tmp_path, slack=False, config={"remediation": {"max_delete_percent": 40}})
    edit_rules(d, ACL1, lambda r: r["name"] in KEPT)
    return d


def state_files(d: Deployment) -> list[str]:
    state = d.root / "state"
    return sorted(p.relative_to(state).as_posix() for p in state.rglob("*") if p.is_file()) if state.exists() else []


def test_a_destructive_plan_is_refused_and_runs_with_allow_destructive(shrunk: Deployment) -> None:
    before = rule_names(shrunk.sdk(), ACL1)
    for args in (("remediate",), ("remediate", "--apply")):
        refused = netwarden(shrunk, *args)
        assert refused.returncode == 1, refused.stderr
        assert refused.stdout.startswith("netwarden remediate: REFUSED: nothing was changed")
        error = refused.stderr.strip().splitlines()[-1]
        assert error.startswith("netwarden: error: remediation refused: the plan is destructive: it would delete "
                                f"6 of 12 (50%) of the rules of network ACL {ACL1} in us-south/iks-vpc, more than "
                                "max_delete_percent (40%): nothing was changed")
        assert "--allow-destructive" in error
    assert rule_names(shrunk.sdk(), ACL1) == before
    assert state_files(shrunk) == []

    applied = netwarden(shrunk, "remediate", "--apply", "--allow-destructive", "--format", "json")
    assert applied.returncode == 0, applied.stderr
    result = json.loads(applied.stdout)
    assert result["status"] == "in_sync" and len(result["applied"]) == 6
    assert rule_names(shrunk.sdk(), ACL1) == KEPT
    assert netwarden(shrunk, "check").returncode == 0


def test_the_config_key_allows_it_for_every_entrypoint(shrunk: Deployment, monkeypatch: pytest.MonkeyPatch) -> None:
    """The function and scheduled runs have no flag: ``remediation.allow_destructive`` is what they read."""
    config = yaml.safe_load(shrunk.config.read_text(encoding="utf-8"))
    monkeypatch.chdir(shrunk.root)
    for key, value in shrunk.env.items():
        monkeypatch.setenv(key, value)
    settings = Settings.load(shrunk.config)
    assert wiring.remediate(settings, codes=None, apply=False, initiator="function").status == "refused"
    config["remediation"]["allow_destructive"] = True
    shrunk.config.write_text(yaml.safe_dump(config), encoding="utf-8")
    assert wiring.remediate(Settings.load(shrunk.config), codes=None, apply=False,
                            initiator="function").status == "planned"
    planned = netwarden(shrunk, "remediate")
    assert planned.returncode == 2, planned.stderr
    assert planned.stdout.startswith("netwarden remediate: dry run: nothing was changed")
    assert "Plan: 6 step(s)" in planned.stdout


def test_a_baseline_failing_an_error_level_recipe_check_is_refused(fake: Any, tmp_path: Path) -> None:
    d = deploy(fake, tmp_path, slack=False)
    edit_rules(d, ACL2, lambda r: r["name"] != "deny-all-inbound")
    lint = netwarden(d, "baseline", "lint")
    assert lint.returncode == 2 and "acl-deny-all-last" in lint.stdout
    for args in (("remediate",), ("remediate", "--apply", "--allow-destructive")):
        refused = netwarden(d, *args)
        assert refused.returncode == 1, refused.stderr
        error = refused.stderr.strip().splitlines()[-1]
        assert error.startswith("netwarden: error: remediation refused: the baseline fails the recipe's error-level "
                                f"checks: baseline/vpc/us-south/iks-vpc/network-acls/{ACL2}.yaml:")
        assert ": acl-deny-all-last: " in error
        assert error.endswith("nothing was changed (netwarden baseline lint shows them all)")
    assert "deny-all-inbound" in rule_names(d.sdk(), ACL2)
    assert state_files(d) == []
