"""IBM Cloud Event Notifications through ``ibm-eventnotifications`` (``send_notifications``).

Event Notifications fans one notification out to whatever destinations its topic's subscriptions
name (email, Slack, PagerDuty, a Code Engine job...), so netwarden sends it one CloudEvent per run: the
required fields (``specversion`` 1.0, a unique ``id``, ``source``, ``type``, ``ibmensourceid``,
``ibmendefaultshort``, ``ibmendefaultlong``), ``time``, ``ibmenseverity`` (HIGH for critical and high,
MEDIUM, LOW), a subject, and the alerts as JSON ``data`` for destinations that take a payload
(webhooks, Code Engine). Topic rules can filter on ``type`` and ``ibmenseverity``.

Config (``notify.event_notifications``): ``instance_id``, ``url`` (the instance's API endpoint, for example
``https://us-south.event-notifications.cloud.ibm.com/event-notifications``), ``source_id`` (the API source
created in the instance), ``api_key_env`` (default: the IBM Cloud API key's variable), ``iam_url``
(default: ``ibmcloud.iam_url``), ``source`` (default ``netwarden``).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from netwarden.adapters import alert_text as t
from netwarden.adapters.delivery import (
    NotifierEnv,
    RetryPolicy,
    Transient,
    check_block,
    deliver,
    redact,
    secret_from,
    text,
)
from netwarden.adapters.notifiers import register
from netwarden.core.errors import NotifyError
from netwarden.core.lifecycle import Alert

TYPE = "com.netwarden.network-drift:alert"
EN_SEVERITY = {"critical": "HIGH", "high": "HIGH", "medium": "MEDIUM", "low": "LOW", "info": "LOW"}
MAX_DATA_ALERTS = 100
MAX_SHORT = 250
MAX_LONG = 20000


@register("event_notifications")
def build(block: Mapping[str, Any], env: NotifierEnv) -> EventNotificationsNotifier:
    name = "event_notifications"
    check_block(name, block, env, required=("instance_id", "url", "source_id"),
                optional=("api_key_env", "iam_url", "source"))
    api_key = secret_from(name, block, env, "api_key_env", default_env=env.api_key_env)
    instance, url, source_id = (text(name, block, env, k) for k in ("instance_id", "url", "source_id"))
    assert api_key is not None and instance is not None and url is not None and source_id is not None
    return EventNotificationsNotifier(
        instance, url, source_id, api_key=api_key, iam_url=text(name, block, env, "iam_url", env.iam_url) or "",
        source=text(name, block, env, "source", "netwarden") or "netwarden", retry=env.retry, timeout=env.timeout)


class EventNotificationsNotifier:
    name = "event_notifications"

    def __init__(self, instance_id: str, url: str, source_id: str, *, api_key: str, iam_url: str,
                 source: str = "netwarden", retry: RetryPolicy | None = None, timeout: float = 10.0) -> None:
        self.instance_id, self.url, self.source_id, self.source = instance_id, url.rstrip("/"), source_id, source
        self._api_key, self.iam_url = api_key, iam_url.rstrip("/")
        self._retry = retry or RetryPolicy()
        self._timeout = timeout
        self._service: Any = None

    def __repr__(self) -> str:
        return f"EventNotificationsNotifier({self.url}, instance={self.instance_id})"

    def send(self, alerts: Sequence[Any], context: dict[str, Any]) -> None:
        body = notification(t.ordered(alerts), context, source=self.source, source_id=self.source_id)
        deliver("event_notifications", lambda: self._send(body), self._retry)

    def _client(self) -> Any:
        if self._service is None:
            from ibm_cloud_sdk_core.authenticators import IAMAuthenticator
            from ibm_eventnotifications.event_notifications_v1 import EventNotificationsV1

            service = EventNotificationsV1(authenticator=IAMAuthenticator(self._api_key, url=self.iam_url))
            service.set_service_url(self.url)
            service.set_http_config({"timeout": self._timeout})
            self._service = service
        return self._service

    def _send(self, body: dict[str, Any]) -> None:
        import requests
        from ibm_cloud_sdk_core import ApiException

        endpoint = f"{self.url}/v1/instances/{self.instance_id}/notifications"
        try:
            self._client().send_notifications(self.instance_id, body=body)
        except ApiException as e:
            status = int(e.status_code or 0)
            if status == 409:  # this id was accepted before (a retry after a lost answer): delivered
                return
            reason = f"{endpoint}: {redact(str(e.message))[:160]} (HTTP {status})"
            if status in (429, 0) or status >= 500:
                raise Transient(reason) from e
            raise NotifyError(f"event_notifications: {reason}") from e
        except requests.RequestException as e:
            raise Transient(f"{endpoint} unreachable ({e.__class__.__name__})") from e


def notification(alerts: Sequence[Alert], context: Mapping[str, Any], *, source: str, source_id: str) -> dict[str, Any]:
    """The CloudEvent for one run's alerts (``id`` is the run id: a retry inside the run is the same event)."""
    title = t.title(alerts, context)
    data: dict[str, Any] = {
        "schema_version": 1, "run_id": context.get("run_id"), "status": context.get("status"),
        "open": dict(context.get("open") or {}), "unreadable": list(context.get("unreadable") or []),
        "alerts": [t.to_dict(a) for a in alerts[:MAX_DATA_ALERTS]],
    }
    if len(alerts) > MAX_DATA_ALERTS:
        data["omitted"] = len(alerts) - MAX_DATA_ALERTS
    body: dict[str, Any] = {
        "specversion": "1.0",
        "id": f"netwarden-{context.get('run_id', 'run')}",
        "source": source,
        "type": TYPE,
        "ibmensourceid": source_id,
        "ibmenseverity": EN_SEVERITY.get(t.highest(alerts), "LOW"),
        "ibmendefaultshort": t.clip(title, MAX_SHORT),
        "ibmendefaultlong": t.clip(t.plain(alerts, context), MAX_LONG),
        "ibmensubject": t.clip(title, MAX_SHORT),
        "datacontenttype": "application/json",
        "data": data,
    }
    if context.get("time"):
        body["time"] = str(context["time"])
    return body
