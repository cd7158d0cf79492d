"""Security group drift end to end through the CLI: the recipe's secure-by-default groups in the emulator,
``baseline capture``, then each drift made with the real SDK gives exactly its finding code and exit 2,
and the rule changes IBM documents as its own in an IBM-managed group give none."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest
import yaml
from tests.integration.test_vpc_drift import Estate, estate  # noqa: F401  (the fixture)

CLUSTER = "cq2f9ha20m7cn4qhs0vg"
WORKERS, LBAAS, BASTION = f"kube-{CLUSTER}", f"kube-lbaas-{CLUSTER}", "iks-bastion-sg"


def group(e: Estate, name: str) -> dict[str, Any]:
    found: dict[str, Any] = next(g for g in e.sdk.list_security_groups(vpc_name="iks-vpc").get_result()
                                 ["security_groups"] if g["name"] == name)
    return found


def ssh_rule(e: Estate) -> tuple[str, str]:
    g = group(e, BASTION)
    return g["id"], next(r["id"] for r in g["rules"] if r.get("port_min") == 22)


def target(e: Estate, group_name: str, name: str) -> str:
    return str(next(t["id"] for t in group(e, group_name)["targets"] if t["name"] == name))


def _delete_rule(e: Estate) -> None:
    e.sdk.delete_security_group_rule(*ssh_rule(e))


def _add_rule(e: Estate) -> None:
    e.sdk.create_security_group_rule(group(e, BASTION)["id"], {
        "direction": "inbound", "protocol": "tcp", "port_min": 443, "port_max": 443,
        "remote": {"cidr_block": "207.42.8.0/24"}})


def _change_rule(e: Estate) -> None:
    e.sdk.update_security_group_rule(*ssh_rule(e), {"port_min": 2222, "port_max": 2222})


def _delete_group(e: Estate) -> None:
    bastion = group(e, BASTION)
    e.sdk.delete_security_group_target_binding(bastion["id"], target(e, BASTION, "iks-bastion-eth0"))
    e.sdk.delete_security_group(bastion["id"])


def _attach(e: Estate) -> None:
    e.sdk.create_security_group_target_binding(group(e, BASTION)["id"], target(e, LBAAS, f"kube-{CLUSTER}-alb1"))


def _detach(e: Estate) -> None:
    e.sdk.delete_security_group_target_binding(group(e, BASTION)["id"], target(e, BASTION, "iks-bastion-eth0"))


def _allow_all_in(e: Estate) -> None:
    e.sdk.create_security_group_rule(group(e, WORKERS)["id"], {
        "direction": "inbound", "protocol": "icmp_tcp_udp", "remote": {"cidr_block": "0.0.0.0/0"}})


def _ssh_from_anywhere(e: Estate) -> None:
    e.sdk.create_security_group_rule(group(e, WORKERS)["id"], {
        "direction": "inbound", "protocol": "tcp", "port_min": 22, "port_max": 22,
        "remote": {"cidr_block": "0.0.0.0/0"}})


Step = Callable[[Estate], None]
DRIFTS: list[tuple[str, Step, str, dict[str, str]]] = [
    ("rule deleted", _delete_rule, "sg-rule-missing",
     {"security_group": BASTION, "rule": "inbound tcp 22 from 207.42.8.0/24"}),
    ("rule added", _add_rule, "sg-rule-unexpected",
     {"security_group": BASTION, "rule": "inbound tcp 443 from 207.42.8.0/24"}),
    ("rule changed", _change_rule, "sg-rule-changed",
     {"security_group": BASTION, "rule": "inbound tcp 22 from 207.42.8.0/24"}),
    ("group deleted", _delete_group, "sg-missing", {"security_group": BASTION}),
    ("group attached to a target", _attach, "sg-target-added",
     {"security_group": BASTION, "target": f"load balancer kube-{CLUSTER}-alb1"}),
    ("group detached from a target", _detach, "sg-target-removed",
     {"security_group": BASTION, "target": "network interface iks-bastion-eth0"}),
    ("all traffic in on the workers' group", _allow_all_in, "sg-allow-all",
     {"security_group": WORKERS, "rule": "inbound icmp_tcp_udp from 0.0.0.0/0"}),
    ("ssh from anywhere on the workers' group", _ssh_from_anywhere, "sg-rule-unexpected",
     {"security_group": WORKERS, "rule": "inbound tcp 22 from 0.0.0.0/0"}),
]


@pytest.mark.parametrize(("drift", "code", "resource"), [d[1:] for d in DRIFTS], ids=[d[0] for d in DRIFTS])
def test_each_drift_gives_exactly_its_finding(estate: Estate, capsys: pytest.CaptureFixture[str], drift: Step,  # noqa: F811
                                              code: str, resource: dict[str, str]) -> None:
    assert estate.run(capsys, "baseline", "capture")[0] == 0
    assert estate.check(capsys)[0] == 0
    drift(estate)
    exit_code, report = estate.check(capsys)
    assert (exit_code, report["status"]) == (2, "drift")
    [finding] = report["findings"]
    assert finding["code"] == code
    assert {k: finding["resource"].get(k) for k in resource} == resource
    assert (finding["resource"]["kind"], finding["resource"]["vpc"]) == ("security-group", "iks-vpc")


def test_node_port_rules_ibm_adds_and_removes_give_no_finding(estate: Estate,  # noqa: F811
                                                              capsys: pytest.CaptureFixture[str]) -> None:
    assert estate.run(capsys, "baseline", "capture")[0] == 0
    workers, lbaas = group(estate, WORKERS), group(estate, LBAAS)
    # a new LoadBalancer service: IBM opens its node port from the load balancers to the workers ...
    estate.sdk.create_security_group_rule(workers["id"], {
        "direction": "inbound", "protocol": "tcp", "port_min": 31500, "port_max": 31500, "remote": {"id": lbaas["id"]}})
    estate.sdk.create_security_group_rule(lbaas["id"], {
        "direction": "outbound", "protocol": "tcp", "port_min": 31500, "port_max": 31500,
        "remote": {"id": workers["id"]}})
    # ... and an old one is gone, with its node port
    old = next(r["id"] for r in workers["rules"] if r.get("port_min") == 31380)
    estate.sdk.delete_security_group_rule(workers["id"], old)
    exit_code, report = estate.check(capsys)
    assert (exit_code, report["findings"]) == (0, [])
    # ... set aside, and said so: one note per group and reason, with the count
    churn = sorted((n["scope"], n["message"].split(": ", 1)[1].split(" rule change")[0])
                   for n in report["notes"] if n["kind"] == "ibm-churn")
    assert churn == [(f"us-south/iks-vpc/{WORKERS}", "2"), (f"us-south/iks-vpc/{LBAAS}", "1")], report["notes"]
    # security_groups.ibm_churn: drift reports the same changes as drift
    config = yaml.safe_load(estate.config.read_text())
    estate.config.write_text(yaml.safe_dump({**config, "security_groups": {"ibm_churn": "drift"}}))
    exit_code, report = estate.check(capsys)
    assert exit_code == 2 and sorted((f["code"], f["resource"]["security_group"]) for f in report["findings"]) == [
        ("sg-rule-changed", WORKERS), ("sg-rule-unexpected", LBAAS)]  # the node port moved, on both sides
    estate.config.write_text(yaml.safe_dump(config))
    # the same node port opened to the world is not IBM's churn
    estate.sdk.create_security_group_rule(workers["id"], {
        "direction": "inbound", "protocol": "tcp", "port_min": 31500, "port_max": 31500,
        "remote": {"cidr_block": "0.0.0.0/0"}})
    exit_code, report = estate.check(capsys)
    assert exit_code == 2 and [f["code"] for f in report["findings"]] == ["sg-rule-unexpected"]


def _with_state(e: Estate, **remediation: Any) -> None:
    config = yaml.safe_load(e.config.read_text())
    config["state"] = f"file://{e.config.parent / 'state'}"
    config["remediation"] = remediation
    e.config.write_text(yaml.safe_dump(config))


@pytest.mark.parametrize("drift", [d[1] for d in DRIFTS], ids=[d[0] for d in DRIFTS])
def test_remediate_apply_restores_each_drift_and_a_second_run_plans_nothing(
        estate: Estate, capsys: pytest.CaptureFixture[str], drift: Step) -> None:  # noqa: F811
    assert estate.run(capsys, "baseline", "capture")[0] == 0
    _with_state(estate)
    drift(estate)
    exit_code, out = estate.run(capsys, "remediate", "--apply", "--format", "json")
    result = json.loads(out)
    assert (exit_code, result["status"]) == (0, "in_sync"), out
    assert result["plan"]["skipped"] == []
    assert estate.check(capsys)[0] == 0
    exit_code, out = estate.run(capsys, "remediate", "--format", "json")
    assert (exit_code, json.loads(out)["status"]) == (0, "nothing-to-do")


def test_ibms_own_rule_is_left_to_ibm_until_the_config_allows_it(estate: Estate,  # noqa: F811
                                                                  capsys: pytest.CaptureFixture[str]) -> None:
    assert estate.run(capsys, "baseline", "capture")[0] == 0
    _with_state(estate)
    workers = group(estate, WORKERS)
    estate.sdk.delete_security_group_rule(workers["id"], next(
        r["id"] for r in workers["rules"] if r["remote"].get("cidr_block") == "166.8.0.0/14"))
    exit_code, out = estate.run(capsys, "remediate", "--apply", "--format", "json")
    result = json.loads(out)
    assert (exit_code, result["status"], result["plan"]["steps"]) == (2, "nothing-to-do", [])
    [skipped] = result["plan"]["skipped"]
    assert skipped["code"] == "sg-rule-missing"
    assert f"ibmcloud ks security-group sync --cluster {CLUSTER}" in skipped["reason"]
    _with_state(estate, ibm_managed_groups=True)
    exit_code, out = estate.run(capsys, "remediate", "--apply", "--format", "json")
    assert (exit_code, json.loads(out)["status"]) == (0, "in_sync"), out
    assert estate.check(capsys)[0] == 0
