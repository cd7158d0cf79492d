"""adapters.baseline_yaml: the fast load gives exactly the data ``yaml_io.loads`` gives, or steps aside."""

from __future__ import annotations

from typing import Any

import pytest

from netwarden.adapters import baseline_yaml, yaml_io
from netwarden.core.errors import BaselineError


def typed(value: Any) -> Any:
    """``value`` with the type of every scalar spelt out, so that ``1``, ``True`` and ``"1"`` differ."""
    if isinstance(value, dict):
        return {k: typed(v) for k, v in value.items()}
    if isinstance(value, list):
        return [typed(v) for v in value]
    return (type(value).__name__, value)


DOCUMENTS = {
    "plain-and-quoted-numbers": "a: 443\nb: '443'\nc: \"443\"\nd: 443\n",
    "quoted-first": "a: '80'\nb: 80\n",
    "booleans-and-nulls": "a: yes\nb: 'yes'\nc: true\nd: True\ne: ~\nf: null\ng: 'null'\nh:\ni: ''\n",
    "int-spellings": "a: 0x1F\nb: 0o17\nc: 1_000\nd: -5\ne: '0x1F'\nf: +12\n",
    "floats-and-dates": "a: 1.5\nb: '1.5'\nc: 2024-01-01\nd: '2024-01-01'\ne: .inf\n",
    "lists": "rules:\n- name: a\n  port: 22\n- name: b\n  port: '22'\n- 7\n- '7'\n- []\n- {}\n",
    "empty": "",
    "flow": "a: {b: 1, c: '1'}\nd: [1, '1', x]\n",
}


@pytest.mark.parametrize("text", list(DOCUMENTS.values()), ids=list(DOCUMENTS))
def test_fast_data_is_what_the_full_load_gives(text: str) -> None:
    expected = typed(yaml_io.loads(text, file="f.yaml").data)
    assert typed(baseline_yaml.fast_data(text)) == expected
    assert typed(baseline_yaml.fast_data(text)) == expected  # again, now from the memos


@pytest.mark.parametrize(("first", "second"), [("a: 443\n", "a: '443'\n"), ("a: '443'\n", "a: 443\n"),
                                               ("a: true\n", "a: 'true'\n"), ("a: ~\n", "a: '~'\n")])
def test_a_memo_never_carries_a_plain_scalar_over_to_a_quoted_one(first: str, second: str) -> None:
    baseline_yaml.fast_data(first)
    assert typed(baseline_yaml.fast_data(second)) == typed(yaml_io.loads(second, file="f.yaml").data)


@pytest.mark.parametrize("text", [
    "a: &x 1\nb: *x\n",
    "a: 1\na: 2\n",
    "1: a\n",
    "a: !!str 1\nb: !custom x\n",
    "<<: {a: 1}\n",
    "a: [\n",
])
def test_anything_out_of_the_ordinary_is_left_to_the_full_load(text: str) -> None:
    result = baseline_yaml.fast_data(text)
    assert result is baseline_yaml.NOT_PLAIN or typed(result) == typed(yaml_io.loads(text, file="f.yaml").data)


@pytest.mark.parametrize("text", [
    "expires: 2026-02-30\n",
    "a:\n- 2026-01-01T25:00:00\n",
    "2026-13-45: x\n",
    "a: !!int x\n",
    "a: !!bool x\n",
    "? [a, b]\n: x\n",
    "{a: 1}: x\n",
    "a: b\0c\n",
    "[" * 999 + "]" * 999,
    "[" * 100_000,
    "".join(f"{'  ' * i}k{i}:\n" for i in range(101)),
], ids=["february-30", "hour-25", "month-13-key", "tagged-int", "tagged-bool", "list-key", "mapping-key", "nul",
        "nesting-999", "nesting-100000", "nesting-block-101"])
def test_a_malformed_document_is_left_to_the_full_load_which_names_its_line(text: str) -> None:
    assert baseline_yaml.fast_data(text) is baseline_yaml.NOT_PLAIN
    with pytest.raises(BaselineError) as e:
        yaml_io.loads(text, file="f.yaml")
    assert e.value.location is not None and e.value.location.line is not None


@pytest.mark.parametrize("text", list(DOCUMENTS.values()), ids=list(DOCUMENTS))
def test_portable_data_is_the_same_data_or_steps_aside_for_a_timestamp(text: str) -> None:
    result = baseline_yaml.fast_data(text, portable=True)
    if "2024-01-01\n" in text.replace("'2024-01-01'", ""):
        assert result is baseline_yaml.NOT_PLAIN
    else:
        assert typed(result) == typed(baseline_yaml.fast_data(text))
