"""The hostile-input corpus: bad baselines, configs, environments, snapshots, events and function requests.

Each case writes one bad input into a fresh copy of a small, valid workspace (the recipe baseline, a
snapshot of it, a config, a state store with content) and says what to run and what must come back:
exit 1 (or the function's HTTP status) and one line naming where (a file:line, a field or a variable).
``test_hostile_inputs`` runs every case as its own process and checks the rest of the contract.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ACL = "baseline/vpc/us-south/iks-vpc/network-acls/iks-cluster-us-south-1-acl.yaml"
SUBNETS = "baseline/vpc/us-south/iks-vpc/subnets.yaml"
VPC = "baseline/vpc/us-south/iks-vpc/vpc.yaml"
NAMESPACES = "baseline/kubernetes/iks-cluster/namespaces.yaml"
POLICY = "baseline/kubernetes/iks-cluster/accounts/db-allow.yaml"
ACCT = "a/aa2432b1fa4d4ace891e9b80fc104e34"
ACL_CRN = f"crn:v1:bluemix:public:is:us-south:{ACCT}::network-acl:r006-acl1"
TOKEN = "corpus-function-token-0123456789abcdef"
MIB = 1024 * 1024


@dataclass(frozen=True)
class Invocation:
    """What to run: ``netwarden ARGV`` with ``env`` added, or (``request``) the function with that request."""

    argv: tuple[str, ...] = ()
    env: dict[str, str] = field(default_factory=dict)
    request: dict[str, Any] | None = None


@dataclass(frozen=True)
class Case:
    id: str
    surface: str
    make: Callable[[Path], Invocation]
    where: str
    status: int = 1


# --- how each surface is exercised -----------------------------------------------------------------

def put(ws: Path, rel: str, content: str | bytes) -> None:
    path = ws / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(content.encode("utf-8") if isinstance(content, str) else content)


def lint(rel: str, content: str | bytes) -> Callable[[Path], Invocation]:
    def make(ws: Path) -> Invocation:
        put(ws, rel, content)
        return Invocation(("baseline", "lint", "baseline", "--config", "netwarden.yaml"))
    return make


def check_baseline(rel: str, content: str | bytes) -> Callable[[Path], Invocation]:
    def make(ws: Path) -> Invocation:
        put(ws, rel, content)
        return Invocation(("check", "--config", "netwarden.yaml", "--snapshot", "snapshot.json"))
    return make


def linked(rel: str, target: str) -> Callable[[Path], Invocation]:
    def make(ws: Path) -> Invocation:
        (ws / rel).parent.mkdir(parents=True, exist_ok=True)
        (ws / rel).symlink_to(target)
        return Invocation(("baseline", "lint", "baseline", "--config", "netwarden.yaml"))
    return make


def config(text: str | bytes) -> Callable[[Path], Invocation]:
    def make(ws: Path) -> Invocation:
        put(ws, "bad.yaml", text)
        return Invocation(("check", "--config", "bad.yaml", "--snapshot", "snapshot.json"))
    return make


def config_extra(text: str) -> Callable[[Path], Invocation]:
    """The workspace's valid config with ``text`` appended (new top-level keys)."""
    def make(ws: Path) -> Invocation:
        put(ws, "bad.yaml", (ws / "netwarden.yaml").read_text(encoding="utf-8") + text)
        return Invocation(("check", "--config", "bad.yaml", "--snapshot", "snapshot.json"))
    return make


def config_dir(ws: Path) -> Invocation:
    (ws / "confdir").mkdir()
    return Invocation(("check", "--config", "confdir", "--snapshot", "snapshot.json"))


def config_named_by_environment(ws: Path) -> Invocation:
    return Invocation(("check", "--snapshot", "snapshot.json"), {"NETWARDEN_CONFIG": "absent.yaml"})


def environment(**env: str) -> Callable[[Path], Invocation]:
    def make(ws: Path) -> Invocation:
        return Invocation(("check", "--config", "netwarden.yaml", "--snapshot", "snapshot.json"), env)
    return make


def job(**env: str) -> Callable[[Path], Invocation]:
    def make(ws: Path) -> Invocation:
        return Invocation(("job", "--config", "netwarden.yaml"),
                          {"CE_TYPE": "dev.knative.sources.ping", "JOB_INDEX": "0", "JOB_ARRAY_SIZE": "1", **env})
    return make


