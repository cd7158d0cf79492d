"""YAML in and out, with the line of every value kept, so an error can name file:line and field.

The config and every baseline file go through ``load``: one parse (libyaml when present) gives both
the data and a map from each value's path to its line. Duplicate keys, which PyYAML would silently
resolve to the last one, are errors here: in a reviewed baseline they are always a mistake. So are
anchors used as aliases: nothing netwarden reads needs them, and an alias bomb ("billion laughs") or
an anchor that contains its own alias would otherwise expand without bound in everything that walks
the data; the first alias is refused at the line of the node it repeats, before anything expands.

Every other way a file can be malformed is one error at its line as well, never an exception from
deep inside PyYAML: a file over ``MAX_FILE_BYTES`` (refused from its size, before it is read), bytes
that are not UTF-8 or characters YAML does not allow (at the line of the first one), a key that is a
list or a mapping, nesting deeper than ``MAX_DEPTH``, and a value its tag cannot hold (``2026-02-30``
or ``2026-01-01T25:00:00`` read as a timestamp, ``!!int x``).
"""

from __future__ import annotations

import codecs
import re
import stat
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from netwarden.core.errors import BaselineError, Location, NetwardenError, shown

_Base: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
_Dumper: Any = getattr(yaml, "CSafeDumper", yaml.SafeDumper)

PathKey = tuple[str | int, ...]

#: The largest baseline or config file read: about 800 times the largest file of the 100% scale
#: benchmark (``benchmarks/scale.py``: a VPC's ``subnets.yaml``, 10 kB).
MAX_FILE_BYTES = 8 * 1024 * 1024
#: The deepest nesting of mappings and lists read; a NetworkPolicy, the deepest file, needs about 10.
MAX_DEPTH = 100

# What YAML 1.1 lets a stream hold (PyYAML's reader refuses the rest; libyaml likewise).
_NOT_PRINTABLE = re.compile("[^\x09\x0A\x0D\x20-\x7E\x85\xA0-\uD7FF\uE000-\uFFFD\U00010000-\U0010FFFF]")
_BOMS = ((codecs.BOM_UTF32_LE, "UTF-32"), (codecs.BOM_UTF32_BE, "UTF-32"), (codecs.BOM_UTF16_LE, "UTF-16"),
         (codecs.BOM_UTF16_BE, "UTF-16"))
_TAG_WORDS = {"timestamp": "date or time", "int": "whole number", "float": "number", "bool": "true or false value",
              "binary": "base64 value", "null": "null"}
_CONSTRUCT_ERRORS = (ArithmeticError, AttributeError, LookupError, TypeError, ValueError)


class _BadValue(Exception):
    """A node PyYAML's constructor could not turn into a value; carries the node for its line."""

    def __init__(self, node: yaml.Node, cause: Exception) -> None:
        super().__init__(str(cause))
        self.node, self.cause = node, cause


def _checked(base: Any) -> Any:
    class Loader(base):  # type: ignore[misc]
        """The safe loader, with a constructor failure pinned to the node that caused it."""

        def construct_object(self, node: yaml.Node, deep: bool = False) -> Any:
            try:
                return super().construct_object(node, deep=deep)
            except _CONSTRUCT_ERRORS as e:
                raise _BadValue(node, e) from e

    return Loader


_Loader: Any = _checked(_Base)
_PythonLoader: Any = _checked(yaml.SafeLoader)  # what ``_Loader`` is where PyYAML has no libyaml


@dataclass(frozen=True, slots=True)
class YamlDoc:
    """A parsed file: ``data``, and ``lines[path]`` the 1-based line of each key or item."""

    file: str
    data: Any
    lines: Mapping[PathKey, int] = field(default_factory=dict)

    def line(self, path: PathKey) -> int | None:
        """The line of ``path``, or of its nearest ancestor that has one."""
        if not self.lines:
            return None
        for cut in range(len(path), -1, -1):
            found = self.lines.get(path[:cut])
            if found is not None:
                return found
        return None

    def where(self, path: PathKey, field_name: str | None = None) -> Location:
        return Location(self.file, self.line(path), field_name if field_name is not None else dotted(path))


def dotted(path: PathKey) -> str:
    """``("rules", 3, "source")`` -> ``rules[3].source``."""
    out = ""
    for part in path:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


