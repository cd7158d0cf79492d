"""The Kubernetes API's errors, as the emulator raises them and as they go on the wire.

The models raise these; ``responses`` turns each into a ``Status`` body exactly once. Reasons, codes
and message shapes follow the API server's ``k8s.io/apimachinery/pkg/api/errors`` package, so that
clients (the kubernetes Python client, kubectl) print what they would print against a real cluster.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True, slots=True)
class Cause:
    """One ``StatusCause``: a field-level reason the request was refused."""

    reason: str
    message: str
    field: str

    def to_json(self) -> dict[str, str]:
        return {"reason": self.reason, "message": self.message, "field": self.field}


@dataclass(frozen=True, slots=True)
class Resource:
    """Who an error is about: ``kind`` is the resource (``networkpolicies``) for most errors and the Kind
    (``NetworkPolicy``) for Invalid, as the API server reports them."""

    group: str
    kind: str
    name: str = ""

    @property
    def qualified(self) -> str:
        return f"{self.kind}.{self.group}" if self.group else self.kind


class KubeError(Exception):
    """A failed API call: HTTP ``code``, Status ``reason`` and ``message``, optional ``details``."""

    code = 500
    reason = "InternalError"

    def __init__(self, message: str, *, details: dict[str, Any] | None = None,
                 headers: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.details = details
        self.headers = headers or {}

    def status(self) -> dict[str, Any]:
        body: dict[str, Any] = {"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
                                "message": self.message, "reason": self.reason, "code": self.code}
        if self.details:
            body["details"] = self.details
        return body


def _details(who: Resource, **extra: Any) -> dict[str, Any]:
    details: dict[str, Any] = {"name": who.name} if who.name else {}
    if who.group:
        details["group"] = who.group
    details["kind"] = who.kind
    details.update(extra)
    return details


class NotFound(KubeError):
    code = 404
    reason = "NotFound"

    def __init__(self, who: Resource) -> None:
        super().__init__(f'{who.qualified} "{who.name}" not found', details=_details(who))


class NoResource(KubeError):
    """A path the server does not serve (an unknown resource or group version)."""

    code = 404
    reason = "NotFound"

    def __init__(self) -> None:
        super().__init__("the server could not find the requested resource", details={})


class AlreadyExists(KubeError):
    code = 409
    reason = "AlreadyExists"

    def __init__(self, who: Resource) -> None:
        super().__init__(f'{who.qualified} "{who.name}" already exists', details=_details(who))


class Conflict(KubeError):
    code = 409
    reason = "Conflict"

    def __init__(self, who: Resource, detail: str, causes: Sequence[Cause] = ()) -> None:
        extra = {"causes": [c.to_json() for c in causes]} if causes else {}
        super().__init__(f'Operation cannot be fulfilled on {who.qualified} "{who.name}": {detail}',
                         details=_details(who, **extra))


STALE = "the object has been modified; please apply your changes to the latest version and try again"


class ApplyConflict(KubeError):
    """Server-side apply found fields another manager owns with other values."""

    code = 409
    reason = "Conflict"

    def __init__(self, who: Resource, causes: Sequence[Cause]) -> None:
        n = len(causes)
        lines = "\n".join(f"- {c.message}" for c in causes) if n > 1 else causes[0].message
        message = f"Apply failed with {n} conflict{'s' if n > 1 else ''}: {lines}"
        super().__init__(message, details=_details(who, causes=[c.to_json() for c in causes]))


class Invalid(KubeError):
    """422: the object failed validation. ``who.kind`` is the Kind (``NetworkPolicy``)."""

    code = 422
    reason = "Invalid"

    def __init__(self, who: Resource, causes: Sequence[Cause]) -> None:
        errors = [f"{c.field}: {c.message}" if c.field else c.message for c in causes]
        summary = errors[0] if len(errors) == 1 else "[" + ", ".join(errors) + "]"
        super().__init__(f'{who.qualified} "{who.name}" is invalid: {summary}',
                         details=_details(who, causes=[c.to_json() for c in causes]))
        self.causes = tuple(causes)


class BadRequest(KubeError):
    code = 400
    reason = "BadRequest"

    def __init__(self, message: str) -> None:
        super().__init__(message)


class MethodNotAllowed(KubeError):
    code = 405
    reason = "MethodNotAllowed"

    def __init__(self, allowed: Sequence[str] = ()) -> None:
        headers = {"Allow": ", ".join(allowed)} if allowed else {}
        super().__init__("the server does not allow this method on the requested resource", details={},
                         headers=headers)


class UnsupportedMediaType(KubeError):
    code = 415
    reason = "UnsupportedMediaType"

    def __init__(self, content_type: str, accepted: Sequence[str]) -> None:
        super().__init__(f"the body of the request was in an unknown format - accepted media types include: "
                         f"{', '.join(accepted)}")
        self.content_type = content_type


class Expired(KubeError):
    """410: a continue token whose snapshot is gone, or a watch from a resourceVersion older than the
    history kept (the API server's compaction)."""

    code = 410
    reason = "Expired"

    def __init__(self, message: str) -> None:
        super().__init__(message)


class TooLargeResourceVersion(KubeError):
    """504: a resourceVersion the cluster has not reached (``storage.NewTooLargeResourceVersionError``)."""

    code = 504
    reason = "Timeout"

    def __init__(self, requested: int, current: int, retry_after: int = 1) -> None:
        super().__init__(f"Timeout: Too large resource version: {requested}, current: {current}", details={
            "causes": [{"reason": "ResourceVersionTooLarge", "message": "Too large resource version"}],
            "retryAfterSeconds": retry_after})


class PatchFailed(KubeError):
    """422: a JSON patch that does not apply (a missing path, a failed ``test``)."""

    code = 422
    reason = "Invalid"

    def __init__(self, message: str) -> None:
        super().__init__(message)
