"""One baseline file at a time: its YAML checked field by field and turned into model values.

``baseline_fs`` finds the files and checks what spans several of them (a subnet naming an ACL the
baseline lacks, a policy in a namespace it does not declare); this module owns the content of each
kind of file. Every problem is a ``BaselineError`` whose ``Location`` names the file, the line and
the field (``rules[3].destination_port``), with a message that says what is wrong and what is
expected. Every file also yields source entries (``Subject`` -> ``Location``), so that a lint
finding about a model value can be reported at the line it came from; a read that is not for lint
passes ``sources=None`` and none are made (at 100,000 rules they are a tenth of the work).

What is checked is what the APIs would refuse: IBM Cloud names, protocols, IPv4 CIDRs without host
bits, port bounds and order, ICMP type/code pairing, ``deny`` with ``icmp_tcp_udp`` (the VPC API
refuses it; a legacy ``deny`` + ``all`` is what the API now shows as ``any``, and is read as such);
and for NetworkPolicies everything ``core.netpol.validate`` finds, as the Kubernetes API server would.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Mapping
from typing import Any

from netwarden.adapters.yaml_io import PathKey, YamlDoc, dotted
from netwarden.core import lint, normalize
from netwarden.core.acl.evaluate import PROTOCOL_CHOICES, protocol_numbers
from netwarden.core.errors import BaselineError, Location, shown
from netwarden.core.lint_findings import list_subject
from netwarden.core.model import AclRule, Namespace, NetworkAcl, NetworkPolicy, Subnet
from netwarden.core.netpol import syntax
from netwarden.core.netpol import validate as netpol_validate

Sources = dict[lint.Subject, Location]

#: IBM Cloud VPC resource names (ACLs, rules, subnets, gateways, VPCs): 1-63 characters.
IBM_NAME = re.compile(r"-?([a-z]|[a-z][-a-z0-9]*[a-z0-9]|[0-9][-a-z0-9]*([a-z]|[-a-z][-a-z0-9]*[a-z0-9]))")
ACL_KEYS = ("name", "rules")
RULE_KEYS = ("name", "action", "direction", "protocol", "source", "destination",
             "destination_port", "source_port", "type", "code")
RULE_REQUIRED = RULE_KEYS[:6]
SUBNET_KEYS = ("network_acl", "public_gateway", "zone", "cidr")
VPC_KEYS = ("default_network_acl", "public_gateways", "default_security_group")
METADATA_NAME_LABEL = "kubernetes.io/metadata.name"


def fail(doc: YamlDoc, path: PathKey, message: str, field: str | None = None) -> BaselineError:
    return BaselineError(message, location=doc.where(path, field))


def describe(value: Any) -> str:
    if value is None:
        return "nothing"
    if isinstance(value, bool):
        return "true/false"
    if isinstance(value, int | float):
        return f"the number {value}"
    if isinstance(value, str):
        return "a string"
    return "a mapping" if isinstance(value, Mapping) else "a list" if isinstance(value, list) else type(value).__name__


def mapping(doc: YamlDoc, path: PathKey, value: Any, allowed: tuple[str, ...] | None = None,
            what: str = "a mapping") -> dict[Any, Any]:
    """``value`` as a mapping; with ``allowed``, a key outside it is an error at that key's line."""
    if not isinstance(value, dict):
        raise fail(doc, path, f"expected {what}, got {describe(value)}", dotted(path) or "(top level)")
    if allowed is not None:
        for key in value:
            if key not in allowed:
                raise fail(doc, (*path, key), f"unknown key (expected one of: {', '.join(allowed)})")
    return value


def string(doc: YamlDoc, path: PathKey, value: Any) -> str:
    if not isinstance(value, str) or not value:
        raise fail(doc, path, f"expected a non-empty string, got {describe(value)}")
    return value


def ibm_name(doc: YamlDoc, path: PathKey, value: Any, what: str) -> str:
    name = string(doc, path, value)
    if len(name) > 63 or not IBM_NAME.fullmatch(name):
        raise fail(doc, path, f"{shown(name)} is not a valid IBM Cloud {what} name (1-63 lowercase letters, digits and "
                              "hyphens, starting with a letter)")
    return name


