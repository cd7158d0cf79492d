"""core.accept over every finding code: each kind of drift accepted is gone from the diff, nothing else
is (another drift beside it is still reported, and the new baseline differs from the old one by that
finding only), and what has no baseline form is refused with its reason; ``select`` by its filters.

The drifts are the diff tests' own tables (one case per code), so a new code without an accept case
fails ``test_every_code_is_accepted_or_refused``."""

from __future__ import annotations

from dataclasses import replace

import pytest
from test_diff import BASE as RECIPE
from test_diff import LIVE as RECIPE_LIVE
from test_diff import ONE_FINDING as RECIPE_CASES
from test_diff import SSH_FROM_ANYWHERE
from test_sg_diff import BASE as SG_BASE
from test_sg_diff import ONE_FINDING as SG_CASES
from test_workloads import OTHER, PINNED, estate

import snapshot_factory as f
from netwarden.core import accept as core
from netwarden.core.drift.diff import diff
from netwarden.core.errors import ConfigError
from netwarden.core.findings import CODES, Finding
from netwarden.core.model import Snapshot, Unreadable


def _beside_vpc(s: Snapshot) -> Snapshot:
    """A drift in the cluster, for cases about the VPC."""
    return f.with_policies(s, [*s.clusters[0].policies, f.policy("finance", "open", {"podSelector": {},
                                                                                       "ingress": [{}]})])


def _beside_cluster(s: Snapshot) -> Snapshot:
    """A drift in the VPC, for cases about the cluster."""
    return f.with_acl(s, "acl-zone2", [SSH_FROM_ANYWHERE, *f.rules_of(s, "acl-zone2")])


def _with_spare_acl(s: Snapshot) -> Snapshot:
    vpc = s.vpcs[0]
    spare = replace(f.zone_acl(3), name="acl-spare")
    return replace(s, vpcs=(replace(vpc, acls=tuple(sorted((*vpc.acls, spare), key=lambda a: a.name))),))


#: The diff's cases that describe no state accept can take: an ACL gone while a subnet still uses it.
STILL_NAMED = {"acl-missing"}

#: (case id, baseline, live, another drift's code and path still reported after the accept, or None)
CASES: list[tuple[str, Snapshot, Snapshot, tuple[str, str] | None]] = [
    *((name, RECIPE, _beside_vpc(edit(RECIPE_LIVE)), ("netpol-unexpected", "prod-cluster/finance/open"))
      for name, edit, code, path in RECIPE_CASES if not path.startswith(f.CLUSTER) and code not in STILL_NAMED),
    ("acl-missing: one no subnet uses", _with_spare_acl(RECIPE), _beside_vpc(RECIPE_LIVE),
     ("netpol-unexpected", "prod-cluster/finance/open")),
    *((name, RECIPE, _beside_cluster(edit(RECIPE_LIVE)),
       ("acl-rule-unexpected", "us-south/prod-vpc/acl-zone2/allow-ssh"))
      for name, edit, _, path in RECIPE_CASES if path.startswith(f.CLUSTER)),
    *((f"security group: {name}", SG_BASE, live, None) for name, live, _, _ in SG_CASES),
    *((f"workload: {name}", *estate(live_workloads=workloads), None) for name, workloads in [
        ("unpinned", (replace(PINNED, subnets=None, running=("id-subnet-zone2",)), OTHER)),
        ("pinned elsewhere", (replace(PINNED, subnets=("id-subnet-zone3",), running=("id-subnet-zone3",)), OTHER)),
        ("gone", (OTHER,)),
    ]),
]
#: (case id, code, baseline, live, what the reason says)
REFUSED = [
    ("pods off the gateway subnet", "workload-off-gateway",
     *estate(live_workloads=(replace(PINNED, running=("id-subnet-zone1", "id-subnet-zone2")), OTHER)),
     "rollout restart"),
    *((f"{name}, while a subnet still uses it", code, RECIPE, edit(RECIPE_LIVE),
       "baseline subnet(s) subnet-zone3 still use it") for name, edit, code, _ in RECIPE_CASES if code in STILL_NAMED),
]


def _the(findings: list[Finding], besides: tuple[str, str] | None) -> tuple[Finding, list[Finding]]:
    """The case's own finding, and the other drift's."""
    others = [x for x in findings if besides is not None and (x.code, x.resource.path) == besides]
    (own,) = [x for x in findings if x not in others]
    assert len(others) == (besides is not None)
    return own, others


def test_every_code_is_accepted_or_refused() -> None:
    codes = {_the(diff(base, live), besides)[0].code for _, base, live, besides in CASES}
    assert codes | {code for _, code, *_ in REFUSED} == set(CODES)
    assert codes.isdisjoint(core.NO_BASELINE_FORM)


