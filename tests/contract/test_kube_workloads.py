"""The emulator's ``apps/v1`` workloads driven by the real ``kubernetes`` client's ``AppsV1Api``.

Deployments, ReplicaSets, StatefulSets and DaemonSets: CRUD with the API server's defaults, the four
patch formats with Kubernetes' list semantics, admission refusals in the API server's words. The
controllers and the scheduler are in ``test_kube_workload_controllers.py``.
"""

from __future__ import annotations

from typing import Any

import pytest
from kube_workloads_support import (
    KINDS,
    NS,
    SUBNET_A,
    SUBNET_B,
    SUBNET_LABEL,
    ZONE_LABEL,
    Kube,
    affinity,
    expr,
    refusal,
    workload,
)
from kubernetes import client
from kubernetes.client.exceptions import ApiException

# --- discovery and CRUD --------------------------------------------------------------------------


def test_discovery_lists_the_apps_group_and_its_kinds(kube: Kube) -> None:
    assert "apps" in [g.name for g in client.ApisApi(kube.api).get_api_versions().groups]
    resources = kube.apps.get_api_resources()
    assert resources.group_version == "apps/v1"
    assert [(r.name, r.kind, r.namespaced, r.short_names, sorted(r.verbs)) for r in resources.resources] == [
        (name, kind, True, [short], ["create", "delete", "get", "list", "patch", "update", "watch"])
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
