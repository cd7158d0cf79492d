"""Thin handlers of the emulated VPC API's security groups, their rules and their targets.

Same shape as ``responses``: read path, query and body; call ``models_sg_groups`` or
``models_sg_targets``; render. Mutations are wrapped by ``responses.mutation``, so each call records one
Activity Tracker event, success or failure, with the actions IBM documents (ibm-cloud-docs/vpc
``at-events.md``, "Security group events"): ``is.security-group.security-group.create|update|delete``,
``is.security-group.security-group-rule.create|update|delete`` and
``is.security-group.security-group-interface.attach|detach`` for binding and unbinding a target. Their
``requestData`` names ``security_group_id``, ``rule_id`` and ``target_id`` from the path, before anything
is looked up, so a refused call's event names them too.

Status codes: 200 for reads and PATCH, 201 for creates and for binding a new target (200 when it was
already bound), 204 for deletes. Listing rules is not paged (``SecurityGroupRuleCollection`` is only
``rules``); groups and targets are, as every collection.
"""

from __future__ import annotations

from netwarden.fakes.vpc import models, render
from netwarden.fakes.vpc import models_sg_groups as groups
from netwarden.fakes.vpc import models_sg_targets as targets
from netwarden.fakes.vpc.models_sg import SecurityGroup, SecurityGroupRule, SecurityGroupTarget
from netwarden.fakes.vpc.responses import Call, body, mutation
from netwarden.fakes.wire import Request, Response

_SG_FILTERS = ("resource_group.id", "vpc.id", "vpc.crn", "vpc.name")
_PATH_IDS = {"sg_id": "security_group_id", "rule_id": "rule_id", "target_id": "target_id"}


def _from_path(call: Call, request: Request) -> None:
    call.target.ids.update({_PATH_IDS[k]: v for k, v in request.params.items() if k in _PATH_IDS})


def _aim(call: Call, sg: SecurityGroup, *, rule: SecurityGroupRule | None = None,
         target: SecurityGroupTarget | None = None) -> None:
    """Point the call's event target at the group (for a rule: the rule, in its group)."""
    t = call.target
    t.crn, t.name, t.resource_group_id = call.view.crn("security-group", sg.id), sg.name, sg.resource_group_id
    t.ids.update(security_group_id=sg.id, vpc_id=sg.vpc_id)
    if rule is not None:
        t.crn, t.name = f"{t.crn}/rule:{rule.id}", rule.name
        t.ids.update(rule_id=rule.id, rule_name=rule.name, security_group_name=sg.name)
    if target is not None:
        t.ids.update(target_id=target.id, target_resource_type=target.kind, security_group_name=sg.name)


def _sg(call: Call, request: Request) -> SecurityGroup:
    return groups.group(call.region, request.params["sg_id"])


# --- groups -------------------------------------------------------------------------------------------------


def list_security_groups(call: Call, request: Request) -> Response:
    region = call.region
    f = {n: str(request.arg(n)) for n in _SG_FILTERS if request.arg(n)}
    items = models.filter_by_group(list(region.security_groups.values()), f.get("resource_group.id"))
    if "vpc.id" in f:
        items = [g for g in items if g.vpc_id == f["vpc.id"]]
    if "vpc.crn" in f:
        items = [g for g in items if call.view.crn("vpc", g.vpc_id) == f["vpc.crn"]]
    if "vpc.name" in f:
        items = [g for g in items if region.vpc(g.vpc_id).name == f["vpc.name"]]
    page = models.page(items, lambda g: g.id, request.arg("start"), request.arg("limit"))
    return Response.json(render.collection(call.view, "security_groups", "/security_groups", page,
                                           [render.security_group(call.view, g) for g in page.items], filters=f))


@mutation("is.security-group.security-group.create", "security-group")
def create_security_group(call: Call, request: Request) -> Response:
    sg = groups.create_group(call.region, body(request), call.version)
    _aim(call, sg)
    return Response.json(render.security_group(call.view, sg), 201)


def get_security_group(call: Call, request: Request) -> Response:
    return Response.json(render.security_group(call.view, _sg(call, request)))


