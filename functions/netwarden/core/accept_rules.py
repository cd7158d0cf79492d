"""ACL rule findings accepted into the baseline: one ordered rule list edited where those findings say,
and nowhere else, so the file's diff in a pull request is those rules' lines.

An ACL is first-match, so where an accepted rule goes matters as much as what it says. The findings
come from ``core.acl.rule_diff``, which aligns the two lists (``align``); this module reads the same
alignment and the positions the findings carry, and edits the baseline's list:

* ``acl-rule-changed``: the baseline rule is replaced, in its place, by the live one;
* ``acl-rule-missing``: the baseline rule is removed;
* ``acl-rule-unexpected``: the live rule is inserted after the baseline rule that its nearest
  preceding live neighbour stands for (the top of the list when none does), so it keeps its live
  position relative to the rules around it; several in one gap keep their live order;
* ``acl-rules-reordered`` (one finding for the whole ACL): each moved rule is taken out of its
  baseline place and put back the same way, after its nearest preceding live neighbour that did not
  move, so the baseline takes the live order and nothing else.

A neighbour is a rule paired on both sides and not moved: those pairs increase on both sides, so the
edited list keeps the live relative order of everything it touches. One pass over each list: linear.
A finding whose positions do not fit the two lists (it was read from other states), or an edit that
would give two rules the same name (the baseline's names are unique), is refused with the reason.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

from netwarden.core.acl.rule_diff import align
from netwarden.core.findings import Finding
from netwarden.core.model import AclRule, NetworkAcl

MISSING, UNEXPECTED, CHANGED, REORDERED = (
    "acl-rule-missing", "acl-rule-unexpected", "acl-rule-changed", "acl-rules-reordered")
RULE_CODES = frozenset({MISSING, UNEXPECTED, CHANGED, REORDERED})


@dataclass(frozen=True, slots=True)
class RuleEdits:
    """The ACL with the accepted findings' rules in their live form, and the findings refused (with why)."""

    acl: NetworkAcl
    accepted: tuple[Finding, ...]
    refused: tuple[tuple[Finding, str], ...]


class _Mismatch(Exception):
    """A finding that does not describe these two rule lists."""


def accept_rules(base: NetworkAcl, live: NetworkAcl, findings: Sequence[Finding]) -> RuleEdits:
    """``base`` with the rule findings ``findings`` (all of this ACL) accepted from ``live``."""
    a = align(base.rules, live.rules)
    index = _Index(set(a.pairs), set(a.missing), set(a.unexpected))
    edits: list[tuple[Finding, tuple[str, int, int]]] = []
    refused: list[tuple[Finding, str]] = []
    for f in findings:
        try:
            edits.append((f, _edit(f, base, live, index)))
        except _Mismatch as e:
            refused.append((f, str(e)))
    while True:  # each round refuses at least one edit, so this ends; a clash at all is rare
        rules = _apply(base, live, a.pairs, a.moved, [edit for _, edit in edits])
        twice = {name for name, n in Counter(r.name for r in rules).items() if n > 1}
        clash = [k for k, (_, (code, _, j)) in enumerate(edits)
                 if code in (CHANGED, UNEXPECTED) and live.rules[j].name in twice]
        if not clash:
            return RuleEdits(replace(base, rules=tuple(rules)), tuple(f for f, _ in edits), tuple(refused))
        for k in clash:
            f, (_, _, j) = edits[k]
            refused.append((f, f"another rule of the baseline ACL is named {live.rules[j].name}: accept that rule's "
                               "finding too, so that the names stay unique"))
        gone = set(clash)
        edits = [e for k, e in enumerate(edits) if k not in gone]


@dataclass(frozen=True, slots=True)
class _Index:
    """The alignment's pairs, missing and unexpected rules, as sets to look findings up in."""

    pairs: set[tuple[int, int]]
    missing: set[int]
    unexpected: set[int]


def _edit(f: Finding, base: NetworkAcl, live: NetworkAcl, index: _Index) -> tuple[str, int, int]:
    """(code, baseline index, live index) of one finding, checked against the alignment (-1: none)."""
    if f.code == REORDERED:
        return REORDERED, -1, -1
    if f.code == CHANGED:
        b, j = _position(f.baseline, len(base.rules), "baseline"), _position(f.live, len(live.rules), "live")
        if (b, j) not in index.pairs or base.rules[b].name != f.resource.rule:
            raise _Mismatch(f"rule {f.resource.rule} is not at position {b + 1} of the baseline ACL paired with "
                            f"position {j + 1} of the live one: check again")
        return CHANGED, b, j
    if f.code == MISSING:
        b = _position(f.baseline, len(base.rules), "baseline")
        if b not in index.missing or base.rules[b].name != f.resource.rule:
            raise _Mismatch(f"rule {f.resource.rule} is not a missing rule at position {b + 1}: check again")
        return MISSING, b, -1
    if f.code == UNEXPECTED:
        j = _position(f.live, len(live.rules), "live")
        if j not in index.unexpected or live.rules[j].name != f.resource.rule:
            raise _Mismatch(f"rule {f.resource.rule} is not an unexpected rule at live position {j + 1}: check again")
        return UNEXPECTED, -1, j
    raise _Mismatch(f"{f.code} is not a rule finding")


def _position(side: Mapping[str, Any] | None, size: int, what: str) -> int:
    position = side.get("position") if side is not None else None
    if not isinstance(position, int) or not 1 <= position <= size:
        raise _Mismatch(f"the finding names no rule position of the {what} ACL: check again")
    return position - 1


def _apply(base: NetworkAcl, live: NetworkAcl, pairs: Sequence[tuple[int, int]], moved: Sequence[tuple[int, int]],
           edits: Iterable[tuple[str, int, int]]) -> list[AclRule]:
    """The baseline's rules with ``edits`` made (see the module docstring for where each goes)."""
    replaced: dict[int, AclRule] = {}
    dropped: set[int] = set()
    placed: dict[int, AclRule] = {}  # live index -> the rule to put there
    reorder = False
    for code, b, j in edits:
        if code == CHANGED:
            replaced[b] = live.rules[j]
        elif code == MISSING:
            dropped.add(b)
        elif code == UNEXPECTED:
            placed[j] = live.rules[j]
        else:
            reorder = True
    moved_set = set(moved)
    if reorder:
        for b, j in moved:
            placed[j] = replaced.get(b, base.rules[b])
            dropped.add(b)
    neighbour = {j: b for b, j in pairs if (b, j) not in moved_set}
    after: defaultdict[int, list[AclRule]] = defaultdict(list)  # baseline index (-1: the top) -> rules, live order
    last = -1
    for j in range(len(live.rules)):
        if j in placed:
            after[last].append(placed[j])
        elif j in neighbour:
            last = neighbour[j]
    rules = list(after.get(-1, ()))
    for i, rule in enumerate(base.rules):
        if i not in dropped:
            rules.append(replaced.get(i, rule))
        rules.extend(after.get(i, ()))
    return rules
