"""The three PATCH formats of the Kubernetes API, applied to plain JSON objects.

* JSON merge patch (RFC 7386, ``application/merge-patch+json``): maps merge, ``null`` deletes, lists
  are replaced. ``kubectl label`` and ``annotate`` send it.
* Strategic merge patch (``application/strategic-merge-patch+json``): a merge patch that knows which
  lists merge by key (containers by ``name``) and which are sets (``finalizers``), plus the
  ``$patch``, ``$retainKeys``, ``$setElementOrder/`` and ``$deleteFromPrimitiveList/`` directives.
  ``kubectl apply`` (client side) sends it, built from the last-applied annotation.
* JSON patch (RFC 6902, ``application/json-patch+json``): a list of add/remove/replace/move/copy/test.

Which lists merge is ``kinds.MERGE_KEYS``; every other list is atomic, as it is for a NetworkPolicy.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from typing import Any

from netwarden.fakes.kube.exceptions import BadRequest, PatchFailed
from netwarden.fakes.kube.kinds import MERGE_KEYS

_DELETE = object()
_ORDER = "$setElementOrder/"
_DELETE_PRIMITIVES = "$deleteFromPrimitiveList/"


def merge_patch(target: Any, patch: Any) -> Any:
    """RFC 7386."""
    if not isinstance(patch, dict):
        return copy.deepcopy(patch)
    out = dict(target) if isinstance(target, dict) else {}
    for key, value in patch.items():
        if value is None:
            out.pop(key, None)
        else:
            out[key] = merge_patch(out.get(key), value)
    return out


def strategic_merge_patch(target: Mapping[str, Any], patch: Any,
                          merge_keys: Mapping[tuple[str, ...], str] = MERGE_KEYS) -> dict[str, Any]:
    if not isinstance(patch, dict):
        raise BadRequest("json: cannot unmarshal array into Go value of type map[string]interface {}")
    result = _merge_map(dict(target), patch, (), merge_keys)
    return {} if result is _DELETE else dict(result)


def _merge_map(original: dict[str, Any], patch: dict[str, Any], path: tuple[str, ...],
               keys: Mapping[tuple[str, ...], str]) -> Any:
    directive = patch.get("$patch")
    if directive == "delete":
        return _DELETE
    if directive == "replace":
        return _clean(patch)
    if directive not in (None, "merge"):
        raise BadRequest(f"Unknown patch type: {directive} in map: {patch}")
    out = dict(original)
    retain = patch.get("$retainKeys")
    if isinstance(retain, list):
        out = {k: v for k, v in out.items() if k in retain}
    for key, value in patch.items():
        if key in ("$patch", "$retainKeys") or key.startswith(_ORDER):
            continue
        if key.startswith(_DELETE_PRIMITIVES):
            field = key[len(_DELETE_PRIMITIVES):]
            if isinstance(out.get(field), list) and isinstance(value, list):
                out[field] = [v for v in out[field] if v not in value]
            continue
        sub = (*path, key)
        if value is None:
            out.pop(key, None)
        elif isinstance(value, dict) and isinstance(out.get(key), dict):
            merged = _merge_map(out[key], value, sub, keys)
            if merged is _DELETE:
                out.pop(key, None)
            else:
                out[key] = merged
        elif isinstance(value, list) and sub in keys:
            out[key] = _merge_list(out.get(key) or [], value, sub, keys)
        else:
            cleaned = _clean(value)
            if cleaned is _DELETE:
                out.pop(key, None)
            else:
                out[key] = cleaned
    for key, order in patch.items():
        if key.startswith(_ORDER) and isinstance(out.get(key[len(_ORDER):]), list) and isinstance(order, list):
            field = key[len(_ORDER):]
            out[field] = _reorder(out[field], order, keys.get((*path, field), ""))
    return out


def _merge_list(original: list[Any], patch: list[Any], path: tuple[str, ...],
                keys: Mapping[tuple[str, ...], str]) -> list[Any]:
    key = keys[path]
    if any(isinstance(p, dict) and p.get("$patch") == "replace" for p in patch):
        return [_clean(p) for p in patch if not (isinstance(p, dict) and "$patch" in p)]
    if not key:  # a set of scalars
        return list(original) + [p for p in patch if p not in original]
    out = [copy.deepcopy(o) for o in original]
    for item in patch:
        if not isinstance(item, dict) or key not in item:
            raise BadRequest(f"map: {item} does not contain declared merge key: {key}")
        index = next((i for i, o in enumerate(out) if isinstance(o, dict) and o.get(key) == item[key]), None)
        if item.get("$patch") == "delete":
            if index is not None:
                out.pop(index)
            continue
        if index is None:
            out.append(_clean(item))
        else:
            merged = _merge_map(out[index], item, path, keys)
            if merged is _DELETE:
                out.pop(index)
            else:
                out[index] = merged
    return out


def _reorder(items: list[Any], order: list[Any], key: str) -> list[Any]:
    def ident(item: Any) -> Any:
        return item.get(key) if key and isinstance(item, dict) else item

    wanted = [ident(o) for o in order]
    ranked = sorted(enumerate(items), key=lambda p: (wanted.index(ident(p[1])) if ident(p[1]) in wanted
                                                     else len(wanted), p[0]))
    return [item for _, item in ranked]


def _clean(value: Any) -> Any:
    """Drop directives from a value that is set whole."""
    if isinstance(value, dict):
        if value.get("$patch") == "delete":
            return _DELETE
        return {k: _clean(v) for k, v in value.items()
                if k not in ("$patch", "$retainKeys") and not k.startswith((_ORDER, _DELETE_PRIMITIVES))}
    if isinstance(value, list):
        return [_clean(v) for v in value]
    return value


# --- JSON patch ----------------------------------------------------------------------------------


def _pointer(path: Any) -> list[str]:
    if not isinstance(path, str) or (path and not path.startswith("/")):
        raise BadRequest(f"invalid JSON pointer: {path!r}")
    return [p.replace("~1", "/").replace("~0", "~") for p in path.split("/")[1:]] if path else []


def _parent(doc: Any, parts: list[str], op: str, path: str) -> tuple[Any, str]:
    if not parts:
        raise PatchFailed(f"{op} operation does not apply: the root cannot be patched")
    return _walk(doc, parts[:-1], op, path), parts[-1]


def _get(doc: Any, path: str, op: str) -> Any:
    return _walk(doc, _pointer(path), op, path)


def _walk(doc: Any, parts: list[str], op: str, path: str) -> Any:
    """The node ``parts`` lead to from ``doc``, or the API server's "missing path" refusal."""
    node = doc
    for part in parts:
        if isinstance(node, dict) and part in node:
            node = node[part]
        elif isinstance(node, list) and part.isdigit() and int(part) < len(node):
            node = node[int(part)]
        else:
            raise PatchFailed(f"{op} operation does not apply: doc is missing path: \"{path}\": missing value")
    return node