@mutation("is.security-group.security-group.update", "security-group")
def update_security_group(call: Call, request: Request) -> Response:
    _from_path(call, request)
    _aim(call, _sg(call, request))
    sg = groups.update_group(call.region, request.params["sg_id"], body(request))
    _aim(call, sg)
    return Response.json(render.security_group(call.view, sg))


@mutation("is.security-group.security-group.delete", "security-group")
def delete_security_group(call: Call, request: Request) -> Response:
    _from_path(call, request)
    _aim(call, _sg(call, request))
    groups.delete_group(call.region, request.params["sg_id"])
    return Response.empty()


def get_vpc_default_security_group(call: Call, request: Request) -> Response:
    vpc = call.region.vpc(request.params["vpc_id"])
    return Response.json(render.security_group(call.view, groups.group(call.region, vpc.default_security_group_id)))


# --- rules --------------------------------------------------------------------------------------------------


def list_security_group_rules(call: Call, request: Request) -> Response:
    sg = _sg(call, request)
    return Response.json({"rules": [render.sg_rule(call.view, sg.id, r) for r in sg.rules]})


@mutation("is.security-group.security-group-rule.create", "security-group-rule")
def create_security_group_rule(call: Call, request: Request) -> Response:
    _from_path(call, request)
    sg = _sg(call, request)
    _aim(call, sg)
    rule = groups.create_rule(call.region, sg.id, body(request), call.version)
    _aim(call, sg, rule=rule)
    return Response.json(render.sg_rule(call.view, sg.id, rule), 201)


def get_security_group_rule(call: Call, request: Request) -> Response:
    sg = _sg(call, request)
    return Response.json(render.sg_rule(call.view, sg.id, sg.rule(request.params["rule_id"])))


@mutation("is.security-group.security-group-rule.update", "security-group-rule")
def update_security_group_rule(call: Call, request: Request) -> Response:
    _from_path(call, request)
    sg = _sg(call, request)
    _aim(call, sg, rule=sg.rule(request.params["rule_id"]))
    rule = groups.update_rule(call.region, sg.id, request.params["rule_id"], body(request), call.version)
    _aim(call, sg, rule=rule)
    return Response.json(render.sg_rule(call.view, sg.id, rule))


@mutation("is.security-group.security-group-rule.delete", "security-group-rule")
def delete_security_group_rule(call: Call, request: Request) -> Response:
    _from_path(call, request)
    sg = _sg(call, request)
    _aim(call, sg, rule=sg.rule(request.params["rule_id"]))
    groups.delete_rule(call.region, sg.id, request.params["rule_id"])
    return Response.empty()


# --- targets ------------------------------------------------------------------------------------------------


def list_security_group_targets(call: Call, request: Request) -> Response:
    sg = _sg(call, request)
    page = models.page(targets.targets_of(call.region, sg.id), lambda t: t.id, request.arg("start"),
                       request.arg("limit"))
    return Response.json(render.collection(call.view, "targets", f"/security_groups/{sg.id}/targets", page,
                                           [render.sg_target(call.view, t) for t in page.items], filters={}))


def get_security_group_target(call: Call, request: Request) -> Response:
    found = targets.bound_target(call.region, request.params["sg_id"], request.params["target_id"])
    return Response.json(render.sg_target(call.view, found))


@mutation("is.security-group.security-group-interface.attach", "security-group-interface")
def create_security_group_target_binding(call: Call, request: Request) -> Response:
    """A request body is not required and, if given, ignored (the SDK sends none)."""
    _from_path(call, request)
    _aim(call, _sg(call, request))
    found, new = targets.bind(call.region, request.params["sg_id"], request.params["target_id"])
    _aim(call, _sg(call, request), target=found)
    return Response.json(render.sg_target(call.view, found), 201 if new else 200)


@mutation("is.security-group.security-group-interface.detach", "security-group-interface")
def delete_security_group_target_binding(call: Call, request: Request) -> Response:
    _from_path(call, request)
    sg = _sg(call, request)
    _aim(call, sg)
    found = targets.unbind(call.region, sg.id, request.params["target_id"])
    _aim(call, sg, target=found)
    return Response.empty()
