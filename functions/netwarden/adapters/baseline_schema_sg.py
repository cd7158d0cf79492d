"""One security group file of a baseline (``vpc/<region>/<vpc>/security-groups/<group>.yaml``), checked
field by field and turned into a ``SecurityGroup``.

A group's rules are a set: the file lists them in any order, the model holds them in canonical order,
and the same rule twice is an error (at the second one's line), because a reviewer who deletes one copy
would expect the rule gone. Every problem names the file, the line and the field, as the other baseline
files' do (``baseline_schema``); sources are made for lint and the reports (the group, its ``rules:``
and ``targets:`` keys, each rule by what it allows, each target by its text).
"""

from __future__ import annotations

from typing import Any

from netwarden.adapters.baseline_schema import (
    Sources,
    describe,
    fail,
    ibm_name,
    integer,
    ipv4_cidr,
    mapping,
    protocol_field,
    string,
)
from netwarden.adapters.yaml_io import PathKey, YamlDoc, dotted
from netwarden.core import lint, normalize, sg_rules
from netwarden.core.errors import Location, shown
from netwarden.core.lint_findings import list_subject, sg_target_subject
from netwarden.core.model import MANAGED_BY, SecurityGroup, SgRule, SgTarget

GROUP_KEYS = ("name", "managed_by", "rules", "targets")
TARGET_KEYS = ("type", "name")
#: The ``resource_type`` of every kind of security group target the VPC API has.
TARGET_TYPES = ("network_interface", "virtual_network_interface", "bare_metal_server_network_interface",
                "endpoint_gateway", "load_balancer", "vpn_server")


def parse_security_group(doc: YamlDoc, scope: tuple[str, str], stem: str, sources: Sources | None,
                         cache: dict[str, str]) -> SecurityGroup:
    data = mapping(doc, (), doc.data, GROUP_KEYS, "a mapping with name, managed_by, rules and targets")
    if "name" not in data:
        raise fail(doc, (), "missing: a security group file needs its name", "name")
    name = ibm_name(doc, ("name",), data["name"], "security group")
    if name != stem:
        raise fail(doc, ("name",), f"security group name {shown(name)} does not match the file name {stem}.yaml")
    managed_by = data.get("managed_by", "user")
    if managed_by not in MANAGED_BY:
        raise fail(doc, ("managed_by",), f"{shown(managed_by)} is not one of {', '.join(MANAGED_BY)} (ibm: one of "
                                         "the groups IBM creates and edits for a cluster)")
    if sources is not None:
        sources[lint.sg_subject(*scope, name)] = Location(doc.file, doc.line(("name",)))
        for key in ("rules", "targets"):
            if key in data:
                sources[list_subject(lint.sg_subject(*scope, name), key)] = Location(doc.file, doc.line((key,)))
    rules: list[SgRule] = []
    seen: dict[SgRule, int] = {}
    for index, raw in enumerate(_list(doc, ("rules",), data.get("rules"), "rules")):
        rule = parse_sg_rule(doc, ("rules", index), raw, cache)
        if rule in seen:
            raise fail(doc, ("rules", index), f"duplicate rule (also rules[{seen[rule]}]): a group's rules are a set")
        seen[rule] = index
        if sources is not None:
            sources[lint.sg_rule_subject(*scope, name, rule)] = Location(doc.file, doc.line(("rules", index)))
        rules.append(rule)
    targets: list[SgTarget] = []
    for index, raw in enumerate(_list(doc, ("targets",), data.get("targets"), "targets")):
        path: PathKey = ("targets", index)
        entry = mapping(doc, path, raw, TARGET_KEYS, "a target (type, name)")
        for key in TARGET_KEYS:
            if key not in entry:
                raise fail(doc, path, "missing: a target needs its type and name", dotted((*path, key)))
        kind = string(doc, (*path, "type"), entry["type"])
        if kind not in TARGET_TYPES:
            raise fail(doc, (*path, "type"), f"{shown(kind)} is not a target type (expected {', '.join(TARGET_TYPES)})")
        target = SgTarget(type=kind, name=ibm_name(doc, (*path, "name"), entry["name"], "target"))
        if target in targets:
            raise fail(doc, (*path, "name"), f"duplicate target {sg_rules.target_text(target)}")
        if sources is not None:
            subject = sg_target_subject(*scope, name, sg_rules.target_text(target))
            sources[subject] = Location(doc.file, doc.line(path))
        targets.append(target)
    return sg_rules.group(name, rules, targets, managed_by=managed_by)


def _list(doc: YamlDoc, path: PathKey, raw: Any, what: str) -> list[Any]:
    if raw is None:
        return []
    if not isinstance(raw, list):
        raise fail(doc, path, f"expected a list of {what}, got {describe(raw)}")
    return raw


def parse_sg_rule(doc: YamlDoc, path: PathKey, raw: Any, cache: dict[str, str]) -> SgRule:
    data = mapping(doc, path, raw, sg_rules.RULE_KEYS, "a rule (a mapping)")
    for key in ("direction", "protocol"):
        if key not in data:
            raise fail(doc, path, "missing: a rule needs direction, protocol and remote or remote_group",
                       dotted((*path, key)))
    if ("remote" in data) == ("remote_group" in data):
        raise fail(doc, path, "a rule needs exactly one of remote (a CIDR or address; 0.0.0.0/0 for anywhere) and "
                              "remote_group (a group of the VPC, by name)", dotted((*path, "remote")))
    protocol = protocol_field(doc, (*path, "protocol"), data["protocol"])
    ports = data.get("ports")
    if ports is not None and (isinstance(ports, bool) or not isinstance(ports, int | str)):
        raise fail(doc, (*path, "ports"), f"expected a port (443) or a range ('30000-32767'), got {describe(ports)}")
    try:
        port_range = normalize.port_range(ports, field="ports")
        group = data.get("remote_group")
        return sg_rules.sg_rule(
            direction=string(doc, (*path, "direction"), data["direction"]),
            protocol_=protocol,
            remote=ipv4_cidr(doc, (*path, "remote"), data["remote"], cache) if "remote" in data else None,
            remote_group=None if group is None else ibm_name(doc, (*path, "remote_group"), group, "security group"),
            local=ipv4_cidr(doc, (*path, "local"), data["local"], cache) if data.get("local") is not None else None,
            ports=port_range,
            icmp_type=integer(doc, (*path, "type"), data["type"]) if data.get("type") is not None else None,
            icmp_code=integer(doc, (*path, "code"), data["code"]) if data.get("code") is not None else None,
        )
    except normalize.NormalizeError as e:
        raise fail(doc, (*path, e.field), e.message) from e