@pytest.mark.parametrize(("base", "live", "besides"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_an_accepted_drift_is_gone_and_nothing_else_moves(base: Snapshot, live: Snapshot,
                                                           besides: tuple[str, str] | None) -> None:
    own, others = _the(diff(base, live), besides)
    done = core.accept(base, live, [own])
    assert [a.finding for a in done.accepted] == [own] and done.refused == ()
    assert core.still_reported(done, live) == []
    assert diff(done.baseline, live) == others
    if own.resource.kind != "workload":  # a workload's live form is read from pods no baseline holds
        # read as if it were live, the new baseline is the old one with that one change
        assert [x.fingerprint for x in diff(base, _as_live(done.baseline, live))] == [own.fingerprint]


def _as_live(baseline: Snapshot, live: Snapshot) -> Snapshot:
    """The new baseline read as a live state (what ``live`` could not read stays unread)."""
    return replace(baseline, unreadable=live.unreadable)


@pytest.mark.parametrize(("code", "base", "live", "reason"), [c[1:] for c in REFUSED], ids=[c[0] for c in REFUSED])
def test_what_has_no_baseline_form_is_refused_with_what_to_do(code: str, base: Snapshot, live: Snapshot,
                                                              reason: str) -> None:
    (finding,) = diff(base, live)
    done = core.accept(base, live, [finding])
    assert done.accepted == () and done.baseline == base
    ((refused, why),) = [(r.finding.code, r.reason) for r in done.refused]
    assert refused == code and reason in why


def test_an_unreadable_scope_is_refused_and_the_rest_accepted() -> None:
    live = _beside_vpc(f.with_subnet(RECIPE_LIVE, "subnet-zone3", public_gateway="pgw-zone3"))
    gateway, policy = diff(RECIPE, live)
    blind = replace(live, unreadable=(Unreadable("k8s/prod-cluster/finance", "403 forbidden"),))
    done = core.accept(RECIPE, blind, [gateway, policy])
    assert [a.finding for a in done.accepted] == [gateway]
    assert [(r.finding, r.reason) for r in done.refused] == [
        (policy, "k8s/prod-cluster/finance could not be read: there is no live state to take")]


def test_a_finding_outside_the_baseline_is_refused() -> None:
    live = f.with_subnet(RECIPE_LIVE, "subnet-zone3", public_gateway="pgw-zone3")
    (finding,) = diff(RECIPE, live)
    elsewhere = replace(finding, resource=replace(finding.resource, vpc="other-vpc"))
    done = core.accept(RECIPE, live, [elsewhere])
    assert [r.reason for r in done.refused] == ["the baseline has no such VPC or cluster"]
    assert done.baseline == RECIPE


# --- select ----------------------------------------------------------------------------------------


LIVE_THREE = _beside_vpc(f.with_subnet(_beside_cluster(RECIPE_LIVE), "subnet-zone3", public_gateway="pgw-zone3"))
THREE = diff(RECIPE, LIVE_THREE)


@pytest.mark.parametrize(("selection", "suppressed", "codes"), [
    (core.Selection(everything=True), (), ["gateway-attached", "acl-rule-unexpected", "netpol-unexpected"]),
    (core.Selection(codes=("netpol-unexpected",)), (), ["netpol-unexpected"]),
    (core.Selection(resources=("us-south/prod-vpc/*",)), (), ["gateway-attached", "acl-rule-unexpected"]),
    (core.Selection(codes=("gateway-attached",), resources=("us-south/*",)), (), ["gateway-attached"]),
    (core.Selection(everything=True), ("netpol-unexpected",), ["gateway-attached", "acl-rule-unexpected"]),
    (core.Selection(fingerprints=("netpol-unexpected",)), ("netpol-unexpected",), ["netpol-unexpected"]),
])
def test_select(selection: core.Selection, suppressed: tuple[str, ...], codes: list[str]) -> None:
    by_code = {x.code: x.fingerprint for x in THREE}
    selection = replace(selection, fingerprints=tuple(by_code[c] for c in selection.fingerprints))
    got = core.select(THREE, selection, suppressed=[by_code[c] for c in suppressed])
    assert sorted(x.code for x in got) == sorted(codes)


@pytest.mark.parametrize(("findings", "selection", "message"), [
    (THREE, core.Selection(), "nothing selected"),
    (THREE, core.Selection(codes=("acl-gone",)), "unknown finding code(s) acl-gone"),
    (THREE, core.Selection(fingerprints=("0000",)), "no current finding has fingerprint 0000"),
    (THREE, core.Selection(codes=("sg-missing",)), "no finding matches --code sg-missing"),
    (THREE, core.Selection(resources=("eu-de/*",)), "no finding matches --resource eu-de/*"),
    ([], core.Selection(everything=True), "the check found no drift"),
])
def test_a_selection_of_nothing_is_an_error(findings: list[Finding], selection: core.Selection,
                                            message: str) -> None:
    with pytest.raises(ConfigError) as e:
        core.select(findings, selection)
    assert message in str(e.value)
