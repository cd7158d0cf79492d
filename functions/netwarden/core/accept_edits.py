"""The edits ``core.accept`` makes to one VPC and to one cluster of the baseline, one finding at a time.

Each VPC (and each cluster) is indexed by name once and edited in an order where what a finding needs
is already there: the rules of an ACL before the subnets that use it (``subnet-allow-all`` takes the
subnet's live ACL only when the baseline holds its live rules), the subnets before a removed ACL (a
subnet may have left it in the same run), the groups' rules and targets before a removed group; in a
cluster, the NetworkPolicies before the namespaces (their selectors decide which labels count), then
the pinned workloads. A finding that cannot take its live form is refused with the reason.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import replace
from typing import Any

from netwarden.core import normalize, sg_rules
from netwarden.core.accept_rules import RULE_CODES, accept_rules
from netwarden.core.findings import Finding
from netwarden.core.model import Cluster, Namespace, SecurityGroup, SgRule, SgTarget, Snapshot, Vpc
from netwarden.core.workloads import subnet_of_id

SUBNET_ACL = ("subnet-allow-all", "subnet-acl-changed")
GATEWAY = ("gateway-attached", "gateway-detached", "gateway-changed")
GROUP_PARTS = ("sg-rule-missing", "sg-rule-unexpected", "sg-rule-changed", "sg-allow-all", "sg-target-added",
               "sg-target-removed")


class Refusal(Exception):
    """Why one finding cannot be accepted."""


class _Edit:
    """What every edit keeps: the findings accepted (with a note) and refused (with the reason)."""

    def __init__(self) -> None:
        self.accepted: list[tuple[Finding, str | None]] = []
        self.refused: list[tuple[Finding, str]] = []

    def each(self, findings: Iterable[Finding], edit: Callable[[Finding], str | None]) -> None:
        for f in findings:
            try:
                self.accepted.append((f, edit(f)))
            except Refusal as e:
                self.refused.append((f, str(e)))


class VpcEdit(_Edit):
    """One VPC of the baseline, edited towards ``live`` (None: the VPC is gone)."""

    def __init__(self, base: Vpc, live: Vpc | None) -> None:
        super().__init__()
        self.base, self.live = base, live or Vpc(base.region, base.name)
        self.acls = {a.name: a for a in base.acls}
        self.subnets = {s.name: s for s in base.subnets}
        self.groups = {g.name: g for g in base.security_groups}
        self.gateways = list(base.public_gateways)
        self.live_acls = {a.name: a for a in self.live.acls}
        self.live_groups = {g.name: g for g in self.live.security_groups}

    def run(self, findings: Sequence[Finding]) -> Vpc:
        by_acl: dict[str, list[Finding]] = {}
        by_group: dict[str, list[Finding]] = {}
        for f in findings:
            if f.code in RULE_CODES:
                by_acl.setdefault(f.resource.acl or "", []).append(f)
            elif f.code in GROUP_PARTS:
                by_group.setdefault(f.resource.security_group or "", []).append(f)
        for name, items in by_acl.items():
            self.rules(name, items)
        self.each((f for f in findings if f.resource.kind == "subnet"), self.subnet)
        self.each((f for f in findings if f.code == "acl-missing"), self.acl_missing)
        for name, items in by_group.items():
            self.each(items, self.group_part(name))
        self.each((f for f in findings if f.code == "sg-missing"), self.group_missing)
        return replace(self.base, acls=normalize.sorted_by_name(list(self.acls.values())),
                       subnets=normalize.sorted_by_name(list(self.subnets.values())),
                       security_groups=normalize.sorted_by_name(list(self.groups.values())),
                       public_gateways=tuple(self.gateways))

    # --- ACLs and subnets ---------------------------------------------------------------------------

    def rules(self, name: str, findings: list[Finding]) -> None:
        base, live = self.acls.get(name), self.live_acls.get(name)
        if base is None or live is None:
            self.refused += [(f, f"ACL {name} is not in both the baseline and the live VPC") for f in findings]
            return
        edits = accept_rules(base, live, findings)
        self.acls[name] = edits.acl
        self.accepted += [(f, None) for f in edits.accepted]
        self.refused += list(edits.refused)

    def subnet(self, f: Finding) -> str | None:
        name = f.resource.subnet or ""
        base, live = self.subnets.get(name), self.live.subnet(name)
        if base is None:
            raise Refusal(f"the baseline has no subnet {name}")
        if f.code == "subnet-missing":
            if live is not None:
                raise Refusal(f"subnet {name} exists in the live VPC: check again")
            del self.subnets[name]
            return None
        if live is None:
            raise Refusal(f"subnet {name} is not in the live VPC: there is no live state to take")
        if f.code in SUBNET_ACL:
            if live.network_acl is None:
                raise Refusal(f"the live subnet {name} has no network ACL, and a baseline subnet needs one")
            note = self.acl_for_subnet(live.network_acl, same_rules=f.code == "subnet-allow-all")
            self.subnets[name] = replace(base, network_acl=live.network_acl)
            return note
        if f.code not in GATEWAY:
            raise Refusal(f"{f.code} is not a subnet finding")
        gateway, note = live.public_gateway, None
        if gateway is not None and self.gateways and gateway not in self.gateways:
            self.gateways.append(gateway)  # the baseline lists its gateways: the subnet's must be among them
            note = f"with public gateway {gateway} added to the VPC's public_gateways"
        self.subnets[name] = replace(base, public_gateway=gateway)
        return note

    def acl_for_subnet(self, name: str, *, same_rules: bool) -> str | None:
        """Make sure the baseline holds ACL ``name`` for a subnet to use; with ``same_rules``, as it is live."""
        held, live = self.acls.get(name), self.live_acls.get(name)
        if held is None:
            if live is None:
                raise Refusal(f"ACL {name} is in neither the baseline nor the live VPC")
            self.acls[name] = live
            return f"with ACL {name} from the live state, which the subnet now uses"
        if same_rules and live is not None and held.rules != live.rules:
            raise Refusal(f"ACL {name}, which the subnet uses, has other rules live than in the baseline: accept its "
                          f"rule findings too (--resource {self.base.scope}/{name}/*)")
        return None

    def acl_missing(self, f: Finding) -> str | None:
        name = f.resource.acl or ""
        if name not in self.acls or name in self.live_acls:
            raise Refusal(f"ACL {name} is not a baseline ACL missing from the live VPC: check again")
        users = sorted(s.name for s in self.subnets.values() if s.network_acl == name)
        if users:
            raise Refusal(f"baseline subnet(s) {', '.join(users)} still use it: accept their subnet findings too")
        if self.base.default_acl == name:
            raise Refusal("it is the VPC's default_network_acl in the baseline's vpc.yaml: edit that by hand")
        del self.acls[name]
        return None

    # --- security groups ----------------------------------------------------------------------------

    def group_part(self, name: str) -> Callable[[Finding], str | None]:
        def edit(f: Finding) -> str | None:
            base, live = self.groups.get(name), self.live_groups.get(name)
            if base is None or live is None:
                raise Refusal(f"security group {name} is not in both the baseline and the live VPC")
            if f.code.startswith("sg-target-"):
                self.groups[name] = _with_target(base, live.targets, f)
                return None
            old = _rule(base, f.baseline, "baseline")
            new = _rule(live, f.live, "live")
            if new is not None and new.remote_group is not None and new.remote_group not in self.groups:
                raise Refusal(f"its remote group {new.remote_group} is not in the baseline: a rule's remote group is a "
                              "group of the baseline")
            kept = [r for r in base.rules if r != old]
            self.groups[name] = replace(base, rules=sg_rules.canonical([*kept, *([new] if new else [])]))
            return None
        return edit

    def group_missing(self, f: Finding) -> str | None:
        name = f.resource.security_group or ""
        if name not in self.groups or name in self.live_groups:
            raise Refusal(f"security group {name} is not a baseline group missing from the live VPC: check again")
        if self.base.default_security_group == name:
            raise Refusal("it is the VPC's default_security_group in the baseline's vpc.yaml: edit that by hand")
        naming = sorted(g.name for g in self.groups.values() if g.name != name
                        and any(r.remote_group == name for r in g.rules))
        if naming:
            raise Refusal(f"rules of security group(s) {', '.join(naming)} name it as their remote: accept those "
                          "findings too")
        del self.groups[name]
        return None


def _rule(group: SecurityGroup, side: Mapping[str, Any] | None, what: str) -> SgRule | None:
    """The rule a finding's ``side`` names in ``group``; None when that side names none."""
    if not side or not side.get("rule"):
        return None
    found = sg_rules.named(group, side)
    if found is None:
        raise Refusal(f"the {what} group has no rule {side['rule']}: check again")
    return found


