"""The Kubernetes emulator driven by the real ``kubernetes`` client, as netwarden drives a cluster.

CRUD with the API server's defaults, lists across namespaces, label and field selectors, chunked lists
over a consistent snapshot, resourceVersion and 409 on a stale update, the four patch formats, admission
refusals in the API server's words, and the audit records each mutation leaves. Bodies the client
itself refuses to send (it validates models before sending) go through its lower-level ``call_api``.
"""

from __future__ import annotations

import json
import urllib.request
from collections.abc import Iterator
from typing import Any

import pytest
from kubernetes import client
from kubernetes.client.exceptions import ApiException

from netwarden.fakes.server import FakeServer

CLUSTER = "contract"


class Kube:
    """The typed APIs of one emulated cluster, plus raw calls for what the typed ones refuse to send."""

    def __init__(self, fake: FakeServer) -> None:
        self.fake = fake
        self.base = f"{fake.url}/k8s/{CLUSTER}"
        self.api = client.ApiClient(client.Configuration(host=self.base))
        self.core = client.CoreV1Api(self.api)
        self.net = client.NetworkingV1Api(self.api)

    def raw(self, method: str, path: str, body: Any = None, content_type: str = "application/json",
            ) -> tuple[int, dict[str, Any], Any]:
        headers = {"Content-Type": content_type, "Accept": "application/json"}
        response = self.api.call_api(method, self.base + path, headers, body)
        response.read()
        return response.status, dict(response.headers), json.loads(response.data or b"null")

    def namespace(self, name: str, labels: dict[str, str] | None = None) -> None:
        body: Any = {"metadata": {"name": name, "labels": labels or {}}}
        self.core.create_namespace(body)

    def policy(self, namespace: str, name: str, spec: dict[str, Any] | None = None,
               labels: dict[str, str] | None = None) -> dict[str, Any]:
        body: Any = {"metadata": {"name": name, "labels": labels or {}}, "spec": spec or {"podSelector": {}}}
        created = self.net.create_namespaced_network_policy(namespace, body)
        return dict(self.api.sanitize_for_serialization(created))

    def events(self) -> list[dict[str, Any]]:
        with urllib.request.urlopen(f"{self.fake.url}/_fake/events") as response:
            return [e for e in json.load(response)["events"] if e.get("source") == "kubernetes"]


@pytest.fixture
def kube(fake: FakeServer) -> Iterator[Kube]:
    k = Kube(fake)
    yield k
    k.api.close()


def status_of(error: ApiException) -> dict[str, Any]:
    return dict(json.loads(error.body))


# --- discovery -----------------------------------------------------------------------------------


def test_version_and_discovery(kube: Kube) -> None:
    assert client.VersionApi(kube.api).get_code().git_version.startswith("v1.")
    groups = client.ApisApi(kube.api).get_api_versions()
    assert [g.name for g in groups.groups] == ["apps", "networking.k8s.io"]
    resources = kube.net.get_api_resources()
    assert [(r.name, r.kind, r.namespaced, r.short_names) for r in resources.resources] == [
        ("networkpolicies", "NetworkPolicy", True, ["netpol"])]
    core = {r.name: r for r in kube.core.get_api_resources().resources}
    assert set(core) == {"namespaces", "nodes", "pods"}


# --- CRUD and defaults ---------------------------------------------------------------------------


def test_a_new_cluster_has_the_system_namespaces_labelled_by_name(kube: Kube) -> None:
    namespaces = kube.core.list_namespace()
    assert [n.metadata.name for n in namespaces.items] == ["default", "kube-node-lease", "kube-public", "kube-system"]
    assert all(n.metadata.labels == {"kubernetes.io/metadata.name": n.metadata.name} for n in namespaces.items)
    assert {n.status.phase for n in namespaces.items} == {"Active"}


def test_create_sets_what_the_api_server_sets(kube: Kube) -> None:
    kube.namespace("accounts")
    created = kube.policy("accounts", "web", {"podSelector": {"matchLabels": {"app": "web"}},
                                              "ingress": [{"ports": [{"port": 80}]}], "egress": [{}]})
    meta = created["metadata"]
    assert meta["uid"] and meta["creationTimestamp"] and meta["generation"] == 1 and int(meta["resourceVersion"]) > 0
    assert created["spec"]["policyTypes"] == ["Ingress", "Egress"]
    assert created["spec"]["ingress"] == [{"ports": [{"port": 80, "protocol": "TCP"}]}]
    got = kube.net.read_namespaced_network_policy("web", "accounts")
    assert kube.api.sanitize_for_serialization(got)["metadata"]["uid"] == meta["uid"]


