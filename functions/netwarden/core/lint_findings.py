"""What a lint check finds, and what it is about: the finding, the rule names, and the subjects.

Its own module so that the checks of each domain (``core.lint`` for ACLs, subnets and NetworkPolicies,
``core.lint_sg`` for security groups) can build on one vocabulary without importing each other; the
baseline reader maps a finding's ``subject`` to its file and line (``place``). ``core.lint`` re-exports
all of it.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

from netwarden.core import normalize
from netwarden.core.model import SgRule
from netwarden.core.sg_rules import text as sg_text

Subject = tuple[str | int, ...]
RULES = ("acl-deny-all-last", "ibm-private-ranges", "acl-rule-shadowed", "subnet-default-acl",
         "public-gateway-count", "selector-key-case", "selector-matches-nothing", "sg-workers-egress",
         "sg-inbound-anywhere", "sg-ibm-group-custom-rule", "workload-egress-pin")
#: The rules whose findings are errors: the baseline itself would leave a subnet open or cut its workers
#: off, so remediation refuses to put it back. The others are warnings.
ERROR_RULES = frozenset({"acl-deny-all-last", "ibm-private-ranges", "subnet-default-acl", "sg-workers-egress"})


@dataclass(frozen=True, slots=True)
class LintFinding:
    """One recipe problem: ``rule``, why (``message``), what it is about (``subject``), and where in the
    baseline files, once the reader has placed it (``file``, ``line``)."""

    rule: str
    message: str
    subject: Subject = ()
    file: str | None = None
    line: int | None = None

    @property
    def severity(self) -> str:
        """``error`` for the rules in ``ERROR_RULES``, else ``warning``."""
        return "error" if self.rule in ERROR_RULES else "warning"

    @property
    def resource(self) -> str:
        return "/".join(str(part) for part in self.subject[1:])

    def __str__(self) -> str:
        where = self.file if self.line is None else f"{self.file}:{self.line}"
        return f"{where or self.resource}: {self.rule}: {self.message}"


# --- subjects: what a finding is about, and what the reader maps to a file and line ----------------


def vpc_subject(region: str, vpc: str) -> Subject:
    return ("vpc", region, vpc)


def acl_subject(region: str, vpc: str, acl: str) -> Subject:
    return ("acl", region, vpc, acl)


def rule_subject(region: str, vpc: str, acl: str, index: int) -> Subject:
    return ("acl", region, vpc, acl, "rules", index)


def list_subject(owner: Subject, key: str) -> Subject:
    """The ``rules:`` (or ``targets:``) key of an ACL's or a group's file: where an entry the baseline
    lacks would go. An ACL's ``rule_subject`` lies below it."""
    return (*owner, key)


def sg_subject(region: str, vpc: str, group: str) -> Subject:
    return ("sg", region, vpc, group)


def sg_rule_subject(region: str, vpc: str, group: str, rule: SgRule | str) -> Subject:
    """A rule of a group, by what it allows (a group's rules have no order and no name IBM keeps): the
    rule, or its text (``core.sg_rules.text``, as a finding's resource names it)."""
    return ("sg", region, vpc, group, "rule", rule if isinstance(rule, str) else sg_text(rule))


def sg_target_subject(region: str, vpc: str, group: str, target: str) -> Subject:
    """A target of a group, by its text (``core.sg_rules.target_text``)."""
    return ("sg", region, vpc, group, "target", target)


def subnet_subject(region: str, vpc: str, subnet: str, field: str | None = None) -> Subject:
    return ("subnet", region, vpc, subnet) if field is None else ("subnet", region, vpc, subnet, field)


def namespace_subject(cluster: str, namespace: str) -> Subject:
    return ("namespace", cluster, namespace)


def workload_subject(cluster: str, namespace: str, name: str) -> Subject:
    return ("workload", cluster, namespace, name)


def policy_subject(cluster: str, namespace: str, name: str) -> Subject:
    return ("netpol", cluster, namespace, name)


def selector_subject(policy: Subject, kind: str, selector: Mapping[str, Any] | None) -> Subject:
    """A selector of a policy by kind (``podSelector``/``namespaceSelector``) and canonical content."""
    canonical = normalize.label_selector(selector) or {}
    return (*policy, kind, json.dumps(canonical, sort_keys=True, separators=(",", ":")))


def key_subject(policy: Subject, key: str) -> Subject:
    return (*policy, "key", key)


def place(findings: Sequence[LintFinding], sources: Mapping[Subject, Any]) -> list[LintFinding]:
    """Give each finding the file and line of its subject (or of its nearest enclosing subject).
    ``sources`` maps subjects to anything with ``file`` and ``line`` (an ``errors.Location``)."""
    out = []
    for finding in findings:
        placed = finding
        for cut in range(len(finding.subject), 0, -1):
            where = sources.get(finding.subject[:cut])
            if where is not None:
                placed = replace(finding, file=where.file, line=where.line)
                break
        out.append(placed)
    return out
