"""YAML in and out, with the line of every value kept, so an error can name file:line and field.

The config and every baseline file go through ``load``: one parse (libyaml when present) gives both
the data and a map from each value's path to its line. Duplicate keys, which PyYAML would silently
resolve to the last one, are errors here: in a reviewed baseline they are always a mistake. So are
anchors used as aliases: nothing netwarden reads needs them, and an alias bomb ("billion laughs") or
an anchor that contains its own alias would otherwise expand without bound in everything that walks
the data; the first alias is refused at the line of the node it repeats, before anything expands.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from netwarden.core.errors import BaselineError, Location, NetwardenError

_Loader: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
_Dumper: Any = getattr(yaml, "CSafeDumper", yaml.SafeDumper)

PathKey = tuple[str | int, ...]


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


def _record(node: yaml.Node, path: PathKey, lines: dict[PathKey, int], doc: str, *, error: type[NetwardenError],
            seen_nodes: set[int]) -> None:
    if id(node) in seen_nodes:
        raise error(f"YAML aliases are not supported: write the value out (the alias at {dotted(path) or 'the top'}"
                    " repeats the anchored node at this line)", location=Location(doc, node.start_mark.line + 1))
    seen_nodes.add(id(node))
    if isinstance(node, yaml.MappingNode):
        seen: set[Any] = set()
        for key_node, value_node in node.value:
            key = key_node.value
            line = key_node.start_mark.line + 1
            if key in seen:
                raise error(f"duplicate key {key!r}", location=Location(doc, line, dotted((*path, key))))
            seen.add(key)
            lines[(*path, key)] = line
            _record(value_node, (*path, key), lines, doc, error=error, seen_nodes=seen_nodes)
    elif isinstance(node, yaml.SequenceNode):
        for index, item in enumerate(node.value):
            lines[(*path, index)] = item.start_mark.line + 1
            _record(item, (*path, index), lines, doc, error=error, seen_nodes=seen_nodes)


def loads(text: str, *, file: str, error: type[NetwardenError] = BaselineError) -> YamlDoc:
    """Parse one YAML document; syntax errors become ``error`` at the line the parser stopped."""
    loader = _Loader(text)
    try:
        node = loader.get_single_node()
        if node is None:
            return YamlDoc(file, None, {(): 1})
        lines: dict[PathKey, int] = {(): node.start_mark.line + 1}
        _record(node, (), lines, file, error=error, seen_nodes=set())
        data = loader.construct_document(node)
    except yaml.MarkedYAMLError as e:
        mark = e.problem_mark or e.context_mark
        line = mark.line + 1 if mark is not None else None
        raise error(f"YAML syntax: {e.problem or e.context}", location=Location(file, line)) from e
    except yaml.YAMLError as e:
        raise error(f"YAML syntax: {e}", location=Location(file)) from e
    finally:
        loader.dispose()
    return YamlDoc(file, data, lines)


def load(path: Path, *, display: str | None = None, error: type[NetwardenError] = BaselineError) -> YamlDoc:
    name = display or str(path)
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as e:
        raise error(f"cannot read: {e.__class__.__name__}: {getattr(e, 'strerror', None) or e}",
                    location=Location(name)) from e
    return loads(text, file=name, error=error)


def dumps(data: Any) -> str:
    """Block-style YAML with keys in the order given (callers pass them in a stable order)."""
    text = yaml.dump(data, Dumper=_Dumper, sort_keys=False, default_flow_style=False, allow_unicode=True, width=120)
    return str(text)
