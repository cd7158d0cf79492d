"""Test-side adapter: np-guard/netpol-analyzer inputs -> ``Cluster``, expected outputs -> comparable sets.

netpol-analyzer reads every manifest of a directory, synthesises one pod per workload (from its pod
template), names peers ``ns/owner[Kind]`` and outside ranges ``a.b.c.d-e.f.g.h[External]``, and prints
allowed connections per pair. Its aggregation and range cuts are presentation, so both sides are
expanded before comparing: pod pairs to port sets, and each pod's outside connectivity to one exact
set over (address, protocol, port), so that ranges cut at other points still compare equal.

netpol-analyzer models TCP, UDP and SCTP only ("All Connections" is all three); netwarden also carries
the protocols without ports (ICMP and the rest) that an unrestricted rule or pod allows. Both sides are
compared on the three protocols netpol-analyzer models (``MODELED``); the rest is netwarden's own
tests' business (tests/unit/test_netpol_reachability.py).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import yaml

from netwarden.core.flows.algebra import Tree, union_trees
from netwarden.core.model import Cluster, ContainerPort, Namespace, NetworkPolicy, Pod
from netwarden.core.netpol.reachability import ALL, PROTOCOLS, PortSet, Reachability
from netwarden.core.netpol.reachability_diff import PairChange
from netwarden.core.normalize import netpol_spec

WORKLOADS = {"Deployment", "ReplicaSet", "StatefulSet", "DaemonSet", "Job", "ReplicationController", "CronJob"}
_IP = r"\d+\.\d+\.\d+\.\d+"
EXTERNAL = re.compile(rf"^({_IP})-({_IP})\[External\]$")


def _documents(path: Path) -> Iterator[Mapping[str, Any]]:
    text = path.read_text(encoding="utf-8")
    if path.suffix == ".json":
        try:
            docs: list[Any] = [json.loads(text)]
        except ValueError:
            return
    else:
        docs = []
        try:
            for doc in yaml.safe_load_all(text):
                docs.append(doc)
        except yaml.YAMLError:
            pass  # netpol-analyzer keeps the documents before a syntax error and reports the rest
    for doc in docs:
        if not isinstance(doc, Mapping):
            continue
        kind = str(doc.get("kind", ""))
        if kind.endswith("List"):
            item_kind = kind[: -len("List")] or None
            for item in doc.get("items") or []:
                if isinstance(item, Mapping):
                    yield item if item.get("kind") or not item_kind else {**item, "kind": item_kind}
        else:
            yield doc


def _ports(pod_spec: Mapping[str, Any]) -> tuple[ContainerPort, ...]:
    out = []
    for container in (pod_spec or {}).get("containers") or []:
        for port in container.get("ports") or []:
            if "containerPort" in port:
                out.append(ContainerPort(int(port["containerPort"]), port.get("protocol") or "TCP", port.get("name")))
    return tuple(out)


def load_cluster(directory: Path) -> Cluster:
    namespaces: dict[str, Namespace] = {}
    pods: dict[str, Pod] = {}
    policies: list[NetworkPolicy] = []
    for path in sorted(directory.rglob("*")):
        if path.suffix not in (".yaml", ".yml", ".json") or not path.is_file():
            continue
        for doc in _documents(path):
            kind = doc.get("kind")
            meta = doc.get("metadata") or {}
            ns = meta.get("namespace") or "default"
            if kind == "Namespace":
                namespaces[meta["name"]] = Namespace(meta["name"], dict(meta.get("labels") or {}))
            elif kind == "NetworkPolicy":
                policies.append(NetworkPolicy(ns, meta["name"], netpol_spec(doc.get("spec") or {})))
            elif kind == "Pod":
                owners = meta.get("ownerReferences") or []
                owner = next((o for o in owners if o.get("controller")), owners[0] if owners else None)
                if owner and owner.get("kind") != "Node":  # a static pod is its own workload
                    name = f"{owner['name']}[{owner.get('kind') or 'Pod'}]"
                else:
                    name = f"{meta['name']}[Pod]"
                labels = dict(meta.get("labels") or {})
                seen = pods.get(f"{ns}/{name}")
                if seen is not None:  # one workload, several pods: the labels they all share
                    labels = {k: v for k, v in seen.labels.items() if labels.get(k) == v}
                pods[f"{ns}/{name}"] = Pod(ns, name, labels, _ports(doc.get("spec") or {}))
            elif kind in WORKLOADS:
                spec = doc.get("spec") or {}
                template = spec.get("template") or {}
                if kind == "CronJob":
                    template = ((spec.get("jobTemplate") or {}).get("spec") or {}).get("template") or {}
                name = f"{meta['name']}[{kind}]"
                labels = dict((template.get("metadata") or {}).get("labels") or {})
                pods.setdefault(f"{ns}/{name}", Pod(ns, name, labels, _ports(template.get("spec") or {})))
    return Cluster("conformance", tuple(namespaces.values()), tuple(policies), tuple(pods.values()))


#: The connections netpol-analyzer models: every port of TCP, UDP and SCTP.
MODELED = PortSet(union_trees([PortSet.of(p).tree for p in PROTOCOLS])) & ALL


# --- connection text -> sets --------------------------------------------------------------------


def parse_conns(text: str) -> PortSet:
    text = text.strip()
    if text == "All Connections":
        return MODELED
    if text == "No Connections":
        return PortSet()
    out = PortSet()
    proto = None
    for raw in text.split(","):
        token = raw.strip()
        if " " in token:
            proto, ports = token.split(" ", 1)
        elif token in PROTOCOLS:
            out = out | PortSet.of(token)
            continue
        else:
            ports = token
        assert proto is not None, text
        lo, _, hi = ports.partition("-")
        out = out | PortSet.of(proto, int(lo), int(hi or lo))
    return out


def _ip(text: str) -> int:
    a, b, c, d = (int(x) for x in text.split("."))
    return (a << 24) | (b << 16) | (c << 8) | d


def parse_endpoint(text: str) -> str | tuple[int, int]:
    m = EXTERNAL.match(text.strip())
    if m:
        return (_ip(m.group(1)), _ip(m.group(2)))
    return text.strip()


Comparable = tuple[dict[tuple[str, str], PortSet], dict[tuple[str, bool], Tree]]


def comparable(pairs: Mapping[tuple[Any, Any], PortSet]) -> Comparable:
    """Pod pairs as they are; outside pairs folded per (pod, outgoing) into one exact set; both on the
    protocols netpol-analyzer models."""
    pods: dict[tuple[str, str], PortSet] = {}
    ext: dict[tuple[str, bool], list[Tree]] = {}
    for (src, dst), every in pairs.items():
        conns = every & MODELED
        if not conns:
            continue
        if isinstance(src, str) and isinstance(dst, str):
            pods[(src, dst)] = conns
        elif isinstance(src, str):
            ext.setdefault((src, True), []).append(((dst[0], dst[1], conns.tree),))
        elif isinstance(dst, str):
            ext.setdefault((dst, False), []).append(((src[0], src[1], conns.tree),))
    return pods, {k: union_trees(v) for k, v in ext.items()}


def parse_connlist(text: str) -> Comparable:
    pairs: dict[tuple[Any, Any], PortSet] = {}
    for line in text.splitlines():
        if " => " not in line:
            continue
        left, conns = line.rsplit(" : ", 1)
        src, dst = left.split(" => ", 1)
        pairs[(parse_endpoint(src), parse_endpoint(dst))] = parse_conns(conns)
    return comparable(pairs)


def reach_comparable(reach: Reachability) -> Comparable:
    return comparable(reach.conns)


DIFF_LINE = re.compile(r"^diff-type: (\w+), source: (.+?), destination: (.+?), (?:ref1|dir1|old): (.+?), "
                       r"(?:ref2|dir2|new): (.+?)"
                       r"(?:, workloads-diff-info: .*)?$")


def parse_diff(text: str) -> dict[str, Comparable]:
    """Per diff-type, the pairs and their ref1 -> ref2 connections (as two comparables)."""
    before: dict[tuple[Any, Any], PortSet] = {}
    after: dict[tuple[Any, Any], PortSet] = {}
    for line in text.splitlines():
        m = DIFF_LINE.match(line.strip())
        if not m:
            continue
        _, src, dst, ref1, ref2 = m.groups()
        pair = (parse_endpoint(src), parse_endpoint(dst))
        before[pair], after[pair] = parse_conns(ref1), parse_conns(ref2)
    return {"before": comparable(before), "after": comparable(after)}


def diff_comparable(changes: list[PairChange]) -> dict[str, Comparable]:
    """The changes netpol-analyzer can see: not those only of the protocols it does not model."""
    seen = [c for c in changes if c.before & MODELED != c.after & MODELED]
    before = {(c.source, c.destination): c.before for c in seen}
    after = {(c.source, c.destination): c.after for c in seen}
    return {"before": comparable(before), "after": comparable(after)}


def describe(a: Comparable, b: Comparable, limit: int = 6) -> str:
    """A short account of how two comparables differ, for assertion messages."""
    out = []
    for key in sorted(set(a[0]) | set(b[0]))[:2000]:
        if a[0].get(key) != b[0].get(key):
            got, want = a[0].get(key), b[0].get(key)
            out.append(f"{key}: got {got.text() if got else None} want {want.text() if want else None}")
    for key in sorted(set(a[1]) | set(b[1])):
        if a[1].get(key) != b[1].get(key):
            out.append(f"outside {key} differs")
    return "; ".join(out[:limit]) + (f" (+{len(out) - limit} more)" if len(out) > limit else "")
