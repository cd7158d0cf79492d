"""The lock record both state stores keep: its encoding, the first format still read, garbage
refused, and the one decision of when a lock may be taken over, as a table."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from netwarden.adapters.lock_record import (
    DEFAULT_LOCK_TTL,
    LockRecord,
    Process,
    decode,
    encode,
    iso,
    new,
    pid_alive,
    refusal,
    stale_reason,
    takeover_line,
    this_process,
)

NOW = 1_000_000.0  # 1970-01-12T13:46:40Z
TTL = 600.0
HERE = Process("web-1", 4242, "pid:[4026531836]")


def dead_pid() -> int:
    """A PID that is provably not running: a child that has exited and been waited for."""
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    return child.pid


def test_a_new_record_names_holder_host_pid_and_lease() -> None:
    record = new("run-a", HERE, now=NOW, ttl=TTL)
    assert record == LockRecord("run-a", "web-1", 4242, NOW, NOW + TTL, "pid:[4026531836]")


def test_the_encoding_is_small_json_with_utc_times() -> None:
    doc = json.loads(encode(new("run-a", HERE, now=NOW + 0.25, ttl=TTL)))
    assert doc == {"version": 2, "holder": "run-a", "host": "web-1", "pid": 4242, "pid_namespace": "pid:[4026531836]",
                   "taken_at": "1970-01-12T13:46:40.250Z", "expires_at": "1970-01-12T13:56:40.250Z"}


@pytest.mark.parametrize("record", [
    LockRecord("run-a", "web-1", 4242, NOW, NOW + TTL, "pid:[4026531836]"),
    LockRecord("run-b", "job-7f9c", 1, NOW + 0.5, NOW + 1800.5, None),
    LockRecord("cli-9e1d2a", "laptop.local", 99999, NOW, NOW, None),
], ids=["with-pid-namespace", "without-pid-namespace", "zero-lease"])
def test_encode_then_decode_gives_the_record_back(record: LockRecord) -> None:
    assert decode(encode(record)) == record


@pytest.mark.parametrize(("data", "expected"), [
    (b'{"owner": "run-old", "acquired_at": 1000000.0, "expires_at": 1000900.0}',
     LockRecord("run-old", None, None, NOW, NOW + 900, None)),
    (b'{"owner": "run-old", "expires_at": 1000900}', LockRecord("run-old", None, None, NOW + 900, NOW + 900, None)),
    (b'{"version": 3, "holder": "run-new", "host": "h", "pid": 7, "taken_at": "1970-01-12T13:46:40Z",'
     b' "expires_at": "1970-01-12T13:56:40Z", "lease_renewals": 2}',
     LockRecord("run-new", "h", 7, NOW, NOW + TTL, None)),
], ids=["first-format", "first-format-without-acquired-at", "newer-version-with-an-extra-field"])
def test_older_and_newer_records_are_read(data: bytes, expected: LockRecord) -> None:
    assert decode(data) == expected


GOOD = {"version": 2, "holder": "run-a", "host": "h", "pid": 7, "taken_at": "1970-01-12T13:46:40Z",
        "expires_at": "1970-01-12T13:56:40Z"}


@pytest.mark.parametrize("data", [
    b"",
    b'{"version": 2, "holder": "run-a", "ho',
    b"\x00\x00\x00\x00",
    b"null",
    b'["run-a"]',
    json.dumps({**GOOD, "version": 1}).encode(),
    json.dumps({**GOOD, "version": "2"}).encode(),
    json.dumps({k: v for k, v in GOOD.items() if k != "pid"}).encode(),
    json.dumps({**GOOD, "pid": "7"}).encode(),
    json.dumps({**GOOD, "pid": True}).encode(),
    json.dumps({**GOOD, "host": None}).encode(),
    json.dumps({**GOOD, "expires_at": "1970-01-12T13:56:40"}).encode(),
    json.dumps({**GOOD, "expires_at": "soon"}).encode(),
    json.dumps({**GOOD, "expires_at": True}).encode(),
    b'{"owner": "run-old", "expires_at": "tomorrow"}',
    b'{"owner": "run-old"}',
], ids=["empty", "torn", "zeros", "null", "a-list", "version-1", "version-as-text", "no-pid", "pid-as-text",
        "pid-as-boolean", "no-host", "time-without-zone", "time-as-words", "time-as-boolean",
        "first-format-bad-time", "first-format-no-expiry"])
def test_what_is_not_a_record_decodes_to_none(data: bytes) -> None:
    assert decode(data) is None


LIVE = LockRecord("run-a", "web-1", 4242, NOW - 60, NOW + 540, "pid:[4026531836]")


def _with(**changes: object) -> LockRecord:
    fields = {"holder": LIVE.holder, "host": LIVE.host, "pid": LIVE.pid, "taken_at": LIVE.taken_at,
              "expires_at": LIVE.expires_at, "pid_namespace": LIVE.pid_namespace, **changes}
    return LockRecord(**fields)  # type: ignore[arg-type]


@pytest.mark.parametrize(("record", "alive_pids", "written_at", "expected"), [
    (LIVE, {4242}, NOW, None),
    (LIVE, set(), NOW, "its process is gone (PID 4242 is not running on web-1)"),
    (_with(expires_at=NOW), {4242}, NOW, "its lease ran out at 1970-01-12T13:46:40Z"),
    (_with(expires_at=NOW + 0.001), {4242}, NOW, None),
    (_with(expires_at=NOW - 5, host="job-7f9c"), set(), NOW, "its lease ran out at 1970-01-12T13:46:35Z"),
    (_with(host="job-7f9c"), set(), NOW, None),
    (_with(pid_namespace="pid:[4026532999]"), set(), NOW, None),
    (_with(pid_namespace=None), set(), NOW, None),
    (_with(pid=0), set(), NOW, None),
    (_with(host=None, pid=None, pid_namespace=None), set(), NOW, None),
    (_with(host=None, pid=None, pid_namespace=None, expires_at=NOW - 1), set(), NOW,
     "its lease ran out at 1970-01-12T13:46:39Z"),
    (None, set(), NOW - 10, None),
    (None, set(), NOW - TTL, "its record is unreadable and older than the lease (600s)"),
], ids=["live-holder-here", "dead-holder-here", "lease-ends-now", "lease-ends-in-a-millisecond",
        "expired-elsewhere", "live-lease-on-another-host-whose-pid-is-not-here",
        "same-host-other-pid-namespace", "same-host-record-without-pid-namespace", "pid-0-proves-nothing",
        "first-format-live", "first-format-expired", "unreadable-fresh", "unreadable-older-than-the-lease"])
def test_when_a_lock_is_stale(record: LockRecord | None, alive_pids: set[int], written_at: float,
                              expected: str | None) -> None:
    asked: list[int] = []

    def alive(pid: int) -> bool:
        asked.append(pid)
        return pid in alive_pids

    assert stale_reason(record, now=NOW, written_at=written_at, ttl=TTL, here=HERE, alive=alive) == expected
    if record is None or record.host != HERE.host or record.pid_namespace != HERE.pid_namespace:
        assert asked == [], "a PID is only looked up on the host and PID namespace it belongs to"


@pytest.mark.parametrize(("record", "expected"), [
    (LIVE, "lock 'remediate/us-south/prod-vpc' is held by run-a on host web-1, PID 4242, until 1970-01-12T13:55:40Z"),
    (_with(host=None, pid=None, pid_namespace=None),
     "lock 'remediate/us-south/prod-vpc' is held by run-a on an unknown host, PID unknown, until 1970-01-12T13:55:40Z"),
    (None, "lock 'remediate/us-south/prod-vpc' has an unreadable record written at 1970-01-12T13:46:40Z; it is taken "
           "over from 1970-01-12T13:56:40Z, or remove it by hand if no run holds it"),
], ids=["record", "first-format", "unreadable"])
def test_a_refusal_is_one_line_naming_holder_host_pid_and_until(record: LockRecord | None, expected: str) -> None:
    assert refusal("remediate/us-south/prod-vpc", record, written_at=NOW, ttl=TTL) == expected


def test_the_takeover_line_says_whose_lock_and_why() -> None:
    assert takeover_line("scan", LIVE, "its process is gone (PID 4242 is not running on web-1)") == (
        "lock 'scan' taken over from run-a on host web-1, PID 4242, until 1970-01-12T13:55:40Z: "
        "its process is gone (PID 4242 is not running on web-1)")
    assert takeover_line("scan", None, "its record is unreadable").startswith("lock 'scan' taken over from an unknown")


def test_iso_is_utc_to_the_second() -> None:
    assert iso(NOW + 0.999) == "1970-01-12T13:46:40Z"


@pytest.mark.parametrize(("pid", "alive"), [
    (os.getpid(), True),
    (1, True),
], ids=["this-process", "init"])
def test_pid_alive_for_running_processes(pid: int, alive: bool) -> None:
    assert pid_alive(pid) is alive


def test_pid_alive_is_false_for_an_exited_child() -> None:
    assert pid_alive(dead_pid()) is False


def test_this_process_is_this_process() -> None:
    here = this_process()
    assert here.pid == os.getpid()
    assert here.host
    assert this_process() == here


def test_the_lease_outlasts_the_longest_run_code_engine_allows() -> None:
    """A lease that ran out under a live holder would let a second run write at the same time."""
    terraform = Path(__file__).parents[2] / "infra" / "terraform"
    limits = [int(n) for tf in terraform.glob("*.tf")
              for n in re.findall(r"scale_max_execution_time\s*=\s*(\d+)", tf.read_text())]
    assert limits, "expected the Code Engine jobs' execution limits in infra/terraform"
    assert max(limits) <= DEFAULT_LOCK_TTL
