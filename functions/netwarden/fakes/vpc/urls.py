"""The routes of the emulated VPC API (``/vpc/<region>/v1/...``) and resource manager (``/rm/v2/...``).

The tables are data: method, path pattern with named groups, handler. ``handle`` checks what every
VPC call must carry (a known region, ``version`` and ``generation``; a bearer token, when one is sent,
issued by the emulated IAM) and serialises every ``FakeVpcError`` into IBM's error body, once.
A request without ``Authorization`` is served, so tests may use the SDK's ``NoAuthAuthenticator``.
"""

from __future__ import annotations

from typing import Any

from netwarden.fakes.vpc import responses as r
from netwarden.fakes.vpc import responses_rm as rm
from netwarden.fakes.vpc.exceptions import FakeVpcError, MethodNotAllowed, NotAuthorized, NotFound
from netwarden.fakes.vpc.models import VpcCloud, check_version
from netwarden.fakes.vpc.render import View
from netwarden.fakes.wire import NoRoute, Request, Response, dispatch, routes

_ID = r"(?P<{}>[^/]+)"
_VPC, _ACL, _RULE = _ID.format("vpc_id"), _ID.format("acl_id"), _ID.format("rule_id")
_SUBNET, _GATEWAY = _ID.format("subnet_id"), _ID.format("gateway_id")

VPC_ROUTES = routes([
    ("GET", "/v1/vpcs", r.list_vpcs),
    ("POST", "/v1/vpcs", r.create_vpc),
    ("GET", f"/v1/vpcs/{_VPC}", r.get_vpc),
    ("PATCH", f"/v1/vpcs/{_VPC}", r.update_vpc),
    ("DELETE", f"/v1/vpcs/{_VPC}", r.delete_vpc),
    ("GET", f"/v1/vpcs/{_VPC}/default_network_acl", r.get_vpc_default_acl),
    ("GET", "/v1/network_acls", r.list_acls),
    ("POST", "/v1/network_acls", r.create_acl),
    ("GET", f"/v1/network_acls/{_ACL}", r.get_acl),
    ("PATCH", f"/v1/network_acls/{_ACL}", r.update_acl),
    ("DELETE", f"/v1/network_acls/{_ACL}", r.delete_acl),
    ("GET", f"/v1/network_acls/{_ACL}/rules", r.list_rules),
    ("POST", f"/v1/network_acls/{_ACL}/rules", r.create_rule),
    ("GET", f"/v1/network_acls/{_ACL}/rules/{_RULE}", r.get_rule),
    ("PATCH", f"/v1/network_acls/{_ACL}/rules/{_RULE}", r.update_rule),
    ("DELETE", f"/v1/network_acls/{_ACL}/rules/{_RULE}", r.delete_rule),
    ("GET", "/v1/subnets", r.list_subnets),
    ("POST", "/v1/subnets", r.create_subnet),
    ("GET", f"/v1/subnets/{_SUBNET}", r.get_subnet),
    ("PATCH", f"/v1/subnets/{_SUBNET}", r.update_subnet),
    ("DELETE", f"/v1/subnets/{_SUBNET}", r.delete_subnet),
    ("GET", f"/v1/subnets/{_SUBNET}/network_acl", r.get_subnet_acl),
    ("PUT", f"/v1/subnets/{_SUBNET}/network_acl", r.replace_subnet_acl),
    ("GET", f"/v1/subnets/{_SUBNET}/public_gateway", r.get_subnet_gateway),
    ("PUT", f"/v1/subnets/{_SUBNET}/public_gateway", r.set_subnet_gateway),
    ("DELETE", f"/v1/subnets/{_SUBNET}/public_gateway", r.unset_subnet_gateway),
    ("GET", "/v1/public_gateways", r.list_gateways),
    ("POST", "/v1/public_gateways", r.create_gateway),
    ("GET", f"/v1/public_gateways/{_GATEWAY}", r.get_gateway),
    ("PATCH", f"/v1/public_gateways/{_GATEWAY}", r.update_gateway),
    ("DELETE", f"/v1/public_gateways/{_GATEWAY}", r.delete_gateway),
])

RM_ROUTES = routes([
    ("GET", "/v2/resource_groups", rm.list_resource_groups),
    ("POST", "/v2/resource_groups", rm.create_resource_group),
    ("GET", "/v2/resource_groups/(?P<group_id>[^/]+)", rm.get_resource_group),
])


def create(cloud: Any) -> VpcCloud:
    return VpcCloud(cloud)


def handle(state: VpcCloud, request: Request) -> Response:
    try:
        region = state.region(request.mount_args["region"])
        claims = _claims(state, request)
        version = check_version(request.arg("version"), request.arg("generation"))
        call = r.Call(state, region, View(region, request.base_url, version), claims)
        return _dispatch(VPC_ROUTES, call, request)
    except FakeVpcError as e:
        return Response.json(e.body(), e.status)


def handle_rm(state: VpcCloud, request: Request) -> Response:
    try:
        _claims(state, request)
        return _dispatch(RM_ROUTES, state, request)
    except FakeVpcError as e:
        return Response.json(e.body(), e.status)


def _dispatch(table: Any, context: Any, request: Request) -> Response:
    try:
        return dispatch(table, context, request)
    except NoRoute as e:
        if e.allowed:
            raise MethodNotAllowed(f"{request.method} is not allowed on {request.path}") from e
        raise NotFound(f"{request.path} not found") from e


def _claims(state: VpcCloud, request: Request) -> dict[str, Any] | None:
    """The claims of the caller's bearer token; None when no token was sent."""
    header = request.header("Authorization")
    if header is None:
        return None
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token:
        raise NotAuthorized("Authorization must be a bearer token from IAM")
    claims = state.cloud.state("netwarden.fakes.iam").verify(token.strip())
    if claims is None:
        raise NotAuthorized("the bearer token is not valid or has expired")
    return dict(claims)
