"""A reviewed plan: a remediation plan saved with the state it was made from, to be applied later as it is.

``remediate --out plan.json`` writes one for a person to review; the function's ``plan`` request and
``remediation.mode: approve`` store one in the state store (``plans/<id>.json``) for a second caller to
approve. Applying it (``app.plans``) executes exactly the steps saved, never a new plan, so a plan is
only worth applying while the estate is still what it was made from. The document therefore carries
its **precondition**: per scope the plan writes to (``us-south/prod-vpc``, ``k8s/prod-cluster``), a
digest (sha256 of canonical JSON) of that scope's live state, as the snapshot file spells it, ids
included (the steps name rules, subnets and groups by id). Of a cluster only what its steps and guards
read counts (namespaces and their labels, NetworkPolicies, worker subnets), not its pods, which come
and go. The baseline of the same scopes is digested too: a plan made from another baseline is not the
reviewed one.

The file is canonical JSON with a ``digest`` of everything else in it, so a plan changed after it was
made (by hand, or by a broken copy) is refused; and it is read strictly: the first problem is one
``PlanFormatError`` naming the file, the line and the field, never a traceback.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from netwarden.core import snapshot_format, strict_json
from netwarden.core.errors import Location, PlanFormatError
from netwarden.core.findings import CODES, SEVERITIES, Finding
from netwarden.core.model import Cluster, Snapshot, Vpc
from netwarden.core.plan import codec
from netwarden.core.plan.steps import CLOSE, OPEN, RemediationPlan, Step, api_call

SCHEMA_VERSION = 1
KIND = "netwarden/remediation-plan"
#: A plan id: what ``app.plans.new_id`` makes, and the only shape a request or a state key may carry.
ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]{7,63}")
#: The largest plan file read (a plan of the largest ``max_changes`` stays well below it).
MAX_BYTES = 64 * 1024 * 1024
MAX_DEPTH = 64
_DIGEST = re.compile(r"sha256:[0-9a-f]{64}")
_FINGERPRINT = re.compile(r"[0-9a-f]{16}")
_TOP = ("schema_version", "kind", "id", "created_at", "created_by", "run_id", "baseline", "precondition", "findings",
        "steps", "digest")
_STEP = ("n", "scope", "description", "phase", "codes", "fixes", "call", "op")
_FINDING = ("fingerprint", "code", "severity", "resource", "message")


@dataclass(frozen=True, slots=True)
class PlannedFinding:
    """A finding the plan remediates, as a reviewer reads it."""

    fingerprint: str
    code: str
    severity: str
    resource: str
    message: str

    @classmethod
    def of(cls, f: Finding) -> PlannedFinding:
        return cls(f.fingerprint, f.code, f.severity, f.resource.path, f.message)


@dataclass(frozen=True, slots=True)
class PlanDocument:
    """A plan with what it was made from: ``baseline``, the digest of the baseline of its scopes;
    ``precondition``, per scope, the digest of its live state; who made it, when, in which run."""

    id: str
    created_at: str
    created_by: str
    run_id: str
    baseline: str
    precondition: Mapping[str, str]
    steps: tuple[Step, ...]
    findings: tuple[PlannedFinding, ...]

    @property
    def scopes(self) -> tuple[str, ...]:
        return tuple(sorted(self.precondition))

    @property
    def fixes(self) -> frozenset[str]:
        return frozenset(fp for step in self.steps for fp in step.fixes)

    @property
    def identity(self) -> str:
        """The same for two plans that make the same writes from the same state (id and time aside)."""
        return _digest({"baseline": self.baseline, "precondition": dict(self.precondition),
                        "steps": [_step(n, s) for n, s in enumerate(self.steps, 1)]})

    def moved(self, live: Snapshot) -> list[str]:
        """The scopes whose live state is not what the plan was made from (empty: the precondition holds)."""
        return [scope for scope in self.scopes if state_digest(live, scope) != self.precondition[scope]]

    def plan(self, findings: Sequence[Finding] = ()) -> RemediationPlan:
        """The steps as a plan to execute; ``findings``: the live findings they fix (for the audit record)."""
        return RemediationPlan(steps=self.steps, findings=tuple(f for f in findings if f.fingerprint in self.fixes))

    def to_data(self) -> dict[str, Any]:
        data = {"schema_version": SCHEMA_VERSION, "kind": KIND, "id": self.id, "created_at": self.created_at,
                "created_by": self.created_by, "run_id": self.run_id, "baseline": self.baseline,
                "precondition": dict(sorted(self.precondition.items())),
                "findings": [{"fingerprint": f.fingerprint, "code": f.code, "severity": f.severity,
                              "resource": f.resource, "message": f.message} for f in self.findings],
                "steps": [_step(n, s) for n, s in enumerate(self.steps, 1)]}
        return {**data, "digest": _digest(data)}

    def dumps(self) -> str:
        return json.dumps(self.to_data(), indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def make(plan: RemediationPlan, baseline: Snapshot, live: Snapshot, *, plan_id: str, created_at: str,
         created_by: str, run_id: str) -> PlanDocument:
    """The document of ``plan``, made from ``baseline`` and the ``live`` snapshot (which it must be)."""
    if not ID.fullmatch(plan_id):
        raise ValueError(f"not a plan id: {plan_id!r}")
    scopes = plan.scopes
    return PlanDocument(id=plan_id, created_at=created_at, created_by=created_by, run_id=run_id,
                        baseline=baseline_digest(baseline, scopes),
                        precondition={scope: state_digest(live, scope) for scope in scopes}, steps=plan.steps,
                        findings=tuple(PlannedFinding.of(f) for f in plan.findings if f.fingerprint in plan.fixes))


def state_digest(snapshot: Snapshot, scope: str) -> str:
    """The digest of what ``snapshot`` holds of ``scope`` (a scope it does not hold has one too)."""
    return _digest({"scope": scope, "state": scope_data(snapshot, scope)})


def baseline_digest(baseline: Snapshot, scopes: Sequence[str]) -> str:
    return _digest({scope: scope_data(baseline, scope) for scope in sorted(scopes)})


def scope_data(snapshot: Snapshot, scope: str) -> Any:
    """A scope of ``snapshot`` as the snapshot file spells it; of a cluster, what a plan writes and guards
    read: namespaces, NetworkPolicies, worker subnets. None when the snapshot does not hold the scope."""
    if scope.startswith("k8s/"):
        cluster = snapshot.cluster(scope[len("k8s/"):])
        if cluster is None:
            return None
        data = snapshot_format.to_data(Snapshot(clusters=(_relevant(cluster),)))["clusters"][0]
        return {k: data.get(k) for k in ("name", "namespaces", "policies", "worker_subnets")}
    region, _, name = scope.partition("/")
    vpc: Vpc | None = snapshot.vpc(region, name)
    return None if vpc is None else snapshot_format.to_data(Snapshot(vpcs=(vpc,)))["vpcs"][0]


def _relevant(cluster: Cluster) -> Cluster:
    return Cluster(name=cluster.name, namespaces=cluster.namespaces, policies=cluster.policies,
                   worker_subnets=cluster.worker_subnets)


def _digest(data: Any) -> str:
    text = json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return "sha256:" + hashlib.sha256(text.encode("utf-8")).hexdigest()


def _step(n: int, step: Step) -> dict[str, Any]:
    return {"n": n, "scope": step.scope, "description": step.description, "phase": step.phase,
            "codes": list(step.codes), "fixes": list(step.fixes), "call": step.call.to_dict(),
            "op": codec.op_to_data(step.op)}


# --- reading -----------------------------------------------------------------------------------------


def loads(data: bytes | str, source: str) -> PlanDocument:
    """The plan in ``data`` (a file's bytes or text); ``source`` is named in every error."""
    return _Reader(source, data).document()


class _Reader:
    def __init__(self, source: str, data: bytes | str) -> None:
        self.source = source
        if len(data) > MAX_BYTES:
            raise PlanFormatError(f"larger than the {MAX_BYTES // (1024 * 1024)} MiB a plan may have",
                                  location=Location(source))
        try:
            self.text = data if isinstance(data, str) else data.decode("utf-8")
        except UnicodeDecodeError as e:
            raise PlanFormatError(f"not UTF-8 (byte {e.start})", location=Location(source)) from e

    def fail(self, path: str, message: str) -> PlanFormatError:
        line = strict_json.line_of(self.text, path) if path else None
        return PlanFormatError(message, location=Location(self.source, line, path or None))

    def document(self) -> PlanDocument:
        try:
            raw = strict_json.loads(self.text, max_depth=MAX_DEPTH)
        except strict_json.JsonRefused as e:
            raise PlanFormatError(e.reason, location=Location(self.source, e.line, e.path)) from e
        if type(raw) is not dict or raw.get("kind") != KIND:
            raise self.fail("kind" if type(raw) is dict else "", f"not a netwarden remediation plan (kind {KIND!r})")
        if raw.get("schema_version") != SCHEMA_VERSION or type(raw.get("schema_version")) is not int:
            raise self.fail("schema_version", f"unsupported plan version {str(raw.get('schema_version'))[:20]!r} "
                                              f"(this netwarden reads version {SCHEMA_VERSION})")
        self.keys(raw, "", _TOP)
        findings = tuple(self.finding(f, f"findings[{i}]") for i, f in enumerate(self.listed(raw, "findings")))
        steps = tuple(self.step(s, f"steps[{i}]", i + 1) for i, s in enumerate(self.listed(raw, "steps")))
        doc = PlanDocument(id=self.text_of(raw, "id"), created_at=self.text_of(raw, "created_at"),
                           created_by=self.text_of(raw, "created_by"), run_id=self.text_of(raw, "run_id"),
                           baseline=self.digest_of(raw, "baseline"), precondition=self.precondition(raw),
                           steps=steps, findings=findings)
        if not ID.fullmatch(doc.id):
            raise self.fail("id", "not a plan id (letters, digits, - and _, 8 to 64 of them)")
        self.consistent(doc, raw)
        return doc

    def consistent(self, doc: PlanDocument, raw: dict[str, Any]) -> None:
        known = {f.fingerprint for f in doc.findings}
        for i, step in enumerate(doc.steps):
            stray = [fp for fp in step.fixes if fp not in known]
            if stray:
                raise self.fail(f"steps[{i}].fixes", f"names finding {stray[0]}, which the plan's findings do not")
        if set(doc.precondition) != {s.scope for s in doc.steps}:
            raise self.fail("precondition", "does not hold exactly the scopes the steps write to")
        if raw["digest"] != _digest({k: v for k, v in raw.items() if k != "digest"}):
            raise self.fail("digest", "does not match the plan's content: the plan was changed after netwarden "
                                      "made it (make the plan again, and review that one)")

    def keys(self, data: dict[str, Any], path: str, keys: tuple[str, ...]) -> None:
        unknown = sorted(set(data) - set(keys))
        if unknown:
            raise self.fail(_join(path, strict_json.key_text(unknown[0])), "unknown field")
        missing = [k for k in keys if k not in data]
        if missing:
            raise self.fail(_join(path, missing[0]), "missing")

    def listed(self, data: dict[str, Any], key: str, path: str = "") -> list[Any]:
        value = data[key]
        if type(value) is not list:
            raise self.fail(_join(path, key), "expected a list")
        return value

    def text_of(self, data: dict[str, Any], key: str, path: str = "") -> str:
        value = data[key]
        if type(value) is not str or not value:
            raise self.fail(_join(path, key), "expected a non-empty string")
        return value

    def digest_of(self, data: dict[str, Any], key: str, path: str = "") -> str:
        value = self.text_of(data, key, path)
        if not _DIGEST.fullmatch(value):
            raise self.fail(_join(path, key), "expected sha256: and 64 hexadecimal digits")
        return value

    def precondition(self, raw: dict[str, Any]) -> dict[str, str]:
        value = raw["precondition"]
        if type(value) is not dict:
            raise self.fail("precondition", "expected an object of scope: digest")
        return {scope: self.digest_of(value, scope, "precondition") for scope in value}

    def finding(self, raw: Any, path: str) -> PlannedFinding:
        if type(raw) is not dict:
            raise self.fail(path, "expected an object")
        self.keys(raw, path, _FINDING)
        f = PlannedFinding(*(self.text_of(raw, k, path) for k in _FINDING))
        if not _FINGERPRINT.fullmatch(f.fingerprint):
            raise self.fail(f"{path}.fingerprint", "expected 16 hexadecimal digits")
        if f.code not in CODES:
            raise self.fail(f"{path}.code", f"not a finding code netwarden knows: {f.code[:60]!r}")
        if f.severity not in SEVERITIES:
            raise self.fail(f"{path}.severity", f"not one of {', '.join(SEVERITIES)}")
        return f

    def step(self, raw: Any, path: str, n: int) -> Step:
        if type(raw) is not dict:
            raise self.fail(path, "expected an object")
        self.keys(raw, path, _STEP)
        if raw["n"] != n or type(raw["n"]) is not int:
            raise self.fail(f"{path}.n", f"expected {n}: steps run in the order they are listed")
        phase = raw["phase"]
        if type(phase) is not int or not CLOSE <= phase <= OPEN:
            raise self.fail(f"{path}.phase", f"expected a whole number from {CLOSE} to {OPEN}")
        codes, fixes = (self.strings(raw, key, path) for key in ("codes", "fixes"))
        try:
            op = codec.op_from_data(raw["op"], f"{path}.op")
        except codec.CodecError as e:
            raise self.fail(e.path, e.reason) from e
        step = Step(op, self.text_of(raw, "description", path), fixes=fixes, codes=codes, phase=phase)
        if raw["scope"] != step.scope:
            raise self.fail(f"{path}.scope", f"does not match the step's operation (it writes to {step.scope})")
        if raw["call"] != api_call(op).to_dict():
            raise self.fail(f"{path}.call", "does not match the step's operation: the call shown is not the call made")
        return step

    def strings(self, data: dict[str, Any], key: str, path: str) -> tuple[str, ...]:
        value = data[key]
        if type(value) is not list or not all(type(v) is str and v for v in value):
            raise self.fail(_join(path, key), "expected a list of non-empty strings")
        return tuple(value)


def _join(path: str, key: str) -> str:
    return f"{path}.{key}" if path else key
