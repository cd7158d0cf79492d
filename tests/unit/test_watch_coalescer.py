"""The watcher's coalescing and its worker, on a clock the tests move: a burst is one re-check, each
target its own, a failed re-check is tried again (with what touched the target meanwhile) and never
lost, and nothing stops the worker."""

from __future__ import annotations

import threading
from collections.abc import Sequence

import pytest

from netwarden.app.watch import Change, Coalescer, Watcher
from netwarden.core.errors import LockHeld


def c(target: str, what: str = "x") -> Change:
    return Change(target, what)


# (changes as (time, target)), (time asked, targets due then)
CASES = {
    "one change, due after the quiet time": ([(0.0, "k8s/a")], [(0.4, []), (0.5, ["k8s/a"])]),
    "a burst is one re-check, due after its last change": (
        [(0.0, "k8s/a"), (0.2, "k8s/a"), (0.4, "k8s/a"), (0.6, "k8s/a")], [(0.9, []), (1.1, ["k8s/a"])]),
    "a burst that never stops is re-checked at the longest wait": (
        [(t / 10, "k8s/a") for t in range(0, 40, 3)], [(1.9, []), (2.0, ["k8s/a"])]),
    "two targets, each on its own time, oldest first": (
        [(0.0, "k8s/a"), (0.1, "vpc/us-south/acl/r006-1"), (0.3, "k8s/a")],
        [(0.6, ["vpc/us-south/acl/r006-1"]), (0.8, ["k8s/a"])]),
    "both due at once come oldest first": ([(0.1, "k8s/b"), (0.0, "k8s/a")], [(5.0, ["k8s/a", "k8s/b"])]),
}


@pytest.mark.parametrize(("adds", "asks"), CASES.values(), ids=CASES.keys())
def test_changes_are_due_once_quiet_or_at_the_longest_wait(adds: list[tuple[float, str]],
                                                            asks: list[tuple[float, list[str]]]) -> None:
    coalescer = Coalescer(quiet=0.5, longest=2.0)
    for at, target in adds:
        coalescer.add(c(target), at)
    for at, expected in asks:
        assert [t for t, _, _ in coalescer.due(at)] == expected, at
    assert len(coalescer) == 0


def test_a_retry_keeps_the_changes_and_waits_its_delay() -> None:
    coalescer = Coalescer(quiet=0.5, longest=2.0)
    coalescer.add(c("k8s/a", "first"), 0.0)
    [(target, changes, failures)] = coalescer.due(1.0)
    coalescer.retry(target, changes, failures + 1, now=1.0, delay=4.0)
    coalescer.add(c("k8s/a", "second"), 2.0)
    assert coalescer.due(4.9) == []
    [(_, merged, failures)] = coalescer.due(5.0)
    assert ([m.what for m in merged], failures) == (["first", "second"], 1)


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def run_until(watcher: Watcher, done: threading.Event, timeout: float = 5.0) -> None:
    stop = threading.Event()
    thread = threading.Thread(target=watcher.run, args=(stop,), daemon=True)
    thread.start()
    assert done.wait(timeout), "the worker did not get there"
    stop.set()
    thread.join(timeout)
    assert not thread.is_alive()


def test_the_worker_rechecks_a_burst_once_and_retries_a_failure_with_what_came_since() -> None:
    clock = Clock()
    calls: list[tuple[str, list[str]]] = []
    done = threading.Event()

    def recheck(target: str, changes: Sequence[Change]) -> None:
        calls.append((target, [x.what for x in changes]))
        if len(calls) == 1:
            clock.now += 0.1
            watcher.changed(c("k8s/a", "during"))
            raise LockHeld("another run holds the state")
        if len(calls) == 2:
            raise RuntimeError("a bug with a secret token in its text")
        done.set()

    watcher = Watcher(recheck, quiet=0.5, longest=2.0, retry=1.0, clock=clock)
    for what in ("np-1", "np-2", "np-3", "np-4", "np-5"):
        watcher.changed(c("k8s/a", what))
    clock.now = 0.6

    def advance() -> None:
        while not done.is_set():
            clock.now += 0.5
            done.wait(0.02)

    mover = threading.Thread(target=advance, daemon=True)
    mover.start()
    run_until(watcher, done)
    assert calls[0] == ("k8s/a", ["np-1", "np-2", "np-3", "np-4", "np-5"])
    assert calls[1] == calls[2] == ("k8s/a", ["np-1", "np-2", "np-3", "np-4", "np-5", "during"])
    assert (len(calls), watcher.rechecks, watcher.pending()) == (3, 1, 0)
