"""``netwarden watch`` as it runs in Code Engine: a process of its own, against the recipe estate on the
emulators, with kubectl as the operator's hand. The tests end the processes they started, by PID."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from ibm_cloud_sdk_core.authenticators import IAMAuthenticator
from ibm_vpc import VpcV1

from netwarden.adapters.baseline_fs import read_baseline
from netwarden.fakes import scenarios
from netwarden.fakes.iam import API_KEY
from netwarden.fakes.server import FakeServer

REPO = Path(__file__).resolve().parents[1]
BASELINE = REPO / "baseline"
CLUSTER = "iks-cluster"
KUBECTL = shutil.which("kubectl")


def wait_for(what: str, check: Callable[[], Any], timeout: float = 20.0, every: float = 0.05) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout} s waiting for {what}")
        time.sleep(every)


def get_json(url: str, data: bytes | None = None, headers: dict[str, str] | None = None) -> tuple[int, Any]:
    method = "POST" if data is not None else "GET"
    request = urllib.request.Request(url, data=data, headers=headers or {}, method=method)
    try:
        with urllib.request.urlopen(request, timeout=10) as r:
            return r.status, json.load(r)
    except urllib.error.HTTPError as e:
        return e.code, json.load(e)


@dataclass
class Estate:
    """The recipe on the emulators at ``url`` and a deployment's config for it (state and Slack too)."""

    url: str
    root: Path
    config: Path
    env: dict[str, str]

    def kubectl(self, *args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
        assert KUBECTL is not None
        done = subprocess.run([KUBECTL, "--kubeconfig", str(self.root / "kubeconfig"), "--cache-dir",
                               str(self.root / "kube-cache"), "--server", f"{self.url}/k8s/{CLUSTER}",
                               "--request-timeout", "10s", *args], input=stdin, capture_output=True, text=True,
                              timeout=60, check=False)
        assert done.returncode == 0, done.stderr
        return done

    def sdk(self, region: str = "us-south") -> VpcV1:
        client = VpcV1(authenticator=IAMAuthenticator(API_KEY, url=f"{self.url}/iam"))
        client.set_service_url(f"{self.url}/vpc/{region}/v1")
        return client

    def slack(self) -> list[dict[str, Any]]:
        return list(get_json(f"{self.url}/_fake/slack")[1]["messages"])

    def slack_texts(self) -> list[str]:
        return [json.dumps(m["body"]) for m in self.slack()]


def estate(fake: FakeServer, root: Path) -> Estate:
    baseline = read_baseline(BASELINE)
    scenarios.build("recipe", fake.url, baseline=baseline)
    data = scenarios.config_for(fake.url, "recipe", baseline, str(BASELINE))
    data["state"] = f"file://{root / 'state'}"
    data["notify"] = {"slack": {"webhook_url_env": "NW_TEST_SLACK"}}
    config = root / "netwarden.yaml"
    config.write_text(yaml.safe_dump(data), encoding="utf-8")
    (root / "kubeconfig").write_text("", encoding="utf-8")
    env = {scenarios.API_KEY_ENV: API_KEY, "NW_TEST_SLACK": f"{fake.url}/slack/T000/B000/XXXX",
           "NETWARDEN_FUNCTION_TOKEN": "watch-test-token"}
    return Estate(fake.url, root, config, env)


@dataclass
class Watcher:
    """One ``netwarden watch`` process."""

    process: subprocess.Popen[str]
    port_file: Path
    log: Path
    port: int = 0
    stopped: bool = field(default=False)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def get(self, path: str) -> tuple[int, Any]:
        return get_json(f"{self.url}{path}")

    def post(self, path: str, body: bytes, headers: dict[str, str]) -> tuple[int, Any]:
        return get_json(f"{self.url}{path}", body, headers)

    def status(self) -> Any:
        return self.get("/healthz")[1]

    def settled(self, rechecks: int) -> bool:
        """Ready, with at least ``rechecks`` re-checks done and nothing pending."""
        code, body = self.get("/readyz")
        return code == 200 and body["watching"] and body["rechecks"] >= rechecks and body["pending"] == 0

    def logs(self) -> list[dict[str, Any]]:
        return [json.loads(line) for line in self.log.read_text(encoding="utf-8").splitlines() if line.startswith("{")]

    def stop(self) -> int:
        """SIGTERM to the PID this test started; its exit code."""
        if not self.stopped:
            self.stopped = True
            if self.process.poll() is None:
                os.kill(self.process.pid, signal.SIGTERM)
            try:
                return self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)
                raise
        return int(self.process.returncode)


def start(e: Estate, *extra: str) -> Watcher:
    port_file, log = e.root / "watch.port", e.root / "watch.log"
    port_file.unlink(missing_ok=True)
    env = {k: v for k, v in os.environ.items() if k not in ("NETWARDEN_CONFIG", "KUBECONFIG")} | e.env
    with log.open("w", encoding="utf-8") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "netwarden", "watch", "--config", str(e.config), "--listen", "127.0.0.1:0",
             "--port-file", str(port_file), *extra], cwd=e.root, env=env, stdout=out, stderr=subprocess.STDOUT,
            text=True)
    w = Watcher(process, port_file, log)
    try:
        def port() -> int:
            assert process.poll() is None, f"netwarden watch exited: {log.read_text(encoding='utf-8')[-2000:]}"
            return int(port_file.read_text(encoding="utf-8")) if port_file.exists() and port_file.read_text() else 0

        w.port = wait_for("the watcher to listen", port)
        wait_for("the watcher's first re-check", lambda: w.settled(1))
    except BaseException:
        w.stop()
        raise
    return w
