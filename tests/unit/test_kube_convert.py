"""The Kubernetes adapter's conversions of raw API objects into the model, one table per noun."""

from __future__ import annotations

from typing import Any

import pytest

from netwarden.adapters.kube import RawObject, pod_from_api, policy_from_api, worker_subnets
from netwarden.core.errors import ProviderError
from netwarden.core.model import ContainerPort


@pytest.mark.parametrize(("labels", "expected"), [
    ([{"ibm-cloud.kubernetes.io/subnet-id": "b"}, {"ibm-cloud.kubernetes.io/subnet-id": "a"},
      {"ibm-cloud.kubernetes.io/subnet-id": "b"}], ("a", "b")),
    ([{"ibm-provider.kubernetes.io/subnet-id": "old"}], ("old",)),
    ([{"kubernetes.io/hostname": "10.0.0.1"}, {}], ()),
])
def test_worker_subnets_come_from_node_labels(labels: list[dict[str, str]], expected: tuple[str, ...]) -> None:
    nodes: list[RawObject] = [{"metadata": {"name": f"n{i}", "labels": ls}} for i, ls in enumerate(labels)]
    assert worker_subnets(nodes) == expected


def test_a_pod_keeps_labels_ports_address_and_node() -> None:
    raw: Any = {"metadata": {"namespace": "accounts", "name": "web", "labels": {"tier": "frontend"}},
                "spec": {"nodeName": "10.240.0.4", "containers": [
                    {"name": "a", "ports": [{"containerPort": 8443, "name": "https"}]},
                    {"name": "b", "ports": [{"containerPort": 53, "protocol": "UDP"}]}, {"name": "c"}]},
                "status": {"podIP": "172.30.0.2"}}
    pod = pod_from_api(raw)
    assert (pod.namespace, pod.name, dict(pod.labels), pod.ip, pod.node) == (
        "accounts", "web", {"tier": "frontend"}, "172.30.0.2", "10.240.0.4")
    assert pod.ports == (ContainerPort(53, "UDP"), ContainerPort(8443, "TCP", "https"))


def test_a_policy_spec_is_normalised() -> None:
    raw: Any = {"metadata": {"namespace": "accounts", "name": "p", "labels": {"b": "2"}},
                "spec": {"podSelector": {}, "ingress": [{"from": [{"ipBlock": {"cidr": "10.0.0.1"}}]}]}}
    policy = policy_from_api(raw)
    assert policy.spec == {"podSelector": {}, "policyTypes": ["Ingress"],
                           "ingress": [{"from": [{"ipBlock": {"cidr": "10.0.0.1/32"}}]}]}


@pytest.mark.parametrize("spec", [
    {"podSelector": {}, "ingress": [{"from": [{"ipBlock": {"cidr": "not-a-cidr"}}]}]},
    {"podSelector": {}, "ingress": [{"from": [{"ipBlock": {}}]}]},
])
def test_a_policy_that_cannot_be_normalised_fails_the_read_naming_it(spec: dict[str, Any]) -> None:
    raw: Any = {"metadata": {"namespace": "accounts", "name": "odd"}, "spec": spec}
    with pytest.raises(ProviderError) as e:
        policy_from_api(raw, "https://c/apis/networking.k8s.io/v1/networkpolicies")
    assert str(e.value).startswith("https://c/apis/networking.k8s.io/v1/networkpolicies: NetworkPolicy accounts/odd: ")
