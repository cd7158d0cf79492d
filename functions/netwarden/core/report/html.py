"""``check --format html``: a check report as one self-contained page a reviewer reads in a browser.

The page needs no network and no script (``core.report.html_style``: inline CSS, a Content-Security-Policy
that forbids every fetch), so it works opened from a CI artifact. It shows the summary (status, counts
by severity, unreadable scopes, notes), a table of contents when there are many findings, the impact
of NetworkPolicy drift as a workload-by-workload reachability matrix per cluster
(``core.report.html_matrix``), and one section per finding: what, where (with a link to the baseline
file, and line when ``locations`` knows it), severity, message and impact, then baseline and live side
by side: an ACL's or a security group's rule table with the flows its drift opens and closes
(``core.report.html_rules``), a NetworkPolicy's YAML diff or the fields of a subnet, namespace or
workload (``core.report.html_policy``).

The report alone cannot draw tables, so both snapshots come in: ``render_html(report, baseline, live)``.
A rule table is drawn once per ACL or group, under its first finding; its other findings link to their
rows. Everything from outside is escaped (``core.report.html_parts``). Pure: the time comes in with the
report.
"""

from __future__ import annotations

from collections.abc import Mapping

from netwarden.core.acl.evaluate import exposure
from netwarden.core.drift.impact import NETPOL_CODES, SUBNET_ACL_CODES
from netwarden.core.findings import SEVERITIES, Finding
from netwarden.core.model import AclRule, NetworkAcl, Snapshot
from netwarden.core.report.html_matrix import matrix_html, matrix_id, workload_matrix
from netwarden.core.report.html_parts import badge, code, esc, finding_id, href, items, severity_badge, text_items
from netwarden.core.report.html_policy import fields_block, policy_block
from netwarden.core.report.html_rules import Block, acl_block, flows_block, sg_block
from netwarden.core.report.html_style import document
from netwarden.core.report.model import CheckReport, baseline_file, summary

#: From this many findings on, the page starts with a table of contents.
TOC_FROM = 5
#: Findings past this many are listed with what, where and impact, without their tables.
MAX_DETAILED = 200
STATUS_TITLE = {"in_sync": "in sync", "drift": "drift detected", "incomplete": "incomplete check"}
#: Where a location comes from: ``{fingerprint: (file, line)}``.
Locations = Mapping[str, tuple[str, int]]


def render_html(report: CheckReport, baseline: Snapshot, live: Snapshot, *, locations: Locations | None = None,
                baseline_dir: str = "baseline", link_base: str | None = None) -> str:
    """The page for ``report`` (made by ``app.check.run`` from ``baseline`` and ``live``).

    ``locations`` maps a finding's fingerprint to its baseline file and line; a finding it does not
    name is looked up in ``report.locations`` (``entrypoints.wiring_report.with_locations`` fills them),
    and failing that links to ``core.report.model.baseline_file(finding, baseline_dir)``, with no line.
    ``link_base`` prefixes those links (a repository's web address at the commit checked, ending in
    ``/``); without it they are relative to where the page is opened."""
    page = _Page(report, baseline, live, locations=locations or {}, baseline_dir=baseline_dir, link_base=link_base)
    return page.render()


