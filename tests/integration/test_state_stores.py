"""Both state stores through the one port: a local directory, and IBM COS through ibm-cos-sdk against
moto's S3 server (a real third-party emulator, in server mode on port 0)."""

from __future__ import annotations

import logging
import os
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from netwarden.adapters.lock_record import LockRecord, decode, encode, this_process
from netwarden.adapters.state_cos import CosStateStore, parse_url
from netwarden.adapters.state_file import FileStateStore, _remove_if_same
from netwarden.core.errors import ConfigError, LockHeld, StateError
from netwarden.core.ports import StateStore

HMAC = {"COS_HMAC_ACCESS_KEY_ID": "hmac-access-id", "COS_HMAC_SECRET_ACCESS_KEY": "hmac-secret-s3cr3t-value"}


class Clock:
    def __init__(self) -> None:
        self.now = 1_000_000.0

    def __call__(self) -> float:
        return self.now


def cos_store(moto_url: str, clock: Clock, prefix: str = "netwarden/state") -> CosStateStore:
    bucket = f"nw-{uuid.uuid4().hex[:12]}"
    store = CosStateStore.from_url(f"cos://{bucket}/{prefix}", environ={"NETWARDEN_COS_ENDPOINT": moto_url, **HMAC},
                                   lock_ttl=60)
    store._client.create_bucket(Bucket=bucket)
    store._clock = clock
    return store


Factory = Callable[[Clock], StateStore]


@pytest.fixture(params=["file", "cos"])
def make_store(request: pytest.FixtureRequest, tmp_path: Path, moto_url: str) -> Factory:
    def make(clock: Clock) -> StateStore:
        if request.param == "file":
            return FileStateStore(tmp_path / "state", lock_ttl=60, clock=clock)
        return cos_store(moto_url, clock)

    return make


def test_put_get_round_trip(make_store: Factory) -> None:
    store = make_store(Clock())
    assert store.get("findings.json") is None
    store.put("findings.json", b'{"a": 1}')
    store.put("findings.json", b'{"a": 2}')
    store.put("audit/2026-03-01T10:00:00Z-run1.json", b"{}")
    assert store.get("findings.json") == b'{"a": 2}'
    assert store.get("audit/2026-03-01T10:00:00Z-run1.json") == b"{}"


def test_append_adds_lines(make_store: Factory) -> None:
    store = make_store(Clock())
    store.append("history.jsonl", b'{"run": 1}')
    store.append("history.jsonl", b'{"run": 2}\n')
    assert store.get("history.jsonl") == b'{"run": 1}\n{"run": 2}\n'


def test_keys_by_prefix(make_store: Factory) -> None:
    store = make_store(Clock())
    for key in ("audit/b.json", "audit/a.json", "snapshots/x.json", "findings.json"):
        store.put(key, b"{}")
    assert list(store.keys("audit/")) == ["audit/a.json", "audit/b.json"]
    assert list(store.keys("")) == ["audit/a.json", "audit/b.json", "findings.json", "snapshots/x.json"]


@pytest.mark.parametrize("key", ["../escape", "/abs", "a/../../b", "", "a\\b"])
def test_bad_keys_are_refused(make_store: Factory, key: str) -> None:
    with pytest.raises(StateError, match="invalid state key"):
        make_store(Clock()).get(key)


def test_lock_contention_and_release(make_store: Factory) -> None:
    clock = Clock()
    store = make_store(clock)
    with store.lock("remediation", "run-a"):
        with pytest.raises(LockHeld, match="run-a"), store.lock("remediation", "run-b"):
            pass
        with store.lock("other", "run-b"):
            pass
    with store.lock("remediation", "run-b"):
        pass


def test_expired_lock_is_taken_over_and_not_released_by_its_old_owner(make_store: Factory) -> None:
    clock = Clock()
    store = make_store(clock)
    old = store.lock("remediation", "run-dead")
    old.__enter__()
    clock.now += 61
    with store.lock("remediation", "run-new"):
        old.__exit__(None, None, None)  # the old owner comes back late: it must not free run-new's lock
        with pytest.raises(LockHeld, match="run-new"), store.lock("remediation", "run-other"):
            pass


