"""Filling text to a terminal's width without breaking words: the check report's blocks, the history,
and ``explain``'s answers are read at 80 columns as well as wide.

A token longer than a line (a long resource path, a rule list) is split only after a ``/``, a ``,`` or a
``;``, each piece starting a line of its own, and stands alone on its line when it has none of them.
"""

from __future__ import annotations


def wrap(text: str, width: int, first: str = "", rest: str = "") -> list[str]:
    """``text`` filled to ``width``: ``first`` before the first line, ``rest`` before the others. The
    pieces of a split token each start a line of their own, so nothing is inserted into it."""
    lines: list[str] = []
    line, indent = first, first
    for word, glued in _words(text, width - len(rest)):
        if line != indent and (glued or len(line) + 1 + len(word) > width):
            lines.append(line)
            line = indent = rest
        line += ("" if line == indent else " ") + word
    lines.append(line)
    return [x.rstrip() for x in lines]


def _words(text: str, room: int) -> list[tuple[str, bool]]:
    """The words of ``text``, each with whether it continues the one before it: a word longer than
    ``room`` is split after its ``/``, ``,`` or ``;`` where it must be (and left whole if it has none)."""
    out: list[tuple[str, bool]] = []
    for token in text.split():
        word, glued = token, False
        while len(word) > room and (cut := _cut(word, room)) > 0:
            out.append((word[:cut], glued))
            word, glued = word[cut:], True
        out.append((word, glued))
    return out


def _cut(word: str, room: int) -> int:
    """Where to split an over-long token: after the last separator that leaves a piece within ``room``."""
    return max((i + 1 for i, ch in enumerate(word[:room]) if ch in "/,;"), default=0)
