"""core.report.locations: each finding kind at the baseline line it is about (the rule, the entry, the
policy, the group's rule or target, the workload), falling back to the enclosing subject and then to
its file's line 1; and the SARIF and Markdown renderers showing that line."""

from __future__ import annotations

import json
from typing import Any

import pytest

from netwarden.adapters.baseline_fs import parse_tree
from netwarden.core.findings import Finding, ResourceRef, make
from netwarden.core.report.locations import locate
from netwarden.core.report.model import CheckReport, location
from netwarden.core.report.render import render

VPC = "vpc/us-south/v"
ACL = f"{VPC}/network-acls/acl-a.yaml"
EMPTY_ACL = f"{VPC}/network-acls/acl-empty.yaml"
SUBNETS = f"{VPC}/subnets.yaml"
SG = f"{VPC}/security-groups/web.yaml"
NAMESPACES = "kubernetes/c1/namespaces.yaml"
WORKLOADS = "kubernetes/c1/workloads.yaml"
POLICY = "kubernetes/c1/web/deny-all.yaml"
OTHER_POLICY = "kubernetes/c1/web/allow-dns.yaml"


def _rule(name: str, port: int) -> str:
    return (f"- name: {name}\n  action: allow\n  direction: inbound\n  protocol: tcp\n  source: 10.0.0.0/8\n"
            f"  destination: 10.240.0.0/24\n  destination_port: {port}\n")


def _policy(name: str) -> str:
    return (f"apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata:\n  name: {name}\n"
            "  namespace: web\nspec:\n  podSelector: {}\n  policyTypes: [Ingress]\n")


FILES = {
    ACL: "name: acl-a\nrules:\n" + "".join(_rule(f"r{i}", 1000 + i) for i in range(1, 6)),
    EMPTY_ACL: "name: acl-empty\n",
    SUBNETS: "s1:\n  network_acl: acl-a\ns2:\n  network_acl: acl-a\n  public_gateway: pgw\n",
    SG: ("name: web\nrules:\n- direction: inbound\n  protocol: tcp\n  remote: 207.42.8.9\n  ports: 22\n"
         "- direction: outbound\n  protocol: icmp_tcp_udp\n  remote: 0.0.0.0/0\n"
         "targets:\n- type: network_interface\n  name: worker-1\n"),
    NAMESPACES: "web:\n  tier: web\napi:\n  tier: api\n",
    WORKLOADS: "web:\n- name: front\n  labels: {app: front}\n- name: proxy\n  labels: {app: proxy}\n",
    POLICY: _policy("deny-all"),
    OTHER_POLICY: _policy("allow-dns"),
}
_, SOURCES = parse_tree(FILES, "/repo/baseline")

ACL_REF = {"kind": "network-acl", "region": "us-south", "vpc": "v", "acl": "acl-a"}
SG_REF = {"kind": "security-group", "region": "us-south", "vpc": "v", "security_group": "web"}
K8S = {"cluster": "c1", "namespace": "web"}


def _line(rel: str, text: str, nth: int = 1) -> int:
    """The line of the ``nth`` line of file ``rel`` that is ``text``."""
    return [i for i, line in enumerate(FILES[rel].splitlines(), 1) if line == text][nth - 1]


def _finding(code: str, baseline: Any = None, live: Any = None, **ref: Any) -> Finding:
    return make(code, ResourceRef(**ref), code, baseline=baseline, live=live)


