"""``kubernetes/<cluster>/workloads.yaml``: the workloads of each namespace, and which need public egress.

Each entry is a workload as the NetworkPolicy analysis selects it (its name, its pods' labels, its
container ports: a pod), and optionally ``public_egress``: the gateway recipe's pin, naming the subnet
with the public gateway the workload's pods must run on (by subnet name; its node affinity names the
subnet's id, resolved at run time) and whether that subnet is kept for pinned workloads only
(``exclusive``). Problems are ``BaselineError``s naming the file, line and field (``baseline_schema``).
"""

from __future__ import annotations

from typing import Any

from netwarden.adapters.baseline_schema import (
    IBM_NAME,
    Sources,
    describe,
    fail,
    integer,
    k8s_labels,
    mapping,
    namespace_name,
    string,
)
from netwarden.adapters.yaml_io import PathKey, YamlDoc, dotted
from netwarden.core import lint
from netwarden.core.errors import Location, shown
from netwarden.core.model import ContainerPort, EgressPin, Pod
from netwarden.core.netpol import syntax

WORKLOAD_KEYS = ("name", "labels", "ports", "public_egress")
CONTAINER_PORT_KEYS = ("port", "protocol", "name")
PIN_KEYS = ("subnet", "exclusive")


def parse_workloads(doc: YamlDoc, cluster: str, sources: Sources | None) -> tuple[list[Pod], list[EgressPin]]:
    """The workloads (as pods, for the reachability analysis) and the public-egress pins among them."""
    data = {} if doc.data is None else mapping(doc, (), doc.data, None, "a mapping of namespace -> workloads")
    out = []
    pins = []
    for namespace, raw in data.items():
        namespace_name(doc, (namespace,), namespace)
        items = [] if raw is None else raw
        if not isinstance(items, list):
            raise fail(doc, (namespace,), f"expected a list of workloads, got {describe(items)}")
        seen: set[str] = set()
        for i, item in enumerate(items):
            path: PathKey = (namespace, i)
            entry = mapping(doc, path, item, WORKLOAD_KEYS, "a workload (name, labels, ports, public_egress)")
            if "name" not in entry:
                raise fail(doc, path, "missing: a workload needs a name", dotted((*path, "name")))
            name = string(doc, (*path, "name"), entry["name"])
            if syntax.dns1123_subdomain(name):
                raise fail(doc, (*path, "name"), f"{shown(name)} is not a valid pod name: "
                                                 f"{syntax.dns1123_subdomain(name)[0]}")
            if name in seen:
                raise fail(doc, (*path, "name"), f"duplicate workload {shown(name)} in namespace {namespace}")
            seen.add(name)
            if sources is not None:
                sources[lint.workload_subject(cluster, namespace, name)] = Location(doc.file, doc.line(path))
            out.append(Pod(namespace=namespace, name=name, labels=k8s_labels(doc, (*path, "labels"),
                                                                                entry.get("labels")),
                           ports=_container_ports(doc, (*path, "ports"), entry.get("ports"))))
            if entry.get("public_egress") is not None:
                pins.append(_pin(doc, (*path, "public_egress"), entry["public_egress"], namespace, name))
    return out, pins


def _pin(doc: YamlDoc, path: PathKey, raw: Any, namespace: str, name: str) -> EgressPin:
    """``public_egress: {subnet: NAME, exclusive: true|false}``: the subnet named as the baseline names it."""
    entry = mapping(doc, path, raw, PIN_KEYS, "the subnet the workload is pinned to (subnet, exclusive)")
    if "subnet" not in entry:
        raise fail(doc, path, "missing: the subnet with the public gateway the workload is pinned to",
                   dotted((*path, "subnet")))
    subnet = string(doc, (*path, "subnet"), entry["subnet"])
    if not IBM_NAME.fullmatch(subnet):
        raise fail(doc, (*path, "subnet"), f"{shown(subnet)} is not a subnet name")
    exclusive = entry.get("exclusive", False)
    if not isinstance(exclusive, bool):
        raise fail(doc, (*path, "exclusive"), f"expected true or false, got {describe(exclusive)}")
    return EgressPin(namespace, name, subnet, exclusive)


def _container_ports(doc: YamlDoc, path: PathKey, raw: Any) -> tuple[ContainerPort, ...]:
    if raw is None:
        return ()
    if not isinstance(raw, list):
        raise fail(doc, path, f"expected a list of ports, got {describe(raw)}")
    out = []
    for i, item in enumerate(raw):
        entry = mapping(doc, (*path, i), item, CONTAINER_PORT_KEYS, "a port (port, protocol, name)")
        if "port" not in entry:
            raise fail(doc, (*path, i), "missing: a port needs its number", dotted((*path, i, "port")))
        number = integer(doc, (*path, i, "port"), entry["port"])
        if syntax.port_number(number):
            raise fail(doc, (*path, i, "port"), f"port {number} is outside 1-65535")
        protocol = entry.get("protocol", "TCP")
        if protocol not in ("TCP", "UDP", "SCTP"):
            raise fail(doc, (*path, i, "protocol"), f"{shown(protocol)} is not TCP, UDP or SCTP")
        name = entry.get("name")
        if name is not None and syntax.port_name(string(doc, (*path, i, "name"), name)):
            raise fail(doc, (*path, i, "name"), f"{shown(name)} is not a valid port name: {syntax.port_name(name)[0]}")
        out.append(ContainerPort(port=number, protocol=protocol, name=name))
    return tuple(out)