def integer(doc: YamlDoc, path: PathKey, value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise fail(doc, path, f"expected a whole number, got {describe(value)}")
    return value


def ipv4_cidr(doc: YamlDoc, path: PathKey, value: Any, cache: dict[str, str] | None = None) -> str:
    """A canonical IPv4 CIDR (``10.0.0.1`` -> ``10.0.0.1/32``); host bits set are an error."""
    text = string(doc, path, value)
    if cache is not None and text in cache:
        return cache[text]
    try:
        out = normalize.cidr(text, field=str(path[-1]))
    except normalize.NormalizeError as e:
        raise fail(doc, path, e.message) from e
    if ipaddress.ip_network(out).version != 4:
        raise fail(doc, path, f"{shown(text)} is IPv6: IBM VPC network ACLs and subnets here are IPv4")
    if cache is not None:
        cache[text] = out
    return out


# --- vpc/<region>/<vpc>/network-acls/<acl>.yaml ---------------------------------------------------


def parse_acl(doc: YamlDoc, scope: tuple[str, str], stem: str, sources: Sources | None,
              cache: dict[str, str]) -> NetworkAcl:
    data = mapping(doc, (), doc.data, ACL_KEYS, "a mapping with name and rules")
    if "name" not in data:
        raise fail(doc, (), "missing: an ACL file needs its name", "name")
    name = ibm_name(doc, ("name",), data["name"], "network ACL")
    if name != stem:
        raise fail(doc, ("name",), f"ACL name {shown(name)} does not match the file name {stem}.yaml")
    raw_rules = [] if data.get("rules") is None else data["rules"]
    if not isinstance(raw_rules, list):
        raise fail(doc, ("rules",), f"expected a list of rules, got {describe(raw_rules)}")
    if sources is not None:
        sources[lint.acl_subject(*scope, name)] = Location(doc.file, doc.line(("name",)))
        if "rules" in data:
            sources[list_subject(lint.acl_subject(*scope, name), "rules")] = Location(doc.file, doc.line(("rules",)))
    rules: list[AclRule] = []
    seen: dict[str, int] = {}
    for index, raw in enumerate(raw_rules):
        rule = parse_rule(doc, ("rules", index), raw, cache)
        if rule.name in seen:
            raise fail(doc, ("rules", index, "name"),
                       f"duplicate rule name {shown(rule.name)} (also rules[{seen[rule.name]}]); rule names are unique "
                       "within an ACL")
        seen[rule.name] = index
        if sources is not None:
            sources[lint.rule_subject(*scope, name, index)] = Location(doc.file, doc.line(("rules", index)))
        rules.append(rule)
    return NetworkAcl(name=name, rules=tuple(rules))


def protocol_field(doc: YamlDoc, path: PathKey, value: Any) -> str:
    """A protocol a VPC rule (ACL or security group) can have, as written."""
    protocol = string(doc, path, value)
    try:
        protocol_numbers(protocol)
    except normalize.NormalizeError as e:
        raise fail(doc, path, f"{e.message} (expected {PROTOCOL_CHOICES})") from e
    return protocol


def parse_rule(doc: YamlDoc, path: PathKey, raw: Any, cache: dict[str, str]) -> AclRule:
    data = mapping(doc, path, raw, RULE_KEYS, "a rule (a mapping)")
    for key in RULE_REQUIRED:
        if key not in data:
            raise fail(doc, path, f"missing: a rule needs {', '.join(RULE_REQUIRED)}", dotted((*path, key)))
    name = ibm_name(doc, (*path, "name"), data["name"], "rule")
    action = string(doc, (*path, "action"), data["action"])
    protocol = protocol_field(doc, (*path, "protocol"), data["protocol"])
    if action == "deny" and protocol == "icmp_tcp_udp":
        raise fail(doc, (*path, "protocol"), "the VPC API refuses deny with protocol icmp_tcp_udp: use any to deny "
                                             "all traffic")
    if action == "deny" and protocol == "all":
        protocol = "any"  # the API shows a legacy deny/all rule as `any` from version 2025-12-09 on
    ports: dict[str, Any] = {}
    for key in ("destination_port", "source_port"):
        value = data.get(key)
        if value is not None and (isinstance(value, bool) or not isinstance(value, int | str)):
            raise fail(doc, (*path, key), f"expected a port (443) or a range ('30000-32767'), got {describe(value)}")
        try:
            ports[key] = normalize.port_range(value, field=key)
        except normalize.NormalizeError as e:
            raise fail(doc, (*path, key), e.message) from e
    icmp = {key: integer(doc, (*path, key), data[key]) if data.get(key) is not None else None
            for key in ("type", "code")}
    try:
        rule = normalize.acl_rule(
            name=name,
            action=action,
            direction=string(doc, (*path, "direction"), data["direction"]),
            protocol_=protocol,
            source=ipv4_cidr(doc, (*path, "source"), data["source"], cache),
            destination=ipv4_cidr(doc, (*path, "destination"), data["destination"], cache),
            destination_port=ports["destination_port"],
            source_port=ports["source_port"],
            icmp_type=icmp["type"],
            icmp_code=icmp["code"],
        )
    except normalize.NormalizeError as e:
        raise fail(doc, (*path, e.field), e.message) from e
    return rule


# --- vpc/<region>/<vpc>/subnets.yaml and vpc.yaml --------------------------------------------------


def parse_subnets(doc: YamlDoc, region: str, scope: tuple[str, str], sources: Sources | None) -> list[Subnet]:
    data = {} if doc.data is None else mapping(doc, (), doc.data, None, "a mapping of subnet name -> attachments")
    out = []
    for name, raw in data.items():
        path: PathKey = (name,)
        ibm_name(doc, path, name, "subnet")
        item = mapping(doc, path, raw, SUBNET_KEYS, "a mapping with network_acl (and public_gateway, zone, cidr)")
        if "network_acl" not in item:
            raise fail(doc, path, "missing: every subnet has exactly one network ACL", dotted((*path, "network_acl")))
        gateway = item.get("public_gateway")
        zone = item.get("zone")
        if zone is not None and not string(doc, (*path, "zone"), zone).startswith(f"{region}-"):
            raise fail(doc, (*path, "zone"), f"zone {shown(zone)} is not a zone of region {region}")
        cidr = item.get("cidr")
        out.append(Subnet(
            name=name,
            network_acl=ibm_name(doc, (*path, "network_acl"), item["network_acl"], "network ACL"),
            public_gateway=None if gateway is None else ibm_name(doc, (*path, "public_gateway"), gateway,
                                                                 "public gateway"),
            zone=zone,
            cidr=None if cidr is None else ipv4_cidr(doc, (*path, "cidr"), cidr),
        ))
        if sources is None:
            continue
        sources[lint.subnet_subject(*scope, name)] = Location(doc.file, doc.line(path))
        for key in item:
            sources[lint.subnet_subject(*scope, name, key)] = Location(doc.file, doc.line((*path, key)))
    return out


def parse_vpc_meta(doc: YamlDoc) -> tuple[str | None, tuple[str, ...] | None, str | None]:
    """``vpc.yaml``: the default ACL's name, the public gateways (None when absent), the default group's name."""
    data = {} if doc.data is None else mapping(doc, (), doc.data, VPC_KEYS)
    default = data.get("default_network_acl")
    default = None if default is None else ibm_name(doc, ("default_network_acl",), default, "network ACL")
    group = data.get("default_security_group")
    group = None if group is None else ibm_name(doc, ("default_security_group",), group, "security group")
    gateways = data.get("public_gateways")
    if gateways is None:
        return default, None, group
    if not isinstance(gateways, list):
        raise fail(doc, ("public_gateways",), f"expected a list of public gateway names, got {describe(gateways)}")
    names = [ibm_name(doc, ("public_gateways", i), g, "public gateway") for i, g in enumerate(gateways)]
    for i, name in enumerate(names):
        if name in names[:i]:
            raise fail(doc, ("public_gateways", i), f"duplicate public gateway {shown(name)}")
    return default, tuple(sorted(names)), group


# --- kubernetes/<cluster>/namespaces.yaml (workloads.yaml: baseline_workloads) ---------------------


def k8s_labels(doc: YamlDoc, path: PathKey, raw: Any) -> dict[str, str]:
    """Labels as the API server accepts them: string keys and values of the label syntax."""
    data = {} if raw is None else mapping(doc, path, raw, None, "a mapping of label -> value")
    for key, value in data.items():
        if not isinstance(key, str) or not isinstance(value, str):
            bad = key if not isinstance(key, str) else value
            where = path if not isinstance(key, str) else (*path, key)
            raise fail(doc, where, f"expected string labels, got {describe(bad)} (quote it: \"{bad}\")")
        problems: list[netpol_validate.Violation] = []
        netpol_validate.labels({key: value}, dotted(path), problems)
        if problems:
            raise fail(doc, (*path, key), problems[0].message)
    return normalize.labels(data)


def namespace_name(doc: YamlDoc, path: PathKey, value: Any) -> str:
    name = string(doc, path, value)
    messages = syntax.dns1123_label(name)
    if messages:
        raise fail(doc, path, f"{shown(name)} is not a valid namespace name: {messages[0]}")
    return name


def parse_namespaces(doc: YamlDoc, cluster: str, sources: Sources | None) -> list[Namespace]:
    data = {} if doc.data is None else mapping(doc, (), doc.data, None, "a mapping of namespace -> labels")
    out = []
    for name, raw in data.items():
        namespace_name(doc, (name,), name)
        labels = k8s_labels(doc, (name,), raw)
        if labels.get(METADATA_NAME_LABEL, name) != name:
            raise fail(doc, (name, METADATA_NAME_LABEL), f"the API server sets {METADATA_NAME_LABEL} to the "
                                                         f"namespace's name ({shown(name)})")
        if sources is not None:
            sources[lint.namespace_subject(cluster, name)] = Location(doc.file, doc.line((name,)))
        out.append(Namespace(name=name, labels=labels))
    return out


# --- kubernetes/<cluster>/<namespace>/<policy>.yaml ----------------------------------------------


_FIELD_PART = re.compile(r"([^.\[\]]+)|\[(\d+)\]")


def field_path(field: str) -> PathKey:
    """``spec.ingress[0].from[1]`` -> ``("spec", "ingress", 0, "from", 1)``."""
    return tuple(int(m.group(2)) if m.group(2) is not None else m.group(1) for m in _FIELD_PART.finditer(field))


def parse_policy(doc: YamlDoc, cluster: str, namespace: str, stem: str, sources: Sources | None) -> NetworkPolicy:
    data = mapping(doc, (), doc.data, None, "a NetworkPolicy manifest")
    for key, expected in (("apiVersion", netpol_validate.API_VERSION), ("kind", netpol_validate.KIND)):
        if key not in data:
            raise fail(doc, (), f"missing: a manifest kubectl can apply needs {key}: {expected}", key)
    violations = netpol_validate.stored(netpol_validate.validate(data))
    if violations:
        first = violations[0]
        raise fail(doc, field_path(first.field), first.message, first.field or None)
    meta = data.get("metadata") or {}
    name = meta.get("name")
    if not name:
        raise fail(doc, ("metadata",), "missing: the policy's name (generateName cannot name a baseline file)",
                   "metadata.name")
    if name != stem:
        raise fail(doc, ("metadata", "name"), f"policy name {shown(name)} does not match the file name {stem}.yaml")
    if meta.get("namespace") not in (None, "", namespace):
        raise fail(doc, ("metadata", "namespace"), f"namespace {shown(meta['namespace'])} does not match the directory "
                                                   f"{namespace}/ the file is in")
    spec = data.get("spec") or {}
    policy = NetworkPolicy(namespace=namespace, name=name, spec=normalize.netpol_spec(spec),
                           labels=normalize.labels(meta.get("labels")))
    if sources is not None:
        _policy_sources(doc, lint.policy_subject(cluster, namespace, name), spec, sources)
    return policy


def _policy_sources(doc: YamlDoc, subject: lint.Subject, spec: Mapping[str, Any], sources: Sources) -> None:
    """Where the policy, each of its selectors and each selector key are, for lint findings."""
    sources[subject] = Location(doc.file, doc.line(("metadata", "name")))
    selectors: list[tuple[PathKey, Any]] = [(("spec", "podSelector"), spec.get("podSelector"))]
    for direction, peers in (("ingress", "from"), ("egress", "to")):
        for i, rule in enumerate(spec.get(direction) or []):
            for j, peer in enumerate((rule or {}).get(peers) or []):
                for kind in ("podSelector", "namespaceSelector"):
                    selectors.append((("spec", direction, i, peers, j, kind), (peer or {}).get(kind)))
    for path, selector in selectors:
        if selector is None:
            continue
        key = lint.selector_subject(subject, str(path[-1]), selector)
        sources.setdefault(key, Location(doc.file, doc.line(path), dotted(path)))
        for label in (selector.get("matchLabels") or {}):
            label_path = (*path, "matchLabels", label)
            sources.setdefault(lint.key_subject(subject, label), Location(doc.file, doc.line(label_path),
                                                                           dotted(label_path)))
        for k, expr in enumerate(selector.get("matchExpressions") or []):
            expr_path = (*path, "matchExpressions", k, "key")
            sources.setdefault(lint.key_subject(subject, (expr or {}).get("key") or ""),
                               Location(doc.file, doc.line(expr_path), dotted(expr_path)))
