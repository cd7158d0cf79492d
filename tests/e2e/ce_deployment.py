"""A netwarden deployment on the emulators, as the Code Engine job and function see one: a config file
(``NETWARDEN_CONFIG``), the API key in the environment variable it names, a baseline, a state directory,
and a Slack webhook at the emulator's recorder. Shared by the job, function and package tests."""

from __future__ import annotations

import json
import shutil
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from ibm_cloud_sdk_core.authenticators import IAMAuthenticator
from ibm_vpc import VpcV1

from netwarden.adapters.baseline_fs import read_baseline
from netwarden.core.model import Snapshot, Vpc
from netwarden.fakes import scenarios
from netwarden.fakes.iam import API_KEY
from netwarden.fakes.server import FakeServer

REPO_BASELINE = Path(__file__).resolve().parents[2] / "baseline"


@dataclass
class Deployment:
    fake: FakeServer
    root: Path
    config: Path
    baseline: Snapshot
    env: dict[str, str]

    def sdk(self, region: str = "us-south", api_key: str = API_KEY) -> VpcV1:
        """A VPC client, as netwarden's service ID, or as whoever ``api_key`` belongs to."""
        client = VpcV1(authenticator=IAMAuthenticator(api_key, url=f"{self.fake.url}/iam"))
        client.set_service_url(f"{self.fake.url}/vpc/{region}/v1")
        return client

    def get(self, path: str) -> Any:
        with urllib.request.urlopen(f"{self.fake.url}{path}") as r:
            return json.load(r)

    def events(self, since: int = 0) -> list[dict[str, Any]]:
        return list(self.get(f"/_fake/events?since={since}")["events"])

    def requests(self, since: int = 0) -> list[dict[str, Any]]:
        return list(self.get(f"/_fake/requests?since={since}")["requests"])

    def slack(self) -> list[Any]:
        received = self.get("/_fake/slack")
        return list(received.get("messages", received) if isinstance(received, dict) else received)


def deploy(fake: FakeServer, root: Path, *, vpcs: tuple[Vpc, ...] | None = None, config: dict[str, Any] | None = None,
           slack: bool = True) -> Deployment:
    """Build the VPC side of the recipe (or ``vpcs``) in the emulator and write a deployment for it."""
    baseline_dir = root / "baseline"
    if vpcs is None:
        shutil.copytree(REPO_BASELINE / "vpc", baseline_dir / "vpc")
        baseline = read_baseline(baseline_dir)
    else:
        baseline = Snapshot(vpcs=vpcs)
        from netwarden.adapters.baseline_write import write_baseline

        write_baseline(baseline, baseline_dir)
        baseline = read_baseline(baseline_dir)
    scenarios.build("recipe", fake.url, baseline=baseline)
    regions = sorted({v.region for v in baseline.vpcs}) or ["us-south"]
    data: dict[str, Any] = {
        "baseline": "baseline",
        "state": "file://state",
        "ibmcloud": {"regions": regions, "api_key_env": "NW_TEST_API_KEY", "vpc_url": f"{fake.url}/vpc/{{region}}/v1",
                     "iam_url": f"{fake.url}/iam"},
        **(config or {}),
    }
    env = {"NETWARDEN_CONFIG": str(root / "netwarden.yaml"), "NW_TEST_API_KEY": API_KEY}
    if slack:
        data["notify"] = {"slack": {"webhook_url_env": "NW_TEST_SLACK"}}
        env["NW_TEST_SLACK"] = f"{fake.url}/slack/T000/B000/XXXX"
    (root / "netwarden.yaml").write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    return Deployment(fake, root, root / "netwarden.yaml", baseline, env)


def by_name(items: list[dict[str, Any]], name: str) -> dict[str, Any]:
    return next(i for i in items if i["name"] == name)


def delete_rule(sdk: VpcV1, acl_name: str = "iks-cluster-us-south-1-acl",
                rule_name: str = "allow-workers-us-south-2-inbound") -> None:
    acl = by_name(sdk.list_network_acls().get_result()["network_acls"], acl_name)
    sdk.delete_network_acl_rule(acl["id"], by_name(acl["rules"], rule_name)["id"])


def rule_names(sdk: VpcV1, acl_name: str) -> list[str]:
    acl = by_name(sdk.list_network_acls().get_result()["network_acls"], acl_name)
    return [r["name"] for r in acl["rules"]]
