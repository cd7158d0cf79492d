"""Security group rules in one spelling: from the VPC API, to it, to a file, and as a line of text.

A security group's rules are a set (IBM evaluates them together, in no order, and names the rules it
writes at random), so a rule is known by what it allows. Everything that reads or writes a rule goes
through here, so the API's variants (``all`` before API version 2025-12-09, a bare address for a
remote, a remote group by id, crn or name, ports absent for "all") meet the diff as one value, and a
finding names a rule the way the baseline file writes it.
"""

from __future__ import annotations

import functools
import ipaddress
import sys
from collections.abc import Iterable, Mapping
from typing import Any

from netwarden.core.model import ALL_PORTS, ANYWHERE, PORT_PROTOCOLS, PortRange, SecurityGroup, SgRule, SgTarget
from netwarden.core.normalize import NormalizeError, check_icmp, checked_range, cidr, protocol

DIRECTIONS = ("inbound", "outbound")
#: The rule keys of a baseline or snapshot file, in the order they are written.
RULE_KEYS = ("direction", "protocol", "remote", "remote_group", "local", "ports", "type", "code")


def sg_rule(*, direction: str, protocol_: str, remote: str | None = None, remote_group: str | None = None,
            local: str | None = None, ports: PortRange | None = None, icmp_type: int | None = None,
            icmp_code: int | None = None, id: str | None = None, strict_cidrs: bool = True) -> SgRule:
    """A canonical rule; NormalizeError names the field of what the API would refuse."""
    if direction not in DIRECTIONS:
        raise NormalizeError("direction", f"{direction!r} is not 'inbound' or 'outbound'")
    if (remote is None) == (remote_group is None):
        raise NormalizeError("remote", "a rule needs exactly one of remote (a CIDR or address) and remote_group")
    proto = protocol(protocol_)
    if proto in PORT_PROTOCOLS:
        ports = ports or ALL_PORTS
    elif ports is not None:
        raise NormalizeError("ports", f"protocol {proto} has no ports")
    check_icmp(proto, icmp_type, icmp_code)
    return SgRule(
        direction=sys.intern(direction),
        protocol=sys.intern(proto),
        remote=cidr(remote, field="remote", strict=strict_cidrs) if remote is not None else None,
        remote_group=remote_group,
        local=cidr(local, field="local", strict=strict_cidrs) if local is not None else ANYWHERE,
        ports=ports,
        icmp_type=icmp_type,
        icmp_code=icmp_code,
        id=id,
    )


def sort_key(rule: SgRule) -> tuple[Any, ...]:
    """The canonical order: by direction, protocol, remote (addresses in numeric order, then groups by
    name), local, ports, icmp."""
    ports = (rule.ports.min, rule.ports.max) if rule.ports is not None else (0, 0)
    remote = (0, _address_key(rule.remote), "") if rule.remote is not None else (1, (0, 0), rule.remote_group or "")
    return (rule.direction, rule.protocol, remote, _address_key(rule.local), ports,
            -1 if rule.icmp_type is None else rule.icmp_type, -1 if rule.icmp_code is None else rule.icmp_code)


@functools.lru_cache(maxsize=4096)
def _address_key(network: str) -> tuple[int, int]:
    parsed = ipaddress.ip_network(network)
    return int(parsed.network_address) + (parsed.version << 128), parsed.prefixlen


def canonical(rules: Iterable[SgRule]) -> tuple[SgRule, ...]:
    """``rules`` as the model holds them: without repeats, in canonical order (the first id kept)."""
    unique: dict[SgRule, SgRule] = {}
    for rule in rules:
        unique.setdefault(rule, rule)
    return tuple(sorted(unique.values(), key=sort_key))


def group(name: str, rules: Iterable[SgRule], targets: Iterable[SgTarget] = (), *, managed_by: str = "user",
          id: str | None = None) -> SecurityGroup:
    return SecurityGroup(name=name, rules=canonical(rules),
                         targets=tuple(sorted(set(targets), key=lambda t: (t.type, t.name))),
                         managed_by=managed_by, id=id)


# --- the VPC API ----------------------------------------------------------------------------------------


def from_api(raw: Mapping[str, Any], group_names: Mapping[str, str]) -> SgRule:
    """A ``SecurityGroupRule`` (as a dict) -> SgRule. ``group_names`` maps the VPC's group ids to names,
    for a remote that is a group (the API's reference carries the name too; the map is the fallback)."""
    remote = raw.get("remote") or {"cidr_block": ANYWHERE}
    local = raw.get("local") or {}
    remote_cidr = remote.get("cidr_block") or remote.get("address")
    remote_group = None
    if remote_cidr is None:
        remote_group = remote.get("name") or group_names.get(str(remote.get("id")))
        if remote_group is None:
            raise NormalizeError("remote", f"remote security group {remote.get('id')!r} is not in the VPC")
    proto = protocol(str(raw["protocol"]))
    ports = None
    if proto in PORT_PROTOCOLS:
        ports = checked_range(int(raw.get("port_min") or 1), int(raw.get("port_max") or 65535), field="ports")
    return sg_rule(direction=str(raw["direction"]), protocol_=proto, remote=remote_cidr, remote_group=remote_group,
                   local=local.get("cidr_block") or local.get("address"), ports=ports,
                   icmp_type=raw.get("type"), icmp_code=raw.get("code"), id=raw.get("id"), strict_cidrs=False)


