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
from typing import Any, NoReturn

from netwarden.core.errors import ConfigError, NetwardenError
from netwarden.entrypoints import completion
from netwarden.entrypoints.exits import EXIT_ERROR, EXIT_INTERRUPTED, EXIT_OK

Command = Callable[[argparse.Namespace], int]


class _Parser(argparse.ArgumentParser):
    """argparse, but a usage error exits 1: its own 2 is netwarden's "drift" (subparsers share the class)."""

    def error(self, message: str) -> NoReturn:
        self.print_usage(sys.stderr)
        self.exit(EXIT_ERROR, f"{self.prog}: error: {message}\n")


def _globals(parser: argparse.ArgumentParser, *, after: bool) -> None:
    """The options every command takes, before the command or after it (``after``: the copy each
    command's parser gets, which sets nothing unless given, so that one given before it holds)."""
    unset: Any = argparse.SUPPRESS
    parser.add_argument("-c", "--config", metavar="FILE", default=unset if after else None,
                        help="config file (default ./netwarden.yaml or $NETWARDEN_CONFIG)")
    parser.add_argument("--debug", action="store_true", default=unset if after else False, help="show tracebacks")
    parser.add_argument("--no-color", action="store_true", default=unset if after else False,
                        help="no colour, even on a terminal (also: $NO_COLOR)")


