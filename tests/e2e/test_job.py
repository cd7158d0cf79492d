"""``job.main`` run with the environments Code Engine sets, against the emulators: cron -> full scan,
Kafka (an Activity Tracker event in CE_DATA) -> targeted check and alert, array runs -> shards whose
union is one unsharded scan."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from ce_deployment import Deployment, by_name, delete_rule, deploy

from netwarden.core import lifecycle, snapshot_format
from netwarden.core.model import AclRule, NetworkAcl, Subnet, Vpc
from netwarden.core.shard import Shard
from netwarden.entrypoints import job


def cron_env(**extra: str) -> dict[str, str]:
    """A cron subscription's job run, as subscription-cron.md shows it (plus the injected CE_JOB*)."""
    return {"CE_DATA": '{ "message": "Hello world!" }', "CE_ID": "abcdefgh-abcd-abcd-abcd-1a2b3c4d5e6f",
            "CE_SOURCE": "/apis/v1/namespaces/1234abcd1a2/pingsources/netwarden-scan-cron", "CE_SPECVERSION": "1.0",
            "CE_TIME": "2026-11-27T17:45:00.429658447Z", "CE_TYPE": "dev.knative.sources.ping",
            "CONTENT_TYPE": "application/json", "JOB_INDEX": "0", "JOB_ARRAY_SIZE": "1", "JOB_MODE": "task",
            "CE_JOB": "netwarden-scan", "CE_JOBRUN": "netwarden-scan-cron-1", "CE_PROJECT_ID": "p", **extra}


def kafka_env(event: dict[str, Any], **extra: str) -> dict[str, str]:
    """A Kafka subscription's job run: the message (one Activity Tracker event) in CE_DATA."""
    return {"CE_DATA": json.dumps(event), "CE_ID": "partition:0/offset:249", "CE_SPECVERSION": "1.0",
            "CE_SOURCE": "/apis/v1/namespaces/1234abcd1a2/kafkasources/netwarden-vpc-events#netwarden-vpc-events",
            "CE_SUBJECT": "partition:0#249", "CE_TIME": "2026-11-27T17:45:01Z", "CE_TYPE": "dev.knative.kafka.event",
            "JOB_INDEX": "0", "JOB_ARRAY_SIZE": "1", "CE_JOB": "netwarden-event", "CE_JOBRUN": "netwarden-event-x",
            **extra}


def run_job(d: Deployment, monkeypatch: pytest.MonkeyPatch, env: dict[str, str]) -> int:
    for key, value in {**d.env, **env}.items():
        monkeypatch.setenv(key, value)
    return job.main()


def open_findings(state: Path) -> dict[str, str]:
    doc = json.loads((state / "findings.json").read_text(encoding="utf-8"))
    return {fp: s.finding.code for fp, s in lifecycle.states_from_dict(doc).items() if s.status == lifecycle.OPEN}


def slack_codes(d: Deployment) -> str:
    return json.dumps(d.slack())


@pytest.fixture
def recipe(fake: Any, tmp_path: Path) -> Deployment:
    return deploy(fake, tmp_path)


def test_cron_run_scans_everything_and_alerts(recipe: Deployment, monkeypatch: pytest.MonkeyPatch) -> None:
    delete_rule(recipe.sdk())
    assert run_job(recipe, monkeypatch, cron_env()) == 0
    assert sorted(open_findings(recipe.root / "state").values()) == ["acl-rule-missing"]
    assert "allow-workers-us-south-2-inbound" in slack_codes(recipe)
    assert run_job(recipe, monkeypatch, cron_env()) == 0
    assert len(recipe.slack()) == 1, "the same drift alerts once"


def test_kafka_run_checks_the_one_resource_and_alerts_with_at_most_3_vpc_calls(
        recipe: Deployment, monkeypatch: pytest.MonkeyPatch) -> None:
    seen = len(recipe.events())
    delete_rule(recipe.sdk())
    [event] = recipe.events(seen)
    assert event["action"] == "is.network-acl.rule.delete"
    since = len(recipe.requests())
    assert run_job(recipe, monkeypatch, kafka_env(event)) == 0
    vpc_calls = [r for r in recipe.requests(since) if r["path"].startswith("/vpc/")]
    assert 1 <= len(vpc_calls) <= 3, vpc_calls
    assert "acl-rule-missing" in json.dumps(open_findings(recipe.root / "state"))
    assert "allow-workers-us-south-2-inbound" in slack_codes(recipe)


