"""A careless operator: the drifts the demo (and anyone trying netwarden) makes to the recipe estate.

Each change goes through the same public clients an operator would use against IBM Cloud and a
cluster: the ibm-vpc SDK (authenticated by the emulated IAM) and the kubernetes client. Nothing here
touches the emulators' state directly, so netwarden sees exactly what it would see in production:
the changed resources, and the Activity Tracker event each change emitted.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from ibm_cloud_sdk_core.authenticators import IAMAuthenticator
from ibm_vpc import VpcV1

from netwarden.fakes.iam import API_KEY


@dataclass(frozen=True, slots=True)
class Change:
    """One drift made: what a person would say they did, and the API call that did it."""

    said: str
    call: str


class CarelessOperator:
    """Drifts one VPC (``region``/``vpc``) and one cluster of the emulators served at ``url``."""

    def __init__(self, url: str, region: str, vpc: str, cluster: str | None = None) -> None:
        self.url = url.rstrip("/")
        self.vpc_name = vpc
        self.cluster = cluster
        self.sdk = VpcV1(authenticator=IAMAuthenticator(API_KEY, url=f"{self.url}/iam"))
        self.sdk.set_service_url(f"{self.url}/vpc/{region}/v1")

    # --- look-ups, as an operator would click through the console ---------------------------------
    def _vpc(self) -> dict[str, Any]:
        vpcs = self.sdk.list_vpcs(limit=100).get_result()["vpcs"]
        return next(v for v in vpcs if v["name"] == self.vpc_name)

    def _subnet(self, name: str) -> dict[str, Any]:
        subnets = self.sdk.list_subnets(vpc_name=self.vpc_name, limit=100).get_result()["subnets"]
        return next(s for s in subnets if s["name"] == name)

    def _acl(self, name: str) -> dict[str, Any]:
        acls = self.sdk.list_network_acls(limit=100).get_result()["network_acls"]
        return next(a for a in acls if a["name"] == name and a["vpc"]["name"] == self.vpc_name)

    # --- the drifts ---------------------------------------------------------------------------------
    def attach_default_acl(self, subnet: str) -> Change:
        """Re-attach ``subnet`` to the VPC's default allow-all ACL ("just to test something")."""
        default = self._vpc()["default_network_acl"]
        target = self._subnet(subnet)
        self.sdk.replace_subnet_network_acl(target["id"], {"id": default["id"]})
        return Change(f"re-attached subnet {subnet} to the VPC's default ACL {default['name']}",
                      f"PUT /v1/subnets/{target['id']}/network_acl {{\"id\": \"{default['id']}\"}}")

    def delete_rule(self, acl: str, rule: str) -> Change:
        """Delete rule ``rule`` of ACL ``acl`` (during an incident, "for a minute")."""
        found = self._acl(acl)
        rule_id = next(r["id"] for r in found["rules"] if r["name"] == rule)
        self.sdk.delete_network_acl_rule(found["id"], rule_id)
        return Change(f"deleted rule {rule} of ACL {acl}", f"DELETE /v1/network_acls/{found['id']}/rules/{rule_id}")

    def attach_new_gateway(self, subnet: str, gateway: str) -> Change:
        """Create a public gateway in ``subnet``'s zone and attach it ("for a minute")."""
        target = self._subnet(subnet)
        created = self.sdk.create_public_gateway(vpc={"id": target["vpc"]["id"]}, zone={"name": target["zone"]["name"]},
                                                 name=gateway).get_result()
        self.sdk.set_subnet_public_gateway(target["id"], {"id": created["id"]})
        return Change(f"attached a new public gateway {gateway} to subnet {subnet}",
                      f"PUT /v1/subnets/{target['id']}/public_gateway {{\"id\": \"{created['id']}\"}}")

    def detach_gateway(self, subnet: str) -> Change:
        """Detach ``subnet``'s public gateway (the new one in another zone "does the same")."""
        target = self._subnet(subnet)
        gateway = (target.get("public_gateway") or {}).get("name")
        self.sdk.unset_subnet_public_gateway(target["id"])
        return Change(f"detached public gateway {gateway} from subnet {subnet}",
                      f"DELETE /v1/subnets/{target['id']}/public_gateway")

    def open_ssh(self, group: str) -> Change:
        """Let ssh in from anywhere on security group ``group`` ("to debug a worker")."""
        groups = self.sdk.list_security_groups(vpc_name=self.vpc_name, limit=100).get_result()["security_groups"]
        found = next(g for g in groups if g["name"] == group)
        body = {"direction": "inbound", "protocol": "tcp", "port_min": 22, "port_max": 22,
                "remote": {"cidr_block": "0.0.0.0/0"}}
        self.sdk.create_security_group_rule(found["id"], body)
        return Change(f"opened tcp 22 from 0.0.0.0/0 on security group {group}",
                      f"POST /v1/security_groups/{found['id']}/rules {json.dumps(body)}")

    def widen_policy(self, namespace: str, name: str) -> Change:
        """Let every namespace in where one was allowed: ``namespaceSelector: {}`` in each ingress peer."""
        from kubernetes import client

        if self.cluster is None:
            raise ValueError("no cluster to drift")
        api = client.NetworkingV1Api(client.ApiClient(client.Configuration(host=f"{self.url}/k8s/{self.cluster}")))
        policy = api.read_namespaced_network_policy(name, namespace)
        spec = client.ApiClient().sanitize_for_serialization(policy.spec)  # type: ignore[no-untyped-call]
        for rule in spec.get("ingress") or []:
            for peer in rule.get("from") or []:
                if "namespaceSelector" in peer:
                    peer["namespaceSelector"] = {}
        api.patch_namespaced_network_policy(name, namespace, {"spec": {"ingress": spec.get("ingress") or []}})
        return Change(f"widened NetworkPolicy {namespace}/{name} to every namespace",
                      f"PATCH /apis/networking.k8s.io/v1/namespaces/{namespace}/networkpolicies/{name}")
