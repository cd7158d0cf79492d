"""The composition root: builds the adapters and the use-cases from Settings, so that every entrypoint
(CLI, job, function) runs them wired the same way.

The entrypoints translate their input (argv, ``CE_*`` variables, an HTTP request) into one call here
and its result into an exit code or an answer; the use-cases in ``app`` take their collaborators as
arguments and never see Settings. Each builder imports its adapter (and so its SDK) only when called:
a ``check`` of a snapshot file imports neither ibm_vpc nor kubernetes.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

from netwarden.config import Settings
from netwarden.core.errors import NetwardenError
from netwarden.core.model import Snapshot
from netwarden.core.ports import KubeReader, KubeWriter, Notifier, StateStore, VpcReader, VpcWriter
from netwarden.core.shard import Scope, Shard, coverage, restrict

if TYPE_CHECKING:
    from netwarden.adapters.baseline_changes import BaselineChanges
    from netwarden.app.event import Scope as EventScope
    from netwarden.app.event import TargetedVpcReader
    from netwarden.app.remediate import RemediationResult, Request, Writers
    from netwarden.app.scan import ScanOptions, ScanResult
    from netwarden.core.lint import LintFinding
    from netwarden.core.report.model import CheckReport

log = logging.getLogger(__name__)


def now_rfc3339() -> str:
    return datetime.now(UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z")

# --- use-cases ---------------------------------------------------------------------------------------


def check_states(settings: Settings, snapshot_file: Path | None = None) -> tuple[CheckReport, Snapshot, Snapshot]:
    """Baseline vs the live state (or ``snapshot_file``; the baseline may be a snapshot file too): the
    report, and the baseline and live state it compared (the HTML report draws both)."""
    from netwarden.app import check as check_app

    baseline = load_baseline(settings.baseline, settings)
    live = read_snapshot(snapshot_file) if snapshot_file is not None else live_snapshot(settings)
    return check_app.run(baseline, live, suppressions=settings.suppressions, generated_at=now_rfc3339(),
                         ibm_churn=settings.ibm_churn == "expected"), baseline, live


def remediate(settings: Settings, *, codes: Iterable[str] | None, apply: bool, initiator: str,
              max_changes: int | None = None, allow_destructive: bool = False) -> RemediationResult:
    """Plan (and with ``apply``: execute, re-snapshot, verify) the way back to the baseline, with the
    config's safeguards (``allow_destructive``: the CLI's flag, on top of the config's key); the finding
    state (locks, audit records) is only touched when applying."""
    from netwarden.app import remediate as app
    from netwarden.app.snapshot import take

    baseline = load_baseline(settings.baseline, settings)
    request, writers = remediation(settings, codes=codes, dry_run=not apply, initiator=initiator,
                                   max_changes=max_changes, allow_destructive=allow_destructive)
    vpc, kube = vpc_reader(settings), kube_reader(settings)  # one each, for every read
    return app.run(baseline, lambda: take(vpc, kube, taken_at=now_rfc3339()), writers, request,
                   state=state_store(settings) if apply else None, run_id=f"{initiator}-{uuid.uuid4().hex[:12]}",
                   clock=now_rfc3339)


def scan(settings: Settings, baseline: Snapshot | None = None, options: ScanOptions | None = None) -> ScanResult:
    """One scan of ``settings``' scope against ``baseline`` (default: the config's; a shard passes its
    part of it, and ``options`` saying which shard it is and what it reads), with ``remediation.mode:
    auto`` remediating the codes ``remediation.auto`` lists."""
    from netwarden.app import approval
    from netwarden.app import scan as scan_app

    baseline = load_baseline(settings.baseline, settings) if baseline is None else baseline
    store = state_store(settings)
    alerts = notifiers(settings)
    remediator = None
    if settings.remediation.mode in approval.REMEDIATORS:  # auto: remediate; approve: store a plan, alert its id
        remediator = approval.REMEDIATORS[settings.remediation.mode](
            baseline, lambda: live_snapshot(settings),
            lambda: remediation(settings, codes=settings.remediation.auto, dry_run=False, initiator="scan"),
            state=store, clock=now_rfc3339)
    return scan_app.run(baseline, lambda: live_snapshot(settings), store=store, notifiers=alerts,
                        options=options or scan_options(settings), remediator=remediator)


def scan_shard(settings: Settings, shard: Shard) -> ScanResult | None:
    """One shard of an array job's scan (the whole scope when unsharded); None when it owns nothing."""
    shard_config, scope = shard_settings(settings, shard)
    if not shard.sharded:
        return scan(settings)
    log.info("shard %s owns %s", shard.label, _describe(scope))
    if owns_nothing(shard_config):
        log.info("shard %s owns nothing in scope: done", shard.label)
        return None
    regions = settings.ibmcloud.regions if settings.ibmcloud is not None else ()
    # every shard keeps the one finding state of the deployment, and waits its turn for its lock
    options = replace(scan_options(settings), shard=shard.label, checked=coverage(scope, regions),
                      lock_attempts=max(6, 2 * shard.size), lock_delay=2.0)
    return scan(shard_config, restrict(load_baseline(shard_config.baseline, shard_config), scope), options)


