"""``netwarden baseline lint`` and ``baseline capture`` through the CLI: exit codes, output, what is written."""

from __future__ import annotations

import functools
import hashlib
import json
import shutil
import subprocess
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

import pytest
import yaml
from ce_deployment import delete_rule
from ibm_cloud_sdk_core.authenticators import IAMAuthenticator
from ibm_vpc import VpcV1

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
VPC = "vpc/us-south/iks-vpc"


def tree_digest(root: Path) -> dict[str, str]:
    return {p.relative_to(root).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(root.rglob("*")) if p.is_file()}


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


def test_a_first_capture_writes_without_force(estate: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = estate.parent / "captured"
    out.mkdir()
    (out / "README.md").write_text("kept\n")
    assert cli.main(["baseline", "capture", "--config", str(estate)]) == 0
    assert "captured 1 VPC(s) and 0 cluster(s)" in capsys.readouterr().out
    assert (out / "README.md").read_text() == "kept\n"
    assert tree_digest(out / "vpc") == tree_digest(BASELINE / "vpc")
    assert cli.main(["baseline", "lint", str(out)]) == 0


def _delete_a_rule_live(fake: FakeServer, out: Path) -> None:
    sdk = VpcV1(authenticator=IAMAuthenticator(API_KEY, url=f"{fake.url}/iam"))
    sdk.set_service_url(f"{fake.url}/vpc/us-south/v1")
    delete_rule(sdk)


def _add_a_stale_acl(fake: FakeServer, out: Path) -> None:
    (out / VPC / "network-acls/removed-acl.yaml").write_text("name: removed-acl\nrules: []\n")


def _lose_a_file(fake: FakeServer, out: Path) -> None:
    (out / VPC / "vpc.yaml").unlink()


def _edit_a_subnet(fake: FakeServer, out: Path) -> None:
    subnets = out / VPC / "subnets.yaml"
    subnets.write_text(subnets.read_text().replace("iks-cluster-us-south-3-acl", "iks-cluster-us-south-2-acl"))


@pytest.mark.parametrize(("drift", "expected"), [
    (_delete_a_rule_live, ["M vpc/us-south/iks-vpc/network-acls/iks-cluster-us-south-1-acl.yaml"]),
    (_add_a_stale_acl, ["D vpc/us-south/iks-vpc/network-acls/removed-acl.yaml"]),
    (_lose_a_file, ["A vpc/us-south/iks-vpc/vpc.yaml"]),
    (_edit_a_subnet, ["M vpc/us-south/iks-vpc/subnets.yaml"]),
], ids=["rule-deleted-live", "stale-file", "file-missing", "file-edited"])
def test_capture_over_a_drifted_baseline_lists_the_changes_and_needs_force(
        fake: FakeServer, estate: Path, drift: Callable[[FakeServer, Path], None], expected: list[str],
        capsys: pytest.CaptureFixture[str]) -> None:
    out = estate.parent / "captured"
    shutil.copytree(BASELINE / "vpc", out / "vpc")
    drift(fake, out)
    before = tree_digest(out)
    assert cli.main(["baseline", "capture", "--config", str(estate)]) == 1
    captured = capsys.readouterr()
    assert captured.out.splitlines() == expected
    assert captured.err.splitlines() == [captured.err.strip()]
    assert captured.err.startswith(f"netwarden: error: {out}: the live state differs from this baseline (")
    assert "nothing was written" in captured.err and "--force" in captured.err
    assert tree_digest(out) == before

    assert cli.main(["baseline", "capture", "--config", str(estate), "--force"]) == 0
    assert "captured 1 VPC(s) and 0 cluster(s)" in capsys.readouterr().out
    assert tree_digest(out) != before
    assert cli.main(["baseline", "capture", "--config", str(estate)]) == 0
    assert capsys.readouterr().out == f"{out} already holds the live state: nothing to do\n"


def test_capture_over_an_identical_baseline_has_nothing_to_do(estate: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = estate.parent / "captured"
    shutil.copytree(BASELINE / "vpc", out / "vpc")
    before = {p: p.stat().st_mtime_ns for p in out.rglob("*")}
    assert cli.main(["baseline", "capture", "--config", str(estate)]) == 0
    captured = capsys.readouterr()
    assert captured.out == f"{out} already holds the live state: nothing to do\n" and captured.err == ""
    assert {p: p.stat().st_mtime_ns for p in out.rglob("*")} == before


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


# --- lint reports the first problem of every file --------------------------------------------------

ACL_1 = f"{VPC}/network-acls/iks-cluster-us-south-1-acl.yaml"
ACL_2 = f"{VPC}/network-acls/iks-cluster-us-south-2-acl.yaml"
NAMESPACES = "kubernetes/iks-cluster/namespaces.yaml"
DB_POLICY = f"{POLICIES}/db-allow.yaml"

# file -> (text replaced, replacement); ACL_2 has two mistakes, of which its first is reported
BREAKAGES = {
    ACL_1: [("  source: 10.240.64.0/24\n", "  source: 10.240.64.300/24\n")],
    ACL_2: [("  direction: outbound\n", "  direction: outwards\n"), ("  action: allow\n", "  action: permit\n")],
    NAMESPACES: [("  usage: accounts\n", "  usage: accounts team\n")],
    DB_POLICY: [("  podSelector:\n", "  PodSelector:\n")],
}
# file -> (line, field, words of the reason), in the order lint reads the files
EXPECTED_ERRORS = [
    (DB_POLICY, 7, "spec.PodSelector", "unknown field"),
    (NAMESPACES, 2, "accounts.usage", 'Invalid value: "accounts team"'),
    (ACL_1, 13, "rules[1].source", "not a valid IP address or CIDR"),
    (ACL_2, 4, "rules[0].action", "'permit' is not 'allow' or 'deny'"),
]


@pytest.fixture
def broken(recipe_copy: Path) -> Path:
    for rel, edits in BREAKAGES.items():
        path = recipe_copy / rel
        text = path.read_text()
        for old, new in edits:
            assert old in text, (rel, old)
            text = text.replace(old, new, 1)
        path.write_text(text)
    return recipe_copy


def test_lint_reports_the_first_error_of_every_file(broken: Path, capsys: pytest.CaptureFixture[str]) -> None:
    before = tree_digest(broken)
    assert cli.main(["baseline", "lint", str(broken)]) == 1
    out, err = capsys.readouterr()
    assert out == ""
    lines = err.splitlines()
    assert len(lines) == len(EXPECTED_ERRORS), err
    for line, (rel, number, field, words) in zip(lines, EXPECTED_ERRORS, strict=True):
        assert line.startswith(f"netwarden: error: {broken}/{rel}:{number}: {field}: "), line
        assert words in line, line
    assert "Traceback" not in err and "outwards" not in err
    assert tree_digest(broken) == before


def test_lint_json_lists_every_files_error_as_json(broken: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["baseline", "lint", str(broken), "--format", "json"]) == 1
    out, err = capsys.readouterr()
    assert err == ""
    report = json.loads(out)
    assert report["status"] == "error" and report["findings"] == [] and report["baseline"] == str(broken)
    assert [(e["file"], e["line"], e["field"]) for e in report["errors"]] == [
        (f"{broken}/{rel}", number, field) for rel, number, field, _ in EXPECTED_ERRORS]
    for error, (_, _, _, words) in zip(report["errors"], EXPECTED_ERRORS, strict=True):
        assert words in error["message"]


@pytest.mark.parametrize("fmt", ["text", "json"])
def test_lint_of_a_problem_across_files_is_one_error(recipe_copy: Path, fmt: str,
                                                     capsys: pytest.CaptureFixture[str]) -> None:
    """Each file reads, but a subnet names an ACL no file holds: the one error, in the format asked for."""
    subnets = recipe_copy / VPC / "subnets.yaml"
    subnets.write_text(subnets.read_text().replace("iks-cluster-us-south-3-acl", "no-such-acl"))
    assert cli.main(["baseline", "lint", str(recipe_copy), "--format", fmt]) == 1
    out, err = capsys.readouterr()
    if fmt == "json":
        assert err == ""
        (error,) = json.loads(out)["errors"]
        assert error["file"] == str(subnets) and "no-such-acl" in error["message"]
        assert error["field"] == "iks-vpc-us-south-3.network_acl"
    else:
        assert out == ""
        assert err.startswith(f"netwarden: error: {subnets}:") and len(err.splitlines()) == 1
        assert "no-such-acl" in err


def test_lint_json_of_a_missing_directory_is_json(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["baseline", "lint", str(tmp_path / "missing"), "--format", "json"]) == 1
    report = json.loads(capsys.readouterr().out)
    assert report["status"] == "error"
    assert report["errors"] == [{"file": str(tmp_path / "missing"), "line": None, "field": None,
                                 "message": "baseline directory not found"}]