def test_replace_bumps_generation_and_delete_returns_a_success_status(kube: Kube) -> None:
    kube.namespace("accounts")
    created = kube.policy("accounts", "web")
    body: Any = {**created, "spec": {"podSelector": {"matchLabels": {"app": "web"}}}}
    replaced = kube.net.replace_namespaced_network_policy("web", "accounts", body)
    assert replaced.metadata.generation == 2
    assert int(replaced.metadata.resource_version) > int(created["metadata"]["resourceVersion"])
    status = kube.api.sanitize_for_serialization(kube.net.delete_namespaced_network_policy("web", "accounts"))
    assert (status["status"], status["details"]["name"], status["details"]["kind"]) == (
        "Success", "web", "networkpolicies")
    with pytest.raises(ApiException) as e:
        kube.net.read_namespaced_network_policy("web", "accounts")
    assert e.value.status == 404
    assert status_of(e.value)["message"] == 'networkpolicies.networking.k8s.io "web" not found'


@pytest.mark.parametrize(("setup", "act", "code", "reason", "message"), [
    ("policy", lambda k: k.policy("accounts", "web"), 409, "AlreadyExists",
     'networkpolicies.networking.k8s.io "web" already exists'),
    ("", lambda k: k.policy("finance", "web"), 404, "NotFound", 'namespaces "finance" not found'),
    ("", lambda k: k.net.delete_namespaced_network_policy("nope", "accounts"), 404, "NotFound",
     'networkpolicies.networking.k8s.io "nope" not found'),
    ("", lambda k: k.core.read_namespace("nope"), 404, "NotFound", 'namespaces "nope" not found'),
    ("", lambda k: k.net.replace_namespaced_network_policy("nope", "accounts", {"metadata": {"name": "nope"},
                                                                               "spec": {"podSelector": {}}}),
     404, "NotFound", 'networkpolicies.networking.k8s.io "nope" not found'),
    ("policy", lambda k: k.net.replace_namespaced_network_policy("web", "accounts", {"metadata": {"name": "other"},
                                                                              "spec": {"podSelector": {}}}),
     400, "BadRequest", "the name of the object (other) does not match the name on the URL (web)"),
])
def test_errors_are_status_bodies(kube: Kube, setup: str, act: Any, code: int, reason: str, message: str) -> None:
    kube.namespace("accounts")
    if setup == "policy":
        kube.policy("accounts", "web")
    with pytest.raises(ApiException) as e:
        act(kube)
    status = status_of(e.value)
    assert (e.value.status, status["kind"], status["status"], status["reason"], status["code"], status["message"]) == (
        code, "Status", "Failure", reason, code, message)


def test_method_not_allowed_and_unknown_paths(kube: Kube) -> None:
    assert kube.raw("DELETE", "/version")[0] == 405
    code, _, body = kube.raw("GET", "/apis/networking.k8s.io/v1/ingresses")
    assert (code, body["reason"]) == (404, "NotFound")
    assert body["message"] == "the server could not find the requested resource"


# --- lists, selectors, chunking ------------------------------------------------------------------


@pytest.fixture
def estate(kube: Kube) -> Kube:
    kube.namespace("accounts", {"usage": "accounts"})
    kube.namespace("finance", {"usage": "finance"})
    for ns, name, labels in [
        ("finance", "web", {"app": "web", "tier": "frontend"}), ("accounts", "db", {"app": "db", "tier": "db"}),
        ("accounts", "api", {"app": "api", "tier": "backend"}), ("finance", "deny-all", {}),
        ("accounts", "web", {"app": "web", "tier": "frontend"}),
    ]:
        kube.policy(ns, name, labels=labels)
    return kube


def test_list_across_namespaces_is_in_key_order_without_kind_on_items(estate: Kube) -> None:
    listed = estate.net.list_network_policy_for_all_namespaces()
    assert [f"{p.metadata.namespace}/{p.metadata.name}" for p in listed.items] == [
        "accounts/api", "accounts/db", "accounts/web", "finance/deny-all", "finance/web"]
    _, _, raw = estate.raw("GET", "/apis/networking.k8s.io/v1/networkpolicies")
    assert raw["kind"] == "NetworkPolicyList" and "kind" not in raw["items"][0]
    assert [p.metadata.name for p in estate.net.list_namespaced_network_policy("finance").items] == ["deny-all", "web"]


