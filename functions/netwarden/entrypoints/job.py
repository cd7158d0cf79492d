"""The Code Engine job: ``netwarden job``, the image's entrypoint. Reads what Code Engine sets, runs one use-case.

Code Engine tells a job run why it started through ``CE_*`` variables (codeengine docs,
subscription-*.md, envvar-autoinject.md):

* ``CE_TYPE=dev.knative.sources.ping``: a cron subscription fired -> a full ``scan``;
* ``CE_TYPE=dev.knative.kafka.event``: a Kafka subscription delivered one message, here one Activity
  Tracker event, in ``CE_DATA`` -> ``event``, the targeted check of the resource it names;
* no ``CE_TYPE``: a run submitted by hand (``ibmcloud ce jobrun submit``) -> a full ``scan``.

An array run (``JOB_ARRAY_SIZE`` > 1, this instance ``JOB_INDEX``) scans one shard of the scope
(``core.shard``): each VPC name (or, without configured VPC names, each region) and each cluster
belongs to exactly one shard. A shard reads only its share and compares it with its part of the
baseline (``wiring.shard_settings``). Every shard, the event runs and the watcher keep one finding
state, each in turn under its lock: a finding is alerted once whoever sees it first, a shard resolves
only the findings of its own part, and its alerts name the shard and count what is open everywhere.
Event runs are not sharded: instance 0 handles the event, the others acknowledge it. ``CE_DATA`` comes
from a Kafka topic, so ``wiring.event`` reads it through ``payload.loads``: at most 64 KiB, nested at
most 32 deep, plain JSON (no NaN, no repeated key); anything else is one line and exit 1. The
``JOB_*`` numbers are ASCII digits only.

Exit codes follow ``scan``: 0 when the run ran (drift or not), non-zero only when it failed.
"""

from __future__ import annotations

import logging
import os
import sys
from collections.abc import Mapping
from dataclasses import dataclass, replace
from pathlib import Path

from netwarden import config_values
from netwarden.config import Settings
from netwarden.core.errors import ConfigError, EventFormatError, Location, NetwardenError
from netwarden.core.shard import MAX_SHARDS, Shard
from netwarden.entrypoints import exits, wiring
from netwarden.entrypoints.exits import EXIT_ERROR, EXIT_OK

log = logging.getLogger(__name__)

CRON = "dev.knative.sources.ping"
KAFKA = "dev.knative.kafka.event"
#: The largest array index Code Engine gives a job run (limits.md: indices 0-9,999,999).
MAX_JOB_INDEX = 9_999_999


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
    return config_values.whole_text(text, Location(name), high=MAX_JOB_INDEX)


def run(settings: Settings, environ: Mapping[str, str]) -> int:
    """Dispatch one job run. ``settings`` are the deployment's, before sharding."""
    job = read_environment(environ)
    log.info("job run started: %s", job.label, extra={"ce_source": job.source, "ce_id": job.event_id})
    if job.kind == "scan":
        return exits.of_scan(wiring.scan_shard(settings, job.shard))
    if job.shard.index != 0:
        log.info("event runs are not sharded: instance %d acknowledges the event and exits", job.shard.index)
        return EXIT_OK
    if not job.data:
        raise EventFormatError("CE_DATA is empty: a Kafka run carries the Activity Tracker event there",
                               source="CE_DATA")
    return exits.of_scan(wiring.event(settings, job.data, source="CE_DATA"))


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
