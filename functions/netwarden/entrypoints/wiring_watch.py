"""The resident watcher's composition: its watches, its re-checks and its event checks, built from
Settings once, at start, and shared by every re-check (the baseline, the state store, the notifiers,
one API connection per cluster), so that a re-check costs its reads and nothing more.

``entrypoints.watch`` runs what ``build`` returns; ``app.watch`` holds the decisions.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

from netwarden.config import ClusterSettings, Settings
from netwarden.core.model import Snapshot
from netwarden.entrypoints import wiring

if TYPE_CHECKING:
    from netwarden.adapters.kube_client import KubeConnection
    from netwarden.adapters.kube_watch import ClusterWatch, KubeChange
    from netwarden.app.watch import Change, Watcher

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class WatchOptions:
    """``quiet``/``longest``: the coalescing of bursts (``app.watch.Coalescer``); ``timeout``: how long
    one watch request streams before it is resumed."""

    quiet: float = 0.5
    longest: float = 5.0
    timeout: int = 300


@dataclass(slots=True)
class WatchRuntime:
    settings: Settings
    baseline: Snapshot
    watcher: Watcher
    clusters: list[ClusterWatch]

    @property
    def ready(self) -> bool:
        """Serving: the baseline is loaded (it is, once built) and every watch was tried once. A cluster
        that cannot be reached does not make the watcher unready: the events of the VPC still need it."""
        return all(c.started for c in self.clusters)

    @property
    def watching(self) -> bool:
        return all(c.watching for c in self.clusters)

    def status(self) -> dict[str, Any]:
        """The watches of each cluster, and the worker's count of re-checks done and targets pending."""
        return {"watching": self.watching, "clusters": {c.name: c.status() for c in self.clusters},
                "rechecks": self.watcher.rechecks, "pending": self.watcher.pending()}


def build(settings: Settings, options: WatchOptions = WatchOptions()) -> WatchRuntime:
    """Everything the watcher runs, not started; a ConfigError or a baseline error when it cannot be."""
    from netwarden.adapters.kube_client import connect
    from netwarden.adapters.kube_watch import ClusterWatch
    from netwarden.app import watch as app

    baseline = wiring.load_baseline(settings.baseline, settings)
    store = wiring.state_store(settings)
    notifiers = wiring.notifiers(settings)
    scan_options = wiring.scan_options(settings)
    connections = {c.name: connect(c) for c in settings.clusters}
    by_name = {c.name: c for c in settings.clusters}

    def recheck(target: str, changes: Sequence[Change]) -> None:
        if target.startswith("k8s/"):
            name = target[len("k8s/"):]
            app.recheck_cluster(name, baseline, lambda: _read_cluster(by_name[name], connections[name]), store=store,
                                notifiers=notifiers, options=scan_options)
            return
        from netwarden.app import event

        event.handle(changes[-1].event, wiring.event_services(settings, baseline), source="the watcher's event")

    watcher = app.Watcher(recheck, quiet=options.quiet, longest=options.longest)

    def on_change(change: KubeChange) -> None:
        watcher.changed(app.Change(f"k8s/{change.cluster}", change.what))

    clusters = [ClusterWatch(connections[c.name], on_change, managed=c.namespaces, timeout=options.timeout)
                for c in settings.clusters]
    return WatchRuntime(settings, baseline, watcher, clusters)


def _read_cluster(cluster: ClusterSettings, conn: KubeConnection) -> Snapshot:
    """A snapshot of one cluster alone, over its open connection."""
    from netwarden.adapters.kube import KubeClusterReader
    from netwarden.app import snapshot

    reader = KubeClusterReader([cluster], connector=lambda _: conn)
    return snapshot.take(None, reader, taken_at=wiring.now_rfc3339())


def event_target(settings: Settings, data: object) -> tuple[str | None, str]:
    """Where an Activity Tracker event (decoded JSON) points: ``(target, summary)``, or ``(None,
    why it is only acknowledged)``. Raises EventFormatError for what is not an event."""
    from netwarden.core import activity_tracker

    parsed = activity_tracker.parse(data, source="the posted event")
    if parsed.check is None:
        return None, parsed.ignored or "not a change netwarden watches"
    if settings.ibmcloud is None:
        return None, "no ibmcloud scope is configured"
    return f"vpc/{parsed.region}/{parsed.check}/{parsed.resource_id}", parsed.summary


def with_baseline(settings: Settings, baseline: str | None) -> Settings:
    from pathlib import Path

    return settings if baseline is None else replace(settings, baseline=Path(baseline))