def snapshot(edit: Callable[[dict[str, Any]], Any] | None = None, *, raw: bytes | None = None
             ) -> Callable[[Path], Invocation]:
    """A copy of the valid snapshot changed by ``edit`` (or replaced by ``raw``), checked as the live state."""
    def make(ws: Path) -> Invocation:
        if raw is not None:
            put(ws, "bad.json", raw)
        else:
            data = json.loads((ws / "snapshot.json").read_text(encoding="utf-8"))
            data = edit(data) if edit is not None else data
            put(ws, "bad.json", json.dumps(data))
        return Invocation(("check", "--config", "netwarden.yaml", "--snapshot", "bad.json"))
    return make


def rollback(edit: Callable[[dict[str, Any]], Any]) -> Callable[[Path], Invocation]:
    """A bad snapshot given as the baseline of a check (how a rollback uses a snapshot)."""
    def make(ws: Path) -> Invocation:
        data = json.loads((ws / "snapshot.json").read_text(encoding="utf-8"))
        put(ws, "bad.json", json.dumps(edit(data)))
        return Invocation(("check", "--config", "netwarden.yaml", "--snapshot", "snapshot.json",
                           "--baseline", "bad.json"))
    return make


def event(payload: str | bytes | dict[str, Any]) -> Callable[[Path], Invocation]:
    def make(ws: Path) -> Invocation:
        put(ws, "event.json", json.dumps(payload) if isinstance(payload, dict) else payload)
        return Invocation(("event", "--config", "netwarden.yaml", "--payload", "event.json"))
    return make


def kafka(data: str) -> Callable[[Path], Invocation]:
    def make(ws: Path) -> Invocation:
        return Invocation(("job", "--config", "netwarden.yaml"),
                          {"CE_TYPE": "dev.knative.kafka.event", "CE_DATA": data, "JOB_INDEX": "0",
                           "JOB_ARRAY_SIZE": "1"})
    return make


def request(body: bytes | None, *, method: str = "POST", token: str | None = TOKEN,
            content_type: str = "application/json") -> Callable[[Path], Invocation]:
    """A request to the function as Code Engine passes it (``__ce_*`` parameters, the body Base64)."""
    import base64

    def make(ws: Path) -> Invocation:
        headers = {"Content-Type": content_type}
        if token is not None:
            headers["Authorization"] = f"Bearer {token}"
        params: dict[str, Any] = {"__ce_method": method, "__ce_headers": headers, "__ce_path": "/",
                                  "__ce_query": ""}
        if body is not None:
            params["__ce_body"] = base64.b64encode(body).decode()
        return Invocation(request=params)
    return make


# --- the inputs -----------------------------------------------------------------------------------

def ev(**target: Any) -> dict[str, Any]:
    """An Activity Tracker event for an ACL rule deletion, with ``target`` fields replaced."""
    return {"action": "is.network-acl.rule.delete", "id": "ev-1", "eventTime": "2026-11-27T10:00:00.00+0000",
            "initiator": {"name": "alice@example.com"}, "outcome": "success",
            "target": {"id": ACL_CRN, "name": "iks-cluster-us-south-1-acl", "typeURI": "is/network-acl", **target}}


def nested(depth: int, opener: str = "[", closer: str = "]") -> str:
    return opener * depth + closer * depth


def first_vpc(data: dict[str, Any]) -> dict[str, Any]:
    vpc: dict[str, Any] = data["vpcs"][0]
    return vpc


def twice(key: str) -> Callable[[dict[str, Any]], dict[str, Any]]:
    """The first VPC's first ``key`` entry (an ACL, a subnet...) listed twice."""
    def edit(data: dict[str, Any]) -> dict[str, Any]:
        items = first_vpc(data)[key]
        items.append(dict(items[0]))
        return data
    return edit


def set_in(path: tuple[str | int, ...], value: Any) -> Callable[[dict[str, Any]], dict[str, Any]]:
    def edit(data: dict[str, Any]) -> dict[str, Any]:
        node: Any = data
        for part in path[:-1]:
            node = node[part]
        node[path[-1]] = value
        return data
    return edit


def duplicate_vpc(data: dict[str, Any]) -> dict[str, Any]:
    copy = json.loads(json.dumps(first_vpc(data)))
    copy["acls"][0]["rules"] = []  # the second copy would hide the first one's drift
    data["vpcs"].append(copy)
    return data


def duplicate_rule(data: dict[str, Any]) -> dict[str, Any]:
    rules = first_vpc(data)["acls"][0]["rules"]
    rules.append(dict(rules[0]))
    return data


