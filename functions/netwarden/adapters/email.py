"""Email over SMTP with TLS: one message per run, a plain-text part and an HTML part.

Config (``notify.email``): ``smtp_host``, ``tls`` (``starttls``, the default; ``implicit``; ``none``),
``smtp_port`` (587, or 465 with ``implicit``), ``sender``, ``to`` (a list), ``username`` (defaults to
``sender``), ``password_env`` (the variable holding the password; no login without it), ``ca_file`` (a CA
bundle for a server whose certificate a private CA signed), ``subject_prefix`` (``[netwarden]``).
``starttls: true/false``, the older key, still means ``tls: starttls/none``.

The password is only ever sent over TLS. With ``starttls`` the connection is upgraded before any login
and a server that does not offer STARTTLS is refused; with ``implicit`` TLS starts on connect
(``SMTP_SSL``). Either way the server's certificate and name are verified. ``tls: none`` is for a
relay that takes mail without a login: with a ``password_env`` it is a config error.
"""

from __future__ import annotations

import html
import smtplib
import ssl
from collections.abc import Mapping, Sequence
from email.message import EmailMessage
from email.utils import formatdate, make_msgid
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
    where,
)
from netwarden.adapters.notifiers import register
from netwarden.core.errors import ConfigError, NotifyError
from netwarden.core.lifecycle import Alert

TLS_MODES = ("starttls", "implicit", "none")
DEFAULT_PORTS = {"starttls": 587, "implicit": 465, "none": 587}

COLOURS = {"critical": "#b00020", "high": "#d35400", "medium": "#b7950b", "low": "#2471a3", "info": "#7f8c8d"}


@register("email")
def build(block: Mapping[str, Any], env: NotifierEnv) -> EmailNotifier:
    check_block("email", block, env, required=("smtp_host", "sender", "to"),
                optional=("smtp_port", "tls", "starttls", "username", "password_env", "ca_file", "subject_prefix"))
    to = block["to"]
    if isinstance(to, str):
        to = [to]
    if not isinstance(to, list) or not all(isinstance(x, str) and "@" in x for x in to):
        raise ConfigError("expected a list of email addresses", location=where(env, "email", "to"))
    tls = tls_mode(block, env)
    port = block.get("smtp_port", DEFAULT_PORTS[tls])
    if not isinstance(port, int) or isinstance(port, bool) or not 0 < port < 65536:
        raise ConfigError("expected a port number from 1 to 65535", location=where(env, "email", "smtp_port"))
    if tls == "none" and block.get("password_env") is not None:
        raise ConfigError("a password is only sent over TLS: set tls: starttls or implicit, or drop password_env",
                          location=where(env, "email", "password_env"))
    sender = text("email", block, env, "sender")
    host = text("email", block, env, "smtp_host")
    assert sender is not None and host is not None
    return EmailNotifier(
        host, port, sender=sender, to=tuple(to), tls=tls,
        username=text("email", block, env, "username") or sender,
        password=secret_from("email", block, env, "password_env", required="password_env" in block),
        ca_file=text("email", block, env, "ca_file"),
        subject_prefix=text("email", block, env, "subject_prefix", "[netwarden]") or "",
        retry=env.retry, timeout=env.timeout,
    )


def tls_mode(block: Mapping[str, Any], env: NotifierEnv) -> str:
    """``tls``, or the older ``starttls: true/false`` (``starttls``/``none``); ``starttls`` when neither."""
    if "tls" in block and "starttls" in block:
        raise ConfigError("give tls (starttls, implicit or none), not also the older starttls",
                          location=where(env, "email", "starttls"))
    if "starttls" in block:
        starttls = block["starttls"]
        if not isinstance(starttls, bool):
            raise ConfigError("expected true or false", location=where(env, "email", "starttls"))
        return "starttls" if starttls else "none"
    tls = block.get("tls", "starttls")
    if tls not in TLS_MODES:
        raise ConfigError(f"expected one of {', '.join(TLS_MODES)}", location=where(env, "email", "tls"))
    return str(tls)


