"""Named, reproducible estates, built only through the emulator's own HTTP API with the real SDK.

Nothing here touches the emulator's state directly: every resource is created with ``VpcV1`` over
HTTP, authenticated by the emulated IAM, exactly as a user would build it on IBM Cloud. Names are
fixed; ids are the emulator's (random).

* ``none``: nothing at all.
* ``recipe``: the VPC side of a baseline (the committed ``baseline/`` of IBM's recipe: one VPC in
  us-south, three zone subnets each with its own custom ACL, a public gateway on zone 1 only, and a
  secure-by-default cluster's security groups), built from the baseline ``Snapshot`` itself, so the
  estate and the baseline cannot disagree. The ACLs get the baseline's rules in order, the subnets their
  zone and CIDR (or, when the baseline leaves them out, the zone their name ends with and the zone's
  next free /24), the VPC's default ACL and default security group the baseline's names. The groups
  get their rules, and their targets are registered through the emulator's control routes
  (``fakes.vpc.control``), network interfaces on the VPC's first subnet; when a group's name carries a
  VPC id (``kube-vpegw-<vpcID>``), the VPC is given that id. When the Kubernetes emulator ships
  ``fakes.kube.scenarios``, its ``build_recipe_cluster`` builds
  the cluster side from the same baseline.
* ``large:N``: for benchmarks. N VPCs in each of three regions (us-south, us-east, eu-de); each VPC has
  20 ACLs: its default ACL (2 rules) and 19 custom ACLs of 10 rules (the recipe's shape: inter-zone, the
  IBM private ranges both ways, deny-all last); 3 subnets (one per zone, each on one of the first three
  custom ACLs) and one public gateway, on zone 1, attached to the zone-1 subnet; 5 security groups: its
  default group, ``bench-sg-workers`` and three of two rules (one naming the workers' group as remote).
  ``large:10`` is 3 regions x 10 VPCs x 20 ACLs: 600 ACLs, 5,760 rules, 90 subnets, 30 gateways, 150 groups.
"""

from __future__ import annotations

import importlib
import importlib.util
import re
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from ibm_cloud_sdk_core import ApiException
from ibm_cloud_sdk_core.authenticators import IAMAuthenticator
from ibm_vpc import VpcV1

from netwarden.core import sbd, sg_rules
from netwarden.core.errors import NetwardenError
from netwarden.core.model import SecurityGroup, Snapshot, Vpc
from netwarden.core.normalize import acl_rule_from_api, acl_rule_to_api
from netwarden.fakes.iam import API_KEY

LARGE_REGIONS = ("us-south", "us-east", "eu-de")
#: ACLs per VPC in ``large:N``, its default ACL included.
LARGE_ACLS_PER_VPC = 20
LARGE_RULES_PER_ACL = 10
#: Security groups per VPC in ``large:N``, its default group included.
LARGE_GROUPS_PER_VPC = 5
_LARGE = re.compile(r"^large:(\d+)$")
_ZONE_SUFFIX = re.compile(r"-(\d)$")


#: The environment variable a written config names for the API key (its value: ``fake-apikey``).
API_KEY_ENV = "NETWARDEN_FAKE_APIKEY"


class ScenarioError(NetwardenError):
    """An unknown scenario name, a recipe asked for without a baseline, or a build the API refused."""


def regions(name: str, baseline: Snapshot | None = None) -> tuple[str, ...]:
    """The regions the scenario populates (what a config pointing at it should read)."""
    if name == "recipe":
        found = sorted({v.region for v in _need(baseline).vpcs})
        return tuple(found) or ("us-south",)
    if _LARGE.match(name):
        return LARGE_REGIONS
    if name == "none":
        return ("us-south",)
    raise ScenarioError(f"unknown scenario {name!r} (expected recipe, none or large:N)")


def build(name: str, url: str, *, baseline: Snapshot | None = None) -> None:
    """Build scenario ``name`` in the emulators served at ``url`` (``http://127.0.0.1:P``)."""
    regions(name, baseline)  # validates the name
    builder = _Builder(url)
    try:
        if name == "recipe":
            recipe = _need(baseline)
            for vpc in recipe.vpcs:
                builder.vpc_from_baseline(vpc)
            _kube_recipe(url, recipe)
        elif m := _LARGE.match(name):
            builder.large(int(m.group(1)))
    except ApiException as e:
        raise ScenarioError(f"building scenario {name}: the emulator refused a call (HTTP {e.status_code}): "
                            f"{e.message}") from e


