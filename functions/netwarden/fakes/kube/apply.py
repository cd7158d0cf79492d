"""Field ownership (``metadata.managedFields``) and server-side apply.

Every write names a field manager (``?fieldManager=``, else the client's user agent up to its first
``/``). An ``Update`` (create, replace or a patch) gives its manager the fields it changed and takes
them from everyone else; an ``Apply`` (``application/apply-patch+yaml``) gives its manager exactly the
fields of the applied configuration, removes the fields it applied last time and left out now (when
no one else owns them), and refuses, with a 409 that names the other manager and the field, to change
a field another manager owns unless ``force=true``. A forced apply takes over the conflicting fields
only: another manager keeps every other field it owns, those the applier also sets to the value they
already have included (they are then owned by both), as structured-merge-diff's ``Updater.update``
removes from each other manager just its conflict set.

A field is a path of ``f:<name>`` steps, with ``k:{"key":value}`` for an element of a list merged by
key and ``v:<json>`` for a member of a set, exactly as ``fieldsV1`` spells them. Lists and selectors
that ``kinds`` does not mark as merged are owned whole (a NetworkPolicy's ``ingress`` is atomic).
"""

from __future__ import annotations

import copy
import json
from collections.abc import Iterable, Mapping
from typing import Any

from netwarden.fakes.kube.exceptions import ApplyConflict, Cause, Resource
from netwarden.fakes.kube.kinds import ATOMIC_STRUCTS, MERGE_KEYS

Path = tuple[str, ...]
Fields = dict[Path, Any]

#: What the server owns, never a manager: identity, bookkeeping and the status subresource.
_SYSTEM = {
    ("f:apiVersion",), ("f:kind",), ("f:status",),
    *(("f:metadata", f"f:{n}") for n in ("name", "namespace", "uid", "resourceVersion", "generation",
                                          "creationTimestamp", "managedFields", "selfLink", "deletionTimestamp",
                                          "generateName")),
}


def _names(path: Path) -> tuple[str, ...]:
    return tuple(p[2:] for p in path if p.startswith("f:"))


def fields_of(obj: Mapping[str, Any]) -> Fields:
    """Every owned leaf of ``obj`` with its value."""
    out: Fields = {}
    _walk(obj, (), out)
    return {p: v for p, v in out.items() if not any(p[:len(s)] == s for s in _SYSTEM)}


def _walk(value: Any, path: Path, out: Fields) -> None:
    names = _names(path)
    if isinstance(value, dict) and value and names not in ATOMIC_STRUCTS:
        if path and path[-1].startswith("k:"):
            out[(*path, ".")] = None
        for key, item in value.items():
            _walk(item, (*path, f"f:{key}"), out)
    elif isinstance(value, list) and names in MERGE_KEYS:
        key = MERGE_KEYS[names]
        for item in value:
            if key and isinstance(item, dict) and key in item:
                _walk(item, (*path, "k:" + json.dumps({key: item[key]}, separators=(",", ":"))), out)
            else:
                out[(*path, "v:" + json.dumps(item, separators=(",", ":")))] = item
    else:
        out[path] = value


def to_fields_v1(paths: Iterable[Path]) -> dict[str, Any]:
    tree: dict[str, Any] = {}
    for path in sorted(paths):
        node = tree
        for step in path:
            node = node.setdefault(step, {})
    return tree


def from_fields_v1(tree: Mapping[str, Any], prefix: Path = ()) -> set[Path]:
    out: set[Path] = set()
    for step, sub in tree.items():
        path = (*prefix, step)
        if isinstance(sub, dict) and sub:
            out |= from_fields_v1(sub, path)
        else:
            out.add(path)
    return out


def _entries(obj: Mapping[str, Any]) -> list[dict[str, Any]]:
    return [dict(e) for e in (obj.get("metadata") or {}).get("managedFields") or [] if isinstance(e, dict)]


def _owned(entry: Mapping[str, Any]) -> set[Path]:
    tree = entry.get("fieldsV1")
    return from_fields_v1(tree) if isinstance(tree, dict) else set()


def _entry(manager: str, operation: str, api_version: str, now: str, paths: set[Path]) -> dict[str, Any]:
    return {"manager": manager, "operation": operation, "apiVersion": api_version, "time": now,
            "fieldsType": "FieldsV1", "fieldsV1": to_fields_v1(paths)}


def _store(obj: dict[str, Any], entries: list[dict[str, Any]]) -> None:
    kept = [e for e in entries if e.get("fieldsV1")]
    obj.setdefault("metadata", {})["managedFields"] = kept


