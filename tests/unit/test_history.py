"""The run history: a run's record from its lifecycle step, a span summarized, records kept one object
per run in a state store, read by span and trimmed by age."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from netwarden.adapters.state_file import FileStateStore
from netwarden.app import history as store_history
from netwarden.core import history, lifecycle
from netwarden.core.errors import StateError
from netwarden.core.findings import ResourceRef, make
from netwarden.core.initiator import Initiator
from netwarden.core.report.history import duration, render_history

T0 = datetime(2026, 11, 1, 10, 0, tzinfo=UTC)
ALICE = Initiator("IBMid-1", "alice@example.com", "user", "2026-11-01T09:59:00Z")


def stamp(moment: datetime) -> str:
    return lifecycle.rfc3339(moment)


def record(at: datetime, events: list[dict[str, Any]], kind: str = "scan", status: str = "drift") -> dict[str, Any]:
    return {"run_id": f"{at:%Y%m%dT%H%M%SZ}-abc", "kind": kind, "status": status, "started_at": stamp(at),
            "finished_at": stamp(at + timedelta(seconds=3)), "by_severity": {"high": 1}, "events": events}


def event(transition: str, resource: str, first_seen: datetime, resolved: datetime | None = None,
          who: Initiator | None = None) -> dict[str, Any]:
    return {"transition": transition, "fingerprint": resource[-4:], "code": "acl-rule-unexpected", "severity": "high",
            "resource": resource, "first_seen": stamp(first_seen),
            "resolved_at": stamp(resolved) if resolved else None, "initiator": who.to_dict() if who else None}


def test_a_run_record_holds_the_findings_it_opened_and_resolved() -> None:
    f = make("acl-rule-unexpected", ResourceRef("network-acl", region="us-south", vpc="v", acl="a", rule="r"), "m")
    g = make("subnet-allow-all", ResourceRef("subnet", region="us-south", vpc="v", subnet="s"), "m")
    step = lifecycle.advance({}, [f, g], now=T0, channels=(), remind_after=0, suppressions=(),
                             initiators={f.fingerprint: ALICE})
    states = lifecycle.settle(step, {}, T0)
    later = lifecycle.advance(states, [f], now=T0 + timedelta(hours=1), channels=(), remind_after=0, suppressions=())
    first = history.run_record({"run_id": "r1"}, step.transitions, step.states)
    second = history.run_record({"run_id": "r2"}, later.transitions, later.states)
    assert first["schema_version"] == history.SCHEMA_VERSION
    assert sorted((e["transition"], e["code"]) for e in first["events"]) == [("new", "acl-rule-unexpected"),
                                                                             ("new", "subnet-allow-all")]
    assert next(e for e in first["events"] if e["code"] == "acl-rule-unexpected")["initiator"] == ALICE.to_dict()
    assert [(e["transition"], e["code"]) for e in second["events"]] == [("resolved", "subnet-allow-all")]
    assert second["events"][0]["resolved_at"] == stamp(T0 + timedelta(hours=1))


RUNS = [
    record(T0, [event("new", "acl/a/r1", T0, who=ALICE), event("new", "subnet/s1", T0)]),
    record(T0 + timedelta(hours=2), [event("resolved", "subnet/s1", T0, T0 + timedelta(hours=2)),
                                     event("changed", "acl/a/r1", T0, who=ALICE)], kind="event"),
    record(T0 + timedelta(days=2), [event("resolved", "acl/a/r1", T0, T0 + timedelta(days=2))], status="in_sync"),
    {"schema_version": 1, "run_id": "old", "kind": "scan", "status": "drift",
     "started_at": stamp(T0 - timedelta(days=5))},
]


@pytest.mark.parametrize(("since", "expected"), [
    (None, {"runs": 4, "opened": 2, "changed": 1, "resolved": 2, "median_time_to_resolve_s": (7200 + 172800) / 2,
            "longest_time_to_resolve_s": 172800.0, "by_kind": {"event": 1, "scan": 3}}),
    (T0 + timedelta(hours=1), {"runs": 2, "opened": 0, "changed": 1, "resolved": 2,
                               "by_kind": {"event": 1, "scan": 1}}),
    (T0 + timedelta(days=3), {"runs": 0, "opened": 0, "resolved": 0, "median_time_to_resolve_s": None}),
])
def test_a_span_summarized(since: datetime | None, expected: dict[str, Any]) -> None:
    got = history.summarize(reversed(RUNS), since=since).to_dict()
    assert {k: got[k] for k in expected} == expected


def test_the_most_drifted_resources_and_who_changed_what() -> None:
    s = history.summarize(RUNS)
    assert s.most_drifted == (("acl/a/r1", 2), ("subnet/s1", 1))
    assert s.by_initiator == ((ALICE.text, 2), ("not known (no Activity Tracker event named who)", 1))
    assert s.open_now == {"high": 1} and s.by_status == {"drift": 3, "in_sync": 1}


@pytest.mark.parametrize(("seconds", "text"), [(None, "-"), (40, "40s"), (125, "2m 5s"), (7200, "2h"),
                                               (3 * 86400 + 4 * 3600, "3d 4h")])
def test_durations(seconds: float | None, text: str) -> None:
    assert duration(seconds) == text


@pytest.mark.parametrize("fmt", ["text", "json", "html"])
def test_every_format_names_the_change_and_who(fmt: str) -> None:
    out = render_history(history.summarize(RUNS), fmt, width=80)
    assert "acl/a/r1" in out and "alice@example.com" in out
    if fmt == "text":
        assert max(len(line) for line in out.splitlines()) <= 80
    if fmt == "json":
        assert json.loads(out)["runs"] == 4


# --- the store ---------------------------------------------------------------------------------------


@pytest.fixture
def store(tmp_path: Path) -> FileStateStore:
    return FileStateStore(tmp_path / "state")


def test_one_object_per_run_read_by_span_and_pruned_by_age(store: FileStateStore) -> None:
    for r in RUNS[:3]:
        store_history.write(store, r)
    store.append(store_history.LEGACY_KEY, json.dumps(RUNS[3]).encode())
    assert len(list(store.keys(store_history.PREFIX))) == 3
    assert [r["run_id"] for r in store_history.read(store)] == ["old", *(r["run_id"] for r in RUNS[:3])]
    assert [r["run_id"] for r in store_history.read(store, since=T0 + timedelta(days=1))] == [RUNS[2]["run_id"]]
    removed = store_history.prune(store, now=T0 + timedelta(days=31), retention_s=30 * 86400)
    assert removed == 2 and [r["run_id"] for r in store_history.read(store)] == ["old", RUNS[2]["run_id"]]


def test_runs_started_in_the_same_second_read_in_the_order_they_started(store: FileStateStore) -> None:
    # run ids end in a random suffix, so only the start's milliseconds can order them
    started = T0.replace(microsecond=100_000)
    runs = [({"run_id": "20261101T100000Z-ffffff", "started_at": lifecycle.rfc3339(started)}, started),
            ({"run_id": "20261101T100000Z-000000", "started_at": lifecycle.rfc3339(started)},
             started + timedelta(milliseconds=400))]
    for record, moment in runs:
        store_history.write(store, record, moment)
    store.put("history/20261101T095959Z-earlier.json", json.dumps({"run_id": "earlier",
              "started_at": lifecycle.rfc3339(T0 - timedelta(seconds=1))}).encode())  # a one-second key
    assert [r["run_id"] for r in store_history.read(store)] == ["earlier", *(r["run_id"] for r, _ in runs)]
    assert store_history.prune(store, now=started + timedelta(days=30), retention_s=30 * 86400) == 1


@pytest.mark.parametrize(("key", "data", "message"), [
    ("history/20261101T100000Z-x.json", b"{torn", "not a history record"),
    ("history/20261101T100000Z-x.json", b"[1]", "not a JSON object"),
    ("history/notes.txt", b"{}", "its name is not a run id"),
])
def test_a_record_that_cannot_be_read_is_an_error_naming_it(store: FileStateStore, key: str, data: bytes,
                                                            message: str) -> None:
    store.put(key, data)
    with pytest.raises(StateError, match=message) as e:
        store_history.read(store)
    assert key in str(e.value)


def test_delete_removes_a_key_and_a_missing_one_is_no_error(store: FileStateStore) -> None:
    store.put("history/a.json", b"{}")
    store.delete("history/a.json")
    store.delete("history/a.json")
    assert store.get("history/a.json") is None
