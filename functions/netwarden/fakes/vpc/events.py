"""Activity Tracker events for the emulated VPC API: one per mutation, success or failure.

Shaped as IBM's AT event (``ibm-cloud-apis.md`` 4.1, atracker ``events/event.md``): ``action`` from
the VPC tables of ibm-cloud-docs/vpc ``at-events.md`` (``is.network-acl.rule.delete``,
``is.subnet.network-acl.update``, ``is.subnet.public-gateway.attach``,
``is.security-group.security-group-rule.create``, ``is.security-group.security-group-interface.attach``...),
``target`` with the resource's CRN, name and type (``is.<service>/<resource>`` from the action),
``initiator`` from the bearer token's IAM identity, ``eventTime``, ``outcome`` and ``reason``
(the HTTP status). ``requestData`` always names the ids the request touched (``network_acl_id``,
``rule_id``, ``subnet_id``, ``public_gateway_id``, ``vpc_id``, ``security_group_id``, ``target_id``) and
the body sent; ``responseData`` the resource as the API returned it. The events are read back at
``/_fake/events``.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from http import HTTPStatus
from typing import Any

from netwarden.fakes.wire import Request

_TYPE_URI = {"vpc": "is.vpc/vpc", "network-acl": "is.network-acl/network-acl", "rule": "is.network-acl/rule",
             "subnet": "is.subnet/subnet", "public-gateway": "is.public-gateway/public-gateway",
             "security-group": "is.security-group/security-group",
             "security-group-rule": "is.security-group/security-group-rule",
             "security-group-interface": "is.security-group/security-group-interface"}


@dataclass(slots=True)
class Target:
    """What a mutation acted on; filled in as the handler learns it."""

    kind: str
    crn: str = ""
    name: str = ""
    resource_group_id: str | None = None
    ids: dict[str, str] = field(default_factory=dict)


def event(*, action: str, target: Target, request: Request, claims: dict[str, Any] | None, region: str,
          account_id: str, status: int, request_body: Any, response_data: Any, reason: str | None) -> dict[str, Any]:
    success = status < 400
    verb = action.rsplit(".", 1)[-1]
    severity = "critical" if verb in ("delete", "detach") or action.startswith("is.subnet.network-acl") else (
        "warning" if verb in ("update", "attach") or not success else "normal")
    reason_block: dict[str, Any] = {"reasonCode": status, "reasonType": HTTPStatus(status).phrase}
    if not success and reason:
        reason_block["reasonForFailure"] = reason
    initiator_id = str((claims or {}).get("iam_id") or "anonymous")
    initiator = {
        "id": initiator_id, "name": str((claims or {}).get("sub") or "anonymous"),
        "typeURI": ("service/security/account/user" if (claims or {}).get("sub_type") == "user"
                    else "service/security/account/serviceid"),
        "credential": {"type": "apikey" if claims else "token"},
        "host": {"address": request.header("X-Forwarded-For", "127.0.0.1"), "addressType": "IPv4",
                 "agent": request.header("User-Agent", "")},
        "authnId": initiator_id, "authnName": str((claims or {}).get("name") or "anonymous"),
    }
    target_block: dict[str, Any] = {"id": target.crn, "name": target.name, "typeURI": _TYPE_URI[target.kind],
                                    "host": {"address": f"{region}.iaas.cloud.ibm.com"}}
    if target.resource_group_id:
        target_block["resourceGroupId"] = (f"crn:v1:bluemix:public:resource-controller::a/{account_id}::"
                                           f"resource-group:{target.resource_group_id}")
    noun = action.split(".")[1:-1]
    return {
        "id": str(uuid.uuid4()),
        "eventTime": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "+0000",
        "action": action,
        "initiator": initiator,
        "target": target_block,
        "observer": {"name": "ActivityTracker"},
        "outcome": "success" if success else "failure",
        "reason": reason_block,
        "severity": severity,
        "message": f"Virtual Private Cloud: {verb} {' '.join(dict.fromkeys(noun))} {target.name}".rstrip()
                   + ("" if success else " -failure"),
        "requestData": {"region": region, **target.ids, "method": request.method, "path": request.path,
                        "body": request_body},
        "responseData": response_data if success else {},
        "logSourceCRN": f"crn:v1:bluemix:public:is:{region}:a/{account_id}:::",
        "correlationId": request.header("X-Request-Id", str(uuid.uuid4())),
        "dataEvent": False,
        "saveServiceCopy": True,
    }
