"""Reading Activity Tracker events: which resource to re-check, which events only to acknowledge."""

from __future__ import annotations

from typing import Any

import pytest

from netwarden.core.activity_tracker import parse, parse_crn
from netwarden.core.errors import EventFormatError

ACCT = "a/aa2432b1fa4d4ace891e9b80fc104e34"
ACL_CRN = f"crn:v1:bluemix:public:is:us-south:{ACCT}::network-acl:r006-acl1"
SUBNET_CRN = f"crn:v1:bluemix:public:is:us-south-1:{ACCT}::subnet:0717-sub1"
SG_CRN = f"crn:v1:bluemix:public:is:us-south:{ACCT}::security-group:r006-sg1"


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
    ("is.security-group.security-group.update", SG_CRN, "security-group", "us-south", "r006-sg1"),
    ("is.security-group.security-group.delete", SG_CRN, "security-group", "us-south", "r006-sg1"),
    ("is.security-group.security-group-rule.create", SG_CRN + "/rule:r006-r1", "security-group", "us-south",
     "r006-sg1"),
    ("is.security-group.security-group-rule.delete", SG_CRN, "security-group", "us-south", "r006-sg1"),
    ("is.security-group.security-group-interface.attach", SG_CRN, "security-group", "us-south", "r006-sg1"),
    ("is.security-group.security-group-interface.detach", SG_CRN, "security-group", "us-south", "r006-sg1"),
])
def test_watched_actions_name_one_resource(action: str, crn: str, check: str, region: str, resource: str) -> None:
    e = parse(event(action, crn))
    assert (e.check, e.region, e.resource_id, e.ignored) == (check, region, resource, None)
    assert e.initiator == "alice@example.com" and e.event_id == "ev-1"
    assert action in e.summary and "alice@example.com" in e.summary