def _with_target(base: SecurityGroup, live: tuple[SgTarget, ...], f: Finding) -> SecurityGroup:
    side = (f.live if f.code == "sg-target-added" else f.baseline) or {}
    data = side.get("target") or {}
    key = (str(data.get("type")), str(data.get("name")))
    targets = {(t.type, t.name): t for t in base.targets}
    if f.code == "sg-target-added":
        found = next((t for t in live if (t.type, t.name) == key), None)
        if found is None:
            raise Refusal(f"the live group is not bound to {key[0]} {key[1]}: check again")
        targets[key] = found
    elif targets.pop(key, None) is None:
        raise Refusal(f"the baseline group is not bound to {key[0]} {key[1]}: check again")
    return replace(base, targets=tuple(sorted(targets.values(), key=lambda t: (t.type, t.name))))


class ClusterEdit(_Edit):
    """One cluster of the baseline, edited towards its live form (None: not in the live state)."""

    def __init__(self, base: Cluster, live: Cluster | None, snapshot: Snapshot) -> None:
        super().__init__()
        self.base, self.live, self.snapshot = base, live or Cluster(base.name), snapshot
        self.policies = {(p.namespace, p.name): p for p in base.policies}
        self.namespaces = {n.name: n for n in base.namespaces}
        self.egress = {(p.namespace, p.name): p for p in base.egress}
        self.live_policies = {(p.namespace, p.name): p for p in self.live.policies}

    def run(self, findings: Sequence[Finding]) -> Cluster:
        self.each((f for f in findings if f.code.startswith("netpol-")), self.policy)
        self.each((f for f in findings if f.code == "namespace-labels-changed"), self.labels)
        self.each((f for f in findings if f.code.startswith("workload-")), self.pin)
        return replace(self.base, namespaces=normalize.sorted_by_name(list(self.namespaces.values())),
                       policies=tuple(sorted(self.policies.values(), key=lambda p: (p.namespace, p.name))),
                       egress=tuple(sorted(self.egress.values(), key=lambda p: (p.namespace, p.name))))

    def policy(self, f: Finding) -> str | None:
        key = (f.resource.namespace or "", f.resource.name or "")
        base, live = self.policies.get(key), self.live_policies.get(key)
        shown = "/".join(key)
        if f.code == "netpol-missing":
            if base is None or live is not None:
                raise Refusal(f"NetworkPolicy {shown} is not a baseline policy missing from the cluster: check again")
            del self.policies[key]
        elif live is None:
            raise Refusal(f"NetworkPolicy {shown} is not in the live cluster: there is no live state to take")
        elif f.code == "netpol-unexpected":
            if base is not None:
                raise Refusal(f"the baseline has NetworkPolicy {shown} already: check again")
            if key[0] not in self.namespaces:
                raise Refusal(f"namespace {key[0]} is not in the baseline's namespaces.yaml")
            self.policies[key] = live
        elif base is None:
            raise Refusal(f"the baseline has no NetworkPolicy {shown}")
        else:  # netpol-changed: the spec is what is compared; the baseline's own metadata labels stay
            self.policies[key] = replace(base, spec=live.spec)
        return None

    def labels(self, f: Finding) -> str | None:
        name = f.resource.namespace or ""
        base = self.namespaces.get(name)
        if base is None:
            raise Refusal(f"the baseline has no namespace {name}")
        compared = dict(((f.live or {}).get("labels")) or {})
        live = self.live.namespace(name)
        have = dict(live.labels) if live is not None else {}
        if any(have.get(k) != v for k, v in compared.items()):
            raise Refusal(f"the labels of namespace {name} are not those the finding names: check again")
        self.namespaces[name] = Namespace(name, dict(sorted(compared.items())))
        return None

    def pin(self, f: Finding) -> str | None:
        key = (f.resource.namespace or "", f.resource.name or "")
        pin = self.egress.get(key)
        if pin is None:
            raise Refusal(f"the baseline pins no workload {'/'.join(key)}")
        if self.live.egress and not self.live.workloads:  # the live side is itself a baseline: take its pin
            theirs = {(p.namespace, p.name): p for p in self.live.egress}.get(key)
            subnet_name = theirs.subnet if theirs is not None else None
        else:
            workload = next((w for w in self.live.workloads if (w.namespace, w.name) == key), None)
            if workload is None:
                del self.egress[key]
                return "its pin removed: the workload is not in the cluster"
            one = workload.subnets[0] if workload.subnets is not None and len(workload.subnets) == 1 else None
            subnet = subnet_of_id(self.snapshot, one) if one is not None else None
            subnet_name = subnet.name if subnet is not None and subnet.public_gateway else None
        if subnet_name is None:
            del self.egress[key]
            return "its pin removed: the workload is pinned to no one subnet with a public gateway"
        self.egress[key] = replace(pin, subnet=subnet_name)
        return f"pinned to {subnet_name}"