def test_kafka_run_alerts_a_security_group_rule_added_by_the_sdk_with_at_most_3_vpc_calls(
        recipe: Deployment, monkeypatch: pytest.MonkeyPatch) -> None:
    sdk = recipe.sdk()
    workers = by_name(sdk.list_security_groups().get_result()["security_groups"], "kube-cq2f9ha20m7cn4qhs0vg")
    seen = len(recipe.events())
    sdk.create_security_group_rule(workers["id"], {"direction": "inbound", "protocol": "tcp", "port_min": 22,
                                                   "port_max": 22, "remote": {"cidr_block": "0.0.0.0/0"}})
    [event] = recipe.events(seen)
    assert event["action"] == "is.security-group.security-group-rule.create"
    since = len(recipe.requests())
    assert run_job(recipe, monkeypatch, kafka_env(event)) == 0
    vpc_calls = [r for r in recipe.requests(since) if r["path"].startswith("/vpc/")]
    assert 1 <= len(vpc_calls) <= 3, vpc_calls
    assert list(open_findings(recipe.root / "state").values()) == ["sg-rule-unexpected"]
    assert "inbound tcp 22 from 0.0.0.0/0" in slack_codes(recipe)


@pytest.mark.parametrize(("event", "why"), [
    ({"action": "is.instance.instance.update", "outcome": "success",
      "target": {"id": "crn:v1:bluemix:public:is:us-south:a/x::instance:0717-1"}}, "not watched"),
    ({"action": "is.network-acl.rule.delete", "outcome": "failure",
      "target": {"id": "crn:v1:bluemix:public:is:us-south:a/x::network-acl:r006-1"}}, "failed change"),
    ({"action": "is.network-acl.rule.delete", "outcome": "success",
      "target": {"id": "crn:v1:bluemix:public:is:eu-gb:a/x::network-acl:r006-1"}}, "other region"),
])
def test_kafka_events_outside_the_scope_are_acknowledged(recipe: Deployment, monkeypatch: pytest.MonkeyPatch,
                                                          event: dict[str, Any], why: str) -> None:
    since = len(recipe.requests())
    assert run_job(recipe, monkeypatch, kafka_env(event)) == 0, why
    assert [r for r in recipe.requests(since) if r["path"].startswith("/vpc/")] == []
    assert recipe.slack() == []


