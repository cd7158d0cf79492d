"""One ACL rule as a snapshot or a baseline file spells it.

The snapshot writer and the rule-list diff (``core.acl.rule_diff``, whose findings show a rule as a
file would) both need this spelling. It lives apart from ``core.snapshot_format`` because the
snapshot reader checks NetworkPolicies (``core.netpol``), and the ACL package must not reach them.
"""

from __future__ import annotations

from typing import Any

from netwarden.core.model import AclRule


def rule_to_data(rule: AclRule) -> dict[str, Any]:
    """A rule in the spelling of a baseline file (ports as ``443`` / ``"1-65535"`` strings)."""
    out: dict[str, Any] = {
        "name": rule.name,
        "action": rule.action,
        "direction": rule.direction,
        "protocol": rule.protocol,
        "source": rule.source,
        "destination": rule.destination,
    }
    if rule.destination_port is not None:
        out["destination_port"] = str(rule.destination_port)
    if rule.source_port is not None:
        out["source_port"] = str(rule.source_port)
    if rule.icmp_type is not None:
        out["type"] = rule.icmp_type
    if rule.icmp_code is not None:
        out["code"] = rule.icmp_code
    if rule.id is not None:
        out["id"] = rule.id
    return out
