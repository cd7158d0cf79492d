"""The semantic diff of NetworkPolicy reachability: which pairs gained, lost or changed connections.

Two reachability results (``core.netpol.reachability``) are compared pair by pair. Outside addresses are
compared on the common refinement of both sides' ranges (a range cut in two by a new ipBlock is
the same addresses), and adjacent ranges that changed the same way are reported as one. A pod that
exists on one side only (a workload added or removed) has all its pairs added or removed, and the
change says so.
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

from netwarden.core.model import Cluster
from netwarden.core.netpol.reachability import (
    NONE,
    Endpoint,
    PortSet,
    Reachability,
    endpoint_text,
    external_ranges,
    reachability,
)

KINDS = ("added", "removed", "changed")


@dataclass(frozen=True, slots=True)
class PairChange:
    """One pair whose allowed connections differ: ``before`` (baseline) and ``after`` (live)."""

    kind: str
    source: Endpoint
    destination: Endpoint
    before: PortSet
    after: PortSet
    note: str | None = None

    @property
    def opened(self) -> PortSet:
        return self.after - self.before

    @property
    def closed(self) -> PortSet:
        return self.before - self.after

    def text(self) -> str:
        """netpol-analyzer's line: ``diff-type: changed, source: S, destination: D, ref1: ..., ref2: ...``."""
        line = (f"diff-type: {self.kind}, source: {endpoint_text(self.source)}, "
                f"destination: {endpoint_text(self.destination)}, ref1: {self.before.text()}, "
                f"ref2: {self.after.text()}")
        return line + (f", workloads-diff-info: {self.note}" if self.note else "")

    def examples(self, opened: bool = True) -> list[str]:
        """``tcp 5432 from accounts/backend to accounts/db`` per range opened (or closed)."""
        ports = self.opened if opened else self.closed
        src, dst = endpoint_text(self.source), endpoint_text(self.destination)
        return [f"{flow} from {src} to {dst}" for flow in ports.flows()]


def diff(baseline: Reachability, live: Reachability) -> list[PairChange]:
    """Every pair whose connections differ, sorted (pods first, then outside ranges)."""
    base_pods, live_pods = set(baseline.pods), set(live.pods)
    changes: list[PairChange] = []
    bconns, lconns = baseline.conns, live.conns
    for conns, other, first in ((bconns, lconns, True), (lconns, bconns, False)):
        for (src, dst), mine in conns.items():
            if not (isinstance(src, str) and isinstance(dst, str)):
                continue
            theirs = other.get((src, dst), NONE)
            if not first and theirs is not NONE:
                continue  # seen from the baseline's side already
            if mine is theirs or mine == theirs:
                continue
            before, after = (mine, theirs) if first else (theirs, mine)
            changes.append(_change(src, dst, before, after, (base_pods, live_pods)))
    atoms = [(atom, _lookup(baseline, atom), _lookup(live, atom))
             for atom in _refine(baseline.externals, live.externals)]
    for pod in sorted(base_pods | live_pods):
        changes.extend(_external_changes(pod, atoms, (baseline, live), (base_pods, live_pods)))
    return sorted(changes, key=_order)


def compare(baseline: Cluster, live: Cluster) -> tuple[Reachability, Reachability]:
    """Both clusters evaluated over the same outside ranges (each over its own pods)."""
    ext = external_ranges((*baseline.policies, *live.policies))
    return reachability(baseline, externals=ext), reachability(live, externals=ext)


def _change(src: Endpoint, dst: Endpoint, before: PortSet, after: PortSet, pods: tuple[set[str], set[str]]
            ) -> PairChange:
    base_pods, live_pods = pods
    kind = "added" if not before else "removed" if not after else "changed"
    note = None
    for end in (src, dst):
        if isinstance(end, str) and end not in base_pods:
            note = f"workload {end} added"
        elif isinstance(end, str) and end not in live_pods:
            note = f"workload {end} removed"
    return PairChange(kind, src, dst, before, after, note)


def _refine(a: Sequence[tuple[int, int]], b: Sequence[tuple[int, int]]) -> list[tuple[int, int]]:
    cuts = sorted({lo for lo, _ in a} | {lo for lo, _ in b} | {0, 2**32})
    return [(cuts[i], cuts[i + 1] - 1) for i in range(len(cuts) - 1)]


def _lookup(reach: Reachability, atom: tuple[int, int]) -> tuple[int, int] | None:
    starts = [lo for lo, _ in reach.externals]
    i = bisect_right(starts, atom[0]) - 1
    return reach.externals[i] if i >= 0 else None


Atom = tuple[tuple[int, int], tuple[int, int] | None, tuple[int, int] | None]


def _external_changes(pod: str, atoms: Sequence[Atom], sides: tuple[Reachability, Reachability],
                      pods: tuple[set[str], set[str]]) -> Iterator[PairChange]:
    """Changes between ``pod`` and the outside; ``atoms``: (common range, baseline's range, live's range)."""
    baseline, live = sides
    for outgoing in (True, False):
        run: PairChange | None = None
        for atom, b_range, l_range in atoms:
            before = _get(baseline, pod, b_range, outgoing)
            after = _get(live, pod, l_range, outgoing)
            if before == after:
                if run is not None:
                    yield run
                    run = None
                continue
            src, dst = (pod, atom) if outgoing else (atom, pod)
            change = _change(src, dst, before, after, pods)
            if run is not None and (run.kind, run.before, run.after) == (change.kind, before, after):
                far = run.destination if outgoing else run.source
                assert isinstance(far, tuple)
                merged = (far[0], atom[1])
                src, dst = (pod, merged) if outgoing else (merged, pod)
                run = PairChange(run.kind, src, dst, before, after, run.note)
            else:
                if run is not None:
                    yield run
                run = change
        if run is not None:
            yield run


def _get(reach: Reachability, pod: str, rng: tuple[int, int] | None, outgoing: bool) -> PortSet:
    if rng is None:
        return NONE
    return reach.get(pod, rng) if outgoing else reach.get(rng, pod)


def _order(c: PairChange) -> tuple[int, str, str]:
    ext = int(not isinstance(c.source, str)) + int(not isinstance(c.destination, str))
    return (ext, endpoint_text(c.source), endpoint_text(c.destination))
