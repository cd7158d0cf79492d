"""The baseline directory read into a Snapshot (``baseline_write`` writes one).

The layout (DESIGN.md "Baseline layout", ``docs/baseline-format.md``)::

    vpc/<region>/<vpc>/network-acls/<acl>.yaml     name + ordered rules (both directions, as evaluated)
    vpc/<region>/<vpc>/security-groups/<group>.yaml name, managed_by, rules (a set), targets
    vpc/<region>/<vpc>/subnets.yaml                subnet -> {network_acl, public_gateway, zone?, cidr?}
    vpc/<region>/<vpc>/vpc.yaml                    optional: default_network_acl, public_gateways,
                                                   default_security_group
    kubernetes/<cluster>/namespaces.yaml           namespace -> labels
    kubernetes/<cluster>/workloads.yaml            optional: namespace -> [{name, labels, ports}]
    kubernetes/<cluster>/<namespace>/<policy>.yaml a plain NetworkPolicy manifest (kubectl apply -f works)

Reading is all-or-nothing: the first problem stops it with one ``BaselineError`` naming file, line
and field. Every YAML file must sit where the layout puts it (a misspelt directory is an error, not
a silently ignored file); other files (``README.md``) and hidden ones (``.git``) are ignored. On top of
each file's own checks (``baseline_schema``), what spans files: a subnet's ACL, the default ACL and
each subnet's gateway, the default security group and every rule's remote group must exist in the
baseline, subnet CIDRs must not overlap, and every policy and
workload namespace must be declared in ``namespaces.yaml``.

Cold, a large baseline's YAML is parsed ahead by a worker process (``baseline_prefetch``) while this
one validates; a read gives the same Snapshot or error with it or without it.
"""

from __future__ import annotations

import gc
import ipaddress
import itertools
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from netwarden.adapters import baseline_prefetch, baseline_tree, baseline_yaml, yaml_io
from netwarden.adapters import baseline_schema as schema
from netwarden.adapters.baseline_schema_sg import parse_security_group
from netwarden.adapters.baseline_workloads import parse_workloads
from netwarden.core import lint, normalize
from netwarden.core.errors import BaselineError, Location
from netwarden.core.model import (
    Cluster,
    EgressPin,
    Namespace,
    NetworkAcl,
    NetworkPolicy,
    Pod,
    SecurityGroup,
    Snapshot,
    Subnet,
    Vpc,
)
from netwarden.core.netpol import syntax as k8s_syntax

YAML_SUFFIXES = baseline_tree.YAML_SUFFIXES
LAYOUT = ("vpc/<region>/<vpc>/network-acls/<acl>.yaml, vpc/<region>/<vpc>/security-groups/<group>.yaml, "
          "vpc/<region>/<vpc>/subnets.yaml, vpc/<region>/<vpc>/vpc.yaml, "
          "kubernetes/<cluster>/namespaces.yaml, kubernetes/<cluster>/workloads.yaml or "
          "kubernetes/<cluster>/<namespace>/<policy>.yaml")


def read_baseline(path: Path) -> Snapshot:
    """The baseline directory ``path`` as a Snapshot; BaselineError (file:line: field) if it is not one."""
    _check_dir(path)
    files = {rel: _Lazy(path / rel) for rel in baseline_tree.yaml_files(path)}
    return parse_tree(files, str(path), lines=False, prefetch=True)[0]


def read_baseline_with_sources(path: Path) -> tuple[Snapshot, schema.Sources]:
    """The Snapshot and, for lint and the reports (``core.report.locations``), where each ACL, rule,
    subnet, namespace, policy (and its selectors), security group (its rules, its targets) and workload is."""
    _check_dir(path)
    return parse_tree({rel: _Lazy(path / rel) for rel in baseline_tree.yaml_files(path)}, str(path))


def file_errors(path: Path) -> list[BaselineError]:
    """Each file's own first problem (layout, YAML, schema), in path order: reading stops at the first, lint
    reports every file's. What spans files is checked by reading, once every file reads."""
    reader, errors = _Reader({rel: _Lazy(path / rel) for rel in baseline_tree.yaml_files(path)}, str(path), False), []
    for rel in sorted(reader.files):
        try:
            reader.file(rel)
        except BaselineError as e:
            errors.append(e)
    return errors


