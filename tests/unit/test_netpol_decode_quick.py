"""core.netpol.validate: the quick decoding pass accepts only what strict decoding accepts, and a manifest
it does not accept still gets the full decoder's verdict, word for word."""

from __future__ import annotations

import datetime
from typing import Any

import pytest

from netwarden.core.netpol import syntax as k8s_syntax
from netwarden.core.netpol.decode import DECODE, Violation, _decode_struct, _decodes, decode_errors


def policy(**spec: Any) -> dict[str, Any]:
    return {"apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy",
            "metadata": {"name": "np", "namespace": "ns", "labels": {"app": "a"}}, "spec": {"podSelector": {}, **spec}}


PLAIN = {
    "minimal": policy(),
    "rules": policy(ingress=[{"ports": [{"protocol": "TCP", "port": 443, "endPort": 445}, {"port": "http"}],
                              "from": [{"ipBlock": {"cidr": "10.0.0.0/8", "except": ["10.1.0.0/16"]}},
                                       {"namespaceSelector": {"matchExpressions": [
                                           {"key": "k", "operator": "In", "values": ["v"]}]}}]}],
                    egress=[{"to": [{"podSelector": {"matchLabels": {"a": "b"}}}]}], policyTypes=["Egress"]),
    "nulls": policy(ingress=None, egress=[None], policyTypes=None),
    "owner-and-managed-fields": {**policy(), "metadata": {
        "name": "np", "generation": 3, "ownerReferences": [{"apiVersion": "v1", "kind": "X", "name": "x", "uid": "u",
                                                            "controller": True}],
        "managedFields": [{"manager": "m", "fieldsV1": {"f:spec": {}}}]}},
}


@pytest.mark.parametrize("manifest", list(PLAIN.values()), ids=list(PLAIN))
def test_a_plain_manifest_passes_the_quick_pass(manifest: dict[str, Any]) -> None:
    assert _decodes(manifest, "NetworkPolicy")
    unknown: list[str] = []
    _decode_struct(manifest, "NetworkPolicy", "", unknown)  # the full decoder raises nothing either
    assert unknown == []


NOT_PLAIN = {
    "unknown-field": (policy(ingres=[]), Violation("spec.ingres", 'unknown field "spec.ingres"', DECODE)),
    "string-port-number": (policy(ingress=[{"ports": [{"port": 443, "endPort": "445"}]}]), Violation(
        "spec.ingress[0].ports[0].endPort", "json: cannot unmarshal string into Go struct field "
        "NetworkPolicyPort.spec.ingress.ports.endPort of type int32", DECODE)),
    "bool-port": (policy(ingress=[{"ports": [{"port": True}]}]), Violation(
        "spec.ingress[0].ports[0].port", "json: cannot unmarshal bool into Go struct field "
        "NetworkPolicyPort.spec.ingress.ports.port of type intstr.IntOrString", DECODE)),
    "port-out-of-int32": (policy(ingress=[{"ports": [{"port": 2**31}]}]), Violation(
        "spec.ingress[0].ports[0].port", "json: cannot unmarshal number 2147483648 into Go struct field "
        "NetworkPolicyPort.spec.ingress.ports.port of type intstr.IntOrString", DECODE)),
    "list-as-mapping": (policy(ingress={"from": []}), Violation(
        "spec.ingress", "json: cannot unmarshal object into Go struct field NetworkPolicySpec.spec.ingress of type "
        "[]v1.NetworkPolicyIngressRule", DECODE)),
    "number-label": (policy(podSelector={"matchLabels": {"a": 1}}), Violation(
        "spec.podSelector.matchLabels", "json: cannot unmarshal number 1 into Go struct field "
        "LabelSelector.spec.podSelector.matchLabels of type string", DECODE)),
    "non-string-key": (policy(podSelector={1: {}}),
                       Violation("spec.podSelector.1", 'unknown field "spec.podSelector.1"', DECODE)),
}


@pytest.mark.parametrize("case", list(NOT_PLAIN.values()), ids=list(NOT_PLAIN))
def test_a_problem_fails_the_quick_pass_and_gets_the_full_verdict(case: tuple[dict[str, Any], Violation]) -> None:
    manifest, violation = case
    assert not _decodes(manifest, "NetworkPolicy")
    assert decode_errors(manifest) == [violation]


@pytest.mark.parametrize("manifest", [
    {**policy(), "metadata": {"name": "np", "creationTimestamp": datetime.datetime(2024, 1, 1)}},  # YAML dates
    policy(policyTypes=("Ingress",)),  # a sequence that is not a list
])
def test_what_the_quick_pass_does_not_know_is_left_to_the_full_decoder(manifest: dict[str, Any]) -> None:
    assert not _decodes(manifest, "NetworkPolicy")
    assert decode_errors(manifest) == []


def test_a_cached_cidr_verdict_is_a_fresh_list_each_time() -> None:
    network, messages = k8s_syntax.cidr("10.0.0.1/8")
    messages.append("changed by the caller")
    assert k8s_syntax.cidr("10.0.0.1/8") == (network, ["must not have bits set beyond the prefix length"])
