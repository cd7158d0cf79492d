"""The routes of the emulated VPC API (``/vpc/<region>/v1/...``) and resource manager (``/rm/v2/...``).

The tables are data: method, path pattern with named groups, handler. ``handle`` checks what every
VPC call must carry, as strictly as IBM Cloud does, since a lenient emulator hides the bugs the real
API would show: a known region; ``Authorization: Bearer <token>`` with a token the emulated IAM issued
and that has not expired (401 ``not_authorized`` otherwise, on the resource manager too); ``version``,
a date no later than today in the emulators' clock (UTC), and ``generation``. It serialises every
``FakeVpcError`` into IBM's error body, once.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from netwarden.fakes.vpc import responses as r
from netwarden.fakes.vpc import responses_rm as rm
from netwarden.fakes.vpc import responses_sg as sg
from netwarden.fakes.vpc.exceptions import FakeVpcError, MethodNotAllowed, NotAuthorized, NotFound
from netwarden.fakes.vpc.models import VpcCloud, check_version
from netwarden.fakes.vpc.render import View
from netwarden.fakes.wire import NoRoute, Request, Response, dispatch, routes

_ID = r"(?P<{}>[^/]+)"
_VPC, _ACL, _RULE = _ID.format("vpc_id"), _ID.format("acl_id"), _ID.format("rule_id")
_SUBNET, _GATEWAY = _ID.format("subnet_id"), _ID.format("gateway_id")
_SG, _TARGET = _ID.format("sg_id"), _ID.format("target_id")

VPC_ROUTES = routes([
    ("GET", "/v1/vpcs", r.list_vpcs),
    ("POST", "/v1/vpcs", r.create_vpc),
    ("GET", f"/v1/vpcs/{_VPC}", r.get_vpc),
    ("PATCH", f"/v1/vpcs/{_VPC}", r.update_vpc),
    ("DELETE", f"/v1/vpcs/{_VPC}", r.delete_vpc),
    ("GET", f"/v1/vpcs/{_VPC}/default_network_acl", r.get_vpc_default_acl),
    ("GET", f"/v1/vpcs/{_VPC}/default_security_group", sg.get_vpc_default_security_group),
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
    ("GET", "/v1/security_groups", sg.list_security_groups),
    ("POST", "/v1/security_groups", sg.create_security_group),
    ("GET", f"/v1/security_groups/{_SG}", sg.get_security_group),
    ("PATCH", f"/v1/security_groups/{_SG}", sg.update_security_group),
    ("DELETE", f"/v1/security_groups/{_SG}", sg.delete_security_group),
    ("GET", f"/v1/security_groups/{_SG}/rules", sg.list_security_group_rules),
    ("POST", f"/v1/security_groups/{_SG}/rules", sg.create_security_group_rule),
    ("GET", f"/v1/security_groups/{_SG}/rules/{_RULE}", sg.get_security_group_rule),
    ("PATCH", f"/v1/security_groups/{_SG}/rules/{_RULE}", sg.update_security_group_rule),
    ("DELETE", f"/v1/security_groups/{_SG}/rules/{_RULE}", sg.delete_security_group_rule),
    ("GET", f"/v1/security_groups/{_SG}/targets", sg.list_security_group_targets),
    ("GET", f"/v1/security_groups/{_SG}/targets/{_TARGET}", sg.get_security_group_target),
    ("PUT", f"/v1/security_groups/{_SG}/targets/{_TARGET}", sg.create_security_group_target_binding),
    ("DELETE", f"/v1/security_groups/{_SG}/targets/{_TARGET}", sg.delete_security_group_target_binding),
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
        today = datetime.fromtimestamp(state.cloud.now(), UTC).strftime("%Y-%m-%d")
        version = check_version(request.arg("version"), request.arg("generation"), today)
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


def _claims(state: VpcCloud, request: Request) -> dict[str, Any]:
    """The claims of the caller's bearer token, which every call must carry."""
    header = request.header("Authorization")
    if header is None:
        raise NotAuthorized("The request has no Authorization header: send `Authorization: Bearer <IAM token>`")
    scheme, _, token = header.strip().partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise NotAuthorized("The Authorization header must be `Bearer <IAM token>`")
    found = state.cloud.state("netwarden.fakes.iam").inspect(token.strip())
    if isinstance(found, str):
        raise NotAuthorized(found)
    return dict(found)
