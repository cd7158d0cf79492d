"""The writes a plan makes to security groups, and the HTTP call each one makes.

Beside ``steps`` (ACLs, subnets, NetworkPolicies) because a group is another vocabulary: its rules are
a set, so there is nothing to place a rule before, and its targets are bound and unbound rather than
attached. Groups are named (the writer resolves names to ids with one listing); rules and targets
carry the ids of the live snapshot. A group the plan itself creates has no id yet: its calls show a
placeholder, and the writer knows the id once the create step has run.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from netwarden.core import sg_rules
from netwarden.core.model import SgRule, SgTarget


@dataclass(frozen=True, slots=True)
class SgRef:
    """A security group by name; ``group_id`` None for one an earlier step of the plan creates."""

    region: str
    vpc: str
    group: str
    group_id: str | None

    @property
    def path(self) -> str:
        ident = self.group_id if self.group_id is not None else f"<id of security group {self.group}, created above>"
        return f"/v1/security_groups/{ident}"

    @property
    def scope(self) -> str:
        return f"{self.region}/{self.vpc}"


@dataclass(frozen=True, slots=True)
class CreateSecurityGroup:
    """A group of the baseline that is gone, created empty: its rules and targets are steps of their own."""

    ref: SgRef
    vpc_id: str


@dataclass(frozen=True, slots=True)
class CreateSgRule:
    """``remote_id``: the id of the rule's remote group, None when the plan creates that group too."""

    ref: SgRef
    rule: SgRule
    remote_id: str | None = None


@dataclass(frozen=True, slots=True)
class UpdateSgRule:
    """``patch`` in the API's words (``port_min``/``port_max``, ``local``); ``rule`` is what it becomes."""

    ref: SgRef
    rule_id: str
    rule: SgRule
    patch: Mapping[str, Any]


@dataclass(frozen=True, slots=True)
class DeleteSgRule:
    ref: SgRef
    rule_id: str
    rule: SgRule


@dataclass(frozen=True, slots=True)
class BindSgTarget:
    ref: SgRef
    target: SgTarget
    target_id: str


@dataclass(frozen=True, slots=True)
class UnbindSgTarget:
    ref: SgRef
    target: SgTarget
    target_id: str


SgOperation = CreateSecurityGroup | CreateSgRule | UpdateSgRule | DeleteSgRule | BindSgTarget | UnbindSgTarget


def request(op: SgOperation) -> tuple[str, str, Mapping[str, Any] | None]:
    """The method, path and body of ``op`` (ibm-cloud-apis.md, security groups)."""
    path = op.ref.path
    match op:
        case CreateSecurityGroup(ref=ref, vpc_id=vpc_id):
            return "POST", "/v1/security_groups", {"name": ref.group, "vpc": {"id": vpc_id}}
        case CreateSgRule(rule=rule, remote_id=remote_id):
            ids = {}
            if rule.remote_group is not None:
                ids[rule.remote_group] = remote_id or f"<id of security group {rule.remote_group}, created above>"
            return "POST", f"{path}/rules", sg_rules.to_api(rule, ids)
        case UpdateSgRule(rule_id=rid, patch=patch):
            return "PATCH", f"{path}/rules/{rid}", dict(patch)
        case DeleteSgRule(rule_id=rid):
            return "DELETE", f"{path}/rules/{rid}", None
        case BindSgTarget(target_id=tid):
            return "PUT", f"{path}/targets/{tid}", None
        case UnbindSgTarget(target_id=tid):
            return "DELETE", f"{path}/targets/{tid}", None
    raise TypeError(f"not a security group operation: {op!r}")  # pragma: no cover - the match is exhaustive


def patch_between(old: SgRule, new: SgRule) -> dict[str, Any] | None:
    """The ``SecurityGroupRulePatch`` that turns ``old`` into ``new``, or None when no patch can (the
    protocol, direction, remote or ICMP type differ: the rule is deleted and created again)."""
    same = (old.direction, old.protocol, old.remote, old.remote_group, old.icmp_type, old.icmp_code)
    if same != (new.direction, new.protocol, new.remote, new.remote_group, new.icmp_type, new.icmp_code):
        return None
    patch: dict[str, Any] = {}
    if new.ports != old.ports and new.ports is not None:
        patch["port_min"], patch["port_max"] = new.ports.min, new.ports.max
    if new.local != old.local:
        patch["local"] = {"cidr_block": new.local}
    return patch or None
