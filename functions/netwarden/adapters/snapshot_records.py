"""The objects of a snapshot file as msgspec types, for the typed reader (``adapters.snapshot_file``).

Each type is one object of ``docs/snapshot-format.md``: its fields, the type of each, which are
required, and no other (``forbid_unknown_fields``). A type may be looser than the core reader (a CIDR
is any string here: the typed reader's checks make up the difference) or stricter (a ``null`` where the
writer leaves a field out: the core reader is asked about whatever a type refuses). ``FileRecord``
keeps the VPCs and clusters raw, for the typed reader to decode one at a time.
"""

from __future__ import annotations

from typing import Annotated

import msgspec
from msgspec import UNSET, UnsetType

#: A string the core reader accepts where it wants text: not empty.
Text = Annotated[str, msgspec.Meta(min_length=1)]


class Record(msgspec.Struct, forbid_unknown_fields=True, omit_defaults=True, gc=False):
    """One object of a snapshot file. A field that may be left out defaults to None where the writer
    leaves it out rather than write ``null``, and to ``UNSET`` where it writes ``null`` or a list."""


class RuleRecord(Record):
    name: Text
    action: Text
    direction: Text
    protocol: Text
    source: Text
    destination: Text
    destination_port: int | str | None = None
    source_port: int | str | None = None
    icmp_type: int | None = msgspec.field(default=None, name="type")
    icmp_code: int | None = msgspec.field(default=None, name="code")
    id: Text | None = None


class AclRecord(Record):
    name: Text
    id: Text | None = None
    rules: list[RuleRecord] | UnsetType = UNSET


class SubnetRecord(Record):
    name: Text
    id: Text | None = None
    network_acl: Text | UnsetType | None = UNSET  # written as null when there is none
    public_gateway: Text | UnsetType | None = UNSET
    zone: Text | None = None
    cidr: Text | None = None


class SgRuleRecord(Record):
    direction: Text
    protocol: Text
    remote: Text | None = None
    remote_group: Text | None = None
    local: Text | None = None
    ports: int | str | None = None
    icmp_type: int | None = msgspec.field(default=None, name="type")
    icmp_code: int | None = msgspec.field(default=None, name="code")
    id: Text | None = None


class SgTargetRecord(Record):
    type: Text
    name: Text
    id: Text | None = None


class SecurityGroupRecord(Record):
    name: Text
    id: Text | None = None
    managed_by: Text | None = None
    rules: list[SgRuleRecord] | UnsetType = UNSET
    targets: list[SgTargetRecord] | UnsetType = UNSET


class VpcRecord(Record):
    region: Text
    name: Text
    id: Text | None = None
    default_acl: Text | None = None
    public_gateways: list[Text] | UnsetType | None = UNSET
    acls: list[AclRecord] | UnsetType = UNSET
    subnets: list[SubnetRecord] | UnsetType = UNSET
    default_security_group: Text | None = None
    security_groups: list[SecurityGroupRecord] | UnsetType = UNSET


class NamespaceRecord(Record):
    name: Text
    labels: dict[str, str] | None = None


class PolicyRecord(Record):
    namespace: Text
    name: Text
    labels: dict[str, str] | None = None
    spec: msgspec.Raw | UnsetType = UNSET  # decoded once per distinct spec (an estate repeats a few)


class PortRecord(Record):
    port: int
    protocol: Text | None = None
    name: Text | None = None


class PodRecord(Record):
    namespace: Text
    name: Text
    labels: dict[str, str] | None = None
    ports: list[PortRecord] | UnsetType = UNSET
    ip: Text | None = None
    node: Text | None = None


class WorkloadRecord(Record):
    namespace: Text
    name: Text
    kind: Text
    labels: dict[str, str] | None = None
    subnets: list[Text] | None = None
    zones: list[Text] | None = None
    pods: list[Text] | None = None
    running: list[Text] | None = None


class EgressRecord(Record):
    namespace: Text
    name: Text
    subnet: Text
    exclusive: bool = False


class ClusterRecord(Record):
    name: Text
    namespaces: list[NamespaceRecord] | UnsetType = UNSET
    policies: list[PolicyRecord] | UnsetType = UNSET
    pods: list[PodRecord] | UnsetType = UNSET
    worker_subnets: list[Text] | UnsetType | None = UNSET
    workloads: list[WorkloadRecord] | UnsetType = UNSET
    egress: list[EgressRecord] | UnsetType = UNSET


class UnreadableRecord(Record):
    scope: Text
    reason: Text | None = None


class FileRecord(Record):
    """The file; its VPCs and clusters are decoded one at a time (``_Builder.vpc``, ``_Builder.cluster``)."""

    schema_version: int
    kind: str
    taken_at: str | None
    vpcs: list[msgspec.Raw] | UnsetType = UNSET
    clusters: list[msgspec.Raw] | UnsetType = UNSET
    unreadable: list[UnreadableRecord] | UnsetType = UNSET
