"""Translate what the IBM SDKs raise into netwarden's error tree, in one place.

The SDK raises three kinds of things: ``ApiException`` for an HTTP error it was given (from the VPC
API, the resource manager, or IAM while getting a token), ``requests.exceptions.RetryError`` when its
retries ran out on 429/5xx (not an ``ApiException``: ``ibm-cloud-apis.md`` 2.3), and the ``requests``
connection errors. ``translate_vpc_errors(endpoint)`` turns each into the most specific
``ProviderError`` (``raise ... from e``), naming the endpoint and never the API key; IAM refusing the
key is a ``ProviderAuthError`` naming IAM. ``remediation_errors()`` then splits provider errors the way
the remediation job needs them: worth retrying (429, 5xx, 409, unreachable) or not.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager

import requests
from ibm_cloud_sdk_core import ApiException

from netwarden.core.errors import (
    PermanentRemediationError,
    ProviderAuthError,
    ProviderConflict,
    ProviderError,
    ProviderThrottled,
    ProviderUnavailable,
    TemporaryRemediationError,
    provider_error_for_status,
)

_IAM_PATH = "/identity/token"
_TOO_MANY = re.compile(r"too many (\d{3}) error responses")
#: Seconds to wait before retrying a write the API throttled or failed without saying how long.
DEFAULT_RETRY_DELAY = 5.0


def _retry_after(e: ApiException) -> float | None:
    response = e.http_response
    value = response.headers.get("Retry-After") if response is not None else None
    try:
        return float(value) if value is not None else None
    except ValueError:
        return None


def _is_iam(url: str | None) -> bool:
    return bool(url) and _IAM_PATH in str(url)


def _api_error(e: ApiException, endpoint: str) -> ProviderError:
    response = e.http_response
    status = int(e.status_code) if e.status_code is not None else None
    message = str(e.message or "request failed")
    if response is not None and _is_iam(response.url):
        iam = str(response.url).split("?", 1)[0]
        if status is not None and status < 500:
            return ProviderAuthError(f"IAM refused the API key: {message}", endpoint=iam, status=status)
        return ProviderUnavailable(f"IAM failed: {message}", endpoint=iam, status=status)
    cls = provider_error_for_status(status)
    return cls(message, endpoint=endpoint, status=status, retry_after=_retry_after(e))


def _request_url(e: requests.exceptions.RequestException) -> str | None:
    request = getattr(e, "request", None)
    return getattr(request, "url", None)


@contextmanager
def translate_vpc_errors(endpoint: str) -> Iterator[None]:
    """Run SDK calls; re-raise whatever they raise as a ``core.errors.ProviderError``.

    ``endpoint`` names the call for the message (``GET /network_acls (us-south)``). A
    ``ProviderUnavailable`` with ``status`` None means the API could not be reached at all.
    """
    try:
        yield
    except ApiException as e:
        raise _api_error(e, endpoint) from e
    except requests.exceptions.RetryError as e:
        found = _TOO_MANY.search(str(e))
        status = int(found.group(1)) if found else None
        cls = ProviderThrottled if status == 429 else ProviderUnavailable
        reason = f"too many {status} responses" if status else "too many error responses"
        raise cls(f"still failing after retries ({reason})", endpoint=endpoint, status=status) from e
    except (requests.exceptions.ConnectionError, requests.exceptions.Timeout) as e:
        url = _request_url(e)
        where = url.split("?", 1)[0] if url and _is_iam(url) else endpoint
        kind = "timed out" if isinstance(e, requests.exceptions.Timeout) else "cannot connect"
        raise ProviderUnavailable(f"{kind} ({e.__class__.__name__})", endpoint=where) from e
    except requests.exceptions.RequestException as e:
        raise ProviderUnavailable(f"request failed ({e.__class__.__name__})", endpoint=endpoint) from e


@contextmanager
def remediation_errors() -> Iterator[None]:
    """Re-raise provider errors as Temporary (throttled, 5xx, conflict, unreachable: retry after
    ``delay``) or Permanent (refused, invalid, not found: report, do not retry)."""
    try:
        yield
    except (ProviderThrottled, ProviderUnavailable, ProviderConflict) as e:
        raise TemporaryRemediationError(str(e), delay=e.retry_after or DEFAULT_RETRY_DELAY) from e
    except ProviderError as e:
        raise PermanentRemediationError(str(e)) from e
