"""Builds adapters from Settings, so that every entrypoint (CLI, job, function) wires them the same way.

Each builder imports its adapter (and so its SDK) only when called: a ``check`` of a snapshot file
imports neither ibm_vpc nor kubernetes.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

from netwarden.config import Settings
from netwarden.core.lint import LintFinding
from netwarden.core.model import Snapshot
from netwarden.core.ports import KubeReader, KubeWriter, Notifier, StateStore, VpcReader, VpcWriter

if TYPE_CHECKING:
    from netwarden.app.remediate import Request, Writers


def now_rfc3339() -> str:
    return datetime.now(UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z")


def vpc_reader(settings: Settings) -> VpcReader | None:
    if settings.ibmcloud is None:
        return None
    from netwarden.adapters.ibm_vpc import IbmVpcReader

    return IbmVpcReader.from_settings(settings.ibmcloud)


def vpc_writer(settings: Settings) -> VpcWriter | None:
    if settings.ibmcloud is None:
        return None
    from netwarden.adapters.ibm_vpc_writer import IbmVpcWriter

    return IbmVpcWriter.from_settings(settings.ibmcloud)


def kube_reader(settings: Settings) -> KubeReader | None:
    if not settings.clusters:
        return None
    from netwarden.adapters.kube import KubeClusterReader

    return KubeClusterReader.from_settings(settings.clusters)


def kube_writer(settings: Settings) -> KubeWriter | None:
    if not settings.clusters:
        return None
    from netwarden.adapters.kube import KubeClusterWriter

    return KubeClusterWriter.from_settings(settings.clusters)


def state_store(settings: Settings) -> StateStore:
    """The state store ``settings.state`` names: ``file://DIR`` or ``cos://BUCKET/PREFIX``."""
    import os

    from netwarden.config import DEFAULT_IAM_URL
    from netwarden.core.errors import ConfigError, Location

    url = settings.state
    if url.startswith("file://"):
        from netwarden.adapters.state_file import FileStateStore

        return FileStateStore.from_url(url)
    if url.startswith("cos://"):
        from netwarden.adapters.state_cos import CosStateStore

        ibm = settings.ibmcloud
        return CosStateStore.from_url(url, environ=os.environ, iam_url=ibm.iam_url if ibm else DEFAULT_IAM_URL,
                                      api_key_env=ibm.api_key_env if ibm else "IBMCLOUD_API_KEY")
    raise ConfigError(f"{url!r} is not file://DIRECTORY or cos://BUCKET/PREFIX", location=Location(settings.source,
                                                                                                     field="state"))


def notifiers(settings: Settings) -> list[Notifier]:
    """One notifier per channel under ``notify`` (slack, email, event_notifications, webhook)."""
    import os

    from netwarden.adapters import notifiers as registry
    from netwarden.adapters.delivery import NotifierEnv
    from netwarden.config import DEFAULT_IAM_URL

    ibm = settings.ibmcloud
    env = NotifierEnv(environ=os.environ, source=settings.source, iam_url=ibm.iam_url if ibm else DEFAULT_IAM_URL,
                      api_key_env=ibm.api_key_env if ibm else "IBMCLOUD_API_KEY")
    return registry.build(settings.notify.channels, env)


def live_snapshot(settings: Settings) -> Snapshot:
    from netwarden.app import snapshot

    return snapshot.take(vpc_reader(settings), kube_reader(settings), taken_at=now_rfc3339())


def load_baseline(path: Path) -> Snapshot:
    """The baseline at ``path``: a baseline directory, or a snapshot file standing in for one."""
    return read_snapshot(path) if path.is_file() else read_baseline(path)


def remediation(settings: Settings, *, codes: Iterable[str] | None, dry_run: bool, initiator: str,
                max_changes: int | None = None) -> tuple[Request, Writers]:
    """A remediation request with the config's safeguards, and the writers of the config's scope.
    The writers are built for a dry run too: the safeguards refuse a plan no writer could execute."""
    from netwarden.app.remediate import Request, Writers
    from netwarden.core.plan.build import PlanOptions

    options = PlanOptions(codes=frozenset(codes) if codes else None,
                          restore_namespace_labels=settings.remediation.restore_namespace_labels)
    request = Request(options=options, dry_run=dry_run, suppressions=settings.suppressions, initiator=initiator,
                      max_changes=settings.remediation.max_changes if max_changes is None else max_changes)
    return request, Writers(vpc=vpc_writer(settings), kube=kube_writer(settings))


def read_baseline(path: Path) -> Snapshot:
    from netwarden.adapters.baseline_fs import read_baseline as read

    return read(path)


def lint_baseline(path: Path) -> list[LintFinding]:
    """The recipe checks of ``core.lint`` over the baseline at ``path``, each placed at its file:line."""
    from netwarden.adapters.baseline_fs import read_baseline_with_sources
    from netwarden.core import lint

    snapshot, sources = read_baseline_with_sources(path)
    return lint.place(lint.lint(snapshot), sources)


def write_baseline(snapshot: Snapshot, path: Path) -> list[Path]:
    from netwarden.adapters.baseline_fs import write_baseline as write

    return write(snapshot, path)


def read_snapshot(path: Path) -> Snapshot:
    """A snapshot file (``core.snapshot_format``); an unreadable file is a SnapshotFormatError naming it."""
    from netwarden.core import snapshot_format as snapshot_io
    from netwarden.core.errors import Location, SnapshotFormatError

    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as e:
        reason = e.strerror if isinstance(e, OSError) and e.strerror else str(e)
        raise SnapshotFormatError(f"cannot read the snapshot file: {reason}", location=Location(str(path))) from e
    return snapshot_io.loads(text, source=str(path))


def repo_path(path: Path) -> str:
    """``path`` as a report names it: relative to the working directory when it lies below it."""
    try:
        return path.resolve().relative_to(Path.cwd().resolve()).as_posix() if path.is_absolute() else path.as_posix()
    except ValueError:
        return path.as_posix()