def duplicate_policy(data: dict[str, Any]) -> dict[str, Any]:
    policies = data["clusters"][0]["policies"]
    policies.append(json.loads(json.dumps(policies[0])))
    return data


def bad_policy_type(data: dict[str, Any]) -> dict[str, Any]:
    data["clusters"][0]["policies"][0]["spec"]["policyTypes"] = ["ingress"]
    return data


BOMB = "a: &a [x, x, x, x, x, x, x, x, x]\n" + "".join(
    f"{chr(98 + i)}: &{chr(98 + i)} [*{chr(97 + i)}, *{chr(97 + i)}, *{chr(97 + i)}, *{chr(97 + i)}]\n"
    for i in range(8))
ACL_HEAD = "name: iks-cluster-us-south-1-acl\nrules:\n"
RULE = ("- name: {name}\n  action: allow\n  direction: inbound\n  protocol: tcp\n  source: 10.0.0.0/8\n"
        "  destination: 0.0.0.0/0\n")
BIG_NAME = "x" * (4 * MIB)
VALID_CONFIG_HEAD = "baseline: baseline\nstate: file://state\n"

BASELINE: list[Case] = [
    Case("nul-byte", "baseline", lint(ACL, ACL_HEAD + RULE.format(name="a\0b")), "iks-cluster-us-south-1-acl.yaml"),
    Case("latin-1", "baseline", lint(ACL, (ACL_HEAD + RULE.format(name="caf\xe9")).encode("latin-1")),
         "iks-cluster-us-south-1-acl.yaml"),
    Case("utf-16", "baseline", lint(ACL, (ACL_HEAD + RULE.format(name="a")).encode("utf-16-le")),
         "iks-cluster-us-south-1-acl.yaml"),
    Case("truncated-utf-8", "baseline", lint(ACL, (ACL_HEAD + RULE.format(name="ab")).encode() + b"\xe2\x82"),
         "iks-cluster-us-south-1-acl.yaml"),
    Case("invalid-date", "baseline", lint(ACL, ACL_HEAD + RULE.format(name="2026-02-30")),
         "iks-cluster-us-south-1-acl.yaml:3"),
    Case("invalid-datetime", "baseline", lint(ACL, ACL_HEAD + RULE.format(name="2026-01-01T25:00:00")),
         "iks-cluster-us-south-1-acl.yaml:3"),
    Case("sequence-key", "baseline", lint(VPC, "? [a, b]\n: x\n"), "vpc.yaml:1"),
    Case("mapping-key", "baseline", lint(SUBNETS, "{a: 1}: x\n"), "subnets.yaml:1"),
    Case("alias-bomb", "baseline", lint(NAMESPACES, BOMB), "namespaces.yaml:1"),
    Case("recursive-anchor", "baseline", lint(NAMESPACES, "accounts: &a\n  usage: *a\n"), "namespaces.yaml:"),
    Case("too-large", "baseline", lint(ACL, ACL_HEAD + "# " + "x" * (40 * MIB) + "\n"),
         "iks-cluster-us-south-1-acl.yaml"),
    Case("huge-unknown-key", "baseline", lint(VPC, f"{BIG_NAME}: 1\n"), "vpc.yaml:1"),
    Case("huge-rule-name", "baseline", lint(ACL, ACL_HEAD + RULE.format(name=BIG_NAME)),
         "iks-cluster-us-south-1-acl.yaml:3"),
    Case("deep-nesting", "baseline", lint(SUBNETS, nested(100_000)), "subnets.yaml"),
    Case("deep-mapping-nesting", "baseline", lint(SUBNETS, nested(50_000, "{a: ", "}")), "subnets.yaml"),
    Case("python-tag", "baseline", lint(VPC, "name: !!python/object/apply:os.system ['true']\n"), "vpc.yaml:1"),
    Case("two-documents", "baseline", lint(NAMESPACES, "accounts: {}\n---\nfinance: {}\n"), "namespaces.yaml"),
    Case("tab-indent", "baseline", lint(NAMESPACES, "accounts:\n\tusage: accounts\n"), "namespaces.yaml:2"),
    Case("link-out-of-root", "baseline", linked("baseline/kubernetes/outside", "/etc"), "outside"),
    Case("dangling-link", "baseline", linked("baseline/kubernetes/iks-cluster/gone.yaml", "nowhere.yaml"),
         "gone.yaml"),
    Case("link-loop", "baseline", linked("baseline/kubernetes/iks-cluster/loop", "."), "loop"),
    Case("port-unicode-digits", "baseline",
         lint(ACL, ACL_HEAD + RULE.format(name="a") + "  destination_port: {min: '\u0668\u0660', max: 80}\n"),
         "iks-cluster-us-south-1-acl.yaml:9"),
    Case("port-bool", "baseline",
         lint(ACL, ACL_HEAD + RULE.format(name="a") + "  destination_port: {min: true, max: 80}\n"),
         "iks-cluster-us-south-1-acl.yaml:9"),
    Case("port-huge", "baseline",
         lint(ACL, ACL_HEAD + RULE.format(name="a") + f"  destination_port: {{min: 1, max: {10 ** 40}}}\n"),
         "iks-cluster-us-south-1-acl.yaml:9"),
    Case("namespaces-a-list", "baseline", lint(NAMESPACES, "- accounts\n- finance\n"), "namespaces.yaml:1"),
    Case("label-value-huge", "baseline", lint(NAMESPACES, f"accounts:\n  usage: {BIG_NAME}\n"),
         "namespaces.yaml:2"),
    Case("check-nul-byte", "baseline", check_baseline(POLICY, "apiVersion: networking.k8s.io/v1\0\n"),
         "db-allow.yaml"),
    Case("check-invalid-date", "baseline", check_baseline(SUBNETS, "iks-vpc-us-south-1:\n  cidr: 2026-13-45\n"),
         "subnets.yaml:2"),
]