def _check_dir(path: Path) -> None:
    if not path.is_dir():
        raise BaselineError("baseline directory not found" if not path.exists() else "not a directory",
                            location=Location(str(path)))


# --- reading -------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Lazy:
    """A file to be read when its turn comes (so a huge baseline is never all in memory as text)."""

    path: Path


@dataclass
class _VpcParts:
    acls: list[NetworkAcl] = field(default_factory=list)
    subnets: list[Subnet] = field(default_factory=list)
    subnets_doc: yaml_io.YamlDoc | None = None
    meta_doc: yaml_io.YamlDoc | None = None
    default_acl: str | None = None
    gateways: tuple[str, ...] | None = None
    groups: list[SecurityGroup] = field(default_factory=list)
    group_docs: dict[str, yaml_io.YamlDoc] = field(default_factory=dict)
    default_group: str | None = None


@dataclass
class _ClusterParts:
    namespaces: list[Namespace] | None = None
    pods: list[Pod] = field(default_factory=list)
    policies: list[NetworkPolicy] = field(default_factory=list)
    policy_docs: dict[str, yaml_io.YamlDoc] = field(default_factory=dict)
    workloads_doc: yaml_io.YamlDoc | None = None
    egress: list[EgressPin] = field(default_factory=list)


def parse_tree(files: Mapping[str, _Lazy | str], root: str, *, lines: bool = True,
               prefetch: bool = False) -> tuple[Snapshot, schema.Sources]:
    """Parse a baseline given as relative path -> file (or text), in sorted path order. Without
    ``lines``, files are loaded the fast way (``baseline_yaml``) and only a file with a problem is
    loaded again with line numbers, to name them, and no sources are made (the result's are empty);
    with ``prefetch`` as well, a large set of files is parsed ahead by a worker (``baseline_prefetch``)."""
    reader = _Reader(files, root.rstrip("/"), lines)
    if prefetch and not lines:
        reader.start_prefetch()
    # A large baseline is hundreds of thousands of new objects and no garbage cycles; with the cyclic
    # collector on, its full collections rescan everything read so far (a quarter of the time at 100,000 rules).
    collecting = gc.isenabled()
    gc.disable()
    try:
        for rel in sorted(files):
            reader.file(rel)
    finally:
        if reader.ahead is not None:
            reader.ahead.stop("the read ended first")
        if collecting:
            gc.enable()
    snapshot = Snapshot(
        vpcs=tuple(_vpc(region, name, parts, reader.located) for (region, name), parts in sorted(reader.vpcs.items())),
        clusters=tuple(_cluster(name, parts, root, reader.located) for name, parts in sorted(reader.clusters.items())),
    )
    if not snapshot.vpcs and not snapshot.clusters:
        raise BaselineError("no baseline files: expected vpc/<region>/<vpc>/... or kubernetes/<cluster>/...",
                            location=Location(root))
    return snapshot, reader.sources if reader.sources is not None else {}


