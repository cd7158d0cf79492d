"""The watcher's deployment: the Code Engine app (one instance, ``netwarden watch``, project-only, probed),
the Kafka subscription that goes to it or to the event job and never to both, the Activity Tracker route
narrowed to what a route can filter (locations), the Kubernetes roles (a reader that can change nothing,
a writer apart) and the runbook's steps.

The terraform is parsed as ``test_infra`` parses it; ``subscriptions.sh`` runs against stand-ins for
``ibmcloud`` and ``terraform`` that record what it asks; the variables' validations run in ``terraform
console`` on ``variables.tf`` alone (no provider needed) when terraform is installed.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml
from test_infra import INFRA, _blocks, _load, _resources

from netwarden.adapters import kube, kube_watch, kube_workloads

KUBE = INFRA / "kubernetes"
WRITE_VERBS = {"create", "update", "patch", "delete", "deletecollection", "escalate", "bind", "impersonate"}


def _env_blocks(body: dict[str, Any]) -> list[dict[str, Any]]:
    """The run_env_variables blocks, static and the content of dynamic ones."""
    out = list(_blocks(body, "run_env_variables"))
    for dynamic in body.get("dynamic", []):
        for block in _blocks(dynamic.get("run_env_variables", {}), "content"):
            out.append(block)
    return out


# --- the app ------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def app() -> dict[str, Any]:
    return _resources()[("ibm_code_engine_app", "watcher")]


@pytest.mark.parametrize(("argument", "expected"), [
    ("scale_min_instances", 1),
    ("scale_max_instances", 1),
    ("run_commands", ["netwarden"]),
    ("run_arguments", ["watch"]),
    ("image_port", 8080),
    ("managed_domain_mappings", "local"),  # project visibility (local_private / local_public reach further)
    ("image_reference", "${var.image}"),
    ("count", "${var.create_watcher ? 1 : 0}"),
], ids=str)
def test_the_watcher_app_is_declared_as_the_interface_asks(app: dict[str, Any], argument: str, expected: Any) -> None:
    assert app[argument] == expected


@pytest.mark.parametrize(("probe", "path"), [("probe_readiness", "/readyz"), ("probe_liveness", "/healthz")])
def test_the_app_is_probed_over_http_on_its_port(app: dict[str, Any], probe: str, path: str) -> None:
    (block,) = _blocks(app, probe)
    assert block["type"] == "http" and block["path"] == path and block.get("port", 0) in (0, app["image_port"])


def test_the_app_runs_as_the_images_user_without_a_project_service_account(app: dict[str, Any]) -> None:
    text = (INFRA / "Containerfile").read_text(encoding="utf-8")
    user = re.findall(r"^USER (\d+)", text, re.M)[-1]
    assert str(app["run_as_user"]) == user and app["run_service_account"] == "none"


def test_the_app_reads_what_the_scan_job_reads_and_the_tokens_by_reference(app: dict[str, Any]) -> None:
    scan = _resources()[("ibm_code_engine_job", "scan")]
    envs = _env_blocks(app)
    assert all(env["type"] in ("config_map_full_reference", "secret_full_reference") for env in envs)
    assert not any("value" in env for env in envs)
    references = [env["reference"] for env in envs]
    assert {env["reference"] for env in _env_blocks(scan)} <= set(references)
    assert "${ibm_code_engine_secret.function_token.name}" in references
    assert "${run_env_variables.value}" in references and "kube_scan_secrets" in str(app["dynamic"])


def test_the_kube_token_secrets_hold_the_variables_and_nothing_is_a_literal() -> None:
    r = _resources()
    for name, variable in [("kube_token", "kube_tokens"), ("kube_remediate_token", "kube_remediate_tokens")]:
        assert r[("ibm_code_engine_secret", name)]["data"] == f"${{var.{variable}}}"
    variables = {k: v for block in _load(INFRA / "terraform" / "variables.tf")["variable"] for k, v in block.items()}
    assert variables["kube_tokens"]["sensitive"] is True and variables["kube_remediate_tokens"]["sensitive"] is True
    assert variables["create_watcher"]["default"] is True
    # remediation (job, function) takes the writer tokens; nothing else names them outside auto mode
    for rtype, name in [("ibm_code_engine_job", "remediate"), ("ibm_code_engine_function", "remediate")]:
        assert "kube_remediate_secrets" in str(r[(rtype, name)]["dynamic"])
    assert "kube_remediate_secrets" not in str(r[("ibm_code_engine_job", "event")])


def test_the_event_job_stays_for_deployments_without_the_watcher_and_outputs_say_which() -> None:
    assert ("ibm_code_engine_job", "event") in _resources()
    outputs = {k: v for block in _load(INFRA / "terraform" / "outputs.tf")["output"] for k, v in block.items()}
    assert outputs["watcher_app"]["value"] == '${var.create_watcher ? ibm_code_engine_app.watcher[0].name : ""}'
    assert "endpoint_internal" in outputs["watcher_endpoint_internal"]["value"]


# --- the route ----------------------------------------------------------------------------------------


def test_the_route_filters_on_the_watched_regions_only_as_a_route_rule_can() -> None:
    route = _resources()[("ibm_atracker_route", "vpc_events")]
    assert "rules" not in route, "the rules are the dynamic chunks below"
    (dynamic,) = route["dynamic"]
    rules = dynamic["rules"]
    assert rules["for_each"] == "${chunklist(var.watched_regions, 8)}"  # at most 8 locations per rule
    (content,) = rules["content"]
    # a rule has target_ids and locations, nothing else (ibm_atracker_route's schema)
    assert set(content) == {"target_ids", "locations"} and content["locations"] == "${rules.value}"
    text = (INFRA / "terraform" / "events.tf").read_text(encoding="utf-8")
    assert "cost and quota, not about correctness" in text and "resource_ibm_atracker_route.go" in text


def _console(tmp_path: Path, expression: str, *variables: str) -> subprocess.CompletedProcess[str]:
    shutil.copy(INFRA / "terraform" / "variables.tf", tmp_path / "variables.tf")
    args = ["terraform", "console", "-var", "image=x", "-var", "function_token=" + "t" * 32]
    for v in variables:
        args += ["-var", v]
    return subprocess.run(args, input=expression + "\n", capture_output=True, text=True, cwd=tmp_path,
                          timeout=60, check=False, env={**os.environ, "TF_IN_AUTOMATION": "1", "NO_COLOR": "1"})


@pytest.mark.skipif(shutil.which("terraform") is None, reason="terraform is not installed")
@pytest.mark.parametrize(("variable", "accepted"), [
    ('watched_regions=["us-south","eu-de"]', True),
    ('watched_regions=["global"]', False),
    ('watched_regions=["us-south","*"]', False),
    ("watched_regions=[]", False),
    ('kube_tokens={"KUBE_TOKEN_PROD_CLUSTER"="t"}', True),
    ('kube_tokens={"kube-token"="t"}', False),
    ('kube_remediate_tokens={"1TOKEN"="t"}', False),
])
def test_the_variables_refuse_what_would_widen_the_route_or_name_no_variable(tmp_path: Path, variable: str,
                                                                            accepted: bool) -> None:
    run = _console(tmp_path, "var.create_watcher", variable)
    # the console exits 0 either way: a refused variable is an error and no answer
    assert run.returncode == 0
    assert ("Invalid value for variable" not in run.stderr and run.stdout.strip() == "true") is accepted, run.stderr


@pytest.mark.skipif(shutil.which("terraform") is None, reason="terraform is not installed")
def test_thirteen_regions_make_two_rules_of_at_most_eight(tmp_path: Path) -> None:
    regions = json.dumps([f"r{i}" for i in range(13)])
    run = _console(tmp_path, "jsonencode([for c in chunklist(var.watched_regions, 8) : length(c)])",
                   f"watched_regions={regions}")
    assert run.returncode == 0, run.stderr[-2000:]
    assert json.loads(json.loads(run.stdout.strip())) == [8, 5]


# --- subscriptions.sh ---------------------------------------------------------------------------------

TERRAFORM_STUB = """#!/usr/bin/env bash
name=${@: -1}
case "$name" in
  project_id) printf pid ;;
  kafka_topic) printf '%s' "${FAKE_TOPIC-netwarden-vpc-events}" ;;
  kafka_brokers) echo '["b1:9093","b2:9093"]' ;;
  kafka_password) printf pw ;;
  watcher_app) [ -n "${FAKE_NO_OUTPUT:-}" ] && { echo "Output not found" >&2; exit 1; }; printf '%s' "$FAKE_WATCHER" ;;
  *) exit 1 ;;
