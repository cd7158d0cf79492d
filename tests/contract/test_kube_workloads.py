"""The emulator's ``apps/v1`` workloads driven by the real ``kubernetes`` client's ``AppsV1Api``.

Deployments, ReplicaSets, StatefulSets and DaemonSets: CRUD with the API server's defaults, the four
patch formats with Kubernetes' list semantics, admission refusals in the API server's words, the
controllers (ReplicaSets and pods with owners and labels, rollouts, scaling, cascading deletion,
replacement of a deleted pod, one daemon pod per eligible node) and the scheduler (required node
affinity on ``ibm-cloud.kubernetes.io/subnet-id``, Unschedulable when no node matches, placement kept
when a node's labels change). The cluster has three workers: two in one subnet, one in another.
"""

from __future__ import annotations

import json
import re
import urllib.request
from collections.abc import Iterator
from typing import Any

import pytest
from kubernetes import client
from kubernetes.client.exceptions import ApiException

from netwarden.fakes.server import FakeServer

CLUSTER, NS = "workloads", "shop"
SUBNET_LABEL, ZONE_LABEL, RACK_LABEL = "ibm-cloud.kubernetes.io/subnet-id", "ibm-cloud.kubernetes.io/zone", "rack"
SUBNET_A, SUBNET_B = "0717-6c3e4a2b-8d1f-4e5a-9b7c-1f2e3d4c5b6a", "0727-2b9d6e1f-3a4c-4b8d-9e0f-5a6b7c8d9e0f"
NODES = {"10.240.0.4": (SUBNET_A, "us-south-1", "1"), "10.240.0.5": (SUBNET_A, "us-south-1", "2"),
         "10.240.64.4": (SUBNET_B, "us-south-2", "3")}
A1, A2, B1 = NODES
SNAKE = {"Deployment": "deployment", "ReplicaSet": "replica_set", "StatefulSet": "stateful_set",
         "DaemonSet": "daemon_set"}
KINDS = list(SNAKE)
UNMATCHED = ("0/3 nodes are available: 3 node(s) didn't match Pod's node affinity/selector. preemption: 0/3 nodes are "
             "available: 3 Preemption is not helpful for scheduling.")


def node_body(name: str, subnet: str, zone: str, rack: str) -> Any:
    return {"metadata": {"name": name, "labels": {SUBNET_LABEL: subnet, ZONE_LABEL: zone, RACK_LABEL: rack,
                                                  "kubernetes.io/hostname": name}},
            "status": {"addresses": [{"type": "InternalIP", "address": name}],
                       "conditions": [{"type": "Ready", "status": "True"}]}}


def affinity(*terms: list[dict[str, Any]]) -> dict[str, Any]:
    return {"affinity": {"nodeAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": {
        "nodeSelectorTerms": [{"matchExpressions": t} for t in terms]}}}}


def expr(key: str, operator: str, *values: str) -> dict[str, Any]:
    return {"key": key, "operator": operator, **({"values": list(values)} if values else {})}


def workload(kind: str, name: str, *, replicas: int = 2, pod: dict[str, Any] | None = None) -> Any:
    labels = {"app": name}
    spec: dict[str, Any] = {"selector": {"matchLabels": labels}, "template": {"metadata": {"labels": labels}, "spec": {
        "containers": [{"name": "web", "image": "nginx:1.27", "ports": [{"containerPort": 80}]}], **(pod or {})}}}
    if kind != "DaemonSet":
        spec["replicas"] = replicas
    if kind == "StatefulSet":
        spec["serviceName"] = name
    return {"apiVersion": "apps/v1", "kind": kind, "metadata": {"name": name}, "spec": spec}


