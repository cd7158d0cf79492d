"""The ``netwarden`` command: parse arguments, load Settings, build adapters, run one use-case.

Thin by design: every command is a few lines that hand over to ``app`` through ``wiring``. There is
one ``except NetwardenError`` (one clear line on stderr, exit 1) and, unless ``--debug``, one last
guard that turns an unexpected exception into a single line too; never a traceback for a user error.
Exit codes follow DESIGN.md (``entrypoints.exits``): 0 ok / in sync, 1 error, 2 drift, 3 incomplete.
"""

from __future__ import annotations

import argparse
import importlib.util
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import NoReturn

from netwarden.core.errors import ConfigError, NetwardenError
from netwarden.entrypoints.exits import EXIT_ERROR, EXIT_INTERRUPTED

Command = Callable[[argparse.Namespace], int]


class _Parser(argparse.ArgumentParser):
    """argparse, but a usage error exits 1: its own 2 is netwarden's "drift" (subparsers share the class)."""

    def error(self, message: str) -> NoReturn:
        self.print_usage(sys.stderr)
        self.exit(EXIT_ERROR, f"{self.prog}: error: {message}\n")


def _common(parser: argparse.ArgumentParser, *, baseline: bool = False) -> None:
    parser.add_argument("--config", help="config file (default ./netwarden.yaml or $NETWARDEN_CONFIG)")
    parser.add_argument("--debug", action="store_true", help="show tracebacks")
    if baseline:
        parser.add_argument("--baseline", metavar="DIR", help="baseline directory (overrides the config)")


