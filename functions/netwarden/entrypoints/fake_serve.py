"""``netwarden fake serve``: the embedded IBM Cloud and Kubernetes emulators on one port, with a
scenario built in them, until SIGINT or SIGTERM; once listening it can write a netwarden.yaml that
points at them. Like the demo, it is left out of the job image and the function bundle.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from netwarden.config import Settings
from netwarden.entrypoints import wiring
from netwarden.entrypoints.exits import EXIT_OK


def main(args: argparse.Namespace) -> int:
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