@pytest.mark.parametrize(("action", "outcome", "reason"), [
    ("is.network-acl.rule.read", "success", "not a change netwarden watches"),
    ("is.security-group.security-group-rule.read", "success", "not a change netwarden watches"),
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
    (event("is.security-group.security-group-rule.create", ACL_CRN), "target.id"),
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


@pytest.mark.parametrize("text", ["", "crn:v1:short", "urn:v1:bluemix:public:is:us-south:a::subnet:x",
                                  "crn:v1:bluemix:public:is:us-south:a/x::subnet:../x"])
def test_not_crns(text: str) -> None:
    assert parse_crn(text) is None


# --- every part of the CRN, every string kept -----------------------------------------------------------

def crn(*, cname: str = "bluemix", ctype: str = "public", service: str = "is", location: str = "us-south",
        scope: str = ACCT, instance: str = "", kind: str = "network-acl", resource: str = "r006-acl1") -> str:
    return f"crn:v1:{cname}:{ctype}:{service}:{location}:{scope}:{instance}:{kind}:{resource}"


@pytest.mark.parametrize(("text", "why"), [
    (f"crn:v1:bluemix:public:is:us-south:{ACCT}::network-acl", "has 9 parts, not the 10"),
    ("crn:v1:bluemix:public:is:us-south", "has 6 parts"),
    (crn().replace("crn:v1:", "crn:v2:"), "does not start crn:v1:"),
    (crn(cname=""), "its cname '' is not a cloud name"),
    (crn(cname="blue/mix"), "its cname 'blue/mix'"),
    (crn(ctype="private"), "its ctype 'private' is not one of dedicated, local, public"),
    (crn(ctype=""), "its ctype ''"),
    (crn(service=""), "its service name ''"),
    (crn(location=""), "its location '' is not a region or zone"),
    (crn(location="global"), "its location 'global' is not a region or zone"),
    (crn(location="us-south/.."), "its location 'us-south/..'"),
    (crn(location="us-south-123"), "its location 'us-south-123'"),
    (crn(location="US-SOUTH"), "its location 'US-SOUTH'"),
    (crn(scope="o/my-org"), "its scope 'o/my-org' is not empty or a/<account>"),
    (crn(scope="a/"), "its scope 'a/'"),
    (crn(scope="a/acct/../x"), "its scope 'a/acct/../x'"),
    (crn(scope="acct"), "its scope 'acct'"),
    (crn(instance="x/y"), "its service instance 'x/y' is not an id"),
    (crn(kind=""), "its resource type ''"),
    (crn(resource=""), "its resource '' is not a resource id"),
    (crn(resource="r006-acl1/../../vpcs"), "its resource 'r006-acl1/../../vpcs'"),
    (crn(resource="r006-acl1?limit=1"), "its resource 'r006-acl1?limit=1'"),
    (crn(resource="r006-acl1#x"), "its resource"),
    (crn(resource="r006%2Facl1"), "its resource"),
    (crn(resource="r006 acl1"), "its resource"),
    (crn(resource="r006-acl1\n"), "holds a control or non-printable character"),
    (crn(resource="r006-acl1/rule:"), "its resource"),
    (crn(resource="r006-acl1/rule:r1/rule:r2"), "its resource"),
    (crn(resource="a" * 600), "longer than 512 characters"),
], ids=lambda v: None if isinstance(v, str) and len(v) < 60 else "")
def test_a_watched_event_with_a_bad_crn_names_target_id_and_the_part(text: str, why: str) -> None:
    for outcome in ("success", "failure"):
        with pytest.raises(EventFormatError) as info:
            parse(event("is.network-acl.rule.delete", text, outcome=outcome))
        assert info.value.field == "target.id"
        assert why in str(info.value)
        assert parse_crn(text) is None


@pytest.mark.parametrize(("change", "field", "why"), [
    ({"target": {"id": ACL_CRN, "name": "acl a"}}, "target.name", "is not a VPC resource name"),
    ({"target": {"id": ACL_CRN, "name": "../acl-a"}}, "target.name", "is not a VPC resource name"),
    ({"target": {"id": ACL_CRN, "name": "acl-a?x"}}, "target.name", "is not a VPC resource name"),
    ({"target": {"id": ACL_CRN, "name": "ACL-A"}}, "target.name", "is not a VPC resource name"),
    ({"initiator": {"name": "alice\nFORGED log line"}}, "initiator.name", "control or non-printable"),
    ({"initiator": {"name": "alice\ud800"}}, "initiator.name", "control or non-printable"),
    ({"initiator": {"name": "evil\u202egpj.exe"}}, "initiator.name", "control or non-printable"),
    ({"initiator": "alice"}, "initiator", "expected an object"),
    ({"id": "ev-1\x1b[31m"}, "id", "control or non-printable"),
    ({"id": "e" * 257}, "id", "longer than 256 characters"),
    ({"eventTime": "2026-11-27\r\n"}, "eventTime", "control or non-printable"),
    ({"outcome": "success\x00"}, "outcome", "control or non-printable"),
    ({"responseData": {"id": "../../vpcs"}}, "responseData.id", "is not a resource id"),
    ({"requestData": {"rule_id": "r1?x=y"}}, "requestData.rule_id", "is not a resource id"),
], ids=lambda v: None if isinstance(v, str) and v.isprintable() else "")
def test_every_string_kept_from_a_watched_event_is_checked(change: dict[str, Any], field: str, why: str) -> None:
    with pytest.raises(EventFormatError) as info:
        parse({**event("is.network-acl.rule.delete", ACL_CRN), **change})
    assert info.value.field == field
    assert why in str(info.value) and "\n" not in str(info.value)


def test_an_event_netwarden_does_not_watch_is_acknowledged_whatever_its_crn_looks_like() -> None:
    e = parse(event("is.instance.instance.update", crn(kind="instance", location="global")))
    assert (e.check, e.region, e.resource_id) == (None, None, None)
    assert e.ignored == "not a change netwarden watches"


def test_an_event_netwarden_does_not_watch_still_has_its_texts_checked() -> None:
    with pytest.raises(EventFormatError) as info:
        parse(event("is.vpc.vpc.update", "crn:v1:bluemix:public:is:us-south:a/x::vpc:r006-1\n"))
    assert info.value.field == "target.id"


@pytest.mark.parametrize(("text", "region", "kind", "resource"), [
    (crn(location="us-south-1", kind="subnet", resource="0717-7ec86020-1c6e-4889-b3f0-a15f2e50f87e"), "us-south",
     "subnet", "0717-7ec86020-1c6e-4889-b3f0-a15f2e50f87e"),
    (crn(cname="staging", ctype="dedicated", location="eu-de"), "eu-de", "network-acl", "r006-acl1"),
    (crn(ctype="local", scope=""), "us-south", "network-acl", "r006-acl1"),
    (crn(instance="0a1b2c3d-4e5f"), "us-south", "network-acl", "r006-acl1"),
    (crn(resource="r006-acl1/rule:r006-r1"), "us-south", "network-acl", "r006-acl1/rule:r006-r1"),
], ids=["zone", "staging-dedicated", "local-no-scope", "instance", "rule-suffix"])
def test_well_formed_crns_in_every_variant(text: str, region: str, kind: str, resource: str) -> None:
    c = parse_crn(text)
    assert c is not None and (c.region, c.resource_type, c.resource) == (region, kind, resource)


def test_an_error_names_where_the_event_came_from() -> None:
    with pytest.raises(EventFormatError) as info:
        parse([], source="CE_DATA")
    assert str(info.value) == "CE_DATA: (top level): an Activity Tracker event must be a JSON object"
    assert info.value.field == "(top level)"
