"""A rule list with one drift applied (``one_change``), and its flows derived from the known ones.

The impact analysis judges every rule finding by the baseline ACL with only that change applied
(``core.drift.impact``), at each subnet of the ACL. Evaluated whole, every such list costs what the
baseline's own evaluation costs, and its sets share nothing with the baseline's, so the exposure
diff between the two walks both trees in full. Yet two rule lists that agree outside a few rules
decide every flow those rules do not match alike (first match: such a flow meets the same rules,
in the same order, on both lists). So only the flows the differing rules match (``region``) are
decided again, by first match over the new list, and the rest is kept from the known sets:

    new = (known - region) | (new & region)

Sets are canonical, so the result is the very set ``AclFlows.of(new).effective(cidr)`` gives, and it
keeps the known set's untouched subtrees, which the exposure diff then skips by identity.
"""

from __future__ import annotations

from collections.abc import Sequence

from netwarden.core.acl.evaluate import DIRECTIONS, AclFlows, rule_flows
from netwarden.core.acl.rule_diff import align
from netwarden.core.flows.algebra import ADDRESSES, PROTOCOLS, FlowSet, cidr_interval, union_all
from netwarden.core.model import AclRule

#: Past this many differing rules (of both lists, per direction) the lists are evaluated whole.
MAX_DIFFERING = 8


def derive(base: Sequence[AclRule], new: Sequence[AclRule], known: AclFlows, known_all: FlowSet,
           cidr: str | None) -> tuple[AclFlows, FlowSet] | None:
    """``AclFlows.of(new).effective(cidr)`` and the union of its two directions, from ``known`` (the same
    for ``base``) and ``known_all`` (its union). None when the lists differ in too many rules, or a
    differing rule cannot be read: then evaluate ``new`` whole (which raises, or not, as it should)."""
    local = cidr_interval(cidr) if cidr is not None else None
    if cidr is not None and local is None:
        return known, known_all  # an IPv6 subnet: nothing is evaluated there, whatever the rules
    inside = FlowSet.box(PROTOCOLS, local, local) if local is not None else None
    sides: list[FlowSet] = []
    regions: list[FlowSet] = []
    try:
        for direction, flows in zip(DIRECTIONS, (known.inbound, known.outbound), strict=True):
            if local is None:
                window = None
            elif direction == "inbound":
                window = FlowSet.box(PROTOCOLS, ADDRESSES, local)
            else:
                window = FlowSet.box(PROTOCOLS, local, ADDRESSES)
            region = _region([r for r in base if r.direction == direction],
                             [r for r in new if r.direction == direction], window)
            if region is None:
                return None
            if not region:
                sides.append(flows)
            else:
                decided = _first_match([r for r in new if r.direction == direction], region)
                if inside is not None:
                    decided = decided | (inside & region)
                sides.append((flows - region) | decided)
            regions.append(region)
    except ValueError:  # NormalizeError, or an address ipaddress cannot parse
        return None
    inbound, outbound = sides
    changed = regions[0] | regions[1]
    if not changed:
        return known, known_all
    return AclFlows(inbound, outbound), union_all([known_all - changed, inbound & changed, outbound & changed])


def _region(base: Sequence[AclRule], new: Sequence[AclRule], window: FlowSet | None) -> FlowSet | None:
    """The flows (within ``window``) the rules of one direction may decide differently on the two
    lists: those that any rule between their common head and their common tail matches. None when
    more than ``MAX_DIFFERING`` rules differ."""
    head = 0
    while head < len(base) and head < len(new) and _same(base[head], new[head]):
        head += 1
    tail = 0
    while tail < len(base) - head and tail < len(new) - head and _same(base[-1 - tail], new[-1 - tail]):
        tail += 1
    differing = [*base[head:len(base) - tail], *new[head:len(new) - tail]]
    if len(differing) > MAX_DIFFERING:
        return None
    region = union_all([rule_flows(r) for r in differing])
    return region & window if window is not None and region else region


def _same(a: AclRule, b: AclRule) -> bool:
    return a is b or a.essence() == b.essence()


def _first_match(rules: Sequence[AclRule], region: FlowSet) -> FlowSet:
    """The flows of ``region`` the ordered rules (one direction) allow: first match, no match is deny."""
    remaining = region
    allowed = FlowSet()
    for rule in rules:
        if not remaining:
            break
        taken = remaining & rule_flows(rule)
        if taken:
            if rule.action == "allow":
                allowed = allowed | taken
            remaining = remaining - taken
    return allowed


def one_change(base: Sequence[AclRule], live: Sequence[AclRule], code: str, base_position: int | None,
               live_position: int | None) -> tuple[AclRule, ...] | None:
    """The baseline rules with only one drift of the live ones applied: a rule removed (``acl-rule-missing``
    at ``base_position``), added before the live rule that follows it (``acl-rule-unexpected`` at
    ``live_position``), replaced (``acl-rule-changed``), or the paired rules put in the live order
    (``acl-rules-reordered``). Positions count from 1, as findings give them; None when they do not fit."""
    b = base_position - 1 if base_position is not None else None
    j = live_position - 1 if live_position is not None else None
    rules = list(base)
    if code == "acl-rule-missing" and b is not None and 0 <= b < len(rules):
        del rules[b]
        return tuple(rules)
    if code == "acl-rule-changed" and b is not None and j is not None and 0 <= b < len(rules) and 0 <= j < len(live):
        rules[b] = live[j]
        return tuple(rules)
    alignment = align(base, live)
    if code == "acl-rule-unexpected" and j is not None and 0 <= j < len(live):
        base_of = {lj: bi for bi, lj in alignment.pairs}
        after = next((base_of[k] for k in range(j + 1, len(live)) if k in base_of), len(rules))
        rules.insert(after, live[j])
        return tuple(rules)
    if code == "acl-rules-reordered":
        ordered = [base[bi] for bi, _ in sorted(alignment.pairs, key=lambda p: p[1])]
        for bi in sorted(alignment.missing):
            ordered.insert(min(bi, len(ordered)), base[bi])
        return tuple(ordered)
    return None