def build_parser() -> argparse.ArgumentParser:
    from netwarden.entrypoints import cli_commands as c

    parser = _Parser(
        prog="netwarden",
        description="Keep IBM Cloud VPC ACLs, subnet attachments and Kubernetes NetworkPolicies "
        "where the baseline in git puts them.",
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    p = sub.add_parser("snapshot", help="live state -> canonical snapshot JSON")
    _common(p)
    p.add_argument("--out", metavar="FILE", help="write here instead of stdout")
    p.set_defaults(run=c.snapshot)

    p = sub.add_parser("check", help="baseline vs live state (or a snapshot file)")
    _common(p, baseline=True)
    p.add_argument("--snapshot", metavar="FILE", help="check this snapshot file instead of the live state")
    p.add_argument("--format", default="text", choices=["text", "json", "markdown", "sarif", "junit"])
    p.add_argument("--out", metavar="FILE", help="write the report here instead of stdout")
    p.set_defaults(run=c.check)

    p = sub.add_parser("remediate", help="plan (and with --apply, execute and verify) the way back to the baseline")
    _common(p, baseline=True)
    p.add_argument("--apply", action="store_true", help="execute the plan (default: dry run)")
    p.add_argument("--max-changes", type=int, metavar="N", help="refuse a plan of more than N steps")
    p.add_argument("--only", nargs="+", metavar="CODE", help="remediate only these finding codes")
    p.add_argument("--allow-destructive", action="store_true",
                   help="run a plan the blast-radius guards refuse (it empties a namespace or an ACL, takes the IBM "
                        "private ranges from a worker subnet, or deletes more than max_delete_percent)")
    p.add_argument("--format", default="text", choices=["text", "json"])
    p.set_defaults(run=c.remediate)

    p = sub.add_parser("scan", help="the scheduled job: snapshot, check, alert, remediate, persist")
    _common(p, baseline=True)
    p.set_defaults(run=c.scan)

    p = sub.add_parser("event", help="one Activity Tracker event -> targeted check -> alert")
    _common(p, baseline=True)
    p.add_argument("--payload", metavar="FILE", help="the event JSON, or - for stdin (default: $CE_DATA)")
    p.set_defaults(run=c.event)

    p = sub.add_parser("watch", help="the resident watcher: watch the clusters and take Activity Tracker events, "
                       "alert in seconds")
    _common(p, baseline=True)
    p.add_argument("--listen", metavar="HOST:PORT", help="where to serve /events, /remediate, /healthz, /readyz "
                   "(default 0.0.0.0:$PORT, else 8080)")
    p.add_argument("--coalesce", type=float, default=0.5, metavar="SECONDS",
                   help="re-check a cluster once it has been quiet this long (default 0.5)")
    p.add_argument("--watch-timeout", type=int, default=300, metavar="SECONDS",
                   help="how long one watch request streams before it is resumed (default 300)")
    p.add_argument("--port-file", metavar="FILE", help="once listening, write the port here")
    p.set_defaults(run=c.watch)

    p = sub.add_parser("job", help="the Code Engine job command (dispatches on CE_TYPE)")
    _common(p, baseline=True)
    p.set_defaults(run=c.job)

    p = sub.add_parser("explain", help="does one flow reach a subnet or pod (or leave it), layer by layer, and which "
                       "rule decides; for the baseline and the live state")
    _common(p, baseline=True)
    p.add_argument("--from", dest="source", required=True, metavar="SUBNET|POD|CIDR",
                   help="where the flow comes from: a subnet, a pod or workload ([CLUSTER/]NAMESPACE/NAME), a CIDR")
    p.add_argument("--to", dest="destination", required=True, metavar="SUBNET|POD|CIDR", help="where it goes")
    p.add_argument("--protocol", default="tcp", help="tcp, udp, icmp or any (default tcp)")
    p.add_argument("--port", type=int, help="the destination port (tcp, udp; default every port)")
    p.add_argument("--snapshot", metavar="FILE", help="answer for this snapshot file instead of the live state")
    p.add_argument("--baseline-only", action="store_true", help="answer for the baseline only (no live read)")
    p.add_argument("--format", default="text", choices=["text", "json"])
    p.set_defaults(run=c.explain)

    p = sub.add_parser("baseline", help="capture or lint a baseline")
    bsub = p.add_subparsers(dest="baseline_command", required=True, metavar="SUBCOMMAND")
    q = bsub.add_parser("capture", help="live state -> baseline files")
    _common(q)
    q.add_argument("--out", metavar="DIR", help="baseline directory to write (default: the config's)")
    q.add_argument("--force", action="store_true",
                   help="overwrite a baseline that differs from the live state (default: list the changes, exit 1)")
    q.set_defaults(run=c.baseline_capture)
    q = bsub.add_parser("lint", help="schema and recipe checks of a baseline directory")
    _common(q)
    q.add_argument("dir", nargs="?", help="baseline directory (default: the config's)")
    q.add_argument("--format", default="text", choices=["text", "json"])
    q.set_defaults(run=c.baseline_lint)

    p = sub.add_parser("fake", help="run the embedded IBM Cloud and Kubernetes emulators")
    fsub = p.add_subparsers(dest="fake_command", required=True, metavar="SUBCOMMAND")
    q = fsub.add_parser("serve", help="serve the emulators until stopped")
    q.add_argument("--host", default="127.0.0.1")
    q.add_argument("--port", type=int, default=0)
    q.add_argument("--scenario", default="recipe", help="recipe | none | large:N")
    q.add_argument("--write-config", metavar="FILE", help="once listening, write a netwarden.yaml here")
    q.add_argument("--pid-file", metavar="FILE", help="once serving, write the server's PID here")
    q.add_argument("--detach", action="store_true",
                   help="run in the background: return once serving (exit 0) or failed (exit 1)")
    q.add_argument("--ready-timeout", type=float, default=120.0, metavar="SECONDS",
                   help="with --detach: give up (and stop it) if it is not serving by then (default 120)")
    q.add_argument("--debug", action="store_true")
    q.set_defaults(run=fake_serve)

    p = sub.add_parser("demo", help="the recipe cluster end to end on the embedded emulators")
    p.add_argument("--workdir", metavar="DIR", help="write here (default: a temporary directory)")
    p.add_argument("--baseline", metavar="DIR", help="the recipe baseline (default: ./baseline)")
    p.add_argument("--debug", action="store_true")
    p.set_defaults(run=demo)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    debug = bool(getattr(args, "debug", False))
    run: Command = args.run
    try:
        return run(args)
    except NetwardenError as e:
        if debug:
            raise
        print(f"netwarden: error: {e}", file=sys.stderr)
        return EXIT_ERROR
    except KeyboardInterrupt:
        print("netwarden: interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED
    except Exception as e:
        if debug:
            raise
        print(f"netwarden: internal error: {e.__class__.__name__}: {e} (run with --debug for a traceback)",
              file=sys.stderr)
        return EXIT_ERROR


def demo(args: argparse.Namespace) -> int:
    """The recipe cluster end to end on the embedded emulators (``entrypoints.demo``), each step run
    in-process through ``main``."""
    _need_emulators("demo")
    from netwarden.entrypoints import demo as story

    return story.main(args.workdir, Path(args.baseline) if args.baseline else story.BASELINE, run=main)


def fake_serve(args: argparse.Namespace) -> int:
    """The emulators until stopped (``entrypoints.fake_serve``)."""
    _need_emulators("fake serve")
    from netwarden.entrypoints import fake_serve as serve

    return serve.main(args)


def _need_emulators(command: str) -> None:
    """The job image and the function bundle carry no emulators: say so instead of an import error."""
    if importlib.util.find_spec("netwarden.fakes") is None or importlib.util.find_spec(
            "netwarden.entrypoints.demo") is None:
        raise ConfigError(f"netwarden {command}: this installation carries no emulators (the job image and the "
                          "function bundle leave them out); pip install netwarden to run them")


if __name__ == "__main__":
    sys.exit(main())
