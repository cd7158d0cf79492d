"""The secure-by-default checks over a baseline's security groups: IBM's documented rules, as lint.

``core.lint`` runs these beside the recipe's ACL and NetworkPolicy checks; IBM's facts come from
``core.sbd`` (docs/security-groups.md gives the sources):

* ``sg-workers-egress`` (error): the workers' group of a secure-by-default cluster (``kube-<clusterID>``
  beside its ``kube-vpegw-<clusterID>``) must let the workers out, all protocols, to what IBM documents
  they need without a condition: the service ranges 161.26.0.0/16 and 166.8.0.0/14, the workers
  themselves, the master's VPE group and the VPC's shared VPE group (when the baseline has it). A
  baseline without such a rule would cut the workers off from their master, so remediation refuses it;
* ``sg-inbound-anywhere`` (warning): a rule of an IBM-managed group lets traffic in from 0.0.0.0/0
  where IBM documents none (the workers' group has only ping; the load balancers' group its listener
  ports, which IBM opens itself);
* ``sg-ibm-group-custom-rule`` (warning): a rule in a group whose rules IBM says not to modify
  (``kube-<clusterID>``) that none of IBM's documented rules for it fits. IBM itself has users add
  some (outbound exceptions), so it is a warning: ``ibmcloud ks security-group reset`` removes such a
  rule, and the reviewer should know it is the team's.

A documented rule whose remote or port IBM fills in per cluster (the pod subnet, the IAM endpoints,
the ALB addresses, node ports) fits a rule with a remote of that kind: a private range, an address in
the IBM service ranges, one public address; a rule IBM says it adds itself (``sbd.churn_reason``: a
load balancer's node or listener port) is IBM's too. Pre-SbD clusters split their workers' rules between the
VPC's default group and ``kube-<clusterID>`` and IBM gives no per-group table for them: only the last
two checks apply there. Pure: findings name their subject (``core.lint_findings.sg_subject``, ``sg_rule_subject``).
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterator, Mapping

from netwarden.core import sbd, sg_rules
from netwarden.core.drift.sg_diff import live_rule
from netwarden.core.lint_findings import LintFinding, sg_rule_subject, sg_subject
from netwarden.core.model import ANYWHERE, PortRange, SecurityGroup, SgRule, Vpc

_PRIVATE = tuple(ipaddress.IPv4Network(n) for n in sbd.PRIVATE_RANGES)
_IBM = tuple(ipaddress.IPv4Network(n) for n in sbd.IBM_SERVICE_RANGES)
_PRIVATE_VALUES = (sbd.ClusterValue.POD_SUBNET, sbd.ClusterValue.WORKER_POOL_SUBNETS, sbd.ClusterValue.DNS_RESOLVERS)
_PUBLIC_VALUES = (sbd.ClusterValue.INGRESS_ALB_PUBLIC_IPS, sbd.ClusterValue.OAUTH_PUBLIC_ENDPOINTS)


def lint_groups(vpc: Vpc) -> Iterator[LintFinding]:
    """The findings of the security groups of one baseline VPC, group by group in baseline order."""
    names = _ibm_names(vpc)
    for group in vpc.security_groups:
        owner = sbd.parse_group_name(group.name)
        if owner is None or not group.ibm_managed:
            continue
        mine = {kind: name for (kind, owner_id), name in names.items()
                if owner_id == owner.owner_id or sbd.KINDS[kind].owner is sbd.Owner.VPC}
        if owner.kind is sbd.GroupKind.WORKERS and (sbd.GroupKind.MASTER_VPE, owner.owner_id) in names:
            yield from _workers_egress(vpc, group, mine)
        yield from _rules(vpc, group, owner.kind, mine)


def _ibm_names(vpc: Vpc) -> dict[tuple[sbd.GroupKind, str], str]:
    """The VPC's groups by IBM's naming: (kind, owner id) -> name."""
    out = {}
    for group in vpc.security_groups:
        owner = sbd.parse_group_name(group.name)
        if owner is not None:
            out[(owner.kind, owner.owner_id)] = group.name
    return out


def _workers_egress(vpc: Vpc, group: SecurityGroup,
                    names: Mapping[sbd.GroupKind, str]) -> Iterator[LintFinding]:
    for doc in sbd.RULES[sbd.GroupKind.WORKERS]:
        if doc.direction != sbd.OUT or doc.condition is not None or doc.platforms != sbd.BOTH:
            continue
        if isinstance(doc.remote, sbd.ClusterValue) or doc.ports is not None or doc.port_min is not None:
            continue
        need = _needed(doc, names)
        if need is None or any(sg_rules.covers(rule, need) for rule in group.rules):
            continue
        yield LintFinding("sg-workers-egress", f"security group {group.name} on the cluster's workers must allow "
                          f"{sg_rules.text(need)} (IBM: \"{doc.why}\"); no rule of the group does",
                          sg_subject(vpc.region, vpc.name, group.name))


def _needed(doc: sbd.DocumentedRule, names: Mapping[sbd.GroupKind, str]) -> SgRule | None:
    """The documented rule as a rule of this VPC; None when its remote group is not in the baseline."""
    if isinstance(doc.remote, sbd.GroupRef):
        remote_group = names.get(doc.remote.kind)
        if remote_group is None:
            return None
        return sg_rules.sg_rule(direction=doc.direction, protocol_=doc.protocol, remote_group=remote_group)
    assert isinstance(doc.remote, str)
    return sg_rules.sg_rule(direction=doc.direction, protocol_=doc.protocol, remote=doc.remote, strict_cidrs=False)


def _rules(vpc: Vpc, group: SecurityGroup, kind: sbd.GroupKind,
           names: Mapping[sbd.GroupKind, str]) -> Iterator[LintFinding]:
    documented = sbd.RULES[kind]
    subnets = frozenset(s.cidr for s in vpc.subnets if s.cidr)
    for rule in group.rules:
        fits = (any(_fits(doc, rule, names) for doc in documented)
                or sbd.churn_reason(group.name, live_rule(rule), sbd.Change.ADDED, subnets) is not None)
        subject = sg_rule_subject(vpc.region, vpc.name, group.name, rule)
        if rule.direction == sbd.IN and rule.remote == ANYWHERE and not fits:
            yield LintFinding("sg-inbound-anywhere", f"security group {group.name} (IBM's {kind.value}) lets traffic "
                              f"in from {ANYWHERE}: rule {sg_rules.text(rule)}, which IBM does not document for it",
                              subject)
        elif sbd.KINDS[kind].ibm_says_do_not_modify and documented and not fits:
            yield LintFinding("sg-ibm-group-custom-rule", f"rule {sg_rules.text(rule)} of security group {group.name} "
                              f"is none of IBM's documented {kind.value} rules: IBM asks that this group's rules be "
                              "left as they are, and `ibmcloud ks security-group reset` removes rules added to it",
                              subject)


def _fits(doc: sbd.DocumentedRule, rule: SgRule, names: Mapping[sbd.GroupKind, str]) -> bool:
    """Whether ``rule`` is an instance of the documented rule (values IBM fills in taken by their kind)."""
    if doc.direction != rule.direction or doc.protocol != rule.protocol or doc.icmp_type != rule.icmp_type:
        return False
    if doc.icmp_code is not None and doc.icmp_code != rule.icmp_code:
        return False
    return _remote_fits(doc.remote, rule, names) and _ports_fit(doc, rule.ports)


def _remote_fits(remote: sbd.Remote, rule: SgRule, names: Mapping[sbd.GroupKind, str]) -> bool:
    if isinstance(remote, sbd.GroupRef):
        return rule.remote_group is not None and rule.remote_group == names.get(remote.kind)
    if rule.remote is None:
        return False
    network = ipaddress.IPv4Network(rule.remote)
    if isinstance(remote, str):
        return network == ipaddress.IPv4Network(remote, strict=False)
    if remote in _PRIVATE_VALUES:
        return any(network.subnet_of(space) for space in _PRIVATE)
    if remote is sbd.ClusterValue.IAM_PRIVATE_ENDPOINTS:
        return any(network.subnet_of(space) for space in _IBM)
    if remote in _PUBLIC_VALUES:
        return network.num_addresses == 1 and not any(network.subnet_of(space) for space in sbd.NOT_PUBLIC)
    return False


def _ports_fit(doc: sbd.DocumentedRule, ports: PortRange | None) -> bool:
    if doc.port_min is not None and doc.port_max is not None:
        return ports is not None and (ports.min, ports.max) == (doc.port_min, doc.port_max)
    if doc.ports is sbd.ClusterValue.LB_NODE_PORTS:
        return ports is not None and sbd.NODE_PORT_RANGE[0] <= ports.min <= ports.max <= sbd.NODE_PORT_RANGE[1]
    if doc.ports is not None:
        return ports is not None  # a port IBM gives no number for
    return ports is None or ports.is_all
