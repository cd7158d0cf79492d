"""The values a remediation plan is made of: operations, steps, the API call each step makes, the plan.

A plan is printed before it is executed (``remediate`` without ``--apply`` prints nothing else), so
every step carries, besides the operation the writer ports execute, the exact HTTP call it makes:
method, path relative to the API's base URL, and body. Ids come from the live snapshot; a rule the
plan itself creates has no id yet, so a later step that places another rule before it names it
(``RuleRef`` by name) and the executor fills in the id the create returned.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from netwarden.core.errors import PlanRefused
from netwarden.core.findings import Finding
from netwarden.core.model import AclRule, Namespace, NetworkPolicy, Unreadable
from netwarden.core.normalize import acl_rule_to_api, netpol_manifest
from netwarden.core.plan import sg_ops
from netwarden.core.plan.sg_ops import SgOperation

NETPOL_API = "/apis/networking.k8s.io/v1"

#: Phases, in execution order. A step's phase says what it does to allowed traffic: first close what
#: is open (a gateway that should not be there, a subnet on an allow-all ACL), then narrow (add denies,
#: remove allows, patch rules narrower), then put the other subnets' ACLs back, then adjust (moves,
#: patches that widen, allows that were missing, denies that should go), and last open what
#: the baseline opens (gateways, labels).
CLOSE, NARROW, ATTACH, ADJUST, OPEN = 1, 2, 3, 4, 5


@dataclass(frozen=True, slots=True)
class RuleRef:
    """A rule to place another one before: a live rule by id, or a rule an earlier step creates (id None)."""

    name: str
    id: str | None = None

    def body(self) -> dict[str, str]:
        return {"id": self.id if self.id is not None else f"<id of rule {self.name}, created above>"}


@dataclass(frozen=True, slots=True)
class AclTarget:
    region: str
    vpc: str
    acl: str
    acl_id: str

    @property
    def path(self) -> str:
        return f"/v1/network_acls/{self.acl_id}/rules"


@dataclass(frozen=True, slots=True)
class CreateRule:
    target: AclTarget
    rule: AclRule
    before: RuleRef | None


@dataclass(frozen=True, slots=True)
class UpdateRule:
    target: AclTarget
    rule_id: str
    rule_name: str
    patch: Mapping[str, Any]


@dataclass(frozen=True, slots=True)
class MoveRule:
    target: AclTarget
    rule_id: str
    rule_name: str
    before: RuleRef | None


@dataclass(frozen=True, slots=True)
class DeleteRule:
    target: AclTarget
    rule_id: str
    rule_name: str


@dataclass(frozen=True, slots=True)
class ReplaceSubnetAcl:
    region: str
    vpc: str
    subnet: str
    subnet_id: str
    acl: str
    acl_id: str


@dataclass(frozen=True, slots=True)
class SetGateway:
    region: str
    vpc: str
    subnet: str
    subnet_id: str
    gateway: str


@dataclass(frozen=True, slots=True)
class UnsetGateway:
    region: str
    vpc: str
    subnet: str
    subnet_id: str


@dataclass(frozen=True, slots=True)
class ApplyPolicy:
    """Create (``exists`` False) or replace a NetworkPolicy with the baseline's."""

    cluster: str
    policy: NetworkPolicy
    exists: bool


@dataclass(frozen=True, slots=True)
class DeletePolicy:
    cluster: str
    namespace: str
    name: str


@dataclass(frozen=True, slots=True)
class SetNamespaceLabels:
    """Make a namespace's labels exactly ``namespace.labels``: the baseline's, plus the live labels no
    selector looks at; ``remove`` names the compared live labels the baseline does not have."""

    cluster: str
    namespace: Namespace
    remove: tuple[str, ...] = ()


VpcOperation = (CreateRule | UpdateRule | MoveRule | DeleteRule | ReplaceSubnetAcl | SetGateway | UnsetGateway
                | SgOperation)
KubeOperation = ApplyPolicy | DeletePolicy | SetNamespaceLabels
Operation = VpcOperation | KubeOperation


@dataclass(frozen=True, slots=True)
class ApiCall:
    """The HTTP call a step makes. ``api`` names the endpoint (``vpc us-south``, ``kubernetes prod``);
    ``path`` is relative to its base URL."""

    api: str
    method: str
    path: str
    body: Mapping[str, Any] | None = None

    def to_dict(self) -> dict[str, Any]:
        return {"api": self.api, "method": self.method, "path": self.path,
                "body": dict(self.body) if self.body is not None else None}


def need_id(value: str | None, what: str) -> str:
    """``value``, the id of ``what`` from the live snapshot; PlanRefused when the snapshot carries none."""
    if value is None:
        raise PlanRefused(f"the live snapshot has no id for {what}: remediation needs a live read")
    return value


