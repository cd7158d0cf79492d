"""``netwarden check --snapshot FILE --baseline DIR``: exit codes, formats, --out, suppressions from the
config, and bad input that ends in one line on stderr and exit 1, never a traceback."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import xml.etree.ElementTree as ET
from dataclasses import replace
from pathlib import Path

import jsonschema
import pytest
import yaml

import snapshot_factory as f
from netwarden.adapters.baseline_write import write_baseline
from netwarden.core import snapshot_format
from netwarden.core.model import Snapshot, Unreadable
from netwarden.entrypoints.cli import main
from netwarden.fakes import scenarios
from netwarden.fakes.server import FakeServer

SCHEMA = json.loads((Path(__file__).parents[2] / "docs" / "report.schema.json").read_text())
BASE = f.recipe()
LIVE = f.live_of(BASE)
LIVES = {
    "in-sync": LIVE,
    "drift": f.with_subnet(LIVE, "subnet-zone2", network_acl="default-acl"),
    "gateway": f.with_subnet(LIVE, "subnet-zone3", public_gateway="pgw-zone3"),
    "incomplete": replace(LIVE, clusters=(), unreadable=(Unreadable("k8s/prod-cluster", "connection refused"),)),
}


@pytest.fixture
def estate(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A working directory with ``baseline/`` and one snapshot file per entry of LIVES."""
    monkeypatch.chdir(tmp_path)
    write_baseline(BASE, tmp_path / "baseline")
    for name, snap in LIVES.items():
        (tmp_path / f"{name}.json").write_text(snapshot_format.dumps(snap))
    return tmp_path


def _write(path: Path, snap: Snapshot) -> str:
    path.write_text(snapshot_format.dumps(snap))
    return str(path)


@pytest.mark.parametrize(("snapshot", "code", "first_line"), [
    ("in-sync", 0, "netwarden check: in sync: no drift"),
    ("drift", 2, "netwarden check: drift: 1 finding (1 critical)"),
    ("incomplete", 3, "netwarden check: incomplete: 1 scope unreadable"),
])
def test_exit_codes(estate: Path, capsys: pytest.CaptureFixture[str], snapshot: str, code: int,
                    first_line: str) -> None:
    assert main(["check", "--snapshot", f"{snapshot}.json", "--baseline", "baseline"]) == code
    out, err = capsys.readouterr()
    assert out.splitlines()[0] == first_line
    assert err == ""


def _check_json(text: str) -> None:
    doc = json.loads(text)
    jsonschema.Draft202012Validator(SCHEMA, format_checker=jsonschema.FormatChecker()).validate(doc)
    assert doc["status"] == "drift" and doc["findings"][0]["code"] == "subnet-allow-all"


