"""What each drift does to traffic: fills ``Finding.impact`` (and so the severity) of every finding.

A literal diff says what changed; this says what it opens or closes, and whether the cluster breaks:

* ACL and subnet findings: per affected subnet, the flows its baseline ACL allows against those its
  live ACL allows (``core.acl.evaluate``), restricted to the subnet's CIDR when the model knows it;
  traffic inside the subnet is never filtered, so it never counts. Widened, narrowed or unchanged,
  with concrete example flows (worst first).
* breakage: the drift takes away something the cluster needs and the baseline allowed: the IBM
  private ranges 161.26.0.0/16 and 166.8.0.0/14 in both directions (worker provisioning, DNS, NTP;
  the master and the private service endpoints), and traffic between the worker subnets of the
  different zones. Breakage makes an impact-driven finding critical.
* gateway findings: what the ACL lets out to the internet through the attached (or lost) gateway.
* NetworkPolicy and namespace findings: reachability over the live pods under the baseline's
  policies and namespace labels against the live ones (``core.netpol.reachability``/``netpol_diff``),
  restricted to the pairs the policy (or namespace) can affect. Without live pods it is unknown.

A rule finding (a rule gone, added, changed, or the rules reordered) is judged on its own: the
baseline ACL with only that one change applied, against the baseline ACL. So a deleted deny-all that
the implicit deny makes harmless stays "unchanged" beside an ssh allow that opens the ACL, and a new
drift on an ACL does not change the impact (and so the alert) of the findings it already had. Past
``PER_FINDING_LIMIT`` rule findings on one ACL they share the ACL's whole drift instead, so that 500
rules added to one ACL are one exposure diff, not 500. Each distinct rule list's flow set and each
cluster's reachability is computed once per run, and only for what has findings; a rule finding's own
change is not evaluated again but derived from its baseline ACL's sets (``core.acl.derive``).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace

from netwarden.core.acl.derive import derive, one_change
from netwarden.core.acl.evaluate import AclFlows, Exposure, all_traffic, all_traffic_among, examples
from netwarden.core.drift.impact_gateway import gateway_impact
from netwarden.core.drift.impact_sg import RULE_CODES as SG_RULE_CODES
from netwarden.core.drift.impact_sg import sg_impact
from netwarden.core.drift.workloads import gateway_workloads
from netwarden.core.findings import Finding, Impact
from netwarden.core.flows.algebra import FlowSet, cidr_interval, union_all
from netwarden.core.flows.shortcuts import endpoints, overlaps
from netwarden.core.model import AclRule, NetworkAcl, Snapshot, Subnet, Vpc
from netwarden.core.netpol.impact import NetpolImpact
from netwarden.core.reach.explain import deciding_of
from netwarden.core.reach.sg_flows import GroupFlows, layer
from netwarden.core.reach.verdict import needs, verdict

ACL_CODES = frozenset({"acl-missing", "acl-rule-missing", "acl-rule-unexpected", "acl-rule-changed",
                       "acl-rules-reordered"})
SUBNET_ACL_CODES = frozenset({"subnet-allow-all", "subnet-acl-changed"})
GATEWAY_CODES = frozenset({"gateway-attached", "gateway-detached", "gateway-changed"})
NETPOL_CODES = frozenset({"netpol-missing", "netpol-unexpected", "netpol-changed", "namespace-labels-changed"})
RULE_CODES = frozenset({"acl-rule-missing", "acl-rule-unexpected", "acl-rule-changed", "acl-rules-reordered"})
#: Up to this many rule findings on one ACL, each is judged on its own; past it they share the ACL's.
PER_FINDING_LIMIT = 25


def annotate(findings: list[Finding], baseline: Snapshot, live: Snapshot) -> list[Finding]:
    """Every finding with its impact filled in (and its severity, for impact-driven codes)."""
    per_acl = Counter(_acl_key(f) for f in findings if f.code in RULE_CODES | SG_RULE_CODES)
    alone = {key for key, n in per_acl.items() if n <= PER_FINDING_LIMIT}
    analysis = _Analysis(baseline, live)
    return [analysis.annotate(f, alone=_acl_key(f) in alone) for f in findings]


def _acl_key(f: Finding) -> tuple[str | None, ...]:
    """The ACL or security group whose rules a rule finding is about."""
    return (f.resource.kind, f.resource.region, f.resource.vpc, f.resource.acl, f.resource.security_group)


@dataclass(frozen=True, slots=True)
class _Effective:
    """What passes at one subnet under one ACL, per direction and (``all``) both together."""

    flows: AclFlows
    all: FlowSet


@dataclass(frozen=True, slots=True)
class _Side:
    """One subnet on one side: the ACL (None: gone or unknown) and the subnet's CIDR."""

    acl: NetworkAcl | None
    cidr: str | None


