"""adapters.baseline_schema_sg through baseline_fs.parse_tree: security group files read into the model,
every problem named by file, line and field, and the groups kept by the baseline writer and both snapshot
readers.

The group file's shape follows ``docs/baseline-format.md`` and the committed recipe files under
``baseline/vpc/us-south/iks-vpc/security-groups/``; the target kinds are the VPC API's security group
target ``resource_type`` values and the rule facts those of ``SecurityGroupRule`` in the ``ibm_vpc`` SDK
(IPv4 only here, as ``shared/reference/ibm-cloud-apis.md`` says for ACLs and subnets).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import yaml

from netwarden.adapters import snapshot_file
from netwarden.adapters.baseline_fs import parse_tree
from netwarden.adapters.baseline_write import render
from netwarden.core import snapshot_format
from netwarden.core.errors import BaselineError, SnapshotFormatError
from netwarden.core.model import ALL_PORTS, PortRange, SgRule, SgTarget, Snapshot

ROOT = "b"
VPC = "vpc/us-south/v"
WEB = f"{VPC}/security-groups/web.yaml"
DB = f"{VPC}/security-groups/db.yaml"
META = f"{VPC}/vpc.yaml"

GOOD = """\
name: web
managed_by: ibm
rules:
- direction: outbound
  protocol: icmp_tcp_udp
  remote_group: db
- direction: inbound
  protocol: tcp
  remote: 207.42.8.9
  ports: 22
- direction: inbound
  protocol: udp
  remote: 10.240.128.0/24
  local: 10.240.0.0/24
  ports: 30000-32767
- direction: inbound
  protocol: icmp
  remote: 10.240.64.0/24
  type: 8
  code: 0
- direction: inbound
  protocol: tcp
  remote: 0.0.0.0/0
targets:
- type: network_interface
  name: web-eth0
- type: load_balancer
  name: web-lb