class Kube:
    def __init__(self, fake: FakeServer) -> None:
        self.fake = fake
        self.api = client.ApiClient(client.Configuration(host=f"{fake.url}/k8s/{CLUSTER}"))
        self.core, self.apps = client.CoreV1Api(self.api), client.AppsV1Api(self.api)

    def call(self, verb: str, kind: str, *args: Any, **kwargs: Any) -> Any:
        """``AppsV1Api.<verb>_namespaced_<kind>`` (``list_all``: ``list_<kind>_for_all_namespaces``)."""
        name = f"list_{SNAKE[kind]}_for_all_namespaces" if verb == "list_all" else f"{verb}_namespaced_{SNAKE[kind]}"
        result = getattr(self.apps, name)(*args, **kwargs)
        return self.api.sanitize_for_serialization(result)

    def create(self, body: Any) -> Any:
        return self.call("create", body["kind"], NS, body)

    def get(self, kind: str, name: str) -> Any:
        return self.call("read", kind, name, NS)

    def pods(self, **selectors: Any) -> list[dict[str, Any]]:
        return list(self.api.sanitize_for_serialization(self.core.list_namespaced_pod(NS, **selectors))["items"])

    def nodes_of(self, app: str) -> list[str]:
        return sorted(p["spec"].get("nodeName") or "" for p in self.pods(label_selector=f"app={app}"))

    def raw(self, method: str, path: str, body: Any) -> tuple[int, Any]:
        """What the typed API refuses to send (it checks required fields first) goes through ``call_api``."""
        response = self.api.call_api(method, f"{self.api.configuration.host}{path}",
                                     {"Content-Type": "application/json", "Accept": "application/json"}, body)
        response.read()
        return response.status, json.loads(response.data)

    def replica_sets(self, app: str) -> list[dict[str, Any]]:
        return list(self.call("list", "ReplicaSet", NS, label_selector=f"app={app}")["items"])

    def events(self) -> list[dict[str, Any]]:
        with urllib.request.urlopen(f"{self.fake.url}/_fake/events") as response:
            return [e for e in json.load(response)["events"] if e.get("source") == "kubernetes"]


@pytest.fixture
def kube(fake: FakeServer) -> Iterator[Kube]:
    k = Kube(fake)
    k.core.create_namespace({"metadata": {"name": NS}})
    for name, labels in NODES.items():
        k.core.create_node(node_body(name, *labels))
    yield k
    k.api.close()


def refusal(error: pytest.ExceptionInfo[ApiException]) -> tuple[int, dict[str, Any]]:
    return error.value.status, json.loads(error.value.body)


# --- discovery and CRUD --------------------------------------------------------------------------


def test_discovery_lists_the_apps_group_and_its_kinds(kube: Kube) -> None:
    assert "apps" in [g.name for g in client.ApisApi(kube.api).get_api_versions().groups]
    resources = kube.apps.get_api_resources()
    assert resources.group_version == "apps/v1"
    assert [(r.name, r.kind, r.namespaced, r.short_names, sorted(r.verbs)) for r in resources.resources] == [
        (name, kind, True, [short], ["create", "delete", "get", "list", "patch", "update"])
        for name, kind, short in (("daemonsets", "DaemonSet", "ds"), ("deployments", "Deployment", "deploy"),
                                  ("replicasets", "ReplicaSet", "rs"), ("statefulsets", "StatefulSet", "sts"))]


DEFAULTS = {
    "Deployment": {"replicas": 2, "revisionHistoryLimit": 10, "progressDeadlineSeconds": 600, "strategy": {
        "type": "RollingUpdate", "rollingUpdate": {"maxUnavailable": "25%", "maxSurge": "25%"}}},
    "ReplicaSet": {"replicas": 2},
    "StatefulSet": {"podManagementPolicy": "OrderedReady", "revisionHistoryLimit": 10,
                    "updateStrategy": {"type": "RollingUpdate", "rollingUpdate": {"partition": 0}},
                    "persistentVolumeClaimRetentionPolicy": {"whenDeleted": "Retain", "whenScaled": "Retain"}},
    "DaemonSet": {"revisionHistoryLimit": 10,
                  "updateStrategy": {"type": "RollingUpdate", "rollingUpdate": {"maxUnavailable": 1, "maxSurge": 0}}},
}


