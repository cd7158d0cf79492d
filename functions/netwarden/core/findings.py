"""Findings: what drifted, where, how bad, and what it opens or closes.

A ``Finding`` is a value: the diff creates it, the impact analysis fills ``impact`` (and so the
severity of the codes whose severity follows from impact), the lifecycle tracks it by
``fingerprint``, and reports, alerts and the remediation plan read it.

``fingerprint`` names *which* drift this is (code + resource): it stays the same across runs while
the drift lasts, so an alert goes out once. ``content_hash`` names *what* it looks like now
(severity, baseline and live values), so a change of content can be told apart from a new finding.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any

SEVERITIES = ("critical", "high", "medium", "low", "info")
SEVERITY_RANK = {s: i for i, s in enumerate(SEVERITIES)}


@dataclass(frozen=True, slots=True)
class Code:
    """One finding code of DESIGN.md: its default severity, and whether impact decides severity."""

    name: str
    kind: str
    severity: str
    by_impact: bool
    help: str


CODES: dict[str, Code] = {
    c.name: c
    for c in (
        Code("subnet-allow-all", "subnet", "critical", False,
             "The subnet's live ACL lets all traffic in from anywhere (for example it was re-attached to the "
             "VPC's default allow-all ACL); the baseline does not."),
        Code("gateway-attached", "subnet", "critical", False,
             "A public gateway is attached to a subnet whose baseline has none: its workers can reach the "
             "internet directly."),
        Code("subnet-acl-changed", "subnet", "high", False,
             "The subnet uses another network ACL than the baseline names."),
        Code("acl-missing", "network-acl", "high", False, "A network ACL of the baseline does not exist."),
        Code("acl-rule-missing", "network-acl", "high", True,
             "A rule of the baseline ACL is gone. Severity follows what the change opens or closes."),
        Code("acl-rule-unexpected", "network-acl", "high", True,
             "The live ACL has a rule the baseline does not. Severity follows what it opens."),
        Code("acl-rule-changed", "network-acl", "high", True,
             "A rule differs from the baseline in one or more fields. Severity follows what it opens."),
        Code("acl-rules-reordered", "network-acl", "low", True,
             "The same rules in another order. ACLs are first-match: order is meaning."),
        Code("gateway-detached", "subnet", "medium", False,
             "The subnet's public gateway was removed: its egress path to the internet is gone."),
        Code("gateway-changed", "subnet", "medium", False, "The subnet has another public gateway than the baseline."),
        Code("subnet-missing", "subnet", "medium", False, "A subnet of the baseline does not exist."),
        Code("sg-allow-all", "security-group", "critical", False,
             "A group on the cluster's workers lets all traffic in from 0.0.0.0/0, or all traffic out where "
             "outbound traffic protection was on; the baseline does not."),
        Code("sg-missing", "security-group", "high", False, "A security group of the baseline does not exist."),
        Code("sg-rule-missing", "security-group", "high", True,
             "A rule of the baseline security group is gone. Severity follows what the change closes."),
        Code("sg-rule-unexpected", "security-group", "high", True,
             "The live security group has a rule the baseline does not. Severity follows what it opens."),
        Code("sg-rule-changed", "security-group", "high", True,
             "A rule differs from the baseline's in its ports, protocol, ICMP type or local side. Severity "
             "follows what it opens."),
        Code("sg-target-added", "security-group", "high", False,
             "The group is bound to a target the baseline does not name: its rules now apply there too."),
        Code("sg-target-removed", "security-group", "medium", False,
             "A target of the baseline is no longer bound to the group: it lost what the group allows."),
        Code("netpol-missing", "network-policy", "high", True, "A NetworkPolicy of the baseline is gone."),
        Code("netpol-unexpected", "network-policy", "medium", True,
             "A NetworkPolicy the baseline does not have exists in a managed namespace."),
        Code("netpol-changed", "network-policy", "medium", True, "A NetworkPolicy differs from the baseline."),
        Code("namespace-labels-changed", "namespace", "medium", True,
             "Labels of a managed namespace changed; namespaceSelectors match on them."),
        Code("workload-affinity-changed", "workload", "high", False,
             "A workload the baseline pins to the public gateway's subnet lost its node affinity, points it "
             "at another subnet, or is gone: its pods lose the internet or take egress to other zones."),
        Code("workload-off-gateway", "workload", "high", False,
             "Pods of a public-egress workload run off its gateway subnet, or pods of another workload run "
             "on a gateway subnet the baseline keeps for pinned workloads."),
    )
}

#: Exposure -> severity, for the codes whose severity follows from impact.
#: ``reduced``: defence in depth reduced (one layer opened what another still blocks, ``core.reach.verdict``).
SEVERITY_BY_EXPOSURE = {"widened": "high", "reduced": "medium", "narrowed": "medium", "unchanged": "low",
                        "unknown": None}


@dataclass(frozen=True, slots=True)
class ResourceRef:
    """Where a finding is. Only the fields that apply are set; ``path`` is the suppression key."""

    kind: str
    region: str | None = None
    vpc: str | None = None
    acl: str | None = None
    security_group: str | None = None
    rule: str | None = None
    target: str | None = None
    subnet: str | None = None
    cluster: str | None = None
    namespace: str | None = None
    name: str | None = None

    @property
    def path(self) -> str:
        """``us-south/prod-vpc/acl-a/rule-x``, ``us-south/prod-vpc/subnet-1``, ``prod-cluster/accounts/np``,
        ``us-south/prod-vpc/kube-c1/inbound tcp 22 from 0.0.0.0/0``."""
        if self.cluster is not None:
            parts = [self.cluster, self.namespace, self.name if self.kind in ("network-policy", "workload") else None]
        else:
            parts = [self.region, self.vpc, self.acl, self.security_group, self.rule, self.target, self.subnet]
        return "/".join(p for p in parts if p)

    def to_dict(self) -> dict[str, str]:
        return {k: v for k in ResourceRef.__slots__ if (v := getattr(self, k)) is not None}


@dataclass(frozen=True, slots=True)
class Impact:
    """What a change does to allowed traffic. ``examples`` are concrete flows opened (or closed);
    ``breakage`` names what the cluster needs and no longer gets (IBM private ranges, inter-zone)."""

    exposure: str = "unknown"
    examples: tuple[str, ...] = ()
    breakage: tuple[str, ...] = ()
    summary: str | None = None

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"exposure": self.exposure, "examples": list(self.examples)}
        if self.breakage:
            out["breakage"] = list(self.breakage)
        if self.summary:
            out["summary"] = self.summary
        return out


@dataclass(frozen=True, slots=True)
class Finding:
    code: str
    severity: str
    resource: ResourceRef
    message: str
    baseline: Mapping[str, Any] | None = None
    live: Mapping[str, Any] | None = None
    impact: Impact = field(default_factory=Impact)

    @property
    def fingerprint(self) -> str:
        return digest({"code": self.code, "resource": self.resource.to_dict()})

    @property
    def content_hash(self) -> str:
        return digest({"severity": self.severity, "baseline": self.baseline, "live": self.live,
                       "impact": self.impact.to_dict()})

    def with_impact(self, impact: Impact) -> Finding:
        """This finding with ``impact`` set, and the severity it implies for impact-driven codes."""
        return replace(self, impact=impact, severity=severity_for(self.code, impact))

    def to_dict(self) -> dict[str, Any]:
        return {
            "fingerprint": self.fingerprint,
            "code": self.code,
            "severity": self.severity,
            "resource": self.resource.to_dict(),
            "message": self.message,
            "baseline": dict(self.baseline) if self.baseline is not None else {},
            "live": dict(self.live) if self.live is not None else {},
            "impact": self.impact.to_dict(),
        }


def make(code: str, resource: ResourceRef, message: str, *, baseline: Mapping[str, Any] | None = None,
         live: Mapping[str, Any] | None = None) -> Finding:
    """A finding with its code's default severity; impact is filled in later."""
    return Finding(code, CODES[code].severity, resource, message, baseline, live)


def severity_for(code: str, impact: Impact) -> str:
    spec = CODES[code]
    if impact.breakage:
        return "critical" if spec.by_impact else spec.severity
    if not spec.by_impact:
        return spec.severity
    if impact.exposure == "widened" and _opens_to_anywhere(impact):
        return "critical"
    return SEVERITY_BY_EXPOSURE.get(impact.exposure) or spec.severity


def _opens_to_anywhere(impact: Impact) -> bool:
    return any("from 0.0.0.0/0" in e for e in impact.examples)


def digest(data: Any) -> str:
    text = json.dumps(data, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]


def sort_key(f: Finding) -> tuple[int, str, str]:
    return (SEVERITY_RANK[f.severity], f.resource.path, f.code)