@pytest.mark.parametrize(("label_selector", "field_selector", "expected"), [
    ("app=web", None, ["accounts/web", "finance/web"]),
    ("app==web", None, ["accounts/web", "finance/web"]),
    ("app!=web", None, ["accounts/api", "accounts/db", "finance/deny-all"]),
    ("tier in (db, backend)", None, ["accounts/api", "accounts/db"]),
    ("tier notin (db,backend)", None, ["accounts/web", "finance/deny-all", "finance/web"]),
    ("app", None, ["accounts/api", "accounts/db", "accounts/web", "finance/web"]),
    ("!app", None, ["finance/deny-all"]),
    ("app=web,tier=frontend", None, ["accounts/web", "finance/web"]),
    (None, "metadata.name=web", ["accounts/web", "finance/web"]),
    (None, "metadata.namespace==finance", ["finance/deny-all", "finance/web"]),
    (None, "metadata.namespace!=finance,metadata.name!=db", ["accounts/api", "accounts/web"]),
    ("app=web", "metadata.namespace=accounts", ["accounts/web"]),
])
def test_label_and_field_selectors(estate: Kube, label_selector: str | None, field_selector: str | None,
                                   expected: list[str]) -> None:
    listed = estate.net.list_network_policy_for_all_namespaces(label_selector=label_selector,
                                                               field_selector=field_selector)
    assert [f"{p.metadata.namespace}/{p.metadata.name}" for p in listed.items] == expected


@pytest.mark.parametrize(("label_selector", "field_selector", "message"), [
    (None, "spec.podSelector=x", "field label not supported: spec.podSelector"),
    ("tier in (a b)", None, "unable to parse requirement"),
    ("Bad Key=1", None, "unable to parse requirement"),
])
def test_bad_selectors_are_bad_requests(estate: Kube, label_selector: str | None, field_selector: str | None,
                                        message: str) -> None:
    with pytest.raises(ApiException) as e:
        estate.net.list_network_policy_for_all_namespaces(label_selector=label_selector, field_selector=field_selector)
    assert e.value.status == 400 and message in status_of(e.value)["message"]


def test_chunked_list_is_a_consistent_snapshot(estate: Kube) -> None:
    first = estate.net.list_network_policy_for_all_namespaces(limit=2)
    assert len(first.items) == 2 and first.metadata.remaining_item_count == 3 and first.metadata._continue
    estate.policy("accounts", "added-after-the-first-page")
    estate.net.delete_namespaced_network_policy("deny-all", "finance")
    names = [p.metadata.name for p in first.items]
    token = first.metadata._continue
    while token:
        page = estate.net.list_network_policy_for_all_namespaces(limit=2, _continue=token)
        names += [p.metadata.name for p in page.items]
        token = page.metadata._continue
        assert page.metadata.resource_version == first.metadata.resource_version
    assert names == ["api", "db", "web", "deny-all", "web"]
    fresh = estate.net.list_network_policy_for_all_namespaces()
    assert int(fresh.metadata.resource_version) > int(first.metadata.resource_version)


def test_continue_tokens_expire_and_garbage_is_refused(estate: Kube) -> None:
    old = estate.net.list_network_policy_for_all_namespaces(limit=1).metadata._continue
    for _ in range(40):  # snapshots age out as an etcd compaction would remove them
        estate.policy("accounts", f"p{_}")
        estate.net.list_network_policy_for_all_namespaces(limit=1)
    with pytest.raises(ApiException) as e:
        estate.net.list_network_policy_for_all_namespaces(limit=1, _continue=old)
    assert (e.value.status, status_of(e.value)["reason"]) == (410, "Expired")
    with pytest.raises(ApiException) as e:
        estate.net.list_network_policy_for_all_namespaces(limit=1, _continue="not-a-token")
    assert e.value.status == 400


# --- resourceVersion and conflicts ---------------------------------------------------------------


