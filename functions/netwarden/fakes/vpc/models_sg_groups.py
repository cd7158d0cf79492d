"""Security groups and their rules, with the validation IBM's VPC API applies.

Facts followed (ibm-vpc 0.36.0 ``create_security_group``, ``delete_security_group``,
``SecurityGroupRulePrototype`` and ``SecurityGroupRulePatch`` docstrings; ibm-cloud-docs/vpc
``security-groups-default.md``, ``security-groups-local-ip-addresses.md``, ``quotas.md``,
``api-change-log.md`` 14 May 2024 and 9 December 2025):

* every VPC has a default group with two rules, ``inbound-icmp-tcp-udp-from-this-security-group``
  (inbound icmp_tcp_udp from the group itself) and ``outbound-icmp-tcp-udp`` (outbound icmp_tcp_udp to
  0.0.0.0/0); it cannot be deleted while its VPC exists, and goes with the VPC;
* a group created without rules has none ("no traffic being allowed"); names are unique per VPC, rule
  names per group, omitted names are random words; 100 groups per VPC, 250 rules per group;
* a group still bound to a target, or the ``remote`` of another group's rule, cannot be deleted;
* a rule needs ``direction`` and ``protocol``; ``remote`` (CIDR block, IP address, or a group of the same
  VPC by id, crn or href) and ``local`` (CIDR block or IP address) default to 0.0.0.0/0, for every API
  version; tcp/udp ``port_min`` and ``port_max`` come together (1-65535, min not above max) or not at all,
  and a PATCH may set both to null; icmp ``type`` (0-254) and ``code`` (0-255, only with a type);
  fields another protocol does not use are refused, and so is ``protocol`` in a PATCH;
* ``protocol`` follows the request's ``version`` as ACL rules do (``models_acl.stored_protocol``):
  ``all`` until 2025-12-08, ``icmp_tcp_udp`` from 2025-12-09, the stored rule being the same; protocol
  numbers that have a name (6 is ``tcp``) are not valid ``number_N`` values (the SDK's enum lacks them).
"""

from __future__ import annotations

import re
from typing import Any

from netwarden.fakes.vpc.exceptions import BadField, Conflict, MissingField, OverQuota
from netwarden.fakes.vpc.models import (
    MAX_RULES_PER_SECURITY_GROUP,
    MAX_SECURITY_GROUPS_PER_VPC,
    Region,
    Vpc,
    body_object,
    check_ipv4,
    check_name,
    found,
    new_protocols,
    now,
    random_name,
    reject_unknown,
)
from netwarden.fakes.vpc.models_acl import PORT_PROTOCOLS, enum_field, int_field, stored_protocol
from netwarden.fakes.vpc.models_sg import ADDRESS, ANYWHERE, CIDR, GROUP, SecurityGroup, SecurityGroupRule

#: Protocol numbers the API names (the ``number_N`` values the SDK's ``ProtocolEnum`` leaves out).
NAMED_NUMBERS = {1: "icmp", 4: "ip_in_ip", 6: "tcp", 17: "udp", 46: "rsvp", 47: "gre", 50: "esp", 51: "ah",
                 112: "vrrp", 115: "l2tp", 132: "sctp"}
DEFAULT_RULES = ("inbound-icmp-tcp-udp-from-this-security-group", "outbound-icmp-tcp-udp")
_NUMBER = re.compile(r"^number_(\d{1,3})$")
_PORT_FIELDS = ("port_min", "port_max")
_ICMP_FIELDS = ("type", "code")
_PATCH_FIELDS = {"direction", "ip_version", "local", "name", "remote", *_PORT_FIELDS, *_ICMP_FIELDS}
_RULE_FIELDS = {*_PATCH_FIELDS, "protocol"}
_IDENTITY = frozenset({"id", "crn", "href"})


def group(region: Region, sg_id: str) -> SecurityGroup:
    return found(region.security_groups, sg_id, "Security group")


def groups_of_vpc(region: Region, vpc_id: str) -> list[SecurityGroup]:
    return [g for g in region.security_groups.values() if g.vpc_id == vpc_id]


