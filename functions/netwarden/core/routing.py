"""Routes: which findings a channel hears of. The on-call pager wants the critical ones, the team's
webhook everything, the network team's mailbox only its VPC.

A route is the intersection of what it names: a minimum severity, finding codes, resource patterns
(the suppressions' syntax: exact path, or a prefix with a trailing ``*``). A route that names nothing
accepts every finding; a channel without one hears everything. ``core.lifecycle`` asks a route only
before a channel was told of a finding: after that, the channel hears its changes and its resolution.

Pure.
"""

from __future__ import annotations

from dataclasses import dataclass

from netwarden.core.findings import SEVERITY_RANK, Finding
from netwarden.core.suppressions import path_matches


@dataclass(frozen=True, slots=True)
class Route:
    min_severity: str | None = None
    codes: tuple[str, ...] = ()
    resources: tuple[str, ...] = ()

    def accepts(self, finding: Finding) -> bool:
        if self.min_severity is not None and \
                SEVERITY_RANK.get(finding.severity, 99) > SEVERITY_RANK[self.min_severity]:
            return False
        if self.codes and finding.code not in self.codes:
            return False
        return not self.resources or any(path_matches(p, finding.resource.path) for p in self.resources)

    def describe(self) -> str:
        """``high and above, codes acl-rule-missing, resources us-south/*``; ``everything``."""
        parts = [f"{self.min_severity} and above"] if self.min_severity else []
        if self.codes:
            parts.append(f"codes {', '.join(self.codes)}")
        if self.resources:
            parts.append(f"resources {', '.join(self.resources)}")
        return ", ".join(parts) or "everything"
