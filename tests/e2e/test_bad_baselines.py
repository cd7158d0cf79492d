"""Bad baselines through the command line: each ends with exit 1 and one line naming file:line and field.

Every case under ``tests/fixtures/bad-baselines/<case>/`` is a small baseline with exactly one
mistake. Each is run through ``baseline lint`` and through ``check --snapshot`` (against a valid
snapshot of the recipe estate), in-process through ``cli.main`` and, for a few, as the real
``netwarden`` console script, to show that no traceback reaches the user and nothing is written.
"""

from __future__ import annotations

import hashlib
import subprocess
import sys
from pathlib import Path

import pytest

from netwarden.adapters.baseline_fs import read_baseline
from netwarden.core import snapshot_format
from netwarden.entrypoints import cli

REPO = Path(__file__).resolve().parents[2]
CASES_DIR = REPO / "tests" / "fixtures" / "bad-baselines"
ACL = "vpc/us-south/edge-vpc/network-acls/edge-acl.yaml"
SUBNETS = "vpc/us-south/edge-vpc/subnets.yaml"
VPC = "vpc/us-south/edge-vpc/vpc.yaml"
NAMESPACES = "kubernetes/prod-cluster/namespaces.yaml"
WORKLOADS = "kubernetes/prod-cluster/workloads.yaml"
POLICY = "kubernetes/prod-cluster/accounts/backend-allow.yaml"

# case -> (file, line, field or None, words the reason must contain)
CASES: dict[str, tuple[str, int, str | None, str]] = {
    "acl-invalid-cidr": (ACL, 7, "rules[0].source", "not a valid IP address or CIDR"),
    "acl-host-bits": (ACL, 8, "rules[0].destination", "host bits set"),
    "acl-port-out-of-range": (ACL, 9, "rules[0].destination_port", "outside 1-65535"),
    "acl-port-range-reversed": (ACL, 9, "rules[0].destination_port", "min 443 is greater than max 80"),
    "acl-port-zero": (ACL, 9, "rules[0].source_port", "port 0 is outside 1-65535"),
    "acl-port-wrong-type": (ACL, 9, "rules[0].destination_port", "got a list"),
    "acl-unknown-key": (ACL, 9, "rules[0].dest_port", "unknown key"),
    "acl-duplicate-rule-name": (ACL, 9, "rules[1].name", "duplicate rule name"),
    "acl-icmp-code-without-type": (ACL, 9, "rules[0].code", "needs a type"),
    "acl-icmp-type-out-of-range": (ACL, 9, "rules[0].type", "outside 0-254"),
    "acl-ports-on-icmp": (ACL, 9, "rules[0].destination_port", "protocol icmp has no ports"),
    "acl-ports-on-icmp-tcp-udp": (ACL, 9, "rules[0].source_port", "protocol icmp_tcp_udp has no ports"),
    "acl-unknown-protocol": (ACL, 6, "rules[0].protocol", "unknown ACL rule protocol 'tcpp'"),
    "acl-bad-action": (ACL, 4, "rules[0].action", "not 'allow' or 'deny'"),
    "acl-bad-direction": (ACL, 5, "rules[0].direction", "not 'inbound' or 'outbound'"),
    "acl-missing-destination": (ACL, 3, "rules[0].destination", "missing"),
    "acl-deny-icmp-tcp-udp": (ACL, 6, "rules[0].protocol", "refuses deny with protocol icmp_tcp_udp"),
    "acl-ipv6-source": (ACL, 7, "rules[0].source", "IPv6"),
    "acl-invalid-rule-name": (ACL, 3, "rules[0].name", "not a valid IBM Cloud rule name"),
    "acl-name-mismatch": (ACL, 1, "name", "does not match the file name"),
    "acl-rules-not-a-list": (ACL, 2, "rules", "expected a list of rules"),
    "acl-yaml-syntax": (ACL, 5, None, "YAML syntax"),
    "acl-duplicate-key": (ACL, 9, "rules[0].source", "duplicate key"),
    "subnet-unknown-acl": (SUBNETS, 5, "edge-subnet-2.network_acl", "is not in the baseline"),
    "subnet-missing-acl": (SUBNETS, 1, "edge-subnet-1.network_acl", "missing"),
    "subnet-cidr-host-bits": (SUBNETS, 4, "edge-subnet-1.cidr", "host bits set"),
    "subnet-cidr-overlap": (SUBNETS, 6, "edge-subnet-2.cidr", "overlaps subnet edge-subnet-1"),
    "subnet-unknown-key": (SUBNETS, 3, "edge-subnet-1.gateway", "unknown key"),
    "subnet-zone-not-in-region": (SUBNETS, 3, "edge-subnet-1.zone", "not a zone of region us-south"),
    "subnet-gateway-not-in-vpc": (SUBNETS, 3, "edge-subnet-1.public_gateway", "not among the public_gateways"),
    "vpc-default-acl-missing": (VPC, 1, "default_network_acl", "is not in the baseline"),
    "netpol-except-outside-cidr": (POLICY, 16, "spec.ingress[0].from[0].ipBlock.except[0]",
                                   "must be a strict subset of `cidr`"),
    "netpol-endport-below-port": (POLICY, 15, "spec.ingress[0].ports[0].endPort",
                                  "must be greater than or equal to `port`"),
    "netpol-ipblock-with-selector": (POLICY, 13, "spec.ingress[0].from[0]",
                                     "may not specify both ipBlock and another peer"),
    "netpol-recipe-namespace-selector": (POLICY, 13, "spec.ingress[0].from[0].NamespaceSelector", "unknown field"),
    "netpol-recipe-ports-mapping": (POLICY, 16, "spec.ingress[0].ports", "cannot unmarshal object"),
    "netpol-recipe-metadata-namespace": (POLICY, 4, "metadata.Namespace", "unknown field"),
    "netpol-bad-protocol": (POLICY, 13, "spec.ingress[0].ports[0].protocol", 'Unsupported value: "ICMP"'),
    "netpol-in-without-values": (POLICY, 9, "spec.podSelector.matchExpressions[0].values", "Required value"),
    "netpol-exists-with-values": (POLICY, 11, "spec.podSelector.matchExpressions[0].values", "Forbidden"),
    "netpol-bad-label-key": (POLICY, 8, "spec.podSelector.matchLabels", 'Invalid value: "tier!"'),
    "netpol-named-port-uppercase": (POLICY, 13, "spec.ingress[0].ports[0].port", 'Invalid value: "HTTP"'),
    "netpol-empty-peer": (POLICY, 13, "spec.ingress[0].from[0]", "must specify a peer"),
    "netpol-bad-policy-type": (POLICY, 12, "spec.policyTypes[0]", 'Unsupported value: "ingress"'),
    "netpol-name-mismatch": (POLICY, 4, "metadata.name", "does not match the file name"),
    "netpol-namespace-mismatch": (POLICY, 5, "metadata.namespace", "does not match the directory"),
    "netpol-namespace-undeclared": (POLICY, 5, "metadata.namespace", "not in kubernetes/prod-cluster/namespaces.yaml"),
    "netpol-missing-kind": (POLICY, 1, "kind", "needs kind: NetworkPolicy"),
    "netpol-wrong-api-version": (POLICY, 1, "apiVersion", 'Invalid value: "extensions/v1beta1"'),
    "namespaces-bad-label-value": (NAMESPACES, 2, "accounts.usage", 'Invalid value: "accounts team"'),
    "namespaces-number-label": (NAMESPACES, 3, "accounts.tier", "expected string labels"),
    "workloads-undeclared-namespace": (WORKLOADS, 1, "billing", "not in kubernetes/prod-cluster/namespaces.yaml"),
    "workloads-unknown-key": (WORKLOADS, 3, "accounts[0].label", "unknown key"),
}