def spelled_protocol(protocol: str, version: str) -> str:
    """A stored protocol as a client of ``version`` reads it. Security groups only allow, so the ACLs'
    legacy deny-all case does not arise: only ``icmp_tcp_udp`` is spelled ``all`` before 2025-12-09."""
    return "all" if protocol == "icmp_tcp_udp" and not new_protocols(version) else protocol


# --- the default group --------------------------------------------------------------------------------


def default_group(region: Region, vpc: Vpc) -> SecurityGroup:
    """A new VPC's default group (its id is the one the VPC was given), with IBM's two default rules."""
    sg = SecurityGroup(vpc.default_security_group_id, random_name(), vpc.id, vpc.resource_group_id, now())
    inbound, outbound = DEFAULT_RULES
    sg.rules.append(SecurityGroupRule(region.new_id(), inbound, "inbound", "icmp_tcp_udp", (GROUP, sg.id),
                                      ANYWHERE, now()))
    sg.rules.append(SecurityGroupRule(region.new_id(), outbound, "outbound", "icmp_tcp_udp", ANYWHERE, ANYWHERE,
                                      now()))
    return sg


# --- groups ---------------------------------------------------------------------------------------------


def create_group(region: Region, body: Any, version: str) -> SecurityGroup:
    """``POST /security_groups``: in a VPC, optionally with rules, all validated before any is kept."""
    body = body_object(body)
    reject_unknown(body, {"vpc", "name", "resource_group", "rules"})
    if body.get("vpc") is None:
        raise MissingField("vpc is required", field="vpc")
    vpc = region.vpc(region.referenced("vpc", body["vpc"], "vpc"))
    in_vpc = groups_of_vpc(region, vpc.id)
    if len(in_vpc) >= MAX_SECURITY_GROUPS_PER_VPC:
        raise OverQuota(f"VPC {vpc.id} already has {MAX_SECURITY_GROUPS_PER_VPC} security groups (quota)")
    name = check_name(body["name"]) if body.get("name") is not None else random_name()
    region.unique_name(name, [g.name for g in in_vpc], "security group")
    resource_group = region.cloud.resource_group(body.get("resource_group"))
    rules = body.get("rules") or []
    if not isinstance(rules, list):
        raise BadField("rules must be an array", field="rules")
    if len(rules) > MAX_RULES_PER_SECURITY_GROUP:
        raise OverQuota(f"a security group holds at most {MAX_RULES_PER_SECURITY_GROUP} rules (quota)", field="rules")
    sg = SecurityGroup(region.new_id(), name, vpc.id, resource_group.id, now())
    for i, raw in enumerate(rules):
        sg.rules.append(rule_from_prototype(region, sg, raw, version, where=f"rules[{i}]."))
    region.security_groups[sg.id] = sg
    return sg


def update_group(region: Region, sg_id: str, body: Any) -> SecurityGroup:
    sg = group(region, sg_id)
    body = body_object(body)
    reject_unknown(body, {"name"})
    if body.get("name") is not None:
        name = check_name(body["name"])
        region.unique_name(name, [g.name for g in groups_of_vpc(region, sg.vpc_id) if g.id != sg.id],
                           "security group")
        sg.name = name
    return sg


def delete_group(region: Region, sg_id: str) -> SecurityGroup:
    sg = group(region, sg_id)
    if region.vpc(sg.vpc_id).default_security_group_id == sg.id:
        raise Conflict(f"security group {sg.id} is the default security group of VPC {sg.vpc_id}")
    bound = [t.id for t in region.targets.values() if sg.id in t.security_group_ids]
    if bound:
        raise Conflict(f"security group {sg.id} still has targets: {', '.join(bound)}")
    for other in region.security_groups.values():
        for r in other.rules:
            if other.id != sg.id and r.remote == (GROUP, sg.id):
                raise Conflict(f"security group {sg.id} is the remote of rule {r.name} of security group "
                               f"{other.name}")
    return region.security_groups.pop(sg.id)


def delete_groups_of_vpc(region: Region, vpc_id: str) -> None:
    """Deleting a VPC deletes its security groups, the default one included."""
    for sg in groups_of_vpc(region, vpc_id):
        del region.security_groups[sg.id]


