"""The resource kinds the Kubernetes emulator serves, declared as data.

Each ``Kind`` says where it lives (group, version, namespaced or not), how discovery names it
(resource, singular, short names, verbs), which fields a field selector may use, its structural
schema (so that a body is decoded as the API server decodes it: unknown fields dropped or refused,
wrong JSON types refused in Go's words), and its strategic-merge and server-side-apply list
semantics. Adding a kind is adding a row here plus its defaults and validation in ``admission``
(``workloads`` for the ``apps/v1`` kinds, whose pod template shares the Pod's ``v1.PodSpec``; a
controller in ``controllers`` when objects of the kind make others).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Union

# --- structural schema ---------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Struct:
    """A Go struct: ``go`` is its type name in decode errors (``v1.NetworkPolicyPort``); ``open`` lets
    fields the emulator does not model through (a pod's spec), as if the schema knew them."""

    go: str
    fields: Mapping[str, Type] = field(default_factory=dict)
    open: bool = False


@dataclass(frozen=True, slots=True)
class ListOf:
    item: Type


@dataclass(frozen=True, slots=True)
class MapOf:
    value: Type


#: Scalars are named by their Go type: ``string``, ``int32``, ``int64``, ``bool``, ``intstr.IntOrString``;
#: ``any`` is free-form JSON.
Type = Union[str, Struct, ListOf, MapOf]  # noqa: UP007 (a runtime alias, read by isinstance)

STRINGS = MapOf("string")

OWNER_REFERENCE = Struct("v1.OwnerReference", {
    "apiVersion": "string", "kind": "string", "name": "string", "uid": "string",
    "controller": "bool", "blockOwnerDeletion": "bool",
})
MANAGED_FIELDS_ENTRY = Struct("v1.ManagedFieldsEntry", {
    "manager": "string", "operation": "string", "apiVersion": "string", "time": "string",
    "fieldsType": "string", "fieldsV1": "any", "subresource": "string",
})
OBJECT_META = Struct("v1.ObjectMeta", {
    "name": "string", "generateName": "string", "namespace": "string", "selfLink": "string",
    "uid": "string", "resourceVersion": "string", "generation": "int64", "creationTimestamp": "any",
    "deletionTimestamp": "any", "deletionGracePeriodSeconds": "int64", "labels": STRINGS,
    "annotations": STRINGS, "ownerReferences": ListOf(OWNER_REFERENCE), "finalizers": ListOf("string"),
    "managedFields": ListOf(MANAGED_FIELDS_ENTRY),
})
LABEL_SELECTOR = Struct("v1.LabelSelector", {
    "matchLabels": STRINGS,
    "matchExpressions": ListOf(Struct("v1.LabelSelectorRequirement", {
        "key": "string", "operator": "string", "values": ListOf("string"),
    })),
})
NETPOL_PORT = Struct("v1.NetworkPolicyPort", {"protocol": "string", "port": "intstr.IntOrString", "endPort": "int32"})
NETPOL_PEER = Struct("v1.NetworkPolicyPeer", {
    "podSelector": LABEL_SELECTOR, "namespaceSelector": LABEL_SELECTOR,
    "ipBlock": Struct("v1.IPBlock", {"cidr": "string", "except": ListOf("string")}),
})
NETWORK_POLICY = Struct("v1.NetworkPolicy", {
    "apiVersion": "string", "kind": "string", "metadata": OBJECT_META,
    "spec": Struct("v1.NetworkPolicySpec", {
        "podSelector": LABEL_SELECTOR,
        "ingress": ListOf(Struct("v1.NetworkPolicyIngressRule", {"ports": ListOf(NETPOL_PORT),
                                                                  "from": ListOf(NETPOL_PEER)})),
        "egress": ListOf(Struct("v1.NetworkPolicyEgressRule", {"ports": ListOf(NETPOL_PORT),
                                                                "to": ListOf(NETPOL_PEER)})),
        "policyTypes": ListOf("string"),
    }),
})
NAMESPACE = Struct("v1.Namespace", {
    "apiVersion": "string", "kind": "string", "metadata": OBJECT_META,
    "spec": Struct("v1.NamespaceSpec", {"finalizers": ListOf("string")}),
    "status": Struct("v1.NamespaceStatus", {"phase": "string", "conditions": ListOf("any")}),
})
NODE_SELECTOR_REQUIREMENT = Struct("v1.NodeSelectorRequirement", {
    "key": "string", "operator": "string", "values": ListOf("string"),
})
NODE_SELECTOR_TERM = Struct("v1.NodeSelectorTerm", {
    "matchExpressions": ListOf(NODE_SELECTOR_REQUIREMENT), "matchFields": ListOf(NODE_SELECTOR_REQUIREMENT),
})
AFFINITY = Struct("v1.Affinity", {
    "nodeAffinity": Struct("v1.NodeAffinity", {
        "requiredDuringSchedulingIgnoredDuringExecution": Struct("v1.NodeSelector", {
            "nodeSelectorTerms": ListOf(NODE_SELECTOR_TERM)}),
        "preferredDuringSchedulingIgnoredDuringExecution": ListOf(Struct("v1.PreferredSchedulingTerm", {
            "weight": "int32", "preference": NODE_SELECTOR_TERM})),
    }),
    "podAffinity": Struct("v1.PodAffinity", open=True), "podAntiAffinity": Struct("v1.PodAntiAffinity", open=True),
})
CONTAINER = Struct("v1.Container", {
    "name": "string", "image": "string",
    "ports": ListOf(Struct("v1.ContainerPort", {
        "name": "string", "containerPort": "int32", "protocol": "string", "hostPort": "int32", "hostIP": "string"})),
}, open=True)
POD_SPEC = Struct("v1.PodSpec", {
    "nodeName": "string", "nodeSelector": STRINGS, "affinity": AFFINITY,
    "containers": ListOf(CONTAINER), "initContainers": ListOf(CONTAINER),
}, open=True)
POD = Struct("v1.Pod", {
    "apiVersion": "string", "kind": "string", "metadata": OBJECT_META, "spec": POD_SPEC,
    "status": Struct("v1.PodStatus", open=True),
})
POD_TEMPLATE_SPEC = Struct("v1.PodTemplateSpec", {"metadata": OBJECT_META, "spec": POD_SPEC})
NODE = Struct("v1.Node", {
    "apiVersion": "string", "kind": "string", "metadata": OBJECT_META,
    "spec": Struct("v1.NodeSpec", open=True), "status": Struct("v1.NodeStatus", open=True),
})


# --- apps/v1: the workload kinds -----------------------------------------------------------------

INT_OR_PERCENT = "intstr.IntOrString"
CONDITIONS = ListOf("any")


def _workload(go: str, spec: Mapping[str, Type], status: Mapping[str, Type], *, replicas: bool = True) -> Struct:
    """A workload kind's schema: every one has a selector and a pod template; all but a DaemonSet a
    replica count."""
    counted: dict[str, Type] = {"replicas": "int32"} if replicas else {}
    return Struct(f"v1.{go}", {
        "apiVersion": "string", "kind": "string", "metadata": OBJECT_META,
        "spec": Struct(f"v1.{go}Spec", {**counted, "selector": LABEL_SELECTOR, "template": POD_TEMPLATE_SPEC,
                                        "minReadySeconds": "int32", **spec}),
        "status": Struct(f"v1.{go}Status", {"observedGeneration": "int64", "conditions": CONDITIONS,
                                            "collisionCount": "int32", **status}),
    })


DEPLOYMENT = _workload("Deployment", {
    "strategy": Struct("v1.DeploymentStrategy", {"type": "string", "rollingUpdate": Struct(
        "v1.RollingUpdateDeployment", {"maxUnavailable": INT_OR_PERCENT, "maxSurge": INT_OR_PERCENT})}),
    "revisionHistoryLimit": "int32", "paused": "bool", "progressDeadlineSeconds": "int32",
}, {"replicas": "int32", "updatedReplicas": "int32", "readyReplicas": "int32", "availableReplicas": "int32",
    "unavailableReplicas": "int32", "terminatingReplicas": "int32"})
REPLICA_SET = _workload("ReplicaSet", {}, {
    "replicas": "int32", "fullyLabeledReplicas": "int32", "readyReplicas": "int32", "availableReplicas": "int32",
    "terminatingReplicas": "int32"})
STATEFUL_SET = _workload("StatefulSet", {
    "serviceName": "string", "podManagementPolicy": "string", "revisionHistoryLimit": "int32",
    "volumeClaimTemplates": ListOf("any"),
    "updateStrategy": Struct("v1.StatefulSetUpdateStrategy", {"type": "string", "rollingUpdate": Struct(
        "v1.RollingUpdateStatefulSetStrategy", {"partition": "int32", "maxUnavailable": INT_OR_PERCENT})}),
    "persistentVolumeClaimRetentionPolicy": Struct("v1.StatefulSetPersistentVolumeClaimRetentionPolicy", {
        "whenDeleted": "string", "whenScaled": "string"}),
    "ordinals": Struct("v1.StatefulSetOrdinals", {"start": "int32"}),
}, {"replicas": "int32", "readyReplicas": "int32", "currentReplicas": "int32", "updatedReplicas": "int32",
    "currentRevision": "string", "updateRevision": "string", "availableReplicas": "int32"})
DAEMON_SET = _workload("DaemonSet", {
    "updateStrategy": Struct("v1.DaemonSetUpdateStrategy", {"type": "string", "rollingUpdate": Struct(
        "v1.RollingUpdateDaemonSet", {"maxUnavailable": INT_OR_PERCENT, "maxSurge": INT_OR_PERCENT})}),
    "revisionHistoryLimit": "int32",
}, {"currentNumberScheduled": "int32", "numberMisscheduled": "int32", "desiredNumberScheduled": "int32",
    "numberReady": "int32", "updatedNumberScheduled": "int32", "numberAvailable": "int32",
    "numberUnavailable": "int32"}, replicas=False)

# --- list semantics ------------------------------------------------------------------------------

#: Lists merged by key in a strategic merge patch and kept per element by server-side apply, by path
#: (list indexes left out). A list that is not here is atomic: a patch or an apply replaces it whole.
#: A key of ``""`` marks a list of scalars merged as a set (``finalizers``).
MERGE_KEYS: Mapping[tuple[str, ...], str] = {
    ("metadata", "finalizers"): "",
    ("metadata", "ownerReferences"): "uid",
    ("metadata", "managedFields"): "manager",
    ("spec", "containers"): "name",
    ("spec", "initContainers"): "name",
    ("spec", "containers", "ports"): "containerPort",
    ("spec", "containers", "env"): "name",
    ("spec", "containers", "volumeMounts"): "mountPath",
    ("spec", "volumes"): "name",
    ("spec", "imagePullSecrets"): "name",
    ("spec", "taints"): "key",
    **{("spec", "template", "spec", *path): key for path, key in (
        (("containers",), "name"), (("initContainers",), "name"), (("containers", "ports"), "containerPort"),
        (("initContainers", "ports"), "containerPort"), (("containers", "env"), "name"),
        (("initContainers", "env"), "name"), (("containers", "volumeMounts"), "mountPath"),
        (("initContainers", "volumeMounts"), "mountPath"), (("volumes",), "name"), (("imagePullSecrets",), "name"))},
    ("status", "conditions"): "type",
    ("status", "addresses"): "type",
}

#: Structs that server-side apply owns as one value (``+structType=atomic``): a LabelSelector, a
#: required node affinity (``v1.NodeSelector``).
ATOMIC_STRUCTS: frozenset[tuple[str, ...]] = frozenset({
    ("spec", "podSelector"), ("spec", "selector"),
    ("spec", "affinity", "nodeAffinity", "requiredDuringSchedulingIgnoredDuringExecution"),
    ("spec", "template", "spec", "affinity", "nodeAffinity", "requiredDuringSchedulingIgnoredDuringExecution"),
})

# --- kinds ---------------------------------------------------------------------------------------

VERBS = ("create", "delete", "get", "list", "patch", "update", "watch")
BASE_FIELDS = ("metadata.name", "metadata.namespace")


@dataclass(frozen=True, slots=True)
class Kind:
    resource: str
    kind: str
    group: str
    version: str
    namespaced: bool
    singular: str
    schema: Struct
    short_names: tuple[str, ...] = ()
    field_selectors: tuple[str, ...] = BASE_FIELDS
    verbs: tuple[str, ...] = VERBS
    categories: tuple[str, ...] = ()

    @property
    def api_version(self) -> str:
        return f"{self.group}/{self.version}" if self.group else self.version

    @property
    def qualified(self) -> str:
        """``networkpolicies.networking.k8s.io``, ``namespaces``: how errors name the resource."""
        return f"{self.resource}.{self.group}" if self.group else self.resource


NETWORK_POLICIES = Kind("networkpolicies", "NetworkPolicy", "networking.k8s.io", "v1", True, "networkpolicy",
                        NETWORK_POLICY, ("netpol",))
NAMESPACES = Kind("namespaces", "Namespace", "", "v1", False, "namespace", NAMESPACE, ("ns",),
                  ("metadata.name", "status.phase"))
PODS = Kind("pods", "Pod", "", "v1", True, "pod", POD, ("po",),
            (*BASE_FIELDS, "spec.nodeName", "status.phase", "status.podIP"), categories=("all",))
NODES = Kind("nodes", "Node", "", "v1", False, "node", NODE, ("no",), ("metadata.name", "spec.unschedulable"))
DAEMON_SETS = Kind("daemonsets", "DaemonSet", "apps", "v1", True, "daemonset", DAEMON_SET, ("ds",),
                   categories=("all",))
DEPLOYMENTS = Kind("deployments", "Deployment", "apps", "v1", True, "deployment", DEPLOYMENT, ("deploy",),
                   categories=("all",))
REPLICA_SETS = Kind("replicasets", "ReplicaSet", "apps", "v1", True, "replicaset", REPLICA_SET, ("rs",),
                    categories=("all",))
STATEFUL_SETS = Kind("statefulsets", "StatefulSet", "apps", "v1", True, "statefulset", STATEFUL_SET, ("sts",),
                     categories=("all",))
#: The kinds whose objects own pods through a pod template, each run by its controller.
WORKLOADS: tuple[Kind, ...] = (DAEMON_SETS, DEPLOYMENTS, REPLICA_SETS, STATEFUL_SETS)

#: In the API server's order of groups: the core group, ``apps``, ``networking.k8s.io``.
KINDS: tuple[Kind, ...] = (NAMESPACES, NODES, PODS, *WORKLOADS, NETWORK_POLICIES)


def kind_for(group: str, version: str, resource: str) -> Kind | None:
    return next((k for k in KINDS if (k.group, k.version, k.resource) == (group, version, resource)), None)


def group_versions() -> dict[str, list[Kind]]:
    """``"v1"``, ``"apps/v1"`` and ``"networking.k8s.io/v1"`` -> the kinds each serves, in declaration order."""
    out: dict[str, list[Kind]] = {}
    for k in KINDS:
        out.setdefault(k.api_version, []).append(k)
    return out
