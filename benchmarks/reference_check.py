"""The drift check a user could write in an afternoon, kept so that netwarden's speed is measured against
something (issue 14): if netwarden is not clearly faster and leaner than this, its caches and decoders are
not paying for themselves.

It reads what ``netwarden check --snapshot`` reads: every YAML file of the baseline directory (PyYAML
with libyaml's ``CSafeLoader``) and the live snapshot file (``json.load``). It matches objects by name
(VPCs, ACLs, subnets, namespaces, NetworkPolicies), smooths over the two spellings a first run shows
(the ids only the live side has; a port as a number or a string, ``1-65535`` for "any"), and runs
DeepDiff only on the objects that differ (``a != b``). It prints how many objects differ and exits 2
if any do, as ``netwarden check`` does. No validation, no impact analysis, no report: those are what
netwarden's time over this one buys.

``--ports-as-spelt`` leaves the ports as each side spells them: then nearly every ACL differs and goes
through DeepDiff, which is the slower checker a first afternoon ends with (at 10%, about 250 objects
differ instead of 20)::

    python benchmarks/scale.py --scale 0.1 --out scale-10
    python benchmarks/reference_check.py --baseline scale-10/baseline --snapshot scale-10/live.json
"""

from __future__ import annotations

import argparse
import json
import sys
from collections import Counter
from pathlib import Path
from typing import Any

import yaml
from deepdiff import DeepDiff

Key = tuple[str, ...]
ANY_PORT = "1-65535"
PORTS = ("destination_port", "source_port")


def comparable_rule(rule: dict[str, Any], smooth_ports: bool = True) -> dict[str, Any]:
    """An ACL rule without its id and, with ``smooth_ports``, with its ports spelt one way."""
    if not smooth_ports:
        return {k: v for k, v in rule.items() if k != "id"}
    out = {k: v for k, v in rule.items() if k != "id" and k not in PORTS}
    for field in PORTS:
        if rule.get(field) is not None and str(rule[field]) != ANY_PORT:
            out[field] = str(rule[field])
    return out


def _load(path: Path) -> Any:
    with path.open("rb") as f:
        return yaml.load(f, Loader=yaml.CSafeLoader)


def load_baseline(root: Path, smooth_ports: bool = True) -> dict[Key, Any]:
    """Every object of the baseline directory under its key: (kind, where..., name)."""
    objects: dict[Key, Any] = {}
    for path in sorted(root.rglob("*.y*ml")):
        parts = path.relative_to(root).parts
        if any(part.startswith(".") for part in parts):
            continue
        doc = _load(path)
        if parts[0] == "vpc" and len(parts) == 4 and path.stem == "vpc":
            objects[("vpc", parts[1], parts[2])] = {"default_acl": doc.get("default_network_acl"),
                                                    "public_gateways": sorted(doc.get("public_gateways") or [])}
        elif parts[0] == "vpc" and len(parts) == 4 and path.stem == "subnets":
            for name, subnet in (doc or {}).items():
                objects[("subnet", parts[1], parts[2], name)] = subnet
        elif parts[0] == "vpc" and len(parts) == 5 and parts[3] == "network-acls":
            rules = doc.get("rules") or []
            objects[("acl", parts[1], parts[2], doc["name"])] = [comparable_rule(r, smooth_ports) for r in rules]
        elif parts[0] == "kubernetes" and len(parts) == 3 and path.stem == "namespaces":
            for name, labels in (doc or {}).items():
                objects[("namespace", parts[1], name)] = labels or {}
        elif parts[0] == "kubernetes" and len(parts) == 4:
            meta = doc.get("metadata") or {}
            objects[("policy", parts[1], meta.get("namespace", parts[2]), meta["name"])] = {
                "labels": meta.get("labels") or {}, "spec": doc.get("spec") or {}}
    return objects


def load_live(path: Path, smooth_ports: bool = True) -> dict[Key, Any]:
    """Every object of the snapshot file under the same keys as the baseline's."""
    with path.open("rb") as f:
        snapshot = json.load(f)
    objects: dict[Key, Any] = {}
    for vpc in snapshot.get("vpcs") or []:
        region, name = vpc["region"], vpc["name"]
        objects[("vpc", region, name)] = {"default_acl": vpc.get("default_acl"),
                                          "public_gateways": sorted(vpc.get("public_gateways") or [])}
        for subnet in vpc.get("subnets") or []:
            objects[("subnet", region, name, subnet["name"])] = subnet
        for acl in vpc.get("acls") or []:
            rules = acl.get("rules") or []
            objects[("acl", region, name, acl["name"])] = [comparable_rule(r, smooth_ports) for r in rules]
    for cluster in snapshot.get("clusters") or []:
        for ns in cluster.get("namespaces") or []:
            objects[("namespace", cluster["name"], ns["name"])] = ns.get("labels") or {}
        for policy in cluster.get("policies") or []:
            objects[("policy", cluster["name"], policy["namespace"], policy["name"])] = {
                "labels": policy.get("labels") or {}, "spec": policy.get("spec") or {}}
    return objects


def differing(baseline: dict[Key, Any], live: dict[Key, Any]) -> dict[Key, Any]:
    """Key -> DeepDiff of each object that differs; None for one that only one side has."""
    out: dict[Key, Any] = {}
    for key in sorted(baseline.keys() | live.keys()):
        if key not in baseline or key not in live:
            out[key] = None
            continue
        want, have = baseline[key], live[key]
        if key[0] == "subnet":  # the baseline may leave out a subnet's zone and CIDR
            have = {k: have.get(k) for k in want}
        if want != have:
            out[key] = DeepDiff(want, have)
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--baseline", type=Path, required=True, help="the baseline directory")
    parser.add_argument("--snapshot", type=Path, required=True, help="the live snapshot file (JSON)")
    parser.add_argument("--list", action="store_true", help="print each differing object and its diff")
    parser.add_argument("--ports-as-spelt", action="store_true",
                        help="compare ports as each side spells them (then nearly every ACL differs and is diffed)")
    args = parser.parse_args(argv)
    smooth = not args.ports_as_spelt
    found = differing(load_baseline(args.baseline, smooth), load_live(args.snapshot, smooth))
    if args.list:
        for key, diff in found.items():
            print("/".join(key), "(only on one side)" if diff is None else diff.to_json())
    kinds = Counter(key[0] for key in found)
    print(f"{len(found)} differing objects" + (f" ({', '.join(f'{n} {k}' for k, n in sorted(kinds.items()))})"
                                               if kinds else ""))
    return 2 if found else 0


if __name__ == "__main__":
    sys.exit(main())
