"""Each notifier through its real client against a real server: Slack (slack-sdk) and Event
Notifications (ibm-eventnotifications, with IAM) against the emulators, email against aiosmtpd with
STARTTLS or implicit TLS (and never a password over plain text), the webhook against a recording HTTP
server. And no secret in any log line or error."""

from __future__ import annotations

import hashlib
import hmac
import http.client
import logging
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import requests
from sink_servers import SMTP_PASSWORD, SMTP_USER, WebhookRecorder, smtp_server, webhook_server

from netwarden.adapters import notifiers, slack
from netwarden.adapters.delivery import NotifierEnv, RetryPolicy
from netwarden.adapters.email import EmailNotifier
from netwarden.core import lifecycle
from netwarden.core.errors import ConfigError, NotifyError
from netwarden.core.findings import Impact, ResourceRef, make
from netwarden.core.lifecycle import Alert
from netwarden.core.ports import Notifier
from netwarden.fakes.server import FakeServer

SLACK_PATH = "/slack/services/T0NETW4RD/B0ALERTS/s3cretWebhookT0ken"
WEBHOOK_TOKEN = "hook-t0ken-9f8e7d6c"
CONTEXT = {"run_id": "run-0001", "time": "2026-03-01T10:00:00Z", "status": "drift",
           "open": {"critical": 1, "high": 2}, "unreadable": []}


def alerts(n: int = 3) -> list[Alert]:
    findings = []
    for i in range(n):
        where = ResourceRef("network-acl", region="us-south", vpc="prod-vpc", acl=f"acl-{i % 7}", rule=f"rule-{i}")
        f = make("acl-rule-unexpected", where, f"rule rule-{i} <allow> & more is not in the baseline",
                 live={"destination_port": 22})
        findings.append(f.with_impact(Impact("widened", (f"tcp 22 from 0.0.0.0/0 to 10.240.{i % 250}.0/24",))))
    findings.append(make("subnet-allow-all", ResourceRef("subnet", region="us-south", vpc="prod-vpc", subnet="sn-1"),
                         "sn-1 uses the VPC's default allow-all ACL"))
    step = lifecycle.advance({}, findings, now=datetime(2026, 3, 1, 10, tzinfo=UTC), channels=["x"], remind_after=0)
    return list(step.outbox["x"])


def no_sleep(_: float) -> None:
    """Retries without waiting."""


def env(environ: dict[str, str], fake: FakeServer | None = None) -> NotifierEnv:
    return NotifierEnv(environ=environ, source="netwarden.yaml", iam_url=f"{fake.url}/iam" if fake else "",
                       retry=RetryPolicy(attempts=3, sleep=no_sleep), timeout=5)


def build_one(name: str, block: dict[str, Any], environ: dict[str, str], fake: FakeServer | None = None) -> Notifier:
    (notifier,) = notifiers.build({name: block}, env(environ, fake))
    return notifier


def received(fake: FakeServer, kind: str) -> Any:
    return requests.get(f"{fake.url}/_fake/{kind}", timeout=5).json()


def fault(fake: FakeServer, **spec: Any) -> None:
    requests.post(f"{fake.url}/_fake/faults", json=spec, timeout=5).raise_for_status()


def requests_to(fake: FakeServer, prefix: str) -> list[dict[str, Any]]:
    log = requests.get(f"{fake.url}/_fake/requests", timeout=5).json()["requests"]
    return [r for r in log if r["path"].startswith(prefix)]


def slack_notifier(fake: FakeServer) -> Notifier:
    return build_one("slack", {"webhook_url_env": "SLACK_WEBHOOK_URL"}, {"SLACK_WEBHOOK_URL": fake.url + SLACK_PATH})


# --- Slack ---------------------------------------------------------------------------------------------

def test_slack_message_through_the_sdk(fake: FakeServer) -> None:
    slack_notifier(fake).send(alerts(2), CONTEXT)
    (message,) = received(fake, "slack")["messages"]
    assert message["path"] == SLACK_PATH.removeprefix("/slack")
    blocks = message["body"]["blocks"]
    assert [b["type"] for b in blocks] == ["header", "section", "section", "section", "section", "context"]
    assert blocks[0]["text"]["text"] == "netwarden: 3 new (3 critical)"
    subnet = blocks[4]["text"]["text"]
    assert "*CRITICAL*" in subnet and "`subnet-allow-all`" in subnet and "us-south/prod-vpc/sn-1" in subnet
    assert "&lt;allow&gt; &amp; more" in blocks[2]["text"]["text"]
    assert "_Impact:_ exposure widened - tcp 22 from 0.0.0.0/0" in blocks[2]["text"]["text"]
    assert "run-0001" in blocks[-1]["elements"][0]["text"]
    assert message["body"]["text"] == "netwarden: 3 new (3 critical)"


