"""Who made a change: read from an Activity Tracker event, kept with the finding, said in its alerts."""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta

import pytest

from netwarden.adapters import alert_text
from netwarden.core import activity_tracker, lifecycle
from netwarden.core.findings import Finding, ResourceRef, make
from netwarden.core.initiator import UNKNOWN, Initiator, from_dict, of_event
from netwarden.core.lifecycle import FindingState

T0 = datetime(2026, 3, 1, 10, 0, tzinfo=UTC)
USER = {"id": "IBMid-550000ABCD", "name": "ops@example.com", "typeURI": "service/security/account/user"}
SERVICE = {"id": "iam-ServiceId-1234", "name": "ci-deployer", "typeURI": "service/security/account/serviceid"}
IBM = {"id": "crn:v1:bluemix:public:containers-kubernetes:us-south:a/acct::", "name": "IBM Kubernetes Service",
       "typeURI": "service/security/clientid"}


@pytest.mark.parametrize(("block", "kind"), [
    (USER, "user"),
    (SERVICE, "service"),
    ({"id": "iam-ServiceId-9"}, "service"),
    (IBM, "ibm"),
    ({"id": "crn:v1:bluemix:public:is:us-south:a/acct::"}, "ibm"),
    ({"name": "someone@example.com"}, "user"),
])
def test_the_kind_of_initiator(block: dict[str, str], kind: str) -> None:
    who = of_event(block, at="2026-03-01T10:00:00Z", event_id="ev-1")
    assert who is not None and who.kind == kind and who.at == "2026-03-01T10:00:00Z" and who.event_id == "ev-1"


def test_an_event_without_an_initiator_names_nobody() -> None:
    assert of_event({}, at=None, event_id=None) is None
    assert from_dict(None) is None and from_dict({"kind": "user"}) is None


def test_the_text_and_the_record() -> None:
    who = of_event(USER, at="2026-03-01T10:00:00Z", event_id="ev-1")
    assert who is not None and who.text == "ops@example.com (user) at 2026-03-01T10:00:00Z"
    assert from_dict(json.loads(json.dumps(who.to_dict()))) == who
    assert Initiator("crn:x", None, "ibm").text == "crn:x (IBM automation)"


def test_the_parsed_event_carries_who_and_when() -> None:
    event = {"action": "is.network-acl.network-acl-rule.create", "id": "ev-9", "eventTime": "2026-03-01T10:00:00Z",
             "outcome": "success", "initiator": USER,
             "target": {"id": "crn:v1:bluemix:public:is:us-south:a/acct::network-acl:r006-acl", "name": "acl"}}
    parsed = activity_tracker.parse(event)
    assert parsed.who == Initiator("IBMid-550000ABCD", "ops@example.com", "user", "2026-03-01T10:00:00Z", "ev-9")


def _finding(port: int = 22) -> Finding:
    where = ResourceRef("network-acl", region="us-south", vpc="prod-vpc", acl="acl-a", rule="rule-x")
    return make("acl-rule-unexpected", where, "unexpected rule", live={"destination_port": port})


def _run(previous: Mapping[str, FindingState], findings: list[Finding],
         initiators: Mapping[str, Initiator] | None = None, at: datetime = T0,
         ) -> tuple[lifecycle.Step, dict[str, FindingState]]:
    step = lifecycle.advance(previous, findings, now=at, channels=("slack",), remind_after=0, suppressions=(),
                             initiators=initiators)
    return step, lifecycle.settle(step, {"slack": True}, at)


def test_the_initiator_survives_later_scans_and_a_change_takes_the_new_one() -> None:
    f = _finding()
    alice = Initiator("IBMid-1", "alice@example.com", "user", "2026-03-01T10:00:00Z")
    bob = Initiator("IBMid-2", "bob@example.com", "user", "2026-03-01T11:00:00Z")
    step, states = _run({}, [f], {f.fingerprint: alice})
    assert step.outbox["slack"][0].initiator == alice
    states = {fp: lifecycle.state_from_dict(json.loads(json.dumps(lifecycle.state_to_dict(s))))
              for fp, s in states.items()}
    _, states = _run(states, [f], at=T0 + timedelta(minutes=15))  # a scan names nobody: alice stays
    assert states[f.fingerprint].initiator == alice
    _, states = _run(states, [f], {f.fingerprint: bob}, at=T0 + timedelta(minutes=20))  # same content: still alice
    assert states[f.fingerprint].initiator == alice
    widened = _finding(port=23)  # the same rule, now other content: a changed finding, made by bob
    assert widened.fingerprint == f.fingerprint
    step, states = _run(states, [widened], {f.fingerprint: bob}, at=T0 + timedelta(minutes=30))
    assert step.transitions[f.fingerprint] == "changed"
    assert states[f.fingerprint].initiator == bob and step.outbox["slack"][0].initiator == bob


@pytest.mark.parametrize(("who", "line"), [
    (Initiator("IBMid-1", "alice@example.com", "user", "2026-03-01T10:00:00Z"),
     "changed by alice@example.com (user) at 2026-03-01T10:00:00Z"),
    (None, f"who: {UNKNOWN}"),
])
def test_the_alert_says_who_or_that_it_is_not_known(who: Initiator | None, line: str) -> None:
    f = _finding()
    step, _ = _run({}, [f], {f.fingerprint: who} if who else None)
    alert = step.outbox["slack"][0]
    assert line in alert_text.detail_lines(alert)
    assert alert_text.to_dict(alert)["initiator"] == (who.to_dict() if who else None)
