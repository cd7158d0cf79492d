"""``netwarden check`` against the emulated recipe cluster: each Kubernetes drift, made the way people
make it (kubectl or the kubernetes client), gives its finding code and exit 2; a cluster that refuses
connections makes the check incomplete (exit 3) without hiding what the VPC side shows."""

from __future__ import annotations

import json
import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from ibm_cloud_sdk_core.authenticators import IAMAuthenticator
from ibm_vpc import VpcV1
from kube_recipe import CLUSTER, Recipe, build, closed_port

from netwarden.entrypoints.cli import main
from netwarden.fakes.iam import API_KEY
from netwarden.fakes.server import FakeServer

KUBECTL = shutil.which("kubectl")
needs_kubectl = pytest.mark.skipif(KUBECTL is None, reason="kubectl is not installed on this machine (not on PATH)")


@pytest.fixture
def recipe(fake: FakeServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Recipe:
    return build(fake, tmp_path, monkeypatch)


def kubectl(recipe: Recipe, *args: str, stdin: str | None = None) -> None:
    kubeconfig = recipe.config.parent / "empty-kubeconfig"
    kubeconfig.write_text("")
    subprocess.run([str(KUBECTL), "--kubeconfig", str(kubeconfig), "--cache-dir", str(recipe.config.parent / "cache"),
                    "--server", recipe.cluster_url, *args], input=stdin, text=True, capture_output=True, check=True,
                   timeout=60)


def check(recipe: Recipe, capsys: pytest.CaptureFixture[str], config: Path | None = None) -> tuple[int, dict[str, Any]]:
    capsys.readouterr()
    code = main(["check", "--config", str(config or recipe.config), "--format", "json"])
    return code, json.loads(capsys.readouterr().out)


def delete_with_kubectl(recipe: Recipe) -> None:
    kubectl(recipe, "delete", "networkpolicy", "db-allow", "-n", "accounts")


def add_with_kubectl(recipe: Recipe) -> None:
    kubectl(recipe, "apply", "-f", "-", stdin="""\
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: allow-all-ingress, namespace: accounts}
spec:
  podSelector: {}
  ingress: [{}]
""")


def label_with_kubectl(recipe: Recipe) -> None:
    kubectl(recipe, "label", "namespace", "finance", "usage=payments", "--overwrite")


def delete_with_client(recipe: Recipe) -> None:
    recipe.kube()[2].delete_namespaced_network_policy("db-allow", "accounts")


def add_with_client(recipe: Recipe) -> None:
    body: Any = {"metadata": {"name": "allow-all-ingress"}, "spec": {"podSelector": {}, "ingress": [{}]}}
    recipe.kube()[2].create_namespaced_network_policy("accounts", body)


def change_with_client(recipe: Recipe) -> None:
    patch = {"spec": {"ingress": [{"ports": [{"port": 3112, "protocol": "TCP"}],
                                   "from": [{"namespaceSelector": {"matchLabels": {"usage": "finance"}}}]}]}}
    recipe.kube()[2].patch_namespaced_network_policy("accounts-allow", "accounts", patch,
                                                     _content_type="application/strategic-merge-patch+json")


def label_with_client(recipe: Recipe) -> None:
    recipe.kube()[1].patch_namespace("finance", {"metadata": {"labels": {"usage": "payments"}}},
                                     _content_type="application/merge-patch+json")


@pytest.mark.parametrize(("drift", "code", "resource"), [
    pytest.param(delete_with_kubectl, "netpol-missing", ("network-policy", "accounts", "db-allow"),
                 marks=needs_kubectl, id="kubectl-delete"),
    pytest.param(add_with_kubectl, "netpol-unexpected", ("network-policy", "accounts", "allow-all-ingress"),
                 marks=needs_kubectl, id="kubectl-apply"),
    pytest.param(label_with_kubectl, "namespace-labels-changed", ("namespace", "finance", "finance"),
                 marks=needs_kubectl, id="kubectl-label"),
    pytest.param(delete_with_client, "netpol-missing", ("network-policy", "accounts", "db-allow"), id="client-delete"),
    pytest.param(add_with_client, "netpol-unexpected", ("network-policy", "accounts", "allow-all-ingress"),
                 id="client-create"),
    pytest.param(change_with_client, "netpol-changed", ("network-policy", "accounts", "accounts-allow"),
                 id="client-patch"),
    pytest.param(label_with_client, "namespace-labels-changed", ("namespace", "finance", "finance"),
                 id="client-label"),
])
def test_each_kubernetes_drift_gives_its_code_and_exit_2(recipe: Recipe, capsys: pytest.CaptureFixture[str],
                                                         drift: Callable[[Recipe], None], code: str,
                                                         resource: tuple[str, str, str]) -> None:
    drift(recipe)  # the recipe starts in sync: test_kube_snapshot checks it
    exit_code, report = check(recipe, capsys)
    assert (exit_code, report["status"]) == (2, "drift")
    assert [(f["code"], f["resource"]["kind"], f["resource"]["cluster"], f["resource"]["namespace"],
             f["resource"]["name"]) for f in report["findings"]] == [(code, *resource[:1], CLUSTER, *resource[1:])]


def test_a_label_no_namespace_selector_uses_is_not_drift(recipe: Recipe, capsys: pytest.CaptureFixture[str]) -> None:
    recipe.kube()[1].patch_namespace("finance", {"metadata": {"labels": {"cost-centre": "42"}}},
                                     _content_type="application/merge-patch+json")
    assert check(recipe, capsys)[0] == 0


def _detach_zone1_gateway(recipe: Recipe) -> None:
    vpc = VpcV1(authenticator=IAMAuthenticator(API_KEY, url=f"{recipe.fake.url}/iam"))
    vpc.set_service_url(f"{recipe.fake.url}/vpc/us-south/v1")
    subnet = next(s for s in vpc.list_subnets().get_result()["subnets"] if s["name"] == "iks-vpc-us-south-1")
    vpc.unset_subnet_public_gateway(subnet["id"])


def test_a_cluster_that_refuses_connections_is_unreadable_and_the_vpc_is_still_checked(
        recipe: Recipe, capsys: pytest.CaptureFixture[str]) -> None:
    _detach_zone1_gateway(recipe)
    down = recipe.write_config(server=f"http://127.0.0.1:{closed_port()}/k8s/{CLUSTER}")
    exit_code, report = check(recipe, capsys, down)
    assert (exit_code, report["status"]) == (3, "incomplete")
    (unreadable,) = report["unreadable"]
    assert unreadable["scope"] == f"k8s/{CLUSTER}" and "connection refused" in unreadable["reason"]
    assert [f["code"] for f in report["findings"]] == ["gateway-detached"]
    assert main(["check", "--config", str(down)]) == 3
    text = capsys.readouterr().out
    assert f"k8s/{CLUSTER}" in text and "unreadable" in text
