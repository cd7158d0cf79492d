"""The CLI's commands, one function each: arguments and Settings in, one use-case call through
``wiring``, the report or result written, an exit code (``exits``) out.

Kept apart from ``cli`` (the argument parser and its last-resort error handling) so each stays short.
"""

from __future__ import annotations

import argparse
from dataclasses import replace
from pathlib import Path

from netwarden.config import Settings
from netwarden.core.errors import ConfigError, Location, NetwardenError
from netwarden.entrypoints import exits, terminal, wiring
from netwarden.entrypoints.exits import EXIT_DRIFT, EXIT_ERROR, EXIT_INCOMPLETE, EXIT_OK


def settings_from(args: argparse.Namespace) -> Settings:
    settings = Settings.load(getattr(args, "config", None))
    if getattr(args, "baseline", None):
        settings = replace(settings, baseline=Path(args.baseline))
    return settings


def snapshot(args: argparse.Namespace) -> int:
    from netwarden.core import snapshot_format

    settings = settings_from(args)
    with terminal.progress("reading the live state"):
        snap = wiring.live_snapshot(settings)
    write_output(snapshot_format.dumps(snap), args.out,
                 what=f"the snapshot ({len(snap.vpcs)} VPC(s), {len(snap.clusters)} cluster(s), "
                      f"{len(snap.unreadable)} unreadable)")
    return EXIT_INCOMPLETE if snap.unreadable else EXIT_OK


def check(args: argparse.Namespace) -> int:
    """Baseline vs live (or ``--snapshot FILE``); a snapshot file may also serve as ``--baseline``. The
    formats that point at baseline lines (``wiring_report.LOCATED_FORMATS``) read them first."""
    from netwarden.core.report.render import render
    from netwarden.entrypoints import wiring_report

    settings = settings_from(args)
    with terminal.progress("reading the live state" if not args.snapshot else "checking"):
        report, baseline, live = wiring.check_states(settings, Path(args.snapshot) if args.snapshot else None)
    if args.format in wiring_report.LOCATED_FORMATS:
        report = wiring_report.with_locations(report, settings.baseline)
    if not args.snapshot:
        report = wiring_report.with_initiators(report, settings)
    if args.format == "text" and args.out is None:
        from netwarden.core.report.text import render_text

        text = render_text(report, width=terminal.width(), color=terminal.color(args.no_color))
    elif args.format == "html":
        from netwarden.core.report.html import render_html

        text = render_html(report, baseline, live, baseline_dir=wiring.repo_path(settings.baseline))
    else:
        text = render(report, args.format, baseline_dir=wiring.repo_path(settings.baseline))
    write_output(text, args.out, what=f"the {args.format} report ({report.status}, {len(report.findings)} finding(s))")
    return exits.of_check(report.status)


def remediate(args: argparse.Namespace) -> int:
    """Plan (and with ``--apply``: execute, re-snapshot, verify) the way back to the baseline.
    Exit 0 in sync after, 2 drift remains or plan only, 3 incomplete (nothing changed), 1 error."""
    import sys

    from netwarden.app.remediate_report import render
    from netwarden.core.findings import CODES

    settings = settings_from(args)
    unknown = sorted(set(args.only or ()) - set(CODES))
    if unknown:
        raise ConfigError(f"--only: unknown finding code(s) {', '.join(unknown)} (known: {', '.join(CODES)})")
    max_changes = settings.remediation.max_changes if args.max_changes is None else args.max_changes
    if max_changes < 0:
        raise ConfigError("--max-changes: expected a whole number >= 0")
    if args.out or args.apply_plan or args.approve:
        return reviewed_plan(args, settings, max_changes)
    with terminal.progress("planning" if not args.apply else "remediating"):
        result = wiring.remediate(settings, codes=args.only, apply=args.apply, initiator="cli",
                                  max_changes=max_changes, allow_destructive=args.allow_destructive)
    write_output(render(result, args.format), None)
    if result.status in ("refused", "failed"):
        print(f"netwarden: error: remediation {result.status}: {result.reason}", file=sys.stderr)
    return exits.of_remediation(result)


