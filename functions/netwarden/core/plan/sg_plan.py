"""Security group findings -> the steps that put the baseline's groups back, or why a finding is left.

A group's rules and targets only allow (a target gets the union of its groups' rules), so removing a
rule or a binding can only narrow and adding one can only widen. Every removal is planned before every
addition: during the removals the state is a subset of the one before the run, during the additions
a subset of the one after. A changed rule is patched in place only when that narrows it (with the
removals) or only widens it (with the additions); otherwise it is deleted and created again. An
allow-all rule on the workers' group goes first of all (``CLOSE``).

IBM-managed groups (``managed_by: ibm`` in the baseline) keep IBM's rules and bindings: unless
``ibm_managed`` (config ``remediation.ibm_managed_groups``) is set, a plan only removes from them what
the baseline does not hold (the rules users add, which IBM's own ``security-group reset`` removes too)
and leaves re-creating, patching and binding to IBM's ``security-group sync``, with that advice.
Pure, like ``build``, which calls it.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from netwarden.core import sbd, sg_rules
from netwarden.core.findings import Finding, sort_key
from netwarden.core.model import SecurityGroup, SgRule, SgTarget, Snapshot, Vpc
from netwarden.core.plan.sg_ops import (
    BindSgTarget,
    CreateSecurityGroup,
    CreateSgRule,
    DeleteSgRule,
    SgOperation,
    SgRef,
    UnbindSgTarget,
    UpdateSgRule,
    patch_between,
)
from netwarden.core.plan.steps import CLOSE, NARROW, OPEN, Skipped, Step, need_id

CODES = frozenset({"sg-missing", "sg-rule-missing", "sg-rule-unexpected", "sg-rule-changed", "sg-target-added",
                   "sg-target-removed", "sg-allow-all"})
#: Codes whose fix only removes what the baseline does not hold: planned in IBM-managed groups too.
REMOVALS = frozenset({"sg-rule-unexpected", "sg-allow-all"})


def plan_groups(findings: Iterable[Finding], baseline: Snapshot, live: Snapshot, *,
                ibm_managed: bool = False) -> tuple[list[Step], list[Skipped]]:
    """The steps for the security group findings among ``findings`` (already selected), and the skipped."""
    planner = _Planner(baseline, live, ibm_managed)
    for f in sorted((f for f in findings if f.code in CODES), key=lambda f: (f.code != "sg-missing", sort_key(f))):
        try:
            planner.finding(f)
        except LookupError:
            continue  # the rule or target is no longer there: ``build`` says nothing is left to change
    return planner.created + planner.steps, planner.skipped


def ibm_reason(group: str) -> str:
    """Why a finding in an IBM-managed group is left to IBM, and what the operator can do."""
    owner = sbd.parse_group_name(group)
    cluster = owner.owner_id if owner is not None and sbd.KINDS[owner.kind].owner is sbd.Owner.CLUSTER else "<cluster>"
    return (f"security group {group} is managed by IBM: netwarden leaves IBM's rules and bindings to IBM "
            f"(`ibmcloud ks security-group sync --cluster {cluster} --security-group <id of {group}>` puts back the "
            "rules it is missing); set remediation.ibm_managed_groups: true to have netwarden restore the baseline's")


@dataclass
class _Planner:
    baseline: Snapshot
    live: Snapshot
    ibm_managed: bool
    created: list[Step] = field(default_factory=list)  # groups first: later rules and bindings name them
    steps: list[Step] = field(default_factory=list)
    skipped: list[Skipped] = field(default_factory=list)
    making: set[tuple[str, str, str]] = field(default_factory=set)  # (region, vpc, group) this plan creates

    def skip(self, f: Finding, reason: str) -> None:
        self.skipped.append(Skipped(f, reason))

    def add(self, op: SgOperation, description: str, f: Finding, phase: int) -> None:
        self.steps.append(Step(op, description, (f.fingerprint,), (f.code,), phase))

    def finding(self, f: Finding) -> None:
        r = f.resource
        base_vpc = self.baseline.vpc(r.region or "", r.vpc or "")
        live_vpc = self.live.vpc(r.region or "", r.vpc or "")
        base = base_vpc.security_group(r.security_group or "") if base_vpc is not None else None
        if base is None or base_vpc is None or live_vpc is None:
            self.skip(f, "the security group is not in the baseline" if base is None
                      else f"VPC {r.vpc} does not exist in {r.region}")
            return
        if base.ibm_managed and not self.ibm_managed and f.code not in REMOVALS:
            self.skip(f, ibm_reason(base.name))
            return
        have = live_vpc.security_group(base.name)
        if f.code == "sg-missing":
            if have is None:
                self.recreate(f, base, live_vpc)
            return
        if have is None:
            self.skip(f, f"security group {base.name} does not exist in {live_vpc.scope} (sg-missing)")
            return
        ref = SgRef(live_vpc.region, live_vpc.name, have.name, need_id(have.id, f"security group {have.name}"))
        match f.code:
            case "sg-rule-missing":
                self.create(f, ref, _rule(base, f.baseline), live_vpc, OPEN)
            case "sg-rule-unexpected":
                self.delete(f, ref, _rule(have, f.live), NARROW, "not in the baseline")
            case "sg-allow-all":
                self.delete(f, ref, _rule(have, f.live), CLOSE, "it lets all traffic through on the workers")
                if f.baseline and (not base.ibm_managed or self.ibm_managed):
                    self.create(f, ref, _rule(base, f.baseline), live_vpc, OPEN)
            case "sg-rule-changed":
                self.change(f, ref, _rule(base, f.baseline), _rule(have, f.live), live_vpc)
            case "sg-target-added":
                target = _target(have, f.live)
                self.add(UnbindSgTarget(ref, target, need_id(target.id, sg_rules.target_text(target))),
                         f"Unbind security group {have.name} from {sg_rules.target_text(target)}: the baseline does "
                         "not bind them", f, NARROW)
            case "sg-target-removed":
                self.bind(f, ref, _target(base, f.baseline), live_vpc)

    # --- rules ---------------------------------------------------------------------------------------
    def create(self, f: Finding, ref: SgRef, rule: SgRule, live_vpc: Vpc, phase: int) -> None:
        remote_id = None
        if rule.remote_group is not None:
            remote = live_vpc.security_group(rule.remote_group)
            if remote is None and (ref.region, ref.vpc, rule.remote_group) not in self.making:
                self.skip(f, f"rule {sg_rules.text(rule)} names security group {rule.remote_group}, which does not "
                             f"exist in {live_vpc.scope}")
                return
            remote_id = remote.id if remote is not None else None
        self.add(CreateSgRule(ref, rule, remote_id), f"Create rule {sg_rules.text(rule)} in security group "
                 f"{ref.group} (baseline)", f, phase)

    def delete(self, f: Finding, ref: SgRef, rule: SgRule, phase: int, why: str) -> None:
        self.add(DeleteSgRule(ref, need_id(rule.id, f"rule {sg_rules.text(rule)}"), rule),
                 f"Delete rule {sg_rules.text(rule)} from security group {ref.group}: {why}", f, phase)

    def change(self, f: Finding, ref: SgRef, old: SgRule, new: SgRule, live_vpc: Vpc) -> None:
        """Put ``old`` (the baseline's) back where ``new`` (live) is."""
        patch = patch_between(new, old)
        rule_id = need_id(new.id, f"rule {sg_rules.text(new)}")
        narrows, widens = sg_rules.covers(new, old), sg_rules.covers(old, new)
        if patch is not None and (narrows or widens):
            self.add(UpdateSgRule(ref, rule_id, old, patch), f"Change rule {sg_rules.text(new)} of security group "
                     f"{ref.group} back to {sg_rules.text(old)}", f, NARROW if narrows else OPEN)
            return
        self.delete(f, ref, new, NARROW, f"the baseline's rule is {sg_rules.text(old)}, created again below")
        self.create(f, ref, old, live_vpc, OPEN)

    # --- groups and targets --------------------------------------------------------------------------
    def recreate(self, f: Finding, base: SecurityGroup, live_vpc: Vpc) -> None:
        """The group, then its rules, then its bindings; nothing when a rule names a group that does not
        exist. A target no live group is bound to (its id unknown) is named in the step, for a person."""
        remotes = {r.remote_group for r in base.rules if r.remote_group is not None} - {base.name}
        gone = sorted(g for g in remotes if live_vpc.security_group(g) is None
                      and (live_vpc.region, live_vpc.name, g) not in self.making)
        if gone:
            self.skip(f, f"its rules name security group {gone[0]}, which does not exist in {live_vpc.scope}: "
                         "create that one first")
            return
        ref = SgRef(live_vpc.region, live_vpc.name, base.name, None)
        self.making.add((ref.region, ref.vpc, base.name))
        ids = _target_ids(live_vpc)
        unknown = [sg_rules.target_text(t) for t in base.targets if (t.type, t.name) not in ids]
        by_hand = (f"; bind it by hand to {', '.join(unknown)}: no live group is bound there, so the id is not "
                   "known" if unknown else "")
        self.created.append(Step(CreateSecurityGroup(ref, need_id(live_vpc.id, f"VPC {live_vpc.name}")),
                                 f"Create security group {base.name} in {live_vpc.scope} (baseline: "
                                 f"{len(base.rules)} rule(s), {len(base.targets)} target(s)){by_hand}",
                                 (f.fingerprint,), (f.code,), OPEN))
        for rule in base.rules:
            self.create(f, ref, rule, live_vpc, OPEN)
        for target in base.targets:
            if (target.type, target.name) in ids:
                self.bind(f, ref, target, live_vpc)

    def bind(self, f: Finding, ref: SgRef, target: SgTarget, live_vpc: Vpc) -> None:
        text = sg_rules.target_text(target)
        target_id = _target_ids(live_vpc).get((target.type, target.name))
        if target_id is None:
            self.skip(f, f"no security group in {live_vpc.scope} is bound to {text}, so its id is not known: bind "
                         f"{ref.group} to it by hand")
            return
        self.add(BindSgTarget(ref, target, target_id), f"Bind security group {ref.group} to {text} (baseline)",
                 f, OPEN)


def _rule(group: SecurityGroup, data: Mapping[str, Any] | None) -> SgRule:
    """The rule of ``group`` a finding's ``baseline``/``live`` side names (LookupError: it has none)."""
    found = sg_rules.named(group, data)
    if found is None:
        raise LookupError(f"security group {group.name} has no rule {(data or {}).get('rule')}")
    return found


def _target(group: SecurityGroup, data: Mapping[str, Any] | None) -> SgTarget:
    wanted = (data or {}).get("target") or {}
    for target in group.targets:
        if (target.type, target.name) == (wanted.get("type"), wanted.get("name")):
            return target
    raise LookupError(f"security group {group.name} is not bound to {wanted}")


def _target_ids(vpc: Vpc) -> dict[tuple[str, str], str]:
    return {(t.type, t.name): t.id for g in vpc.security_groups for t in g.targets if t.id is not None}
