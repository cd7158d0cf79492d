"""``core.reach.explain`` on the committed recipe: each question answered layer by layer, with the rules that
decide it (the ACL's first match, its reply the other way for tcp; the workers' group rule that admits it;
the public gateway on the way out)."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from netwarden.adapters.baseline_fs import read_baseline
from netwarden.core import sg_rules
from netwarden.core.model import AclRule, PortRange, SgRule, Vpc
from netwarden.core.reach.explain import Answer, Question, explain, text

BASELINE = Path(__file__).resolve().parents[2] / "baseline"
WORKERS = "kube-cq2f9ha20m7cn4qhs0vg"
ZONE1, ZONE1_ACL = "iks-vpc-us-south-1", "iks-cluster-us-south-1-acl"


@pytest.fixture(scope="module")
def vpc() -> Vpc:
    return read_baseline(BASELINE).vpcs[0]


def ask(vpc: Vpc, question: Question, direction: str, subnet: str = ZONE1) -> Answer:
    found = vpc.subnet(subnet)
    assert found is not None
    return explain(vpc, found, question, direction)


def layers(answer: Answer) -> dict[str, tuple[str, tuple[str, ...]]]:
    return {layer.name: (layer.verdict, layer.deciding) for layer in answer.layers}


def test_ssh_from_anywhere_gets_through_both_layers_only_from_the_other_zones(vpc: Vpc) -> None:
    answer = ask(vpc, Question("tcp", "0.0.0.0/0", "10.240.0.0/24", 22), "inbound")
    assert answer.verdict == "partly"
    assert set(answer.passes) == {f"tcp 22 from {cidr} to 10.240.0.0/24"
                                  for cidr in ("10.240.0.0/24", "10.240.64.0/24", "10.240.128.0/24")}, answer.passes
    found = layers(answer)
    verdict, deciding = found[f"network ACL {ZONE1_ACL}"]
    assert verdict == "partly"  # the workers of the other zones, the IBM ranges and the corporate network get in
    assert "inbound: rule deny-all-inbound (deny)" in deciding
    assert "inbound: rule corporate-network-inbound (allow)" in deciding
    assert deciding[-1] == "within the subnet: not filtered by its ACL"
    assert found[f"security groups {WORKERS}"][0] == "partly"  # the pod subnet and the workers themselves


def test_ssh_from_the_internet_only_is_blocked_and_each_layer_says_by_what(vpc: Vpc) -> None:
    answer = ask(vpc, Question("tcp", "8.8.8.0/24", "10.240.0.0/24", 22), "inbound")
    assert answer.verdict == "blocked"
    assert layers(answer) == {
        f"network ACL {ZONE1_ACL}": ("blocked", ("inbound: rule deny-all-inbound (deny)",
                                                 "reply outbound: rule deny-all-outbound (deny)")),
        f"security groups {WORKERS}": ("blocked", (f"no inbound rule of {WORKERS} admits it",)),
    }


def test_the_acl_opened_for_ssh_leaves_the_group_as_the_one_layer(vpc: Vpc) -> None:
    acl = vpc.acl(ZONE1_ACL)
    assert acl is not None
    ssh = AclRule("ssh-anywhere", "allow", "inbound", "tcp", "0.0.0.0/0", "0.0.0.0/0", PortRange(22, 22),
                  PortRange(1, 65535))
    reply = AclRule("replies", "allow", "outbound", "tcp", "0.0.0.0/0", "0.0.0.0/0", PortRange(1, 65535),
                    PortRange(22, 22))
    opened = replace(vpc, acls=tuple(replace(a, rules=(ssh, reply, *a.rules)) if a.name == ZONE1_ACL else a
                                     for a in vpc.acls))
    answer = ask(opened, Question("tcp", "8.8.8.0/24", "10.240.0.0/24", 22), "inbound")
    found = layers(answer)
    assert found[f"network ACL {ZONE1_ACL}"] == ("allowed", ("inbound: rule ssh-anywhere (allow)",
                                                             "reply outbound: rule replies (allow)"))
    assert found[f"security groups {WORKERS}"][0] == "blocked"
    assert answer.verdict == "blocked"


def test_the_workers_reach_the_ibm_service_range_through_every_layer(vpc: Vpc) -> None:
    answer = ask(vpc, Question("tcp", "10.240.0.0/24", "166.8.0.0/14", 443), "outbound")
    assert answer.verdict == "allowed"
    found = layers(answer)
    assert found[f"network ACL {ZONE1_ACL}"] == ("allowed", (
        "outbound: rule allow-ibm-private-network-outbound (allow)",
        "reply inbound: rule allow-ibm-private-network-inbound (allow)"))
    verdict, deciding = found[f"security groups {WORKERS}"]
    assert verdict == "allowed" and deciding[0] == f"{WORKERS}: rule outbound icmp_tcp_udp to 166.8.0.0/14"
    assert f"{WORKERS}: rule outbound icmp_tcp_udp to 166.9.228.45/32" in deciding  # an IAM endpoint, inside it


@pytest.mark.parametrize(("subnet", "gateway"), [("iks-vpc-us-south-1", "allowed"), ("iks-vpc-us-south-2", "blocked")])
def test_the_internet_is_reached_only_through_the_public_gateway(vpc: Vpc, subnet: str, gateway: str) -> None:
    cidr = vpc.subnet(subnet).cidr  # type: ignore[union-attr]
    answer = ask(vpc, Question("tcp", str(cidr), "207.42.8.0/24", 443), "outbound", subnet)
    assert layers(answer)["public gateway"][0] == gateway


SSH_IN = AclRule("ssh-anywhere", "allow", "inbound", "tcp", "0.0.0.0/0", "0.0.0.0/0", PortRange(22, 22),
                 PortRange(1, 65535))
SSH_REPLY = AclRule("ssh-replies", "allow", "outbound", "tcp", "0.0.0.0/0", "0.0.0.0/0", PortRange(1, 65535),
                    PortRange(22, 22))
GROUP_SSH = sg_rules.sg_rule(direction="inbound", protocol_="tcp", remote="0.0.0.0/0", ports=PortRange(22, 22))


def changed(vpc: Vpc, *, acl_first: tuple[AclRule, ...] = (), acl_without: str | None = None,
            group_rule: SgRule | None = None) -> Vpc:
    """The recipe with zone 1's ACL given rules first (or one taken out), or the workers' group a rule more."""
    acls = tuple(replace(a, rules=(*acl_first, *(r for r in a.rules if r.name != acl_without)))
                 if a.name == ZONE1_ACL else a for a in vpc.acls)
    groups = tuple(replace(g, rules=(*g.rules, group_rule)) if g.name == WORKERS and group_rule else g
                   for g in vpc.security_groups)
    return replace(vpc, acls=acls, security_groups=groups)


@pytest.mark.parametrize(("change", "question", "direction", "verdict", "acl", "group"), [
    # an ACL rule opens tcp 22 from anywhere while the workers' group blocks it: defence in depth reduced
    ({"acl_first": (SSH_IN, SSH_REPLY)}, ("8.8.8.0/24", "10.240.0.0/24", 22), "inbound", "blocked",
     ("allowed", ("inbound: rule ssh-anywhere (allow)", "reply outbound: rule ssh-replies (allow)")),
     ("blocked", (f"no inbound rule of {WORKERS} admits it",))),
    # the same with the group allowing it: open through every layer, critical
    ({"acl_first": (SSH_IN, SSH_REPLY), "group_rule": GROUP_SSH}, ("8.8.8.0/24", "10.240.0.0/24", 22), "inbound",
     "allowed", ("allowed", ("inbound: rule ssh-anywhere (allow)", "reply outbound: rule ssh-replies (allow)")),
     ("allowed", (f"{WORKERS}: rule inbound tcp 22 from 0.0.0.0/0",))),
    # a group rule opens 22 while the ACL denies it: defence in depth reduced
    ({"group_rule": GROUP_SSH}, ("8.8.8.0/24", "10.240.0.0/24", 22), "inbound", "blocked",
     ("blocked", ("inbound: rule deny-all-inbound (deny)", "reply outbound: rule deny-all-outbound (deny)")),
     ("allowed", (f"{WORKERS}: rule inbound tcp 22 from 0.0.0.0/0",))),
    # the ACL rule for 166.8.0.0/14 deleted while the group still allows it: the cluster loses its master
    ({"acl_without": "allow-ibm-private-network-outbound"}, ("10.240.0.0/24", "166.8.0.0/14", 443), "outbound",
     "blocked", ("blocked", ("outbound: rule deny-all-outbound (deny)",
                             "reply inbound: rule allow-ibm-private-network-inbound (allow)")),
     ("allowed", None)),
])
def test_the_flows_of_the_cross_layer_cases_each_with_the_deciding_rule_of_each_layer(
        vpc: Vpc, change: dict[str, Any], question: tuple[str, str, int], direction: str, verdict: str,
        acl: tuple[str, tuple[str, ...]], group: tuple[str, tuple[str, ...] | None]) -> None:
    answer = ask(changed(vpc, **change), Question("tcp", *question), direction)
    found = layers(answer)
    assert answer.verdict == verdict
    assert found[f"network ACL {ZONE1_ACL}"] == acl
    group_verdict, group_deciding = found[f"security groups {WORKERS}"]
    assert group_verdict == group[0]
    if group[1] is not None:
        assert group_deciding == group[1]
    else:
        assert group_deciding[0] == f"{WORKERS}: rule outbound icmp_tcp_udp to 166.8.0.0/14"


@pytest.mark.parametrize("width", [80, 60])
def test_the_text_is_readable_at_the_terminal_width_with_every_word_whole(vpc: Vpc, width: int) -> None:
    question = Question("tcp", "0.0.0.0/0", "10.240.0.0/24", 22)
    answers: list[tuple[str, Answer | str]] = [("baseline", ask(vpc, question, "inbound")),
                                              ("live", "not read (--baseline-only)")]
    wide = text(question, answers)
    assert max(len(line) for line in wide.splitlines()) > width, "the case needs lines to fill"
    narrow = text(question, answers, width=width)
    assert max(len(line) for line in narrow.splitlines()) <= width
    assert narrow.split() == wide.split(), "the same words, none broken"
    # each line starts at its own indent (state, layer, rule), and what continues it 4 columns further in
    starts = {line[:len(line) - len(line.lstrip())] + line.split()[0] for line in wide.splitlines()}
    assert starts <= {line[:len(line) - len(line.lstrip())] + line.split()[0] for line in narrow.splitlines()}
    assert {len(line) - len(line.lstrip()) for line in narrow.splitlines()} <= {0, 2, 4, 6, 8}