class _Reader:
    """The state of one ``parse_tree``: what each file contributed, and where it came from."""

    def __init__(self, files: Mapping[str, _Lazy | str], root: str, lines: bool) -> None:
        self.files, self.root, self.lines = files, root, lines
        self.sources: schema.Sources | None = {} if lines else None
        self.vpcs: dict[tuple[str, str], _VpcParts] = {}
        self.clusters: dict[str, _ClusterParts] = {}
        self.cidr_cache: dict[str, str] = {}
        self.ahead: baseline_prefetch.Prefetch | None = None

    def start_prefetch(self) -> None:
        order = [source.path for _, source in sorted(self.files.items()) if isinstance(source, _Lazy)]
        self.ahead = baseline_prefetch.start(order) if len(order) == len(self.files) else None

    def load(self, rel: str, *, lines: bool) -> yaml_io.YamlDoc:
        display, source = f"{self.root}/{rel}", self.files[rel]
        if not lines and self.ahead is not None and isinstance(source, _Lazy):
            data = self.ahead.take(source.path)
            if data is not baseline_prefetch.YOURSELF:
                return yaml_io.YamlDoc(display, data)
        if isinstance(source, _Lazy):
            text = yaml_io.read_text(source.path, display=display)  # size, UTF-8: one error naming the file
        else:
            text = source
            if len(text) > yaml_io.MAX_FILE_BYTES // 4:  # a file written from a snapshot must be readable too
                yaml_io.check_size(len(text.encode("utf-8")), file=display)
        if not lines:
            data = baseline_yaml.fast_data(text)
            if data is not baseline_yaml.NOT_PLAIN:
                return yaml_io.YamlDoc(display, data)
        return yaml_io.loads(text, file=display)

    def located(self, doc: yaml_io.YamlDoc) -> yaml_io.YamlDoc:
        """``doc`` with its line numbers (loaded again if it was loaded the fast way)."""
        return doc if doc.lines else self.load(doc.file[len(self.root) + 1:], lines=True)

    def file(self, rel: str) -> None:
        parts = rel.split("/")
        kind = _classify(parts)
        if kind is None:
            raise BaselineError(f"not part of the baseline layout (expected {LAYOUT})",
                                location=Location(f"{self.root}/{rel}"))
        doc = self.load(rel, lines=self.lines)
        try:
            self.parse(kind, parts, doc)
        except BaselineError:
            if doc.lines:
                raise
            self.parse(kind, parts, self.located(doc))  # the same problem, now with its line
            raise

    def parse(self, kind: str, parts: list[str], doc: yaml_io.YamlDoc) -> None:
        sources, display = self.sources, doc.file
        if kind in ("acl", "security-group", "subnets", "vpc"):
            scope = (parts[1], parts[2])
            _name_part(display, parts[1], "region")
            _name_part(display, parts[2], "VPC")
            vpc = self.vpcs.setdefault(scope, _VpcParts())
            if kind == "acl":
                vpc.acls.append(schema.parse_acl(doc, scope, parts[4][:-5], sources, self.cidr_cache))
            elif kind == "security-group":
                vpc.groups.append(parse_security_group(doc, scope, parts[4][:-5], sources, self.cidr_cache))
                vpc.group_docs[vpc.groups[-1].name] = doc
            elif kind == "subnets":
                vpc.subnets, vpc.subnets_doc = schema.parse_subnets(doc, parts[1], scope, sources), doc
            else:
                (vpc.default_acl, vpc.gateways, vpc.default_group), vpc.meta_doc = schema.parse_vpc_meta(doc), doc
                if sources is not None:
                    sources[lint.vpc_subject(*scope)] = Location(display, 1)
            return
        cluster = self.clusters.setdefault(parts[1], _ClusterParts())
        if kind == "namespaces":
            cluster.namespaces = schema.parse_namespaces(doc, parts[1], sources)
        elif kind == "workloads":
            (cluster.pods, cluster.egress), cluster.workloads_doc = parse_workloads(doc, parts[1], sources), doc
        else:
            if k8s_syntax.dns1123_label(parts[2]):
                raise BaselineError(f"directory {parts[2]!r} is not a valid namespace name: "
                                    f"{k8s_syntax.dns1123_label(parts[2])[0]}", location=Location(display))
            policy = schema.parse_policy(doc, parts[1], parts[2], parts[3][:-5], sources)
            cluster.policies.append(policy)
            cluster.policy_docs[policy.key] = doc


def _classify(parts: list[str]) -> str | None:
    if not parts[-1].endswith(".yaml"):
        return None
    if parts[0] == "vpc":
        if len(parts) == 5 and parts[3] == "network-acls":
            return "acl"
        if len(parts) == 5 and parts[3] == "security-groups":
            return "security-group"
        if len(parts) == 4 and parts[3] in ("subnets.yaml", "vpc.yaml"):
            return parts[3][:-5]
    elif parts[0] == "kubernetes":
        if len(parts) == 3 and parts[2] in ("namespaces.yaml", "workloads.yaml"):
            return parts[2][:-5]
        if len(parts) == 4:
            return "policy"
    return None


def _name_part(display: str, value: str, what: str) -> None:
    if len(value) > 63 or not schema.IBM_NAME.fullmatch(value):
        raise BaselineError(f"directory {value!r} is not a valid IBM Cloud {what} name", location=Location(display))