esac
"""
IBMCLOUD_STUB = """#!/usr/bin/env bash
(IFS=$'\\x1f'; printf '%s\\n' "$*") >> "$FAKE_LOG"
case "$*" in
  "ce subscription kafka get"*)
    [ -n "${FAKE_CURRENT:-}" ] || exit 1
    printf 'Name:    netwarden-vpc-events  \\nDestination Type:    %s  \\n' ${FAKE_CURRENT% *}
    printf 'Destination:    %s  \\nBrokers:\\n' ${FAKE_CURRENT#* } ;;
  "ce subscription cron get"*) exit 1 ;;
esac
exit 0
"""


def _subscribe(tmp_path: Path, **env: str) -> list[list[str]]:
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    for name, text in [("terraform", TERRAFORM_STUB), ("ibmcloud", IBMCLOUD_STUB)]:
        (bin_dir / name).write_text(text, encoding="utf-8")
        (bin_dir / name).chmod(0o755)
    log = tmp_path / "ibmcloud.log"
    full = {"PATH": f"{bin_dir}{os.pathsep}{os.environ['PATH']}", "HOME": str(tmp_path), "FAKE_LOG": str(log),
            "FAKE_WATCHER": "netwarden-watch", **env}
    run = subprocess.run(["bash", str(INFRA / "codeengine" / "subscriptions.sh")], env=full, cwd=tmp_path,
                         capture_output=True, text=True, timeout=60, check=False)
    assert run.returncode == 0, run.stderr
    return [line.split("\x1f") for line in log.read_text(encoding="utf-8").splitlines()]


def _kafka(calls: list[list[str]], verb: str) -> list[list[str]]:
    return [c for c in calls if c[:4] == ["ce", "subscription", "kafka", verb]]


def _option(call: list[str], name: str) -> str | None:
    return call[call.index(name) + 1] if name in call else None


APP = ("app", "netwarden-watch", "/events")
JOB = ("job", "netwarden-event", None)
# env -> (what is created, or None; whether the existing subscription is deleted first)
SUBSCRIPTION_CASES = {
    "watcher, none yet": ({}, APP, False),
    "no watcher, none yet": ({"FAKE_WATCHER": ""}, JOB, False),
    "watcher, the job had it": ({"FAKE_CURRENT": "job netwarden-event"}, APP, True),
    "watcher off, the app had it": ({"FAKE_WATCHER": "", "FAKE_CURRENT": "app netwarden-watch"}, JOB, True),
    "watcher, already the app's": ({"FAKE_CURRENT": "app netwarden-watch"}, None, False),
    "no watcher, already the job's": ({"FAKE_WATCHER": "", "FAKE_CURRENT": "job netwarden-event"}, None, False),
    "WATCHER_APP= before turning it off": ({"WATCHER_APP": "", "FAKE_CURRENT": "app netwarden-watch"}, JOB, True),
    "a state from before the watcher": ({"FAKE_NO_OUTPUT": "1"}, JOB, False),
}


@pytest.mark.parametrize(("env", "created", "deleted"), list(SUBSCRIPTION_CASES.values()), ids=list(SUBSCRIPTION_CASES))
def test_the_kafka_subscription_goes_to_the_watcher_or_the_event_job_never_both(
        tmp_path: Path, env: dict[str, str], created: tuple[str, str, str | None] | None, deleted: bool) -> None:
    calls = _subscribe(tmp_path, **env)
    creates, deletes = _kafka(calls, "create"), _kafka(calls, "delete")
    assert len(deletes) == int(deleted)
    if created is None:
        assert creates == []
        return
    (create,) = creates  # one subscription on the topic, whatever the destination
    assert tuple(_option(create, o) for o in ("--destination-type", "--destination", "--path")) == created
    assert _option(create, "--name") == "netwarden-vpc-events" and _option(create, "--topic") == "netwarden-vpc-events"
    assert _option(create, "--consumer-group") == "netwarden-event", "the same group resumes at the committed offset"
    if deleted:
        assert _option(deletes[0], "--name") == "netwarden-vpc-events"
        assert calls.index(deletes[0]) < calls.index(create)


def test_without_a_topic_there_is_no_kafka_subscription_and_the_scan_cron_stays(tmp_path: Path) -> None:
    calls = _subscribe(tmp_path, FAKE_TOPIC="")
    assert _kafka(calls, "create") == [] and _kafka(calls, "delete") == []
    (cron,) = [c for c in calls if c[:4] == ["ce", "subscription", "cron", "create"]]
    assert _option(cron, "--destination") == "netwarden-scan"


# --- the Kubernetes roles -----------------------------------------------------------------------------


def _manifests(name: str) -> list[dict[str, Any]]:
    with (KUBE / name).open(encoding="utf-8") as f:
        return [doc for doc in yaml.safe_load_all(f) if doc]


def _one(docs: list[dict[str, Any]], kind: str) -> dict[str, Any]:
    (doc,) = [d for d in docs if d["kind"] == kind]
    return doc


def _grants(role: dict[str, Any]) -> dict[tuple[str, str], set[str]]:
    out: dict[tuple[str, str], set[str]] = {}
    for rule in role["rules"]:
        assert set(rule) <= {"apiGroups", "resources", "verbs"}, "no resourceNames, nonResourceURLs or typos"
        for group in rule["apiGroups"]:
            for resource in rule["resources"]:
                out.setdefault((group, resource), set()).update(rule["verbs"])
    return out


READER = {
    ("networking.k8s.io", "networkpolicies"): {"get", "list", "watch"},
    ("", "namespaces"): {"get", "list", "watch"},
    ("", "nodes"): {"get", "list", "watch"},
    ("", "pods"): {"get", "list", "watch"},
    ("apps", "deployments"): {"list"},
    ("apps", "statefulsets"): {"list"},
    ("apps", "daemonsets"): {"list"},
}
WRITER = {("networking.k8s.io", "networkpolicies"): {"create", "update", "delete"}, ("", "namespaces"): {"patch"}}
VERB = {"POST": "create", "PUT": "update", "PATCH": "patch", "DELETE": "delete", "GET": "get"}


def _resource(path: str) -> tuple[str, str]:
    parts = [p for p in path.split("/") if p and not p.startswith("{")]
    return ("" if parts[0] == "api" else parts[1]), parts[-1]


def _what_the_adapters_send() -> tuple[dict[tuple[str, str], set[str]], dict[tuple[str, str], set[str]]]:
    """(reads, writes) as RBAC grants, from the kube adapters' own calls and paths."""
    text = Path(kube.__file__).read_text(encoding="utf-8")
    reads: dict[tuple[str, str], set[str]] = {}
    writes: dict[tuple[str, str], set[str]] = {}
    for method, name in re.findall(r'conn\.request\("(\w+)", (\w+)', text):
        verb = VERB[method]
        (reads if verb == "get" else writes).setdefault(_resource(getattr(kube, name)), set()).add(verb)
    listed = [m.strip('"') if m.startswith('"') else getattr(kube, m)
              for m in re.findall(r'list_all\(conn, ("[^"]+"|[A-Z_]+)', text)]
    listed += [path for _, path in kube_workloads.WORKLOAD_LISTS]
    for path in listed:
        reads.setdefault(_resource(path), set()).add("list")
    for _, path in kube_watch.WATCHED:
        reads.setdefault(_resource(path), set()).update({"list", "watch"})
    return reads, writes