def api_call(op: Operation) -> ApiCall:
    """The exact request ``op`` makes (ibm-cloud-apis.md §1.2 and §1.5; the Kubernetes API)."""
    if isinstance(op, SgOperation):
        return ApiCall(f"vpc {op.ref.region}", *sg_ops.request(op))
    match op:
        case CreateRule(target=t, rule=rule, before=before):
            body: dict[str, Any] = acl_rule_to_api(rule)
            if before is not None:
                body["before"] = before.body()
            return ApiCall(f"vpc {t.region}", "POST", t.path, body)
        case UpdateRule(target=t, rule_id=rid, patch=patch):
            return ApiCall(f"vpc {t.region}", "PATCH", f"{t.path}/{rid}", dict(patch))
        case MoveRule(target=t, rule_id=rid, before=before):
            return ApiCall(f"vpc {t.region}", "PATCH", f"{t.path}/{rid}",
                           {"before": before.body() if before is not None else None})
        case DeleteRule(target=t, rule_id=rid):
            return ApiCall(f"vpc {t.region}", "DELETE", f"{t.path}/{rid}")
        case ReplaceSubnetAcl(region=region, subnet_id=sid, acl_id=acl_id):
            return ApiCall(f"vpc {region}", "PUT", f"/v1/subnets/{sid}/network_acl", {"id": acl_id})
        case SetGateway(region=region, subnet_id=sid, gateway=gw):
            return ApiCall(f"vpc {region}", "PUT", f"/v1/subnets/{sid}/public_gateway",
                           {"id": f"<id of public gateway {gw}>"})
        case UnsetGateway(region=region, subnet_id=sid):
            return ApiCall(f"vpc {region}", "DELETE", f"/v1/subnets/{sid}/public_gateway")
        case ApplyPolicy(cluster=cluster, policy=p, exists=exists):
            base = f"{NETPOL_API}/namespaces/{p.namespace}/networkpolicies"
            if exists:
                return ApiCall(f"kubernetes {cluster}", "PUT", f"{base}/{p.name}", netpol_manifest(p))
            return ApiCall(f"kubernetes {cluster}", "POST", base, netpol_manifest(p))
        case DeletePolicy(cluster=cluster, namespace=ns, name=name):
            return ApiCall(f"kubernetes {cluster}", "DELETE", f"{NETPOL_API}/namespaces/{ns}/networkpolicies/{name}")
        case SetNamespaceLabels(cluster=cluster, namespace=ns, remove=remove):
            labels: dict[str, str | None] = {**dict(ns.labels), **dict.fromkeys(remove)}
            return ApiCall(f"kubernetes {cluster}", "PATCH", f"/api/v1/namespaces/{ns.name}",
                           {"metadata": {"labels": labels}})
    raise TypeError(f"not an operation: {op!r}")  # pragma: no cover - the match is exhaustive


def scope_of(op: Operation) -> str:
    """The scope a step writes to: ``us-south/prod-vpc`` or ``k8s/prod-cluster`` (as ``Snapshot`` names them)."""
    if isinstance(op, SgOperation):
        return op.ref.scope
    match op:
        case CreateRule(target=t) | UpdateRule(target=t) | MoveRule(target=t) | DeleteRule(target=t):
            return f"{t.region}/{t.vpc}"
        case ReplaceSubnetAcl(region=r, vpc=v) | SetGateway(region=r, vpc=v) | UnsetGateway(region=r, vpc=v):
            return f"{r}/{v}"
        case ApplyPolicy(cluster=c) | DeletePolicy(cluster=c) | SetNamespaceLabels(cluster=c):
            return f"k8s/{c}"
    raise TypeError(f"not an operation: {op!r}")  # pragma: no cover


@dataclass(frozen=True, slots=True)
class Step:
    """One write: the operation, what it is for (``fixes``: finding fingerprints; ``codes``: their codes),
    a sentence for people, and the phase that orders it (see CLOSE..OPEN)."""

    op: Operation
    description: str
    fixes: tuple[str, ...] = ()
    codes: tuple[str, ...] = ()
    phase: int = ADJUST

    @property
    def call(self) -> ApiCall:
        return api_call(self.op)

    @property
    def scope(self) -> str:
        return scope_of(self.op)

    def to_dict(self) -> dict[str, Any]:
        return {"kind": kind_of(self.op), "scope": self.scope, "description": self.description,
                "codes": list(self.codes), "fixes": list(self.fixes), "call": self.call.to_dict()}


def kind_of(op: Operation) -> str:
    """``create-rule``, ``replace-subnet-acl``... (the class name in kebab case)."""
    name = type(op).__name__
    return "".join("-" + c.lower() if c.isupper() else c for c in name).lstrip("-")


@dataclass(frozen=True, slots=True)
class Skipped:
    """A finding the plan does not remediate, and why (no automatic fix, not selected, blocked...)."""

    finding: Finding
    reason: str
    suppressed: bool = False

    def to_dict(self) -> dict[str, Any]:
        return {"fingerprint": self.finding.fingerprint, "code": self.finding.code,
                "resource": self.finding.resource.path, "reason": self.reason, "suppressed": self.suppressed}


@dataclass(frozen=True, slots=True)
class RemediationPlan:
    """Ordered steps; the findings they were made for; what was left out and why; and the scopes the
    live snapshot could not read (a plan with ``unreadable`` scopes must not be executed)."""

    steps: tuple[Step, ...] = ()
    findings: tuple[Finding, ...] = ()
    skipped: tuple[Skipped, ...] = ()
    unreadable: tuple[Unreadable, ...] = ()
    codes: frozenset[str] | None = field(default=None, compare=False)

    @property
    def fixes(self) -> frozenset[str]:
        """Fingerprints of every finding some step remediates."""
        return frozenset(fp for step in self.steps for fp in step.fixes)

    @property
    def drift_left(self) -> bool:
        """Whether findings stay that the plan does not remediate (suppressed ones do not count)."""
        return any(not s.suppressed for s in self.skipped)

    @property
    def scopes(self) -> tuple[str, ...]:
        return tuple(sorted({step.scope for step in self.steps}))

    def __len__(self) -> int:
        return len(self.steps)

    def to_dict(self) -> dict[str, Any]:
        return {"steps": [dict(s.to_dict(), n=i) for i, s in enumerate(self.steps, 1)],
                "skipped": [s.to_dict() for s in self.skipped],
                "unreadable": [{"scope": u.scope, "reason": u.reason} for u in self.unreadable]}
