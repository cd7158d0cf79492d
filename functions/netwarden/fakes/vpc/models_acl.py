"""Network ACLs and their ordered rules, with the validation IBM's VPC API applies.

One ordered list per ACL holds both directions, as IBM evaluates them. A rule created with
``before`` is inserted in front of that rule, without it at the end; a PATCH with ``before: {id}``
moves the rule, ``before: null`` moves it to the end. What is refused (``ibm-cloud-apis.md`` 1.5, 1.6
and section 6): ``deny`` with ``icmp_tcp_udp``; port bounds given alone or reversed; ports on a
protocol without ports; an ICMP ``code`` without ``type``; ``protocol`` in a PATCH; more than 200
rules per ACL or 100 ACLs per VPC; deleting a VPC's default ACL or an ACL still attached to a subnet.

Protocols follow the request's ``version``: before 2025-12-09 the three classic protocols are spelled
``all`` (and a deny ``all`` rule denies everything, so it is stored as ``any``); from that date they are
``icmp_tcp_udp``. The stored rule is the same, only its spelling changes.
"""

from __future__ import annotations

import re
from typing import Any

from netwarden.fakes.vpc.exceptions import BadField, Conflict, MissingField, OverQuota
from netwarden.fakes.vpc.models import (
    MAX_ACLS_PER_VPC,
    MAX_RULES_PER_ACL,
    Acl,
    Region,
    Rule,
    Vpc,
    body_object,
    check_ipv4,
    check_name,
    identity_id,
    new_protocols,
    random_name,
    reject_unknown,
)

PORT_PROTOCOLS = frozenset({"tcp", "udp"})
INDIVIDUAL_PROTOCOLS = frozenset({"ah", "esp", "gre", "ip_in_ip", "l2tp", "rsvp", "sctp", "vrrp"})
_NUMBER = re.compile(r"^number_(\d{1,3})$")
_PORT_FIELDS = ("destination_port_min", "destination_port_max", "source_port_min", "source_port_max")
_ICMP_FIELDS = ("type", "code")
_RULE_FIELDS = {"action", "destination", "direction", "source", "protocol", "name", "ip_version", "before",
                *_PORT_FIELDS, *_ICMP_FIELDS}
_PATCH_FIELDS = {"action", "before", "code", "destination", "destination_port_max", "destination_port_min",
                 "direction", "name", "source", "source_port_max", "source_port_min", "type"}


def default_acl(region: Region, vpc: Vpc) -> Acl:
    """A new VPC's default ACL: everything in, everything out."""
    acl = Acl(region.new_id(), random_name(), vpc.id, vpc.resource_group_id)
    for direction in ("inbound", "outbound"):
        acl.rules.append(Rule(region.new_id(), f"allow-{direction}", "allow", direction, "icmp_tcp_udp",
                              "0.0.0.0/0", "0.0.0.0/0"))
    return acl


# --- protocol vocabulary --------------------------------------------------------------------------


def stored_protocol(value: Any, action: str, version: str) -> tuple[str, bool]:
    """The protocol to store for a request's ``protocol`` and ``action``, and the legacy-all mark."""
    new = new_protocols(version)
    if not isinstance(value, str):
        raise BadField("protocol must be a string", field="protocol", value=value)
    if value == "all":
        if new:
            raise BadField("protocol `all` is not supported from version 2025-12-09: use `icmp_tcp_udp` to "
                           "allow, or `any` to deny", field="protocol", value=value)
        return ("any", True) if action == "deny" else ("icmp_tcp_udp", False)
    if value == "icmp_tcp_udp":
        if not new:
            raise BadField("protocol `icmp_tcp_udp` needs version 2025-12-09 or later (use `all`)",
                           field="protocol", value=value)
        if action == "deny":
            raise BadField("action must not be `deny` when protocol is `icmp_tcp_udp`: deny `any`, or deny "
                           "icmp, tcp and udp in three rules", field="action", value=action)
        return value, False
    number = _NUMBER.match(value)
    if number and int(number.group(1)) <= 255:
        return value, False
    if value in {"any", "icmp", "tcp", "udp"} | INDIVIDUAL_PROTOCOLS:
        return value, False
    raise BadField(f"protocol {value!r} is not supported", field="protocol", value=value)


