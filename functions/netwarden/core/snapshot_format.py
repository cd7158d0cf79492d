"""The snapshot file: a versioned, canonical JSON form of a ``Snapshot``.

A snapshot file is what ``netwarden snapshot`` writes and ``check --snapshot`` reads, so that a
check can run where the cloud is out of reach (CI, a laptop, a bug report). It is a contract
(``docs/snapshot-format.md``): ``schema_version`` says which one, and a reader refuses a version it
does not know rather than guess.

``dumps`` is canonical: the same snapshot always gives the same text (fixed key order, mappings
sorted, lists in model order), so two files can be compared with ``diff`` and committed to git.
Reading is ``core.snapshot_read`` (re-exported here as ``loads``): every field checked and named
where it is wrong (``live.json:57: vpcs[1].name: duplicate VPC ...``), every value normalised again.
It is the definition of a valid file: ``check --snapshot`` reads through ``adapters.snapshot_file``,
a typed decoding that builds the same model sooner and hands every file it refuses to ``loads``.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from netwarden.core import sg_rules
from netwarden.core.model import Cluster, SecurityGroup, Snapshot, Vpc
from netwarden.core.snapshot_checks import MAX_BYTES
from netwarden.core.snapshot_read import KIND, KNOWN_VERSIONS, SCHEMA_VERSION, loads
from netwarden.core.snapshot_rule import rule_to_data

__all__ = ["KIND", "KNOWN_VERSIONS", "MAX_BYTES", "SCHEMA_VERSION", "dumps", "loads", "rule_to_data",
           "to_data"]


# --- writing -------------------------------------------------------------------------------------


def dumps(snapshot: Snapshot) -> str:
    """The canonical JSON text of ``snapshot`` (two-space indent, trailing newline)."""
    return json.dumps(to_data(snapshot), indent=2, ensure_ascii=False) + "\n"


def to_data(snapshot: Snapshot) -> dict[str, Any]:
    """``snapshot`` as plain JSON data in canonical key order."""
    return {
        "schema_version": SCHEMA_VERSION,
        "kind": KIND,
        "taken_at": snapshot.taken_at,
        "vpcs": [_vpc(v) for v in snapshot.vpcs],
        "clusters": [_cluster(c) for c in snapshot.clusters],
        "unreadable": [{"scope": u.scope, "reason": u.reason} for u in snapshot.unreadable],
    }


def _vpc(v: Vpc) -> dict[str, Any]:
    return _drop_none({
        "region": v.region,
        "name": v.name,
        "id": v.id,
        "default_acl": v.default_acl,
        "public_gateways": list(v.public_gateways),
        "acls": [_drop_none({"name": a.name, "id": a.id, "rules": [rule_to_data(r) for r in a.rules]})
                 for a in v.acls],
        "subnets": [_drop_none({"name": s.name, "id": s.id, "network_acl": s.network_acl,
                                "public_gateway": s.public_gateway, "zone": s.zone, "cidr": s.cidr},
                               keep=("network_acl", "public_gateway"))
                    for s in v.subnets],
        "default_security_group": v.default_security_group,
        "security_groups": [_security_group(g) for g in v.security_groups],
    }, keep=(), drop_empty=("security_groups",))


def _security_group(g: SecurityGroup) -> dict[str, Any]:
    return _drop_none({"name": g.name, "id": g.id, "managed_by": g.managed_by,
                       "rules": [sg_rules.to_data(r, with_id=True) for r in g.rules],
                       "targets": [_drop_none({"type": t.type, "name": t.name, "id": t.id}) for t in g.targets]})


def _cluster(c: Cluster) -> dict[str, Any]:
    return _drop_none({
        "name": c.name,
        "namespaces": [{"name": n.name, "labels": _sorted(n.labels)} for n in c.namespaces],
        "policies": [{"namespace": p.namespace, "name": p.name, "labels": _sorted(p.labels),
                      "spec": _sorted(p.spec)} for p in c.policies],
        "pods": [_drop_none({"namespace": p.namespace, "name": p.name, "labels": _sorted(p.labels),
                             "ports": [_drop_none({"port": cp.port, "protocol": cp.protocol, "name": cp.name})
                                       for cp in p.ports],
                             "ip": p.ip, "node": p.node})
                 for p in c.pods],
        "worker_subnets": list(c.worker_subnets),
        "workloads": [_drop_none({"namespace": w.namespace, "name": w.name, "kind": w.kind, "labels": _sorted(w.labels),
                                  "subnets": _listed(w.subnets), "zones": _listed(w.zones), "pods": list(w.pods),
                                  "running": list(w.running)}) for w in c.workloads],
        "egress": [{"namespace": e.namespace, "name": e.name, "subnet": e.subnet, "exclusive": e.exclusive}
                   for e in c.egress],
    }, drop_empty=("workloads", "egress"))


def _listed(values: tuple[str, ...] | None) -> list[str] | None:
    return list(values) if values is not None else None


def _drop_none(data: dict[str, Any], keep: tuple[str, ...] = (), drop_empty: tuple[str, ...] = ()) -> dict[str, Any]:
    """``data`` without its None values (but those of ``keep``), nor the empty lists of ``drop_empty``
    (fields a version added: a snapshot without them reads, and is written, as before)."""
    return {k: v for k, v in data.items()
            if (v is not None or k in keep) and not (k in drop_empty and not v)}


def _sorted(value: Any) -> Any:
    """Mappings with sorted keys, all the way down (lists keep their order)."""
    if isinstance(value, Mapping):
        return {str(k): _sorted(value[k]) for k in sorted(value, key=str)}
    if isinstance(value, list | tuple):
        return [_sorted(v) for v in value]
    return value
