"""One threaded HTTP server, on one port, for every emulator netwarden ships.

Routes by prefix (DESIGN.md): the VPC API of region R at ``/vpc/R/v1/...``, IAM at ``/iam``, the
Kubernetes API of cluster C at ``/k8s/C/...`` (watches included), the Event Notifications and Slack
recorders at ``/en`` and ``/slack``, and the control API (``fakes.control``) at ``/_fake/...``: reset,
faults, the request log, the Activity Tracker events each mutation emitted, what the recorders
received, a dump of the state, and the emulator owners' routes: ``/_fake/vpc/<region>/...``
(``fakes.vpc.control``: security group targets, a VPC's id) and ``/_fake/kube/<cluster>/...``
(``fakes.kube.control``: compact a cluster's watch history, count its open watches). The owner's
calls are not in the request log, whose ``seq`` numbers API calls only.

Each emulator is a module with ``create(cloud) -> state`` and ``handle(state, request) -> Response``;
it is imported on first use, so a process that serves only the VPC API never imports the others.
Faults are applied here, once, before any emulator sees the request: a status (429 with
Retry-After, 5xx) for a share or a count of matching calls, added latency, or a dropped connection.
``FakeCloud.clock`` is the emulators' one clock (epoch seconds; ``time.time`` until a test sets it, and
again after a reset): IAM stamps and expires its tokens by it, and the VPC API's "today", which no
``version`` date may pass, is its UTC date.

A response may be a stream (a Kubernetes watch): the handler returns it under ``FakeCloud.lock``, and
the server writes its chunks (``Transfer-Encoding: chunked``) after, outside the lock; a client that
goes away ends its stream. ``FakeServer(cloud=...)`` serves an existing ``FakeCloud``, so a test can
stop a server and start another on the same port with the same state, as an API server restarts
over the same etcd; ``stop()`` closes every connection, open streams included, as a dying server does.
"""

from __future__ import annotations

import contextlib
import importlib
import json
import math
import random
import re
import select
import socket
import threading
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from netwarden.fakes import control
from netwarden.fakes.wire import NoRoute, Request, Response, Stream


@dataclass(frozen=True, slots=True)
class Mount:
    name: str
    pattern: re.Pattern[str]
    module: str
    handler: str = "handle"


MOUNTS = (
    Mount("vpc", re.compile(r"^/vpc/(?P<region>[a-z0-9-]+)(?P<rest>/.*)?$"), "netwarden.fakes.vpc.urls"),
    Mount("iam", re.compile(r"^/iam(?P<rest>/.*)?$"), "netwarden.fakes.iam"),
    Mount("resource-manager", re.compile(r"^/rm(?P<rest>/.*)?$"), "netwarden.fakes.vpc.urls", "handle_rm"),
    Mount("kube", re.compile(r"^/k8s/(?P<cluster>[^/]+)(?P<rest>/.*)?$"), "netwarden.fakes.kube.urls"),
    Mount("slack", re.compile(r"^/slack(?P<rest>/.*)?$"), "netwarden.fakes.sinks", "handle_slack"),
    Mount("en", re.compile(r"^/en(?P<rest>/.*)?$"), "netwarden.fakes.sinks", "handle_en"),
)


@dataclass(slots=True)
class Fault:
    """A fault posted to ``/_fake/faults``; ``path`` is a regex searched in ``path?query``."""

    path: str = ".*"
    method: str | None = None
    status: int | None = 503
    rate: float = 1.0
    count: int | None = None
    retry_after: float | None = None
    latency_ms: int = 0
    drop: bool = False
    fired: int = 0
    _regex: re.Pattern[str] | None = field(default=None, repr=False)

    def matches(self, method: str, target: str) -> bool:
        if self._regex is None:
            self._regex = re.compile(self.path)
        if self.method and self.method.upper() != method:
            return False
        if self.count is not None and self.fired >= self.count:
            return False
        return bool(self._regex.search(target))

    def public(self) -> dict[str, Any]:
        return {k: v for k, v in asdict(self).items() if not k.startswith("_")}


_FAULT_KEYS = {"path", "method", "status", "rate", "count", "retry_after", "latency_ms", "drop"}