@pytest.mark.parametrize(("env", "message"), [
    ({"CE_TYPE": "com.ibm.cloud.cos.document.write"}, "CE_TYPE: 'com.ibm.cloud.cos.document.write' is not a trigger"),
    ({"JOB_INDEX": "4", "JOB_ARRAY_SIZE": "4"}, "JOB_INDEX: index 4 is not below JOB_ARRAY_SIZE=4"),
    ({"JOB_ARRAY_SIZE": "1001"}, "JOB_ARRAY_SIZE: 1001 is not an array size between 1 and 1000"),
    ({"JOB_INDEX": "x"}, "JOB_INDEX: 'x' is not a whole number"),
    ({"CE_TYPE": "dev.knative.kafka.event", "CE_DATA": "{not json"}, "CE_DATA: not JSON"),
    ({"CE_TYPE": "dev.knative.kafka.event", "CE_DATA": ""}, "CE_DATA: CE_DATA is empty"),
    ({"CE_TYPE": "dev.knative.kafka.event", "CE_DATA": '{"action": "is.network-acl.rule.delete"}'},
     "CE_DATA: target.id: expected the CRN"),
    # ASCII digits only: other scripts' digits and superscripts pass str.isdigit()
    ({"JOB_INDEX": "\u0661"}, "JOB_INDEX: '\u0661' is not a whole number"),
    ({"JOB_ARRAY_SIZE": "\u00b2"}, "JOB_ARRAY_SIZE: '\u00b2' is not a whole number"),
    ({"JOB_ARRAY_SIZE": "99999999999"}, "JOB_ARRAY_SIZE: '99999999999' is not a whole number"),
    ({"JOB_INDEX": "-1"}, "JOB_INDEX: '-1' is not a whole number"),
    ({"NETWARDEN_MAX_CHANGES": "\u0661\u0662"}, "NETWARDEN_MAX_CHANGES: '\u0661\u0662' is not a whole number"),
    ({"NETWARDEN_REGIONS": "us-south,eu-de/../x"}, "NETWARDEN_REGIONS: 'eu-de/../x' is not a region"),
    # CE_DATA from Kafka: bounded in size and depth, plain JSON
    ({"CE_TYPE": "dev.knative.kafka.event", "CE_DATA": "[" * 100000}, "CE_DATA: 100000 bytes, larger than 65536"),
    ({"CE_TYPE": "dev.knative.kafka.event", "CE_DATA": "[" * 60000}, "CE_DATA: nested deeper than 32 levels"),
    ({"CE_TYPE": "dev.knative.kafka.event", "CE_DATA": '{"a":' * 10000}, "CE_DATA: nested deeper than 32 levels"),
    ({"CE_TYPE": "dev.knative.kafka.event", "CE_DATA": '{"action": "' + "a" * 70000 + '"}'},
     "CE_DATA: 70014 bytes, larger than 65536 bytes"),
    ({"CE_TYPE": "dev.knative.kafka.event", "CE_DATA": '{"action": "is.network-acl.rule.delete", "x": NaN}'},
     "CE_DATA: x: NaN is not a JSON number"),
    ({"CE_TYPE": "dev.knative.kafka.event",
      "CE_DATA": '{"action": "is.vpc.vpc.create", "action": "is.network-acl.rule.delete"}'},
     "CE_DATA: action: the key 'action' appears twice in one object"),
    ({"CE_TYPE": "dev.knative.kafka.event", "CE_DATA": '{"id": ' + "9" * 5000 + "}"},
     "CE_DATA: a number of more than 4300 digits"),
    ({"CE_TYPE": "dev.knative.kafka.event", "CE_DATA": json.dumps(
        {"action": "is.network-acl.rule.delete", "outcome": "success",
         "target": {"id": "crn:v1:bluemix:public:is:us-south:a/x::network-acl:r006-1/../../vpcs"}})},
     "CE_DATA: target.id: not a CRN: its resource 'r006-1/../../vpcs' is not a resource id"),
    ({"CE_TYPE": "dev.knative.kafka.event", "CE_DATA": json.dumps(
        {"action": "is.subnet.subnet.update", "outcome": "success",
         "target": {"id": "crn:v1:bluemix:public:is:evil.example.com:a/x::subnet:0717-1"}})},
     "CE_DATA: target.id: not a CRN: its location 'evil.example.com' is not a region or zone"),
], ids=lambda v: "" if isinstance(v, dict) else None)
def test_bad_environments_are_one_line_and_exit_1(recipe: Deployment, monkeypatch: pytest.MonkeyPatch,
                                                  capsys: pytest.CaptureFixture[str], env: dict[str, str],
                                                  message: str) -> None:
    assert run_job(recipe, monkeypatch, cron_env(**env)) == 1
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err and "RecursionError" not in err
    assert len(err.splitlines()[-1]) < 400, "one bounded line"


def test_kafka_runs_are_not_sharded(recipe: Deployment, monkeypatch: pytest.MonkeyPatch) -> None:
    seen = len(recipe.events())
    delete_rule(recipe.sdk())
    [event] = recipe.events(seen)
    assert run_job(recipe, monkeypatch, kafka_env(event, JOB_INDEX="2", JOB_ARRAY_SIZE="3")) == 0
    assert recipe.slack() == []
    assert run_job(recipe, monkeypatch, kafka_env(event, JOB_INDEX="0", JOB_ARRAY_SIZE="3")) == 0
    assert len(recipe.slack()) == 1


# --- array runs --------------------------------------------------------------------------------------------

NAMES = [f"vpc-{i:02d}" for i in range(12)]
RULES = (AclRule("allow-https-in", "allow", "inbound", "tcp", "0.0.0.0/0", "10.240.0.0/24"),
         AclRule("allow-all-out", "allow", "outbound", "icmp_tcp_udp", "0.0.0.0/0", "0.0.0.0/0"),
         AclRule("deny-all-in", "deny", "inbound", "any", "0.0.0.0/0", "0.0.0.0/0"))


def twelve_vpcs() -> tuple[Vpc, ...]:
    region = {n: ("us-south" if i % 2 == 0 else "eu-de") for i, n in enumerate(NAMES)}
    return tuple(Vpc(region[n], n, acls=(NetworkAcl(f"{n}-acl", RULES),),
                     subnets=(Subnet(f"{n}-subnet-1", f"{n}-acl", None, cidr="10.240.0.0/24"),)) for n in NAMES)