# --- rule fields ----------------------------------------------------------------------------------------


def _protocol(value: Any, version: str) -> str:
    protocol, _ = stored_protocol(value, "allow", version)
    number = _NUMBER.match(protocol)
    if number and int(number.group(1)) in NAMED_NUMBERS:
        named = NAMED_NUMBERS[int(number.group(1))]
        raise BadField(f"protocol {protocol} has a name: use `{named}`", field="protocol", value=protocol)
    return protocol


def _unused_fields(body: dict[str, Any], protocol: str, shown: str, where: str) -> None:
    used = _PORT_FIELDS if protocol in PORT_PROTOCOLS else _ICMP_FIELDS if protocol == "icmp" else ()
    for key in (*_PORT_FIELDS, *_ICMP_FIELDS):
        if key in body and key not in used:
            raise BadField(f"{where}{key} is not used by protocol {shown}", field=f"{where}{key}")


def _ports(body: dict[str, Any], current: tuple[int, int] | None, *, patch: bool,
           where: str) -> tuple[int, int] | None:
    """``port_min``/``port_max``: both or neither when creating; in a PATCH each may change or be null, and
    the result must again be both or neither."""
    low: int | None = current[0] if current else None
    high: int | None = current[1] if current else None
    if not patch:
        low = high = None
    for key in _PORT_FIELDS:
        if key in body and (patch or body[key] is not None):
            value = None if body[key] is None else int_field(body[key], f"{where}{key}", 1, 65535)
            low, high = (value, high) if key == "port_min" else (low, value)
    if (low is None) != (high is None):
        missing = "port_max" if high is None else "port_min"
        raise BadField(f"{where}port_min and {where}port_max must be given together ({missing} is missing)",
                       field=f"{where}{missing}")
    if low is None or high is None:
        return None
    if low > high:
        raise BadField(f"{where}port_min ({low}) must not be larger than {where}port_max ({high})",
                       field=f"{where}port_min", value=low)
    return low, high


def _icmp(body: dict[str, Any], current: tuple[int | None, int | None],
          where: str) -> tuple[int | None, int | None]:
    icmp_type, icmp_code = current
    if "type" in body:
        icmp_type = None if body["type"] is None else int_field(body["type"], f"{where}type", 0, 254)
    if "code" in body:
        icmp_code = None if body["code"] is None else int_field(body["code"], f"{where}code", 0, 255)
    if icmp_code is not None and icmp_type is None:
        raise BadField("an ICMP `code` can only be given with a `type`", field=f"{where}code", value=icmp_code)
    return icmp_type, icmp_code


def _endpoint(region: Region, vpc_id: str, value: Any, field_name: str, *, remote: bool) -> tuple[str, str]:
    """A ``remote`` (CIDR block, IP address or security group identity) or ``local`` (CIDR block or IP
    address) -> ``(kind, value)``."""
    kinds = "a CIDR block, an IP address or a security group" if remote else "a CIDR block or an IP address"
    if not isinstance(value, dict) or not value:
        raise BadField(f"{field_name} must be {kinds}", field=field_name)
    if set(value) in ({CIDR}, {ADDRESS}):
        kind = CIDR if CIDR in value else ADDRESS
        text = check_ipv4(value[kind], f"{field_name}.{kind}")
        if (kind == CIDR) != ("/" in text):
            shape = "a CIDR block (address/prefix)" if kind == CIDR else "one address, without a prefix"
            raise BadField(f"{field_name}.{kind} {text!r} must be {shape}", field=f"{field_name}.{kind}", value=text)
        return kind, text
    if remote and set(value) <= _IDENTITY:
        other = group(region, region.referenced("security_group", value, field_name))
        if other.vpc_id != vpc_id:
            raise BadField(f"{field_name}: security group {other.id} belongs to another VPC",
                           field=f"{field_name}.id", value=other.id)
        return GROUP, other.id
    raise BadField(f"{field_name} must be {kinds}", field=field_name)


def _direction(value: Any, where: str) -> str:
    return enum_field(value, f"{where}direction", ("inbound", "outbound"))