def rendered_protocol(rule: Rule, version: str) -> str:
    """The spelling of a stored protocol for a client of ``version``."""
    if new_protocols(version):
        return rule.protocol
    if rule.protocol == "icmp_tcp_udp" or (rule.protocol == "any" and rule.legacy_all):
        return "all"
    return rule.protocol


# --- rule fields ------------------------------------------------------------------------------------


def enum_field(value: Any, field_name: str, allowed: tuple[str, ...]) -> str:
    if value not in allowed:
        raise BadField(f"{field_name} must be one of {', '.join(allowed)}", field=field_name, value=value)
    return str(value)


def int_field(value: Any, field_name: str, low: int, high: int) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or not low <= value <= high:
        raise BadField(f"{field_name} must be a whole number from {low} to {high}", field=field_name, value=value)
    return value


def _ports(body: dict[str, Any], prefix: str, current: tuple[int, int] | None,
           *, patch: bool) -> tuple[int, int] | None:
    low_key, high_key = f"{prefix}_port_min", f"{prefix}_port_max"
    has_low, has_high = low_key in body, high_key in body
    if not patch and has_low != has_high:
        missing = high_key if has_low else low_key
        raise BadField(f"{low_key} and {high_key} must be given together ({missing} is missing)",
                       field=missing)
    if not (has_low or has_high):
        return current if patch else (1, 65535)
    low = int_field(body[low_key], low_key, 1, 65535) if has_low else (current or (1, 65535))[0]
    high = int_field(body[high_key], high_key, 1, 65535) if has_high else (current or (1, 65535))[1]
    if low > high:
        raise BadField(f"{low_key} ({low}) must not be larger than {high_key} ({high})", field=low_key, value=low)
    return low, high


def _icmp(body: dict[str, Any], current: tuple[int | None, int | None]) -> tuple[int | None, int | None]:
    icmp_type, icmp_code = current
    if "type" in body:
        icmp_type = None if body["type"] is None else int_field(body["type"], "type", 0, 254)
    if "code" in body:
        icmp_code = None if body["code"] is None else int_field(body["code"], "code", 0, 255)
    if icmp_code is not None and icmp_type is None:
        raise BadField("an ICMP `code` can only be given with a `type`", field="code", value=icmp_code)
    return icmp_type, icmp_code


def _unused_fields(body: dict[str, Any], protocol: str, shown: str) -> None:
    if protocol not in PORT_PROTOCOLS:
        for key in _PORT_FIELDS:
            if key in body:
                raise BadField(f"{key} is not used by protocol {shown}", field=key)
    if protocol != "icmp":
        for key in _ICMP_FIELDS:
            if key in body:
                raise BadField(f"{key} is not used by protocol {shown}", field=key)


def rule_from_prototype(region: Region, acl: Acl | None, body: Any, version: str, *,
                        where: str = "", allow_before: bool = True) -> tuple[Rule, str | None]:
    """A new rule from a ``NetworkACLRulePrototype``, and the id it goes before (None: the end)."""
    body = body_object(body)
    reject_unknown(body, _RULE_FIELDS if allow_before else _RULE_FIELDS - {"before"}, where)
    for key in ("action", "destination", "direction", "source", "protocol"):
        if body.get(key) is None:
            raise MissingField(f"rule property {where}{key} is required", field=f"{where}{key}")
    action = enum_field(body["action"], f"{where}action", ("allow", "deny"))
    direction = enum_field(body["direction"], f"{where}direction", ("inbound", "outbound"))
    if body.get("ip_version", "ipv4") != "ipv4":
        raise BadField("ip_version must be ipv4", field=f"{where}ip_version", value=body.get("ip_version"))
    protocol, legacy = stored_protocol(body["protocol"], action, version)
    _unused_fields(body, protocol, str(body["protocol"]))
    dports = sports = None
    if protocol in PORT_PROTOCOLS:
        dports = _ports(body, "destination", None, patch=False)
        sports = _ports(body, "source", None, patch=False)
    icmp_type, icmp_code = _icmp(body, (None, None)) if protocol == "icmp" else (None, None)
    taken = [r.name for r in acl.rules] if acl is not None else []
    name = check_name(body["name"], f"{where}name") if body.get("name") is not None else random_name()
    region.unique_name(name, taken, "network ACL rule", f"{where}name")
    rule = Rule(region.new_id(), name, action, direction, protocol, check_ipv4(body["source"], "source"),
                check_ipv4(body["destination"], "destination"), dports, sports, icmp_type, icmp_code, legacy)
    before = None
    if body.get("before") is not None and acl is not None:
        before = identity_id(body["before"], "before")
        if not any(r.id == before for r in acl.rules):
            _bad_before(before)
    return rule, before


