"""Findings -> a remediation plan: the ordered, minimal list of writes that puts the baseline back.

Pure: it reads the findings and the two snapshots (the baseline for what to restore, the live one for
ids and positions) and decides; ``app.remediate`` executes. Only findings whose code is selected
(``codes``: ``--only`` on the command line, ``remediation.auto`` in scan's auto mode) are acted on;
every other finding is listed in ``skipped`` with the reason, so an operator sees what was left.

Order (``plan_steps.CLOSE`` .. ``OPEN``): no intermediate state may be more open than the state
before or after the run. So a gateway that should not be there goes first, and a subnet that fell
back to an allow-all ACL gets its baseline ACL back before anything else; then denies are added,
allows removed and rules patched narrower; then other subnets get their ACLs back; then moves, the
patches that widen a rule, missing allows and the removal of denies; then gateways and namespace
labels the baseline has. NetworkPolicies are created or replaced before unexpected ones are deleted.
Security groups (``sg_plan``) lose rules and bindings with the narrowing and gain them last, and an
IBM-managed group's own rules are left to IBM unless ``ibm_managed_groups``.

Refused (``PlanRefused``): a rule whose protocol can break IKS clusters (``any``, ``number_N``, the
individual protocols; ibm-cloud-apis.md §1.6) unless the baseline itself holds that very rule, and a
plan that needs an id the live snapshot does not carry.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace

from netwarden.core.errors import PlanRefused
from netwarden.core.findings import Finding
from netwarden.core.model import Namespace, Snapshot, Subnet, Vpc
from netwarden.core.plan import sg_plan
from netwarden.core.plan.acl_order import RULE_CODES, plan_acl
from netwarden.core.plan.steps import (
    ADJUST,
    ATTACH,
    CLOSE,
    NARROW,
    OPEN,
    AclTarget,
    ApiCall,
    ApplyPolicy,
    CreateRule,
    DeletePolicy,
    MoveRule,
    Operation,
    RemediationPlan,
    ReplaceSubnetAcl,
    SetGateway,
    SetNamespaceLabels,
    Skipped,
    Step,
    UnsetGateway,
    UpdateRule,
    api_call,
    need_id,
)

__all__ = ["UNSAFE_PROTOCOLS", "ApiCall", "PlanOptions", "RemediationPlan", "Skipped", "Step", "api_call", "build",
           "is_unsafe_protocol", "refuse_unsafe_protocols"]

#: Protocols a rule may carry that old VPC SDKs in IKS/ROKS clusters do not understand (§1.6).
UNSAFE_PROTOCOLS = frozenset({"any", "gre", "ah", "esp", "ip_in_ip", "l2tp", "rsvp", "sctp", "vrrp"})
_NUMBER = re.compile(r"^number_\d+$")

#: Codes that have no automatic remediation, and what to do instead.
MANUAL = {
    "acl-missing": "netwarden does not create network ACLs: create it from its baseline file, then re-run",
    "subnet-missing": "netwarden does not create subnets: a worker subnet is created with its cluster",
    "workload-affinity-changed": "a workload's spec belongs to its owners: put its node affinity back in its "
                                 "manifest (or update workloads.yaml if the move is meant)",
    "workload-off-gateway": "a workload's pods belong to its owners: restart the pinned workload "
                            "(kubectl rollout restart), or keep the other workload off the gateway subnet",
}


def is_unsafe_protocol(protocol: str) -> bool:
    return protocol in UNSAFE_PROTOCOLS or bool(_NUMBER.match(protocol))


@dataclass(frozen=True, slots=True)
class PlanOptions:
    """``codes``: the finding codes to remediate (None: all); ``restore_namespace_labels`` from config;
    ``suppressed``: fingerprints of findings an active suppression covers (never remediated);
    ``ibm_managed_groups`` from config: restore IBM's own rules and bindings too (``sg_plan``)."""

    codes: frozenset[str] | None = None
    restore_namespace_labels: bool = False
    suppressed: frozenset[str] = frozenset()
    ibm_managed_groups: bool = False

    def wanted(self, code: str) -> bool:
        return self.codes is None or code in self.codes


def build(findings: Iterable[Finding], baseline: Snapshot, live: Snapshot,
          options: PlanOptions = PlanOptions()) -> RemediationPlan:
    """The plan that remediates the selected ``findings`` (see the module docstring)."""
    return _Builder(tuple(findings), baseline, live, options).build()


