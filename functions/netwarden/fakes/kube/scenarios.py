"""The cluster side of the ``recipe`` scenario, built through the emulated API with the kubernetes client.

IBM's recipe cluster (``reference/vpc-network-policy-recipe.md``): the namespaces ``accounts``
(``usage: accounts``) and ``finance`` (``usage: finance``), the Srv1 and Srv2 front-end, back-end and
database pods with their ``app`` and ``tier`` labels, one worker node in each zone subnet of the VPC,
labelled as IKS labels its workers (``ibm-cloud.kubernetes.io/subnet-id`` and ``.../zone``), and the
NetworkPolicies. Everything comes from the baseline ``Snapshot``, so the estate and the baseline
cannot disagree; only the pods fall back to the recipe's six when the baseline lists no workloads. A
workload the baseline pins for public egress is a Deployment with the recipe's node affinity on the
gateway subnet's id (its steps 6-7); the others are bare pods.
The subnet ids are passed in (zone -> id) or looked up in the VPC emulator with the ibm-vpc SDK.
Nothing touches the emulator's state directly: a user with the same client would build the same.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Mapping
from typing import Any

from netwarden.core.model import Cluster, Pod, Snapshot

SUBNET_LABEL = "ibm-cloud.kubernetes.io/subnet-id"
ZONE_LABEL = "ibm-cloud.kubernetes.io/zone"
KUBELET_VERSION = "v1.32.4+IKS"
IMAGE = "icr.io/recipe/{app}-{tier}:1.0"
USER_AGENT = "netwarden-scenario/recipe"
RECIPE_APPS = (("accounts", "Srv1"), ("finance", "Srv2"))
TIERS = ("frontend", "backend", "db")


def build_recipe_cluster(url: str, baseline: Snapshot, subnet_ids: Mapping[str, str] | None = None) -> None:
    """Build every cluster of ``baseline`` in the emulator at ``url`` (``http://127.0.0.1:P``).
    ``subnet_ids`` maps a zone (``us-south-1``) to the id of the worker subnet there; when absent, the
    subnets of the baseline's VPCs are looked up in the VPC emulator at the same ``url``."""
    zones = dict(subnet_ids) if subnet_ids is not None else _lookup_subnets(url, baseline)
    cidrs = {s.zone: s.cidr for v in baseline.vpcs for s in v.subnets if s.zone and s.cidr}
    subnet_zones = {s.name: s.zone for v in baseline.vpcs for s in v.subnets if s.zone}
    for cluster in baseline.clusters:
        _ClusterBuilder(url, cluster).build(zones, cidrs, subnet_zones)


def _lookup_subnets(url: str, baseline: Snapshot) -> dict[str, str]:
    """zone -> subnet id, for the subnets of the baseline's VPCs (the first VPC's when zones repeat)."""
    from ibm_cloud_sdk_core.authenticators import IAMAuthenticator
    from ibm_vpc import VpcV1

    from netwarden.fakes.iam import API_KEY

    found: dict[str, str] = {}
    authenticator = IAMAuthenticator(API_KEY, url=f"{url.rstrip('/')}/iam")
    for vpc in sorted(baseline.vpcs, key=lambda v: (v.region, v.name)):
        wanted = {s.name for s in vpc.subnets}
        sdk = VpcV1(authenticator=authenticator)
        sdk.set_service_url(f"{url.rstrip('/')}/vpc/{vpc.region}/v1")
        start = None
        while True:
            page = sdk.list_subnets(start=start, limit=100).get_result()
            for subnet in page.get("subnets", []):
                if subnet["name"] in wanted and subnet["vpc"]["name"] == vpc.name:
                    found.setdefault(subnet["zone"]["name"], subnet["id"])
            next_href = (page.get("next") or {}).get("href")
            if not next_href:
                break
            start = next_href.split("start=", 1)[1].split("&", 1)[0]
    return found


def _recipe_pods() -> tuple[Pod, ...]:
    return tuple(Pod(namespace=ns, name=f"{app.lower()}-{tier}", labels={"app": app, "tier": tier})
                 for ns, app in RECIPE_APPS for tier in TIERS)


class _ClusterBuilder:
    def __init__(self, url: str, cluster: Cluster) -> None:
        from kubernetes import client

        api = client.ApiClient(client.Configuration(host=f"{url.rstrip('/')}/k8s/{cluster.name}"))
        api.user_agent = USER_AGENT
        self.core = client.CoreV1Api(api)
        self.net = client.NetworkingV1Api(api)
        self.apps = client.AppsV1Api(api)
        self.cluster = cluster

    def build(self, zones: Mapping[str, str], cidrs: Mapping[str, str], subnet_zones: Mapping[str, str]) -> None:
        for ns in self.cluster.namespaces:
            self.namespace(ns.name, dict(ns.labels))
        for zone in sorted(zones):
            self.node(zone, zones[zone], cidrs.get(zone))
        declared = {n.name for n in self.cluster.namespaces}
        pods = self.cluster.pods or tuple(p for p in _recipe_pods() if p.namespace in declared)
        pins = {(p.namespace, p.name): p for p in self.cluster.egress}
        for pod in pods:
            pin = pins.get((pod.namespace, pod.name))
            if pin is None:
                self.pod(pod)
            else:  # the gateway recipe's steps 6-7: a Deployment pinned to the gateway subnet's id
                self.deployment(pod, zones[subnet_zones[pin.subnet]])
        for policy in self.cluster.policies:
            metadata: dict[str, Any] = {"name": policy.name}
            if policy.labels:
                metadata["labels"] = dict(policy.labels)
            body: Any = {"apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy", "metadata": metadata,
                         "spec": dict(policy.spec)}
            self.net.create_namespaced_network_policy(policy.namespace, body)

    def namespace(self, name: str, labels: dict[str, str]) -> None:
        from kubernetes.client.exceptions import ApiException

        body: Any = {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name, "labels": labels}}
        try:
            self.core.create_namespace(body)
        except ApiException as e:
            if e.status != 409:  # the namespaces every cluster has (default...) get the labels instead
                raise
            self.core.patch_namespace(name, {"metadata": {"labels": labels}},
                                      _content_type="application/merge-patch+json")

    def node(self, zone: str, subnet_id: str, cidr: str | None) -> None:
        network = ipaddress.ip_network(cidr) if cidr else None
        address = str(network.network_address + 4) if network else f"10.{240 + int(zone[-1])}.0.4"
        region = zone.rsplit("-", 1)[0]
        worker = f"kube-recipe0000000000000-{self.cluster.name}-default-0000{zone[-1]}"
        labels = {
            "arch": "amd64", "beta.kubernetes.io/arch": "amd64", "beta.kubernetes.io/os": "linux",
            "beta.kubernetes.io/instance-type": "bx2.4x16", "node.kubernetes.io/instance-type": "bx2.4x16",
            "failure-domain.beta.kubernetes.io/region": region, "failure-domain.beta.kubernetes.io/zone": zone,
            "topology.kubernetes.io/region": region, "topology.kubernetes.io/zone": zone,
            "ibm-cloud.kubernetes.io/ha-worker": "true", "ibm-cloud.kubernetes.io/iaas-provider": "g2",
            "ibm-cloud.kubernetes.io/internal-ip": address, "ibm-cloud.kubernetes.io/machine-type": "bx2.4x16",
            "ibm-cloud.kubernetes.io/os": "UBUNTU_24_64", "ibm-cloud.kubernetes.io/region": region,
            SUBNET_LABEL: subnet_id, "ibm-cloud.kubernetes.io/worker-id": worker,
            "ibm-cloud.kubernetes.io/worker-pool-id": "recipe0000000000000-default",
            "ibm-cloud.kubernetes.io/worker-pool-name": "default", "ibm-cloud.kubernetes.io/worker-version":
            KUBELET_VERSION.lstrip("v").replace("+IKS", "_1523"), ZONE_LABEL: zone,
            "kubernetes.io/arch": "amd64", "kubernetes.io/hostname": address, "kubernetes.io/os": "linux",
        }
        body: Any = {
            "apiVersion": "v1", "kind": "Node", "metadata": {"name": address, "labels": labels},
            "spec": {"providerID": f"ibm://recipe/{region}/{zone}/{worker}"},
            "status": {
                "addresses": [{"type": "InternalIP", "address": address}, {"type": "Hostname", "address": address}],
                "conditions": [{"type": "Ready", "status": "True", "reason": "KubeletReady",
                                "message": "kubelet is posting ready status"}],
                "nodeInfo": {"kubeletVersion": KUBELET_VERSION, "kubeProxyVersion": KUBELET_VERSION,
                             "osImage": "Ubuntu 24.04 LTS", "architecture": "amd64", "operatingSystem": "linux",
                             "kernelVersion": "6.8.0-60-generic", "containerRuntimeVersion": "containerd://1.7.27",
                             "bootID": worker, "machineID": worker, "systemUUID": worker},
            },
        }
        self.core.create_node(body)

    def pod(self, pod: Pod) -> None:
        body: Any = {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": pod.name, "labels": dict(pod.labels)},
                     "spec": {"containers": [_container(pod)]}}
        self.core.create_namespaced_pod(pod.namespace, body)

    def deployment(self, pod: Pod, subnet_id: str) -> None:
        affinity = {"nodeAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": {"nodeSelectorTerms": [
            {"matchExpressions": [{"key": SUBNET_LABEL, "operator": "In", "values": [subnet_id]}]}]}}}
        body: Any = {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": pod.name},
                     "spec": {"replicas": 1, "selector": {"matchLabels": dict(pod.labels)},
                              "template": {"metadata": {"labels": dict(pod.labels)},
                                           "spec": {"affinity": affinity, "containers": [_container(pod)]}}}}
        self.apps.create_namespaced_deployment(pod.namespace, body)


def _container(pod: Pod) -> dict[str, Any]:
    ports = [{"containerPort": p.port, "protocol": p.protocol, **({"name": p.name} if p.name else {})}
             for p in pod.ports]
    container: dict[str, Any] = {
        "name": pod.labels.get("tier", "app"),
        "image": IMAGE.format(app=pod.labels.get("app", pod.name).lower(), tier=pod.labels.get("tier", "app")),
    }
    if ports:
        container["ports"] = ports
    return container
