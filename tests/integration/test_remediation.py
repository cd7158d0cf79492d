"""Remediation end to end on the emulators: drift made with the ibm-vpc SDK and the kubernetes client, then
``netwarden remediate`` (the CLI, in process) and the use-case with the real adapters.

For every finding code that has a remediation (drifted up to four at a time, one estate per kind of resource,
each code on its own resource): the plan has a step for it; ``remediate`` without ``--apply`` leaves the
emulators' state byte-for-byte as it was (IAM's count of tokens issued aside); ``remediate --apply`` puts
the baseline back and the next ``check`` exits 0. Then: six findings of four kinds fixed in one run; a
permanent 5xx on exactly the third write stops the run with an audit record, and the next run finishes
the job; while a subnet that fell back to the allow-all ACL is remediated, no state read after a
step lets through more than the state before or after the run (exact flow sets, ``core.acl.evaluate``),
nor does any security group while five of their drifts are undone (``sg_rules.covers``); and a baseline
that lost a namespace's folder is refused by the blast-radius guard until allowed.
"""

from __future__ import annotations

import contextlib
import io
import json
import re
import shutil
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml
from ibm_cloud_sdk_core.authenticators import IAMAuthenticator
from ibm_vpc import VpcV1
from kubernetes import client as k8s

from netwarden.adapters.baseline_fs import read_baseline
from netwarden.app import remediate as app
from netwarden.app.snapshot import take
from netwarden.config import Settings
from netwarden.core import sg_rules
from netwarden.core.acl import evaluate as acl_eval
from netwarden.core.flows.algebra import FlowSet
from netwarden.core.model import SgRule, Snapshot
from netwarden.entrypoints import cli, wiring
from netwarden.fakes import scenarios
from netwarden.fakes.iam import API_KEY
from netwarden.fakes.server import FakeServer

BASELINE = Path(__file__).resolve().parents[2] / "baseline"
VPC, CLUSTER = "iks-vpc", "iks-cluster"
ACL1, ACL2, ACL3 = (f"iks-cluster-us-south-{z}-acl" for z in (1, 2, 3))
SUBNET1, SUBNET2, SUBNET3 = (f"iks-vpc-us-south-{z}" for z in (1, 2, 3))
SSH_ANYWHERE = {"name": "ssh-anywhere", "action": "allow", "direction": "inbound", "protocol": "tcp",
                "source": "0.0.0.0/0", "destination": "0.0.0.0/0", "destination_port_min": 22,
                "destination_port_max": 22}


@dataclass
class Estate:
    """The recipe built in the emulators, a config pointing at them, and the clients that change them."""

    fake: FakeServer
    config: Path
    vpc: VpcV1
    net: k8s.NetworkingV1Api
    core: k8s.CoreV1Api
    err: str = ""

    def netwarden(self, *args: str) -> tuple[int, str]:
        """Run the CLI in this process; returns the exit code and stdout (stderr is kept in ``err``)."""
        out, err = io.StringIO(), io.StringIO()
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            code = cli.main([*args, "--config", str(self.config)])
        self.err = err.getvalue()
        return code, out.getvalue()

    def state(self) -> bytes:
        """The emulators' state, canonical; IAM's count of tokens issued is not part of the estate."""
        with urllib.request.urlopen(f"{self.fake.url}/_fake/state") as r:
            data = json.load(r)
        data.pop("netwarden.fakes.iam", None)
        return json.dumps(data, sort_keys=True).encode()

    def control(self, method: str, what: str, body: Any = None) -> Any:
        data = json.dumps(body).encode() if body is not None else None
        request = urllib.request.Request(f"{self.fake.url}/_fake/{what}", data=data, method=method,
                                         headers={"Content-Type": "application/json"})
        with urllib.request.urlopen(request) as r:
            return json.load(r)

    # --- the VPC through the SDK -------------------------------------------------------------------
    def acl(self, name: str) -> dict[str, Any]:
        return by_name(self.vpc.list_network_acls(limit=100).get_result()["network_acls"], name)

    def rule(self, acl: str, name: str) -> tuple[str, dict[str, Any]]:
        found = self.acl(acl)
        return found["id"], by_name(found["rules"], name)

    def subnet(self, name: str) -> dict[str, Any]:
        return by_name(self.vpc.list_subnets(limit=100).get_result()["subnets"], name)

    def settings(self) -> Settings:
        return Settings.load(self.config)