def test_resource_version_increases_and_a_stale_update_is_a_conflict(kube: Kube) -> None:
    kube.namespace("accounts")
    first = kube.policy("accounts", "web")
    second = kube.policy("accounts", "api")
    assert int(second["metadata"]["resourceVersion"]) > int(first["metadata"]["resourceVersion"])
    fresh: Any = {**first, "metadata": {**first["metadata"], "labels": {"v": "1"}}}
    updated = kube.net.replace_namespaced_network_policy("web", "accounts", fresh)
    stale: Any = {**first, "metadata": {**first["metadata"], "labels": {"v": "2"}}}
    with pytest.raises(ApiException) as e:
        kube.net.replace_namespaced_network_policy("web", "accounts", stale)
    status = status_of(e.value)
    assert (e.value.status, status["reason"]) == (409, "Conflict")
    assert status["message"] == ('Operation cannot be fulfilled on networkpolicies.networking.k8s.io "web": the object '
                                 "has been modified; please apply your changes to the latest version and try again")
    unchanged = kube.net.replace_namespaced_network_policy("web", "accounts",
                                                           kube.api.sanitize_for_serialization(updated))
    assert unchanged.metadata.resource_version == updated.metadata.resource_version


def test_dry_run_persists_nothing(kube: Kube) -> None:
    kube.namespace("accounts")
    body: Any = {"metadata": {"name": "web"}, "spec": {"podSelector": {}}}
    kube.net.create_namespaced_network_policy("accounts", body, dry_run="All")
    assert kube.net.list_namespaced_network_policy("accounts").items == []


# --- patches -------------------------------------------------------------------------------------

BASE_SPEC = {"podSelector": {"matchLabels": {"app": "web", "tier": "frontend"}},
             "ingress": [{"ports": [{"port": 80, "protocol": "TCP"}]}]}


@pytest.mark.parametrize(("content_type", "patch", "labels", "spec"), [
    ("application/merge-patch+json", {"metadata": {"labels": {"a": None, "c": "3"}}}, {"b": "2", "c": "3"}, BASE_SPEC),
    ("application/merge-patch+json", {"spec": {"podSelector": {"matchLabels": {"tier": None}}}}, {"a": "1", "b": "2"},
     {**BASE_SPEC, "podSelector": {"matchLabels": {"app": "web"}}}),
    ("application/strategic-merge-patch+json", {"spec": {"ingress": [{"ports": [{"port": 443}]}]}},
     {"a": "1", "b": "2"}, {**BASE_SPEC, "ingress": [{"ports": [{"port": 443, "protocol": "TCP"}]}]}),
    ("application/strategic-merge-patch+json", {"metadata": {"labels": {"$patch": "replace", "z": "9"}}}, {"z": "9"},
     BASE_SPEC),
    ("application/strategic-merge-patch+json", {"spec": {"podSelector": {"$retainKeys": ["matchLabels"],
                                                                         "matchLabels": {"app": "api"}}}},
     {"a": "1", "b": "2"}, {**BASE_SPEC, "podSelector": {"matchLabels": {"app": "api", "tier": "frontend"}}}),
    ("application/json-patch+json", [{"op": "add", "path": "/metadata/labels/c", "value": "3"},
                                     {"op": "remove", "path": "/metadata/labels/a"},
                                     {"op": "replace", "path": "/spec/ingress/0/ports/0/port", "value": 8080}],
     {"b": "2", "c": "3"}, {**BASE_SPEC, "ingress": [{"ports": [{"port": 8080, "protocol": "TCP"}]}]}),
])
def test_patch_formats(kube: Kube, content_type: str, patch: Any, labels: dict[str, str],
                       spec: dict[str, Any]) -> None:
    kube.namespace("accounts")
    kube.policy("accounts", "web", BASE_SPEC, labels={"a": "1", "b": "2"})
    patched = kube.net.patch_namespaced_network_policy("web", "accounts", patch, _content_type=content_type)
    out = kube.api.sanitize_for_serialization(patched)
    assert out["metadata"]["labels"] == labels
    assert {k: v for k, v in out["spec"].items() if k != "policyTypes"} == spec


