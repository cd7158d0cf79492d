"""The gateway recipe end to end on the emulators: the workload that needs the internet (``srv1-notifier``, a
Deployment pinned to the subnet with the public gateway) captured and in sync; its affinity removed with
kubectl or pointed at another subnet with the kubernetes client, and the gateway moved with the ibm-vpc SDK,
each giving exactly its finding codes, the gateway findings naming the workload that loses the internet."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import yaml
from ibm_cloud_sdk_core.authenticators import IAMAuthenticator
from ibm_vpc import VpcV1
from kube_recipe import CLUSTER, Recipe, build
from test_kube_drift import kubectl, needs_kubectl

from netwarden.entrypoints.cli import main
from netwarden.fakes.iam import API_KEY
from netwarden.fakes.server import FakeServer

APP = "srv1-notifier"
GATEWAY_SUBNET, OTHER_SUBNET = "iks-vpc-us-south-1", "iks-vpc-us-south-2"


@pytest.fixture
def recipe(fake: FakeServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Recipe:
    return build(fake, tmp_path, monkeypatch)


def vpc_sdk(recipe: Recipe) -> VpcV1:
    sdk = VpcV1(authenticator=IAMAuthenticator(API_KEY, url=f"{recipe.fake.url}/iam"))
    sdk.set_service_url(f"{recipe.fake.url}/vpc/us-south/v1")
    return sdk


def subnet(recipe: Recipe, name: str) -> dict[str, Any]:
    return next(s for s in vpc_sdk(recipe).list_subnets().get_result()["subnets"] if s["name"] == name)


def check(recipe: Recipe, capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, dict[str, Any]]:
    capsys.readouterr()
    code = main(["check", "--config", str(recipe.config), "--format", "json", *args])
    return code, json.loads(capsys.readouterr().out)


def findings(report: dict[str, Any]) -> list[tuple[str, str]]:
    return sorted((f["code"], f["resource"].get("name") or f["resource"].get("subnet")) for f in report["findings"])


def apps(recipe: Recipe) -> Any:
    from kubernetes import client

    return client.AppsV1Api(recipe.kube()[0])


def test_the_pinned_workload_runs_on_the_gateway_subnet_and_a_capture_writes_its_pin(
        recipe: Recipe, capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    code, report = check(recipe, capsys)
    assert (code, report["findings"]) == (0, [])
    capsys.readouterr()
    out = tmp_path / "captured"
    assert main(["baseline", "capture", "--config", str(recipe.config), "--out", str(out)]) == 0
    entries = yaml.safe_load((out / "kubernetes" / CLUSTER / "workloads.yaml").read_text())["accounts"]
    notifier = next(e for e in entries if e["name"] == APP)
    assert notifier == {"name": APP, "labels": {"app": "Srv1", "tier": "notifier"},
                        "public_egress": {"subnet": GATEWAY_SUBNET}}
    code, report = check(recipe, capsys, "--baseline", str(out))
    assert (code, report["findings"]) == (0, [])


@needs_kubectl
def test_the_affinity_removed_with_kubectl_is_workload_affinity_changed(
        recipe: Recipe, capsys: pytest.CaptureFixture[str]) -> None:
    kubectl(recipe, "patch", "deployment", APP, "-n", "accounts", "--type=json",
            "-p", '[{"op": "remove", "path": "/spec/template/spec/affinity"}]')
    code, report = check(recipe, capsys)
    assert (code, findings(report)) == (2, [("workload-affinity-changed", APP)])
    (finding,) = report["findings"]
    assert "lost its node affinity on ibm-cloud.kubernetes.io/subnet-id" in finding["message"]
    assert finding["live"]["subnets"] is None and finding["baseline"]["subnet"] == GATEWAY_SUBNET


def test_the_affinity_pointed_at_another_subnet_by_the_client_is_workload_affinity_changed(
        recipe: Recipe, capsys: pytest.CaptureFixture[str]) -> None:
    other = subnet(recipe, OTHER_SUBNET)["id"]
    affinity = {"nodeAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": {"nodeSelectorTerms": [
        {"matchExpressions": [{"key": "ibm-cloud.kubernetes.io/subnet-id", "operator": "In", "values": [other]}]}]}}}
    apps(recipe).patch_namespaced_deployment(APP, "accounts", {"spec": {"template": {"spec": {"affinity": affinity}}}})
    code, report = check(recipe, capsys)
    assert (code, findings(report)) == (2, [("workload-affinity-changed", APP)])
    (finding,) = report["findings"]
    assert f"is pinned to {OTHER_SUBNET} ({other}) instead of {GATEWAY_SUBNET}" in finding["message"]
    assert f"its pods run on {OTHER_SUBNET} ({other})" in finding["message"], "the rolled pods follow the affinity"


def test_the_gateway_moved_with_the_sdk_names_the_pinned_workload_losing_the_internet(
        recipe: Recipe, capsys: pytest.CaptureFixture[str]) -> None:
    sdk = vpc_sdk(recipe)
    zone1, zone2 = subnet(recipe, GATEWAY_SUBNET), subnet(recipe, OTHER_SUBNET)
    sdk.unset_subnet_public_gateway(zone1["id"])
    created = sdk.create_public_gateway(vpc={"id": zone2["vpc"]["id"]}, zone={"name": zone2["zone"]["name"]},
                                        name="iks-cluster-us-south-2-gateway").get_result()
    sdk.set_subnet_public_gateway(zone2["id"], {"id": created["id"]})
    code, report = check(recipe, capsys)
    assert (code, findings(report)) == (2, [("gateway-attached", OTHER_SUBNET), ("gateway-detached", GATEWAY_SUBNET)])
    detached = next(f for f in report["findings"] if f["code"] == "gateway-detached")
    assert f"public egress of workload {CLUSTER}/accounts/{APP} (pinned to this subnet for it)" in (
        detached["impact"]["breakage"])
    assert f"workloads that lose the internet: {CLUSTER}/accounts/{APP}" in detached["impact"]["summary"]