def test_the_reader_role_is_exactly_get_list_watch_on_what_netwarden_reads() -> None:
    docs = _manifests("netwarden-reader.yaml")
    grants = _grants(_one(docs, "ClusterRole"))
    assert grants == READER
    assert not any("*" in str(v) for v in (grants, _one(docs, "ClusterRole")["rules"]))
    assert not set().union(*grants.values()) & WRITE_VERBS
    reads, _ = _what_the_adapters_send()
    for key, verbs in reads.items():
        assert verbs <= grants.get(key, set()), (key, verbs)


def test_the_writer_role_is_apart_and_has_exactly_what_remediation_sends() -> None:
    reader, writer = _manifests("netwarden-reader.yaml"), _manifests("netwarden-writer.yaml")
    assert not [d for d in reader if d["kind"] in ("ClusterRole", "Role") and _grants(d).keys() & WRITER.keys()
                and set().union(*_grants(d).values()) & WRITE_VERBS]
    role = _one(writer, "ClusterRole")
    assert role["metadata"]["name"] == "netwarden-writer" and _grants(role) == WRITER
    _, writes = _what_the_adapters_send()
    assert writes == WRITER
    binding = _one(writer, "RoleBinding")  # per namespace, not cluster-wide
    assert binding["roleRef"]["name"] == "netwarden-writer"
    assert binding["subjects"] == [{"kind": "ServiceAccount", "name": "netwarden-remediate", "namespace": "netwarden"}]
    assert not [d for d in writer if d["kind"] == "ClusterRoleBinding" and d["roleRef"]["name"] == "netwarden-writer"]


