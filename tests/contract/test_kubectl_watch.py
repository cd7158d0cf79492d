"""``kubectl get -w`` against the Kubernetes emulator: the rows a person watching a cluster reads.

kubectl lists (a Table), prints it, then watches from the list's resourceVersion asking for Tables
again; each event's object is a Table of one row (the column definitions in the first event only, as
``test_kube_watch`` checks on the wire), printed as one more row under the header. Each test runs the
real ``kubectl`` as a subprocess, reads its output lines while the test changes the cluster, and ends
the process it started, by its PID. Without kubectl on the PATH these tests are skipped, saying so.
"""

from __future__ import annotations

import json
import os
import queue
import shutil
import signal
import subprocess
import threading
import time
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from kubernetes import client

from netwarden.fakes.server import FakeServer

KUBECTL = shutil.which("kubectl")
pytestmark = pytest.mark.skipif(KUBECTL is None, reason="kubectl is not installed on this machine (not on PATH)")
CLUSTER = "kubectl-watch"


class Watching:
    """One ``kubectl ... -w`` process and the lines it printed, split into columns."""

    def __init__(self, command: list[str]) -> None:
        self.process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        self.lines: queue.Queue[str | None] = queue.Queue()
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            self.lines.put(line.rstrip("\n"))
        self.lines.put(None)

    def take(self, count: int, timeout: float = 15.0) -> list[list[str]]:
        out = []
        for _ in range(count):
            try:
                line = self.lines.get(timeout=timeout)
            except queue.Empty:
                raise AssertionError(f"kubectl printed {out} and then nothing for {timeout}s") from None
            assert line is not None, f"kubectl ended: {self.stop()}"
            out.append(line.split())
        return out

    def stop(self) -> str:
        """End the process this test started (by its PID); what it wrote to stderr."""
        if self.process.poll() is None:
            os.kill(self.process.pid, signal.SIGTERM)
        try:
            _, err = self.process.communicate(timeout=10)
        except subprocess.TimeoutExpired:
            os.kill(self.process.pid, signal.SIGKILL)
            _, err = self.process.communicate()
        return err


@pytest.fixture(scope="module")
def discovery_cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("kubectl-watch-cache")


@pytest.fixture
def api(fake: FakeServer) -> Iterator[client.ApiClient]:
    api = client.ApiClient(client.Configuration(host=f"{fake.url}/k8s/{CLUSTER}"))
    core = client.CoreV1Api(api)
    for name in ("accounts", "finance"):
        core.create_namespace({"metadata": {"name": name}})
    yield api
    api.close()


@pytest.fixture
def kubectl_watch(fake: FakeServer, tmp_path: Path, discovery_cache: Path) -> Iterator[Callable[..., Watching]]:
    (tmp_path / "kubeconfig").write_text("")
    base = [str(KUBECTL), "--kubeconfig", str(tmp_path / "kubeconfig"), "--cache-dir", str(discovery_cache),
            "--server", f"{fake.url}/k8s/{CLUSTER}", "--request-timeout", "0"]
    started: list[Watching] = []

    def start(*args: str) -> Watching:
        started.append(Watching([*base, "get", *args, "--watch"]))
        return started[-1]

    yield start
    for watching in started:
        watching.stop()


def _policy(api: client.ApiClient, namespace: str, name: str, app: str | None = None) -> None:
    selector: Any = {"matchLabels": {"app": app}} if app else {}
    client.NetworkingV1Api(api).create_namespaced_network_policy(namespace, {"metadata": {"name": name},
                                                                             "spec": {"podSelector": selector}})


def _select(api: client.ApiClient, namespace: str, name: str, app: str) -> None:
    client.NetworkingV1Api(api).patch_namespaced_network_policy(
        name, namespace, {"spec": {"podSelector": {"matchLabels": {"app": app}}}},
        _content_type="application/merge-patch+json")


def _delete(api: client.ApiClient, namespace: str, name: str) -> None:
    client.NetworkingV1Api(api).delete_namespaced_network_policy(name, namespace)


