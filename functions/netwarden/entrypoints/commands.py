"""One function per CLI command: Settings in, one use-case, exit code out.

Kept apart from ``cli`` (the argument parser) so the job and function entrypoints can call the same
commands without parsing a command line.
"""

from __future__ import annotations

import argparse
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING

from netwarden.config import Settings
from netwarden.entrypoints import wiring
from netwarden.entrypoints.cli import EXIT_DRIFT, EXIT_ERROR, EXIT_INCOMPLETE, EXIT_OK, write_output

if TYPE_CHECKING:
    from netwarden.app.event import EventOutcome
    from netwarden.app.scan import RemediationOutcome, Remediator, ScanOptions, ScanResult
    from netwarden.core.model import Snapshot
    from netwarden.core.ports import StateStore
    from netwarden.core.report.model import CheckReport


def settings_from(args: argparse.Namespace) -> Settings:
    settings = Settings.load(getattr(args, "config", None))
    if getattr(args, "baseline", None):
        settings = replace(settings, baseline=Path(args.baseline))
    return settings


def snapshot(args: argparse.Namespace) -> int:
    from netwarden.core import snapshot_format as snapshot_io

    snap = wiring.live_snapshot(settings_from(args))
    write_output(snapshot_io.dumps(snap), args.out)
    return EXIT_INCOMPLETE if snap.unreadable else EXIT_OK


def check(args: argparse.Namespace) -> int:
    """Baseline vs live (or ``--snapshot FILE``); a snapshot file may also serve as ``--baseline``."""
    from netwarden.app import check as check_app
    from netwarden.core.report.render import render

    settings = settings_from(args)
    base = settings.baseline
    baseline = wiring.load_baseline(base)
    live = wiring.read_snapshot(Path(args.snapshot)) if args.snapshot else wiring.live_snapshot(settings)
    report = check_app.run(baseline, live, suppressions=settings.suppressions, generated_at=wiring.now_rfc3339())
    write_output(render(report, args.format, baseline_dir=wiring.repo_path(base)), args.out)
    return {"in_sync": EXIT_OK, "drift": EXIT_DRIFT}.get(report.status, EXIT_INCOMPLETE)


def remediate(args: argparse.Namespace) -> int:
    """Plan (and with ``--apply``: execute, re-snapshot, verify) the way back to the baseline.
    Exit 0 in sync after, 2 drift remains or plan only, 3 incomplete (nothing changed), 1 error."""
    import sys
    import uuid

    from netwarden.app import remediate as app
    from netwarden.app.remediate_report import render
    from netwarden.app.snapshot import take
    from netwarden.core.errors import ConfigError
    from netwarden.core.findings import CODES

    settings = settings_from(args)
    unknown = sorted(set(args.only or ()) - set(CODES))
    if unknown:
        raise ConfigError(f"--only: unknown finding code(s) {', '.join(unknown)} (known: {', '.join(CODES)})")
    max_changes = settings.remediation.max_changes if args.max_changes is None else args.max_changes
    if max_changes < 0:
        raise ConfigError("--max-changes: expected a whole number >= 0")
    baseline = wiring.load_baseline(settings.baseline)
    request, writers = wiring.remediation(settings, codes=args.only, dry_run=not args.apply, initiator="cli",
                                          max_changes=max_changes)
    vpc_reader, kube_reader = wiring.vpc_reader(settings), wiring.kube_reader(settings)  # one each, for every read
    result = app.run(baseline, lambda: take(vpc_reader, kube_reader, taken_at=wiring.now_rfc3339()), writers, request,
                     state=wiring.state_store(settings) if args.apply else None,
                     run_id=f"cli-{uuid.uuid4().hex[:12]}", clock=wiring.now_rfc3339)
    write_output(render(result, args.format), None)
    if result.status in ("refused", "failed"):
        print(f"netwarden: error: remediation {result.status}: {result.reason}", file=sys.stderr)
        return EXIT_ERROR
    if result.status == "incomplete":
        return EXIT_INCOMPLETE
    in_sync = result.status == "in_sync" or (result.status == "nothing-to-do" and not result.plan.drift_left)
    return EXIT_OK if in_sync else EXIT_DRIFT


