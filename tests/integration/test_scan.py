"""``app.scan`` end to end on the emulators: the live side is a snapshot made here (a port double), the
alerts go through the real notifiers to the Slack and Event Notifications emulators, a webhook
recorder and an SMTP server, and the state lives in a directory or in moto's S3."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import requests
from sink_servers import SMTP_PASSWORD, SMTP_USER, SmtpRecorder, WebhookRecorder, smtp_server, webhook_server

from netwarden.adapters import notifiers as registry
from netwarden.adapters.delivery import NotifierEnv, RetryPolicy
from netwarden.adapters.state_cos import CosStateStore
from netwarden.adapters.state_file import FileStateStore
from netwarden.app import scan
from netwarden.app.scan import RemediationOutcome, ScanOptions, ScanResult
from netwarden.config import Settings, Suppression
from netwarden.core.errors import LockHeld, StateError
from netwarden.core.findings import ResourceRef, make
from netwarden.core.model import ALL_PORTS, AclRule, NetworkAcl, PortRange, Snapshot, Subnet, Unreadable, Vpc
from netwarden.core.ports import Notifier, StateStore
from netwarden.core.report.model import CheckReport
from netwarden.fakes.server import FakeServer

CHANNELS = ("slack", "email", "event_notifications", "webhook")


def rule(name: str, action: str, direction: str, *, port: int | None = None, src: str = "0.0.0.0/0",
         dst: str = "10.240.0.0/24", proto: str = "tcp") -> AclRule:
    ports = proto in ("tcp", "udp")
    return AclRule(name, action, direction, proto, src, dst,
                   destination_port=PortRange(port, port) if port else (ALL_PORTS if ports else None),
                   source_port=ALL_PORTS if ports else None)


BASE_RULES = (rule("in-443", "allow", "inbound", port=443),
              rule("deny-in", "deny", "inbound", proto="icmp_tcp_udp", dst="0.0.0.0/0"),
              rule("out-all", "allow", "outbound", src="10.240.0.0/24", dst="0.0.0.0/0", proto="icmp_tcp_udp"))
ALLOW_ALL = (AclRule("allow-in", "allow", "inbound", "icmp_tcp_udp", "0.0.0.0/0", "0.0.0.0/0"),
             AclRule("allow-out", "allow", "outbound", "icmp_tcp_udp", "0.0.0.0/0", "0.0.0.0/0"))
SSH = rule("ssh", "allow", "inbound", port=22)


def estate(extra: tuple[AclRule, ...] = (), *, sn1_acl: str = "acl-a", unreadable: tuple[str, ...] = ()) -> Snapshot:
    vpc = Vpc("us-south", "prod-vpc", acls=(NetworkAcl("acl-a", extra + BASE_RULES), NetworkAcl("default", ALLOW_ALL)),
              subnets=(Subnet("sn-1", sn1_acl, cidr="10.240.0.0/24", zone="us-south-1"),
                       Subnet("sn-2", "acl-a", cidr="10.240.1.0/24", zone="us-south-2")), default_acl="default")
    if unreadable:
        return Snapshot(unreadable=tuple(Unreadable(u, "HTTP 503") for u in unreadable))
    return Snapshot(vpcs=(vpc,))


BASELINE = estate()


class Clock:
    def __init__(self) -> None:
        self.now = datetime(2026, 3, 2, 10, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now

    def tick(self, minutes: int = 15) -> None:
        self.now += timedelta(minutes=minutes)


@dataclass
class Sinks:
    fake: FakeServer
    smtp: SmtpRecorder
    hook: WebhookRecorder
    notifiers: list[Notifier] = field(default_factory=list)

    def slack(self) -> list[dict[str, Any]]:
        return [m["body"] for m in requests.get(f"{self.fake.url}/_fake/slack", timeout=5).json()["messages"]]

    def en(self) -> list[dict[str, Any]]:
        return [n["body"] for n in requests.get(f"{self.fake.url}/_fake/en", timeout=5).json()["notifications"]]

    def counts(self) -> dict[str, int]:
        return {"slack": len(self.slack()), "email": len(self.smtp.messages),
                "event_notifications": len(self.en()), "webhook": len(self.hook.received)}

    def kinds(self) -> dict[str, list[str]]:
        """Per channel, the kinds of the alerts in its last message (read from the webhook and EN data)."""
        return {"webhook": [a["kind"] for a in self.hook.received[-1]["body"]["alerts"]],
                "event_notifications": [a["kind"] for a in self.en()[-1]["data"]["alerts"]]}


@pytest.fixture(scope="module")
def servers(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[SmtpRecorder, WebhookRecorder]]:
    with smtp_server(tmp_path_factory.mktemp("smtp")) as smtp, webhook_server() as hook:
        yield smtp, hook


@pytest.fixture
def sinks(fake: FakeServer, servers: tuple[SmtpRecorder, WebhookRecorder]) -> Sinks:
    smtp, hook = servers
    for recorded in (smtp.messages, smtp.envelopes, smtp.logins, hook.received, hook.statuses):
        recorded.clear()
    channels = {
        "slack": {"webhook_url_env": "SLACK_WEBHOOK_URL"},
        "email": {"smtp_host": "127.0.0.1", "smtp_port": smtp.port, "sender": SMTP_USER,
                  "to": ["oncall@example.com"], "password_env": "SMTP_PASSWORD", "ca_file": str(smtp.ca_file)},
        "event_notifications": {"instance_id": "en-1", "url": f"{fake.url}/en", "source_id": "src-1"},
        "webhook": {"url_env": "DRIFT_WEBHOOK_URL"},
    }
    environ = {"SLACK_WEBHOOK_URL": f"{fake.url}/slack/services/T1/B1/tok3n", "SMTP_PASSWORD": SMTP_PASSWORD,
               "IBMCLOUD_API_KEY": "fake-apikey", "DRIFT_WEBHOOK_URL": f"{hook.url}/drift"}
    env = NotifierEnv(environ=environ, iam_url=f"{fake.url}/iam", timeout=5,
                      retry=RetryPolicy(attempts=2, sleep=lambda _: None))
    return Sinks(fake, smtp, hook, registry.build(channels, env))


@pytest.fixture(params=["file", "cos"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> StateStore:
    if request.param == "file":
        return FileStateStore(tmp_path / "state")
    url = request.getfixturevalue("moto_url")
    bucket = f"nw-{uuid.uuid4().hex[:12]}"
    cos = CosStateStore.from_url(f"cos://{bucket}/netwarden", environ={
        "NETWARDEN_COS_ENDPOINT": url, "COS_HMAC_ACCESS_KEY_ID": "id", "COS_HMAC_SECRET_ACCESS_KEY": "secret"})
    cos._client.create_bucket(Bucket=bucket)
    return cos


def run(live: Snapshot, store: StateStore, notifiers: list[Notifier], clock: Clock, **options: Any) -> ScanResult:
    opts = ScanOptions(**{"lock_attempts": 1, **options})
    return scan.run(BASELINE, lambda: live, store=store, notifiers=notifiers, options=opts, clock=clock,
                    sleep=lambda _: None)


def zero() -> dict[str, int]:
    return dict.fromkeys(CHANNELS, 0)


# --- the "done when" --------------------------------------------------------------------------

def test_same_drift_alerts_once_fix_resolves_once_new_finding_alone(sinks: Sinks, store: StateStore) -> None:
    clock = Clock()
    drift = estate((SSH,))
    for _ in range(3):
        result = run(drift, store, sinks.notifiers, clock)
        assert (result.status, result.failed) == ("drift", False)
        clock.tick()
    assert sinks.counts() == dict.fromkeys(CHANNELS, 1)
    assert sinks.kinds() == {"webhook": ["new"], "event_notifications": ["new"]}

    run(BASELINE, store, sinks.notifiers, clock)  # fixed
    clock.tick()
    run(BASELINE, store, sinks.notifiers, clock)
    assert sinks.counts() == dict.fromkeys(CHANNELS, 2)
    assert sinks.kinds() == {"webhook": ["resolved"], "event_notifications": ["resolved"]}

    clock.tick()
    run(estate((SSH,), sn1_acl="default"), store, sinks.notifiers, clock)  # two findings, one of them new again
    clock.tick()
    result = run(estate((SSH,), sn1_acl="default"), store, sinks.notifiers, clock)
    assert sinks.counts() == dict.fromkeys(CHANNELS, 3)
    assert [a["code"] for a in sinks.hook.received[-1]["body"]["alerts"]] == ["acl-rule-unexpected",
                                                                             "subnet-allow-all"]
    assert result.transitions == {"ongoing": 2}


def test_a_later_finding_alerts_only_itself(sinks: Sinks, store: StateStore) -> None:
    clock = Clock()
    run(estate((SSH,)), store, sinks.notifiers, clock)
    clock.tick()
    result = run(estate((SSH,), sn1_acl="default"), store, sinks.notifiers, clock)
    assert result.transitions == {"new": 1, "ongoing": 1}
    assert [(a["kind"], a["code"]) for a in sinks.hook.received[-1]["body"]["alerts"]] == [("new", "subnet-allow-all")]
    assert sinks.slack()[-1]["blocks"][0]["text"]["text"] == "netwarden: 1 new (1 critical)"
    assert sinks.smtp.messages[-1]["Subject"] == "[netwarden] 1 new (1 critical)"


def test_endpoint_down_for_one_scan_gets_its_alert_on_the_next(sinks: Sinks, tmp_path: Path) -> None:
    store, clock = FileStateStore(tmp_path / "state"), Clock()
    requests.post(f"{sinks.fake.url}/_fake/faults", json={"path": "^/slack", "status": 503}, timeout=5)
    result = run(estate((SSH,)), store, sinks.notifiers, clock)
    assert result.failed
    assert result.problems() == ["alerts for slack not delivered (slack: webhook answered HTTP 503 (gave up after 2 "
                                 "attempts)); 1 pending for the next run"]
    assert sinks.counts() == {**dict.fromkeys(CHANNELS, 1), "slack": 0}
    history = scan.read_history(store)
    assert history[-1]["alerts"]["slack"] == {"sent": 1, "retried": 0, "delivered": False, "pending": 1,
                                              "error": "slack: webhook answered HTTP 503 (gave up after 2 attempts)"}

    requests.delete(f"{sinks.fake.url}/_fake/faults", timeout=5)
    clock.tick()
    result = run(estate((SSH,)), store, sinks.notifiers, clock)
    assert not result.failed
    assert sinks.counts() == dict.fromkeys(CHANNELS, 1)
    (message,) = sinks.slack()
    assert "*New*" in message["blocks"][2]["text"]["text"]
    assert "sent late: an earlier delivery to this channel failed" in message["blocks"][2]["text"]["text"]
    assert scan.read_history(store)[-1]["alerts"]["slack"]["retried"] == 1


def test_slack_message_within_limits_for_500_findings(sinks: Sinks, tmp_path: Path) -> None:
    # Findings made here rather than by a check of 500 extra rules: this is about alerts, not the diff.
    many = [make("acl-rule-unexpected",
                 ResourceRef("network-acl", region="us-south", vpc="prod-vpc", acl="acl-a", rule=f"extra-{i:03d}"),
                 f"rule extra-{i:03d} is not in the baseline", live={"destination_port": 1000 + i}) for i in range(500)]
    result = scan.record(many, store=FileStateStore(tmp_path / "s"), notifiers=sinks.notifiers, options=ScanOptions(),
                         run_id="run-500", started=Clock()(), status="drift")
    assert (result.findings, result.failed) == (500, False)
    assert sinks.counts() == dict.fromkeys(CHANNELS, 1)
    (message,) = sinks.slack()
    assert len(message["blocks"]) == 50
    assert message["blocks"][0]["text"]["text"] == "netwarden: 500 new (500 high)"


# --- persistence and its failures ---------------------------------------------------------------------------

class FailingStore:
    """A store that fails the n-th write (put or append), once: a crash between two writes."""

    def __init__(self, inner: StateStore, fail_at: int) -> None:
        self.inner, self.fail_at, self.writes = inner, fail_at, 0

    def _write(self) -> None:
        self.writes += 1
        if self.writes == self.fail_at:
            raise StateError("injected: the store went away")

    def get(self, key: str) -> bytes | None:
        return self.inner.get(key)

    def put(self, key: str, data: bytes) -> None:
        self._write()
        self.inner.put(key, data)

    def append(self, key: str, line: bytes) -> None:
        self._write()
        self.inner.append(key, line)

    def keys(self, prefix: str = "") -> Iterator[str]:
        return self.inner.keys(prefix)

    def delete(self, key: str) -> None:
        self._write()
        self.inner.delete(key)

    def lock(self, name: str, owner: str) -> Any:
        return self.inner.lock(name, owner)


@pytest.mark.parametrize(("fail_at", "alerts_after_restart", "history_lines"), [
    (1, 1, 1),  # findings.json never written: the next run alerts again (at least once), then all is normal
    (2, 0, 1),  # states written, snapshot not: nothing is sent twice
    (3, 0, 1),  # states and snapshot written, history not: nothing is sent twice, one history line is missing
])
def test_failure_between_writes_leaves_a_state_the_next_run_reads(sinks: Sinks, store: StateStore, fail_at: int,
                                                                  alerts_after_restart: int,
                                                                  history_lines: int) -> None:
    clock = Clock()
    with pytest.raises(StateError, match="injected"):
        run(estate((SSH,)), FailingStore(store, fail_at), sinks.notifiers, clock)
    assert sinks.counts() == dict.fromkeys(CHANNELS, 1)
    clock.tick()
    result = run(estate((SSH,)), store, sinks.notifiers, clock)
    assert not result.failed
    assert sinks.counts() == dict.fromkeys(CHANNELS, 1 + alerts_after_restart)
    assert len(scan.read_history(store)) == history_lines
    assert list(store.keys("locks/")) == []  # the failed run released its lock


def test_state_layout(sinks: Sinks, store: StateStore) -> None:
    run(estate((SSH,)), store, sinks.notifiers, Clock())
    keys = {k for k in store.keys("") if not k.startswith("locks/")}
    (record_key,) = keys - {"findings.json", "snapshot.json"}
    assert record_key.startswith("history/") and record_key.endswith(".json")
    doc = json.loads(store.get("findings.json") or b"")
    (state,) = doc["findings"]
    assert sorted(state["delivered"]) == sorted(CHANNELS)
    assert json.loads(store.get("snapshot.json") or b"")["vpcs"][0]["name"] == "prod-vpc"
    (line,) = scan.read_history(store)
    assert (line["status"], line["findings"], line["transitions"]) == ("drift", 1, {"new": 1})
    assert line["by_severity"] == {"critical": 1}


def test_unreadable_state_file_is_set_aside_and_alerts_start_over(sinks: Sinks, tmp_path: Path) -> None:
    store, clock = FileStateStore(tmp_path / "state"), Clock()
    run(estate((SSH,)), store, sinks.notifiers, clock)
    store.put("findings.json", b"{not json")
    clock.tick()
    result = run(estate((SSH,)), store, sinks.notifiers, clock)
    assert result.state_reset
    assert sinks.counts() == dict.fromkeys(CHANNELS, 2)
    assert [k for k in store.keys("findings.unreadable-")] == [f"findings.unreadable-{result.run_id}.json"]


def test_a_state_file_from_a_newer_version_stops_the_scan(sinks: Sinks, tmp_path: Path) -> None:
    store = FileStateStore(tmp_path / "state")
    store.put("findings.json", b'{"schema_version": 99, "findings": []}')
    with pytest.raises(StateError, match="schema version 99, newer than this netwarden"):
        run(estate((SSH,)), store, sinks.notifiers, Clock())
    assert sinks.counts() == zero()


def test_a_held_lock_is_waited_for_then_refused(sinks: Sinks, tmp_path: Path) -> None:
    store, waits = FileStateStore(tmp_path / "state"), []
    with store.lock("scan", "other-run"), pytest.raises(LockHeld, match="other-run"):
        scan.run(BASELINE, lambda: estate((SSH,)), store=store, notifiers=sinks.notifiers, clock=Clock(),
                 options=ScanOptions(lock_attempts=3, lock_delay=2.5), sleep=waits.append)
    assert waits == [2.5, 2.5]
    assert sinks.counts() == zero()


def test_unreadable_scope_resolves_nothing(sinks: Sinks, tmp_path: Path) -> None:
    store, clock = FileStateStore(tmp_path / "state"), Clock()
    run(estate((SSH,)), store, sinks.notifiers, clock)
    clock.tick()
    result = run(estate(unreadable=("us-south/prod-vpc",)), store, sinks.notifiers, clock)
    assert (result.status, result.transitions) == ("incomplete", {"unknown": 1})
    assert sinks.counts() == dict.fromkeys(CHANNELS, 1)


# --- suppressions, reminders, remediation ---------------------------------------------------------------------

def test_suppressed_finding_sends_nothing_until_it_expires(sinks: Sinks, tmp_path: Path) -> None:
    store, clock = FileStateStore(tmp_path / "state"), Clock()
    supp = (Suppression("acl-rule-unexpected", "us-south/prod-vpc/acl-a/*", "break-glass, ticket NET-7",
                        date(2026, 3, 2)),)
    result = run(estate((SSH,)), store, sinks.notifiers, clock, suppressions=supp)
    assert (result.status, result.suppressed) == ("in_sync", 1)
    assert sinks.counts() == zero()
    clock.tick(24 * 60)
    result = run(estate((SSH,)), store, sinks.notifiers, clock, suppressions=supp)
    assert (result.status, result.expired_suppressions) == ("drift", 1)
    assert sinks.counts() == dict.fromkeys(CHANNELS, 1)
    alert = sinks.hook.received[-1]["body"]["alerts"][0]
    assert alert["notes"] == ["suppression expired on 2026-03-02: break-glass, ticket NET-7"]


def test_reminder_after_remind_after(sinks: Sinks, tmp_path: Path) -> None:
    store, clock = FileStateStore(tmp_path / "state"), Clock()
    run(estate((SSH,)), store, sinks.notifiers, clock, remind_after=3600)
    clock.tick(59)
    run(estate((SSH,)), store, sinks.notifiers, clock, remind_after=3600)
    clock.tick(1)
    run(estate((SSH,)), store, sinks.notifiers, clock, remind_after=3600)
    assert sinks.counts() == dict.fromkeys(CHANNELS, 2)
    assert sinks.kinds() == {"webhook": ["reminder"], "event_notifications": ["reminder"]}


def test_auto_mode_passes_findings_to_the_remediator_and_notes_the_alerts(sinks: Sinks, tmp_path: Path) -> None:
    seen: list[tuple[int, str]] = []

    def remediator(live: Snapshot, report: CheckReport, run_id: str) -> RemediationOutcome:
        seen.append((len(report.findings), run_id))
        return RemediationOutcome("in_sync", "1 step applied", {f.fingerprint: "remediated automatically"
                                                                for f in report.findings}, detail={"applied": 1})

    store = FileStateStore(tmp_path / "state")
    result = scan.run(BASELINE, lambda: estate((SSH,)), store=store, notifiers=sinks.notifiers, clock=Clock(),
                      options=ScanOptions(remediation_mode="auto"), remediator=remediator, run_id="run-auto")
    assert seen == [(1, "run-auto")]
    assert sinks.hook.received[-1]["body"]["alerts"][0]["notes"] == ["remediated automatically"]
    assert scan.read_history(store)[-1]["remediation"] == {"status": "in_sync", "summary": "1 step applied",
                                                           "failed": False, "applied": 1}
    assert result.problems() == []


@pytest.mark.parametrize(("remediator", "status", "failed"), [
    (None, "unavailable", False),
    ("raises", "error", True),
])
def test_auto_mode_without_a_working_remediator_still_alerts(sinks: Sinks, tmp_path: Path, remediator: str | None,
                                                            status: str, failed: bool) -> None:
    def broken(live: Snapshot, report: CheckReport, run_id: str) -> RemediationOutcome:
        raise LockHeld("lock 'remediate/us-south/prod-vpc' is held by run-x")

    result = scan.run(BASELINE, lambda: estate((SSH,)), store=FileStateStore(tmp_path / "s"),
                      notifiers=sinks.notifiers, clock=Clock(), options=ScanOptions(remediation_mode="auto"),
                      remediator=broken if remediator else None)
    assert result.remediation is not None
    assert (result.remediation.status, result.failed) == (status, failed)
    assert sinks.counts() == dict.fromkeys(CHANNELS, 1)


def test_an_event_alert_counts_every_finding_still_open(sinks: Sinks, tmp_path: Path) -> None:
    """An event checks one resource and resolves nothing else; the findings of the last scan stay open,
    so its alert's "Open now" counts them too, not only the event's one finding."""
    store, clock = FileStateStore(tmp_path / "s"), Clock()

    def finding(rule_name: str, severity: str) -> Any:
        ref = ResourceRef("network-acl", region="us-south", vpc="prod-vpc", acl="acl-a", rule=rule_name)
        return replace(make("acl-rule-unexpected", ref, f"rule {rule_name} is not in the baseline"), severity=severity)

    scan.record([finding("a", "critical"), finding("b", "high")], store=store, notifiers=sinks.notifiers,
                options=ScanOptions(), run_id="run-1", started=clock(), status="drift")
    clock.tick()
    scan.record([finding("c", "critical")], store=store, notifiers=sinks.notifiers, options=ScanOptions(),
                run_id="event-1", started=clock(), status="drift", checked=(), kind="event")
    first, second = sinks.slack()
    assert first["blocks"][1]["text"]["text"] == "*Open now:* 1 critical, 1 high"
    assert second["blocks"][0]["text"]["text"] == "netwarden: 1 new (1 critical)"
    assert second["blocks"][1]["text"]["text"] == "*Open now:* 2 critical, 1 high"


def test_the_run_summary_says_what_an_event_did_not_re_check(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    store, clock = FileStateStore(tmp_path / "s"), Clock()
    ref = ResourceRef("network-acl", region="us-south", vpc="prod-vpc", acl="acl-a", rule="a")
    scan.record([make("acl-rule-unexpected", ref, "rule a is not in the baseline")], store=store, notifiers=[],
                options=ScanOptions(), run_id="run-1", started=clock(), status="drift")
    clock.tick()
    with caplog.at_level("INFO", logger="netwarden.app.scan"):
        scan.record([], store=store, notifiers=[], options=ScanOptions(), run_id="event-1", started=clock(),
                    status="in_sync", checked=(), kind="event")
    assert "; 1 not re-checked (still open)" in caplog.messages[-1]


# --- routing: each channel hears what its route lets through ------------------------------------------

ROUTED = """\
notify:
  slack:
    webhook_url_env: SLACK_WEBHOOK_URL
    min_severity: high
    mentions: {critical: '<!here>', high: '<!subteam^S0NETOPS>'}
  webhook:
    url_env: DRIFT_WEBHOOK_URL