CONFIG: list[Case] = [
    Case("config-nul-byte", "config", config(VALID_CONFIG_HEAD + "\0\n"), "bad.yaml"),
    Case("config-latin-1", "config", config(VALID_CONFIG_HEAD.encode() + b"# caf\xe9\n"), "bad.yaml"),
    Case("config-alias-bomb", "config", config(BOMB), "bad.yaml:1"),
    Case("config-deep-nesting", "config", config(nested(100_000)), "bad.yaml"),
    Case("config-sequence-key", "config", config("? [a, b]\n: x\n"), "bad.yaml:1"),
    Case("config-too-large", "config", config(VALID_CONFIG_HEAD + "# " + "x" * (40 * MIB) + "\n"), "bad.yaml"),
    Case("config-huge-unknown-key", "config", config(f"{BIG_NAME}: 1\n"), "bad.yaml:1"),
    Case("config-top-list", "config", config("- baseline\n"), "bad.yaml:1"),
    Case("config-expires-invalid-date", "config", config_extra(
        "suppressions:\n- code: acl-rule-missing\n  resource: r\n  reason: why\n  expires: 2026-02-30\n"),
        "bad.yaml:10"),
    Case("config-expires-word", "config", config_extra(
        "suppressions:\n- code: acl-rule-missing\n  resource: r\n  reason: why\n  expires: tomorrow\n"),
        "bad.yaml:10"),
    Case("config-expires-bad-datetime", "config", config_extra(
        "suppressions:\n- code: acl-rule-missing\n  resource: r\n  reason: why\n  expires: 2026-01-01T25:61:00Z\n"),
        "bad.yaml:10"),
    Case("config-max-changes-float", "config", config_extra("remediation:\n  max_changes: 1.5\n"), "bad.yaml:7"),
    Case("config-max-changes-negative", "config", config_extra("remediation:\n  max_changes: -1\n"), "bad.yaml:7"),
    Case("config-max-delete-percent", "config", config_extra("remediation:\n  max_delete_percent: 150\n"),
         "bad.yaml:7"),
    Case("config-region-path", "config", config(VALID_CONFIG_HEAD + "ibmcloud:\n  regions: [us-south/../../v2]\n"),
         "bad.yaml:4"),
    Case("config-vpc-slash", "config", config(VALID_CONFIG_HEAD + "ibmcloud:\n  vpcs: [iks-vpc/acls]\n"), "bad.yaml:4"),
    Case("config-vpc-query", "config", config(VALID_CONFIG_HEAD + "ibmcloud:\n  vpcs: ['iks-vpc?limit=1']\n"),
         "bad.yaml:4"),
    Case("config-vpc-url-scheme", "config", config(VALID_CONFIG_HEAD + "ibmcloud:\n  vpc_url: ftp://example.com/v1\n"),
         "bad.yaml:4"),
    Case("config-iam-url-no-host", "config", config(VALID_CONFIG_HEAD + "ibmcloud:\n  iam_url: 'https://'\n"),
         "bad.yaml:4"),
    Case("config-cluster-name-path", "config", config_extra(
        "kubernetes:\n  clusters:\n  - name: ../iks-cluster\n    server: https://k8s.example.com\n"), "bad.yaml:8"),
    Case("config-namespace-invalid", "config", config_extra(
        "kubernetes:\n  clusters:\n  - name: iks-cluster\n    server: https://k8s.example.com\n"
        "    namespaces: [Accounts_NS]\n"), "bad.yaml:10"),
    Case("config-smtp-password-in-clear", "config", config_extra(
        "notify:\n  email:\n    smtp_host: smtp.example.com\n    sender: a@example.com\n    to: [b@example.com]\n"
        "    password_env: SMTP_PASSWORD\n    tls: none\n"), "bad.yaml"),
    Case("config-unknown-finding-code", "config", config_extra("remediation:\n  auto: [acl-rule-mising]\n"),
         "bad.yaml:7"),
    Case("config-is-a-directory", "config", config_dir, "confdir"),
    Case("config-missing", "environment", config_named_by_environment, "absent.yaml"),
]