class EmailNotifier:
    name = "email"

    def __init__(self, host: str, port: int, *, sender: str, to: Sequence[str], tls: str = "starttls",
                 username: str | None = None, password: str | None = None, ca_file: str | None = None,
                 subject_prefix: str = "[netwarden]", retry: RetryPolicy | None = None, timeout: float = 10.0) -> None:
        self.host, self.port, self.sender, self.to = host, port, sender, tuple(to)
        if tls not in TLS_MODES:
            raise ValueError(f"tls must be one of {', '.join(TLS_MODES)}")
        self.tls, self.username, self.ca_file = tls, username, ca_file
        self._password = password
        self.subject_prefix = subject_prefix
        self._retry = retry or RetryPolicy()
        self._timeout = timeout

    def __repr__(self) -> str:
        return f"EmailNotifier({self.host}:{self.port}, to={list(self.to)})"

    def send(self, alerts: Sequence[Any], context: dict[str, Any]) -> None:
        message = compose(t.ordered(alerts), context, sender=self.sender, to=self.to, prefix=self.subject_prefix)
        deliver("email", lambda: self._send(message), self._retry)

    def _send(self, message: EmailMessage) -> None:
        endpoint = f"{self.host}:{self.port}"
        if self._password and self.tls == "none":
            raise NotifyError(f"email: refusing to send the password to {endpoint} without TLS")
        try:
            with self._connect() as smtp:
                smtp.ehlo()
                if self.tls == "starttls":
                    if not smtp.has_extn("starttls"):
                        raise NotifyError(f"email: {endpoint} does not offer STARTTLS; refusing to send in clear")
                    smtp.starttls(context=self._tls())
                    smtp.ehlo()
                if self._password:
                    smtp.login(self.username or self.sender, self._password)
                smtp.send_message(message)
        except smtplib.SMTPAuthenticationError as e:
            raise NotifyError(f"email: {endpoint} refused the login of {self.username} (SMTP {e.smtp_code})") from e
        except smtplib.SMTPRecipientsRefused as e:
            raise NotifyError(f"email: {endpoint} refused the recipients {', '.join(e.recipients)}") from e
        except smtplib.SMTPNotSupportedError as e:  # an OSError too, but no reason to retry
            raise NotifyError(f"email: {endpoint} does not support what netwarden needs: {redact(str(e))[:120]}") from e
        except smtplib.SMTPResponseException as e:
            reason = f"{endpoint} answered SMTP {e.smtp_code}: {redact(_decode(e.smtp_error))[:120]}"
            if 400 <= e.smtp_code < 500:
                raise Transient(reason) from e
            raise NotifyError(f"email: {reason}") from e
        except ssl.SSLError as e:
            raise NotifyError(f"email: TLS with {endpoint} failed: {e.reason or e.__class__.__name__}") from e
        except (TimeoutError, smtplib.SMTPServerDisconnected, smtplib.SMTPConnectError, OSError) as e:
            raise Transient(f"{endpoint} unreachable ({e.__class__.__name__})") from e
        except smtplib.SMTPException as e:
            raise NotifyError(f"email: {endpoint}: {redact(str(e))[:120]}") from e

    def _connect(self) -> smtplib.SMTP:
        if self.tls == "implicit":
            return smtplib.SMTP_SSL(self.host, self.port, timeout=self._timeout, context=self._tls())
        return smtplib.SMTP(self.host, self.port, timeout=self._timeout)

    def _tls(self) -> ssl.SSLContext:
        return ssl.create_default_context(cafile=self.ca_file)


def compose(alerts: Sequence[Alert], context: Mapping[str, Any], *, sender: str, to: Sequence[str],
            prefix: str = "[netwarden]") -> EmailMessage:
    message = EmailMessage()
    message["Subject"] = f"{prefix} {t.title(alerts, context).removeprefix('netwarden: ')}".strip()
    message["From"] = sender
    message["To"] = ", ".join(to)
    message["Date"] = formatdate(usegmt=True)
    message["Message-ID"] = make_msgid(domain=sender.rsplit("@", 1)[-1])
    message["X-Netwarden-Run"] = str(context.get("run_id", ""))
    message.set_content(t.plain(alerts, context))
    message.add_alternative(html_body(alerts, context), subtype="html")
    return message


def html_body(alerts: Sequence[Alert], context: Mapping[str, Any]) -> str:
    e = html.escape
    rows = []
    for a in alerts:
        f = a.finding
        colour = "#1e8449" if a.kind == "resolved" else COLOURS.get(f.severity, "#000")
        impact = t.impact_text(a) if a.kind != "resolved" else None
        details = [*([f"<b>Impact:</b> {e(impact)}"] if impact else []), *(e(x) for x in t.detail_lines(a))]
        rows.append(
            f'<tr><td style="color:{colour};font-weight:bold;white-space:nowrap">{e(f.severity.upper())}</td>'
            f"<td>{e(t.KIND_LABEL[a.kind])}</td><td><code>{e(f.code)}</code></td>"
            f"<td><code>{e(f.resource.path)}</code></td>"
            f"<td>{e(f.message)}{''.join(f'<br><small>{d}</small>' for d in details)}</td></tr>")
    return (
        "<!DOCTYPE html><html><body style=\"font-family:sans-serif\">"
        f"<h2>{e(t.title(alerts, context))}</h2>"
        '<table cellpadding="6" style="border-collapse:collapse" border="1">'
        "<tr><th>Severity</th><th>Change</th><th>Code</th><th>Resource</th><th>What</th></tr>"
        f"{''.join(rows)}</table><p>{e(t.footer(context))}</p></body></html>\n"
    )


def _decode(value: bytes | str) -> str:
    return value.decode("utf-8", "replace") if isinstance(value, bytes) else value
