"""The HTML report (``core.report.html``): each finding kind's side-by-side block, escaping, the reachability
matrix of a NetworkPolicy deletion, links to the baseline, an in-sync report, and a page that loads nothing."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import replace
from html.parser import HTMLParser

import pytest

import snapshot_factory as f
from netwarden.app.check import run
from netwarden.core import sg_rules
from netwarden.core.findings import ResourceRef, make
from netwarden.core.model import (
    AclRule,
    Cluster,
    ContainerPort,
    Pod,
    PortRange,
    SecurityGroup,
    Snapshot,
    Unreadable,
    Workload,
)
from netwarden.core.report.html import TOC_FROM, render_html
from netwarden.core.report.html_matrix import workload_matrix
from netwarden.core.report.model import CheckReport, baseline_file

Edit = Callable[[Snapshot], Snapshot]


def _group(rules: list[tuple[str, str, str, int | None]]) -> SecurityGroup:
    return sg_rules.group("web-sg", [sg_rules.sg_rule(direction=d, protocol_=p, remote=r,
                                                      ports=PortRange(n, n) if n else None) for d, p, r, n in rules])


BASE_SG: list[tuple[str, str, str, int | None]] = [("inbound", "tcp", "207.42.8.0/24", 443),
                                                  ("outbound", "tcp", "10.0.0.0/8", 5432)]


def _with_sg(snapshot: Snapshot, rules: list[tuple[str, str, str, int | None]]) -> Snapshot:
    vpc = snapshot.vpcs[0]
    return replace(snapshot, vpcs=(replace(vpc, security_groups=(_group(rules),)),))


def _baseline() -> Snapshot:
    return _with_sg(f.recipe(), BASE_SG)


def _live() -> Snapshot:
    return f.live_of(_baseline())


def _acl(live: Snapshot, name: str, edit: Callable[[list[AclRule]], list[AclRule]]) -> Snapshot:
    return f.with_acl(live, name, edit(f.rules_of(live, name)))


def _policy_port(live: Snapshot) -> Snapshot:
    policies = [f.policy(p.namespace, p.name, {**p.spec, "ingress": [{"ports": [{"port": 8443}]}]})
                if p.name == "allow-web" else p for p in live.clusters[0].policies]
    return f.with_policies(live, policies)


def _extra_rule(rules: list[AclRule]) -> list[AclRule]:
    return [f.rule("allow-ssh-in", "allow", "inbound", "tcp", "0.0.0.0/0", "10.240.0.0/24", destination_port=22),
            *rules]


def _port(rules: list[AclRule]) -> list[AclRule]:
    return [replace(r, destination_port=PortRange(8443, 8443)) if r.name == "allow-org-https-in" else r for r in rules]


#: (the drift, its code, the block's table class, the row marks it must have: {tr class: text in such a row})
CASES: list[tuple[str, Edit, str, str, dict[str, str]]] = [
    ("acl rule deleted", lambda s: _acl(s, "acl-zone1", lambda r: [x for x in r if x.name != "deny-all-in"]),
     "acl-rule-missing", "rules acl", {"del": "deny-all-in"}),
    ("acl rule added", lambda s: _acl(s, "acl-zone1", _extra_rule), "acl-rule-unexpected", "rules acl",
     {"add": "allow-ssh-in"}),
    ("acl rule changed", lambda s: _acl(s, "acl-zone1", _port), "acl-rule-changed", "rules acl",
     {"chg": "dst 8443"}),
    ("acl rules swapped", lambda s: _acl(s, "acl-zone1", lambda r: [r[2], r[1], r[0], *r[3:]]),
     "acl-rules-reordered", "rules acl", {"mov": "allow-ibm-private-1-in"}),
    ("acl deleted", lambda s: f.without_acl(s, "acl-zone3"), "acl-missing", "rules acl", {"del": "deny-all-out"}),
    ("sg rule added", lambda s: _with_sg(s, [*BASE_SG, ("inbound", "tcp", "0.0.0.0/0", 22)]), "sg-rule-unexpected",
     "rules sg", {"add": "0.0.0.0/0"}),
    ("sg rule changed", lambda s: _with_sg(s, [("inbound", "tcp", "207.42.8.0/24", 8443), BASE_SG[1]]),
     "sg-rule-changed", "rules sg", {"chg": "8443"}),
    ("policy changed", _policy_port, "netpol-changed", "yaml", {"chg": "8443"}),
    ("policy deleted", lambda s: f.with_policies(s, [p for p in s.clusters[0].policies if p.name != "allow-web"]),
     "netpol-missing", "yaml", {"del": "allow-web"}),
    ("policy added", lambda s: f.with_policies(s, [*s.clusters[0].policies, f.policy("finance", "open", {
        "podSelector": {}, "ingress": [{}]})]), "netpol-unexpected", "yaml", {"add": "open"}),
    ("gateway attached", lambda s: f.with_subnet(s, "subnet-zone2", public_gateway="pgw-x"), "gateway-attached",
     "fields", {"chg": "pgw-x"}),
    ("default acl", lambda s: f.with_subnet(s, "subnet-zone2", network_acl="default-acl"), "subnet-allow-all",
     "fields", {"chg": "default-acl"}),
    ("labels changed", lambda s: f.with_namespace(s, "finance", {"tier": "other"}), "namespace-labels-changed",
     "fields", {"chg": "other"}),
]


def section(page: str, code: str) -> str:
    """The section of the (first) finding with ``code``."""
    for part in page.split('<section class="finding')[1:]:
        if f"<code>{code}</code>" in part.split("</h3>")[0]:
            return part.split("</section>")[0]
    raise AssertionError(f"no finding {code} on the page")


def rows(block: str, kind: str) -> list[str]:
    return re.findall(rf'<tr class="{kind}"[^>]*>(.*?)</tr>', block)


@pytest.mark.parametrize(("name", "edit", "code", "table", "marks"), CASES, ids=[c[0] for c in CASES])
def test_each_kind_has_its_side_by_side_block(name: str, edit: Edit, code: str, table: str,
                                               marks: dict[str, str]) -> None:
    baseline = _baseline()
    report = run(baseline, edit(_live()))
    assert code in {x.code for x in report.findings}
    block = section(render_html(report, baseline, edit(_live())), code)
    assert f'<table class="{table}">' in block
    assert ">baseline<" in block and ">live<" in block
    for kind, text in marks.items():
        assert any(text in r for r in rows(block, kind)), f"no {kind} row with {text!r}"


def test_a_changed_rule_marks_the_fields_that_differ() -> None:
    baseline = _baseline()
    live = _acl(_live(), "acl-zone1", _port)
    block = section(render_html(run(baseline, live), baseline, live), "acl-rule-changed")
    (row,) = rows(block, "chg")
    assert '<td class="base diff">dst 443</td>' in row and '<td class="live diff">dst 8443</td>' in row
    assert '<td class="base">allow-org-https-in</td>' in row  # the name is the same: not marked


def test_acl_and_subnet_drift_show_the_flows_opened() -> None:
    baseline = _baseline()
    live = f.with_subnet(_live(), "subnet-zone2", network_acl="default-acl")
    block = section(render_html(run(baseline, live), baseline, live), "subnet-allow-all")
    opened = block.split('<div class="opened">')[1].split("</div>")[0]
    assert "from 0.0.0.0/0 to 10.240.64.0/24" in opened


def test_a_workload_finding_shows_its_fields() -> None:
    ref = ResourceRef("workload", cluster=f.CLUSTER, namespace="accounts", name="notifier")
    finding = make("workload-affinity-changed", ref, "workload accounts/notifier lost its affinity",
                   baseline={"subnet": "subnet-zone1", "subnet_id": "id-1"}, live={"subnets": None})
    report = CheckReport("drift", (finding,))
    block = section(render_html(report, f.recipe(), f.recipe()), "workload-affinity-changed")
    assert '<table class="fields">' in block
    assert any("subnet-zone1" in r for r in rows(block, "chg"))


# --- escaping -------------------------------------------------------------------------------------------

HOSTILE = '<script>alert(1)</script>"\'><img src=x onerror=alert(2)>'


class _Tags(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tags: set[str] = set()
        self.handlers: list[str] = []
        self.text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.add(tag)
        self.handlers += [k for k, _ in attrs if k.startswith("on")]

    def handle_data(self, data: str) -> None:
        self.text.append(data)


@pytest.mark.parametrize("where", ["acl rule name", "policy name", "namespace label", "unreadable reason"])
def test_names_from_the_cloud_stay_text(where: str) -> None:
    baseline, live = _baseline(), _live()
    if where == "acl rule name":
        live = _acl(live, "acl-zone1", lambda r: [f.rule(HOSTILE, "allow", "inbound", "tcp", "0.0.0.0/0",
                                                         "10.240.0.0/24"), *r])
    elif where == "policy name":
        live = f.with_policies(live, [*live.clusters[0].policies, f.policy("accounts", HOSTILE, {"podSelector": {}})])
    elif where == "namespace label":
        live = f.with_namespace(live, "finance", {"tier": HOSTILE})
    report = run(baseline, live)
    if where == "unreadable reason":
        report = replace(report, unreadable=(*report.unreadable, Unreadable(HOSTILE, HOSTILE)))
    page = render_html(report, baseline, live, link_base=HOSTILE)
    parsed = _Tags()
    parsed.feed(page)
    assert parsed.tags.isdisjoint({"script", "img", "iframe", "object", "link"})
    assert parsed.handlers == []
    assert any(HOSTILE in t for t in parsed.text), "the name is shown, as text"


# --- the reachability matrix ----------------------------------------------------------------------------

ISOLATE = {"podSelector": {"matchLabels": {"app": "db"}}, "policyTypes": ["Ingress"]}
ALLOW_WEB = {"podSelector": {"matchLabels": {"app": "db"}},
             "ingress": [{"from": [{"podSelector": {"matchLabels": {"app": "web"}}}], "ports": [{"port": 5432}]}]}


def _estate(policies: dict[str, dict[str, object]]) -> Snapshot:
    pods = (Pod("accounts", "web-1", {"app": "web"}), Pod("accounts", "web-2", {"app": "web"}),
            Pod("accounts", "api", {"app": "api"}), Pod("accounts", "db", {"app": "db"}, (ContainerPort(5432),)))
    cluster = Cluster(f.CLUSTER, f.recipe().clusters[0].namespaces[:1],
                      tuple(f.policy("accounts", n, s) for n, s in sorted(policies.items())), pods,
                      workloads=(Workload("accounts", "web", "Deployment", {"app": "web"}, pods=("web-1", "web-2")),))
    return Snapshot(clusters=(cluster,))


#: (baseline's policies, the one deleted live, the cells that change: {(from, to): gain | lose})
DELETIONS = [
    ({"allow-web": ALLOW_WEB}, "allow-web",
     {("accounts/api", "accounts/db"): "gain", ("accounts/web", "accounts/db"): "gain"}),
    ({"isolate": ISOLATE, "allow-web": ALLOW_WEB}, "allow-web", {("accounts/web", "accounts/db"): "lose"}),
]


@pytest.mark.parametrize(("policies", "deleted", "changed"), DELETIONS, ids=["opens db", "closes web to db"])
def test_a_policy_deletion_marks_the_cells_gained_and_lost(policies: dict[str, dict[str, object]], deleted: str,
                                                           changed: dict[tuple[str, str], str]) -> None:
    baseline = _estate(policies)
    live = _estate({k: v for k, v in policies.items() if k != deleted})
    m = workload_matrix(baseline, live, f.CLUSTER)
    assert m is not None
    assert m.workloads == ("accounts/api", "accounts/db", "accounts/web")  # web-1 and web-2 are one workload
    assert {(s, d): c.kind for s, d, c in m.changed()} == changed
    report = run(baseline, live)
    assert [x.code for x in report.findings] == ["netpol-missing"]
    page = render_html(report, baseline, live)
    matrix = page.split('<table class="matrix"')[1].split("</table>")[0]
    for (src, dst), kind in changed.items():
        assert re.search(rf'<td class="{kind}" title="{src} -&gt; {dst}: [^"]*">', matrix), (src, dst, kind)
    assert len(re.findall(r'<td class="(gain|lose|both)"', matrix)) == len(changed)
    assert 'href="#reach-' in section(page, "netpol-missing")


# --- links, the summary, an in-sync report --------------------------------------------------------------


def test_links_go_to_the_baseline_file_and_line() -> None:
    baseline = _baseline()
    live = _acl(_live(), "acl-zone1", _port)
    report = run(baseline, live)
    finding = next(x for x in report.findings if x.code == "acl-rule-changed")
    located = render_html(report, baseline, live, locations={finding.fingerprint: ("baseline/vpc/acl one.yaml", 12)},
                          link_base="https://git.example/o/r/blob/abc/")
    assert '<a href="https://git.example/o/r/blob/abc/baseline/vpc/acl%20one.yaml#L12">' in section(located,
                                                                                                  finding.code)
    carried = replace(report, locations={finding.fingerprint: ("baseline/vpc/acl-zone1.yaml", 7)})
    assert '<a href="baseline/vpc/acl-zone1.yaml#L7">baseline/vpc/acl-zone1.yaml:7</a>' in section(
        render_html(carried, baseline, live), finding.code)
    plain = section(render_html(report, baseline, live, baseline_dir="infra/baseline"), finding.code)
    path = baseline_file(finding, "infra/baseline")
    assert f'<a href="{path}">{path}</a>' in plain


def test_the_summary_counts_and_many_findings_get_contents() -> None:
    baseline = _baseline()
    live = f.with_subnet(_acl(_live(), "acl-zone1", _extra_rule), "subnet-zone2", network_acl="default-acl")
    live = f.with_namespace(f.with_subnet(live, "subnet-zone3", public_gateway="pgw-x"), "finance", {"tier": "x"})
    report = run(baseline, live)
    page = render_html(report, baseline, live)
    assert (len(report.findings) >= TOC_FROM) == ('<nav class="toc"' in page)
    for severity, n in report.counts().items():
        assert f'<b class="sev-{severity}">{n}</b>{severity}' in page
    few = run(baseline, _acl(_live(), "acl-zone1", _port))
    assert '<nav class="toc"' not in render_html(few, baseline, _live())


def test_in_sync() -> None:
    baseline = _baseline()
    report = run(baseline, _live())
    assert report.status == "in_sync"
    page = render_html(report, baseline, _live())
    assert "In sync: the live state matches the reviewed baseline." in page
    assert 'id="findings"' not in page and "matrix" not in page.split("</style>")[1]
    assert "status-in_sync" in page


def test_the_page_loads_nothing() -> None:
    baseline = _baseline()
    live = f.with_subnet(_policy_port(_live()), "subnet-zone2", network_acl="default-acl")
    page = render_html(run(baseline, live), baseline, live)
    assert page.startswith("<!DOCTYPE html>")
    assert '<meta http-equiv="Content-Security-Policy" content="default-src &#x27;none&#x27;;' in page
    parsed = _Tags()
    parsed.feed(page)
    assert parsed.tags.isdisjoint({"script", "img", "link", "iframe", "object", "embed", "video", "audio"})
    assert " src=" not in page and "url(" not in page and "@import" not in page
