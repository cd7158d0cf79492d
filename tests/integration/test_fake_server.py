"""The emulator server's own machinery: routing by prefix, the control API, faults and the request log."""

from __future__ import annotations

import time

import pytest
import requests

from netwarden.fakes.server import FakeServer


def test_unknown_prefix_is_404(fake: FakeServer) -> None:
    r = requests.get(f"{fake.url}/nowhere", timeout=5)
    assert r.status_code == 404
    assert "no emulator serves" in r.json()["error"]


def test_unknown_control_route_is_404(fake: FakeServer) -> None:
    assert requests.get(f"{fake.url}/_fake/bogus", timeout=5).status_code == 404


@pytest.mark.parametrize(
    ("spec", "message"),
    [({"path": "(", "status": 503}, "unterminated"), ({"bogus": 1}, "unknown fault keys")],
)
def test_bad_fault_is_400(fake: FakeServer, spec: dict[str, object], message: str) -> None:
    r = requests.post(f"{fake.url}/_fake/faults", json=spec, timeout=5)
    assert r.status_code == 400
    assert message in r.json()["error"]


def test_fault_with_count_fires_that_many_times(fake: FakeServer) -> None:
    r = requests.post(f"{fake.url}/_fake/faults",
                      json={"path": "^/nowhere", "status": 429, "count": 2, "retry_after": 0}, timeout=5)
    assert r.status_code == 201
    statuses = [requests.get(f"{fake.url}/nowhere", timeout=5) for _ in range(3)]
    assert [s.status_code for s in statuses] == [429, 429, 404]
    assert statuses[0].headers["Retry-After"] == "0"
    listed = requests.get(f"{fake.url}/_fake/faults", timeout=5).json()["faults"]
    assert listed[0]["fired"] == 2


def test_fault_rate_is_a_share(fake: FakeServer) -> None:
    requests.post(f"{fake.url}/_fake/faults", json={"path": "^/nowhere", "status": 503, "rate": 0.3}, timeout=5)
    codes = [requests.get(f"{fake.url}/nowhere", timeout=5).status_code for _ in range(200)]
    failed = codes.count(503)
    assert 30 <= failed <= 90, failed
    assert set(codes) == {503, 404}


def test_fault_method_filter_and_clear(fake: FakeServer) -> None:
    requests.post(f"{fake.url}/_fake/faults", json={"path": "^/nowhere", "method": "POST", "status": 500}, timeout=5)
    assert requests.get(f"{fake.url}/nowhere", timeout=5).status_code == 404
    assert requests.post(f"{fake.url}/nowhere", timeout=5).status_code == 500
    requests.delete(f"{fake.url}/_fake/faults", timeout=5)
    assert requests.post(f"{fake.url}/nowhere", timeout=5).status_code == 404


def test_dropped_connection(fake: FakeServer) -> None:
    requests.post(f"{fake.url}/_fake/faults", json={"path": "^/nowhere", "drop": True, "count": 1}, timeout=5)
    with pytest.raises(requests.ConnectionError):
        requests.get(f"{fake.url}/nowhere", timeout=5)
    assert requests.get(f"{fake.url}/nowhere", timeout=5).status_code == 404


def test_latency(fake: FakeServer) -> None:
    requests.post(f"{fake.url}/_fake/faults",
                  json={"path": "^/nowhere", "status": None, "latency_ms": 200, "count": 1}, timeout=5)
    start = time.monotonic()
    r = requests.get(f"{fake.url}/nowhere", timeout=5)
    assert r.status_code == 404
    assert time.monotonic() - start >= 0.2


def test_request_log_and_reset(fake: FakeServer) -> None:
    requests.get(f"{fake.url}/nowhere?x=1", timeout=5)
    log = requests.get(f"{fake.url}/_fake/requests", timeout=5).json()["requests"]
    assert [(r["method"], r["path"], r["query"], r["status"]) for r in log] == [("GET", "/nowhere", {"x": "1"}, 404)]
    since = log[-1]["seq"] + 1
    requests.get(f"{fake.url}/nowhere", timeout=5)
    assert len(requests.get(f"{fake.url}/_fake/requests?since={since}", timeout=5).json()["requests"]) == 1
    assert requests.post(f"{fake.url}/_fake/reset", timeout=5).json() == {"reset": True}
    assert requests.get(f"{fake.url}/_fake/requests", timeout=5).json()["requests"] == []
