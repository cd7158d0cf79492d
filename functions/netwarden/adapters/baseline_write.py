"""Writing a baseline directory: a Snapshot as the files of the layout (``baseline_fs`` reads them back).

Writing is deterministic (fixed key order, one object per file, each file replaced atomically) and
round-trips: ``baseline_fs.read_baseline(p)`` equals the snapshot written to ``p`` (what the layout does
not hold is dropped: ids, pod addresses and nodes, worker subnets). ``vpc/`` and ``kubernetes/`` are owned
by the writer: YAML files there that the snapshot no longer has are removed, so nothing stale survives;
everything else in the directory is left alone. What would be written is read back in memory first, so a
snapshot that would not make a readable baseline writes nothing.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from netwarden.adapters import yaml_io
from netwarden.adapters.baseline_fs import YAML_SUFFIXES, parse_tree
from netwarden.adapters.files import write_atomic
from netwarden.core import normalize, sg_rules
from netwarden.core.errors import BaselineError, Location
from netwarden.core.model import ALL_PORTS, AclRule, EgressPin, Pod, SecurityGroup, Snapshot, Subnet

MANAGED = ("vpc", "kubernetes")


def render(snapshot: Snapshot) -> dict[str, str]:
    """The baseline files of ``snapshot``: relative POSIX path -> YAML text."""
    out: dict[str, str] = {}
    for vpc in snapshot.vpcs:
        base = f"vpc/{vpc.region}/{vpc.name}"
        for acl in vpc.acls:
            out[f"{base}/network-acls/{acl.name}.yaml"] = yaml_io.dumps(
                {"name": acl.name, "rules": [rule_data(r) for r in acl.rules]})
        for group in vpc.security_groups:
            out[f"{base}/security-groups/{group.name}.yaml"] = yaml_io.dumps(group_data(group))
        out[f"{base}/subnets.yaml"] = yaml_io.dumps({s.name: subnet_data(s) for s in vpc.subnets})
        meta: dict[str, Any] = {}
        if vpc.default_acl is not None:
            meta["default_network_acl"] = vpc.default_acl
        if vpc.default_security_group is not None and vpc.security_group(vpc.default_security_group) is not None:
            meta["default_security_group"] = vpc.default_security_group
        if vpc.public_gateways:
            meta["public_gateways"] = sorted(vpc.public_gateways)
        if meta:
            out[f"{base}/vpc.yaml"] = yaml_io.dumps(meta)
    for cluster in snapshot.clusters:
        base = f"kubernetes/{cluster.name}"
        out[f"{base}/namespaces.yaml"] = yaml_io.dumps({n.name: dict(sorted(n.labels.items()))
                                                        for n in cluster.namespaces})
        if cluster.pods:
            pins = {(p.namespace, p.name): p for p in cluster.egress}
            workloads: dict[str, list[dict[str, Any]]] = {}
            for pod in cluster.pods:
                workloads.setdefault(pod.namespace, []).append(workload_data(pod, pins.get((pod.namespace, pod.name))))
            out[f"{base}/workloads.yaml"] = yaml_io.dumps(workloads)
        for policy in cluster.policies:
            out[f"{base}/{policy.namespace}/{policy.name}.yaml"] = yaml_io.dumps(normalize.netpol_manifest(policy))
    return out


def rule_data(rule: AclRule) -> dict[str, Any]:
    """A rule as a baseline spells it: ports left out when they are all ports, one port as a number."""
    out: dict[str, Any] = {"name": rule.name, "action": rule.action, "direction": rule.direction,
                           "protocol": rule.protocol, "source": rule.source, "destination": rule.destination}
    for key, ports in (("destination_port", rule.destination_port), ("source_port", rule.source_port)):
        if ports is not None and ports != ALL_PORTS:
            out[key] = ports.min if ports.min == ports.max else str(ports)
    if rule.icmp_type is not None:
        out["type"] = rule.icmp_type
    if rule.icmp_code is not None:
        out["code"] = rule.icmp_code
    return out


def group_data(group: SecurityGroup) -> dict[str, Any]:
    """A security group file: its rules in canonical order, its targets by type and name."""
    return {"name": group.name, "managed_by": group.managed_by, "rules": [sg_rules.to_data(r) for r in group.rules],
            "targets": [{"type": t.type, "name": t.name} for t in group.targets]}


def subnet_data(subnet: Subnet) -> dict[str, Any]:
    out: dict[str, Any] = {"network_acl": subnet.network_acl, "public_gateway": subnet.public_gateway}
    if subnet.zone is not None:
        out["zone"] = subnet.zone
    if subnet.cidr is not None:
        out["cidr"] = subnet.cidr
    return out


def workload_data(pod: Pod, pin: EgressPin | None = None) -> dict[str, Any]:
    """A workloads.yaml entry: the workload's pod labels and ports, and where it is pinned for public egress."""
    out: dict[str, Any] = {"name": pod.name, "labels": dict(sorted(pod.labels.items()))}
    if pod.ports:
        out["ports"] = [{"port": p.port, "protocol": p.protocol, **({"name": p.name} if p.name else {})}
                        for p in pod.ports]
    if pin is not None:
        out["public_egress"] = {"subnet": pin.subnet, **({"exclusive": True} if pin.exclusive else {})}
    return out


def write_baseline(snapshot: Snapshot, path: Path) -> list[Path]:
    """Make ``path`` hold exactly ``snapshot``: write each file that differs (atomically), remove the YAML
    files of objects it no longer has under ``vpc/`` and ``kubernetes/``. Returns every baseline file."""
    if snapshot.unreadable:
        scopes = ", ".join(u.scope for u in snapshot.unreadable)
        raise BaselineError(f"refusing to write a baseline from an incomplete snapshot (unreadable: {scopes})",
                            location=Location(str(path)))
    for vpc in snapshot.vpcs:
        for subnet in vpc.subnets:
            if subnet.network_acl is None:
                raise BaselineError(f"subnet {vpc.scope}/{subnet.name} has no network ACL; a baseline needs one",
                                    location=Location(str(path)))
    texts = render(snapshot)
    try:
        parse_tree(texts, str(path), lines=False)
    except BaselineError as e:
        raise BaselineError(f"the snapshot does not make a valid baseline: {e}", location=Location(str(path))) from e
    if path.exists() and not path.is_dir():
        raise BaselineError("not a directory", location=Location(str(path)))
    written = []
    for rel, text in sorted(texts.items()):
        target = path / rel
        data = text.encode("utf-8")
        if not (target.is_file() and target.read_bytes() == data):
            write_atomic(target, data)
        written.append(target)
    _remove_stale(path, set(texts))
    return written


def _remove_stale(root: Path, keep: Iterable[str]) -> None:
    keep_set = set(keep)
    for top in MANAGED:
        base = root / top
        if not base.is_dir():
            continue
        for directory, _dirs, files in os.walk(base, topdown=False):
            for name in files:
                rel = Path(directory, name).relative_to(root).as_posix()
                if name.endswith(YAML_SUFFIXES) and rel not in keep_set:
                    Path(directory, name).unlink()
            if not any(Path(directory).iterdir()):
                Path(directory).rmdir()
