"""The errors the emulated VPC API answers with, named after IBM's error codes.

The models raise them; ``responses`` serialises them once, into IBM's body::

    {"errors": [{"code": "...", "message": "...", "more_info": "...", "target": {...}}],
     "status_code": 400, "trace": "<uuid>"}

which the SDK turns into ``ApiException(code=status, message=errors[0].message)``. The codes are the
ones IBM's VPC docs list (``bad_field``, ``missing_field``, ``not_found``, ``over_quota``,
``conflict_field``...); IBM does not document which code each validation uses, so the choice of
status (400 for an invalid request, 404 for a resource in the path that does not exist, 409 for a
request that conflicts with the current state) is what carries the meaning.
"""

from __future__ import annotations

import uuid
from typing import Any

MORE_INFO = "https://cloud.ibm.com/docs/vpc?topic=vpc-rias-error-messages"


class FakeVpcError(Exception):
    """One wire error: HTTP ``status``, IBM ``code``, a message and optionally the offending field."""

    status = 400
    code = "bad_request"

    def __init__(self, message: str, *, field: str | None = None, value: Any = None,
                 target_type: str = "field") -> None:
        super().__init__(message)
        self.message = message
        self.field = field
        self.value = value
        self.target_type = target_type

    def body(self) -> dict[str, Any]:
        error: dict[str, Any] = {"code": self.code, "message": self.message,
                                 "more_info": f"{MORE_INFO}#{self.code}"}
        if self.field is not None:
            target: dict[str, Any] = {"name": self.field, "type": self.target_type}
            if self.value is not None:
                target["value"] = str(self.value)
            error["target"] = target
        return {"errors": [error], "status_code": self.status, "trace": str(uuid.uuid4())}


class BadField(FakeVpcError):
    """A value in the request is invalid (IBM: ``bad_field``)."""

    code = "bad_field"


class MissingField(FakeVpcError):
    """A required property or query parameter is absent (IBM: ``missing_field``)."""

    code = "missing_field"


class BadVersion(FakeVpcError):
    """The ``version`` or ``generation`` query parameter is absent or malformed."""

    code = "bad_version"


class VersionOutOfRange(BadVersion):
    """The ``version`` date is after today (UTC): the API accepts "any date-based version, up to the
    current date". The code is the one IBM's instance metadata service (the same API family) answers
    for a date outside its range: ``invalid_version_range``, "The `version` value cannot be before ..."."""

    code = "invalid_version_range"


class OverQuota(FakeVpcError):
    """A quota would be exceeded: 200 rules per ACL, 100 ACLs or 100 subnets per VPC."""

    code = "over_quota"


class NotFound(FakeVpcError):
    """The resource named in the path does not exist."""

    status = 404
    code = "not_found"


class Conflict(FakeVpcError):
    """The request conflicts with the current state: in use, a default, a duplicate name, a zone taken."""

    status = 409
    code = "conflict_field"


class NotAuthorized(FakeVpcError):
    """No ``Authorization: Bearer <token>`` header, a malformed one, or a token the emulated IAM did not
    issue or that expired: 401 ``not_authorized``, before the version or the body is looked at."""

    status = 401
    code = "not_authorized"


class MethodNotAllowed(FakeVpcError):
    status = 405
    code = "method_not_allowed"
