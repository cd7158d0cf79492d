"""The Code Engine job: ``netwarden job``, the image's entrypoint. Reads what Code Engine sets, runs one use-case.

Code Engine tells a job run why it started through ``CE_*`` variables (codeengine docs,
subscription-*.md, envvar-autoinject.md):

* ``CE_TYPE=dev.knative.sources.ping``: a cron subscription fired -> a full ``scan``;
* ``CE_TYPE=dev.knative.kafka.event``: a Kafka subscription delivered one message, here one Activity
  Tracker event, in ``CE_DATA`` -> ``event``, the targeted check of the resource it names;
* no ``CE_TYPE``: a run submitted by hand (``ibmcloud ce jobrun submit``) -> a full ``scan``.

An array run (``JOB_ARRAY_SIZE`` > 1, this instance ``JOB_INDEX``) scans one shard of the scope
(``core.shard``): each VPC name (or, without configured VPC names, each region) and each cluster
belongs to exactly one shard. A shard reads only its share, compares it with its part of the
baseline, and keeps its finding state under its own prefix, so shards never overwrite each other.
Event runs are not sharded: instance 0 handles the event, the others acknowledge it.

Exit codes follow ``scan``: 0 when the run ran (drift or not), non-zero only when it failed.
"""

from __future__ import annotations

import json
import logging
import os
import sys
from collections.abc import Mapping
from dataclasses import dataclass, replace
from pathlib import Path

from netwarden.config import Settings
from netwarden.core.errors import ConfigError, EventFormatError, Location, NetwardenError
from netwarden.core.shard import MAX_SHARDS, Scope, Shard

log = logging.getLogger(__name__)

CRON = "dev.knative.sources.ping"
KAFKA = "dev.knative.kafka.event"
EXIT_OK, EXIT_ERROR = 0, 1


@dataclass(frozen=True, slots=True)
class JobRun:
    """One job run as Code Engine described it."""

    kind: str  # "scan" | "event"
    shard: Shard
    data: str | None = None
    event_id: str | None = None
    source: str | None = None
    name: str | None = None

    @property
    def label(self) -> str:
        return f"{self.name or 'job run'} ({self.kind}, shard {self.shard.label})"


def read_environment(environ: Mapping[str, str]) -> JobRun:
    """The run's kind, shard and payload; a ConfigError naming the variable when one is wrong."""
    ce_type = environ.get("CE_TYPE", "").strip()
    if ce_type in ("", CRON):
        kind = "scan"
    elif ce_type == KAFKA:
        kind = "event"
    else:
        raise ConfigError(f"{ce_type!r} is not a trigger netwarden runs on (expected {CRON} or {KAFKA})",
                          location=Location("CE_TYPE"))
    size = _whole(environ, "JOB_ARRAY_SIZE", default=1)
    index = _whole(environ, "JOB_INDEX", default=0)
    if not 1 <= size <= MAX_SHARDS:
        raise ConfigError(f"{size} is not an array size between 1 and {MAX_SHARDS}",
                          location=Location("JOB_ARRAY_SIZE"))
    if index >= size:
        raise ConfigError(f"index {index} is not below JOB_ARRAY_SIZE={size}: re-run a single shard with "
                          "--array-indices N --array-size-var-override SIZE", location=Location("JOB_INDEX"))
    return JobRun(kind=kind, shard=Shard(index, size), data=environ.get("CE_DATA"), event_id=environ.get("CE_ID"),
                  source=environ.get("CE_SOURCE"), name=environ.get("CE_JOBRUN") or environ.get("CE_JOB"))


def _whole(environ: Mapping[str, str], name: str, *, default: int) -> int:
    text = environ.get(name, "").strip()
    if not text:
        return default
    if not text.isdigit():
        raise ConfigError(f"{text!r} is not a whole number", location=Location(name))
    return int(text)


def shard_settings(settings: Settings, shard: Shard) -> tuple[Settings, Scope]:
    """The Settings one shard runs with (its VPC names or regions, its clusters, its state prefix)
    and the Scope its part of the baseline is cut to. An unsharded run keeps everything."""
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
    base, query = settings.state.split("?", 1) if "?" in settings.state else (settings.state, "")
    state = f"{base.rstrip('/')}/shard-{shard.label}" + (f"?{query}" if query else "")
    return replace(settings, ibmcloud=ibm, clusters=clusters, state=state), scope


def owns_nothing(settings: Settings) -> bool:
    return settings.ibmcloud is None and not settings.clusters


def run(settings: Settings, environ: Mapping[str, str]) -> int:
    """Dispatch one job run. ``settings`` are the deployment's, before sharding."""
    job = read_environment(environ)
    log.info("job run started: %s", job.label, extra={"ce_source": job.source, "ce_id": job.event_id})
    if job.kind == "event":
        if job.shard.index != 0:
            log.info("event runs are not sharded: instance %d acknowledges the event and exits", job.shard.index)
            return EXIT_OK
        if not job.data:
            raise EventFormatError("CE_DATA is empty: a Kafka run carries the Activity Tracker event there",
                                   source="CE_DATA")
        return run_event(settings, job.data, source="CE_DATA")
    shard_config, scope = shard_settings(settings, job.shard)
    if job.shard.sharded:
        log.info("shard %s owns %s", job.shard.label, _describe(scope))
        if owns_nothing(shard_config):
            log.info("shard %s owns nothing in scope: done", job.shard.label)
            return EXIT_OK
    return run_scan(shard_config, scope)


def _describe(scope: Scope) -> str:
    parts = []
    if scope.vpcs is not None:
        parts.append(f"VPCs {', '.join(scope.vpcs) or '(none)'}")
    if scope.regions is not None:
        parts.append(f"regions {', '.join(scope.regions) or '(none)'}")
    parts.append(f"clusters {', '.join(scope.clusters or ()) or '(none)'}")
    return "; ".join(parts)


def run_scan(settings: Settings, scope: Scope) -> int:
    """A full scan of ``settings``' scope, against the part of the baseline inside ``scope``."""
    from netwarden.entrypoints import serverless

    return serverless.scan(settings, scope)


def run_event(settings: Settings, text: str, *, source: str) -> int:
    """One Activity Tracker event (JSON text) -> targeted check -> lifecycle and alerts, or remediation."""
    from netwarden.entrypoints import serverless

    try:
        data = json.loads(text)
    except ValueError as e:
        raise EventFormatError(f"not JSON: {e}", source=source) from e
    return serverless.event(settings, data, source=source)


def main(environ: Mapping[str, str] | None = None, *, config: str | Path | None = None,
         baseline: str | Path | None = None) -> int:
    """What ``netwarden job`` does, callable in-process: one clear line on stderr and exit 1 on error."""
    env = os.environ if environ is None else environ
    _configure_logging()
    try:
        settings = Settings.load(config, env)
        if baseline is not None:
            settings = replace(settings, baseline=Path(baseline))
        return run(settings, env)
    except NetwardenError as e:
        log.error("job run failed: %s", e)
        print(f"netwarden: error: {e}", file=sys.stderr)
        return EXIT_ERROR


def _configure_logging() -> None:
    from netwarden.entrypoints import logs

    logs.configure()
