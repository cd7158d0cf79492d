"""``netwarden demo``: the whole mission on the embedded emulators, narrated, in well under a minute.

A newcomer's first run. It starts the IBM Cloud and Kubernetes emulators in this process, builds the
recipe estate from the committed baseline, points netwarden at them (and at a recorded Slack
webhook), and then runs the very commands an operator would: ``scan``, ``event``, ``check``,
``remediate``, ``remediate --apply``. The drift in between is made through the real ibm-vpc SDK and
kubernetes client, as a careless operator would make it. Every file it writes is under the work
directory (a temporary one unless ``--workdir``); the log lines of the runs go to ``netwarden.log``
there, so the screen shows the story and the reports.
"""

from __future__ import annotations

import contextlib
import html
import io
import json
import os
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TextIO

from netwarden.core.errors import NetwardenError

BASELINE = Path("baseline")
SLACK_PATH = "/slack/services/T0DEMO/B0DEMO/demo-webhook"
ZONE1_ACL, DENY_ALL_INBOUND = "iks-cluster-us-south-1-acl", "deny-all-inbound"


@dataclass(frozen=True, slots=True)
class Step:
    """One command of the story: its words, and the exit code it must end with."""

    title: str
    argv: tuple[str, ...]
    expect: int


class DemoFailed(NetwardenError):
    """A step of the demo did not end as the story says it must."""


#: Runs one netwarden command line in this process and returns its exit code (``cli.main``).
CommandRunner = Callable[[Sequence[str]], int]


