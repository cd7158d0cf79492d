"""One threaded HTTP server, on one port, for every emulator netwarden ships.

Routes by prefix (DESIGN.md): the VPC API of region R at ``/vpc/R/v1/...``, IAM at ``/iam``, the
Kubernetes API of cluster C at ``/k8s/C/...``, the Event Notifications and Slack recorders at ``/en``
and ``/slack``, and the control API at ``/_fake/...``: reset, faults, the request log, the Activity
Tracker events each mutation emitted, what the recorders received, a dump of the state, and the VPC
emulator owner's routes at ``/_fake/vpc/<region>/...`` (``fakes.vpc.control``: security group targets,
a VPC's id). The owner's calls are not in the request log, whose ``seq`` numbers API calls only.

Each emulator is a module with ``create(cloud) -> state`` and ``handle(state, request) -> Response``;
it is imported on first use, so a process that serves only the VPC API never imports the others.
Faults are applied here, once, before any emulator sees the request: a status (429 with
Retry-After, 5xx) for a share or a count of matching calls, added latency, or a dropped connection.
``FakeCloud.clock`` is the emulators' one clock (epoch seconds; ``time.time`` until a test sets it, and
again after a reset): IAM stamps and expires its tokens by it, and the VPC API's "today", which no
``version`` date may pass, is its UTC date.
"""

from __future__ import annotations

import importlib
import json
import math
import random
import re
import threading
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from netwarden.fakes.wire import NoRoute, Request, Response


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
            return self._control(request)  # the owner's calls: not in the log, whose seq counts API calls
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

    def _control(self, request: Request) -> Response:
        what = request.path[len("/_fake/"):].strip("/")
        method = request.method
        if what == "reset" and method == "POST":
            self.reset()
            return Response.json({"reset": True})
        if what == "faults":
            if method == "GET":
                return Response.json({"faults": [f.public() for f in self.faults]})
            if method == "DELETE":
                with self.lock:
                    self.faults.clear()
                return Response.json({"faults": []})
            if method == "POST":
                try:
                    body = request.json() or {}
                    specs = body if isinstance(body, list) else [body]
                    added = [self.add_fault(dict(s)).public() for s in specs]
                except (ValueError, TypeError, re.error) as e:
                    return Response.json({"error": str(e)}, 400)
                return Response.json({"faults": added}, 201)
        if what == "requests":
            if method == "DELETE":
                with self.lock:
                    self.requests.clear()
                return Response.json({"requests": []})
            since = int(request.arg("since", "0") or 0)
            return Response.json({"requests": [r for r in self.requests if r["seq"] >= since]})
        if what == "events" and method == "GET":
            since = int(request.arg("since", "0") or 0)
            return Response.json({"events": self.events[since:]})
        if what in ("slack", "en") and method == "GET":
            sinks = self.state("netwarden.fakes.sinks")
            return Response.json(sinks.received(what))
        if what.startswith("vpc/"):
            from netwarden.fakes.vpc import control

            try:
                body = request.json()
            except ValueError as e:
                return Response.json({"error": f"the body is not JSON: {e}"}, 400)
            with self.lock:
                return control.handle(self.state("netwarden.fakes.vpc.urls"), method, what.split("/")[1:], body)
        if what == "state" and method == "GET":
            return Response.json({name: state.dump() for name, state in self.states.items()})
        return Response.json({"error": f"no control route {method} /_fake/{what}"}, 404)


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
        self.send_response(response.status)
        for key, value in response.headers.items():
            self.send_header(key, value)
        self.send_header("Content-Length", str(len(response.body)))
        self.end_headers()
        if self.command != "HEAD" and response.body:
            self.wfile.write(response.body)

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = do_HEAD = _serve

    def log_message(self, format: str, *args: Any) -> None:
        """Quiet: the request log at /_fake/requests is the record."""


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, address: tuple[str, int], cloud: FakeCloud) -> None:
        super().__init__(address, _Handler)
        self.cloud = cloud


class FakeServer:
    """Run the emulators in a thread: ``with FakeServer() as fake: ... fake.url``."""

    def __init__(self, host: str = "127.0.0.1", port: int = 0, *, seed: int = 0) -> None:
        self.cloud = FakeCloud(seed=seed)
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
