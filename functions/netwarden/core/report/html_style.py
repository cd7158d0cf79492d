"""The HTML report's one stylesheet and its Content-Security-Policy, inline in every page.

The page must work opened from a CI artifact, offline: nothing is fetched, ever. The policy says so
to the browser (``default-src 'none'``: no script, font, image, frame or connection; only this inline
stylesheet), so a name from the cloud that slipped through as markup could still load nothing. Light
and dark follow ``prefers-color-scheme``; every mark a colour carries is also a symbol in the cell
(``+ - ~ ^``), so the page reads in monochrome and to a screen reader too.
"""

from __future__ import annotations

from html import escape

CSP = "default-src 'none'; style-src 'unsafe-inline'; img-src 'none'; base-uri 'none'; form-action 'none'"

CSS = """
:root {
  color-scheme: light dark;
  --bg: #ffffff; --fg: #1d2125; --muted: #5f6b76; --line: #d5dbe1; --panel: #f5f7f9; --link: #0b5cad;
  --critical: #a4000f; --high: #c2410c; --medium: #8a6a00; --low: #1f5fa8; --info: #5f6b76;
  --add: #dcf5e3; --del: #fde2e1; --chg: #fff2c7; --mov: #ece4fb; --gain: #f9c9c4; --lose: #cfe1f7;
  --keep: #e6ebef; --focus: #ffd54a;
  --mono: ui-monospace, SFMono-Regular, Menlo, Consolas, "Liberation Mono", monospace;
}
@media (prefers-color-scheme: dark) {
  :root {
    --bg: #14181c; --fg: #e3e7eb; --muted: #9aa5b1; --line: #343c45; --panel: #1c2228; --link: #7fb4ff;
    --critical: #ff6b6b; --high: #ff9a52; --medium: #e6c34a; --low: #7fb4ff; --info: #9aa5b1;
    --add: #17391f; --del: #4a1d1d; --chg: #433814; --mov: #33254f; --gain: #5c2320; --lose: #1d3556;
    --keep: #262e36; --focus: #7a6200;
  }
}
* { box-sizing: border-box; }
body { margin: 0; background: var(--bg); color: var(--fg);
  font: 15px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif; }
header, main, footer { max-width: 1840px; margin: 0 auto; padding: 0 24px; }
header { padding-top: 20px; }
h1 { font-size: 1.5rem; margin: 0 0 4px; }
h2 { font-size: 1.2rem; margin: 28px 0 10px; border-bottom: 1px solid var(--line); padding-bottom: 4px; }
h3 { font-size: 1.05rem; margin: 0; display: flex; flex-wrap: wrap; gap: 8px; align-items: baseline; }
h4 { font-size: .95rem; margin: 16px 0 6px; color: var(--muted); }
a { color: var(--link); }
code, .mono, table.rules td, table.fields td, table.yaml td, pre { font-family: var(--mono); font-size: 13px; }
table.rules td { white-space: nowrap; font-size: 12px; padding: 2px 6px; }
nav.toc a { text-decoration: none; }
.muted { color: var(--muted); }
.badge { display: inline-block; padding: 1px 8px; border-radius: 10px; font-size: 12px; font-weight: 600;
  border: 1px solid currentColor; white-space: nowrap; }
.sev-critical { color: var(--critical); } .sev-high { color: var(--high); } .sev-medium { color: var(--medium); }
.sev-low { color: var(--low); } .sev-info { color: var(--info); }
.status { font-size: 14px; padding: 3px 12px; }
.status-in_sync { color: #1e7a3c; } .status-drift { color: var(--critical); }
.status-incomplete { color: var(--medium); }
.counts { display: flex; flex-wrap: wrap; gap: 10px; margin: 10px 0; padding: 0; list-style: none; }
.counts li { border: 1px solid var(--line); border-radius: 6px; padding: 6px 12px; background: var(--panel); }
.counts b { font-size: 1.3rem; margin-right: 4px; }
.zero { opacity: .45; }
.insync { border-left: 4px solid #1e7a3c; background: var(--panel); padding: 10px 14px; }
nav.toc ol { columns: 2; column-gap: 32px; padding-left: 20px; }
nav.toc li { break-inside: avoid; margin-bottom: 2px; }
section.finding { border: 1px solid var(--line); border-left: 5px solid var(--line); border-radius: 6px;
  padding: 12px 16px; margin: 16px 0; background: var(--bg); }
section.finding.lvl-critical { border-left-color: var(--critical); }
section.finding.lvl-high { border-left-color: var(--high); }
section.finding.lvl-medium { border-left-color: var(--medium); }
section.finding.lvl-low { border-left-color: var(--low); }
section.finding.suppressed { opacity: .7; }
section.finding:target { box-shadow: 0 0 0 3px var(--focus); }
dl.where { display: grid; grid-template-columns: max-content 1fr; gap: 2px 14px; margin: 8px 0; }
dl.where dt { color: var(--muted); } dl.where dd { margin: 0; }
.message { margin: 6px 0; }
.scroll { overflow-x: auto; max-width: 100%; }
table { border-collapse: collapse; margin: 6px 0; }
th, td { border: 1px solid var(--line); padding: 2px 8px; text-align: left; vertical-align: top; }
th { background: var(--panel); font-weight: 600; font-size: 13px; }
td.side-gap, th.side-gap { border-top: none; border-bottom: none; background: var(--bg); width: 10px; padding: 0; }
th.side { text-align: center; }
td.mark { text-align: center; font-weight: 700; width: 2ch; }
td.pos { color: var(--muted); text-align: right; }
tr.add td.live, tr.add td.mark { background: var(--add); }
tr.del td.base, tr.del td.mark { background: var(--del); }
tr.chg td.mark, tr.chg td.diff { background: var(--chg); }
tr.chg td.diff { font-weight: 700; }
tr.mov td.mark, tr.mov td.pos { background: var(--mov); }
tr.del td.live, tr.add td.base { background: var(--panel); color: var(--muted); }
tr.fold td { text-align: center; color: var(--muted); background: var(--panel); font-style: italic; }
tr:target td { outline: 2px solid var(--focus); }
tr.same td { color: var(--fg); }
td.dline { white-space: pre; }
td.ln { color: var(--muted); text-align: right; user-select: none; }
.legend { font-size: 12px; color: var(--muted); display: flex; flex-wrap: wrap; gap: 4px 14px; align-items: center; }
.swatch { display: inline-block; width: 1.6em; height: 1.1em; border: 1px solid var(--line); margin-right: 4px;
  vertical-align: middle; text-align: center; font: 700 11px/1.1em var(--mono); color: var(--fg); }
.swatch.add { background: var(--add); } .swatch.add::after { content: "+"; }
.swatch.del { background: var(--del); } .swatch.del::after { content: "-"; }
.swatch.chg { background: var(--chg); } .swatch.chg::after { content: "~"; }
.swatch.mov { background: var(--mov); } .swatch.mov::after { content: "^"; }
.swatch.gain { background: var(--gain); } .swatch.gain::after { content: "+"; }
.swatch.lose { background: var(--lose); } .swatch.lose::after { content: "-"; }
.swatch.both { background: linear-gradient(135deg, var(--gain) 50%, var(--lose) 50%); }
.swatch.both::after { content: "~"; }
.swatch.keep { background: var(--keep); } .swatch.keep::after { content: "="; }
table.matrix th.to { writing-mode: vertical-rl; transform: rotate(180deg); white-space: nowrap; font-weight: 500;
  font-family: var(--mono); font-size: 12px; padding: 6px 2px; }
table.matrix th.from { font-family: var(--mono); font-size: 12px; font-weight: 500; white-space: nowrap; }
table.matrix th.ns { text-align: center; font-size: 12px; }
table.matrix td { width: 2.2em; height: 2.2em; min-width: 2.2em; text-align: center; vertical-align: middle; padding: 0;
  font: 700 13px var(--mono); }
table.matrix td.gain { background: var(--gain); } table.matrix td.lose { background: var(--lose); }
table.matrix td.both { background: linear-gradient(135deg, var(--gain) 50%, var(--lose) 50%); }
table.matrix td.keep { background: var(--keep); color: var(--muted); }
table.matrix td.self { background: repeating-linear-gradient(45deg, var(--panel), var(--panel) 3px,
  var(--bg) 3px, var(--bg) 6px); }
table.matrix th.corner { font-size: 11px; color: var(--muted); font-weight: 500; }
.flows { display: grid; grid-template-columns: repeat(auto-fit, minmax(320px, 1fr)); gap: 10px 20px; }
.flows > div { border: 1px solid var(--line); border-radius: 6px; padding: 6px 12px; }
.flows .opened { border-top: 3px solid var(--critical); }
.flows .closed { border-top: 3px solid var(--low); }
.flows ul, ul.plain { margin: 4px 0; padding-left: 18px; }
.breakage { color: var(--critical); font-weight: 600; }
.impact { background: var(--panel); border-radius: 6px; padding: 6px 12px; margin: 8px 0; }
.note { font-size: 13px; color: var(--muted); }
footer { color: var(--muted); font-size: 12px; padding: 24px; }
@media print { .scroll { overflow: visible; } section.finding { break-inside: avoid; } }
"""


def document(title: str, header: str, main: str, footer: str) -> str:
    """One self-contained page: the Content-Security-Policy, the inline stylesheet, ``title`` (escaped
    by the caller), and the header, main and footer markup as given."""
    return ("<!DOCTYPE html>\n"
            '<html lang="en"><head><meta charset="utf-8">'
            f'<meta http-equiv="Content-Security-Policy" content="{escape(CSP)}">'
            '<meta name="viewport" content="width=device-width, initial-scale=1">'
            '<meta name="color-scheme" content="light dark">'
            f"<title>{title}</title><style>{CSS}</style></head>"
            f"<body><header>{header}</header><main>{main}</main><footer>{footer}</footer></body></html>\n")
