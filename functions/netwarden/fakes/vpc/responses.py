"""Thin handlers of the emulated VPC API: read path, query and body; call the models; render.

Each handler gets the ``Call`` (region, rendering view, the caller's token claims) that ``urls``
builds once per request. Mutations are wrapped by ``mutation(action)``, which records one Activity
Tracker event per call, success or failure, with the ids the call touched. Status codes follow the
real API: 200 for reads and PATCH, 201 for POST creates and for both subnet PUTs, 204 for deletes.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from netwarden.fakes.vpc import models, models_acl, models_subnet, models_vpc, render
from netwarden.fakes.vpc.events import Target, event
from netwarden.fakes.vpc.exceptions import BadField, FakeVpcError
from netwarden.fakes.vpc.models import Acl, Gateway, Region, Subnet, Vpc, VpcCloud
from netwarden.fakes.wire import Request, Response


@dataclass(slots=True)
class Call:
    """One request's context: where it goes and how to answer."""

    cloud: VpcCloud
    region: Region
    view: render.View
    claims: dict[str, Any] | None
    target: Target = field(default_factory=lambda: Target("vpc"))

    @property
    def version(self) -> str:
        return self.view.version


Handler = Callable[[Call, Request], Response]
_PARAM_IDS = {"vpc_id": "vpc_id", "acl_id": "network_acl_id", "rule_id": "rule_id", "subnet_id": "subnet_id",
              "gateway_id": "public_gateway_id"}


def body(request: Request) -> Any:
    try:
        return request.json()
    except (ValueError, UnicodeDecodeError) as e:
        raise BadField("the request body is not valid JSON") from e


def mutation(action: str, kind: str) -> Callable[[Handler], Handler]:
    """Wrap a handler so that each call emits one Activity Tracker event."""

    def wrap(handler: Handler) -> Handler:
        def run(call: Call, request: Request) -> Response:
            call.target = Target(kind, ids={_PARAM_IDS[k]: v for k, v in request.params.items() if k in _PARAM_IDS})
            try:
                sent = body(request)
            except FakeVpcError:
                sent = None
            try:
                response = handler(call, request)
            except FakeVpcError as e:
                _emit(call, request, action, status=e.status, sent=sent, data=None, reason=e.message)
                raise
            data = request_json(response)
            _emit(call, request, action, status=response.status, sent=sent, data=data, reason=None)
            return response

        run.__name__ = handler.__name__
        run.__doc__ = handler.__doc__
        return run

    return wrap


def request_json(response: Response) -> Any:
    import json

    return json.loads(response.body) if response.body else None


def _emit(call: Call, request: Request, action: str, *, status: int, sent: Any, data: Any,
          reason: str | None) -> None:
    call.cloud.cloud.emit(event(action=action, target=call.target, request=request, claims=call.claims,
                                region=call.region.name, account_id=call.cloud.account_id, status=status,
                                request_body=sent, response_data=data, reason=reason))


def _aim(call: Call, item: Vpc | Acl | Subnet | Gateway, *, rule: models.Rule | None = None) -> None:
    """Point the call's event target at ``item`` (for a rule: the rule, in its ACL)."""
    view, t = call.view, call.target
    if isinstance(item, Vpc):
        t.crn, t.name, t.resource_group_id = view.crn("vpc", item.id), item.name, item.resource_group_id
        t.ids["vpc_id"] = item.id
    elif isinstance(item, Acl):
        t.crn, t.name, t.resource_group_id = view.crn("network-acl", item.id), item.name, item.resource_group_id
        t.ids.update(network_acl_id=item.id, vpc_id=item.vpc_id)
        if rule is not None:
            t.crn, t.name = f"{t.crn}/rule:{rule.id}", rule.name
            t.ids.update(rule_id=rule.id, rule_name=rule.name, network_acl_name=item.name)
    elif isinstance(item, Subnet):
        t.crn, t.name = view.crn("subnet", item.id, item.zone), item.name
        t.resource_group_id = item.resource_group_id
        t.ids.update(subnet_id=item.id, vpc_id=item.vpc_id)
    else:
        t.crn, t.name = view.crn("public-gateway", item.id, item.zone), item.name
        t.resource_group_id = item.resource_group_id
        t.ids.update(public_gateway_id=item.id, vpc_id=item.vpc_id)


