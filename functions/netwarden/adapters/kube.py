"""The Kubernetes side of netwarden: read clusters into the model, and write NetworkPolicies and
namespace labels back for remediation.

Reading a cluster is seven chunked lists and no per-object GET: the nodes (their
``ibm-cloud.kubernetes.io/subnet-id`` labels link the cluster to the VPC subnets its workers run on), the
namespaces with their labels (namespaceSelectors match on them), ONE list of NetworkPolicies across all
namespaces, the pods' labels and container ports (what the reachability analysis selects), and the
Deployments, StatefulSets and DaemonSets (``kube_workloads``: where the gateway recipe pins them and
where their pods run). Raw objects are plain dicts (``RawNetworkPolicy`` and friends), converted once
here into ``core.model`` values; NetworkPolicy specs go through ``core.normalize.netpol_spec``. Only the
managed namespaces (the cluster's ``namespaces`` setting, else all) are kept. A configured namespace the
cluster does not have fails the whole read with a ``ConfigError`` naming the namespaces it does have:
read as an empty namespace, it would make every baseline policy in it "missing". The read says what it
covered (``KubeRead.scope``: each configured cluster and its managed namespaces).

A cluster that cannot be read (refused connection, timeout, 5xx after retries, 401/403) becomes
``Unreadable("k8s/<cluster>", reason)``, never an empty cluster, and the other clusters are still
read. Writes raise ``TemporaryRemediationError`` (throttled, 5xx, conflict, unreachable) or
``PermanentRemediationError`` (refused, invalid, gone) so that the job knows whether to retry.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import Any, TypedDict, cast

from netwarden.adapters.kube_client import KubeConnection, call, connect, list_all, read_json, write
from netwarden.adapters.kube_workloads import WORKLOAD_LISTS, node_subnets, workloads
from netwarden.config import ClusterSettings
from netwarden.core import normalize
from netwarden.core.errors import (
    ConfigError,
    PermanentRemediationError,
    ProviderConflict,
    ProviderError,
    ProviderNotFound,
    ProviderThrottled,
    ProviderUnavailable,
    TemporaryRemediationError,
)
from netwarden.core.model import Cluster, ContainerPort, Namespace, NetworkPolicy, Pod, Unreadable
from netwarden.core.ports import KubeRead
from netwarden.core.scope import ReadScope, listing

#: The API paths read and written (``{name}`` parts are filled, quoted, by ``KubeConnection.request``).
POLICIES = "/apis/networking.k8s.io/v1/networkpolicies"
NAMESPACED_POLICIES = "/apis/networking.k8s.io/v1/namespaces/{namespace}/networkpolicies"
POLICY = NAMESPACED_POLICIES + "/{name}"
NAMESPACE = "/api/v1/namespaces/{name}"
MERGE_PATCH = "application/merge-patch+json"


class RawMetadata(TypedDict, total=False):
    name: str
    namespace: str
    labels: dict[str, str]
    resourceVersion: str


class RawObject(TypedDict, total=False):
    """A namespace, node, pod or NetworkPolicy as the list calls return it (the fields read here)."""

    metadata: RawMetadata
    spec: dict[str, Any]
    status: dict[str, Any]


def _meta(raw: RawObject) -> RawMetadata:
    meta = raw.get("metadata")
    return meta if isinstance(meta, dict) else {}


def _objects(items: list[dict[str, Any]]) -> list[RawObject]:
    return cast(list[RawObject], items)


def worker_subnets(nodes: Sequence[RawObject]) -> tuple[str, ...]:
    """The distinct subnet ids the nodes' labels name, sorted."""
    return tuple(sorted(set(node_subnets(nodes).values())))


def policy_from_api(raw: RawObject, endpoint: str = "") -> NetworkPolicy:
    """A NetworkPolicy as the API returns it -> the model. A spec that cannot be normalised (the API
    server would not have stored it) makes the read fail naming the policy, not crash."""
    meta = _meta(raw)
    namespace, name = str(meta.get("namespace", "")), str(meta.get("name", ""))
    try:
        spec = normalize.netpol_spec(raw.get("spec") or {})
    except (normalize.NormalizeError, KeyError, TypeError, AttributeError) as e:
        detail = f"{e.field}: {e.message}" if isinstance(e, normalize.NormalizeError) else f"malformed spec ({e})"
        raise ProviderError(f"NetworkPolicy {namespace}/{name}: {detail}", endpoint=endpoint) from e
    return NetworkPolicy(namespace=namespace, name=name, spec=spec, labels=normalize.labels(meta.get("labels")))