@pytest.mark.parametrize("kind", KINDS)
def test_create_read_list_replace_delete_with_the_api_servers_defaults(kube: Kube, kind: str) -> None:
    created = kube.create(workload(kind, "web"))
    assert created["metadata"]["generation"] == 1 and created["metadata"]["uid"]
    assert {k: created["spec"][k] for k in DEFAULTS[kind]} == DEFAULTS[kind]
    template = created["spec"]["template"]["spec"]
    assert (template["restartPolicy"], template["dnsPolicy"], template["terminationGracePeriodSeconds"],
            template["schedulerName"], "serviceAccountName" in template) == (
        "Always", "ClusterFirst", 30, "default-scheduler", False)
    assert template["containers"][0]["ports"] == [{"containerPort": 80, "protocol": "TCP"}]
    assert kube.get(kind, "web")["metadata"]["uid"] == created["metadata"]["uid"]
    kube.core.create_namespace({"metadata": {"name": "other"}})
    kube.call("create", kind, "other", workload(kind, "api"))
    assert [i["metadata"]["name"] for i in kube.call("list", kind, NS)["items"]] == ["web"]
    assert [f"{i['metadata']['namespace']}/{i['metadata']['name']}" for i in kube.call("list_all", kind)["items"]] == [
        "other/api", "shop/web"]
    live = kube.get(kind, "web")
    live["spec"]["template"]["spec"]["containers"][0]["image"] = "nginx:1.28"
    replaced = kube.call("replace", kind, "web", NS, live)
    assert replaced["metadata"]["generation"] == 2
    assert int(replaced["metadata"]["resourceVersion"]) > int(live["metadata"]["resourceVersion"])
    status = kube.call("delete", kind, "web", NS)
    assert (status["status"], status["details"]) == ("Success", {
        "name": "web", "group": "apps", "kind": f"{kind.lower()}s", "uid": live["metadata"]["uid"]})
    with pytest.raises(ApiException) as e:
        kube.get(kind, "web")
    assert refusal(e)[1]["message"] == f'{kind.lower()}s.apps "web" not found'
    assert kube.pods(label_selector="app=web") == []


# --- patches -------------------------------------------------------------------------------------

SIDECAR = {"name": "sidecar", "image": "envoy:1.30"}
TERMS = affinity([expr(SUBNET_LABEL, "In", SUBNET_A)], [expr(ZONE_LABEL, "In", "us-south-1")])


@pytest.mark.parametrize(("content_type", "patch", "containers", "terms"), [
    ("application/strategic-merge-patch+json",  # containers merge on name, ports on containerPort
     {"spec": {"template": {"spec": {"containers": [{"name": "web", "image": "nginx:1.28",
                                                     "ports": [{"containerPort": 443}]}]}}}},
     [("web", "nginx:1.28", [80, 443]), ("sidecar", "envoy:1.30", [])], 2),
    ("application/strategic-merge-patch+json",  # nodeSelectorTerms and matchExpressions are atomic: replaced whole
     {"spec": {"template": {"spec": affinity([expr(SUBNET_LABEL, "In", SUBNET_B)])}}},
     [("web", "nginx:1.27", [80]), ("sidecar", "envoy:1.30", [])], 1),
    ("application/merge-patch+json",  # a merge patch replaces every list
     {"spec": {"template": {"spec": {"containers": [{"name": "web", "image": "nginx:1.28"}]}}}},
     [("web", "nginx:1.28", [])], 2),
    ("application/json-patch+json",
     [{"op": "replace", "path": "/spec/template/spec/containers/1/image", "value": "envoy:1.31"},
      {"op": "remove", "path": "/spec/template/spec/affinity/nodeAffinity/"
                               "requiredDuringSchedulingIgnoredDuringExecution/nodeSelectorTerms/1"}],
     [("web", "nginx:1.27", [80]), ("sidecar", "envoy:1.31", [])], 1),
])
@pytest.mark.parametrize("kind", KINDS)
def test_patch_formats_follow_the_list_semantics_kubernetes_declares(kube: Kube, kind: str, content_type: str,
                                                                     patch: Any, containers: list[Any],
                                                                     terms: int) -> None:
    body = workload(kind, "web", pod=TERMS)
    body["spec"]["template"]["spec"]["containers"].append(SIDECAR)
    kube.create(body)
    patched = kube.call("patch", kind, "web", NS, patch, _content_type=content_type)
    pod_spec = patched["spec"]["template"]["spec"]
    assert [(c["name"], c["image"], [p["containerPort"] for p in c.get("ports") or []])
            for c in pod_spec["containers"]] == containers
    assert len(pod_spec["affinity"]["nodeAffinity"]["requiredDuringSchedulingIgnoredDuringExecution"][
        "nodeSelectorTerms"]) == terms
    assert patched["metadata"]["generation"] == 2


