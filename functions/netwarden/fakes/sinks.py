"""Recorders for where alerts go: a Slack incoming webhook (``/slack/...``) and IBM Event
Notifications (``/en/...``).

Both record exactly what they were sent, so tests and the demo can read back what Slack or Event
Notifications would have received (``GET /_fake/slack``, ``GET /_fake/en``), and both refuse what the
real services refuse, so a payload that passes here is not merely well-formed JSON:

* Slack answers ``200 ok``; ``400 no_text`` without text or blocks, ``400 invalid_blocks`` for more than
  50 blocks, an unknown block type, a header over 150 characters or a text over 3,000 (2,000 for a
  section field, 10 fields, 10 context elements), ``400 invalid_payload`` for a body that is not JSON.
* Event Notifications serves ``POST /v1/instances/{id}/notifications`` as ``send_notifications`` sends
  it: a bearer token from the emulated IAM is required (401 otherwise), the CloudEvents fields the SDK
  marks required must be there (``specversion`` 1.0, ``id``, ``source``, ``type``, ``ibmensourceid``,
  ``ibmendefaultshort``, ``ibmendefaultlong``), ``data`` needs ``datacontenttype: application/json``,
  the ``ibmen*to`` fields are JSON arrays in strings, and ``source`` + ``id`` must be new (409). It
  answers ``202`` with a ``notification_id``.

To make a sink fail for a while, post a fault to ``/_fake/faults`` with ``path: "^/slack"``.
"""

from __future__ import annotations

import json
import time
import uuid
from typing import Any

from netwarden.fakes.wire import NoRoute, Request, Response, dispatch, routes

BLOCK_TYPES = {"header", "section", "context", "divider", "actions", "image", "rich_text", "input", "file", "video"}
EN_REQUIRED = ("specversion", "id", "source", "type", "ibmensourceid", "ibmendefaultshort", "ibmendefaultlong")
EN_JSON_ARRAYS = ("ibmenmailto", "ibmenslackto", "ibmensmsto", "ibmentemplates", "ibmensmsnumberto")


class SinkState:
    def __init__(self, cloud: Any) -> None:
        self.cloud = cloud
        self.slack: list[dict[str, Any]] = []
        self.en: list[dict[str, Any]] = []

    def reset(self) -> None:
        self.slack.clear()
        self.en.clear()

    def dump(self) -> dict[str, Any]:
        return {"slack_messages": len(self.slack), "en_notifications": len(self.en)}

    def received(self, kind: str) -> dict[str, Any]:
        if kind == "slack":
            return {"messages": list(self.slack)}
        return {"notifications": list(self.en)}


def create(cloud: Any) -> SinkState:
    return SinkState(cloud)


# --- Slack ---------------------------------------------------------------------------------------------


def handle_slack(state: SinkState, request: Request) -> Response:
    if request.method != "POST":
        return Response.text("invalid_request", 405)
    try:
        body = json.loads(request.body.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        return Response.text("invalid_payload", 400)
    if not isinstance(body, dict):
        return Response.text("invalid_payload", 400)
    blocks = body.get("blocks")
    if not body.get("text") and not blocks:
        return Response.text("no_text", 400)
    problem = _block_problem(blocks) if blocks is not None else None
    if problem:
        return Response.text(f"invalid_blocks: {problem}", 400)
    state.slack.append({"path": request.path, "received_at": time.time(), "body": body})
    return Response.text("ok")


def _block_problem(blocks: Any) -> str | None:
    if not isinstance(blocks, list):
        return "blocks must be a list"
    if len(blocks) > 50:
        return f"{len(blocks)} blocks (at most 50)"
    for i, block in enumerate(blocks):
        if not isinstance(block, dict) or block.get("type") not in BLOCK_TYPES:
            return f"blocks[{i}]: unknown block type"
        kind = block["type"]
        if kind == "header" and _text_len(block.get("text"), "plain_text") > 150:
            return f"blocks[{i}].text: header over 150 characters or not plain_text"
        if kind == "section":
            if "text" not in block and "fields" not in block:
                return f"blocks[{i}]: a section needs text or fields"
            if "text" in block and _text_len(block["text"]) > 3000:
                return f"blocks[{i}].text: over 3000 characters"
            fields = block.get("fields", [])
            if len(fields) > 10 or any(_text_len(f) > 2000 for f in fields):
                return f"blocks[{i}].fields: more than 10, or one over 2000 characters"
        if kind == "context":
            elements = block.get("elements", [])
            if not elements or len(elements) > 10 or any(_text_len(e) > 3000 for e in elements):
                return f"blocks[{i}].elements: 1 to 10 elements of at most 3000 characters"
    return None


def _text_len(obj: Any, required_type: str | None = None) -> int:
    """The length of a text object; an impossible length when it is not one (so it fails the check)."""
    if not isinstance(obj, dict) or not isinstance(obj.get("text"), str) or obj.get("type") not in (
            "plain_text", "mrkdwn"):
        return 10**9
    if required_type and obj["type"] != required_type:
        return 10**9
    return len(obj["text"])


# --- Event Notifications ---------------------------------------------------------------------------------


def _en_error(status: int, code: str, message: str) -> Response:
    return Response.json({"status_code": status, "trace": str(uuid.uuid4()),
                          "errors": [{"code": code, "message": message,
                                      "more_info": "https://cloud.ibm.com/apidocs/event-notifications"}]}, status)


def _send(state: SinkState, request: Request) -> Response:
    header = request.header("Authorization") or ""
    scheme, _, token = header.partition(" ")
    iam = state.cloud.state("netwarden.fakes.iam")
    if scheme.lower() != "bearer" or not token or iam.verify(token.strip()) is None:
        return _en_error(401, "unauthorized", "a valid IAM bearer token is required")
    try:
        body = request.json()
    except ValueError:
        return _en_error(400, "bad_request", "the body is not JSON")
    if not isinstance(body, dict):
        return _en_error(400, "bad_request", "the body must be a JSON object")
    missing = [k for k in EN_REQUIRED if not isinstance(body.get(k), str) or not body[k]]
    if missing:
        return _en_error(400, "bad_request", f"missing required fields: {', '.join(missing)}")
    if body["specversion"] != "1.0":
        return _en_error(400, "bad_request", "specversion must be 1.0")
    if "data" in body and body.get("datacontenttype") != "application/json":
        return _en_error(400, "bad_request", "data requires datacontenttype application/json")
    for key in EN_JSON_ARRAYS:
        if key in body and not _json_array(body[key]):
            return _en_error(400, "bad_request", f"{key} must be a JSON array in a string")
    if any(n["body"]["source"] == body["source"] and n["body"]["id"] == body["id"] for n in state.en):
        return _en_error(409, "conflict", "a notification with this source and id was already sent")
    notification_id = str(uuid.uuid4())
    state.en.append({"instance_id": request.params["instance"], "notification_id": notification_id,
                     "received_at": time.time(), "body": body})
    return Response.json({"notification_id": notification_id}, 202)


def _json_array(value: Any) -> bool:
    try:
        return isinstance(value, str) and isinstance(json.loads(value), list)
    except ValueError:
        return False


EN_ROUTES = routes([("POST", r"/v1/instances/(?P<instance>[^/]+)/notifications", _send)])


def handle_en(state: SinkState, request: Request) -> Response:
    try:
        return dispatch(EN_ROUTES, state, request)
    except NoRoute as e:
        if e.allowed:
            return _en_error(405, "method_not_allowed", f"use {', '.join(e.allowed)}")
        raise