@pytest.mark.parametrize(("content_type", "patch", "code", "message"), [
    ("application/json-patch+json", [{"op": "test", "path": "/metadata/name", "value": "other"}], 422, "test failed"),
    ("application/json-patch+json", [{"op": "remove", "path": "/spec/nope"}], 422, "missing"),
    ("application/merge-patch+json", {"metadata": {"resourceVersion": "1"}}, 409, "the object has been modified"),
    ("application/merge-patch+json", {"spec": {"ingress": [{"from": [{}]}]}}, 422,
     "spec.ingress[0].from[0]: Required value: must specify a peer"),
    ("text/plain", '{"a": 1}', 415, "the body of the request was in an unknown format"),
])
def test_patch_refusals(kube: Kube, content_type: str, patch: Any, code: int, message: str) -> None:
    kube.namespace("accounts")
    kube.policy("accounts", "web", BASE_SPEC)
    status, _, body = kube.raw("PATCH", "/apis/networking.k8s.io/v1/namespaces/accounts/networkpolicies/web",
                               patch, content_type)
    assert status == code and message in body["message"]


def test_server_side_apply_owns_fields_removes_what_it_drops_and_reports_conflicts(kube: Kube) -> None:
    kube.namespace("accounts")
    path = "/apis/networking.k8s.io/v1/namespaces/accounts/networkpolicies/web?fieldManager=deployer"
    config = {"apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy",
              "metadata": {"name": "web", "labels": {"app": "web", "team": "a"}}, "spec": BASE_SPEC}
    code, _, created = kube.raw("PATCH", path, config, "application/apply-patch+yaml")
    assert code == 201 and created["metadata"]["managedFields"][0]["manager"] == "deployer"
    kube.net.patch_namespaced_network_policy("web", "accounts", {"metadata": {"labels": {"owner": "ops"}}},
                                             field_manager="ops", _content_type="application/merge-patch+json")
    config["metadata"]["labels"] = {"app": "web"}  # drops team: removed; owner is ops's: kept
    code, _, applied = kube.raw("PATCH", path, config, "application/apply-patch+yaml")
    assert code == 200 and applied["metadata"]["labels"] == {"app": "web", "owner": "ops"}
    takeover = {**config, "metadata": {"name": "web", "labels": {"owner": "deployer"}}}
    code, _, conflict = kube.raw("PATCH", path, takeover, "application/apply-patch+yaml")
    assert (code, conflict["reason"]) == (409, "Conflict")
    assert conflict["message"] == 'Apply failed with 1 conflict: conflict with "ops" using networking.k8s.io/v1: ' \
                                  ".metadata.labels.owner"
    code, _, forced = kube.raw("PATCH", path + "&force=true", takeover, "application/apply-patch+yaml")
    assert code == 200 and forced["metadata"]["labels"] == {"owner": "deployer"}
    code, _, missing_manager = kube.raw("PATCH", path.split("?", maxsplit=1)[0], config, "application/apply-patch+yaml")
    assert code == 400 and "fieldManager: Required value" in missing_manager["message"]


# --- admission -----------------------------------------------------------------------------------

REFUSED = [
    ({"podSelector": {}, "ingress": [{"from": [{}]}]},
     [("FieldValueRequired", "spec.ingress[0].from[0]", "Required value: must specify a peer")]),
    ({"podSelector": {}, "ingress": [{"from": [{"ipBlock": {"cidr": "10.0.0.0/8"}, "podSelector": {}}]}]},
     [("FieldValueForbidden", "spec.ingress[0].from[0]", "Forbidden: may not specify both ipBlock and another peer")]),
    ({"podSelector": {}, "egress": [{"to": [{"ipBlock": {"cidr": "10.0.0.0/8", "except": ["10.0.0.0/8"]}}]}]},
     [("FieldValueInvalid", "spec.egress[0].to[0].ipBlock.except[0]",
       'Invalid value: "10.0.0.0/8": must be a strict subset of `cidr`')]),
    ({"podSelector": {}, "egress": [{"to": [{"ipBlock": {"cidr": "192.168.5.6"}}]}]},
     [("FieldValueInvalid", "spec.egress[0].to[0].ipBlock.cidr",
       'Invalid value: "192.168.5.6": must be a valid CIDR value, (e.g. 10.9.8.0/24 or 2001:db8::/64)')]),
    ({"podSelector": {}, "ingress": [{"ports": [{"protocol": "ICMP"}]}]},
     [("FieldValueNotSupported", "spec.ingress[0].ports[0].protocol", 'Unsupported value: "ICMP"')]),
    ({"podSelector": {}, "ingress": [{"ports": [{"port": 70000}]}]},
     [("FieldValueInvalid", "spec.ingress[0].ports[0].port",
       "Invalid value: 70000: must be between 1 and 65535, inclusive")]),
    ({"podSelector": {}, "ingress": [{"ports": [{"port": "http", "endPort": 90}]}]},
     [("FieldValueInvalid", "spec.ingress[0].ports[0].endPort",
       "Invalid value: 90: may not be specified when `port` is non-numeric")]),
    ({"podSelector": {"matchExpressions": [{"key": "tier", "operator": "In"}]}},
     [("FieldValueRequired", "spec.podSelector.matchExpressions[0].values",
       "Required value: must be specified when `operator` is 'In' or 'NotIn'")]),
    ({"podSelector": {}, "policyTypes": ["Inbound"]},
     [("FieldValueNotSupported", "spec.policyTypes[0]", 'Unsupported value: "Inbound"')]),
]


