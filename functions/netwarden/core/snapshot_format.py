"""The snapshot file: a versioned, canonical JSON form of a ``Snapshot``.

A snapshot file is what ``netwarden snapshot`` writes and ``check --snapshot`` reads, so that a
check can run where the cloud is out of reach (CI, a laptop, a bug report). It is a contract
(``docs/snapshot-format.md``): ``schema_version`` says which one, and a reader refuses a version it
does not know rather than guess.

``dumps`` is canonical: the same snapshot always gives the same text (fixed key order, mappings
sorted, lists in model order), so two files can be compared with ``diff`` and committed to git.
``loads`` checks every field and names the one that is wrong (``live.json: vpcs[0].acls[2]
.rules[5].source: ...``), and puts every value through ``core.normalize`` again, so a file written by
hand or by an older version folds the same synonyms as a live read.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from typing import Any, TypeVar

from netwarden.core import normalize
from netwarden.core.errors import Location, SnapshotFormatError
from netwarden.core.model import (
    AclRule,
    Cluster,
    ContainerPort,
    Namespace,
    NetworkAcl,
    NetworkPolicy,
    Pod,
    PortRange,
    Snapshot,
    Subnet,
    Unreadable,
    Vpc,
)

SCHEMA_VERSION = 1
KIND = "netwarden/snapshot"

T = TypeVar("T")


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


def rule_to_data(rule: AclRule) -> dict[str, Any]:
    """A rule in the spelling of a baseline file (ports as ``443`` / ``"1-65535"`` strings)."""
    out: dict[str, Any] = {
        "name": rule.name,
        "action": rule.action,
        "direction": rule.direction,
        "protocol": rule.protocol,
        "source": rule.source,
        "destination": rule.destination,
    }
    if rule.destination_port is not None:
        out["destination_port"] = str(rule.destination_port)
    if rule.source_port is not None:
        out["source_port"] = str(rule.source_port)
    if rule.icmp_type is not None:
        out["type"] = rule.icmp_type
    if rule.icmp_code is not None:
        out["code"] = rule.icmp_code
    if rule.id is not None:
        out["id"] = rule.id
    return out


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
    })


def _cluster(c: Cluster) -> dict[str, Any]:
    return {
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
    }


def _drop_none(data: dict[str, Any], keep: tuple[str, ...] = ()) -> dict[str, Any]:
    return {k: v for k, v in data.items() if v is not None or k in keep}


def _sorted(value: Any) -> Any:
    """Mappings with sorted keys, all the way down (lists keep their order)."""
    if isinstance(value, Mapping):
        return {str(k): _sorted(value[k]) for k in sorted(value, key=str)}
    if isinstance(value, list | tuple):
        return [_sorted(v) for v in value]
    return value


# --- reading -------------------------------------------------------------------------------------


class _Reader:
    """Typed access to JSON data that raises SnapshotFormatError naming the source and field."""

    def __init__(self, source: str) -> None:
        self.source = source

    def fail(self, path: str, message: str) -> SnapshotFormatError:
        return SnapshotFormatError(message, location=Location(self.source, None, path or None))

    def mapping(self, value: Any, path: str, allowed: frozenset[str] | None = None) -> Mapping[str, Any]:
        if not isinstance(value, dict):
            raise self.fail(path, f"expected an object, got {_type(value)}")
        if allowed is not None:
            unknown = sorted(set(value) - allowed)
            if unknown:
                raise self.fail(_join(path, unknown[0]), "unknown field")
        return value

    def items(self, data: Mapping[str, Any], key: str, path: str, build: Callable[[Any, str], T]) -> tuple[T, ...]:
        value = data.get(key, [])
        where = _join(path, key)
        if not isinstance(value, list):
            raise self.fail(where, f"expected a list, got {_type(value)}")
        return tuple(build(item, f"{where}[{i}]") for i, item in enumerate(value))

    def text(self, data: Mapping[str, Any], key: str, path: str, *, required: bool = True) -> str | None:
        value = data.get(key)
        if value is None:
            if required:
                raise self.fail(_join(path, key), "missing")
            return None
        if not isinstance(value, str) or not value:
            raise self.fail(_join(path, key), f"expected a non-empty string, got {_type(value)}")
        return value

    def name(self, data: Mapping[str, Any], key: str, path: str) -> str:
        value = self.text(data, key, path)
        assert value is not None  # required=True raised otherwise
        return value

    def integer(self, data: Mapping[str, Any], key: str, path: str) -> int | None:
        value = data.get(key)
        if value is None:
            return None
        if not isinstance(value, int) or isinstance(value, bool):
            raise self.fail(_join(path, key), f"expected a whole number, got {_type(value)}")
        return value

    def labels(self, data: Mapping[str, Any], key: str, path: str) -> dict[str, str]:
        value = data.get(key) or {}
        if not isinstance(value, dict) or not all(isinstance(k, str) and isinstance(v, str) for k, v in value.items()):
            raise self.fail(_join(path, key), "expected an object of string labels")
        return normalize.labels(value)

    def strings(self, data: Mapping[str, Any], key: str, path: str) -> tuple[str, ...]:
        value = data.get(key) or []
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise self.fail(_join(path, key), "expected a list of strings")
        return tuple(value)


_TOP = frozenset({"schema_version", "kind", "taken_at", "vpcs", "clusters", "unreadable"})
_VPC = frozenset({"region", "name", "id", "default_acl", "public_gateways", "acls", "subnets"})
_ACL = frozenset({"name", "id", "rules"})
_RULE = frozenset({"name", "id", "action", "direction", "protocol", "source", "destination", "destination_port",
                   "source_port", "type", "code"})
_SUBNET = frozenset({"name", "id", "network_acl", "public_gateway", "zone", "cidr"})
_CLUSTER = frozenset({"name", "namespaces", "policies", "pods", "worker_subnets"})
_NAMESPACE = frozenset({"name", "labels"})
_POLICY = frozenset({"namespace", "name", "labels", "spec"})
_POD = frozenset({"namespace", "name", "labels", "ports", "ip", "node"})
_PORT = frozenset({"port", "protocol", "name"})
_UNREADABLE = frozenset({"scope", "reason"})


def loads(text: str, source: str) -> Snapshot:
    """Parse a snapshot file; ``source`` (its path) is named in every error."""
    r = _Reader(source)
    try:
        raw = json.loads(text)
    except json.JSONDecodeError as e:
        raise SnapshotFormatError(f"not JSON: {e.msg} (column {e.colno})",
                                  location=Location(source, e.lineno)) from e
    except RecursionError as e:
        raise SnapshotFormatError("not JSON: nested too deeply", location=Location(source)) from e
    if not isinstance(raw, dict):
        raise r.fail("", f"not a netwarden snapshot: expected a JSON object, got {_type(raw)}")
    if raw.get("kind") != KIND:
        raise r.fail("kind", f"not a netwarden snapshot: expected {KIND!r}, got {raw.get('kind')!r}")
    version = raw.get("schema_version")
    if version != SCHEMA_VERSION:
        raise r.fail("schema_version", f"unsupported snapshot version {version!r} (this netwarden reads "
                                       f"{SCHEMA_VERSION})")
    data = r.mapping(raw, "", _TOP)
    taken_at = data.get("taken_at")
    if taken_at is not None and not isinstance(taken_at, str):
        raise r.fail("taken_at", f"expected a timestamp string, got {_type(taken_at)}")
    return Snapshot(
        vpcs=r.items(data, "vpcs", "", lambda v, p: _read_vpc(r, v, p)),
        clusters=r.items(data, "clusters", "", lambda c, p: _read_cluster(r, c, p)),
        unreadable=r.items(data, "unreadable", "", lambda u, p: _read_unreadable(r, u, p)),
        taken_at=taken_at,
    )


def _read_vpc(r: _Reader, raw: Any, path: str) -> Vpc:
    data = r.mapping(raw, path, _VPC)
    acls = r.items(data, "acls", path, lambda a, p: _read_acl(r, a, p))
    subnets = r.items(data, "subnets", path, lambda s, p: _read_subnet(r, s, p))
    _unique(r, [a.name for a in acls], f"{path}.acls", "ACL")
    _unique(r, [s.name for s in subnets], f"{path}.subnets", "subnet")
    return Vpc(
        region=r.name(data, "region", path),
        name=r.name(data, "name", path),
        acls=normalize.sorted_by_name(acls),
        subnets=normalize.sorted_by_name(subnets),
        default_acl=r.text(data, "default_acl", path, required=False),
        public_gateways=tuple(sorted(r.strings(data, "public_gateways", path))),
        id=r.text(data, "id", path, required=False),
    )


def _read_acl(r: _Reader, raw: Any, path: str) -> NetworkAcl:
    data = r.mapping(raw, path, _ACL)
    return NetworkAcl(
        name=r.name(data, "name", path),
        rules=r.items(data, "rules", path, lambda x, p: _read_rule(r, x, p)),
        id=r.text(data, "id", path, required=False),
    )


def _read_rule(r: _Reader, raw: Any, path: str) -> AclRule:
    data = r.mapping(raw, path, _RULE)
    try:
        return normalize.acl_rule(
            name=r.name(data, "name", path),
            action=r.name(data, "action", path),
            direction=r.name(data, "direction", path),
            protocol_=r.name(data, "protocol", path),
            source=r.name(data, "source", path),
            destination=r.name(data, "destination", path),
            destination_port=_port_range(r, data, "destination_port", path),
            source_port=_port_range(r, data, "source_port", path),
            icmp_type=r.integer(data, "type", path),
            icmp_code=r.integer(data, "code", path),
            id=r.text(data, "id", path, required=False),
            strict_cidrs=False,
        )
    except normalize.NormalizeError as e:
        raise r.fail(_join(path, e.field), e.message) from e


def _port_range(r: _Reader, data: Mapping[str, Any], key: str, path: str) -> PortRange | None:
    value = data.get(key)
    if value is not None and (isinstance(value, bool) or not isinstance(value, int | str)):
        raise r.fail(_join(path, key), f"expected a port or a range 'MIN-MAX', got {_type(value)}")
    return normalize.port_range(value, field=key)


def _read_subnet(r: _Reader, raw: Any, path: str) -> Subnet:
    data = r.mapping(raw, path, _SUBNET)
    cidr = r.text(data, "cidr", path, required=False)
    if cidr is not None:
        try:
            cidr = normalize.cidr(cidr, field="cidr", strict=False)
        except normalize.NormalizeError as e:
            raise r.fail(_join(path, "cidr"), e.message) from e
    return Subnet(
        name=r.name(data, "name", path),
        network_acl=r.text(data, "network_acl", path, required=False),
        public_gateway=r.text(data, "public_gateway", path, required=False),
        zone=r.text(data, "zone", path, required=False),
        cidr=cidr,
        id=r.text(data, "id", path, required=False),
    )


def _read_cluster(r: _Reader, raw: Any, path: str) -> Cluster:
    data = r.mapping(raw, path, _CLUSTER)
    namespaces = r.items(data, "namespaces", path, lambda n, p: _read_namespace(r, n, p))
    policies = r.items(data, "policies", path, lambda n, p: _read_policy(r, n, p))
    _unique(r, [n.name for n in namespaces], f"{path}.namespaces", "namespace")
    _unique(r, [p.key for p in policies], f"{path}.policies", "NetworkPolicy")
    return Cluster(
        name=r.name(data, "name", path),
        namespaces=normalize.sorted_by_name(namespaces),
        policies=tuple(sorted(policies, key=lambda p: (p.namespace, p.name))),
        pods=r.items(data, "pods", path, lambda n, p: _read_pod(r, n, p)),
        worker_subnets=r.strings(data, "worker_subnets", path),
    )


def _read_namespace(r: _Reader, raw: Any, path: str) -> Namespace:
    data = r.mapping(raw, path, _NAMESPACE)
    return Namespace(name=r.name(data, "name", path), labels=r.labels(data, "labels", path))


def _read_policy(r: _Reader, raw: Any, path: str) -> NetworkPolicy:
    data = r.mapping(raw, path, _POLICY)
    spec = r.mapping(data.get("spec", {}), _join(path, "spec"))
    try:
        canonical = normalize.netpol_spec(spec)
    except normalize.NormalizeError as e:
        raise r.fail(_join(path, f"spec.{e.field}"), e.message) from e
    except (KeyError, TypeError, AttributeError) as e:
        raise r.fail(_join(path, "spec"), f"not a NetworkPolicy spec ({e.__class__.__name__}: {e})") from e
    return NetworkPolicy(
        namespace=r.name(data, "namespace", path),
        name=r.name(data, "name", path),
        spec=canonical,
        labels=r.labels(data, "labels", path),
    )


def _read_pod(r: _Reader, raw: Any, path: str) -> Pod:
    data = r.mapping(raw, path, _POD)

    def port(item: Any, p: str) -> ContainerPort:
        d = r.mapping(item, p, _PORT)
        number = r.integer(d, "port", p)
        if number is None:
            raise r.fail(_join(p, "port"), "missing")
        return ContainerPort(port=number, protocol=r.text(d, "protocol", p, required=False) or "TCP",
                             name=r.text(d, "name", p, required=False))

    return Pod(
        namespace=r.name(data, "namespace", path),
        name=r.name(data, "name", path),
        labels=r.labels(data, "labels", path),
        ports=r.items(data, "ports", path, port),
        ip=r.text(data, "ip", path, required=False),
        node=r.text(data, "node", path, required=False),
    )


def _read_unreadable(r: _Reader, raw: Any, path: str) -> Unreadable:
    data = r.mapping(raw, path, _UNREADABLE)
    return Unreadable(scope=r.name(data, "scope", path), reason=r.text(data, "reason", path, required=False) or "")


def _unique(r: _Reader, names: list[str], path: str, what: str) -> None:
    seen: set[str] = set()
    for i, name in enumerate(names):
        if name in seen:
            raise r.fail(f"{path}[{i}].name", f"duplicate {what} {name!r}")
        seen.add(name)


def _join(path: str, key: str) -> str:
    return f"{path}.{key}" if path else key


def _type(value: Any) -> str:
    return {dict: "an object", list: "a list", str: "a string", bool: "a boolean", int: "a number",
            float: "a number", type(None): "null"}.get(type(value), type(value).__name__)
