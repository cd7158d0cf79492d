"""A faster YAML load for the happy path of reading a large baseline; ``yaml_io`` for everything else.

Reading a baseline the size of a large account (2,500 ACL files, 100,000 rules) is mostly YAML
work: ``yaml_io.loads`` builds every node with its marks, records the line of every value and then
runs PyYAML's generic constructor. ``check`` needs no line numbers unless something is wrong, so
``fast_data`` parses with libyaml, resolves implicit tags through a memo (a baseline repeats the
same keys and values thousands of times) and builds plain mappings, lists and strings directly,
leaving only non-string scalars (ports, ICMP codes, nulls, booleans) to PyYAML's constructor.

Before libyaml, ``fast_data`` tries the block layout ``yaml_io.dumps`` writes, line by line: printable
ASCII, block mappings and sequences (``- `` items, a key's list at the key's own indentation), keys and
plain scalars of a conservative alphabet, single-quoted scalars on one line, ``{}`` and ``[]``. Plain
scalars are resolved by PyYAML's own resolver (through the memo), and only strings, whole numbers,
nulls and booleans are taken. Anything else in a file (a comment, a tab, trailing spaces, a double
quote, a flow collection, a scalar over several lines, an indentation it does not expect) sends the
whole file to libyaml, so what this path returns is always what libyaml would.

It returns ``NOT_PLAIN`` for anything out of the ordinary: a syntax error, a duplicate key, an
anchor or alias, a merge key, an explicit tag, a non-string key. The caller then reads the file with
``yaml_io.loads``, whose result and error messages are the reference; it does the same for any file
whose content turns out to be invalid, so that every error still names its line.
"""

from __future__ import annotations

import re
from typing import Any

import yaml

_STR, _MAP, _SEQ = "tag:yaml.org,2002:str", "tag:yaml.org,2002:map", "tag:yaml.org,2002:seq"
_Base: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
_MEMO_LIMIT = 200_000
_memo: dict[str, str] = {}
_SCALARS: dict[tuple[str, str], Any] = {}  # (tag, text) -> value, for the immutable int/null/bool scalars
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


def fast_data(text: str) -> Any:
    """The data of a plain YAML document (block mappings, lists and scalars), or ``NOT_PLAIN``."""
    try:
        return _block_data(text)
    except _NotBlock:
        pass
    loader = _Loader(text)
    try:
        node = loader.get_single_node()
        return None if node is None else _build(node, loader, set())
    except (yaml.YAMLError, _NotPlain):
        return NOT_PLAIN
    finally:
        loader.dispose()


def _build(node: Any, loader: Any, seen: set[int]) -> Any:
    if isinstance(node, yaml.ScalarNode):
        return _scalar(node, loader)
    if id(node) in seen:  # an alias: leave sharing and recursion to PyYAML
        raise _NotPlain
    seen.add(id(node))
    if isinstance(node, yaml.MappingNode) and node.tag == _MAP:
        out: dict[str, Any] = {}
        for key_node, value_node in node.value:
            if not isinstance(key_node, yaml.ScalarNode) or key_node.tag != _STR or key_node.value in out:
                raise _NotPlain
            if isinstance(value_node, yaml.ScalarNode):
                out[key_node.value] = value_node.value if value_node.tag == _STR else _scalar(value_node, loader)
            else:
                out[key_node.value] = _build(value_node, loader, seen)
        return out
    if isinstance(node, yaml.SequenceNode) and node.tag == _SEQ:
        return [_build(item, loader, seen) for item in node.value]
    raise _NotPlain


def _scalar(node: Any, loader: Any) -> Any:
    tag, text = node.tag, node.value
    if tag == _STR:
        return text
    if tag not in _CACHED_TAGS:
        return loader.construct_object(node, deep=True)
    key = (tag, text)
    value = _SCALARS.get(key, _SCALARS)
    if value is _SCALARS:
        if len(_SCALARS) > _MEMO_LIMIT:
            _SCALARS.clear()
        value = _SCALARS[key] = loader.construct_object(node, deep=True)
    return value


# --- the block layout yaml_io.dumps writes, without libyaml --------------------------------------

