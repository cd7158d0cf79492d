"""What a scheduler and a kubelet would do for the emulated cluster, done at once on create.

A node gets a pod CIDR (``172.30.N.0/24``, IKS's pod network) when it has none; a pod is bound to the
node it names or to the least loaded one, and comes up ``Running`` with the first free address of
that node's pod CIDR and the node's InternalIP as its host IP. Without nodes a pod stays ``Pending``,
as it would on a cluster with no workers.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from typing import Any

Object = dict[str, Any]


def assign_pod_cidr(node: Object, allocated: int) -> int:
    """Give ``node`` the next pod CIDR if it has none; returns how many have been handed out."""
    spec = node.setdefault("spec", {})
    if spec.get("podCIDR"):
        return allocated
    spec["podCIDR"] = f"172.30.{allocated}.0/24"
    spec["podCIDRs"] = [spec["podCIDR"]]
    return allocated + 1


def schedule(pod: Object, nodes: Mapping[tuple[str, str], Object], pods: Iterable[Object]) -> None:
    """Bind ``pod`` to a node and start it; leave it Pending when there is no node to run it."""
    if not nodes:
        return
    placed = [p for p in pods if p.get("spec", {}).get("nodeName")]
    load = {name: sum(1 for p in placed if p["spec"]["nodeName"] == name) for _, name in nodes}
    name = pod["spec"].get("nodeName") or min(load, key=lambda n: (load[n], n))
    node = nodes.get(("", name))
    if node is None:
        return
    pod["spec"]["nodeName"] = name
    network = ipaddress.ip_network(str(node.get("spec", {}).get("podCIDR") or "172.30.255.0/24"))
    used = {(p.get("status") or {}).get("podIP") for p in placed if p["spec"]["nodeName"] == name}
    address = next(str(ip) for ip in network.hosts() if ip != network.network_address + 1 and str(ip) not in used)
    addresses = (node.get("status") or {}).get("addresses") or []
    host_ip = next((a.get("address") for a in addresses if a.get("type") == "InternalIP"), None)
    pod["status"] = {"phase": "Running", "podIP": address, "podIPs": [{"ip": address}],
                     "startTime": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
                     "conditions": [{"type": "Ready", "status": "True"}]}
    if host_ip:
        pod["status"]["hostIP"] = host_ip
