"""The on-demand remediation function: Code Engine's Python function shape, ``main(params) -> dict``.

Code Engine hands the HTTP request over as ``params`` (``__ce_method``, ``__ce_headers`` with
canonical header names, ``__ce_body`` Base64-encoded for JSON, ``__ce_query``, and the JSON body's
top-level keys merged in) and turns the returned ``{"statusCode", "headers", "body"}`` into the
response (codeengine docs, fun-exchanging-data-with-functions.md).

    POST {"action": "plan"}                          -> 200, the plan as JSON, stored for approval: its
                                                        plan_id (nothing is changed)
    POST {"action": "apply", "plan_id": ID}          -> 200, that stored plan applied as it was made (once,
                                                        and only while the live state is what it was made from)
    POST {"action": "remediate", "only": [CODE...]}  -> 200, the plan applied, re-read and verified

Every request needs ``Authorization: Bearer <token>``, the token being ``$NETWARDEN_FUNCTION_TOKEN``
(a Code Engine secret), compared in constant time. A cron subscription cannot send that header; it
sends CloudEvent attributes as ``Ce-*`` headers instead, so the cron invocation shape (``Ce-Type:
dev.knative.sources.ping``, the subscription's ``--data`` as the body) carries the token as the
CloudEvent extension ``authorization`` (header ``Ce-Authorization``). Answers: 401 without or with a
wrong token, 405 to anything but POST, 400 to a body that is not the JSON above (nested too deep, NaN,
a repeated key: ``payload.loads``), 413 to a body over 64 KiB, 409 while another run holds the
remediation lock, 422 when a safeguard refuses the plan, 502/503 when an API fails. No response ever carries a
secret or a traceback: errors are one line, with the values of the secrets it knows redacted.

Approval by a second caller: with ``$NETWARDEN_APPROVER_TOKEN`` set (another secret), the function token
may only plan, and only the approver token may apply (and only by an ``apply`` request: ``remediate``,
which plans and applies in one, is refused): 403 otherwise. An ``apply`` of an id no plan has is a 404,
of a plan applied already a 409 (``app.approval``).
"""

from __future__ import annotations

import base64
import binascii
import hmac
import json
import logging
import os
import re
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from typing import Any

from netwarden.core.errors import (
    EventFormatError,
    LockHeld,
    NetwardenError,
    PlanConsumed,
    PlanFormatError,
    PlanNotFound,
    PlanRefused,
    ProviderError,
    ProviderThrottled,
    ProviderUnavailable,
)
from netwarden.core.findings import CODES
from netwarden.entrypoints import payload

log = logging.getLogger(__name__)

TOKEN_ENV = "NETWARDEN_FUNCTION_TOKEN"
APPROVER_ENV = "NETWARDEN_APPROVER_TOKEN"
MAX_BODY_BYTES = payload.MAX_BYTES
ACTIONS = ("plan", "remediate", "apply")
CRON_TYPE = "dev.knative.sources.ping"
_ALLOWED_KEYS = {"action", "only", "source", "plan_id"}
#: The shape of a plan id (``core.plan.document.ID``, which this translator does not import).
_PLAN_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]{7,63}")
#: A remediation outcome that is no success, as an HTTP status: a safeguard refused the plan (too large,
#: an incomplete snapshot, the state changed under the lock), or a write failed at the API.
RESULT_STATUS = {"refused": 422, "incomplete": 422, "failed": 502}
#: Environment variables whose values never appear in a response, whatever an error message says: the
#: token, and anything named like a credential (the config names its own: api_key_env, webhook_url_env...).
SECRET_ENV = re.compile(r"(API_?KEY|TOKEN|PASSWORD|SECRET|SECRET_ACCESS_KEY|WEBHOOK_URL|_URL_SECRET)$", re.IGNORECASE)


@dataclass(frozen=True, slots=True)
class Request:
    """What the function was asked: the action, the finding codes to limit it to, and by whom."""

    action: str
    only: tuple[str, ...] | None
    cron: bool
    request_id: str
    #: The stored plan an ``apply`` request names.
    plan_id: str | None = None
    #: Whether the request carried the approver token (``$NETWARDEN_APPROVER_TOKEN``).
    approver: bool = False


class HttpError(Exception):
    """An answer other than 200, with a message that is safe to show the caller."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


#: Runs one request and returns the JSON body of the answer; replaceable for tests of the HTTP layer.
Runner = Callable[[Request], dict[str, Any]]


def main(params: dict[str, Any]) -> dict[str, Any]:
    """Code Engine's entry point. Never raises: every outcome is an HTTP answer. Logs go to stderr as
    JSON lines, which Code Engine keeps with the function's logs."""
    from netwarden.entrypoints import logs

    logs.configure()
    return handle(params, os.environ, run)