def clusters(name: str, baseline: Snapshot | None = None) -> tuple[str, ...]:
    """The Kubernetes clusters the scenario serves (the recipe's, when the Kubernetes emulator is there)."""
    if name != "recipe" or baseline is None or importlib.util.find_spec("netwarden.fakes.kube.scenarios") is None:
        return ()
    return tuple(c.name for c in baseline.clusters)


def config_for(url: str, name: str, baseline: Snapshot | None, baseline_dir: str) -> dict[str, Any]:
    """A netwarden.yaml (as data) that points every reader at the emulators serving ``name`` at ``url``."""
    config: dict[str, Any] = {
        "baseline": baseline_dir,
        "ibmcloud": {"regions": list(regions(name, baseline)), "api_key_env": API_KEY_ENV,
                     "vpc_url": f"{url}/vpc/{{region}}/v1", "iam_url": f"{url}/iam",
                     "resource_manager_url": f"{url}/rm"},
    }
    served = clusters(name, baseline)
    if served and baseline is not None:
        # the baseline's namespaces are the managed ones: kube-system and default are not the estate
        config["kubernetes"] = {"clusters": [
            {"name": c.name, "server": f"{url}/k8s/{c.name}", "namespaces": [n.name for n in c.namespaces]}
            for c in baseline.clusters if c.name in served]}
    return config


def _need(baseline: Snapshot | None) -> Snapshot:
    if baseline is None:
        raise ScenarioError("the recipe scenario is built from a baseline: pass the baseline Snapshot")
    return baseline


def _kube_recipe(url: str, baseline: Snapshot) -> None:
    """The cluster side of the recipe, when the Kubernetes emulator ships its scenario builder."""
    if not baseline.clusters:
        return
    try:
        kube = importlib.import_module("netwarden.fakes.kube.scenarios")
    except ModuleNotFoundError:
        return
    kube.build_recipe_cluster(url, baseline)