def to_api(rule: SgRule, group_ids: Mapping[str, str]) -> dict[str, Any]:
    """An SgRule -> a ``SecurityGroupRulePrototype`` body; ``group_ids`` maps the VPC's group names to ids."""
    body: dict[str, Any] = {"direction": rule.direction, "protocol": rule.protocol, "ip_version": "ipv4",
                            "local": {"cidr_block": rule.local}}
    if rule.remote_group is not None:
        if rule.remote_group not in group_ids:
            raise KeyError(f"security group {rule.remote_group} (a rule's remote) does not exist")
        body["remote"] = {"id": group_ids[rule.remote_group]}
    else:
        body["remote"] = {"cidr_block": rule.remote}
    if rule.ports is not None:
        body["port_min"], body["port_max"] = rule.ports.min, rule.ports.max
    if rule.icmp_type is not None:
        body["type"] = rule.icmp_type
    if rule.icmp_code is not None:
        body["code"] = rule.icmp_code
    return body


# --- files and text -------------------------------------------------------------------------------------


def to_data(rule: SgRule, *, with_id: bool = False) -> dict[str, Any]:
    """A rule as a baseline file writes it: defaults left out (``local`` 0.0.0.0/0, tcp/udp ports
    1-65535), ports as ``443`` or ``"30000-32767"``."""
    out: dict[str, Any] = {"direction": rule.direction, "protocol": rule.protocol}
    if rule.remote_group is not None:
        out["remote_group"] = rule.remote_group
    else:
        out["remote"] = rule.remote
    if rule.local != ANYWHERE:
        out["local"] = rule.local
    if rule.ports is not None and not rule.ports.is_all:
        out["ports"] = rule.ports.min if rule.ports.min == rule.ports.max else str(rule.ports)
    if rule.icmp_type is not None:
        out["type"] = rule.icmp_type
    if rule.icmp_code is not None:
        out["code"] = rule.icmp_code
    if with_id and rule.id is not None:
        out["id"] = rule.id
    return out


def text(rule: SgRule) -> str:
    """``inbound tcp 22 from 0.0.0.0/0``, ``outbound icmp_tcp_udp to group kube-vpegw-x``: the rule's
    key in a finding's resource and the way messages name it."""
    what = rule.protocol
    if rule.ports is not None and not rule.ports.is_all:
        what += f" {rule.ports}"
    elif rule.ports is not None:
        what += " all ports"
    if rule.icmp_type is not None:
        what += f" type {rule.icmp_type}" + (f" code {rule.icmp_code}" if rule.icmp_code is not None else "")
    peer = f"group {rule.remote_group}" if rule.remote_group is not None else rule.remote
    side = "from" if rule.direction == "inbound" else "to"
    local = f" on {rule.local}" if rule.local != ANYWHERE else ""
    return f"{rule.direction} {what} {side} {peer}{local}"


def named(group: SecurityGroup, side: Mapping[str, Any] | None) -> SgRule | None:
    """The rule of ``group`` that a finding's ``baseline`` or ``live`` side names (``{"rule": {...}}``, as
    ``to_data`` writes it), by its id when the side carries one; None when the group has no such rule."""
    wanted = dict((side or {}).get("rule") or {})
    if not wanted:
        return None
    rule_id = wanted.pop("id", None)
    return next((r for r in group.rules if (rule_id is not None and r.id == rule_id) or to_data(r) == wanted), None)


def target_text(target: SgTarget) -> str:
    return f"{target.type.replace('_', ' ')} {target.name}"


# --- what a rule allows ---------------------------------------------------------------------------------

#: Protocols that allow every protocol they name, on every port and ICMP type.
_ANY_OF = {"any": None, "icmp_tcp_udp": frozenset({"icmp", "tcp", "udp", "icmp_tcp_udp"})}


def covers(wide: SgRule, narrow: SgRule) -> bool:
    """Whether ``wide`` allows everything ``narrow`` allows. A remote group's members are not known
    here: a group covers only itself, and is covered only by itself and by 0.0.0.0/0."""
    if wide.direction != narrow.direction or not _within(narrow.local, wide.local):
        return False
    if narrow.remote_group is not None:
        if wide.remote_group != narrow.remote_group and wide.remote != ANYWHERE:
            return False
    elif (wide.remote_group is not None or narrow.remote is None or wide.remote is None
          or not _within(narrow.remote, wide.remote)):
        return False
    if wide.protocol in _ANY_OF:
        protocols = _ANY_OF[wide.protocol]
        return protocols is None or narrow.protocol in protocols
    if wide.protocol != narrow.protocol:
        return False
    if wide.ports is not None and narrow.ports is not None:
        return wide.ports.min <= narrow.ports.min and narrow.ports.max <= wide.ports.max
    if wide.icmp_type is None:
        return True
    return wide.icmp_type == narrow.icmp_type and wide.icmp_code in (None, narrow.icmp_code)


@functools.lru_cache(maxsize=4096)
def _within(inner: str, outer: str) -> bool:
    a, b = ipaddress.ip_network(inner), ipaddress.ip_network(outer)
    return a.version == b.version and a.subnet_of(b)  # type: ignore[arg-type]
