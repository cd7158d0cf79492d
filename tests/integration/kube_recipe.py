"""The recipe estate on the emulators, for the Kubernetes integration tests: the committed baseline
built into the VPC and Kubernetes emulators with the real SDKs, and a netwarden.yaml pointing at them."""

from __future__ import annotations

import json
import socket
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml
from kubernetes import client

from netwarden.adapters.baseline_fs import read_baseline
from netwarden.core.model import Snapshot
from netwarden.fakes import scenarios
from netwarden.fakes.kube.scenarios import build_recipe_cluster
from netwarden.fakes.server import FakeServer

REPO = Path(__file__).resolve().parents[2]
BASELINE = REPO / "baseline"
CLUSTER = "iks-cluster"


@dataclass
class Recipe:
    fake: FakeServer
    baseline: Snapshot
    config: Path
    data: dict[str, Any]

    @property
    def cluster_url(self) -> str:
        return f"{self.fake.url}/k8s/{CLUSTER}"

    def kube(self) -> tuple[Any, Any, Any]:
        """ApiClient, CoreV1Api, NetworkingV1Api of the recipe cluster."""
        api = client.ApiClient(client.Configuration(host=self.cluster_url))
        return api, client.CoreV1Api(api), client.NetworkingV1Api(api)

    def write_config(self, **cluster: Any) -> Path:
        """The config with the cluster's entry changed (``server=...``, ``namespaces=[...]``)."""
        data = json.loads(json.dumps(self.data))
        data["kubernetes"]["clusters"][0].update(cluster)
        path = self.config.with_name("netwarden-changed.yaml")
        path.write_text(yaml.safe_dump(data))
        return path

    def fault(self, **spec: Any) -> None:
        request = urllib.request.Request(f"{self.fake.url}/_fake/faults", data=json.dumps(spec).encode(),
                                         headers={"Content-Type": "application/json"}, method="POST")
        urllib.request.urlopen(request).close()

    def requests(self) -> list[dict[str, Any]]:
        with urllib.request.urlopen(f"{self.fake.url}/_fake/requests") as response:
            return list(json.load(response)["requests"])


#: Worker subnet ids for a cluster built without its VPC (the adapter tests need no VPC side).
SUBNET_IDS = {"us-south-1": "0717-subnet-1", "us-south-2": "0727-subnet-2", "us-south-3": "0737-subnet-3"}


def build(fake: FakeServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, *, vpc: bool = True) -> Recipe:
    """The recipe estate; with ``vpc=False`` only its cluster, on the subnets of ``SUBNET_IDS``."""
    baseline = read_baseline(BASELINE)
    if vpc:
        scenarios.build("recipe", fake.url, baseline=baseline)
    else:
        build_recipe_cluster(fake.url, baseline, subnet_ids=SUBNET_IDS)
    data = scenarios.config_for(fake.url, "recipe", baseline, str(BASELINE))
    config = tmp_path / "netwarden.yaml"
    config.write_text(yaml.safe_dump(data))
    monkeypatch.setenv(scenarios.API_KEY_ENV, "fake-apikey")
    monkeypatch.chdir(tmp_path)
    return Recipe(fake, baseline, config, data)


def closed_port() -> int:
    """A local port nothing listens on: connections to it are refused."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])
