"""Accepting drift: the baseline with exactly the resources some findings are about in their live form.

``baseline accept`` is the other way out of drift: instead of remediating the live state back to the
baseline, a reviewer takes what changed as the new truth, as a pull request. That pull request must
be the smallest change a reviewer can read, so each finding takes the live form of its own resource
and nothing else is touched:

* a rule of an ACL (``acl-rule-*``, ``acl-rules-reordered``): that rule (or that order), in its place
  (``core.accept_rules``);
* a subnet: the one attachment the finding is about (its ACL, or its public gateway). An ACL or a
  gateway the baseline does not hold yet comes with it (the baseline must name what a subnet uses),
  and is said in the ``Accepted.note``; a subnet gone live is removed;
* an ACL, a security group, a NetworkPolicy gone live: removed; a rule or target of a security group:
  that rule (its old form out, its new one in) or that target; a NetworkPolicy added or changed: that
  policy (a changed one keeps the baseline's metadata labels: only its spec is compared);
* a namespace's labels: the labels the comparison looked at, as they are live;
* a pinned workload's affinity: its pin as ``baseline capture`` would write it from the live state
  (another subnet with a public gateway, or no pin when the workload is gone or pinned to none).

What cannot take a live form is refused with the reason, never skipped: a scope that could not be
read, a workload's pods running off their subnet (where pods run is no part of a baseline), a removal
something else still names (a subnet's ACL, the default ACL or security group, a rule's remote group),
and a finding that does not describe these two states. ``still_reported`` is the proof to ask for
before anything is written: the accepted findings must be gone from a diff of the result.

Pure and linear: findings are grouped by VPC and cluster, and each group's resources indexed by name once.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

from netwarden.core import accept_edits
from netwarden.core.drift.diff import diff
from netwarden.core.errors import ConfigError, Location
from netwarden.core.findings import CODES, Finding
from netwarden.core.model import Snapshot
from netwarden.core.suppressions import path_matches

#: Codes whose findings have no baseline form to take, and what to do instead.
NO_BASELINE_FORM = {
    "workload-off-gateway": "where pods run is no part of a baseline: restart the pinned workload (kubectl rollout "
                            "restart) so its pods run on its subnet, or keep the other workload off the gateway subnet",
}


@dataclass(frozen=True, slots=True)
class Accepted:
    """A finding whose resource the new baseline holds in its live form; ``note``: what came with it."""

    finding: Finding
    note: str | None = None


@dataclass(frozen=True, slots=True)
class Refused:
    finding: Finding
    reason: str


@dataclass(frozen=True, slots=True)
class Acceptance:
    """The new baseline, and for each finding asked for: accepted into it, or refused and why."""

    baseline: Snapshot
    accepted: tuple[Accepted, ...]
    refused: tuple[Refused, ...]


@dataclass(frozen=True, slots=True)
class Selection:
    """Which findings to accept: by fingerprint, and those matching every filter given (``codes``;
    ``resources``: exact paths or prefixes with a trailing ``*``, as suppressions spell them), or all."""

    fingerprints: tuple[str, ...] = ()
    codes: tuple[str, ...] = ()
    resources: tuple[str, ...] = ()
    everything: bool = False

    @property
    def empty(self) -> bool:
        return not (self.fingerprints or self.codes or self.resources or self.everything)

    @property
    def filtered(self) -> bool:
        return bool(self.codes or self.resources or self.everything)


def select(findings: Sequence[Finding], selection: Selection, *, suppressed: Iterable[str] = ()) -> list[Finding]:
    """The findings ``selection`` names, in report order. A fingerprint names its finding even when a
    suppression covers it; the filters leave suppressed findings out (a suppression says the drift is
    to be fixed, not kept). ConfigError for nothing selected, an unknown code, a fingerprint that no
    current finding has, or filters that match nothing."""
    if selection.empty:
        raise ConfigError("nothing selected: name findings by fingerprint (netwarden check -o json), or use --code, "
                          "--resource or --all")
    unknown = sorted(set(selection.codes) - set(CODES))
    if unknown:
        raise ConfigError(f"unknown finding code(s) {', '.join(unknown)} (known: {', '.join(CODES)})",
                          location=Location("--code"))
    by_fingerprint = {f.fingerprint: f for f in findings}
    absent = [fp for fp in selection.fingerprints if fp not in by_fingerprint]
    if absent:
        raise ConfigError(f"no current finding has fingerprint {', '.join(absent)}: nothing was written "
                          "(netwarden check -o json lists the fingerprints)")
    named = set(selection.fingerprints)
    quiet = set(suppressed)
    out = [f for f in findings if f.fingerprint in named or (selection.filtered and f.fingerprint not in quiet
                                                             and _matches(f, selection))]
    if not out:
        if not findings:
            raise ConfigError("nothing to accept: the check found no drift")
        filters = " ".join(part for part in (_listed("--code", selection.codes),
                                             _listed("--resource", selection.resources)) if part) or "--all"
        raise ConfigError(f"nothing to accept: no finding matches {filters}, apart from those a suppression covers")
    return out


def _matches(f: Finding, selection: Selection) -> bool:
    if selection.codes and f.code not in selection.codes:
        return False
    return not selection.resources or any(path_matches(p, f.resource.path) for p in selection.resources)


def _listed(flag: str, values: Sequence[str]) -> str:
    return f"{flag} {' '.join(values)}" if values else ""


def accept(baseline: Snapshot, live: Snapshot, findings: Iterable[Finding]) -> Acceptance:
    """``baseline`` with the resources of ``findings`` (findings of ``diff(baseline, live)``) in their
    live form; each finding accepted or refused."""
    vpcs: dict[tuple[str, str], list[Finding]] = {}
    clusters: dict[str, list[Finding]] = {}
    refused: list[Refused] = []
    for f in findings:
        r = f.resource
        reason = _cannot(f, live)
        if reason is not None:
            refused.append(Refused(f, reason))
        elif r.cluster is not None:
            clusters.setdefault(r.cluster, []).append(f)
        elif r.region is not None and r.vpc is not None:
            vpcs.setdefault((r.region, r.vpc), []).append(f)
        else:
            refused.append(Refused(f, "the finding names no VPC or cluster"))
    accepted: list[Accepted] = []
    new_vpcs = list(baseline.vpcs)
    for k, vpc in enumerate(baseline.vpcs):
        items = vpcs.pop((vpc.region, vpc.name), None)
        if items:
            edit = accept_edits.VpcEdit(vpc, live.vpc(vpc.region, vpc.name))
            new_vpcs[k] = edit.run(items)
            accepted += [Accepted(f, note) for f, note in edit.accepted]
            refused += [Refused(f, why) for f, why in edit.refused]
    new_clusters = list(baseline.clusters)
    for k, cluster in enumerate(baseline.clusters):
        items = clusters.pop(cluster.name, None)
        if items:
            cluster_edit = accept_edits.ClusterEdit(cluster, live.cluster(cluster.name), live)
            new_clusters[k] = cluster_edit.run(items)
            accepted += [Accepted(f, note) for f, note in cluster_edit.accepted]
            refused += [Refused(f, why) for f, why in cluster_edit.refused]
    for left in (*vpcs.values(), *clusters.values()):
        refused += [Refused(f, "the baseline has no such VPC or cluster") for f in left]
    new = replace(baseline, vpcs=tuple(new_vpcs), clusters=tuple(new_clusters))
    return Acceptance(new, tuple(accepted), tuple(refused))


def _cannot(f: Finding, live: Snapshot) -> str | None:
    """Why ``f`` cannot be accepted whatever the states hold, or None."""
    if f.code not in CODES:
        return f"unknown finding code {f.code}"
    if f.code in NO_BASELINE_FORM:
        return NO_BASELINE_FORM[f.code]
    r = f.resource
    scope = f"k8s/{r.cluster}/{r.namespace or ''}".rstrip("/") if r.cluster is not None else r.path
    if live.is_unreadable(scope):
        return f"{scope} could not be read: there is no live state to take"
    return None


def still_reported(acceptance: Acceptance, live: Snapshot, *, ibm_churn: bool = True) -> list[Finding]:
    """The accepted findings a diff of the new baseline against ``live`` still reports: none, or the
    result is not what was asked for and must not be written."""
    accepted = {a.finding.fingerprint for a in acceptance.accepted}
    return [f for f in diff(acceptance.baseline, live, ibm_churn=ibm_churn) if f.fingerprint in accepted]


def to_dict(acceptance: Acceptance) -> dict[str, Any]:
    """The outcome as JSON data (the CLI's ``-o json`` adds the files)."""
    def one(f: Finding, **extra: Any) -> Mapping[str, Any]:
        return {"fingerprint": f.fingerprint, "code": f.code, "resource": f.resource.path, **extra}

    return {"accepted": [one(a.finding, **({"note": a.note} if a.note else {})) for a in acceptance.accepted],
            "refused": [one(r.finding, reason=r.reason) for r in acceptance.refused]}
