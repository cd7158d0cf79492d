"""Security groups from the VPC API into the model: one conversion, used by the full read and the event's.

A ``SecurityGroup`` of the API embeds its rules and its targets, so one paged list of the region's
groups gives everything the snapshot needs: no group, rule or target is fetched on its own. A rule
whose remote is another group names it by id, crn, href and name; the model keeps the name (names are
unique in a VPC), from the reference or else from the VPC's other groups. Whether IBM keeps a group is
decided from its name (``core.sbd.managed_by``); the baseline's word on it is the one a check trusts.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any, TypedDict

from netwarden.core import sbd, sg_rules
from netwarden.core.model import SecurityGroup, SgTarget


class RawSecurityGroup(TypedDict):
    id: str
    name: str
    vpc: Mapping[str, Any]
    rules: list[dict[str, Any]]
    targets: list[dict[str, Any]]


def group_from_api(raw: RawSecurityGroup, vpc_id: str, group_names: Mapping[str, str]) -> SecurityGroup:
    """One group; ``group_names`` maps the ids of its VPC's groups to their names."""
    rules = [sg_rules.from_api(r, group_names) for r in raw["rules"]]
    targets = [SgTarget(type=str(t["resource_type"]), name=str(t["name"]), id=t.get("id")) for t in raw["targets"]]
    return sg_rules.group(raw["name"], rules, targets, managed_by=sbd.managed_by(raw["name"], vpc_id), id=raw["id"])


def groups_from_api(raws: Iterable[RawSecurityGroup], vpc_id: str) -> tuple[SecurityGroup, ...]:
    """The groups of one VPC (``raws`` already narrowed to it), sorted by name."""
    listed = list(raws)
    names = {g["id"]: g["name"] for g in listed}
    return tuple(sorted((group_from_api(g, vpc_id, names) for g in listed), key=lambda g: g.name))
