"""What a live read was configured to cover, carried with the snapshot it produced.

The config selects a part of the estate (``ibmcloud.regions`` and ``ibmcloud.vpcs``,
``kubernetes.clusters`` and each cluster's ``namespaces``); the baseline may hold more than that.
Without knowing the selection, a check cannot tell a baseline VPC nobody asked to read from one that
was deleted, and reports the first as missing. ``ReadScope`` is that selection, as the readers
resolved it (a VPC configured by id is known here by its name), so that ``core.drift.scope`` can set
the rest of the baseline aside as out of scope.

``listing`` is how a message names what does exist when a configured name does not: a bounded list,
so that an account with thousands of VPCs still gets a one-line error.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

#: The most names ``listing`` shows before it counts the rest, and the most characters they take.
LISTED = 20
LISTED_WIDTH = 300


@dataclass(frozen=True, slots=True)
class ReadScope:
    """The selection of one live read. ``None`` on an axis means not known (a snapshot made by other
    means): everything on it counts as selected.

    * ``regions``: the regions read; ``()`` when the config has no ``ibmcloud`` section.
    * ``vpcs``: the names of the VPCs ``ibmcloud.vpcs`` selects in those regions; ``None``, every VPC.
    * ``clusters``: each configured cluster and its managed namespaces (``None``: all of them);
      ``{}`` when the config has no ``kubernetes`` section.
    """

    regions: tuple[str, ...] | None = None
    vpcs: tuple[str, ...] | None = None
    clusters: Mapping[str, tuple[str, ...] | None] | None = None

    def has_region(self, region: str) -> bool:
        return self.regions is None or region in self.regions

    def has_vpc(self, region: str, name: str) -> bool:
        return self.has_region(region) and (self.vpcs is None or name in self.vpcs)

    def has_cluster(self, name: str) -> bool:
        return self.clusters is None or name in self.clusters

    def has_namespace(self, cluster: str, namespace: str) -> bool:
        if self.clusters is None:
            return True
        if cluster not in self.clusters:
            return False
        managed = self.clusters[cluster]
        return managed is None or namespace in managed


def listing(names: Iterable[str], limit: int = LISTED, width: int = LISTED_WIDTH) -> str:
    """``a, b, c`` or ``a, b, ... t and 12 more``: sorted, at most ``limit`` names and (past the first)
    about ``width`` characters of them, the rest counted; ``(none)`` for none."""
    ordered = sorted(set(names))
    if not ordered:
        return "(none)"
    shown = [ordered[0]]
    for name in ordered[1:limit]:
        if sum(len(s) + 2 for s in shown) + len(name) > width:
            break
        shown.append(name)
    rest = len(ordered) - len(shown)
    return ", ".join(shown) + (f" and {rest} more" if rest else "")
