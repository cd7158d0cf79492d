"""Who writes to an emulated cluster: the client of a request, or one of the cluster's own components.

Every write is made by an ``Actor`` (its field manager, user agent, ``dryRun`` and ``fieldValidation``),
and the audit record of the write names it. The state (``models``) and the controllers
(``controllers``) both need it, so it lives apart from either. The cluster's components write with
the user agents and managers a real IKS control plane shows in ``managedFields`` and audit logs:
``kube-controller-manager`` (its controllers by service account) and ``kube-scheduler``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime

_MANAGER_AGENT = "kube-controller-manager/v1.32.4+IKS (linux/amd64) kubernetes/59526cd/system:serviceaccount:" \
                 "kube-system:{}"
NAMESPACE_CONTROLLER = _MANAGER_AGENT.format("namespace-controller")


def now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


@dataclass(slots=True)
class Actor:
    """Who writes, and how: the field manager, the user agent, ``dryRun`` and ``fieldValidation``."""

    user_agent: str = ""
    field_manager: str | None = None
    dry_run: bool = False
    field_validation: str | None = None
    warnings: list[str] = field(default_factory=list)

    @property
    def manager(self) -> str:
        return self.field_manager or (self.user_agent.split("/", 1)[0] if self.user_agent else "unknown")


def controller(service_account: str) -> Actor:
    """One of kube-controller-manager's controllers (``replicaset-controller``, ``generic-garbage-collector``)."""
    return Actor(_MANAGER_AGENT.format(service_account), "kube-controller-manager")


SCHEDULER = Actor("kube-scheduler/v1.32.4+IKS (linux/amd64) kubernetes/59526cd/scheduler", "kube-scheduler")
