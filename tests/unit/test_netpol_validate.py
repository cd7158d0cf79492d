"""core.netpol.validate: what the API server accepts loads, what it refuses is refused with its words."""

from __future__ import annotations

import copy
import re
from typing import Any

import kubernetes.client as k8s
import pytest

from netwarden.core.netpol import syntax as k8s_syntax
from netwarden.core.netpol.decode import DECODE, STRUCTS, Violation, decode_errors
from netwarden.core.netpol.validate import validate


def policy(spec: dict[str, Any] | None = None, **metadata: Any) -> dict[str, Any]:
    meta = {"name": "backend-allow", "namespace": "accounts", **metadata}
    return {"apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy", "metadata": meta,
            "spec": spec if spec is not None else {"podSelector": {}}}


def ingress_from(*peers: dict[str, Any], ports: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    rule: dict[str, Any] = {"from": list(peers)}
    if ports is not None:
        rule["ports"] = ports
    return {"podSelector": {"matchLabels": {"app": "srv1"}}, "ingress": [rule]}


ACCEPTED = {
    "deny-all-ingress": policy({"podSelector": {}, "policyTypes": ["Ingress"]}),
    "no-spec": {"apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy", "metadata": {"name": "x"}},
    "no-type-meta (the endpoint implies it)": {"metadata": {"name": "x"}, "spec": {}},
    "generate-name-only": {"metadata": {"generateName": "np-"}, "spec": {}},
    "allow-all-ingress-rule": policy({"podSelector": {}, "ingress": [{}]}),
    "recipe-backend-allow": policy(ingress_from({"podSelector": {"matchLabels": {"app": "Srv1", "tier": "frontend"}}})),
    "namespace-and-pod-selector-together": policy(ingress_from(
        {"namespaceSelector": {"matchLabels": {"usage": "finance"}}, "podSelector": {"matchLabels": {"app": "Srv2"}}})),
    "ipblock-with-except": policy(ingress_from({"ipBlock": {"cidr": "172.17.0.0/16", "except": ["172.17.1.0/24"]}})),
    "ipv6-ipblock": policy(ingress_from({"ipBlock": {"cidr": "2001:db8::/32", "except": ["2001:db8:1::/48"]}})),
    "port-range": policy(ingress_from(ports=[{"protocol": "TCP", "port": 32000, "endPort": 32768}])),
    "endport-equal-port": policy(ingress_from(ports=[{"port": 80, "endPort": 80}])),
    "named-port": policy(ingress_from(ports=[{"protocol": "UDP", "port": "dns-udp"}])),
    "sctp-no-port": policy(ingress_from(ports=[{"protocol": "SCTP"}])),
    "expressions": policy({"podSelector": {"matchExpressions": [
        {"key": "tier", "operator": "In", "values": ["db", "backend"]},
        {"key": "example.com/role", "operator": "Exists"},
        {"key": "legacy", "operator": "DoesNotExist", "values": []}]}}),
    "egress-both-types": policy({"podSelector": {}, "policyTypes": ["Ingress", "Egress"],
                                 "egress": [{"to": [{"ipBlock": {"cidr": "10.0.0.0/24"}}],
                                             "ports": [{"port": 53, "protocol": "UDP"}]}]}),
    "labels-and-annotations": policy(labels={"app.kubernetes.io/name": "srv1", "empty": ""},
                                     annotations={"Example.com/Owner": "team accounts"}),
    "nulls-are-absent": policy({"podSelector": None, "ingress": None, "egress": None, "policyTypes": None}),
    "uppercase-label-key": policy({"podSelector": {"matchLabels": {"Tier": "backend"}}}),
}


@pytest.mark.parametrize("manifest", list(ACCEPTED.values()), ids=list(ACCEPTED))
def test_accepted(manifest: dict[str, Any]) -> None:
    assert validate(manifest) == []


REJECTED: dict[str, tuple[Any, str, str, str]] = {
    # name: (manifest, field, reason, message)
    "except-outside-cidr": (
        policy(ingress_from({"ipBlock": {"cidr": "10.0.0.0/16", "except": ["10.1.0.0/24"]}})),
        "spec.ingress[0].from[0].ipBlock.except[0]", "FieldValueInvalid",
        'Invalid value: "10.1.0.0/24": must be a strict subset of `cidr`'),
    "except-equal-to-cidr": (
        policy(ingress_from({"ipBlock": {"cidr": "10.0.0.0/16", "except": ["10.0.0.0/16"]}})),
        "spec.ingress[0].from[0].ipBlock.except[0]", "FieldValueInvalid",
        'Invalid value: "10.0.0.0/16": must be a strict subset of `cidr`'),
    "except-other-family": (
        policy(ingress_from({"ipBlock": {"cidr": "10.0.0.0/8", "except": ["2001:db8::/64"]}})),
        "spec.ingress[0].from[0].ipBlock.except[0]", "FieldValueInvalid", "must be a strict subset of `cidr`"),
    "cidr-not-a-cidr": (
        policy(ingress_from({"ipBlock": {"cidr": "10.0.0.0"}})),
        "spec.ingress[0].from[0].ipBlock.cidr", "FieldValueInvalid",
        'Invalid value: "10.0.0.0": must be a valid CIDR value, (e.g. 10.9.8.0/24 or 2001:db8::/64)'),
    "cidr-host-bits": (
        policy(ingress_from({"ipBlock": {"cidr": "10.0.0.1/8"}})),
        "spec.ingress[0].from[0].ipBlock.cidr", "FieldValueInvalid",
        'Invalid value: "10.0.0.1/8": must not have bits set beyond the prefix length'),
    "cidr-leading-zeros": (
        policy(ingress_from({"ipBlock": {"cidr": "010.0.0.0/8"}})),
        "spec.ingress[0].from[0].ipBlock.cidr", "FieldValueInvalid", "must not have leading 0s in IP or prefix length"),
    "cidr-ipv4-mapped": (
        policy(ingress_from({"ipBlock": {"cidr": "::ffff:10.0.0.0/104"}})),
        "spec.ingress[0].from[0].ipBlock.cidr", "FieldValueInvalid", "must not have an IPv4-mapped IPv6 address"),
    "cidr-empty": (
        policy(ingress_from({"ipBlock": {"cidr": ""}})),
        "spec.ingress[0].from[0].ipBlock.cidr", "FieldValueRequired", "Required value"),
    "ipblock-and-selector": (
        policy(ingress_from({"ipBlock": {"cidr": "10.0.0.0/8"}, "namespaceSelector": {}})),
        "spec.ingress[0].from[0]", "FieldValueForbidden", "Forbidden: may not specify both ipBlock and another peer"),
    "empty-peer": (
        policy(ingress_from({})), "spec.ingress[0].from[0]", "FieldValueRequired",
        "Required value: must specify a peer"),
    "endport-below-port": (
        policy(ingress_from(ports=[{"port": 32000, "endPort": 30000}])), "spec.ingress[0].ports[0].endPort",
        "FieldValueInvalid", "Invalid value: 30000: must be greater than or equal to `port`"),
    "endport-with-named-port": (
        policy(ingress_from(ports=[{"port": "http", "endPort": 90}])), "spec.ingress[0].ports[0].endPort",
        "FieldValueInvalid", "Invalid value: 90: may not be specified when `port` is non-numeric"),
    "endport-without-port": (
        policy(ingress_from(ports=[{"endPort": 90}])), "spec.ingress[0].ports[0].endPort",
        "FieldValueInvalid", "Invalid value: 90: may not be specified when `port` is not specified"),
    "endport-out-of-range": (
        policy(ingress_from(ports=[{"port": 80, "endPort": 70000}])), "spec.ingress[0].ports[0].endPort",
        "FieldValueInvalid", "Invalid value: 70000: must be between 1 and 65535, inclusive"),
    "port-zero": (
        policy(ingress_from(ports=[{"port": 0}])), "spec.ingress[0].ports[0].port", "FieldValueInvalid",
        "Invalid value: 0: must be between 1 and 65535, inclusive"),
    "protocol-icmp": (
        policy(ingress_from(ports=[{"protocol": "ICMP"}])), "spec.ingress[0].ports[0].protocol",
        "FieldValueNotSupported", 'Unsupported value: "ICMP": supported values: "TCP", "UDP", "SCTP"'),
    "protocol-lowercase": (
        policy(ingress_from(ports=[{"protocol": "tcp", "port": 80}])), "spec.ingress[0].ports[0].protocol",
        "FieldValueNotSupported", 'Unsupported value: "tcp"'),
    "named-port-too-long": (
        policy(ingress_from(ports=[{"port": "a-very-long-port-name"}])), "spec.ingress[0].ports[0].port",
        "FieldValueInvalid", "must be no more than 15 characters"),
    "named-port-digits-only": (
        policy(ingress_from(ports=[{"port": "8080"}])), "spec.ingress[0].ports[0].port",
        "FieldValueInvalid", "must contain at least one letter (a-z)"),
    "named-port-double-hyphen": (
        policy(ingress_from(ports=[{"port": "my--port"}])), "spec.ingress[0].ports[0].port",
        "FieldValueInvalid", "must not contain consecutive hyphens"),
    "in-without-values": (
        policy({"podSelector": {"matchExpressions": [{"key": "tier", "operator": "In"}]}}),
        "spec.podSelector.matchExpressions[0].values", "FieldValueRequired",
        "Required value: must be specified when `operator` is 'In' or 'NotIn'"),
    "exists-with-values": (
        policy({"podSelector": {"matchExpressions": [{"key": "tier", "operator": "Exists", "values": ["a"]}]}}),
        "spec.podSelector.matchExpressions[0].values", "FieldValueForbidden",
        "Forbidden: may not be specified when `operator` is 'Exists' or 'DoesNotExist'"),
    "unknown-operator": (
        policy({"podSelector": {"matchExpressions": [{"key": "tier", "operator": "Equals", "values": ["a"]}]}}),
        "spec.podSelector.matchExpressions[0].operator", "FieldValueInvalid",
        'Invalid value: "Equals": not a valid selector operator'),
    "bad-label-key": (
        policy({"podSelector": {"matchLabels": {"tier!": "db"}}}), "spec.podSelector.matchLabels",
        "FieldValueInvalid", 'Invalid value: "tier!": name part must consist of alphanumeric characters'),
    "label-key-two-slashes": (
        policy(ingress_from({"namespaceSelector": {"matchLabels": {"a/b/c": "x"}}})),
        "spec.ingress[0].from[0].namespaceSelector.matchLabels", "FieldValueInvalid", "a valid label key must consist"),
    "bad-label-value": (
        policy({"podSelector": {"matchLabels": {"tier": "-db"}}}), "spec.podSelector.matchLabels",
        "FieldValueInvalid", 'Invalid value: "-db": a valid label must be an empty string'),
    "bad-expression-value": (
        policy({"podSelector": {"matchExpressions": [{"key": "tier", "operator": "In", "values": ["a b"]}]}}),
        "spec.podSelector.matchExpressions[0].values[0]", "FieldValueInvalid", 'Invalid value: "a b"'),
    "policy-type-lowercase": (
        policy({"podSelector": {}, "policyTypes": ["ingress"]}), "spec.policyTypes[0]", "FieldValueNotSupported",
        'Unsupported value: "ingress": supported values: "Ingress", "Egress"'),
    "three-policy-types": (
        policy({"podSelector": {}, "policyTypes": ["Ingress", "Egress", "Ingress"]}), "spec.policyTypes",
        "FieldValueInvalid", "may not specify more than two policyTypes"),
    "name-uppercase": (
        policy(name="Backend"), "metadata.name", "FieldValueInvalid",
        'Invalid value: "Backend": a lowercase RFC 1123 subdomain must consist of'),
    "name-missing": (
        {"metadata": {"namespace": "accounts"}, "spec": {}}, "metadata.name", "FieldValueRequired",
        "Required value: name or generateName is required"),
    "namespace-with-dots": (
        policy(namespace="team.accounts"), "metadata.namespace", "FieldValueInvalid",
        'Invalid value: "team.accounts": must not contain dots'),
    "bad-metadata-label": (
        policy(labels={"tier": "back end"}), "metadata.labels", "FieldValueInvalid", 'Invalid value: "back end"'),
    "negative-generation": (
        policy(generation=-1), "metadata.generation", "FieldValueInvalid",
        "Invalid value: -1: must be greater than or equal to 0"),
    # decoding (HTTP 400): wrong JSON types and, under strict field validation, unknown fields
    "recipe-namespace-capitalised": (
        {**policy(), "metadata": {"Namespace": "accounts", "name": "accounts-allow"}}, "metadata.Namespace",
        DECODE, 'unknown field "metadata.Namespace"'),
    "recipe-namespace-selector-capitalised": (
        policy(ingress_from({"NamespaceSelector": {"matchLabels": {"usage": "finance"}}})),
        "spec.ingress[0].from[0].NamespaceSelector", DECODE,
        'unknown field "spec.ingress[0].from[0].NamespaceSelector"'),
    "recipe-ports-as-mapping": (
        policy({"podSelector": {}, "ingress": [{"ports": {"port": 3111}}]}), "spec.ingress[0].ports", DECODE,
        "json: cannot unmarshal object into Go struct field NetworkPolicyIngressRule.spec.ingress.ports of type "
        "[]v1.NetworkPolicyPort"),
    "status-field": (
        {**policy(), "status": {}}, "status", DECODE, 'unknown field "status"'),
    "label-value-a-number": (
        policy({"podSelector": {"matchLabels": {"version": 1}}}), "spec.podSelector.matchLabels", DECODE,
        "json: cannot unmarshal number 1 into Go struct field LabelSelector.spec.podSelector.matchLabels of type "
        "string"),
    "endport-a-string": (
        policy(ingress_from(ports=[{"port": 80, "endPort": "90"}])), "spec.ingress[0].ports[0].endPort", DECODE,
        "cannot unmarshal string into Go struct field NetworkPolicyPort.spec.ingress.ports.endPort of type int32"),
    "port-a-bool": (
        policy(ingress_from(ports=[{"port": True}])), "spec.ingress[0].ports[0].port", DECODE,
        "cannot unmarshal bool into Go struct field NetworkPolicyPort.spec.ingress.ports.port of type "
        "intstr.IntOrString"),
    "spec-a-list": (
        {**policy(), "spec": []}, "spec", DECODE,
        "cannot unmarshal array into Go struct field NetworkPolicy.spec of type v1.NetworkPolicySpec"),
    "wrong-kind": (
        {**policy(), "kind": "Networkpolicy"}, "kind", DECODE, 'Invalid value: "Networkpolicy"'),
    "wrong-api-version": (
        {**policy(), "apiVersion": "extensions/v1beta1"}, "apiVersion", DECODE, 'Invalid value: "extensions/v1beta1"'),
}


@pytest.mark.parametrize("case", list(REJECTED.values()), ids=list(REJECTED))
def test_rejected(case: tuple[Any, str, str, str]) -> None:
    manifest, field, reason, message = case
    violations = validate(manifest)
    assert violations, "the API server refuses this manifest"
    first = violations[0]
    assert (first.field, first.reason) == (field, reason)
    assert message in first.message
    assert str(first) == f"{field}: {first.message}"


def test_decoding_stops_before_validation() -> None:
    manifest = policy({"podSelector": {"matchLabels": {"tier!": "x"}}, "ingres": []})
    assert validate(manifest) == [Violation("spec.ingres", 'unknown field "spec.ingres"', DECODE)]


def test_every_unknown_field_is_reported() -> None:
    manifest = {**policy(), "metadata": {"name": "x", "Namespace": "a"}, "status": {}}
    assert [v.field for v in decode_errors(manifest)] == ["metadata.Namespace", "status"]


def test_a_non_mapping_is_refused_whole() -> None:
    assert validate([1, 2]) == [Violation("", "json: cannot unmarshal array into Go value of type v1.NetworkPolicy",  # type: ignore[arg-type]
                                          DECODE)]


def test_all_violations_are_listed() -> None:
    manifest = policy(ingress_from({}, ports=[{"port": 0}, {"protocol": "ICMP"}]))
    fields = [v.field for v in validate(manifest)]
    assert fields == ["spec.ingress[0].ports[0].port", "spec.ingress[0].ports[1].protocol", "spec.ingress[0].from[0]"]


def test_validate_does_not_change_its_input() -> None:
    manifest = policy(ingress_from({"ipBlock": {"cidr": "10.0.0.0/8", "except": ["10.1.0.0/16"]}}))
    before = copy.deepcopy(manifest)
    validate(manifest)
    assert manifest == before


# The schema table, cross-checked against the kubernetes client's generated models (same OpenAPI source).
CLIENT_TYPES = {"string": "str", "int32": "int", "int64": "int", "Time": "datetime", "bool": "bool",
                "map[string]string": "Dict[str, str]", "IntOrString": "object", "RawJSON": "object"}


def client_type(go: str) -> str:
    if go.startswith("[]"):
        return f"List[{client_type(go[2:])}]"
    return CLIENT_TYPES.get(go, f"V1{go}")


@pytest.mark.parametrize("struct", sorted(STRUCTS))
def test_schema_matches_the_kubernetes_client_models(struct: str) -> None:
    model = getattr(k8s, f"V1{struct}")
    theirs = {wire: model.openapi_types[attr] for attr, wire in model.attribute_map.items()}
    ours = {name: client_type(go) for name, go in STRUCTS[struct].items()}
    assert ours == theirs


@pytest.mark.parametrize(("value", "ok"), [
    ("example.com/my-key", True), ("my.key_1", True), ("A", True), ("a" * 63, True), ("a" * 64, False),
    ("/key", False), ("example.com/", False), ("-key", False), ("key-", False), ("Example.com/key", False),
])
def test_label_key_syntax(value: str, ok: bool) -> None:
    assert (k8s_syntax.label_key(value) == []) is ok


@pytest.mark.parametrize(("value", "messages"), [
    ("10.0.0.0/8", []),
    ("10.0.0.0/08", ["must not have leading 0s in IP or prefix length"]),
    ("10.0.0.0/33", ["must be a valid CIDR value, (e.g. 10.9.8.0/24 or 2001:db8::/64)"]),
    ("10.0.0.256/8", ["must be a valid CIDR value, (e.g. 10.9.8.0/24 or 2001:db8::/64)"]),
    ("10.0.0.0/8\n", ["must be a valid CIDR value, (e.g. 10.9.8.0/24 or 2001:db8::/64)"]),
    ("2001:db8::/32", []),
    ("2001:db8::1/32", ["must not have bits set beyond the prefix length"]),
])
def test_cidr_syntax(value: str, messages: list[str]) -> None:
    assert k8s_syntax.cidr(value)[1] == messages


def test_regex_error_wording_matches_the_server() -> None:
    text = k8s_syntax.regex_error("m", "r", "a", "b")
    assert text == "m (e.g. 'a',  or 'b', regex used for validation is 'r')"
    assert re.fullmatch(r"m \(regex used for validation is 'r'\)", k8s_syntax.regex_error("m", "r"))