#: (id, finding, the file it points at, the line: (file, exact text of the line) or a number)
CASES: list[tuple[str, Finding, str, tuple[str, str] | int]] = [
    ("rule missing at its baseline position", _finding("acl-rule-missing", {"position": 4}, **ACL_REF, rule="r4"),
     ACL, (ACL, "- name: r4")),
    ("rule changed", _finding("acl-rule-changed", {"position": 5}, {"position": 5}, **ACL_REF, rule="r5"),
     ACL, (ACL, "- name: r5")),
    ("reordered: the first moved rule", _finding("acl-rules-reordered", {"moved": [{"rule": "r3", "position": 3},
                                                                                   {"rule": "r5", "position": 5}]},
                                                 **ACL_REF), ACL, (ACL, "- name: r3")),
    ("unexpected: after the rule before its position", _finding("acl-rule-unexpected", None, {"position": 3},
                                                                **ACL_REF, rule="x"), ACL, (ACL, "- name: r2")),
    ("unexpected past the end: after the last rule", _finding("acl-rule-unexpected", None, {"position": 40},
                                                              **ACL_REF, rule="x"), ACL, (ACL, "- name: r5")),
    ("unexpected first: the rules key", _finding("acl-rule-unexpected", None, {"position": 1}, **ACL_REF, rule="x"),
     ACL, (ACL, "rules:")),
    ("unexpected in an ACL without rules: its name", _finding(
        "acl-rule-unexpected", None, {"position": 1}, **{**ACL_REF, "acl": "acl-empty"}, rule="x"),
     EMPTY_ACL, (EMPTY_ACL, "name: acl-empty")),
    ("rule without a position: the rules key", _finding("acl-rule-missing", None, **ACL_REF, rule="r2"),
     ACL, (ACL, "rules:")),
    ("ACL missing: its name", _finding("acl-missing", {"rules": 5}, **ACL_REF), ACL, (ACL, "name: acl-a")),
    ("subnet: its entry", _finding("gateway-detached", kind="subnet", region="us-south", vpc="v", subnet="s2"),
     SUBNETS, (SUBNETS, "s2:")),
    ("subnet not in the sources: line 1 of subnets.yaml", _finding(
        "subnet-missing", kind="subnet", region="us-south", vpc="v", subnet="s9"), SUBNETS, 1),
    ("namespace: its entry", _finding("namespace-labels-changed", kind="namespace", cluster="c1", namespace="api",
                                      name="api"), NAMESPACES, (NAMESPACES, "api:")),
    ("policy changed: its metadata.name", _finding("netpol-changed", kind="network-policy", **K8S, name="deny-all"),
     POLICY, (POLICY, "  name: deny-all")),
    ("policy unexpected: the folder's first policy file", _finding(
        "netpol-unexpected", kind="network-policy", **K8S, name="new"), OTHER_POLICY, 1),
    ("policy unexpected in a folder without one: where it would be", _finding(
        "netpol-unexpected", kind="network-policy", cluster="c1", namespace="api", name="new"),
     "kubernetes/c1/api/new.yaml", 1),
    ("sg rule missing: the rule", _finding("sg-rule-missing", **SG_REF, rule="outbound icmp_tcp_udp to 0.0.0.0/0"),
     SG, (SG, "- direction: outbound")),
    ("sg rule unexpected: the rules key", _finding("sg-rule-unexpected", **SG_REF, rule="inbound tcp 443 from "
                                                   "0.0.0.0/0"), SG, (SG, "rules:")),
    ("sg target removed: the target", _finding("sg-target-removed", **SG_REF, target="network interface worker-1"),
     SG, (SG, "- type: network_interface")),
    ("sg target added: the targets key", _finding("sg-target-added", **SG_REF, target="network interface w-9"),
     SG, (SG, "targets:")),
    ("sg missing: its name", _finding("sg-missing", **SG_REF), SG, (SG, "name: web")),
    ("sg not in the sources: line 1 of its file", _finding("sg-missing", **{**SG_REF, "security_group": "db"}),
     f"{VPC}/security-groups/db.yaml", 1),
    ("workload: its entry", _finding("workload-off-gateway", kind="workload", **K8S, name="proxy"),
     WORKLOADS, (WORKLOADS, "- name: proxy")),
    ("workload not in the sources: line 1 of workloads.yaml", _finding(
        "workload-affinity-changed", kind="workload", **K8S, name="gone"), WORKLOADS, 1),
]


@pytest.mark.parametrize(("finding", "file", "line"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_each_finding_points_at_its_line(finding: Finding, file: str, line: tuple[str, str] | int) -> None:
    expected = line if isinstance(line, int) else _line(*line)
    located = locate([finding], SOURCES, root="/repo/baseline", baseline_dir="baseline")
    assert located == {finding.fingerprint: (f"baseline/{file}", expected)}


def test_files_outside_the_root_keep_their_name_and_the_dir_may_be_the_root() -> None:
    finding = _finding("acl-missing", **ACL_REF)
    assert locate([finding], SOURCES, root="/elsewhere", baseline_dir="b") == {
        finding.fingerprint: (f"/repo/baseline/{ACL}", _line(ACL, "name: acl-a"))}
    assert locate([finding], SOURCES, root="/repo/baseline/", baseline_dir="")[finding.fingerprint][0] == f"./{ACL}"


def test_without_sources_every_finding_is_at_line_1_of_todays_file() -> None:
    findings = [c[1] for c in CASES]
    located = locate(findings, {}, root="/repo/baseline", baseline_dir="baseline")
    assert set(located.values()) == {(f"baseline/{file}", 1) for _, _, file, _ in CASES} - {
        (f"baseline/{OTHER_POLICY}", 1)} | {("baseline/kubernetes/c1/web/new.yaml", 1)}


def test_a_report_without_locations_points_at_line_1() -> None:
    finding = _finding("acl-missing", **ACL_REF)
    assert location(CheckReport("drift", (finding,)), finding, "b") == (f"b/{ACL}", 1)


def test_sarif_and_markdown_show_the_line() -> None:
    finding = _finding("acl-rule-missing", {"position": 4}, **ACL_REF, rule="r4")
    line = _line(ACL, "- name: r4")
    report = CheckReport("drift", (finding,), locations=locate([finding], SOURCES, root="/repo/baseline"))
    physical = json.loads(render(report, "sarif"))["runs"][0]["results"][0]["locations"][0]["physicalLocation"]
    assert physical == {"artifactLocation": {"uri": f"baseline/{ACL}"}, "region": {"startLine": line}}
    assert f"| `baseline/{ACL}:{line}` |" in render(report, "markdown")
    plain = CheckReport("drift", (finding,))
    assert f"| `baseline/{ACL}` |" in render(plain, "markdown")
    assert json.loads(render(plain, "sarif"))["runs"][0]["results"][0]["locations"][0]["physicalLocation"][
        "region"] == {"startLine": 1}