def handle(params: Mapping[str, Any], environ: Mapping[str, str], runner: Runner) -> dict[str, Any]:
    request_id = str(uuid.uuid4())
    secrets = [v for k, v in environ.items() if SECRET_ENV.search(k) and len(v) >= 4]
    try:
        request = parse_request(params, environ, request_id)
        log.info("function request", extra={"request_id": request_id, "action": request.action,
                                            "only": request.only, "cron": request.cron})
        body = redact_data(runner(request), secrets)
        status = RESULT_STATUS.get(str(body.get("status")), 200)
        if status != 200:
            # A safeguard refused the plan or a write failed: the answer says so, and still carries
            # the plan and what was applied.
            log.warning("function answered %d: %s", status, body.get("status"), extra={"request_id": request_id})
            return respond(status, {"request_id": request_id, **body,
                                    "error": str(body.get("reason") or body.get("status"))})
        return respond(200, {"request_id": request_id, **body})
    except HttpError as e:
        log.warning("function refused request", extra={"request_id": request_id, "status": e.status})
        return respond(e.status, {"error": redact(e.message, secrets), "request_id": request_id})
    except NetwardenError as e:
        status = status_for(e)
        log.error("function failed: %s", redact(str(e), secrets), extra={"request_id": request_id})
        return respond(status, {"error": redact(str(e), secrets), "request_id": request_id})
    except Exception as e:
        # The function's one last guard: log it (Code Engine keeps the logs), answer without details.
        log.exception("function crashed", extra={"request_id": request_id, "error": type(e).__name__})
        return respond(500, {"error": "internal error; see the function's logs", "request_id": request_id})


def parse_request(params: Mapping[str, Any], environ: Mapping[str, str], request_id: str) -> Request:
    headers = {str(k).lower(): str(v) for k, v in (params.get("__ce_headers") or {}).items()}
    cron = headers.get("ce-type") == CRON_TYPE
    approver_token = environ.get(APPROVER_ENV, "")
    approver = authenticate(headers, environ.get(TOKEN_ENV, ""), cron=cron, approver=approver_token)
    method = str(params.get("__ce_method") or "POST").upper()
    if method != "POST":
        raise HttpError(405, f"{method} is not allowed: POST a JSON body {{\"action\": \"plan\" | \"remediate\"}}")
    data = decode_body(params, headers)
    request = validate(data, cron=cron, request_id=request_id)
    authorize(request.action, approver=approver, approval_required=bool(approver_token))
    return replace(request, approver=approver)


def authenticate(headers: Mapping[str, str], expected: str, *, cron: bool, approver: str = "") -> bool:
    """Raise 401 unless the bearer token is the function's (False) or the approver's (True); 500 when the
    function has no token configured, or an approver token that is the function's."""
    if not expected:
        raise HttpError(500, f"the function has no token configured (${TOKEN_ENV})")
    if approver and hmac.compare_digest(approver.encode("utf-8"), expected.encode("utf-8")):
        raise HttpError(500, f"${APPROVER_ENV} is ${TOKEN_ENV}: an approver needs a token of their own")
    value = headers.get("authorization") or (headers.get("ce-authorization") if cron else None) or ""
    scheme, _, token = value.strip().partition(" ")
    given = (token.strip() if scheme.lower() == "bearer" else "").encode("utf-8")
    is_function = hmac.compare_digest(given, expected.encode("utf-8"))
    is_approver = bool(approver) and hmac.compare_digest(given, approver.encode("utf-8"))
    if not given or not (is_function or is_approver):
        raise HttpError(401, "missing or wrong bearer token")
    return is_approver


def authorize(action: str, *, approver: bool, approval_required: bool) -> None:
    """With an approver token configured, the function token plans and only the approver token applies."""
    if not approval_required:
        return
    if action == "apply" and not approver:
        raise HttpError(403, f"applying a plan needs the approver token (${APPROVER_ENV}), not the function's")
    if action == "plan" and approver:
        raise HttpError(403, "the approver token applies plans; plans are made with the function token")
    if action == "remediate":
        raise HttpError(403, "plans are applied only once approved: plan, then apply the plan_id with the approver "
                             f"token (${APPROVER_ENV} is set)")


