"""The diff of one network ACL's ordered rule list, baseline against live.

ACLs are first-match, so a rule list is compared BY POSITION: order is meaning. The aim is one
finding for one edit: an inserted rule is one ``acl-rule-unexpected`` (the rules after it shift, but
that is not a change of theirs), a deleted rule one ``acl-rule-missing``, a rule moved or two rules
swapped one ``acl-rules-reordered`` for the ACL, a port changed one ``acl-rule-changed``.

How the two lists are aligned (linear apart from an ``n log n`` sort, so a 100,000-rule estate is fast):

1. rules are paired by name (names are unique within a live ACL), then the rules left over by their
   essence (a rule renamed but otherwise the same);
2. the longest run of pairs that keeps its relative order is the skeleton (of the longest, the one
   leaving the most rules at their position); paired rules outside it are the moved ones (all
   reported in one ``acl-rules-reordered``);
3. rules still unpaired are paired by position between the same two skeleton rules (a rule edited
   in place under a new name is one change, not a missing plus an unexpected);
4. a pair whose fields differ is ``acl-rule-changed`` with the fields in ``baseline``/``live``; what is
   left unpaired is missing (baseline side) or unexpected (live side).
"""

from __future__ import annotations

from bisect import bisect_left
from collections import defaultdict, deque
from collections.abc import Hashable, Iterator, Sequence
from dataclasses import dataclass
from itertools import pairwise
from typing import Any

from netwarden.core.findings import Finding, ResourceRef, make
from netwarden.core.model import AclRule, NetworkAcl
from netwarden.core.snapshot_rule import rule_to_data

#: The fields of a rule that a change is reported on, in the baseline file's spelling.
RULE_FIELDS = ("name", "action", "direction", "protocol", "source", "destination", "destination_port",
               "source_port", "type", "code")


@dataclass(frozen=True, slots=True)
class Alignment:
    """Indices into the baseline (``b``) and live (``l``) rule lists.

    ``pairs`` are (b, l) of the same rule, in baseline order; ``moved`` the pairs that left the
    skeleton; ``missing`` baseline rules with no live counterpart; ``unexpected`` the reverse."""

    pairs: tuple[tuple[int, int], ...]
    moved: tuple[tuple[int, int], ...]
    missing: tuple[int, ...]
    unexpected: tuple[int, ...]


def align(base: Sequence[AclRule], live: Sequence[AclRule]) -> Alignment:
    pairs = _pair_by(base, live, range(len(base)), range(len(live)), lambda r: r.name)
    used_b = {b for b, _ in pairs}
    used_l = {j for _, j in pairs}
    pairs += _pair_by(base, live, [i for i in range(len(base)) if i not in used_b],
                      [j for j in range(len(live)) if j not in used_l], AclRule.essence)
    pairs.sort()
    keep = _longest_increasing(pairs)
    skeleton = [pairs[k] for k in keep]
    moved = [p for k, p in enumerate(pairs) if k not in keep]
    used_b = {b for b, _ in pairs}
    used_l = {j for _, j in pairs}
    # Unpaired rules between the same two skeleton rules are paired by position within that gap.
    gaps_b: dict[int, list[int]] = defaultdict(list)
    gaps_l: dict[int, list[int]] = defaultdict(list)
    anchors_b = [b for b, _ in skeleton]
    anchors_l = [j for _, j in skeleton]
    for i in range(len(base)):
        if i not in used_b:
            gaps_b[bisect_left(anchors_b, i)].append(i)
    for j in range(len(live)):
        if j not in used_l:
            gaps_l[bisect_left(anchors_l, j)].append(j)
    missing: list[int] = []
    unexpected: list[int] = []
    for gap in sorted(set(gaps_b) | set(gaps_l)):
        bs, ls = gaps_b.get(gap, []), gaps_l.get(gap, [])
        pairs.extend(zip(bs, ls, strict=False))
        missing.extend(bs[len(ls):])
        unexpected.extend(ls[len(bs):])
    pairs.sort()
    return Alignment(tuple(pairs), tuple(moved), tuple(sorted(missing)), tuple(sorted(unexpected)))


def _pair_by(base: Sequence[AclRule], live: Sequence[AclRule], b_idx: Sequence[int] | range,
             l_idx: Sequence[int] | range, key: Any) -> list[tuple[int, int]]:
    """Pair rules with equal ``key`` in order of appearance (duplicates pair first with first)."""
    queues: dict[Hashable, deque[int]] = defaultdict(deque)
    for j in l_idx:
        queues[key(live[j])].append(j)
    out: list[tuple[int, int]] = []
    for i in b_idx:
        q = queues.get(key(base[i]))
        if q:
            out.append((i, q.popleft()))
    return out