def pod_from_api(raw: RawObject) -> Pod:
    meta, spec, status = _meta(raw), raw.get("spec") or {}, raw.get("status") or {}
    ports = []
    for container in spec.get("containers") or []:
        for port in (container or {}).get("ports") or []:
            if isinstance(port, Mapping) and port.get("containerPort") is not None:
                ports.append(ContainerPort(int(port["containerPort"]), str(port.get("protocol") or "TCP"),
                                           port.get("name") or None))
    ports.sort(key=lambda p: (p.port, p.protocol))
    return Pod(namespace=str(meta.get("namespace", "")), name=str(meta.get("name", "")),
               labels=normalize.labels(meta.get("labels")), ports=tuple(ports),
               ip=status.get("podIP") or None, node=spec.get("nodeName") or None)


class KubeClusterReader:
    """``core.ports.KubeReader`` over the clusters of the settings."""

    def __init__(self, clusters: Sequence[ClusterSettings],
                 connector: Callable[[ClusterSettings], KubeConnection] = connect,
                 sleep: Callable[[float], None] = time.sleep) -> None:
        self._clusters = tuple(clusters)
        self._connector = connector
        self._sleep = sleep

    @classmethod
    def from_settings(cls, clusters: Sequence[ClusterSettings]) -> KubeClusterReader:
        return cls(clusters)

    def read_clusters(self) -> KubeRead:
        read: list[Cluster] = []
        unreadable: list[Unreadable] = []
        for settings in self._clusters:
            connection = self._connector(settings)
            try:
                read.append(self.read_cluster(connection, settings.namespaces))
            except ProviderError as e:
                unreadable.append(Unreadable(scope=f"k8s/{settings.name}", reason=str(e)))
        scope = ReadScope(clusters={c.name: c.namespaces for c in self._clusters})
        return KubeRead(clusters=tuple(read), unreadable=tuple(unreadable), scope=scope)

    def read_cluster(self, conn: KubeConnection, managed: Sequence[str] | None) -> Cluster:
        policies_url = f"{conn.endpoint}{POLICIES}"
        nodes = _objects(list_all(conn, "/api/v1/nodes", sleep=self._sleep))
        namespaces = _objects(list_all(conn, "/api/v1/namespaces", sleep=self._sleep))
        if managed is not None:
            _require_namespaces(conn.name, managed, [str(_meta(n).get("name")) for n in namespaces])
        policies = _objects(list_all(conn, POLICIES, sleep=self._sleep))
        pods = _objects(list_all(conn, "/api/v1/pods", sleep=self._sleep))
        keep = set(managed) if managed is not None else {str(_meta(n).get("name")) for n in namespaces}

        def kept(raw: RawObject) -> bool:
            return _meta(raw).get("namespace") in keep

        listed = [(kind, raw) for kind, path in WORKLOAD_LISTS for raw in list_all(conn, path, sleep=self._sleep)
                  if kept(cast(RawObject, raw))]

        return Cluster(
            name=conn.name,
            namespaces=normalize.sorted_by_name([Namespace(str(_meta(n).get("name")),
                                                           normalize.labels(_meta(n).get("labels")))
                                                 for n in namespaces if _meta(n).get("name") in keep]),
            policies=tuple(sorted((policy_from_api(p, policies_url) for p in policies if kept(p)),
                                  key=lambda p: p.key)),
            pods=tuple(sorted((pod_from_api(p) for p in pods if kept(p)), key=lambda p: (p.namespace, p.name))),
            worker_subnets=worker_subnets(nodes),
            workloads=workloads(listed, [p for p in pods if kept(p)], nodes),
        )


def _require_namespaces(cluster: str, managed: Sequence[str], existing: Sequence[str]) -> None:
    """Raise ConfigError when a managed namespace is not among the cluster's, naming those that are."""
    there = set(existing)
    absent = [n for n in dict.fromkeys(managed) if n not in there]
    if not absent:
        return
    what = (f"namespace {absent[0]!r} does not exist" if len(absent) == 1
            else f"namespaces {listing(repr(a) for a in absent)} do not exist")
    raise ConfigError(f"kubernetes.clusters[{cluster}].namespaces: {what} in cluster {cluster}; "
                      f"its namespaces: {listing(existing)}")


# --- writing -------------------------------------------------------------------------------------


