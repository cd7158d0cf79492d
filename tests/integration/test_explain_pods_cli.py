"""``netwarden explain`` with a pod or workload on one end, end to end: the recipe in the VPC and Kubernetes
emulators, a NetworkPolicy deleted with kubectl, then the flow answered for the baseline and the live
state with the NetworkPolicy layer beside the VPC's; and a name it cannot resolve, one line and exit 1."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from kube_recipe import Recipe, build
from test_kube_drift import kubectl, needs_kubectl

from netwarden.entrypoints.cli import main
from netwarden.fakes.server import FakeServer


@pytest.fixture
def recipe(fake: FakeServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Recipe:
    return build(fake, tmp_path, monkeypatch)


def explain(recipe: Recipe, capsys: pytest.CaptureFixture[str], *args: str) -> dict[str, dict[str, object]]:
    capsys.readouterr()
    code = main(["explain", *args, "--config", str(recipe.config), "--format", "json"])
    out = capsys.readouterr().out
    assert code == 0, out
    found: dict[str, dict[str, object]] = json.loads(out)["answers"]
    return found


def policy_layer(answer: dict[str, object]) -> dict[str, object]:
    layers = answer["layers"]
    assert isinstance(layers, list)
    found: dict[str, object] = next(layer for layer in layers if layer["layer"] == "NetworkPolicies")
    return found


@needs_kubectl
def test_a_policy_deleted_with_kubectl_opens_the_db_to_the_frontend_in_the_live_answer(
        recipe: Recipe, capsys: pytest.CaptureFixture[str]) -> None:
    flow = ("--from", "accounts/srv1-frontend", "--to", "accounts/srv1-db", "--port", "5432")
    before = explain(recipe, capsys, *flow)
    assert before["baseline"]["verdict"] == before["live"]["verdict"] == "blocked"
    assert policy_layer(before["live"])["deciding"][-1] == (  # type: ignore[index]
        "ingress of accounts/srv1-db: isolated by db-allow; no rule admits it")
    kubectl(recipe, "delete", "networkpolicy", "db-allow", "-n", "accounts")
    after = explain(recipe, capsys, *flow)
    assert (after["baseline"]["verdict"], after["live"]["verdict"]) == ("blocked", "allowed")
    assert after["live"]["pod"] == "accounts/srv1-db"


def test_from_the_internet_to_a_pod_every_worker_subnet_of_the_live_cluster_is_answered(
        recipe: Recipe, capsys: pytest.CaptureFixture[str]) -> None:
    found = explain(recipe, capsys, "--from", "0.0.0.0/0", "--to", "accounts/srv1-frontend", "--port", "443")
    for state in ("baseline", "live"):
        answer = found[state]
        assert answer["verdict"] == "partly", state  # only the workers of the other zones get through
        assert policy_layer(answer) == {"layer": "NetworkPolicies", "verdict": "allowed", "deciding": [
            "ingress of accounts/srv1-frontend: no policy isolates it: allowed"]}
        subnets = {str(layer["layer"]).split(":")[0] for layer in answer["layers"]}  # type: ignore[attr-defined]
        assert {f"worker subnet iks-vpc-us-south-{n}" for n in (1, 2, 3)} <= subnets, state


def test_a_name_that_is_no_pod_is_one_line_and_exit_1(recipe: Recipe, capsys: pytest.CaptureFixture[str]) -> None:
    capsys.readouterr()
    code = main(["explain", "--from", "0.0.0.0/0", "--to", "accounts/no-such-app", "--config", str(recipe.config)])
    err = capsys.readouterr().err
    assert code == 1 and err.count("\n") == 1, err
    assert "--to: 'accounts/no-such-app' is neither a CIDR, a subnet of the baseline, nor a pod or workload" in err
