"""A pod spec's defaults and validation, shared by a Pod and by the pod template of every workload kind.

The API server runs the same ``ValidatePodSpec`` on ``spec`` of a Pod and on ``spec.template.spec``
of a Deployment, ReplicaSet, StatefulSet or DaemonSet, and defaults both the same way (a template
gets no service account: that is the Pod admission plugin's, not the defaulter's). The rules kept
here are the ones a test can meet: containers (required, named, with an image and valid ports), the
node selector's labels, and the required and preferred node affinity, worded as
``pkg/apis/core/validation`` words them. The field error helpers and Go's ``%#v`` rendering of a
bad value live here too, so that every kind's admission reports causes the same way.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Mapping
from typing import Any

from netwarden.core.netpol import syntax as k8s_syntax
from netwarden.core.netpol import validate as netpol_validate
from netwarden.fakes.kube.exceptions import Cause

Object = dict[str, Any]
PROTOCOLS = ("SCTP", "TCP", "UDP")
NODE_OPERATORS = ("In", "NotIn", "Exists", "DoesNotExist", "Gt", "Lt")

# --- causes --------------------------------------------------------------------------------------


def quoted(value: Any) -> str:
    """A bad value as ``field.Error`` prints a string (quoted) or a number (bare)."""
    return json.dumps(value) if isinstance(value, str) else str(value)


def invalid_value(field: str, value: Any, detail: str, *, rendered: str | None = None) -> Cause:
    """``field.Invalid``; ``rendered`` is the value already in Go's words (``map[string]string{...}``)."""
    return Cause("FieldValueInvalid", f"Invalid value: {rendered or quoted(value)}: {detail}", field)


def required(field: str, detail: str = "") -> Cause:
    return Cause("FieldValueRequired", "Required value" + (f": {detail}" if detail else ""), field)


def forbidden(field: str, detail: str) -> Cause:
    return Cause("FieldValueForbidden", f"Forbidden: {detail}", field)


def not_supported(field: str, value: Any, supported: tuple[str, ...]) -> Cause:
    return Cause("FieldValueNotSupported", f"Unsupported value: {quoted(value)}: supported values: "
                 f"{', '.join(quoted(p) for p in supported)}", field)


def from_violations(violations: list[netpol_validate.Violation]) -> list[Cause]:
    return [Cause(v.reason, v.message, v.field) for v in violations]


def go_strings(values: Mapping[str, Any] | None) -> str:
    """Go's ``%#v`` of a ``map[string]string``: keys sorted, ``(nil)`` when absent."""
    if values is None:
        return "map[string]string(nil)"
    return "map[string]string{" + ", ".join(f"{json.dumps(k)}:{json.dumps(str(v))}"
                                            for k, v in sorted(values.items())) + "}"


def go_label_selector(selector: Mapping[str, Any]) -> str:
    """Go's ``%#v`` of a ``v1.LabelSelector`` (how ``field is immutable`` shows a selector)."""
    expressions = selector.get("matchExpressions")
    if expressions is None:
        rendered = "[]v1.LabelSelectorRequirement(nil)"
    else:
        rendered = "[]v1.LabelSelectorRequirement{" + ", ".join(
            f"v1.LabelSelectorRequirement{{Key:{json.dumps(e.get('key') or '')}, "
            f"Operator:{json.dumps(e.get('operator') or '')}, Values:"
            + ("[]string(nil)" if e.get("values") is None else
               "[]string{" + ", ".join(json.dumps(v) for v in e["values"]) + "}") + "}"
            for e in expressions) + "}"
    return f"v1.LabelSelector{{MatchLabels:{go_strings(selector.get('matchLabels'))}, MatchExpressions:{rendered}}}"


# --- defaults ------------------------------------------------------------------------------------

_SPEC_DEFAULTS: tuple[tuple[str, Any], ...] = (
    ("restartPolicy", "Always"), ("terminationGracePeriodSeconds", 30), ("dnsPolicy", "ClusterFirst"),
    ("securityContext", {}), ("schedulerName", "default-scheduler"))
#: What admission plugins (ServiceAccount, Priority, the pod's own defaulting) add to a Pod, not a template.
_POD_ONLY_DEFAULTS: tuple[tuple[str, Any], ...] = (
    ("serviceAccountName", "default"), ("serviceAccount", "default"), ("enableServiceLinks", True),
    ("preemptionPolicy", "PreemptLowerPriority"), ("priority", 0))


def default_pod_spec(spec: Object, *, pod: bool) -> None:
    """``SetDefaults_PodSpec`` and the containers' defaults, on ``spec`` in place."""
    for key, value in (*_SPEC_DEFAULTS, *(_POD_ONLY_DEFAULTS if pod else ())):
        spec.setdefault(key, copy.deepcopy(value))
    for container in [*(spec.get("initContainers") or []), *(spec.get("containers") or [])]:
        if not isinstance(container, dict):
            continue
        image = str(container.get("image") or "")
        tag = image.rsplit("/", 1)[-1]
        container.setdefault("imagePullPolicy", "Always" if ":" not in tag or tag.endswith(":latest")
                             else "IfNotPresent")
        container.setdefault("terminationMessagePath", "/dev/termination-log")
        container.setdefault("terminationMessagePolicy", "File")
        container.setdefault("resources", {})
        for port in container.get("ports") or []:
            if isinstance(port, dict):
                port.setdefault("protocol", "TCP")


# --- validation ----------------------------------------------------------------------------------