class _Builder:
    def __init__(self, url: str) -> None:
        self.url = url.rstrip("/")
        self.authenticator = IAMAuthenticator(API_KEY, url=f"{self.url}/iam")
        self._clients: dict[str, VpcV1] = {}

    def client(self, region: str) -> VpcV1:
        if region not in self._clients:
            client = VpcV1(authenticator=self.authenticator)
            client.set_service_url(f"{self.url}/vpc/{region}/v1")
            self._clients[region] = client
        return self._clients[region]

    def control(self, region: str, what: str, body: dict[str, Any]) -> dict[str, Any]:
        """A call to the emulator owner's routes (``fakes.vpc.control``)."""
        import requests

        response = requests.post(f"{self.url}/_fake/vpc/{region}/{what}", json=body, timeout=30)
        if response.status_code != 201:
            raise ScenarioError(f"building scenario recipe: POST /_fake/vpc/{region}/{what} answered "
                                f"{response.status_code}: {response.text}")
        result: dict[str, Any] = response.json()
        return result

    def vpc_from_baseline(self, vpc: Vpc) -> None:
        sdk = self.client(vpc.region)
        for group in vpc.security_groups:
            owner = sbd.parse_group_name(group.name)
            if owner is not None and sbd.KINDS[owner.kind].owner is sbd.Owner.VPC:
                self.control(vpc.region, "vpc-ids", {"name": vpc.name, "id": owner.owner_id})
        created = sdk.create_vpc(name=vpc.name).get_result()
        vpc_id = created["id"]
        acl_ids: dict[str, str] = {}
        default = created["default_network_acl"]
        if vpc.default_acl is not None:
            self._become(sdk, default, vpc.acl(vpc.default_acl), vpc.default_acl)
            acl_ids[vpc.default_acl] = default["id"]
        for acl in vpc.acls:
            if acl.name in acl_ids:
                continue
            prototype = {"name": acl.name, "vpc": {"id": vpc_id}, "rules": [acl_rule_to_api(r) for r in acl.rules]}
            acl_ids[acl.name] = sdk.create_network_acl(prototype).get_result()["id"]
        zones = {s.name: s.zone or _zone_for(vpc.region, s.name, i) for i, s in enumerate(vpc.subnets)}
        gateway_ids = self._gateways(sdk, vpc, vpc_id, zones)
        subnet_ids: list[str] = []
        for subnet in vpc.subnets:
            body: dict[str, Any] = {"name": subnet.name, "vpc": {"id": vpc_id}, "zone": {"name": zones[subnet.name]}}
            if subnet.cidr:
                body["ipv4_cidr_block"] = subnet.cidr
            else:
                body["total_ipv4_address_count"] = 256
            if subnet.network_acl and subnet.network_acl in acl_ids:
                body["network_acl"] = {"id": acl_ids[subnet.network_acl]}
            subnet_id = sdk.create_subnet(body).get_result()["id"]
            subnet_ids.append(subnet_id)
            if subnet.public_gateway:
                sdk.set_subnet_public_gateway(subnet_id, {"id": gateway_ids[subnet.public_gateway]})
        if vpc.security_groups:
            self._groups(sdk, vpc, created, subnet_ids[0] if subnet_ids else None)

    def _groups(self, sdk: VpcV1, vpc: Vpc, created: dict[str, Any], subnet_id: str | None) -> None:
        """The baseline's groups with their rules (the VPC's default group renamed and given the
        baseline's rules), then their targets, each bound to its groups in the baseline's order."""
        default = created["default_security_group"]["id"]
        ids: dict[str, str] = {}
        for group in vpc.security_groups:
            if group.name == vpc.default_security_group:
                sdk.update_security_group(default, {"name": group.name})
                ids[group.name] = default
            else:
                made = sdk.create_security_group(vpc={"id": created["id"]}, name=group.name).get_result()
                ids[group.name] = made["id"]
        for group in vpc.security_groups:
            self._rules(sdk, ids[group.name], group, ids)
        bound: dict[tuple[str, str], list[str]] = {}
        for group in vpc.security_groups:
            for target in group.targets:
                bound.setdefault((target.type, target.name), []).append(ids[group.name])
        for (kind, name), groups in bound.items():
            place = {"subnet": subnet_id} if kind.endswith("network_interface") else {"vpc": created["id"]}
            self.control(vpc.region, "targets", {"kind": kind, "name": name, "security_groups": groups, **place})

    @staticmethod
    def _rules(sdk: VpcV1, group_id: str, group: SecurityGroup, ids: dict[str, str]) -> None:
        current = sdk.get_security_group(group_id).get_result()["rules"]
        names = {v: k for k, v in ids.items()}
        if sg_rules.canonical(sg_rules.from_api(r, names) for r in current) == group.rules:
            return
        for rule in current:
            sdk.delete_security_group_rule(group_id, rule["id"])
        for wanted in group.rules:
            sdk.create_security_group_rule(group_id, sg_rules.to_api(wanted, ids))

    @staticmethod
    def _become(sdk: VpcV1, default: dict[str, Any], acl: Any, name: str) -> None:
        """Give the VPC's default ACL the baseline's name and, when the baseline lists it, its rules."""
        sdk.update_network_acl(default["id"], {"name": name})
        if acl is None:
            return
        current = sdk.get_network_acl(default["id"]).get_result()["rules"]
        if [acl_rule_from_api(r) for r in current] == list(acl.rules):
            return
        for rule in current:
            sdk.delete_network_acl_rule(default["id"], rule["id"])
        for wanted in acl.rules:
            sdk.create_network_acl_rule(default["id"], acl_rule_to_api(wanted))

    def _gateways(self, sdk: VpcV1, vpc: Vpc, vpc_id: str, zones: dict[str, str]) -> dict[str, str]:
        wanted: dict[str, str | None] = {g: None for g in vpc.public_gateways}
        for subnet in vpc.subnets:
            if subnet.public_gateway:
                wanted[subnet.public_gateway] = zones[subnet.name]
        free = [z for z in _zones(vpc.region) if z not in wanted.values()]
        ids = {}
        for name, zone in wanted.items():
            where = zone or free.pop(0)
            created = sdk.create_public_gateway(vpc={"id": vpc_id}, zone={"name": where}, name=name)
            ids[name] = created.get_result()["id"]
        return ids

    def large(self, count: int) -> None:
        """One thread per region (the server is threaded; the estates of regions are independent)."""
        self.authenticator.token_manager.get_token()  # one token, fetched before the threads share it
        for region in LARGE_REGIONS:
            self.client(region)
        with ThreadPoolExecutor(max_workers=len(LARGE_REGIONS)) as pool:
            for done in [pool.submit(self._large_region, region, count) for region in LARGE_REGIONS]:
                done.result()

    def _large_region(self, region: str, count: int) -> None:
        sdk = self.client(region)
        for v in range(count):
            vpc_id = sdk.create_vpc(name=f"bench-vpc-{v:03d}").get_result()["id"]
            acl_ids = [sdk.create_network_acl({"name": f"bench-acl-{a:03d}", "vpc": {"id": vpc_id},
                                               "rules": list(_bench_rules(a))}).get_result()["id"]
                       for a in range(LARGE_ACLS_PER_VPC - 1)]
            zones = _zones(region)
            gateway = sdk.create_public_gateway(vpc={"id": vpc_id}, zone={"name": zones[0]},
                                                name="bench-gateway").get_result()["id"]
            for z, zone in enumerate(zones):
                body: dict[str, Any] = {"name": f"bench-subnet-{z + 1}", "vpc": {"id": vpc_id},
                                        "zone": {"name": zone}, "ipv4_cidr_block": f"10.240.{64 * z}.0/24",
                                        "network_acl": {"id": acl_ids[z % len(acl_ids)]}}
                if z == 0:
                    body["public_gateway"] = {"id": gateway}
                sdk.create_subnet(body)
            workers = sdk.create_security_group(vpc={"id": vpc_id}, name="bench-sg-workers").get_result()["id"]
            for g in range(LARGE_GROUPS_PER_VPC - 2):
                rules = [{"direction": "inbound", "protocol": "tcp", "port_min": 8000 + g, "port_max": 8000 + g,
                          "remote": {"id": workers}},
                         {"direction": "outbound", "protocol": "icmp_tcp_udp", "remote": {"cidr_block": "10.0.0.0/8"}}]
                sdk.create_security_group(vpc={"id": vpc_id}, name=f"bench-sg-{g:03d}", rules=rules)


