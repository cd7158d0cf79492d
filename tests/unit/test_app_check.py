"""app.check.run: the status of a check, and suppressions (exact, glob, expiring) as the report marks them."""

from __future__ import annotations

import logging
from dataclasses import replace
from datetime import date

import pytest

import snapshot_factory as f
from netwarden.app.check import run
from netwarden.config import Suppression
from netwarden.core.model import Snapshot, Unreadable

BASE = f.recipe()
LIVE = f.live_of(BASE)
GATEWAY = f.with_subnet(LIVE, "subnet-zone3", public_gateway="pgw-zone3")
TODAY = date(2026, 11, 27)


@pytest.mark.parametrize(("live", "status"), [
    (LIVE, "in_sync"),
    (GATEWAY, "drift"),
    (replace(LIVE, unreadable=(Unreadable("eu-de", "HTTP 503"),)), "incomplete"),
    # Incomplete wins over drift: what could not be read might hold more.
    (replace(GATEWAY, unreadable=(Unreadable("eu-de", "HTTP 503"),)), "incomplete"),
])
def test_status(live: Snapshot, status: str) -> None:
    report = run(BASE, live, today=TODAY, generated_at="2026-11-27T10:00:00Z")
    assert report.status == status
    assert report.generated_at == "2026-11-27T10:00:00Z"
    assert report.unreadable == live.unreadable


@pytest.mark.parametrize(("suppression", "status", "suppressed", "expired"), [
    (Suppression("gateway-attached", "us-south/prod-vpc/subnet-zone3", "r"), "in_sync", True, False),
    (Suppression("gateway-attached", "us-south/prod-vpc/*", "r", date(2027, 1, 1)), "in_sync", True, False),
    (Suppression("gateway-attached", "us-south/prod-vpc/subnet-zone3", "r", TODAY), "in_sync", True, False),
    (Suppression("gateway-attached", "us-south/prod-vpc/subnet-zone3", "r", date(2026, 11, 26)), "drift", False, True),
    (Suppression("gateway-detached", "us-south/prod-vpc/subnet-zone3", "r"), "drift", False, False),
    (Suppression("gateway-attached", "us-south/prod-vpc/subnet-zone1", "r"), "drift", False, False),
    (Suppression("gateway-attached", "us-south/prod-vpc/subnet", "r"), "drift", False, False),
])
def test_suppressions(suppression: Suppression, status: str, suppressed: bool, expired: bool) -> None:
    report = run(BASE, GATEWAY, suppressions=[suppression], today=TODAY)
    (finding,) = report.findings  # a suppressed finding stays in the report
    assert report.status == status
    assert report.is_suppressed(finding) is suppressed
    mark = report.suppression(finding)
    assert (mark is not None and mark.expired) is expired
    assert len(report.active) == (0 if suppressed else 1)


def test_decisions_are_logged(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger="netwarden.app.check")
    run(BASE, replace(GATEWAY, unreadable=(Unreadable("eu-de", "HTTP 503"),)),
        suppressions=[Suppression("gateway-attached", "us-south/prod-vpc/*", "egress test", date(2026, 1, 1))],
        today=TODAY)
    messages = [r.getMessage() for r in caplog.records]
    assert any("suppression expired on 2026-01-01" in m and "gateway-attached" in m for m in messages)
    assert any("not checked, could not be read: eu-de (HTTP 503)" in m for m in messages)
    assert any(m.startswith("check incomplete: 1 finding(s), 0 suppressed, 1 scope(s) unreadable") for m in messages)


def test_findings_sorted_most_severe_first() -> None:
    live = f.with_subnet(f.with_subnet(GATEWAY, "subnet-zone2", network_acl="default-acl"),
                         "subnet-zone1", public_gateway=None)
    severities = [x.severity for x in run(BASE, live, today=TODAY).findings]
    assert severities == sorted(severities, key=["critical", "high", "medium", "low", "info"].index)
    assert severities[0] == "critical"


def test_defaults_stamp_the_report_now() -> None:
    report = run(BASE, LIVE)
    assert report.generated_at is not None and report.generated_at.endswith("Z")