def _containers(containers: list[Any], where: str) -> list[Cause]:
    causes: list[Cause] = []
    for i, c in enumerate(containers):
        at = f"{where}[{i}]"
        if not c.get("name"):
            causes.append(required(f"{at}.name"))
        else:
            causes += [invalid_value(f"{at}.name", c["name"], m) for m in k8s_syntax.dns1123_label(c["name"])]
        if not c.get("image"):
            causes.append(required(f"{at}.image"))
        for j, port in enumerate(c.get("ports") or []):
            number = port.get("containerPort")
            if number is None:
                causes.append(required(f"{at}.ports[{j}].containerPort"))
            else:
                causes += [invalid_value(f"{at}.ports[{j}].containerPort", number, m)
                           for m in k8s_syntax.port_number(number)]
            if port.get("name"):
                causes += [invalid_value(f"{at}.ports[{j}].name", port["name"], m)
                           for m in k8s_syntax.port_name(port["name"])]
            if port.get("protocol") not in PROTOCOLS:
                causes.append(not_supported(f"{at}.ports[{j}].protocol", port.get("protocol"), PROTOCOLS))
    return causes


def _requirement(req: Mapping[str, Any], where: str) -> list[Cause]:
    """``ValidateNodeSelectorRequirement`` (a label of the node) as of 1.32: the values are not checked
    as label values (1.33 started to); one that no label can have simply never matches."""
    operator, values = req.get("operator") or "", req.get("values") or []
    causes: list[Cause] = []
    if operator in ("In", "NotIn"):
        if not values:
            causes.append(required(f"{where}.values", "must be specified when `operator` is 'In' or 'NotIn'"))
    elif operator in ("Exists", "DoesNotExist"):
        if values:
            causes.append(forbidden(f"{where}.values",
                                    "may not be specified when `operator` is 'Exists' or 'DoesNotExist'"))
    elif operator in ("Gt", "Lt"):
        if len(values) != 1:
            causes.append(required(f"{where}.values", "must be specified single value when `operator` is 'Lt' or 'Gt'"))
    else:
        causes.append(invalid_value(f"{where}.operator", operator, "not a valid selector operator"))
    key = req.get("key") or ""
    causes += [invalid_value(f"{where}.key", key, m) for m in k8s_syntax.label_key(key)]
    return causes


def _field_requirement(req: Mapping[str, Any], where: str) -> list[Cause]:
    """``ValidateNodeFieldSelectorRequirement``: only ``metadata.name``, with one value."""
    operator, values = req.get("operator") or "", req.get("values") or []
    causes: list[Cause] = []
    if operator in ("In", "NotIn"):
        if len(values) != 1:
            causes.append(required(f"{where}.values", "must be only one value when `operator` is 'In' or 'NotIn' "
                                   "for node field selector"))
    else:
        causes.append(invalid_value(f"{where}.operator", operator, "not a valid selector operator"))
    key = req.get("key") or ""
    if key != "metadata.name":
        causes.append(invalid_value(f"{where}.key", key, "not a valid field selector key"))
    else:
        for j, value in enumerate(values):
            causes += [invalid_value(f"{where}.values[{j}]", value, m)
                       for m in k8s_syntax.dns1123_subdomain(str(value))]
    return causes


def node_selector_term(term: Mapping[str, Any], where: str) -> list[Cause]:
    causes: list[Cause] = []
    for j, req in enumerate(term.get("matchExpressions") or []):
        causes += _requirement(req or {}, f"{where}.matchExpressions[{j}]")
    for j, req in enumerate(term.get("matchFields") or []):
        causes += _field_requirement(req or {}, f"{where}.matchFields[{j}]")
    return causes


def _node_affinity(affinity: Mapping[str, Any], where: str) -> list[Cause]:
    causes: list[Cause] = []
    required_terms = affinity.get("requiredDuringSchedulingIgnoredDuringExecution")
    if required_terms is not None:
        at = f"{where}.requiredDuringSchedulingIgnoredDuringExecution.nodeSelectorTerms"
        terms = required_terms.get("nodeSelectorTerms") or []
        if not terms:
            causes.append(required(at, "must have at least one node selector term"))
        for i, term in enumerate(terms):
            causes += node_selector_term(term or {}, f"{at}[{i}]")
    for i, preferred in enumerate(affinity.get("preferredDuringSchedulingIgnoredDuringExecution") or []):
        at = f"{where}.preferredDuringSchedulingIgnoredDuringExecution[{i}]"
        weight = (preferred or {}).get("weight") or 0
        if not 1 <= weight <= 100:
            causes.append(invalid_value(f"{at}.weight", weight, "must be in the range 1-100"))
        causes += node_selector_term((preferred or {}).get("preference") or {}, f"{at}.preference")
    return causes


def pod_spec_causes(spec: Mapping[str, Any], where: str) -> list[Cause]:
    """``ValidatePodSpec``'s rules the emulator keeps, under ``where`` (``spec``, ``spec.template.spec``)."""
    containers = spec.get("containers") or []
    causes = [required(f"{where}.containers")] if not containers else _containers(containers, f"{where}.containers")
    causes += _containers(spec.get("initContainers") or [], f"{where}.initContainers")
    violations: list[netpol_validate.Violation] = []
    netpol_validate.labels(spec.get("nodeSelector") or {}, f"{where}.nodeSelector", violations)
    causes += from_violations(violations)
    node_affinity = (spec.get("affinity") or {}).get("nodeAffinity")
    if node_affinity:
        causes += _node_affinity(node_affinity, f"{where}.affinity.nodeAffinity")
    return causes
