"""Builds adapters from Settings, so that every entrypoint (CLI, job, function) wires them the same way.

Each builder imports its adapter (and so its SDK) only when called: a ``check`` of a snapshot file
imports neither ibm_vpc nor kubernetes.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from netwarden.config import Settings
from netwarden.core.model import Snapshot
from netwarden.core.ports import KubeReader, VpcReader


def now_rfc3339() -> str:
    return datetime.now(UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z")


def vpc_reader(settings: Settings) -> VpcReader | None:
    if settings.ibmcloud is None:
        return None
    from netwarden.adapters.ibm_vpc import IbmVpcReader

    return IbmVpcReader.from_settings(settings.ibmcloud)


def kube_reader(settings: Settings) -> KubeReader | None:
    if not settings.clusters:
        return None
    from netwarden.adapters.kube import KubeClusterReader

    return KubeClusterReader.from_settings(settings.clusters)


def live_snapshot(settings: Settings) -> Snapshot:
    from netwarden.app import snapshot

    return snapshot.take(vpc_reader(settings), kube_reader(settings), taken_at=now_rfc3339())


def read_baseline(path: Path) -> Snapshot:
    from netwarden.adapters.baseline_fs import read_baseline as read

    return read(path)
