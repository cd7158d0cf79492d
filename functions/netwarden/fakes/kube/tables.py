"""Server-side printing: the ``meta.k8s.io/v1`` ``Table`` that ``kubectl get`` asks for.

kubectl sends ``Accept: application/json;as=Table;v=v1;g=meta.k8s.io,...`` and prints the columns the
server chose: for a NetworkPolicy ``NAME``, ``POD-SELECTOR`` and ``AGE``, for a Deployment ``NAME``,
``READY``, ``UP-TO-DATE``, ``AVAILABLE`` and ``AGE``, as a real cluster shows them (the API server's
``pkg/printers/internalversion`` columns and cells). Columns of priority 1 are what ``-o wide`` adds
(a pod's ``NODE``, a workload's ``CONTAINERS``, ``IMAGES`` and ``SELECTOR``). Each row carries the
object's metadata (``PartialObjectMetadata``), from which kubectl adds the ``NAMESPACE`` column of ``-A``.
A watch asked for as a Table (``kubectl get -w``) sends each event's object as a Table of one row, the
column definitions only in the first (``watch``), as the API server's ``watchEmbeddedEncoder`` does.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

Object = Mapping[str, Any]
#: (name, type, format, priority, cell)
Column = tuple[str, str, str, int, Callable[[Object], Any]]


def wants_table(accept: str | None) -> bool:
    return bool(accept) and "as=Table" in str(accept)


def age(obj: Object) -> str:
    """``ShortHumanDuration`` of the time since ``creationTimestamp``."""
    stamp = (obj.get("metadata") or {}).get("creationTimestamp")
    if not stamp:
        return "<unknown>"
    created = datetime.strptime(str(stamp), "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)
    seconds = int((datetime.now(UTC) - created).total_seconds())
    for unit, size, limit in (("s", 1, 60), ("m", 60, 3600), ("h", 3600, 48 * 3600), ("d", 86400, 730 * 86400)):
        if seconds < limit:
            return f"{max(seconds, 0) // size}{unit}"
    return f"{seconds // (365 * 86400)}y"


def label_selector(selector: Mapping[str, Any] | None) -> str:
    """``metav1.FormatLabelSelector``: the requirements sorted by key, values sorted."""
    parts = [(str(k), f"{k}={v}") for k, v in ((selector or {}).get("matchLabels") or {}).items()]
    for expr in (selector or {}).get("matchExpressions") or []:
        key, op, values = str(expr.get("key")), expr.get("operator"), ",".join(sorted(expr.get("values") or []))
        parts.append((key, {"In": f"{key} in ({values})", "NotIn": f"{key} notin ({values})", "Exists": key,
                            "DoesNotExist": f"!{key}"}.get(str(op), f"{key} {op}")))
    return ",".join(text for _, text in sorted(parts)) or "<none>"


def _labels(values: Mapping[str, Any] | None) -> str:
    """``labels.FormatLabels``."""
    return ",".join(f"{k}={v}" for k, v in sorted((values or {}).items())) or "<none>"


def _name(obj: Object) -> str:
    return str((obj.get("metadata") or {}).get("name", ""))


def _node_status(obj: Object) -> str:
    conditions = (obj.get("status") or {}).get("conditions") or []
    ready = next((c for c in conditions if c.get("type") == "Ready"), None)
    return "Ready" if ready and ready.get("status") == "True" else "NotReady" if ready else "Unknown"


def _ready(obj: Object) -> str:
    containers = (obj.get("spec") or {}).get("containers") or []
    running = (obj.get("status") or {}).get("phase") == "Running"
    return f"{len(containers) if running else 0}/{len(containers)}"


def _count(where: str, key: str) -> Callable[[Object], int]:
    return lambda o: int((o.get(where) or {}).get(key) or 0)


def _ratio(o: Object) -> str:
    return f"{_count('status', 'readyReplicas')(o)}/{_count('spec', 'replicas')(o)}"


def _containers(what: str) -> Callable[[Object], str]:
    def cell(o: Object) -> str:
        containers = (((o.get("spec") or {}).get("template") or {}).get("spec") or {}).get("containers") or []
        return ",".join(str(c.get(what) or "") for c in containers)
    return cell


def _selector(o: Object) -> str:
    return label_selector((o.get("spec") or {}).get("selector"))


_NAME: Column = ("Name", "string", "name", 0, _name)
_AGE: Column = ("Age", "string", "", 0, age)
_TEMPLATE: tuple[Column, ...] = (("Containers", "string", "", 1, _containers("name")),
                                 ("Images", "string", "", 1, _containers("image")))
_SELECTOR: Column = ("Selector", "string", "", 1, _selector)

COLUMNS: Mapping[str, Sequence[Column]] = {
    "networkpolicies": (
        _NAME, ("Pod-Selector", "string", "", 0, lambda o: label_selector((o.get("spec") or {}).get("podSelector"))),
        _AGE,
    ),
    "namespaces": (_NAME, ("Status", "string", "", 0, lambda o: (o.get("status") or {}).get("phase", "")), _AGE),
    "pods": (
        _NAME,
        ("Ready", "string", "", 0, _ready),
        ("Status", "string", "", 0, lambda o: (o.get("status") or {}).get("phase", "")),
        ("Restarts", "string", "", 0, lambda o: "0"),
        _AGE,
        ("IP", "string", "", 1, lambda o: (o.get("status") or {}).get("podIP") or "<none>"),
        ("Node", "string", "", 1, lambda o: (o.get("spec") or {}).get("nodeName") or "<none>"),
        ("Nominated Node", "string", "", 1, lambda o: (o.get("status") or {}).get("nominatedNodeName") or "<none>"),
        ("Readiness Gates", "string", "", 1, lambda o: "<none>"),
    ),
    "nodes": (
        _NAME,
        ("Status", "string", "", 0, _node_status),
        ("Roles", "string", "", 0, lambda o: "<none>"),
        _AGE,
        ("Version", "string", "", 0,
         lambda o: ((o.get("status") or {}).get("nodeInfo") or {}).get("kubeletVersion", "")),
    ),
    "deployments": (
        _NAME, ("Ready", "string", "", 0, _ratio), ("Up-to-date", "string", "", 0, _count("status", "updatedReplicas")),
        ("Available", "string", "", 0, _count("status", "availableReplicas")), _AGE, *_TEMPLATE, _SELECTOR,
    ),
    "replicasets": (
        _NAME, ("Desired", "integer", "", 0, _count("spec", "replicas")),
        ("Current", "integer", "", 0, _count("status", "replicas")),
        ("Ready", "integer", "", 0, _count("status", "readyReplicas")), _AGE, *_TEMPLATE, _SELECTOR,
    ),
    "statefulsets": (_NAME, ("Ready", "string", "", 0, _ratio), _AGE, *_TEMPLATE),
    "daemonsets": (
        _NAME, ("Desired", "integer", "", 0, _count("status", "desiredNumberScheduled")),
        ("Current", "integer", "", 0, _count("status", "currentNumberScheduled")),
        ("Ready", "integer", "", 0, _count("status", "numberReady")),
        ("Up-to-date", "integer", "", 0, _count("status", "updatedNumberScheduled")),
        ("Available", "integer", "", 0, _count("status", "numberAvailable")),
        ("Node Selector", "string", "", 0,
         lambda o: _labels((((o.get("spec") or {}).get("template") or {}).get("spec") or {}).get("nodeSelector"))),
        _AGE, *_TEMPLATE, _SELECTOR,
    ),
}


def table(resource: str, objects: Sequence[Object], resource_version: str,
          continue_token: str | None = None, *, headers: bool = True) -> dict[str, Any]:
    """``headers`` False: no column definitions (``null``), as in every watch event after the first."""
    columns = COLUMNS[resource]
    meta: dict[str, Any] = {"resourceVersion": resource_version}
    if continue_token:
        meta["continue"] = continue_token
    return {
        "kind": "Table", "apiVersion": "meta.k8s.io/v1", "metadata": meta,
        "columnDefinitions": [{"name": name, "type": kind, "format": fmt, "description": "", "priority": priority}
                              for name, kind, fmt, priority, _ in columns] if headers else None,
        "rows": [{"cells": [cell(o) for *_, cell in columns],
                  "object": {"kind": "PartialObjectMetadata", "apiVersion": "meta.k8s.io/v1",
                             "metadata": dict(o.get("metadata") or {})}} for o in objects],
    }
