"""The config's notify, remediation and suppressions sections, and the checks every section shares.

``config`` reads the file's top level and the scopes (``ibmcloud``, ``kubernetes``); the sections an
operator tunes most (where alerts go, what remediation may do, what is suppressed until when) are
read here, each value refused at its own line. ``config`` re-exports the settings classes.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import date
from typing import Any

from netwarden import config_values as cv
from netwarden.adapters import yaml_io
from netwarden.core.errors import ConfigError, Location
from netwarden.core.findings import CODES, SEVERITIES
from netwarden.core.routing import Route


@dataclass(frozen=True, slots=True)
class Suppression:
    code: str
    resource: str
    reason: str
    #: The last day the suppression is active (``config_values.expiry``: a datetime counts by the day before).
    expires: date | None = None
    #: Its line in the config, for ``baseline lint --config`` (``core.suppressions.hygiene``).
    line: int | None = field(default=None, compare=False)


@dataclass(frozen=True, slots=True)
class NotifySettings:
    """Each channel's block as given (validated by the notifier that reads it), its route, and the
    reminder period."""

    channels: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    remind_after_seconds: int = 24 * 3600
    #: Per channel, what it is told of (``min_severity``, ``codes``, ``resources``; taken out of its block).
    routes: Mapping[str, Route] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class RemediationSettings:
    mode: str = "alert"
    auto: tuple[str, ...] = ("subnet-allow-all", "subnet-acl-changed", "acl-rule-missing")
    max_changes: int = 10
    restore_namespace_labels: bool = False
    #: Let a plan restore the rules and bindings of IBM-managed security groups (``core.plan.sg_plan``).
    ibm_managed_groups: bool = False
    #: The blast-radius guard: a plan that empties what the baseline manages is refused unless this is set.
    allow_destructive: bool = False
    #: The largest share (percent) of one kind of resource a plan may delete before it is refused whole.
    max_delete_percent: int = 50
    #: How long a plan stored for approval can be approved, in seconds (``app.approval``): a week.
    plan_expiry: int = 7 * 86400


_NOTIFY_CHANNELS = {"slack", "email", "event_notifications", "webhook"}
#: The keys of a channel's block that route it (``core.routing``), read here for every channel.
_ROUTE_KEYS = ("min_severity", "codes", "resources")
_REMEDIATION = {"mode", "auto", "max_changes", "restore_namespace_labels", "ibm_managed_groups", "allow_destructive",
                "max_delete_percent", "plan_expiry"}
#: The shortest ``remediation.plan_expiry``: time for a second person to read the plan.
MIN_PLAN_EXPIRY_S = 300
_SUPPRESSION = {"code", "resource", "reason", "expires"}
#: The largest ``remediation.max_changes``: a plan past it is a mistake, not a remediation.
MAX_CHANGES = 100_000


def notify_section(doc: yaml_io.YamlDoc, raw: Any) -> NotifySettings:
    p = ("notify",)
    check_mapping(doc, p, raw, _NOTIFY_CHANNELS | {"remind_after"})
    channels: dict[str, Mapping[str, Any]] = {}
    routes: dict[str, Route] = {}
    for name in sorted(_NOTIFY_CHANNELS & set(raw)):
        block = raw[name]
        if block is None:
            continue
        if not isinstance(block, dict):
            raise ConfigError("expected a mapping", location=doc.where((*p, name)))
        if any(k in block for k in _ROUTE_KEYS):
            routes[name] = route_of(doc, (*p, name), block)
        if name == "slack" and block.get("mentions") is not None:
            mentions_of(doc, (*p, name, "mentions"), block["mentions"])
        channels[name] = {k: v for k, v in block.items() if k not in _ROUTE_KEYS}
    email = channels.get("email", {})
    if email.get("password_env") is not None and (email.get("tls") == "none" or email.get("starttls") is False):
        # Found here, at its line, for every command; the email notifier refuses it too when built.
        raise ConfigError("a password is only sent over TLS: set tls: starttls or implicit, or drop password_env",
                          location=doc.where((*p, "email", "password_env")))
    remind = NotifySettings().remind_after_seconds
    if raw.get("remind_after") is not None:
        remind = cv.duration(raw["remind_after"], doc.where((*p, "remind_after")))
    return NotifySettings(channels=channels, remind_after_seconds=remind, routes=routes)


def route_of(doc: yaml_io.YamlDoc, p: yaml_io.PathKey, block: Mapping[str, Any]) -> Route:
    """``min_severity`` (one of the severities), ``codes`` (finding codes), ``resources`` (paths, a
    trailing ``*`` for a prefix): each refused at its line."""
    low = block.get("min_severity")
    if low is not None and low not in SEVERITIES:
        raise ConfigError(f"{low!r} is not a severity (one of: {', '.join(SEVERITIES)})",
                          location=doc.where((*p, "min_severity")))
    codes = str_list(doc, (*p, "codes"), block["codes"], non_empty=True) if "codes" in block else ()
    for i, code in enumerate(codes):
        known_code(code, doc.where((*p, "codes", i)))
    resources = str_list(doc, (*p, "resources"), block["resources"], non_empty=True) if "resources" in block else ()
    return Route(min_severity=low, codes=codes, resources=resources)


def mentions_of(doc: yaml_io.YamlDoc, p: yaml_io.PathKey, raw: Any) -> dict[str, str]:
    """Slack's ``mentions``: severity -> what to put in the message (``<!here>``, ``<@U024BE7LH>``,
    ``<!subteam^S012AB3CD>``)."""
    check_mapping(doc, p, raw, set(SEVERITIES))
    return {str(k): text(doc, (*p, k), v) for k, v in raw.items()}


def remediation_section(doc: yaml_io.YamlDoc, raw: Any) -> RemediationSettings:
    p = ("remediation",)
    check_mapping(doc, p, raw, _REMEDIATION)
    r = RemediationSettings()
    if "mode" in raw:
        r = replace(r, mode=mode_value(raw["mode"], doc.where((*p, "mode"))))
    if "auto" in raw:
        auto = str_list(doc, (*p, "auto"), raw["auto"] or [])
        for i, code in enumerate(auto):
            known_code(code, doc.where((*p, "auto", i)))
        r = replace(r, auto=auto)
    if "max_changes" in raw:
        r = replace(r, max_changes=cv.whole(raw["max_changes"], doc.where((*p, "max_changes")), high=MAX_CHANGES))
    if "max_delete_percent" in raw:
        r = replace(r, max_delete_percent=cv.whole(raw["max_delete_percent"], doc.where((*p, "max_delete_percent")),
                                                   high=100))
    if "allow_destructive" in raw:
        r = replace(r, allow_destructive=flag(doc, (*p, "allow_destructive"), raw["allow_destructive"]))
    if "restore_namespace_labels" in raw:
        r = replace(r, restore_namespace_labels=flag(doc, (*p, "restore_namespace_labels"),
                                                      raw["restore_namespace_labels"]))
    if "ibm_managed_groups" in raw:
        r = replace(r, ibm_managed_groups=flag(doc, (*p, "ibm_managed_groups"), raw["ibm_managed_groups"]))
    if "plan_expiry" in raw:
        where = doc.where((*p, "plan_expiry"))
        expiry = cv.duration(raw["plan_expiry"], where)
        if expiry < MIN_PLAN_EXPIRY_S:
            raise ConfigError(f"{expiry}s is too short for a second person to approve a plan (at least 5m)",
                              location=where)
        r = replace(r, plan_expiry=expiry)
    return r


def suppressions_section(doc: yaml_io.YamlDoc, raw: Any) -> tuple[Suppression, ...]:
    p: yaml_io.PathKey = ("suppressions",)
    if not isinstance(raw, list):
        raise ConfigError("expected a list", location=doc.where(p))
    out = []
    for i, item in enumerate(raw):
        q = (*p, i)
        check_mapping(doc, q, item, _SUPPRESSION)
        for key in ("code", "resource", "reason"):
            if not item.get(key):
                raise ConfigError(f"a suppression needs {key}", location=doc.where(q, f"{yaml_io.dotted(q)}.{key}"))
        known_code(str(item["code"]), doc.where((*q, "code")))
        expires = item.get("expires")
        if expires is not None:
            expires = cv.expiry(expires, doc.where((*q, "expires")))
        out.append(Suppression(str(item["code"]), str(item["resource"]), str(item["reason"]), expires,
                               line=doc.where(q).line))
    return tuple(out)


def known_code(code: str, where: Location) -> None:
    """A misspelt finding code would silently suppress (or auto-remediate) nothing: refuse it."""
    if code not in CODES:
        raise ConfigError(f"{code!r} is not a finding code (known: {', '.join(CODES)})", location=where)


def check_mapping(doc: yaml_io.YamlDoc, path: yaml_io.PathKey, raw: Any, allowed: set[str]) -> None:
    if not isinstance(raw, dict):
        raise ConfigError("expected a mapping", location=doc.where(path, yaml_io.dotted(path) or "(top level)"))
    for key in raw:
        if key not in allowed:
            raise ConfigError(f"unknown key (expected one of: {', '.join(sorted(allowed))})",
                              location=doc.where((*path, key)))


def text(doc: yaml_io.YamlDoc, path: yaml_io.PathKey, value: Any) -> str:
    if not isinstance(value, str) or not value:
        raise ConfigError("expected a non-empty string", location=doc.where(path))
    return value


def flag(doc: yaml_io.YamlDoc, path: yaml_io.PathKey, value: Any) -> bool:
    if not isinstance(value, bool):
        raise ConfigError("expected true or false", location=doc.where(path))
    return value


def str_list(doc: yaml_io.YamlDoc, path: yaml_io.PathKey, value: Any, *, non_empty: bool = False) -> tuple[str, ...]:
    if not isinstance(value, list) or not all(isinstance(v, str) and v for v in value):
        raise ConfigError("expected a list of strings", location=doc.where(path))
    if non_empty and not value:
        raise ConfigError("expected at least one entry", location=doc.where(path))
    return tuple(value)


def mode_value(value: Any, where: Location) -> str:
    if value not in ("alert", "auto", "approve"):
        raise ConfigError(f"{value!r} is not 'alert', 'auto' or 'approve'", location=where)
    return str(value)
