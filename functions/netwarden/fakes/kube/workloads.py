"""Admission for the ``apps/v1`` kinds: the API server's defaults and validation of a Deployment,
ReplicaSet, StatefulSet and DaemonSet.

Defaults are ``pkg/apis/apps/v1/defaults.go``'s (``replicas: 1``, ``revisionHistoryLimit: 10``, a
Deployment's ``progressDeadlineSeconds: 600`` and RollingUpdate 25%/25%, a StatefulSet's
``OrderedReady`` with partition 0, a DaemonSet's RollingUpdate with ``maxUnavailable: 1``) plus the pod
template's (``podspec``). Validation is ``pkg/apis/apps/validation``'s, in its order and words: the
selector is required and must match the template's labels (``selector`` does not match template
``labels``, the bad value shown as Go prints a map), the template's pod spec is validated as a pod's
(except a StatefulSet's, which the API server does not check), and on update the selector is
immutable (``field is immutable``; a StatefulSet refuses any spec change but the few it allows). The
server's bookkeeping is here too: which changes bump ``generation``, a DaemonSet's
``deprecated.daemonset.template.generation`` annotation, and the status a new object starts with.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from typing import Any

from netwarden.core.netpol import validate as netpol_validate
from netwarden.core.netpol.selectors import selector_matches
from netwarden.fakes.kube import podspec
from netwarden.fakes.kube.exceptions import Cause
from netwarden.fakes.kube.kinds import DAEMON_SETS, DEPLOYMENTS, REPLICA_SETS, STATEFUL_SETS, Kind
from netwarden.fakes.kube.podspec import forbidden, invalid_value, not_supported, required

Object = dict[str, Any]
TEMPLATE_GENERATION = "deprecated.daemonset.template.generation"
_PERCENT = re.compile(r"^[0-9]+%$")
_PERCENT_MSG = ("a valid percent string must be a numeric string followed by an ending '%' (e.g. '1%',  or '93%', "
                "regex used for validation is '[0-9]+%')")
NONNEGATIVE = "must be greater than or equal to 0"

#: The status each kind is stored with on create: its Go struct's fields that are not ``omitempty``.
ZERO_STATUS: Mapping[str, Object] = {
    DEPLOYMENTS.resource: {}, REPLICA_SETS.resource: {"replicas": 0},
    STATEFUL_SETS.resource: {"replicas": 0, "availableReplicas": 0},
    DAEMON_SETS.resource: {"currentNumberScheduled": 0, "numberMisscheduled": 0, "desiredNumberScheduled": 0,
                           "numberReady": 0},
}

# --- defaults ------------------------------------------------------------------------------------


def _default(parent: Object, key: str, value: Any) -> Any:
    """Set ``key`` when it is absent or null (a Go nil pointer); returns the value now there."""
    if parent.get(key) is None:
        parent[key] = value
    return parent[key]


def _template_defaults(spec: Object) -> None:
    template = _default(spec, "template", {})
    podspec.default_pod_spec(_default(template, "spec", {}), pod=False)


def _default_deployment(obj: Object) -> None:
    spec = _default(obj, "spec", {})
    _default(spec, "replicas", 1)
    strategy = _default(spec, "strategy", {})
    if not strategy.get("type"):
        strategy["type"] = "RollingUpdate"
    if strategy["type"] == "RollingUpdate":
        rolling = _default(strategy, "rollingUpdate", {})
        _default(rolling, "maxUnavailable", "25%")
        _default(rolling, "maxSurge", "25%")
    _default(spec, "revisionHistoryLimit", 10)
    _default(spec, "progressDeadlineSeconds", 600)
    _template_defaults(spec)


def _default_replica_set(obj: Object) -> None:
    spec = _default(obj, "spec", {})
    _default(spec, "replicas", 1)
    _template_defaults(spec)


def _default_stateful_set(obj: Object) -> None:
    spec = _default(obj, "spec", {})
    if not spec.get("podManagementPolicy"):
        spec["podManagementPolicy"] = "OrderedReady"
    strategy = _default(spec, "updateStrategy", {})
    if not strategy.get("type"):
        strategy["type"] = "RollingUpdate"
    if strategy["type"] == "RollingUpdate":
        _default(_default(strategy, "rollingUpdate", {}), "partition", 0)
    _default(spec, "replicas", 1)
    _default(spec, "revisionHistoryLimit", 10)
    retention = _default(spec, "persistentVolumeClaimRetentionPolicy", {})
    for key in ("whenDeleted", "whenScaled"):
        if not retention.get(key):
            retention[key] = "Retain"
    _template_defaults(spec)


def _default_daemon_set(obj: Object) -> None:
    spec = _default(obj, "spec", {})
    strategy = _default(spec, "updateStrategy", {})
    if not strategy.get("type"):
        strategy["type"] = "RollingUpdate"
    if strategy["type"] == "RollingUpdate":
        rolling = _default(strategy, "rollingUpdate", {})
        _default(rolling, "maxUnavailable", 1)
        _default(rolling, "maxSurge", 0)
    _default(spec, "revisionHistoryLimit", 10)
    _template_defaults(spec)


DEFAULTS: Mapping[str, Callable[[Object], None]] = {
    DEPLOYMENTS.resource: _default_deployment, REPLICA_SETS.resource: _default_replica_set,
    STATEFUL_SETS.resource: _default_stateful_set, DAEMON_SETS.resource: _default_daemon_set,
}

# --- the server's bookkeeping --------------------------------------------------------------------


def _spec(obj: Mapping[str, Any]) -> Mapping[str, Any]:
    return obj.get("spec") or {}


def spec_changed(kind: Kind, new: Mapping[str, Any], old: Mapping[str, Any]) -> bool:
    """Whether a write bumps ``generation``: a spec change; for a Deployment an annotation change too
    (its annotations are copied to its ReplicaSets)."""
    if _spec(new) != _spec(old):
        return True
    annotations = [(o.get("metadata") or {}).get("annotations") or {} for o in (new, old)]
    return kind is DEPLOYMENTS and annotations[0] != annotations[1]


def server_annotations(kind: Kind, obj: Object, old: Object | None) -> None:
    """A DaemonSet's template generation, kept by the server: 1, then one more per template change."""
    if kind is not DAEMON_SETS:
        return
    annotations = obj.setdefault("metadata", {}).setdefault("annotations", {})
    before = int(((old or {}).get("metadata") or {}).get("annotations", {}).get(TEMPLATE_GENERATION) or 0)
    changed = old is None or _spec(obj).get("template") != _spec(old).get("template")
    annotations[TEMPLATE_GENERATION] = str(before + 1 if changed else before)