def scan(args: argparse.Namespace) -> int:
    """The scheduled job: snapshot, check, remediate per ``remediation.mode``, alert, persist."""
    from netwarden.entrypoints import logs

    logs.configure()
    settings = settings_from(args)
    return run_scan(settings, wiring.load_baseline(settings.baseline))


def run_scan(settings: Settings, baseline: Snapshot) -> int:
    """One scan of ``settings``' scope against ``baseline`` (the job passes a shard's part of it). Exit 0
    when the scan ran, drift or not; an alert that could not be delivered (it stays pending for the next
    run) or a failed remediation ends it with one line and exit 1, after the state is saved."""
    from netwarden.app import scan as scan_app

    store = wiring.state_store(settings)
    notifiers = wiring.notifiers(settings)
    remediator = _auto_remediator(settings, baseline, store) if settings.remediation.mode == "auto" else None
    result = scan_app.run(baseline, lambda: wiring.live_snapshot(settings), store=store, notifiers=notifiers,
                          options=_scan_options(settings), remediator=remediator)
    return _scan_exit(result)


def record_event(settings: Settings, outcome: EventOutcome) -> int:
    """An event's targeted check through the same lifecycle and alerts as a scan; it resolves nothing."""
    from netwarden.app import scan as scan_app

    now = scan_app.utc_now()
    result = scan_app.record(outcome.findings, store=wiring.state_store(settings), notifiers=wiring.notifiers(settings),
                             options=_scan_options(settings), run_id=f"event-{scan_app.new_run_id(now)}", started=now,
                             status="drift" if outcome.findings else "in_sync", resolve=False, kind="event")
    return _scan_exit(result)


def _scan_options(settings: Settings) -> ScanOptions:
    from netwarden.app.scan import ScanOptions

    return ScanOptions(remind_after=settings.notify.remind_after_seconds, suppressions=settings.suppressions,
                       remediation_mode=settings.remediation.mode)


def _scan_exit(result: ScanResult) -> int:
    from netwarden.core.errors import NotifyError, RemediationError

    problems = result.problems()
    if not problems:
        return EXIT_OK
    error = NotifyError if any(not c.delivered for c in result.channels) else RemediationError
    raise error(f"scan {result.run_id}: " + "; ".join(problems))


def _auto_remediator(settings: Settings, baseline: Snapshot, store: StateStore) -> Remediator:
    """``remediation.mode: auto``: remediate the codes in ``remediation.auto``, with the config's safeguards."""

    def remediator(live: Snapshot, report: CheckReport, run_id: str) -> RemediationOutcome:
        from netwarden.app import remediate
        from netwarden.app.scan import outcome_of

        request, writers = wiring.remediation(settings, codes=settings.remediation.auto, dry_run=False,
                                              initiator="scan")
        result = remediate.run(baseline, lambda: wiring.live_snapshot(settings), writers, request, state=store,
                               run_id=run_id, clock=wiring.now_rfc3339, live=live, report=report)
        return outcome_of(result)

    return remediator


def event(args: argparse.Namespace) -> int:
    """One Activity Tracker event (``--payload FILE``, ``--payload -`` for stdin, else ``$CE_DATA``) ->
    targeted check of the resource it names -> lifecycle and alerts, as ``scan``."""
    import os
    import sys

    from netwarden.core.errors import EventFormatError
    from netwarden.entrypoints import job, logs

    logs.configure()
    settings = settings_from(args)
    if args.payload == "-":
        text, source = sys.stdin.read(), "stdin"
    elif args.payload:
        try:
            text, source = Path(args.payload).read_text(encoding="utf-8"), args.payload
        except (OSError, UnicodeDecodeError) as e:
            raise EventFormatError(f"cannot read the event: {getattr(e, 'strerror', None) or e}",
                                   source=args.payload) from e
    else:
        text, source = os.environ.get("CE_DATA", ""), "CE_DATA"
    if not text.strip():
        raise EventFormatError("no event: pass --payload FILE (or -), or set CE_DATA", source=source)
    return job.run_event(settings, text, source=source)