def _add(doc: Any, path: str, value: Any, op: str = "add") -> None:
    parent, last = _parent(doc, _pointer(path), op, path)
    if isinstance(parent, dict):
        parent[last] = value
    elif isinstance(parent, list):
        if last == "-":
            parent.append(value)
        elif last.isdigit() and int(last) <= len(parent):
            parent.insert(int(last), value)
        else:
            raise PatchFailed(f"{op} operation does not apply: index {last} out of bounds")
    else:
        raise PatchFailed(f"{op} operation does not apply: doc is missing path: \"{path}\"")


def _remove(doc: Any, path: str, op: str = "remove") -> Any:
    parent, last = _parent(doc, _pointer(path), op, path)
    if isinstance(parent, dict) and last in parent:
        return parent.pop(last)
    if isinstance(parent, list) and last.isdigit() and int(last) < len(parent):
        return parent.pop(int(last))
    raise PatchFailed(f"{op} operation does not apply: doc is missing path: \"{path}\": missing value")


def json_patch(target: Mapping[str, Any], ops: Any) -> dict[str, Any]:
    """RFC 6902, applied to a copy of ``target``."""
    if not isinstance(ops, list):
        raise BadRequest("json: cannot unmarshal object into Go value of type jsonpatch.Patch")
    doc: Any = copy.deepcopy(dict(target))
    for op in ops:
        if not isinstance(op, dict) or "op" not in op or "path" not in op:
            raise BadRequest(f"invalid JSON patch operation: {op!r}")
        kind, path = op["op"], op["path"]
        if kind in ("add", "replace", "test") and "value" not in op:
            raise BadRequest(f"{kind} operation requires a value")
        value = copy.deepcopy(op.get("value"))
        if kind == "add":
            _add(doc, path, value)
        elif kind == "remove":
            _remove(doc, path)
        elif kind == "replace":
            _remove(doc, path, "replace")
            _add(doc, path, value, "replace")
        elif kind in ("move", "copy"):
            moved = _get(doc, op.get("from", ""), kind)
            if kind == "move":
                _remove(doc, op["from"], kind)
            _add(doc, path, copy.deepcopy(moved), kind)
        elif kind == "test":
            if _get(doc, path, kind) != value:
                raise PatchFailed(f"testing value {path} failed: test failed")
        else:
            raise BadRequest(f"Unexpected kind: {kind}")
    if not isinstance(doc, dict):
        raise PatchFailed("the patched document is not an object")
    return doc