def test_slack_500_findings_stay_within_block_kit_limits(fake: FakeServer) -> None:
    many = alerts(500)
    body = slack.payload(many, CONTEXT)
    blocks = body["blocks"]
    assert len(blocks) == 50
    assert len(blocks[0]["text"]["text"]) <= 150
    texts = [b["text"]["text"] for b in blocks if b["type"] == "section"]
    assert all(len(x) <= 3000 for x in texts)
    assert texts[-1].startswith("*\u2026and 455 more:*")
    assert "not listed; the run report has them all" in texts[-1]
    slack_notifier(fake).send(many, CONTEXT)  # and the emulator, which enforces the limits, takes it
    assert len(received(fake, "slack")["messages"]) == 1


@pytest.mark.parametrize("n", [0, 1, 46, 47, 48])
def test_slack_block_count_at_the_edges(n: int) -> None:
    blocks = slack.payload(alerts(n)[:n], CONTEXT)["blocks"]
    assert len(blocks) <= 50
    assert len(blocks) == min(n, 47) + 3


def test_slack_long_texts_are_clipped() -> None:
    a = alerts(1)[0]
    long = Alert(a.kind, make(a.finding.code, a.finding.resource, "x" * 5000), a.first_seen)
    blocks = slack.payload([long], {**CONTEXT, "run_id": "r" * 400})["blocks"]
    assert all(len(b["text"]["text"]) <= 3000 for b in blocks if b["type"] == "section")


def test_slack_transient_failure_is_retried(fake: FakeServer) -> None:
    fault(fake, path="^/slack", status=503, count=2)
    slack_notifier(fake).send(alerts(1), CONTEXT)
    assert len(received(fake, "slack")["messages"]) == 1
    assert [r["status"] for r in requests_to(fake, "/slack")] == [503, 503, 200]


@pytest.mark.parametrize(("spec", "calls", "message"), [
    ({"status": 503}, 3, "slack: webhook answered HTTP 503 (gave up after 3 attempts)"),
    ({"status": 429, "retry_after": 0}, 3, "slack: webhook answered HTTP 429 (gave up after 3 attempts)"),
    ({"drop": True}, 3, "slack: webhook unreachable"),
    ({"status": 404}, 1, "slack: webhook refused the message: HTTP 404"),
])
def test_slack_failures(fake: FakeServer, spec: dict[str, Any], calls: int, message: str) -> None:
    fault(fake, path="^/slack", **spec)
    with pytest.raises(NotifyError) as e:
        slack_notifier(fake).send(alerts(1), CONTEXT)
    assert str(e.value).startswith(message)
    assert "s3cretWebhookT0ken" not in str(e.value)
    assert len(requests_to(fake, "/slack")) == calls


def _sec(text: str) -> dict[str, Any]:
    return {"type": "section", "text": {"type": "mrkdwn", "text": text}}


@pytest.mark.parametrize(("body", "status", "answer"), [
    ({"text": "hi"}, 200, "ok"),
    ({"blocks": [_sec("x")] * 50}, 200, "ok"),
    ({"blocks": [_sec("x")] * 51}, 400, "invalid_blocks: 51 blocks (at most 50)"),
    ({"blocks": [{"type": "header", "text": {"type": "plain_text", "text": "h" * 151}}]}, 400, "invalid_blocks"),
    ({"blocks": [{"type": "header", "text": {"type": "mrkdwn", "text": "h"}}]}, 400, "invalid_blocks"),
    ({"blocks": [_sec("x" * 3001)]}, 400, "invalid_blocks: blocks[0].text: over 3000 characters"),
    ({"blocks": [{"type": "context", "elements": [{"type": "mrkdwn", "text": "c"}] * 11}]}, 400, "invalid_blocks"),
    ({"blocks": [{"type": "sectionx"}]}, 400, "invalid_blocks: blocks[0]: unknown block type"),
    ({}, 400, "no_text"),
    ("not json", 400, "invalid_payload"),
])
def test_slack_emulator_enforces_block_kit_limits(fake: FakeServer, body: Any, status: int, answer: str) -> None:
    data = body.encode() if isinstance(body, str) else None
    r = requests.post(fake.url + SLACK_PATH, json=None if data else body, data=data, timeout=5)
    assert (r.status_code, r.text.startswith(answer)) == (status, True), r.text
    assert len(received(fake, "slack")["messages"]) == (1 if status == 200 else 0)