ENVIRONMENT: list[Case] = [
    Case("env-max-changes-arabic-digits", "environment", environment(NETWARDEN_MAX_CHANGES="\u0661\u0662"),
         "NETWARDEN_MAX_CHANGES"),
    Case("env-max-changes-superscript", "environment", environment(NETWARDEN_MAX_CHANGES="\u00b2"),
         "NETWARDEN_MAX_CHANGES"),
    Case("env-max-changes-suffix", "environment", environment(NETWARDEN_MAX_CHANGES="12abc"), "NETWARDEN_MAX_CHANGES"),
    Case("env-region-path", "environment", environment(NETWARDEN_REGIONS="us-south,../x"), "NETWARDEN_REGIONS"),
    Case("env-vpc-slash", "environment", environment(NETWARDEN_VPCS="iks-vpc/x"), "NETWARDEN_VPCS"),
    Case("env-vpc-url-scheme", "environment", environment(NETWARDEN_VPC_URL="javascript:alert(1)"),
         "NETWARDEN_VPC_URL"),
    Case("env-mode-unknown", "environment", environment(NETWARDEN_REMEDIATION_MODE="yolo"),
         "NETWARDEN_REMEDIATION_MODE"),
    Case("job-index-arabic-digits", "environment", job(JOB_INDEX="\u0663"), "JOB_INDEX"),
    Case("job-index-past-size", "environment", job(JOB_INDEX="3", JOB_ARRAY_SIZE="2"), "JOB_INDEX"),
    Case("job-array-size-zero", "environment", job(JOB_ARRAY_SIZE="0"), "JOB_ARRAY_SIZE"),
    Case("job-unknown-type", "environment", job(CE_TYPE="dev.example.unknown"), "CE_TYPE"),
]

SNAPSHOT: list[Case] = [
    Case("snapshot-duplicate-vpc", "snapshot", snapshot(duplicate_vpc), "bad.json"),
    Case("snapshot-duplicate-acl", "snapshot", snapshot(twice("acls")), "bad.json"),
    Case("snapshot-duplicate-rule", "snapshot", snapshot(duplicate_rule), "bad.json"),
    Case("snapshot-duplicate-subnet", "snapshot", snapshot(twice("subnets")), "bad.json"),
    Case("snapshot-duplicate-policy", "snapshot", snapshot(duplicate_policy), "bad.json"),
    Case("snapshot-unknown-schema-version", "snapshot", snapshot(set_in(("schema_version",), 99)), "schema_version"),
    Case("snapshot-schema-version-string", "snapshot", snapshot(set_in(("schema_version",), "1")),
         "schema_version"),
    Case("snapshot-bad-taken-at", "snapshot", snapshot(set_in(("taken_at",), "yesterday")), "taken_at"),
    Case("snapshot-vpcs-a-mapping", "snapshot", snapshot(set_in(("vpcs",), {"iks-vpc": {}})), "vpcs"),
    Case("snapshot-port-bool", "snapshot",
         snapshot(set_in(("vpcs", 0, "acls", 0, "rules", 0, "destination_port"), True)), "rules[0]"),
    Case("snapshot-bad-cidr", "snapshot",
         snapshot(set_in(("vpcs", 0, "acls", 0, "rules", 0, "source"), "10.0.0.300/8")), "rules[0].source"),
    Case("snapshot-invalid-policy", "snapshot", snapshot(bad_policy_type), "policyTypes"),
    Case("snapshot-not-json", "snapshot", snapshot(raw=b"{not json"), "bad.json"),
    Case("snapshot-top-array", "snapshot", snapshot(raw=b"[1, 2]"), "bad.json"),
    Case("snapshot-deep-nesting", "snapshot", snapshot(raw=nested(200_000).encode()), "bad.json"),
    Case("snapshot-nan", "snapshot", snapshot(raw=b'{"schema_version": NaN}'), "bad.json"),
    Case("snapshot-latin-1", "snapshot", snapshot(raw=b'{"kind": "caf\xe9"}'), "bad.json"),
    Case("snapshot-missing-file", "snapshot",
         lambda ws: Invocation(("check", "--config", "netwarden.yaml", "--snapshot", "absent.json")), "absent.json"),
    Case("rollback-duplicate-vpc", "snapshot", rollback(duplicate_vpc), "bad.json"),
]

