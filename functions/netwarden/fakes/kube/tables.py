"""Server-side printing: the ``meta.k8s.io/v1`` ``Table`` that ``kubectl get`` asks for.

kubectl sends ``Accept: application/json;as=Table;v=v1;g=meta.k8s.io,...`` and prints the columns the
server chose: for a NetworkPolicy ``NAME``, ``POD-SELECTOR`` and ``AGE``, as a real cluster shows it.
Each row carries the object's metadata (``PartialObjectMetadata``), from which kubectl adds the
``NAMESPACE`` column of ``-A``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

Object = Mapping[str, Any]
Column = tuple[str, str, int, Callable[[Object], Any]]


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
    """``metav1.FormatLabelSelector``."""
    parts = [f"{k}={v}" for k, v in sorted(((selector or {}).get("matchLabels") or {}).items())]
    for expr in (selector or {}).get("matchExpressions") or []:
        key, op, values = expr.get("key"), expr.get("operator"), ",".join(expr.get("values") or [])
        parts.append({"In": f"{key} in ({values})", "NotIn": f"{key} notin ({values})", "Exists": f"{key}",
                      "DoesNotExist": f"!{key}"}.get(str(op), f"{key} {op}"))
    return ",".join(parts) or "<none>"


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


COLUMNS: Mapping[str, Sequence[Column]] = {
    "networkpolicies": (
        ("Name", "name", 0, _name),
        ("Pod-Selector", "", 0, lambda o: label_selector((o.get("spec") or {}).get("podSelector"))),
        ("Age", "", 0, age),
    ),
    "namespaces": (
        ("Name", "name", 0, _name),
        ("Status", "", 0, lambda o: (o.get("status") or {}).get("phase", "")),
        ("Age", "", 0, age),
    ),
    "pods": (
        ("Name", "name", 0, _name),
        ("Ready", "", 0, _ready),
        ("Status", "", 0, lambda o: (o.get("status") or {}).get("phase", "")),
        ("Restarts", "", 0, lambda o: "0"),
        ("Age", "", 0, age),
        ("IP", "", 1, lambda o: (o.get("status") or {}).get("podIP") or "<none>"),
        ("Node", "", 1, lambda o: (o.get("spec") or {}).get("nodeName") or "<none>"),
    ),
    "nodes": (
        ("Name", "name", 0, _name),
        ("Status", "", 0, _node_status),
        ("Roles", "", 0, lambda o: "<none>"),
        ("Age", "", 0, age),
        ("Version", "", 0, lambda o: ((o.get("status") or {}).get("nodeInfo") or {}).get("kubeletVersion", "")),
    ),
}


def table(resource: str, objects: Sequence[Object], resource_version: str,
          continue_token: str | None = None) -> dict[str, Any]:
    columns = COLUMNS[resource]
    meta: dict[str, Any] = {"resourceVersion": resource_version}
    if continue_token:
        meta["continue"] = continue_token
    return {
        "kind": "Table", "apiVersion": "meta.k8s.io/v1", "metadata": meta,
        "columnDefinitions": [{"name": name, "type": "string", "format": fmt, "description": "", "priority": priority}
                              for name, fmt, priority, _ in columns],
        "rows": [{"cells": [cell(o) for _, _, _, cell in columns],
                  "object": {"kind": "PartialObjectMetadata", "apiVersion": "meta.k8s.io/v1",
                             "metadata": dict(o.get("metadata") or {})}} for o in objects],
    }
