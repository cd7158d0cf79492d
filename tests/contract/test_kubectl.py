"""kubectl against the Kubernetes emulator: what a person does to a cluster, and what they read back.

Each test runs the real ``kubectl`` with ``--server`` pointed at the emulator, an empty kubeconfig and
a discovery cache of this module's own (so neither the developer's config nor their cache takes part).
Without kubectl on the PATH these tests are skipped, saying so.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

from netwarden.fakes.server import FakeServer

KUBECTL = shutil.which("kubectl")
pytestmark = pytest.mark.skipif(KUBECTL is None, reason="kubectl is not installed on this machine (not on PATH)")

NAMESPACES = """\
apiVersion: v1
kind: Namespace
metadata:
  name: accounts
  labels: {usage: accounts}
---
apiVersion: v1
kind: Namespace
metadata:
  name: finance
  labels: {usage: finance}
"""

ACCOUNTS_ALLOW = """\
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata:
  name: accounts-allow
  namespace: accounts
spec:
  podSelector:
    matchLabels: {app: Srv1, tier: backend}
  ingress:
  - from:
    - namespaceSelector:
        matchLabels: {usage: finance}
    ports:
    - port: 3111
      protocol: TCP
"""


class Kubectl:
    def __init__(self, fake: FakeServer, tmp: Path, cache: Path) -> None:
        self.tmp = tmp
        (tmp / "kubeconfig").write_text("")
        self.base = [str(KUBECTL), "--kubeconfig", str(tmp / "kubeconfig"), "--cache-dir", str(cache),
                     "--server", f"{fake.url}/k8s/kubectl-cluster", "--request-timeout", "10s"]

    def __call__(self, *args: str, stdin: str | None = None, ok: bool = True) -> subprocess.CompletedProcess[str]:
        done = subprocess.run([*self.base, *args], input=stdin, capture_output=True, text=True, timeout=60,
                              check=False)
        if ok:
            assert done.returncode == 0, done.stderr
        return done

    def apply(self, manifest: str, *args: str, ok: bool = True) -> subprocess.CompletedProcess[str]:
        path = self.tmp / "manifest.yaml"
        path.write_text(manifest)
        return self("apply", "-f", str(path), *args, ok=ok)

    def json(self, *args: str) -> Any:
        return json.loads(self(*args, "-o", "json").stdout)


@pytest.fixture(scope="module")
def discovery_cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """kubectl's discovery cache, shared by the tests of this module: they talk to the same server."""
    return tmp_path_factory.mktemp("kubectl-cache")


@pytest.fixture
def kubectl(fake: FakeServer, tmp_path: Path, discovery_cache: Path) -> Kubectl:
    k = Kubectl(fake, tmp_path, discovery_cache)
    k.apply(NAMESPACES)
    return k


def test_apply_creates_then_configures_then_leaves_unchanged(kubectl: Kubectl) -> None:
    assert kubectl.apply(ACCOUNTS_ALLOW).stdout.strip() == "networkpolicy.networking.k8s.io/accounts-allow created"
    assert kubectl.apply(ACCOUNTS_ALLOW).stdout.strip() == "networkpolicy.networking.k8s.io/accounts-allow unchanged"
    changed = ACCOUNTS_ALLOW.replace("port: 3111", "port: 3112")
    assert kubectl.apply(changed).stdout.strip() == "networkpolicy.networking.k8s.io/accounts-allow configured"
    policy = kubectl.json("get", "networkpolicy", "accounts-allow", "-n", "accounts")
    assert policy["spec"]["ingress"][0]["ports"] == [{"port": 3112, "protocol": "TCP"}]
    assert policy["metadata"]["generation"] == 2
    assert "kubectl.kubernetes.io/last-applied-configuration" in policy["metadata"]["annotations"]


def test_get_all_namespaces_as_json(kubectl: Kubectl) -> None:
    kubectl.apply(ACCOUNTS_ALLOW)
    kubectl.apply(ACCOUNTS_ALLOW.replace("accounts-allow", "deny-all").replace("namespace: accounts",
                                                                                 "namespace: finance"))
    listed = kubectl.json("get", "networkpolicies", "-A")
    assert listed["kind"] == "List"
    assert [(i["kind"], i["metadata"]["namespace"], i["metadata"]["name"]) for i in listed["items"]] == [
        ("NetworkPolicy", "accounts", "accounts-allow"), ("NetworkPolicy", "finance", "deny-all")]
    assert listed["items"][0]["spec"]["policyTypes"] == ["Ingress"]
    table = [line.split() for line in kubectl("get", "netpol", "-A").stdout.splitlines()]
    assert [row[:3] for row in table] == [["NAMESPACE", "NAME", "POD-SELECTOR"],
                                          ["accounts", "accounts-allow", "app=Srv1,tier=backend"],
                                          ["finance", "deny-all", "app=Srv1,tier=backend"]]


def test_label_a_namespace(kubectl: Kubectl) -> None:
    refused = kubectl("label", "namespace", "finance", "usage=payments", ok=False)
    assert refused.returncode != 0 and "already has a value (finance)" in refused.stderr
    assert kubectl("label", "namespace", "finance", "usage=payments", "--overwrite").stdout.strip() == \
        "namespace/finance labeled"
    labels = kubectl.json("get", "namespace", "finance")["metadata"]["labels"]
    assert labels == {"kubernetes.io/metadata.name": "finance", "usage": "payments"}
    kubectl("label", "namespace", "finance", "usage-")
    assert kubectl.json("get", "namespace", "finance")["metadata"]["labels"] == {
        "kubernetes.io/metadata.name": "finance"}


