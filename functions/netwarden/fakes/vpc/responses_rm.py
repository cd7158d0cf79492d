"""The resource manager's resource groups (``/rm``), which the VPC emulator's resources belong to: list
(by name, ``default`` and account), get and create, in the Resource Manager API's shapes, as
ibm-platform-services reads them.
"""

from __future__ import annotations

from typing import Any

from netwarden.fakes.vpc import models, render
from netwarden.fakes.vpc.exceptions import NotFound
from netwarden.fakes.vpc.models import VpcCloud
from netwarden.fakes.vpc.responses import body
from netwarden.fakes.wire import Request, Response


def list_resource_groups(cloud: VpcCloud, request: Request) -> Response:
    server = request.base_url.rsplit("/rm", 1)[0]
    groups = [g for g in cloud.resource_groups.values()
              if (not request.arg("name") or g.name == request.arg("name"))
              and (request.arg("default") not in ("true", "false") or g.default == (request.arg("default") == "true"))
              and (not request.arg("account_id") or request.arg("account_id") == cloud.account_id)]
    return Response.json({"resources": [_group(cloud, server, g) for g in groups]})


def get_resource_group(cloud: VpcCloud, request: Request) -> Response:
    group = cloud.resource_groups.get(request.params["group_id"])
    if group is None:
        raise NotFound(f"resource group {request.params['group_id']} not found")
    return Response.json(_group(cloud, request.base_url.rsplit("/rm", 1)[0], group))


def create_resource_group(cloud: VpcCloud, request: Request) -> Response:
    sent = models.body_object(body(request))
    group = cloud.create_resource_group(sent.get("name"))
    crn = f"crn:v1:bluemix:public:resource-controller::a/{cloud.account_id}::resource-group:{group.id}"
    return Response.json({"id": group.id, "crn": crn}, 201)


def _group(cloud: VpcCloud, server: str, group: models.ResourceGroup) -> dict[str, Any]:
    return {**render.resource_group_ref(server, group),
            "crn": f"crn:v1:bluemix:public:resource-controller::a/{cloud.account_id}::resource-group:{group.id}",
            "account_id": cloud.account_id, "state": "ACTIVE", "default": group.default,
            "created_at": group.created_at, "updated_at": group.created_at}
