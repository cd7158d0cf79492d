"""Label and field selectors, parsed and matched as the API server does for ``?labelSelector=`` and
``?fieldSelector=``.

Label selectors: ``k=v``, ``k==v``, ``k!=v``, ``k in (a,b)``, ``k notin (a,b)``, ``k``, ``!k``, joined
by commas. Field selectors: ``f=v``, ``f==v``, ``f!=v`` over the fields a kind supports. A selector
that does not parse is a 400, in the API server's words.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from netwarden.fakes.kube.exceptions import BadRequest

Matcher = Callable[[Mapping[str, str]], bool]

_NAME = r"[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?"
_PREFIX = r"[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*"
_KEY = re.compile(rf"^({_PREFIX}/)?{_NAME}$")
_VALUE = re.compile(rf"^({_NAME})?$")
_SET = re.compile(r"^\s*(?P<key>[^\s!=(),]+)\s+(?P<op>in|notin)\s*\((?P<values>[^()]*)\)\s*$")
_EQ = re.compile(r"^\s*(?P<key>[^\s!=(),]+)\s*(?P<op>==|=|!=)\s*(?P<value>[^\s!=(),]*)\s*$")
_EXISTS = re.compile(r"^\s*(?P<neg>!?)\s*(?P<key>[^\s!=(),]+)\s*$")


def _split(text: str) -> list[str]:
    """Split on commas outside parentheses."""
    parts, depth, current = [], 0, ""
    for ch in text:
        if ch == "(":
            depth += 1
        elif ch == ")":
            depth -= 1
        if ch == "," and depth == 0:
            parts.append(current)
            current = ""
        else:
            current += ch
    parts.append(current)
    return parts


def _check_key(key: str) -> str:
    if not _KEY.match(key) or len(key.rsplit("/", maxsplit=1)[-1]) > 63:
        raise BadRequest(f'unable to parse requirement: <nil>: Invalid value: "{key}": name part must consist of '
                         "alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric "
                         "character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for validation is "
                         "'([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')")
    return key


def _check_value(key: str, value: str) -> str:
    if not _VALUE.match(value):
        raise BadRequest(f'unable to parse requirement: values[0][{key}]: Invalid value: "{value}": a valid label '
                         "must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must "
                         "start and end with an alphanumeric character")
    return value


def _requirement(text: str) -> Matcher:
    m = _SET.match(text)
    if m:
        key = _check_key(m.group("key"))
        values = {_check_value(key, v.strip()) for v in m.group("values").split(",")}
        if m.group("op") == "in":
            return lambda labels: labels.get(key) in values
        return lambda labels: labels.get(key) not in values
    m = _EQ.match(text)
    if m:
        key, value = _check_key(m.group("key")), m.group("value")
        _check_value(key, value)
        if m.group("op") == "!=":
            return lambda labels: labels.get(key) != value
        return lambda labels: key in labels and labels[key] == value
    m = _EXISTS.match(text)
    if m:
        key = _check_key(m.group("key"))
        if m.group("neg"):
            return lambda labels: key not in labels
        return lambda labels: key in labels
    raise BadRequest(f"unable to parse requirement: found '{text.strip()}', expected: identifier")


def label_selector(text: str | None) -> Matcher:
    """A matcher for ``?labelSelector=``; an empty selector matches everything."""
    if not text or not text.strip():
        return lambda labels: True
    requirements = [_requirement(part) for part in _split(text)]
    return lambda labels: all(r(labels) for r in requirements)


def _unescape(value: str) -> str:
    return re.sub(r"\\(.)", r"\1", value)


def field_selector(text: str | None, supported: Sequence[str]) -> Callable[[Mapping[str, Any]], bool]:
    """A matcher for ``?fieldSelector=`` over the ``supported`` fields of a kind (dotted paths)."""
    if not text or not text.strip():
        return lambda obj: True
    terms: list[tuple[str, bool, str]] = []
    for part in re.split(r"(?<!\\),", text):
        m = re.match(r"^\s*([^=!\s]+)\s*(==|=|!=)\s*(.*?)\s*$", part)
        if not m:
            raise BadRequest(f"invalid selector: '{text}'; can't understand '{part}'")
        name, op, value = m.group(1), m.group(2), _unescape(m.group(3))
        if name not in supported:
            raise BadRequest(f'field label not supported: {name}')
        terms.append((name, op == "!=", value))

    def match(obj: Mapping[str, Any]) -> bool:
        for name, negate, value in terms:
            actual = field_value(obj, name)
            if (actual == value) == negate:
                return False
        return True

    return match


def field_value(obj: Mapping[str, Any], dotted: str) -> str:
    """The string form of a field the way field selectors see it (missing -> "")."""
    node: Any = obj
    for part in dotted.split("."):
        node = node.get(part) if isinstance(node, dict) else None
    if node is None:
        return ""
    if isinstance(node, bool):
        return "true" if node else "false"
    return str(node)