def _ip_version(body: dict[str, Any], where: str) -> None:
    if body.get("ip_version", "ipv4") != "ipv4":
        raise BadField("ip_version must be ipv4", field=f"{where}ip_version", value=body.get("ip_version"))


def _name(region: Region, sg: SecurityGroup, value: Any, where: str, rule_id: str | None = None) -> str:
    name = check_name(value, f"{where}name")
    region.unique_name(name, [r.name for r in sg.rules if r.id != rule_id], "security group rule", f"{where}name")
    return name


def rule_from_prototype(region: Region, sg: SecurityGroup, body: Any, version: str, *,
                        where: str = "") -> SecurityGroupRule:
    """A new rule of ``sg`` from a ``SecurityGroupRulePrototype`` (not yet added to the group)."""
    body = body_object(body)
    reject_unknown(body, _RULE_FIELDS, where)
    for key in ("direction", "protocol"):
        if body.get(key) is None:
            raise MissingField(f"rule property {where}{key} is required", field=f"{where}{key}")
    direction = _direction(body["direction"], where)
    _ip_version(body, where)
    protocol = _protocol(body["protocol"], version)
    _unused_fields(body, protocol, str(body["protocol"]), where)
    ports = _ports(body, None, patch=False, where=where) if protocol in PORT_PROTOCOLS else None
    icmp_type, icmp_code = _icmp(body, (None, None), where) if protocol == "icmp" else (None, None)
    remote = ANYWHERE if body.get("remote") is None else _endpoint(region, sg.vpc_id, body["remote"],
                                                                   f"{where}remote", remote=True)
    local = ANYWHERE if body.get("local") is None else _endpoint(region, sg.vpc_id, body["local"],
                                                                 f"{where}local", remote=False)
    name = _name(region, sg, body["name"], where) if body.get("name") is not None else random_name()
    return SecurityGroupRule(region.new_id(), name, direction, protocol, remote, local, now(), ports, icmp_type,
                             icmp_code)


# --- rules ------------------------------------------------------------------------------------------------


def create_rule(region: Region, sg_id: str, body: Any, version: str) -> SecurityGroupRule:
    sg = group(region, sg_id)
    if len(sg.rules) >= MAX_RULES_PER_SECURITY_GROUP:
        raise OverQuota(f"security group {sg.id} already has {MAX_RULES_PER_SECURITY_GROUP} rules (quota)")
    rule = rule_from_prototype(region, sg, body, version)
    sg.rules.append(rule)
    return rule


def update_rule(region: Region, sg_id: str, rule_id: str, body: Any, version: str) -> SecurityGroupRule:
    """A merge-patch of one rule: validated whole, applied whole (nothing changes on an error)."""
    sg = group(region, sg_id)
    rule = sg.rule(rule_id)
    body = body_object(body)
    if "protocol" in body:
        raise BadField("protocol cannot be updated: delete the rule and create another", field="protocol")
    reject_unknown(body, _PATCH_FIELDS)
    _unused_fields(body, rule.protocol, spelled_protocol(rule.protocol, version), "")
    _ip_version(body, "")
    direction = _direction(body["direction"], "") if "direction" in body else rule.direction
    remote, local = rule.remote, rule.local
    if "remote" in body:
        remote = _endpoint(region, sg.vpc_id, body["remote"], "remote", remote=True)
    if "local" in body:
        local = _endpoint(region, sg.vpc_id, body["local"], "local", remote=False)
    ports = _ports(body, rule.ports, patch=True, where="") if rule.protocol in PORT_PROTOCOLS else None
    icmp = _icmp(body, (rule.icmp_type, rule.icmp_code), "") if rule.protocol == "icmp" else (None, None)
    name = _name(region, sg, body["name"], "", rule.id) if body.get("name") is not None else rule.name
    rule.direction, rule.remote, rule.local, rule.ports, rule.name = direction, remote, local, ports, name
    rule.icmp_type, rule.icmp_code = icmp
    return rule


def delete_rule(region: Region, sg_id: str, rule_id: str) -> SecurityGroupRule:
    sg = group(region, sg_id)
    rule = sg.rule(rule_id)
    sg.rules.remove(rule)
    return rule
