"""The HTML report's manifests and fields: a NetworkPolicy's YAML diff, and the fields of the other resources.

A NetworkPolicy is reviewed as YAML, so its block is the policy as a manifest, baseline and live side
by side, the differing lines marked (``difflib``, stdlib). The core imports no YAML library: the
manifest is written here in a plain block style that is valid YAML for the JSON-like data a
canonical spec holds (scalars that could be read as something else are quoted). Subnets, gateways,
namespaces and workloads have a few fields each: their block is a field table with what differs
marked, from the snapshots where the model has the resource, else from the finding itself.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator, Mapping, Sequence
from difflib import SequenceMatcher
from typing import Any

from netwarden.core.findings import Finding
from netwarden.core.model import NetworkPolicy, Snapshot
from netwarden.core.report.html_parts import esc, legend, show
from netwarden.core.report.html_rules import fields_table

_PLAIN = re.compile(r"^[A-Za-z_][A-Za-z0-9_./-]*$")
_RESERVED = {"true", "false", "yes", "no", "on", "off", "null", "y", "n", "~"}


def scalar(value: Any) -> str:
    """A YAML scalar: plain when it reads back as the same string, else JSON-quoted (JSON is YAML)."""
    if isinstance(value, str):
        if _PLAIN.match(value) and value.lower() not in _RESERVED:
            return value
        return json.dumps(value, ensure_ascii=False)
    if value is None:
        return "null"
    return json.dumps(value, ensure_ascii=False)


def yaml_lines(value: Any, indent: int = 0) -> list[str]:
    """``value`` (JSON-like data) as block-style YAML lines."""
    pad = " " * indent
    if isinstance(value, Mapping):
        if not value:
            return [pad + "{}"]
        out = []
        for key, item in value.items():
            head = f"{pad}{scalar(str(key))}:"
            if isinstance(item, (Mapping, list)) and item:
                out.append(head)
                out.extend(yaml_lines(item, indent + (2 if isinstance(item, Mapping) else 0)))
            else:
                out.append(f"{head} {_inline(item)}")
        return out
    if isinstance(value, list):
        if not value:
            return [pad + "[]"]
        out = []
        for item in value:
            if isinstance(item, (Mapping, list)) and item:
                nested = yaml_lines(item, indent + 2)
                out.append(f"{pad}- {nested[0].lstrip()}")
                out.extend(nested[1:])
            else:
                out.append(f"{pad}- {_inline(item)}")
        return out
    return [pad + scalar(value)]


def _inline(value: Any) -> str:
    if isinstance(value, Mapping):
        return "{}"
    if isinstance(value, list):
        return "[]"
    return scalar(value)


def manifest(policy: NetworkPolicy) -> list[str]:
    """The policy as ``kubectl get -o yaml`` would show the parts netwarden compares."""
    meta: dict[str, Any] = {"name": policy.name, "namespace": policy.namespace}
    if policy.labels:
        meta["labels"] = dict(policy.labels)
    data = {"apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy", "metadata": meta,
            "spec": dict(policy.spec)}
    return yaml_lines(data)


def _policy(snapshot: Snapshot, finding: Finding, side: Mapping[str, Any] | None) -> NetworkPolicy | None:
    ref = finding.resource
    cluster = snapshot.cluster(ref.cluster or "")
    found = next((p for p in cluster.policies if p.namespace == ref.namespace and p.name == ref.name),
                 None) if cluster is not None else None
    if found is None and side and isinstance(side.get("spec"), Mapping):
        found = NetworkPolicy(ref.namespace or "", ref.name or "", side["spec"])
    return found


def policy_block(finding: Finding, baseline: Snapshot, live: Snapshot) -> str:
    """The policy's manifest, baseline against live, line by line."""
    before = _policy(baseline, finding, finding.baseline)
    after = _policy(live, finding, finding.live)
    a = manifest(before) if before is not None else []
    b = manifest(after) if after is not None else []
    rows = "".join(_diff_rows(a, b))
    note = ""
    if before is None:
        note = '<p class="note">Not in the baseline: the whole live policy is added.</p>'
    elif after is None:
        note = '<p class="note">Gone from the cluster: the whole baseline policy is missing.</p>'
    head = ('<tr><th colspan="2" class="side">baseline</th><th class="mark">&#177;</th>'
            '<th colspan="2" class="side">live</th></tr>')
    return (note + legend({"chg": "changed line", "del": "only in the baseline", "add": "only live"})
            + f'<div class="scroll"><table class="yaml"><thead>{head}</thead><tbody>{rows}</tbody></table></div>')