class FakeCloud:
    """The state behind the server: one state object per emulator module, faults, logs, events."""

    def __init__(self, *, seed: int = 0) -> None:
        self.lock = threading.RLock()
        self.states: dict[str, Any] = {}
        self.faults: list[Fault] = []
        self.requests: list[dict[str, Any]] = []
        self.events: list[dict[str, Any]] = []
        self.random = random.Random(seed)
        self.url = ""
        self.clock: Callable[[], float] = time.time

    def now(self) -> float:
        """The emulators' time, in epoch seconds."""
        return self.clock()

    # --- used by emulators --------------------------------------------------------------------
    def state(self, module: str) -> Any:
        """The state object of an emulator module, created on first use."""
        with self.lock:
            if module not in self.states:
                self.states[module] = importlib.import_module(module).create(self)
            return self.states[module]

    def emit(self, event: dict[str, Any]) -> None:
        """Record an Activity Tracker event (or a Kubernetes audit-style mutation record)."""
        with self.lock:
            self.events.append(event)

    # --- control --------------------------------------------------------------------------------
    def reset(self) -> None:
        with self.lock:
            for state in self.states.values():
                state.reset()
            self.faults.clear()
            self.requests.clear()
            self.events.clear()
            self.clock = time.time

    def add_fault(self, spec: dict[str, Any]) -> Fault:
        unknown = set(spec) - _FAULT_KEYS
        if unknown:
            raise ValueError(f"unknown fault keys: {', '.join(sorted(unknown))}")
        fault = Fault(**spec)
        re.compile(fault.path)
        with self.lock:
            self.faults.append(fault)
        return fault

    def fault_for(self, method: str, target: str) -> Fault | None:
        with self.lock:
            for fault in self.faults:
                if fault.matches(method, target) and self.random.random() < fault.rate:
                    fault.fired += 1
                    return fault
        return None

    def handle(self, request: Request, host: str) -> Response | None:
        """Serve one request; None means: drop the connection."""
        if request.path.startswith("/_fake/"):
            return control.handle(self, request)  # the owner's calls: not in the log, whose seq counts API calls
        target = request.path + ("?" + _query_string(request) if request.query else "")
        with self.lock:
            entry: dict[str, Any] = {"seq": len(self.requests), "time": time.time(), "method": request.method,
                                     "path": request.path, "query": {k: v[0] for k, v in request.query.items()}}
            self.requests.append(entry)
        fault = self.fault_for(request.method, target)
        if fault is not None:
            entry["fault"] = True
            if fault.latency_ms:
                time.sleep(fault.latency_ms / 1000)
            if fault.drop:
                entry["status"] = None
                return None
            if fault.status:
                entry["status"] = fault.status
                return _fault_response(fault)
        response = self._route(request, host)
        entry["status"] = response.status
        return response

    def _route(self, request: Request, host: str) -> Response:
        for mount in MOUNTS:
            m = mount.pattern.match(request.path)
            if not m:
                continue
            args = {k: v for k, v in m.groupdict().items() if k != "rest" and v is not None}
            prefix = request.path[: m.start("rest")] if m.group("rest") else request.path
            request.path = m.group("rest") or "/"
            request.mount_args = args
            request.base_url = f"http://{host}{prefix}"
            try:
                state = self.state(mount.module)
            except ModuleNotFoundError:
                break
            handler: Callable[[Any, Request], Response] = getattr(importlib.import_module(mount.module), mount.handler)
            with self.lock:
                try:
                    return handler(state, request)
                except NoRoute:
                    return Response.json({"error": f"no route for {request.method} {prefix}{request.path}"}, 404)
        return Response.json({"error": f"no emulator serves {request.path}"}, 404)


def _query_string(request: Request) -> str:
    return "&".join(f"{k}={v}" for k, vs in request.query.items() for v in vs)


def _fault_response(fault: Fault) -> Response:
    status = fault.status or 503
    # Retry-After is whole seconds (RFC 9110); urllib3 refuses "0.5" as an invalid header.
    headers = {"Retry-After": str(math.ceil(fault.retry_after))} if fault.retry_after is not None else {}
    code = "too_many_requests" if status == 429 else "service_unavailable" if status >= 500 else "fault"
    body = {"errors": [{"code": code, "message": f"injected fault: HTTP {status}"}], "status_code": status,
            "trace": "fault-injected", "kind": "Status", "code": status, "message": f"injected fault: HTTP {status}"}
    return Response.json(body, status, headers)


