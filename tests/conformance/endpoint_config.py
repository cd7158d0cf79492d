"""Test-side reader of np-guard/vpc-network-config-analyzer's configs for the endpoint-level reports.

Reads a config as the analyzer does (``pkg/ibmvpc/parser.go``): the endpoints (an instance's network
interfaces, or its virtual ones when it has network attachments; an endpoint gateway's reserved IPs;
an IKS worker node), the groups each is a member of by the groups' targets (IKS workers are members of
their cluster's ``kube-<clusterID>`` group and of the VPC's default group, which the config leaves
out), each group's rules through ``core.sg_rules``, each subnet's ACL flows through ``AclFlows``, and
which interfaces have a floating IP and which subnets a public gateway. Load balancers are not
endpoints (netwarden reads none), but their private IPs count as members of their groups.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from netwarden.core import sg_rules
from netwarden.core.acl.evaluate import AclFlows
from netwarden.core.flows.algebra import Interval, cidr_interval
from netwarden.core.model import SgRule
from netwarden.core.normalize import acl_rule_from_api


@dataclass(frozen=True)
class Endpoint:
    label: str  # as the analyzer prints it: name[address]
    address: Interval
    subnet: str  # subnet id
    public: bool = False  # a floating IP: the internet both ways
    via_gateway: bool = False  # a public gateway source (instance interfaces, IKS workers)


@dataclass
class Estate:
    """One VPC: its endpoints, each group's members (by label) and their addresses, the groups' rules,
    and per subnet its ACL's flows and whether it has a public gateway."""

    name: str
    endpoints: list[Endpoint] = field(default_factory=list)
    membership: dict[str, set[str]] = field(default_factory=dict)  # group id -> member labels
    rules: dict[str, tuple[SgRule, ...]] = field(default_factory=dict)  # group id -> rules
    group_ids: dict[str, str] = field(default_factory=dict)  # group name -> id
    addresses: dict[str, list[Interval]] = field(default_factory=dict)  # group id -> member addresses
    acls: dict[str, AclFlows] = field(default_factory=dict)  # subnet id -> its ACL's flows
    gateways: set[str] = field(default_factory=set)  # subnet ids with a public gateway


def _ip(address: str) -> Interval:
    iv = cidr_interval(f"{address}/32")
    assert iv is not None
    return iv


def _vpc_key(ref: Mapping[str, Any]) -> str:
    return str(ref.get("crn") or ref["id"])


def load_estates(path: Path) -> list[Estate]:
    """The config file's VPCs, read as the analyzer reads them (module docstring)."""
    data = json.loads(path.read_text(encoding="utf-8"))
    estates = {_vpc_key(v): Estate(v["name"]) for v in data.get("vpcs") or []}
    subnets = {s["id"]: s for s in data.get("subnets") or []}
    acls = {a["id"]: AclFlows.of(tuple(acl_rule_from_api(r) for r in a.get("rules") or []))
            for a in data.get("network_acls") or []}
    for s in subnets.values():
        estate = estates[_vpc_key(s["vpc"])]
        estate.acls[s["id"]] = acls[s["network_acl"]["id"]]
        if s.get("public_gateway"):
            estate.gateways.add(s["id"])
    by_cidr = {s["ipv4_cidr_block"]: s for s in subnets.values()}

    def subnet_of(address: str) -> dict[str, Any]:
        point = _ip(address)
        for s in subnets.values():
            iv = cidr_interval(s["ipv4_cidr_block"])
            if iv is not None and iv[0] <= point[0] <= iv[1]:
                return s
        raise AssertionError(f"{address} is in no subnet")

    floating = {str(f["target"]["id"]) for f in data.get("floating_ips") or []
                if (f.get("target") or {}).get("resource_type") in ("network_interface", "virtual_network_interface")}
    targets: dict[str, list[str]] = {}  # a group target's id or crn -> the member labels it stands for
    vnis = {v["target"]["id"]: v for v in data.get("virtual_nis") or []}  # by the attachment they serve
    for instance in data.get("instances") or []:
        # an instance with network attachments is reached through their virtual interfaces only
        nics = [vnis[a["id"]] for a in instance.get("network_attachments") or []] or \
            instance.get("network_interfaces") or []
        for nic in nics:
            address = nic["primary_ip"]["address"]
            endpoint = Endpoint(f"{instance['name']}[{address}]", _ip(address), nic["subnet"]["id"],
                                public=nic["id"] in floating, via_gateway=True)
            estates[_vpc_key(instance["vpc"])].endpoints.append(endpoint)
            targets.setdefault(nic["id"], []).append(endpoint.label)
    for gateway in data.get("endpoint_gateways") or []:
        estate = estates[_vpc_key(gateway["vpc"])]
        for ip in gateway.get("ips") or []:
            address = ip["address"]
            endpoint = Endpoint(f"{gateway['name']}[{address}]", _ip(address), subnet_of(address)["id"])
            estate.endpoints.append(endpoint)
            for key in (gateway.get("crn"), gateway.get("id")):
                if key:
                    targets.setdefault(key, []).append(endpoint.label)
    for lb in data.get("load_balancers") or []:
        for ip in lb.get("private_ips") or []:
            for key in (lb.get("crn"), lb.get("id")):
                if key:
                    targets.setdefault(key, []).append(f"lb[{ip['address']}]")  # a member only
    groups = data.get("security_groups") or []
    extra: dict[str, list[str]] = {}  # group id -> IKS worker labels
    for cluster in data.get("iks_clusters") or []:
        workers: list[str] = []
        estate = None
        for node in cluster.get("WorkerNodes") or []:
            (nic,) = node["networkInterfaces"]
            subnet = by_cidr.get(nic["cidr"])
            if subnet is None:
                continue
            estate = estates[_vpc_key(subnet["vpc"])]
            endpoint = Endpoint(f"iks-node[{nic['ipAddress']}]", _ip(nic["ipAddress"]), subnet["id"], via_gateway=True)
            estate.endpoints.append(endpoint)
            workers.append(endpoint.label)
        own = [g for g in groups if g["name"] == f"kube-{cluster['id']}"]
        default = [g for v in data.get("vpcs") or [] if estate is not None and estates[_vpc_key(v)] is estate
                   for g in groups if g.get("crn") == (v.get("default_security_group") or {}).get("crn")]
        for g in own + default:
            extra.setdefault(g["id"], []).extend(workers)
    names = {g["id"]: g["name"] for g in groups}
    for g in groups:
        estate = estates[_vpc_key(g["vpc"])]
        estate.group_ids[g["name"]] = g["id"]
        estate.rules[g["id"]] = tuple(sg_rules.from_api(r, names) for r in g.get("rules") or [])
        members = {label for t in g.get("targets") or [] for key in (t.get("id"), t.get("crn")) if key
                   for label in targets.get(key, [])}
        estate.membership[g["id"]] = members | set(extra.get(g["id"], []))
    for estate in estates.values():
        estate.endpoints = sorted(set(estate.endpoints), key=lambda e: e.label)
        for gid, members in estate.membership.items():
            estate.addresses[gid] = sorted({_ip(m.split("[", 1)[1].rstrip("]")) for m in members})
    return list(estates.values())