# --- validation ----------------------------------------------------------------------------------


def _nonnegative(spec: Mapping[str, Any], key: str) -> list[Cause]:
    value = spec.get(key)
    return [invalid_value(f"spec.{key}", value, NONNEGATIVE)] if isinstance(value, int) and value < 0 else []


def _int_or_percent(value: Any) -> int:
    """``getIntOrPercentValue``: the number of a valid percent, else the integer (a bad string is 0)."""
    if isinstance(value, str):
        return int(value[:-1]) if _PERCENT.match(value) else int(value) if value.lstrip("-").isdigit() else 0
    return int(value or 0)


def _positive_int_or_percent(value: Any, field: str) -> list[Cause]:
    rendered = str(value)
    if isinstance(value, str):
        return [] if _PERCENT.match(value) else [invalid_value(field, value, _PERCENT_MSG, rendered=rendered)]
    return [invalid_value(field, value, NONNEGATIVE, rendered=rendered)] if value is not None and value < 0 else []


def _rolling(rolling: Mapping[str, Any], where: str, *, daemon: bool) -> list[Cause]:
    unavailable, surge = rolling.get("maxUnavailable"), rolling.get("maxSurge")
    causes = (_positive_int_or_percent(unavailable, f"{where}.maxUnavailable")
              + _positive_int_or_percent(surge, f"{where}.maxSurge"))
    has_unavailable, has_surge = _int_or_percent(unavailable) != 0, _int_or_percent(surge) != 0
    if daemon and has_unavailable and has_surge:
        causes.append(invalid_value(f"{where}.maxSurge", surge, "may not be set when maxUnavailable is non-zero",
                                    rendered=str(surge)))
    elif not has_unavailable and not has_surge:
        causes.append(required(f"{where}.maxUnavailable", "cannot be 0 when maxSurge is 0") if daemon else
                      invalid_value(f"{where}.maxUnavailable", unavailable, "may not be 0 when `maxSurge` is 0",
                                    rendered=str(unavailable)))
    for key, value in (("maxUnavailable", unavailable), *((("maxSurge", surge),) if daemon else ())):
        if isinstance(value, str) and _PERCENT.match(value) and int(value[:-1]) > 100:
            causes.append(invalid_value(f"{where}.{key}", value, "must not be greater than 100%", rendered=value))
    return causes