def test_two_stores_on_one_location_contend(tmp_path: Path, moto_url: str) -> None:
    clock = Clock()
    a = cos_store(moto_url, clock)
    b = CosStateStore(a._client, a.bucket, a.prefix, lock_ttl=60, clock=clock)
    with a.lock("scan", "run-a"):
        with pytest.raises(LockHeld), b.lock("scan", "run-b"):
            pass
        b.append("history.jsonl", b"from b")
        a.append("history.jsonl", b"from a")
    assert a.get("history.jsonl") == b"from b\nfrom a\n"


LOCK_KEY = "locks/remediate/us-south/prod-vpc.lock"
LOCK_NAME = "remediate/us-south/prod-vpc"
HERE = this_process()
UNTIL = "1970-01-12T13:56:40Z"  # Clock().now + 600


def dead_pid() -> int:
    """A PID that is provably not running here: a child that exited and was waited for."""
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    return child.pid


def found_record(holder: str, *, host: str | None = None, pid: int | None = None, expires_in: float = 600,
                 namespace: str | None = "here") -> Callable[[float], bytes]:
    """A lock record another run left, made when the test runs (so ``dead_pid`` is fresh)."""
    def make(now: float) -> bytes:
        ns = HERE.pid_namespace if namespace == "here" else namespace
        return encode(LockRecord(holder, host or HERE.host, pid if pid is not None else dead_pid(), now - 60,
                                 now + expires_in, ns))
    return make


@pytest.mark.parametrize(("left", "outcome"), [
    (found_record("run-live", pid=os.getpid()),
     f"lock '{LOCK_NAME}' is held by run-live on host {HERE.host}, PID {os.getpid()}, until {UNTIL}"),
    (found_record("run-expired", host="job-7f9c", pid=1, expires_in=-1),
     "taken over from run-expired on host job-7f9c, PID 1, until 1970-01-12T13:46:39Z: its lease ran out"),
    (found_record("run-dead"), f"taken over from run-dead on host {HERE.host}, PID "),
    (found_record("run-elsewhere", host="job-7f9c"), "is held by run-elsewhere on host job-7f9c, PID "),
    (found_record("run-other-container", namespace="pid:[1]"), "is held by run-other-container on host "),
    (lambda now: b'{"owner": "run-v1", "acquired_at": 999940.0, "expires_at": 1000600.0}',
     f"lock '{LOCK_NAME}' is held by run-v1 on an unknown host, PID unknown, until {UNTIL}"),
    (lambda now: b'{"owner": "run-v1", "acquired_at": 999000.0, "expires_at": 999900.0}',
     "taken over from run-v1 on an unknown host, PID unknown, until 1970-01-12T13:45:00Z: its lease ran out"),
], ids=["live-holder-refused", "expired-lease-taken-over", "dead-holder-here-taken-over",
        "live-lease-on-another-host-refused", "same-host-other-pid-namespace-refused", "first-format-live-refused",
        "first-format-expired-taken-over"])
def test_a_found_lock_is_taken_over_or_refused(make_store: Factory, caplog: pytest.LogCaptureFixture,
                                               left: Callable[[float], bytes], outcome: str) -> None:
    clock = Clock()
    store = make_store(clock)
    record = left(clock.now)
    store.put(LOCK_KEY, record)
    caplog.set_level(logging.WARNING, logger="netwarden")
    if "taken over" in outcome:
        with store.lock(LOCK_NAME, "run-new"):
            held = decode(store.get(LOCK_KEY) or b"")
            assert held == LockRecord("run-new", HERE.host, os.getpid(), clock.now, clock.now + 60, HERE.pid_namespace)
        assert store.get(LOCK_KEY) is None, "released on leaving"
        warnings = [r for r in caplog.records if r.levelno == logging.WARNING]
        assert len(warnings) == 1
        assert outcome in warnings[0].getMessage()
        left_by = decode(record)
        if "run-dead" in outcome and left_by is not None:
            assert f"its process is gone (PID {left_by.pid} is not running on {HERE.host})" in warnings[0].getMessage()
        assert "\n" not in warnings[0].getMessage()
    else:
        with pytest.raises(LockHeld) as refused, store.lock(LOCK_NAME, "run-new"):
            pytest.fail("the lock was taken")
        assert outcome in str(refused.value)
        assert "\n" not in str(refused.value)
        assert store.get(LOCK_KEY) == record, "a refusal leaves the holder's record alone"
        assert not [r for r in caplog.records if "taken over" in r.getMessage()]