def decode_body(params: Mapping[str, Any], headers: Mapping[str, str]) -> Any:
    """The request's JSON: ``__ce_body`` (Base64 for JSON content, plain text otherwise), or the
    top-level keys Code Engine merged in when there is no body parameter."""
    raw = params.get("__ce_body")
    if raw is None:
        merged = {k: v for k, v in params.items() if not str(k).startswith("__ce_")}
        if payload.too_deep(merged):
            raise HttpError(400, f"the request body nests deeper than {payload.MAX_DEPTH} levels")
        if len(json.dumps(merged)) > MAX_BODY_BYTES:
            raise HttpError(413, f"the request body is larger than {MAX_BODY_BYTES} bytes")
        return merged
    if not isinstance(raw, str):
        raise HttpError(400, "the request body is not JSON")
    if len(raw) > MAX_BODY_BYTES * 4 // 3 + 4:
        raise HttpError(413, f"the request body is larger than {MAX_BODY_BYTES} bytes")
    content_type = headers.get("content-type", "application/json").split(";")[0].strip().lower()
    text = raw
    if content_type in ("application/json", "application/octet-stream", ""):
        try:
            text = base64.b64decode(raw, validate=True).decode("utf-8")
        except (binascii.Error, UnicodeDecodeError, ValueError):
            text = raw  # not Base64: a caller (or a test) that handed the JSON text over as it is
    if len(text.encode("utf-8")) > MAX_BODY_BYTES:
        raise HttpError(413, f"the request body is larger than {MAX_BODY_BYTES} bytes")
    if not text.strip():
        return {}
    try:
        return payload.loads(text, source="the request body")
    except EventFormatError as e:
        detail = f"{e.field}: {e.message}" if e.field else e.message
        shown = detail if detail.startswith("not JSON") else f"refused: {detail}"
        raise HttpError(400, f"the request body is {shown}") from e


def validate(data: Any, *, cron: bool, request_id: str) -> Request:
    if not isinstance(data, dict):
        raise HttpError(400, "the request body must be a JSON object")
    unknown = sorted(set(data) - _ALLOWED_KEYS)
    if unknown:
        raise HttpError(400, f"unknown field {unknown[0]!r} (expected: action, only, plan_id)")
    action = data.get("action")
    if action not in ACTIONS:
        raise HttpError(400, f"action must be one of {', '.join(ACTIONS)}, not {json.dumps(action)}")
    plan_id = data.get("plan_id")
    if action == "apply":
        if not isinstance(plan_id, str) or not _PLAN_ID.fullmatch(plan_id):
            raise HttpError(400, "an apply request needs plan_id: the id a plan request answered")
        if data.get("only") is not None:
            raise HttpError(400, "only is for plan and remediate: an apply request applies the stored plan as it is")
    elif plan_id is not None:
        raise HttpError(400, "plan_id is for an apply request only")
    only = data.get("only")
    if only is not None:
        if not isinstance(only, list) or not all(isinstance(c, str) for c in only):
            raise HttpError(400, "only must be a list of finding codes")
        bad = [c for c in only if c not in CODES]
        if bad:
            raise HttpError(400, f"unknown finding code {bad[0]!r} in only")
    return Request(action=str(action), only=tuple(only) if only else None, cron=cron, request_id=request_id,
                   plan_id=plan_id if action == "apply" else None)


def status_for(error: NetwardenError) -> int:
    if isinstance(error, PlanNotFound):
        return 404
    if isinstance(error, LockHeld | PlanConsumed):
        return 409
    if isinstance(error, PlanRefused | PlanFormatError | EventFormatError):
        return 422
    if isinstance(error, ProviderThrottled | ProviderUnavailable):
        return 503
    if isinstance(error, ProviderError):
        return 502
    return 500


def respond(status: int, body: dict[str, Any]) -> dict[str, Any]:
    return {"statusCode": status, "headers": {"Content-Type": "application/json"}, "body": body}


def redact(text: str, secrets: list[str]) -> str:
    for secret in sorted(secrets, key=len, reverse=True):
        text = text.replace(secret, "***")
    return text


def redact_data(data: dict[str, Any], secrets: list[str]) -> dict[str, Any]:
    """``data`` with every secret in any string of it replaced (an API error a step failed with, say)."""
    def clean(value: Any) -> Any:
        if isinstance(value, str):
            return redact(value, secrets)
        if isinstance(value, dict):
            return {k: clean(v) for k, v in value.items()}
        if isinstance(value, list | tuple):
            return [clean(v) for v in value]
        return value
    return {k: clean(v) for k, v in data.items()}


def run(request: Request) -> dict[str, Any]:
    """Plan (and store the plan), apply a stored plan, or remediate, with the deployment's Settings (config
    file + environment)."""
    from netwarden.config import Settings
    from netwarden.entrypoints import wiring, wiring_plans

    settings = Settings.load()
    if request.action == "plan":
        planned, plan_id = wiring_plans.store(settings, codes=request.only, initiator="function")
        return {**planned.to_dict(), "plan_id": plan_id}
    if request.action == "apply":
        if request.plan_id is None:  # validate() answers 400 first; never fall through to remediate
            raise HttpError(400, "an apply request needs plan_id: the id a plan request answered")
        applied = wiring_plans.approve(settings, request.plan_id, initiator="function",
                                       approved_by="approver token" if request.approver else "function token")
        return {**applied.to_dict(), "plan_id": request.plan_id}
    result = wiring.remediate(settings, codes=request.only, apply=True, initiator="function")
    return dict(result.to_dict())