def _bad_before(rule_id: str) -> None:
    raise BadField(f"before: rule {rule_id} is not a rule of this network ACL", field="before.id", value=rule_id)


# --- ACLs -------------------------------------------------------------------------------------------


def create_acl(region: Region, body: Any, version: str) -> Acl:
    """``POST /network_acls``: from ``rules`` (array order is rule order), or a copy of
    ``source_network_acl``'s rules."""
    body = body_object(body)
    reject_unknown(body, {"name", "resource_group", "rules", "vpc", "source_network_acl"})
    source = None
    if body.get("source_network_acl") is not None:
        if body.get("rules") is not None:
            raise BadField("give either rules or source_network_acl, not both", field="rules")
        source = region.acl(region.referenced("network_acl", body["source_network_acl"], "source_network_acl"))
    if body.get("vpc") is None and source is None:
        raise MissingField("vpc is required", field="vpc")
    vpc = region.vpc(region.referenced("vpc", body["vpc"], "vpc")) if body.get("vpc") is not None else (
        region.vpc(source.vpc_id) if source else None)
    assert vpc is not None
    in_vpc = [a for a in region.acls.values() if a.vpc_id == vpc.id]
    if len(in_vpc) >= MAX_ACLS_PER_VPC:
        raise OverQuota(f"VPC {vpc.id} already has {MAX_ACLS_PER_VPC} network ACLs (quota)")
    name = check_name(body["name"]) if body.get("name") is not None else random_name()
    region.unique_name(name, [a.name for a in in_vpc], "network ACL")
    group = region.cloud.resource_group(body.get("resource_group"))
    acl = Acl(region.new_id(), name, vpc.id, group.id)
    if source is not None:
        for r in source.rules:
            acl.rules.append(Rule(region.new_id(), r.name, r.action, r.direction, r.protocol, r.source,
                                  r.destination, r.destination_ports, r.source_ports, r.icmp_type, r.icmp_code,
                                  r.legacy_all))
    else:
        rules = body.get("rules") or []
        if not isinstance(rules, list):
            raise BadField("rules must be an array", field="rules")
        if len(rules) > MAX_RULES_PER_ACL:
            raise OverQuota(f"a network ACL holds at most {MAX_RULES_PER_ACL} rules (quota)", field="rules")
        for i, raw in enumerate(rules):
            rule, _ = rule_from_prototype(region, acl, raw, version, where=f"rules[{i}].", allow_before=False)
            acl.rules.append(rule)
    region.acls[acl.id] = acl
    return acl


def update_acl(region: Region, acl_id: str, body: Any) -> Acl:
    acl = region.acl(acl_id)
    body = body_object(body)
    reject_unknown(body, {"name"})
    if body.get("name") is not None:
        name = check_name(body["name"])
        region.unique_name(name, [a.name for a in region.acls.values() if a.vpc_id == acl.vpc_id and a.id != acl.id],
                           "network ACL")
        acl.name = name
    return acl


def delete_acl(region: Region, acl_id: str) -> Acl:
    acl = region.acl(acl_id)
    if region.vpc(acl.vpc_id).default_acl_id == acl.id:
        raise Conflict(f"network ACL {acl.id} is the default network ACL of VPC {acl.vpc_id}")
    attached = region.subnets_of_acl(acl.id)
    if attached:
        raise Conflict(f"network ACL {acl.id} is attached to subnet(s) {', '.join(s.id for s in attached)}")
    del region.acls[acl.id]
    return acl


