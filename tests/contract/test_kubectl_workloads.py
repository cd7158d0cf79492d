"""kubectl against the emulator's ``apps/v1`` workloads: apply, read, patch and delete them as a person does.

The real ``kubectl`` runs with ``--server`` pointed at the emulator, an empty kubeconfig and this
module's own discovery cache. Its cluster has three workers, made with ``kubectl apply`` as Node
manifests: two in the subnet the recipe's fixture pins its Deployment to, one in another subnet.
``tests/fixtures/recipe/with-node-affinity.yaml`` is the IBM recipe's example completed minimally (a
selector, template labels, one container); the example as published is refused, in the API
server's words. Without kubectl on the PATH these tests are skipped, saying so.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from netwarden.fakes.server import FakeServer

KUBECTL = shutil.which("kubectl")
pytestmark = pytest.mark.skipif(KUBECTL is None, reason="kubectl is not installed on this machine (not on PATH)")

FIXTURE = Path(__file__).resolve().parents[1] / "fixtures" / "recipe" / "with-node-affinity.yaml"
SUBNET_LABEL = "ibm-cloud.kubernetes.io/subnet-id"
#: The subnet the fixture pins to: the one value of its required node affinity.
PINNED = yaml.safe_load(FIXTURE.read_text())["spec"]["template"]["spec"]["affinity"]["nodeAffinity"][
    "requiredDuringSchedulingIgnoredDuringExecution"]["nodeSelectorTerms"][0]["matchExpressions"][0]["values"][0]
OTHER = "0727-2b9d6e1f-3a4c-4b8d-9e0f-5a6b7c8d9e0f"
WORKERS = {"10.240.0.4": (PINNED, "us-south-1"), "10.240.0.5": (PINNED, "us-south-1"),
           "10.240.64.4": (OTHER, "us-south-2")}

NODES = "---\n".join(f"""\
apiVersion: v1
kind: Node
metadata:
  name: {name}
  labels: {{{SUBNET_LABEL}: {subnet}, ibm-cloud.kubernetes.io/zone: {zone}, kubernetes.io/hostname: {name}}}
status:
  addresses: [{{type: InternalIP, address: {name}}}]
  conditions: [{{type: Ready, status: "True"}}]
""" for name, (subnet, zone) in WORKERS.items())

#: The recipe's example exactly as IBM publishes it: no selector, no labels, no container, ``...``.
PUBLISHED = """\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: with-node-affinity
spec:
  template:
    spec:
      affinity:
        nodeAffinity:
          requiredDuringSchedulingIgnoredDuringExecution:
            nodeSelectorTerms:
            - matchExpressions:
              - key: ibm-cloud.kubernetes.io/subnet-id
                operator: In
                values:
                - <subnet_ID>
...
"""

WEB = """\
apiVersion: apps/v1
kind: {kind}
metadata:
  name: web
spec:
{replicas}  selector:
    matchLabels: {{app: web}}
  template:
    metadata:
      labels: {{app: web}}
    spec:
      nodeSelector: {{ibm-cloud.kubernetes.io/zone: us-south-1}}
      containers:
      - name: web
        image: nginx:1.27
        ports: [{{containerPort: 80}}]