def event(settings: Settings, text: str, *, source: str) -> ScanResult | None:
    """One Activity Tracker event (its JSON text, from ``source``) -> targeted check -> lifecycle and
    alerts, or remediation (``app.event.handle``); None when there was nothing to check."""
    from netwarden.app import event as event_app
    from netwarden.entrypoints import payload

    data = payload.loads(text, source=source)  # bounded in size and depth, plain JSON
    return event_app.handle(data, event_services(settings), source=source)


def event_services(settings: Settings, baseline: Snapshot | None = None) -> _EventServices:
    """What ``app.event.handle`` needs, from Settings; ``baseline``: already loaded (the watcher's)."""
    return _EventServices(settings, baseline)


def scan_options(settings: Settings) -> ScanOptions:
    from netwarden.app.scan import ScanOptions

    return ScanOptions(remind_after=settings.notify.remind_after_seconds, suppressions=settings.suppressions,
                       remediation_mode=settings.remediation.mode, ibm_churn=settings.ibm_churn == "expected",
                       history_retention=settings.history_retention, routes=settings.notify.routes)


@dataclass(frozen=True, slots=True)
class _EventServices:
    """``app.event.EventServices`` built from Settings, each piece only when the use-case asks for it."""

    settings: Settings
    loaded: Snapshot | None = None

    @property
    def scope(self) -> EventScope | None:
        from netwarden.app.event import Scope as EventScope

        ibm = self.settings.ibmcloud
        return None if ibm is None else EventScope(regions=ibm.regions, vpcs=ibm.vpcs)

    @property
    def options(self) -> ScanOptions:
        return scan_options(self.settings)

    @property
    def auto_codes(self) -> frozenset[str]:
        return frozenset(self.settings.remediation.auto)

    def reader(self) -> TargetedVpcReader:
        from netwarden.adapters.ibm_vpc import IbmVpcReader

        assert self.settings.ibmcloud is not None  # handle() asks only when a scope is configured
        return IbmVpcReader.from_settings(self.settings.ibmcloud)

    def baseline(self) -> Snapshot:
        return self.loaded if self.loaded is not None else load_baseline(self.settings.baseline, self.settings)

    def store(self) -> StateStore:
        return state_store(self.settings)

    def notifiers(self) -> Sequence[Notifier]:
        return notifiers(self.settings)

    def clock(self) -> str:
        return now_rfc3339()

    def vpc_remediation(self, region: str, vpc: str, codes: frozenset[str]) -> tuple[
            Callable[[], Snapshot], Writers, Request]:
        settings = self.settings
        assert settings.ibmcloud is not None
        vpc_settings = replace(settings, clusters=(),
                               ibmcloud=replace(settings.ibmcloud, regions=(region,), vpcs=(vpc,)))
        request, writers = remediation(vpc_settings, codes=codes, dry_run=False, initiator="event")
        return (lambda: live_snapshot(vpc_settings)), writers, request


# --- array-job shards --------------------------------------------------------------------------------


def shard_settings(settings: Settings, shard: Shard) -> tuple[Settings, Scope]:
    """The Settings one shard runs with (its VPC names or regions, its clusters; the state is the
    deployment's one state) and the Scope its part of the baseline is cut to. An unsharded run keeps
    everything."""
    if not shard.sharded:
        return settings, Scope()
    scope = Scope(clusters=shard.select(c.name for c in settings.clusters))
    ibm = settings.ibmcloud
    if ibm is not None and ibm.vpcs:
        vpcs = shard.select(ibm.vpcs)
        scope = replace(scope, vpcs=vpcs)
        ibm = replace(ibm, vpcs=vpcs) if vpcs else None
    elif ibm is not None:
        regions = shard.select(ibm.regions)
        scope = replace(scope, regions=regions)
        ibm = replace(ibm, regions=regions) if regions else None
    if ibm is None:
        scope = replace(scope, regions=())
    clusters = tuple(c for c in settings.clusters if c.name in (scope.clusters or ()))
    return replace(settings, ibmcloud=ibm, clusters=clusters), scope


def owns_nothing(settings: Settings) -> bool:
    return settings.ibmcloud is None and not settings.clusters


def _describe(scope: Scope) -> str:
    parts = []
    if scope.vpcs is not None:
        parts.append(f"VPCs {', '.join(scope.vpcs) or '(none)'}")
    if scope.regions is not None:
        parts.append(f"regions {', '.join(scope.regions) or '(none)'}")
    parts.append(f"clusters {', '.join(scope.clusters or ()) or '(none)'}")
    return "; ".join(parts)


