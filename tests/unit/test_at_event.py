"""Reading Activity Tracker events: which resource to re-check, which events only to acknowledge."""

from __future__ import annotations

from typing import Any

import pytest

from netwarden.core.activity_tracker import parse, parse_crn
from netwarden.core.errors import EventFormatError

ACCT = "a/aa2432b1fa4d4ace891e9b80fc104e34"
ACL_CRN = f"crn:v1:bluemix:public:is:us-south:{ACCT}::network-acl:r006-acl1"
SUBNET_CRN = f"crn:v1:bluemix:public:is:us-south-1:{ACCT}::subnet:0717-sub1"


def event(action: str, crn: str | None, **extra: Any) -> dict[str, Any]:
    e: dict[str, Any] = {"action": action, "id": "ev-1", "eventTime": "2026-11-27T10:00:00.00+0000",
                         "initiator": {"name": "alice@example.com"}, "outcome": "success", **extra}
    if crn is not None:
        e["target"] = {"id": crn, "name": "acl-a", "typeURI": "is/network-acl"}
    return e


@pytest.mark.parametrize(("action", "crn", "check", "region", "resource"), [
    ("is.network-acl.rule.delete", ACL_CRN, "acl", "us-south", "r006-acl1"),
    ("is.network-acl.rule.create", ACL_CRN, "acl", "us-south", "r006-acl1"),
    ("is.network-acl.rule.update", ACL_CRN + "/rule:r006-r1", "acl", "us-south", "r006-acl1"),
    ("is.network-acl.network-acl.update", ACL_CRN, "acl", "us-south", "r006-acl1"),
    ("is.subnet.network-acl.update", SUBNET_CRN, "subnet", "us-south", "0717-sub1"),
    ("is.subnet.public-gateway.attach", SUBNET_CRN, "subnet", "us-south", "0717-sub1"),
    ("is.subnet.public-gateway.detach", SUBNET_CRN, "subnet", "us-south", "0717-sub1"),
    ("is.subnet.subnet.update", SUBNET_CRN, "subnet", "us-south", "0717-sub1"),
])
def test_watched_actions_name_one_resource(action: str, crn: str, check: str, region: str, resource: str) -> None:
    e = parse(event(action, crn))
    assert (e.check, e.region, e.resource_id, e.ignored) == (check, region, resource, None)
    assert e.initiator == "alice@example.com" and e.event_id == "ev-1"
    assert action in e.summary and "alice@example.com" in e.summary


@pytest.mark.parametrize(("action", "outcome", "reason"), [
    ("is.network-acl.rule.read", "success", "not a change netwarden watches"),
    ("is.security-group.security-group.update", "success", "not a change netwarden watches"),
    ("is.vpc.vpc.create", "success", "not a change netwarden watches"),
    ("is.network-acl.rule.delete", "failure", "outcome failure: nothing changed"),
    ("is.subnet.network-acl.update", "pending", "outcome pending: nothing changed"),
])
def test_other_events_are_only_acknowledged(action: str, outcome: str, reason: str) -> None:
    e = parse(event(action, ACL_CRN, outcome=outcome))
    assert e.check is None and e.ignored == reason


def test_rule_id_is_taken_from_the_crn_or_the_echoed_data() -> None:
    assert parse(event("is.network-acl.rule.delete", ACL_CRN + "/rule:r006-r9")).rule_id == "r006-r9"
    e = parse(event("is.network-acl.rule.delete", ACL_CRN, responseData={"id": "r006-r7"}))
    assert e.rule_id == "r006-r7"


@pytest.mark.parametrize(("data", "field"), [
    ([], "(top level)"),
    ({"target": {}}, "action"),
    ({"action": "is.network-acl.rule.delete", "target": "x"}, "target"),
    (event("is.network-acl.rule.delete", None), "target.id"),
    (event("is.network-acl.rule.delete", "not-a-crn"), "target.id"),
    (event("is.network-acl.rule.delete", SUBNET_CRN), "target.id"),
    (event("is.subnet.network-acl.update", ACL_CRN), "target.id"),
])
def test_malformed_events_name_the_field(data: Any, field: str) -> None:
    with pytest.raises(EventFormatError) as info:
        parse(data)
    assert info.value.field == field
    assert str(info.value).startswith(f"event: {field}: ")


@pytest.mark.parametrize(("crn", "region", "kind", "resource"), [
    (SUBNET_CRN, "us-south", "subnet", "0717-sub1"),
    (ACL_CRN, "us-south", "network-acl", "r006-acl1"),
    (f"crn:v1:bluemix:public:is:eu-de-3:{ACCT}::public-gateway:r010-pg", "eu-de", "public-gateway", "r010-pg"),
])
def test_crns(crn: str, region: str, kind: str, resource: str) -> None:
    c = parse_crn(crn)
    assert c is not None and (c.region, c.resource_type, c.resource) == (region, kind, resource)


@pytest.mark.parametrize("text", ["", "crn:v1:short", "urn:v1:bluemix:public:is:us-south:a::subnet:x"])
def test_not_crns(text: str) -> None:
    assert parse_crn(text) is None
