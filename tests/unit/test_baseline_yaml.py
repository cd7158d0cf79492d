"""adapters.baseline_yaml: the fast load gives exactly the data ``yaml_io.loads`` gives, or steps aside."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from netwarden.adapters import baseline_yaml, yaml_io


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


TRICKY = ["443", "'443'", "yes", "no", "on", "true", "null", "~", "", " ", "0x1F", "0o17", "1_000", "1.5", ".inf",
          "2024-01-01", "a: b", "a:b", "a #b", "#a", "-a", "- a", "-", "...", "---", "=", "<<", "'", "''", "it's",
          "a  b", "a ", " a", "10.0.0.0/8", "2001:db8::/32", "app.kubernetes.io/name", "{}", "[]", "&a", "*a", "!t",
          "|", ">", "%", "@", "?", ",", "\t", "é", "a\nb", "\"q\""]
scalars = st.one_of(st.sampled_from(TRICKY), st.text(alphabet="ab09 -:#'._/=+~{}[],&*!|>%@?\"", max_size=6),
                    st.integers(-5, 70000), st.booleans(), st.none())
keys = st.one_of(st.sampled_from(TRICKY), st.text(alphabet="ab09 -:#'._/=", min_size=1, max_size=5))
documents = st.recursive(scalars, lambda inner: st.one_of(st.lists(inner, max_size=3),
                                                          st.dictionaries(keys, inner, max_size=3)), max_leaves=12)


def full(text: str) -> Any:
    try:
        return typed(yaml_io.loads(text, file="f.yaml").data)
    except Exception as e:  # any refusal at all
        return ("refused", type(e).__name__)


def block(text: str) -> Any:
    try:
        return typed(baseline_yaml._block_data(text))
    except baseline_yaml._NotBlock:
        return None


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(documents, st.integers(0, 400), st.sampled_from(["", " ", "-", "- ", ":", ": ", "#", "'", "\n", "\n ", "  ",
                                                          "...\n", "---\n", "a", "\t", "?", "1"]))
def test_the_line_by_line_path_reads_what_libyaml_reads_or_steps_aside(data: Any, where: int, insert: str) -> None:
    text = yaml_io.dumps(data)
    for candidate in (text, text[:where] + insert + text[where:]):
        got = block(candidate)
        if got is not None:
            assert got == full(candidate), candidate


def test_the_line_by_line_path_reads_what_the_baseline_writer_writes() -> None:
    text = yaml_io.dumps({"name": "acl-1", "rules": [
        {"name": "r", "action": "allow", "source": "10.0.0.0/8", "destination_port": 443, "source_port": "1-2",
         "labels": {"app.kubernetes.io/name": "x", "empty": "", "quoted": "a: b"}, "type": None, "list": [[1, "1"], []],
         "map": {}}]})
    assert block(text) == full(text)


@pytest.mark.parametrize("text", [
    "...\n", "a\n", "a\n...\n", "a: 1\n...\n", "---\na: 1\n", "a: 1\n---\nb: 2\n", "- a\nb: 1\n", "a:\n- 1\nb: 2\n",
    "a:\n  - 1\n  b: 2\n", "a: 1\n  b: 2\n", "- - a\n  b: 1\n", "- - a\n  - b\n- c\n", "a: b\n  c\n", "k:\n- a\n -b\n",
    "- a: 1\n  b: 2\n- c\n", "a:\n  b:\n  - x\n  c: y\nd: e\n", "a: -1\nb: '-1'\nc: 1-2\n", "a:\n\nb: 1\n", "a: b\n",
])
def test_the_line_by_line_path_on_the_edges_of_the_layout(text: str) -> None:
    got = block(text)
    assert got is None or got == full(text)