def _strategy(kind: Kind, spec: Mapping[str, Any]) -> list[Cause]:
    key = "strategy" if kind is DEPLOYMENTS else "updateStrategy"
    strategy = spec.get(key) or {}
    kind_type, rolling = strategy.get("type") or "", strategy.get("rollingUpdate")
    where = f"spec.{key}"
    if kind is STATEFUL_SETS:
        if kind_type not in ("RollingUpdate", "OnDelete"):
            return [required(where) if not kind_type else
                    invalid_value(where, kind_type, "must be 'RollingUpdate' or 'OnDelete'")]
        if kind_type == "OnDelete" and rolling is not None:
            return [invalid_value(f"{where}.rollingUpdate", rolling, "only allowed for updateStrategy 'RollingUpdate'",
                                  rendered=str(rolling))]
        return _nonnegative(rolling or {}, "partition") if rolling else []
    other = "Recreate" if kind is DEPLOYMENTS else "OnDelete"
    if kind_type == other:
        if kind is DEPLOYMENTS and rolling is not None:
            return [forbidden(f"{where}.rollingUpdate", "may not be specified when strategy `type` is 'Recreate'")]
        return []
    if kind_type != "RollingUpdate":
        return [not_supported(where, kind_type, tuple(sorted((other, "RollingUpdate"))))]
    if rolling is None:
        return [required(f"{where}.rollingUpdate", "this should be defaulted and never be nil"
                         if kind is DEPLOYMENTS else "")]
    return _rolling(rolling, f"{where}.rollingUpdate", daemon=kind is DAEMON_SETS)


def _selector(kind: Kind, spec: Mapping[str, Any]) -> tuple[list[Cause], bool]:
    """The selector's causes, and whether it is one the template's labels can be matched against."""
    selector = spec.get("selector")
    if selector is None:
        return ([] if kind is DAEMON_SETS else [required("spec.selector")]), True
    violations: list[netpol_validate.Violation] = []
    netpol_validate.label_selector(selector, "spec.selector", violations)
    causes = podspec.from_violations(violations)
    if not selector.get("matchLabels") and not selector.get("matchExpressions"):
        noun = {STATEFUL_SETS.resource: "statefulset", DAEMON_SETS.resource: "daemonset"}.get(kind.resource,
                                                                                               "deployment")
        causes.append(invalid_value("spec.selector", selector, f"empty selector is invalid for {noun}",
                                    rendered=podspec.go_label_selector(selector)))
    if violations and kind in (DEPLOYMENTS, REPLICA_SETS):
        causes.append(invalid_value("spec.selector", selector, "invalid label selector",
                                    rendered=podspec.go_label_selector(selector)))
    return causes, not violations


def _label_match(kind: Kind, spec: Mapping[str, Any], matchable: bool) -> list[Cause]:
    """The template's labels against the selector: a missing selector matches nothing; an empty one
    (``{}``) matches everything, and is not checked but for a DaemonSet."""
    selector, labels = spec.get("selector"), ((spec.get("template") or {}).get("metadata") or {}).get("labels")
    empty = selector is not None and not selector.get("matchLabels") and not selector.get("matchExpressions")
    if not matchable or (empty and kind is not DAEMON_SETS):
        return []
    if selector is not None and selector_matches(selector, labels or {}):
        return []
    return [invalid_value("spec.template.metadata.labels", labels, "`selector` does not match template `labels`",
                          rendered=podspec.go_strings(labels))]