@pytest.mark.parametrize(("record", "age", "taken"), [
    (b"", 0, False),
    (b'{"version": 2, "holder": "run-torn", "ho', 0, False),
    (b"\x00" * 64, 0, False),
    (b"", 61, True),
    (b'{"version": 2, "holder": "run-torn", "ho', 61, True),
], ids=["empty-fresh-refused", "torn-fresh-refused", "garbage-fresh-refused", "empty-older-than-the-lease-taken-over",
        "torn-older-than-the-lease-taken-over"])
def test_an_unreadable_lock_is_refused_until_it_is_older_than_the_lease(
        make_store: Factory, caplog: pytest.LogCaptureFixture, record: bytes, age: float, taken: bool) -> None:
    """The store's own write time (the file's mtime, the object's Last-Modified) dates such a record."""
    clock = Clock()
    clock.now = time.time() + age
    store = make_store(clock)
    store.put(LOCK_KEY, record)
    caplog.set_level(logging.WARNING, logger="netwarden")
    if taken:
        with store.lock(LOCK_NAME, "run-new"):
            assert (decode(store.get(LOCK_KEY) or b"") or LockRecord("?", None, None, 0, 0)).holder == "run-new"
        assert [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING] == [
            f"lock '{LOCK_NAME}' taken over from an unknown holder: its record is unreadable and older than the "
            "lease (60s)"]
    else:
        with pytest.raises(LockHeld, match=rf"lock '{LOCK_NAME}' has an unreadable record written at "
                                           r"\S+Z; it is taken over from \S+Z"), store.lock(LOCK_NAME, "run-new"):
            pass
        assert store.get(LOCK_KEY) == record


def test_two_runs_taking_over_one_stale_lock_only_one_wins(make_store: Factory, tmp_path: Path,
                                                          moto_url: str) -> None:
    clock = Clock()
    first = make_store(clock)
    first.put(LOCK_KEY, found_record("run-dead")(clock.now))
    if isinstance(first, CosStateStore):
        env = {"NETWARDEN_COS_ENDPOINT": moto_url, **HMAC}
        second: StateStore = CosStateStore.from_url(f"cos://{first.bucket}/{first.prefix}", environ=env, lock_ttl=60)
        second._clock = clock  # type: ignore[attr-defined]
    else:
        second = make_store(clock)
    start, done = threading.Barrier(2, timeout=60), threading.Barrier(2, timeout=60)
    won: list[str] = []
    refused: list[str] = []

    def contend(store: StateStore, owner: str) -> None:
        start.wait()
        try:
            with store.lock(LOCK_NAME, owner):
                won.append(owner)
                done.wait()  # hold the lock until the other run has tried
        except LockHeld as e:
            refused.append(str(e))
            done.wait()

    runs = [threading.Thread(target=contend, args=(s, o)) for s, o in ((first, "run-a"), (second, "run-b"))]
    for t in runs:
        t.start()
    for t in runs:
        t.join()
    assert len(won) == 1, (won, refused)
    assert len(refused) == 1
    assert first.get(LOCK_KEY) is None, "the winner released its lock"


def test_cos_takeover_loses_when_the_stale_record_changed_before_its_write(moto_url: str) -> None:
    """Run b reads the stale lock; run a takes it over before b's write reaches COS (a hook on b's
    client lets it): b's write, conditional on the stale record's ETag, must fail."""
    clock = Clock()
    a = cos_store(moto_url, clock)
    b = CosStateStore.from_url(f"cos://{a.bucket}/{a.prefix}", environ={"NETWARDEN_COS_ENDPOINT": moto_url, **HMAC},
                               lock_ttl=60)
    b._clock = clock
    a.put(LOCK_KEY, found_record("run-dead")(clock.now))
    puts: list[str] = []
    held_by_a = a.lock(LOCK_NAME, "run-a")

    def a_goes_first(params: dict[str, Any], **_: Any) -> None:
        puts.append(params["url_path"])
        if len(puts) == 2:  # b's first put tried to create the lock; its second takes it over
            held_by_a.__enter__()

    b._client.meta.events.register("before-call.s3.PutObject", a_goes_first)
    with pytest.raises(LockHeld, match="taken by another run while this one took over a stale one"), \
            b.lock(LOCK_NAME, "run-b"):
        pass
    assert len(puts) == 2
    assert (decode(a.get(LOCK_KEY) or b"") or LockRecord("?", None, None, 0, 0)).holder == "run-a"
    held_by_a.__exit__(None, None, None)
    assert a.get(LOCK_KEY) is None


