"""`make demo` end to end: every step of the story ends as it must, and only the work directory is written."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest

from netwarden.entrypoints import cli, demo

ROOT = Path(__file__).resolve().parents[2]


SKIP = {".venv", ".git", "__pycache__", ".pytest_cache", ".mypy_cache", ".ruff_cache", ".benchmarks",
        ".import_linter_cache", "dist", "build"}


def _tree(root: Path) -> dict[str, int]:
    """Every file below ``root`` (build and cache folders left out) with its modification time."""
    return {str(p.relative_to(root)): p.stat().st_mtime_ns for p in root.rglob("*")
            if p.is_file() and not SKIP & set(p.relative_to(root).parts)}


@pytest.fixture(scope="module")
def story(tmp_path_factory: pytest.TempPathFactory) -> tuple[str, Path, dict[str, int]]:
    workdir = tmp_path_factory.mktemp("demo")
    out = io.StringIO()
    before = _tree(ROOT)
    assert demo.main(str(workdir), ROOT / "baseline", out, run=cli.main) == 0
    created = {k: v for k, v in _tree(ROOT).items() if k not in before}
    return out.getvalue(), workdir, created


def test_each_step_ends_with_its_exit_code(story: tuple[str, Path, dict[str, int]]) -> None:
    text, _, _ = story
    exits = [line.strip() for line in text.splitlines() if line.strip().startswith("-> exit")]
    assert [e.split()[2] for e in exits] == ["0", "0", "0", "0", "0", "2", "2", "2", "2", "2", "2", "2", "0", "0",
                                                 "0"]


def test_drift_is_found_with_impact(story: tuple[str, Path, dict[str, int]]) -> None:
    text, workdir, _ = story
    assert str(workdir / "reports" / "check.html") in text, "the demo says where the HTML report is"
    report = json.loads((workdir / "reports" / "check.json").read_text())
    assert report["status"] == "drift"
    codes = sorted(f["code"] for f in report["findings"])
    assert codes == ["acl-rule-missing", "gateway-attached", "gateway-detached", "netpol-changed", "sg-rule-unexpected",
                     "subnet-allow-all"]
    # the gateway "moved" to another zone: the alert says which app loses the internet
    detached = next(f for f in report["findings"] if f["code"] == "gateway-detached")
    assert detached["impact"]["breakage"] == [
        "public egress of workload iks-cluster/accounts/srv1-notifier (pinned to this subnet for it)"]
    allow_all = next(f for f in report["findings"] if f["code"] == "subnet-allow-all")
    assert allow_all["severity"] == "critical" and allow_all["impact"]["exposure"] == "widened"
    assert any("from 0.0.0.0/0" in e for e in allow_all["impact"]["examples"])
    for ext in ("txt", "md", "sarif", "xml", "html"):
        assert (workdir / "reports" / f"check.{ext}").stat().st_size > 0
    html = (workdir / "reports" / "check.html").read_text(encoding="utf-8")
    assert 'class="matrix' in html and "deny-all-inbound" in html


def test_the_terminal_report_of_the_drift_is_readable_at_80_columns(story: tuple[str, Path, dict[str, int]]) -> None:
    """``check`` in a pipe fills 80 columns: no line is longer, and every message and impact is there
    with its words whole and in order (only the whitespace between them may be a line break)."""
    _, workdir, _ = story
    text = (workdir / "reports" / "check.txt").read_text(encoding="utf-8")
    assert max(len(line) for line in text.splitlines()) <= 80
    flat = " ".join(text.split())
    report = json.loads((workdir / "reports" / "check.json").read_text())
    for f in report["findings"]:
        for said in (f["message"], *f["impact"]["examples"][:3], *f["impact"].get("breakage", [])):
            assert " ".join(said.split()) in flat, said
        assert f"{f['severity'].upper()} {f['code']} " in flat


def test_event_alerts_and_scans_alert_once(story: tuple[str, Path, dict[str, int]]) -> None:
    text, _, _ = story
    event_part = text.split("== 4.")[1].split("== 5.")[0]
    assert "is.subnet.network-acl.update" in event_part and "SUBNET-ALLOW-ALL" in event_part.upper()
    # the security group rule, by its own event: ssh from anywhere on the workers' group
    assert "is.security-group.security-group-rule.create" in event_part
    assert ("`sg-rule-unexpected`\n    | *us-south/iks-vpc/kube-cq2f9ha20m7cn4qhs0vg/inbound tcp 22 from 0.0.0.0/0*"
            in event_part)
    scan_part = text.split("== 5.")[1].split("== 6.")[0]
    assert "Slack received 1 message(s)" in scan_part
    # the events alerted subnet-allow-all and the ssh rule each against the baseline's other layer; the scan
    # sees both drifts: the default ACL on a subnet and ssh from anywhere on the workers' group let tcp 22 in
    # from 0.0.0.0/0 through every layer, so both come again as changed, the ssh rule now critical
    assert "NETWARDEN: 4 NEW, 2 CHANGED (3 CRITICAL, 1 HIGH, 1 MEDIUM, 1 LOW)" in scan_part
    assert "workloads that lose the internet: iks-cluster/accounts/srv1-notifier" in scan_part
    assert "_severity high -> critical_" in scan_part
    assert "tcp 22 from 0.0.0.0/0 to 10.240.64.0/24" in scan_part


def test_remediation_applies_verifies_and_resolves(story: tuple[str, Path, dict[str, int]]) -> None:
    text, workdir, _ = story
    part = text.split("== 6.")[1]
    assert "dry run: nothing was changed" in part
    assert "Verification (fresh snapshot): in sync" in part
    assert "Delete rule inbound tcp 22 from 0.0.0.0/0 from security group kube-cq2f9ha20m7cn4qhs0vg" in part
    assert "6 RESOLVED" in part
    assert list((workdir / "state").rglob("audit/*.json"))


def test_writes_only_inside_the_workdir(story: tuple[str, Path, dict[str, int]]) -> None:
    _, workdir, created_in_repo = story
    assert {p.name for p in workdir.iterdir()} >= {"netwarden.yaml", "reports", "state", "netwarden.log", "event.json",
                                                 "event-security-group.json"}
    assert created_in_repo == {}


def test_missing_baseline_is_one_clear_error(tmp_path: Path) -> None:
    from netwarden.entrypoints.cli import main

    assert main(["demo", "--workdir", str(tmp_path / "w"), "--baseline", str(tmp_path / "nowhere")]) == 1