class Demo:
    def __init__(self, workdir: Path, baseline: Path, out: TextIO, command: CommandRunner) -> None:
        self.workdir, self.baseline_dir, self.out, self.command = workdir, baseline, out, command
        self.config = workdir / "netwarden.yaml"
        self.reports = workdir / "reports"
        self.url = ""
        self.outcomes: list[tuple[str, int]] = []

    # --- narration ------------------------------------------------------------------------------------
    def say(self, text: str = "") -> None:
        print(text, file=self.out, flush=True)

    def chapter(self, n: int, title: str) -> None:
        self.say()
        self.say(f"== {n}. {title} " + "=" * max(0, 72 - len(title)))

    def run(self, step: Step, *, show: bool = True) -> str:
        """Run one netwarden command in this process; show its output; check its exit code."""
        argv = [*step.argv, "--config", str(self.config)]
        self.say(f"$ netwarden {' '.join(step.argv)}")
        captured = io.StringIO()
        with contextlib.redirect_stdout(captured):
            code = self.command(argv)
        text = captured.getvalue().rstrip()
        if show and text:
            self.say("\n".join("  " + line for line in text.splitlines()))
        self.say(f"  -> exit {code}  ({step.title})")
        self.outcomes.append((step.title, code))
        if code != step.expect:
            raise DemoFailed(f"demo step {' '.join(step.argv)!r} ended with exit {code}, expected {step.expect};"
                             f" see {self.workdir / 'netwarden.log'}")
        return text

    # --- the story ------------------------------------------------------------------------------------
    def tell(self) -> None:
        from netwarden.fakes.server import FakeServer

        started = time.monotonic()
        self.say("netwarden demo: IBM's VPC + NetworkPolicy recipe, kept where its baseline puts it")
        self.say(f"work directory: {self.workdir}")
        with FakeServer() as server:
            self.url = server.url
            self.chapter(1, "The emulators and the recipe estate")
            self.setup()
            self.chapter(2, "The scheduled scan against the reviewed baseline")
            self.run(Step("in sync: nothing to say", ("scan",), 0))
            self.run(Step("in sync", ("check",), 0))
            self.chapter(3, "A careless afternoon")
            events = self.drift()
            self.chapter(4, "Activity Tracker reports the changes: targeted checks")
            self.event(events[0], "event.json")
            self.event(events[1], "event-security-group.json")
            self.chapter(5, "The next scheduled scan")
            self.scan_with_drift()
            self.chapter(6, "Remediation: plan, apply, verify")
            self.remediate()
        self.chapter(7, "Where to look next")
        self.say(f"  the drift:   {self.reports / 'check.html'} (in a browser: rule tables, who reaches whom)")
        self.say(f"  reports:     {self.reports}/check.{{txt,json,md,sarif,xml,html}}")
        self.say(f"  state store: {self.workdir / 'state'} (finding states, run history, audit records)")
        self.say(f"  run logs:    {self.workdir / 'netwarden.log'} (JSON lines)")
        self.say(f"  config:      {self.config} (what `netwarden fake serve --write-config` also writes)")
        self.say("  next:        README.md (a real account), infra/README.md (Code Engine deployment)")
        self.say(f"demo finished in {time.monotonic() - started:.1f} s")

    def setup(self) -> None:
        from netwarden.adapters import yaml_io
        from netwarden.adapters.baseline_fs import read_baseline
        from netwarden.adapters.files import write_atomic
        from netwarden.fakes import scenarios

        t0 = time.monotonic()
        baseline = read_baseline(self.baseline_dir)
        scenarios.build("recipe", self.url, baseline=baseline)
        config = scenarios.config_for(self.url, "recipe", baseline, str(self.baseline_dir.resolve()))
        config["state"] = f"file://{self.workdir / 'state'}"
        config["notify"] = {"slack": {"webhook_url_env": "NETWARDEN_DEMO_SLACK_WEBHOOK"}}
        write_atomic(self.config, yaml_io.dumps(config).encode("utf-8"))
        os.environ[scenarios.API_KEY_ENV] = "fake-apikey"
        os.environ["NETWARDEN_DEMO_SLACK_WEBHOOK"] = f"{self.url}{SLACK_PATH}"
        vpc, cluster = baseline.vpcs[0], baseline.clusters[0]
        self.say(f"  emulators at {self.url} (IBM VPC API, IAM, Kubernetes API, Slack recorder)")
        self.say(f"  built through the ibm-vpc SDK and the kubernetes client in {time.monotonic() - t0:.1f} s:")
        self.say(f"    VPC {vpc.region}/{vpc.name}: {len(vpc.subnets)} subnets, {len(vpc.acls)} ACLs "
                 f"({sum(len(a.rules) for a in vpc.acls)} rules), gateway on {_gated(vpc.subnets)}")
        self.say(f"    cluster {cluster.name}: namespaces {', '.join(n.name for n in cluster.namespaces)}; "
                 f"{len(cluster.policies)} NetworkPolicies; {len(cluster.pods)} pods")
        workers = _workers_group(vpc)
        self.say(f"    {len(vpc.security_groups)} security groups, IBM's secure-by-default ones among them "
                 f"({workers.name} on the workers: {len(workers.rules)} rules)")
        self.say(f"  baseline: {self.baseline_dir}/ (reviewed in git); config: {self.config}")
        self.vpc, self.cluster, self.workers_group = vpc, cluster, workers.name

    def drift(self) -> tuple[dict[str, Any], dict[str, Any]]:
        """Make the changes; return the events of the first and of the security group rule."""
        from netwarden.fakes.drift import CarelessOperator

        op = CarelessOperator(self.url, self.vpc.region, self.vpc.name, self.cluster.name)
        subnets = sorted(s.name for s in self.vpc.subnets)
        since = len(self._fake("events")["events"])
        changes = [
            op.attach_default_acl(subnets[1]),
            op.delete_rule(ZONE1_ACL, DENY_ALL_INBOUND),
            op.attach_new_gateway(subnets[2], "temporary-gateway"),
            op.detach_gateway(subnets[0]),  # the gateway "moved": the app pinned to its subnet loses the internet
            op.widen_policy("accounts", "accounts-allow"),
            op.open_ssh(self.workers_group),
        ]
        for change in changes:
            self.say(f"  - {change.said}")
            self.say(f"      {change.call}")
        events = self._fake("events", f"since={since}")["events"]
        self.say(f"  the VPC API emitted {len([e for e in events if e.get('action', '').startswith('is.')])}"
                 " Activity Tracker events")
        opened = next(e for e in events if e.get("action") == "is.security-group.security-group-rule.create")
        return dict(events[0]), dict(opened)

    def event(self, event: dict[str, Any], name: str) -> None:
        payload = self.workdir / name
        payload.write_text(json.dumps(event, indent=2))
        target = event.get("target", {})
        self.say(f"  event: {event.get('action')} on {target.get('name') or target.get('id')}")
        before = len(self._fake("slack")["messages"])
        t0 = time.monotonic()
        self.run(Step("targeted check ran; alert sent", ("event", "--payload", str(payload)), 0))
        elapsed = time.monotonic() - t0
        messages = self._fake("slack")["messages"][before:]
        if not messages:
            raise DemoFailed("the targeted check sent no alert")
        self.say(f"  alerted in {elapsed:.2f} s after the event reached netwarden; Slack received:")
        self.slack(messages[-1])

    def scan_with_drift(self) -> None:
        before = len(self._fake("slack")["messages"])
        self.run(Step("drift found; alerts for what is new", ("scan",), 0), show=False)
        self.reports.mkdir(parents=True, exist_ok=True)
        for fmt, ext in (("json", "json"), ("markdown", "md"), ("sarif", "sarif"), ("junit", "xml"), ("html", "html")):
            self.run(Step(f"report ({fmt})", ("check", "--format", fmt, "--out", str(self.reports / f"check.{ext}")),
                          2), show=False)
        text = self.run(Step("drift", ("check",), 2))
        (self.reports / "check.txt").write_text(text + "\n")
        messages = self._fake("slack")["messages"][before:]
        self.say(f"  Slack received {len(messages)} message(s) from this scan (a finding alerted before comes again "
                 "only when what it opens changed: each event judged its own layer against the rest as the baseline "
                 "has it; the scan sees every drift at once, and two layers that drifted together open more):")
        for message in messages:
            self.slack(message)

    def remediate(self) -> None:
        self.run(Step("dry run: the plan, nothing written", ("remediate",), 2))
        self.run(Step("applied and verified by a fresh snapshot", ("remediate", "--apply"), 0))
        before = len(self._fake("slack")["messages"])
        self.run(Step("in sync again; resolutions sent", ("scan",), 0), show=False)
        self.run(Step("in sync", ("check",), 0))
        for message in self._fake("slack")["messages"][before:]:
            self.slack(message)

    # --- helpers --------------------------------------------------------------------------------------
    def slack(self, message: dict[str, Any]) -> None:
        for line in render_blocks(message["body"]):
            self.say(f"    | {line}")

    def _fake(self, what: str, query: str = "") -> dict[str, Any]:
        import requests

        response = requests.get(f"{self.url}/_fake/{what}" + (f"?{query}" if query else ""), timeout=10)
        response.raise_for_status()
        return dict(response.json())