@pytest.mark.parametrize("kind", KINDS)
def test_server_side_apply_creates_then_updates_and_owns_its_fields(kube: Kube, kind: str) -> None:
    config = workload(kind, "web")
    created = kube.call("patch", kind, "web", NS, config, field_manager="deployer",
                        _content_type="application/apply-patch+yaml")
    assert [(m["manager"], m["operation"]) for m in created["metadata"]["managedFields"]] == [("deployer", "Apply")]
    config["spec"]["template"]["spec"]["containers"][0]["image"] = "nginx:1.28"
    applied = kube.call("patch", kind, "web", NS, config, field_manager="deployer",
                        _content_type="application/apply-patch+yaml")
    assert applied["spec"]["template"]["spec"]["containers"][0]["image"] == "nginx:1.28"
    assert applied["metadata"]["generation"] == 2
    # A ReplicaSet's template is for the pods it makes next; the other controllers roll theirs.
    assert {p["spec"]["containers"][0]["image"] for p in kube.pods(label_selector="app=web")} == {
        "nginx:1.27" if kind == "ReplicaSet" else "nginx:1.28"}


# --- controllers ---------------------------------------------------------------------------------


def test_a_deployment_owns_a_replicaset_per_template_and_it_owns_the_pods(kube: Kube) -> None:
    deployment = kube.create(workload("Deployment", "web", replicas=3))
    [rs] = kube.replica_sets("web")
    hashed = rs["metadata"]["labels"]["pod-template-hash"]
    assert rs["metadata"]["name"] == f"web-{hashed}"
    assert rs["spec"]["selector"]["matchLabels"] == {"app": "web", "pod-template-hash": hashed}
    assert rs["spec"]["template"]["metadata"]["labels"] == {"app": "web", "pod-template-hash": hashed}
    assert rs["metadata"]["ownerReferences"] == [{"apiVersion": "apps/v1", "kind": "Deployment", "name": "web",
                                                  "uid": deployment["metadata"]["uid"], "controller": True,
                                                  "blockOwnerDeletion": True}]
    pods = kube.pods()
    assert len(pods) == 3 and all(re.fullmatch(rf"web-{hashed}-[a-z0-9]{{5}}", p["metadata"]["name"]) for p in pods)
    assert all(p["metadata"]["labels"] == {"app": "web", "pod-template-hash": hashed} for p in pods)
    assert all(p["metadata"]["ownerReferences"][0]["uid"] == rs["metadata"]["uid"] for p in pods)
    assert all(p["status"]["phase"] == "Running" and p["spec"]["containers"][0]["image"] == "nginx:1.27" for p in pods)
    live = kube.get("Deployment", "web")
    assert live["metadata"]["annotations"] == {"deployment.kubernetes.io/revision": "1"}
    assert {k: live["status"].get(k) for k in ("replicas", "readyReplicas", "availableReplicas", "updatedReplicas",
                                               "observedGeneration")} == dict.fromkeys(
        ("replicas", "readyReplicas", "availableReplicas", "updatedReplicas"), 3) | {"observedGeneration": 1}
    creators = {e["user_agent"].rsplit(":", 1)[-1] for e in kube.events() if e["verb"] == "create"
                and e["resource"] in ("replicasets", "pods")}
    assert creators == {"deployment-controller", "replicaset-controller"}


def test_a_template_change_rolls_a_new_replicaset_and_scales_the_old_to_zero(kube: Kube) -> None:
    kube.create(workload("Deployment", "web", replicas=3))
    [first] = kube.replica_sets("web")
    kube.apps.patch_namespaced_deployment("web", NS, {"spec": {"template": {"spec": {"containers": [
        {"name": "web", "image": "nginx:1.28"}]}}}})
    sets = {rs["metadata"]["name"]: rs for rs in kube.replica_sets("web")}
    [second] = [n for n in sets if n != first["metadata"]["name"]]
    assert (sets[first["metadata"]["name"]]["spec"]["replicas"], sets[second]["spec"]["replicas"]) == (0, 3)
    assert sets[second]["metadata"]["annotations"]["deployment.kubernetes.io/revision"] == "2"
    pods = kube.pods()
    assert len(pods) == 3 and {p["metadata"]["ownerReferences"][0]["name"] for p in pods} == {second}
    assert {p["spec"]["containers"][0]["image"] for p in pods} == {"nginx:1.28"}
    live = kube.get("Deployment", "web")
    status = live["status"]
    assert (live["metadata"]["generation"], status["observedGeneration"], status["updatedReplicas"]) == (2, 2, 3)