def _vpc(region: str, name: str, parts: _VpcParts, located: Callable[[yaml_io.YamlDoc], yaml_io.YamlDoc]) -> Vpc:
    acls = {a.name for a in parts.acls}
    doc = parts.subnets_doc
    for subnet in parts.subnets:
        if subnet.network_acl not in acls and doc is not None:
            raise schema.fail(located(doc), (subnet.name, "network_acl"),
                              f"ACL {subnet.network_acl!r} is not in the baseline "
                              f"(no vpc/{region}/{name}/network-acls/{subnet.network_acl}.yaml)")
        if (parts.gateways is not None and subnet.public_gateway is not None
                and subnet.public_gateway not in parts.gateways and doc is not None):
            raise schema.fail(located(doc), (subnet.name, "public_gateway"),
                              f"public gateway {subnet.public_gateway!r} is not "
                              f"among the public_gateways of vpc/{region}/{name}/vpc.yaml")
    if parts.default_acl is not None and parts.default_acl not in acls and parts.meta_doc is not None:
        raise schema.fail(located(parts.meta_doc), ("default_network_acl",), f"ACL {parts.default_acl!r} is not in the "
                          f"baseline (no vpc/{region}/{name}/network-acls/{parts.default_acl}.yaml)")
    groups = {g.name for g in parts.groups}
    for group in parts.groups:
        for remote in sorted({r.remote_group for r in group.rules
                              if r.remote_group is not None and r.remote_group not in groups}):
            doc_of = located(parts.group_docs[group.name])
            index = next(i for i, raw in enumerate(doc_of.data["rules"]) if raw.get("remote_group") == remote)
            raise schema.fail(doc_of, ("rules", index, "remote_group"), f"security group {remote!r} is not in the "
                              f"baseline (no vpc/{region}/{name}/security-groups/{remote}.yaml): a rule's remote "
                              "group is a group of the same VPC")
    if parts.default_group is not None and parts.default_group not in groups and parts.meta_doc is not None:
        raise schema.fail(located(parts.meta_doc), ("default_security_group",), f"security group "
                          f"{parts.default_group!r} is not in the baseline "
                          f"(no vpc/{region}/{name}/security-groups/{parts.default_group}.yaml)")
    with_cidr = sorted((ipaddress.ip_network(s.cidr), s.name) for s in parts.subnets if s.cidr)
    for (a, name_a), (b, name_b) in itertools.pairwise(with_cidr):
        if a.overlaps(b) and doc is not None:
            raise schema.fail(located(doc), (name_b, "cidr"),
                              f"{b} overlaps subnet {name_a} ({a}): the subnets of a VPC are disjoint")
    return Vpc(region=region, name=name, acls=normalize.sorted_by_name(parts.acls),
               subnets=normalize.sorted_by_name(parts.subnets), default_acl=parts.default_acl,
               public_gateways=parts.gateways or (), security_groups=normalize.sorted_by_name(parts.groups),
               default_security_group=parts.default_group)


def _cluster(name: str, parts: _ClusterParts, root: str,
             located: Callable[[yaml_io.YamlDoc], yaml_io.YamlDoc]) -> Cluster:
    declared = {n.name for n in parts.namespaces or []}
    for policy in parts.policies:
        if policy.namespace not in declared:
            raise schema.fail(located(parts.policy_docs[policy.key]), ("metadata", "namespace"),
                              f"namespace {policy.namespace!r} is not in kubernetes/{name}/namespaces.yaml",
                              "metadata.namespace")
    for pod in parts.pods:
        if pod.namespace not in declared and parts.workloads_doc is not None:
            raise schema.fail(located(parts.workloads_doc), (pod.namespace,), f"namespace {pod.namespace!r} is not in "
                              f"kubernetes/{name}/namespaces.yaml")
    if parts.namespaces is None and not parts.pods and not parts.policies:
        raise BaselineError("a cluster directory needs namespaces.yaml",
                            location=Location(f"{root.rstrip('/')}/kubernetes/{name}/namespaces.yaml"))
    return Cluster(name=name, namespaces=normalize.sorted_by_name(parts.namespaces or []),
                   policies=tuple(sorted(parts.policies, key=lambda p: (p.namespace, p.name))),
                   pods=tuple(sorted(parts.pods, key=lambda p: (p.namespace, p.name))),
                   egress=tuple(sorted(parts.egress, key=lambda e: (e.namespace, e.name))))