def _diff_rows(a: Sequence[str], b: Sequence[str]) -> Iterator[str]:
    for op, i1, i2, j1, j2 in SequenceMatcher(None, a, b, autojunk=False).get_opcodes():
        if op == "equal":
            for k in range(i2 - i1):
                yield _line("same", i1 + k, a[i1 + k], j1 + k, b[j1 + k])
            continue
        width = max(i2 - i1, j2 - j1)
        for k in range(width):
            left = i1 + k if i1 + k < i2 else None
            right = j1 + k if j1 + k < j2 else None
            kind = "chg" if left is not None and right is not None else "del" if left is not None else "add"
            yield _line(kind, left, a[left] if left is not None else None, right,
                        b[right] if right is not None else None)


def _line(kind: str, i: int | None, left: str | None, j: int | None, right: str | None) -> str:
    mark = {"same": "", "chg": "~", "del": "-", "add": "+"}[kind]
    cells = []
    for side, n, text in (("base", i, left), ("live", j, right)):
        if text is None:
            cells.append(f'<td class="ln {side}"></td><td class="dline {side}"></td>')
        else:
            diff = " diff" if kind != "same" else ""
            cells.append(f'<td class="ln {side}">{(n or 0) + 1}</td><td class="dline {side}{diff}">{esc(text)}</td>')
        if side == "base":
            cells.append(f'<td class="mark">{mark}</td>')
    return f'<tr class="{kind}">{"".join(cells)}</tr>'


# --- the resources with a few fields ---------------------------------------------------------------------


def fields_block(finding: Finding, baseline: Snapshot, live: Snapshot) -> str:
    """The fields of the finding's subnet, namespace or workload, baseline against live."""
    ref = finding.resource
    rows: list[tuple[str, object, object]]
    if ref.kind == "subnet":
        rows = _subnet_rows(finding, baseline, live)
    elif ref.kind == "namespace":
        rows = _label_rows(finding)
    else:
        rows = _flat_rows(finding.baseline, finding.live)
    if not rows:
        return '<p class="note">No field to compare.</p>'
    return fields_table([(name, show(b), show(lv)) for name, b, lv in rows])


def _subnet_rows(finding: Finding, baseline: Snapshot, live: Snapshot) -> list[tuple[str, object, object]]:
    ref = finding.resource
    sides = []
    for snapshot, data in ((baseline, finding.baseline), (live, finding.live)):
        vpc = snapshot.vpc(ref.region or "", ref.vpc or "")
        subnet = vpc.subnet(ref.subnet or "") if vpc is not None else None
        values: dict[str, object] = {}
        if subnet is not None:
            values = {"network_acl": subnet.network_acl, "public_gateway": subnet.public_gateway,
                      "zone": subnet.zone, "cidr": subnet.cidr}
        elif snapshot is live:
            values = {"exists": False}
        values.update(dict(data or {}))
        sides.append(values)
    b, lv = sides
    if b.get("zone") is None and lv.get("zone") is not None:
        b["zone"] = lv["zone"]  # a baseline may leave zone and cidr out: they are not drift
    if b.get("cidr") is None and lv.get("cidr") is not None:
        b["cidr"] = lv["cidr"]
    keys = [k for k in ("network_acl", "public_gateway", "zone", "cidr", "exists") if k in b or k in lv]
    return [(k, b.get(k), lv.get(k)) for k in keys]


def _label_rows(finding: Finding) -> list[tuple[str, object, object]]:
    before = dict((finding.baseline or {}).get("labels") or {})
    after = dict((finding.live or {}).get("labels") or {})
    rows: list[tuple[str, object, object]] = [(f"labels.{k}", before.get(k), after.get(k))
                                              for k in sorted(set(before) | set(after))]
    if (finding.live or {}).get("exists") is False:
        rows.append(("exists", True, False))
    return rows


def _flat_rows(base: Mapping[str, Any] | None, live: Mapping[str, Any] | None) -> list[tuple[str, object, object]]:
    b, lv = _flatten(base or {}), _flatten(live or {})
    return [(k, b.get(k), lv.get(k)) for k in sorted(set(b) | set(lv))]


def _flatten(data: Mapping[str, Any], prefix: str = "") -> dict[str, object]:
    out: dict[str, object] = {}
    for key, value in data.items():
        name = f"{prefix}{key}"
        if isinstance(value, Mapping) and value:
            out.update(_flatten(value, name + "."))
        else:
            out[name] = value
    return out
