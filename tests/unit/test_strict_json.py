"""Plain JSON from outside: what Python's json reads quietly is refused, at the path and line of the value."""

from __future__ import annotations

from typing import Any

import pytest

from netwarden.core import strict_json
from netwarden.core.strict_json import JsonRefused

REFUSED: list[tuple[str, str, str | None, int | None]] = [
    # text, reason fragment, path, line
    ("{", "not JSON: Expecting property name", None, 1),
    ('{\n "a": 1,\n}', "not JSON: Expecting property name", None, 3),
    ("\ufeff{}", "not JSON: Unexpected UTF-8 BOM", None, 1),
    ('{"a": NaN}', "NaN is not a JSON number", "a", 1),
    ('{"a": [1, 2,\n Infinity]}', "Infinity is not a JSON number", "a[2]", 2),
    ('[{"x": 1}, {"y": -Infinity}]', "-Infinity is not a JSON number", "[1].y", 1),
    ('{"n": 1e999}', "1e999 is too large for a number", "n", 1),
    ('{"vpcs": [],\n "vpcs": []}', "the key 'vpcs' appears twice in one object", "vpcs", 2),
    ('{"a": {"b": 1, "b": 2}}', "the key 'b' appears twice", "a.b", 1),
    ('{"odd key": 1, "odd key": 2}', "the key 'odd key' appears twice", "'odd key'", 1),
    ("[" * 100_000 + "]" * 100_000, "nested too deeply to read", None, None),
    ("[" + "9" * 5000 + "]", "a number of more than 4300 digits", None, None),
]


@pytest.mark.parametrize(("text", "reason", "path", "line"), REFUSED, ids=[r[1][:40] for r in REFUSED])
def test_what_json_reads_quietly_is_refused_where_it_stands(text: str, reason: str, path: str | None,
                                                            line: int | None) -> None:
    with pytest.raises(JsonRefused) as e:
        strict_json.loads(text)
    assert reason in e.value.reason
    assert (e.value.path, e.value.line) == (path, line)


@pytest.mark.parametrize(("text", "value"), [
    ('{"a": [1, 2.5, "NaN", {"b": null}], "c": true}', {"a": [1, 2.5, "NaN", {"b": None}], "c": True}),
    ('"Infinity"', "Infinity"),
    ("[]", []),
    ('{"a": {"a": 1}}', {"a": {"a": 1}}),
    ("1e308", 1e308),
])
def test_plain_json_is_read_as_json_reads_it(text: str, value: Any) -> None:
    assert strict_json.loads(text) == value


@pytest.mark.parametrize(("text", "depth"), [
    ("1", 0), ("[]", 1), ('[{"a": [1]}]', 3), ('["[[[[", {"b": "]]"}]', 2), (r'["\"[[", 1]', 1),
])
def test_nesting_is_counted_outside_strings(text: str, depth: int) -> None:
    assert strict_json.nesting(text, stop_after=10) == depth
    assert strict_json.loads(text, max_depth=depth) is not None or text == "null"


def test_a_depth_limit_is_refused_before_parsing() -> None:
    with pytest.raises(JsonRefused, match="nested deeper than 2 levels"):
        strict_json.loads("[[[1]]]", max_depth=2)


@pytest.mark.parametrize(("value", "deep"), [
    ([[[1]]], False), ([[[[1]]]], True), ({"a": {"b": {"c": {}}}}, True), ({"a": [1, 2, 3]}, False),
])
def test_too_deep_walks_without_recursing(value: Any, deep: bool) -> None:
    assert strict_json.too_deep(value, 3) is deep


@pytest.mark.parametrize(("path", "line"), [
    ("vpcs", 2), ("vpcs[1]", 4), ("vpcs[1].name", 5), ("kind", 7), ("vpcs[2]", None), ("nope", None),
])
def test_line_of_a_path(path: str, line: int | None) -> None:
    text = '{\n "vpcs": [\n  {"name": "a"},\n  {\n   "name": "b"}\n ],\n "kind": "k"\n}'
    assert strict_json.line_of(text, path) == line