def _check_sarif(text: str) -> None:
    result = json.loads(text)["runs"][0]["results"][0]
    assert result["ruleId"] == "subnet-allow-all"
    assert result["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] == \
        "baseline/vpc/us-south/prod-vpc/subnets.yaml"


def _check_junit(text: str) -> None:
    root = ET.fromstring(text)
    assert root.get("failures") == "1"


def _check_markdown(text: str) -> None:
    assert text.startswith("### netwarden: drift detected") and "| `subnet-allow-all` |" in text


def _check_text(text: str) -> None:
    assert "subnet-allow-all" in text and "us-south/prod-vpc/subnet-zone2" in text


@pytest.mark.parametrize(("fmt", "check"), [
    ("json", _check_json), ("sarif", _check_sarif), ("junit", _check_junit), ("markdown", _check_markdown),
    ("text", _check_text),
])
def test_formats_to_stdout_and_out(estate: Path, capsys: pytest.CaptureFixture[str], fmt: str, check: object) -> None:
    assert main(["check", "--snapshot", "drift.json", "--baseline", "baseline", "--format", fmt]) == 2
    stdout = capsys.readouterr().out
    check(stdout)  # type: ignore[operator]
    out = estate / "reports" / f"check.{fmt}"
    assert main(["check", "--snapshot", "drift.json", "--baseline", "baseline", "--format", fmt,
                 "--out", str(out)]) == 2
    assert capsys.readouterr().out == ""
    written = out.read_text()
    check(written)  # type: ignore[operator]
    assert written.replace(_generated(written), "") == stdout.replace(_generated(stdout), "")


def _generated(text: str) -> str:
    """The generation timestamp in a report (it differs between two runs)."""
    found = re.search(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z", text)
    return found.group(0) if found else "\0"


def test_suppression_from_the_config(estate: Path, capsys: pytest.CaptureFixture[str]) -> None:
    config = estate / "netwarden.yaml"
    config.write_text("baseline: baseline\nsuppressions:\n"
                      "  - {code: gateway-attached, resource: 'us-south/prod-vpc/*', reason: proxy test, "
                      "expires: 2999-01-01}\n")
    assert main(["check", "--snapshot", "gateway.json", "--config", str(config), "--format", "json"]) == 0
    (finding,) = json.loads(capsys.readouterr().out)["findings"]
    assert finding["suppressed"] == {"reason": "proxy test", "expires": "2999-01-01"}
    config.write_text(config.read_text().replace("2999-01-01", "2000-01-01"))
    assert main(["check", "--snapshot", "gateway.json", "--config", str(config), "--format", "json"]) == 2
    (finding,) = json.loads(capsys.readouterr().out)["findings"]
    assert "suppressed" not in finding and finding["suppression_expired"]["expires"] == "2000-01-01"


def test_a_snapshot_file_as_baseline(estate: Path, capsys: pytest.CaptureFixture[str]) -> None:
    _write(estate / "before.json", BASE)
    assert main(["check", "--snapshot", "in-sync.json", "--baseline", "before.json"]) == 0
    capsys.readouterr()
    assert main(["check", "--snapshot", "gateway.json", "--baseline", "before.json", "--format", "sarif"]) == 2
    result = json.loads(capsys.readouterr().out)["runs"][0]["results"][0]
    assert result["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] == "before.json"


BAD_RULE = snapshot_format.dumps(LIVE).replace('"10.240.0.0/24"', '"10.240.0.0/33"', 1)
BAD_RULE_LINE = next(i for i, line in enumerate(BAD_RULE.splitlines(), 1) if "10.240.0.0/33" in line)
BAD_SNAPSHOTS = [
    ("not-json", "{\"schema_version\": 1,", "bad.json:1: not JSON"),
    ("empty", "", "bad.json:1: not JSON"),
    ("wrong kind", json.dumps({"schema_version": 1, "kind": "netwarden/baseline"}),
     "bad.json:1: kind: not a netwarden snapshot"),
    ("newer version", json.dumps({"schema_version": 9, "kind": "netwarden/snapshot"}),
     "bad.json:1: schema_version: unsupported snapshot version 9 (this netwarden reads snapshot version 1)"),
    ("bad rule", BAD_RULE, f"bad.json:{BAD_RULE_LINE}: vpcs[0].acls[0].rules[0].destination: '10.240.0.0/33' is "
                           "not a valid IP address or CIDR"),
    ("binary", "\udcff", "bad.json: cannot read the snapshot file"),
    ("not UTF-8 on line 3", '{\n "kind":\n "\udcff"}', "bad.json: cannot read the snapshot file: not UTF-8 (line 3: "
                                                       "byte 0xff at offset 13"),
    ("NaN", snapshot_format.dumps(LIVE).replace('"code": 0', '"code": NaN', 1),
     "NaN is not a JSON number"),
    ("nested 100,000 deep", "[" * 100_000 + "]" * 100_000, "bad.json: nested too deeply to read"),
    ("no taken_at", json.dumps({"schema_version": 1, "kind": "netwarden/snapshot"}), "bad.json: taken_at: missing"),
    ("taken_at without a timezone", snapshot_format.dumps(replace(LIVE, taken_at="2026-11-27T10:00:00")),
     "bad.json:4: taken_at: expected an ISO 8601 date and time with a timezone"),
    ("a VPC twice", snapshot_format.dumps(replace(LIVE, vpcs=LIVE.vpcs * 2)),
     "vpcs[1].name: duplicate VPC 'us-south/prod-vpc' (also vpcs[0])"),
    ("the vpcs key twice", snapshot_format.dumps(LIVE).replace('"clusters":', '"vpcs": [],\n  "clusters":', 1),
     "vpcs: the key 'vpcs' appears twice in one object"),
    # (host bits, 207.42.8.1/24, are no refusal: the API servers before Kubernetes 1.36 keep them)
    ("a policy the API server refuses", snapshot_format.dumps(LIVE).replace('"cidr": "207.42.8.0/24"',
                                                                            '"cidr": "207.042.8.0/24"', 1),
     "clusters[0].policies[1].spec.ingress[0].from[0].ipBlock.cidr: Invalid value: \"207.042.8.0/24\""),
]


@pytest.mark.parametrize(("content", "message"), [c[1:] for c in BAD_SNAPSHOTS], ids=[c[0] for c in BAD_SNAPSHOTS])
def test_bad_snapshot_is_one_line_and_exit_1(estate: Path, content: str, message: str) -> None:
    (estate / "bad.json").write_bytes(content.encode("utf-8", errors="surrogateescape"))
    proc = subprocess.run([sys.executable, "-m", "netwarden", "check", "--snapshot", "bad.json", "--baseline",
                           "baseline", "--out", "report.txt"], capture_output=True, text=True, cwd=estate, check=False)
    assert proc.returncode == 1
    assert proc.stdout == ""
    assert proc.stderr.count("\n") == 1 and "Traceback" not in proc.stderr
    assert proc.stderr.startswith("netwarden: error: ") and message in proc.stderr
    assert not (estate / "report.txt").exists()  # nothing written


def test_a_vpc_listed_twice_is_refused_not_checked_in_sync(estate: Path) -> None:
    """The snapshot lists the VPC twice: first as it drifted, then as the baseline has it. Read by name, the
    second copy would win and the check would say "in sync"; it is refused, naming the second copy."""
    drifted = LIVES["drift"].vpcs[0]
    _write(estate / "drift-only.json", replace(LIVE, vpcs=(drifted,)))
    (estate / "twice.json").write_text(snapshot_format.dumps(replace(LIVE, vpcs=(drifted, LIVE.vpcs[0]))))
    argv = [sys.executable, "-m", "netwarden", "check", "--baseline", "baseline", "--out", "report.txt", "--snapshot"]
    alone = subprocess.run([*argv, "drift-only.json"], capture_output=True, text=True, cwd=estate, check=False)
    assert alone.returncode == 2  # the drift the copy would hide
    (estate / "report.txt").unlink()
    proc = subprocess.run([*argv, "twice.json"], capture_output=True, text=True, cwd=estate, check=False)
    assert (proc.returncode, proc.stdout) == (1, "")
    line = [i for i, text in enumerate((estate / "twice.json").read_text().splitlines(), 1)
            if text == '      "name": "prod-vpc",'][1]
    assert proc.stderr == (f"netwarden: error: twice.json:{line}: vpcs[1].name: duplicate VPC 'us-south/prod-vpc' "
                           "(also vpcs[0])\n")
    assert not (estate / "report.txt").exists()


@pytest.mark.parametrize("flag", ["--snapshot", "--baseline"])
def test_a_snapshot_file_over_the_size_limit_is_one_line(estate: Path, capsys: pytest.CaptureFixture[str],
                                                         monkeypatch: pytest.MonkeyPatch, flag: str) -> None:
    """Read with a limit as the live state and as the baseline; the limit (256 MiB) is set low here, so the
    test need not write a quarter of a gigabyte."""
    from netwarden.core import snapshot_checks

    monkeypatch.setattr(snapshot_checks, "MAX_BYTES", 1024)
    args = {"--snapshot": "in-sync.json", "--baseline": "baseline", flag: "drift.json"}
    assert main(["check", *(x for pair in args.items() for x in pair)]) == 1
    err = capsys.readouterr().err
    assert err == ("netwarden: error: drift.json: cannot read the snapshot file: larger than the 1024 bytes a "
                   "snapshot file may have\n")


@pytest.mark.parametrize(("args", "message"), [
    (["--snapshot", "missing.json", "--baseline", "baseline"], "missing.json: cannot read the snapshot file"),
    (["--snapshot", "in-sync.json", "--baseline", "no-such-dir"], "no-such-dir"),
])
def test_missing_inputs(estate: Path, capsys: pytest.CaptureFixture[str], args: list[str], message: str) -> None:
    assert main(["check", *args]) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and message in err


@pytest.mark.parametrize("args", [["check", "--format", "yaml"], ["check", "--no-such-flag"], ["chek"]])
def test_a_usage_error_exits_1_not_the_drift_code(args: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    """argparse exits 2 on a usage error; for netwarden 2 means drift, so CI would read a typo as drift."""
    with pytest.raises(SystemExit) as exited:
        main(args)
    assert exited.value.code == 1
    err = capsys.readouterr().err
    assert "error:" in err and "Traceback" not in err


def test_help_still_exits_0() -> None:
    with pytest.raises(SystemExit) as exited:
        main(["check", "--help"])
    assert exited.value.code == 0


def test_check_of_a_snapshot_imports_no_cloud_sdk(estate: Path) -> None:
    code = ("import sys\nfrom netwarden.entrypoints.cli import main\n"
            "rc = main(['check', '--snapshot', 'drift.json', '--baseline', 'baseline', '--format', 'json'])\n"
            "sdks = sorted(m for m in ('ibm_vpc', 'kubernetes', 'ibm_cloud_sdk_core') if m in sys.modules)\n"
            "print(rc, sdks, file=sys.stderr)\n")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=estate, check=False)
    assert proc.stderr.strip().splitlines()[-1] == "2 []"


def test_a_configured_vpc_that_does_not_exist_is_one_line_naming_those_that_do(estate: Path,
                                                                              fake: FakeServer) -> None:
    """A live check whose ``ibmcloud.vpcs`` names a VPC the region does not have: exit 1 and one line naming
    the VPCs that are there, not a report of every baseline resource "missing"."""
    scenarios.build("recipe", fake.url, baseline=BASE)
    config = scenarios.config_for(fake.url, "recipe", BASE, "baseline")
    config["ibmcloud"]["vpcs"] = ["prod-vcp"]
    (estate / "netwarden.yaml").write_text(yaml.safe_dump(config))
    proc = subprocess.run([sys.executable, "-m", "netwarden", "check", "--config", "netwarden.yaml", "--out",
                           "report.txt"], capture_output=True, text=True, cwd=estate, check=False,
                          env={**os.environ, scenarios.API_KEY_ENV: "fake-apikey"})
    assert (proc.returncode, proc.stdout) == (1, "")
    assert proc.stderr == "netwarden: error: ibmcloud.vpcs: VPC 'prod-vcp' does not exist in us-south; " \
        "the VPCs there: prod-vpc\n"
    assert not (estate / "report.txt").exists()


def test_the_json_report_is_the_same_cold_and_warm_and_warm_parses_no_yaml(estate: Path) -> None:
    """``baseline_cache`` in the config: the first run compiles the baseline, the second reads the compiled
    form (the baseline schema module is never imported), and both write the same report."""
    cache = estate / "cache"
    (estate / "netwarden.yaml").write_text(f"baseline: baseline\nbaseline_cache: {cache}\n", encoding="utf-8")
    probe = ("import sys; from netwarden.entrypoints.cli import main; code = main(sys.argv[1:]); "
             "print('parsed' if 'netwarden.adapters.baseline_schema' in sys.modules else 'compiled'); sys.exit(code)")
    argv = [sys.executable, "-c", probe, "check", "--config", "netwarden.yaml", "--snapshot", "drift.json",
            "--format", "json", "--out"]
    env = {k: v for k, v in os.environ.items() if not k.startswith("NETWARDEN_")}
    runs = [subprocess.run([*argv, f"{name}.report.json"], capture_output=True, text=True, cwd=estate, env=env,
                           check=False) for name in ("cold", "warm")]
    assert [(r.returncode, r.stdout.strip()) for r in runs] == [(2, "parsed"), (2, "compiled")]
    assert all(r.stderr.startswith("netwarden: wrote the json report (drift, ") and r.stderr.count("\n") == 1
               for r in runs), [r.stderr for r in runs]
    assert len(list(cache.glob("baseline-*.json"))) == 1
    reports = []
    for name in ("cold", "warm"):
        report = json.loads((estate / f"{name}.report.json").read_text(encoding="utf-8"))
        report.pop("generated_at")
        reports.append(report)
    assert reports[0] == reports[1] and reports[0]["findings"]
