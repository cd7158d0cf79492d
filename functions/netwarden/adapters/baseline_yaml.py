"""A faster YAML load for the happy path of reading a large baseline; ``yaml_io`` for everything else.

Reading a baseline the size of a large account (2,500 ACL files, 100,000 rules) is mostly YAML
work: ``yaml_io.loads`` builds every node with its marks, records the line of every value and then
runs PyYAML's generic constructor. ``check`` needs no line numbers unless something is wrong, so
``fast_data`` parses with libyaml, resolves implicit tags through a memo (a baseline repeats the
same keys and values thousands of times) and builds plain mappings, lists and strings directly,
leaving only non-string scalars (ports, ICMP codes, nulls, booleans) to PyYAML's constructor.

It returns ``NOT_PLAIN`` for anything out of the ordinary: a syntax error, a duplicate key, an
alias (``yaml_io`` refuses it), a merge key, an explicit tag, a non-string key, a value its tag cannot
hold (``2026-02-30``), nesting deeper than ``yaml_io.MAX_DEPTH``. The caller then reads
the file with ``yaml_io.loads``, whose result and error messages are the reference; it does the same for any file
whose content turns out to be invalid, so that every error still names its line.
"""

from __future__ import annotations

from typing import Any

import yaml

from netwarden.adapters.yaml_io import MAX_DEPTH

_STR, _MAP, _SEQ = "tag:yaml.org,2002:str", "tag:yaml.org,2002:map", "tag:yaml.org,2002:seq"
_Base: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
_MEMO_LIMIT = 200_000
_memo: dict[str, str] = {}
_SCALARS: dict[tuple[str, str], Any] = {}  # (tag, text) -> value, for the immutable int/null/bool scalars
_TIMESTAMP = "tag:yaml.org,2002:timestamp"
_CACHED_TAGS = frozenset({"tag:yaml.org,2002:int", "tag:yaml.org,2002:null", "tag:yaml.org,2002:bool"})

NOT_PLAIN: Any = object()


class _Loader(_Base):  # type: ignore[misc]
    """Plain scalars resolved through the memo; quoted ones, mappings and sequences by their kind alone,
    as ``BaseResolver.resolve`` does when there are no path resolvers (the safe loader has none)."""

    def resolve(self, kind: Any, value: Any, implicit: Any) -> Any:
        if kind is not yaml.ScalarNode:
            return _SEQ if kind is yaml.SequenceNode else _MAP if kind is yaml.MappingNode else None
        if not implicit[0]:
            return _STR
        tag = _memo.get(value)
        if tag is None:
            if len(_memo) > _MEMO_LIMIT:
                _memo.clear()
            tag = _memo[value] = super().resolve(kind, value, implicit)
        return tag

    def descend_resolver(self, current_node: Any, current_index: Any) -> None:
        """Nothing to track: there are no path resolvers."""

    def ascend_resolver(self) -> None:
        """Nothing to track: there are no path resolvers."""


class _NotPlain(Exception):
    pass


def fast_data(text: str, *, portable: bool = False) -> Any:
    """The data of a plain YAML document (block mappings, lists and scalars), or ``NOT_PLAIN``;
    ``portable``: also ``NOT_PLAIN`` for a timestamp, the one value a plain document can hold that
    JSON and MessagePack do not carry as it is (``baseline_prefetch`` sends the data on)."""
    loader = _Loader(text)
    loader.portable = portable
    try:
        node = loader.get_single_node()
        return None if node is None else _build(node, loader, set(), 0)
    except (yaml.YAMLError, _NotPlain, ArithmeticError, AttributeError, LookupError, TypeError, ValueError,
            RecursionError):  # each a problem ``yaml_io.loads`` names at its line
        return NOT_PLAIN
    finally:
        loader.dispose()


def _build(node: Any, loader: Any, seen: set[int], depth: int) -> Any:
    if id(node) in seen:  # an alias: ``yaml_io`` refuses it at its line
        raise _NotPlain
    seen.add(id(node))
    if isinstance(node, yaml.ScalarNode):
        return _scalar(node, loader)
    if depth >= MAX_DEPTH:
        raise _NotPlain
    if isinstance(node, yaml.MappingNode) and node.tag == _MAP:
        out: dict[str, Any] = {}
        for key_node, value_node in node.value:
            if not isinstance(key_node, yaml.ScalarNode) or key_node.tag != _STR or key_node.value in out:
                raise _NotPlain
            out[key_node.value] = _build(value_node, loader, seen, depth + 1)
        return out
    if isinstance(node, yaml.SequenceNode) and node.tag == _SEQ:
        return [_build(item, loader, seen, depth + 1) for item in node.value]
    raise _NotPlain


def _scalar(node: Any, loader: Any) -> Any:
    tag, text = node.tag, node.value
    if tag == _STR:
        return text
    if tag not in _CACHED_TAGS:
        if tag == _TIMESTAMP and loader.portable:
            raise _NotPlain
        return loader.construct_object(node, deep=True)
    key = (tag, text)
    value = _SCALARS.get(key, _SCALARS)
    if value is _SCALARS:
        if len(_SCALARS) > _MEMO_LIMIT:
            _SCALARS.clear()
        value = _SCALARS[key] = loader.construct_object(node, deep=True)
    return value