# --- rules --------------------------------------------------------------------------------------------


def create_rule(region: Region, acl_id: str, body: Any, version: str) -> Rule:
    acl = region.acl(acl_id)
    if len(acl.rules) >= MAX_RULES_PER_ACL:
        raise OverQuota(f"network ACL {acl.id} already has {MAX_RULES_PER_ACL} rules (quota)")
    rule, before = rule_from_prototype(region, acl, body, version)
    _insert(acl, rule, before)
    return rule


def _insert(acl: Acl, rule: Rule, before: str | None) -> None:
    if before is None:
        acl.rules.append(rule)
    else:
        acl.rules.insert(next(i for i, r in enumerate(acl.rules) if r.id == before), rule)


def update_rule(region: Region, acl_id: str, rule_id: str, body: Any, version: str) -> Rule:
    """A merge-patch of one rule: validated whole, applied whole (nothing changes on an error)."""
    acl = region.acl(acl_id)
    rule = acl.rule(rule_id)
    body = body_object(body)
    if "protocol" in body:
        raise BadField("protocol cannot be updated: delete the rule and create another", field="protocol")
    reject_unknown(body, _PATCH_FIELDS)
    shown = rendered_protocol(rule, version)
    _unused_fields(body, rule.protocol, shown)
    action = enum_field(body["action"], "action", ("allow", "deny")) if "action" in body else rule.action
    protocol, legacy = rule.protocol, rule.legacy_all
    if action != rule.action:
        protocol, legacy = _protocol_for_action(rule, action, version)
    direction = enum_field(body["direction"], "direction", ("inbound", "outbound")) if "direction" in body \
        else rule.direction
    source = check_ipv4(body["source"], "source") if "source" in body else rule.source
    destination = check_ipv4(body["destination"], "destination") if "destination" in body else rule.destination
    dports, sports = rule.destination_ports, rule.source_ports
    if protocol in PORT_PROTOCOLS:
        dports = _ports(body, "destination", dports, patch=True)
        sports = _ports(body, "source", sports, patch=True)
    icmp = _icmp(body, (rule.icmp_type, rule.icmp_code)) if protocol == "icmp" else (None, None)
    name = rule.name
    if body.get("name") is not None:
        name = check_name(body["name"])
        region.unique_name(name, [r.name for r in acl.rules if r.id != rule.id], "network ACL rule")
    move = "before" in body
    before = None
    if move and body["before"] is not None:
        before = identity_id(body["before"], "before")
        if before == rule.id:
            raise BadField("a rule cannot be moved before itself", field="before.id", value=before)
        if not any(r.id == before for r in acl.rules):
            _bad_before(before)
    rule.action, rule.protocol, rule.legacy_all = action, protocol, legacy
    rule.direction, rule.source, rule.destination = direction, source, destination
    rule.destination_ports, rule.source_ports = dports, sports
    rule.icmp_type, rule.icmp_code = icmp
    rule.name = name
    if move:
        acl.rules.remove(rule)
        _insert(acl, rule, before)
    return rule


def _protocol_for_action(rule: Rule, action: str, version: str) -> tuple[str, bool]:
    """What a change of ``action`` does to the stored protocol (the 2025-12-09 migration guide)."""
    if rule.protocol == "icmp_tcp_udp" and action == "deny":
        if new_protocols(version):
            raise BadField("action cannot be `deny` for a rule with protocol `icmp_tcp_udp`", field="action",
                           value=action)
        return "any", True  # an old client's "deny all" denies everything
    if rule.legacy_all and action == "allow" and not new_protocols(version):
        return "icmp_tcp_udp", False  # an old client's "allow all" allows icmp, tcp and udp
    return rule.protocol, False


def delete_rule(region: Region, acl_id: str, rule_id: str) -> Rule:
    acl = region.acl(acl_id)
    rule = acl.rule(rule_id)
    acl.rules.remove(rule)
    return rule