def _longest_increasing(pairs: Sequence[tuple[int, int]]) -> set[int]:
    """Indices (into ``pairs``) of a longest subsequence whose live indices increase; of those, one
    that keeps the most rules at their baseline position (a swap of rules 1 and 3 moves those two,
    not rule 2). A max-prefix tree over live indices, ``n log n``."""
    if all(a[1] < b[1] for a, b in pairwise(pairs)):
        return set(range(len(pairs)))  # nothing moved (the common case): no tree needed
    size = max((j for _, j in pairs), default=-1) + 1
    tree: list[tuple[int, int, int]] = [(0, 0, -1)] * (size + 1)  # (length, kept in place, last pair)
    parent: list[int] = [-1] * len(pairs)
    best = (0, 0, -1)
    for k, (b, j) in enumerate(pairs):
        before, i = (0, 0, -1), j
        while i > 0:  # the best run ending at a live index below j
            before = max(before, tree[i])
            i -= i & -i
        run = (before[0] + 1, before[1] + (b == j), k)
        parent[k] = before[2]
        best = max(best, run)
        i = j + 1
        while i <= size:
            tree[i] = max(tree[i], run)
            i += i & -i
    out: set[int] = set()
    k = best[2]
    while k != -1:
        out.add(k)
        k = parent[k]
    return out


def changed_fields(base: AclRule, live: AclRule) -> dict[str, tuple[Any, Any]]:
    """``{field: (baseline value, live value)}`` for each field that differs (ids never count)."""
    b, lv = rule_to_data(base), rule_to_data(live)
    return {f: (b.get(f), lv.get(f)) for f in RULE_FIELDS if b.get(f) != lv.get(f)}


def diff_acl(region: str, vpc: str, base: NetworkAcl, live: NetworkAcl) -> Iterator[Finding]:
    """Findings for one ACL present on both sides."""
    if base.rules == live.rules and [r.name for r in base.rules] == [r.name for r in live.rules]:
        return
    a = align(base.rules, live.rules)

    def ref(rule: str | None = None) -> ResourceRef:
        return ResourceRef("network-acl", region=region, vpc=vpc, acl=base.name, rule=rule)

    if a.moved:
        moved = [(b + 1, j + 1, base.rules[b].name) for b, j in a.moved]
        shown = ", ".join(f"{name} {b} -> {j}" for b, j, name in moved[:5])
        more = f" and {len(moved) - 5} more" if len(moved) > 5 else ""
        yield make("acl-rules-reordered", ref(),
                   f"ACL {base.name}: {len(moved)} rule(s) in another order: {shown}{more} (position baseline -> live)",
                   baseline={"order": [r.name for r in base.rules],
                             "moved": [{"rule": name, "position": b} for b, _, name in moved]},
                   live={"order": [r.name for r in live.rules],
                         "moved": [{"rule": live.rules[j - 1].name, "position": j} for _, j, _ in moved]})
    for b, j in a.pairs:
        changes = changed_fields(base.rules[b], live.rules[j])
        if not changes:
            continue
        detail = "; ".join(f"{f} {_show(old)} -> {_show(new)}" for f, (old, new) in changes.items())
        yield make("acl-rule-changed", ref(base.rules[b].name),
                   f"ACL {base.name}: rule {base.rules[b].name} (position {b + 1}) differs: {detail}",
                   baseline=_rule_data(base.rules[b], b, {f: old for f, (old, _) in changes.items()}),
                   live=_rule_data(live.rules[j], j, {f: new for f, (_, new) in changes.items()}))
    for b in a.missing:
        rule = base.rules[b]
        yield make("acl-rule-missing", ref(rule.name),
                   f"ACL {base.name}: rule {rule.name} (position {b + 1}) is gone: {describe(rule)}",
                   baseline=_rule_data(rule, b))
    for j in a.unexpected:
        rule = live.rules[j]
        yield make("acl-rule-unexpected", ref(rule.name),
                   f"ACL {base.name}: rule {rule.name} at position {j + 1} is not in the baseline: {describe(rule)}",
                   live=_rule_data(rule, j))


def _rule_data(rule: AclRule, index: int, changed: dict[str, Any] | None = None) -> dict[str, Any]:
    out: dict[str, Any] = {"position": index + 1, "rule": rule_to_data(rule)}
    if changed is not None:
        out["changed"] = changed
    return out


def describe(rule: AclRule) -> str:
    """``allow inbound tcp 10.0.0.0/8 -> 10.240.0.0/24 port 443`` (ports and icmp only when set)."""
    text = f"{rule.action} {rule.direction} {rule.protocol} {rule.source} -> {rule.destination}"
    if rule.destination_port is not None and not rule.destination_port.is_all:
        text += f" port {rule.destination_port}"
    if rule.source_port is not None and not rule.source_port.is_all:
        text += f" from port {rule.source_port}"
    if rule.icmp_type is not None:
        text += f" type {rule.icmp_type}"
    if rule.icmp_code is not None:
        text += f" code {rule.icmp_code}"
    return text


def _show(value: Any) -> str:
    return "(none)" if value is None else str(value)