def _host(address: str | bytes | bytearray) -> str:
    """A bound address as text (typeshed allows bytes for AF_UNIX; an IP server binds AF_INET)."""
    return address if isinstance(address, str) else bytes(address).decode()


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    # Headers and body go out in two writes: with Nagle's algorithm on, the client's delayed ACK
    # holds every response on a kept-alive connection for ~40 ms.
    disable_nagle_algorithm = True
    server: _Server

    def _serve(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        request = Request.from_target(self.command, self.path, dict(self.headers.items()), body)
        host = self.headers.get("Host") or f"{_host(self.server.server_address[0])}:{self.server.server_address[1]}"
        try:
            response = self.server.cloud.handle(request, host)
        except Exception as e:  # an emulator bug must show as a 500, not kill the connection silently
            response = Response.json({"errors": [{"code": "internal_error", "message": f"emulator error: {e!r}"}],
                                      "status_code": 500, "trace": "emulator"}, 500)
        if response is None:
            self.close_connection = True
            self.connection.close()
            return
        if response.stream is not None:
            self._write_stream(response, response.stream)
            return
        self.send_response(response.status)
        for key, value in response.headers.items():
            self.send_header(key, value)
        self.send_header("Content-Length", str(len(response.body)))
        self.end_headers()
        if self.command != "HEAD" and response.body:
            self.wfile.write(response.body)

    def _write_stream(self, response: Response, stream: Stream) -> None:
        """Write each chunk as it comes; end with the last chunk, unless the client or the server went away."""
        self.server.track(stream)
        try:
            self.send_response(response.status)
            for key, value in response.headers.items():
                self.send_header(key, value)
            self.send_header("Transfer-Encoding", "chunked")
            self.end_headers()
            for chunk in stream:
                if chunk:
                    self.wfile.write(b"%x\r\n%b\r\n" % (len(chunk), chunk))
                elif self._client_gone():
                    break
                if self.server.stopping:
                    break
            else:
                if not self.server.stopping:
                    self.wfile.write(b"0\r\n\r\n")
                    return
            self.close_connection = True
        except OSError:  # BrokenPipeError, ConnectionResetError: the client went away
            self.close_connection = True
        finally:
            stream.close()
            self.server.untrack(stream)

    def _client_gone(self) -> bool:
        """Whether the client closed its side (a readable socket with nothing to read)."""
        try:
            readable, _, _ = select.select([self.connection], [], [], 0)
            return bool(readable) and not self.connection.recv(1, socket.MSG_PEEK)
        except OSError:
            return True

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = do_HEAD = _serve

    def log_message(self, format: str, *args: Any) -> None:
        """Quiet: the request log at /_fake/requests is the record."""


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, address: tuple[str, int], cloud: FakeCloud) -> None:
        super().__init__(address, _Handler)
        self.cloud = cloud
        self.stopping = False
        self._open_lock = threading.Lock()
        self._connections: set[socket.socket] = set()
        self._streams: set[Stream] = set()

    def process_request(self, request: Any, client_address: Any) -> None:
        with self._open_lock:
            self._connections.add(request)
        super().process_request(request, client_address)

    def shutdown_request(self, request: Any) -> None:
        with self._open_lock:
            self._connections.discard(request)
        super().shutdown_request(request)

    def track(self, stream: Stream) -> None:
        with self._open_lock:
            self._streams.add(stream)

    def untrack(self, stream: Stream) -> None:
        with self._open_lock:
            self._streams.discard(stream)

    def close_all(self) -> None:
        """Cut every open connection (the clients see it close), then end the streams written to them."""
        self.stopping = True
        with self._open_lock:
            connections, streams = list(self._connections), list(self._streams)
        for connection in connections:
            with contextlib.suppress(OSError):
                connection.shutdown(socket.SHUT_RDWR)
        for stream in streams:
            stream.close()


class FakeServer:
    """Run the emulators in a thread: ``with FakeServer() as fake: ... fake.url``. ``cloud`` serves the
    state of an earlier server (a restart: ``FakeServer(port=old.port, cloud=old.cloud)``)."""

    def __init__(self, host: str = "127.0.0.1", port: int = 0, *, seed: int = 0,
                 cloud: FakeCloud | None = None) -> None:
        self.cloud = cloud if cloud is not None else FakeCloud(seed=seed)
        self._server = _Server((host, port), self.cloud)
        self._thread: threading.Thread | None = None
        bound_host, bound_port = self._server.server_address[:2]
        self.url = f"http://{_host(bound_host)}:{bound_port}"
        self.cloud.url = self.url

    @property
    def port(self) -> int:
        return int(self._server.server_address[1])

    def start(self) -> FakeServer:
        self._thread = threading.Thread(target=self._server.serve_forever, name="netwarden-fake", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.close_all()
        self._server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)

    def serve_forever(self) -> None:
        self._server.serve_forever()

    def __enter__(self) -> FakeServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


def dumps(data: Any) -> str:
    return json.dumps(data, indent=2, sort_keys=True)
