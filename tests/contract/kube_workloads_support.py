"""What the ``apps/v1`` contract tests share: the three-worker cluster, workload bodies, and a client wrapper.

The cluster has three workers: two in one subnet, one in another, labelled with
``ibm-cloud.kubernetes.io/subnet-id``, a zone and a rack; ``Kube`` calls ``AppsV1Api`` by kind.
"""
from __future__ import annotations

import json
import urllib.request
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


def refusal(error: pytest.ExceptionInfo[ApiException]) -> tuple[int, dict[str, Any]]:
    return error.value.status, json.loads(error.value.body)
