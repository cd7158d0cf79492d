"""The finding lifecycle, table-driven: transitions, which alerts go where, suppressions, pending alerts."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

import pytest

from netwarden.core import lifecycle, suppressions
from netwarden.core.findings import Finding, Impact, ResourceRef, make
from netwarden.core.lifecycle import FindingState, Step
from netwarden.core.routing import Route

T0 = datetime(2026, 3, 1, 10, 0, tzinfo=UTC)
DAY = 24 * 3600


@dataclass(frozen=True)
class Supp:
    code: str
    resource: str
    reason: str
    expires: date | None = None


def acl_finding(rule: str = "rule-x", severity: str | None = None, live_port: int = 22) -> Finding:
    where = ResourceRef("network-acl", region="us-south", vpc="prod-vpc", acl="acl-a", rule=rule)
    live = {"protocol": "tcp", "destination_port": live_port}
    f = make("acl-rule-unexpected", where, f"unexpected rule {rule}", live=live)
    if severity is not None:
        return Finding(f.code, severity, f.resource, f.message, f.baseline, f.live, f.impact)
    return f.with_impact(Impact("widened", (f"tcp {live_port} from 0.0.0.0/0 to 10.240.0.0/24",)))


def subnet_finding(subnet: str = "subnet-1", region: str = "us-south") -> Finding:
    return make("subnet-allow-all", ResourceRef("subnet", region=region, vpc="prod-vpc", subnet=subnet),
                f"{subnet} uses the default allow-all ACL")


def pod_finding() -> Finding:
    return make("netpol-missing", ResourceRef("network-policy", cluster="prod", namespace="accounts", name="deny"),
                "deny is gone")


def run(previous: dict[str, FindingState], findings: list[Finding], *, at: datetime = T0,
        channels: tuple[str, ...] = ("slack", "email"), ok: dict[str, bool] | None = None,
        remind_after: int = DAY, suppressions: tuple[Supp, ...] = (), unreadable: tuple[str, ...] = (),
        ) -> tuple[Step, dict[str, FindingState]]:
    step = lifecycle.advance(previous, findings, now=at, channels=channels, remind_after=remind_after,
                             suppressions=suppressions, unreadable=unreadable)
    outcomes = ok if ok is not None else dict.fromkeys(channels, True)
    return step, lifecycle.settle(step, outcomes, at)


def kinds(step: Step, channel: str = "slack") -> list[tuple[str, str]]:
    return [(a.kind, a.finding.code) for a in step.outbox[channel]]


# --- a sequence of runs, and what each channel receives ---------------------------------------------

A, B = acl_finding(), subnet_finding()
CASES = [
    # (name, [(findings of run i, hours after T0)], alert kinds on slack per run)
    ("same drift three times alerts once", [([A], 0), ([A], 1), ([A], 2)],
     [[("new", A.code)], [], []]),
    ("fixed drift resolves once", [([A], 0), ([], 1), ([], 2)],
     [[("new", A.code)], [("resolved", A.code)], []]),
    ("a later finding alerts only itself", [([A], 0), ([A, B], 1), ([A, B], 2)],
     [[("new", A.code)], [("new", B.code)], []]),
    ("severity change alerts as changed", [([A], 0), ([acl_finding(severity="medium")], 1)],
     [[("new", A.code)], [("changed", A.code)]]),
    ("content change alerts as changed", [([A], 0), ([acl_finding(live_port=23)], 1)],
     [[("new", A.code)], [("changed", A.code)]]),
    ("reminder after remind_after, then not again", [([A], 0), ([A], 23), ([A], 24), ([A], 25), ([A], 48)],
     [[("new", A.code)], [], [("reminder", A.code)], [], [("reminder", A.code)]]),
    ("resolved then back is new again", [([A], 0), ([], 1), ([A], 2)],
     [[("new", A.code)], [("resolved", A.code)], [("new", A.code)]]),
    ("alerts are ordered: new before resolved, critical first", [([A], 0), ([acl_finding("rule-y", "medium"), B], 1)],
     [[("new", A.code)], [("new", B.code), ("new", A.code), ("resolved", A.code)]]),
]


@pytest.mark.parametrize(("runs", "expected"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_alerts_per_run(runs: list[tuple[list[Finding], int]], expected: list[list[tuple[str, str]]]) -> None:
    states: dict[str, FindingState] = {}
    got = []
    for findings, hours in runs:
        step, states = run(states, findings, at=T0 + timedelta(hours=hours))
        got.append(kinds(step))
    assert got == expected


@pytest.mark.parametrize(("findings", "expected"), [
    ([A], {A.fingerprint: "ongoing"}),
    ([acl_finding(live_port=23)], {A.fingerprint: "changed"}),
    ([B], {B.fingerprint: "new", A.fingerprint: "resolved"}),
])
def test_transitions(findings: list[Finding], expected: dict[str, str]) -> None:
    _, states = run({}, [A])
    step, _ = run(states, findings, at=T0 + timedelta(hours=1))
    assert dict(step.transitions) == expected


def test_changed_alert_names_the_previous_severity() -> None:
    _, states = run({}, [A])
    step, _ = run(states, [acl_finding(severity="medium")], at=T0 + timedelta(hours=1))
    (alert,) = step.outbox["slack"]
    assert (alert.previous_severity, alert.finding.severity) == (A.severity, "medium")


def test_first_seen_is_kept_while_open() -> None:
    _, states = run({}, [A])
    step, _ = run(states, [A], at=T0 + timedelta(days=2))
    (alert,) = step.outbox["slack"]
    assert (alert.kind, alert.first_seen) == ("reminder", "2026-03-01T10:00:00Z")


@pytest.mark.parametrize("remind_after", [0, -1])
def test_no_reminders_when_disabled(remind_after: int) -> None:
    _, states = run({}, [A], remind_after=remind_after)
    step, _ = run(states, [A], at=T0 + timedelta(days=30), remind_after=remind_after)
    assert step.outbox["slack"] == ()


# --- unreadable scopes resolve nothing ---------------------------------------------------------------

@pytest.mark.parametrize(("finding", "unreadable", "resolved"), [
    (B, ("us-south/prod-vpc",), False),
    (B, ("us-south",), False),
    (B, ("eu-de",), True),
    (B, ("us-south/prod-vpc-2",), True),
    (pod_finding(), ("k8s/prod",), False),
    (pod_finding(), ("us-south/prod-vpc",), True),
])
def test_unreadable_scope_keeps_its_findings_open(finding: Finding, unreadable: tuple[str, ...],
                                                  resolved: bool) -> None:
    _, states = run({}, [finding])
    step, after = run(states, [], at=T0 + timedelta(hours=1), unreadable=unreadable)
    assert (step.transitions[finding.fingerprint] == "resolved") is resolved
    assert bool(step.outbox["slack"]) is resolved
    assert (after.get(finding.fingerprint) is None) is resolved


def test_a_partial_run_resolves_nothing() -> None:
    _, states = run({}, [A, B])
    step = lifecycle.advance(states, [acl_finding(live_port=23)], now=T0 + timedelta(hours=1), channels=["slack"],
                             remind_after=DAY, checked=())
    assert dict(step.transitions) == {A.fingerprint: "changed", B.fingerprint: "unknown"}
    assert kinds(step) == [("changed", A.code)]
    assert step.states[B.fingerprint] == states[B.fingerprint]


# --- pending alerts: a channel that failed is decided again next run --------------------------------

def test_failed_channel_gets_the_alert_next_run_and_the_other_does_not_repeat() -> None:
    step, states = run({}, [A], ok={"slack": False, "email": True})
    assert states[A.fingerprint].failed == ("slack",)
    step, states = run(states, [A], at=T0 + timedelta(minutes=15))
    assert [(a.kind, a.retry) for a in step.outbox["slack"]] == [("new", True)]
    assert step.outbox["email"] == ()
    assert states[A.fingerprint].failed == ()
    step, _ = run(states, [A], at=T0 + timedelta(minutes=30))
    assert step.outbox["slack"] == step.outbox["email"] == ()


def test_failed_new_then_resolved_still_tells_the_channel() -> None:
    _, states = run({}, [A], ok={"slack": False, "email": True})
    step, states = run(states, [], at=T0 + timedelta(minutes=15), ok={"slack": False, "email": True})
    assert [(a.kind, a.retry) for a in step.outbox["slack"]] == [("resolved", True)]
    assert A.fingerprint in states  # slack still owes a word
    step, states = run(states, [], at=T0 + timedelta(minutes=30))
    assert kinds(step, "slack") == [("resolved", A.code)]
    assert kinds(step, "email") == []
    assert states == {}


def test_resolved_state_is_dropped_once_every_channel_was_told() -> None:
    _, states = run({}, [A])
    _, states = run(states, [], at=T0 + timedelta(hours=1))
    assert states == {}


# --- suppressions --------------------------------------------------------------------------------------

PATH = "us-south/prod-vpc/acl-a/rule-x"


@pytest.mark.parametrize(("supp", "expected"), [
    (Supp("acl-rule-unexpected", PATH, "ticket 1"), ("ticket 1", False)),
    (Supp("acl-rule-unexpected", "us-south/prod-vpc/*", "vpc wide"), ("vpc wide", False)),
    (Supp("acl-rule-unexpected", "us-south/prod-vpc/acl-a/*", "acl wide"), ("acl wide", False)),
    (Supp("acl-rule-unexpected", PATH + "/", "trailing slash"), ("trailing slash", False)),
    (Supp("acl-rule-unexpected", "us-south/prod-vpc/acl-b/*", "other acl"), None),
    (Supp("acl-rule-unexpected", "us-south/prod-vpc/acl-a/rule", "prefix without star"), None),
    (Supp("acl-rule-missing", PATH, "other code"), None),
    (Supp("acl-rule-unexpected", PATH, "through today", date(2026, 3, 1)), ("through today", False)),
    (Supp("acl-rule-unexpected", PATH, "yesterday", date(2026, 2, 28)), ("yesterday", True)),
])
def test_match_suppression(supp: Supp, expected: tuple[str, bool] | None) -> None:
    rule, expired = suppressions.match_suppression(A, [supp], date(2026, 3, 1))
    assert ((rule.reason, expired) if rule else None) == expected


def test_active_suppression_wins_over_expired() -> None:
    old = Supp("acl-rule-unexpected", PATH, "old", date(2025, 1, 1))
    new = Supp("acl-rule-unexpected", "us-south/*", "new", date(2027, 1, 1))
    assert suppressions.match_suppression(A, [old, new], date(2026, 3, 1)) == (new, False)


def test_suppressed_finding_is_marked_and_sends_nothing() -> None:
    supp = (Supp("acl-rule-unexpected", PATH, "accepted risk, ticket NET-12", date(2026, 6, 30)),)
    step, states = run({}, [A, B], suppressions=supp)
    assert kinds(step) == [("new", B.code)]
    marked = {m.finding.code: m for m in step.marked}
    assert marked[A.code].suppressed and not marked[B.code].suppressed
    assert states[A.fingerprint].suppressed == "suppressed: accepted risk, ticket NET-12"
    step, states = run(states, [B], suppressions=supp, at=T0 + timedelta(hours=1))
    assert kinds(step) == []  # a suppressed finding's resolution sends nothing either
    assert A.fingerprint not in states


def test_expired_suppression_alerts_with_a_note() -> None:
    supp = (Supp("acl-rule-unexpected", PATH, "until the migration", date(2026, 3, 1)),)
    step, states = run({}, [A], suppressions=supp)
    assert kinds(step) == []
    step, states = run(states, [A], suppressions=supp, at=T0 + timedelta(days=1))
    (alert,) = step.outbox["slack"]
    assert alert.kind == "new"
    assert alert.notes == ("suppression expired on 2026-03-01: until the migration",)
    marked = step.marked[0]
    assert (marked.expired, marked.suppressed) == (True, False)


def test_suppression_ending_on_an_alerted_finding_reminds_at_once() -> None:
    _, states = run({}, [A])
    supp = (Supp("acl-rule-unexpected", PATH, "for a day", date(2026, 3, 1)),)
    step, states = run(states, [A], suppressions=supp, at=T0 + timedelta(hours=1))
    assert kinds(step) == []
    step, _ = run(states, [A], suppressions=supp, at=T0 + timedelta(hours=15))
    assert kinds(step) == [("reminder", A.code)]


# --- notes and serialisation --------------------------------------------------------------------------

def test_notes_reach_the_alert() -> None:
    step = lifecycle.advance({}, [A], now=T0, channels=["slack"], remind_after=DAY,
                             notes={A.fingerprint: "remediated automatically"})
    assert step.outbox["slack"][0].notes == ("remediated automatically",)


@pytest.mark.parametrize(("news", "expected"), [
    ((), []),  # the same pending plan: told already
    (("A",), [("reminder", "acl-rule-unexpected")]),  # a new plan to approve: told again, with its note
    (("B",), []),  # news of a finding with no note is no alert
])
def test_news_in_a_note_alerts_an_unchanged_finding_again(news: tuple[str, ...],
                                                          expected: list[tuple[str, str]]) -> None:
    _, states = run({}, [A])
    fps = {"A": A.fingerprint, "B": B.fingerprint}
    step = lifecycle.advance(states, [A, B], now=T0 + timedelta(hours=1), channels=["slack", "email"],
                             remind_after=DAY, notes={A.fingerprint: "remediation plan 2 awaits approval"},
                             news=[fps[n] for n in news])
    told = [a for a in step.outbox["slack"] if a.finding.fingerprint == A.fingerprint]
    assert [(a.kind, a.finding.code) for a in told] == expected
    assert all(a.notes == ("remediation plan 2 awaits approval",) for a in told)


def test_states_round_trip_through_json() -> None:
    _, states = run({}, [A, B, pod_finding()], ok={"slack": False, "email": True})
    doc = json.loads(json.dumps(lifecycle.states_to_dict(states)))
    back = lifecycle.states_from_dict(doc)
    assert back.keys() == states.keys()
    for fp, s in states.items():
        assert back[fp].finding.fingerprint == fp
        assert back[fp].finding.content_hash == s.content_hash
        assert (back[fp].delivered, back[fp].failed, back[fp].first_seen) == (s.delivered, s.failed, s.first_seen)


def test_an_older_state_file_without_delivery_fields_reads() -> None:
    doc = {"findings": [{"first_seen": "2026-01-01T00:00:00Z", "finding": A.to_dict()}]}
    (state,) = lifecycle.states_from_dict(doc).values()
    assert (state.fingerprint, state.status, state.delivered, state.failed) == (A.fingerprint, "open", {}, ())


@pytest.mark.parametrize("doc", [{"findings": {}}, {"findings": [{"finding": {}}]}, {"findings": [{}]}])
def test_a_broken_state_document_raises(doc: dict[str, object]) -> None:
    with pytest.raises((ValueError, KeyError, TypeError)):
        lifecycle.states_from_dict(doc)


def test_counts_lists_every_severity() -> None:
    assert lifecycle.counts([A, B, B]) == {"critical": 3, "high": 0, "medium": 0, "low": 0, "info": 0}


# --- routes: which channel hears of which finding ---------------------------------------------------

def fps(*findings: Finding) -> set[str]:
    return {f.fingerprint for f in findings}


LOW, HIGH = acl_finding("rule-low", "low"), acl_finding("rule-high", "high")
ROUTES = [
    # (route of slack, findings, what slack is told, what email (no route) is told); B is critical
    (Route(min_severity="high"), [LOW, HIGH], fps(HIGH), fps(HIGH, LOW)),
    (Route(min_severity="critical"), [LOW, HIGH, B], fps(B), fps(B, HIGH, LOW)),
    (Route(codes=("subnet-allow-all",)), [A, B], fps(B), fps(A, B)),
    (Route(resources=("us-south/prod-vpc/acl-a/*",)), [A, B], fps(A), fps(A, B)),
    (Route(resources=("eu-de/*",)), [A, B], fps(), fps(A, B)),
    (Route(min_severity="high", codes=("acl-rule-unexpected",)), [LOW, HIGH, B], fps(HIGH), fps(B, HIGH, LOW)),
    (Route(), [LOW, HIGH], fps(HIGH, LOW), fps(HIGH, LOW)),
]


@pytest.mark.parametrize(("route", "findings", "slack", "email"), ROUTES)
def test_a_route_decides_what_a_channel_is_told(route: Route, findings: list[Finding], slack: set[str],
                                                 email: set[str]) -> None:
    step = lifecycle.advance({}, findings, now=T0, channels=("slack", "email"), remind_after=DAY,
                             routes={"slack": route})
    assert {a.fingerprint for a in step.outbox["slack"]} == slack
    assert {a.fingerprint for a in step.outbox["email"]} == email


def test_a_channel_told_of_a_finding_hears_its_change_and_resolution_past_its_route() -> None:
    routes = {"slack": Route(min_severity="high")}
    first = lifecycle.advance({}, [HIGH], now=T0, channels=("slack",), remind_after=DAY, routes=routes)
    states = lifecycle.settle(first, {"slack": True}, T0)
    later = T0 + timedelta(hours=1)
    lowered = lifecycle.advance(states, [acl_finding("rule-high", "low")], now=later, channels=("slack",),
                                remind_after=DAY, routes=routes)
    assert [(a.kind, a.previous_severity) for a in lowered.outbox["slack"]] == [("changed", "high")]
    states = lifecycle.settle(lowered, {"slack": True}, later)
    gone = lifecycle.advance(states, [], now=later + timedelta(hours=1), channels=("slack",), remind_after=DAY,
                             routes=routes)
    assert [a.kind for a in gone.outbox["slack"]] == ["resolved"]


def test_a_finding_routed_away_before_it_reached_the_channel_is_no_longer_pending_there() -> None:
    routes = {"slack": Route(min_severity="high")}
    failed = lifecycle.advance({}, [A], now=T0, channels=("slack",), remind_after=DAY, routes=routes)
    states = lifecycle.settle(failed, {"slack": False}, T0)
    assert states[A.fingerprint].failed == ("slack",)
    lowered = lifecycle.advance(states, [acl_finding(severity="low")], now=T0 + timedelta(hours=1),
                                channels=("slack",), remind_after=DAY, routes=routes)
    assert lowered.outbox["slack"] == () and lowered.states[A.fingerprint].failed == ()
    gone = lifecycle.advance(lifecycle.settle(lowered, {}, T0), [], now=T0 + timedelta(hours=2), channels=("slack",),
                             remind_after=DAY, routes=routes)
    assert gone.outbox["slack"] == ()
