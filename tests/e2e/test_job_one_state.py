"""One finding state for every run of a deployment: the event job and the shards of an array scan
alert a finding once, whoever sees it first, and resolve it once, whoever sees it gone; a shard's
alert names the shard and counts what is open in the whole scope, not only in its part."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from ce_deployment import Deployment, by_name, delete_rule, deploy
from test_job import NAMES, cron_env, kafka_env, open_findings, run_job, twelve_vpcs

from netwarden.core.shard import Shard

SHARDS = 4


@pytest.fixture
def twelve(fake: Any, tmp_path: Path) -> Deployment:
    return deploy(fake, tmp_path, vpcs=twelve_vpcs(), config={"ibmcloud": {
        "regions": ["us-south", "eu-de"], "vpcs": NAMES, "api_key_env": "NW_TEST_API_KEY",
        "vpc_url": f"{fake.url}/vpc/{{region}}/v1", "iam_url": f"{fake.url}/iam"}})


def region_of(name: str) -> str:
    return "us-south" if int(name[-2:]) % 2 == 0 else "eu-de"


def owner(name: str) -> int:
    return next(i for i in range(SHARDS) if Shard(i, SHARDS).owns(name))


def attach_subnet(d: Deployment, name: str, *, default: bool) -> dict[str, Any]:
    """Point VPC ``name``'s subnet at its default ACL (the drift) or back at its own; the event it emits."""
    sdk = d.sdk(region_of(name))
    seen = len(d.events())
    subnet = by_name(sdk.list_subnets().get_result()["subnets"], f"{name}-subnet-1")
    vpc = by_name(sdk.list_vpcs().get_result()["vpcs"], name)
    acl = (vpc["default_network_acl"] if default
           else by_name(sdk.list_network_acls().get_result()["network_acls"], f"{name}-acl"))
    sdk.replace_subnet_network_acl(subnet["id"], {"id": acl["id"]})
    [event] = d.events(seen)
    return event


def scan_all_shards(d: Deployment, monkeypatch: pytest.MonkeyPatch) -> None:
    for index in range(SHARDS):
        assert run_job(d, monkeypatch, cron_env(JOB_INDEX=str(index), JOB_ARRAY_SIZE=str(SHARDS))) == 0


def told(d: Deployment) -> list[tuple[str, str, str]]:
    """Each Slack message as (title, open-now line, run line)."""
    out = []
    for message in d.slack():
        blocks = message["body"]["blocks"]
        out.append((blocks[0]["text"]["text"], blocks[1]["text"]["text"], blocks[-1]["elements"][0]["text"]))
    return out


def total_open(line: str) -> int:
    return sum(int(n) for n in re.findall(r"(\d+) (?:critical|high|medium|low|info)", line))


def test_a_finding_first_seen_by_an_event_then_by_the_shards_is_alerted_once_and_resolved_once(
        twelve: Deployment, monkeypatch: pytest.MonkeyPatch) -> None:
    event = attach_subnet(twelve, "vpc-03", default=True)
    assert run_job(twelve, monkeypatch, kafka_env(event)) == 0
    [(title, _, run)] = told(twelve)
    assert title == "netwarden: 1 new (1 critical)" and "(event)" in run

    scan_all_shards(twelve, monkeypatch)
    assert len(told(twelve)) == 1, "a shard does not alert again what the event alerted"
    assert list(open_findings(twelve.root / "state").values()) == ["subnet-allow-all"]

    attach_subnet(twelve, "vpc-03", default=False)  # fixed; this event is not delivered
    scan_all_shards(twelve, monkeypatch)
    scan_all_shards(twelve, monkeypatch)
    (_, (title, open_now, run)) = told(twelve)
    assert title == "netwarden: 1 resolved"
    assert f"(scan, shard {owner('vpc-03')}-of-{SHARDS})" in run
    assert total_open(open_now) == 0
    assert open_findings(twelve.root / "state") == {}


def test_an_event_resolves_what_the_shards_found_and_each_alert_counts_the_whole_scope(
        twelve: Deployment, monkeypatch: pytest.MonkeyPatch) -> None:
    first, second = sorted(["vpc-02", "vpc-03"], key=owner)
    assert owner(first) != owner(second), "the two drifts are in two shards"
    delete_rule(twelve.sdk(region_of("vpc-02")), "vpc-02-acl", "allow-https-in")
    attach_subnet(twelve, "vpc-03", default=True)

    scan_all_shards(twelve, monkeypatch)
    (_, open_first, run_first), (_, open_second, run_second) = told(twelve)
    assert f"shard {owner(first)}-of-{SHARDS}" in run_first and f"shard {owner(second)}-of-{SHARDS}" in run_second
    assert (total_open(open_first), total_open(open_second)) == (1, 2), "the later shard counts both"

    event = attach_subnet(twelve, "vpc-03", default=False)
    assert run_job(twelve, monkeypatch, kafka_env(event)) == 0
    title, open_now, run = told(twelve)[-1]
    assert (title, total_open(open_now)) == ("netwarden: 1 resolved", 1) and "(event)" in run
    assert list(open_findings(twelve.root / "state").values()) == ["acl-rule-missing"]

    scan_all_shards(twelve, monkeypatch)
    assert len(told(twelve)) == 3, "nothing is alerted or resolved twice"
