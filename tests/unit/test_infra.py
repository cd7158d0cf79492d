"""The deployment files: terraform that parses and is formatted, least-privilege IAM, a slim non-root
image, subscriptions as the issue asks, and a runbook that names the role each finding's fix needs.

terraform itself cannot validate here (``init`` needs the IBM provider from the network), so every
``.tf`` file is parsed with python-hcl2 and checked with ``terraform fmt`` (which parses too) when
terraform is installed.
"""

from __future__ import annotations

import importlib.util
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import hcl2
import pytest

from netwarden.core.findings import CODES

ROOT = Path(__file__).resolve().parents[2]
INFRA = ROOT / "infra"
TF_FILES = sorted((INFRA / "terraform").glob("*.tf"))


def _unquote(value: Any) -> Any:
    """python-hcl2 8 keeps the quotes of keys and strings; drop them so tests read plain values."""
    if isinstance(value, dict):
        return {_unquote(k): _unquote(v) for k, v in value.items() if k not in ("__is_block__", "__comments__")}
    if isinstance(value, list):
        return [_unquote(v) for v in value]
    if isinstance(value, str) and len(value) >= 2 and value[0] == value[-1] == '"':
        return value[1:-1]
    return value


def _load(path: Path) -> dict[str, Any]:
    with path.open(encoding="utf-8") as f:
        return _unquote(hcl2.load(f))  # type: ignore[no-any-return]


def _resources() -> dict[tuple[str, str], dict[str, Any]]:
    out: dict[tuple[str, str], dict[str, Any]] = {}
    for path in TF_FILES:
        for block in _load(path).get("resource", []):
            for rtype, named in block.items():
                for name, body in named.items():
                    out[(rtype, name)] = body
    return out


def _blocks(body: dict[str, Any], name: str) -> list[dict[str, Any]]:
    value = body.get(name, [])
    return value if isinstance(value, list) else [value]


@pytest.mark.parametrize("path", TF_FILES, ids=lambda p: p.name)
def test_every_terraform_file_parses(path: Path) -> None:
    assert _load(path)


