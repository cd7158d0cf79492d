"""Shortcuts over ``core.flows.algebra`` trees that build less than the general algebra would.

The impact analysis asks thousands of times whether one box lies inside an ACL's allowed set (to
widen an example flow to the widest CIDR the set allows whole), and builds "all traffic between a
subnet and every worker subnet of the other zones". ``box - set`` and a union of one box per pair
give the same answers, but allocate whole trees to do it; these give them directly, exactly. And
before it intersects a lost set with each of those subnets' traffic, ``endpoints`` tells which of
them the set names at all, so that the others are skipped without building anything.
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Sequence
from typing import Any

from netwarden.core.flows.algebra import Interval, Tree


def _lo(item: tuple[int, int, Any]) -> int:
    return item[0]


def covers(tree: Tree, box: Sequence[Interval]) -> bool:
    """Whether the set ``tree`` holds every flow of ``box`` (one interval per level): a subset test
    that builds nothing and stops at the first gap, instead of computing ``box - tree``."""
    lo, hi = box[0]
    i = bisect_right(tree, lo, key=_lo) - 1  # the interval that would hold lo
    if i < 0 or tree[i][1] < lo:
        return False
    rest = box[1:]
    expected, n = lo, len(tree)
    while i < n:
        tlo, thi, child = tree[i]
        if tlo > expected or (child is not True and not covers(child, rest)):
            return False
        if thi >= hi:
            return True
        expected, i = thi + 1, i + 1
    return False


def product(levels: Sequence[Sequence[Interval]]) -> Tree:
    """The tree of the product of one set of intervals per dimension (in any order, overlapping or
    not): built directly in canonical form, where a union of its boxes would merge them one by one."""
    child: Any = True
    for level in reversed(levels):
        merged: list[tuple[int, int, Any]] = []
        for lo, hi in sorted(level):
            if merged and lo <= merged[-1][1] + 1:
                if hi > merged[-1][1]:
                    merged[-1] = (merged[-1][0], hi, child)
            else:
                merged.append((lo, hi, child))
        if not merged:
            return ()
        child = tuple(merged)
    result: Tree = child
    return result


def endpoints(tree: Tree) -> list[Interval]:
    """The address ranges the flows of a set start or end in (its source and destination levels),
    merged and sorted: a set has a flow from or to an address range only when one of them overlaps it."""
    spans = []
    for _, _, by_source in tree:
        for slo, shi, by_destination in by_source:
            spans.append((slo, shi))
            spans.extend((dlo, dhi) for dlo, dhi, _ in by_destination)
    merged: list[Interval] = []
    for lo, hi in sorted(spans):
        if merged and lo <= merged[-1][1] + 1:
            if hi > merged[-1][1]:
                merged[-1] = (merged[-1][0], hi)
        else:
            merged.append((lo, hi))
    return merged


def overlaps(spans: Sequence[Interval], span: Interval | None) -> bool:
    """Whether ``span`` overlaps any of the sorted, disjoint ``spans`` (``endpoints``); None overlaps nothing."""
    if span is None:
        return False
    i = bisect_right(spans, span[1], key=_start) - 1  # the last span starting at or before span's end
    return i >= 0 and spans[i][1] >= span[0]


def _start(span: Interval) -> int:
    return span[0]