def _group_filter(request: Request) -> str | None:
    return request.arg("resource_group.id") or None


def _filters(request: Request, names: tuple[str, ...]) -> dict[str, str]:
    return {n: str(request.arg(n)) for n in names if request.arg(n)}


# --- VPCs ---------------------------------------------------------------------------------------------


def list_vpcs(call: Call, request: Request) -> Response:
    items = models.filter_by_group(list(call.region.vpcs.values()), _group_filter(request))
    if request.arg("classic_access") in ("true", "false"):
        items = [v for v in items if v.classic_access == (request.arg("classic_access") == "true")]
    page = models.page(items, lambda v: v.id, request.arg("start"), request.arg("limit"))
    return Response.json(render.collection(call.view, "vpcs", "/vpcs", page,
                                           [render.vpc(call.view, v) for v in page.items],
                                           filters=_filters(request, ("resource_group.id", "classic_access"))))


@mutation("is.vpc.vpc.create", "vpc")
def create_vpc(call: Call, request: Request) -> Response:
    vpc = models_vpc.create_vpc(call.region, models.body_object(body(request) or {}))
    _aim(call, vpc)
    return Response.json(render.vpc(call.view, vpc), 201)


def get_vpc(call: Call, request: Request) -> Response:
    return Response.json(render.vpc(call.view, call.region.vpc(request.params["vpc_id"])))


@mutation("is.vpc.vpc.update", "vpc")
def update_vpc(call: Call, request: Request) -> Response:
    _aim(call, call.region.vpc(request.params["vpc_id"]))
    vpc = models_vpc.update_vpc(call.region, request.params["vpc_id"], models.body_object(body(request)))
    _aim(call, vpc)
    return Response.json(render.vpc(call.view, vpc))


@mutation("is.vpc.vpc.delete", "vpc")
def delete_vpc(call: Call, request: Request) -> Response:
    _aim(call, call.region.vpc(request.params["vpc_id"]))
    models_vpc.delete_vpc(call.region, request.params["vpc_id"])
    return Response.empty()


def get_vpc_default_acl(call: Call, request: Request) -> Response:
    vpc = call.region.vpc(request.params["vpc_id"])
    return Response.json(render.acl(call.view, call.region.acl(vpc.default_acl_id)))


# --- network ACLs -------------------------------------------------------------------------------------


def list_acls(call: Call, request: Request) -> Response:
    items = models.filter_by_group(list(call.region.acls.values()), _group_filter(request))
    page = models.page(items, lambda a: a.id, request.arg("start"), request.arg("limit"))
    return Response.json(render.collection(call.view, "network_acls", "/network_acls", page,
                                           [render.acl(call.view, a) for a in page.items],
                                           filters=_filters(request, ("resource_group.id",))))


@mutation("is.network-acl.network-acl.create", "network-acl")
def create_acl(call: Call, request: Request) -> Response:
    acl = models_acl.create_acl(call.region, body(request), call.version)
    _aim(call, acl)
    return Response.json(render.acl(call.view, acl), 201)


def get_acl(call: Call, request: Request) -> Response:
    return Response.json(render.acl(call.view, call.region.acl(request.params["acl_id"])))


@mutation("is.network-acl.network-acl.update", "network-acl")
def update_acl(call: Call, request: Request) -> Response:
    _aim(call, call.region.acl(request.params["acl_id"]))
    acl = models_acl.update_acl(call.region, request.params["acl_id"], body(request))
    _aim(call, acl)
    return Response.json(render.acl(call.view, acl))


@mutation("is.network-acl.network-acl.delete", "network-acl")
def delete_acl(call: Call, request: Request) -> Response:
    _aim(call, call.region.acl(request.params["acl_id"]))
    models_acl.delete_acl(call.region, request.params["acl_id"])
    return Response.empty()