@pytest.mark.parametrize(("spec", "causes"), REFUSED)
def test_admission_refuses_what_the_api_server_refuses(kube: Kube, spec: dict[str, Any],
                                                       causes: list[tuple[str, str, str]]) -> None:
    kube.namespace("accounts")
    with pytest.raises(ApiException) as e:
        kube.net.create_namespaced_network_policy("accounts", {"metadata": {"name": "bad"}, "spec": spec})
    status = status_of(e.value)
    assert (e.value.status, status["reason"], status["details"]["kind"], status["details"]["group"]) == (
        422, "Invalid", "NetworkPolicy", "networking.k8s.io")
    got = [(c["reason"], c["field"], c["message"]) for c in status["details"]["causes"]]
    assert [(r, f) for r, f, _ in got] == [(r, f) for r, f, _ in causes]
    assert all(m.startswith(expected) for (_, _, m), (_, _, expected) in zip(got, causes, strict=True))
    _, field, message = got[0]
    assert status["message"] == f'NetworkPolicy.networking.k8s.io "bad" is invalid: {field}: {message}'
    assert kube.net.list_namespaced_network_policy("accounts").items == []


def test_bad_names_and_labels_are_invalid(kube: Kube) -> None:
    kube.namespace("accounts")
    with pytest.raises(ApiException) as e:
        kube.net.create_namespaced_network_policy("accounts", {"metadata": {"name": "Bad_Name",
                                                                            "labels": {"Tier!": "x"}},
                                                               "spec": {"podSelector": {}}})
    fields = [c["field"] for c in status_of(e.value)["details"]["causes"]]
    assert fields == ["metadata.name", "metadata.labels"]
    with pytest.raises(ApiException) as e:
        kube.namespace("Finance")
    assert status_of(e.value)["message"].startswith('Namespace "Finance" is invalid: metadata.name: Invalid value: '
                                                    '"Finance": a lowercase RFC 1123 label')


@pytest.mark.parametrize("spec", [
    {"podSelector": {}, "policyTypes": ["Ingress"], "egress": [{"to": [{"ipBlock": {"cidr": "10.0.0.0/8"}}]}]},
    {"podSelector": {}, "ingress": [{"ports": [{"port": "http"}], "from": [{"ipBlock": {"cidr": "10.0.0.0/8"}}]}]},
    {"podSelector": {}, "ingress": [{}]},
    {"podSelector": {}, "ingress": [{"from": [{"podSelector": {"matchLabels": {"app": "Srv1"}},
                                               "namespaceSelector": {"matchLabels": {"usage": "finance"}}}]}]},
    {"podSelector": {"matchLabels": {"app": "Srv1", "Tier": "backend"}}},
    {"podSelector": {}, "policyTypes": ["Ingress", "Ingress"]},
])
def test_admission_accepts_what_the_api_server_accepts(kube: Kube, spec: dict[str, Any]) -> None:
    kube.namespace("accounts")
    kube.net.create_namespaced_network_policy("accounts", {"metadata": {"name": "ok"}, "spec": spec})
    assert [p.metadata.name for p in kube.net.list_namespaced_network_policy("accounts").items] == ["ok"]


