"""The ports the use-cases in ``app`` call, and the adapters implement.

``app`` sees only these Protocols and the core model, so a use-case can be run against the real
IBM Cloud, the emulators, or a tiny hand-written double, and never learns which. Adapters convert
SDK objects into the model once, at the boundary, and raise only ``core.errors``.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass
from typing import Any, Protocol

from netwarden.core.model import AclRule, Cluster, Namespace, NetworkPolicy, SgRule, Unreadable, Vpc
from netwarden.core.scope import ReadScope


@dataclass(frozen=True, slots=True)
class VpcRead:
    """What a VPC read returned: the VPCs it could read, and the scopes it could not."""

    vpcs: tuple[Vpc, ...]
    unreadable: tuple[Unreadable, ...] = ()
    #: The regions read and the VPCs ``ibmcloud.vpcs`` selects there (by name); None when not known.
    scope: ReadScope | None = None


@dataclass(frozen=True, slots=True)
class KubeRead:
    clusters: tuple[Cluster, ...]
    unreadable: tuple[Unreadable, ...] = ()
    #: The clusters configured and their managed namespaces; None when not known.
    scope: ReadScope | None = None


class VpcReader(Protocol):
    def read_vpcs(self) -> VpcRead:
        """Every VPC in scope, with its ACLs (rules in order), subnets and default ACL."""
        ...


class VpcWriter(Protocol):
    """The writes remediation makes. ``region``/``vpc`` name the scope; ACLs and subnets are by name,
    rules by id (the live rule's id from the snapshot)."""

    def create_rule(self, region: str, vpc: str, acl: str, rule: AclRule, before_id: str | None) -> str: ...

    def update_rule(self, region: str, vpc: str, acl: str, rule_id: str, patch: dict[str, Any]) -> None: ...

    def delete_rule(self, region: str, vpc: str, acl: str, rule_id: str) -> None: ...

    def move_rule(self, region: str, vpc: str, acl: str, rule_id: str, before_id: str | None) -> None: ...

    def replace_subnet_acl(self, region: str, vpc: str, subnet: str, acl: str) -> None: ...

    def set_subnet_gateway(self, region: str, vpc: str, subnet: str, gateway: str) -> None: ...

    def unset_subnet_gateway(self, region: str, vpc: str, subnet: str) -> None: ...

    # Security groups by name; a rule's remote group too. Rules and targets by id.
    def create_security_group(self, region: str, vpc: str, group: str) -> str: ...

    def create_sg_rule(self, region: str, vpc: str, group: str, rule: SgRule) -> str: ...

    def update_sg_rule(self, region: str, vpc: str, group: str, rule_id: str, patch: dict[str, Any]) -> None: ...

    def delete_sg_rule(self, region: str, vpc: str, group: str, rule_id: str) -> None: ...

    def bind_sg_target(self, region: str, vpc: str, group: str, target_id: str) -> None: ...

    def unbind_sg_target(self, region: str, vpc: str, group: str, target_id: str) -> None: ...


class KubeReader(Protocol):
    def read_clusters(self) -> KubeRead:
        """Every cluster in scope, with managed namespaces (and labels), NetworkPolicies and pods."""
        ...


class KubeWriter(Protocol):
    def apply_policy(self, cluster: str, policy: NetworkPolicy) -> None: ...

    def delete_policy(self, cluster: str, namespace: str, name: str) -> None: ...

    def set_namespace_labels(self, cluster: str, namespace: Namespace) -> None: ...


class StateStore(Protocol):
    """Keys are relative paths such as ``findings.json`` or ``audit/2026-11-27T10:00:00Z.json``."""

    def get(self, key: str) -> bytes | None: ...

    def put(self, key: str, data: bytes) -> None: ...

    def append(self, key: str, line: bytes) -> None: ...

    def keys(self, prefix: str) -> Iterator[str]: ...

    def delete(self, key: str) -> None:
        """Remove ``key``; a key that is not there is no error."""
        ...

    def lock(self, name: str, owner: str) -> AbstractContextManager[None]:
        """Hold ``name`` for ``owner`` or raise ``errors.LockHeld``, in one line naming the holder, its
        host and PID, and until when (UTC) it holds the lock.

        The lock records its holder, host, PID and lease. A lock whose lease ran out, or whose holder
        is provably gone (same host, and that PID is not running), is taken over, with a warning saying
        whose it was and why; of two runs taking over the same lock only one gets it. Leaving the
        context releases the lock only if it is still this run's."""
        ...


class Notifier(Protocol):
    """One channel (slack, email, event_notifications, webhook). ``send`` raises ``NotifyError``."""

    name: str

    def send(self, alerts: Sequence[Any], context: dict[str, Any]) -> None: ...
