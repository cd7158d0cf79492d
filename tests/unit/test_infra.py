"""The deployment files: terraform that parses and is formatted, least-privilege IAM, a slim non-root
image, subscriptions as the issue asks, and a runbook that names the role each finding's fix needs.

terraform itself cannot validate here (``init`` needs the IBM provider from the network), so every
``.tf`` file is parsed with python-hcl2 and checked with ``terraform fmt`` (which parses too) when
terraform is installed.
"""

from __future__ import annotations

import re
import shutil
import subprocess
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
        if CODES[code].kind in ("network-acl", "subnet"):
            assert re.search(rf"^\| `{re.escape(code)}` \|", table, re.M), code


def test_nothing_deployable_mentions_machine_paths() -> None:
    for path in INFRA.rglob("*"):
        if path.is_file() and "__pycache__" not in path.parts:
            text = path.read_text(encoding="utf-8")
            assert "/work/" not in text and "/tmp/" not in text, path