def record_update(old: Mapping[str, Any] | None, new: dict[str, Any], manager: str, api_version: str,
                  now: str) -> None:
    """After a create/update/patch by ``manager``: it owns what it changed; others lose that."""
    before = fields_of(old) if old else {}
    after = fields_of(new)
    changed = {p for p, v in after.items() if p not in before or before[p] != v}
    entries = _entries(old) if old else []
    mine = next((e for e in entries if e.get("manager") == manager and e.get("operation") == "Update"), None)
    result: list[dict[str, Any]] = []
    for e in entries:
        if e is mine:
            continue
        kept = {p for p in _owned(e) if p in after} - changed
        result.append({**e, "fieldsV1": to_fields_v1(kept)})
    owned = ((_owned(mine) if mine else set()) | changed) & set(after)
    if owned:
        result.append(_entry(manager, "Update", api_version, now if changed or not mine else mine["time"], owned))
    _store(new, result)


def _dotted(path: Path) -> str:
    """``.spec.podSelector``, ``.spec.containers[name="web"].image``: how conflicts name a field."""
    out = ""
    for step in path:
        if step.startswith("f:"):
            out += "." + step[2:]
        elif step.startswith(("k:", "v:")):
            ident = json.loads(step[2:])
            out += "[" + (",".join(f"{k}={json.dumps(v)}" for k, v in ident.items()) if isinstance(ident, dict)
                          else json.dumps(ident)) + "]"
    return out


def _merge(live: Any, config: Any, path: Path) -> Any:
    names = _names(path)
    if isinstance(config, dict) and isinstance(live, dict) and names not in ATOMIC_STRUCTS:
        out = dict(live)
        for key, value in config.items():
            out[key] = _merge(live.get(key), value, (*path, f"f:{key}"))
        return out
    if isinstance(config, list) and isinstance(live, list) and names in MERGE_KEYS:
        key = MERGE_KEYS[names]
        if not key:
            return live + [v for v in config if v not in live]
        out_list = [copy.deepcopy(i) for i in live]
        for item in config:
            index = next((i for i, o in enumerate(out_list) if isinstance(o, dict) and isinstance(item, dict)
                          and o.get(key) == item.get(key)), None)
            if index is None:
                out_list.append(copy.deepcopy(item))
            else:
                out_list[index] = _merge(out_list[index], item, path)
        return out_list
    return copy.deepcopy(config)


def _drop(obj: dict[str, Any], path: Path) -> None:
    """Remove the field at ``path`` (a leaf or a keyed list element) from ``obj``."""
    if path and path[-1] == ".":
        path = path[:-1]
    node: Any = obj
    for i, step in enumerate(path):
        last = i == len(path) - 1
        if step.startswith("f:"):
            if not isinstance(node, dict) or step[2:] not in node:
                return
            if last:
                del node[step[2:]]
                return
            node = node[step[2:]]
        elif step.startswith(("k:", "v:")) and isinstance(node, list):
            ident = json.loads(step[2:])
            match = next((j for j, item in enumerate(node) if (
                step.startswith("v:") and item == ident) or (
                isinstance(item, dict) and all(item.get(k) == v for k, v in ident.items()))), None)
            if match is None:
                return
            if last:
                node.pop(match)
                return
            node = node[match]
        else:
            return


def apply(live: Mapping[str, Any] | None, config: Mapping[str, Any], manager: str, *, force: bool,
          api_version: str, now: str, who: Resource) -> dict[str, Any]:
    """Server-side apply of ``config`` by ``manager`` onto ``live`` (None: create)."""
    applied = fields_of(config)
    current = fields_of(live) if live else {}
    entries = _entries(live) if live else []
    conflicts: list[Cause] = []
    conflicting: set[Path] = set()
    for e in entries:
        if e.get("manager") == manager and e.get("operation") == "Apply":
            continue
        for p in sorted(_owned(e) & set(applied)):
            if p in current and current[p] != applied[p] and p[-1] != ".":
                conflicting.add(p)
                using = f" using {e['apiVersion']}" if e.get("apiVersion") else ""
                field = _dotted(p)
                conflicts.append(Cause("FieldManagerConflict", f'conflict with "{e.get("manager")}"{using}: {field}',
                                       field))
    if conflicts and not force:
        raise ApplyConflict(who, conflicts)
    taken = conflicting if force else set()
    mine = next((e for e in entries if e.get("manager") == manager and e.get("operation") == "Apply"), None)
    merged: dict[str, Any] = _merge(dict(live) if live else {}, dict(config), ())
    others = set().union(*(_owned(e) for e in entries if e is not mine)) - taken if entries else set()
    for p in sorted((_owned(mine) if mine else set()) - set(applied), key=len, reverse=True):
        if p not in others:
            _drop(merged, p)
    result = [{**e, "fieldsV1": to_fields_v1(_owned(e) - taken)} for e in entries if e is not mine]
    result.append(_entry(manager, "Apply", api_version, now, set(applied)))
    _store(merged, result)
    return merged