def render_blocks(body: dict[str, Any]) -> list[str]:
    """Block Kit as a person would read it in Slack (headers, sections, context), one line per line."""
    lines: list[str] = []
    for block in body.get("blocks") or []:
        kind = block.get("type")
        if kind == "header":
            lines.append(html.unescape(str(block["text"]["text"])).upper())
        elif kind == "section":
            texts = [block["text"]["text"]] if "text" in block else []
            texts += [f["text"] for f in block.get("fields", [])]
            for text in texts:
                lines.extend(html.unescape(str(text)).splitlines())
        elif kind == "context":
            lines.append(html.unescape("  ".join(str(e.get("text", "")) for e in block.get("elements", []))))
        elif kind == "divider":
            lines.append("-" * 40)
    return lines or [str(body.get("text", ""))]


def _workers_group(vpc: Any) -> Any:
    """The group IBM puts on a cluster's workers (``kube-<clusterID>``) among the VPC's."""
    from netwarden.core import sbd

    for group in vpc.security_groups:
        owner = sbd.parse_group_name(group.name)
        if owner is not None and owner.kind is sbd.GroupKind.WORKERS:
            return group
    raise DemoFailed(f"the baseline of {vpc.scope} has no workers' security group (kube-<clusterID>)")


def _gated(subnets: Sequence[Any]) -> str:
    return ", ".join(s.name for s in subnets if s.public_gateway) or "none"


def _workdir(given: str | None) -> Path:
    """``--workdir``, or a new temporary directory that is kept, so the reports can be read afterwards."""
    if given:
        path = Path(given)
        path.mkdir(parents=True, exist_ok=True)
        return path.resolve()
    return Path(tempfile.mkdtemp(prefix="netwarden-demo-"))


def main(workdir: str | None, baseline: Path, out: TextIO | None = None, *, run: CommandRunner) -> int:
    """Tell the story, each step a command line that ``run`` (the CLI's ``main``) executes; 0 when every
    step ended as it must."""
    from netwarden.entrypoints import logs

    if not (baseline / "vpc").is_dir():
        raise NetwardenError(f"{baseline}/: no recipe baseline here; run the demo from the repository root")
    saved = dict(os.environ)
    path = _workdir(workdir)
    with open(path / "netwarden.log", "a", encoding="utf-8") as log:
        logs.configure(log, force=True)
        try:
            Demo(path, baseline, out or sys.stdout, run).tell()
        finally:
            os.environ.clear()
            os.environ.update(saved)
            logs.configure(sys.stderr, force=True)
    return 0
