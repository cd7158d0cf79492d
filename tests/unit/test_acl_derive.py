"""The flows of a rule list derived from a close one's (``core.acl.derive``) are the sets a whole
evaluation gives, and the shortcuts the impact analysis leans on (``core.flows``) answer exactly what
the plain algebra does.

Every case compares against ``AclFlows.of(new).effective(cidr)``: canonical sets are equal exactly
when they hold the same flows, so any slip in the derivation shows as an inequality.
"""

from __future__ import annotations

import random
from collections.abc import Callable

import pytest

from netwarden.core.acl.derive import MAX_DIFFERING, derive
from netwarden.core.acl.evaluate import AclFlows
from netwarden.core.flows.algebra import ADDRESSES, PROTOCOLS, FlowSet, cidr_interval
from netwarden.core.flows.shortcuts import endpoints, overlaps
from netwarden.core.model import AclRule, PortRange

SUBNET = "10.0.1.0/26"


def rule(name: str, action: str, direction: str, protocol: str = "icmp_tcp_udp", source: str = "0.0.0.0/0",
         destination: str = "0.0.0.0/0", port: int | None = None) -> AclRule:
    ports = protocol in ("tcp", "udp")
    return AclRule(name, action, direction, protocol, source, destination,
                   destination_port=PortRange(port or 1, port or 65535) if ports else None,
                   source_port=PortRange(1, 65535) if ports else None)


BASE = (
    rule("private-in", "allow", "inbound", source="161.26.0.0/16", destination="10.0.1.0/24"),
    rule("private-out", "allow", "outbound", source="10.0.1.0/24", destination="161.26.0.0/16"),
    rule("zone-in", "allow", "inbound", source="10.0.2.0/24", destination="10.0.1.0/24"),
    rule("zone-out", "allow", "outbound", source="10.0.1.0/24", destination="10.0.2.0/24"),
    rule("org-in", "allow", "inbound", "tcp", "207.42.8.0/24", "10.0.1.0/24", 8000),
    rule("org-out", "allow", "outbound", "tcp", "10.0.1.0/24", "207.42.8.0/24"),
    rule("no-telnet", "deny", "inbound", "tcp", port=23),
    rule("deny-all-in", "deny", "inbound", "any"),
    rule("deny-all-out", "deny", "outbound", "any"),
)
SSH = rule("ssh", "allow", "inbound", "tcp", port=22)
OTHER_SUBNET_ONLY = rule("elsewhere", "allow", "inbound", "tcp", "0.0.0.0/0", "10.9.0.0/24", 443)


def _at(i: int, r: AclRule) -> Callable[[list[AclRule]], list[AclRule]]:
    return lambda rules: [*rules[:i], r, *rules[i:]]


def _without(i: int) -> Callable[[list[AclRule]], list[AclRule]]:
    return lambda rules: [*rules[:i], *rules[i + 1:]]


def _swap(i: int, j: int) -> Callable[[list[AclRule]], list[AclRule]]:
    def edit(rules: list[AclRule]) -> list[AclRule]:
        out = list(rules)
        out[i], out[j] = out[j], out[i]
        return out
    return edit


EDITS: dict[str, Callable[[list[AclRule]], list[AclRule]]] = {
    "ssh-added-first": _at(0, SSH),
    "ssh-added-after-deny-all": _at(len(BASE), SSH),
    "deny-all-in-removed": _without(7),
    "private-in-removed": _without(0),
    "zone-out-removed": _without(3),
    "telnet-deny-moved-last": lambda rules: [r for r in rules if r.name != "no-telnet"] + [BASE[6]],
    "deny-all-swapped-with-org": _swap(4, 7),
    "rule-for-another-subnet-added": _at(0, OTHER_SUBNET_ONLY),
    "outbound-changed-to-deny": lambda rules: [r if r.name != "org-out" else rule("org-out", "deny", "outbound")
                                               for r in rules],
    "only-renamed": lambda rules: [AclRule(f"renamed-{r.name}", r.action, r.direction, r.protocol, r.source,
                                           r.destination, r.destination_port, r.source_port) for r in rules],
    "unchanged": list,
}


@pytest.mark.parametrize("cidr", [SUBNET, "10.0.1.0/24", None, "2001:db8::/64"], ids=["subnet", "acl-cidr", "whole",
                                                                                         "ipv6"])
@pytest.mark.parametrize("edit", list(EDITS), ids=list(EDITS))
def test_derived_flows_are_the_whole_evaluation(edit: str, cidr: str | None) -> None:
    new = tuple(EDITS[edit](list(BASE)))
    known = AclFlows.of(BASE).effective(cidr)
    derived = derive(BASE, new, known, known.all(), cidr)
    assert derived is not None
    expected = AclFlows.of(new).effective(cidr)
    assert derived == (expected, expected.all())


@pytest.mark.parametrize("edit", ["unchanged", "only-renamed", "rule-for-another-subnet-added"])
def test_what_cannot_change_at_the_subnet_is_the_known_set_itself(edit: str) -> None:
    new = tuple(EDITS[edit](list(BASE)))
    known = AclFlows.of(BASE).effective(SUBNET)
    derived = derive(BASE, new, known, known.all(), SUBNET)
    assert derived is not None
    assert derived[0] is known


