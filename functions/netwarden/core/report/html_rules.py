"""The HTML report's rule tables: an ACL's or a security group's rules, baseline and live side by side.

A rule finding says "rule 12 is gone"; a reviewer wants to see it among its neighbours. An ACL is
first-match, so its table keeps the order: the rows follow ``core.acl.rule_diff.align`` (the same
alignment the diff made its findings from), each marked changed (``~``, the differing fields in bold),
missing (``-``), added (``+``) or moved (``^``), and long runs of unchanged rules folded. A security
group's rules are a set: its table is in canonical order (``core.sg_rules.sort_key``), each rule
spelled as ``core.sg_rules`` spells it, paired into one changed row where a finding paired them.

Each block also says which row each of its findings points at (``Block.rows``), so a finding shown
far from the table can link to its row. The flows an ACL's drift opens and closes, the impact in
pictures, are here too (``flows_block``): ``core.acl.evaluate``'s exposure diff, worst flows first.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

from netwarden.core import sg_rules
from netwarden.core.acl.evaluate import Exposure, examples
from netwarden.core.acl.rule_diff import align, changed_fields
from netwarden.core.findings import Finding
from netwarden.core.model import PORT_PROTOCOLS, AclRule, NetworkAcl, SecurityGroup, SgRule
from netwarden.core.report.html_parts import anchor, esc, legend, table, text_items

#: Rule tables longer than this fold their long runs of unchanged rules, keeping ``CONTEXT`` around changes.
FOLD_ABOVE = 24
CONTEXT = 2
#: Flows listed per side of a flows block.
FLOW_EXAMPLES = 8

ACL_COLUMNS = ("name", "action", "direction", "protocol", "source", "destination", "ports")
SG_COLUMNS = ("direction", "protocol", "remote", "local", "ports")
MARKS = {"same": "", "chg": "~", "del": "-", "add": "+", "mov": "^", "mov chg": "^~"}
LEGEND = {"chg": "changed (differing fields in bold)", "del": "missing from live", "add": "not in the baseline",
          "mov": "moved (ACLs are first-match: order is meaning)"}
#: Which column shows each field a rule change names.
_ACL_FIELD_COLUMN = {"destination_port": "ports", "source_port": "ports", "type": "ports", "code": "ports"}
_SG_FIELD_COLUMN = {"remote_group": "remote", "type": "ports", "code": "ports"}


@dataclass(frozen=True, slots=True)
class Block:
    """A table (already HTML) and the row each finding it covers points at: ``{fingerprint: row id}``."""

    html: str
    rows: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class _Row:
    kind: str
    base: tuple[str, ...] | None
    live: tuple[str, ...] | None
    base_pos: str = ""
    live_pos: str = ""
    changed: frozenset[str] = frozenset()
    id: str = ""


# --- ACLs -----------------------------------------------------------------------------------------------


def acl_ports(rule: AclRule) -> str:
    """``dst 443``, ``dst 443 src 1024-65535``, ``all`` (tcp/udp), ``type 8 code 0`` (icmp), or empty."""
    parts = []
    if rule.destination_port is not None and not rule.destination_port.is_all:
        parts.append(f"dst {rule.destination_port}")
    if rule.source_port is not None and not rule.source_port.is_all:
        parts.append(f"src {rule.source_port}")
    if rule.icmp_type is not None:
        parts.append(f"type {rule.icmp_type}")
    if rule.icmp_code is not None:
        parts.append(f"code {rule.icmp_code}")
    if not parts and rule.protocol in PORT_PROTOCOLS:
        return "all"
    return " ".join(parts) or ("all types" if rule.protocol == "icmp" else "")


def _acl_cells(rule: AclRule) -> tuple[str, ...]:
    return (rule.name, rule.action, rule.direction, rule.protocol, rule.source, rule.destination, acl_ports(rule))


def acl_block(region: str, vpc: str, base: NetworkAcl | None, live: NetworkAcl | None,
              findings: Sequence[Finding]) -> Block:
    """The rule table of one ACL, baseline against live (either may be absent: the ACL is gone or new)."""
    either = base or live
    key = anchor("acl", region, vpc, either.name if either is not None else "")
    base_rules = base.rules if base is not None else ()
    live_rules = live.rules if live is not None else ()
    rows = _acl_rows(key, base_rules, live_rules)
    by_position = {("b", r.base_pos): r.id for r in rows if r.base_pos} | {("l", r.live_pos): r.id for r in rows
                                                                            if r.live_pos}
    targets: dict[str, str] = {}
    for f in findings:
        side, data = ("b", f.baseline) if f.baseline and "position" in f.baseline else ("l", f.live)
        if data and "position" in data and (side, str(data["position"])) in by_position:
            targets[f.fingerprint] = by_position[(side, str(data["position"]))]
    note = ""
    if base is None:
        note = '<p class="note">Not in the baseline: every live rule is shown as added.</p>'
    elif live is None:
        note = '<p class="note">This ACL does not exist live: every baseline rule is shown as missing.</p>'
    html = note + legend(LEGEND) + _side_table(rows, ACL_COLUMNS, "rules acl")
    return Block(html, targets)


def _acl_rows(key: str, base: Sequence[AclRule], live: Sequence[AclRule]) -> list[_Row]:
    a = align(base, live)
    moved = set(a.moved)
    by_base = dict(a.pairs)
    rows: list[tuple[int | None, int | None, _Row]] = []
    for i, rule in enumerate(base):
        j = by_base.get(i)
        if j is None:
            rows.append((i, None, _Row("del", _acl_cells(rule), None, str(i + 1), id=f"{key}-b{i + 1}")))
            continue
        fields = frozenset(_ACL_FIELD_COLUMN.get(f, f) for f in changed_fields(rule, live[j]))
        kind = ("mov " if (i, j) in moved else "") + ("chg" if fields else "")
        rows.append((i, j, _Row(kind.strip() or "same", _acl_cells(rule), _acl_cells(live[j]), str(i + 1),
                                str(j + 1), fields, f"{key}-b{i + 1}")))
    for j in sorted(a.unexpected):
        at = 0
        for k, (_, lj, _) in enumerate(rows):
            if lj is not None and lj < j:
                at = k + 1
        rows.insert(at, (None, j, _Row("add", None, _acl_cells(live[j]), "", str(j + 1), id=f"{key}-l{j + 1}")))
    return [r for _, _, r in rows]


# --- security groups ------------------------------------------------------------------------------------


def _sg_cells(rule: SgRule) -> tuple[str, ...]:
    remote = f"group {rule.remote_group}" if rule.remote_group is not None else str(rule.remote)
    if rule.ports is not None:
        ports = "all" if rule.ports.is_all else str(rule.ports)
    elif rule.icmp_type is not None:
        ports = f"type {rule.icmp_type}" + (f" code {rule.icmp_code}" if rule.icmp_code is not None else "")
    else:
        ports = "all types" if rule.protocol == "icmp" else ""
    return (rule.direction, rule.protocol, remote, rule.local, ports)


def _sg_changed(old: SgRule, new: SgRule) -> frozenset[str]:
    a, b = sg_rules.to_data(old), sg_rules.to_data(new)
    return frozenset(_SG_FIELD_COLUMN.get(k, k) for k in sg_rules.RULE_KEYS if a.get(k) != b.get(k))


def sg_block(region: str, vpc: str, base: SecurityGroup | None, live: SecurityGroup | None,
             findings: Sequence[Finding]) -> Block:
    """The rules of one security group, baseline against live, and its targets when a finding is about them."""
    either = base or live
    key = anchor("sg", region, vpc, either.name if either is not None else "")
    base_rules = base.rules if base is not None else ()
    live_rules = live.rules if live is not None else ()
    pairs: dict[SgRule, SgRule] = {}
    for f in findings:
        if f.baseline and f.live and base is not None and live is not None:
            old, new = sg_rules.named(base, f.baseline), sg_rules.named(live, f.live)
            if old is not None and new is not None and old not in live_rules and new not in base_rules:
                pairs[old] = new
    paired_live = set(pairs.values())
    in_base, in_live = set(base_rules), set(live_rules)
    rows: list[_Row] = []
    row_of: dict[SgRule, str] = {}
    for n, rule in enumerate(sorted(in_base | in_live, key=sg_rules.sort_key), start=1):
        if rule in paired_live and rule not in in_base:
            continue
        rid = f"{key}-r{n}"
        if rule in in_base and rule in in_live:
            row = _Row("same", _sg_cells(rule), _sg_cells(rule), id=rid)
        elif rule in pairs:
            new = pairs[rule]
            row = _Row("chg", _sg_cells(rule), _sg_cells(new), changed=_sg_changed(rule, new), id=rid)
            row_of[new] = rid
        elif rule in in_base:
            row = _Row("del", _sg_cells(rule), None, id=rid)
        else:
            row = _Row("add", None, _sg_cells(rule), id=rid)
        row_of[rule] = rid
        rows.append(row)
    targets: dict[str, str] = {}
    for f in findings:
        for group, side in ((live, f.live), (base, f.baseline)):
            found = sg_rules.named(group, side) if group is not None else None
            if found is not None and found in row_of:
                targets[f.fingerprint] = row_of[found]
                break
    html = ""
    if base is None or live is None:
        html = ('<p class="note">' + ("This security group does not exist live: every baseline rule is shown as "
                                      "missing." if live is None else "Not in the baseline.") + "</p>")
    html += legend({k: v for k, v in LEGEND.items() if k != "mov"})
    html += _side_table(rows, SG_COLUMNS, "rules sg", positions=False)
    if any(f.code in ("sg-target-added", "sg-target-removed") for f in findings):
        html += "<h4>Targets</h4>" + _targets(base, live)
    return Block(html, targets)


def _targets(base: SecurityGroup | None, live: SecurityGroup | None) -> str:
    b = {(t.type, t.name) for t in (base.targets if base is not None else ())}
    lv = {(t.type, t.name) for t in (live.targets if live is not None else ())}
    rows = [_Row("same" if t in b and t in lv else "del" if t in b else "add",
                 t if t in b else None, t if t in lv else None) for t in sorted(b | lv)]
    return _side_table(rows, ("type", "name"), "rules targets", positions=False)


# --- the side-by-side table -----------------------------------------------------------------------------


def _side_table(rows: Sequence[_Row], columns: Sequence[str], cls: str, *, positions: bool = True) -> str:
    span = len(columns) + (1 if positions else 0)
    header = (f'<tr><th class="side" colspan="{span}">baseline</th><th class="side-gap"></th>'
              f'<th class="side" colspan="{span}">live</th></tr>')
    cols = "".join(f"<th>{esc(h)}</th>" for h in ((("#",) if positions else ()) + tuple(columns)))
    header += f'<tr>{cols}<th class="mark" title="change">&#177;</th>{cols}</tr>'
    body = "".join(_fold(rows, columns, positions))
    return f'<div class="scroll"><table class="{esc(cls)}"><thead>{header}</thead><tbody>{body}</tbody></table></div>'


def _fold(rows: Sequence[_Row], columns: Sequence[str], positions: bool) -> Iterable[str]:
    """The rows, with runs of unchanged ones folded when the table is long."""
    width = 2 * (len(columns) + (1 if positions else 0)) + 1
    if len(rows) <= FOLD_ABOVE:
        yield from (_tr(r, columns, positions) for r in rows)
        return
    keep = {i for i, r in enumerate(rows) if r.kind != "same"}
    keep = {k for i in keep for k in range(i - CONTEXT, i + CONTEXT + 1)}
    i = 0
    while i < len(rows):
        if i in keep:
            yield _tr(rows[i], columns, positions)
            i += 1
            continue
        j = i
        while j < len(rows) and j not in keep:
            j += 1
        if j - i < 3:
            yield from (_tr(r, columns, positions) for r in rows[i:j])
        else:
            where = f" (baseline {rows[i].base_pos}-{rows[j - 1].base_pos})" if rows[i].base_pos else ""
            yield f'<tr class="fold"><td colspan="{width}">&#8943; {j - i} unchanged rules{esc(where)}</td></tr>'
        i = j


def _tr(row: _Row, columns: Sequence[str], positions: bool) -> str:
    width = len(columns)
    cells = []
    for side, values, pos in (("base", row.base, row.base_pos), ("live", row.live, row.live_pos)):
        if positions:
            cells.append(f'<td class="pos {side}">{esc(pos)}</td>')
        if values is None:
            cells.append(f'<td class="{side}" colspan="{width}">&#8212;</td>')
        else:
            cells.extend(f'<td class="{side}{" diff" if c in row.changed else ""}">{esc(v)}</td>'
                         for c, v in zip(columns, values, strict=True))
        if side == "base":
            cells.append(f'<td class="mark" title="{esc(row.kind)}">{esc(MARKS.get(row.kind, ""))}</td>')
    rid = f' id="{esc(row.id)}"' if row.id else ""
    return f'<tr class="{esc(row.kind)}"{rid}>{"".join(cells)}</tr>'


# --- flows opened and closed ----------------------------------------------------------------------------


def flows_block(exposure: Exposure, title: str) -> str:
    """The flows ``exposure`` opens and closes, worst first, as two lists side by side."""
    if not exposure.opened and not exposure.closed:
        return f'<h4>{esc(title)}</h4><p class="note">The allowed traffic is the same.</p>'
    parts = []
    for cls, label, flows, within in (("opened", "opened (live allows, the baseline did not)", exposure.opened,
                                       exposure.after),
                                      ("closed", "closed (the baseline allowed, live does not)", exposure.closed,
                                       exposure.before)):
        shown = examples(flows, FLOW_EXAMPLES, within=within) if flows else ()
        listed = text_items(shown, "plain") if shown else '<p class="note">nothing</p>'
        parts.append(f'<div class="{cls}"><b>{esc(label)}</b>{listed}</div>')
    return (f'<h4>{esc(title)}</h4><p class="note">{esc(exposure.summary())}</p>'
            f'<div class="flows">{"".join(parts)}</div>')


def fields_table(rows: Sequence[tuple[str, object, object]]) -> str:
    """``(field, baseline, live)`` rows, the differing ones marked."""
    out = []
    for name, before, after in rows:
        differs = before != after
        kind = "chg" if differs else "same"
        cls = " diff" if differs else ""
        out.append(f'<tr class="{kind}"><td>{esc(name)}</td><td class="base{cls}">{esc(before)}</td>'
                   f'<td class="mark">{"~" if differs else ""}</td><td class="live{cls}">{esc(after)}</td></tr>')
    return table(("field", "baseline", "±", "live"), out, "fields")