def test_there_are_at_least_thirty_distinct_cases() -> None:
    on_disk = sorted(p.name for p in CASES_DIR.iterdir() if p.is_dir())
    assert on_disk == sorted(CASES)
    assert len(CASES) >= 30


@pytest.fixture(scope="module")
def snapshot_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("snapshot") / "recipe.json"
    path.write_text(snapshot_format.dumps(read_baseline(REPO / "baseline")), encoding="utf-8")
    return path


def tree_digest(root: Path) -> dict[str, str]:
    return {p.relative_to(root).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(root.rglob("*")) if p.is_file()}


def expected_prefix(case: str) -> str:
    file, line, field, _ = CASES[case]
    where = f"netwarden: error: {CASES_DIR / case}/{file}:{line}: "
    return where + (f"{field}: " if field else "")


@pytest.mark.parametrize("command", ["lint", "check"])
@pytest.mark.parametrize("case", sorted(CASES))
def test_bad_baseline_fails_with_one_line(case: str, command: str, snapshot_file: Path, tmp_path: Path,
                                          monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.chdir(tmp_path)  # no netwarden.yaml of the developer's in the way
    directory = CASES_DIR / case
    before = tree_digest(directory)
    report = tmp_path / "report.json"
    argv = (["baseline", "lint", str(directory)] if command == "lint"
            else ["check", "--snapshot", str(snapshot_file), "--baseline", str(directory), "--format", "json",
                  "--out", str(report)])
    code = cli.main(argv)
    out, err = capsys.readouterr()
    assert code == 1
    assert out == ""
    lines = err.splitlines()
    assert len(lines) == 1, err
    assert lines[0].startswith(expected_prefix(case)), lines[0]
    assert CASES[case][3] in lines[0]
    assert "Traceback" not in err
    assert tree_digest(directory) == before
    assert not report.exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == []


@pytest.mark.parametrize("case", ["acl-host-bits", "netpol-recipe-namespace-selector", "subnet-unknown-acl"])
def test_console_script_prints_no_traceback(case: str, snapshot_file: Path, tmp_path: Path) -> None:
    directory = CASES_DIR / case
    for argv in (["baseline", "lint", str(directory)],
                 ["check", "--snapshot", str(snapshot_file), "--baseline", str(directory)]):
        run = subprocess.run([sys.executable, "-m", "netwarden", *argv], cwd=tmp_path, capture_output=True,
                             text=True, timeout=60, check=False)
        assert run.returncode == 1
        assert run.stdout == ""
        assert run.stderr.splitlines() == [run.stderr.strip()]
        assert run.stderr.startswith(expected_prefix(case))
        assert "Traceback" not in run.stderr


@pytest.mark.parametrize(("layout", "message"), [
    ({"vpc/us-south/edge-vpc/network-acl/edge-acl.yaml": "name: edge-acl\n"}, "not part of the baseline layout"),
    ({"kubernetes/prod-cluster/namespaces.yml": "accounts: {}\n"}, "not part of the baseline layout"),
    ({"README.md": "nothing here\n"}, "no baseline files"),
])
def test_layout_mistakes_name_the_file(layout: dict[str, str], message: str, tmp_path: Path,
                                       capsys: pytest.CaptureFixture[str]) -> None:
    for rel, text in layout.items():
        (tmp_path / rel).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / rel).write_text(text)
    assert cli.main(["baseline", "lint", str(tmp_path)]) == 1
    err = capsys.readouterr().err
    assert len(err.splitlines()) == 1
    assert message in err
    assert str(tmp_path) in err