"""


def test_routing_sends_a_low_finding_to_the_webhook_and_not_to_slack(sinks: Sinks, tmp_path: Path) -> None:
    config = tmp_path / "netwarden.yaml"
    config.write_text(ROUTED, encoding="utf-8")
    settings = Settings.load(config, environ={})
    environ = {"SLACK_WEBHOOK_URL": f"{sinks.fake.url}/slack/services/T1/B1/tok3n",
               "DRIFT_WEBHOOK_URL": f"{sinks.hook.url}/drift"}
    notifiers = registry.build(settings.notify.channels, NotifierEnv(environ=environ, source=str(config), timeout=5))
    store, clock = FileStateStore(tmp_path / "state"), Clock()
    options = {"routes": settings.notify.routes}
    rules = BASELINE.vpcs[0].acls[0].rules
    reordered = replace(BASELINE.vpcs[0], acls=(NetworkAcl("acl-a", (rules[2], rules[0], rules[1])),
                                                BASELINE.vpcs[0].acls[1]))
    result = run(Snapshot(vpcs=(reordered,)), store, notifiers, clock, **options)
    assert result.by_severity == {"low": 1}
    assert [(a["code"], a["severity"]) for a in sinks.hook.received[-1]["body"]["alerts"]] == [
        ("acl-rules-reordered", "low")]
    assert sinks.slack() == []

    clock.tick()
    run(estate((SSH,)), store, notifiers, clock, **options)  # a critical one: Slack hears it, and pages
    [message] = sinks.slack()
    assert message["text"].startswith("<!here> netwarden: 1 new (1 critical)")
    assert message["blocks"][1]["text"]["text"].startswith("<!here>\n*Open now:*")
    assert "acl-rules-reordered" not in json.dumps(message)  # nor the resolution of what it was never told
    assert [(a["kind"], a["code"]) for a in sinks.hook.received[-1]["body"]["alerts"]] == [
        ("new", "acl-rule-unexpected"), ("resolved", "acl-rules-reordered")]


def test_the_scan_summary_names_stale_suppressions(sinks: Sinks, tmp_path: Path,
                                                   caplog: pytest.LogCaptureFixture) -> None:
    suppressions = (Suppression("acl-rule-unexpected", "us-south/prod-vpc/acl-a/ssh", "NET-1", date(2026, 3, 5)),
                    Suppression("subnet-allow-all", "us-south/*", "migration", None),
                    Suppression("acl-rule-missing", "us-south/prod-vpc/*", "old", date(2026, 2, 1)))
    result = run(estate((SSH,)), FileStateStore(tmp_path / "state"), sinks.notifiers, Clock(),
                 suppressions=suppressions)
    assert result.suppressed == 1
    assert result.suppression_hygiene == (
        "suppression-expired: acl-rule-missing us-south/prod-vpc/*: expired on 2026-02-01, it no longer suppresses; "
        "renew it or remove it",
        "suppression-expiring: acl-rule-unexpected us-south/prod-vpc/acl-a/ssh: expires in 3 days (2026-03-05)",
        "suppression-matches-nothing: subnet-allow-all us-south/*: matches no current finding",
        "suppression-matches-nothing: acl-rule-missing us-south/prod-vpc/*: matches no current finding")
    assert result.history()["suppression_hygiene"] == list(result.suppression_hygiene)
    assert sum("suppression hygiene" in r.getMessage() for r in caplog.records) == 4