def test_sinks_reset_and_dump(fake: FakeServer) -> None:
    slack_notifier(fake).send(alerts(1), CONTEXT)
    assert requests.get(f"{fake.url}/_fake/state", timeout=5).json()["netwarden.fakes.sinks"] == {
        "slack_messages": 1, "en_notifications": 0}
    requests.post(f"{fake.url}/_fake/reset", timeout=5)
    assert received(fake, "slack") == {"messages": []}


def test_slack_needs_its_variable() -> None:
    with pytest.raises(ConfigError, match=r"netwarden.yaml: notify.slack.webhook_url_env: environment variable "
                                          r"SLACK_WEBHOOK_URL is not set"):
        build_one("slack", {}, {})


@pytest.mark.parametrize(("channels", "message"), [
    ({"pagerduty": {}}, r"notify.pagerduty: no such channel"),
    ({"slack": {"webhook": "x"}}, r"notify.slack.webhook: unknown key"),
    ({"email": {"smtp_host": "h", "sender": "a@b"}}, r"notify.email.to: required"),
    ({"email": {"smtp_host": "h", "sender": "a@b", "to": ["nobody"]}}, r"notify.email.to: expected a list of email"),
    ({"email": {"smtp_host": "h", "sender": "a@b", "to": "x@y", "smtp_port": "x"}}, r"notify.email.smtp_port"),
    ({"email": {"smtp_host": "h", "sender": "a@b", "to": "x@y", "smtp_port": "\u0664\u0666\u0665"}},
     r"notify.email.smtp_port: expected a port number"),
    ({"email": {"smtp_host": "h", "sender": "a@b", "to": "x@y", "smtp_port": 65536}}, r"notify.email.smtp_port"),
    ({"email": {"smtp_host": "h", "sender": "a@b", "to": "x@y", "smtp_port": True}}, r"notify.email.smtp_port"),
    ({"email": {"smtp_host": "h", "sender": "a@b", "to": "x@y", "tls": "ssl"}},
     r"notify.email.tls: expected one of starttls, implicit, none"),
    ({"email": {"smtp_host": "h", "sender": "a@b", "to": "x@y", "tls": "none", "password_env": "P"}},
     r"netwarden.yaml: notify.email.password_env: a password is only sent over TLS"),
    ({"email": {"smtp_host": "h", "sender": "a@b", "to": "x@y", "starttls": False, "password_env": "P"}},
     r"netwarden.yaml: notify.email.password_env: a password is only sent over TLS"),
    ({"email": {"smtp_host": "h", "sender": "a@b", "to": "x@y", "starttls": "yes"}},
     r"notify.email.starttls: expected true or false"),
    ({"email": {"smtp_host": "h", "sender": "a@b", "to": "x@y", "tls": "implicit", "starttls": True}},
     r"notify.email.starttls: give tls"),
    ({"event_notifications": {"instance_id": "i", "url": "u"}}, r"notify.event_notifications.source_id: required"),
    ({"webhook": {"url_env": "HOOK"}}, r"notify.webhook.url_env: environment variable HOOK is not set"),
])
def test_config_errors_name_the_key(channels: dict[str, Any], message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        notifiers.build(channels, env({}))


# --- email ---------------------------------------------------------------------------------------------

@pytest.fixture
def smtp(tmp_path: Path) -> Iterator[Any]:
    with smtp_server(tmp_path) as server:
        yield server


def email_block(smtp: Any, **extra: Any) -> dict[str, Any]:
    return {"smtp_host": "127.0.0.1", "smtp_port": smtp.port, "sender": SMTP_USER,
            "to": ["oncall@example.com", "net@example.com"], "password_env": "SMTP_PASSWORD",
            "ca_file": str(smtp.ca_file), **extra}


@pytest.mark.parametrize("tls", [{}, {"tls": "starttls"}, {"starttls": True}], ids=["default", "tls", "older-key"])
def test_email_over_starttls_has_text_and_html_parts(smtp: Any, tls: dict[str, Any]) -> None:
    build_one("email", email_block(smtp, **tls), {"SMTP_PASSWORD": SMTP_PASSWORD}).send(alerts(2), CONTEXT)
    (message,) = smtp.messages
    assert smtp.logins == [SMTP_USER]
    assert smtp.envelopes == [(SMTP_USER, ["oncall@example.com", "net@example.com"])]
    assert message["Subject"] == "[netwarden] 3 new (3 critical)"
    assert message["X-Netwarden-Run"] == "run-0001"
    text = message.get_body(("plain",)).get_content()
    page = message.get_body(("html",)).get_content()
    assert "- CRITICAL new subnet-allow-all at us-south/prod-vpc/sn-1" in text
    assert "impact: exposure widened - tcp 22 from 0.0.0.0/0" in text
    assert "Open now: 1 critical, 2 high. Run run-0001" in text
    assert "<code>us-south/prod-vpc/acl-0/rule-0</code>" in page
    assert "&lt;allow&gt; &amp; more" in page


@pytest.mark.parametrize(("block", "environ", "message"), [
    ({}, {"SMTP_PASSWORD": "wrong-password"}, r"refused the login of alerts@example.com \(SMTP 535\)"),
    ({"ca_file": None}, {"SMTP_PASSWORD": SMTP_PASSWORD}, "TLS with 127.0.0.1:"),
])
def test_email_refusals_are_not_retried(smtp: Any, block: dict[str, Any], environ: dict[str, str],
                                        message: str) -> None:
    b = {k: v for k, v in {**email_block(smtp), **block}.items() if v is not None}
    with pytest.raises(NotifyError, match=message):
        build_one("email", b, environ).send(alerts(1), CONTEXT)
    assert smtp.messages == []


def test_email_refuses_a_server_without_starttls(tmp_path: Path) -> None:
    with smtp_server(tmp_path, tls="none") as plain:
        with pytest.raises(NotifyError, match="does not offer STARTTLS; refusing to send in clear"):
            build_one("email", email_block(plain), {"SMTP_PASSWORD": SMTP_PASSWORD}).send(alerts(1), CONTEXT)
        assert plain.messages == [] and plain.logins == []


def test_email_over_implicit_tls_verifies_a_self_signed_certificate(tmp_path: Path) -> None:
    with smtp_server(tmp_path, tls="implicit", self_signed=True) as server:
        notifier = build_one("email", email_block(server, tls="implicit"), {"SMTP_PASSWORD": SMTP_PASSWORD})
        notifier.send(alerts(1), CONTEXT)
        assert server.logins == [SMTP_USER]
        assert [m["Subject"] for m in server.messages] == ["[netwarden] 2 new (2 critical)"]


def test_email_over_implicit_tls_refuses_a_certificate_it_does_not_trust(tmp_path: Path) -> None:
    with smtp_server(tmp_path, tls="implicit", self_signed=True) as server:
        block = {k: v for k, v in email_block(server, tls="implicit").items() if k != "ca_file"}
        with pytest.raises(NotifyError, match=r"email: TLS with 127.0.0.1:\d+ failed: CERTIFICATE_VERIFY_FAILED"):
            build_one("email", block, {"SMTP_PASSWORD": SMTP_PASSWORD}).send(alerts(1), CONTEXT)
        assert server.messages == [] and server.logins == []


def test_implicit_tls_defaults_to_port_465() -> None:
    block = {"smtp_host": "smtp.example.com", "sender": SMTP_USER, "to": ["a@example.com"], "tls": "implicit"}
    assert build_one("email", block, {}).port == 465  # type: ignore[attr-defined]


def test_email_without_tls_goes_to_a_relay_without_a_login(tmp_path: Path) -> None:
    with smtp_server(tmp_path, tls="none") as relay:
        block = {k: v for k, v in email_block(relay, tls="none").items() if k not in ("password_env", "ca_file")}
        build_one("email", block, {}).send(alerts(1), CONTEXT)
        assert len(relay.messages) == 1 and relay.logins == []


def test_a_password_is_never_sent_over_plain_text(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    """The server offers AUTH over plain text; the notifier, built without its config check, still refuses."""
    with smtp_server(tmp_path, tls="none") as plain:
        notifier = EmailNotifier("127.0.0.1", plain.port, sender=SMTP_USER, to=["a@example.com"], tls="none",
                                 password=SMTP_PASSWORD, retry=RetryPolicy(attempts=1, sleep=no_sleep))
        with pytest.raises(NotifyError, match=r"refusing to send the password to 127.0.0.1:\d+ without TLS") as e:
            notifier.send(alerts(1), CONTEXT)
        assert plain.logins == [] and plain.messages == []
        assert SMTP_PASSWORD not in str(e.value) and SMTP_PASSWORD not in caplog.text


def test_email_unreachable_server_is_retried_then_fails(tmp_path: Path) -> None:
    from sink_servers import free_port

    block = {"smtp_host": "127.0.0.1", "smtp_port": free_port(), "sender": SMTP_USER, "to": ["a@example.com"]}
    with pytest.raises(NotifyError, match=r"unreachable \(ConnectionRefusedError\) \(gave up after 3 attempts\)"):
        build_one("email", block, {}).send(alerts(1), CONTEXT)


# --- Event Notifications ---------------------------------------------------------------------------------

EN_BLOCK = {"instance_id": "en-instance-1", "url": "", "source_id": "src-netwarden", "api_key_env": "EN_APIKEY"}


def en_notifier(fake: FakeServer, key: str = "fake-apikey") -> Notifier:
    return build_one("event_notifications", {**EN_BLOCK, "url": f"{fake.url}/en"}, {"EN_APIKEY": key}, fake)


def test_event_notifications_payload_has_every_required_field(fake: FakeServer) -> None:
    en_notifier(fake).send(alerts(2), CONTEXT)
    (record,) = received(fake, "en")["notifications"]
    body = record["body"]
    assert record["instance_id"] == "en-instance-1"
    for key in ("specversion", "id", "source", "type", "ibmensourceid", "ibmendefaultshort", "ibmendefaultlong"):
        assert body[key], key
    assert (body["specversion"], body["ibmensourceid"], body["ibmenseverity"]) == ("1.0", "src-netwarden", "HIGH")
    assert body["type"] == "com.netwarden.network-drift:alert"
    assert body["datacontenttype"] == "application/json"
    assert body["time"] == "2026-03-01T10:00:00Z"
    assert [a["code"] for a in body["data"]["alerts"]] == ["acl-rule-unexpected", "acl-rule-unexpected",
                                                           "subnet-allow-all"]
    assert body["data"]["alerts"][0]["kind"] == "new"
    assert "CRITICAL new subnet-allow-all" in body["ibmendefaultlong"]


def test_event_notifications_bad_api_key_is_not_retried(fake: FakeServer) -> None:
    with pytest.raises(NotifyError, match="event_notifications: ") as e:
        en_notifier(fake, key="not-the-key-123").send(alerts(1), CONTEXT)
    assert "not-the-key-123" not in str(e.value)
    assert len(requests_to(fake, "/iam")) == 1
    assert requests_to(fake, "/en") == []


def test_event_notifications_5xx_is_retried(fake: FakeServer) -> None:
    fault(fake, path="^/en/", status=500, count=1)
    en_notifier(fake).send(alerts(1), CONTEXT)
    assert len(received(fake, "en")["notifications"]) == 1


@pytest.mark.parametrize(("body", "status"), [
    ({"specversion": "1.0"}, 400),
    ({"specversion": "0.3", "id": "a", "source": "s", "type": "t", "ibmensourceid": "x", "ibmendefaultshort": "s",
      "ibmendefaultlong": "l"}, 400),
    ({"specversion": "1.0", "id": "a", "source": "s", "type": "t", "ibmensourceid": "x", "ibmendefaultshort": "s",
      "ibmendefaultlong": "l", "data": {}}, 400),
    ({"specversion": "1.0", "id": "a", "source": "s", "type": "t", "ibmensourceid": "x", "ibmendefaultshort": "s",
      "ibmendefaultlong": "l", "ibmenmailto": "a@b"}, 400),
])
def test_event_notifications_emulator_refuses_bad_payloads(fake: FakeServer, body: dict[str, Any],
                                                           status: int) -> None:
    token = requests.post(f"{fake.url}/iam/identity/token", timeout=5, data={
        "grant_type": "urn:ibm:params:oauth:grant-type:apikey", "apikey": "fake-apikey"}).json()["access_token"]
    url = f"{fake.url}/en/v1/instances/i/notifications"
    assert requests.post(url, json=body, timeout=5, headers={"Authorization": f"Bearer {token}"}).status_code == status
    assert requests.post(url, json=body, timeout=5).status_code == 401


# --- webhook ------------------------------------------------------------------------------------------------

@pytest.fixture
def hook() -> Iterator[WebhookRecorder]:
    with webhook_server() as server:
        yield server


def hook_notifier(hook: WebhookRecorder, **block: Any) -> Notifier:
    return build_one("webhook", {"url_env": "HOOK_URL", **block},
                     {"HOOK_URL": f"{hook.url}/in/{WEBHOOK_TOKEN}", "HOOK_SECRET": "sign-me-please"})


def test_webhook_posts_signed_json(hook: WebhookRecorder) -> None:
    hook_notifier(hook, secret_env="HOOK_SECRET", headers={"X-Team": "net"}).send(alerts(1), CONTEXT)
    (got,) = hook.received
    assert got["path"] == f"/in/{WEBHOOK_TOKEN}"
    assert got["headers"]["X-Team"] == "net"
    expected = hmac.new(b"sign-me-please", got["raw"], hashlib.sha256).hexdigest()
    assert got["headers"]["X-Netwarden-Signature"] == f"sha256={expected}"
    body = got["body"]
    assert (body["schema_version"], body["run_id"], body["status"]) == (1, "run-0001", "drift")
    assert [a["kind"] for a in body["alerts"]] == ["new", "new"]
    assert body["alerts"][-1]["resource"] == {"kind": "subnet", "region": "us-south", "vpc": "prod-vpc",
                                             "subnet": "sn-1"}


@pytest.mark.parametrize(("statuses", "delivered", "message"), [
    ([503, 502], True, None),
    ([503, 503, 503], False, r"webhook: endpoint answered HTTP 503 \(gave up after 3 attempts\)"),
    ([400], False, r"webhook: endpoint refused the alert: HTTP 400"),
])
def test_webhook_retries(hook: WebhookRecorder, statuses: list[int], delivered: bool, message: str | None) -> None:
    hook.statuses.extend(statuses)
    notifier = hook_notifier(hook)
    if message is None:
        notifier.send(alerts(1), CONTEXT)
    else:
        with pytest.raises(NotifyError, match=message):
            notifier.send(alerts(1), CONTEXT)
    assert bool(hook.received) is delivered


# --- secrets never logged ------------------------------------------------------------------------------------

def test_no_secret_in_any_log_line_or_error(fake: FakeServer, smtp: Any, hook: WebhookRecorder,
                                            caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch) -> None:
    # At DEBUG, ibm-cloud-sdk-core turns on http.client's wire dump for the whole process, and for good:
    # put it back afterwards, as ibm-cos-sdk's client cannot send with it on.
    monkeypatch.setattr(http.client.HTTPConnection, "debuglevel", 0)
    monkeypatch.setattr(http.client, "print", print, raising=False)
    caplog.set_level(logging.DEBUG)
    for name in ("urllib3", "requests", "slack_sdk", "ibm-cloud-sdk-core", "mail.log", "netwarden"):
        caplog.set_level(logging.DEBUG, logger=name)
    hook_url = f"{hook.url}/in/{WEBHOOK_TOKEN}"
    environ = {"SLACK_WEBHOOK_URL": fake.url + SLACK_PATH, "SMTP_PASSWORD": SMTP_PASSWORD, "EN_APIKEY": "fake-apikey",
               "HOOK_URL": hook_url}
    built = notifiers.build({
        "slack": {}, "email": email_block(smtp),
        "event_notifications": {**EN_BLOCK, "url": f"{fake.url}/en"}, "webhook": {"url_env": "HOOK_URL"},
    }, env(environ, fake))
    token = requests.post(f"{fake.url}/iam/identity/token", timeout=5, data={
        "grant_type": "urn:ibm:params:oauth:grant-type:apikey", "apikey": "fake-apikey"}).json()["access_token"]
    token_body = token.split(".")[1]
    errors = []
    for rounds in (1, 2):
        if rounds == 2:  # now everything fails, after retries
            fault(fake, path="^/(slack|en)", status=503)
            hook.statuses.extend([500] * 3)
        for n in built:
            try:
                n.send(alerts(2), CONTEXT)
            except NotifyError as e:
                errors.append(str(e))
    assert len(errors) == 3
    assert any(r.name.startswith("urllib3") for r in caplog.records)  # the libraries did log, at DEBUG
    everything = caplog.text + "\n".join(errors) + "\n".join(repr(n) for n in built)
    for secret in (fake.url + SLACK_PATH, "s3cretWebhookT0ken", SLACK_PATH, hook_url, WEBHOOK_TOKEN, SMTP_PASSWORD,
                   "fake-apikey", token_body):
        assert secret not in everything, secret