def _zones(region: str) -> list[str]:
    return [f"{region}-{i}" for i in (1, 2, 3)]


def _zone_for(region: str, subnet: str, index: int) -> str:
    m = _ZONE_SUFFIX.search(subnet)
    if m and 1 <= int(m.group(1)) <= 3:
        return f"{region}-{m.group(1)}"
    return _zones(region)[index % 3]


def _bench_rules(acl: int) -> Iterable[dict[str, Any]]:
    """Ten rules in the recipe's shape, varied by ACL so that no two ACLs are the same."""
    other, anywhere = f"10.240.{64 + acl % 64}.0/24", "0.0.0.0/0"
    table: list[tuple[str, str, str, str, str, str, tuple[int, int] | None]] = [
        ("allow-workers-inbound", "allow", "inbound", "icmp_tcp_udp", other, anywhere, None),
        ("allow-workers-outbound", "allow", "outbound", "icmp_tcp_udp", anywhere, other, None),
        ("allow-ibm-private-network-inbound", "allow", "inbound", "icmp_tcp_udp", "166.8.0.0/14", anywhere, None),
        ("allow-ibm-private-network-outbound", "allow", "outbound", "icmp_tcp_udp", anywhere, "166.8.0.0/14", None),
        ("allow-ibm-private-network2-inbound", "allow", "inbound", "icmp_tcp_udp", "161.26.0.0/16", anywhere, None),
        ("allow-ibm-private-network2-outbound", "allow", "outbound", "icmp_tcp_udp", anywhere, "161.26.0.0/16", None),
        ("allow-https-inbound", "allow", "inbound", "tcp", anywhere, anywhere, (443, 443)),
        ("allow-nodeports-inbound", "allow", "inbound", "tcp", anywhere, anywhere, (30000 + acl, 32767)),
        ("deny-all-inbound", "deny", "inbound", "any", anywhere, anywhere, None),
        ("deny-all-outbound", "deny", "outbound", "any", anywhere, anywhere, None),
    ]
    for name, action, direction, protocol, source, destination, ports in table:
        rule: dict[str, Any] = {"name": name, "action": action, "direction": direction, "protocol": protocol,
                                "source": source, "destination": destination}
        if ports is not None:
            rule["destination_port_min"], rule["destination_port_max"] = ports
        yield rule
