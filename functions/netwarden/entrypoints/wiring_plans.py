"""The composition of reviewed plans: save one, apply one from a file, store one for approval, approve one.

Beside ``wiring`` (whose builders it uses: the baseline, the readers and writers, the config's
safeguards, the state store) for ``remediate --out`` / ``--apply-plan`` / ``--approve`` and the
function's ``plan`` and ``apply`` requests. A plan is made from one live read, and that read is what its
precondition digests (``app.plans``); applying reads again, through the same readers, and compares.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import TYPE_CHECKING

from netwarden.config import Settings
from netwarden.core.errors import Location, PlanFormatError
from netwarden.core.model import Snapshot
from netwarden.entrypoints import wiring

if TYPE_CHECKING:
    from netwarden.app.remediate import RemediationResult, Request, Writers
    from netwarden.core.plan.document import PlanDocument


def make(settings: Settings, *, codes: Iterable[str] | None, initiator: str, max_changes: int | None = None,
         allow_destructive: bool = False) -> tuple[RemediationResult, PlanDocument | None]:
    """A dry run, and the document of its plan (None when there is nothing to do, or it was refused)."""
    from netwarden.app import plans
    from netwarden.app import remediate as app

    baseline = wiring.load_baseline(settings.baseline, settings)
    request, writers = wiring.remediation(settings, codes=codes, dry_run=True, initiator=initiator,
                                          max_changes=max_changes, allow_destructive=allow_destructive)
    read = _reader(settings)
    live = read()
    result = app.run(baseline, read, writers, request, state=None, run_id=_run_id(initiator), clock=wiring.now_rfc3339,
                     live=live)
    return result, plans.make(result, baseline, live, created_at=wiring.now_rfc3339(), created_by=initiator)


def store(settings: Settings, *, codes: Iterable[str] | None, initiator: str) -> tuple[RemediationResult, str | None]:
    """A dry run whose plan is stored in the state store for approval; and the plan's id (None: no plan)."""
    from netwarden.app import approval

    result, doc = make(settings, codes=codes, initiator=initiator)
    if doc is None:
        return result, None
    return result, approval.store(wiring.state_store(settings), doc, expiry_s=settings.remediation.plan_expiry)


def apply_file(settings: Settings, path: Path, *, initiator: str, max_changes: int | None = None,
               allow_destructive: bool = False) -> RemediationResult:
    """Apply the plan saved in ``path`` (``remediate --out``), if it still applies (``app.plans``)."""
    from netwarden.app import plans
    from netwarden.core.plan import document

    try:
        data = path.read_bytes()
    except OSError as e:
        raise PlanFormatError(f"cannot read the plan: {e.strerror or e}", location=Location(str(path))) from e
    doc = document.loads(data, str(path))
    baseline, read, request, writers = _applying(settings, initiator, max_changes, allow_destructive)
    return plans.apply(doc, baseline, read, writers, request, state=wiring.state_store(settings),
                       run_id=_run_id(initiator), clock=wiring.now_rfc3339)


def approve(settings: Settings, plan_id: str, *, initiator: str, approved_by: str, max_changes: int | None = None,
            allow_destructive: bool = False, source: str = "plan_id") -> RemediationResult:
    """Apply the stored plan ``plan_id`` once (``app.approval.approve``); ``source`` names where the id came
    from in the error a malformed one is."""
    from netwarden.app import approval

    approval.checked_id(plan_id, source)
    baseline, read, request, writers = _applying(settings, initiator, max_changes, allow_destructive)
    return approval.approve(wiring.state_store(settings), plan_id, baseline, read, writers=writers, request=request,
                            run_id=_run_id(initiator), clock=wiring.now_rfc3339, approved_by=approved_by)


def _applying(settings: Settings, initiator: str, max_changes: int | None,
              allow_destructive: bool) -> tuple[Snapshot, Callable[[], Snapshot], Request, Writers]:
    """The baseline, a live reader, and the request and writers of an applying run (the config's safeguards)."""
    request, writers = wiring.remediation(settings, codes=None, dry_run=False, initiator=initiator,
                                          max_changes=max_changes, allow_destructive=allow_destructive)
    return wiring.load_baseline(settings.baseline, settings), _reader(settings), request, writers


def _reader(settings: Settings) -> Callable[[], Snapshot]:
    """Live reads through one VPC and one Kubernetes reader (their clients built once)."""
    from netwarden.app.snapshot import take

    vpc, kube = wiring.vpc_reader(settings), wiring.kube_reader(settings)
    return lambda: take(vpc, kube, taken_at=wiring.now_rfc3339())


def _run_id(initiator: str) -> str:
    return f"{initiator}-{uuid.uuid4().hex[:12]}"
