"""``netwarden watch`` against the emulators: a change made with kubectl is alerted in seconds and once;
a burst is one alert; a gap in the watch (410) is relisted with no change missed; a restarted API
server is reconnected to; an Activity Tracker event posted as a CloudEvent is checked; the function's
API is served; SIGTERM ends it cleanly. The latency itself is measured in benchmarks/."""

from __future__ import annotations

import json
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from ce_deployment import delete_rule

from netwarden.entrypoints import cli
from netwarden.fakes.server import FakeServer
from watch_process import CLUSTER, KUBECTL, Estate, Watcher, estate, get_json, start, wait_for

pytestmark = pytest.mark.skipif(KUBECTL is None, reason="kubectl is not installed on this machine (not on PATH)")


@pytest.fixture
def running(fake: FakeServer, tmp_path: Path) -> Iterator[tuple[Estate, Watcher]]:
    e = estate(fake, tmp_path)
    w = start(e, "--watch-timeout", "2")
    yield e, w
    assert w.stop() == 0, w.log.read_text(encoding="utf-8")[-3000:]
    assert any(line["message"] == "stopped" for line in w.logs()), "SIGTERM ends it cleanly, and says so"


def alerts(e: Estate, n: int) -> list[str]:
    def enough() -> list[str] | None:
        texts = e.slack_texts()
        return texts if len(texts) >= n else None

    return list(wait_for(f"{n} Slack message(s)", enough, timeout=15))


def policy(name: str, port: int) -> str:
    return (f"apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata:\n  name: {name}\n  namespace: accounts\n"
            f"spec:\n  podSelector: {{}}\n  ingress:\n  - ports:\n    - port: {port}\n      protocol: TCP\n")


def test_a_policy_deleted_with_kubectl_is_alerted_once_and_the_next_scan_agrees(
        running: tuple[Estate, Watcher], monkeypatch: pytest.MonkeyPatch) -> None:
    e, w = running
    e.kubectl("delete", "networkpolicy", "db-allow", "-n", "accounts")
    [text] = alerts(e, 1)
    assert "netpol-missing" in text and "db-allow" in text and "(watch)" in text
    wait_for("the re-check to settle", lambda: w.settled(2))
    assert len(e.slack()) == 1, "exactly once"
    for key, value in e.env.items():
        monkeypatch.setenv(key, value)
    assert cli.main(["scan", "--config", str(e.config)]) == 0
    assert len(e.slack()) == 1, "the scan sees the same finding, with the same content: no second alert"


def test_five_policies_applied_at_once_are_one_alert(running: tuple[Estate, Watcher], tmp_path: Path) -> None:
    e, w = running
    folder = tmp_path / "policies"
    folder.mkdir()
    for i in range(5):
        (folder / f"extra-{i}.yaml").write_text(policy(f"extra-{i}", 8000 + i), encoding="utf-8")
    e.kubectl("apply", "-f", str(folder))
    [text] = alerts(e, 1)
    assert all(f"extra-{i}" in text for i in range(5)) and "5 new" in text
    wait_for("the re-check to settle", lambda: w.settled(2))
    assert len(e.slack()) == 1


def test_a_gap_in_the_watch_is_relisted_and_no_change_is_missed(running: tuple[Estate, Watcher]) -> None:
    e, w = running
    since = len(get_json(f"{e.url}/_fake/requests")[1]["requests"])
    post(e, "/_fake/faults", {"path": "networkpolicies\\?.*watch=1", "status": 503})
    wait_for("a watch request refused", lambda: [r for r in get_json(f"{e.url}/_fake/requests?since={since}")[1][
        "requests"] if r.get("fault") and r["query"].get("watch") == "1"], timeout=15)
    e.kubectl("delete", "networkpolicy", "db-allow", "-n", "accounts")
    post(e, f"/_fake/kube/{CLUSTER}/compact", {})
    delete(e, "/_fake/faults")
    [text] = alerts(e, 1)
    assert "db-allow" in text
    watches = wait_for("the relist", lambda: (s := w.status()["clusters"][CLUSTER])["networkpolicies"]["relists"]
                       and s)
    assert watches["networkpolicies"]["relists"] == 1
    wait_for("the re-check to settle", lambda: w.settled(2))
    assert len(e.slack()) == 1