# --- rules --------------------------------------------------------------------------------------------


def list_rules(call: Call, request: Request) -> Response:
    """Rules in order; with ``direction``, only that direction, each ``before`` naming the next shown."""
    acl = call.region.acl(request.params["acl_id"])
    direction = request.arg("direction")
    if direction not in (None, "", "inbound", "outbound"):
        raise BadField("direction must be inbound or outbound", field="direction", value=direction,
                       target_type="parameter")
    ordered = [r for r in acl.rules if not direction or r.direction == direction]
    page = models.page(ordered, lambda r: r.id, request.arg("start"), request.arg("limit"))
    path = f"/network_acls/{acl.id}/rules"
    return Response.json(render.collection(call.view, "rules", path, page,
                                           render.rules(call.view, acl.id, ordered, page.items),
                                           filters=_filters(request, ("direction",))))


@mutation("is.network-acl.rule.create", "rule")
def create_rule(call: Call, request: Request) -> Response:
    acl = call.region.acl(request.params["acl_id"])
    _aim(call, acl)
    rule = models_acl.create_rule(call.region, acl.id, body(request), call.version)
    _aim(call, acl, rule=rule)
    return Response.json(render.single_rule(call.view, acl, rule), 201)


def get_rule(call: Call, request: Request) -> Response:
    acl = call.region.acl(request.params["acl_id"])
    return Response.json(render.single_rule(call.view, acl, acl.rule(request.params["rule_id"])))


@mutation("is.network-acl.rule.update", "rule")
def update_rule(call: Call, request: Request) -> Response:
    acl = call.region.acl(request.params["acl_id"])
    _aim(call, acl, rule=acl.rule(request.params["rule_id"]))
    rule = models_acl.update_rule(call.region, acl.id, request.params["rule_id"], body(request), call.version)
    _aim(call, acl, rule=rule)
    return Response.json(render.single_rule(call.view, acl, rule))


@mutation("is.network-acl.rule.delete", "rule")
def delete_rule(call: Call, request: Request) -> Response:
    acl = call.region.acl(request.params["acl_id"])
    _aim(call, acl, rule=acl.rule(request.params["rule_id"]))
    models_acl.delete_rule(call.region, acl.id, request.params["rule_id"])
    return Response.empty()


# --- subnets ------------------------------------------------------------------------------------------

_SUBNET_FILTERS = ("resource_group.id", "zone.name", "vpc.id", "vpc.crn", "vpc.name", "routing_table.id",
                   "routing_table.name")


def list_subnets(call: Call, request: Request) -> Response:
    items = models.filter_by_group(list(call.region.subnets.values()), _group_filter(request))
    region, f = call.region, _filters(request, _SUBNET_FILTERS)
    if "zone.name" in f:
        items = [s for s in items if s.zone == f["zone.name"]]
    if "vpc.id" in f:
        items = [s for s in items if s.vpc_id == f["vpc.id"]]
    if "vpc.crn" in f:
        items = [s for s in items if call.view.crn("vpc", s.vpc_id) == f["vpc.crn"]]
    if "vpc.name" in f:
        items = [s for s in items if region.vpc(s.vpc_id).name == f["vpc.name"]]
    if "routing_table.id" in f:
        items = [s for s in items if region.vpc(s.vpc_id).default_routing_table_id == f["routing_table.id"]]
    if "routing_table.name" in f:
        items = [s for s in items if render.routing_table_ref(call.view, region.vpc(s.vpc_id))["name"]
                 == f["routing_table.name"]]
    page = models.page(items, lambda s: s.id, request.arg("start"), request.arg("limit"))
    return Response.json(render.collection(call.view, "subnets", "/subnets", page,
                                           [render.subnet(call.view, s) for s in page.items], filters=f))


@mutation("is.subnet.subnet.create", "subnet")
def create_subnet(call: Call, request: Request) -> Response:
    subnet = models_subnet.create_subnet(call.region, body(request))
    _aim(call, subnet)
    return Response.json(render.subnet(call.view, subnet), 201)


