"""A generic JSON webhook: one POST per run with every alert as data, for anything else on-call uses.

Config (``notify.webhook``): ``url_env`` (the variable holding the URL; it is a secret, as such URLs
usually carry a token), ``secret_env`` (optional: a shared secret; the body is then signed with
HMAC-SHA256 in ``X-Netwarden-Signature: sha256=<hex>``), ``headers`` (optional static headers).

Body: ``{"schema_version": 1, "source": "netwarden", "run_id", "run", "time", "status", "title", "open",
"unreadable", "alerts": [{"kind", "fingerprint", "code", "severity", "resource", "message", "impact",
"first_seen", ...}]}``. Any 2xx is success; 408, 429 and 5xx are retried.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Mapping, Sequence
from typing import Any

from netwarden.adapters import alert_text as t
from netwarden.adapters.delivery import (
    NotifierEnv,
    RetryPolicy,
    Transient,
    check_block,
    deliver,
    retry_after,
    secret_from,
    where,
)
from netwarden.adapters.notifiers import register
from netwarden.core.errors import ConfigError, NotifyError
from netwarden.core.lifecycle import Alert

USER_AGENT = "netwarden-webhook/1"


@register("webhook")
def build(block: Mapping[str, Any], env: NotifierEnv) -> WebhookNotifier:
    check_block("webhook", block, env, required=(), optional=("url_env", "secret_env", "headers"))
    url = secret_from("webhook", block, env, "url_env", default_env="DRIFT_WEBHOOK_URL")
    assert url is not None
    if not url.startswith(("https://", "http://")):
        raise ConfigError("the URL in this variable is not http(s)", location=where(env, "webhook", "url_env"))
    headers = block.get("headers") or {}
    if not isinstance(headers, dict) or not all(isinstance(k, str) and isinstance(v, str) for k, v in headers.items()):
        raise ConfigError("expected a mapping of header names to strings", location=where(env, "webhook", "headers"))
    return WebhookNotifier(url, secret=secret_from("webhook", block, env, "secret_env", required="secret_env" in block),
                           headers=headers, retry=env.retry, timeout=env.timeout)


class WebhookNotifier:
    name = "webhook"

    def __init__(self, url: str, *, secret: str | None = None, headers: Mapping[str, str] | None = None,
                 retry: RetryPolicy | None = None, timeout: float = 10.0) -> None:
        self._url = url
        self._secret = secret
        self._headers = dict(headers or {})
        self._retry = retry or RetryPolicy()
        self._timeout = timeout

    def __repr__(self) -> str:
        return "WebhookNotifier(url=***)"

    def send(self, alerts: Sequence[Any], context: dict[str, Any]) -> None:
        data = json.dumps(body(t.ordered(alerts), context), sort_keys=True).encode("utf-8")
        headers = {**self._headers, "Content-Type": "application/json", "User-Agent": USER_AGENT,
                   "X-Netwarden-Run": str(context.get("run_id", ""))}
        if self._secret:
            digest = hmac.new(self._secret.encode(), data, hashlib.sha256).hexdigest()
            headers["X-Netwarden-Signature"] = f"sha256={digest}"
        deliver("webhook", lambda: self._post(data, headers), self._retry)

    def _post(self, data: bytes, headers: dict[str, str]) -> None:
        import requests

        try:
            response = requests.post(self._url, data=data, headers=headers, timeout=self._timeout)
        except requests.RequestException as e:
            # not "from e": the cause's text holds the URL, and the URL is a secret
            raise Transient(f"endpoint unreachable ({e.__class__.__name__})") from None
        status = response.status_code
        if 200 <= status < 300:
            return
        if status in (408, 429) or status >= 500:
            wait = retry_after(response.headers.get("Retry-After"))
            raise Transient(f"endpoint answered HTTP {status}", retry_after=wait)
        raise NotifyError(f"webhook: endpoint refused the alert: HTTP {status}")


def body(alerts: Sequence[Alert], context: Mapping[str, Any]) -> dict[str, Any]:
    return {
        "schema_version": 1, "source": "netwarden", "run_id": context.get("run_id"), "run": context.get("source"),
        "time": context.get("time"),
        "status": context.get("status"), "title": t.title(alerts, context), "open": dict(context.get("open") or {}),
        "unreadable": list(context.get("unreadable") or []), "alerts": [t.to_dict(a) for a in alerts],
    }