def _baseline(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--baseline", metavar="DIR", help="baseline directory (overrides the config)")


def _format(parser: argparse.ArgumentParser, choices: Sequence[str]) -> None:
    parser.add_argument("-o", "--output", "--format", dest="format", default=choices[0], choices=list(choices),
                        help=f"output format (default {choices[0]})")


def version_line() -> str:
    from netwarden import __version__

    return f"netwarden {__version__} (Python {sys.version.split()[0]})"


def build_parser() -> argparse.ArgumentParser:
    from netwarden.entrypoints import cli_commands as c
    from netwarden.entrypoints.cli_help import COMMANDS

    after = _Parser(add_help=False)
    _globals(after, after=True)
    parser = _Parser(
        prog="netwarden",
        description="Keep IBM Cloud VPC ACLs, security groups, subnet attachments and Kubernetes NetworkPolicies "
        "where the baseline in git puts them.",
        epilog="Run 'netwarden help COMMAND' for a command's options, an example and its exit codes.",
    )
    _globals(parser, after=False)
    parser.add_argument("--version", action="version", version=version_line())
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    def command(where: Any, name: str, run: Command, key: str | None = None) -> argparse.ArgumentParser:
        text = COMMANDS[key or name]
        p: argparse.ArgumentParser = where.add_parser(
            name, parents=[after], help=text.summary, description=text.description, epilog=text.epilog(),
            formatter_class=argparse.RawDescriptionHelpFormatter)
        p.set_defaults(run=run)
        return p

    p = command(sub, "snapshot", c.snapshot)
    p.add_argument("--out", metavar="FILE", help="write here instead of stdout")

    p = command(sub, "check", c.check)
    _baseline(p)
    p.add_argument("--snapshot", metavar="FILE", help="check this snapshot file instead of the live state")
    _format(p, ("text", "json", "markdown", "sarif", "junit", "html"))
    p.add_argument("--out", metavar="FILE", help="write the report here instead of stdout")

    p = command(sub, "remediate", c.remediate)
    _baseline(p)
    how = p.add_mutually_exclusive_group()
    how.add_argument("--apply", action="store_true", help="execute the plan (default: dry run)")
    how.add_argument("--out", metavar="FILE", help="dry run: save the plan here, with the live state it was made "
                     "from, for review and --apply-plan")
    how.add_argument("--apply-plan", metavar="FILE", help="apply the plan saved in FILE as it is, unless the live "
                     "state has moved since it was made")
    how.add_argument("--approve", metavar="ID", help="apply the stored plan ID (remediation.mode: approve, the "
                     "function's plan request) as it is, once")
    p.add_argument("--max-changes", type=int, metavar="N", help="refuse a plan of more than N steps")
    p.add_argument("--only", nargs="+", metavar="CODE", help="remediate only these finding codes")
    p.add_argument("--allow-destructive", action="store_true",
                   help="run a plan the blast-radius guards refuse (it empties a namespace or an ACL, takes the IBM "
                        "private ranges from a worker subnet, or deletes more than max_delete_percent)")
    _format(p, ("text", "json"))

    p = command(sub, "scan", c.scan)
    _baseline(p)

    p = command(sub, "event", c.event)
    _baseline(p)
    p.add_argument("--payload", metavar="FILE", help="the event JSON, or - for stdin (default: $CE_DATA)")

    p = command(sub, "watch", c.watch)
    _baseline(p)
    p.add_argument("--listen", metavar="HOST:PORT", help="where to serve /events, /remediate, /healthz, /readyz "
                   "(default 0.0.0.0:$PORT, else 8080)")
    p.add_argument("--coalesce", type=float, default=0.5, metavar="SECONDS",
                   help="re-check a cluster once it has been quiet this long (default 0.5)")
    p.add_argument("--watch-timeout", type=int, default=300, metavar="SECONDS",
                   help="how long one watch request streams before it is resumed (default 300)")
    p.add_argument("--port-file", metavar="FILE", help="once listening, write the port here")

    p = command(sub, "job", c.job)
    _baseline(p)

    p = command(sub, "explain", c.explain)
    _baseline(p)
    p.add_argument("--from", dest="source", required=True, metavar="SUBNET|POD|CIDR",
                   help="where the flow comes from: a subnet, a pod or workload ([CLUSTER/]NAMESPACE/NAME), a CIDR")
    p.add_argument("--to", dest="destination", required=True, metavar="SUBNET|POD|CIDR", help="where it goes")
    p.add_argument("--protocol", default="tcp", help="tcp, udp, icmp or any (default tcp)")
    p.add_argument("--port", type=int, help="the destination port (tcp, udp; default every port)")
    p.add_argument("--snapshot", metavar="FILE", help="answer for this snapshot file instead of the live state")
    p.add_argument("--baseline-only", action="store_true", help="answer for the baseline only (no live read)")
    _format(p, ("text", "json"))

    p = command(sub, "baseline", _needs_subcommand)
    bsub = p.add_subparsers(dest="baseline_command", metavar="SUBCOMMAND")
    q = command(bsub, "capture", c.baseline_capture, "baseline capture")
    q.add_argument("--out", metavar="DIR", help="baseline directory to write (default: the config's)")
    q.add_argument("--force", action="store_true",
                   help="overwrite a baseline that differs from the live state (default: list the changes, exit 1)")
    q = command(bsub, "accept", c.baseline_accept, "baseline accept")
    _baseline(q)
    q.add_argument("fingerprints", nargs="*", metavar="FINGERPRINT",
                   help="findings to accept (check -o json lists them)")
    q.add_argument("--code", action="append", default=[], metavar="CODE", help="accept the findings of this code")
    q.add_argument("--resource", action="append", default=[], metavar="PATTERN",
                   help="accept the findings of this resource path (a trailing * for a prefix)")
    q.add_argument("--all", dest="everything", action="store_true", help="accept every finding no suppression covers")
    _format(q, ("text", "json"))
    q = command(bsub, "lint", c.baseline_lint, "baseline lint")
    q.add_argument("dir", nargs="?", help="baseline directory (default: the config's)")
    _format(q, ("text", "json"))

    p = command(sub, "history", c.history)
    p.add_argument("--since", metavar="DURATION", help="the runs of this last span: 24h, 7d, 30d (default: all kept)")
    _format(p, ("text", "json", "html"))
    p.add_argument("--out", metavar="FILE", help="write the history here instead of stdout")

    p = command(sub, "fake", _needs_subcommand)
    fsub = p.add_subparsers(dest="fake_command", metavar="SUBCOMMAND")
    q = command(fsub, "serve", fake_serve, "fake serve")
    q.add_argument("--host", default="127.0.0.1")
    q.add_argument("--port", type=int, default=0)
    q.add_argument("--scenario", default="recipe", help="recipe | none | large:N")
    q.add_argument("--write-config", metavar="FILE", help="once listening, write a netwarden.yaml here")
    q.add_argument("--pid-file", metavar="FILE", help="once serving, write the server's PID here")
    q.add_argument("--detach", action="store_true",
                   help="run in the background: return once serving (exit 0) or failed (exit 1)")
    q.add_argument("--ready-timeout", type=float, default=120.0, metavar="SECONDS",
                   help="with --detach: give up (and stop it) if it is not serving by then (default 120)")

    p = command(sub, "demo", demo)
    p.add_argument("--workdir", metavar="DIR", help="write here (default: a temporary directory)")
    p.add_argument("--baseline", metavar="DIR", help="the recipe baseline (default: ./baseline)")

    command(sub, "version", lambda args: _print(version_line()))
    p = command(sub, "help", lambda args: _help(parser, args.topic))
    p.add_argument("topic", nargs="*", metavar="COMMAND", help="the command (and subcommand) to show")
    p = command(sub, "completion", lambda args: _print(completion.script(parser, args.shell)))
    p.add_argument("shell", choices=["bash", "zsh"])
    return parser


def _print(text: str) -> int:
    print(text)
    return EXIT_OK


def _needs_subcommand(args: argparse.Namespace) -> int:
    raise ConfigError(f"netwarden {args.command} needs a subcommand (netwarden help {args.command})")


def _help(parser: argparse.ArgumentParser, topic: Sequence[str]) -> int:
    """``netwarden help [COMMAND [SUBCOMMAND]]``: that parser's help, on stdout."""
    current = parser
    for word in topic:
        choices = next((a.choices for a in current._actions if isinstance(a, argparse._SubParsersAction)), None)
        if not isinstance(choices, dict) or word not in choices:
            known = ", ".join(sorted(choices)) if isinstance(choices, dict) else "none"
            raise ConfigError(f"no command {' '.join(topic)!r} (commands: {known})")
        current = choices[word]
    current.print_help()
    return EXIT_OK


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    debug = bool(getattr(args, "debug", False))
    run: Command | None = getattr(args, "run", None)
    if run is None:
        parser.print_usage(sys.stderr)
        print("netwarden: error: a command is required (netwarden help lists them)", file=sys.stderr)
        return EXIT_ERROR
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