@pytest.mark.parametrize(("kind", "names"), [
    ("Deployment", None), ("ReplicaSet", None), ("StatefulSet", ["web-0", "web-1", "web-2", "web-3", "web-4"])])
def test_scaling_adds_and_removes_pods(kube: Kube, kind: str, names: list[str] | None) -> None:
    kube.create(workload(kind, "web"))
    kube.call("patch", kind, "web", NS, {"spec": {"replicas": 5}})
    assert len(kube.pods()) == 5 and (names is None or sorted(p["metadata"]["name"] for p in kube.pods()) == names)
    kube.call("patch", kind, "web", NS, {"spec": {"replicas": 1}})
    pods = kube.pods()
    assert len(pods) == 1 and (names is None or pods[0]["metadata"]["name"] == "web-0")
    assert kube.get(kind, "web")["status"]["replicas"] == 1


@pytest.mark.parametrize("kind", KINDS)
def test_deleting_a_workload_deletes_what_it_owns(kube: Kube, kind: str) -> None:
    kube.create(workload(kind, "web"))
    assert kube.pods()
    kube.call("delete", kind, "web", NS)
    assert kube.pods() == [] and kube.replica_sets("web") == []
    collected = {e["resource"] for e in kube.events() if e["verb"] == "delete"
                 and e["user_agent"].endswith("generic-garbage-collector")}
    assert collected == ({"replicasets", "pods"} if kind == "Deployment" else {"pods"})


def test_deleting_with_orphan_propagation_releases_the_dependents(kube: Kube) -> None:
    kube.create(workload("Deployment", "web"))
    kube.apps.delete_namespaced_deployment("web", NS, propagation_policy="Orphan")
    [rs] = kube.replica_sets("web")
    assert "ownerReferences" not in rs["metadata"] and len(kube.pods()) == 2


@pytest.mark.parametrize("kind", KINDS)
def test_a_deleted_pod_is_replaced_by_its_owner(kube: Kube, kind: str) -> None:
    kube.create(workload(kind, "web"))
    before = {p["metadata"]["uid"]: p["metadata"]["name"] for p in kube.pods()}
    victim = sorted(before.values())[0]
    kube.core.delete_namespaced_pod(victim, NS)
    after = {p["metadata"]["uid"]: p["metadata"]["name"] for p in kube.pods()}
    assert len(after) == len(before) and set(after) - set(before)
    assert (victim in after.values()) == (kind == "StatefulSet")  # a StatefulSet's pod keeps its name


def test_a_replicaset_releases_a_relabelled_pod_and_adopts_an_orphan(kube: Kube) -> None:
    rs = kube.create(workload("ReplicaSet", "web"))
    victim = kube.pods()[0]["metadata"]["name"]
    kube.core.patch_namespaced_pod(victim, NS, {"metadata": {"labels": {"app": "debug"}}})
    released = kube.api.sanitize_for_serialization(kube.core.read_namespaced_pod(victim, NS))
    assert "ownerReferences" not in released["metadata"]
    assert len(kube.pods(label_selector="app=web")) == 2  # replaced
    kube.core.patch_namespaced_pod(victim, NS, {"metadata": {"labels": {"app": "web"}}})
    owners = [p["metadata"]["ownerReferences"][0]["uid"] for p in kube.pods(label_selector="app=web")]
    assert owners == [rs["metadata"]["uid"]] * 2  # adopted back, and one too many removed


