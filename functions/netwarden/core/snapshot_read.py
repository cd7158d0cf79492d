"""Reading a snapshot file: every field checked, named where it is wrong, and normalised again.

A snapshot file stands in for the live state (``check --snapshot``) and for a baseline (``--baseline
F``, a rollback), so it is held to a baseline's rules: the types of every field, ports, CIDRs, the
action/direction/protocol vocabulary, NetworkPolicies as the API server checks them
(``core.netpol.validate``, the baseline reader's check), and no resource listed twice. A duplicate is
not harmless: the diff keys the live side by name, so the second copy of a VPC would win and the
drift of the first would never be reported. The first problem is one ``SnapshotFormatError`` naming
the file, the line where it can and the JSON path: ``live.json:57: vpcs[1].name: duplicate VPC ...``.

Every value goes through ``core.normalize``, so a file written by hand or by an older version folds
the same synonyms as a live read. ``core.snapshot_format`` writes the files and re-exports ``loads``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, TypeVar

from netwarden.core import normalize, sg_rules
from netwarden.core.acl.evaluate import PROTOCOL_CHOICES, protocol_numbers
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
from netwarden.core.snapshot_checks import Reader, decode, kind_of, parse, shown
from netwarden.core.strict_json import join

_Keyed = TypeVar("_Keyed", Workload, EgressPin)

SCHEMA_VERSION = 1
#: Every version this reader understands; a file of any other is refused, never guessed at.
KNOWN_VERSIONS = (1,)
KIND = "netwarden/snapshot"

_TOP = frozenset({"schema_version", "kind", "taken_at", "vpcs", "clusters", "unreadable"})
_VPC = frozenset({"region", "name", "id", "default_acl", "public_gateways", "acls", "subnets",
                  "default_security_group", "security_groups"})
_GROUP = frozenset({"name", "id", "managed_by", "rules", "targets"})
_SG_RULE = frozenset({*sg_rules.RULE_KEYS, "id"})
_TARGET = frozenset({"type", "name", "id"})
_ACL = frozenset({"name", "id", "rules"})
_RULE = frozenset({"name", "id", "action", "direction", "protocol", "source", "destination", "destination_port",
                   "source_port", "type", "code"})
_RULE_REQUIRED = ("name", "action", "direction", "protocol", "source", "destination")
_SUBNET = frozenset({"name", "id", "network_acl", "public_gateway", "zone", "cidr"})
_CLUSTER = frozenset({"name", "namespaces", "policies", "pods", "worker_subnets", "workloads", "egress"})
_WORKLOAD = frozenset({"namespace", "name", "kind", "labels", "subnets", "zones", "pods", "running"})
_EGRESS = frozenset({"namespace", "name", "subnet", "exclusive"})
_NAMESPACE = frozenset({"name", "labels"})
_POLICY = frozenset({"namespace", "name", "labels", "spec"})
_POD = frozenset({"namespace", "name", "labels", "ports", "ip", "node"})
_PORT = frozenset({"port", "protocol", "name"})
_UNREADABLE = frozenset({"scope", "reason"})
_POD_PROTOCOLS = ("TCP", "UDP", "SCTP")
#: Where a policy's manifest field sits in a snapshot entry.
_POLICY_FIELDS = {"metadata.name": "name", "metadata.namespace": "namespace", "metadata.labels": "labels"}


def loads(data: str | bytes, source: str) -> Snapshot:
    """Parse a snapshot file (its bytes, or its text); ``source`` (its path) is named in every error."""
    text = decode(data, source)
    raw = parse(text, source)
    r = _SnapshotReader(source, text)
    try:
        return r.snapshot(raw)
    except RecursionError as e:  # a NetworkPolicy spec nested past what its checks can walk
        raise r.fail("", "nested too deeply") from e


class _SnapshotReader(Reader):
    """One file's reading. What was found valid once is remembered, as normalize remembers CIDRs: the
    protocols, and each distinct NetworkPolicy spec with its canonical form (shared by the policies
    that have it; the model is never changed in place)."""

    def __init__(self, source: str, text: str) -> None:
        super().__init__(source, text)
        self._protocols: set[str] = set()
        self._specs: dict[str, dict[str, Any]] = {}

    def snapshot(self, raw: Any) -> Snapshot:
        if type(raw) is not dict:
            raise self.fail("", f"not a netwarden snapshot: expected a JSON object, got {kind_of(raw)}")
        if raw.get("kind") != KIND:
            raise self.fail("kind", f"not a netwarden snapshot: expected {KIND!r}, got {shown(raw.get('kind'))}")
        known = ", ".join(str(v) for v in KNOWN_VERSIONS)
        if "schema_version" not in raw:
            raise self.fail("schema_version", f"missing (this netwarden reads snapshot version {known})")
        version = raw["schema_version"]
        if type(version) is not int or version not in KNOWN_VERSIONS:
            raise self.fail("schema_version", f"unsupported snapshot version {shown(version)} (this netwarden "
                                              f"reads snapshot version {known})")
        data = self.mapping(raw, "", _TOP)
        taken_at = self.timestamp(data, "taken_at")
        vpcs = self.items(data, "vpcs", "", self.vpc)
        self.unique((v.scope for v in vpcs), "vpcs", "name", "VPC")
        self.unique((v.id for v in vpcs), "vpcs", "id", "VPC id")
        clusters = self.items(data, "clusters", "", self.cluster)
        self.unique((c.name for c in clusters), "clusters", "name", "cluster")
        return Snapshot(vpcs=vpcs, clusters=clusters, unreadable=self.items(data, "unreadable", "", self.unreadable),
                        taken_at=taken_at)

    def vpc(self, raw: Any, path: str) -> Vpc:
        data = self.mapping(raw, path, _VPC)
        region, name = self.name(data, "region", path), self.name(data, "name", path)
        acls = self.items(data, "acls", path, self.acl)
        subnets = self.items(data, "subnets", path, self.subnet)
        groups = self.items(data, "security_groups", path, self.security_group)
        for key, what, items in (("acls", "ACL", acls), ("subnets", "subnet", subnets),
                                 ("security_groups", "security group", groups)):
            self.unique((i.name for i in items), join(path, key), "name", what)
            self.unique((i.id for i in items), join(path, key), "id", f"{what} id")
        return Vpc(
            region=region,
            name=name,
            acls=normalize.sorted_by_name(acls),
            subnets=normalize.sorted_by_name(subnets),
            default_acl=self.text_of(data, "default_acl", path),
            public_gateways=tuple(sorted(self.strings(data, "public_gateways", path))),
            id=self.text_of(data, "id", path),
            security_groups=normalize.sorted_by_name(groups),
            default_security_group=self.text_of(data, "default_security_group", path),
        )

    def security_group(self, raw: Any, path: str) -> SecurityGroup:
        data = self.mapping(raw, path, _GROUP)
        name = self.name(data, "name", path)
        managed_by = self.text_of(data, "managed_by", path) or "user"
        if managed_by not in MANAGED_BY:
            raise self.fail(join(path, "managed_by"), f"{shown(managed_by)} is not one of {', '.join(MANAGED_BY)}")
        rules = self.items(data, "rules", path, self.sg_rule)
        targets = self.items(data, "targets", path, self.target)
        self.unique((r.id for r in rules), join(path, "rules"), "id", "rule id")
        self.unique((f"{t.type} {t.name}" for t in targets), join(path, "targets"), "name", "target")
        return sg_rules.group(name, rules, targets, managed_by=managed_by, id=self.text_of(data, "id", path))

    def sg_rule(self, raw: Any, path: str) -> SgRule:
        data = self.mapping(raw, path, _SG_RULE)
        direction, protocol = self.names(data, ("direction", "protocol"), path)
        self.protocol(protocol, path)
        try:
            return sg_rules.sg_rule(
                direction=direction, protocol_=protocol, remote=self.text_of(data, "remote", path),
                remote_group=self.text_of(data, "remote_group", path), local=self.text_of(data, "local", path),
                ports=self.port_range(data, "ports", path), icmp_type=self.integer(data, "type", path, 0, 254),
                icmp_code=self.integer(data, "code", path, 0, 255), id=self.text_of(data, "id", path),
                strict_cidrs=False)
        except normalize.NormalizeError as e:
            raise self.fail(join(path, e.field), e.message) from e

    def target(self, raw: Any, path: str) -> SgTarget:
        data = self.mapping(raw, path, _TARGET)
        return SgTarget(type=self.name(data, "type", path), name=self.name(data, "name", path),
                        id=self.text_of(data, "id", path))

    def acl(self, raw: Any, path: str) -> NetworkAcl:
        data = self.mapping(raw, path, _ACL)
        name = self.name(data, "name", path)
        rules = self.items(data, "rules", path, self.rule)
        where = join(path, "rules")
        self.unique((r.name for r in rules), where, "name", "rule")
        self.unique((r.id for r in rules), where, "id", "rule id")
        return NetworkAcl(name=name, rules=rules, id=self.text_of(data, "id", path))

    def rule(self, raw: Any, path: str) -> AclRule:
        data = self.mapping(raw, path, _RULE)
        name, action, direction, protocol, source, destination = self.names(data, _RULE_REQUIRED, path)
        self.protocol(protocol, path)
        try:
            return normalize.acl_rule(
                name=name,
                action=action,
                direction=direction,
                protocol_=protocol,
                source=source,
                destination=destination,
                destination_port=self.port_range(data, "destination_port", path),
                source_port=self.port_range(data, "source_port", path),
                icmp_type=self.integer(data, "type", path, 0, 254),
                icmp_code=self.integer(data, "code", path, 0, 255),
                id=self.text_of(data, "id", path),
                strict_cidrs=False,
            )
        except normalize.NormalizeError as e:
            raise self.fail(join(path, e.field), e.message) from e

    def protocol(self, protocol: str, path: str) -> None:
        """Refuse a protocol no rule can have (each spelling is looked at once)."""
        if protocol not in self._protocols:
            try:
                protocol_numbers(protocol)
            except normalize.NormalizeError as e:
                raise self.fail(join(path, "protocol"), f"{e.message} (expected {PROTOCOL_CHOICES})") from e
            self._protocols.add(protocol)

    def subnet(self, raw: Any, path: str) -> Subnet:
        data = self.mapping(raw, path, _SUBNET)
        name = self.name(data, "name", path)
        cidr = self.text_of(data, "cidr", path)
        if cidr is not None:
            try:
                cidr = normalize.cidr(cidr, field="cidr", strict=False)
            except normalize.NormalizeError as e:
                raise self.fail(join(path, "cidr"), e.message) from e
        return Subnet(
            name=name,
            network_acl=self.text_of(data, "network_acl", path),
            public_gateway=self.text_of(data, "public_gateway", path),
            zone=self.text_of(data, "zone", path),
            cidr=cidr,
            id=self.text_of(data, "id", path),
        )

    def cluster(self, raw: Any, path: str) -> Cluster:
        data = self.mapping(raw, path, _CLUSTER)
        name = self.name(data, "name", path)
        namespaces = self.items(data, "namespaces", path, self.namespace)
        policies = self.items(data, "policies", path, self.policy)
        pods = self.items(data, "pods", path, self.pod)
        self.unique((n.name for n in namespaces), join(path, "namespaces"), "name", "namespace")
        self.unique((p.key for p in policies), join(path, "policies"), "name", "NetworkPolicy")
        self.unique((f"{p.namespace}/{p.name}" for p in pods), join(path, "pods"), "name", "pod")
        return Cluster(
            name=name,
            namespaces=normalize.sorted_by_name(namespaces),
            policies=tuple(sorted(policies, key=lambda p: (p.namespace, p.name))),
            pods=pods,
            worker_subnets=self.strings(data, "worker_subnets", path),
            workloads=self.unique_items(data, "workloads", path, self.workload, "workload"),
            egress=self.unique_items(data, "egress", path, self.egress_pin, "public-egress workload"),
        )

    def unique_items(self, data: Mapping[str, Any], key: str, path: str, build: Callable[[Any, str], _Keyed],
                     what: str) -> tuple[_Keyed, ...]:
        found = self.items(data, key, path, build)
        self.unique((w.key for w in found), join(path, key), "name", what)
        return found

    def workload(self, raw: Any, path: str) -> Workload:
        data = self.mapping(raw, path, _WORKLOAD)
        kind = self.text_of(data, "kind", path, required=True)
        if kind not in WORKLOAD_KINDS:
            raise self.fail(join(path, "kind"), f"{kind!r} is not one of {', '.join(WORKLOAD_KINDS)}")
        return Workload(namespace=self.name(data, "namespace", path), name=self.name(data, "name", path), kind=kind,
                        labels=self.labels(data, "labels", path),
                        subnets=self.strings(data, "subnets", path) if data.get("subnets") is not None else None,
                        zones=self.strings(data, "zones", path) if data.get("zones") is not None else None,
                        pods=self.strings(data, "pods", path), running=self.strings(data, "running", path))

    def egress_pin(self, raw: Any, path: str) -> EgressPin:
        data = self.mapping(raw, path, _EGRESS)
        exclusive = data.get("exclusive", False)
        if type(exclusive) is not bool:
            raise self.fail(join(path, "exclusive"), "expected true or false")
        return EgressPin(namespace=self.name(data, "namespace", path), name=self.name(data, "name", path),
                         subnet=self.name(data, "subnet", path), exclusive=exclusive)

    def namespace(self, raw: Any, path: str) -> Namespace:
        data = self.mapping(raw, path, _NAMESPACE)
        name = self.name(data, "name", path)
        invalid = syntax.dns1123_label(name)
        if invalid:
            raise self.fail(join(path, "name"), f"{shown(name)} is not a namespace name: {invalid[0]}")
        labels = self.labels(data, "labels", path)
        problems: list[netpol_validate.Violation] = []
        netpol_validate.labels(labels, join(path, "labels"), problems)
        if problems:
            raise self.fail(problems[0].field, problems[0].message)
        return Namespace(name=name, labels=labels)

    def policy(self, raw: Any, path: str) -> NetworkPolicy:
        """A policy held to the API server's rules, as a baseline's is (``core.netpol.validate``)."""
        data = self.mapping(raw, path, _POLICY)
        namespace, name = self.name(data, "namespace", path), self.name(data, "name", path)
        labels = self.labels(data, "labels", path)
        self._refuse(netpol_validate.validate({"metadata": {"name": name, "namespace": namespace, "labels": labels}}),
                     path)
        spec = self.mapping(data.get("spec", {}), join(path, "spec"))
        key = repr(spec)  # exact for JSON data; an estate repeats a few specs over thousands of policies
        canonical = self._specs.get(key)
        if canonical is None:
            # The spec is checked under a name and namespace that are valid (the real ones are, above).
            self._refuse(netpol_validate.stored(netpol_validate.validate({"metadata": {"name": "p", "namespace": "n"},
                                                                          "spec": spec})), path)
            try:
                canonical = self._specs[key] = normalize.netpol_spec(spec)
            except normalize.NormalizeError as e:
                raise self.fail(join(path, f"spec.{e.field}"), e.message) from e
        return NetworkPolicy(namespace=namespace, name=name, spec=canonical, labels=labels)

    def _refuse(self, violations: list[netpol_validate.Violation], path: str) -> None:
        if violations:
            first = violations[0]
            field = _POLICY_FIELDS.get(first.field, first.field)
            raise self.fail(join(path, field) if field else path, first.message)

    def pod(self, raw: Any, path: str) -> Pod:
        data = self.mapping(raw, path, _POD)
        return Pod(
            namespace=self.name(data, "namespace", path),
            name=self.name(data, "name", path),
            labels=self.labels(data, "labels", path),
            ports=self.items(data, "ports", path, self.container_port),
            ip=self.text_of(data, "ip", path),
            node=self.text_of(data, "node", path),
        )

    def container_port(self, raw: Any, path: str) -> ContainerPort:
        data = self.mapping(raw, path, _PORT)
        number = self.integer(data, "port", path, 1, 65535)
        if number is None:
            raise self.fail(join(path, "port"), "missing")
        protocol = self.text_of(data, "protocol", path) or "TCP"
        if protocol not in _POD_PROTOCOLS:
            raise self.fail(join(path, "protocol"), f"{protocol!r} is not one of {', '.join(_POD_PROTOCOLS)}")
        return ContainerPort(port=number, protocol=protocol, name=self.text_of(data, "name", path))

    def unreadable(self, raw: Any, path: str) -> Unreadable:
        data = self.mapping(raw, path, _UNREADABLE)
        return Unreadable(scope=self.name(data, "scope", path), reason=self.text_of(data, "reason", path) or "")

