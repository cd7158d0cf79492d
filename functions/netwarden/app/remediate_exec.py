"""Executing a plan's steps: one write per step through the writer ports, retried when worth it.

``app.remediate`` decides whether and when a plan runs; this module makes the writes. A temporary
error (throttled, 5xx, conflict, or ``TemporaryRemediationError``) is retried with bounded exponential
backoff, honouring the delay the error carries; a permanent one, or a temporary one that outlasts the
retries, ends the run at that step and is returned as a ``StepFailure``. Rules this run creates are
remembered by name, so a later step can place another rule before one of them.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from netwarden.core.errors import (
    NetwardenError,
    PermanentRemediationError,
    ProviderConflict,
    ProviderError,
    ProviderThrottled,
    ProviderUnavailable,
    TemporaryRemediationError,
)
from netwarden.core.plan.sg_ops import (
    BindSgTarget,
    CreateSecurityGroup,
    CreateSgRule,
    DeleteSgRule,
    UnbindSgTarget,
    UpdateSgRule,
)
from netwarden.core.plan.steps import (
    ApplyPolicy,
    CreateRule,
    DeletePolicy,
    DeleteRule,
    KubeOperation,
    MoveRule,
    Operation,
    ReplaceSubnetAcl,
    RuleRef,
    SetGateway,
    SetNamespaceLabels,
    Step,
    UnsetGateway,
    UpdateRule,
)
from netwarden.core.ports import KubeWriter, VpcWriter

log = logging.getLogger(__name__)

TEMPORARY = (TemporaryRemediationError, ProviderThrottled, ProviderUnavailable, ProviderConflict)

#: Called after every applied step with its number (1-based) and the step: tests read the estate there.
Observer = Callable[[int, Step], None]


@dataclass(frozen=True, slots=True)
class Writers:
    vpc: VpcWriter | None = None
    kube: KubeWriter | None = None


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """``attempts`` per step in all; waits ``base_delay * 2**n`` (or what the API asked), at most ``max_delay``."""

    attempts: int = 4
    base_delay: float = 0.5
    max_delay: float = 8.0


#: The retry policy a run uses unless told otherwise.
DEFAULT_RETRY = RetryPolicy()


@dataclass(frozen=True, slots=True)
class StepFailure:
    step: int
    error: str
    temporary: bool
    attempts: int

    def to_dict(self) -> dict[str, Any]:
        return {"step": self.step, "error": self.error, "temporary": self.temporary, "attempts": self.attempts}


def execute(steps: Sequence[Step], writers: Writers, policy: RetryPolicy, sleep: Callable[[float], None],
            observer: Observer | None = None) -> tuple[tuple[int, ...], StepFailure | None]:
    """Make the writes of ``steps`` in order; stop at the first step that fails for good.
    Returns the numbers (1-based) of the steps applied, and the failure if there was one."""
    created: dict[tuple[str, str, str, str], str] = {}
    applied: list[int] = []
    for n, step in enumerate(steps, 1):
        failure = _attempt(n, step, writers, created, policy=policy, sleep=sleep)
        if failure is not None:
            log.error("remediation stopped at step %d of %d (%s): %s; applied: %s", n, len(steps), step.description,
                      failure.error, ", ".join(map(str, applied)) or "none")
            return tuple(applied), failure
        applied.append(n)
        log.info("step %d/%d applied: %s", n, len(steps), step.description)
        if observer is not None:
            observer(n, step)
    return tuple(applied), None


def _attempt(n: int, step: Step, writers: Writers, created: dict[tuple[str, str, str, str], str], *,
             policy: RetryPolicy, sleep: Callable[[float], None]) -> StepFailure | None:
    for attempt in range(1, policy.attempts + 1):
        try:
            apply_step(step.op, writers, created)
            return None
        except TEMPORARY as e:
            if attempt == policy.attempts:
                return StepFailure(n, f"{e} (still failing after {attempt} attempts)", True, attempt)
            delay = min(policy.max_delay, _asked_delay(e) or policy.base_delay * 2 ** (attempt - 1))
            log.warning("step %d: temporary error, retry %d/%d in %.1fs: %s", n, attempt, policy.attempts - 1,
                        delay, e)
            sleep(delay)
        except NetwardenError as e:
            return StepFailure(n, str(e), False, attempt)
    raise AssertionError("unreachable")  # pragma: no cover


def _asked_delay(e: NetwardenError) -> float | None:
    if isinstance(e, TemporaryRemediationError):
        return e.delay
    if isinstance(e, ProviderError):
        return e.retry_after
    return None


def apply_step(op: Operation, writers: Writers, created: dict[tuple[str, str, str, str], str]) -> None:
    """Make the one write ``op`` stands for; ``created`` maps rules this run created to their ids."""
    if isinstance(op, KubeOperation):
        _apply_kube(op, writers.kube)
        return
    vpc = writers.vpc
    if vpc is None:
        raise PermanentRemediationError("no VPC writer")
    match op:
        case CreateRule(target=t, rule=rule, before=before):
            new_id = vpc.create_rule(t.region, t.vpc, t.acl, rule, _resolve(before, t.region, t.vpc, t.acl, created))
            created[(t.region, t.vpc, t.acl, rule.name)] = new_id
        case UpdateRule(target=t, rule_id=rid, patch=patch):
            vpc.update_rule(t.region, t.vpc, t.acl, rid, dict(patch))
        case MoveRule(target=t, rule_id=rid, before=before):
            vpc.move_rule(t.region, t.vpc, t.acl, rid, _resolve(before, t.region, t.vpc, t.acl, created))
        case DeleteRule(target=t, rule_id=rid):
            vpc.delete_rule(t.region, t.vpc, t.acl, rid)
        case ReplaceSubnetAcl(region=r, vpc=v, subnet=s, acl=acl):
            vpc.replace_subnet_acl(r, v, s, acl)
        case SetGateway(region=r, vpc=v, subnet=s, gateway=gw):
            vpc.set_subnet_gateway(r, v, s, gw)
        case UnsetGateway(region=r, vpc=v, subnet=s):
            vpc.unset_subnet_gateway(r, v, s)
        case CreateSecurityGroup(ref=g):
            vpc.create_security_group(g.region, g.vpc, g.group)
        case CreateSgRule(ref=g, rule=rule):
            vpc.create_sg_rule(g.region, g.vpc, g.group, rule)
        case UpdateSgRule(ref=g, rule_id=rid, patch=patch):
            vpc.update_sg_rule(g.region, g.vpc, g.group, rid, dict(patch))
        case DeleteSgRule(ref=g, rule_id=rid):
            vpc.delete_sg_rule(g.region, g.vpc, g.group, rid)
        case BindSgTarget(ref=g, target_id=tid):
            vpc.bind_sg_target(g.region, g.vpc, g.group, tid)
        case UnbindSgTarget(ref=g, target_id=tid):
            vpc.unbind_sg_target(g.region, g.vpc, g.group, tid)


def _apply_kube(op: KubeOperation, kube: KubeWriter | None) -> None:
    if kube is None:
        raise PermanentRemediationError("no Kubernetes writer")
    match op:
        case ApplyPolicy(cluster=c, policy=p):
            kube.apply_policy(c, p)
        case DeletePolicy(cluster=c, namespace=ns, name=name):
            kube.delete_policy(c, ns, name)
        case SetNamespaceLabels(cluster=c, namespace=ns):
            kube.set_namespace_labels(c, ns)


def _resolve(ref: RuleRef | None, region: str, vpc: str, acl: str,
             created: dict[tuple[str, str, str, str], str]) -> str | None:
    if ref is None:
        return None
    if ref.id is not None:
        return ref.id
    found = created.get((region, vpc, acl, ref.name))
    if found is None:
        raise PermanentRemediationError(f"rule {ref.name} was to be created earlier in this run, and was not")
    return found
