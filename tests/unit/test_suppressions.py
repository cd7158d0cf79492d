"""Suppression hygiene, table-driven: expired, expiring within a week, matching no current finding."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import pytest

from netwarden.core.findings import ResourceRef, make
from netwarden.core.routing import Route
from netwarden.core.suppressions import hygiene

TODAY = date(2026, 12, 4)
RULE = make("acl-rule-unexpected", ResourceRef("network-acl", region="us-south", vpc="prod-vpc", acl="acl-a",
                                               rule="ssh"), "unexpected rule ssh")


@dataclass(frozen=True)
class Supp:
    code: str
    resource: str
    reason: str = "ticket NET-1"
    expires: date | None = None


CASES = [
    (Supp("acl-rule-unexpected", "us-south/prod-vpc/acl-a/ssh"), []),
    (Supp("acl-rule-unexpected", "us-south/*", expires=date(2027, 1, 1)), []),
    (Supp("acl-rule-unexpected", "us-south/*", expires=date(2026, 12, 3)), ["suppression-expired"]),
    (Supp("acl-rule-unexpected", "us-south/*", expires=TODAY), ["suppression-expiring"]),
    (Supp("acl-rule-unexpected", "us-south/*", expires=date(2026, 12, 11)), ["suppression-expiring"]),
    (Supp("acl-rule-unexpected", "us-south/*", expires=date(2026, 12, 12)), []),
    (Supp("acl-rule-missing", "us-south/prod-vpc/acl-a/ssh"), ["suppression-matches-nothing"]),
    (Supp("acl-rule-unexpected", "us-south/prod-vpc/acl-b/*"), ["suppression-matches-nothing"]),
    (Supp("acl-rule-unexpected", "eu-de/*", expires=date(2026, 1, 1)),
     ["suppression-expired", "suppression-matches-nothing"]),
]


@pytest.mark.parametrize(("supp", "kinds"), CASES)
def test_hygiene(supp: Supp, kinds: list[str]) -> None:
    assert [n.kind for n in hygiene([supp], TODAY, [RULE])] == kinds


def test_without_findings_matching_nothing_is_not_judged() -> None:
    notes = hygiene([Supp("acl-rule-missing", "x/*", expires=date(2026, 12, 5))], TODAY, None)
    assert [(n.kind, n.message) for n in notes] == [("suppression-expiring", "acl-rule-missing x/*: expires in 1 day "
                                                                            "(2026-12-05)")]


def test_notes_are_ordered_by_kind_then_position() -> None:
    supps = [Supp("acl-rule-missing", "a"), Supp("acl-rule-unexpected", "us-south/*", expires=date(2026, 1, 1)),
             Supp("acl-rule-missing", "b")]
    assert [(n.kind, n.index) for n in hygiene(supps, TODAY, [RULE])] == [
        ("suppression-expired", 1), ("suppression-matches-nothing", 0), ("suppression-matches-nothing", 2)]


@pytest.mark.parametrize(("route", "said"), [
    (Route(), "everything"),
    (Route(min_severity="high", codes=("a", "b"), resources=("us-south/*",)),
     "high and above, codes a, b, resources us-south/*"),
])
def test_a_route_says_what_it_lets_through(route: Route, said: str) -> None:
    assert route.describe() == said


