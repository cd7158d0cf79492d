"""What every notifier shares: bounded retries, config checks, and keeping secrets out of logs.

A notifier's one attempt raises ``Transient`` for what may pass (connection refused, timeout, 429,
5xx) and ``NotifyError`` for what will not (bad credentials, a refused payload); ``deliver`` retries the
first with capped exponential backoff (or the server's ``Retry-After``) and turns the last failure into
one ``NotifyError`` line.

Webhook URLs, API keys and passwords are registered with ``protect`` when a notifier is built. From
then on every log record created in the process, by netwarden or by a library (urllib3 logs request
paths at DEBUG, which hold a Slack webhook's token), has them replaced by ``***``; ``redact`` does the
same for a message built from a library's exception.
"""

from __future__ import annotations

import logging
import re
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from netwarden.core.errors import ConfigError, Location, NotifyError

log = logging.getLogger(__name__)

MASK = "***"


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    attempts: int = 3
    base_delay: float = 1.0
    max_delay: float = 10.0
    sleep: Callable[[float], None] = time.sleep


@dataclass(frozen=True, slots=True)
class NotifierEnv:
    """What building a notifier needs besides its config block."""

    environ: Mapping[str, str]
    source: str = "netwarden.yaml"
    iam_url: str = "https://iam.cloud.ibm.com"
    api_key_env: str = "IBMCLOUD_API_KEY"
    retry: RetryPolicy = field(default_factory=RetryPolicy)
    timeout: float = 10.0


class Transient(Exception):
    """One attempt failed in a way worth retrying. The message must hold no secret."""

    def __init__(self, message: str, *, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.retry_after = retry_after


def deliver(channel: str, attempt: Callable[[], None], policy: RetryPolicy) -> None:
    """Run ``attempt`` until it succeeds, fails for good, or ``policy.attempts`` are spent."""
    last: Transient | None = None
    for n in range(1, max(1, policy.attempts) + 1):
        try:
            attempt()
            return
        except Transient as e:
            last = e
            if n >= policy.attempts:
                break
            delay = e.retry_after if e.retry_after is not None else policy.base_delay * 2 ** (n - 1)
            delay = max(0.0, min(policy.max_delay, delay))
            log.info("notifier attempt failed, retrying",
                     extra={"channel": channel, "attempt": n, "reason": e.message, "delay_s": delay})
            policy.sleep(delay)
    assert last is not None
    raise NotifyError(f"{channel}: {last.message} (gave up after {policy.attempts} attempts)") from last


def retry_after(value: str | None) -> float | None:
    try:
        return float(value) if value else None
    except ValueError:
        return None


# --- config blocks -------------------------------------------------------------------------------------


def check_block(name: str, block: Mapping[str, Any], env: NotifierEnv, *, required: Sequence[str],
                optional: Sequence[str] = ()) -> None:
    """Refuse unknown and missing keys of ``notify.<name>``, naming them."""
    allowed = set(required) | set(optional)
    for key in block:
        if key not in allowed:
            raise ConfigError(f"unknown key (expected one of: {', '.join(sorted(allowed))})",
                              location=where(env, name, str(key)))
    for key in required:
        if block.get(key) in (None, "", []):
            raise ConfigError("required", location=where(env, name, key))


def where(env: NotifierEnv, name: str, key: str) -> Location:
    return Location(env.source, field=f"notify.{name}.{key}")


def text(name: str, block: Mapping[str, Any], env: NotifierEnv, key: str, default: str | None = None) -> str | None:
    value = block.get(key, default)
    if value is not None and (not isinstance(value, str) or not value):
        raise ConfigError("expected a non-empty string", location=where(env, name, key))
    return value


def secret_from(name: str, block: Mapping[str, Any], env: NotifierEnv, key: str, *, required: bool = True,
                default_env: str | None = None) -> str | None:
    """The secret whose environment variable ``notify.<name>.<key>`` names; registered with ``protect``."""
    var = text(name, block, env, key, default_env)
    value = env.environ.get(var) if var else None
    if not value:
        if required:
            raise ConfigError(f"environment variable {var} is not set", location=where(env, name, key))
        return None
    protect(value)
    return value


# --- secrets out of logs -----------------------------------------------------------------------------

_secrets: set[str] = set()
_lock = threading.Lock()
_installed: list[bool] = []


def secret_parts(secret: str) -> set[str]:
    """The secret, and for a URL the parts a library may log alone: path with query, last segment."""
    parts = {secret}
    try:
        url = urlsplit(secret)
    except ValueError:
        return parts
    if url.scheme and url.netloc:
        tail = url.path + (f"?{url.query}" if url.query else "")
        last = url.path.rstrip("/").rsplit("/", 1)[-1]
        parts |= {p for p in (tail, url.query, last, url.password or "") if len(p) >= 8}
    return parts


def protect(secret: str) -> None:
    """From now on, ``secret`` never appears in a log record of this process."""
    if len(secret) < 4:
        return
    with _lock:
        _secrets.update(secret_parts(secret))
        if not _installed:
            _install()
            _installed.append(True)


#: Credentials with a recognisable shape, masked even when not registered: bearer tokens (the SDKs log
#: request headers at DEBUG) and an API key in an IAM token request's form body.
_SHAPES = (re.compile(r"(?i)(\bbearer\s+)[A-Za-z0-9._~+/=-]{8,}"), re.compile(r"(?i)(\bapikey=)[^&\s'\"]+"))


def redact(message: str) -> str:
    for s in sorted(_secrets, key=len, reverse=True):
        if s in message:
            message = message.replace(s, MASK)
    for shape in _SHAPES:
        message = shape.sub(rf"\g<1>{MASK}", message)
    return message


def _install() -> None:
    previous = logging.getLogRecordFactory()

    def factory(*args: Any, **kwargs: Any) -> logging.LogRecord:
        record = previous(*args, **kwargs)
        try:
            message = record.getMessage()
        except (TypeError, ValueError):
            return record
        clean = redact(message)
        if clean != message:
            record.msg, record.args = clean, None
        return record

    logging.setLogRecordFactory(factory)
