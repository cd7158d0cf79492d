"""What a state-store lock says about its holder, and when another run may take it over.

Both state stores (a directory, a COS bucket) keep a lock as one small JSON record naming who took
it, on which host, in which process, when, and until when. This module is that record and the one
decision built on it, so the two stores cannot drift apart: a lock is taken over when its lease ran
out, or when its holder is provably gone (same host, same PID namespace, and that PID is not alive);
a record that cannot be read is taken over once it is older than the lease. Everything here is pure
except ``this_process`` and ``pid_alive``, which ask the operating system about the running host.

The first record format (``owner``, ``acquired_at``, ``expires_at``, epoch seconds) is still read: it
names no host or PID, so only its expiry can free it.
"""

from __future__ import annotations

import json
import os
import socket
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

VERSION = 2
#: The lease: longer than any run may hold a lock. Code Engine stops the scan job after 30 minutes
#: (the remediation job after 15, the function after 2), and a remediation of ``max_changes`` steps,
#: each retried against 30 s timeouts, can outlast 15; a lease that ran out under a live holder would
#: let a second run write at the same time.
DEFAULT_LOCK_TTL = 30 * 60.0


@dataclass(frozen=True, slots=True)
class Process:
    """Where a lock is taken: the host name, the PID, and the PID namespace (when the OS names one)."""

    host: str
    pid: int
    pid_namespace: str | None = None


@dataclass(frozen=True, slots=True)
class LockRecord:
    """A lock's content. ``host``/``pid`` are None in a record of the first format."""

    holder: str
    host: str | None
    pid: int | None
    taken_at: float
    expires_at: float
    pid_namespace: str | None = None

    def describe(self) -> str:
        """``run-a on host web-1, PID 4242, until 2026-12-02T17:43:03Z`` (the refusal's words)."""
        host = f"host {self.host}" if self.host else "an unknown host"
        pid = f"PID {self.pid}" if self.pid is not None else "PID unknown"
        return f"{self.holder} on {host}, {pid}, until {iso(self.expires_at)}"


def iso(t: float) -> str:
    """Epoch seconds as a UTC ISO-8601 time, to the second (``2026-12-02T17:43:03Z``)."""
    return datetime.fromtimestamp(t, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _iso_ms(t: float) -> str:
    return datetime.fromtimestamp(t, UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _epoch(value: Any) -> float:
    if isinstance(value, bool):
        raise TypeError("a time, not a boolean")
    if isinstance(value, int | float):
        return float(value)
    if isinstance(value, str):
        when = datetime.fromisoformat(value)
        if when.tzinfo is None:
            raise ValueError("a time without a zone")
        return when.timestamp()
    raise TypeError("not a time")


def new(holder: str, process: Process, *, now: float, ttl: float) -> LockRecord:
    return LockRecord(holder, process.host, process.pid, now, now + ttl, process.pid_namespace)


def encode(record: LockRecord) -> bytes:
    body: dict[str, Any] = {"version": VERSION, "holder": record.holder, "host": record.host, "pid": record.pid,
                            "taken_at": _iso_ms(record.taken_at), "expires_at": _iso_ms(record.expires_at)}
    if record.pid_namespace is not None:
        body["pid_namespace"] = record.pid_namespace
    return json.dumps(body, sort_keys=True).encode()


def decode(data: bytes) -> LockRecord | None:
    """The record, or None when it is not one (empty, torn, garbage, or missing a field)."""
    try:
        doc = json.loads(data)
        if not isinstance(doc, dict):
            return None
        if "version" not in doc and "owner" in doc:  # the first format
            expires = _epoch(doc["expires_at"])
            return LockRecord(str(doc["owner"]), None, None, _epoch(doc.get("acquired_at", expires)), expires)
        if not isinstance(doc["version"], int) or doc["version"] < VERSION:
            return None
        pid, host, ns = doc["pid"], doc["host"], doc.get("pid_namespace")
        if not isinstance(pid, int) or isinstance(pid, bool) or not isinstance(host, str):
            return None
        return LockRecord(str(doc["holder"]), host, pid, _epoch(doc["taken_at"]), _epoch(doc["expires_at"]),
                          ns if isinstance(ns, str) else None)
    except (ValueError, KeyError, TypeError, OverflowError):
        return None


def stale_reason(record: LockRecord | None, *, now: float, written_at: float, ttl: float, here: Process,
                 alive: Callable[[int], bool]) -> str | None:
    """Why the lock may be taken over, or None while its holder may still be at work.

    ``written_at`` is when the store last wrote the record (the file's mtime, the object's
    Last-Modified); it only matters for a record that cannot be read. ``alive`` is asked only about a
    holder on this very host and PID namespace: anywhere else a PID proves nothing."""
    if record is None:
        if written_at + ttl <= now:
            return f"its record is unreadable and older than the lease ({ttl:.0f}s)"
        return None
    if record.expires_at <= now:
        return f"its lease ran out at {iso(record.expires_at)}"
    if (record.host == here.host and record.pid is not None and record.pid > 0
            and record.pid_namespace == here.pid_namespace and not alive(record.pid)):
        return f"its process is gone (PID {record.pid} is not running on {here.host})"
    return None


def refusal(name: str, record: LockRecord | None, *, written_at: float, ttl: float) -> str:
    """The one line a run that finds the lock held raises (``LockHeld``)."""
    if record is None:
        return (f"lock {name!r} has an unreadable record written at {iso(written_at)}; it is taken over from "
                f"{iso(written_at + ttl)}, or remove it by hand if no run holds it")
    return f"lock {name!r} is held by {record.describe()}"


def takeover_line(name: str, record: LockRecord | None, reason: str) -> str:
    whose = record.describe() if record is not None else "an unknown holder"
    return f"lock {name!r} taken over from {whose}: {reason}"


# --- the running host ---------------------------------------------------------------------------------
def this_process() -> Process:
    return Process(socket.gethostname(), os.getpid(), _pid_namespace())


def _pid_namespace() -> str | None:
    """Linux names the PID namespace (``pid:[4026531836]``); two containers sharing a host name do not
    share one, and a PID seen from one says nothing about the other."""
    try:
        return os.readlink("/proc/self/ns/pid")
    except OSError:
        return None


def pid_alive(pid: int) -> bool:
    """Signal 0 checks a process exists without touching it; not being allowed to signal it means it does."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True