def reader(settings: Settings) -> Callable[[], Snapshot]:
    """Live reads through one VPC and one Kubernetes reader (their clients are built once)."""
    vpc, kube = wiring.vpc_reader(settings), wiring.kube_reader(settings)
    return lambda: take(vpc, kube, taken_at=wiring.now_rfc3339())


def by_name(items: list[dict[str, Any]], name: str) -> dict[str, Any]:
    return next(i for i in items if i["name"] == name)


@pytest.fixture(scope="module")
def baseline() -> Snapshot:
    return read_baseline(BASELINE)


@pytest.fixture
def estate(fake: FakeServer, baseline: Snapshot, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Estate:
    scenarios.build("recipe", fake.url, baseline=baseline)
    config = scenarios.config_for(fake.url, "recipe", baseline, str(BASELINE))
    config["state"] = f"file://{tmp_path / 'state'}"
    config["remediation"] = {"restore_namespace_labels": True, "max_changes": 10}
    path = tmp_path / "netwarden.yaml"
    path.write_text(yaml.safe_dump(config))
    monkeypatch.setenv(scenarios.API_KEY_ENV, API_KEY)
    sdk = VpcV1(authenticator=IAMAuthenticator(API_KEY, url=f"{fake.url}/iam"))
    sdk.set_service_url(f"{fake.url}/vpc/us-south/v1")
    api = k8s.ApiClient(k8s.Configuration(host=f"{fake.url}/k8s/{CLUSTER}"))
    return Estate(fake, path, sdk, k8s.NetworkingV1Api(api), k8s.CoreV1Api(api))


# --- drift, one kind at a time, made the way a person would ----------------------------------------------


def subnet_to_default_acl(e: Estate) -> None:
    vpc = by_name(e.vpc.list_vpcs().get_result()["vpcs"], VPC)
    e.vpc.replace_subnet_network_acl(e.subnet(SUBNET3)["id"], {"id": vpc["default_network_acl"]["id"]})


def subnet_to_other_acl(e: Estate) -> None:
    e.vpc.replace_subnet_network_acl(e.subnet(SUBNET2)["id"], {"id": e.acl(ACL3)["id"]})


def gateway_attached(e: Estate) -> None:
    vpc = by_name(e.vpc.list_vpcs().get_result()["vpcs"], VPC)
    gw = e.vpc.create_public_gateway({"id": vpc["id"]}, {"name": "us-south-2"}, name="stray-gateway").get_result()
    e.vpc.set_subnet_public_gateway(e.subnet(SUBNET2)["id"], {"id": gw["id"]})


def gateway_detached(e: Estate) -> None:
    e.vpc.unset_subnet_public_gateway(e.subnet(SUBNET1)["id"])


def rule_deleted(e: Estate) -> None:
    acl_id, rule = e.rule(ACL1, "corporate-network-inbound")
    e.vpc.delete_network_acl_rule(acl_id, rule["id"])


def rule_added(e: Estate) -> None:
    acl = e.acl(ACL1)
    e.vpc.create_network_acl_rule(acl["id"], {**SSH_ANYWHERE, "before": {"id": acl["rules"][0]["id"]}})


def rule_widened(e: Estate) -> None:
    acl_id, rule = e.rule(ACL2, "corporate-network-inbound")
    e.vpc.update_network_acl_rule(acl_id, rule["id"], {"source": "207.42.0.0/16"})


def rules_reordered(e: Estate) -> None:
    acl = e.acl(ACL3)
    deny = by_name(acl["rules"], "deny-all-inbound")
    e.vpc.update_network_acl_rule(acl["id"], deny["id"], {"before": {"id": acl["rules"][0]["id"]}})


def policy_deleted(e: Estate) -> None:
    e.net.delete_namespaced_network_policy("db-allow", "accounts")


def policy_added(e: Estate) -> None:
    e.net.create_namespaced_network_policy("accounts", {
        "apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy",
        "metadata": {"name": "allow-everything", "namespace": "accounts"},
        "spec": {"podSelector": {}, "ingress": [{}], "policyTypes": ["Ingress"]}})


def policy_changed(e: Estate) -> None:
    e.net.patch_namespaced_network_policy("backend-allow", "accounts", {"spec": {"ingress": [{}]}})


def labels_changed(e: Estate) -> None:
    e.core.patch_namespace("finance", {"metadata": {"labels": {"usage": "accounts"}}})


# --- security groups ------------------------------------------------------------------------------------

WORKERS_SG, BASTION_SG, DEFAULT_SG = "kube-cq2f9ha20m7cn4qhs0vg", "iks-bastion-sg", "iks-vpc-default-sg"
ALB = "kube-cq2f9ha20m7cn4qhs0vg-alb1"


def group(e: Estate, name: str) -> dict[str, Any]:
    return by_name(e.vpc.list_security_groups(vpc_name=VPC).get_result()["security_groups"], name)


def target_id(e: Estate, name: str) -> str:
    return str(next(t["id"] for g in e.vpc.list_security_groups(vpc_name=VPC).get_result()["security_groups"]
                    for t in g["targets"] if t["name"] == name))


def sg_rule_deleted(e: Estate) -> None:
    g = group(e, BASTION_SG)
    e.vpc.delete_security_group_rule(g["id"], next(r["id"] for r in g["rules"] if r["direction"] == "outbound"))


def sg_rule_changed(e: Estate) -> None:
    g = group(e, BASTION_SG)
    e.vpc.update_security_group_rule(g["id"], next(r["id"] for r in g["rules"] if r.get("port_min") == 22),
                                     {"port_min": 2222, "port_max": 2222})


def sg_rule_added(e: Estate) -> None:
    e.vpc.create_security_group_rule(group(e, DEFAULT_SG)["id"], {
        "direction": "inbound", "protocol": "tcp", "port_min": 443, "port_max": 443,
        "remote": {"cidr_block": "10.0.0.0/8"}})


def sg_allow_all(e: Estate) -> None:
    e.vpc.create_security_group_rule(group(e, WORKERS_SG)["id"], {
        "direction": "inbound", "protocol": "icmp_tcp_udp", "remote": {"cidr_block": "0.0.0.0/0"}})


def sg_deleted(e: Estate) -> None:
    g = group(e, BASTION_SG)
    e.vpc.delete_security_group_target_binding(g["id"], target_id(e, "iks-bastion-eth0"))
    e.vpc.delete_security_group(g["id"])


def sg_target_removed(e: Estate) -> None:
    e.vpc.delete_security_group_target_binding(group(e, BASTION_SG)["id"], target_id(e, "iks-bastion-eth0"))


def sg_target_added(e: Estate) -> None:
    e.vpc.create_security_group_target_binding(group(e, DEFAULT_SG)["id"], target_id(e, ALB))


#: Every finding code that has a remediation, drifted a few at a time (one estate per kind of resource,
#: each code on its own resource, so that each fix is checked and none hides another).
GROUPS: list[tuple[str, list[tuple[Callable[[Estate], None], str]]]] = [
    ("acl-rules", [(rule_deleted, "acl-rule-missing"), (rule_added, "acl-rule-unexpected"),
                   (rule_widened, "acl-rule-changed"), (rules_reordered, "acl-rules-reordered")]),
    ("subnets", [(subnet_to_default_acl, "subnet-allow-all"), (subnet_to_other_acl, "subnet-acl-changed"),
                 (gateway_attached, "gateway-attached"), (gateway_detached, "gateway-detached")]),
    ("kubernetes", [(policy_deleted, "netpol-missing"), (policy_added, "netpol-unexpected"),
                    (policy_changed, "netpol-changed"), (labels_changed, "namespace-labels-changed")]),
    ("security-group-rules", [(sg_rule_deleted, "sg-rule-missing"), (sg_rule_changed, "sg-rule-changed"),
                              (sg_rule_added, "sg-rule-unexpected"), (sg_allow_all, "sg-allow-all")]),
    ("security-group-targets", [(sg_target_removed, "sg-target-removed"), (sg_target_added, "sg-target-added")]),
    ("security-groups", [(sg_deleted, "sg-missing")]),
]


def codes_found(e: Estate) -> list[str]:
    code, out = e.netwarden("check", "--format", "json")
    assert code in (0, 2), out
    return sorted(f["code"] for f in json.loads(out)["findings"])


def test_every_code_with_a_remediation_is_covered() -> None:
    from netwarden.core.findings import CODES
    from netwarden.core.plan.build import MANUAL

    covered = {code for _, drifts in GROUPS for _, code in drifts}
    # gateway-changed needs a second gateway in the subnet's zone, which IBM Cloud does not allow (one per
    # zone per VPC): on the emulator it can only mean a renamed gateway, which the plan skips (unit tests).
    assert covered == set(CODES) - set(MANUAL) - {"gateway-changed"}


@pytest.mark.parametrize("drifts", [g[1] for g in GROUPS], ids=[g[0] for g in GROUPS])
def test_each_code_dry_run_changes_nothing_and_apply_restores_the_baseline(
        estate: Estate, drifts: list[tuple[Callable[[Estate], None], str]]) -> None:
    for drift, _ in drifts:
        drift(estate)
    before = estate.state()
    exit_code, out = estate.netwarden("remediate", "--format", "json")
    assert exit_code == 2, out
    plan = json.loads(out)
    assert plan["status"] == "planned"
    planned = {c for step in plan["plan"]["steps"] for c in step["codes"]}
    assert {code for _, code in drifts} <= planned
    assert plan["plan"]["skipped"] == []
    assert estate.state() == before, "a dry run must not change the emulators' state"
    exit_code, out = estate.netwarden("remediate", "--apply")
    assert exit_code == 0, out
    assert "Verification (fresh snapshot): in sync" in out
    assert estate.netwarden("check")[0] == 0


def six_findings(e: Estate) -> None:
    rule_deleted(e)
    rule_added(e)
    rule_widened(e)
    subnet_to_default_acl(e)
    gateway_detached(e)
    policy_deleted(e)


SIX = ["acl-rule-changed", "acl-rule-missing", "acl-rule-unexpected", "gateway-detached", "netpol-missing",
       "subnet-allow-all"]


def test_six_findings_of_four_kinds_are_fixed_in_one_run(estate: Estate) -> None:
    six_findings(estate)
    assert codes_found(estate) == SIX
    before = estate.state()
    assert estate.netwarden("remediate", "--apply", "--max-changes", "5")[0] == 1
    assert "the plan has 6 steps, more than max_changes (5)" in estate.err
    estate.control("POST", "faults", {"path": "^/k8s/", "method": "GET", "status": 403})
    exit_code, out = estate.netwarden("remediate", "--apply")
    assert exit_code == 3 and "INCOMPLETE: nothing was changed" in out, out
    estate.control("DELETE", "faults")
    assert estate.state() == before, "a refused plan and an incomplete snapshot change nothing"
    exit_code, out = estate.netwarden("remediate", "--apply", "--format", "json")
    assert exit_code == 0, out
    result = json.loads(out)
    assert result["status"] == "in_sync" and result["applied"] == [1, 2, 3, 4, 5, 6]
    assert [s["kind"] for s in result["plan"]["steps"]] == [
        "replace-subnet-acl", "delete-rule", "update-rule", "apply-policy", "create-rule", "set-gateway"]
    audit = json.loads((estate.config.parent / "state" / result["audit"]).read_text())
    assert audit["status"] == "in_sync" and audit["initiator"] == "cli"
    exit_code, out = estate.netwarden("remediate", "--apply")
    assert exit_code == 0 and out.startswith("netwarden remediate: nothing to remediate"), out


def test_a_permanent_5xx_at_step_3_stops_the_run_and_the_next_run_finishes(estate: Estate) -> None:
    six_findings(estate)
    settings = estate.settings()
    baseline, read = wiring.read_baseline(settings.baseline), reader(settings)
    writers = app.Writers(wiring.vpc_writer(settings), wiring.kube_writer(settings))

    def go(dry_run: bool, sleep: Callable[[float], None]) -> app.RemediationResult:
        return app.run(baseline, read, writers, app.Request(dry_run=dry_run), state=wiring.state_store(settings),
                       run_id="run-5xx", clock=wiring.now_rfc3339, sleep=sleep)

    third = go(True, pytest.fail).plan.steps[2].call
    estate.control("POST", "faults", {"path": re.escape(third.path) + r"(\?|$)", "method": third.method,
                                      "status": 503})
    sleeps: list[float] = []
    result = go(False, sleeps.append)
    assert result.status == "failed"
    assert result.applied == (1, 2)
    assert result.failure is not None and (result.failure.step, result.failure.temporary) == (3, True)
    assert len(sleeps) == app.RetryPolicy().attempts - 1, "bounded: a few retries, then stop"
    assert result.audit_key is not None
    audit = json.loads((estate.config.parent / "state" / result.audit_key).read_text())
    assert (audit["status"], audit["applied"], audit["failed"]["step"]) == ("failed", [1, 2], 3)
    assert (estate.config.parent / "state" / audit["pre_snapshot"]).is_file()
    assert len(codes_found(estate)) == 4, "two of six fixed, the rest untouched"
    estate.control("DELETE", "faults")
    exit_code, out = estate.netwarden("remediate", "--apply")
    assert exit_code == 0, out
    assert "Plan: 4 step(s)" in out and "Verification (fresh snapshot): in sync" in out


def observed_run(e: Estate) -> tuple[app.RemediationResult, list[Snapshot]]:
    """``remediate --apply`` through the use-case, with the live state read before the run and after each step."""
    settings = e.settings()
    read = reader(settings)
    states: list[Snapshot] = [read()]
    result = app.run(wiring.read_baseline(settings.baseline), read,
                     app.Writers(wiring.vpc_writer(settings), wiring.kube_writer(settings)),
                     app.Request(dry_run=False), state=wiring.state_store(settings), run_id="run-observed",
                     clock=wiring.now_rfc3339, observer=lambda n, step: states.append(read()))
    return result, states


def _flows(snapshot: Snapshot) -> dict[tuple[str, str], FlowSet]:
    vpc = snapshot.vpc("us-south", VPC)
    assert vpc is not None
    out: dict[tuple[str, str], FlowSet] = {}
    for s in vpc.subnets:
        acl = vpc.acl(s.network_acl or "")
        assert acl is not None and s.cidr is not None
        for direction in acl_eval.DIRECTIONS:
            allowed = acl_eval.allowed_flows(acl.rules, direction)
            out[(s.name, direction)] = allowed & (acl_eval.all_traffic(destination=s.cidr) if direction == "inbound"
                                                  else acl_eval.all_traffic(source=s.cidr))
    return out


def deny_protocol_changed(e: Estate) -> None:
    """deny-all-inbound of ACL 3 is now tcp only (udp and icmp fall through to the implicit deny)."""
    acl = e.acl(ACL3)
    rule = by_name(acl["rules"], "deny-all-inbound")
    e.vpc.delete_network_acl_rule(acl["id"], rule["id"])
    e.vpc.create_network_acl_rule(acl["id"], {"name": "deny-all-inbound", "action": "deny", "direction": "inbound",
                                              "protocol": "tcp", "source": "0.0.0.0/0", "destination": "0.0.0.0/0"})


def test_a_subnet_back_on_allow_all_is_never_more_open_during_remediation(estate: Estate) -> None:
    subnet_to_default_acl(estate)           # subnet 3 lets everything in
    deny_protocol_changed(estate)           # its own ACL: a deny replaced by another protocol
    acl = estate.acl(ACL3)                  # ... with an unexpected allow at the top
    estate.vpc.create_network_acl_rule(acl["id"], {**SSH_ANYWHERE, "before": {"id": acl["rules"][0]["id"]}})
    rules_reordered(estate)                 # ... and its deny moved first
    rule_widened(estate)                    # subnet 2's ACL opened
    rule_deleted(estate)                    # subnet 1's ACL lost an allow
    result, states = observed_run(estate)
    assert result.status == "in_sync", result.reason
    assert len(states) == len(result.plan) + 1 >= 6
    before, after = _flows(states[0]), _flows(states[-1])
    allow_all = acl_eval.all_traffic(destination="10.240.128.0/24")
    assert allow_all.issubset(before[(SUBNET3, "inbound")])
    assert not allow_all.issubset(_flows(states[1])[(SUBNET3, "inbound")]), "the allow-all hole closes first"
    for n, state in enumerate(states[1:], 1):
        for key, flows in _flows(state).items():
            assert flows.issubset(before[key] | after[key]), f"after step {n} {key} allows more than before or after"


def test_a_baseline_that_lost_a_namespace_folder_is_refused_until_allowed(estate: Estate, tmp_path: Path) -> None:
    lost = tmp_path / "baseline-lost"
    shutil.copytree(BASELINE, lost)
    shutil.rmtree(lost / "kubernetes" / CLUSTER / "accounts")
    config = yaml.safe_load(estate.config.read_text(encoding="utf-8"))
    config["baseline"] = str(lost)
    estate.config.write_text(yaml.safe_dump(config), encoding="utf-8")
    live = {p.metadata.name for p in estate.net.list_namespaced_network_policy("accounts").items}
    assert len(live) == 3
    before = estate.state()
    exit_code, out = estate.netwarden("remediate", "--apply")
    assert exit_code == 1 and out.startswith("netwarden remediate: REFUSED: nothing was changed"), out
    assert (f"it would delete every NetworkPolicy of namespace accounts in cluster {CLUSTER} (3 live) and leave "
            "the namespace open") in estate.err
    assert estate.state() == before, "a refused plan changes nothing"
    exit_code, out = estate.netwarden("remediate", "--apply", "--allow-destructive")
    assert exit_code == 0, out
    assert "Verification (fresh snapshot): in sync" in out
    assert estate.net.list_namespaced_network_policy("accounts").items == []


def _groups(snapshot: Snapshot) -> dict[str, tuple[tuple[SgRule, ...], frozenset[tuple[str, str]]]]:
    vpc = snapshot.vpc("us-south", VPC)
    assert vpc is not None
    return {g.name: (g.rules, frozenset((t.type, t.name) for t in g.targets)) for g in vpc.security_groups}


def _allows_no_more(rules: tuple[SgRule, ...], than: tuple[SgRule, ...]) -> bool:
    return all(any(sg_rules.covers(wide, rule) for wide in than) for rule in rules)


def test_security_groups_are_never_more_open_during_remediation(estate: Estate) -> None:
    sg_allow_all(estate)                    # the workers let everything in
    bastion = group(estate, BASTION_SG)     # the bastion's ssh rule widened to every port below 1024 ...
    ssh = next(r["id"] for r in bastion["rules"] if r.get("port_min") == 22)
    estate.vpc.update_security_group_rule(bastion["id"], ssh, {"port_min": 1, "port_max": 1024})
    sg_rule_deleted(estate)                 # ... and its outbound rule gone
    sg_rule_added(estate)                   # the default group opened to 10.0.0.0/8 on 443
    sg_target_added(estate)                 # ... and bound to the load balancer
    result, states = observed_run(estate)
    assert result.status == "in_sync", result.reason
    kinds = [s.to_dict()["kind"] for s in result.plan.steps]
    assert kinds == ["delete-sg-rule", "update-sg-rule", "delete-sg-rule", "unbind-sg-target", "create-sg-rule"]
    before, after = _groups(states[0]), _groups(states[-1])
    for n, state in enumerate(states[1:], 1):
        for name, (rules, targets) in _groups(state).items():
            (rules_before, targets_before), (rules_after, targets_after) = before[name], after[name]
            assert (_allows_no_more(rules, rules_before) and targets <= targets_before) or \
                   (_allows_no_more(rules, rules_after) and targets <= targets_after), \
                f"after step {n} security group {name} allows more than before or after the run"
