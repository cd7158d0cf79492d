"""Activity Tracker events: what changed, where, and which single resource to re-check.

IBM Cloud VPC sends an Activity Tracker event for every change to a network ACL, its rules, a
subnet's ACL or a subnet's public gateway (ibm-cloud-docs/vpc at-events.md). Routed to Event Streams
and from there to a Code Engine Kafka subscription, one event arrives in ``CE_DATA``. This module
reads one: the ``action`` says what happened, ``target.id`` (a CRN) says to what, and ``outcome``
whether it happened at all. ``parse`` turns it into a ``ChangeEvent`` that names the one resource to
re-read (``check``), or says why it needs none (``ignored``). It does no I/O: the raw event comes in
as already-decoded JSON.

CRN shape: ``crn:v1:bluemix:public:is:<region or zone>:a/<account>::<resource-type>:<id>``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from netwarden.core.errors import EventFormatError

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
}

#: What kind of resource each check expects in the target CRN.
TARGET_KIND = {"acl": "network-acl", "subnet": "subnet"}

#: Outcomes that mean the change did not (or not yet) take effect.
NO_CHANGE_OUTCOMES = frozenset({"failure", "pending"})


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


def parse_crn(text: str) -> Crn | None:
    """``crn:v1:...:is:us-south-1:a/acct::subnet:0717-abc`` -> Crn; None for anything else."""
    parts = text.split(":")
    if len(parts) < 10 or parts[0] != "crn":
        return None
    resource = ":".join(parts[9:])
    return Crn(service=parts[4], location=parts[5], resource_type=parts[8], resource=resource)


@dataclass(frozen=True, slots=True)
class ChangeEvent:
    """One Activity Tracker event, read. ``check`` is ``acl`` or ``subnet`` when a resource must be
    re-read (then ``region`` and ``resource_id`` are set), None when the event is only acknowledged,
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

    @property
    def summary(self) -> str:
        who = f" by {self.initiator}" if self.initiator else ""
        what = self.target_name or self.resource_id or self.target_crn or "?"
        return f"{self.action} on {what}{who}"


def parse(data: Any) -> ChangeEvent:
    """Read one decoded event; raises ``EventFormatError`` naming the field when it is not one."""
    if not isinstance(data, Mapping):
        raise EventFormatError("an Activity Tracker event must be a JSON object", field="(top level)")
    action = data.get("action")
    if not isinstance(action, str) or not action:
        raise EventFormatError("missing the event's action", field="action")
    target = data.get("target") or {}
    if not isinstance(target, Mapping):
        raise EventFormatError("expected an object", field="target")
    initiator = data.get("initiator") or {}
    crn_text = _text(target.get("id"))
    crn = parse_crn(crn_text) if crn_text else None
    outcome = _text(data.get("outcome"))
    check = CHECKS.get(action)
    ignored: str | None = None
    if check is None:
        ignored = "not a change netwarden watches"
    elif outcome is not None and outcome.lower() in NO_CHANGE_OUTCOMES:
        check, ignored = None, f"outcome {outcome}: nothing changed"
    elif crn is None:
        raise EventFormatError("expected the CRN of the changed resource", field="target.id")
    elif crn.service != "is" or crn.resource_type != TARGET_KIND[check]:
        raise EventFormatError(f"expected the CRN of a {TARGET_KIND[check]} of service is, got {crn_text!r}",
                               field="target.id")
    resource_id, _, rest = crn.resource.partition("/") if crn is not None else ("", "", "")
    return ChangeEvent(
        action=action,
        event_id=_text(data.get("id")),
        event_time=_text(data.get("eventTime")),
        outcome=outcome,
        initiator=_text(initiator.get("name")) if isinstance(initiator, Mapping) else None,
        target_crn=crn_text,
        target_name=_text(target.get("name")),
        region=crn.region if crn is not None else None,
        resource_id=resource_id or None,
        rule_id=_rule_id(rest, data),
        check=check,
        ignored=ignored,
    )


def _rule_id(crn_rest: str, data: Mapping[str, Any]) -> str | None:
    """The rule a rule event concerns, when the event says: a ``/rule:<id>`` CRN suffix or the
    ``responseData``/``requestData`` the API echoed. Only used in messages; the check reads the ACL."""
    if crn_rest.startswith("rule:"):
        return crn_rest[len("rule:"):] or None
    for key in ("responseData", "requestData"):
        block = data.get(key)
        if isinstance(block, Mapping):
            for name in ("rule_id", "ruleId", "id"):
                value = _text(block.get(name))
                if value:
                    return value
    return None


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None
