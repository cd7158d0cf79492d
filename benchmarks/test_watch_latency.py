"""Detection latency of the resident watcher, end to end, as an operator would time it: from a kubectl
change (a NetworkPolicy deleted or widened, a namespace relabelled) to the Slack message at the
emulator's recorder, and from an Activity Tracker event posted to the watcher to its alert.

``netwarden watch`` runs as its own process (``tests/watch_process.py``) against the recipe on the
emulators, with its default coalescing (0.5 s of quiet). Each round is timed from just before the
change to the message's arrival, kubectl's own start-up included; between rounds the change is
undone and its resolution awaited, unmeasured. Every round checks that exactly one message came.
Figures, not limits: ``make bench`` prints them (the issue's bar: a median of 2 s or less).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from netwarden.fakes.server import FakeServer
from watch_process import BASELINE, KUBECTL, Estate, Watcher, estate, get_json, start, wait_for

pytestmark = pytest.mark.skipif(KUBECTL is None, reason="kubectl is not installed on this machine (not on PATH)")
ROUNDS = 5
POLICY = BASELINE / "kubernetes" / "iks-cluster" / "accounts" / "db-allow.yaml"
WIDE = POLICY.read_text(encoding="utf-8").replace(
    "  - from:\n    - podSelector:\n        matchLabels:\n          app: Srv1\n          tier: backend\n",
    "  - {}\n")


@pytest.fixture(scope="module")
def watching(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Estate, Watcher]]:
    with FakeServer() as fake:
        e = estate(fake, tmp_path_factory.mktemp("watch"))
        w = start(e)
        yield e, w
        assert w.stop() == 0


def _messages(e: Estate, n: int) -> None:
    wait_for(f"{n} Slack message(s)", lambda: len(e.slack()) >= n, timeout=30, every=0.01)


class Rounds:
    """Timed rounds of one change: ``timed`` makes it and waits for its alert; ``setup`` (untimed) checks
    that the last change was alerted exactly once, undoes it and waits for the resolution."""

    def __init__(self, e: Estate, w: Watcher, change: Callable[[], object], undo: Callable[[], object]) -> None:
        self.e, self.w, self.change, self.undo = e, w, change, undo
        self.told = 0
        self.changed = False

    def setup(self) -> None:
        wait_for("the watcher to settle", lambda: self.w.settled(0))
        if self.changed:
            assert len(self.e.slack()) == self.told + 1, "one change, one alert"
            self.undo()
            _messages(self.e, self.told + 2)
            wait_for("the watcher to settle", lambda: self.w.settled(0))
            assert "resolved" in json.dumps(self.e.slack()[-1]["body"])
            self.changed = False
        self.told = len(self.e.slack())

    def timed(self) -> None:
        self.change()
        _messages(self.e, self.told + 1)
        self.changed = True


KUBECTL_CHANGES: dict[str, tuple[list[str], list[str], str | None]] = {
    "networkpolicy-deleted": (["delete", "networkpolicy", "db-allow", "-n", "accounts"], ["apply", "-f", str(POLICY)],
                              None),
    "networkpolicy-widened": (["apply", "-f", "-"], ["apply", "-f", str(POLICY)], WIDE),
    "namespace-relabelled": (["label", "namespace", "accounts", "usage=other", "--overwrite"],
                             ["label", "namespace", "accounts", "usage=accounts", "--overwrite"], None),
}


@pytest.mark.parametrize("kind", KUBECTL_CHANGES)
def test_kubectl_change_to_slack(benchmark: Any, watching: tuple[Estate, Watcher], kind: str) -> None:
    e, w = watching
    do, undo, stdin = KUBECTL_CHANGES[kind]
    rounds = Rounds(e, w, lambda: e.kubectl(*do, stdin=stdin), lambda: e.kubectl(*undo))
    benchmark.pedantic(rounds.timed, setup=rounds.setup, rounds=ROUNDS, iterations=1)
    rounds.setup()  # the last change checked and undone, for the next kind


def test_activity_tracker_event_to_slack(benchmark: Any, watching: tuple[Estate, Watcher]) -> None:
    """The event of a subnet re-attached to the VPC's default ACL, posted as the Kafka subscription
    would post it; undone by re-attaching the subnet's own ACL and posting that event."""
    e, w = watching
    sdk = e.sdk()
    subnet = next(s for s in sdk.list_subnets().get_result()["subnets"] if s["name"] == "iks-vpc-us-south-2")
    own = subnet["network_acl"]["id"]
    default = sdk.get_vpc(subnet["vpc"]["id"]).get_result()["default_network_acl"]["id"]
    pending: list[dict[str, Any]] = []

    def attach(acl: str) -> dict[str, Any]:
        seen = len(get_json(f"{e.url}/_fake/events")[1]["events"])
        sdk.replace_subnet_network_acl(subnet["id"], {"id": acl})
        [event] = [x for x in get_json(f"{e.url}/_fake/events?since={seen}")[1]["events"] if x.get("action")]
        return dict(event)

    def post(event: dict[str, Any]) -> None:
        headers = {"Content-Type": "application/json", "Ce-Specversion": "1.0", "Ce-Id": "bench",
                   "Ce-Type": "dev.knative.kafka.event"}
        assert w.post("/events", json.dumps(event).encode(), headers)[0] == 202

    rounds = Rounds(e, w, lambda: post(pending.pop()), lambda: post(attach(own)))

    def setup() -> None:
        rounds.setup()
        pending.append(attach(default))  # the change itself is made untimed: the event is what is timed

    benchmark.pedantic(rounds.timed, setup=setup, rounds=ROUNDS, iterations=1)
    rounds.setup()