def job(args: argparse.Namespace) -> int:
    """The Code Engine job: dispatch on ``CE_TYPE`` (cron -> scan, Kafka -> event), shard by ``JOB_INDEX``
    / ``JOB_ARRAY_SIZE`` (``entrypoints.job``)."""
    import os

    from netwarden.entrypoints import job as job_entry
    from netwarden.entrypoints import logs

    logs.configure()
    return job_entry.run(settings_from(args), os.environ)


def baseline_capture(args: argparse.Namespace) -> int:
    """Live state -> baseline files in ``--out`` (or the config's baseline). An incomplete snapshot
    writes nothing: a scope that could not be read must not become an empty baseline."""
    import sys

    settings = settings_from(args)
    out = Path(args.out) if args.out else settings.baseline
    snap = wiring.live_snapshot(settings)
    if snap.unreadable:
        for u in snap.unreadable:
            print(f"netwarden: unreadable: {u.scope}: {u.reason}", file=sys.stderr)
        print(f"netwarden: the snapshot is incomplete; nothing was written to {out}", file=sys.stderr)
        return EXIT_INCOMPLETE
    files = wiring.write_baseline(snap, out)
    write_output(f"captured {len(snap.vpcs)} VPC(s) and {len(snap.clusters)} cluster(s) into {out} "
                 f"({len(files)} files); review with git diff before committing", None)
    return EXIT_OK


def baseline_lint(args: argparse.Namespace) -> int:
    """Schema and recipe checks: 0 clean, 2 findings (``file:line: rule: why``), 1 unreadable baseline."""
    import json

    directory = Path(args.dir) if args.dir else settings_from(args).baseline
    findings = wiring.lint_baseline(directory)
    if args.format == "json":
        data = {"baseline": directory.as_posix(), "status": "findings" if findings else "clean",
                "findings": [{"file": f.file, "line": f.line, "rule": f.rule, "message": f.message,
                              "resource": f.resource} for f in findings]}
        write_output(json.dumps(data, indent=2), None)
    else:
        lines = [str(f) for f in findings]
        lines.append(f"{len(findings)} finding(s) in {directory}" if findings else f"{directory}: no findings")
        write_output("\n".join(lines), None)
    return EXIT_DRIFT if findings else EXIT_OK


def fake_serve(args: argparse.Namespace) -> int:
    """Serve the emulators with a scenario built in them; write a config pointing at them; run until
    SIGINT or SIGTERM."""
    import os
    import signal
    import threading

    from netwarden.adapters import yaml_io
    from netwarden.adapters.files import write_atomic
    from netwarden.core.errors import ConfigError
    from netwarden.fakes import scenarios
    from netwarden.fakes.server import FakeServer

    baseline_dir = Path(getattr(args, "baseline", None) or Settings().with_environment(os.environ).baseline)
    baseline = wiring.read_baseline(baseline_dir) if args.scenario == "recipe" else None
    scenarios.regions(args.scenario, baseline)
    try:
        server = FakeServer(args.host, args.port).start()
    except OSError as e:
        raise ConfigError(f"cannot listen on {args.host}:{args.port}: {e.strerror or e}") from e
    url = f"http://127.0.0.1:{server.port}" if args.host in ("0.0.0.0", "") else server.url
    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())
    try:
        scenarios.build(args.scenario, url, baseline=baseline)
        if args.write_config:
            data = scenarios.config_for(url, args.scenario, baseline, str(baseline_dir.resolve()))
            text = (f"# netwarden fake serve --scenario {args.scenario}: the emulators at {url}\n"
                    f"# export {scenarios.API_KEY_ENV}=fake-apikey\n" + yaml_io.dumps(data))
            write_atomic(Path(args.write_config), text.encode("utf-8"))
        print(f"netwarden fake: serving {url} (scenario {args.scenario})", flush=True)
        while not stop.wait(0.5):
            pass
    finally:
        server.stop()
    return EXIT_OK


def demo(args: argparse.Namespace) -> int:
    """The recipe cluster end to end on the embedded emulators (``entrypoints.demo``)."""
    from netwarden.entrypoints import demo as story

    return story.main(args.workdir, Path(args.baseline) if args.baseline else story.BASELINE)