@pytest.mark.parametrize(("pod", "nodes"), [
    ({}, [A1, A2, B1]),
    ({"nodeSelector": {ZONE_LABEL: "us-south-1"}}, [A1, A2]),
    (affinity([expr(SUBNET_LABEL, "In", SUBNET_B)]), [B1]),
    (affinity([expr(RACK_LABEL, "Gt", "1")]), [A2, B1]),
    (affinity([expr(SUBNET_LABEL, "In", "0737-none")]), []),
])
def test_a_daemonset_runs_one_pod_per_node_it_admits(kube: Kube, pod: dict[str, Any], nodes: list[str]) -> None:
    kube.create(workload("DaemonSet", "agent", pod=pod))
    pods = kube.pods()
    assert sorted(p["spec"]["nodeName"] for p in pods) == sorted(nodes)
    assert all(p["spec"]["affinity"]["nodeAffinity"]["requiredDuringSchedulingIgnoredDuringExecution"] == {
        "nodeSelectorTerms": [{"matchFields": [{"key": "metadata.name", "operator": "In",
                                                "values": [p["spec"]["nodeName"]]}]}]} for p in pods)
    status = kube.get("DaemonSet", "agent")["status"]
    assert (status["desiredNumberScheduled"], status["currentNumberScheduled"], status["numberReady"]) == (
        len(nodes), len(nodes), len(nodes))


def test_a_daemonset_follows_its_nodes_labels(kube: Kube) -> None:
    kube.create(workload("DaemonSet", "agent", pod={"nodeSelector": {ZONE_LABEL: "us-south-2"}}))
    assert kube.nodes_of("agent") == [B1]
    kube.core.patch_node(A1, {"metadata": {"labels": {ZONE_LABEL: "us-south-2"}}})
    assert kube.nodes_of("agent") == [A1, B1]
    kube.core.patch_node(B1, {"metadata": {"labels": {ZONE_LABEL: "us-south-3"}}})
    assert kube.nodes_of("agent") == [A1]


@pytest.mark.parametrize(("policy", "pods"), [("OrderedReady", ["db-0"]), ("Parallel", ["db-0", "db-1", "db-2"])])
def test_a_statefulset_no_node_admits_waits_in_order(kube: Kube, policy: str, pods: list[str]) -> None:
    body = workload("StatefulSet", "db", replicas=3, pod={"nodeSelector": {ZONE_LABEL: "eu-de-1"}})
    body["spec"]["podManagementPolicy"] = policy
    kube.create(body)
    assert [(p["metadata"]["name"], p["status"]["phase"]) for p in kube.pods()] == [(n, "Pending") for n in pods]
    assert kube.pods()[0]["metadata"]["labels"]["statefulset.kubernetes.io/pod-name"] == "db-0"


def test_a_statefulset_whose_pods_the_api_server_refuses_is_stored_without_pods(kube: Kube) -> None:
    body = workload("StatefulSet", "db")
    body["spec"]["template"]["spec"]["containers"] = []  # the API server does not validate its pod spec
    kube.create(body)
    assert kube.pods() == [] and kube.get("StatefulSet", "db")["status"]["replicas"] == 0


# --- scheduling ----------------------------------------------------------------------------------


@pytest.mark.parametrize(("pod", "nodes"), [
    (affinity([expr(SUBNET_LABEL, "In", SUBNET_A)]), {A1, A2}),
    (affinity([expr(SUBNET_LABEL, "NotIn", SUBNET_A)]), {B1}),
    (affinity([expr(ZONE_LABEL, "Exists")]), {A1, A2, B1}),
    (affinity([expr("dedicated", "NotIn", "edge")]), {A1, A2, B1}),  # a label a node lacks is not in any set
    (affinity([expr(ZONE_LABEL, "DoesNotExist")]), set()),
    (affinity([expr(RACK_LABEL, "Lt", "2")]), {A1}),
    (affinity([expr(SUBNET_LABEL, "In", SUBNET_A), expr(RACK_LABEL, "Gt", "1")]), {A2}),  # a term's expressions: AND
    (affinity([expr(SUBNET_LABEL, "In", SUBNET_B)], [expr(RACK_LABEL, "Lt", "2")]), {A1, B1}),  # terms: OR
    ({"affinity": {"nodeAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": {"nodeSelectorTerms": [
        {"matchFields": [{"key": "metadata.name", "operator": "In", "values": [A2]}]}]}}}}, {A2}),
    ({"nodeSelector": {ZONE_LABEL: "us-south-2"}}, {B1}),
    ({"nodeSelector": {ZONE_LABEL: "us-south-2"}, **affinity([expr(SUBNET_LABEL, "In", SUBNET_A)])}, set()),
])
def test_pods_are_bound_only_to_nodes_their_selector_and_required_affinity_admit(kube: Kube, pod: dict[str, Any],
                                                                               nodes: set[str]) -> None:
    kube.create(workload("Deployment", "web", replicas=6, pod=pod))
    placed = kube.nodes_of("web")
    assert len(placed) == 6 and set(placed) == (nodes or {""})
    if nodes:  # the least loaded of the admitted nodes, each time
        assert max(placed.count(n) for n in nodes) - min(placed.count(n) for n in nodes) <= 1