"""


def manifest(kind: str = "Deployment", replicas: int = 2) -> str:
    return WEB.format(kind=kind, replicas="" if kind == "DaemonSet" else f"  replicas: {replicas}\n")


class Kubectl:
    def __init__(self, fake: FakeServer, tmp: Path, cache: Path) -> None:
        self.tmp = tmp
        (tmp / "kubeconfig").write_text("")
        self.base = [str(KUBECTL), "--kubeconfig", str(tmp / "kubeconfig"), "--cache-dir", str(cache),
                     "--server", f"{fake.url}/k8s/kubectl-workloads", "--request-timeout", "10s"]

    def __call__(self, *args: str, ok: bool = True) -> subprocess.CompletedProcess[str]:
        done = subprocess.run([*self.base, *args], capture_output=True, text=True, timeout=60, check=False)
        if ok:
            assert done.returncode == 0, done.stderr
        return done

    def apply(self, text: str, *args: str, ok: bool = True) -> subprocess.CompletedProcess[str]:
        path = self.tmp / "manifest.yaml"
        path.write_text(text)
        return self("apply", "-f", str(path), *args, ok=ok)

    def json(self, *args: str) -> Any:
        return json.loads(self(*args, "-o", "json").stdout)

    def table(self, *args: str) -> list[list[str]]:
        """``kubectl get`` output as rows of cells (columns are two or more spaces apart)."""
        lines = self("get", *args).stdout.splitlines()
        return [[cell.strip() for cell in line.split("  ") if cell.strip()] for line in lines]

    def placement(self, selector: str) -> list[str]:
        return sorted(p["spec"].get("nodeName") or "" for p in self.json("get", "pods", "-l", selector)["items"])


@pytest.fixture(scope="module")
def discovery_cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("kubectl-workloads-cache")


@pytest.fixture
def kubectl(fake: FakeServer, tmp_path: Path, discovery_cache: Path) -> Kubectl:
    k = Kubectl(fake, tmp_path, discovery_cache)
    k.apply(NODES)
    return k


# --- the recipe ----------------------------------------------------------------------------------


def test_the_recipes_deployment_applies_unchanged_and_runs_on_its_subnet(kubectl: Kubectl) -> None:
    pinned = sorted(name for name, (subnet, _) in WORKERS.items() if subnet == PINNED)
    assert len(pinned) == 2  # the subnet the fixture names is one the cluster's workers are in
    assert kubectl("apply", "-f", str(FIXTURE)).stdout.strip() == "deployment.apps/with-node-affinity created"
    assert kubectl("apply", "-f", str(FIXTURE)).stdout.strip() == "deployment.apps/with-node-affinity unchanged"
    assert kubectl.placement("app=with-node-affinity") == pinned[:1]
    kubectl("patch", "deployment", "with-node-affinity", "-p", '{"spec": {"replicas": 4}}')
    assert kubectl.placement("app=with-node-affinity") == sorted(pinned * 2)
    rows = kubectl.table("pods", "-o", "wide")
    assert rows[0] == ["NAME", "READY", "STATUS", "RESTARTS", "AGE", "IP", "NODE", "NOMINATED NODE",
                       "READINESS GATES"]
    assert sorted(row[6] for row in rows[1:]) == sorted(pinned * 2) and {row[2] for row in rows[1:]} == {"Running"}
    assert kubectl.table("deployment", "with-node-affinity")[1][:4] == ["with-node-affinity", "4/4", "4", "4"]


@pytest.mark.parametrize("mode", [(), ("--server-side",)])
def test_the_recipes_example_as_published_is_refused_with_the_api_servers_message(kubectl: Kubectl,
                                                                                  mode: tuple[str, ...]) -> None:
    refused = kubectl.apply(PUBLISHED, *mode, ok=False)
    assert refused.returncode == 1
    assert refused.stderr.strip() == (
        'The Deployment "with-node-affinity" is invalid: \n'
        "* spec.selector: Required value\n"
        "* spec.template.metadata.labels: Invalid value: map[string]string(nil): `selector` does not match template "
        "`labels`\n"
        "* spec.template.spec.containers: Required value")
    assert kubectl.json("get", "deployments")["items"] == [] and kubectl.json("get", "pods")["items"] == []


# --- apply, get, patch, delete -------------------------------------------------------------------


def test_api_resources_lists_the_workload_kinds(kubectl: Kubectl) -> None:
    rows = [line.split() for line in kubectl("api-resources", "--api-group=apps").stdout.splitlines()]
    assert rows == [["NAME", "SHORTNAMES", "APIVERSION", "NAMESPACED", "KIND"],
                    ["daemonsets", "ds", "apps/v1", "true", "DaemonSet"],
                    ["deployments", "deploy", "apps/v1", "true", "Deployment"],
                    ["replicasets", "rs", "apps/v1", "true", "ReplicaSet"],
                    ["statefulsets", "sts", "apps/v1", "true", "StatefulSet"]]


def test_apply_creates_then_configures_then_leaves_unchanged(kubectl: Kubectl) -> None:
    assert kubectl.apply(manifest()).stdout.strip() == "deployment.apps/web created"
    assert kubectl.apply(manifest()).stdout.strip() == "deployment.apps/web unchanged"
    assert kubectl.apply(manifest().replace("nginx:1.27", "nginx:1.28")).stdout.strip() == \
        "deployment.apps/web configured"
    live = kubectl.json("get", "deployment", "web")
    assert (live["metadata"]["generation"], live["status"]["observedGeneration"]) == (2, 2)
    assert "kubectl.kubernetes.io/last-applied-configuration" in live["metadata"]["annotations"]
    assert sorted(row[1:3] for row in kubectl.table("rs")[1:]) == [["0", "0"], ["2", "2"]]  # DESIRED, CURRENT
    images = {p["spec"]["containers"][0]["image"] for p in kubectl.json("get", "pods", "-l", "app=web")["items"]}
    assert images == {"nginx:1.28"}


def test_server_side_apply(kubectl: Kubectl) -> None:
    assert kubectl.apply(manifest(), "--server-side").stdout.strip() == "deployment.apps/web serverside-applied"
    kubectl.apply(manifest(replicas=3), "--server-side")
    live = kubectl.json("get", "deployment", "web", "--show-managed-fields")
    assert live["spec"]["replicas"] == 3 and len(kubectl.placement("app=web")) == 3
    assert [(m["manager"], m["operation"]) for m in live["metadata"]["managedFields"]] == [("kubectl", "Apply")]


@pytest.mark.parametrize(("kind", "resource", "header", "row", "wide"), [
    ("Deployment", "deploy", ["NAME", "READY", "UP-TO-DATE", "AVAILABLE", "AGE"], ["web", "2/2", "2", "2"],
     ["CONTAINERS", "IMAGES", "SELECTOR"]),
    ("ReplicaSet", "rs", ["NAME", "DESIRED", "CURRENT", "READY", "AGE"], ["web", "2", "2", "2"],
     ["CONTAINERS", "IMAGES", "SELECTOR"]),
    ("StatefulSet", "sts", ["NAME", "READY", "AGE"], ["web", "2/2"], ["CONTAINERS", "IMAGES"]),
    ("DaemonSet", "ds", ["NAME", "DESIRED", "CURRENT", "READY", "UP-TO-DATE", "AVAILABLE", "NODE SELECTOR", "AGE"],
     ["web", "2", "2", "2", "2", "2", "ibm-cloud.kubernetes.io/zone=us-south-1"], ["CONTAINERS", "IMAGES", "SELECTOR"]),
])
def test_get_prints_the_tables_kubectl_prints(kubectl: Kubectl, kind: str, resource: str, header: list[str],
                                              row: list[str], wide: list[str]) -> None:
    kubectl.apply(manifest(kind))
    plural = f"{kind.lower()}s"
    for name in (resource, plural, f"{plural}.apps"):
        table = kubectl.table(name)
        assert table[0] == header and table[1][:len(row)] == row
    widened = kubectl.table(resource, "-o", "wide")
    assert widened[0] == [*header, *wide]
    assert widened[1][len(header):len(header) + 2] == ["web", "nginx:1.27"]
    if "SELECTOR" in wide:
        assert widened[1][-1] == "app=web"
    as_json = kubectl.json("get", resource, "web")
    assert (as_json["kind"], as_json["apiVersion"], as_json["metadata"]["name"]) == (kind, "apps/v1", "web")
    as_yaml = yaml.safe_load(kubectl("get", resource, "web", "-o", "yaml").stdout)
    assert as_yaml["spec"]["selector"] == {"matchLabels": {"app": "web"}} and as_yaml["status"] == as_json["status"]
    nodes = {p["spec"]["nodeName"] for p in kubectl.json("get", "pods")["items"]}
    assert nodes <= {name for name, (_, zone) in WORKERS.items() if zone == "us-south-1"}


def test_a_deployment_no_node_admits_shows_its_pods_pending(kubectl: Kubectl) -> None:
    kubectl.apply(manifest().replace("us-south-1", "eu-de-1"))
    assert kubectl.table("deploy")[1][:4] == ["web", "0/2", "2", "0"]  # READY, UP-TO-DATE, AVAILABLE
    assert [row[1:3] for row in kubectl.table("pods")[1:]] == [["0/1", "Pending"], ["0/1", "Pending"]]
    [condition] = kubectl.json("get", "pods")["items"][0]["status"]["conditions"]
    assert (condition["reason"], condition["message"]) == (
        "Unschedulable", "0/3 nodes are available: 3 node(s) didn't match Pod's node affinity/selector. preemption: "
        "0/3 nodes are available: 3 Preemption is not helpful for scheduling.")


@pytest.mark.parametrize(("args", "containers"), [
    (("-p", '{"spec":{"template":{"spec":{"containers":[{"name":"sidecar","image":"envoy:1.30"}]}}}}'),
     [("web", "nginx:1.27"), ("sidecar", "envoy:1.30")]),  # strategic: merged on the container's name
    (("--type", "merge", "-p", '{"spec":{"template":{"spec":{"containers":[{"name":"sidecar",'
                               '"image":"envoy:1.30"}]}}}}'), [("sidecar", "envoy:1.30")]),  # merge: the list replaced
    (("--type", "json", "-p", '[{"op":"replace","path":"/spec/template/spec/containers/0/image",'
                              '"value":"nginx:1.28"}]'), [("web", "nginx:1.28")]),
])
def test_patch(kubectl: Kubectl, args: tuple[str, ...], containers: list[tuple[str, str]]) -> None:
    kubectl.apply(manifest())
    assert kubectl("patch", "deployment", "web", *args).stdout.strip() == "deployment.apps/web patched"
    template = kubectl.json("get", "deployment", "web")["spec"]["template"]["spec"]
    assert [(c["name"], c["image"]) for c in template["containers"]] == containers
    pods = kubectl.json("get", "pods", "-l", "app=web")["items"]
    assert len(pods) == 2 and all([(c["name"], c["image"]) for c in p["spec"]["containers"]] == containers
                                  for p in pods)


def test_delete_cascades_and_orphan_keeps_the_replicaset(kubectl: Kubectl) -> None:
    kubectl.apply(manifest())
    assert kubectl("delete", "deployment", "web").stdout.strip() == 'deployment.apps "web" deleted'
    assert kubectl.json("get", "rs")["items"] == [] and kubectl.json("get", "pods")["items"] == []
    missing = kubectl("delete", "deployment", "web", ok=False)
    assert missing.returncode == 1 and 'deployments.apps "web" not found' in missing.stderr
    kubectl.apply(manifest())
    kubectl("delete", "deployment", "web", "--cascade=orphan")
    [rs] = kubectl.json("get", "rs")["items"]
    assert "ownerReferences" not in rs["metadata"] and len(kubectl.json("get", "pods")["items"]) == 2


def test_explain_reads_the_workload_schema(kubectl: Kubectl) -> None:
    explained = kubectl("explain", "deployment.spec.template.spec.affinity.nodeAffinity").stdout
    assert "requiredDuringSchedulingIgnoredDuringExecution" in explained and "FIELDS:" in explained
