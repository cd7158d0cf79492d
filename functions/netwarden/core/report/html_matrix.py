"""The HTML report's reachability matrix: what a cluster's NetworkPolicy drift does, workload by workload.

A policy diff says which selector changed; the matrix says who can now talk to whom. Rows are the
sources and columns the destinations, grouped by namespace; a cell is one workload (its pods, as the
live cluster's Deployments, StatefulSets and DaemonSets own them; a pod no workload owns stands alone)
to another, and says whether any connection between their pods was gained (``+``), lost (``-``),
changed both ways (``~``), or is allowed on both sides alike (``=``). Both sides are evaluated over the
same live pods, as ``core.netpol.impact`` judges the findings: the baseline's policies and namespace
labels where the baseline manages the namespace, the live ones elsewhere; connections to and from
outside addresses are listed under the matrix. Past ``MAX_WORKLOADS`` workloads only those with a
changed cell are drawn.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from netwarden.core.model import Cluster, Namespace, NetworkPolicy, Snapshot
from netwarden.core.netpol.reachability import NONE, PortSet, Reachability, endpoint_text, key
from netwarden.core.netpol.reachability_diff import PairChange, compare, diff
from netwarden.core.report.html_parts import anchor, esc, legend

MAX_WORKLOADS = 40
#: Outside-address changes listed under a matrix.
MAX_OUTSIDE = 20
MARKS = {"gain": "+", "lose": "-", "both": "~", "keep": "=", "none": ""}
LEGEND = {"gain": "gained: a connection the baseline did not allow", "lose": "lost: a connection it allowed",
          "both": "changed: some gained, some lost", "keep": "allowed on both sides alike"}


@dataclass(frozen=True, slots=True)
class Cell:
    """What the pods of one workload may open to those of another, in the baseline and live."""

    before: PortSet
    after: PortSet

    @property
    def kind(self) -> str:
        gained, lost = bool(self.after - self.before), bool(self.before - self.after)
        if gained and lost:
            return "both"
        if gained:
            return "gain"
        if lost:
            return "lose"
        return "keep" if self.after else "none"


@dataclass(frozen=True, slots=True)
class Matrix:
    """One cluster's workloads (``namespace/name``, in order), the cells between them, and the changes
    with outside addresses; ``left_out`` counts the workloads not drawn."""

    cluster: str
    workloads: tuple[str, ...]
    cells: Mapping[tuple[str, str], Cell]
    outside: tuple[PairChange, ...] = ()
    left_out: int = 0

    def cell(self, source: str, destination: str) -> Cell:
        return self.cells.get((source, destination), Cell(NONE, NONE))

    def changed(self) -> list[tuple[str, str, Cell]]:
        return [(s, d, c) for (s, d), c in sorted(self.cells.items()) if c.kind in ("gain", "lose", "both")]


def matrix_id(cluster: str) -> str:
    return anchor("reach", cluster)


def workload_matrix(baseline: Snapshot, live: Snapshot, cluster: str) -> Matrix | None:
    """The matrix of ``cluster`` (None: either side lacks the cluster, or live knows none of its pods)."""
    base, now = baseline.cluster(cluster), live.cluster(cluster)
    if base is None or now is None or not now.pods:
        return None
    before, after = compare(_baseline_over_live(base, now), now)
    owner = _owners(now)
    cells: dict[tuple[str, str], Cell] = {}
    for side, reach in (("before", before), ("after", after)):
        for (src, dst), ports in _pod_pairs(reach):
            pair = (owner.get(src, src), owner.get(dst, dst))
            cell = cells.get(pair, Cell(NONE, NONE))
            cells[pair] = Cell(cell.before | ports, cell.after) if side == "before" else Cell(cell.before,
                                                                                               cell.after | ports)
    workloads = sorted({owner.get(key(p), key(p)) for p in now.pods})
    left_out = 0
    if len(workloads) > MAX_WORKLOADS:
        touched = sorted({w for (s, d), c in cells.items() if c.kind in ("gain", "lose", "both") for w in (s, d)})
        left_out = len(workloads) - len(touched[:MAX_WORKLOADS])
        workloads = touched[:MAX_WORKLOADS]
    outside = tuple(c for c in diff(before, after)
                    if not (isinstance(c.source, str) and isinstance(c.destination, str)))
    return Matrix(cluster, tuple(workloads), cells, outside, left_out)


def _pod_pairs(reach: Reachability) -> list[tuple[tuple[str, str], PortSet]]:
    return [((s, d), c) for (s, d), c in reach.conns.items() if isinstance(s, str) and isinstance(d, str)]


def _owners(cluster: Cluster) -> dict[str, str]:
    """``namespace/pod`` -> ``namespace/workload`` for the pods a workload owns."""
    return {f"{w.namespace}/{p}": w.key for w in cluster.workloads for p in w.pods}


def _baseline_over_live(base: Cluster, live: Cluster) -> Cluster:
    """The live pods under the baseline's policies and labels where the baseline manages the namespace."""
    managed = {ns.name for ns in base.namespaces} | {p.namespace for p in base.policies}
    policies: list[NetworkPolicy] = [*base.policies, *(p for p in live.policies if p.namespace not in managed)]
    namespaces: list[Namespace] = [*base.namespaces, *(n for n in live.namespaces if n.name not in managed)]
    return Cluster(live.name, tuple(namespaces), tuple(policies), live.pods, live.worker_subnets)