def refuse_unsafe_protocols(steps: Sequence[Step], baseline: Snapshot) -> None:
    """Raise PlanRefused for a step that creates a rule with a protocol that can break IKS clusters,
    unless the baseline ACL holds that very rule (a reviewed, explicit decision)."""
    for step in steps:
        op = step.op
        if not isinstance(op, CreateRule) or not is_unsafe_protocol(op.rule.protocol):
            continue
        t = op.target
        vpc = baseline.vpc(t.region, t.vpc)
        acl = vpc.acl(t.acl) if vpc is not None else None
        if acl is None or op.rule not in acl.rules:
            raise PlanRefused(
                f"refusing to create rule {op.rule.name} with protocol {op.rule.protocol} in "
                f"{t.region}/{t.vpc}/{t.acl}: that protocol can break IKS clusters (old VPC SDKs cannot read it) "
                f"and the baseline holds no such rule")


# --- the builder -------------------------------------------------------------------------------------


def _by_resource(findings: Iterable[Finding]) -> dict[tuple[str | None, ...], list[Finding]]:
    """Findings grouped by the resource their fix writes to (one subnet, one ACL), in a stable order."""
    groups: dict[tuple[str | None, ...], list[Finding]] = {}
    for f in findings:
        r = f.resource
        key = (r.region, r.vpc, r.subnet) if r.kind == "subnet" else (r.region, r.vpc, r.acl)
        groups.setdefault(key, []).append(f)
    return dict(sorted(groups.items(), key=lambda kv: tuple(p or "" for p in kv[0])))


def _on_acl(step: Step, region: str, vpc: str, acl: str | None) -> bool:
    """Whether ``step`` writes to the rules of that ACL."""
    t = getattr(step.op, "target", None)
    return isinstance(t, AclTarget) and (t.region, t.vpc, t.acl) == (region, vpc, acl)


def _step(op: Operation, description: str, fixes: Sequence[Finding], phase: int) -> Step:
    return Step(op, description, tuple(f.fingerprint for f in fixes), tuple(sorted({f.code for f in fixes})), phase)