def get_subnet(call: Call, request: Request) -> Response:
    return Response.json(render.subnet(call.view, call.region.subnet(request.params["subnet_id"])))


@mutation("is.subnet.subnet.update", "subnet")
def update_subnet(call: Call, request: Request) -> Response:
    _aim(call, call.region.subnet(request.params["subnet_id"]))
    subnet = models_subnet.update_subnet(call.region, request.params["subnet_id"], body(request))
    _aim(call, subnet)
    return Response.json(render.subnet(call.view, subnet))


@mutation("is.subnet.subnet.delete", "subnet")
def delete_subnet(call: Call, request: Request) -> Response:
    _aim(call, call.region.subnet(request.params["subnet_id"]))
    models_subnet.delete_subnet(call.region, request.params["subnet_id"])
    return Response.empty()


def get_subnet_acl(call: Call, request: Request) -> Response:
    subnet = call.region.subnet(request.params["subnet_id"])
    return Response.json(render.acl(call.view, call.region.acl(subnet.acl_id)))


@mutation("is.subnet.network-acl.update", "subnet")
def replace_subnet_acl(call: Call, request: Request) -> Response:
    _aim(call, call.region.subnet(request.params["subnet_id"]))
    subnet = models_subnet.replace_subnet_acl(call.region, request.params["subnet_id"], body(request))
    call.target.ids["network_acl_id"] = subnet.acl_id
    return Response.json(render.acl(call.view, call.region.acl(subnet.acl_id)), 201)


def get_subnet_gateway(call: Call, request: Request) -> Response:
    return Response.json(render.gateway(call.view, models_subnet.subnet_gateway(call.region,
                                                                                request.params["subnet_id"])))


@mutation("is.subnet.public-gateway.attach", "subnet")
def set_subnet_gateway(call: Call, request: Request) -> Response:
    _aim(call, call.region.subnet(request.params["subnet_id"]))
    gateway = models_subnet.set_subnet_gateway(call.region, request.params["subnet_id"], body(request))
    call.target.ids["public_gateway_id"] = gateway.id
    return Response.json(render.gateway(call.view, gateway), 201)


@mutation("is.subnet.public-gateway.detach", "subnet")
def unset_subnet_gateway(call: Call, request: Request) -> Response:
    _aim(call, call.region.subnet(request.params["subnet_id"]))
    gateway = models_subnet.unset_subnet_gateway(call.region, request.params["subnet_id"])
    call.target.ids["public_gateway_id"] = gateway.id
    return Response.empty()


# --- public gateways ------------------------------------------------------------------------------------


def list_gateways(call: Call, request: Request) -> Response:
    items = models.filter_by_group(list(call.region.gateways.values()), _group_filter(request))
    page = models.page(items, lambda g: g.id, request.arg("start"), request.arg("limit"))
    return Response.json(render.collection(call.view, "public_gateways", "/public_gateways", page,
                                           [render.gateway(call.view, g) for g in page.items],
                                           filters=_filters(request, ("resource_group.id",))))


@mutation("is.public-gateway.public-gateway.create", "public-gateway")
def create_gateway(call: Call, request: Request) -> Response:
    gateway = models_subnet.create_gateway(call.region, body(request))
    _aim(call, gateway)
    return Response.json(render.gateway(call.view, gateway), 201)


def get_gateway(call: Call, request: Request) -> Response:
    return Response.json(render.gateway(call.view, call.region.gateway(request.params["gateway_id"])))


@mutation("is.public-gateway.public-gateway.update", "public-gateway")
def update_gateway(call: Call, request: Request) -> Response:
    _aim(call, call.region.gateway(request.params["gateway_id"]))
    gateway = models_subnet.update_gateway(call.region, request.params["gateway_id"], body(request))
    _aim(call, gateway)
    return Response.json(render.gateway(call.view, gateway))


@mutation("is.public-gateway.public-gateway.delete", "public-gateway")
def delete_gateway(call: Call, request: Request) -> Response:
    _aim(call, call.region.gateway(request.params["gateway_id"]))
    models_subnet.delete_gateway(call.region, request.params["gateway_id"])
    return Response.empty()