@pytest.mark.parametrize(("name", "account"), [("netwarden-reader.yaml", "netwarden-reader"),
                                                ("netwarden-writer.yaml", "netwarden-remediate")])
def test_each_account_has_a_long_lived_token_secret_and_no_mounted_token(name: str, account: str) -> None:
    docs = _manifests(name)
    sa, secret = _one(docs, "ServiceAccount"), _one(docs, "Secret")
    assert sa["metadata"] == {**sa["metadata"], "name": account, "namespace": "netwarden"}
    assert sa["automountServiceAccountToken"] is False
    assert secret["type"] == "kubernetes.io/service-account-token"
    assert secret["metadata"]["namespace"] == "netwarden"
    assert secret["metadata"]["annotations"] == {"kubernetes.io/service-account.name": account}
    assert "data" not in secret and "stringData" not in secret, "the token controller fills it in"
    bindings = [d for d in docs if d["kind"] in ("ClusterRoleBinding", "RoleBinding")]
    assert bindings and all(d["subjects"] == [{"kind": "ServiceAccount", "name": account, "namespace": "netwarden"}]
                            for d in bindings)
    assert _one(_manifests("netwarden-reader.yaml"), "Namespace")["metadata"]["name"] == "netwarden"
    assert "kubectl -n netwarden create token netwarden-reader --duration" in (
        KUBE / "netwarden-reader.yaml").read_text(encoding="utf-8")


