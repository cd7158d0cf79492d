"""The way back to the baseline for one network ACL: which rules to create, delete, patch, move.

IBM evaluates an ACL's rules first-match, in order, so order is meaning and the plan restores it with
as few moves as possible. Live rules are paired with baseline rules exactly as the diff pairs them
(``diff_acl.align``: by name, then a renamed rule by identical essence, then by position between the
same two unmoved rules), so each change answers one finding. The longest run of pairs already in
baseline order (a longest increasing subsequence) stays put and only the other pairs move. A missing
rule is created at its baseline position: before the first rule that follows it in the baseline and
is already in its final place (a live rule, by id, or one created earlier in the plan, by name). A
protocol cannot be patched, so such a rule is deleted and re-created in its place.

Steps come in an order that never opens more than the ACL before and after does: denies are added
before allows are removed and rules that let through more than their baseline are patched (NARROW),
then moves, the patches that widen a rule (once it is back in baseline order), missing allows and,
last, the removal of denies (ADJUST); among the patches and moves, each next one is the first whose
result lets through only what the ACL before or after does (a rule a misplaced deny still shadows is
patched before the deny moves). When a deny is replaced, the old rule is renamed first so the new one
can take its name while the old one still denies.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from netwarden.core.acl.evaluate import DIRECTIONS, allowed_flows, rule_flows
from netwarden.core.acl.rule_diff import align
from netwarden.core.errors import PlanRefused
from netwarden.core.findings import Finding
from netwarden.core.flows.algebra import FlowSet, cidr_interval
from netwarden.core.model import AclRule, NetworkAcl
from netwarden.core.plan.steps import (
    ADJUST,
    NARROW,
    AclTarget,
    CreateRule,
    DeleteRule,
    MoveRule,
    RuleRef,
    Step,
    UpdateRule,
)

MISSING, UNEXPECTED, CHANGED, REORDERED = (
    "acl-rule-missing", "acl-rule-unexpected", "acl-rule-changed", "acl-rules-reordered")
RULE_CODES = frozenset({MISSING, UNEXPECTED, CHANGED, REORDERED})
NAME_MAX = 63
#: Up to this many patches and moves in one ACL, each next one is chosen by evaluating the ACL it leaves.
SCHEDULE_MAX = 32


@dataclass(slots=True)
class _Op:
    """One change to one rule before it is ordered: ``kind`` is create, delete, patch, replace or move."""

    kind: str
    natural: str
    codes: frozenset[str]
    base: AclRule | None = None
    live: AclRule | None = None
    index: int | None = None
    fixes: list[Finding] = field(default_factory=list)

    @property
    def names(self) -> set[str]:
        return {r.name for r in (self.base, self.live) if r is not None}


@dataclass(slots=True, eq=False)
class _Entry:
    """A rule in the simulated live list: ``index`` is its baseline position once it has one."""

    name: str
    id: str | None
    index: int | None
    placed: bool
    rule: AclRule | None = None


def summary(rule: AclRule) -> str:
    """``allow inbound tcp 443 from 0.0.0.0/0 to 10.240.0.0/24`` (the rule without its name)."""
    parts = [rule.action, rule.direction, rule.protocol]
    if rule.destination_port is not None and not rule.destination_port.is_all:
        parts.append(str(rule.destination_port))
    if rule.icmp_type is not None:
        parts.append(f"type {rule.icmp_type}" + (f" code {rule.icmp_code}" if rule.icmp_code is not None else ""))
    parts += ["from", rule.source]
    if rule.source_port is not None and not rule.source_port.is_all:
        parts.append(f"port {rule.source_port}")
    parts += ["to", rule.destination]
    return " ".join(parts)


def rule_patch(live: AclRule, base: AclRule) -> dict[str, Any]:
    """The merge patch that turns ``live`` into ``base`` (same protocol); ``None`` clears an icmp field."""
    patch: dict[str, Any] = {}
    for name in ("name", "action", "direction", "source", "destination"):
        if getattr(live, name) != getattr(base, name):
            patch[name] = getattr(base, name)
    for prefix in ("destination_port", "source_port"):
        want, have = getattr(base, prefix), getattr(live, prefix)
        if want is not None and want != have:
            patch[f"{prefix}_min"], patch[f"{prefix}_max"] = want.min, want.max
    if live.icmp_type != base.icmp_type:
        patch["type"] = base.icmp_type
    if live.icmp_code != base.icmp_code or (base.icmp_type is None and live.icmp_code is not None):
        patch["code"] = base.icmp_code
    return patch


def _ops(base: NetworkAcl, live: NetworkAcl) -> tuple[list[_Op], dict[str, int]]:
    """Every change that turns ``live`` into ``base``, and the live rules already in their final place
    (name -> baseline position). The pairing is the diff's own (``diff_acl.align``), so each change
    answers one finding: a changed pair is patched (with another protocol: replaced), a pair outside
    the longest run in baseline order is moved, an unpaired baseline rule created, a live one deleted."""
    a = align(base.rules, live.rules)
    moved = set(a.moved)
    ops: list[_Op] = []
    placed: dict[str, int] = {}
    for b, j in a.pairs:
        want, have = base.rules[b], live.rules[j]
        if have.protocol != want.protocol:
            codes = {CHANGED, REORDERED} if (b, j) in moved else {CHANGED}
            ops.append(_Op("replace", CHANGED, frozenset(codes), base=want, live=have, index=b))
            continue
        if have != want:
            ops.append(_Op("patch", CHANGED, frozenset({CHANGED}), base=want, live=have, index=b))
        if (b, j) in moved:
            ops.append(_Op("move", REORDERED, frozenset({REORDERED}), base=want, live=have, index=b))
        else:
            placed[have.name] = b
    ops += [_Op("create", MISSING, frozenset({MISSING}), base=base.rules[b], index=b) for b in a.missing]
    ops += [_Op("delete", UNEXPECTED, frozenset({UNEXPECTED}), live=live.rules[j]) for j in a.unexpected]
    return ops, placed


def plan_acl(target: AclTarget, base: NetworkAcl, live: NetworkAcl, findings: Sequence[Finding],
             wanted: Callable[[str], bool], *, suppressed: Sequence[Finding] = ()) -> tuple[list[Step], list[Finding]]:
    """The ordered steps for one ACL, for the selected ``findings`` on it; and the findings on it that no
    step addresses. ``wanted(code)`` says whether a code is selected (``--only``, auto mode); a change
    is made when a selected finding asks for it, and never when a ``suppressed`` finding covers it."""
    ops, placed = _ops(base, live)
    chosen: list[_Op] = []
    for op in ops:
        if _covering(op, suppressed):
            continue
        op.fixes = _covering(op, findings)
        if (any(wanted(f.code) for f in op.fixes)) if op.fixes else wanted(op.natural):
            chosen.append(op)
    addressed = {f.fingerprint for op in chosen for f in op.fixes}
    taken = {r.name for r in live.rules} | {r.name for r in base.rules}
    steps = _Simulation(target, live, placed, taken, base).run(chosen)
    return steps, [f for f in findings if f.fingerprint not in addressed]


class _Simulation:
    """Emits the chosen ops in a safe order, keeping a model of the live list to know what each new or
    moved rule goes before (a rule already in its final place, by id, or one created earlier, by name)."""

    def __init__(self, target: AclTarget, live: NetworkAcl, placed: dict[str, int], taken: set[str],
                 base: NetworkAcl | None = None) -> None:
        self.target = target
        self.entries = [_Entry(r.name, r.id, placed.get(r.name), r.name in placed, r) for r in live.rules]
        #: What the ACL lets through before or after the run, per direction: no step may let through more.
        self.bound = {d: allowed_flows(live.rules, d) | (allowed_flows(base.rules, d) if base is not None else
                                                        FlowSet()) for d in DIRECTIONS}
        self.by_live = {e.name: e for e in self.entries}
        self.taken = set(taken)
        self.steps: list[Step] = []

    def run(self, ops: list[_Op]) -> list[Step]:
        by_kind: dict[str, list[_Op]] = {}
        for op in ops:
            by_kind.setdefault(op.kind, []).append(op)
        replaces = by_kind.get("replace", [])
        renamed: dict[str, str] = {}
        for op in replaces:
            assert op.live is not None and op.base is not None
            # Both rules exist for a while when either denies (the new deny first, the old deny last): the
            # old one must give up its name first, if the new one is to have it.
            if op.live.name == op.base.name and "deny" in (op.live.action, op.base.action):
                renamed[op.live.name] = self._rename_aside(op)
        creates = sorted(by_kind.get("create", []) + replaces, key=lambda o: o.index or 0)
        deletes = by_kind.get("delete", []) + replaces
        for op in creates:
            if _created(op).action == "deny":
                self._create(op, NARROW)
        for op in deletes:
            if _deleted(op).action == "allow":
                self._delete(op, renamed, NARROW)
        patches = by_kind.get("patch", [])
        # A patch that only narrows its rule narrows the ACL wherever the rule stands: it goes with the
        # denies, before a subnet gets this ACL back. One that widens it comes once every rule is back in
        # baseline order. But a move can also uncover a rule patched later (a deny moved below it), so
        # each next step is the first one whose result lets through nothing that neither the ACL before
        # nor the one after does.
        for op in patches:
            if _narrows(op):
                self._patch(op, NARROW)
        pending = sorted(by_kind.get("move", []), key=lambda o: o.index or 0)
        pending += [op for op in patches if not _narrows(op)]
        while pending:
            op = next((o for o in pending if self._safe(o)), pending[0]) if len(pending) <= SCHEDULE_MAX \
                else pending[0]
            pending.remove(op)
            if op.kind == "patch":
                self._patch(op, ADJUST)
            else:
                self._move(op)
        for op in creates:
            if _created(op).action == "allow":
                self._create(op, ADJUST)
        for op in deletes:
            if _deleted(op).action == "deny":
                self._delete(op, renamed, ADJUST)
        return self.steps

    # --- the simulated list -------------------------------------------------------------------------
    def _safe(self, op: _Op) -> bool:
        """Whether the patch or move ``op``, made now, lets through only what the ACL before or after does."""
        assert op.live is not None and op.base is not None and op.index is not None
        entries = list(self.entries)
        pos = self._find(op.live.name)
        if op.kind == "patch":
            entries[pos] = _Entry(op.base.name, None, None, False, op.base)
        else:
            entry = entries.pop(pos)
            anchor = next((e for e in entries if e.placed and e.index is not None and e.index > op.index), None)
            entries.insert(entries.index(anchor) if anchor is not None else len(entries), entry)
        rules = [e.rule for e in entries if e.rule is not None]
        return all(allowed_flows(rules, d).issubset(self.bound[d]) for d in DIRECTIONS)

    def _find(self, live_name: str) -> int:
        entry = self.by_live[live_name]
        return next(n for n, e in enumerate(self.entries) if e is entry)

    def _anchor(self, index: int) -> _Entry | None:
        return next((e for e in self.entries if e.placed and e.index is not None and e.index > index), None)

    def _place(self, entry: _Entry, index: int) -> RuleRef | None:
        anchor = self._anchor(index)
        entry.index, entry.placed = index, True
        if anchor is None:
            self.entries.append(entry)
            return None
        self.entries.insert(next(n for n, e in enumerate(self.entries) if e is anchor), entry)
        return RuleRef(anchor.name, anchor.id)

    def _emit(self, op: _Op, phase: int, operation: Any, description: str) -> None:
        codes = tuple(sorted({f.code for f in op.fixes} or {op.natural}))
        self.steps.append(Step(operation, description, tuple(f.fingerprint for f in op.fixes), codes, phase))

    @staticmethod
    def _where(before: RuleRef | None) -> str:
        return f"before rule {before.name}" if before is not None else "at the end"

    # --- one emitter per kind -----------------------------------------------------------------------
    def _rename_aside(self, op: _Op) -> str:
        assert op.live is not None and op.base is not None
        stem = op.live.name[: NAME_MAX - 4]
        temp, k = f"{stem}-old", 2
        while temp in self.taken:
            temp = f"{op.live.name[: NAME_MAX - 4 - len(str(k))]}-old{k}"
            k += 1
        self.taken.add(temp)
        self.entries[self._find(op.live.name)].name = temp
        self._emit(op, NARROW, UpdateRule(self.target, _id(op.live), op.live.name, {"name": temp}),
                   f"Rename rule {op.live.name} to {temp} in ACL {self.target.acl}, so that its replacement "
                   f"can take its name while it still applies (a protocol cannot be patched)")
        return temp

    def _create(self, op: _Op, phase: int) -> None:
        rule = _created(op)
        assert op.index is not None
        before = self._place(_Entry(rule.name, None, None, False, rule), op.index)
        what = (f"replacing the {op.live.protocol} rule (a protocol cannot be patched)"
                if op.kind == "replace" and op.live is not None else "at its baseline position")
        self._emit(op, phase, CreateRule(self.target, rule, before),
                   f"Create rule {rule.name} ({summary(rule)}) in ACL {self.target.acl} {self._where(before)}, "
                   f"{what}")

    def _delete(self, op: _Op, renamed: dict[str, str], phase: int) -> None:
        rule = _deleted(op)
        name = renamed.get(rule.name, rule.name)
        del self.entries[self._find(rule.name)]
        why = f"replaced by the baseline's {op.base.protocol} rule" if op.kind == "replace" and op.base else \
            "not in the baseline"
        self._emit(op, phase, DeleteRule(self.target, _id(rule), name),
                   f"Delete rule {name} ({summary(rule)}) from ACL {self.target.acl}: {why}")

    def _patch(self, op: _Op, phase: int) -> None:
        assert op.live is not None and op.base is not None
        patch = rule_patch(op.live, op.base)
        entry = self.entries[self._find(op.live.name)]
        entry.name, entry.rule = op.base.name, op.base
        fields = ", ".join(sorted(patch))
        self._emit(op, phase, UpdateRule(self.target, _id(op.live), op.live.name, patch),
                   f"Patch rule {op.live.name} in ACL {self.target.acl} back to the baseline ({fields}): "
                   f"{summary(op.base)}")

    def _move(self, op: _Op) -> None:
        assert op.live is not None and op.base is not None and op.index is not None
        pos = self._find(op.live.name)
        entry = self.entries.pop(pos)
        anchor = self._anchor(op.index)
        if (anchor is None and pos == len(self.entries)) or (pos < len(self.entries) and
                                                               self.entries[pos] is anchor):
            self.entries.insert(pos, entry)  # already in place: nothing to do
            entry.index, entry.placed = op.index, True
            return
        before = self._place(entry, op.index)
        self._emit(op, ADJUST, MoveRule(self.target, _id(op.live), op.base.name, before),
                   f"Move rule {op.base.name} in ACL {self.target.acl} {self._where(before)} (baseline order)")


def _covering(op: _Op, findings: Sequence[Finding]) -> list[Finding]:
    """The findings ``op`` answers: one of its codes, on one of its rules (or on the whole ACL)."""
    return [f for f in findings if f.code in op.codes and (f.resource.rule in op.names or f.resource.rule is None)]


def _narrows(op: _Op) -> bool:
    """Whether patching ``op.live`` into ``op.base`` lets through no more, wherever the rule stands: an
    allow that becomes a deny, an allow that matches a subset, a deny that matches a superset."""
    assert op.live is not None and op.base is not None
    old, new = op.live, op.base
    if (old.action, new.action) == ("allow", "deny"):
        return True
    if old.action != new.action or old.direction != new.direction:
        return False
    if any(cidr_interval(cidr) is None for cidr in (old.source, old.destination, new.source, new.destination)):
        return False  # IPv6: not evaluated, so not known to narrow
    small, large = (new, old) if new.action == "allow" else (old, new)
    return rule_flows(small).issubset(rule_flows(large))


def _created(op: _Op) -> AclRule:
    assert op.base is not None
    return op.base


def _deleted(op: _Op) -> AclRule:
    assert op.live is not None
    return op.live


def _id(rule: AclRule) -> str:
    if rule.id is None:
        raise PlanRefused(f"the live snapshot has no id for rule {rule.name}: remediation needs a live read")
    return rule.id
