"""Live runs import only what they use, each checked in a fresh process against the emulators.

An event (``netwarden event`` and a Kafka ``netwarden job``) re-checks one VPC resource, so it imports
no Kubernetes module even with clusters configured; a check of VPCs only imports none either; nothing
imports ``ibm_platform_services`` unless a resource group is configured; and a check that reads a
cluster calls its API through the client's ``ApiClient``, never importing the generated API classes or
the models they pull in.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml
from ce_deployment import by_name
from ibm_cloud_sdk_core.authenticators import IAMAuthenticator
from ibm_vpc import VpcV1

from netwarden.adapters.baseline_fs import read_baseline
from netwarden.fakes import scenarios
from netwarden.fakes.iam import API_KEY
from netwarden.fakes.server import FakeServer

REPO_BASELINE = Path(__file__).resolve().parents[2] / "baseline"

#: Runs the CLI with argv[2:], then writes the names of every module it imported to argv[1].
PROBE = ("import json, sys\n"
         "from netwarden.entrypoints.cli import main\n"
         "code = main(sys.argv[2:])\n"
         "with open(sys.argv[1], 'w') as f:\n"
         "    json.dump(sorted(sys.modules), f)\n"
         "sys.exit(code)\n")


def kubernetes_modules(modules: set[str]) -> set[str]:
    return {m for m in modules if m == "kubernetes" or m.startswith("kubernetes.")}


def generated_api_modules(modules: set[str]) -> set[str]:
    return {m for m in modules if m.startswith(("kubernetes.client.api.", "kubernetes.client.models."))}


class Estate:
    """The recipe estate on the emulators, a netwarden.yaml for it, and a way to run the CLI on it."""

    def __init__(self, fake: FakeServer, root: Path, *, clusters: bool = True,
                 ibmcloud: dict[str, Any] | None = None) -> None:
        self.fake, self.root = fake, root
        baseline_dir = root / "baseline"
        if clusters:
            shutil.copytree(REPO_BASELINE, baseline_dir)
        else:
            shutil.copytree(REPO_BASELINE / "vpc", baseline_dir / "vpc")
        baseline = read_baseline(baseline_dir)
        scenarios.build("recipe", fake.url, baseline=baseline)
        data = scenarios.config_for(fake.url, "recipe", baseline, "baseline")
        assert ("kubernetes" in data) == clusters
        data["ibmcloud"].update(ibmcloud or {})
        data["state"] = "file://state"
        self.config = root / "netwarden.yaml"
        self.config.write_text(yaml.safe_dump(data), encoding="utf-8")
        self.env = {**os.environ, scenarios.API_KEY_ENV: API_KEY, "XDG_CACHE_HOME": str(root / "cache")}

    def sdk(self) -> VpcV1:
        client = VpcV1(authenticator=IAMAuthenticator(API_KEY, url=f"{self.fake.url}/iam"))
        client.set_service_url(f"{self.fake.url}/vpc/us-south/v1")
        return client

    def requests(self) -> list[dict[str, Any]]:
        return list(self.fake.cloud.requests)

    def delete_rule_event(self) -> dict[str, Any]:
        """Delete one baseline rule through the SDK; the Activity Tracker event that change emitted."""
        seen = len(self.fake.cloud.events)
        acl = by_name(self.sdk().list_network_acls().get_result()["network_acls"], "iks-cluster-us-south-1-acl")
        self.sdk().delete_network_acl_rule(acl["id"], by_name(acl["rules"], "allow-workers-us-south-2-inbound")["id"])
        [event] = self.fake.cloud.events[seen:]
        return dict(event)

    def run(self, *argv: str, env: dict[str, str] | None = None) -> tuple[int, set[str], str]:
        """Exit code, the modules imported and stdout+stderr of the CLI run with ``argv``."""
        modules = self.root / "modules.json"
        proc = subprocess.run([sys.executable, "-c", PROBE, str(modules), *argv], cwd=self.root,
                              env={**self.env, **(env or {})}, capture_output=True, text=True, timeout=120,
                              check=False)
        imported = set(json.loads(modules.read_text())) if modules.exists() else set()
        return proc.returncode, imported, proc.stdout + proc.stderr


@pytest.fixture
def estate(fake: FakeServer, tmp_path: Path) -> Estate:
    return Estate(fake, tmp_path)


def kafka_env(event: dict[str, Any]) -> dict[str, str]:
    return {"CE_TYPE": "dev.knative.kafka.event", "CE_DATA": json.dumps(event), "CE_ID": "partition:0/offset:1",
            "CE_SOURCE": "/apis/v1/namespaces/p/kafkasources/netwarden-vpc-events", "CE_SPECVERSION": "1.0",
            "JOB_INDEX": "0", "JOB_ARRAY_SIZE": "1"}


@pytest.mark.parametrize("how", ["event-command", "kafka-job"])
def test_an_event_imports_no_kubernetes_module(estate: Estate, how: str) -> None:
    event = estate.delete_rule_event()
    payload = estate.root / "event.json"
    payload.write_text(json.dumps(event), encoding="utf-8")
    since = len(estate.requests())
    if how == "event-command":
        code, modules, output = estate.run("event", "--config", str(estate.config), "--payload", str(payload))
    else:
        code, modules, output = estate.run("job", "--config", str(estate.config), env=kafka_env(event))
    assert code == 0, output
    assert "acl-rule-missing" in output
    vpc_calls = [r for r in estate.requests()[since:] if r["path"].startswith("/vpc/")]
    assert 1 <= len(vpc_calls) <= 3, vpc_calls
    assert not [r for r in estate.requests()[since:] if r["path"].startswith("/k8s/")]
    assert "netwarden.adapters.ibm_vpc" in modules
    assert kubernetes_modules(modules) == set()
    assert "ibm_platform_services" not in modules


@pytest.mark.parametrize(("resource_group", "platform_services"), [
    (None, False),
    ("Default", True),
], ids=["no-resource-group", "resource-group"])
def test_a_vpc_only_check_imports_no_kubernetes_and_the_resource_manager_only_for_a_group(
        fake: FakeServer, tmp_path: Path, resource_group: str | None, platform_services: bool) -> None:
    estate = Estate(fake, tmp_path, clusters=False,
                    ibmcloud={"resource_group": resource_group} if resource_group else None)
    code, modules, output = estate.run("check", "--config", str(estate.config))
    assert code == 0, output
    assert output.startswith("netwarden check: in sync")
    assert kubernetes_modules(modules) == set()
    assert ("ibm_platform_services" in modules) is platform_services
    assert any(r["path"] == "/rm/v2/resource_groups" for r in estate.requests()) is platform_services


def test_a_check_of_a_cluster_never_imports_the_generated_api_classes(estate: Estate) -> None:
    code, modules, output = estate.run("check", "--config", str(estate.config))
    assert code == 0, output
    assert output.startswith("netwarden check: in sync")
    assert {"kubernetes.client.api_client", "kubernetes.client.rest"} <= modules  # the cluster was read
    assert any(r["path"].startswith("/k8s/") for r in estate.requests())
    assert generated_api_modules(modules) == set()
    assert "ibm_platform_services" not in modules