def reviewed_plan(args: argparse.Namespace, settings: Settings, max_changes: int) -> int:
    """``remediate --out FILE``: a dry run, its plan saved for review; ``--apply-plan FILE`` and ``--approve
    ID``: a saved or stored plan applied as it is, while the live state is what it was made from."""
    import sys

    from netwarden.app.remediate_report import render
    from netwarden.entrypoints import wiring_plans

    if (args.apply_plan or args.approve) and args.only:
        raise ConfigError("--only: a saved plan is applied as it is (choose the codes when making it)")
    allow = args.allow_destructive
    if args.out:
        with terminal.progress("planning"):
            result, doc = wiring_plans.make(settings, codes=args.only, initiator="cli", max_changes=max_changes,
                                            allow_destructive=allow)
        write_output(render(result, args.format), None)
        if doc is not None:
            write_output(doc.dumps(), args.out, what=f"plan {doc.id} ({len(doc.steps)} step(s))")
            print(f"netwarden: review it, then apply it with: netwarden remediate --apply-plan {args.out}",
                  file=sys.stderr)
        else:
            print(f"netwarden: no plan to save ({result.status}): nothing was written to {args.out}", file=sys.stderr)
    else:
        with terminal.progress("remediating"):
            if args.apply_plan:
                result = wiring_plans.apply_file(settings, Path(args.apply_plan), initiator="cli",
                                                 max_changes=max_changes, allow_destructive=allow)
            else:
                result = wiring_plans.approve(settings, args.approve, initiator="cli", approved_by="cli",
                                              max_changes=max_changes, allow_destructive=allow, source="--approve")
        write_output(render(result, args.format), None)
    if result.status in ("refused", "failed"):
        print(f"netwarden: error: remediation {result.status}: {result.reason}", file=sys.stderr)
    return exits.of_remediation(result)


def scan(args: argparse.Namespace) -> int:
    """The scheduled job: snapshot, check, remediate per ``remediation.mode``, alert, persist. Exit 0 when
    the scan ran, drift or not; an alert that could not be delivered (it stays pending for the next run)
    or a failed remediation ends it with one line and exit 1, after the state is saved."""
    from netwarden.entrypoints import logs

    logs.configure()
    return exits.of_scan(wiring.scan(settings_from(args)))


def event(args: argparse.Namespace) -> int:
    """One Activity Tracker event (``--payload FILE``, ``--payload -`` for stdin, else ``$CE_DATA``) ->
    targeted check of the resource it names -> lifecycle and alerts, as ``scan``."""
    import os
    import sys

    from netwarden.core.errors import EventFormatError
    from netwarden.entrypoints import logs

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
    return exits.of_scan(wiring.event(settings, text, source=source))


def job(args: argparse.Namespace) -> int:
    """The Code Engine job: dispatch on ``CE_TYPE`` (cron -> scan, Kafka -> event), shard by ``JOB_INDEX``
    / ``JOB_ARRAY_SIZE`` (``entrypoints.job``, which reads the environment)."""
    import os

    from netwarden.entrypoints import job as job_entry
    from netwarden.entrypoints import logs

    logs.configure()
    return job_entry.run(settings_from(args), os.environ)


def watch(args: argparse.Namespace) -> int:
    """The resident watcher until SIGTERM (``entrypoints.watch``)."""
    from netwarden.entrypoints import watch as watch_entry
    from netwarden.entrypoints.wiring_watch import WatchOptions

    if args.coalesce <= 0 or args.coalesce > 60:
        raise ConfigError(f"{args.coalesce} is not between 0 and 60 seconds", location=Location("--coalesce"))
    if not 1 <= args.watch_timeout <= 3600:
        raise ConfigError(f"{args.watch_timeout} is not between 1 and 3600 seconds",
                          location=Location("--watch-timeout"))
    options = WatchOptions(quiet=args.coalesce, longest=max(5.0, 10 * args.coalesce), timeout=args.watch_timeout)
    return watch_entry.main(args.config, args.baseline, args.listen, options, args.port_file)


