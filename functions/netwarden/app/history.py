"""Use-case: the run history in the state store: one object per run, read by span, trimmed by age.

A run's record (``core.history.run_record``) is written as ``history/<UTC start>-<run id>.json``
(``history/20261203T101500.123Z-event-20261203T101500Z-ab12cd.json``; the milliseconds order two runs
started in the same second, and keys of one-second stamps are still read), so the keys sort by time and a span
is read by listing keys, never by reading what lies outside it; a run writes one new object and rewrites
none (on COS an append would be a read and a rewrite of the whole file). Runs of netwarden before
this kept one line per run in ``history.jsonl``; those lines are still read, and are trimmed by
nobody: the file is left as it was.

``prune`` removes the records older than the retention (``history.retention`` in the config), after a
run's own record is written; a record it cannot parse the time of is kept.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator, Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

from netwarden.core.errors import StateError
from netwarden.core.ports import StateStore

log = logging.getLogger(__name__)

PREFIX = "history/"
LEGACY_KEY = "history.jsonl"
#: How long records are kept when the config says nothing (``history.retention``).
DEFAULT_RETENTION_S = 90 * 24 * 3600


def key_for(record: Mapping[str, Any], started: datetime | None = None) -> str:
    """The record's key; ``started`` is the run's start to the microsecond (the record's own
    ``started_at`` has whole seconds)."""
    moment = started or datetime.fromisoformat(str(record["started_at"]).replace("Z", "+00:00"))
    stamp = moment.astimezone(UTC).strftime("%Y%m%dT%H%M%S.%f")[:-3] + "Z"
    return f"{PREFIX}{stamp}-{record['run_id']}.json"


def write(store: StateStore, record: Mapping[str, Any], started: datetime | None = None) -> None:
    store.put(key_for(record, started), (json.dumps(record, sort_keys=True) + "\n").encode("utf-8"))


def read(store: StateStore, *, since: datetime | None = None) -> list[dict[str, Any]]:
    """The records of runs started at or after ``since`` (all when None), oldest first; a record that
    is not JSON is an error naming its key, never skipped."""
    legacy = [item for item in _legacy(store) if since is None or str(item.get("started_at", "")) >= _stamp(since)]
    out = [((str(item.get("started_at", "")), ""), item) for item in legacy]
    for key in _keys(store, since):
        data = store.get(key)
        if data is None:
            continue  # removed by a prune between the listing and the read
        try:
            item = json.loads(data)
        except ValueError as e:
            raise StateError(f"{key}: not a history record ({e})") from e
        if not isinstance(item, dict):
            raise StateError(f"{key}: not a history record (not a JSON object)")
        out.append(((str(item.get("started_at", "")), key), item))
    return [item for _, item in sorted(out, key=lambda pair: pair[0])]


def prune(store: StateStore, *, now: datetime, retention_s: int) -> int:
    """Remove the records of runs started before ``now - retention_s``; how many were removed."""
    cutoff = _key_stamp(now - timedelta(seconds=retention_s))
    removed = 0
    for key in list(store.keys(PREFIX)):
        stamp = _run_stamp(key)
        if stamp is not None and stamp < cutoff:
            store.delete(key)
            removed += 1
    if removed:
        log.info("history: %d record(s) older than %d day(s) removed", removed, retention_s // 86400)
    return removed


def _keys(store: StateStore, since: datetime | None) -> Iterator[str]:
    low = _key_stamp(since) if since is not None else ""
    for key in store.keys(PREFIX):
        stamp = _run_stamp(key)
        if stamp is None:
            raise StateError(f"{key}: not a history record (its name is not a run id)")
        if stamp >= low:
            yield key


def _legacy(store: StateStore) -> list[dict[str, Any]]:
    out = []
    for n, line in enumerate((store.get(LEGACY_KEY) or b"").splitlines(), 1):
        try:
            item = json.loads(line)
        except ValueError:
            log.warning("%s line %d is not JSON (a torn write?): left out of the history", LEGACY_KEY, n)
            continue
        if isinstance(item, dict):
            out.append(item)
    return out


def _run_stamp(key: str) -> str | None:
    """``20261203T101500Z`` (whole seconds) from ``history/20261203T101500.123Z-<run id>.json`` or
    ``history/20261203T101500Z-<run id>.json``."""
    name = key[len(PREFIX):]
    stamp = name.split("-", 1)[0]
    if not (name.endswith(".json") and stamp.endswith("Z") and len(stamp) in (16, 20) and stamp[8] == "T"):
        return None
    return stamp[:15] + "Z"


def _key_stamp(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")


def _stamp(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
