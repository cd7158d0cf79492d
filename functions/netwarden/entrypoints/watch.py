"""``netwarden watch``: the resident watcher, a long-running process (a Code Engine app kept at one
instance), which detects a change in seconds instead of at the next scheduled scan.

It runs, until SIGTERM or SIGINT:

* one watch per configured cluster on its NetworkPolicies and namespaces (``adapters.kube_watch``),
  whose changes go to the worker (``app.watch.Watcher``: coalesced, re-checked, recorded in the one
  finding state every run shares); each cluster is re-checked once at start;
* an HTTP server on ``--listen`` (default ``0.0.0.0:$PORT``, 8080 without ``PORT``):

  - ``GET /healthz``: 200 ``ok`` while the process runs;
  - ``GET /readyz``: 200 once the baseline is loaded and every watch was tried once, else 503; both
    with ``watching`` (every watch open now) and each watch's state as JSON. A cluster that cannot be
    reached leaves the watcher ready, reconnecting: it still takes the VPC's events;
  - ``POST /events`` (and ``POST /``): one Activity Tracker event as a CloudEvent, in binary mode as a
    Code Engine Kafka subscription delivers it (``Ce-*`` headers, the event as the body) or structured
    (``application/cloudevents+json``, the event in ``data``): 202 and checked in the background, 200
    when it is only acknowledged, 400 (one line) when it is no event, 413 over 64 KiB. The event is a
    hint: the watcher re-reads what it names, so a forged one costs a read, never a wrong finding;
  - ``POST /remediate``: the remediation function's API (``entrypoints.function``, the same bearer
    token and answers).

On SIGTERM it stops taking requests, ends the watches, lets the re-check in progress finish and exits
0. Logs are JSON lines (``entrypoints.logs``); a request is logged without its headers.
"""

from __future__ import annotations

import base64
import json
import logging
import os
import signal
import sys
import threading
from collections.abc import Mapping
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from netwarden.core.errors import ConfigError, EventFormatError, Location, NetwardenError
from netwarden.entrypoints import payload, wiring_watch
from netwarden.entrypoints.exits import EXIT_ERROR, EXIT_OK

log = logging.getLogger(__name__)

DEFAULT_PORT = 8080
STRUCTURED = "application/cloudevents+json"


class _Handler(BaseHTTPRequestHandler):
    server: _Server
    protocol_version = "HTTP/1.1"

    def do_GET(self) -> None:
        runtime = self.server.runtime
        if self.path in ("/healthz", "/livez"):
            self._answer(200, {"status": "ok", **runtime.status()})
        elif self.path == "/readyz":
            ready = runtime.ready
            self._answer(200 if ready else 503, {"ready": ready, **runtime.status()})
        else:
            self._answer(404, {"error": f"no route GET {self.path}"})

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        if length > payload.MAX_BYTES:
            self.close_connection = True
            self._answer(413, {"error": f"the body is larger than {payload.MAX_BYTES} bytes"})
            return
        body = self.rfile.read(length) if length else b""
        if self.path in ("/", "/events"):
            self._answer(*self._event(body))
        elif self.path == "/remediate":
            self._answer(*self._remediate(body))
        else:
            self._answer(404, {"error": f"no route POST {self.path}"})

    def _event(self, body: bytes) -> tuple[int, dict[str, Any]]:
        from netwarden.app.watch import Change

        runtime = self.server.runtime
        try:
            data = payload.loads(body.decode("utf-8", errors="replace"), source="the posted event")
            if (self.headers.get("Content-Type") or "").split(";")[0].strip().lower() == STRUCTURED:
                data = _structured_data(data)
            target, summary = wiring_watch.event_target(runtime.settings, data)
        except EventFormatError as e:
            log.warning("event refused: %s", e)
            return 400, {"error": str(e)}
        event_id = self.headers.get("Ce-Id")
        if target is None:
            log.info("event acknowledged, nothing to check: %s", summary, extra={"ce_id": event_id})
            return 200, {"status": "acknowledged", "reason": summary}
        runtime.watcher.changed(Change(target, summary, event=data))
        return 202, {"status": "accepted", "target": target}

    def _remediate(self, body: bytes) -> tuple[int, dict[str, Any]]:
        from netwarden.entrypoints import function

        params = {"__ce_method": "POST", "__ce_headers": dict(self.headers.items()),
                  "__ce_body": base64.b64encode(body).decode("ascii")}
        answer = function.handle(params, os.environ, function.run)
        return int(answer["statusCode"]), dict(answer["body"])

    def _answer(self, status: int, body: Mapping[str, Any]) -> None:
        data = (json.dumps(body, sort_keys=True) + "\n").encode("utf-8")
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, format: str, *args: Any) -> None:
        log.info("%s %s -> %s", self.command, self.path, args[1] if len(args) > 1 else "?")


