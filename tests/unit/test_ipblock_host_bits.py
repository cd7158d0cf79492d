"""An ipBlock CIDR with host bits set (``10.0.0.1/24``): refused by the API server from Kubernetes 1.36,
accepted and kept by the releases before it, which IKS and ROKS still run. A baseline captured from
such a cluster, and a snapshot of it, read the same and compare equal to the masked CIDR; the API
server's own check still names it (the emulator refuses it, as a current server does)."""

from __future__ import annotations

import json
import shutil
from dataclasses import replace
from pathlib import Path

import pytest
import yaml

from netwarden.adapters.baseline_fs import read_baseline
from netwarden.core import snapshot_format, snapshot_read
from netwarden.core.drift.diff import diff
from netwarden.core.netpol import validate

BASELINE = Path(__file__).resolve().parents[2] / "baseline"
POLICY = BASELINE / "kubernetes" / "iks-cluster" / "accounts" / "db-allow.yaml"
EGRESS = {"egress": [{"to": [{"ipBlock": {"cidr": "10.0.0.1/24", "except": ["10.0.0.129/25"]}}]}]}


def with_host_bits(tmp_path: Path) -> Path:
    copy = tmp_path / "baseline"
    shutil.copytree(BASELINE, copy)
    doc = yaml.safe_load(POLICY.read_text())
    doc["spec"] = {**doc["spec"], "policyTypes": ["Ingress", "Egress"], **EGRESS}
    (copy / POLICY.relative_to(BASELINE)).write_text(yaml.safe_dump(doc))
    return copy


def test_a_baseline_with_host_bits_reads_and_equals_the_masked_cidr(tmp_path: Path) -> None:
    sloppy = read_baseline(with_host_bits(tmp_path))
    policy = next(p for p in sloppy.clusters[0].policies if p.name == "db-allow")
    assert policy.spec["egress"] == [{"to": [{"ipBlock": {"cidr": "10.0.0.0/24", "except": ["10.0.0.128/25"]}}]}]
    masked = tmp_path / "masked"
    shutil.copytree(BASELINE, masked)
    doc = yaml.safe_load(POLICY.read_text())
    doc["spec"] = {**doc["spec"], "policyTypes": ["Ingress", "Egress"],
                   "egress": [{"to": [{"ipBlock": {"cidr": "10.0.0.0/24", "except": ["10.0.0.128/25"]}}]}]}
    (masked / POLICY.relative_to(BASELINE)).write_text(yaml.safe_dump(doc))
    assert diff(read_baseline(masked), sloppy) == []


def test_a_snapshot_file_with_host_bits_reads_the_same(tmp_path: Path) -> None:
    sloppy = read_baseline(with_host_bits(tmp_path))
    data = json.loads(snapshot_format.dumps(sloppy))
    for policy in data["clusters"][0]["policies"]:
        if policy["name"] == "db-allow":
            policy["spec"]["egress"][0]["to"][0]["ipBlock"] = {"cidr": "10.0.0.1/24", "except": ["10.0.0.129/25"]}
    again = snapshot_read.loads(json.dumps(data), "snapshot.json")
    assert diff(sloppy, again) == [] and diff(again, sloppy) == []


@pytest.mark.parametrize(("field", "kept"), [("spec.egress[0].to[0].ipBlock.cidr", False), ("metadata.name", True)])
def test_only_the_host_bits_of_an_ipblock_are_let_through(field: str, kept: bool) -> None:
    violation = validate.Violation(field, f'Invalid value: "10.0.0.1/24": {validate.HOST_BITS}', "FieldValueInvalid")
    assert (validate.stored([violation]) == [violation]) is kept
    assert replace(violation, message="must be a valid CIDR value") in validate.stored(
        [replace(violation, message="must be a valid CIDR value")])