class _Builder:
    def __init__(self, findings: tuple[Finding, ...], baseline: Snapshot, live: Snapshot,
                 options: PlanOptions) -> None:
        self.findings = findings
        self.baseline = baseline
        self.live = live
        self.options = options
        self.steps: list[Step] = []
        self.skipped: list[Skipped] = [Skipped(f, "suppressed in the config", suppressed=True) for f in findings
                                       if f.fingerprint in options.suppressed]
        self.skipped += [Skipped(f, "not selected (--only / remediation.auto)") for f in findings
                         if not options.wanted(f.code) and f.fingerprint not in options.suppressed]
        self.findings = tuple(f for f in findings if f.fingerprint not in options.suppressed)
        self.suppressed = tuple(f for f in findings if f.fingerprint in options.suppressed)
        #: ACLs whose rules must go back whole: a subnet on its baseline ACL allows all (the rules opened).
        self.reopened: dict[tuple[str | None, ...], list[Finding]] = {}

    def skip(self, findings: Iterable[Finding], reason: str) -> None:
        self.skipped.extend(Skipped(f, reason) for f in findings)

    def build(self) -> RemediationPlan:
        findings, wanted = self.findings, self.options.wanted
        for key, items in _by_resource(f for f in findings if f.resource.kind == "subnet").items():
            self.subnet(key, items)
        rule_groups = _by_resource(f for f in findings if f.code in RULE_CODES)
        for key, opened in self.reopened.items():
            if key not in rule_groups:
                self.skip(opened, "no rule of its ACL differs from the baseline")
        for key, items in rule_groups.items():
            self.acl(key, items)
        steps, skipped = sg_plan.plan_groups((f for f in findings if wanted(f.code)), self.baseline, self.live,
                                             ibm_managed=self.options.ibm_managed_groups)
        self.steps += steps
        self.skipped += skipped
        for f in findings:
            if not wanted(f.code) or f.code in RULE_CODES or f.code in sg_plan.CODES or f.resource.kind == "subnet":
                continue
            if f.code in MANUAL:
                self.skip([f], MANUAL[f.code])
            elif f.code.startswith("netpol-"):
                self.policy(f)
            elif f.code == "namespace-labels-changed":
                self.labels(f)
            else:
                self.skip([f], f"no automatic remediation for {f.code}")
        fixed = {fp for s in self.steps for fp in s.fixes}
        # A finding a step fixes is not "left out", even when its code was not selected (the rules of an
        # ACL restored whole because its subnet allows everything).
        self.skipped = [s for s in self.skipped if s.finding.fingerprint not in fixed]
        handled = fixed | {s.finding.fingerprint for s in self.skipped}
        self.skip((f for f in findings if f.fingerprint not in handled),
                  "nothing left to change: the live state already matches the baseline here")
        ordered = self.attach_late(sorted(self.steps, key=lambda s: s.phase))
        refuse_unsafe_protocols(ordered, self.baseline)
        return RemediationPlan(steps=ordered, findings=tuple(f for f in findings if wanted(f.code)),
                               skipped=tuple(self.skipped), unreadable=self.live.unreadable,
                               codes=self.options.codes)

    def attach_late(self, steps: list[Step]) -> tuple[Step, ...]:
        """A subnet that gets its ACL back after the narrowing (ATTACH) would meanwhile see the rules of
        that ACL still to be patched or moved, which may let through what neither its ACL before nor
        after does: it gets the ACL after the last such step, unless the ACL it leaves is to widen
        before that (then it would see that widening instead)."""
        for attach in [s for s in steps if s.phase == ATTACH and isinstance(s.op, ReplaceSubnetAcl)]:
            op = attach.op
            assert isinstance(op, ReplaceSubnetAcl)
            live_vpc = self.live.vpc(op.region, op.vpc)
            sub = live_vpc.subnet(op.subnet) if live_vpc is not None else None
            leaving = sub.network_acl if sub is not None else None
            rework = [n for n, s in enumerate(steps) if _on_acl(s, op.region, op.vpc, op.acl) and s.phase > ATTACH
                      and isinstance(s.op, UpdateRule | MoveRule)]
            if not rework or any(_on_acl(s, op.region, op.vpc, leaving) and s.phase > ATTACH for s in steps):
                continue
            steps.remove(attach)
            steps.insert(rework[-1], attach)  # the list is one shorter now: this is just after the last one
        return tuple(steps)

    def vpcs(self, region: str | None, vpc: str | None) -> tuple[Vpc | None, Vpc | None]:
        if region is None or vpc is None:
            return None, None
        return self.baseline.vpc(region, vpc), self.live.vpc(region, vpc)

    # --- subnets ------------------------------------------------------------------------------------
    def subnet(self, key: tuple[str | None, ...], items: list[Finding]) -> None:
        region, vpc_name, name = key
        wanted = [f for f in items if self.options.wanted(f.code)]
        if not wanted:
            return
        base_vpc, live_vpc = self.vpcs(region, vpc_name)
        base = base_vpc.subnet(name) if base_vpc is not None and name else None
        sub = live_vpc.subnet(name) if live_vpc is not None and name else None
        if base is None or sub is None or live_vpc is None or region is None or vpc_name is None:
            for f in wanted:
                self.skip([f], MANUAL.get(f.code, "the subnet is not in both the baseline and the live state"))
            return
        acl_fixes = [f for f in wanted if f.code in ("subnet-allow-all", "subnet-acl-changed")]
        if acl_fixes and sub.network_acl == base.network_acl:
            # Same ACL, but its rules now let everything in: the fix is the ACL's rules, all of them.
            self.reopened.setdefault((region, vpc_name, base.network_acl), []).extend(acl_fixes)
        elif acl_fixes:
            allow_all = any(f.code == "subnet-allow-all" for f in items)
            self.subnet_acl(base, sub, live_vpc, acl_fixes, CLOSE if allow_all else ATTACH)
        gateways = [f for f in wanted if f.code in ("gateway-attached", "gateway-changed", "gateway-detached")]
        if gateways:
            self.gateway(base, sub, live_vpc, gateways)

    def gateway(self, base: Subnet, sub: Subnet, live_vpc: Vpc, fixes: list[Finding]) -> None:
        """Detach what the baseline does not have (first), attach what it has (last). A gateway is
        swapped only when the baseline's exists: a subnet left without its egress path is no fix."""
        region, vpc_name, want = live_vpc.region, live_vpc.name, base.public_gateway
        attach = [f for f in fixes if f.code in ("gateway-detached", "gateway-changed")]
        if attach and want is not None and want not in live_vpc.public_gateways:
            self.skip(attach, f"public gateway {want} does not exist in {region}/{vpc_name} (deleted or renamed?): "
                              "attach one by hand or update the baseline")
            fixes = [f for f in fixes if f not in attach]
            attach = []
        sid = need_id(sub.id, f"subnet {sub.name}")
        detach = [f for f in fixes if f.code in ("gateway-attached", "gateway-changed")]
        if detach and sub.public_gateway is not None:
            self.steps.append(_step(UnsetGateway(region, vpc_name, sub.name, sid),
                                    f"Detach public gateway {sub.public_gateway} from subnet {sub.name} "
                                    f"(the baseline has {want or 'none'})", detach, CLOSE))
        if attach and want is not None:
            self.steps.append(_step(SetGateway(region, vpc_name, sub.name, sid, want),
                                    f"Attach public gateway {want} to subnet {sub.name} (baseline)", attach, OPEN))

    def subnet_acl(self, base: Subnet, sub: Subnet, live_vpc: Vpc, fixes: list[Finding], phase: int) -> None:
        acl = live_vpc.acl(base.network_acl) if base.network_acl else None
        if base.network_acl is None:
            self.skip(fixes, "the baseline names no ACL for this subnet")
            return
        if acl is None:
            self.skip(fixes, f"network ACL {base.network_acl} does not exist in {live_vpc.scope} (acl-missing): "
                             "create it first")
            return
        self.steps.append(_step(
            ReplaceSubnetAcl(live_vpc.region, live_vpc.name, sub.name, need_id(sub.id, f"subnet {sub.name}"),
                             acl.name, need_id(acl.id, f"network ACL {acl.name}")),
            f"Attach network ACL {acl.name} to subnet {sub.name} again (it uses {sub.network_acl or 'none'}"
            f"{', which allows all traffic' if phase == CLOSE else ''})", fixes, phase))

    # --- ACL rules ----------------------------------------------------------------------------------
    def acl(self, key: tuple[str | None, ...], items: list[Finding]) -> None:
        region, vpc_name, name = key
        opened = self.reopened.get(key, [])
        select = (lambda code: True) if opened else self.options.wanted
        wanted = [f for f in items if select(f.code)]
        if not wanted:
            return
        base_vpc, live_vpc = self.vpcs(region, vpc_name)
        base = base_vpc.acl(name) if base_vpc is not None and name else None
        acl = live_vpc.acl(name) if live_vpc is not None and name else None
        if base is None or acl is None or region is None or vpc_name is None or name is None:
            self.skip(wanted, "the ACL is not in the baseline" if base is None
                      else "the ACL does not exist live (acl-missing)")
            return
        target = AclTarget(region, vpc_name, name, need_id(acl.id, f"network ACL {name}"))
        held = [f for f in self.suppressed if f.code in RULE_CODES and (f.resource.region, f.resource.vpc,
                                                                          f.resource.acl) == key]
        steps = plan_acl(target, base, acl, items, select, suppressed=held)[0]
        extra = tuple(f.fingerprint for f in opened)
        self.steps.extend(replace(s, fixes=s.fixes + extra, codes=tuple(sorted({*s.codes, *(f.code for f in opened)})))
                          for s in steps)
        if opened and not steps:
            self.skip(opened, "no rule of its ACL differs from the baseline")

    # --- Kubernetes ---------------------------------------------------------------------------------
    def policy(self, f: Finding) -> None:
        r = f.resource
        if r.cluster is None:
            self.skip([f], "the finding names no cluster")
            return
        base_c, live_c = self.baseline.cluster(r.cluster), self.live.cluster(r.cluster)
        key = f"{r.namespace}/{r.name}"
        base = next((p for p in base_c.policies if p.key == key), None) if base_c else None
        have = next((p for p in live_c.policies if p.key == key), None) if live_c else None
        if f.code == "netpol-unexpected":
            if have is not None:
                self.steps.append(_step(DeletePolicy(r.cluster, have.namespace, have.name),
                                        f"Delete NetworkPolicy {key} in cluster {r.cluster}: not in the baseline",
                                        [f], ADJUST))
            return
        if base is None:
            self.skip([f], "the NetworkPolicy is not in the baseline")
            return
        verb = "Replace" if have is not None else "Create"
        self.steps.append(_step(ApplyPolicy(r.cluster, base, exists=have is not None),
                                f"{verb} NetworkPolicy {key} in cluster {r.cluster} with the baseline's", [f],
                                NARROW))

    def labels(self, f: Finding) -> None:
        r = f.resource
        if not self.options.restore_namespace_labels:
            self.skip([f], "remediation.restore_namespace_labels is false: labels are left alone")
            return
        name = r.namespace or r.name
        base_c = self.baseline.cluster(r.cluster) if r.cluster else None
        live_c = self.live.cluster(r.cluster) if r.cluster else None
        base = base_c.namespace(name) if base_c and name else None
        have = live_c.namespace(name) if live_c and name else None
        if base is None or have is None or r.cluster is None:
            self.skip([f], "the namespace does not exist in the cluster: netwarden does not create namespaces")
            return
        # Only labels the comparison looked at (the baseline's, and keys namespaceSelectors match on)
        # are removed; every other label of the namespace is left as it is.
        compared = (f.live or {}).get("labels") or {}
        remove = tuple(sorted(set(compared) - set(base.labels)))
        labels = {**{k: v for k, v in have.labels.items() if k not in remove}, **base.labels}
        self.steps.append(_step(SetNamespaceLabels(r.cluster, Namespace(base.name, labels), remove),
                                f"Restore the labels of namespace {name} in cluster {r.cluster}", [f], OPEN))
