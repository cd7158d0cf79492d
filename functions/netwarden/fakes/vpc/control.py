"""The emulator owner's side of the VPC emulator over HTTP, at ``/_fake/vpc/<region>/...``.

Some of what an account holds is not made through the VPC API a netwarden reader calls: the resources
security groups are bound to (instances' network interfaces, endpoint gateways, load balancers), and
the id IBM gives a VPC, which the names of IBM's own groups carry (``kube-vpegw-<vpcID>``). Scenarios
and tests set them here, as moto's own ``/moto-api`` lets a test shape what the API cannot:

* ``POST /_fake/vpc/<region>/targets`` ``{"kind", "name", "subnet" | "vpc", "security_groups": [ids]}``
  registers a target (``models_sg_targets.add_target``) and answers 201 with its id;
* ``DELETE /_fake/vpc/<region>/targets/<id>`` takes it away, as deleting its resource would;
* ``POST /_fake/vpc/<region>/vpc-ids`` ``{"name", "id"}`` makes the next VPC created with that name take
  that id (an id of the region's shape, not in use).
"""

from __future__ import annotations

import re
from typing import Any

from netwarden.fakes.vpc.exceptions import FakeVpcError
from netwarden.fakes.vpc.models import VpcCloud
from netwarden.fakes.vpc.models_sg_targets import add_target, remove_target
from netwarden.fakes.wire import Response

_ID_TAIL = re.compile(r"-[0-9a-f]{8}(-[0-9a-f]{4}){3}-[0-9a-f]{12}$")


def handle(cloud: VpcCloud, method: str, parts: list[str], body: Any) -> Response:
    """``parts``: the path after ``/_fake/vpc/`` split on ``/`` (region first)."""
    try:
        if len(parts) < 2:
            raise ValueError("expected /_fake/vpc/<region>/targets or /_fake/vpc/<region>/vpc-ids")
        region = cloud.region(parts[0])
        data = body if isinstance(body, dict) else {}
        if parts[1:] == ["targets"] and method == "POST":
            t = add_target(region, str(data.get("kind")), vpc_id=data.get("vpc"), subnet_id=data.get("subnet"),
                           name=data.get("name"), security_group_ids=data.get("security_groups"))
            return Response.json({"id": t.id, "name": t.name, "kind": t.kind, "security_groups":
                                  list(t.security_group_ids)}, 201)
        if len(parts) == 3 and parts[1] == "targets" and method == "DELETE":
            remove_target(region, parts[2])
            return Response.empty()
        if parts[1:] == ["vpc-ids"] and method == "POST":
            name, vpc_id = data.get("name"), data.get("id")
            if not isinstance(name, str) or not isinstance(vpc_id, str):
                raise ValueError("expected {\"name\": <VPC name>, \"id\": <VPC id>}")
            if not (vpc_id.startswith(f"{region.code}-") and _ID_TAIL.search(vpc_id)):
                raise ValueError(f"{vpc_id!r} is not a VPC id of {region.name} ({region.code}-<uuid>)")
            if vpc_id in region.vpcs or name in {v.name for v in region.vpcs.values()}:
                raise ValueError(f"VPC id {vpc_id} or name {name} is already in use")
            region.pinned_vpc_ids[name] = vpc_id
            return Response.json({"name": name, "id": vpc_id}, 201)
    except FakeVpcError as e:
        return Response.json({"error": e.message}, e.status)
    except (ValueError, TypeError) as e:
        return Response.json({"error": str(e)}, 400)
    return Response.json({"error": f"no control route {method} /_fake/vpc/{'/'.join(parts)}"}, 404)