_INT, _NULL, _BOOL = "tag:yaml.org,2002:int", "tag:yaml.org,2002:null", "tag:yaml.org,2002:bool"
_RESOLVER: Any = yaml.resolver.Resolver()  # the implicit resolvers the safe loaders use
_KEY_LINE = re.compile(r"([A-Za-z0-9_][A-Za-z0-9_./-]*):(?: (.+))?")
_PLAIN_TEXT = re.compile(r"[A-Za-z0-9_./+=][A-Za-z0-9_./+=:-]*(?: [A-Za-z0-9_./+=:-]+)*")
_QUOTED_TEXT = re.compile(r"'(?:[^'\x00-\x1f\x7f]|'')*'")
_PRINTABLE = re.compile(r"[ -~\n]*")
_plain_values: dict[str, Any] = {}
_ITEM, _KEY, _SCALAR = 0, 1, 2
_Token = tuple[int, int, Any, Any]  # (indentation, _ITEM/_KEY/_SCALAR, key, value text or None)


class _NotBlock(Exception):
    pass


def _block_data(text: str) -> Any:
    if not text.endswith("\n") or not _PRINTABLE.fullmatch(text):
        raise _NotBlock
    tokens: list[_Token] = []
    for line in text[:-1].split("\n"):
        content = line.lstrip(" ")
        indent = len(line) - len(content)
        while content[:2] == "- ":
            tokens.append((indent, _ITEM, None, None))
            indent += 2
            content = content[2:]
        if not content or content[0] == " " or content[-1] == " ":
            raise _NotBlock
        match = _KEY_LINE.fullmatch(content)
        if match:
            tokens.append((indent, _KEY, match.group(1), match.group(2)))
        elif indent:  # a scalar at column 0 would be a whole document, or a marker (``...``)
            tokens.append((indent, _SCALAR, None, content))
        else:
            raise _NotBlock
    if tokens[0][0] != 0:
        raise _NotBlock
    value, pos = _block_node(tokens, 0)
    if pos != len(tokens):
        raise _NotBlock
    return value


def _block_node(tokens: list[_Token], pos: int) -> tuple[Any, int]:
    indent, kind, _, text = tokens[pos]
    if kind == _SCALAR:
        return _block_scalar(text), pos + 1
    if kind == _ITEM:
        return _block_sequence(tokens, pos, indent, False)
    return _block_mapping(tokens, pos, indent)


def _block_sequence(tokens: list[_Token], pos: int, indent: int, under_key: bool) -> tuple[list[Any], int]:
    """The items at ``indent``; ``under_key``: a key's list at the key's indentation, ended by the next key."""
    out: list[Any] = []
    end = len(tokens)
    while pos < end:
        at, kind, _, _ = tokens[pos]
        if at < indent or (under_key and at == indent and kind == _KEY):
            break
        if at != indent or kind != _ITEM:
            raise _NotBlock
        pos += 1
        if pos < end and tokens[pos][0] > indent:
            item, pos = _block_node(tokens, pos)
        else:
            item = None
        out.append(item)
    return out, pos


def _block_mapping(tokens: list[_Token], pos: int, indent: int) -> tuple[dict[str, Any], int]:
    out: dict[str, Any] = {}
    end = len(tokens)
    while pos < end:
        at, kind, key, text = tokens[pos]
        if at < indent:
            break
        if at != indent or kind != _KEY or key in out or not isinstance(_plain(key), str):
            raise _NotBlock
        pos += 1
        if text is not None:
            out[key] = _block_scalar(text)
        elif pos < end and tokens[pos][0] > indent:
            out[key], pos = _block_node(tokens, pos)
        elif pos < end and tokens[pos][0] == indent and tokens[pos][1] == _ITEM:
            out[key], pos = _block_sequence(tokens, pos, indent, True)
        else:
            out[key] = None
    return out, pos


def _block_scalar(text: str) -> Any:
    if text == "{}":
        return {}
    if text == "[]":
        return []
    if text[0] == "'":
        if not _QUOTED_TEXT.fullmatch(text):
            raise _NotBlock
        return text[1:-1].replace("''", "'")
    return _plain(text)


def _plain(text: str) -> Any:
    """A plain scalar's value: a string, or a whole number, null or boolean as PyYAML constructs it."""
    value = _plain_values.get(text, _plain_values)
    if value is not _plain_values:
        return value
    if not _PLAIN_TEXT.fullmatch(text) or ": " in text or text.endswith(":"):
        raise _NotBlock
    tag = _memo.get(text)
    if tag is None:
        tag = _RESOLVER.resolve(yaml.ScalarNode, text, (True, False))
    if tag == _STR:
        value = text
    elif tag in (_INT, _NULL, _BOOL):
        try:
            value = yaml.load(text, Loader=_Base)
        except Exception as e:  # whatever the constructor makes of it, libyaml's path does the same
            raise _NotBlock from e
    else:
        raise _NotBlock
    if len(_plain_values) > _MEMO_LIMIT:
        _plain_values.clear()
    _plain_values[text] = value
    return value