def test_file_takeover_puts_back_a_lock_that_replaced_the_stale_one(tmp_path: Path) -> None:
    """The rename-aside check: a lock file created after the stale one was read is not removed."""
    path = tmp_path / "x.lock"
    path.write_bytes(b"stale")
    seen = os.stat(path)
    path.unlink()
    path.write_bytes(b"fresh lock of another run")
    assert _remove_if_same(path, b"stale", seen) is False
    assert path.read_bytes() == b"fresh lock of another run"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["x.lock"]
    assert _remove_if_same(path, b"fresh lock of another run", os.stat(path)) is True
    assert list(tmp_path.iterdir()) == []


def test_cos_objects_live_under_the_prefix(moto_url: str) -> None:
    store = cos_store(moto_url, Clock(), prefix="teams/net")
    store.put("findings.json", b"{}")
    listed = store._client.list_objects_v2(Bucket=store.bucket)["Contents"]
    assert [o["Key"] for o in listed] == ["teams/net/findings.json"]


def test_cos_missing_bucket_is_a_state_error_naming_it(moto_url: str) -> None:
    store = CosStateStore.from_url("cos://no-such-bucket/x", environ={"NETWARDEN_COS_ENDPOINT": moto_url, **HMAC})
    with pytest.raises(StateError, match=r"cos://no-such-bucket/x/findings.json: the bucket does not exist"):
        store.put("findings.json", b"{}")


def test_cos_unreachable_endpoint_is_a_state_error() -> None:
    store = CosStateStore.from_url("cos://b/x", environ={"NETWARDEN_COS_ENDPOINT": "http://127.0.0.1:9", **HMAC})
    store._client.meta.config.retries = {"max_attempts": 0}
    with pytest.raises(StateError, match="unreachable"):
        store.get("findings.json")


def test_cos_secret_never_logged(moto_url: str, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    store = cos_store(moto_url, Clock())
    store.put("findings.json", b"{}")
    with store.lock("scan", "run"):
        store.append("history.jsonl", b"{}")
    assert caplog.records, "expected the SDK to log at DEBUG"
    assert HMAC["COS_HMAC_SECRET_ACCESS_KEY"] not in caplog.text


@pytest.mark.parametrize(("url", "env", "expected"), [
    ("cos://bkt/a/b", {"NETWARDEN_COS_ENDPOINT": "https://e.example/"}, ("bkt", "a/b", "https://e.example")),
    ("cos://bkt?endpoint=https://q.example", {}, ("bkt", "", "https://q.example")),
    ("cos://bkt/p?region=eu-de", {}, ("bkt", "p", "https://s3.eu-de.cloud-object-storage.appdomain.cloud")),
])
def test_parse_url(url: str, env: dict[str, str], expected: tuple[str, str, str]) -> None:
    where = parse_url(url, env)
    assert (where.bucket, where.prefix, where.endpoint) == expected


@pytest.mark.parametrize(("url", "env", "message"), [
    ("cos://bkt/p", {}, "no COS endpoint"),
    ("s3://bkt/p", {}, "expected cos://BUCKET/PREFIX"),
    ("cos://bkt/p", {"NETWARDEN_COS_ENDPOINT": "http://x"}, "no COS credentials"),
])
def test_cos_config_errors(url: str, env: dict[str, str], message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        CosStateStore.from_url(url, environ=env)


def test_file_store_from_url(tmp_path: Path) -> None:
    store = FileStateStore.from_url(f"file://{tmp_path}/s")
    store.put("a/b.json", b"x")
    assert (tmp_path / "s" / "a" / "b.json").read_bytes() == b"x"
    assert list(store.keys()) == ["a/b.json"]


def test_file_store_unwritable_root_is_a_state_error(tmp_path: Path) -> None:
    (tmp_path / "file").write_text("not a directory")
    store = FileStateStore(tmp_path / "file" / "state")
    with pytest.raises(StateError, match="cannot write"):
        store.put("findings.json", b"{}")
