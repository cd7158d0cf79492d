"""``netwarden check`` on the emulated recipe estate when the config and the baseline disagree about the
scope: a configured VPC or namespace that does not exist is one error line naming those that do (exit 1);
a baseline region, VPC, cluster or namespace the config does not select is one note and no finding, and
so is a live VPC of a region read whole that the baseline does not hold; a configured cluster or VPC the
baseline has no folder for, or a cluster that cannot be reached, is unreadable (exit 3)."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
import yaml
from ibm_cloud_sdk_core.authenticators import IAMAuthenticator
from ibm_vpc import VpcV1
from kube_recipe import BASELINE, CLUSTER, Recipe, build, closed_port

from netwarden.adapters.baseline_fs import read_baseline
from netwarden.adapters.baseline_write import write_baseline
from netwarden.core import lifecycle
from netwarden.core.model import Snapshot
from netwarden.entrypoints.cli import main
from netwarden.fakes.iam import API_KEY
from netwarden.fakes.server import FakeServer

Config = dict[str, Any]
Setup = Callable[[Recipe], None]


@pytest.fixture
def recipe(fake: FakeServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Recipe:
    """The recipe estate (its VPC and its cluster) in sync with the committed baseline."""
    return build(fake, tmp_path, monkeypatch)


def sdk(recipe: Recipe, region: str = "us-south") -> VpcV1:
    client = VpcV1(authenticator=IAMAuthenticator(API_KEY, url=f"{recipe.fake.url}/iam"))
    client.set_service_url(f"{recipe.fake.url}/vpc/{region}/v1")
    return client


def check(recipe: Recipe, capsys: pytest.CaptureFixture[str], edit: Callable[[Config, Recipe], None],
          baseline: Snapshot | None = None) -> tuple[int, str, str]:
    """``netwarden check --format json`` with the recipe's config changed by ``edit`` and, when given,
    ``baseline`` written in place of the committed one: (exit code, stdout, stderr)."""
    data: Config = json.loads(json.dumps(recipe.data))
    if baseline is not None:
        write_baseline(baseline, recipe.config.parent / "baseline")
        data["baseline"] = str(recipe.config.parent / "baseline")
    edit(data, recipe)
    config = recipe.config.with_name("netwarden-scope.yaml")
    config.write_text(yaml.safe_dump(data))
    capsys.readouterr()
    code = main(["check", "--config", str(config), "--format", "json"])
    out, err = capsys.readouterr()
    return code, out, err


def ibm(**changes: Any) -> Callable[[Config, Recipe], None]:
    return lambda data, _: data["ibmcloud"].update(changes)


def cluster_entry(**changes: Any) -> Callable[[Config, Recipe], None]:
    return lambda data, _: data["kubernetes"]["clusters"][0].update(changes)


def vpcs_by_id(data: Config, recipe: Recipe) -> None:
    (vpc,) = [v for v in sdk(recipe).list_vpcs().get_result()["vpcs"] if v["name"] == "iks-vpc"]
    data["ibmcloud"]["vpcs"] = [vpc["id"]]


def no_kubernetes(data: Config, _: Recipe) -> None:
    del data["kubernetes"]


def no_ibmcloud(data: Config, _: Recipe) -> None:
    del data["ibmcloud"]


def nothing(_: Recipe) -> None:
    return None


def vpcs_named(*names: str, region: str = "us-south") -> Setup:
    def setup(recipe: Recipe) -> None:
        client = sdk(recipe, region)
        for name in names:
            client.create_vpc(name=name)
    return setup


# --- a configured scope that does not exist: one line, exit 1 ------------------------------------------------

MANY = tuple(f"extra-{i:02}" for i in range(24))
ERRORS = [
    ("vpc-name", nothing, ibm(vpcs=["wrong-vpc"]),
     "ibmcloud.vpcs: VPC 'wrong-vpc' does not exist in us-south; the VPCs there: iks-vpc"),
    ("vpc-beside-a-right-one", nothing, ibm(vpcs=["iks-vpc", "edge-vpc"]),
     "ibmcloud.vpcs: VPC 'edge-vpc' does not exist in us-south; the VPCs there: iks-vpc"),
    ("vpc-in-no-region", vpcs_named("eu-vpc", region="eu-de"), ibm(regions=["us-south", "eu-de"], vpcs=["wrong-vpc"]),
     "ibmcloud.vpcs: VPC 'wrong-vpc' does not exist in us-south or eu-de; the VPCs there: eu-de/eu-vpc, "
     "us-south/iks-vpc"),
    ("vpcs-bounded-list", vpcs_named(*MANY), ibm(vpcs=["wrong-vpc", "iks-vpc", "wrong-too"]),
     "ibmcloud.vpcs: VPCs 'wrong-too', 'wrong-vpc' do not exist in us-south; the VPCs there: "
     + ", ".join(MANY[:20]) + " and 5 more"),
    ("namespace", nothing, cluster_entry(namespaces=["accounts", "nope"]),
     f"kubernetes.clusters[{CLUSTER}].namespaces: namespace 'nope' does not exist in cluster {CLUSTER}; "
     "its namespaces: accounts, default, finance, kube-node-lease, kube-public, kube-system"),
]


@pytest.mark.parametrize(("setup", "edit", "message"), [c[1:] for c in ERRORS], ids=[c[0] for c in ERRORS])
def test_a_configured_scope_that_does_not_exist_is_one_line_naming_what_does(
        recipe: Recipe, capsys: pytest.CaptureFixture[str], setup: Setup, edit: Callable[[Config, Recipe], None],
        message: str) -> None:
    setup(recipe)
    code, out, err = check(recipe, capsys, edit)
    assert (code, out) == (1, "")  # an error, not a report of everything "missing"
    assert err == f"netwarden: error: {message}\n"


# --- a baseline part the config does not select: one note, no finding ---------------------------------------


def with_vpc_copy(name: str, region: str = "us-south") -> Snapshot:
    """The committed baseline and a copy of its VPC named ``name`` in ``region`` (its zones renamed)."""
    base = read_baseline(BASELINE)
    (vpc,) = base.vpcs
    subnets = tuple(replace(s, zone=s.zone.replace(vpc.region, region) if s.zone else None) for s in vpc.subnets)
    return replace(base, vpcs=(vpc, replace(vpc, name=name, region=region, subnets=subnets)))


def with_cluster_copy(name: str) -> Snapshot:
    base = read_baseline(BASELINE)
    return replace(base, clusters=(*base.clusters, replace(base.clusters[0], name=name)))


def _note(scope: str, kind: str, name: str, setting: str) -> dict[str, str]:
    return {"kind": "out-of-scope", "scope": scope,
            "message": f"baseline {kind} {name} is outside the configured scope ({setting}): not checked"}


OUT_OF_SCOPE = [
    ("one-of-two-vpcs", vpcs_named("edge-vpc"), with_vpc_copy("edge-vpc"), ibm(vpcs=["iks-vpc"]),
     _note("us-south/edge-vpc", "vpc", "us-south/edge-vpc", "ibmcloud.vpcs")),
    ("one-of-two-vpcs-by-id", vpcs_named("edge-vpc"), with_vpc_copy("edge-vpc"), vpcs_by_id,
     _note("us-south/edge-vpc", "vpc", "us-south/edge-vpc", "ibmcloud.vpcs")),
    ("region", vpcs_named("iks-vpc", region="eu-de"), with_vpc_copy("iks-vpc", "eu-de"), ibm(regions=["us-south"]),
     _note("eu-de", "region", "eu-de", "ibmcloud.regions")),
    ("namespace", nothing, None, cluster_entry(namespaces=["accounts"]),
     _note(f"k8s/{CLUSTER}/finance", "namespace", f"{CLUSTER}/finance", f"kubernetes.clusters[{CLUSTER}].namespaces")),
    ("cluster", nothing, with_cluster_copy("edge-cluster"), ibm(),
     _note("k8s/edge-cluster", "cluster", "edge-cluster", "kubernetes.clusters")),
    ("no-kubernetes-section", nothing, None, no_kubernetes,
     _note(f"k8s/{CLUSTER}", "cluster", CLUSTER, "the config has no kubernetes section")),
    ("no-ibmcloud-section", nothing, None, no_ibmcloud,
     _note("us-south", "region", "us-south", "the config has no ibmcloud section")),
    ("live-vpc-not-in-the-baseline", vpcs_named("spare-vpc"), None, ibm(),
     {"kind": "unmanaged", "scope": "us-south/spare-vpc",
      "message": "live VPC us-south/spare-vpc has no baseline folder vpc/us-south/spare-vpc/: not checked (capture it "
                 "with netwarden baseline capture, or name the VPCs to check in ibmcloud.vpcs)"}),
]


@pytest.mark.parametrize(("setup", "baseline", "edit", "note"), [c[1:] for c in OUT_OF_SCOPE],
                         ids=[c[0] for c in OUT_OF_SCOPE])
def test_a_baseline_part_outside_the_configured_scope_is_one_note_and_no_finding(
        recipe: Recipe, capsys: pytest.CaptureFixture[str], setup: Setup, baseline: Snapshot | None,
        edit: Callable[[Config, Recipe], None], note: dict[str, str]) -> None:
    setup(recipe)
    code, out, err = check(recipe, capsys, edit, baseline)
    report = json.loads(out)
    assert (code, report["status"], report["findings"], report["unreadable"]) == (0, "in_sync", [], []), err
    assert report["notes"] == [note]


def test_drift_inside_the_scope_is_still_found_beside_a_note(recipe: Recipe,
                                                              capsys: pytest.CaptureFixture[str]) -> None:
    recipe.kube()[2].delete_namespaced_network_policy("db-allow", "accounts")
    code, out, _ = check(recipe, capsys, cluster_entry(namespaces=["accounts"]))
    report = json.loads(out)
    assert (code, [f["code"] for f in report["findings"]]) == (2, ["netpol-missing"])
    assert [n["scope"] for n in report["notes"]] == [f"k8s/{CLUSTER}/finance"]


# --- a configured cluster that cannot be checked: unreadable, never empty -------------------------------------


def add_cluster(name: str, server: Callable[[Recipe], str]) -> Callable[[Config, Recipe], None]:
    return lambda data, recipe: data["kubernetes"]["clusters"].append({"name": name, "server": server(recipe)})


def spare_vpc_configured(data: Config, recipe: Recipe) -> None:
    sdk(recipe).create_vpc(name="spare-vpc")
    data["ibmcloud"]["vpcs"] = ["iks-vpc", "spare-vpc"]


UNREADABLE = [
    ("vpc-with-no-baseline-folder", None, spare_vpc_configured, "us-south/spare-vpc",
     "the baseline has no folder vpc/us-south/spare-vpc/"),
    ("no-baseline-folder", None, add_cluster("spare-cluster", lambda r: r.cluster_url),
     "k8s/spare-cluster", "the baseline has no folder kubernetes/spare-cluster/"),
    ("unreachable", with_cluster_copy("edge-cluster"),
     add_cluster("edge-cluster", lambda _: f"http://127.0.0.1:{closed_port()}"), "k8s/edge-cluster", "connect"),
]


@pytest.mark.parametrize(("baseline", "edit", "scope", "reason"), [c[1:] for c in UNREADABLE],
                         ids=[c[0] for c in UNREADABLE])
def test_a_configured_cluster_or_vpc_that_cannot_be_checked_is_unreadable(
        recipe: Recipe, capsys: pytest.CaptureFixture[str], baseline: Snapshot | None,
        edit: Callable[[Config, Recipe], None], scope: str, reason: str) -> None:
    code, out, err = check(recipe, capsys, edit, baseline)
    report = json.loads(out)
    assert (code, report["status"], report["findings"], report["notes"]) == (3, "incomplete", [], []), err
    (unreadable,) = report["unreadable"]
    assert unreadable["scope"] == scope and reason in unreadable["reason"]


def test_a_scan_keeps_open_what_a_narrower_scope_no_longer_checks(recipe: Recipe, tmp_path: Path,
                                                                  capsys: pytest.CaptureFixture[str]) -> None:
    """A finding the last scan saw, in a namespace the config now leaves out, was not re-checked: it stays
    open (transition "unknown"), never resolved by a scan that did not look."""
    recipe.kube()[2].delete_namespaced_network_policy("db-allow", "accounts")
    state = tmp_path / "state"

    def scan(edit: Callable[[Config, Recipe], None]) -> dict[str, str]:
        data: Config = json.loads(json.dumps(recipe.data))
        data["state"] = f"file://{state}"
        data.pop("notify", None)
        edit(data, recipe)
        config = recipe.config.with_name("netwarden-scan.yaml")
        config.write_text(yaml.safe_dump(data))
        main(["scan", "--config", str(config)])
        capsys.readouterr()
        doc = json.loads((state / "findings.json").read_text(encoding="utf-8"))
        return {s.finding.code: s.status for s in lifecycle.states_from_dict(doc).values()}

    assert scan(ibm()) == {"netpol-missing": lifecycle.OPEN}
    assert scan(cluster_entry(namespaces=["finance"])) == {"netpol-missing": lifecycle.OPEN}
    recipe.kube()[2].create_namespaced_network_policy("accounts", yaml.safe_load(
        (BASELINE / "kubernetes" / CLUSTER / "accounts" / "db-allow.yaml").read_text(encoding="utf-8")))
    assert scan(ibm()) == {}  # re-checked in scope: resolved (and, with no channel to tell, forgotten)