@pytest.mark.parametrize(("args", "initial", "after"), [
    (("networkpolicies", "-n", "accounts"),
     [["NAME", "POD-SELECTOR", "AGE"], ["db", "app=db"]],
     [["web", "<none>"], ["web", "app=web"], ["web", "app=web"]]),
    (("netpol", "-A"),
     [["NAMESPACE", "NAME", "POD-SELECTOR", "AGE"], ["accounts", "db", "app=db"], ["finance", "ledger", "<none>"]],
     [["accounts", "web", "<none>"], ["accounts", "web", "app=web"], ["finance", "audit", "<none>"],
      ["accounts", "web", "app=web"]]),
    (("networkpolicies", "-n", "accounts", "--output-watch-events"),
     [["EVENT", "NAME", "POD-SELECTOR", "AGE"], ["ADDED", "db", "app=db"]],
     [["ADDED", "web", "<none>"], ["MODIFIED", "web", "app=web"], ["DELETED", "web", "app=web"]]),
])
def test_get_networkpolicies_watch_prints_a_row_per_change(api: client.ApiClient,
                                                           kubectl_watch: Callable[..., Watching],
                                                           args: tuple[str, ...], initial: list[list[str]],
                                                           after: list[list[str]]) -> None:
    _policy(api, "accounts", "db", "db")
    _policy(api, "finance", "ledger")
    watching = kubectl_watch(*args)
    assert [row[:len(want)] for row, want in zip(watching.take(len(initial)), initial, strict=True)] == initial
    _policy(api, "accounts", "web")
    _select(api, "accounts", "web", "web")
    _policy(api, "finance", "audit")
    _delete(api, "accounts", "web")
    assert [row[:len(want)] for row, want in zip(watching.take(len(after)), after, strict=True)] == after
    assert watching.process.poll() is None  # still watching


def _wait_for_the_watch(fake: FakeServer) -> None:
    """Until kubectl's watch request is being served (it lists first, and prints nothing for an empty list)."""
    deadline = time.monotonic() + 15
    while True:
        with urllib.request.urlopen(f"{fake.url}/_fake/kube/{CLUSTER}/watches", timeout=5) as response:
            if json.load(response)["watches"] == 1:
                return
        assert time.monotonic() < deadline, "kubectl never started its watch"
        time.sleep(0.05)


@pytest.mark.parametrize("only", [False, True], ids=["an empty list", "watch only"])
def test_the_header_comes_with_the_first_event(fake: FakeServer, api: client.ApiClient,
                                               kubectl_watch: Callable[..., Watching], only: bool) -> None:
    if only:
        _policy(api, "accounts", "db", "db")
    watching = kubectl_watch("networkpolicies", "-n", "accounts", *(["--watch-only"] if only else []))
    _wait_for_the_watch(fake)
    _policy(api, "accounts", "web")
    _select(api, "accounts", "web", "web")
    rows = watching.take(3)
    assert [row[:2] for row in rows] == [["NAME", "POD-SELECTOR"], ["web", "<none>"], ["web", "app=web"]]


def test_get_namespaces_watch_shows_a_namespace_terminate(api: client.ApiClient,
                                                          kubectl_watch: Callable[..., Watching]) -> None:
    watching = kubectl_watch("ns", "--output-watch-events")
    initial = watching.take(7)
    assert [row[:3] for row in initial] == [["EVENT", "NAME", "STATUS"]] + [
        ["ADDED", name, "Active"] for name in ("accounts", "default", "finance", "kube-node-lease", "kube-public",
                                               "kube-system")]
    core = client.CoreV1Api(api)
    core.create_namespace({"metadata": {"name": "payments"}})
    core.delete_namespace("payments")
    assert [row[:3] for row in watching.take(3)] == [["ADDED", "payments", "Active"],
                                                     ["MODIFIED", "payments", "Terminating"],
                                                     ["DELETED", "payments", "Terminating"]]