@pytest.mark.parametrize(("validation", "code", "warning"), [
    (None, 201, '299 - "unknown field \\"spec.ingress[0].from[0].NamespaceSelector\\""'),
    ("Ignore", 201, None),
    ("Strict", 400, None),
])
def test_unknown_fields_are_warned_ignored_or_refused(kube: Kube, validation: str | None, code: int,
                                                      warning: str | None) -> None:
    kube.namespace("accounts")
    recipe = {"metadata": {"name": "accounts-allow"},
              "spec": {"podSelector": {}, "ingress": [{"from": [{"NamespaceSelector": {"matchLabels": {"a": "b"}},
                                                                  "podSelector": {}}]}]}}
    query = f"?fieldValidation={validation}" if validation else ""
    status, headers, body = kube.raw("POST", f"/apis/networking.k8s.io/v1/namespaces/accounts/networkpolicies{query}",
                                     recipe)
    assert status == code and headers.get("Warning") == warning
    if code == 400:
        assert body["message"] == ('NetworkPolicy in version "v1" cannot be handled as a NetworkPolicy: strict '
                                   'decoding error: unknown field "spec.ingress[0].from[0].NamespaceSelector"')


def test_a_value_of_the_wrong_type_is_refused_in_go_words(kube: Kube) -> None:
    kube.namespace("accounts")
    recipe = {"metadata": {"name": "accounts-allow"},
              "spec": {"podSelector": {}, "ingress": [{"ports": {"port": 3111}}]}}
    status, _, body = kube.raw("POST", "/apis/networking.k8s.io/v1/namespaces/accounts/networkpolicies", recipe)
    assert (status, body["reason"]) == (400, "BadRequest")
    assert body["message"] == ('NetworkPolicy in version "v1" cannot be handled as a NetworkPolicy: json: cannot '
                               "unmarshal object into Go struct field NetworkPolicyIngressRule.spec.ingress.ports of "
                               "type []v1.NetworkPolicyPort")


# --- other kinds, and the audit trail ------------------------------------------------------------


def test_pods_land_on_nodes_and_deleting_a_namespace_deletes_its_contents(kube: Kube) -> None:
    kube.namespace("accounts")
    node: Any = {"metadata": {"name": "10.240.0.4", "labels": {"ibm-cloud.kubernetes.io/subnet-id": "s-1"}},
                 "status": {"addresses": [{"type": "InternalIP", "address": "10.240.0.4"}]}}
    kube.core.create_node(node)
    pod: Any = {"metadata": {"name": "web", "labels": {"app": "web"}},
                "spec": {"containers": [{"name": "web", "image": "nginx:1.27", "ports": [{"containerPort": 80}]}]}}
    created = kube.core.create_namespaced_pod("accounts", pod)
    assert (created.spec.node_name, created.status.phase, created.status.host_ip) == ("10.240.0.4", "Running",
                                                                                       "10.240.0.4")
    assert created.spec.containers[0].ports[0].protocol == "TCP" and created.status.pod_ip
    on_node = kube.core.list_pod_for_all_namespaces(field_selector="spec.nodeName=10.240.0.4")
    assert [p.metadata.name for p in on_node.items] == ["web"]
    kube.policy("accounts", "deny-all")
    kube.core.delete_namespace("accounts")
    assert kube.net.list_network_policy_for_all_namespaces().items == []
    assert kube.core.list_pod_for_all_namespaces().items == []
    deletes = [(e["resource"], e["name"], e["field_manager"]) for e in kube.events() if e["verb"] == "delete"]
    assert deletes == [("pods", "web", "namespace-controller"), ("networkpolicies", "deny-all", "namespace-controller"),
                       ("namespaces", "accounts", "OpenAPI-Generator")]


def test_every_mutation_leaves_an_audit_record(kube: Kube) -> None:
    kube.namespace("accounts")
    kube.policy("accounts", "web")
    kube.net.patch_namespaced_network_policy("web", "accounts", {"metadata": {"labels": {"a": "b"}}},
                                             _content_type="application/merge-patch+json")
    kube.net.read_namespaced_network_policy("web", "accounts")
    kube.net.delete_namespaced_network_policy("web", "accounts")
    records = [(e["verb"], e["resource"], e["namespace"], e["name"], e["cluster"]) for e in kube.events()]
    assert records == [("create", "namespaces", None, "accounts", CLUSTER),
                       ("create", "networkpolicies", "accounts", "web", CLUSTER),
                       ("patch", "networkpolicies", "accounts", "web", CLUSTER),
                       ("delete", "networkpolicies", "accounts", "web", CLUSTER)]
    assert all(e["user_agent"].startswith("OpenAPI-Generator/") for e in kube.events())