@pytest.mark.parametrize("name", ["netwarden-reader.yaml", "netwarden-writer.yaml"])
def test_the_manifests_use_only_fields_the_kubernetes_models_know(name: str) -> None:
    from kubernetes import client

    models = {"Namespace": client.V1Namespace, "ServiceAccount": client.V1ServiceAccount,
              "ClusterRole": client.V1ClusterRole, "ClusterRoleBinding": client.V1ClusterRoleBinding,
              "RoleBinding": client.V1RoleBinding, "Secret": client.V1Secret}
    parts = {"metadata": client.V1ObjectMeta, "roleRef": client.V1RoleRef, "rules": client.V1PolicyRule,
             "subjects": client.RbacV1Subject}
    for doc in _manifests(name):
        model = models[doc["kind"]]
        assert set(doc) <= set(model.attribute_map.values()), (doc["kind"], set(doc))
        for key, part in parts.items():
            for item in doc.get(key) if isinstance(doc.get(key), list) else [doc[key]] if key in doc else []:
                assert set(item) <= set(part.attribute_map.values()), (doc["kind"], key, set(item))


# --- the runbook --------------------------------------------------------------------------------------


@pytest.mark.parametrize("words", [
    "infra/kubernetes/netwarden-reader.yaml", "kubernetes/netwarden-writer.yaml", "/readyz", "/healthz",
    "ibmcloud ce app get --name netwarden-watch", "ibmcloud ce app logs --name netwarden-watch",
    "SIGTERM", "WATCHER_APP= ../codeengine/subscriptions.sh", "terraform apply -var create_watcher=false",
    "TF_VAR_kube_tokens", "token_env", "kubectl -n netwarden create token netwarden-reader --duration",
    "ibmcloud ce app update --name netwarden-watch", "up to 15 minutes", "seconds",
    "a rule of an Activity Tracker route has `locations` and `target_ids` and nothing else",
    "acknowledges and drops, without a VPC call, every event it does not watch",
    "Routes are processed independently",
])
def test_the_runbook_covers_the_watcher(words: str) -> None:
    assert words in " ".join((INFRA / "README.md").read_text(encoding="utf-8").split())


def test_the_runbook_steps_are_numbered_in_order() -> None:
    text = (INFRA / "README.md").read_text(encoding="utf-8")
    assert [int(n) for n in re.findall(r"^## (\d+)\. ", text, re.M)] == list(range(8))
    for step in re.findall(r"step (\d+)", text):
        assert int(step) < 8
