"""Snapshot files read straight into the model, so that ``check --snapshot`` of a large account is quick.

``core.snapshot_format.loads`` decodes a file into a generic JSON tree and walks that tree into the
model: for the 100% account of ``benchmarks/scale.py`` (69 MB) about 3 s of CPU, with the text, the
tree and the model alive at once. Here msgspec decodes the bytes into typed records (the ``Struct``
types below: every field's type, the required ones, no unknown field), one VPC or cluster at a time,
each let go once it is in the model, so what is alive at once is the bytes, the model and one VPC's
records. The records become the model through the core reader's own normalisation and checks
(``core.normalize``, ``core.netpol.validate``, the protocol vocabulary, duplicates, the version,
``taken_at``), with the garbage collector paused while it runs.

msgspec is a compiled library and core is stdlib only, so it is imported here, at the boundary, and
the core reader stays the one definition of a valid snapshot file. Whatever this reader refuses, for
any reason, is read again by the core reader, whose error is the one shown (file, line, JSON path), so
a refusal reads exactly as it always has; this reader only has to refuse at least what the core one
refuses and to build the same model from the rest, which the tests hold it to case by case.

msgspec refuses NaN, Infinity, numbers past the largest float, invalid UTF-8, a byte order mark and
nesting past its recursion limit, but it keeps the last of two equal keys. That is found without a
tree: JSON writes one colon outside strings for each key, and each colon inside a string is a colon
of the decoded string (unless escaped as ``\\u003a``, which sends a file to the core reader), so a
file holds a key twice exactly when its bytes hold more colons than msgspec's encoding of the records.
The encoding adds no key: a field left out is ``UNSET`` or None, and both are left out of it (a
``null`` written in the file then counts as a missing key and sends the file to the core reader).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from datetime import datetime
from pathlib import Path
from typing import Any, TypeVar

import msgspec
from msgspec import UnsetType

from netwarden.adapters.snapshot_records import (
    AclRecord,
    ClusterRecord,
    FileRecord,
    NamespaceRecord,
    PodRecord,
    PolicyRecord,
    RuleRecord,
    SecurityGroupRecord,
    SgRuleRecord,
    SubnetRecord,
    VpcRecord,
    WorkloadRecord,
)
from netwarden.core import gc_pause, normalize, sg_rules, snapshot_checks, snapshot_format
from netwarden.core.acl.evaluate import protocol_numbers
from netwarden.core.errors import Location, SnapshotFormatError
from netwarden.core.model import (
    MANAGED_BY,
    WORKLOAD_KINDS,
    AclRule,
    Cluster,
    ContainerPort,
    EgressPin,
    Namespace,
    NetworkAcl,
    NetworkPolicy,
    Pod,
    PortRange,
    SecurityGroup,
    SgRule,
    SgTarget,
    Snapshot,
    Subnet,
    Unreadable,
    Vpc,
    Workload,
)
from netwarden.core.netpol import syntax
from netwarden.core.netpol import validate as netpol_validate

T = TypeVar("T")

_POD_PROTOCOLS = ("TCP", "UDP", "SCTP")

_DECODER = msgspec.json.Decoder(FileRecord)
_VPC = msgspec.json.Decoder(VpcRecord)
_CLUSTER = msgspec.json.Decoder(ClusterRecord)
_SPEC = msgspec.json.Decoder(dict[str, Any])
_ENCODER = msgspec.json.Encoder()


def read(path: Path) -> Snapshot:
    """The snapshot file at ``path``; an unreadable or invalid file is one SnapshotFormatError naming it.
    A refused file is read a second time, by the core reader, for the words of its refusal."""
    source = str(path)
    with gc_pause.paused():
        snapshot = typed(_contents(path))  # the bytes are this call's alone: it lets them go
        return snapshot if snapshot is not None else snapshot_format.loads(_contents(path), source=source)


def loads(data: bytes, source: str) -> Snapshot:
    """``core.snapshot_format.loads`` of ``data``, and the same result or the same error, sooner."""
    with gc_pause.paused():
        snapshot = typed(data)
        return snapshot if snapshot is not None else snapshot_format.loads(data, source=source)


def typed(data: bytes) -> Snapshot | None:
    """The snapshot in ``data`` as the core reader would read it, or None for what this reader refuses:
    everything the core reader refuses, and the few valid files it leaves to it."""
    if len(data) > snapshot_checks.MAX_BYTES or b"\\u003" in data:
        return None
    try:
        record = _DECODER.decode(data)
        colons = data.count(b":")
        del data  # what is left of it is in the raw VPCs and clusters, each let go once read
        builder = _Builder()
        snapshot = builder.snapshot(record)
        if colons != builder.colons + _ENCODER.encode(record).count(b":"):
            return None  # a key given twice in the top-level object or in one of the unreadable scopes
        return snapshot
    except (msgspec.MsgspecError, RecursionError, _Refused, ValueError):  # NormalizeError is a ValueError
        return None


def _contents(path: Path) -> bytes:
    try:
        with path.open("rb") as file:  # one byte past the limit is enough to refuse the file
            return file.read(snapshot_checks.MAX_BYTES + 1)
    except OSError as e:
        reason = e.strerror or str(e)
        raise SnapshotFormatError(f"cannot read the snapshot file: {reason}", location=Location(str(path))) from e


class _Refused(Exception):
    """Something the core reader refuses; it is asked for its words."""


def _checked(decoder: msgspec.json.Decoder[T], data: bytes) -> tuple[T, int]:
    """``data`` decoded, and its colons; refused when it gives a key twice in one object (the decoding
    keeps the last). Its raw parts are checked on their own: the encoding writes them as they came."""
    record = decoder.decode(data)
    colons = data.count(b":")
    if colons != _ENCODER.encode(record).count(b":"):
        raise _Refused
    return record, colons


def _given(value: T | UnsetType | None) -> T | None:
    return None if isinstance(value, UnsetType) else value


def _items(value: list[T] | UnsetType) -> list[T]:
    return [] if isinstance(value, UnsetType) else value


def _take(record: FileRecord, key: str) -> Iterator[msgspec.Raw]:
    """The raw items of ``record.<key>``, each let go once taken (the last of them frees the file's bytes);
    the key stays, with an empty list, for the count of the top-level object's colons."""
    items: list[msgspec.Raw] = _items(getattr(record, key))
    if items:
        setattr(record, key, [])
    items.reverse()
    while items:
        yield items.pop()


def _distinct(keys: Iterable[str | None]) -> None:
    """Refuse two items with the same key (None: no key, never a duplicate)."""
    present = [key for key in keys if key is not None]
    if len(set(present)) != len(present):
        raise _Refused


def _in(value: int | None, low: int, high: int) -> int | None:
    if value is not None and not low <= value <= high:
        raise _Refused
    return value


class _Builder:
    """One file's records into the model, remembering what was found valid once (protocols, port
    ranges, namespaces and label sets, each distinct NetworkPolicy spec with its canonical form), as
    the core reader remembers protocols, ports and specs."""

    def __init__(self) -> None:
        self.colons = 0  # in the raw VPCs and clusters read so far
        self.protocols: set[str] = set()
        self.ports: dict[int | str, PortRange | None] = {}
        self.specs: dict[bytes, dict[str, Any]] = {}
        self.metadata: set[tuple[str, tuple[tuple[str, str], ...]]] = set()

    def decoded(self, decoder: msgspec.json.Decoder[T], raw: msgspec.Raw) -> T:
        """A raw VPC or cluster decoded (``_checked``); its colons are counted for the whole file's."""
        record, colons = _checked(decoder, bytes(raw))
        self.colons += colons
        return record

    def snapshot(self, record: FileRecord) -> Snapshot:
        if record.kind != snapshot_format.KIND or record.schema_version not in snapshot_format.KNOWN_VERSIONS:
            raise _Refused
        if record.taken_at is not None:
            try:
                parsed = datetime.fromisoformat(record.taken_at)
            except ValueError as e:
                raise _Refused from e
            if parsed.tzinfo is None:
                raise _Refused
        vpcs = tuple(self.vpc(self.decoded(_VPC, v)) for v in _take(record, "vpcs"))
        _distinct(v.scope for v in vpcs)
        _distinct(v.id for v in vpcs)
        clusters = tuple(self.cluster(self.decoded(_CLUSTER, c)) for c in _take(record, "clusters"))
        _distinct(c.name for c in clusters)
        unreadable = tuple(Unreadable(scope=u.scope, reason=u.reason or "") for u in _items(record.unreadable))
        return Snapshot(vpcs=vpcs, clusters=clusters, unreadable=unreadable, taken_at=record.taken_at)

    def vpc(self, record: VpcRecord) -> Vpc:
        acls = [self.acl(a) for a in _items(record.acls)]
        subnets = [self.subnet(s) for s in _items(record.subnets)]
        groups = [self.security_group(g) for g in _items(record.security_groups)]
        for items in (acls, subnets, groups):
            _distinct(i.name for i in items)
            _distinct(i.id for i in items)
        return Vpc(region=record.region, name=record.name, acls=normalize.sorted_by_name(acls),
                   subnets=normalize.sorted_by_name(subnets), default_acl=record.default_acl,
                   public_gateways=tuple(sorted(_given(record.public_gateways) or ())), id=record.id,
                   security_groups=normalize.sorted_by_name(groups),
                   default_security_group=record.default_security_group)

    def security_group(self, record: SecurityGroupRecord) -> SecurityGroup:
        managed_by = record.managed_by or "user"
        if managed_by not in MANAGED_BY:
            raise _Refused
        rules = [self.sg_rule(r) for r in _items(record.rules)]
        targets = [SgTarget(type=t.type, name=t.name, id=t.id) for t in _items(record.targets)]
        _distinct(r.id for r in rules)
        _distinct(f"{t.type} {t.name}" for t in targets)
        return sg_rules.group(record.name, rules, targets, managed_by=managed_by, id=record.id)

    def sg_rule(self, record: SgRuleRecord) -> SgRule:
        self.protocol(record.protocol)
        ports = record.ports
        return sg_rules.sg_rule(
            direction=record.direction, protocol_=record.protocol, remote=record.remote,
            remote_group=record.remote_group, local=record.local,
            ports=None if ports is None else (self.ports[ports] if ports in self.ports
                                              else self.port_range(ports, "ports")),
            icmp_type=_in(record.icmp_type, 0, 254), icmp_code=_in(record.icmp_code, 0, 255), id=record.id,
            strict_cidrs=False)

    def acl(self, record: AclRecord) -> NetworkAcl:
        rule = self.rule
        rules = tuple([rule(r) for r in _items(record.rules)])
        _distinct(r.name for r in rules)
        _distinct(r.id for r in rules)
        return NetworkAcl(name=record.name, rules=rules, id=record.id)

    def protocol(self, protocol: str) -> None:
        if protocol not in self.protocols:
            protocol_numbers(protocol)  # a NormalizeError for a protocol no rule can have
            self.protocols.add(protocol)

    def rule(self, record: RuleRecord) -> AclRule:
        self.protocol(record.protocol)
        ports, destination_port, source_port = self.ports, record.destination_port, record.source_port
        return normalize.acl_rule(
            name=record.name,
            action=record.action,
            direction=record.direction,
            protocol_=record.protocol,
            source=record.source,
            destination=record.destination,
            destination_port=None if destination_port is None else (
                ports[destination_port] if destination_port in ports
                else self.port_range(destination_port, "destination_port")),
            source_port=None if source_port is None else (
                ports[source_port] if source_port in ports else self.port_range(source_port, "source_port")),
            icmp_type=_in(record.icmp_type, 0, 254),
            icmp_code=_in(record.icmp_code, 0, 255),
            id=record.id,
            strict_cidrs=False,
        )

    def port_range(self, value: int | str, field: str) -> PortRange | None:
        found = self.ports[value] = normalize.port_range(value, field=field)
        return found

    @staticmethod
    def subnet(record: SubnetRecord) -> Subnet:
        return Subnet(name=record.name, network_acl=_given(record.network_acl),
                      public_gateway=_given(record.public_gateway), zone=record.zone,
                      cidr=None if record.cidr is None else normalize.cidr(record.cidr, field="cidr", strict=False),
                      id=record.id)

    def cluster(self, record: ClusterRecord) -> Cluster:
        namespaces = [self.namespace(n) for n in _items(record.namespaces)]
        policies = [self.policy(p) for p in _items(record.policies)]
        pods = tuple(self.pod(p) for p in _items(record.pods))
        _distinct(n.name for n in namespaces)
        _distinct(p.key for p in policies)
        _distinct(f"{p.namespace}/{p.name}" for p in pods)
        workloads = tuple(self.workload(w) for w in _items(record.workloads))
        egress = tuple(EgressPin(e.namespace, e.name, e.subnet, e.exclusive) for e in _items(record.egress))
        _distinct(w.key for w in workloads)
        _distinct(e.key for e in egress)
        return Cluster(name=record.name, namespaces=normalize.sorted_by_name(namespaces),
                       policies=tuple(sorted(policies, key=lambda p: (p.namespace, p.name))), pods=pods,
                       worker_subnets=tuple(_given(record.worker_subnets) or ()), workloads=workloads, egress=egress)

    @staticmethod
    def workload(record: WorkloadRecord) -> Workload:
        if record.kind not in WORKLOAD_KINDS:
            raise _Refused
        return Workload(namespace=record.namespace, name=record.name, kind=record.kind,
                        labels=normalize.labels(record.labels),
                        subnets=tuple(record.subnets) if record.subnets is not None else None,
                        zones=tuple(record.zones) if record.zones is not None else None,
                        pods=tuple(record.pods or ()), running=tuple(record.running or ()))

    @staticmethod
    def namespace(record: NamespaceRecord) -> Namespace:
        if syntax.dns1123_label(record.name):
            raise _Refused
        labels = normalize.labels(record.labels)
        problems: list[netpol_validate.Violation] = []
        netpol_validate.labels(labels, "labels", problems)
        if problems:
            raise _Refused
        return Namespace(name=record.name, labels=labels)

    def policy(self, record: PolicyRecord) -> NetworkPolicy:
        """Held to the API server's rules, as the core reader holds it (``core.netpol.validate``). The
        metadata the server checks is the name (a DNS-1123 subdomain, the one check that involves it),
        the namespace and the labels; a namespace and label set found valid once is valid again."""
        labels = normalize.labels(record.labels)
        if syntax.dns1123_subdomain(record.name):
            raise _Refused
        metadata = (record.namespace, tuple(labels.items()))
        if metadata not in self.metadata:
            if netpol_validate.validate({"metadata": {"name": "p", "namespace": record.namespace, "labels": labels}}):
                raise _Refused
            self.metadata.add(metadata)
        key = b"{}" if isinstance(record.spec, UnsetType) else bytes(record.spec)
        canonical = self.specs.get(key)
        if canonical is None:  # the same text is the same spec, refused or valid for the same reasons
            spec = _checked(_SPEC, key)[0]
            if netpol_validate.validate({"metadata": {"name": "p", "namespace": "n"}, "spec": spec}):
                raise _Refused
            canonical = self.specs[key] = normalize.netpol_spec(spec)
        return NetworkPolicy(namespace=record.namespace, name=record.name, spec=canonical, labels=labels)

    @staticmethod
    def pod(record: PodRecord) -> Pod:
        ports = []
        for port in _items(record.ports):
            protocol = port.protocol or "TCP"
            if not 1 <= port.port <= 65535 or protocol not in _POD_PROTOCOLS:
                raise _Refused
            ports.append(ContainerPort(port=port.port, protocol=protocol, name=port.name))
        return Pod(namespace=record.namespace, name=record.name, labels=normalize.labels(record.labels),
                   ports=tuple(ports), ip=record.ip, node=record.node)
