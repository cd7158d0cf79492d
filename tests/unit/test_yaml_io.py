"""adapters.yaml_io: every malformed file is one NetwardenError at its line, never an exception from PyYAML.

Invalid dates and times, keys that are lists or mappings, characters YAML refuses, bytes that are not
UTF-8, files over the size limit, deep nesting (with libyaml and with PyYAML's own parser), and
messages that stay short and on one line whatever the file holds.
"""

from __future__ import annotations

import codecs
import datetime
import importlib.util
import sys
from pathlib import Path
from typing import Any

import pytest

from netwarden.adapters import yaml_io
from netwarden.adapters.baseline_write import render
from netwarden.core.errors import (
    FIELD_LIMIT,
    MESSAGE_LIMIT,
    BaselineError,
    ConfigError,
    Location,
    NetwardenError,
    clip,
    shown,
)

REPO = Path(__file__).resolve().parents[2]
BIG = 50 * 1024 * 1024
LOADERS = {"libyaml": yaml_io._Loader, "python": yaml_io._PythonLoader}


def nested(levels: int) -> str:
    """``levels`` block mappings, one per line: the key of level ``n`` is on line ``n``."""
    return "".join(f"{'  ' * i}k{i}:\n" for i in range(levels)) + f"{'  ' * levels}x\n"


