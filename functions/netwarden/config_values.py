"""The checks of single config values, for the config file and the environment alike.

A value from ``netwarden.yaml`` or a ``NETWARDEN_*`` variable ends up in a URL (a region in the VPC
endpoint's host, a VPC name in a query, a namespace in a Kubernetes API path), in a count that bounds
what a remediation may do, or in a date that ends a suppression. So each is read here against the
narrowest shape that is right for it, ASCII only: ``str.isdigit`` and ``int()`` accept other scripts'
digits and superscripts, and a ``/``, ``?``, ``#``, ``%`` or ``..`` in a name would change the request it
is put into. Every refusal is a ``ConfigError`` at the ``Location`` the caller names: file, line and key
for the file, the variable's name for the environment.
"""

from __future__ import annotations

import ipaddress
import re
from datetime import UTC, date, datetime, timedelta
from urllib.parse import urlsplit

from netwarden.core.errors import ConfigError, Location
from netwarden.core.identifiers import DNS_LABEL, REGION, REGION_MAX, VPC

KINDS: dict[str, tuple[re.Pattern[str], str]] = {
    "region": (REGION, "a region such as us-south or eu-de"),
    "vpc": (VPC, "a VPC name or id (lowercase letters, digits and hyphens)"),
    "cluster": (DNS_LABEL, "a cluster name (a DNS-1123 label: lowercase letters, digits and hyphens, at most 63)"),
    "namespace": (DNS_LABEL, "a namespace name (a DNS-1123 label: lowercase letters, digits and hyphens, "
                             "at most 63)"),
}

_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
_DATETIME = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}[T ][0-9]{2}:[0-9]{2}(?::[0-9]{2}(?:\.[0-9]{1,6})?)?"
                       r"(?:Z|[+-][0-9]{2}:[0-9]{2})")
_DURATION = re.compile(r"([0-9]{1,7}) ?([smhd])")
_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400}
#: The longest reminder period: a year.
MAX_DURATION_S = 366 * 86400
_HOST = re.compile(r"[a-z0-9](?:[-a-z0-9]{0,61}[a-z0-9])?(?:\.[a-z0-9](?:[-a-z0-9]{0,61}[a-z0-9])?)*")


def shown(value: object) -> str:
    """A value as an error message may show it: quoted, escaped, cut short."""
    text = repr(value)
    return text if len(text) <= 60 else f"{text[:57]}..."


def identifier(value: object, kind: str, where: Location) -> str:
    """``value`` if it is an identifier of ``kind`` (``region``, ``vpc``, ``cluster``, ``namespace``)."""
    pattern, what = KINDS[kind]
    if not isinstance(value, str) or not pattern.fullmatch(value) or (kind == "region" and len(value) > REGION_MAX):
        raise ConfigError(f"{shown(value)} is not {what}", location=where)
    return value


def identifiers(values: tuple[str, ...], kind: str, where: Location) -> tuple[str, ...]:
    for value in values:
        identifier(value, kind, where)
    return values


def url(value: object, where: Location, *, template: bool = False) -> str:
    """An ``http(s)`` base URL with a host: no credentials, query, fragment, spaces or ``..`` segments.
    With ``template``, ``{region}`` may stand anywhere in it (each region is checked on its own)."""
    if not isinstance(value, str) or not value:
        raise ConfigError("expected a URL", location=where)
    bad = f"{shown(re.sub(r'//[^/?#]*@', '//***@', value))} is not an http(s) URL with a host"
    if not value.isascii() or any(c.isspace() or not c.isprintable() or c == "\\" for c in value):
        raise ConfigError(f"{bad} (it holds a space, a control or non-ASCII character)", location=where)
    probe = value.replace("{region}", "us-south") if template else value
    if "{" in probe or "}" in probe:
        raise ConfigError(f"{bad} (the only placeholder is {{region}})" if template else bad, location=where)
    try:
        parts = urlsplit(probe)
        port = parts.port
    except ValueError as e:
        raise ConfigError(f"{bad} ({e})", location=where) from e
    if parts.scheme not in ("http", "https") or not _host(parts.hostname) or port == 0:
        raise ConfigError(bad, location=where)
    if parts.username is not None or parts.password is not None:
        raise ConfigError(f"{bad} (credentials do not belong in it: name a variable that holds them)",
                          location=where)
    if parts.query or parts.fragment or "?" in probe or "#" in probe:
        raise ConfigError(f"{bad} (a base URL has no query or fragment)", location=where)
    if ".." in parts.path.split("/") or "%" in parts.path:
        raise ConfigError(f"{bad} (no '..' segment or %-escape in its path)", location=where)
    return value


def _host(name: str | None) -> bool:
    """A DNS name or an IP address (``urlsplit`` has lowercased it and taken off an IPv6's brackets)."""
    if not name:
        return False
    if ":" in name:
        try:
            ipaddress.IPv6Address(name)
        except ValueError:
            return False
        return True
    return bool(_HOST.fullmatch(name)) and len(name) <= 253


def whole(value: object, where: Location, *, low: int = 0, high: int) -> int:
    """A whole number from YAML (an int, not a bool) from ``low`` to ``high``."""
    if not isinstance(value, int) or isinstance(value, bool) or not low <= value <= high:
        raise ConfigError(f"expected a whole number from {low} to {high}", location=where)
    return value


def whole_text(text: str, where: Location, *, low: int = 0, high: int) -> int:
    """A whole number written in ASCII digits (an environment variable) from ``low`` to ``high``."""
    stripped = text.strip(" \t")
    if not re.fullmatch(rf"[0-9]{{1,{len(str(high))}}}", stripped) or not low <= int(stripped) <= high:
        raise ConfigError(f"{shown(text)} is not a whole number from {low} to {high}", location=where)
    return int(stripped)


def duration(value: object, where: Location) -> int:
    """``90s``, ``15m``, ``24h``, ``2d`` -> seconds (``0s`` is allowed), at most 366 days."""
    m = _DURATION.fullmatch(value.strip(" ")) if isinstance(value, str) else None
    seconds = int(m.group(1)) * _UNITS[m.group(2)] if m else -1
    if not 0 <= seconds <= MAX_DURATION_S:
        raise ConfigError(f"{shown(value)} is not a duration such as 15m, 24h or 2d (at most 366d)", location=where)
    return seconds


def expiry(value: object, where: Location) -> date:
    """The last day a suppression is active, from a date (``2027-01-31``: active through that day) or
    an ISO datetime with a timezone (``2027-01-31T18:00:00Z``). Suppressions are judged by the day, so a
    datetime makes the suppression active through the day before its UTC date: it never outlives the
    instant it names (it ends up to a day early)."""
    if isinstance(value, str):
        try:
            if _DATE.fullmatch(value):
                value = date.fromisoformat(value)
            elif _DATETIME.fullmatch(value):
                value = datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError as e:
            raise ConfigError(f"{shown(value)} is not a date: {e}", location=where) from e
    if isinstance(value, datetime):
        if value.tzinfo is None or value.utcoffset() is None:
            raise ConfigError("expected a datetime with a timezone (2027-01-31T18:00:00Z)", location=where)
        return value.astimezone(UTC).date() - timedelta(days=1)
    if isinstance(value, date):
        return value
    raise ConfigError(f"{shown(value)} is not a date YYYY-MM-DD or a datetime with a timezone "
                      "(2027-01-31T18:00:00Z)", location=where)
