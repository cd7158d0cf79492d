"""The serverless runtime's wiring: what the Code Engine job and function run, on top of the use-cases.

``job`` and ``function`` parse what Code Engine hands them; this module turns it into use-case calls,
built the way the CLI builds them (``wiring``):

* ``scan(settings, scope)``: a full scan of one shard, against the part of the baseline in its scope;
* ``event(settings, data)``: one Activity Tracker event -> ``app.event.check`` (at most 3 VPC calls) ->
  the same lifecycle, alerts and ``remediation.mode`` a scan's findings take, limited to that resource;
* ``remediation(settings, apply=..., only=...)``: the function's plan or remediation, as JSON data.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Mapping
from typing import Any

from netwarden.app.event import EventOutcome
from netwarden.config import Settings
from netwarden.core import activity_tracker as at_event
from netwarden.core.model import Snapshot
from netwarden.core.shard import Scope, restrict
from netwarden.entrypoints import wiring

log = logging.getLogger(__name__)

EXIT_OK = 0


def baseline_for(settings: Settings, scope: Scope | None = None) -> Snapshot:
    """The deployment's baseline (a directory or a snapshot file), cut to ``scope`` when given."""
    baseline = wiring.load_baseline(settings.baseline)
    return restrict(baseline, scope) if scope is not None else baseline


def scan(settings: Settings, scope: Scope) -> int:
    """One (shard of a) scheduled scan."""
    from netwarden.entrypoints import commands

    return commands.run_scan(settings, baseline_for(settings, scope))


def event(settings: Settings, data: Any, *, source: str = "event") -> int:
    """One Activity Tracker event: parse, targeted check, then lifecycle and alerts (or remediation)."""
    from netwarden.app import event as event_app
    from netwarden.entrypoints import commands

    parsed = at_event.parse(data)
    log.info("event %s (%s)", parsed.summary, parsed.event_id or "no id", extra={"source": source})
    if parsed.check is None:
        log.info("event acknowledged: %s", parsed.ignored)
        return EXIT_OK
    if settings.ibmcloud is None:
        log.info("event acknowledged: no ibmcloud scope is configured")
        return EXIT_OK
    from netwarden.adapters.ibm_vpc import IbmVpcReader

    reader = IbmVpcReader.from_settings(settings.ibmcloud)
    scope = event_app.Scope(regions=settings.ibmcloud.regions, vpcs=settings.ibmcloud.vpcs)
    baseline = baseline_for(settings)
    outcome = event_app.check(parsed, baseline, reader, scope)
    if not outcome.acted:
        return EXIT_OK
    wanted = frozenset(f.code for f in outcome.findings) & frozenset(settings.remediation.auto)
    if settings.remediation.mode != "auto" or not wanted:
        return commands.record_event(settings, outcome)
    return _record_remediated_event(settings, baseline, outcome, wanted)


def _record_remediated_event(settings: Settings, baseline: Snapshot, outcome: EventOutcome,
                             codes: frozenset[str]) -> int:
    """``remediation.mode: auto``: the event's findings go through the scan's lifecycle and alerts with
    a remediation of the codes ``remediation.auto`` lists. Planning needs the live ids of what the baseline
    names (the ACL a subnet should have), so the remediation reads the event's whole VPC, and only it."""
    from dataclasses import replace

    from netwarden.app import remediate
    from netwarden.app import scan as scan_app
    from netwarden.entrypoints import commands

    assert settings.ibmcloud is not None and outcome.vpc is not None and outcome.scope is not None
    region = outcome.scope.split("/", 1)[0]
    vpc_settings = replace(settings, clusters=(),
                           ibmcloud=replace(settings.ibmcloud, regions=(region,), vpcs=(outcome.vpc,)))
    vpc_baseline = restrict(baseline, Scope(regions=(region,), vpcs=(outcome.vpc,), clusters=()))
    store = wiring.state_store(settings)
    now = scan_app.utc_now()
    run_id = f"event-{scan_app.new_run_id(now)}"

    def remediator() -> scan_app.RemediationOutcome:
        request, writers = wiring.remediation(vpc_settings, codes=codes, dry_run=False, initiator="event")
        result = remediate.run(vpc_baseline, lambda: wiring.live_snapshot(vpc_settings), writers, request,
                               state=store, run_id=run_id, clock=wiring.now_rfc3339)
        log.info("event remediation %s: %s", result.status, result.reason or f"{len(result.applied)} step(s)")
        return scan_app.outcome_of(result)

    result = scan_app.record(outcome.findings, store=store, notifiers=wiring.notifiers(settings),
                             options=commands._scan_options(settings), run_id=run_id, started=now,
                             status="drift", resolve=False, kind="event", remediate=remediator)
    return commands._scan_exit(result)


def remediation(settings: Settings, *, apply: bool, only: tuple[str, ...] | None) -> dict[str, Any]:
    """The function's work: plan (``apply=False``) or remediate, with the config's safeguards."""
    from netwarden.app import remediate

    baseline = baseline_for(settings)
    request, writers = wiring.remediation(settings, codes=only, dry_run=not apply, initiator="function")
    result = remediate.run(baseline, lambda: wiring.live_snapshot(settings), writers, request,
                           state=wiring.state_store(settings) if apply else None,
                           run_id=f"function-{uuid.uuid4().hex[:12]}", clock=wiring.now_rfc3339)
    body: Mapping[str, Any] = result.to_dict()
    return dict(body)
