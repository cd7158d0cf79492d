"""Slack through an incoming webhook (``slack-sdk``'s ``WebhookClient``), as Block Kit.

One message per run: a header with the counts, a line of totals, one section per finding (severity,
what happened, resource, message, impact, notes), and a context line with the run id and time. Slack
refuses a message of more than 50 blocks, a header over 150 characters or a section text over 3,000,
so a long list keeps the most urgent findings in full and summarises the rest in one section.

``mentions`` (severity -> ``<!here>``, ``<@U024BE7LH>``, ``<!subteam^S012AB3CD>``) puts the mentions of
the severities of the message's open alerts (new, changed, reminders; not resolutions) at its start, so
a critical finding pages whom it should and a low one pages nobody.

The webhook URL is the secret: it is read from the variable ``notify.slack.webhook_url_env`` names,
registered with ``delivery.protect``, and the SDK gets a logger of its own that never logs at DEBUG
(where it prints the URL).
"""

from __future__ import annotations

import http.client
import logging
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
)
from netwarden.adapters.notifiers import register
from netwarden.core.errors import NotifyError
from netwarden.core.findings import SEVERITY_RANK
from netwarden.core.lifecycle import Alert

MAX_BLOCKS = 50
MAX_TEXT = 3000
MAX_HEADER = 150
EMOJI = {"critical": ":red_circle:", "high": ":large_orange_circle:", "medium": ":large_yellow_circle:",
         "low": ":large_blue_circle:", "info": ":white_circle:"}

_sdk_log = logging.getLogger("netwarden.adapters.slack.sdk")
_sdk_log.setLevel(logging.INFO)


@register("slack")
def build(block: Mapping[str, Any], env: NotifierEnv) -> SlackNotifier:
    check_block("slack", block, env, required=(), optional=("webhook_url_env", "mentions"))
    url = secret_from("slack", block, env, "webhook_url_env", default_env="SLACK_WEBHOOK_URL")
    assert url is not None
    return SlackNotifier(url, retry=env.retry, timeout=env.timeout, mentions=block.get("mentions") or {})


class SlackNotifier:
    name = "slack"

    def __init__(self, url: str, *, retry: RetryPolicy | None = None, timeout: float = 10.0,
                 mentions: Mapping[str, str] | None = None) -> None:
        self._url = url
        self._mentions = dict(mentions or {})
        self._retry = retry or RetryPolicy()
        self._timeout = timeout

    def __repr__(self) -> str:
        return "SlackNotifier(webhook=***)"

    def send(self, alerts: Sequence[Any], context: dict[str, Any]) -> None:
        body = payload(t.ordered(alerts), context, self._mentions)
        deliver("slack", lambda: self._post(body), self._retry)

    def _post(self, body: dict[str, Any]) -> None:
        from slack_sdk.webhook import WebhookClient

        client = WebhookClient(self._url, timeout=int(max(1, self._timeout)), logger=_sdk_log, retry_handlers=[])
        try:
            response = client.send(text=body["text"], blocks=body["blocks"])
        except (OSError, http.client.HTTPException) as e:  # URLError, timeouts, refused or dropped connections
            # not "from e": the cause's text holds the webhook URL
            raise Transient(f"webhook unreachable ({e.__class__.__name__})") from None
        status = response.status_code
        if status == 429 or status >= 500:
            wait = retry_after((response.headers or {}).get("Retry-After"))
            raise Transient(f"webhook answered HTTP {status}", retry_after=wait)
        if status != 200:
            raise NotifyError(f"slack: webhook refused the message: HTTP {status} {str(response.body)[:80]}")


def payload(alerts: Sequence[Alert], context: Mapping[str, Any],
            mentions: Mapping[str, str] | None = None) -> dict[str, Any]:
    """The webhook body: ``text`` (the notification fallback) and ``blocks``, within Slack's limits."""
    header = {"type": "header", "text": {"type": "plain_text", "text": t.clip(t.title(alerts, context), MAX_HEADER),
                                         "emoji": True}}
    ping = mention_line(alerts, mentions or {})
    totals = f"{ping}\n*Open now:* " if ping else "*Open now:* "
    totals += t.severity_counts(context.get('open') or {})
    if context.get("unreadable"):
        totals += f"\n*Could not read:* {_esc(', '.join(context['unreadable']))}"
    source = f" ({_esc(str(context['source']))})" if context.get("source") else ""
    run = f"netwarden run `{_esc(str(context.get('run_id', '?')))}`{source} at {_esc(str(context.get('time', '?')))}"
    ctx = {"type": "context", "elements": [{"type": "mrkdwn", "text": t.clip(run, MAX_TEXT)}]}
    room = MAX_BLOCKS - 3
    if len(alerts) <= room:
        sections = [_section(_finding_text(a)) for a in alerts]
    else:
        sections = [_section(_finding_text(a)) for a in alerts[: room - 1]]
        sections.append(_section(_overflow_text(alerts[room - 1:])))
    text = f"{ping} {t.title(alerts, context)}" if ping else t.title(alerts, context)
    return {"text": text, "blocks": [header, _section(totals), *sections, ctx]}


def mention_line(alerts: Sequence[Alert], mentions: Mapping[str, str]) -> str:
    """The mentions of the severities the open alerts have, most severe first, each once."""
    present = {a.finding.severity for a in alerts if a.kind != "resolved"}
    said = [m for sev, m in sorted(mentions.items(), key=lambda kv: SEVERITY_RANK.get(kv[0], 99)) if sev in present]
    return " ".join(dict.fromkeys(said))


def _finding_text(a: Alert) -> str:
    f = a.finding
    icon = ":white_check_mark:" if a.kind == "resolved" else EMOJI.get(f.severity, "")
    lines = [f"{icon} *{f.severity.upper()}* \u00b7 *{t.KIND_LABEL[a.kind]}* \u00b7 `{_esc(f.code)}`",
             f"*{_esc(f.resource.path)}*", _esc(f.message)]
    if (impact := t.impact_text(a)) and a.kind != "resolved":
        lines.append(f"_Impact:_ {_esc(impact)}")
    lines.extend(f"_{_esc(line)}_" for line in t.detail_lines(a))
    return t.clip("\n".join(lines), MAX_TEXT)


def _overflow_text(rest: Sequence[Alert]) -> str:
    head = f"*\u2026and {len(rest)} more:*"
    lines: list[str] = []
    used = len(head) + 40
    for i, a in enumerate(rest):
        line = f"\u2022 {a.finding.severity.upper()} {t.KIND_PLURAL[a.kind]} `{_esc(a.finding.code)}` " \
               f"{_esc(a.finding.resource.path)}"
        if used + len(line) + 1 > MAX_TEXT:
            lines.append(f"\u2026 and {len(rest) - i} not listed; the run report has them all")
            break
        lines.append(line)
        used += len(line) + 1
    return t.clip("\n".join([head, *lines]), MAX_TEXT)


def _section(text: str) -> dict[str, Any]:
    return {"type": "section", "text": {"type": "mrkdwn", "text": t.clip(text, MAX_TEXT)}}


def _esc(text: str) -> str:
    """Slack mrkdwn escaping: only &, < and > are special."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