@contextmanager
def _remediation_errors(what: str) -> Iterator[None]:
    """Split provider errors into worth-retrying and not."""
    try:
        yield
    except (ProviderThrottled, ProviderUnavailable, ProviderConflict) as e:
        raise TemporaryRemediationError(f"{what}: {e}", delay=e.retry_after or 1.0) from e
    except ProviderError as e:
        raise PermanentRemediationError(f"{what}: {e}") from e


class KubeClusterWriter:
    """``core.ports.KubeWriter``: create-or-replace a policy, delete one, set a namespace's labels."""

    def __init__(self, clusters: Sequence[ClusterSettings],
                 connector: Callable[[ClusterSettings], KubeConnection] = connect,
                 sleep: Callable[[float], None] = time.sleep) -> None:
        self._settings = {c.name: c for c in clusters}
        self._connector = connector
        self._sleep = sleep
        self._connections: dict[str, KubeConnection] = {}

    @classmethod
    def from_settings(cls, clusters: Sequence[ClusterSettings]) -> KubeClusterWriter:
        return cls(clusters)

    def _conn(self, cluster: str) -> KubeConnection:
        if cluster not in self._connections:
            if cluster not in self._settings:
                raise PermanentRemediationError(f"cluster {cluster!r} is not in the configuration")
            self._connections[cluster] = self._connector(self._settings[cluster])
        return self._connections[cluster]

    def apply_policy(self, cluster: str, policy: NetworkPolicy) -> None:
        conn = self._conn(cluster)
        endpoint = f"{conn.endpoint}/apis/networking.k8s.io/v1/namespaces/{policy.namespace}/networkpolicies"
        where = {"namespace": policy.namespace, "name": policy.name}
        body = normalize.netpol_manifest(policy)
        with _remediation_errors(f"apply NetworkPolicy {policy.key} in {cluster}"):
            try:
                live = call(lambda: conn.request("GET", POLICY, params=where), f"{endpoint}/{policy.name}",
                            sleep=self._sleep)
            except ProviderNotFound:
                write(lambda: conn.request("POST", NAMESPACED_POLICIES, params={"namespace": policy.namespace},
                                           body=body), endpoint)
                return
            current = _object(live, endpoint)
            meta = current.get("metadata") or {}
            body["metadata"]["resourceVersion"] = meta.get("resourceVersion")
            if meta.get("annotations"):
                body["metadata"]["annotations"] = meta["annotations"]
            write(lambda: conn.request("PUT", POLICY, params=where, body=body), f"{endpoint}/{policy.name}")

    def delete_policy(self, cluster: str, namespace: str, name: str) -> None:
        conn = self._conn(cluster)
        endpoint = f"{conn.endpoint}/apis/networking.k8s.io/v1/namespaces/{namespace}/networkpolicies/{name}"
        with _remediation_errors(f"delete NetworkPolicy {namespace}/{name} in {cluster}"):
            try:
                write(lambda: conn.request("DELETE", POLICY, params={"namespace": namespace, "name": name}),
                      endpoint)
            except ProviderNotFound:
                return  # already gone: what remediation wanted

    def set_namespace_labels(self, cluster: str, namespace: Namespace) -> None:
        """Make the namespace's labels exactly ``namespace.labels`` (the API server's own
        ``kubernetes.io/metadata.name`` stays), with the live resourceVersion as a precondition."""
        conn = self._conn(cluster)
        endpoint = f"{conn.endpoint}/api/v1/namespaces/{namespace.name}"
        where = {"name": namespace.name}
        with _remediation_errors(f"set labels of namespace {namespace.name} in {cluster}"):
            live = _object(call(lambda: conn.request("GET", NAMESPACE, params=where), endpoint, sleep=self._sleep),
                           endpoint)
            meta = live.get("metadata") or {}
            current = meta.get("labels") or {}
            labels: dict[str, Any] = {k: v for k, v in namespace.labels.items() if current.get(k) != v}
            labels.update({k: None for k in current if k not in namespace.labels
                           and k != "kubernetes.io/metadata.name"})
            if not labels:
                return
            patch = {"metadata": {"labels": labels, "resourceVersion": meta.get("resourceVersion")}}
            write(lambda: conn.request("PATCH", NAMESPACE, params=where, body=patch, content_type=MERGE_PATCH),
                  endpoint)


def _object(response: Any, endpoint: str) -> dict[str, Any]:
    data = read_json(response, endpoint)
    return data if isinstance(data, dict) else {}