class _Analysis:
    def __init__(self, baseline: Snapshot, live: Snapshot) -> None:
        self.baseline = baseline
        self.live = live
        self._flows: dict[int, AclFlows] = {}
        self._effective: dict[tuple[int, str | None], _Effective] = {}
        self._lists: dict[tuple[AclRule, ...], int] = {}
        self._list_of: dict[int, tuple[tuple[AclRule, ...], int]] = {}
        self._impacts: dict[tuple[str | None, ...], Impact] = {}
        self._inter_zone_needs: dict[tuple[str | None, ...], tuple[tuple[FlowSet, FlowSet], tuple[Subnet, ...]]] = {}
        self._to_and_from: dict[tuple[str, ...], tuple[FlowSet, FlowSet]] = {}
        self._workers: set[str] | None = None
        self._live_subnets: dict[tuple[str, str], dict[str, Subnet]] = {}
        self._netpol = NetpolImpact(baseline, live)

    def annotate(self, finding: Finding, *, alone: bool = False) -> Finding:
        """``alone``: judge a rule finding by its own change, not by its ACL's whole drift."""
        code, ref = finding.code, finding.resource
        if code in NETPOL_CODES and ref.cluster:
            return finding.with_impact(self._netpol.impact(finding))
        if ref.region is None or ref.vpc is None:
            return finding
        if ref.kind == "security-group":
            # past PER_FINDING_LIMIT rule findings on one group they share the group's whole drift, once
            group_key = ("security-group", ref.region, ref.vpc, ref.security_group)
            if not alone and group_key in self._impacts:
                return finding.with_impact(self._impacts[group_key])
            base_vpc, live_vpc = self.baseline.vpc(ref.region, ref.vpc), self.live.vpc(ref.region, ref.vpc)
            now = live_vpc or base_vpc
            impact = sg_impact(finding, base_vpc, live_vpc, acl_at=lambda s: self._acl_now(now, s), whole=not alone)
            if not alone:
                self._impacts[group_key] = impact
            return finding.with_impact(impact)
        if code == "acl-rule-changed" and set((finding.baseline or {}).get("changed") or {}) == {"name"}:
            # a rename alone decides the same traffic; the ACL's other drift is its other findings' impact
            return finding.with_impact(Impact("unchanged", summary="only the rule's name differs: it matches and "
                                                                   "decides the same traffic"))
        if alone and code in RULE_CODES and ref.acl and (only := self._only_this(finding)) is not None:
            base_vpc, live_vpc = self.baseline.vpc(ref.region, ref.vpc), self.live.vpc(ref.region, ref.vpc)
            return finding.with_impact(self._acl_impact(ref.acl, base_vpc, live_vpc, as_if=only))
        if code in ACL_CODES and ref.acl:
            key: tuple[str | None, ...] = ("acl", ref.region, ref.vpc, ref.acl)
        elif code in SUBNET_ACL_CODES and ref.subnet:
            key = ("subnet", ref.region, ref.vpc, ref.subnet)
        elif code in GATEWAY_CODES and ref.subnet:
            key = (code, ref.region, ref.vpc, ref.subnet)
        elif code == "subnet-missing":
            return finding.with_impact(Impact("unknown", summary="the subnet does not exist: no traffic to evaluate"))
        else:
            return finding
        # The impact depends on the resource alone (every finding of one ACL shares its ACL's), so it
        # is computed once per resource: 500 added rules cost one exposure diff, not 500.
        if key not in self._impacts:
            self._impacts[key] = self._impact(code, ref.region, ref.vpc, key[-1] or "")
        return finding.with_impact(self._impacts[key])

    def _impact(self, code: str, region: str, vpc: str, name: str) -> Impact:
        base_vpc, live_vpc = self.baseline.vpc(region, vpc), self.live.vpc(region, vpc)
        if code in ACL_CODES:
            return self._acl_impact(name, base_vpc, live_vpc)
        if code in SUBNET_ACL_CODES:
            return self._subnet_impact(name, base_vpc, live_vpc)
        groups = self.groups(base_vpc, live_vpc, _cidr(base_vpc.subnet(name) if base_vpc else None,
                                                       live_vpc.subnet(name) if live_vpc else None))
        impact = gateway_impact(code, name, base_vpc, live_vpc, flows=self.flows, groups=groups)
        return gateway_workloads(impact, code, name, self.baseline, self.live)

    # --- ACLs and subnets ---------------------------------------------------------------------------

    def flows(self, acl: NetworkAcl | None) -> AclFlows:
        """The ACL's flows, once per distinct rule list; no ACL allows nothing."""
        key = self._list(acl.rules if acl is not None else ())
        if key not in self._flows:
            self._flows[key] = AclFlows.of(acl.rules) if acl is not None else AclFlows(FlowSet(), FlowSet())
        return self._flows[key]

    def _acl_now(self, vpc: Vpc | None, subnet: Subnet) -> AclFlows | None:
        """What the ACL ``subnet`` has in ``vpc`` lets through there (None: the snapshot does not know it),
        once per rule list and CIDR."""
        acl = vpc.acl(subnet.network_acl) if vpc is not None and subnet.network_acl else None
        return self.effective(_Side(acl, subnet.cidr)).flows if acl is not None else None

    def _list(self, rules: tuple[AclRule, ...]) -> int:
        """One number per distinct rule list (equal lists share it), found by the tuple's identity first:
        a list is hashed by value once, not at every look-up (it is held here, so its identity stays its)."""
        known = self._list_of.get(id(rules))
        if known is None:
            known = self._list_of[id(rules)] = (rules, self._lists.setdefault(rules, len(self._lists)))
        return known[1]

    def _only_this(self, finding: Finding) -> NetworkAcl | None:
        """The baseline ACL with only ``finding``'s change applied (None: it cannot be told apart)."""
        ref = finding.resource
        assert ref.region is not None and ref.vpc is not None and ref.acl is not None
        base_vpc, live_vpc = self.baseline.vpc(ref.region, ref.vpc), self.live.vpc(ref.region, ref.vpc)
        base_acl = base_vpc.acl(ref.acl) if base_vpc else None
        live_acl = live_vpc.acl(ref.acl) if live_vpc else None
        if base_acl is None or live_acl is None:
            return None
        rules = one_change(base_acl.rules, live_acl.rules, finding.code, _position(finding.baseline),
                           _position(finding.live))
        return None if rules is None else replace(live_acl, rules=rules)

    def _acl_impact(self, name: str, base_vpc: Vpc | None, live_vpc: Vpc | None,
                    as_if: NetworkAcl | None = None) -> Impact:
        """The ACL's drift (or, ``as_if``, one change of it), at every subnet that uses it (on either
        side), or as a whole."""
        base_acl = base_vpc.acl(name) if base_vpc else None
        live_acl = as_if or (live_vpc.acl(name) if live_vpc else None)
        pairs: list[tuple[str | None, _Side, _Side]] = []
        for subnet in _using(name, base_vpc, live_vpc):
            base_sub = base_vpc.subnet(subnet) if base_vpc else None
            live_sub = live_vpc.subnet(subnet) if live_vpc else None
            cidr = _cidr(base_sub, live_sub)
            if live_acl is None:  # the ACL is gone: the subnet now lives under whatever it uses now
                now = live_vpc.acl(live_sub.network_acl) if live_vpc and live_sub and live_sub.network_acl else None
                pairs.append((subnet, _Side(base_acl, cidr), _Side(now, cidr)))
            else:
                pairs.append((subnet, _Side(base_acl, cidr), _Side(live_acl, cidr)))
        if not pairs:
            if live_acl is None:
                return Impact("unknown", summary=f"ACL {name} is gone and no subnet used it")
            pairs.append((None, _Side(base_acl, None), _Side(live_acl, None)))
        return self._compare(pairs, base_vpc, live_vpc)

    def _subnet_impact(self, subnet: str, base_vpc: Vpc | None, live_vpc: Vpc | None) -> Impact:
        base_sub = base_vpc.subnet(subnet) if base_vpc else None
        live_sub = live_vpc.subnet(subnet) if live_vpc else None
        cidr = _cidr(base_sub, live_sub)
        base_acl = base_vpc.acl(base_sub.network_acl) if base_vpc and base_sub and base_sub.network_acl else None
        live_acl = live_vpc.acl(live_sub.network_acl) if live_vpc and live_sub and live_sub.network_acl else None
        if base_acl is None and live_acl is None:
            return Impact("unknown", summary="neither ACL of the subnet is known")
        return self._compare([(subnet, _Side(base_acl, cidr), _Side(live_acl, cidr))], base_vpc, live_vpc)

    def effective(self, side: _Side, like: tuple[_Side, _Effective] | None = None) -> _Effective:
        """What passes at one subnet under one ACL (``AclFlows.effective``), once per rule list and CIDR;
        derived from ``like`` (another ACL at the same subnet, and what passes under it) when the two rule
        lists differ in a few rules (``core.acl.derive``): the same sets, without evaluating the ACL whole."""
        key = (self._list(side.acl.rules if side.acl is not None else ()), side.cidr)
        if key not in self._effective:
            derived = None
            if like is not None and side.acl is not None and like[0].acl is not None and like[0].cidr == side.cidr:
                derived = derive(like[0].acl.rules, side.acl.rules, like[1].flows, like[1].all, side.cidr)
            if derived is not None:
                self._effective[key] = _Effective(*derived)
            else:
                flows = self.flows(side.acl).effective(side.cidr)
                self._effective[key] = _Effective(flows, flows.all())
        return self._effective[key]

    def groups(self, base_vpc: Vpc | None, live_vpc: Vpc | None, cidr: str | None) -> GroupFlows | None:
        """The workers' security groups that stand now at the subnet ``cidr`` (the live ones, or the
        baseline's when the live side read none); None: no such layer, the ACL alone decides."""
        vpc = live_vpc if live_vpc is not None and live_vpc.security_groups else base_vpc
        return layer(vpc, cidr)

    def _compare(self, pairs: Sequence[tuple[str | None, _Side, _Side]], base_vpc: Vpc | None,
                 live_vpc: Vpc | None) -> Impact:
        opened: list[FlowSet] = []
        closed: list[FlowSet] = []
        held: list[FlowSet] = []
        acl_after: list[FlowSet] = []
        before: list[FlowSet] = []
        after: list[FlowSet] = []
        breakage: list[str] = []
        acl_closed = layered = False
        for subnet, base, live in pairs:
            b = self.effective(base)
            lv = self.effective(live, like=(base, b))
            groups = self.groups(base_vpc, live_vpc, base.cidr or live.cidr)
            ins, outs = lv.flows.inbound - b.flows.inbound, lv.flows.outbound - b.flows.outbound
            shut_in, shut_out = b.flows.inbound - lv.flows.inbound, b.flows.outbound - lv.flows.outbound
            acl_closed = acl_closed or bool(shut_in) or bool(shut_out)
            # what a need loses is (need & before) - after = need & (before - after): nothing when
            # nothing that passed before is stopped now, so most drifts never build the needs at all
            lost = shut_in | shut_out
            acl_after.append(lv.all)
            if groups is not None:
                layered = True
                # exposed: the connections the ACL and the workers' groups both let be opened; broken: the
                # packets (replies too: the ACL is stateless) of the connections the groups let through
                held += [ins - groups.inbound, outs - groups.outbound]
                ins, outs = ins & groups.inbound, outs & groups.outbound
                shut_in, shut_out = shut_in & groups.inbound, shut_out & groups.outbound
                lost = (lost & groups.passes_in) | (lost & groups.passes_out)
                before.append((b.flows.inbound & groups.inbound) | (b.flows.outbound & groups.outbound))
                after.append((lv.flows.inbound & groups.inbound) | (lv.flows.outbound & groups.outbound))
            else:
                before.append(b.all)
                after.append(lv.all)
            opened += [ins, outs]
            closed += [shut_in, shut_out]
            if not lost:
                continue
            for need, why in needs(base.cidr):
                gone = need & lost
                if gone:
                    where = f" at subnet {subnet}" if subnet else ""
                    breakage.append(f"{why}{where} is no longer allowed: {examples(gone, 1)[0]}")
            if subnet is not None and base.cidr is not None:
                breakage.extend(self._inter_zone(subnet, base.cidr, lost, base_vpc, live_vpc))
        # Sets are canonical, so one balanced union equals the pairwise one it replaces.
        exposure = Exposure(union_all(opened), union_all(closed), union_all(before), union_all(after))
        held_back, acl_now = union_all(held), union_all(acl_after)
        decided = None
        if layered and live_vpc is not None:  # name the deciding rule of each layer for the first example
            now = pairs[0][2].acl
            vpc = replace(live_vpc, acls=tuple(now if now is not None and a.name == now.name else a
                                               for a in live_vpc.acls))
            decided = deciding_of(vpc, exposure, held_back, acl_now)
        return verdict(exposure, held_back, tuple(dict.fromkeys(breakage)), changed="ACL",
                       other="workers' security groups", layer_after=acl_now, layer_closed=acl_closed,
                       decided=decided)

    def _inter_zone(self, subnet: str, cidr: str, lost: FlowSet, base_vpc: Vpc | None,
                    live_vpc: Vpc | None) -> list[str]:
        """Breakage of the traffic with the worker subnets of the other zones (``lost``: what passed
        at the subnet before and does not now): one set for all of them, and only when some of it is
        lost, which of them."""
        (from_others, to_others), others = self._inter_zone_need(subnet, cidr, base_vpc, live_vpc)
        if not others:
            return []
        # need & lost, where need = (from the others to the subnet) | (from the subnet to the others)
        gone = (lost & all_traffic(destination=cidr) & from_others) | (lost & all_traffic(source=cidr) & to_others)
        spans = endpoints(gone.tree)  # a subnet none of whose addresses gone names lost nothing
        out = []
        for other in others if gone else ():
            assert other.cidr is not None
            if not overlaps(spans, cidr_interval(other.cidr)):
                continue
            mine = gone & (all_traffic(source=other.cidr, destination=cidr) | all_traffic(source=cidr,
                                                                                             destination=other.cidr))
            if mine:
                out.append(f"inter-zone traffic with worker subnet {other.name} ({other.cidr}) at subnet {subnet} "
                           f"is no longer allowed: {examples(mine, 1)[0]}")
        return out

    def _inter_zone_need(self, subnet: str, cidr: str, base_vpc: Vpc | None,
                         live_vpc: Vpc | None) -> tuple[tuple[FlowSet, FlowSet], tuple[Subnet, ...]]:
        """The worker subnets of the other zones, and all traffic from and to any of them; once per
        subnet (it depends on the VPCs, not on the ACLs), and the traffic once per set of others (the
        subnets of one zone share it)."""
        key = (base_vpc.region if base_vpc else None, base_vpc.name if base_vpc else None,
               live_vpc.region if live_vpc else None, live_vpc.name if live_vpc else None, subnet, cidr)
        if key not in self._inter_zone_needs:
            others = tuple(self._other_zone_workers(subnet, base_vpc, live_vpc))
            cidrs = tuple(o.cidr for o in others if o.cidr)
            if cidrs not in self._to_and_from:
                self._to_and_from[cidrs] = (all_traffic_among(cidrs, ["0.0.0.0/0"]),
                                            all_traffic_among(["0.0.0.0/0"], cidrs))
            self._inter_zone_needs[key] = (self._to_and_from[cidrs], others)
        return self._inter_zone_needs[key]

    def _other_zone_workers(self, subnet: str, base_vpc: Vpc | None, live_vpc: Vpc | None) -> list[Subnet]:
        """The worker subnets of the other zones: the clusters' worker subnets when they are known,
        else every subnet of the VPC; in another zone (or of unknown zone), with a CIDR."""
        vpc = base_vpc or live_vpc
        if vpc is None:
            return []
        me = vpc.subnet(subnet) or (live_vpc.subnet(subnet) if live_vpc else None)
        if self._workers is None:
            self._workers = {w for c in (*self.baseline.clusters, *self.live.clusters) for w in c.worker_subnets}
        workers = self._workers
        live_subnets = self._subnets_of(live_vpc) if live_vpc else {}
        out = []
        for s in vpc.subnets:
            if s.name == subnet or not s.cidr:
                continue
            # the nodes name subnets by id, which a baseline subnet lacks: the live one of that name has it
            live_id = live_sub.id if (live_sub := live_subnets.get(s.name)) else None
            if workers and s.name not in workers and not ({s.id, live_id} & workers):
                continue
            if me is not None and me.zone and s.zone == me.zone:
                continue
            out.append(s)
        return out

    def _subnets_of(self, vpc: Vpc) -> dict[str, Subnet]:
        """The live VPC's subnets by name (the first of a name, as ``Vpc.subnet`` finds it), once per VPC."""
        key = (vpc.region, vpc.name)
        if key not in self._live_subnets:
            by_name: dict[str, Subnet] = {}
            for s in vpc.subnets:
                by_name.setdefault(s.name, s)
            self._live_subnets[key] = by_name
        return self._live_subnets[key]

def _position(data: Mapping[str, object] | None) -> int | None:
    value = data.get("position") if data is not None else None
    return value if isinstance(value, int) else None


def _using(acl: str, base_vpc: Vpc | None, live_vpc: Vpc | None) -> list[str]:
    names = [s.name for v in (base_vpc, live_vpc) if v for s in v.subnets if s.network_acl == acl]
    return list(dict.fromkeys(names))


def _cidr(base: Subnet | None, live: Subnet | None) -> str | None:
    return (live.cidr if live else None) or (base.cidr if base else None)