# --- HTML -----------------------------------------------------------------------------------------------


def matrix_html(m: Matrix) -> str:
    """The matrix as a table (rows: from, columns: to), its legend and the changed cells spelled out."""
    groups = _groups(m.workloads)
    ns_row = "".join(f'<th class="ns" colspan="{len(names)}">{esc(ns)}</th>' for ns, names in groups)
    to_row = "".join(f'<th class="to" scope="col" title="{esc(w)}">{esc(_name(w))}</th>' for w in m.workloads)
    head = (f'<tr><th class="corner" colspan="2" rowspan="2">from &#8595; / to &#8594;</th>{ns_row}</tr>'
            f"<tr>{to_row}</tr>")
    body = []
    for ns, names in groups:
        for n, src in enumerate(names):
            ns_cell = f'<th class="ns" rowspan="{len(names)}">{esc(ns)}</th>' if n == 0 else ""
            cells = "".join(_td(m, src, dst) for dst in m.workloads)
            body.append(f'<tr>{ns_cell}<th class="from" scope="row" title="{esc(src)}">{esc(_name(src))}</th>'
                        f"{cells}</tr>")
    table = (f'<div class="scroll"><table class="matrix" data-cluster="{esc(m.cluster)}"><thead>{head}</thead>'
             f'<tbody>{"".join(body)}</tbody></table></div>')
    more = (f'<p class="note">{m.left_out} workload(s) with no changed cell are not drawn.</p>'
            if m.left_out else "")
    return legend(LEGEND) + table + more + _changes(m)


def _td(m: Matrix, src: str, dst: str) -> str:
    if src == dst and (src, dst) not in m.cells:
        return '<td class="self" title="itself"></td>'
    cell = m.cell(src, dst)
    kind = cell.kind
    title = f"{src} -> {dst}: baseline {cell.before.text()}; live {cell.after.text()}"
    return f'<td class="{kind}" title="{esc(title)}">{MARKS[kind]}</td>'


def _changes(m: Matrix) -> str:
    rows = []
    for src, dst, cell in m.changed():
        gained, lost = cell.after - cell.before, cell.before - cell.after
        what = "; ".join(p for p in (f"gained {gained.text()}" if gained else "",
                                     f"lost {lost.text()}" if lost else "") if p)
        rows.append(f'<li class="{cell.kind}"><code>{esc(src)} &#8594; {esc(dst)}</code>: {esc(what)}</li>')
    for change in m.outside[:MAX_OUTSIDE]:
        what = "; ".join(p for p in (f"gained {change.opened.text()}" if change.opened else "",
                                     f"lost {change.closed.text()}" if change.closed else "") if p)
        rows.append(f"<li><code>{esc(endpoint_text(change.source))} &#8594; "
                    f"{esc(endpoint_text(change.destination))}</code>: {esc(what)}</li>")
    if len(m.outside) > MAX_OUTSIDE:
        rows.append(f"<li>and {len(m.outside) - MAX_OUTSIDE} more with outside addresses</li>")
    if not rows:
        return '<p class="note">No workload gains or loses a connection.</p>'
    return f'<h4>Changed connections</h4><ul class="plain changes">{"".join(rows)}</ul>'


def _groups(workloads: Sequence[str]) -> list[tuple[str, list[str]]]:
    out: list[tuple[str, list[str]]] = []
    for w in workloads:
        ns = w.split("/", 1)[0]
        if not out or out[-1][0] != ns:
            out.append((ns, []))
        out[-1][1].append(w)
    return out


def _name(workload: str) -> str:
    return workload.split("/", 1)[-1]
