"""The essence of each resource: one spelling for each meaning, so that a diff sees only real change.

Real estates say the same thing in several ways. What is folded here, and why:

* ``protocol: all`` (VPC API versions before 2025-12-09) is ``icmp_tcp_udp`` (the same stored rule,
  rendered by date), and a legacy ``deny`` + ``all`` rule is ``any``, as the API now renders it;
* a tcp/udp rule without ports allows 1-65535, and the API fills those in on read;
* a bare address ``10.0.0.1`` is the network ``10.0.0.1/32``;
* a NetworkPolicy is what the API server stores: ``policyTypes`` inferred when absent, protocol TCP
  by default, empty selectors and lists dropped where absent means the same, and peers, ports and
  rules sorted, because their order means nothing. ACL rule order is never touched: it is meaning.

What is volatile (ids, hrefs, CRNs, ``created_at``, ``resourceVersion``, ``uid``, managed fields)
never reaches the model, except ids kept with ``compare=False`` for remediation.
"""

from __future__ import annotations

import functools
import ipaddress
import json
import sys
from collections.abc import Mapping, Sequence
from typing import Any

from netwarden.core.model import ALL_PORTS, ICMP_TCP_UDP, PORT_PROTOCOLS, AclRule, NetworkPolicy, PortRange

PROTOCOL_SYNONYMS = {"all": ICMP_TCP_UDP}