@pytest.mark.skipif(shutil.which("terraform") is None, reason="terraform is not installed")
def test_terraform_is_formatted() -> None:
    result = subprocess.run(["terraform", "fmt", "-check", "-recursive", "-diff", str(INFRA / "terraform")],
                            capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stdout


def test_the_project_jobs_and_secrets_are_declared() -> None:
    r = _resources()
    for key in [("ibm_code_engine_project", "netwarden"), ("ibm_code_engine_job", "scan"),
                ("ibm_code_engine_job", "event"), ("ibm_code_engine_job", "remediate"),
                ("ibm_code_engine_function", "remediate"), ("ibm_code_engine_secret", "function_token"),
                ("ibm_iam_service_id", "scan"), ("ibm_iam_service_id", "remediate")]:
        assert key in r, key
    assert r[("ibm_code_engine_job", "remediate")]["run_arguments"] == ["remediate", "--apply"]


def test_jobs_take_secrets_by_reference_never_as_literals() -> None:
    for (rtype, name), body in _resources().items():
        if rtype not in ("ibm_code_engine_job", "ibm_code_engine_function"):
            continue
        for env in _blocks(body, "run_env_variables"):
            assert env["type"] in ("config_map_full_reference", "secret_full_reference"), (name, env)


POLICIES = {
    # name: (roles, resource attributes): read-only for scanning; Editor on ACLs and subnets only.
    "scan_vpc_viewer": (["Viewer"], {}),
    "remediate_vpc_viewer": (["Viewer"], {}),
    "remediate_acl_editor": (["Editor"], {"networkAclId": "*"}),
    "remediate_subnet_editor": (["Editor"], {"subnetId": "*"}),
    "remediate_gateway_operator": (["Operator"], {"publicGatewayId": "*"}),
    "remediate_security_group_editor": (["Editor"], {"securityGroupId": "*"}),
}


def test_iam_policies_are_least_privilege() -> None:
    policies = {name: body for (rtype, name), body in _resources().items() if rtype == "ibm_iam_service_policy"}
    vpc = {name: body for name, body in policies.items() if _blocks(body, "resources")[0].get("service") == "is"}
    assert set(vpc) == set(POLICIES)
    for name, (roles, attributes) in POLICIES.items():
        resources = _blocks(vpc[name], "resources")[0]
        assert vpc[name]["roles"] == roles, name
        assert resources.get("attributes", {}) == attributes, name
    scan_ids = {name for name, body in policies.items() if "service_id.scan." in str(body["iam_id"])}
    assert {name for name in scan_ids if name in vpc} == {"scan_vpc_viewer"}
    for body in policies.values():
        assert not {"Administrator", "Manager"} & set(body["roles"])


def test_the_gateway_operator_policy_is_opt_in() -> None:
    body = _resources()[("ibm_iam_service_policy", "remediate_gateway_operator")]
    assert "var.remediate_gateways" in str(body["count"])


def test_containerfile_is_slim_non_root_and_runs_the_job() -> None:
    text = (INFRA / "Containerfile").read_text(encoding="utf-8")
    assert re.search(r"^ARG PYTHON_IMAGE=python:3\.\d+-slim$", text, re.M)
    user = re.findall(r"^USER (\S+)$", text, re.M)
    assert user and user[-1].split(":")[0] not in ("0", "root")
    assert text.rstrip().splitlines()[-1] == 'ENTRYPOINT ["netwarden", "job"]'
    assert "COPY wheels/" in text and "requirements.txt" in text
    assert not re.search(r"^(ADD|COPY) \. ", text, re.M), "the image copies only the package and its dependencies"


@pytest.mark.parametrize("script", sorted((INFRA / "codeengine").glob("*.sh")), ids=lambda p: p.name)
def test_scripts_are_valid_bash(script: Path) -> None:
    subprocess.run(["bash", "-n", str(script)], check=True)
    assert script.read_text(encoding="utf-8").startswith("#!/usr/bin/env bash\n")


def test_subscriptions_run_the_scan_every_15_minutes_and_events_from_kafka() -> None:
    text = (INFRA / "codeengine" / "subscriptions.sh").read_text(encoding="utf-8")
    assert "SCHEDULE=${SCHEDULE:-'*/15 * * * *'}" in text
    assert "subscription cron create" in text and "subscription kafka create" in text
    assert "--destination-type job" in text


def test_the_runbook_names_the_role_each_finding_code_needs() -> None:
    text = (INFRA / "README.md").read_text(encoding="utf-8")
    table = text[text.index("| finding code |"):]
    for code in CODES:
        if CODES[code].kind in ("network-acl", "subnet", "security-group"):
            assert re.search(rf"^\| `{re.escape(code)}` \|", table, re.M), code


def test_nothing_deployable_mentions_machine_paths() -> None:
    for path in INFRA.rglob("*"):
        if path.is_file() and "__pycache__" not in path.parts:
            text = path.read_text(encoding="utf-8")
            assert "/work/" not in text and "/tmp/" not in text, path


# --- make package refuses a config for the emulators ------------------------------------------------


def _package_module() -> Any:
    spec = importlib.util.spec_from_file_location("netwarden_package_script", INFRA / "package.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


PACKAGE = _package_module()
DEPLOYABLE = """\
baseline: baseline/
ibmcloud:
  regions: [us-south]
  api_key_env: IBMCLOUD_API_KEY
  vpc_url: "https://{region}.iaas.cloud.ibm.com/v1"
  iam_url: "https://iam.cloud.ibm.com"
state: "cos://netwarden-state/prod"
notify:
  email: {smtp_host: smtp.example.com, sender: netwarden@example.com, to: [oncall@example.com]}
"""

# config text -> (line, field, words of the reason)
LOCAL_CONFIGS = {
    "vpc-url-loopback": ("ibmcloud:\n  regions: [us-south]\n  vpc_url: http://127.0.0.1:8765/vpc/{region}/v1\n",
                         3, "ibmcloud.vpc_url", "points at 127.0.0.1, this machine"),
    "iam-url-localhost": ("ibmcloud:\n  iam_url: http://localhost:8765/iam\n", 2, "ibmcloud.iam_url", "localhost"),
    "resource-manager-ipv6": ("ibmcloud:\n  resource_manager_url: 'http://[::1]:8765/rm'\n", 2,
                              "ibmcloud.resource_manager_url", "points at ::1"),
    "cluster-server": ("kubernetes:\n  clusters:\n  - name: c\n    server: http://127.0.0.1:8765/k8s/c\n", 4,
                       "kubernetes.clusters[0].server", "127.0.0.1"),
    "webhook-url": ("state: cos://bucket/prefix\nnotify:\n  webhook: {url: 'http://127.0.0.1:9/hook'}\n", 3,
                           "notify.webhook.url", "127.0.0.1"),
    "smtp-host-bare": ("notify:\n  email:\n    smtp_host: localhost\n", 3, "notify.email.smtp_host", "localhost"),
    "event-notifications": ("notify:\n  event_notifications: {instance_id: x, url: 'https://127.0.0.1/en'}\n", 2,
                            "notify.event_notifications.url", "127.0.0.1"),
    "emulator-key-variable": ("ibmcloud:\n  regions: [us-south]\n  api_key_env: NETWARDEN_FAKE_APIKEY\n", 3,
                              "ibmcloud.api_key_env", "the emulators' API key variable"),
}


@pytest.mark.parametrize(("text", "line", "field", "words"), list(LOCAL_CONFIGS.values()), ids=list(LOCAL_CONFIGS))
def test_package_refuses_a_config_that_points_at_this_machine(tmp_path: Path, text: str, line: int, field: str,
                                                              words: str) -> None:
    config = tmp_path / "netwarden.yaml"
    config.write_text(text, encoding="utf-8")
    with pytest.raises(SystemExit) as refused:
        PACKAGE.refuse_local_config(config)
    message = str(refused.value.code)
    assert message.startswith(f"package: {config}:{line}: {field}: "), message
    assert words in message and "netwarden fake serve" in message
    assert "\n" not in message


def test_package_refuses_what_fake_serve_writes(tmp_path: Path) -> None:
    from netwarden.adapters import yaml_io
    from netwarden.fakes import scenarios

    config = tmp_path / "netwarden.yaml"
    config.write_text(yaml_io.dumps(scenarios.config_for("http://127.0.0.1:8765", "none", None, "baseline")))
    with pytest.raises(SystemExit) as refused:
        PACKAGE.refuse_local_config(config)
    assert str(refused.value.code).startswith(f"package: {config}:")


def test_package_accepts_a_deployment_config(tmp_path: Path) -> None:
    config = tmp_path / "netwarden.yaml"
    config.write_text(DEPLOYABLE, encoding="utf-8")
    PACKAGE.refuse_local_config(config)


def test_package_ships_the_clusters_ca_files_beside_the_config(tmp_path: Path) -> None:
    config = tmp_path / "netwarden.yaml"
    config.write_text("kubernetes:\n  clusters:\n    - {name: c, server: 'https://c.example:30443', "
                      "token_env: KUBE_TOKEN_C, ca_file: certs/c.pem}\n", encoding="utf-8")
    with pytest.raises(SystemExit, match=r"clusters\[c\]\.ca_file: .*c\.pem is not a file"):
        PACKAGE.copy_ca_files(config, tmp_path / "out")
    (tmp_path / "certs").mkdir()
    (tmp_path / "certs" / "c.pem").write_text("-----BEGIN CERTIFICATE-----\n", encoding="utf-8")
    PACKAGE.copy_deploy_files(tmp_path / "deploy", config, None, warn=False)
    assert (tmp_path / "deploy" / "certs" / "c.pem").read_text(encoding="utf-8").startswith("-----BEGIN")


def test_the_package_script_refuses_before_writing_anything(tmp_path: Path) -> None:
    config = tmp_path / "netwarden.yaml"
    config.write_text(LOCAL_CONFIGS["vpc-url-loopback"][0], encoding="utf-8")
    run = subprocess.run([sys.executable, str(INFRA / "package.py"), "--out", str(tmp_path / "dist"), "--config",
                          str(config), "--baseline", str(ROOT / "baseline"), "--no-wheel"],
                         capture_output=True, text=True, timeout=120, check=False)
    assert run.returncode == 1 and run.stdout == ""
    assert run.stderr.splitlines() == [f"package: {config}:3: ibmcloud.vpc_url: points at 127.0.0.1, this machine, "
                                       "which a deployment cannot reach: this looks like a config for the emulators "
                                       "(netwarden fake serve); give PACKAGE_CONFIG the deployment's config"]
    assert not (tmp_path / "dist").exists()
