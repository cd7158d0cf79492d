"""Two shortcuts over ``core.flows.algebra`` trees that build less than the general algebra would.

The impact analysis asks thousands of times whether one box lies inside an ACL's allowed set (to
widen an example flow to the widest CIDR the set allows whole), and builds "all traffic between a
subnet and every worker subnet of the other zones". ``box - set`` and a union of one box per pair
give the same answers, but allocate whole trees to do it; these give them directly, exactly.
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