def baseline_capture(args: argparse.Namespace) -> int:
    """Live state -> baseline files in ``--out`` (or the config's baseline). An incomplete snapshot
    writes nothing: a scope that could not be read must not become an empty baseline. Over a baseline
    that differs from the live state it lists what it would add (A), rewrite (M) and remove (D) and
    writes nothing unless ``--force``: that baseline is what the estate should be, its drift is not."""
    import sys

    from netwarden.core.workloads import as_baseline

    settings = settings_from(args)
    out = Path(args.out) if args.out else settings.baseline
    with terminal.progress("reading the live state"):
        snap = as_baseline(wiring.live_snapshot(settings))
    if snap.unreadable:
        for u in snap.unreadable:
            print(f"netwarden: unreadable: {u.scope}: {u.reason}", file=sys.stderr)
        print(f"netwarden: the snapshot is incomplete; nothing was written to {out}", file=sys.stderr)
        return EXIT_INCOMPLETE
    pending = wiring.baseline_changes(snap, out)
    if pending.existing and pending.empty:
        write_output(f"{out} already holds the live state: nothing to do", None)
        return EXIT_OK
    counts = f"{len(pending.added)} to add, {len(pending.changed)} to change, {len(pending.removed)} to remove"
    if pending.existing and not args.force:
        write_output("\n".join(pending.lines()), None)
        print(f"netwarden: error: {out}: the live state differs from this baseline ({counts}); nothing was "
              "written: review the drift (netwarden check), then capture again with --force to overwrite it",
              file=sys.stderr)
        return EXIT_ERROR
    files = wiring.write_baseline(snap, out)
    write_output(f"captured {len(snap.vpcs)} VPC(s) and {len(snap.clusters)} cluster(s) into {out} "
                 f"({len(files)} files: {len(pending.added)} added, {len(pending.changed)} changed, "
                 f"{len(pending.removed)} removed); review with git diff before committing", None)
    return EXIT_OK


def baseline_accept(args: argparse.Namespace) -> int:
    """The live form of the chosen findings' resources into the baseline files (``entrypoints.wiring_accept``):
    0 written, 1 nothing written (nothing chosen, a finding named by fingerprint refused, an error)."""
    import json
    import sys

    from netwarden.core import accept as core_accept
    from netwarden.entrypoints import wiring_accept

    selection = core_accept.Selection(tuple(args.fingerprints), tuple(args.code), tuple(args.resource),
                                      args.everything)
    with terminal.progress("reading the live state"):
        outcome = wiring_accept.accept(settings_from(args), selection)
    for u in outcome.unreadable:
        print(f"netwarden: unreadable: {u.scope}: {u.reason}", file=sys.stderr)
    written = outcome.written
    if args.format == "json":
        data = {"baseline": outcome.baseline.as_posix(), "status": "written" if written else "refused",
                **core_accept.to_dict(outcome.acceptance), "blocked": outcome.blocked,
                "files": written.lines() if written else [], "rewritten": list(written.rewritten) if written else []}
        write_output(json.dumps(data, indent=2), None)
    else:
        lines = [f"accepted {a.finding.code} {a.finding.resource.path} into {outcome.file(a)}"
                 + (f" ({a.note})" if a.note else "") for a in outcome.acceptance.accepted if written]
        lines += [f"refused {r.finding.code} {r.finding.resource.path}: {r.reason}" for r in outcome.acceptance.refused]
        if written:
            lines += [*written.lines(), *(f"  {rel}: written whole (its own text could not take the change line by "
                                          "line)" for rel in written.rewritten)]
            lines.append(f"{len(written.lines())} file(s) changed in {outcome.baseline}; review with git diff and "
                         "commit")
        else:
            lines.append(f"nothing was written: {outcome.blocked}")
        write_output("\n".join(lines), None)
    return EXIT_OK if written else EXIT_ERROR


