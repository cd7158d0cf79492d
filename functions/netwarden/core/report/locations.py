"""Where in the baseline each finding is: the file and the line a reviewer, or code scanning, is sent to.

A reviewer of a baseline pull request reads a result at the line of the rule, subnet, namespace,
policy, security group rule or workload it is about, not at line 1 of a file. The baseline reader
already records where each of those is, for lint (``adapters.baseline_fs.read_baseline_with_sources``:
a ``core.lint_findings`` subject -> its file and line); this module maps a finding's ``ResourceRef``
to those subjects, so that every renderer (SARIF, Markdown, HTML) reads one answer
(``CheckReport.locations``, keyed by fingerprint).

What each finding points at:

* ``acl-rule-missing``, ``acl-rule-changed``: the baseline rule (its ``- name:`` line), found by the
  baseline position the finding carries; ``acl-rules-reordered``: the first moved rule of the baseline;
* ``acl-rule-unexpected`` has no baseline line: it points at the baseline rule it would follow, the
  one at the position before its live position (the ACL's last rule when it is past the end), and
  for a rule in the first position at the ACL's ``rules:`` key; ``acl-missing``: the ACL's ``name:``;
* subnet findings: the subnet's entry in ``subnets.yaml``; namespace findings: the namespace's entry
  in ``namespaces.yaml``;
* ``netpol-missing``, ``netpol-changed``: the policy file, at its ``metadata.name``;
  ``netpol-unexpected`` has no file: another policy file of the same namespace folder (the first by
  name), line 1; else line 1 of the file it would be;
* security group findings: the group's file, at the rule (``sg-rule-missing``, ``sg-rule-changed``:
  the baseline rule's line) or the target (``sg-target-removed``); a rule or target the baseline does
  not have (``sg-rule-unexpected``, ``sg-allow-all``, ``sg-target-added``) at the group's ``rules:``
  or ``targets:`` key; ``sg-missing`` at the group's ``name:``;
* workload findings: the workload's entry in ``workloads.yaml``.

What is not recorded falls back to the nearest enclosing subject (a rule to its ACL's ``rules:`` key,
then its ``name:``), and then to the file ``core.report.model.baseline_file`` names, line 1.

Pure: the sources come in, nothing is read.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from netwarden.core import lint_findings as subjects
from netwarden.core.findings import Finding
from netwarden.core.lint_findings import Subject
from netwarden.core.report.model import baseline_file

#: A place in the baseline: the file, as the repository names it, and the 1-based line.
Place = tuple[str, int]


def locate(findings: Iterable[Finding], sources: Mapping[Subject, Any], *, root: str,
           baseline_dir: str = "baseline") -> dict[str, Place]:
    """The file and line of each finding, by fingerprint. ``sources`` maps subjects to anything with
    ``file`` and ``line`` (an ``errors.Location``), naming files below ``root`` (the directory the
    baseline was read from); each is named below ``baseline_dir`` instead (as the repository sees it)."""
    index = _Index(sources)
    prefix = root.rstrip("/") + "/"
    base = baseline_dir.rstrip("/") or "."

    def shown(file: str) -> str:
        return f"{base}/{file[len(prefix):]}" if file.startswith(prefix) else file

    out: dict[str, Place] = {}
    for finding in findings:
        place = _find(finding, index)
        out[finding.fingerprint] = ((shown(place[0]), place[1]) if place is not None
                                    else (baseline_file(finding, baseline_dir), 1))
    return out


def _candidates(finding: Finding, index: _Index) -> list[Subject]:
    """The subjects ``finding`` is about, most precise first, then those enclosing them (a rule's
    ACL's ``rules:`` key, then the ACL)."""
    r = finding.resource
    if r.kind == "network-acl" and r.region and r.vpc and r.acl:
        acl = subjects.acl_subject(r.region, r.vpc, r.acl)
        if r.rule is None and finding.code != "acl-rules-reordered":
            return [acl]
        rules = subjects.list_subject(acl, "rules")
        out = [subjects.rule_subject(r.region, r.vpc, r.acl, i) for i in _rule_indices(finding, acl, index)]
        return [*out, rules, acl]
    if r.kind == "subnet" and r.region and r.vpc and r.subnet:
        return [subjects.subnet_subject(r.region, r.vpc, r.subnet)]
    if r.kind == "security-group" and r.region and r.vpc and r.security_group:
        group = subjects.sg_subject(r.region, r.vpc, r.security_group)
        if r.rule:
            return [subjects.sg_rule_subject(r.region, r.vpc, r.security_group, r.rule),
                    subjects.list_subject(group, "rules"), group]
        if r.target:
            return [subjects.sg_target_subject(r.region, r.vpc, r.security_group, r.target),
                    subjects.list_subject(group, "targets"), group]
        return [group]
    if r.cluster and r.namespace:
        if r.kind == "network-policy" and r.name:
            return [subjects.policy_subject(r.cluster, r.namespace, r.name)]
        if r.kind == "workload" and r.name:
            return [subjects.workload_subject(r.cluster, r.namespace, r.name)]
        if r.kind == "namespace":
            return [subjects.namespace_subject(r.cluster, r.namespace)]
    return []


def _find(finding: Finding, index: _Index) -> Place | None:
    found = _candidates(finding, index)
    for subject in found:
        where = index.sources.get(subject)
        if where is not None:
            return where.file, where.line or 1
    r = finding.resource
    if finding.code == "netpol-unexpected" and r.cluster and r.namespace:
        sibling = index.policy_file(r.cluster, r.namespace)
        if sibling is not None:
            return sibling, 1
    return None


def _rule_indices(finding: Finding, acl: Subject, index: _Index) -> list[int]:
    """The baseline rule (by index) an ACL finding is about: the rule's own baseline position, the
    first moved rule's, or for an unexpected rule the one before its live position."""
    if finding.code in ("acl-rule-missing", "acl-rule-changed"):
        position = _position(finding.baseline)
        return [] if position is None else [position - 1]
    if finding.code == "acl-rules-reordered":
        moved = (finding.baseline or {}).get("moved") or [{}]
        position = _position(moved[0]) if isinstance(moved, list) else None
        return [] if position is None else [position - 1]
    if finding.code == "acl-rule-unexpected":
        position = _position(finding.live)
        if position is None or position < 2:
            return []
        last = index.last_rule(acl)
        return [position - 2] + ([last] if last is not None and last < position - 2 else [])
    return []


def _position(data: Any) -> int | None:
    position = data.get("position") if isinstance(data, Mapping) else None
    return position if isinstance(position, int) and not isinstance(position, bool) and position >= 1 else None


class _Index:
    """The sources, and what only a pass over all of them answers (made once, when first asked)."""

    def __init__(self, sources: Mapping[Subject, Any]) -> None:
        self.sources = sources
        self._last: dict[Subject, int] | None = None
        self._policies: dict[tuple[Any, ...], tuple[Any, str]] | None = None

    def last_rule(self, acl: Subject) -> int | None:
        """The index of the last rule of ``acl`` in the baseline."""
        if self._last is None:
            self._last = {}
            for subject in self.sources:
                if len(subject) == 6 and subject[0] == "acl" and subject[4] == "rules" and isinstance(subject[5], int):
                    key = subject[:4]
                    self._last[key] = max(self._last.get(key, -1), subject[5])
        return self._last.get(acl)

    def policy_file(self, cluster: str, namespace: str) -> str | None:
        """The file of the first policy (by name) of ``namespace`` in the baseline."""
        if self._policies is None:
            self._policies = {}
            for subject, where in self.sources.items():
                if len(subject) == 4 and subject[0] == "netpol":
                    key, name = subject[1:3], str(subject[3])
                    if key not in self._policies or name < self._policies[key][0]:
                        self._policies[key] = (name, where.file)
        found = self._policies.get((cluster, namespace))
        return None if found is None else found[1]