class NormalizeError(ValueError):
    """A value cannot be normalised; ``field`` names it (``source``, ``destination_port``...)."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field
        self.message = message


def cidr(value: str, *, field: str = "cidr", strict: bool = True) -> str:
    """``10.0.0.1`` -> ``10.0.0.1/32``; ``10.0.0.0/24`` stays. With ``strict``, host bits are an error."""
    if not isinstance(value, str):
        raise NormalizeError(field, f"expected a CIDR string, got {type(value).__name__}")
    try:
        return _network(value.strip(), strict)
    except ValueError as e:
        if "host bits set" in str(e):
            raise NormalizeError(field, f"{value!r} has host bits set") from e
        raise NormalizeError(field, f"{value!r} is not a valid IP address or CIDR") from e


@functools.lru_cache(maxsize=65536)
def _network(value: str, strict: bool) -> str:
    """The canonical text of a network; cached, because an estate names the same CIDRs over and over."""
    return str(ipaddress.ip_network(value, strict=strict))


def protocol(value: str, action: str = "allow") -> str:
    """The current spelling of a protocol. A legacy ``deny`` + ``all`` rule is what the API now shows as
    ``any`` (deny + ``icmp_tcp_udp`` does not exist: denying those three takes ``any`` or three rules)."""
    if value == "all" and action == "deny":
        return "any"
    return PROTOCOL_SYNONYMS.get(value, value)


def port_range(value: int | str | None, *, field: str = "port") -> PortRange | None:
    """``443`` -> 443-443; ``"30000-32767"`` -> 30000-32767; None stays None. Bounds 1-65535, min <= max."""
    if value is None:
        return None
    if isinstance(value, bool):
        raise NormalizeError(field, "expected a port number or a range 'MIN-MAX'")
    if isinstance(value, int):
        low = high = value
    elif isinstance(value, str):
        parts = value.strip().split("-")
        if len(parts) > 2 or not all(p.strip().isdigit() for p in parts):
            raise NormalizeError(field, f"{value!r} is not a port or a range 'MIN-MAX'")
        low, high = int(parts[0]), int(parts[-1])
    else:
        raise NormalizeError(field, "expected a port number or a range 'MIN-MAX'")
    return checked_range(low, high, field=field)


def checked_range(low: int, high: int, *, field: str) -> PortRange:
    for p in (low, high):
        if not 1 <= p <= 65535:
            raise NormalizeError(field, f"port {p} is outside 1-65535")
    if low > high:
        raise NormalizeError(field, f"min {low} is greater than max {high}")
    return PortRange(low, high)


def check_icmp(proto: str, icmp_type: int | None, icmp_code: int | None) -> None:
    """ICMP type and code as a VPC rule (ACL or security group) takes them: icmp only, a code only
    with a type, type 0-254, code 0-255."""
    if proto != "icmp" and (icmp_type is not None or icmp_code is not None):
        raise NormalizeError("type" if icmp_type is not None else "code", f"protocol {proto} has no icmp type/code")
    if icmp_code is not None and icmp_type is None:
        raise NormalizeError("code", "an icmp code needs a type")
    if icmp_type is not None and not 0 <= icmp_type <= 254:
        raise NormalizeError("type", f"icmp type {icmp_type} is outside 0-254")
    if icmp_code is not None and not 0 <= icmp_code <= 255:
        raise NormalizeError("code", f"icmp code {icmp_code} is outside 0-255")


def acl_rule(
    *,
    name: str,
    action: str,
    direction: str,
    protocol_: str,
    source: str,
    destination: str,
    destination_port: PortRange | None = None,
    source_port: PortRange | None = None,
    icmp_type: int | None = None,
    icmp_code: int | None = None,
    id: str | None = None,
    strict_cidrs: bool = True,
) -> AclRule:
    """Build a canonical rule; raise NormalizeError naming the field for what the API would refuse."""
    if action not in ("allow", "deny"):
        raise NormalizeError("action", f"{action!r} is not 'allow' or 'deny'")
    if direction not in ("inbound", "outbound"):
        raise NormalizeError("direction", f"{direction!r} is not 'inbound' or 'outbound'")
    proto = protocol(protocol_, action)
    if proto in PORT_PROTOCOLS:
        destination_port = destination_port or ALL_PORTS
        source_port = source_port or ALL_PORTS
    elif destination_port is not None or source_port is not None:
        field = "destination_port" if destination_port is not None else "source_port"
        raise NormalizeError(field, f"protocol {proto} has no ports")
    check_icmp(proto, icmp_type, icmp_code)
    return AclRule(  # what rules repeat across ACLs is interned: one string each, not one per rule
        name=sys.intern(name),
        action=sys.intern(action),
        direction=sys.intern(direction),
        protocol=sys.intern(proto),
        source=cidr(source, field="source", strict=strict_cidrs),
        destination=cidr(destination, field="destination", strict=strict_cidrs),
        destination_port=destination_port,
        source_port=source_port,
        icmp_type=icmp_type,
        icmp_code=icmp_code,
        id=id,
    )


def acl_rule_from_api(raw: Mapping[str, Any]) -> AclRule:
    """A VPC API rule (``NetworkACLRule`` / ``NetworkACLRuleItem`` as a dict) -> AclRule."""
    proto = protocol(str(raw["protocol"]), str(raw["action"]))
    dport = sport = None
    if proto in PORT_PROTOCOLS:
        dport = PortRange(int(raw.get("destination_port_min", 1)), int(raw.get("destination_port_max", 65535)))
        sport = PortRange(int(raw.get("source_port_min", 1)), int(raw.get("source_port_max", 65535)))
    return acl_rule(
        name=str(raw["name"]),
        action=str(raw["action"]),
        direction=str(raw["direction"]),
        protocol_=proto,
        source=str(raw["source"]),
        destination=str(raw["destination"]),
        destination_port=dport,
        source_port=sport,
        icmp_type=raw.get("type"),
        icmp_code=raw.get("code"),
        id=raw.get("id"),
        strict_cidrs=False,
    )


def acl_rule_to_api(rule: AclRule) -> dict[str, Any]:
    """An AclRule -> a ``NetworkACLRulePrototype`` body (without ``before``)."""
    body: dict[str, Any] = {
        "name": rule.name,
        "action": rule.action,
        "direction": rule.direction,
        "protocol": rule.protocol,
        "source": rule.source,
        "destination": rule.destination,
    }
    if rule.destination_port is not None:
        body["destination_port_min"] = rule.destination_port.min
        body["destination_port_max"] = rule.destination_port.max
    if rule.source_port is not None:
        body["source_port_min"] = rule.source_port.min
        body["source_port_max"] = rule.source_port.max
    if rule.icmp_type is not None:
        body["type"] = rule.icmp_type
    if rule.icmp_code is not None:
        body["code"] = rule.icmp_code
    return body


# --- NetworkPolicy -------------------------------------------------------------------------------


def _sort_key(value: Any) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"))


def _sorted(items: list[Any]) -> list[Any]:
    """``items`` in canonical order; a list of one is already in it (and needs no JSON key)."""
    return sorted(items, key=_sort_key) if len(items) > 1 else items


def label_selector(selector: Mapping[str, Any] | None) -> dict[str, Any] | None:
    """Canonical LabelSelector: empty ``matchLabels``/``matchExpressions`` dropped, expressions and
    their values sorted. ``None`` (absent) stays ``None``: absent and ``{}`` differ in a peer."""
    if selector is None:
        return None
    out: dict[str, Any] = {}
    labels = selector.get("matchLabels") or {}
    if labels:
        out["matchLabels"] = {str(k): str(v) for k, v in sorted(labels.items())}
    exprs = []
    for expr in selector.get("matchExpressions") or []:
        e: dict[str, Any] = {"key": expr["key"], "operator": expr["operator"]}
        if expr.get("values"):
            e["values"] = sorted({str(v) for v in expr["values"]})
        exprs.append(e)
    if exprs:
        out["matchExpressions"] = _sorted(exprs)
    return out


def _peer(peer: Mapping[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    if peer.get("ipBlock") is not None:
        block = peer["ipBlock"]
        ib: dict[str, Any] = {"cidr": cidr(block["cidr"], field="ipBlock.cidr", strict=False)}
        excepts = sorted(cidr(c, field="ipBlock.except", strict=False) for c in block.get("except") or [])
        if excepts:
            ib["except"] = excepts
        out["ipBlock"] = ib
        return out
    ns = label_selector(peer.get("namespaceSelector"))
    pods = label_selector(peer.get("podSelector"))
    if ns is not None:
        out["namespaceSelector"] = ns
        # With a namespaceSelector, an empty podSelector means "all pods", as an absent one does.
        if pods:
            out["podSelector"] = pods
    elif pods is not None:
        out["podSelector"] = pods
    return out


def _port(port: Mapping[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {"protocol": port.get("protocol") or "TCP"}
    if port.get("port") is not None:
        out["port"] = port["port"]
        if port.get("endPort") is not None:
            out["endPort"] = port["endPort"]
    return out


def _rule(rule: Mapping[str, Any], peers_key: str) -> dict[str, Any]:
    out: dict[str, Any] = {}
    ports = [_port(p) for p in rule.get("ports") or []]
    if ports:
        out["ports"] = _sorted(ports)
    peers = [_peer(p) for p in rule.get(peers_key) or []]
    if peers:
        out[peers_key] = _sorted(peers)
    return out


def netpol_spec(spec: Mapping[str, Any]) -> dict[str, Any]:
    """Canonical NetworkPolicySpec as the API server would store and a diff should compare it."""
    ingress = spec.get("ingress") or []
    egress = spec.get("egress") or []
    types = spec.get("policyTypes") or (["Ingress", "Egress"] if egress else ["Ingress"])
    out: dict[str, Any] = {
        "podSelector": label_selector(spec.get("podSelector")) or {},
        "policyTypes": sorted(set(types)),
    }
    if ingress:
        out["ingress"] = _sorted([_rule(r, "from") for r in ingress])
    if egress:
        out["egress"] = _sorted([_rule(r, "to") for r in egress])
    return out


def netpol_manifest(policy: NetworkPolicy) -> dict[str, Any]:
    """The plain manifest of a policy, as ``kubectl apply -f`` takes it, a baseline file holds it and a
    remediation writes it: its metadata labels (sorted) and its canonical spec as plain JSON data."""
    metadata: dict[str, Any] = {"name": policy.name, "namespace": policy.namespace}
    if policy.labels:
        metadata["labels"] = dict(sorted(policy.labels.items()))
    return {"apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy", "metadata": metadata,
            "spec": _plain(policy.spec)}


def _plain(value: Any) -> Any:
    if isinstance(value, Mapping):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    return value


def labels(value: Mapping[str, Any] | None) -> dict[str, str]:
    return {str(k): str(v) for k, v in sorted((value or {}).items())}


def sorted_by_name(items: Sequence[Any]) -> tuple[Any, ...]:
    """Resources whose order means nothing, in one stable order (by ``name``)."""
    return tuple(sorted(items, key=lambda item: item.name))