"""


def group_yaml(*rules: dict[str, Any], **top: Any) -> str:
    data: dict[str, Any] = {"name": "web", **top}
    if rules:
        data["rules"] = list(rules)
    return yaml.safe_dump(data, sort_keys=False)


def tcp(**fields: Any) -> dict[str, Any]:
    base: dict[str, Any] = {"direction": "inbound", "protocol": "tcp", "remote": "10.0.0.0/8"}
    base.update(fields)
    return {k: v for k, v in base.items() if v is not None}


def parsed(files: dict[str, str]) -> Snapshot:
    return parse_tree(files, ROOT)[0]


# --- a valid group --------------------------------------------------------------------------------


def test_a_group_file_reads_into_the_model() -> None:
    snap = parsed({WEB: GOOD, DB: "name: db\n", META: "default_security_group: web\n"})
    (vpc,) = snap.vpcs
    assert [g.name for g in vpc.security_groups] == ["db", "web"]
    assert vpc.default_security_group == "web"
    web = vpc.security_groups[1]
    assert web.managed_by == "ibm"
    assert web.targets == (SgTarget("load_balancer", "web-lb"), SgTarget("network_interface", "web-eth0"))
    assert set(web.rules) == {
        SgRule("outbound", "icmp_tcp_udp", remote_group="db"),
        SgRule("inbound", "tcp", remote="207.42.8.9/32", ports=PortRange(22, 22)),
        SgRule("inbound", "udp", remote="10.240.128.0/24", local="10.240.0.0/24", ports=PortRange(30000, 32767)),
        SgRule("inbound", "icmp", remote="10.240.64.0/24", icmp_type=8, icmp_code=0),
        SgRule("inbound", "tcp", remote="0.0.0.0/0", ports=ALL_PORTS),
    }
    assert len(web.rules) == 5
    # the model's order is canonical, not the file's: by direction, protocol, then remote numerically
    assert [r.remote for r in web.rules if r.direction == "inbound"] == [
        "10.240.64.0/24", "0.0.0.0/0", "207.42.8.9/32", "10.240.128.0/24"]
    assert vpc.security_groups[0].managed_by == "user"
    assert vpc.security_groups[0].rules == () and vpc.security_groups[0].targets == ()


@pytest.mark.parametrize("order", [[0, 1, 2], [2, 1, 0], [1, 2, 0]])
def test_the_rules_are_a_set(order: list[int]) -> None:
    rules = [tcp(ports=22), tcp(protocol="udp", ports="53"), tcp(remote_group="db", remote=None)]
    one = parsed({WEB: group_yaml(*rules), DB: "name: db\n"})
    other = parsed({WEB: group_yaml(*(rules[i] for i in order)), DB: "name: db\n"})
    assert one == other
    assert one.vpcs[0].security_groups[1].rules == other.vpcs[0].security_groups[1].rules


def test_a_default_group_without_a_file_is_an_error_at_vpc_yaml() -> None:
    with pytest.raises(BaselineError) as caught:
        parsed({WEB: GOOD, DB: "name: db\n", META: "public_gateways: []\ndefault_security_group: nope\n"})
    location = caught.value.location
    assert location is not None
    assert (location.file, location.line, location.field) == (f"{ROOT}/{META}", 2, "default_security_group")
    assert "security-groups/nope.yaml" in caught.value.message


# --- every bad file is an error naming its line and field ------------------------------------------


def lines(*rows: str) -> str:
    return "\n".join(rows) + "\n"


BAD: dict[str, tuple[str, str, int | None, str, str]] = {
    # id: (path, text, line, field, words)
    "name-not-the-file": (WEB, "name: api\n", 1, "name", "does not match the file name web.yaml"),
    "managed-by-aws": (WEB, "name: web\nmanaged_by: aws\n", 2, "managed_by", "'aws' is not one of ibm, user"),
    "rules-not-a-list": (WEB, "name: web\nrules:\n  direction: inbound\n", 2, "rules", "expected a list of rules"),
    "rule-without-protocol": (WEB, lines("name: web", "rules:", "- direction: inbound", "  remote: 10.0.0.0/8"),
                              3, "rules[0].protocol", "missing"),
    "rule-with-both-remotes": (WEB, group_yaml(tcp(remote_group="db")), 3, "rules[0].remote", "exactly one of"),
    "rule-with-no-remote": (WEB, group_yaml(tcp(remote=None)), 3, "rules[0].remote", "exactly one of"),
    "remote-host-bits": (WEB, group_yaml(tcp(ports=22), tcp(remote="10.0.0.1/24")), 9, "rules[1].remote",
                         "host bits"),
    "remote-ipv6": (WEB, group_yaml(tcp(remote="2001:db8::/64")), 5, "rules[0].remote", "IPv6"),
    "local-host-bits": (WEB, group_yaml(tcp(local="10.240.0.9/24")), 6, "rules[0].local", "host bits"),
    "ports-70000": (WEB, group_yaml(tcp(ports="70000")), 6, "rules[0].ports", "outside 1-65535"),
    "ports-a-list": (WEB, group_yaml(tcp(ports=[22])), 6, "rules[0].ports", "expected a port"),
    "ports-on-icmp": (WEB, group_yaml(tcp(protocol="icmp", ports=22)), 6, "rules[0].ports", "has no ports"),
    "type-on-tcp": (WEB, group_yaml(tcp(type=8)), 6, "rules[0].type", "no icmp type"),
    "icmp-type-255": (WEB, group_yaml(tcp(protocol="icmp", type=255)), 6, "rules[0].type", "outside 0-254"),
    "unknown-protocol": (WEB, group_yaml(tcp(protocol="tpc")), 4, "rules[0].protocol", "expected icmp_tcp_udp"),
    "bad-direction": (WEB, group_yaml(tcp(direction="ingress")), 3, "rules[0].direction", "'inbound' or"),
    "duplicate-rule": (WEB, group_yaml(tcp(ports=22), tcp(ports=443), tcp(ports="22")), 11, "rules[2]",
                       "duplicate rule (also rules[0])"),
    "duplicate-rule-by-synonym": (WEB, group_yaml(tcp(protocol="all"), tcp(protocol="icmp_tcp_udp")), 6,
                                  "rules[1]", "duplicate rule (also rules[0])"),
    "duplicate-rule-by-default": (WEB, group_yaml(tcp(), tcp(ports="1-65535", local="0.0.0.0/0")), 6,
                                  "rules[1]", "duplicate rule (also rules[0])"),
    "unknown-rule-key": (WEB, group_yaml(tcp(action="allow")), 6, "rules[0].action", "unknown key"),
    "unknown-top-key": (WEB, "name: web\ndescription: x\n", 2, "description", "unknown key"),
    "target-instance": (WEB, lines("name: web", "targets:", "- type: instance", "  name: vsi"), 3,
                        "targets[0].type", "'instance' is not a target type"),
    "target-without-name": (WEB, lines("name: web", "targets:", "- type: network_interface"), 3,
                            "targets[0].name", "missing"),
    "duplicate-target": (WEB, lines("name: web", "targets:", "- type: load_balancer", "  name: lb",
                                    "- type: load_balancer", "  name: lb"), 6, "targets[1].name",
                         "duplicate target load balancer lb"),
    "not-in-the-layout": (f"{VPC}/security-groups/sub/x.yaml", "name: x\n", None, "",
                          "not part of the baseline layout"),
}


@pytest.mark.parametrize("case", list(BAD.values()), ids=list(BAD))
def test_bad_files_name_line_and_field(case: tuple[str, str, int | None, str, str]) -> None:
    path, text, line, field, words = case
    with pytest.raises(BaselineError) as caught:
        parsed({path: text, DB: "name: db\n"})
    location = caught.value.location
    assert location is not None, str(caught.value)
    assert (location.file, location.line) == (f"{ROOT}/{path}", line), str(caught.value)
    assert field in (location.field or ""), str(caught.value)
    assert words in caught.value.message, str(caught.value)


def test_a_remote_group_that_is_not_in_the_vpc_is_an_error() -> None:
    with pytest.raises(BaselineError) as caught:
        parsed({WEB: group_yaml(tcp(remote=None, remote_group="ghost"))})
    location = caught.value.location
    assert location is not None
    assert (location.file, location.line, location.field) == (f"{ROOT}/{WEB}", 5, "rules[0].remote_group")


def test_a_group_may_name_itself_as_remote() -> None:
    (web,) = parsed({WEB: group_yaml(tcp(remote=None, remote_group="web"))}).vpcs[0].security_groups
    assert [r.remote_group for r in web.rules] == ["web"]


# --- kept by the writer and by both snapshot readers -------------------------------------------------


def recipe_like() -> Snapshot:
    return parsed({WEB: GOOD, DB: group_yaml(tcp(remote_group="web", remote=None), name="db"),
                   META: "default_security_group: db\n"})


def test_render_reads_back_equal() -> None:
    snap = recipe_like()
    files = render(snap)
    assert {WEB, DB, META} <= set(files)
    assert parse_tree(files, ROOT)[0] == snap
    assert render(parse_tree(files, ROOT)[0]) == files


def test_rendered_rules_are_the_file_spelling() -> None:
    rules = yaml.safe_load(render(recipe_like())[WEB])["rules"]
    assert {"direction": "inbound", "protocol": "tcp", "remote": "207.42.8.9/32", "ports": 22} in rules
    assert {"direction": "inbound", "protocol": "udp", "remote": "10.240.128.0/24", "local": "10.240.0.0/24",
            "ports": "30000-32767"} in rules
    assert {"direction": "inbound", "protocol": "tcp", "remote": "0.0.0.0/0"} in rules


def test_both_snapshot_readers_read_the_groups_back() -> None:
    snap = recipe_like()
    text = snapshot_format.dumps(snap)
    assert json.loads(text)["vpcs"][0]["security_groups"][1]["managed_by"] == "ibm"
    core = snapshot_format.loads(text, source="s.json")
    typed = snapshot_file.typed(text.encode("utf-8"))
    assert core == snap
    assert typed == snap
    assert typed is not None and typed.vpcs[0].security_groups == snap.vpcs[0].security_groups
    assert core.vpcs[0].default_security_group == typed.vpcs[0].default_security_group == "db"


def test_a_snapshot_group_managed_by_aws_is_refused_by_both_readers(tmp_path: Path) -> None:
    data = json.loads(snapshot_format.dumps(recipe_like()))
    data["vpcs"][0]["security_groups"][0]["managed_by"] = "aws"
    text = json.dumps(data, indent=2)
    with pytest.raises(SnapshotFormatError) as core:
        snapshot_format.loads(text, source=str(tmp_path / "s.json"))
    assert "vpcs[0].security_groups[0].managed_by" in str(core.value)
    assert core.value.message == '"aws" is not one of ibm, user'
    assert snapshot_file.typed(text.encode("utf-8")) is None
    (tmp_path / "s.json").write_text(text, encoding="utf-8")
    with pytest.raises(SnapshotFormatError) as typed:
        snapshot_file.read(tmp_path / "s.json")
    assert str(typed.value) == str(core.value)