def _structured_data(doc: Any) -> Any:
    """The event inside a structured-mode CloudEvent (``data``, or ``data_base64``)."""
    if not isinstance(doc, dict):
        raise EventFormatError("a structured CloudEvent must be a JSON object", source="the posted event")
    if "data_base64" in doc:
        try:
            text = base64.b64decode(str(doc["data_base64"]), validate=True).decode("utf-8")
        except (ValueError, UnicodeDecodeError) as e:
            raise EventFormatError("data_base64 is not Base64 of UTF-8 text", field="data_base64",
                                   source="the posted event") from e
        return payload.loads(text, source="the posted event's data_base64")
    if "data" not in doc:
        raise EventFormatError("the CloudEvent has no data", field="data", source="the posted event")
    return doc["data"]


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, address: tuple[str, int], runtime: wiring_watch.WatchRuntime) -> None:
        super().__init__(address, _Handler)
        self.runtime = runtime


def listen_address(text: str | None, environ: Mapping[str, str]) -> tuple[str, int]:
    """``HOST:PORT`` (``--listen``), else ``0.0.0.0:$PORT``, else port 8080."""
    if text is None:
        port_text = environ.get("PORT", "").strip() or str(DEFAULT_PORT)
        host, where = "0.0.0.0", Location("PORT")
    else:
        host, _, port_text = text.rpartition(":")
        where = Location("--listen")
    if not port_text.isdigit() or not 0 <= int(port_text) <= 65535:
        raise ConfigError(f"{port_text!r} is not a port number (0-65535)", location=where)
    return host or "0.0.0.0", int(port_text)


def serve(runtime: wiring_watch.WatchRuntime, address: tuple[str, int], stop: threading.Event,
          on_listening: Any = None) -> int:
    """Run the watches, the worker and the HTTP server until ``stop`` is set."""
    try:
        server = _Server(address, runtime)
    except OSError as e:
        raise ConfigError(f"cannot listen on {address[0]}:{address[1]}: {e.strerror}", location=Location("--listen")) \
            from e
    host, port = server.server_address[:2]
    http = threading.Thread(target=server.serve_forever, name="watch-http", daemon=True)
    worker = threading.Thread(target=runtime.watcher.run, args=(stop,), name="watch-worker", daemon=True)
    http.start()
    worker.start()
    for cluster in runtime.clusters:
        cluster.start()
    log.info("watching %d cluster(s); listening on %s:%s", len(runtime.clusters), host, port,
             extra={"clusters": [c.name for c in runtime.clusters], "port": port})
    if on_listening is not None:
        on_listening(port)
    while not stop.wait(1.0):
        pass
    log.info("stopping: ending the watches and the HTTP server")
    server.shutdown()
    for cluster in runtime.clusters:
        cluster.stop()
    worker.join(timeout=60)
    server.server_close()
    log.info("stopped")
    return EXIT_OK


def main(config: str | None, baseline: str | None, listen: str | None, options: wiring_watch.WatchOptions,
         port_file: str | None = None) -> int:
    """What ``netwarden watch`` does: one clear line and exit 1 when it cannot start."""
    from netwarden.config import Settings
    from netwarden.entrypoints import logs

    logs.configure()
    stop = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stop.set())
    try:
        settings = wiring_watch.with_baseline(Settings.load(config, os.environ), baseline)
        address = listen_address(listen, os.environ)
        if not settings.clusters and settings.ibmcloud is None:
            raise ConfigError("nothing to watch: the config names no kubernetes cluster and no ibmcloud scope")
        runtime = wiring_watch.build(settings, options)

        def written(port: int) -> None:
            if port_file:
                Path(port_file).write_text(f"{port}\n", encoding="utf-8")

        return serve(runtime, address, stop, written)
    except NetwardenError as e:
        log.error("watch cannot start: %s", e)
        print(f"netwarden: error: {e}", file=sys.stderr)
        return EXIT_ERROR
