"""Activity Tracker events: what changed, where, and which single resource to re-check.

IBM Cloud VPC sends an Activity Tracker event for every change to a network ACL, its rules, a
subnet's ACL or a subnet's public gateway, and to a security group, its rules or its targets
(ibm-cloud-docs/vpc at-events.md). Routed to Event Streams
and from there to a Code Engine Kafka subscription, one event arrives in ``CE_DATA``. This module
reads one: the ``action`` says what happened, ``target.id`` (a CRN) says to what, and ``outcome``
whether it happened at all. ``parse`` turns it into a ``ChangeEvent`` that names the one resource to
re-read (``check``), or says why it needs none (``ignored``). It does no I/O: the raw event comes in
as already-decoded JSON.

CRN shape: ``crn:v1:bluemix:public:is:<region or zone>:a/<account>::<resource-type>:<id>``. The event
comes from outside; its region becomes part of an API host and its ids part of API paths, so every
part of the CRN, and every other string kept, is checked before anything uses it.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from netwarden.core import identifiers as ids
from netwarden.core.errors import EventFormatError
from netwarden.core.initiator import Initiator, of_event

#: action -> what to re-read: the ACL the event names, or the subnet it names.
CHECKS: dict[str, str] = {
    "is.network-acl.rule.create": "acl",
    "is.network-acl.rule.update": "acl",
    "is.network-acl.rule.delete": "acl",
    "is.network-acl.network-acl.update": "acl",
    "is.network-acl.network-acl.delete": "acl",
    "is.subnet.network-acl.update": "subnet",
    "is.subnet.public-gateway.attach": "subnet",
    "is.subnet.public-gateway.detach": "subnet",
    "is.subnet.subnet.update": "subnet",
    "is.subnet.subnet.delete": "subnet",
    # security groups (vpc at-events "Security group events"): the group, a rule of it, a target bound
    "is.security-group.security-group.create": "security-group",
    "is.security-group.security-group.update": "security-group",
    "is.security-group.security-group.delete": "security-group",
    "is.security-group.security-group-rule.create": "security-group",
    "is.security-group.security-group-rule.update": "security-group",
    "is.security-group.security-group-rule.delete": "security-group",
    "is.security-group.security-group-interface.attach": "security-group",
    "is.security-group.security-group-interface.detach": "security-group",
}

#: What kind of resource each check expects in the target CRN.
TARGET_KIND = {"acl": "network-acl", "subnet": "subnet", "security-group": "security-group"}
#: Actions whose target names a rule, not the group or ACL it belongs to.
RULE_ACTIONS = frozenset(a for a in CHECKS if "rule." in a)

#: Outcomes that mean the change did not (or not yet) take effect.
NO_CHANGE_OUTCOMES = frozenset({"failure", "pending"})

#: The longest text field kept from an event (an id, a time, a name).
MAX_TEXT = 256


@dataclass(frozen=True, slots=True)
class Crn:
    """The parts of a CRN netwarden uses; ``region`` is the location with a zone suffix removed."""

    service: str
    location: str
    resource_type: str
    resource: str

    @property
    def region(self) -> str:
        head, _, tail = self.location.rpartition("-")
        return head if head and tail.isdigit() else self.location


class CrnError(ValueError):
    """Why a text is not a CRN netwarden can act on; the message names the part."""


#: The ten parts of a CRN (IBM Cloud docs, "Cloud Resource Names").
CRN_FORMAT = ("crn:v1:<cname>:<ctype>:<service-name>:<location>:<scope>:<service-instance>:<resource-type>:"
              "<resource>")
CTYPES = frozenset({"public", "dedicated", "local"})
MAX_CRN = 512
_CNAME = re.compile(r"[a-z][a-z0-9-]{0,31}")
_SERVICE = re.compile(r"[a-z][a-z0-9-]{0,63}")
_SCOPE = re.compile(r"a/[0-9a-z]{1,64}")
_TYPE = re.compile(r"[a-z][a-z0-9_-]{0,63}")
#: A resource: an id, then optionally ``/<type>:<id>`` (an ACL's rule: ``r006-acl/rule:r006-rule``).
_RESOURCE = re.compile(rf"(?:{ids.RESOURCE_ID.pattern})(?:/{_TYPE.pattern}:(?:{ids.RESOURCE_ID.pattern}))?")


def read_crn(text: str) -> Crn:
    """``crn:v1:bluemix:public:is:us-south-1:a/acct::subnet:0717-abc`` -> Crn, every part checked;
    ``CrnError`` naming the part that is wrong. Nothing that could change a URL path gets through."""
    if len(text) > MAX_CRN:
        raise CrnError(f"a CRN is at most {MAX_CRN} characters")
    parts = text.split(":", 9)
    if len(parts) != 10:
        raise CrnError(f"{_shown(text)} has {len(parts)} parts, not the 10 of {CRN_FORMAT}")
    crn, version, cname, ctype, service, location, scope, instance, kind, resource = parts
    checks = (
        (crn == "crn" and version == "v1", "it does not start crn:v1:"),
        (_CNAME.fullmatch(cname), f"its cname {_shown(cname)} is not a cloud name (bluemix, staging...)"),
        (ctype in CTYPES, f"its ctype {_shown(ctype)} is not one of {', '.join(sorted(CTYPES))}"),
        (_SERVICE.fullmatch(service), f"its service name {_shown(service)} is not one"),
        (ids.is_region(location) or ids.is_zone(location), f"its location {_shown(location)} is not a region or zone"),
        (scope == "" or _SCOPE.fullmatch(scope), f"its scope {_shown(scope)} is not empty or a/<account>"),
        (instance == "" or ids.RESOURCE_ID.fullmatch(instance),
         f"its service instance {_shown(instance)} is not an id"),
        (_TYPE.fullmatch(kind), f"its resource type {_shown(kind)} is not one"),
        (_RESOURCE.fullmatch(resource), f"its resource {_shown(resource)} is not a resource id"),
    )
    for ok, why in checks:
        if not ok:
            raise CrnError(why)
    return Crn(service=service, location=location, resource_type=kind, resource=resource)


def parse_crn(text: str) -> Crn | None:
    """``read_crn``, or None for anything that is not a well-formed CRN."""
    try:
        return read_crn(text)
    except CrnError:
        return None


@dataclass(frozen=True, slots=True)
class ChangeEvent:
    """One Activity Tracker event, read. ``check`` is ``acl``, ``subnet`` or ``security-group`` when a
    resource must be re-read (then ``region`` and ``resource_id`` are set), None when the event is only acknowledged,
    and ``ignored`` then says why."""

    action: str
    event_id: str | None
    event_time: str | None
    outcome: str | None
    initiator: str | None
    target_crn: str | None
    target_name: str | None
    region: str | None
    resource_id: str | None
    rule_id: str | None
    check: str | None
    ignored: str | None = None
    #: Who made the change, as the event names them (id, name, kind, the event's time and id).
    who: Initiator | None = None

    @property
    def summary(self) -> str:
        who = f" by {self.initiator}" if self.initiator else ""
        what = self.target_name or self.resource_id or self.target_crn or "?"
        return f"{self.action} on {what}{who}"


def parse(data: Any, *, source: str = "event") -> ChangeEvent:
    """Read one decoded event; raises ``EventFormatError`` naming ``source`` (where the event came from:
    ``CE_DATA``, a file) and the field when it is not one.

    Every string kept is checked: the CRN part by part (``read_crn``), the region, ids and the target's
    name against their shapes (``core.identifiers``) when the event is one netwarden acts on, and any
    other text for length and control characters, since it is logged and may be shown in an alert."""
    try:
        return _parse(data)
    except EventFormatError as e:
        if source == "event":
            raise
        raise EventFormatError(e.message, field=e.field, source=source) from e


def _parse(data: Any) -> ChangeEvent:
    if not isinstance(data, Mapping):
        raise EventFormatError("an Activity Tracker event must be a JSON object", field="(top level)")
    action = _text(data, "action")
    if action is None:
        raise EventFormatError("missing the event's action", field="action")
    target = data.get("target") or {}
    if not isinstance(target, Mapping):
        raise EventFormatError("expected an object", field="target")
    initiator = data.get("initiator") or {}
    if not isinstance(initiator, Mapping):
        raise EventFormatError("expected an object", field="initiator")
    crn_text = _text(target, "id", field="target.id", limit=MAX_CRN)
    outcome = _text(data, "outcome")
    check = CHECKS.get(action)
    crn = _crn(crn_text) if check is not None else parse_crn(crn_text or "")
    name = _text(target, "name", field="target.name")
    if check is not None and name is not None and not ids.NAME.fullmatch(name):
        raise EventFormatError(f"{_shown(name)} is not a VPC resource name", field="target.name")
    ignored: str | None = None
    if check is None:
        ignored = "not a change netwarden watches"
    elif outcome is not None and outcome.lower() in NO_CHANGE_OUTCOMES:
        check, ignored = None, f"outcome {outcome}: nothing changed"
    elif crn is None:
        raise EventFormatError("expected the CRN of the changed resource", field="target.id")
    elif crn.service != "is" or crn.resource_type != TARGET_KIND[check]:
        raise EventFormatError(f"expected the CRN of a {TARGET_KIND[check]} of service is, got {_shown(crn_text)}",
                               field="target.id")
    resource_id, _, rest = crn.resource.partition("/") if crn is not None else ("", "", "")
    return ChangeEvent(
        action=action,
        event_id=_text(data, "id"),
        event_time=_text(data, "eventTime"),
        outcome=outcome,
        initiator=_text(initiator, "name", field="initiator.name"),
        target_crn=crn_text,
        target_name=name,
        region=crn.region if crn is not None else None,
        resource_id=resource_id or None,
        rule_id=_rule_id(rest, data) if CHECKS.get(action) is not None else None,
        check=check,
        ignored=ignored,
        who=of_event({"id": _text(initiator, "id", field="initiator.id"),
                      "name": _text(initiator, "name", field="initiator.name"),
                      "typeURI": _text(initiator, "typeURI", field="initiator.typeURI")},
                     at=_text(data, "eventTime"), event_id=_text(data, "id")),
    )


def _crn(text: str | None) -> Crn | None:
    """The CRN of a watched event: None when absent, every part checked when present."""
    if text is None:
        return None
    try:
        return read_crn(text)
    except CrnError as e:
        raise EventFormatError(f"not a CRN: {e}", field="target.id") from e


def _rule_id(crn_rest: str, data: Mapping[str, Any]) -> str | None:
    """The rule a rule event concerns, when the event says: a ``/rule:<id>`` CRN suffix or the
    ``responseData``/``requestData`` the API echoed. Only used in messages; the check reads the ACL."""
    if crn_rest.startswith("rule:"):
        return crn_rest[len("rule:"):] or None
    for key in ("responseData", "requestData"):
        block = data.get(key)
        if isinstance(block, Mapping):
            for name in ("rule_id", "ruleId", "id"):
                value = _text(block, name, field=f"{key}.{name}")
                if value is not None and not ids.RESOURCE_ID.fullmatch(value):
                    raise EventFormatError(f"{_shown(value)} is not a resource id", field=f"{key}.{name}")
                if value:
                    return value
    return None


def _text(block: Mapping[str, Any], key: str, *, field: str | None = None, limit: int = MAX_TEXT) -> str | None:
    """``block[key]`` when it is a non-empty string (None otherwise) that is short and holds no control,
    format or unpaired surrogate character: it is logged, and may reach an alert."""
    value = block.get(key)
    if not isinstance(value, str) or not value:
        return None
    if len(value) > limit:
        raise EventFormatError(f"longer than {limit} characters", field=field or key)
    if not value.isprintable():
        raise EventFormatError(f"{_shown(value)} holds a control or non-printable character", field=field or key)
    return value


def _shown(value: object) -> str:
    text = repr(value)
    return text if len(text) <= 80 else f"{text[:77]}..."