# --- adapters ----------------------------------------------------------------------------------------


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


def load_baseline(path: Path, settings: Settings | None = None) -> Snapshot:
    """The baseline at ``path``: a baseline directory, or a snapshot file standing in for one; with
    ``settings``, a directory is read through the compiled-baseline cache they configure."""
    return read_snapshot(path) if path.is_file() else read_baseline(path, baseline_cache_dir(settings))


def baseline_cache_dir(settings: Settings | None) -> Path | None:
    """Where ``settings`` keep the compiled baseline (``baseline_cache``); None: no cache."""
    import os

    from netwarden.adapters.baseline_cache import default_dir

    if settings is None or settings.baseline_cache is False:
        return None
    return settings.baseline_cache if isinstance(settings.baseline_cache, Path) else default_dir(os.environ)


def remediation(settings: Settings, *, codes: Iterable[str] | None, dry_run: bool, initiator: str,
                max_changes: int | None = None, allow_destructive: bool = False) -> tuple[Request, Writers]:
    """A remediation request with the config's safeguards (the blast-radius guards, the baseline's lint),
    and the writers of the config's scope. The writers are built for a dry run too: the safeguards
    refuse a plan no writer could execute."""
    from netwarden.app.remediate import Request, Writers
    from netwarden.core.plan.build import PlanOptions
    from netwarden.core.plan.guards import GuardOptions

    options = PlanOptions(codes=frozenset(codes) if codes else None,
                          restore_namespace_labels=settings.remediation.restore_namespace_labels,
                          ibm_managed_groups=settings.remediation.ibm_managed_groups)
    request = Request(options=options, dry_run=dry_run, suppressions=settings.suppressions, initiator=initiator,
                      max_changes=settings.remediation.max_changes if max_changes is None else max_changes,
                      guard=GuardOptions(allow_destructive=settings.remediation.allow_destructive or allow_destructive,
                                         max_delete_percent=settings.remediation.max_delete_percent),
                      baseline_lint=tuple(baseline_lint(settings.baseline)), ibm_churn=settings.ibm_churn == "expected",
                      plan_expiry_s=settings.remediation.plan_expiry)
    return request, Writers(vpc=vpc_writer(settings), kube=kube_writer(settings))


def read_baseline(path: Path, cache_dir: Path | None = None) -> Snapshot:
    """A baseline directory; with ``cache_dir``, from its compiled form when that matches its files."""
    if cache_dir is None:
        from netwarden.adapters.baseline_fs import read_baseline as read

        return read(path)
    from netwarden.adapters.baseline_cache import read_baseline as read_compiled
    from netwarden.adapters.snapshot_file import loads

    return read_compiled(path, cache_dir, loads)  # the compiled form is a snapshot file: read as one


def lint_baseline(path: Path) -> list[LintFinding]:
    """The recipe checks of ``core.lint`` over the baseline at ``path``, each placed at its file:line."""
    from netwarden.adapters.baseline_fs import read_baseline_with_sources
    from netwarden.core import lint

    snapshot, sources = read_baseline_with_sources(path)
    return lint.place(lint.lint(snapshot), sources)


def baseline_lint(path: Path) -> list[LintFinding]:
    """``lint_baseline`` of a baseline directory (each file named as ``repo_path`` names it), or the
    unplaced findings of a snapshot file standing in for one."""
    if path.is_file():
        from netwarden.core import lint

        return lint.lint(read_snapshot(path))
    return [replace(f, file=repo_path(Path(f.file))) if f.file else f for f in lint_baseline(path)]


def write_baseline(snapshot: Snapshot, path: Path) -> list[Path]:
    from netwarden.adapters.baseline_write import write_baseline as write

    return write(snapshot, path)


def baseline_changes(snapshot: Snapshot, path: Path) -> BaselineChanges:
    """What ``write_baseline(snapshot, path)`` would add, rewrite and remove (``baseline capture`` asks first)."""
    from netwarden.adapters.baseline_changes import changes

    return changes(snapshot, path)


def baseline_file_errors(path: Path) -> list[NetwardenError]:
    """Every baseline file's own first problem, for lint (reading a baseline stops at the first)."""
    from netwarden.adapters.baseline_fs import file_errors

    return list(file_errors(path))


def read_snapshot(path: Path) -> Snapshot:
    """A snapshot file (``core.snapshot_format``), decoded straight into the model
    (``adapters.snapshot_file``); an unreadable or invalid file is a SnapshotFormatError naming it."""
    from netwarden.adapters.snapshot_file import read

    return read(path)


def repo_path(path: Path) -> str:
    """``path`` as a report names it: relative to the working directory when it lies below it."""
    try:
        return path.resolve().relative_to(Path.cwd().resolve()).as_posix() if path.is_absolute() else path.as_posix()
    except ValueError:
        return path.as_posix()