def _record(root: yaml.Node, lines: dict[PathKey, int], doc: str, *, error: type[NetwardenError]) -> None:
    """Fill ``lines`` from the node tree, refusing aliases, duplicate keys, keys that are not scalars
    and nesting deeper than ``MAX_DEPTH``; iterative, so no depth can exhaust the stack."""
    seen_nodes: set[int] = set()
    stack: list[tuple[yaml.Node, PathKey]] = [(root, ())]
    while stack:
        node, path = stack.pop()
        if id(node) in seen_nodes:
            raise error(f"YAML aliases are not supported: write the value out (the alias at {dotted(path) or 'the top'}"
                        " repeats the anchored node at this line)", location=Location(doc, node.start_mark.line + 1))
        seen_nodes.add(id(node))
        if isinstance(node, yaml.ScalarNode):
            continue
        if len(path) >= MAX_DEPTH:
            raise _too_deep(doc, node.start_mark.line + 1, error)
        children: list[tuple[yaml.Node, PathKey]] = []
        if isinstance(node, yaml.MappingNode):
            seen: set[str] = set()
            for key_node, value_node in node.value:
                line = key_node.start_mark.line + 1
                if not isinstance(key_node, yaml.ScalarNode):
                    kind = "a list" if isinstance(key_node, yaml.SequenceNode) else "a mapping"
                    raise error(f"a key must be a name or a number, not {kind}",
                                location=Location(doc, line, dotted(path) or None))
                key = key_node.value
                if key in seen:
                    raise error(f"duplicate key {shown(key)}", location=Location(doc, line, dotted((*path, key))))
                seen.add(key)
                lines[(*path, key)] = line
                children.append((value_node, (*path, key)))
        elif isinstance(node, yaml.SequenceNode):
            for index, item in enumerate(node.value):
                lines[(*path, index)] = item.start_mark.line + 1
                children.append((item, (*path, index)))
        stack.extend(reversed(children))  # depth first, in file order: the first problem is the one named


def _too_deep(file: str, line: int | None, error: type[NetwardenError]) -> NetwardenError:
    return error(f"nested too deeply: at most {MAX_DEPTH} levels of mappings and lists",
                 location=Location(file, line))


def _deep_line(text: str) -> int | None:
    """The line where nesting passes ``MAX_DEPTH``, from the event stream (which needs no recursion)."""
    depth = 0
    try:
        for event in yaml.parse(text, Loader=_Loader):
            if isinstance(event, yaml.CollectionStartEvent):
                depth += 1
                if depth > MAX_DEPTH:
                    return None if event.start_mark is None else int(event.start_mark.line) + 1
            elif isinstance(event, yaml.CollectionEndEvent):
                depth -= 1
    except yaml.YAMLError:
        return None
    return None


def _path_of(root: yaml.Node, target: yaml.Node) -> PathKey:
    """The path of ``target`` below ``root`` (a key node has the path of its entry)."""
    stack: list[tuple[yaml.Node, PathKey]] = [(root, ())]
    while stack:
        node, path = stack.pop()
        if node is target:
            return path
        if isinstance(node, yaml.MappingNode):
            for key_node, value_node in node.value:
                key = key_node.value if isinstance(key_node, yaml.ScalarNode) else "?"
                if key_node is target:
                    return (*path, key)
                stack.append((value_node, (*path, key)))
        elif isinstance(node, yaml.SequenceNode):
            stack.extend((item, (*path, i)) for i, item in enumerate(node.value))
    return ()


def _bad_value(e: _BadValue, root: yaml.Node, file: str, error: type[NetwardenError]) -> NetwardenError:
    tag = str(e.node.tag).rsplit(":", 1)[-1]
    what = _TAG_WORDS.get(tag, f"{tag} value")
    reason = str(e.cause) if isinstance(e.cause, ValueError) else "not in the form it needs"
    quote = "; quote it if it is meant as text" if _implicit(e.node) else ""
    return error(f"{shown(e.node.value)} is not a valid {what} ({reason}){quote}",
                 location=Location(file, e.node.start_mark.line + 1, dotted(_path_of(root, e.node)) or None))


def _implicit(node: yaml.Node) -> bool:
    """Whether ``node`` has its tag from its spelling alone (so quoting it makes it a string)."""
    value = node.value if isinstance(node.value, str) else ""
    resolvers = yaml.resolver.Resolver.yaml_implicit_resolvers.get(value[:1], [])
    plain = not getattr(node, "style", None)
    return plain and any(tag == node.tag and regexp.match(value) for tag, regexp in resolvers)