def baseline_lint(args: argparse.Namespace) -> int:
    """Schema and recipe checks: 0 clean, 2 findings (``file:line: rule: why``), 1 unreadable baseline, with
    the first problem of every file that has one (``file:line: field: why``, or JSON with ``--format json``)."""
    import json
    import sys

    from netwarden.core.errors import BaselineError

    directory = Path(args.dir) if args.dir else settings_from(args).baseline
    try:
        findings = wiring.lint_baseline(directory)
    except BaselineError as first:
        errors = _every_file_error(directory, first)
        if args.format == "json":
            data = {"baseline": directory.as_posix(), "status": "error", "findings": [], "errors": [
                {"file": e.location.file if e.location else directory.as_posix(),
                 "line": e.location.line if e.location else None,
                 "field": e.location.field if e.location else None, "message": e.message} for e in errors]}
            write_output(json.dumps(data, indent=2), None)
        else:
            for e in errors:
                print(f"netwarden: error: {e}", file=sys.stderr)
        return EXIT_ERROR
    not_judged = None
    if getattr(args, "config", None):  # the config's suppressions too: expired, expiring, matching nothing
        from netwarden.entrypoints.wiring_lint import config_hygiene

        hygiene = config_hygiene(settings_from(args))
        findings, not_judged = [*findings, *hygiene.findings], hygiene.not_judged
    if args.format == "json":
        data = {"baseline": directory.as_posix(), "status": "findings" if findings else "clean",
                "findings": [{"file": f.file, "line": f.line, "rule": f.rule, "message": f.message,
                              "resource": f.resource} for f in findings]}
        if not_judged:
            data["suppressions_not_matched"] = not_judged
        write_output(json.dumps(data, indent=2), None)
    else:
        lines = [str(f) for f in findings]
        if not_judged:
            lines.append(f"whether each suppression matches a finding was not checked: {not_judged}")
        lines.append(f"{len(findings)} finding(s) in {directory}" if findings else f"{directory}: no findings")
        write_output("\n".join(lines), None)
    return EXIT_DRIFT if findings else EXIT_OK


def _every_file_error(directory: Path, first: NetwardenError) -> list[NetwardenError]:
    """``first`` (what stopped reading) and the first problem of every other file that has one."""
    try:
        errors = wiring.baseline_file_errors(directory) if directory.is_dir() else []
    except NetwardenError:
        errors = []
    return errors if str(first) in {str(e) for e in errors} else [first, *errors]


def explain(args: argparse.Namespace) -> int:
    """One flow, layer by layer, for the baseline and (unless ``--baseline-only``) the live state."""
    import json

    from netwarden.core.reach import ask
    from netwarden.core.reach import explain as core

    core.check_flow(args.protocol, args.port)
    settings = settings_from(args)
    states = [("baseline", wiring.load_baseline(settings.baseline, settings))]
    if not args.baseline_only:
        with terminal.progress("reading the live state"):
            states.append(("live", wiring.read_snapshot(Path(args.snapshot)) if args.snapshot
                           else wiring.live_snapshot(settings)))
    question, answers = ask.ask(states, args.source, args.destination, args.protocol, args.port)
    if args.format == "json":
        write_output(json.dumps({"question": question.text(), "answers": {
            state: a if isinstance(a, str) else a.to_dict() for state, a in answers}}, indent=2), None)
    else:
        write_output(core.text(question, answers, width=terminal.width()), None)
    return EXIT_OK


def history(args: argparse.Namespace) -> int:
    """The run history of the state store: runs, findings opened and resolved, who changed what."""
    from netwarden import config_values
    from netwarden.entrypoints import wiring_history

    since = config_values.duration(args.since, Location("--since")) if args.since else None
    text, runs = wiring_history.history(settings_from(args), since_s=since, fmt=args.format,
                                        width=terminal.width() if args.out is None else 80)
    write_output(text, args.out, what=f"the {args.format} history ({runs} run(s))")
    return EXIT_OK


def write_output(text: str, out: str | None, *, what: str = "the output") -> None:
    """Write ``text`` to ``out`` (atomically), saying on stderr what was written where; or to stdout."""
    import sys

    if out is None:
        sys.stdout.write(text if text.endswith("\n") else text + "\n")
        return
    from netwarden.adapters.files import write_atomic

    data = text.encode("utf-8")
    write_atomic(Path(out), data)
    print(f"netwarden: wrote {what} to {out} ({len(data):,} bytes)", file=sys.stderr)