EVENT: list[Case] = [
    Case("event-not-json", "event", event("{not json"), "event.json"),
    Case("event-deep-nesting", "event", event(nested(100_000)), "event.json"),
    Case("event-top-array", "event", event("[]"), "event.json"),
    Case("event-latin-1", "event", event(b'{"action": "caf\xe9"}'), "event.json"),
    Case("event-crn-short", "event", event(ev(id="crn:v1:bluemix:public:is")), "target.id"),
    Case("event-crn-account-scope", "event",
         event(ev(id="crn:v1:bluemix:public:is:us-south:aa2432b1::network-acl:r006-acl1")), "target.id"),
    Case("event-crn-resource-path", "event",
         event(ev(id=f"crn:v1:bluemix:public:is:us-south:{ACCT}::network-acl:r006-acl1%2F..%2Fx")), "target.id"),
    Case("event-crn-region-path", "event",
         event(ev(id=f"crn:v1:bluemix:public:is:us-south..:{ACCT}::network-acl:r006-acl1")), "target.id"),
    Case("event-crn-empty-service", "event",
         event(ev(id=f"crn:v1:bluemix:public::us-south:{ACCT}::network-acl:r006-acl1")), "target.id"),
    Case("event-action-not-text", "event", event({**ev(), "action": ["is.network-acl.rule.delete"]}), "action"),
    Case("kafka-deep-nesting", "event", kafka(nested(10_000, '{"a":', "}")), "CE_DATA"),
    Case("kafka-not-json", "event", kafka("{not json"), "CE_DATA"),
    Case("kafka-too-large", "event", kafka(json.dumps({**ev(), "pad": "x" * 120_000})), "CE_DATA"),
]

FUNCTION: list[Case] = [
    Case("function-deep-nesting", "function", request(nested(30_000).encode()), "body", 400),
    Case("function-deep-object", "function", request(nested(10_000, '{"a":', "}").encode()), "body", 400),
    Case("function-not-json", "function", request(b"{not json"), "body", 400),
    Case("function-nan", "function", request(b'{"action": NaN}'), "action", 400),
    Case("function-unknown-action", "function", request(b'{"action": "destroy"}'), "action", 400),
    Case("function-only-not-list", "function", request(b'{"action": "plan", "only": 5}'), "only", 400),
    Case("function-no-token", "function", request(b'{"action": "plan"}', token=None), "token", 401),
    Case("function-wrong-token", "function", request(b'{"action": "plan"}', token="x" * 40), "token", 401),
    Case("function-get", "function", request(None, method="GET"), "GET", 405),
    Case("function-too-large", "function", request(b'{"action": "plan", "x": "' + b"a" * MIB + b'"}'),
         "bytes", 413),
]

CASES: list[Case] = [*BASELINE, *CONFIG, *ENVIRONMENT, *SNAPSHOT, *EVENT, *FUNCTION]


def process_env(ws: Path, extra: dict[str, str]) -> dict[str, str]:
    """A clean environment: nothing of the caller's NETWARDEN_* or CE_* settings leaks into a case."""
    keep = {k: v for k, v in os.environ.items() if k in ("PATH", "LANG", "LC_ALL", "SYSTEMROOT", "TMPDIR")}
    return {**keep, "HOME": str(ws), "NETWARDEN_FUNCTION_TOKEN": TOKEN, "IBMCLOUD_API_KEY": "corpus-api-key",
            **extra}
