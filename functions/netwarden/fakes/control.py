"""The control API of the emulator server, at ``/_fake/...``: what a test or the demo's owner asks of
the emulators that no real API offers.

``POST /_fake/reset`` (forget everything), ``/_fake/faults`` (GET, POST a fault or a list of faults,
DELETE them all), ``/_fake/requests`` (the request log; ``?since=seq``; DELETE clears it),
``GET /_fake/events`` (the Activity Tracker and Kubernetes audit records; ``?since=index``),
``GET /_fake/slack`` and ``/_fake/en`` (what the recorders received), ``GET /_fake/state`` (a dump of
every emulator's state), and each emulator owner's routes: ``/_fake/vpc/<region>/...``
(``fakes.vpc.control``) and ``/_fake/kube/<cluster>/...`` (``fakes.kube.control``), each answered by
that emulator's ``control.handle(state, method, parts, body)`` under the cloud's lock.
"""

from __future__ import annotations

import importlib
import re
import threading
from typing import Any, Protocol

from netwarden.fakes.wire import Request, Response

#: ``/_fake/<owner>/...``: (the owner module, the emulator module whose state it works on).
OWNERS = {
    "vpc": ("netwarden.fakes.vpc.control", "netwarden.fakes.vpc.urls"),
    "kube": ("netwarden.fakes.kube.control", "netwarden.fakes.kube.urls"),
}


class Cloud(Protocol):
    """What the control API reads and changes (``server.FakeCloud``)."""

    lock: threading.RLock
    states: dict[str, Any]
    faults: list[Any]
    requests: list[dict[str, Any]]
    events: list[dict[str, Any]]

    def reset(self) -> None: ...

    def add_fault(self, spec: dict[str, Any]) -> Any: ...

    def state(self, module: str) -> Any: ...


def handle(cloud: Cloud, request: Request) -> Response:
    what = request.path[len("/_fake/"):].strip("/")
    method = request.method
    if what == "reset" and method == "POST":
        cloud.reset()
        return Response.json({"reset": True})
    if what == "faults":
        if method == "GET":
            return Response.json({"faults": [f.public() for f in cloud.faults]})
        if method == "DELETE":
            with cloud.lock:
                cloud.faults.clear()
            return Response.json({"faults": []})
        if method == "POST":
            try:
                body = request.json() or {}
                specs = body if isinstance(body, list) else [body]
                added = [cloud.add_fault(dict(s)).public() for s in specs]
            except (ValueError, TypeError, re.error) as e:
                return Response.json({"error": str(e)}, 400)
            return Response.json({"faults": added}, 201)
    if what == "requests":
        if method == "DELETE":
            with cloud.lock:
                cloud.requests.clear()
            return Response.json({"requests": []})
        since = int(request.arg("since", "0") or 0)
        return Response.json({"requests": [r for r in cloud.requests if r["seq"] >= since]})
    if what == "events" and method == "GET":
        since = int(request.arg("since", "0") or 0)
        return Response.json({"events": cloud.events[since:]})
    if what in ("slack", "en") and method == "GET":
        sinks = cloud.state("netwarden.fakes.sinks")
        return Response.json(sinks.received(what))
    owner = OWNERS.get(what.split("/", 1)[0])
    if owner is not None and "/" in what:
        try:
            body = request.json()
        except ValueError as e:
            return Response.json({"error": f"the body is not JSON: {e}"}, 400)
        control, emulator = owner
        module = importlib.import_module(control)
        with cloud.lock:
            response: Response = module.handle(cloud.state(emulator), method, what.split("/")[1:], body)
        return response
    if what == "state" and method == "GET":
        return Response.json({name: state.dump() for name, state in cloud.states.items()})
    return Response.json({"error": f"no control route {method} /_fake/{what}"}, 404)
