"""``netwarden baseline lint`` and ``baseline capture`` through the CLI: exit codes, output, what is written."""

from __future__ import annotations

import functools
import json
import shutil
import subprocess
from dataclasses import replace
from pathlib import Path

import pytest
import yaml

from netwarden.adapters import ibm_vpc
from netwarden.adapters.baseline_fs import read_baseline
from netwarden.entrypoints import cli
from netwarden.fakes import scenarios
from netwarden.fakes.iam import API_KEY
from netwarden.fakes.server import FakeServer

REPO = Path(__file__).resolve().parents[2]
BASELINE = REPO / "baseline"
KEY_ENV = "NW_BASELINE_CLI_KEY"
POLICIES = "kubernetes/iks-cluster/accounts"


@pytest.fixture
def recipe_copy(tmp_path: Path) -> Path:
    return Path(shutil.copytree(BASELINE, tmp_path / "baseline"))


def test_lint_of_the_recipe_is_clean(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["baseline", "lint", str(BASELINE)]) == 0
    assert capsys.readouterr().out == f"{BASELINE}: no findings\n"


def test_lint_reports_the_recipe_mistakes_at_their_lines(recipe_copy: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """The recipe as IBM printed it writes ``Tier`` for ``tier``; its ACLs lose a private range."""
    backend = recipe_copy / POLICIES / "backend-allow.yaml"
    backend.write_text(backend.read_text().replace("      tier: frontend", "      Tier: frontend"))
    acl = recipe_copy / "vpc/us-south/iks-vpc/network-acls/iks-cluster-us-south-2-acl.yaml"
    text = acl.read_text()
    start = text.index("- name: allow-ibm-private-network-inbound")
    acl.write_text(text[:start] + text[text.index("- name: corporate-network-outbound"):])
    assert cli.main(["baseline", "lint", str(recipe_copy)]) == 2
    lines = capsys.readouterr().out.splitlines()
    assert lines == [
        f"{acl}:63: ibm-private-ranges: ACL iks-cluster-us-south-2-acl must allow all inbound traffic from "
        "166.8.0.0/14 (IBM Cloud private network) before any deny; rule deny-all-inbound denies part of it first",
        f"{backend}:18: selector-key-case: NetworkPolicy accounts/backend-allow: selector key 'Tier' differs only in "
        "case from the label 'tier' that pods carry; label keys are case-sensitive, so it selects nothing",
        f"{backend}:15: selector-matches-nothing: NetworkPolicy accounts/backend-allow: podSelector "
        "{Tier=frontend, app=Srv1} matches no pod known in namespace accounts",
        f"3 finding(s) in {recipe_copy}",
    ]


def test_lint_json(recipe_copy: Path, capsys: pytest.CaptureFixture[str]) -> None:
    subnets = recipe_copy / "vpc/us-south/iks-vpc/subnets.yaml"
    subnets.write_text(subnets.read_text().replace("iks-cluster-us-south-3-acl", "iks-vpc-default-acl"))
    assert cli.main(["baseline", "lint", str(recipe_copy), "--format", "json"]) == 2
    report = json.loads(capsys.readouterr().out)
    assert report["status"] == "findings"
    assert report["findings"] == [{
        "file": str(subnets), "line": 12, "rule": "subnet-default-acl",
        "message": "subnet iks-vpc-us-south-3 uses the VPC's default ACL iks-vpc-default-acl, which allows all "
                   "traffic; the recipe gives each worker subnet its own custom ACL",
        "resource": "us-south/iks-vpc/iks-vpc-us-south-3/network_acl"}]
    assert cli.main(["baseline", "lint", str(BASELINE), "--format", "json"]) == 0
    assert json.loads(capsys.readouterr().out) == {"baseline": str(BASELINE), "status": "clean", "findings": []}


def test_lint_without_a_directory_reads_the_config(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    config = tmp_path / "netwarden.yaml"
    config.write_text(yaml.safe_dump({"baseline": str(BASELINE)}))
    assert cli.main(["baseline", "lint", "--config", str(config)]) == 0
    config.write_text(yaml.safe_dump({"baseline": "missing"}))
    assert cli.main(["baseline", "lint", "--config", str(config)]) == 1
    assert capsys.readouterr().err == f"netwarden: error: {tmp_path / 'missing'}: baseline directory not found\n"


# --- capture -------------------------------------------------------------------------------------


@pytest.fixture
def estate(fake: FakeServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The VPC side of the recipe in the emulator; returns a config that points at it."""
    monkeypatch.setenv(KEY_ENV, API_KEY)
    scenarios.build("recipe", fake.url, baseline=replace(read_baseline(BASELINE), clusters=()))
    config = tmp_path / "netwarden.yaml"
    config.write_text(yaml.safe_dump({
        "baseline": "captured",
        "ibmcloud": {"regions": ["us-south"], "api_key_env": KEY_ENV, "vpc_url": f"{fake.url}/vpc/{{region}}/v1",
                     "iam_url": f"{fake.url}/iam"}}))
    return config


def test_capture_over_an_older_baseline(estate: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = estate.parent / "captured"
    stale = out / "vpc/us-south/iks-vpc/network-acls/removed-acl.yaml"
    stale.parent.mkdir(parents=True)
    stale.write_text("name: removed-acl\nrules: []\n")
    (out / "README.md").write_text("kept\n")
    assert cli.main(["baseline", "capture", "--config", str(estate)]) == 0
    assert "captured 1 VPC(s) and 0 cluster(s)" in capsys.readouterr().out
    assert not stale.exists()
    assert (out / "README.md").read_text() == "kept\n"
    for rel in ("network-acls/iks-cluster-us-south-1-acl.yaml", "subnets.yaml", "vpc.yaml"):
        assert (out / "vpc/us-south/iks-vpc" / rel).read_text() == (BASELINE / "vpc/us-south/iks-vpc" / rel).read_text()
    assert cli.main(["baseline", "lint", str(out)]) == 0


def test_an_incomplete_capture_writes_nothing(fake: FakeServer, estate: Path, capsys: pytest.CaptureFixture[str],
                                              monkeypatch: pytest.MonkeyPatch) -> None:
    quick = functools.partial(ibm_vpc.RetryPolicy, retry_interval=0.05, max_retry_after=0.05)
    monkeypatch.setattr(ibm_vpc, "RetryPolicy", quick)  # the same retries, without the waiting
    fake.cloud.add_fault({"path": "^/vpc/us-south/", "status": 503, "retry_after": 0})
    out = estate.parent / "elsewhere"
    assert cli.main(["baseline", "capture", "--config", str(estate), "--out", str(out)]) == 3
    captured = capsys.readouterr()
    assert captured.out == ""
    assert "unreadable: us-south" in captured.err
    assert f"nothing was written to {out}" in captured.err
    assert not out.exists()


# --- the policy files are manifests kubectl applies -------------------------------------------------

KUBECTL = shutil.which("kubectl")


@pytest.mark.skipif(KUBECTL is None, reason="kubectl is not installed on this machine (not on PATH)")
def test_kubectl_applies_the_policy_directory(fake: FakeServer, tmp_path: Path) -> None:
    (tmp_path / "kubeconfig").write_text("")
    base = [str(KUBECTL), "--kubeconfig", str(tmp_path / "kubeconfig"), "--cache-dir", str(tmp_path / "cache"),
            "--server", f"{fake.url}/k8s/iks-cluster", "--request-timeout", "10s"]

    def kubectl(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([*base, *args], capture_output=True, text=True, timeout=60, check=False)

    for namespace in ("accounts", "finance"):
        assert kubectl("create", "namespace", namespace).returncode == 0
    done = kubectl("apply", "-f", str(BASELINE / POLICIES))
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines() == [f"networkpolicy.networking.k8s.io/{name} created"
                                        for name in ("accounts-allow", "backend-allow", "db-allow")]
    refused = kubectl("apply", "-f", str(REPO / "tests/fixtures/bad-baselines/netpol-recipe-namespace-selector"
                                         / "kubernetes/prod-cluster/accounts/backend-allow.yaml"))
    assert refused.returncode != 0
    assert 'unknown field "spec.ingress[0].from[0].NamespaceSelector"' in refused.stderr