def _template(kind: Kind, spec: Mapping[str, Any]) -> list[Cause]:
    """``ValidatePodTemplateSpec`` (a StatefulSet's: its labels only), then the workloads' own rules."""
    template = spec.get("template") or {}
    violations: list[netpol_validate.Violation] = []
    netpol_validate.labels((template.get("metadata") or {}).get("labels") or {}, "spec.template.labels", violations)
    causes = podspec.from_violations(violations)
    pod_spec = template.get("spec") or {}
    if kind is not STATEFUL_SETS:  # the API server leaves a StatefulSet's pod spec to the pods it makes
        causes += podspec.pod_spec_causes(pod_spec, "spec.template.spec")
    if pod_spec.get("restartPolicy") != "Always":
        causes.append(not_supported("spec.template.spec.restartPolicy", pod_spec.get("restartPolicy") or "",
                                    ("Always",)))
    if pod_spec.get("activeDeadlineSeconds") is not None:
        causes.append(forbidden("spec.template.spec.activeDeadlineSeconds",
                                f"activeDeadlineSeconds in {kind.kind} is not Supported"))
    return causes


def causes(kind: Kind, obj: Mapping[str, Any], old: Mapping[str, Any] | None) -> list[Cause]:
    """The spec's causes in the order of ``ValidateDeploymentSpec`` (``ReplicaSetSpec``, ``StatefulSetSpec``,
    ``DaemonSetSpec``), then the update's."""
    spec = _spec(obj)
    selector, matchable = _selector(kind, spec)
    match, template = _label_match(kind, spec, matchable), _template(kind, spec)
    if kind is DEPLOYMENTS:
        out = [*_nonnegative(spec, "replicas"), *selector, *match, *template, *_strategy(kind, spec),
               *_nonnegative(spec, "minReadySeconds"), *_nonnegative(spec, "revisionHistoryLimit")]
        deadline = spec.get("progressDeadlineSeconds")
        if isinstance(deadline, int):
            out += _nonnegative(spec, "progressDeadlineSeconds")
            if deadline <= int(spec.get("minReadySeconds") or 0):
                out.append(invalid_value("spec.progressDeadlineSeconds", deadline,
                                         "must be greater than minReadySeconds"))
    elif kind is REPLICA_SETS:
        out = [*_nonnegative(spec, "replicas"), *_nonnegative(spec, "minReadySeconds"), *selector, *match, *template]
    elif kind is STATEFUL_SETS:
        policy = spec.get("podManagementPolicy") or ""
        out = [] if policy in ("OrderedReady", "Parallel") else [
            required("spec.podManagementPolicy") if not policy else
            invalid_value("spec.podManagementPolicy", policy, "must be 'OrderedReady' or 'Parallel'")]
        out += [*_strategy(kind, spec), *_nonnegative(spec, "replicas"), *_nonnegative(spec, "minReadySeconds"),
                *selector, *match, *template]
    else:
        empty = [c for c in selector if "empty selector" in c.message]
        out = [*(c for c in selector if c not in empty), *match, *empty, *template,
               *_nonnegative(spec, "minReadySeconds"), *_strategy(kind, spec),
               *_nonnegative(spec, "revisionHistoryLimit")]
    if old is not None:
        out += _update_causes(kind, spec, _spec(old))
    return out


def _update_causes(kind: Kind, spec: Mapping[str, Any], before: Mapping[str, Any]) -> list[Cause]:
    if kind is STATEFUL_SETS:
        mutable = ("replicas", "ordinals", "template", "updateStrategy", "persistentVolumeClaimRetentionPolicy",
                   "minReadySeconds")
        if {k: v for k, v in spec.items() if k not in mutable} != {k: v for k, v in before.items() if k not in mutable}:
            return [forbidden("spec", "updates to statefulset spec for fields other than 'replicas', 'ordinals', "
                              "'template', 'updateStrategy', 'persistentVolumeClaimRetentionPolicy' and "
                              "'minReadySeconds' are forbidden")]
        return []
    selector = spec.get("selector")
    if _normal(selector) != _normal(before.get("selector")):
        return [invalid_value("spec.selector", selector, "field is immutable",
                              rendered=podspec.go_label_selector(selector) if selector is not None else "null")]
    return []


def _normal(selector: Mapping[str, Any] | None) -> Any:
    """A selector as Go compares it after decoding: an empty map or list is no map or list."""
    return None if selector is None else {k: v for k, v in selector.items() if v}
