"""The one error tree of netwarden.

Every failure a user can cause or meet is one of these; adapters translate SDK and I/O errors into
them at the edge (``raise ... from e``) and entrypoints turn them into one line on stderr and an
exit code. Nothing from an SDK crosses into ``app`` or ``core``.

Our exception hierarchy::

    NetwardenError
      x ConfigError              the config file or environment is wrong       (exit 1)
      x BaselineError            a baseline file is unreadable or invalid      (exit 1)
      x SnapshotFormatError      a snapshot file is not a netwarden snapshot   (exit 1)
      x ProviderError            an API (IBM Cloud, Kubernetes, a sink) failed
        - ProviderAuthError        401/403, or IAM refused the key
        - ProviderNotFound         404
        - ProviderConflict         409 (stale resourceVersion, resource in use)
        - ProviderInvalid          400/422: the API refused the request
        - ProviderThrottled        429
        - ProviderUnavailable      5xx, retries exhausted, connection refused
      x StateError               the state store cannot be read or written
        - LockHeld                 another run holds the remediation lock
      x RemediationError         a plan could not be made or applied
        - PlanRefused              bigger than max_changes, incomplete snapshot, unsafe protocol
        - TemporaryRemediationError   worth retrying (throttled, 5xx, conflict)
        - PermanentRemediationError   not worth retrying (forbidden, invalid, gone)
        - PlanFormatError          a saved plan is malformed, or was changed after it was made (exit 1)
        - PlanNotFound             no stored plan has that id
        - PlanConsumed             the stored plan was applied already
      x NotifyError              a notifier could not deliver
      x EventFormatError         an Activity Tracker event or a function request is malformed  (exit 1)

``Location`` pins a user error to file, line and field, so the message can name them.

A message or field can carry what a user wrote (a key, a value, a tag), and a hostile or broken file
can make that megabytes long or spread it over lines. So the line an error prints is bounded: the
message is clipped to ``MESSAGE_LIMIT`` characters and the field to ``FIELD_LIMIT``, each with a
visible ``…(N more characters)``, and line breaks are shown escaped, so an error is always one line.
``shown`` is the bounded ``repr`` to use when a user's value goes into a message.
"""

from __future__ import annotations

import reprlib
from dataclasses import dataclass
from typing import Any

MESSAGE_LIMIT = 500
FIELD_LIMIT = 200
VALUE_LIMIT = 80


def clip(text: str, limit: int = MESSAGE_LIMIT) -> str:
    """``text`` on one line and at most about ``limit`` characters: the rest is counted, not shown."""
    if len(text) > limit:
        text = f"{text[:limit]}…({len(text) - limit} more characters)"
    return _one_line(text)


def _one_line(text: str) -> str:
    if "\n" in text or "\r" in text:
        text = text.replace("\r", "\\r").replace("\n", "\\n")
    return text


def shown(value: Any, limit: int = VALUE_LIMIT) -> str:
    """``repr(value)``, bounded: how a message quotes a user's value (a 50 MB key stays a few words)."""
    if isinstance(value, str | bytes):
        if len(value) <= limit:
            return repr(value)
        return f"{value[:limit]!r}…({len(value) - limit} more characters)"
    return clip(_REPR.repr(value), limit)


_REPR = reprlib.Repr()
_REPR.maxlevel, _REPR.maxstring, _REPR.maxother = 3, VALUE_LIMIT, VALUE_LIMIT


@dataclass(frozen=True, slots=True)
class Location:
    """Where in a file a problem is: ``baseline/vpc/.../acl-a.yaml:12: rules[3].source``."""

    file: str
    line: int | None = None
    field: str | None = None

    def __str__(self) -> str:
        file = _one_line(self.file)  # a path is bounded by the system, but may hold a line break
        where = file if self.line is None else f"{file}:{self.line}"
        return f"{where}: {clip(self.field, FIELD_LIMIT)}" if self.field else where


class NetwardenError(Exception):
    """Base of every error netwarden raises on purpose."""

    def __init__(self, message: str, *, location: Location | None = None) -> None:
        message = clip(message)
        super().__init__(message)
        self.message = message
        self.location = location

    def __str__(self) -> str:
        return f"{self.location}: {self.message}" if self.location else self.message


class ConfigError(NetwardenError):
    """The config file or the environment is wrong."""


class BaselineError(NetwardenError):
    """A baseline file is unreadable or invalid."""


class SnapshotFormatError(NetwardenError):
    """A snapshot file is not a netwarden snapshot of a known version."""


class ProviderError(NetwardenError):
    """An API call failed; ``endpoint`` names what was called, ``status`` the HTTP status if any."""

    def __init__(
        self,
        message: str,
        *,
        endpoint: str | None = None,
        status: int | None = None,
        retry_after: float | None = None,
    ) -> None:
        super().__init__(message)
        self.endpoint = endpoint
        self.status = status
        self.retry_after = retry_after

    def __str__(self) -> str:
        prefix = f"{self.endpoint}: " if self.endpoint else ""
        code = f" (HTTP {self.status})" if self.status else ""
        return f"{prefix}{self.message}{code}"


class ProviderAuthError(ProviderError):
    """Credentials were refused (401/403, or IAM refused the API key)."""


class ProviderNotFound(ProviderError):
    """The resource does not exist (404)."""


class ProviderConflict(ProviderError):
    """The request conflicts with the current state (409)."""


class ProviderInvalid(ProviderError):
    """The API refused the request as invalid (400/422)."""


class ProviderThrottled(ProviderError):
    """Too many requests (429)."""


class ProviderUnavailable(ProviderError):
    """The API is down, unreachable, or kept failing after retries."""


class StateError(NetwardenError):
    """The state store cannot be read or written."""


class LockHeld(StateError):
    """Another run holds the remediation lock of this scope."""


class RemediationError(NetwardenError):
    """A remediation plan could not be made or applied."""


class PlanRefused(RemediationError):
    """The plan was refused whole by a safeguard; nothing was written."""


class TemporaryRemediationError(RemediationError):
    """A write failed in a way worth retrying after ``delay`` seconds."""

    def __init__(self, message: str, *, delay: float = 1.0) -> None:
        super().__init__(message)
        self.delay = delay


class PermanentRemediationError(RemediationError):
    """A write failed in a way retries will not fix."""


class PlanFormatError(RemediationError):
    """A saved plan (``remediate --out``, ``plans/<id>.json``) is malformed or was changed after it was made."""


class PlanNotFound(RemediationError):
    """No plan of that id is stored."""


class PlanConsumed(RemediationError):
    """The stored plan was applied already (or its run failed part way): a plan runs once."""


class NotifyError(NetwardenError):
    """A notifier could not deliver an alert."""


class EventFormatError(NetwardenError):
    """An Activity Tracker event (or a request to the function) is not what it must be; ``field``
    names the part that is wrong (``target.id``, ``action``...)."""

    def __init__(self, message: str, *, field: str | None = None, source: str = "event") -> None:
        super().__init__(message, location=Location(source, field=field))
        self.field = field


def provider_error_for_status(status: int | None) -> type[ProviderError]:
    """The most specific ProviderError class for an HTTP status (kopf's table, K5)."""
    if status in (401, 403):
        return ProviderAuthError
    if status == 404:
        return ProviderNotFound
    if status == 409:
        return ProviderConflict
    if status in (400, 422):
        return ProviderInvalid
    if status == 429:
        return ProviderThrottled
    if status is None or status >= 500:
        return ProviderUnavailable
    return ProviderError