def test_a_deployment_pinned_to_a_subnet_no_node_has_stays_pending(kube: Kube) -> None:
    kube.create(workload("Deployment", "web", replicas=2, pod=affinity([expr(SUBNET_LABEL, "In", "0737-none")])))
    for pod in kube.pods():
        [condition] = pod["status"]["conditions"]
        assert (pod["status"]["phase"], condition["type"], condition["status"], condition["reason"],
                condition["message"]) == ("Pending", "PodScheduled", "False", "Unschedulable", UNMATCHED)
    status = kube.get("Deployment", "web")["status"]
    assert (status["replicas"], status.get("availableReplicas"), status["unavailableReplicas"]) == (2, None, 2)
    assert [(c["type"], c["status"]) for c in status["conditions"]] == [("Available", "False"),
                                                                        ("Progressing", "True")]
    kube.core.create_node(node_body("10.240.128.4", "0737-none", "us-south-3", "4"))  # the scheduler tries again
    assert kube.nodes_of("web") == ["10.240.128.4", "10.240.128.4"]


def test_removing_the_affinity_rolls_pods_that_may_land_anywhere(kube: Kube) -> None:
    kube.create(workload("Deployment", "web", replicas=3, pod=affinity([expr(SUBNET_LABEL, "In", SUBNET_B)])))
    assert kube.nodes_of("web") == [B1, B1, B1]
    kube.apps.patch_namespaced_deployment("web", NS, [{"op": "remove", "path": "/spec/template/spec/affinity"}])
    pods = kube.pods()
    assert len(pods) == 3 and all("affinity" not in p["spec"] for p in pods) and len(kube.replica_sets("web")) == 2
    assert {p["spec"]["nodeName"] for p in pods} - {B1}  # no longer held to subnet B


def test_node_label_changes_do_not_move_running_pods(kube: Kube) -> None:
    kube.create(workload("Deployment", "web", replicas=2, pod=affinity([expr(SUBNET_LABEL, "In", SUBNET_A)])))
    assert kube.nodes_of("web") == [A1, A2]
    kube.core.patch_node(A1, {"metadata": {"labels": {SUBNET_LABEL: SUBNET_B}}})
    assert kube.nodes_of("web") == [A1, A2]  # IgnoredDuringExecution
    kube.apps.patch_namespaced_deployment("web", NS, {"spec": {"replicas": 4}})
    assert kube.nodes_of("web") == [A1, A2, A2, A2]


def test_cordoned_nodes_take_no_new_pods_and_bare_pods_still_schedule(kube: Kube) -> None:
    for name in NODES:
        kube.core.patch_node(name, {"spec": {"unschedulable": True}})
    kube.create(workload("Deployment", "web", replicas=1))
    assert kube.pods()[0]["status"]["conditions"][0]["message"].startswith(
        "0/3 nodes are available: 3 node(s) were unschedulable.")
    kube.core.patch_node(B1, {"spec": {"unschedulable": False}})
    assert kube.nodes_of("web") == [B1]
    bare = kube.core.create_namespaced_pod(NS, {"metadata": {"name": "bare"}, "spec": {"containers": [
        {"name": "c", "image": "busybox:1.36"}]}})
    assert (bare.spec.node_name, bare.status.phase, bare.metadata.owner_references) == (B1, "Running", None)


# --- admission -----------------------------------------------------------------------------------

TERM_PATH = "spec.template.spec.affinity.nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution.nodeSelectorTerms"


def _without(path: str) -> Any:
    def edit(body: Any) -> None:
        *parents, last = path.split(".")
        node = body
        for part in parents:
            node = node[part]
        del node[last]
    return edit