def check_text(text: str, *, file: str, error: type[NetwardenError] = BaselineError) -> None:
    """Refuse a character YAML does not allow, at its line (PyYAML's own error names only an offset)."""
    bad = _NOT_PRINTABLE.search(text)
    if bad is not None:
        at = bad.start()
        column = at - text.rfind("\n", 0, at)
        name = " (NUL)" if bad.group() == "\0" else ""
        raise error(f"character U+{ord(bad.group()):04X}{name} at column {column} is not allowed in YAML "
                    "(write it as an escape in a double-quoted string)",
                    location=Location(file, text.count("\n", 0, at) + 1))


def loads(text: str, *, file: str, error: type[NetwardenError] = BaselineError) -> YamlDoc:
    """Parse one YAML document; every problem becomes ``error`` at its line (the parser's, for syntax)."""
    check_text(text, file=file, error=error)
    loader = _Loader(text)
    try:
        node = loader.get_single_node()
        if node is None:
            return YamlDoc(file, None, {(): 1})
        lines: dict[PathKey, int] = {(): node.start_mark.line + 1}
        _record(node, lines, file, error=error)
        try:
            data = loader.construct_document(node)
        except _BadValue as e:
            raise _bad_value(e, node, file, error) from e.cause
    except yaml.MarkedYAMLError as e:
        mark = e.problem_mark or e.context_mark
        line = mark.line + 1 if mark is not None else None
        problem = str(e.problem or e.context)
        if "nesting depth" in problem:  # libyaml's own limit (1,000 levels): name where ours is passed
            raise _too_deep(file, _deep_line(text) or line, error) from None
        raise error(f"YAML syntax: {problem}", location=Location(file, line)) from e
    except yaml.YAMLError as e:
        raise error(f"YAML syntax: {e}", location=Location(file)) from e
    except RecursionError:  # PyYAML's pure-Python composer recurses once per level
        raise _too_deep(file, _deep_line(text), error) from None
    finally:
        loader.dispose()
    return YamlDoc(file, data, lines)


def check_size(size: int, *, file: str, error: type[NetwardenError] = BaselineError) -> None:
    if size > MAX_FILE_BYTES:
        raise error(f"too large: {size:,} bytes, over the limit of {MAX_FILE_BYTES // (1024 * 1024)} MiB for a "
                    "baseline or config file", location=Location(file))


def read_text(path: Path, *, display: str | None = None, error: type[NetwardenError] = BaselineError) -> str:
    """The text of a UTF-8 file, its size checked before anything is read; any problem is ``error``."""
    name = display or str(path)
    try:
        info = path.stat()
        if not stat.S_ISREG(info.st_mode):
            raise error("not a regular file", location=Location(name))
        check_size(info.st_size, file=name, error=error)
        with path.open("rb") as f:
            data = f.read(MAX_FILE_BYTES + 1)  # a file that grew since is still read no further
    except OSError as e:
        raise error(f"cannot read: {e.__class__.__name__}: {e.strerror or e}", location=Location(name)) from e
    check_size(len(data), file=name, error=error)
    return decode(data, file=name, error=error)


def decode(data: bytes, *, file: str, error: type[NetwardenError] = BaselineError) -> str:
    """UTF-8 bytes as text (a UTF-8 byte order mark dropped); anything else is ``error`` at the line of
    the first bad byte."""
    for bom, encoding in _BOMS:
        if data.startswith(bom):
            raise error(f"the file is {encoding} (it starts with a {encoding} byte order mark): save it as UTF-8",
                        location=Location(file, 1))
    if data.startswith(codecs.BOM_UTF8):
        data = data[len(codecs.BOM_UTF8):]
    nul = data.find(b"\0")
    if nul >= 0:
        column = nul - data.rfind(b"\n", 0, nul)
        raise error(f"a NUL byte at column {column}: YAML does not allow it (a UTF-16 "
                    "file without a byte order mark? save it as UTF-8)",
                    location=Location(file, data.count(b"\n", 0, nul) + 1))
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as e:
        column = e.start - data.rfind(b"\n", 0, e.start)
        raise error(f"not UTF-8: byte 0x{data[e.start]:02X} at column {column} ({e.reason}); save the file as UTF-8",
                    location=Location(file, data.count(b"\n", 0, e.start) + 1)) from None


def load(path: Path, *, display: str | None = None, error: type[NetwardenError] = BaselineError) -> YamlDoc:
    name = display or str(path)
    return loads(read_text(path, display=name, error=error), file=name, error=error)


def dumps(data: Any) -> str:
    """Block-style YAML with keys in the order given (callers pass them in a stable order)."""
    text = yaml.dump(data, Dumper=_Dumper, sort_keys=False, default_flow_style=False, allow_unicode=True, width=120)
    return str(text)
