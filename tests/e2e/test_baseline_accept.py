"""``netwarden baseline accept`` on the emulators: an operator's rule accepted by its fingerprint makes
``check`` exit 0, and the git diff of the baseline is that rule alone; bad selections write nothing."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

import pytest
from ce_deployment import Deployment, deploy
from test_operator_loop import add_rule_as_operator, netwarden


def git(d: Deployment, *args: str) -> str:
    return subprocess.run(["git", "-C", str(d.root / "baseline"), *args], capture_output=True, text=True,
                          check=True).stdout


@pytest.fixture
def drifted(fake: Any, tmp_path: Path) -> Deployment:
    d = deploy(fake, tmp_path)
    git(d, "init", "-q")
    git(d, "add", ".")
    git(d, "-c", "user.email=t@example.com", "-c", "user.name=t", "commit", "-qm", "baseline")
    add_rule_as_operator(d)
    return d


def test_an_accepted_rule_is_the_whole_diff_and_check_is_clean(drifted: Deployment) -> None:
    checked = netwarden(drifted, "check", "-o", "json")
    assert checked.returncode == 2, checked.stderr
    [finding] = json.loads(checked.stdout)["findings"]
    ran = netwarden(drifted, "baseline", "accept", finding["fingerprint"])
    assert ran.returncode == 0, ran.stderr
    r = finding["resource"]
    assert f"accepted acl-rule-unexpected {r['region']}/{r['vpc']}/{r['acl']}/{r['rule']} into" in ran.stdout
    assert netwarden(drifted, "check").returncode == 0
    [(added, removed, path)] = [line.split("\t") for line in git(drifted, "diff", "--numstat").splitlines()]
    assert path.endswith("network-acls/iks-cluster-us-south-1-acl.yaml") and removed == "0"
    diff = [line for line in git(drifted, "diff", "-U0").splitlines() if line.startswith("+") and
            not line.startswith("+++")]
    assert len(diff) == int(added) and any("ssh-from-anywhere" in line for line in diff)


def test_accept_by_code(drifted: Deployment) -> None:
    ran = netwarden(drifted, "baseline", "accept", "--code", "acl-rule-unexpected", "-o", "json")
    assert ran.returncode == 0, ran.stderr
    data = json.loads(ran.stdout)
    assert [a["code"] for a in data["accepted"]] == ["acl-rule-unexpected"] and len(data["files"]) == 1
    assert netwarden(drifted, "check").returncode == 0


@pytest.mark.parametrize(("args", "message"), [
    (("0123456789abcdef",), "no current finding has fingerprint 0123456789abcdef"),
    ((), "nothing selected"),
    (("--code", "acl-rule-gone"), "unknown finding code(s) acl-rule-gone"),
    (("--resource", "eu-de/*"), "nothing to accept: no finding matches --resource eu-de/*"),
])
def test_a_bad_selection_is_one_line_and_writes_nothing(drifted: Deployment, args: tuple[str, ...],
                                                        message: str) -> None:
    ran = netwarden(drifted, "baseline", "accept", *args)
    assert ran.returncode == 1 and message in ran.stderr and "Traceback" not in ran.stderr
    assert len(ran.stderr.strip().splitlines()) == 1
    assert git(drifted, "status", "--porcelain") == ""
