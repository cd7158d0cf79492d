"""The emulator's ``apps/v1`` controllers and scheduler, driven by the real ``kubernetes`` client.

The controllers: ReplicaSets and pods with owners and labels, rollouts, scaling, cascading deletion,
replacement of a deleted pod, one daemon pod per eligible node, StatefulSets in order. The scheduler:
required node affinity on ``ibm-cloud.kubernetes.io/subnet-id``, Unschedulable when no node matches,
placement kept when a node's labels change, cordoned nodes skipped.
"""

from __future__ import annotations

import re
from typing import Any

import pytest
from kube_workloads_support import (
    A1,
    A2,
    B1,
    KINDS,
    NODES,
    NS,
    RACK_LABEL,
    SUBNET_A,
    SUBNET_B,
    SUBNET_LABEL,
    UNMATCHED,
    ZONE_LABEL,
    Kube,
    affinity,
    expr,
    node_body,
    workload,
)

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