@pytest.fixture(params=list(LOADERS), ids=list(LOADERS))
def loader(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    """Each test runs with libyaml and with PyYAML's pure-Python parser (what a system without libyaml uses)."""
    monkeypatch.setattr(yaml_io, "_Loader", LOADERS[request.param])
    return str(request.param)


MALFORMED: dict[str, tuple[str, int, str | None, str]] = {
    # id: (text, line, field, words)
    "month-13": ("expires: 2026-13-45\n", 1, "expires", "'2026-13-45' is not a valid date or time"),
    "february-30": ("a: 1\nexpires: 2026-02-30\n", 2, "expires", "day is out of range for month"),
    "year-0": ("a: 0000-01-01\n", 1, "a", "year 0 is out of range"),
    "hour-25": ("a: 1\nb:\n  - 2026-01-01T25:00:00\n", 3, "b[0]", "hour must be in 0..23"),
    "minute-61-spaced": ("a: 2026-01-01 10:61:00\n", 1, "a", "minute must be in 0..59"),
    "offset-25h": ("a: 2026-01-01T10:00:00+25:00\n", 1, "a", "is not a valid date or time"),
    "date-deep-in-a-policy": ("spec:\n  ingress:\n  - from:\n    - x: 2026-02-30\n", 4, "spec.ingress[0].from[0].x",
                              "day is out of range"),
    "date-as-a-key": ("a: 1\n2026-02-30: x\n", 2, "2026-02-30", "is not a valid date or time"),
    "tagged-int": ("a: !!int x\n", 1, "a", "'x' is not a valid whole number"),
    "tagged-bool": ("a: !!bool x\n", 1, "a", "'x' is not a valid true or false value"),
    "tagged-timestamp": ("a: !!timestamp x\n", 1, "a", "'x' is not a valid date or time"),
    "tagged-float": ("a: !!float x\n", 1, "a", "'x' is not a valid number"),
    "list-key-explicit": ("? [a, b]\n: x\n", 1, None, "a key must be a name or a number, not a list"),
    "list-key-flow": ("[a, b]: x\n", 1, None, "not a list"),
    "mapping-key-flow": ("{a: 1}: x\n", 1, None, "not a mapping"),
    "mapping-key-explicit": ("? a: 1\n: x\n", 1, None, "not a mapping"),
    "mapping-key-nested": ("rules:\n- name: a\n  ? {b: 1}\n  : x\n", 3, "rules[0]", "not a mapping"),
    "key-in-a-set": ("a: !!set {[b]: null}\n", 1, "a", "not a list"),
    "nul": ("a: 1\nb: c\0d\n", 2, None, "character U+0000 (NUL) at column 5 is not allowed in YAML"),
    "bell": ("a: b\x07\n", 1, None, "character U+0007 at column 5"),
    "escape": ("a: 1\n\n# \x1b[31m\n", 3, None, "character U+001B at column 3"),
    "lone-surrogate": ("a: \ud800\n", 1, None, "character U+D800"),
    "non-character": ("a: \ufffe\n", 1, None, "character U+FFFE"),
    "nesting-flow-100000": ("[" * 100_000, 1, None, "nested too deeply: at most 100 levels"),
    "nesting-flow-mappings": ("{a: " * 100_000, 1, None, "nested too deeply"),
    "nesting-block-101": (nested(101), 101, None, "nested too deeply"),
    "nesting-lines-2000": ("[\n" * 2000, 101, None, "nested too deeply"),
}


@pytest.mark.parametrize(("text", "line", "field", "words"), list(MALFORMED.values()), ids=list(MALFORMED))
def test_a_malformed_document_is_one_error_at_its_line(loader: str, text: str, line: int, field: str | None,
                                                       words: str) -> None:
    with pytest.raises(BaselineError) as e:
        yaml_io.loads(text, file="f.yaml")
    assert e.value.location == Location("f.yaml", line, field)
    assert words in e.value.message
    assert "\n" not in str(e.value)


@pytest.mark.parametrize("error", [BaselineError, ConfigError], ids=["baseline", "config"])
def test_the_error_is_of_the_class_the_caller_names(error: type[NetwardenError]) -> None:
    with pytest.raises(error, match="day is out of range"):
        yaml_io.loads("a: 2026-02-30\n", file="f.yaml", error=error)


@pytest.mark.parametrize(("text", "expected"), [
    ("a: 2026-02-28\n", {"a": datetime.date(2026, 2, 28)}),
    ("a: '2026-02-30'\n", {"a": "2026-02-30"}),
    ("a: \"2026-01-01T25:00:00\"\n", {"a": "2026-01-01T25:00:00"}),
    ("a: \"b\\0c\\x07\"\n", {"a": "b\0c\x07"}),
    ("a: \ufeffb\n", {"a": "\ufeffb"}),
    (nested(100), "k0"),
], ids=["valid-date", "quoted-date", "quoted-datetime", "escaped-control-characters", "bom-character",
        "nesting-100"])
def test_what_is_valid_is_still_read(loader: str, text: str, expected: Any) -> None:
    data = yaml_io.loads(text, file="f.yaml").data
    assert (data if isinstance(expected, dict) else next(iter(data))) == expected


def test_only_a_plain_value_is_told_to_be_quoted() -> None:
    with pytest.raises(BaselineError) as e:
        yaml_io.loads("a: !!timestamp '2026-02-30'\n", file="f.yaml")
    assert "quote it" not in e.value.message
    with pytest.raises(BaselineError) as plain:
        yaml_io.loads("a: 2026-02-30\n", file="f.yaml")
    assert "quote it if it is meant as text" in plain.value.message


BYTES: dict[str, tuple[bytes, int, str]] = {
    # id: (content, line, words)
    "latin-1": ("name: a\nlabel: caf\u00e9\n".encode("latin-1"), 2, "not UTF-8: byte 0xE9 at column 11"),
    "cp1252-quote": (b"a: 1\nb: 2\nc: \x93x\x94\n", 3, "not UTF-8: byte 0x93 at column 4"),
    "truncated-multibyte": ("a: 1\nb: \u20ac".encode()[:-1], 2, "byte 0xE2 at column 4 (unexpected end of data)"),
    "invalid-start-byte": (b"a: \xff\n", 1, "byte 0xFF"),
    "utf-16-le-no-bom": ("a: b\nc: d\n".encode("utf-16-le"), 1, "a NUL byte at column 2"),
    "utf-16-be-no-bom": ("a: b\n".encode("utf-16-be"), 1, "a NUL byte at column 1"),
    "nul-on-line-3": (b"a: 1\nb: 2\nc: \0\n", 3, "a NUL byte at column 4"),
    "utf-16-bom": ("a: b\n".encode("utf-16"), 1, "the file is UTF-16"),
    "utf-32-bom": (codecs.BOM_UTF32_LE + "a: b\n".encode("utf-32-le"), 1, "the file is UTF-32"),
    "encoded-surrogate": (b"a: \xed\xa0\x80\n", 1, "not UTF-8: byte 0xED"),
}


@pytest.mark.parametrize(("content", "line", "words"), list(BYTES.values()), ids=list(BYTES))
def test_bytes_that_are_not_utf8_are_one_error_at_the_line_of_the_first_bad_byte(
        tmp_path: Path, content: bytes, line: int, words: str) -> None:
    path = tmp_path / "f.yaml"
    path.write_bytes(content)
    with pytest.raises(ConfigError) as e:
        yaml_io.load(path, error=ConfigError)
    assert e.value.location == Location(str(path), line)
    assert words in e.value.message


def test_a_utf8_byte_order_mark_is_read_past(tmp_path: Path) -> None:
    path = tmp_path / "f.yaml"
    path.write_bytes(codecs.BOM_UTF8 + b"a: 1\nb: 2\n")
    doc = yaml_io.load(path)
    assert doc.data == {"a": 1, "b": 2}
    assert doc.line(("b",)) == 2


@pytest.mark.parametrize("size", [yaml_io.MAX_FILE_BYTES + 1, BIG], ids=["limit-plus-one", "50-MiB"])
def test_a_file_over_the_size_limit_is_refused_from_its_size(tmp_path: Path, size: int) -> None:
    path = tmp_path / "f.yaml"
    with path.open("wb") as f:
        f.truncate(size)  # sparse: nothing on disk, NUL bytes if it were read (it must not be)
    with pytest.raises(BaselineError) as e:
        yaml_io.load(path, display="baseline/f.yaml")
    assert e.value.location == Location("baseline/f.yaml")
    assert e.value.message == (f"too large: {size:,} bytes, over the limit of 8 MiB for a baseline or config "
                               "file")


def test_a_file_of_exactly_the_limit_is_read(tmp_path: Path) -> None:
    path = tmp_path / "f.yaml"
    line = b"# " + b"x" * 1021 + b"\n"
    path.write_bytes(b"a: 1\n" + line * ((yaml_io.MAX_FILE_BYTES - 5) // len(line)))
    path.write_bytes(path.read_bytes().ljust(yaml_io.MAX_FILE_BYTES, b"\n"))
    assert path.stat().st_size == yaml_io.MAX_FILE_BYTES
    assert yaml_io.load(path).data == {"a": 1}


def test_the_largest_file_of_the_full_scale_benchmark_is_far_below_the_limit(tmp_path: Path) -> None:
    spec = importlib.util.spec_from_file_location("scale", REPO / "benchmarks" / "scale.py")
    assert spec is not None and spec.loader is not None
    scale = importlib.util.module_from_spec(spec)
    sys.modules["scale"] = scale
    try:
        spec.loader.exec_module(scale)
        account = scale.baseline(0.05)
    finally:
        del sys.modules["scale"]
    # Each file holds the same at every scale: a VPC has ACLS_PER_VPC ACLs of RULES_PER_ACL rules, a
    # namespace the full account's share of the policies; only the number of VPCs and clusters grows.
    full_share = scale.POLICIES // (scale.CLUSTERS * scale.NAMESPACES_PER_CLUSTER)
    assert len(account.clusters[0].policies) == full_share * len(account.clusters[0].namespaces)
    assert {len(v.acls) for v in account.vpcs} == {scale.ACLS_PER_VPC + 1}
    texts = render(account)
    rel, text = max(texts.items(), key=lambda item: len(item[1].encode()))
    assert 5_000 < len(text.encode()) < yaml_io.MAX_FILE_BYTES // 100, rel
    path = tmp_path / "largest.yaml"
    path.write_text(text, encoding="utf-8")
    assert yaml_io.load(path).data == yaml_io.loads(text, file=rel).data


def test_a_directory_is_not_read_as_a_file(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as e:
        yaml_io.load(tmp_path, error=ConfigError)
    assert e.value.location == Location(str(tmp_path))
    assert e.value.message == "not a regular file"


# --- messages stay short and on one line ---------------------------------------------------------


def assert_bounded(error: NetwardenError) -> None:
    text = str(error)
    assert len(text) < MESSAGE_LIMIT + FIELD_LIMIT + 200, len(text)
    assert "\n" not in text


@pytest.mark.parametrize(("text", "words"), [
    (f"? {'k' * BIG}\n: 1\n? {'k' * BIG}\n: 2\n", "duplicate key 'kkkk"),
    (f"a: !!int {'9' * BIG}\n", "is not a valid whole number"),
    (f"a: !!bool {'x' * BIG}\n", "more characters) is not a valid true or false value"),
    (f"a: !{'t' * BIG} x\n", "could not determine a constructor"),
], ids=["50-MB-duplicate-key", "50-MB-int", "50-MB-bool", "50-MB-tag"])
def test_a_huge_value_is_never_echoed_whole(text: str, words: str) -> None:
    with pytest.raises(BaselineError) as e:
        yaml_io.loads(text, file="f.yaml")
    assert words in str(e.value)
    assert "more characters)" in str(e.value)
    assert_bounded(e.value)


@pytest.mark.parametrize(("message", "field", "shows"), [
    ("m" * BIG, None, f"…({BIG - MESSAGE_LIMIT} more characters)"),
    ("unknown key", "k" * BIG, f"…({BIG - FIELD_LIMIT} more characters): unknown key"),
    ("two\nlines\r\n", "a\nb", "f.yaml:3: a\\nb: two\\nlines\\r\\n"),
], ids=["50-MB-message", "50-MB-field", "line-breaks"])
def test_an_error_prints_as_one_bounded_line(message: str, field: str | None, shows: str) -> None:
    error = BaselineError(message, location=Location("f.yaml", 3, field))
    assert shows in str(error)
    assert_bounded(error)


@pytest.mark.parametrize(("value", "expected"), [
    ("short", "'short'"),
    ("x" * 200, f"'{'x' * 80}'…(120 more characters)"),
    (b"\0" * 100, repr(b"\0" * 80) + "…(20 more characters)"),
    (list(range(1_000_000)), "[0, 1, 2, 3, 4, 5, ...]"),
    ({"a": [[[[1]]]]}, "{'a': [[[...]]]}"),
], ids=["short-string", "long-string", "long-bytes", "huge-list", "deep-mapping"])
def test_shown_quotes_a_value_within_bounds(value: Any, expected: str) -> None:
    assert shown(value) == expected


def test_clip_leaves_a_short_message_alone() -> None:
    assert clip("x" * MESSAGE_LIMIT) == "x" * MESSAGE_LIMIT
    assert clip("x" * (MESSAGE_LIMIT + 1)) == "x" * MESSAGE_LIMIT + "…(1 more characters)"
