"""``netwarden fake serve``: the embedded IBM Cloud and Kubernetes emulators on one port, with a
scenario built in them, until SIGINT or SIGTERM; once listening it can write a netwarden.yaml that
points at them. Like the demo, it is left out of the job image and the function bundle.

A walk-through must not wait forever for an emulator that failed to start, so ``--detach`` runs the
server as a child process and returns as soon as it serves (exit 0, its line and PID printed) or has
failed (its error relayed, exit 1), within ``--ready-timeout`` seconds; ``--pid-file`` records the
serving process's PID, which is what ``--detach`` waits for and what stops it (``kill "$(cat F)"``).
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path
from typing import IO

from netwarden.config import Settings
from netwarden.core.errors import ConfigError
from netwarden.entrypoints import wiring
from netwarden.entrypoints.exits import EXIT_ERROR, EXIT_OK

#: How often ``--detach`` looks at its child while it waits for it to serve.
POLL_SECONDS = 0.1


def main(args: argparse.Namespace) -> int:
    """Serve the emulators with a scenario built in them; write a config pointing at them; run until
    SIGINT or SIGTERM. With ``--detach``: start that in a child process and return once it serves."""
    if getattr(args, "detach", False):
        return detach(args)
    import signal
    import threading

    from netwarden.adapters import yaml_io
    from netwarden.adapters.files import write_atomic
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
    pid_file = Path(args.pid_file) if getattr(args, "pid_file", None) else None
    try:
        scenarios.build(args.scenario, url, baseline=baseline)
        if args.write_config:
            data = scenarios.config_for(url, args.scenario, baseline, str(baseline_dir.resolve()))
            text = (f"# netwarden fake serve --scenario {args.scenario}: the emulators at {url}\n"
                    f"# export {scenarios.API_KEY_ENV}=fake-apikey\n" + yaml_io.dumps(data))
            write_atomic(Path(args.write_config), text.encode("utf-8"))
        if pid_file is not None:
            write_atomic(pid_file, f"{os.getpid()}\n".encode())
        print(f"netwarden fake: serving {url} (scenario {args.scenario})", flush=True)
        while not stop.wait(0.5):
            pass
    finally:
        server.stop()
        if pid_file is not None and read_pid(pid_file) == os.getpid():
            pid_file.unlink(missing_ok=True)
    return EXIT_OK


def detach(args: argparse.Namespace) -> int:
    """Run ``fake serve`` (these arguments, without ``--detach``) as a child process; return 0 once it
    serves (it has written its PID file and its line), 1 with its error if it exits first, or, past
    ``--ready-timeout``, stop it (by its PID) and return 1. Never waits longer than that."""
    import subprocess
    import tempfile
    import time

    timeout = float(args.ready_timeout)
    if timeout <= 0:
        raise ConfigError("--ready-timeout: expected a number of seconds > 0")
    with tempfile.TemporaryDirectory(prefix="netwarden-fake-") as scratch, \
            tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        pid_file = Path(args.pid_file) if args.pid_file else Path(scratch, "pid")
        command = [sys.executable, "-m", "netwarden", "fake", "serve", "--host", args.host, "--port",
                   str(args.port), "--scenario", args.scenario, "--pid-file", str(pid_file.absolute())]
        if args.write_config:
            command += ["--write-config", str(Path(args.write_config).absolute())]
        if args.debug:
            command.append("--debug")
        # the child's output goes to unnamed files: a pipe it kept open would hold up whoever reads ours
        child = subprocess.Popen(command, stdin=subprocess.DEVNULL, stdout=out, stderr=err)
        deadline = time.monotonic() + timeout
        while not (read_pid(pid_file) == child.pid and os.fstat(out.fileno()).st_size):  # its PID, then its line
            code = child.poll()
            if code is not None:
                _relay(err, sys.stderr)
                return code or EXIT_ERROR
            if time.monotonic() > deadline:
                child.terminate()
                child.wait()
                _relay(err, sys.stderr)
                raise ConfigError(f"fake serve did not serve within {timeout:g} s (--ready-timeout); stopped it")
            time.sleep(POLL_SECONDS)
        _relay(out, sys.stdout)
    stop = f'kill "$(cat {args.pid_file})"' if args.pid_file else f"kill {child.pid}"
    print(f"netwarden fake: pid {child.pid}; stop it with: {stop}", flush=True)
    return EXIT_OK


def read_pid(path: Path) -> int | None:
    """The PID a pid file holds, or None when it is absent or not one."""
    try:
        text = path.read_text(encoding="utf-8").strip()
    except (OSError, UnicodeDecodeError):
        return None
    return int(text) if text.isdigit() else None


def _relay(source: IO[bytes], target: IO[str]) -> None:
    source.seek(0)
    text = source.read().decode("utf-8", errors="replace")
    if text:
        target.write(text)
        target.flush()