class _Page:
    def __init__(self, report: CheckReport, baseline: Snapshot, live: Snapshot, *, locations: Locations,
                 baseline_dir: str, link_base: str | None) -> None:
        self.report, self.baseline, self.live = report, baseline, live
        self.locations, self.baseline_dir, self.link_base = locations, baseline_dir, link_base
        self.detailed = report.findings[:MAX_DETAILED]
        self.blocks: dict[tuple[str | None, ...], Block] = {}
        self.drawn: dict[tuple[str | None, ...], str] = {}
        self.matrices = {c: m for c in sorted({f.resource.cluster or "" for f in self.detailed
                                               if f.code in NETPOL_CODES})
                         if (m := workload_matrix(baseline, live, c)) is not None}

    def render(self) -> str:
        r = self.report
        title = f"netwarden check: {summary(r)}"
        body = [self._header(), self._summary()]
        if len(r.findings) >= TOC_FROM:
            body.append(self._toc())
        if self.matrices:
            body.append(self._reachability())
        if r.findings:
            body.append('<section id="findings"><h2>Findings</h2>')
            body.extend(self._finding(f, n) for n, f in enumerate(r.findings))
            body.append("</section>")
        stamp = f" at {esc(r.generated_at)}" if r.generated_at else ""
        return document(esc(title), body[0], "".join(body[1:]),
                        f"netwarden check report, generated{stamp}. Self-contained: it loads nothing.")

    # --- the head of the page ---------------------------------------------------------------------------

    def _header(self) -> str:
        r = self.report
        status = badge(STATUS_TITLE.get(r.status, r.status), f"status status-{r.status}")
        when = [f"generated {esc(r.generated_at)}" if r.generated_at else "",
                f"live snapshot taken {esc(self.live.taken_at)}" if self.live.taken_at else ""]
        return (f"<h1>netwarden check {status}</h1>"
                f'<p class="muted">{esc(summary(r))}' + "".join(f" &#183; {w}" for w in when if w) + "</p>")

    def _summary(self) -> str:
        r = self.report
        counts = r.counts()
        chips = [f'<li class="{"" if counts.get(s) else "zero"}"><b class="sev-{s}">{counts.get(s, 0)}</b>{s}</li>'
                 for s in SEVERITIES]
        suppressed = len(r.findings) - len(r.active)
        chips.append(f'<li class="{"" if suppressed else "zero"}"><b>{suppressed}</b>suppressed</li>')
        chips.append(f'<li class="{"" if r.unreadable else "zero"}"><b>{len(r.unreadable)}</b>unreadable</li>')
        out = ['<section id="summary"><h2>Summary</h2>', f'<ul class="counts">{"".join(chips)}</ul>']
        if not r.findings and r.status == "in_sync":
            out.append('<p class="insync">In sync: the live state matches the reviewed baseline.</p>')
        if r.unreadable:
            out.append("<h4>Not checked: could not be read</h4>" + items(
                f"{code(u.scope)}: {esc(u.reason)}" for u in r.unreadable))
        if r.notes:
            out.append("<h4>Notes</h4>" + items(
                f"{badge(n.kind, 'note-kind')} {code(n.scope)}: {esc(n.message)}" for n in r.notes))
        out.append("</section>")
        return "".join(out)

    def _toc(self) -> str:
        entries = "".join(f'<li><a href="#{finding_id(f)}">{severity_badge(f.severity)} {code(f.code)} '
                          f"{esc(f.resource.path)}</a></li>" for f in self.report.findings)
        links = "".join(f'<li><a href="#{matrix_id(c)}">reachability of cluster {esc(c)}</a></li>'
                        for c in self.matrices)
        extra = f'<ul class="plain">{links}</ul>' if links else ""
        return f'<nav class="toc" id="contents"><h2>Contents</h2>{extra}<ol>{entries}</ol></nav>'

    def _reachability(self) -> str:
        parts = ['<section id="reachability"><h2>Impact: reachability between workloads</h2>',
                 '<p class="note">NetworkPolicies decide which pods may connect. Each cell is one workload (row: '
                 "from) to another (column: to), the baseline's policies against the live ones over the same live "
                 "pods; hover a cell for its connections.</p>"]
        for name, m in self.matrices.items():
            parts.append(f'<div class="reach" id="{matrix_id(name)}"><h3>cluster {esc(name)}</h3>{matrix_html(m)}'
                         "</div>")
        parts.append("</section>")
        return "".join(parts)

    # --- one finding ------------------------------------------------------------------------------------

    def _finding(self, f: Finding, n: int) -> str:
        r = self.report
        mark = r.suppression(f)
        classes = f"finding lvl-{f.severity}" + (" suppressed" if r.is_suppressed(f) else "")
        extra = ""
        if mark is not None:
            until = f" until {mark.expires}" if mark.expires else ""
            extra = badge(f"suppression expired {mark.expires}" if mark.expired else f"suppressed{until}",
                          "suppression") + f' <span class="muted">{esc(mark.reason)}</span>'
        head = (f"<h3>{severity_badge(f.severity)} {code(f.code)} <span>{esc(f.resource.path)}</span>"
                f"{extra}</h3>")
        parts = [f'<section class="{classes}" id="{finding_id(f)}">', head,
                 f'<p class="message">{esc(f.message)}</p>', self._where(f), self._impact(f)]
        if n < MAX_DETAILED:
            parts.append(self._sides(f))
        else:
            parts.append(f'<p class="note">Tables are drawn for the first {MAX_DETAILED} findings only.</p>')
        parts.append("</section>")
        return "".join(parts)

    def _where(self, f: Finding) -> str:
        located = self.locations.get(f.fingerprint) or self.report.locations.get(f.fingerprint)
        if located is not None:
            path, line = located
            link = f'<a href="{href(path, base=self.link_base, line=line)}">{esc(path)}:{int(line)}</a>'
        else:
            path = baseline_file(f, self.baseline_dir)
            link = f'<a href="{href(path, base=self.link_base)}">{esc(path)}</a>'
        rows = [("resource", f"{esc(f.resource.kind)} {code(f.resource.path)}"), ("baseline file", link),
                ("fingerprint", code(f.fingerprint))]
        return '<dl class="where">' + "".join(f"<dt>{k}</dt><dd>{v}</dd>" for k, v in rows) + "</dl>"

    def _impact(self, f: Finding) -> str:
        i = f.impact
        label = {"widened": "opens", "narrowed": "closes"}.get(i.exposure, "examples")
        parts = [f'<div class="impact"><b>impact</b> {badge(i.exposure, "exposure exposure-" + i.exposure)}']
        if i.summary:
            parts.append(f' <span class="muted">{esc(i.summary)}</span>')
        if i.examples:
            parts.append(f"<div>{esc(label)}:{text_items(i.examples, 'plain')}</div>")
        if i.breakage:
            parts.append('<div class="breakage">breaks:' + text_items(i.breakage, "plain") + "</div>")
        if f.code in NETPOL_CODES and (f.resource.cluster or "") in self.matrices:
            parts.append(f'<p><a href="#{matrix_id(f.resource.cluster or "")}">The reachability matrix of cluster '
                         f"{esc(f.resource.cluster)}</a> shows every workload pair.</p>")
        parts.append("</div>")
        return "".join(parts)

    def _sides(self, f: Finding) -> str:
        ref = f.resource
        if ref.kind == "network-acl":
            return self._subject(f, ("acl", ref.region, ref.vpc, ref.acl), f"Rules of ACL {ref.acl}")
        if ref.kind == "security-group":
            return self._subject(f, ("sg", ref.region, ref.vpc, ref.security_group),
                                 f"Rules of security group {ref.security_group}")
        if ref.kind == "network-policy":
            return "<h4>The policy: baseline and live</h4>" + policy_block(f, self.baseline, self.live)
        html = "<h4>Baseline and live</h4>" + fields_block(f, self.baseline, self.live)
        if f.code in SUBNET_ACL_CODES:
            html += self._subnet_flows(f)
        return html

    def _subject(self, f: Finding, key: tuple[str | None, ...], title: str) -> str:
        block = self.blocks.get(key)
        if block is None:
            block = self.blocks[key] = self._block(key)
        row = block.rows.get(f.fingerprint)
        row_link = f' <a href="#{esc(row)}">This finding\'s row.</a>' if row else ""
        first = self.drawn.get(key)
        if first is not None:
            return (f'<h4>{esc(title)}</h4><p class="note">The table is under <a href="#{first}">the first finding '
                    f"of this {'ACL' if key[0] == 'acl' else 'group'}</a>.{row_link}</p>")
        self.drawn[key] = finding_id(f)
        return f'<h4>{esc(title)}: baseline and live</h4><p class="note">{row_link}</p>{block.html}'

    def _block(self, key: tuple[str | None, ...]) -> Block:
        kind, region, vpc, name = (k or "" for k in key)
        findings = [f for f in self.detailed if (f.resource.region, f.resource.vpc) == (region, vpc)
                    and (f.resource.acl if kind == "acl" else f.resource.security_group) == name]
        base_vpc, live_vpc = self.baseline.vpc(region, vpc), self.live.vpc(region, vpc)
        if kind == "sg":
            return sg_block(region, vpc, base_vpc.security_group(name) if base_vpc else None,
                            live_vpc.security_group(name) if live_vpc else None, findings)
        base = base_vpc.acl(name) if base_vpc else None
        now = live_vpc.acl(name) if live_vpc else None
        block = acl_block(region, vpc, base, now, findings)
        if base is None and now is None:
            return block
        flows = flows_block(exposure(base.rules if base else (), now.rules if now else ()),
                            f"What the drift of ACL {name} opens and closes, all its changes together")
        return Block(block.html + flows, block.rows)

    def _subnet_flows(self, f: Finding) -> str:
        """The flows the subnet's change of ACL opens and closes at the subnet."""
        ref = f.resource
        region, vpc = ref.region or "", ref.vpc or ""
        rules: list[tuple[AclRule, ...]] = []
        cidr = None
        for snapshot, side in ((self.baseline, f.baseline), (self.live, f.live)):
            found = snapshot.vpc(region, vpc)
            subnet = found.subnet(ref.subnet or "") if found is not None else None
            cidr = cidr or (subnet.cidr if subnet is not None else None)
            acl = self._acl_named(region, vpc, str((side or {}).get("network_acl") or ""), prefer=snapshot)
            rules.append(acl.rules if acl is not None else ())
        if not rules[0] and not rules[1]:
            return ""
        where = f" at subnet {ref.subnet} ({cidr})" if cidr else f" at subnet {ref.subnet}"
        return flows_block(exposure(rules[0], rules[1], cidr), f"What the change of ACL opens and closes{where}")

    def _acl_named(self, region: str, vpc: str, name: str, *, prefer: Snapshot) -> NetworkAcl | None:
        """The ACL ``name`` of the VPC in ``prefer``, else in the other snapshot (a baseline may leave
        the VPC's default ACL out)."""
        for snapshot in (prefer, self.live, self.baseline):
            found = snapshot.vpc(region, vpc)
            acl = found.acl(name) if found is not None else None
            if acl is not None:
                return acl
        return None
