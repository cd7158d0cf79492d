"""The small builders every part of the HTML report uses: escaping, element ids, links, badges.

Everything a report shows comes from outside (resource names, rule names, labels and messages are
the cloud's and the cluster's), so nothing reaches the page except through ``esc`` (text and attribute
values) or ``href`` (a link target); element ids are digests, never names. Keeping these in one
module is what lets the renderers (``core.report.html`` and its ``html_*`` helpers) be read as markup
without a reader having to check each interpolation for injection.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from html import escape

from netwarden.core.findings import Finding, digest

#: Characters a link's path keeps as they are; every other byte is percent-encoded.
_SAFE = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~/")


def esc(value: object) -> str:
    """``value`` as text safe in element content and in a double- or single-quoted attribute."""
    return escape(str(value), quote=True)


def href(path: str, *, base: str | None = None, line: int | None = None) -> str:
    """A link target for the file ``path`` (percent-encoded, so a name cannot break out of it), behind
    ``base`` when given, with ``#L<line>`` when a line is known; escaped for an attribute."""
    encoded = "".join(c if c in _SAFE else "".join(f"%{b:02X}" for b in c.encode("utf-8")) for c in path)
    target = base + encoded.lstrip("/") if base else encoded
    if line is not None:
        target += f"#L{int(line)}"
    return esc(target)


def anchor(kind: str, *parts: object) -> str:
    """A stable element id for ``kind`` and ``parts`` (names digested: ids carry no outside text)."""
    return f"{kind}-{digest([str(p) for p in parts])}"


def finding_id(finding: Finding) -> str:
    return f"f-{finding.fingerprint}"


def badge(text: str, cls: str) -> str:
    return f'<span class="badge {esc(cls)}">{esc(text)}</span>'


def severity_badge(severity: str) -> str:
    return badge(severity, f"sev sev-{severity}")


def code(text: object) -> str:
    return f"<code>{esc(text)}</code>"


def items(lines: Iterable[str], cls: str = "") -> str:
    """An unordered list of already-escaped items (empty string when there are none)."""
    body = "".join(f"<li>{line}</li>" for line in lines)
    if not body:
        return ""
    return f'<ul class="{esc(cls)}">{body}</ul>' if cls else f"<ul>{body}</ul>"


def text_items(lines: Iterable[str], cls: str = "") -> str:
    """An unordered list of plain texts, each escaped and shown in monospace."""
    return items((code(line) for line in lines), cls)


def table(head: Iterable[str], rows: Iterable[str], cls: str = "") -> str:
    """A table with an escaped header row and already-built ``<tr>`` rows."""
    header = "".join(f"<th>{esc(h)}</th>" for h in head)
    return (f'<div class="scroll"><table class="{esc(cls)}"><thead><tr>{header}</tr></thead>'
            f"<tbody>{''.join(rows)}</tbody></table></div>")


def legend(entries: Mapping[str, str]) -> str:
    """``{css class: meaning}`` as a row of marked swatches (the mark is in the swatch, not only its colour)."""
    return '<p class="legend">' + " ".join(
        f'<span class="swatch {esc(cls)}"></span>{esc(meaning)}' for cls, meaning in entries.items()) + "</p>"


def show(value: object) -> str:
    """A value of a finding's or a resource's field as a reader wants it: ``(none)`` for None."""
    if value is None:
        return "(none)"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (list, tuple)):
        return ", ".join(show(v) for v in value) or "(none)"
    return str(value)
