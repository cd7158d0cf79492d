"""Use-case: one Activity Tracker event -> a targeted check of the one resource it names.

A full scan reads everything; an event says what changed, so this re-reads only that: the network ACL
a rule or ACL event names (one ACL read, its rules included), the subnet a subnet event names and
the ACL now attached to it (two reads), or the security group a group, rule or target event names
(one read, its rules and targets included). Never more than three VPC API calls per event. The resource is
compared with its part of the baseline by the same diff a scan uses (``core.drift.diff``), so an event and
the next scan report the same finding with the same fingerprint.

``handle`` is the whole use-case: the parsed event, the targeted check, then the findings through the
same lifecycle, alerts and ``remediation.mode`` a scan's findings take (``app.scan.record``), limited to
that resource. In ``auto`` mode the remediation of the codes ``remediation.auto`` lists reads the
event's whole VPC, and only it: planning needs the live ids of what the baseline names.

An event about something outside the configured scope (another region, a VPC not in
``ibmcloud.vpcs``, an ACL, subnet or security group the baseline does not name), an event netwarden does not watch,
and a change that failed are acknowledged and logged, never errors. An event resolves what it re-read
and no longer finds (the open findings of that one ACL, subnet or security group: ``core.coverage``);
everything else is left to the runs that read it.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any, Protocol

from netwarden.app import remediation_outcome, scan
from netwarden.core import activity_tracker
from netwarden.core.activity_tracker import ChangeEvent
from netwarden.core.coverage import Coverage
from netwarden.core.drift.diff import diff
from netwarden.core.drift.impact import annotate
from netwarden.core.errors import ProviderNotFound
from netwarden.core.findings import Finding
from netwarden.core.model import Snapshot, Vpc
from netwarden.core.ports import Notifier, StateStore
from netwarden.core.shard import Scope as ShardScope
from netwarden.core.shard import restrict

if TYPE_CHECKING:  # the remediation is imported only when an event is remediated
    from netwarden.app import remediate

log = logging.getLogger(__name__)

#: The most VPC API calls one event may cost (issue: "with at most 3 VPC API calls").
MAX_CALLS = 3


class TargetedVpcReader(Protocol):
    """Targeted reads (``adapters.ibm_vpc`` implements them). Each returns the resource's VPC holding
    only what was read; both raise ``ProviderNotFound`` when the resource does not exist."""

    def read_acl(self, region: str, acl_id: str) -> Vpc:
        """The VPC of ACL ``acl_id`` with just that ACL, rules in order (one call)."""
        ...

    def read_subnet(self, region: str, subnet_id: str) -> Vpc:
        """The VPC of subnet ``subnet_id`` with just that subnet and the ACL attached to it (two calls)."""
        ...

    def read_security_group(self, region: str, sg_id: str) -> Vpc:
        """The VPC of security group ``sg_id`` with just that group, rules and targets included (one call)."""
        ...


@dataclass(frozen=True, slots=True)
class Scope:
    """The configured scope: regions, and VPC names (None: every VPC of the regions)."""

    regions: tuple[str, ...]
    vpcs: tuple[str, ...] | None = None


@dataclass(frozen=True, slots=True)
class EventOutcome:
    """What an event led to. ``status``: ``checked`` (findings may be empty: in sync), ``ignored``
    (not a change netwarden acts on, or out of scope). ``scope`` names the resource checked
    (``us-south/prod-vpc/acl-a``), ``checked`` what that read covers: that one resource, whose open
    findings the check did not find are resolved."""

    event: ChangeEvent
    status: str
    reason: str
    findings: tuple[Finding, ...] = ()
    scope: str | None = None
    vpc: str | None = None
    checked: tuple[Coverage, ...] = field(default=())

    @property
    def acted(self) -> bool:
        return self.status == "checked"


class EventServices(Protocol):
    """What handling one event needs besides the event itself; each is built only when it is needed
    (an event netwarden does not act on builds nothing and reads no baseline)."""

    @property
    def scope(self) -> Scope | None:
        """The configured VPC scope; None when no ``ibmcloud`` scope is configured."""
        ...

    @property
    def options(self) -> scan.ScanOptions: ...

    @property
    def auto_codes(self) -> frozenset[str]:
        """The codes ``remediation.auto`` lists (remediated when ``options.remediation_mode`` is auto)."""
        ...

    def reader(self) -> TargetedVpcReader: ...

    def baseline(self) -> Snapshot: ...

    def store(self) -> StateStore: ...

    def notifiers(self) -> Sequence[Notifier]: ...

    def clock(self) -> str:
        """Now, as RFC 3339 (the remediation's audit records)."""
        ...

    def vpc_remediation(self, region: str, vpc: str, codes: frozenset[str]) -> tuple[
            Callable[[], Snapshot], remediate.Writers, remediate.Request]:
        """A reader of that one VPC's live state, its writers, and the request with the config's safeguards."""
        ...


def handle(data: Any, services: EventServices, *, source: str = "event") -> scan.ScanResult | None:
    """One Activity Tracker event (its parsed JSON): the targeted check, then lifecycle and alerts, or
    remediation. None when there was nothing to check (not a change netwarden acts on, out of scope)."""
    parsed = activity_tracker.parse(data, source=source)
    log.info("event %s (%s)", parsed.summary, parsed.event_id or "no id", extra={"source": source})
    if parsed.check is None:
        log.info("event acknowledged: %s", parsed.ignored)
        return None
    scope = services.scope
    if scope is None:
        log.info("event acknowledged: no ibmcloud scope is configured")
        return None
    reader = services.reader()
    baseline = services.baseline()
    outcome = check(parsed, baseline, reader, scope, ibm_churn=services.options.ibm_churn)
    if not outcome.acted:
        return None
    now = scan.utc_now()
    run_id = f"event-{scan.new_run_id(now)}"
    wanted = frozenset(f.code for f in outcome.findings) & services.auto_codes
    store = services.store()
    remediator = None
    if services.options.remediation_mode in ("auto", "approve") and wanted:
        remediator = functools.partial(_remediate_vpc, outcome, baseline, services, store, codes=wanted,
                                       run_id=run_id, approve=services.options.remediation_mode == "approve")
    return scan.record(outcome.findings, store=store, notifiers=services.notifiers(), options=services.options,
                       run_id=run_id, started=now, status="drift" if outcome.findings else "in_sync",
                       checked=outcome.checked, kind="event", remediate=remediator,
                       initiators={f.fingerprint: parsed.who for f in outcome.findings} if parsed.who else None)


def _remediate_vpc(outcome: EventOutcome, baseline: Snapshot, services: EventServices, store: StateStore, *,
                   codes: frozenset[str], run_id: str, approve: bool) -> remediation_outcome.RemediationOutcome:
    """``remediation.mode`` for an event: the codes ``remediation.auto`` lists, in the event's VPC, remediated
    (``auto``) or planned and stored for approval (``approve``: the alert says the plan's id)."""
    from netwarden.app import approval, remediate

    assert outcome.vpc is not None and outcome.scope is not None  # a checked outcome names both
    region = outcome.scope.split("/", 1)[0]
    vpc_baseline = restrict(baseline, ShardScope(regions=(region,), vpcs=(outcome.vpc,), clusters=()))
    read_live, writers, request = services.vpc_remediation(region, outcome.vpc, codes)
    if approve:
        planned = approval.plan_for_approval(vpc_baseline, read_live, writers, request, state=store, run_id=run_id,
                                             clock=services.clock)
        log.info("event remediation %s: %s", planned.status, planned.summary)
        return planned
    result = remediate.run(vpc_baseline, read_live, writers, request, state=store, run_id=run_id,
                           clock=services.clock)
    log.info("event remediation %s: %s", result.status, result.reason or f"{len(result.applied)} step(s)")
    return remediation_outcome.outcome_of(result)


def check(event: ChangeEvent, baseline: Snapshot, reader: TargetedVpcReader, scope: Scope, *,
          ibm_churn: bool = True) -> EventOutcome:
    """Re-read the resource ``event`` names and diff it against its part of ``baseline`` (``ibm_churn``:
    IBM's own changes to its security groups are no finding, as in a scan)."""
    if event.check is None:
        return _ignored(event, event.ignored or "not a change netwarden watches")
    assert event.region is not None and event.resource_id is not None  # parse() guarantees both with a check
    if event.region not in scope.regions:
        return _ignored(event, f"region {event.region} is not in scope ({', '.join(scope.regions)})")
    read = (reader.read_acl if event.check == "acl" else reader.read_subnet if event.check == "subnet"
            else reader.read_security_group)
    try:
        live_vpc = read(event.region, event.resource_id)
    except ProviderNotFound:
        return _gone(event, baseline, scope)
    if not _selected(live_vpc, scope):
        return _ignored(event, f"VPC {live_vpc.name} is not in scope")
    base_vpc = baseline.vpc(live_vpc.region, live_vpc.name)
    if base_vpc is None:
        return _ignored(event, f"the baseline has no VPC {live_vpc.scope}")
    if event.check == "acl":
        return _check_acl(event, base_vpc, live_vpc)
    if event.check == "security-group":
        return _check_group(event, base_vpc, live_vpc, ibm_churn)
    return _check_subnet(event, base_vpc, live_vpc)


def _selected(vpc: Vpc, scope: Scope) -> bool:
    """Whether ``ibmcloud.vpcs`` (names or ids) selects ``vpc``; every VPC when it is not set."""
    return scope.vpcs is None or vpc.name in scope.vpcs or (vpc.id is not None and vpc.id in scope.vpcs)


def _check_acl(event: ChangeEvent, base_vpc: Vpc, live_vpc: Vpc) -> EventOutcome:
    live_acl = live_vpc.acls[0]
    base_acl = base_vpc.acl(live_acl.name)
    if base_acl is None:
        return _ignored(event, f"the baseline has no ACL {live_acl.name} in {live_vpc.scope}")
    # the workers' groups the event did not read are taken as the baseline has them (the other layer)
    base_part = Vpc(base_vpc.region, base_vpc.name, acls=(base_acl,), security_groups=base_vpc.security_groups)
    live_part = replace(live_vpc, subnets=(), security_groups=base_vpc.security_groups)
    findings = _diff_part(base_part, live_part, context=base_vpc)
    return _checked(event, f"{live_vpc.scope}/{live_acl.name}", live_vpc.name, findings)


def _check_subnet(event: ChangeEvent, base_vpc: Vpc, live_vpc: Vpc) -> EventOutcome:
    live_subnet = live_vpc.subnets[0]
    base_subnet = base_vpc.subnet(live_subnet.name)
    if base_subnet is None:
        return _ignored(event, f"the baseline has no subnet {live_subnet.name} in {live_vpc.scope}")
    # The baseline's ACLs come along so that "allow-all" is judged against what the subnet should have;
    # only the subnet's own findings are kept (the attached ACL's rules are an ACL event's business).
    base_part = Vpc(base_vpc.region, base_vpc.name, acls=base_vpc.acls, subnets=(base_subnet,),
                    security_groups=base_vpc.security_groups)
    live_part = replace(live_vpc, security_groups=base_vpc.security_groups)
    findings = [f for f in _diff_part(base_part, live_part, context=base_vpc) if f.resource.kind == "subnet"]
    return _checked(event, f"{live_vpc.scope}/{live_subnet.name}", live_vpc.name, findings)


def _check_group(event: ChangeEvent, base_vpc: Vpc, live_vpc: Vpc, ibm_churn: bool) -> EventOutcome:
    live_group = live_vpc.security_groups[0]
    base_group = base_vpc.security_group(live_group.name)
    if base_group is None:
        return _ignored(event, f"the baseline has no security group {live_group.name} in {live_vpc.scope}")
    # The baseline's subnets and ACLs come along on both sides: IBM's worker-pool churn is told by the
    # subnets, and what the group's change exposes is judged behind the ACLs (the event says nothing of
    # them; if they drifted too, their own events and the next scan say so).
    base_part = Vpc(base_vpc.region, base_vpc.name, acls=base_vpc.acls, subnets=base_vpc.subnets,
                    security_groups=(base_group,))
    live_part = replace(live_vpc, acls=base_vpc.acls, subnets=base_vpc.subnets)
    findings = [f for f in _diff_part(base_part, live_part, ibm_churn=ibm_churn)
                if f.resource.kind == "security-group"]
    return _checked(event, f"{live_vpc.scope}/{live_group.name}", live_vpc.name, findings)


def _gone(event: ChangeEvent, baseline: Snapshot, scope: Scope) -> EventOutcome:
    """The resource no longer exists: if the event's name matches one baseline resource of its
    region, that is ``acl-missing`` / ``subnet-missing`` / ``sg-missing``; otherwise there is nothing to
    compare. A rule event names the rule, not its ACL or group: it matches nothing."""
    name = None if event.action in activity_tracker.RULE_ACTIONS else event.target_name
    matches: list[Vpc] = []
    for vpc in baseline.vpcs:
        if vpc.region != event.region or not _selected(vpc, scope) or name is None:
            continue
        find = {"acl": vpc.acl, "subnet": vpc.subnet, "security-group": vpc.security_group}[event.check or ""]
        if find(name) is not None:
            matches.append(vpc)
    if len(matches) != 1 or name is None:
        return _ignored(event, f"{event.check} {event.resource_id} no longer exists and the baseline names "
                               f"{'no' if not matches else 'more than one'} resource {name!r} in {event.region}")
    vpc = matches[0]
    live = Vpc(vpc.region, vpc.name)
    if event.check == "acl":
        base_part = Vpc(vpc.region, vpc.name, acls=tuple(a for a in vpc.acls if a.name == name))
    elif event.check == "security-group":
        base_part = Vpc(vpc.region, vpc.name, security_groups=tuple(g for g in vpc.security_groups if g.name == name))
        # the groups this event says nothing of, as the baseline has them: a VPC read without groups is
        # never compared, so they tell the diff that the groups were read and this one is not there
        live = replace(live, security_groups=tuple(g for g in vpc.security_groups if g.name != name))
    else:
        base_part = Vpc(vpc.region, vpc.name, subnets=tuple(s for s in vpc.subnets if s.name == name))
    findings = _diff_part(base_part, live)
    return _checked(event, f"{vpc.scope}/{name}", vpc.name, findings)


def _diff_part(base: Vpc, live: Vpc, context: Vpc | None = None, *, ibm_churn: bool = True) -> list[Finding]:
    """The part's findings with their impact, as a full check would judge them, so that the next scan
    sees the same finding (same content) and does not alert it again as changed.

    A scan judges an ACL at the subnets that use it and a subnet against the worker subnets of the
    other zones, so the impact is judged with every subnet of ``context`` (the baseline VPC): the live
    ones read for this event, and for those not read, the baseline's (the event does not say they
    changed; if they did, their own events and the next scan report it)."""
    baseline, current = Snapshot(vpcs=(base,)), Snapshot(vpcs=(live,))
    findings = diff(baseline, current, ibm_churn=ibm_churn)
    if context is not None:
        read = {s.name for s in live.subnets}
        baseline = Snapshot(vpcs=(replace(base, subnets=context.subnets),))
        subnets = sorted((*live.subnets, *(s for s in context.subnets if s.name not in read)), key=lambda s: s.name)
        current = Snapshot(vpcs=(replace(live, subnets=tuple(subnets)),))
    return annotate(findings, baseline, current)


#: What each kind of targeted check reads: the finding kind, and the resource field naming it.
_COVERS = {"acl": ("network-acl", "acl"), "subnet": ("subnet", "subnet"),
           "security-group": ("security-group", "security_group")}


def _checked(event: ChangeEvent, scope: str, vpc: str, findings: Sequence[Finding]) -> EventOutcome:
    found = tuple(findings)
    log.info("event %s: checked %s: %d finding(s)%s", event.action, scope, len(found),
             "".join(f"; {f.code} {f.resource.path}" for f in found[:5]))
    region, name = scope.split("/", 1)[0], scope.rsplit("/", 1)[1]
    kind, field_name = _COVERS[event.check or ""]
    covers = Coverage(f"{region}/{vpc}", frozenset({kind}), ((field_name, name),))
    return EventOutcome(event, "checked", "checked", found, scope=scope, vpc=vpc, checked=(covers,))


def _ignored(event: ChangeEvent, reason: str) -> EventOutcome:
    log.info("event %s acknowledged, nothing to check: %s (%s)", event.action, reason, event.summary)
    return EventOutcome(event, "ignored", reason)
