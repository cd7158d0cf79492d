"""Who made a change, and when: the Activity Tracker event's initiator, kept with the finding it caused.

An SRE on call asks first who did it. The VPC API's Activity Tracker event names the initiator: an
IAM id, a name (a user's email, or a service ID's name), the kind of identity (``typeURI``:
``service/security/account/user`` or ``.../serviceid``) and the event's time. A finding first seen
through an event keeps that initiator in the finding state, through later scans, until it is
resolved; a finding no event explained has none, and every place that shows the initiator says so
(``UNKNOWN``) rather than leaving it blank.

``kind`` is ``user`` (an IBMid, typeURI ``service/security/account/user``), ``service`` (a service ID,
the account's own automation: ``iam-ServiceId-...``, typeURI ``.../serviceid``) or ``ibm`` (IBM's own
automation, such as the Kubernetes service replacing a worker: an initiator named by a service CRN or
a typeURI of ``service/security/clientid``).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

#: Said where an initiator would be, for a finding no Activity Tracker event explained.
UNKNOWN = "not known (no Activity Tracker event named who)"
KINDS = ("user", "service", "ibm")


@dataclass(frozen=True, slots=True)
class Initiator:
    id: str | None
    name: str | None
    kind: str
    at: str | None = None
    event_id: str | None = None

    @property
    def text(self) -> str:
        """``ops@example.com (user) at 2026-12-03T10:00:00Z``."""
        who = self.name or self.id or "an unnamed initiator"
        kind = "IBM automation" if self.kind == "ibm" else self.kind
        return f"{who} ({kind})" + (f" at {self.at}" if self.at else "")

    def to_dict(self) -> dict[str, Any]:
        return {"id": self.id, "name": self.name, "kind": self.kind, "at": self.at, "event_id": self.event_id}


def from_dict(data: Mapping[str, Any] | None) -> Initiator | None:
    """The inverse of ``Initiator.to_dict``; None for None or a record without an id or a name."""
    if not data or not (data.get("id") or data.get("name")):
        return None
    kind = str(data.get("kind") or "user")
    return Initiator(_text(data.get("id")), _text(data.get("name")), kind if kind in KINDS else "user",
                     _text(data.get("at")), _text(data.get("event_id")))


def of_event(initiator: Mapping[str, Any], *, at: str | None, event_id: str | None) -> Initiator | None:
    """The initiator block of an Activity Tracker event (already checked for shape and length)."""
    iam_id, name = _text(initiator.get("id")), _text(initiator.get("name"))
    if iam_id is None and name is None:
        return None
    return Initiator(iam_id, name, _kind(iam_id or "", str(initiator.get("typeURI") or "")), at, event_id)


def _kind(iam_id: str, type_uri: str) -> str:
    if type_uri.endswith("/clientid") or iam_id.startswith("crn:"):
        return "ibm"
    if type_uri.endswith("/serviceid") or iam_id.startswith("iam-ServiceId-"):
        return "service"
    return "user"


def _text(value: Any) -> str | None:
    return str(value) if value not in (None, "") else None