def test_four_shards_over_twelve_vpcs_cover_each_once_and_union_to_an_unsharded_scan(
        fake: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    d = deploy(fake, tmp_path, vpcs=twelve_vpcs(), config={"ibmcloud": {
        "regions": ["us-south", "eu-de"], "vpcs": NAMES, "api_key_env": "NW_TEST_API_KEY",
        "vpc_url": f"{fake.url}/vpc/{{region}}/v1", "iam_url": f"{fake.url}/iam"}})
    drifted = ["vpc-00", "vpc-03", "vpc-05", "vpc-08", "vpc-11"]
    for i, name in enumerate(drifted):
        sdk = d.sdk("us-south" if int(name[-2:]) % 2 == 0 else "eu-de")
        if i % 2 == 0:
            delete_rule(sdk, f"{name}-acl", "allow-https-in")
        else:
            subnet = by_name(sdk.list_subnets().get_result()["subnets"], f"{name}-subnet-1")
            vpc = by_name(sdk.list_vpcs().get_result()["vpcs"], name)
            sdk.replace_subnet_network_acl(subnet["id"], {"id": vpc["default_network_acl"]["id"]})

    for index in range(4):
        assert run_job(d, monkeypatch, cron_env(JOB_INDEX=str(index), JOB_ARRAY_SIZE="4")) == 0
    assert run_job(d, monkeypatch, cron_env(NETWARDEN_STATE=f"file://{tmp_path / 'unsharded'}")) == 0

    covered: dict[str, int] = {}
    for index in range(4):
        snapshot = tmp_path / "state" / f"snapshot-shard-{index}-of-4.json"
        expected = Shard(index, 4).select(NAMES)
        if not expected:
            assert not snapshot.exists()
            continue
        snap = snapshot_format.loads(snapshot.read_text(encoding="utf-8"), source=snapshot.name)
        assert sorted(v.name for v in snap.vpcs) == sorted(expected)
        for v in snap.vpcs:
            covered[v.name] = covered.get(v.name, 0) + 1
    assert covered == dict.fromkeys(NAMES, 1)
    assert not list((tmp_path / "state").glob("shard-*")), "the shards share one state, under no prefix of their own"
    unsharded = open_findings(tmp_path / "unsharded")
    assert open_findings(tmp_path / "state") == unsharded
    assert sorted(unsharded.values()) == ["acl-rule-missing"] * 3 + ["subnet-allow-all"] * 2


def test_kafka_run_in_auto_mode_remediates_and_says_so(fake: Any, tmp_path: Path,
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    from ce_deployment import rule_names

    d = deploy(fake, tmp_path, config={"remediation": {"mode": "auto", "auto": ["acl-rule-missing"]}})
    sdk = d.sdk()
    expected = rule_names(sdk, "iks-cluster-us-south-1-acl")
    seen = len(d.events())
    delete_rule(sdk)
    [event] = d.events(seen)
    assert run_job(d, monkeypatch, kafka_env(event)) == 0
    assert rule_names(sdk, "iks-cluster-us-south-1-acl") == expected
    assert "remediated automatically" in slack_codes(d)


def test_the_event_command_reads_a_payload_file(recipe: Deployment, monkeypatch: pytest.MonkeyPatch,
                                                 tmp_path: Path) -> None:
    from netwarden.entrypoints import cli

    seen = len(recipe.events())
    delete_rule(recipe.sdk())
    [event] = recipe.events(seen)
    payload = tmp_path / "event.json"
    payload.write_text(json.dumps(event), encoding="utf-8")
    for key, value in recipe.env.items():
        monkeypatch.setenv(key, value)
    assert cli.main(["event", "--payload", str(payload)]) == 0
    assert "allow-workers-us-south-2-inbound" in slack_codes(recipe)
    assert cli.main(["event", "--payload", str(tmp_path / "missing.json")]) == 1


def test_the_event_command_refuses_a_deep_payload_file_in_one_line(recipe: Deployment, monkeypatch: pytest.MonkeyPatch,
                                                                   tmp_path: Path,
                                                                   capsys: pytest.CaptureFixture[str]) -> None:
    from netwarden.entrypoints import cli

    payload = tmp_path / "deep.json"
    payload.write_text("[" * 60000, encoding="utf-8")
    for key, value in recipe.env.items():
        monkeypatch.setenv(key, value)
    assert cli.main(["event", "--payload", str(payload)]) == 1
    err = capsys.readouterr().err
    assert "nested deeper than 32 levels" in err and "RecursionError" not in err and "internal error" not in err
