"""Both state stores through the one port: a local directory, and IBM COS through ibm-cos-sdk against
moto's S3 server (a real third-party emulator, in server mode on port 0)."""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable
from pathlib import Path

import pytest

from netwarden.adapters.state_cos import CosStateStore, parse_url
from netwarden.adapters.state_file import FileStateStore
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