def test_a_derived_set_shares_the_untouched_subtrees_of_the_known_one() -> None:
    """An added ssh allow changes tcp only: the derived inbound set keeps the known icmp and udp subtrees
    themselves (which is what makes the exposure diff between them cheap)."""
    known = AclFlows.of(BASE).effective(SUBNET)
    derived = derive(BASE, (SSH, *BASE), known, known.all(), SUBNET)
    assert derived is not None
    before = {lo: child for lo, _, child in known.inbound.tree}
    after = {lo: child for lo, _, child in derived[0].inbound.tree}
    assert after[1] is before[1] and after[17] is before[17]  # icmp, udp
    assert after[6] != before[6]  # tcp: ssh is open now


@pytest.mark.parametrize("case", ["too-many-differ", "unreadable-rule"])
def test_lists_too_different_or_unreadable_are_left_to_the_whole_evaluation(case: str) -> None:
    if case == "too-many-differ":
        new = tuple(rule(f"added-{i}", "allow", "inbound", "tcp", port=1000 + i) for i in range(MAX_DIFFERING + 1))
        new += BASE
    else:
        new = (AclRule("bad", "allow", "inbound", "nonsense", "0.0.0.0/0", "0.0.0.0/0"), *BASE)
    known = AclFlows.of(BASE).effective(SUBNET)
    assert derive(BASE, new, known, known.all(), SUBNET) is None


def _random_rule(rng: random.Random, name: str) -> AclRule:
    protocol = rng.choice(["tcp", "udp", "icmp", "icmp_tcp_udp", "any", "gre"])
    action = "allow" if protocol == "icmp_tcp_udp" else rng.choice(["allow", "deny"])
    remote = rng.choice(["0.0.0.0/0", "10.0.0.0/8", f"10.0.{rng.randrange(4)}.0/24", "161.26.0.0/16"])
    local = rng.choice(["10.0.1.0/24", "10.0.1.0/26", "10.0.1.64/26", "0.0.0.0/0"])
    direction = rng.choice(["inbound", "outbound"])
    source, destination = (remote, local) if direction == "inbound" else (local, remote)
    return rule(name, action, direction, protocol, source, destination,
                rng.choice([22, 80, 443]) if protocol in ("tcp", "udp") else None)


@pytest.mark.parametrize("seed", range(16))
def test_random_single_drifts_derive_the_whole_evaluation(seed: int) -> None:
    """Random lists, each drifted the ways a finding does (one rule added, removed, replaced, two moved)."""
    rng = random.Random(seed)
    base = tuple(_random_rule(rng, f"r{i}") for i in range(rng.randrange(2, 16)))
    for cidr in (SUBNET, None):
        known = AclFlows.of(base).effective(cidr)
        for _ in range(6):
            rules, at = list(base), rng.randrange(len(base))
            kind = rng.randrange(4)
            if kind == 0:
                rules.insert(at, _random_rule(rng, "added"))
            elif kind == 1:
                del rules[at]
            elif kind == 2:
                rules[at] = _random_rule(rng, "changed")
            else:
                other = min(at + rng.randrange(1, 4), len(base) - 1)  # a move across a few rules
                rules[at], rules[other] = rules[other], rules[at]
            derived = derive(base, tuple(rules), known, known.all(), cidr)
            expected = AclFlows.of(rules).effective(cidr)
            assert derived is not None
            assert derived == (expected, expected.all())


def iv(cidr: str) -> tuple[int, int]:
    interval = cidr_interval(cidr)
    assert interval is not None
    return interval


def test_restricting_to_a_window_a_set_fills_keeps_its_subtrees() -> None:
    allowed = AclFlows.of(BASE).inbound
    same = allowed & FlowSet.box(PROTOCOLS, ADDRESSES, ADDRESSES)
    assert same == allowed
    assert all(mine is theirs for (_, _, mine), (_, _, theirs) in zip(same.tree, allowed.tree, strict=True))
    lo, hi = iv(SUBNET)
    outside = FlowSet.box(PROTOCOLS, ADDRESSES, (0, lo - 1)) | FlowSet.box(PROTOCOLS, ADDRESSES, (hi + 1, ADDRESSES[1]))
    assert allowed.restrict(destination=(lo, hi)) == allowed - outside


@pytest.mark.parametrize(
    ("span", "expected"),
    [
        ("10.0.2.0/24", True),   # a source of the set
        ("10.0.1.0/26", True),   # inside a destination range
        ("10.0.3.0/24", False),  # between them
        ("192.168.0.0/16", False),
        ("0.0.0.0/0", True),
    ],
    ids=["source", "inside-destination", "gap", "far", "everything"],
)
def test_endpoints_name_every_address_range_a_set_touches(span: str, expected: bool) -> None:
    flows = (FlowSet.box(PROTOCOLS, iv("10.0.2.0/24"), iv("10.0.1.0/24"))
             | FlowSet.box((6, 6), iv("10.0.4.0/24"), iv("10.0.0.0/24")))
    spans = endpoints(flows.tree)
    assert spans == [(iv("10.0.0.0/24")[0], iv("10.0.2.0/24")[1]), iv("10.0.4.0/24")]  # adjacent ones merged
    assert overlaps(spans, iv(span)) is expected
    assert overlaps(spans, None) is False
