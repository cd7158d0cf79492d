"""Settings: the file, the environment over it, and one clear line for each mistake: every value that
reaches a URL, a bound or a date is checked, in the file and in the environment alike."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

import pytest

from netwarden.config import Settings, secret
from netwarden.core.errors import ConfigError
from netwarden.core.routing import Route

FULL = """\
baseline: baseline/
ibmcloud:
  regions: [us-south, eu-de]
  vpcs: [prod-vpc]
  resource_group: default
  api_key_env: MY_KEY
  vpc_url: "http://127.0.0.1:9/vpc/{region}/v1"
  iam_url: "http://127.0.0.1:9/iam"
kubernetes:
  clusters:
    - name: prod-cluster
      server: "http://127.0.0.1:9/k8s/prod-cluster"
      namespaces: [accounts, finance]
state: "file://.netwarden/state"
notify:
  slack: {webhook_url_env: SLACK_WEBHOOK_URL}
  remind_after: 12h
remediation:
  mode: auto
  auto: [subnet-allow-all]
  max_changes: 5
suppressions:
  - {code: acl-rule-unexpected, resource: "us-south/prod-vpc/acl-a/rule-x", reason: "ticket 42", expires: 2027-01-31}
"""


def test_full_config(tmp_path: Path) -> None:
    path = tmp_path / "netwarden.yaml"
    path.write_text(FULL)
    s = Settings.load(path, environ={})
    assert s.baseline == tmp_path / "baseline"
    assert s.state == f"file://{tmp_path}/.netwarden/state"
    assert s.ibmcloud is not None and s.ibmcloud.regions == ("us-south", "eu-de")
    assert s.ibmcloud.url_for("eu-de") == "http://127.0.0.1:9/vpc/eu-de/v1"
    assert s.clusters[0].namespaces == ("accounts", "finance")
    assert s.notify.remind_after_seconds == 12 * 3600
    assert s.notify.channels["slack"] == {"webhook_url_env": "SLACK_WEBHOOK_URL"}
    assert (s.remediation.mode, s.remediation.auto, s.remediation.max_changes) == ("auto", ("subnet-allow-all",), 5)
    assert s.suppressions[0].expires == date(2027, 1, 31)


def test_relative_kubeconfig_is_taken_from_the_config_directory(tmp_path: Path) -> None:
    path = tmp_path / "netwarden.yaml"
    path.write_text("kubernetes:\n  clusters:\n    - {name: a, kubeconfig: kube/config}\n"
                    "    - {name: b, kubeconfig: /etc/kube/config}\n"
                    "    - {name: c, server: 'https://c.example:30443', ca_file: certs/c.pem}\n")
    a, b, c = Settings.load(path, environ={}).clusters
    assert a.kubeconfig == str(tmp_path / "kube" / "config")
    assert b.kubeconfig == "/etc/kube/config"
    assert c.ca_file == str(tmp_path / "certs" / "c.pem")


def test_environment_overrides_file(tmp_path: Path) -> None:
    path = tmp_path / "netwarden.yaml"
    path.write_text(FULL)
    env = {"NETWARDEN_REGIONS": "jp-tok", "NETWARDEN_REMEDIATION_MODE": "alert", "NETWARDEN_MAX_CHANGES": "3",
           "NETWARDEN_BASELINE": "/srv/baseline", "NETWARDEN_STATE": "cos://bucket/prefix"}
    s = Settings.load(path, environ=env)
    assert s.ibmcloud is not None and s.ibmcloud.regions == ("jp-tok",) and s.ibmcloud.vpcs == ("prod-vpc",)
    assert (s.remediation.mode, s.remediation.max_changes) == ("alert", 3)
    assert s.baseline == Path("/srv/baseline") and s.state == "cos://bucket/prefix"


@pytest.mark.parametrize(("text", "env", "mode"), [
    ("remediation:\n  mode: approve\n", {}, "approve"),
    ("remediation:\n  mode: auto\n", {"NETWARDEN_REMEDIATION_MODE": "approve"}, "approve"),
    ("remediation:\n  mode: approve\n", {"NETWARDEN_REMEDIATION_MODE": "alert"}, "alert"),
])
def test_approve_is_a_remediation_mode(tmp_path: Path, text: str, env: dict[str, str], mode: str) -> None:
    path = tmp_path / "netwarden.yaml"
    path.write_text(text)
    assert Settings.load(path, environ=env).remediation.mode == mode


@pytest.mark.parametrize(("text", "seconds"), [
    ("remediation:\n  mode: approve\n", 7 * 86400),
    ("remediation:\n  plan_expiry: 2d\n", 2 * 86400),
    ("remediation:\n  plan_expiry: 5m\n", 300),
])
def test_plan_expiry(tmp_path: Path, text: str, seconds: int) -> None:
    path = tmp_path / "netwarden.yaml"
    path.write_text(text)
    assert Settings.load(path, environ={}).remediation.plan_expiry == seconds


def test_no_file_gives_defaults(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    s = Settings.load(environ={})
    assert s.ibmcloud is None and s.clusters == () and s.remediation.mode == "alert"


def test_named_file_must_exist(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="not found"):
        Settings.load(tmp_path / "missing.yaml", environ={})


@pytest.mark.parametrize(
    ("text", "where"),
    [
        ("baseline: b\nbogus: 1\n", ":2: bogus"),
        ("ibmcloud:\n  regions: us-south\n", ":2: ibmcloud.regions"),
        ("ibmcloud:\n  regions: []\n", ":2: ibmcloud.regions"),
        ("ibmcloud:\n  region: [x]\n", ":2: ibmcloud.region"),
        ("kubernetes:\n  clusters:\n    - name: c\n", ":3: kubernetes.clusters[0]"),
        ("kubernetes:\n  clusters:\n    - server: http://x\n", ":3: kubernetes.clusters[0].name"),
        ("kubernetes:\n  clusters:\n    - {name: c, server: 'http://s'}\n    - {name: c, server: 'http://s'}\n",
         ":4: kubernetes.clusters[1].name"),
        ("remediation:\n  mode: yolo\n", ":2: remediation.mode"),
        ("remediation:\n  max_changes: -1\n", ":2: remediation.max_changes"),
        ("notify:\n  remind_after: soon\n", ":2: notify.remind_after"),
        ("notify:\n  pager: {}\n", ":2: notify.pager"),
        ("history:\n  retention: 12h\n", ":2: history.retention"),
        ("history:\n  retention: forever\n", ":2: history.retention"),
        ("history:\n  keep: 3\n", ":2: history.keep"),
        ("suppressions:\n  - {code: x, resource: y}\n", ":2: suppressions[0].reason"),
        ("suppressions:\n  - {code: acl-rule-missing, resource: y, reason: z, expires: someday}\n",
         ":2: suppressions[0].expires"),
        ("suppressions:\n  - {code: acl-rule-mising, resource: y, reason: z}\n", ":2: suppressions[0].code"),
        ("remediation:\n  auto:\n    - subnet-allow-all\n    - gateway-attachd\n", ":4: remediation.auto[1]"),
        ("baseline: [unclosed\n", ":2"),
        ("a: 1\na: 2\n", ":2: a"),
        ("- just\n- a list\n", ":1: (top level)"),
    ],
)
def test_bad_config_names_file_line_field(tmp_path: Path, text: str, where: str) -> None:
    path = tmp_path / "netwarden.yaml"
    path.write_text(text)
    with pytest.raises(ConfigError) as e:
        Settings.load(path, environ={})
    assert str(e.value).startswith(str(path))
    assert where in str(e.value)


def test_secret_reads_the_named_variable() -> None:
    assert secret("MY_KEY", {"MY_KEY": "s3cr3t"}) == "s3cr3t"
    assert secret("MY_KEY", {"MY_KEY": ""}) is None
    assert secret(None, {}) is None


def config_error(tmp_path: Path, text: str, environ: dict[str, str] | None = None) -> str:
    path = tmp_path / "netwarden.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ConfigError) as e:
        Settings.load(path, environ=environ or {})
    return str(e.value)


def ibm(key: str, value: str) -> str:
    return f"ibmcloud:\n  regions: [us-south]\n  {key}: {value}\n"


def cluster(extra: str) -> str:
    return f"kubernetes:\n  clusters:\n    - name: prod\n      server: 'https://k8s.example.com'\n{extra}"


def suppression(expires: str) -> str:
    return f"suppressions:\n  - code: acl-rule-missing\n    resource: x\n    reason: y\n    expires: {expires}\n"


@pytest.mark.parametrize(("text", "where", "why"), [
    # regions, VPCs, clusters and namespaces: identifiers that cannot change a URL
    ("ibmcloud:\n  regions: [us-south, 'eu/de']\n", ":2: ibmcloud.regions[1]", "is not a region"),
    ("ibmcloud:\n  regions:\n    - us-south\n    - 'us-south?x=1'\n", ":4: ibmcloud.regions[1]", "not a region"),
    ("ibmcloud:\n  regions: [US-SOUTH]\n", ":2: ibmcloud.regions[0]", "not a region"),
    ("ibmcloud:\n  regions: [us-south-1]\n", ":2: ibmcloud.regions[0]", "not a region"),
    ("ibmcloud:\n  regions: ['us-south ']\n", ":2: ibmcloud.regions[0]", "not a region"),
    ("ibmcloud:\n  regions: [\"us-south\\t\"]\n", ":2: ibmcloud.regions[0]", "not a region"),
    ("ibmcloud:\n  regions: ['us%2fsouth']\n", ":2: ibmcloud.regions[0]", "not a region"),
    ("ibmcloud:\n  regions: ['..']\n", ":2: ibmcloud.regions[0]", "not a region"),
    ("ibmcloud:\n  regions: [us-south]\n  vpcs: ['prod vpc']\n", ":3: ibmcloud.vpcs[0]", "not a VPC name or id"),
    ("ibmcloud:\n  regions: [us-south]\n  vpcs: [ok, '../admin']\n", ":3: ibmcloud.vpcs[1]", "not a VPC"),
    ("ibmcloud:\n  regions: [us-south]\n  vpcs: ['vpc#1']\n", ":3: ibmcloud.vpcs[0]", "not a VPC"),
    ("ibmcloud:\n  regions: [us-south]\n  vpcs: [Prod-VPC]\n", ":3: ibmcloud.vpcs[0]", "not a VPC"),
    ("ibmcloud:\n  regions: [us-south]\n  vpcs: [prod-vpc-]\n", ":3: ibmcloud.vpcs[0]", "not a VPC"),
    ("kubernetes:\n  clusters:\n    - {name: Prod_Cluster, in_cluster: true}\n", ":3: kubernetes.clusters[0].name",
     "not a cluster name"),
    ("kubernetes:\n  clusters:\n    - {name: 'a/b', in_cluster: true}\n", ":3: kubernetes.clusters[0].name",
     "not a cluster name"),
    ("kubernetes:\n  clusters:\n    - {name: 12, in_cluster: true}\n", ":3: kubernetes.clusters[0].name",
     "not a cluster name"),
    (cluster("      namespaces: [accounts, 'kube system']\n"), ":5: kubernetes.clusters[0].namespaces[1]",
     "not a namespace name"),
    (cluster("      namespaces:\n        - accounts\n        - '-bad'\n"), ":7: kubernetes.clusters[0].namespaces[1]",
     "not a namespace name"),
    (cluster("      namespaces: ['a.b']\n"), ":5: kubernetes.clusters[0].namespaces[0]", "not a namespace name"),
    # URLs: http(s), a host, no credentials, query, fragment or '..'
    (ibm("vpc_url", "'ftp://vpc.example.com/{region}/v1'"), ":3: ibmcloud.vpc_url", "not an http(s) URL"),
    (ibm("vpc_url", "'https:///v1'"), ":3: ibmcloud.vpc_url", "not an http(s) URL"),
    (ibm("vpc_url", "'https://{zone}.iaas.cloud.ibm.com/v1'"), ":3: ibmcloud.vpc_url", "only placeholder"),
    (ibm("vpc_url", "'https://vpc.example.com/v1?x=1'"), ":3: ibmcloud.vpc_url", "no query or fragment"),
    (ibm("vpc_url", "'https://vpc.example.com/v1#x'"), ":3: ibmcloud.vpc_url", "no query or fragment"),
    (ibm("vpc_url", "'https://vpc.example.com/../v1'"), ":3: ibmcloud.vpc_url", "'..' segment"),
    (ibm("vpc_url", "'https://vpc.example.com:99999/v1'"), ":3: ibmcloud.vpc_url", "not an http(s) URL"),
    (ibm("vpc_url", "'https://vpc example.com/v1'"), ":3: ibmcloud.vpc_url", "a space"),
    (ibm("iam_url", "iam.cloud.ibm.com"), ":3: ibmcloud.iam_url", "not an http(s) URL"),
    (ibm("iam_url", "'javascript:alert(1)'"), ":3: ibmcloud.iam_url", "not an http(s) URL"),
    (ibm("iam_url", "'https://user:hunter2@iam.cloud.ibm.com'"), ":3: ibmcloud.iam_url", "credentials"),
    (ibm("resource_manager_url", "'http://'"), ":3: ibmcloud.resource_manager_url", "not an http(s) URL"),
    ("kubernetes:\n  clusters:\n    - {name: c, server: s}\n", ":3: kubernetes.clusters[0].server",
     "not an http(s) URL"),
    ("kubernetes:\n  clusters:\n    - {name: c, server: 'https://k8s.example.com/%2e%2e'}\n",
     ":3: kubernetes.clusters[0].server", "%-escape"),
    # an SMTP password only over TLS
    ("notify:\n  email:\n    smtp_host: h\n    to: [a@b.c]\n    sender: a@b.c\n    password_env: P\n    tls: none\n",
     ":6: notify.email.password_env", "a password is only sent over TLS"),
    ("notify:\n  email: {smtp_host: h, to: [a@b.c], sender: a@b.c, starttls: false, password_env: P}\n",
     ":2: notify.email.password_env", "a password is only sent over TLS"),
    # numbers: whole, in bounds, ASCII digits
    ("remediation:\n  max_changes: 100001\n", ":2: remediation.max_changes", "from 0 to 100000"),
    ("remediation:\n  max_changes: '5'\n", ":2: remediation.max_changes", "whole number"),
    ("remediation:\n  max_changes: true\n", ":2: remediation.max_changes", "whole number"),
    ("remediation:\n  max_changes: 1.5\n", ":2: remediation.max_changes", "whole number"),
    ("remediation:\n  max_delete_percent: 101\n", ":2: remediation.max_delete_percent", "from 0 to 100"),
    ("remediation:\n  max_delete_percent: -1\n", ":2: remediation.max_delete_percent", "from 0 to 100"),
    ("remediation:\n  ibm_managed_groups: 'yes'\n", ":2: remediation.ibm_managed_groups", "true or false"),
    ("remediation:\n  plan_expiry: 4m\n", ":2: remediation.plan_expiry", "too short for a second person"),
    ("remediation:\n  plan_expiry: 7\n", ":2: remediation.plan_expiry", "not a duration"),
    ("security_groups:\n  ibm_churn: ignore\n", ":2: security_groups.ibm_churn", "is not 'expected' or 'drift'"),
    ("security_groups:\n  churn: drift\n", ":2: security_groups.churn", ""),
    ("notify:\n  remind_after: \u0661\u0662h\n", ":2: notify.remind_after", "not a duration"),
    ("notify:\n  remind_after: \u00b2h\n", ":2: notify.remind_after", "not a duration"),
    ("notify:\n  remind_after: 367d\n", ":2: notify.remind_after", "at most 366d"),
    ("notify:\n  remind_after: 3600\n", ":2: notify.remind_after", "not a duration"),
    # routes: each key at its line
    ("notify:\n  webhook:\n    url_env: W\n    min_severity: urgent\n", ":4: notify.webhook.min_severity",
     "'urgent' is not a severity"),
    ("notify:\n  slack:\n    codes: [acl-rule-gone]\n", ":3: notify.slack.codes[0]", "not a finding code"),
    ("notify:\n  slack:\n    codes: []\n", ":3: notify.slack.codes", "at least one entry"),
    ("notify:\n  slack:\n    resources: us-south/*\n", ":3: notify.slack.resources", "a list of strings"),
    ("notify:\n  slack:\n    mentions:\n      urgent: '<!here>'\n", ":4: notify.slack.mentions.urgent",
     "unknown key"),
    ("notify:\n  slack:\n    mentions:\n      critical: ''\n", ":4: notify.slack.mentions.critical",
     "non-empty string"),
    ("notify:\n  slack:\n    mentions: '<!here>'\n", ":3: notify.slack.mentions", "expected a mapping"),
    # suppression expiry: an ISO date, or an ISO datetime with a timezone
    (suppression("someday"), ":5: suppressions[0].expires", "not a date"),
    (suppression("'2027-01-31T10:00:00'"), ":5: suppressions[0].expires", "not a date"),
    (suppression("2027-01-31T10:00:00"), ":5: suppressions[0].expires", "with a timezone"),
    (suppression("'20270131'"), ":5: suppressions[0].expires", "not a date"),
    (suppression("'2027-W05-1'"), ":5: suppressions[0].expires", "not a date"),
    (suppression("20270131"), ":5: suppressions[0].expires", "not a date"),
    (suppression("'2027-02-30'"), ":5: suppressions[0].expires", "day is out of range"),
    (suppression("'\u0662\u0660\u0662\u0667-01-31'"), ":5: suppressions[0].expires", "not a date"),
    (suppression("2027-02-30"), ":5: suppressions[0].expires", "out of range"),
], ids=lambda v: "" if not isinstance(v, str) or "\n" in v else None)
def test_bad_values_name_file_line_field(tmp_path: Path, text: str, where: str, why: str) -> None:
    message = config_error(tmp_path, text)
    assert message.startswith(str(tmp_path / "netwarden.yaml"))
    assert where in message and why in message
    assert "hunter2" not in message


@pytest.mark.parametrize(("environ", "where", "why"), [
    ({"NETWARDEN_MAX_CHANGES": "\u0661\u0662"}, "NETWARDEN_MAX_CHANGES: ", "is not a whole number from 0 to 100000"),
    ({"NETWARDEN_MAX_CHANGES": "\u00b2"}, "NETWARDEN_MAX_CHANGES: ", "is not a whole number"),
    ({"NETWARDEN_MAX_CHANGES": "-1"}, "NETWARDEN_MAX_CHANGES: ", "is not a whole number"),
    ({"NETWARDEN_MAX_CHANGES": "1e3"}, "NETWARDEN_MAX_CHANGES: ", "is not a whole number"),
    ({"NETWARDEN_MAX_CHANGES": "0x10"}, "NETWARDEN_MAX_CHANGES: ", "is not a whole number"),
    ({"NETWARDEN_MAX_CHANGES": "100001"}, "NETWARDEN_MAX_CHANGES: ", "is not a whole number"),
    ({"NETWARDEN_MAX_CHANGES": "9" * 5000}, "NETWARDEN_MAX_CHANGES: ", "is not a whole number"),
    ({"NETWARDEN_REGIONS": "us-south,eu/de"}, "NETWARDEN_REGIONS: 'eu/de'", "is not a region"),
    ({"NETWARDEN_REGIONS": "us-south?x"}, "NETWARDEN_REGIONS: ", "is not a region"),
    ({"NETWARDEN_VPCS": "prod-vpc,a?b"}, "NETWARDEN_VPCS: 'a?b'", "is not a VPC name or id"),
    ({"NETWARDEN_VPCS": "prod-vpc,a%2Fb"}, "NETWARDEN_VPCS: ", "is not a VPC name or id"),
    ({"NETWARDEN_VPC_URL": "file:///etc/passwd"}, "NETWARDEN_VPC_URL: ", "not an http(s) URL"),
    ({"NETWARDEN_VPC_URL": "https://{region}.example.com/v1?x=1"}, "NETWARDEN_VPC_URL: ", "no query"),
    ({"NETWARDEN_IAM_URL": "https://user:hunter2@iam.example.com"}, "NETWARDEN_IAM_URL: ", "credentials"),
    ({"NETWARDEN_IAM_URL": "//iam.example.com"}, "NETWARDEN_IAM_URL: ", "not an http(s) URL"),
])
def test_bad_environment_values_name_the_variable(tmp_path: Path, environ: dict[str, str], where: str,
                                                  why: str) -> None:
    path = tmp_path / "netwarden.yaml"
    path.write_text(FULL)
    with pytest.raises(ConfigError) as e:
        Settings.load(path, environ=environ)
    message = str(e.value)
    assert message.startswith(where) and why in message
    assert "hunter2" not in message and len(message) < 300


@pytest.mark.parametrize(("expires", "last_day"), [
    ("2027-01-31", date(2027, 1, 31)),
    ("'2027-01-31'", date(2027, 1, 31)),
    ("2027-01-31T18:00:00Z", date(2027, 1, 30)),
    ("'2027-01-31T00:00:00+00:00'", date(2027, 1, 30)),
    ("'2027-02-01T00:30:00+02:00'", date(2027, 1, 30)),
    ("'2027-01-31 23:59:59.5-05:00'", date(2027, 1, 31)),
], ids=["yaml-date", "date-string", "yaml-datetime", "midnight-utc", "east-of-utc", "west-of-utc"])
def test_expires_as_a_date_or_a_datetime_never_outlives_it(tmp_path: Path, expires: str, last_day: date) -> None:
    path = tmp_path / "netwarden.yaml"
    path.write_text(suppression(expires))
    [s] = Settings.load(path, environ={}).suppressions
    assert s.expires == last_day


@pytest.mark.parametrize(("key", "value"), [
    ("vpc_url", "'https://{region}.iaas.cloud.ibm.com/v1'"),
    ("vpc_url", "'http://127.0.0.1:8080/vpc/{region}/v1'"),
    ("vpc_url", "'http://[::1]:8080/v1'"),
    ("iam_url", "'https://iam.cloud.ibm.com'"),
    ("resource_manager_url", "'https://resource-controller.cloud.ibm.com/'"),
], ids=["ibm", "fake", "ipv6", "iam", "resource-manager"])
def test_good_urls_are_kept(tmp_path: Path, key: str, value: str) -> None:
    path = tmp_path / "netwarden.yaml"
    path.write_text(ibm(key, value))
    settings: Any = Settings.load(path, environ={}).ibmcloud
    assert getattr(settings, key) == value.strip("'")


def test_environment_values_get_the_same_checks_and_pass_when_good(tmp_path: Path) -> None:
    path = tmp_path / "netwarden.yaml"
    path.write_text(FULL)
    env = {"NETWARDEN_MAX_CHANGES": " 7", "NETWARDEN_REGIONS": "eu-gb, jp-tok", "NETWARDEN_VPCS": "r006-4727d842,edge",
           "NETWARDEN_VPC_URL": "https://{region}.iaas.cloud.ibm.com/v1"}
    s = Settings.load(path, environ=env)
    assert s.remediation.max_changes == 7
    assert s.ibmcloud is not None and s.ibmcloud.regions == ("eu-gb", "jp-tok")
    assert s.ibmcloud.vpcs == ("r006-4727d842", "edge")
    assert s.ibmcloud.url_for("jp-tok") == "https://jp-tok.iaas.cloud.ibm.com/v1"


@pytest.mark.parametrize(("text", "seconds"), [("", 90 * 86400), ("history:\n  retention: 30d\n", 30 * 86400)])
def test_history_retention(tmp_path: Path, text: str, seconds: int) -> None:
    path = tmp_path / "netwarden.yaml"
    path.write_text(text)
    assert Settings.load(path, environ={}).history_retention == seconds


def test_a_channels_route_is_read_and_taken_out_of_its_block(tmp_path: Path) -> None:
    path = tmp_path / "netwarden.yaml"
    path.write_text("notify:\n  slack:\n    webhook_url_env: S\n    min_severity: high\n"
                    "    mentions: {critical: '<!here>'}\n"
                    "  webhook:\n    url_env: W\n    codes: [subnet-allow-all]\n    resources: ['us-south/*']\n"
                    "  email: {smtp_host: h, to: [a@b.c], sender: a@b.c}\n")
    notify = Settings.load(path, environ={}).notify
    assert notify.routes == {"slack": Route(min_severity="high"),
                             "webhook": Route(codes=("subnet-allow-all",), resources=("us-south/*",))}
    assert notify.channels["slack"] == {"webhook_url_env": "S", "mentions": {"critical": "<!here>"}}
    assert notify.channels["webhook"] == {"url_env": "W"}
