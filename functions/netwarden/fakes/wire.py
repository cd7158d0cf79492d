"""The HTTP vocabulary every emulator speaks: a parsed request, a response, and a route table.

Each emulator (``vpc``, ``iam``, ``kube``, ``sinks``) keeps moto's shape: ``urls.py`` is a table of
``Route``s (method, path pattern with named groups, handler), ``responses.py`` holds thin handlers
that read a ``Request`` and return a ``Response``, ``models.py`` the state and rules, and
``exceptions.py`` the wire errors. Path parameters are captured by the router, never split by hand.

A response is a body, or a ``Stream`` (the Kubernetes emulator's watches): the server writes its chunks
with chunked transfer encoding after the handler returned, so a stream that waits for what happens next
never waits under the lock the handlers run under, and ``close()``s it when the client goes away or the
server stops.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol
from urllib.parse import parse_qs, urlsplit


@dataclass(slots=True)
class Request:
    """An incoming request. ``path`` is relative to the emulator's mount (``/v1/network_acls`` for
    ``/vpc/us-south/v1/network_acls``); ``mount_args`` holds what the mount captured (``region``,
    ``cluster``); ``params`` what the route captured; ``base_url`` is the absolute URL of the mount,
    for hrefs."""

    method: str
    path: str
    query: dict[str, list[str]]
    headers: Mapping[str, str]
    body: bytes = b""
    base_url: str = ""
    mount_args: dict[str, str] = field(default_factory=dict)
    params: dict[str, str] = field(default_factory=dict)

    @classmethod
    def from_target(cls, method: str, target: str, headers: Mapping[str, str], body: bytes) -> Request:
        parts = urlsplit(target)
        return cls(method.upper(), parts.path, parse_qs(parts.query, keep_blank_values=True), headers, body)

    def arg(self, name: str, default: str | None = None) -> str | None:
        """The first value of query parameter ``name``."""
        values = self.query.get(name)
        return values[0] if values else default

    def header(self, name: str, default: str | None = None) -> str | None:
        lower = name.lower()
        return next((v for k, v in self.headers.items() if k.lower() == lower), default)

    def json(self) -> Any:
        """The body as JSON; raises ValueError on a body that is not JSON."""
        if not self.body:
            return None
        return json.loads(self.body.decode("utf-8"))


class Stream(Protocol):
    """A response body that is written as it is produced: an iterator of byte chunks (an empty chunk
    writes nothing: it lets the server see whether the client is still there), and ``close()``, which
    may be called from another thread and makes the iterator end soon."""

    def __iter__(self) -> Iterator[bytes]: ...

    def close(self) -> None: ...


@dataclass(slots=True)
class Response:
    status: int = 200
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)
    stream: Stream | None = None

    @classmethod
    def json(cls, data: Any, status: int = 200, headers: Mapping[str, str] | None = None, *,
             content_type: str = "application/json; charset=utf-8") -> Response:
        h = {"Content-Type": content_type, **(headers or {})}
        return cls(status, json.dumps(data, separators=(",", ":")).encode("utf-8"), h)

    @classmethod
    def empty(cls, status: int = 204) -> Response:
        return cls(status, b"", {})

    @classmethod
    def text(cls, text: str, status: int = 200, content_type: str = "text/plain; charset=utf-8") -> Response:
        return cls(status, text.encode("utf-8"), {"Content-Type": content_type})


Handler = Callable[[Any, Request], Response]


@dataclass(frozen=True, slots=True)
class Route:
    method: str
    pattern: re.Pattern[str]
    handler: Handler


def routes(table: Sequence[tuple[str, str, Handler]]) -> list[Route]:
    """Compile ``(method, "/v1/network_acls/(?P<id>[^/]+)", handler)`` rows into Routes."""
    return [Route(m.upper(), re.compile(f"^{p}$"), h) for m, p, h in table]


class NoRoute(Exception):
    """No route matched; ``allowed`` lists the methods that would have (405 when not empty, else 404)."""

    def __init__(self, allowed: list[str]) -> None:
        super().__init__("no route")
        self.allowed = allowed


def dispatch(table: Sequence[Route], state: Any, request: Request) -> Response:
    """Call the first route whose method and pattern match ``request``; raise NoRoute otherwise."""
    allowed: list[str] = []
    for route in table:
        m = route.pattern.match(request.path)
        if not m:
            continue
        if route.method != request.method:
            allowed.append(route.method)
            continue
        request.params = {k: v for k, v in m.groupdict().items() if v is not None}
        return route.handler(state, request)
    raise NoRoute(allowed)
