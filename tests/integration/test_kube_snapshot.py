"""The Kubernetes side of ``snapshot`` and ``baseline capture`` on the emulated recipe cluster, and the
reader and writer adapters against the emulator: chunked lists, managed namespaces, connection
settings, errors translated (retries, unreadable clusters), and remediation writes."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml
from kube_recipe import BASELINE, CLUSTER, Recipe, build, closed_port

from netwarden.adapters import kube_client
from netwarden.adapters.kube import KubeClusterReader, KubeClusterWriter
from netwarden.config import ClusterSettings
from netwarden.core.errors import ConfigError, PermanentRemediationError, TemporaryRemediationError
from netwarden.core.model import Namespace, NetworkPolicy
from netwarden.entrypoints.cli import main
from netwarden.fakes.server import FakeServer


@pytest.fixture
def recipe(fake: FakeServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Recipe:
    """The whole recipe estate, VPC included: what the CLI tests read."""
    return build(fake, tmp_path, monkeypatch)


@pytest.fixture
def cluster(fake: FakeServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Recipe:
    """Only the recipe cluster: what the adapter tests read and write."""
    return build(fake, tmp_path, monkeypatch, vpc=False)


def reader(*clusters: ClusterSettings) -> KubeClusterReader:
    return KubeClusterReader(clusters, sleep=lambda _: None)


def settings(recipe: Recipe, **extra: Any) -> ClusterSettings:
    return ClusterSettings(name=CLUSTER, server=recipe.cluster_url, **extra)


# --- snapshot and capture ------------------------------------------------------------------------


def test_snapshot_reads_the_recipe_cluster(recipe: Recipe, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["snapshot", "--config", str(recipe.config)]) == 0
    snap = json.loads(capsys.readouterr().out)
    assert snap["unreadable"] == []
    (cluster,) = snap["clusters"]
    namespaces = {n["name"]: n["labels"] for n in cluster["namespaces"]}
    assert namespaces["accounts"] == {"kubernetes.io/metadata.name": "accounts", "usage": "accounts"}
    assert namespaces["finance"] == {"kubernetes.io/metadata.name": "finance", "usage": "finance"}
    assert [(p["namespace"], p["name"]) for p in cluster["policies"]] == [
        ("accounts", "accounts-allow"), ("accounts", "backend-allow"), ("accounts", "db-allow")]
    pods = {p["name"]: p for p in cluster["pods"]}
    (notifier,) = [name for name in pods if name.startswith("srv1-notifier-")]  # the pinned Deployment's one pod
    assert sorted(set(pods) - {notifier}) == ["srv1-backend", "srv1-db", "srv1-frontend", "srv2-backend", "srv2-db",
                                              "srv2-frontend"]
    assert pods["srv1-backend"]["labels"] == {"app": "Srv1", "tier": "backend"}
    assert pods["srv1-backend"]["ports"] == [{"port": 3111, "protocol": "TCP", "name": "api"}]
    assert pods["srv1-backend"]["node"] and pods["srv1-backend"]["ip"].startswith("172.30.")
    subnets = {s["zone"]: s["id"] for v in snap["vpcs"] for s in v["subnets"]}
    assert sorted(subnets) == ["us-south-1", "us-south-2", "us-south-3"]
    assert cluster["worker_subnets"] == sorted(subnets.values())
    (workload,) = cluster["workloads"]
    assert workload == {"namespace": "accounts", "name": "srv1-notifier", "kind": "Deployment",
                        "labels": {"app": "Srv1", "tier": "notifier"}, "subnets": [subnets["us-south-1"]],
                        "pods": [notifier], "running": [subnets["us-south-1"]]}


def test_capture_then_check_is_in_sync(recipe: Recipe, capsys: pytest.CaptureFixture[str]) -> None:
    out = recipe.config.parent / "captured"
    assert main(["baseline", "capture", "--config", str(recipe.config), "--out", str(out)]) == 0
    kube_dir = out / "kubernetes" / CLUSTER
    assert sorted(p.name for p in (kube_dir / "accounts").iterdir()) == [
        "accounts-allow.yaml", "backend-allow.yaml", "db-allow.yaml"]
    captured = yaml.safe_load((kube_dir / "accounts" / "accounts-allow.yaml").read_text())
    assert captured == yaml.safe_load((BASELINE / "kubernetes" / CLUSTER / "accounts" / "accounts-allow.yaml")
                                      .read_text())
    assert yaml.safe_load((kube_dir / "namespaces.yaml").read_text())["finance"]["usage"] == "finance"
    capsys.readouterr()
    assert main(["check", "--config", str(recipe.config), "--baseline", str(out)]) == 0
    assert capsys.readouterr().out.startswith("netwarden check: in sync")


def test_the_committed_baseline_is_in_sync_with_the_cluster_built_from_it(recipe: Recipe,
                                                                          capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["check", "--config", str(recipe.config)]) == 0, capsys.readouterr().out


# --- the reader ----------------------------------------------------------------------------------


def test_reader_reads_only_the_managed_namespaces(cluster: Recipe) -> None:
    _, _, net = cluster.kube()
    body: Any = {"metadata": {"name": "deny-all"}, "spec": {"podSelector": {}}}
    net.create_namespaced_network_policy("default", body)
    everything = reader(settings(cluster)).read_clusters().clusters[0]
    managed = reader(settings(cluster, namespaces=("finance",))).read_clusters().clusters[0]
    assert {n.name for n in everything.namespaces} >= {"accounts", "default", "finance", "kube-system"}
    assert ("default", "deny-all") in {(p.namespace, p.name) for p in everything.policies}
    assert [n.name for n in managed.namespaces] == ["finance"]
    assert managed.policies == () and {p.namespace for p in managed.pods} == {"finance"}
    assert managed.worker_subnets == everything.worker_subnets


def test_reader_lists_in_chunks_with_continue(cluster: Recipe, monkeypatch: pytest.MonkeyPatch) -> None:
    whole = reader(settings(cluster)).read_clusters().clusters[0]
    monkeypatch.setattr(kube_client, "PAGE_SIZE", 2)
    start = len(cluster.requests())
    chunked = reader(settings(cluster)).read_clusters().clusters[0]
    assert chunked == whole
    policy_calls = [r for r in cluster.requests()[start:] if r["path"].endswith("/networkpolicies")]
    assert [("continue" in r["query"], r["query"]["limit"]) for r in policy_calls] == [
        (False, "2"), (True, "2")]
    assert all(r["path"] == f"/k8s/{CLUSTER}/apis/networking.k8s.io/v1/networkpolicies" for r in policy_calls)


def test_reader_makes_no_per_object_calls(cluster: Recipe) -> None:
    start = len(cluster.requests())
    reader(settings(cluster)).read_clusters()
    paths = sorted(r["path"].rsplit("/", 1)[-1] for r in cluster.requests()[start:])
    assert paths == ["daemonsets", "deployments", "namespaces", "networkpolicies", "nodes", "pods", "statefulsets"]


@pytest.mark.parametrize(("fault", "reads"), [
    ({"path": "networkpolicies", "status": 503, "count": 2}, True),
    ({"path": "networkpolicies", "status": 429, "count": 1, "retry_after": 0}, True),
    ({"path": "nodes", "status": 503}, False),
    ({"path": "namespaces", "status": 401}, False),
    ({"path": "pods", "status": 403}, False),
])
def test_reader_retries_then_reports_the_cluster_unreadable(cluster: Recipe, fault: dict[str, Any],
                                                            reads: bool) -> None:
    cluster.fault(**fault)
    read = reader(settings(cluster)).read_clusters()
    if reads:
        assert read.unreadable == () and len(read.clusters[0].policies) == 3
    else:
        (unreadable,) = read.unreadable
        assert read.clusters == () and unreadable.scope == f"k8s/{CLUSTER}"
        assert f"(HTTP {fault['status']})" in unreadable.reason and fault["path"] in unreadable.reason


def test_an_expired_continue_token_restarts_the_list(cluster: Recipe, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(kube_client, "PAGE_SIZE", 1)
    cluster.fault(path=r"networkpolicies\?.*continue=", status=410, count=1)
    read = reader(settings(cluster)).read_clusters()
    assert read.unreadable == () and len(read.clusters[0].policies) == 3


def test_a_cluster_that_refuses_connections_is_unreadable_and_the_others_are_read(cluster: Recipe) -> None:
    down = ClusterSettings(name="down", server=f"http://127.0.0.1:{closed_port()}")
    read = reader(down, settings(cluster)).read_clusters()
    assert [c.name for c in read.clusters] == [CLUSTER]
    (unreadable,) = read.unreadable
    assert unreadable.scope == "k8s/down" and "connection refused" in unreadable.reason


def test_clusters_from_a_kubeconfig_context_and_a_token(cluster: Recipe, tmp_path: Path,
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    kubeconfig = tmp_path / "kubeconfig"
    kubeconfig.write_text(yaml.safe_dump({
        "apiVersion": "v1", "kind": "Config", "current-context": "elsewhere",
        "clusters": [{"name": "recipe", "cluster": {"server": cluster.cluster_url}},
                     {"name": "elsewhere", "cluster": {"server": f"http://127.0.0.1:{closed_port()}"}}],
        "users": [{"name": "me", "user": {"token": "kube-token"}}],
        "contexts": [{"name": "recipe", "context": {"cluster": "recipe", "user": "me"}},
                     {"name": "elsewhere", "context": {"cluster": "elsewhere", "user": "me"}}],
    }))
    via_context = ClusterSettings(name=CLUSTER, kubeconfig=str(kubeconfig), context="recipe")
    assert len(reader(via_context).read_clusters().clusters[0].policies) == 3
    monkeypatch.setenv("KUBE_TOKEN", "kube-token")
    assert reader(settings(cluster, token_env="KUBE_TOKEN")).read_clusters().unreadable == ()


def test_a_ca_file_is_what_the_client_verifies_the_api_server_with(tmp_path: Path) -> None:
    from netwarden.adapters.kube_client import connect

    ca = tmp_path / "ca.pem"
    ca.write_text("-----BEGIN CERTIFICATE-----\n-----END CERTIFICATE-----\n")
    conn = connect(ClusterSettings(name="c", server="https://c.example:30443", ca_file=str(ca)))
    assert (conn.api.configuration.ssl_ca_cert, conn.api.configuration.verify_ssl) == (str(ca), True)


@pytest.mark.parametrize(("cluster", "message"), [
    (ClusterSettings(name="c", server="http://127.0.0.1:1", token_env="NO_SUCH_TOKEN"),
     "kubernetes.clusters[c]: environment variable NO_SUCH_TOKEN (token_env) is not set"),
    (ClusterSettings(name="c", kubeconfig="does-not-exist.yaml"), "kubernetes.clusters[c]: cannot "),
    (ClusterSettings(name="c", in_cluster=True), "kubernetes.clusters[c]: cannot load the in-cluster configuration"),
    (ClusterSettings(name="c", server="https://127.0.0.1:1", ca_file="no-such-ca.pem"),
     "kubernetes.clusters[c]: ca_file no-such-ca.pem is not a readable file"),
])
def test_unusable_connection_settings_are_config_errors(cluster: ClusterSettings, message: str) -> None:
    with pytest.raises(ConfigError) as e:
        reader(cluster).read_clusters()
    assert str(e.value).startswith(message)
    assert "does-not-exist.yaml" in str(e.value) or cluster.kubeconfig is None


# --- the writer ----------------------------------------------------------------------------------


def _policy(cluster: Recipe, name: str) -> NetworkPolicy:
    return next(p for p in cluster.baseline.clusters[0].policies if p.name == name)


def _live_spec(cluster: Recipe, namespace: str, name: str) -> dict[str, Any]:
    api, _, net = cluster.kube()
    return dict(api.sanitize_for_serialization(net.read_namespaced_network_policy(name, namespace))["spec"])


def test_writer_recreates_replaces_and_deletes_policies(cluster: Recipe) -> None:
    writer = KubeClusterWriter.from_settings([settings(cluster)])
    _, _, net = cluster.kube()
    net.delete_namespaced_network_policy("db-allow", "accounts")
    writer.apply_policy(CLUSTER, _policy(cluster, "db-allow"))
    assert _live_spec(cluster, "accounts", "db-allow")["podSelector"] == {"matchLabels": {"app": "Srv1", "tier": "db"}}
    net.patch_namespaced_network_policy("backend-allow", "accounts", {"spec": {"ingress": [{}]}},
                                        _content_type="application/merge-patch+json")
    writer.apply_policy(CLUSTER, _policy(cluster, "backend-allow"))
    assert _live_spec(cluster, "accounts", "backend-allow")["ingress"] == [
        {"from": [{"podSelector": {"matchLabels": {"app": "Srv1", "tier": "frontend"}}}]}]
    writer.delete_policy(CLUSTER, "accounts", "accounts-allow")
    writer.delete_policy(CLUSTER, "accounts", "accounts-allow")  # already gone: nothing to do
    assert [p.metadata.name for p in net.list_namespaced_network_policy("accounts").items] == [
        "backend-allow", "db-allow"]


def test_writer_sets_namespace_labels_exactly(cluster: Recipe) -> None:
    _, core, _ = cluster.kube()
    core.patch_namespace("finance", {"metadata": {"labels": {"usage": "payments", "extra": "x"}}},
                         _content_type="application/merge-patch+json")
    KubeClusterWriter.from_settings([settings(cluster)]).set_namespace_labels(
        CLUSTER, Namespace("finance", {"usage": "finance"}))
    assert core.read_namespace("finance").metadata.labels == {"kubernetes.io/metadata.name": "finance",
                                                             "usage": "finance"}


@pytest.mark.parametrize(("fault", "act", "error"), [
    ({"path": "networkpolicies", "method": "PUT", "status": 409}, lambda w, r: w.apply_policy(
        CLUSTER, _policy(r, "db-allow")), TemporaryRemediationError),
    ({"path": "networkpolicies", "method": "DELETE", "status": 503}, lambda w, r: w.delete_policy(
        CLUSTER, "accounts", "db-allow"), TemporaryRemediationError),
    ({"path": "namespaces/finance", "method": "PATCH", "status": 403}, lambda w, r: w.set_namespace_labels(
        CLUSTER, Namespace("finance", {"usage": "x"})), PermanentRemediationError),
    (None, lambda w, r: w.set_namespace_labels(CLUSTER, Namespace("gone", {"usage": "x"})),
     PermanentRemediationError),
    (None, lambda w, r: w.apply_policy(CLUSTER, NetworkPolicy("accounts", "bad", {"podSelector": {},
                                                                                  "ingress": [{"from": [{}]}]})),
     PermanentRemediationError),
    (None, lambda w, r: w.delete_policy("no-such-cluster", "accounts", "x"), PermanentRemediationError),
])
def test_writer_errors_say_whether_to_retry(cluster: Recipe, fault: dict[str, Any] | None,
                                            act: Callable[[KubeClusterWriter, Recipe], None],
                                            error: type[Exception]) -> None:
    if fault:
        cluster.fault(**fault)
    with pytest.raises(error) as e:
        act(KubeClusterWriter.from_settings([settings(cluster)]), cluster)
    assert e.value.__cause__ is not None or "no-such-cluster" in str(e.value)
    assert "ApiException" not in type(e.value.__cause__).__name__