def test_delete(kubectl: Kubectl) -> None:
    kubectl.apply(ACCOUNTS_ALLOW)
    assert kubectl("delete", "networkpolicy", "accounts-allow", "-n", "accounts").stdout.strip() == \
        'networkpolicy.networking.k8s.io "accounts-allow" deleted'
    assert kubectl.json("get", "networkpolicies", "-A")["items"] == []
    missing = kubectl("delete", "networkpolicy", "accounts-allow", "-n", "accounts", ok=False)
    assert missing.returncode == 1
    assert 'networkpolicies.networking.k8s.io "accounts-allow" not found' in missing.stderr


@pytest.mark.parametrize(("manifest", "error"), [
    # The recipe's own example, as published: capitalised NamespaceSelector, ports as a mapping.
    (ACCOUNTS_ALLOW.replace("namespaceSelector", "NamespaceSelector"),
     'Error from server (BadRequest): error when creating "{file}": NetworkPolicy in version "v1" cannot be handled '
     'as a NetworkPolicy: strict decoding error: unknown field "spec.ingress[0].from[0].NamespaceSelector"'),
    (ACCOUNTS_ALLOW.replace("    ports:\n    - port: 3111\n      protocol: TCP", "      ports:\n        port: 3111"),
     'Error from server (BadRequest): error when creating "{file}": NetworkPolicy in version "v1" cannot be handled '
     'as a NetworkPolicy: strict decoding error: unknown field "spec.ingress[0].from[0].ports"'),
    (ACCOUNTS_ALLOW.replace("    - port: 3111\n      protocol: TCP", "      port: 3111"),
     'Error from server (BadRequest): error when creating "{file}": NetworkPolicy in version "v1" cannot be handled '
     "as a NetworkPolicy: json: cannot unmarshal object into Go struct field NetworkPolicyIngressRule.spec.ingress."
     "ports of type []v1.NetworkPolicyPort"),
    (ACCOUNTS_ALLOW.replace("    - namespaceSelector:\n        matchLabels: {usage: finance}\n", "    - {}\n"),
     'The NetworkPolicy "accounts-allow" is invalid: spec.ingress[0].from[0]: Required value: must specify a peer'),
    (ACCOUNTS_ALLOW.replace("    - namespaceSelector:", "    - ipBlock: {cidr: 10.0.0.1}\n      namespaceSelector:"),
     'The NetworkPolicy "accounts-allow" is invalid: \n'
     '* spec.ingress[0].from[0].ipBlock.cidr: Invalid value: "10.0.0.1": must be a valid CIDR value, (e.g. '
     "10.9.8.0/24 or 2001:db8::/64)\n"
     "* spec.ingress[0].from[0]: Forbidden: may not specify both ipBlock and another peer"),
])
def test_an_invalid_policy_is_refused_with_the_api_servers_message(kubectl: Kubectl, manifest: str,
                                                                   error: str) -> None:
    refused = kubectl.apply(manifest, ok=False)
    assert refused.returncode == 1
    assert refused.stderr.strip() == error.format(file=kubectl.tmp / "manifest.yaml")
    assert kubectl.json("get", "networkpolicies", "-A")["items"] == []


def test_server_side_apply_and_its_conflicts(kubectl: Kubectl) -> None:
    assert kubectl.apply(ACCOUNTS_ALLOW, "--server-side").stdout.strip() == \
        "networkpolicy.networking.k8s.io/accounts-allow serverside-applied"
    kubectl("label", "networkpolicy", "accounts-allow", "-n", "accounts", "owner=ops")
    takeover = ACCOUNTS_ALLOW.replace("  namespace: accounts\n", "  namespace: accounts\n  labels: {owner: me}\n")
    conflict = kubectl.apply(takeover, "--server-side", ok=False)
    assert 'Apply failed with 1 conflict: conflict with "kubectl-label"' in conflict.stderr
    assert ".metadata.labels.owner" in conflict.stderr
    kubectl.apply(takeover, "--server-side", "--force-conflicts")
    policy = kubectl.json("get", "networkpolicy", "accounts-allow", "-n", "accounts", "--show-managed-fields")
    assert policy["metadata"]["labels"] == {"owner": "me"}
    assert {m["manager"] for m in policy["metadata"]["managedFields"]} == {"kubectl"}


def test_create_namespace_and_explain(kubectl: Kubectl) -> None:
    assert kubectl("create", "namespace", "payments").stdout.strip() == "namespace/payments created"
    assert kubectl.json("get", "namespace", "payments")["status"]["phase"] == "Active"
    explained = kubectl("explain", "networkpolicy.spec.ingress").stdout
    assert "FIELDS:" in explained and "ports" in explained and "from" in explained


def test_explain_from_openapi_v2_reads_the_protobuf_document(kubectl: Kubectl) -> None:
    """kubectl asks ``/openapi/v2`` for gnostic protobuf only, and decodes it itself."""
    explained = kubectl("explain", "networkpolicy.spec.ingress", "--output", "plaintext-openapiv2").stdout
    assert "KIND:     NetworkPolicy" in explained and "VERSION:  networking.k8s.io/v1" in explained
    assert "RESOURCE: ingress <[]Object>" in explained
    assert "from\t<[]Object>" in explained and "ports\t<[]Object>" in explained