def test_after_the_api_server_restarts_the_watcher_reconnects_and_still_alerts(tmp_path: Path) -> None:
    first = FakeServer().start()
    second: FakeServer | None = None
    w: Watcher | None = None
    try:
        e = estate(first, tmp_path)
        w = start(e, "--watch-timeout", "30")
        first.stop()
        wait_for("the watcher to notice", lambda: w is not None and not w.status()["watching"], timeout=15)
        assert w.get("/readyz")[0] == 200, "still ready: it takes events while it reconnects"
        second = FakeServer(port=first.port, cloud=first.cloud).start()
        wait_for("the watcher to reconnect", lambda: w is not None and w.status()["watching"], timeout=20)
        e.kubectl("delete", "networkpolicy", "db-allow", "-n", "accounts")
        [text] = alerts(e, 1)
        assert "db-allow" in text
    finally:
        if w is not None:
            assert w.stop() == 0
        (second or first).stop()


def test_an_activity_tracker_event_posted_as_a_cloudevent_is_checked(running: tuple[Estate, Watcher]) -> None:
    e, w = running
    seen = len(get_json(f"{e.url}/_fake/events")[1]["events"])
    delete_rule(e.sdk())
    [event] = [x for x in get_json(f"{e.url}/_fake/events?since={seen}")[1]["events"] if x.get("action")]
    headers = {"Content-Type": "application/json", "Ce-Specversion": "1.0", "Ce-Id": "partition:0/offset:7",
               "Ce-Type": "dev.knative.kafka.event",
               "Ce-Source": "/apis/v1/namespaces/p/kafkasources/netwarden-vpc-events#netwarden-vpc-events"}
    code, body = w.post("/events", json.dumps(event).encode(), headers)
    assert (code, body["status"]) == (202, "accepted")
    [text] = alerts(e, 1)
    assert "acl-rule-missing" in text and "(event)" in text


@pytest.mark.parametrize(("body", "headers", "status", "says"), [
    (b"{not json", {"Content-Type": "application/json"}, 400, "not JSON"),
    (b'{"action": "is.instance.instance.update", "outcome": "success"}', {}, 200, "acknowledged"),
    (json.dumps({"specversion": "1.0", "type": "t", "source": "s", "id": "1"}).encode(),
     {"Content-Type": "application/cloudevents+json"}, 400, "has no data"),
    (b"x" * (64 * 1024 + 1), {}, 413, "larger than"),
])
def test_what_is_no_event_is_refused_in_one_line(running: tuple[Estate, Watcher], body: bytes,
                                                 headers: dict[str, str], status: int, says: str) -> None:
    _, w = running
    code, answer = w.post("/events", body, headers)
    assert code == status and says in json.dumps(answer)


def test_the_remediation_api_is_served_with_the_functions_token(running: tuple[Estate, Watcher]) -> None:
    _, w = running
    plan = json.dumps({"action": "plan"}).encode()
    assert w.post("/remediate", plan, {"Content-Type": "application/json"})[0] == 401
    code, body = w.post("/remediate", plan, {"Content-Type": "application/json",
                                             "Authorization": "Bearer watch-test-token"})
    assert (code, body["status"]) == (200, "nothing-to-do")
    assert "watch-test-token" not in w.log.read_text(encoding="utf-8")


def post(e: Estate, path: str, body: Any) -> None:
    request = urllib.request.Request(f"{e.url}{path}", data=json.dumps(body).encode(),
                                     headers={"Content-Type": "application/json"}, method="POST")
    urllib.request.urlopen(request, timeout=10).close()


def delete(e: Estate, path: str) -> None:
    urllib.request.urlopen(urllib.request.Request(f"{e.url}{path}", method="DELETE"), timeout=10).close()