@pytest.mark.parametrize(("kind", "edit", "causes"), [
    ("Deployment", _without("spec.selector"), [
        ("FieldValueRequired", "spec.selector", "Required value"),
        ("FieldValueInvalid", "spec.template.metadata.labels",
         'Invalid value: map[string]string{"app":"web"}: `selector` does not match template `labels`')]),
    ("ReplicaSet", lambda b: b["spec"]["selector"].update(matchLabels={"app": "api"}), [
        ("FieldValueInvalid", "spec.template.metadata.labels",
         'Invalid value: map[string]string{"app":"web"}: `selector` does not match template `labels`')]),
    ("DaemonSet", _without("spec.template.spec.containers"), [
        ("FieldValueRequired", "spec.template.spec.containers", "Required value")]),
    ("Deployment", lambda b: b["spec"]["template"]["spec"].update(affinity([expr(SUBNET_LABEL, "In")])), [
        ("FieldValueRequired", f"{TERM_PATH}[0].matchExpressions[0].values",
         "Required value: must be specified when `operator` is 'In' or 'NotIn'")]),
    ("Deployment", lambda b: b["spec"]["template"]["spec"].update(affinity([expr(SUBNET_LABEL, "Within", "x")])), [
        ("FieldValueInvalid", f"{TERM_PATH}[0].matchExpressions[0].operator",
         'Invalid value: "Within": not a valid selector operator')]),
    ("DaemonSet", lambda b: b["spec"]["template"]["spec"].update(affinity([expr(ZONE_LABEL, "Exists", "x")])), [
        ("FieldValueForbidden", f"{TERM_PATH}[0].matchExpressions[0].values",
         "Forbidden: may not be specified when `operator` is 'Exists' or 'DoesNotExist'")]),
    ("Deployment", lambda b: b["spec"]["template"]["spec"].update(affinity()), [
        ("FieldValueRequired", TERM_PATH, "Required value: must have at least one node selector term")]),
    ("Deployment", lambda b: b["spec"].update(replicas=-1), [
        ("FieldValueInvalid", "spec.replicas", "Invalid value: -1: must be greater than or equal to 0")]),
    ("StatefulSet", lambda b: b["spec"].update(selector={}), [
        ("FieldValueInvalid", "spec.selector", "Invalid value: v1.LabelSelector{MatchLabels:map[string]string(nil), "
         "MatchExpressions:[]v1.LabelSelectorRequirement(nil)}: empty selector is invalid for statefulset")]),
])
def test_admission_refuses_what_the_api_server_refuses(kube: Kube, kind: str, edit: Any,
                                                       causes: list[tuple[str, str, str]]) -> None:
    body = workload(kind, "web")
    body["metadata"]["name"] = "bad"
    edit(body)
    code, status = kube.raw("POST", f"/apis/apps/v1/namespaces/{NS}/{kind.lower()}s", body)
    assert (code, status["reason"], status["details"]["kind"], status["details"]["group"]) == (
        422, "Invalid", kind, "apps")
    assert [(c["reason"], c["field"], c["message"]) for c in status["details"]["causes"]] == causes
    errors = [f"{field}: {message}" for _, field, message in causes]
    assert status["message"] == f'{kind}.apps "bad" is invalid: ' + (
        errors[0] if len(errors) == 1 else "[" + ", ".join(errors) + "]")
    assert kube.call("list", kind, NS)["items"] == []


@pytest.mark.parametrize(("kind", "message"), [
    ("Deployment", 'spec.selector: Invalid value: v1.LabelSelector{MatchLabels:map[string]string{"app":"web", '
                   '"tier":"front"}, MatchExpressions:[]v1.LabelSelectorRequirement(nil)}: field is immutable'),
    ("ReplicaSet", "field is immutable"), ("DaemonSet", "field is immutable"),
    ("StatefulSet", "spec: Forbidden: updates to statefulset spec for fields other than 'replicas', 'ordinals', "
                    "'template', 'updateStrategy', 'persistentVolumeClaimRetentionPolicy' and 'minReadySeconds' are "
                    "forbidden"),
])
def test_the_selector_is_immutable(kube: Kube, kind: str, message: str) -> None:
    kube.create(workload(kind, "web"))
    patch = {"spec": {"selector": {"matchLabels": {"tier": "front"}},
                      "template": {"metadata": {"labels": {"tier": "front"}}}}}
    with pytest.raises(ApiException) as e:
        kube.call("patch", kind, "web", NS, patch)
    code, status = refusal(e)
    assert code == 422 and message in status["message"]
    assert kube.get(kind, "web")["spec"]["selector"] == {"matchLabels": {"app": "web"}}
