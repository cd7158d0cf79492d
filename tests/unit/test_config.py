"""Settings: the file, the environment over it, and one clear line for each mistake."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from netwarden.config import Settings, secret
from netwarden.core.errors import ConfigError

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
                    "    - {name: b, kubeconfig: /etc/kube/config}\n")
    a, b = Settings.load(path, environ={}).clusters
    assert a.kubeconfig == str(tmp_path / "kube" / "config")
    assert b.kubeconfig == "/etc/kube/config"


def test_environment_overrides_file(tmp_path: Path) -> None:
    path = tmp_path / "netwarden.yaml"
    path.write_text(FULL)
    env = {"NETWARDEN_REGIONS": "jp-tok", "NETWARDEN_REMEDIATION_MODE": "alert", "NETWARDEN_MAX_CHANGES": "3",
           "NETWARDEN_BASELINE": "/srv/baseline", "NETWARDEN_STATE": "cos://bucket/prefix"}
    s = Settings.load(path, environ=env)
    assert s.ibmcloud is not None and s.ibmcloud.regions == ("jp-tok",) and s.ibmcloud.vpcs == ("prod-vpc",)
    assert (s.remediation.mode, s.remediation.max_changes) == ("alert", 3)
    assert s.baseline == Path("/srv/baseline") and s.state == "cos://bucket/prefix"


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
        ("kubernetes:\n  clusters:\n    - {name: c, server: s}\n    - {name: c, server: s}\n",
         ":4: kubernetes.clusters[1].name"),
        ("remediation:\n  mode: yolo\n", ":2: remediation.mode"),
        ("remediation:\n  max_changes: -1\n", ":2: remediation.max_changes"),
        ("notify:\n  remind_after: soon\n", ":2: notify.remind_after"),
        ("notify:\n  pager: {}\n", ":2: notify.pager"),
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
