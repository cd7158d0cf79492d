"""The gateway recipe's pinned workloads, layer by layer: what a pod template admits and whose a pod is
(``adapters.kube_workloads``), the findings of a pin against the live cluster and the workloads a gateway
finding names (``core.drift.workloads``), and what a capture writes (``core.workloads.as_baseline``)."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest
import tests.snapshot_factory as f

from netwarden.adapters.kube_workloads import admitted, owner, workloads
from netwarden.core.drift.diff import diff
from netwarden.core.drift.impact import annotate
from netwarden.core.model import EgressPin, Pod, Snapshot, Workload
from netwarden.core.workloads import as_baseline

SUBNET = "ibm-cloud.kubernetes.io/subnet-id"
LABELS = (SUBNET,)


def term(*expressions: dict[str, Any]) -> dict[str, Any]:
    return {"matchExpressions": list(expressions)}


def template(*terms: dict[str, Any], selector: dict[str, str] | None = None) -> dict[str, Any]:
    spec: dict[str, Any] = {}
    if terms:
        spec["affinity"] = {"nodeAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": {
            "nodeSelectorTerms": list(terms)}}}
    if selector:
        spec["nodeSelector"] = selector
    return {"spec": spec}


@pytest.mark.parametrize(("raw", "expected"), [
    (template(), None),
    (template(term({"key": SUBNET, "operator": "In", "values": ["s1"]})), ("s1",)),
    (template(term({"key": SUBNET, "operator": "In", "values": ["s2", "s1"]})), ("s1", "s2")),
    # terms are ORed: each must pin for the workload to be pinned
    (template(term({"key": SUBNET, "operator": "In", "values": ["s1"]}),
              term({"key": SUBNET, "operator": "In", "values": ["s3"]})), ("s1", "s3")),
    (template(term({"key": SUBNET, "operator": "In", "values": ["s1"]}),
              term({"key": "kubernetes.io/os", "operator": "In", "values": ["linux"]})), None),
    # the expressions of one term are ANDed
    (template(term({"key": SUBNET, "operator": "In", "values": ["s1", "s2"]},
                   {"key": SUBNET, "operator": "In", "values": ["s2"]})), ("s2",)),
    (template(term({"key": SUBNET, "operator": "NotIn", "values": ["s1"]})), None),
    (template(term({"key": SUBNET, "operator": "Exists"})), None),
    (template(selector={SUBNET: "s1"}), ("s1",)),
    (template(term({"key": SUBNET, "operator": "In", "values": ["s1", "s2"]}), selector={SUBNET: "s2"}), ("s2",)),
    (template(term({"key": SUBNET, "operator": "In", "values": ["s1"]}), selector={SUBNET: "s2"}), ()),
])
def test_what_a_pod_template_admits(raw: dict[str, Any], expected: tuple[str, ...] | None) -> None:
    assert admitted(raw, LABELS) == expected


def pod(name: str, node: str | None, kind: str, owner_name: str, hash_label: str | None = None) -> dict[str, Any]:
    labels = {"app": "x", **({"pod-template-hash": hash_label} if hash_label else {})}
    return {"metadata": {"name": name, "namespace": "ns", "labels": labels,
                         "ownerReferences": [{"kind": kind, "name": owner_name, "controller": True}]},
            "spec": {"nodeName": node} if node else {}}


@pytest.mark.parametrize(("raw", "expected"), [
    (pod("web-5d8f-abcde", "n1", "ReplicaSet", "web-5d8f", "5d8f"), ("Deployment", "web")),
    (pod("web-abcde", "n1", "ReplicaSet", "web-other", "5d8f"), None),  # a ReplicaSet of no Deployment
    (pod("db-0", "n1", "StatefulSet", "db"), ("StatefulSet", "db")),
    (pod("agent-x", "n1", "DaemonSet", "agent"), ("DaemonSet", "agent")),
    (pod("job-x", "n1", "Job", "job"), None),
    ({"metadata": {"name": "bare"}}, None),
])
def test_whose_a_pod_is(raw: dict[str, Any], expected: tuple[str, str] | None) -> None:
    assert owner(raw) == expected


def test_a_workload_is_read_with_its_pods_and_the_subnets_they_run_on() -> None:
    nodes = [{"metadata": {"name": n, "labels": {SUBNET: s}}} for n, s in (("n1", "s1"), ("n2", "s2"))]
    deployment = {"metadata": {"name": "web", "namespace": "ns"}, "spec": {"template": {
        "metadata": {"labels": {"app": "web"}}, **template(term({"key": SUBNET, "operator": "In", "values": ["s1"]}))}}}
    pods = [pod("web-5d8f-aaaaa", "n1", "ReplicaSet", "web-5d8f", "5d8f"),
            pod("web-5d8f-bbbbb", "n2", "ReplicaSet", "web-5d8f", "5d8f"),
            pod("web-5d8f-ccccc", None, "ReplicaSet", "web-5d8f", "5d8f")]  # pending: no node yet
    (found,) = workloads([("Deployment", deployment)], pods, nodes)
    assert found == Workload("ns", "web", "Deployment", {"app": "web"}, subnets=("s1",), zones=None,
                             pods=("web-5d8f-aaaaa", "web-5d8f-bbbbb", "web-5d8f-ccccc"), running=("s1", "s2"))


# --- findings --------------------------------------------------------------------------------------------

PINNED = Workload("accounts", "egress-proxy", "Deployment", {"app": "proxy"}, subnets=("id-subnet-zone1",),
                  pods=("egress-proxy-1",), running=("id-subnet-zone1",))
OTHER = Workload("finance", "batch", "Deployment", {"app": "batch"}, pods=("batch-1",), running=("id-subnet-zone2",))
WORKERS = ("id-subnet-zone1", "id-subnet-zone2", "id-subnet-zone3")


def estate(*, exclusive: bool = False, live_workloads: tuple[Workload, ...] = (PINNED, OTHER)) -> tuple[Snapshot,
                                                                                                        Snapshot]:
    base = f.recipe()
    pin = EgressPin("accounts", "egress-proxy", "subnet-zone1", exclusive)
    base = replace(base, clusters=(replace(base.clusters[0], egress=(pin,)),))
    live = f.live_of(base)
    live = replace(live, clusters=(replace(live.clusters[0], egress=(), worker_subnets=WORKERS,
                                           workloads=live_workloads),))
    return base, live


def codes(base: Snapshot, live: Snapshot) -> list[tuple[str, str, str]]:
    return [(x.code, x.resource.path, x.message) for x in diff(base, live)]


@pytest.mark.parametrize(("live_workloads", "code", "message"), [
    ((replace(PINNED, subnets=None, running=("id-subnet-zone2",)), OTHER), "workload-affinity-changed",
     "Deployment accounts/egress-proxy lost its node affinity on ibm-cloud.kubernetes.io/subnet-id: its pods may run "
     "on any worker subnet, not only on subnet-zone1, the one with the public gateway; its pods run on subnet-zone2 "
     "(id-subnet-zone2)"),
    ((replace(PINNED, subnets=("id-subnet-zone3",), running=("id-subnet-zone3",)), OTHER), "workload-affinity-changed",
     "Deployment accounts/egress-proxy is pinned to subnet-zone3 (id-subnet-zone3) instead of subnet-zone1; its pods "
     "run on subnet-zone3 (id-subnet-zone3)"),
    ((OTHER,), "workload-affinity-changed",
     "workload accounts/egress-proxy, pinned to subnet-zone1 for public egress, is not in the cluster"),
    ((replace(PINNED, running=("id-subnet-zone1", "id-subnet-zone2")), OTHER), "workload-off-gateway",
     "pods of Deployment accounts/egress-proxy run on subnet-zone2 (id-subnet-zone2), not on subnet-zone1, the subnet "
     "with the public gateway it is pinned to"),
])
def test_each_change_of_a_pinned_workload_is_exactly_one_finding(live_workloads: tuple[Workload, ...], code: str,
                                                                  message: str) -> None:
    base, live = estate(live_workloads=live_workloads)
    assert codes(base, live) == [(code, "prod-cluster/accounts/egress-proxy", message)]


def test_in_sync_and_an_unpinned_workload_elsewhere_give_nothing() -> None:
    assert codes(*estate()) == []


def test_an_exclusive_gateway_subnet_keeps_other_workloads_off() -> None:
    intruder = replace(OTHER, running=("id-subnet-zone1",))
    assert codes(*estate(live_workloads=(PINNED, intruder))) == []
    assert codes(*estate(exclusive=True, live_workloads=(PINNED, intruder))) == [(
        "workload-off-gateway", "prod-cluster/finance/batch",
        "pods of Deployment finance/batch run on subnet-zone1, the gateway subnet the baseline keeps for its pinned "
        "workloads: they have public egress")]


def test_the_gateway_moved_names_the_pinned_workload_losing_the_internet() -> None:
    base, live = estate()
    live = f.with_subnet(f.with_subnet(live, "subnet-zone1", public_gateway=None), "subnet-zone2",
                         public_gateway="pgw-zone1")
    found = {x.code: x for x in annotate(diff(base, live), base, live)}
    assert set(found) == {"gateway-detached", "gateway-attached"}
    detached, attached = found["gateway-detached"].impact, found["gateway-attached"].impact
    assert detached is not None and attached is not None
    assert ("public egress of workload prod-cluster/accounts/egress-proxy (pinned to this subnet for it)"
            in detached.breakage)
    assert "workloads that lose the internet: prod-cluster/accounts/egress-proxy" in (detached.summary or "")
    assert "workloads that now have public egress: prod-cluster/finance/batch" in (attached.summary or "")


def test_a_capture_writes_one_entry_per_workload_and_the_pins_its_gateways_show() -> None:
    _, live = estate()
    pods = (Pod("accounts", "egress-proxy-1", {"app": "proxy", "pod-template-hash": "1"}),
            Pod("finance", "batch-1", {"app": "batch"}), Pod("finance", "bare", {"app": "bare"}))
    live = replace(live, clusters=(replace(live.clusters[0], pods=pods),))
    (cluster,) = as_baseline(live).clusters
    assert [(p.namespace, p.name, dict(p.labels)) for p in cluster.pods] == [
        ("accounts", "egress-proxy", {"app": "proxy"}), ("finance", "bare", {"app": "bare"}),
        ("finance", "batch", {"app": "batch"})]
    assert cluster.egress == (EgressPin("accounts", "egress-proxy", "subnet-zone1"),)
    assert cluster.workloads == ()


# --- workloads.yaml ------------------------------------------------------------------------------------------

NAMESPACES = "accounts: {}\n"


def read_workloads(text: str) -> Snapshot:
    from netwarden.adapters.baseline_fs import parse_tree

    snapshot, _ = parse_tree({"kubernetes/c/namespaces.yaml": NAMESPACES, "kubernetes/c/workloads.yaml": text}, "b")
    return snapshot


def test_a_workload_needing_public_egress_names_its_subnet() -> None:
    (cluster,) = read_workloads("accounts:\n- name: egress-proxy\n  labels: {app: proxy}\n"
                                "  public_egress: {subnet: iks-vpc-us-south-1, exclusive: true}\n"
                                "- name: web\n  labels: {app: web}\n").clusters
    assert cluster.egress == (EgressPin("accounts", "egress-proxy", "iks-vpc-us-south-1", exclusive=True),)
    assert [p.name for p in cluster.pods] == ["egress-proxy", "web"]


@pytest.mark.parametrize(("entry", "message"), [
    ("public_egress: {exclusive: true}", "b/kubernetes/c/workloads.yaml:4: accounts[0].public_egress.subnet: missing: "
                                         "the subnet with the public gateway the workload is pinned to"),
    ("public_egress: {subnet: Zone_1}", "b/kubernetes/c/workloads.yaml:4: accounts[0].public_egress.subnet: "
                                        "'Zone_1' is not a subnet name"),
    ("public_egress: {subnet: z1, exclusive: 'yes'}", "b/kubernetes/c/workloads.yaml:4: "
                                                      "accounts[0].public_egress.exclusive: expected true or false, "
                                                      "got a string"),
    ("public_egress: {subnet: z1, zone: us-south-1}", "accounts[0].public_egress"),
    ("public_egress: iks-vpc-us-south-1", "accounts[0].public_egress"),
])
def test_a_bad_pin_is_one_error_at_its_line(entry: str, message: str) -> None:
    from netwarden.core.errors import BaselineError

    with pytest.raises(BaselineError) as raised:
        read_workloads(f"accounts:\n- name: egress-proxy\n  labels: {{app: proxy}}\n  {entry}\n")
    assert message in str(raised.value), str(raised.value)


# --- lint ----------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("subnet", "message"), [
    ("subnet-zone1", None),
    ("subnet-zone2", "workload accounts/egress-proxy is pinned for public egress to subnet subnet-zone2, which has no "
                     "public gateway: its pods would not reach the internet; pin it to the subnet with the gateway"),
    ("subnet-zone9", "workload accounts/egress-proxy is pinned for public egress to subnet subnet-zone9, which is not "
                     "a subnet of the baseline's VPCs: no worker of the cluster is there to run it"),
])
def test_lint_keeps_a_pin_on_the_subnet_with_the_gateway(subnet: str, message: str | None) -> None:
    from netwarden.core.lint import lint

    base = f.recipe()
    base = replace(base, clusters=(replace(base.clusters[0], egress=(EgressPin("accounts", "egress-proxy", subnet),)),))
    found = [(x.rule, x.message, x.subject) for x in lint(base) if x.rule == "workload-egress-pin"]
    assert found == ([] if message is None else [
        ("workload-egress-pin", message, ("workload", "prod-cluster", "accounts", "egress-proxy"))])
