"""What ``baseline capture`` would change in a baseline directory that already holds one.

A reviewed baseline that has drifted from the live state is the record of what the estate should be:
capturing over it would silently make the drift the new truth. So the command first asks this module
which files writing the snapshot would add, rewrite and remove (exactly what ``baseline_write.write_baseline``
would do: the same rendering, the same stale files under ``vpc/`` and ``kubernetes/``), shows that, and
overwrites only when told to.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from netwarden.adapters import baseline_fs, baseline_write
from netwarden.core.model import Snapshot


@dataclass(frozen=True, slots=True)
class BaselineChanges:
    """Relative POSIX paths, sorted: files the capture would create, rewrite and delete."""

    added: tuple[str, ...] = ()
    changed: tuple[str, ...] = ()
    removed: tuple[str, ...] = ()
    #: Whether the directory held any baseline file before (a first capture needs no confirmation).
    existing: bool = False

    @property
    def empty(self) -> bool:
        return not (self.added or self.changed or self.removed)

    def lines(self) -> list[str]:
        """``A path`` / ``M path`` / ``D path``, as ``git status --short`` spells them."""
        return ([f"A {p}" for p in self.added] + [f"M {p}" for p in self.changed]
                + [f"D {p}" for p in self.removed])


def changes(snapshot: Snapshot, path: Path) -> BaselineChanges:
    """What writing ``snapshot`` into the baseline directory ``path`` would change there."""
    texts = baseline_write.render(snapshot)
    present = set(_baseline_files(path))
    added, changed = [], []
    for rel, text in sorted(texts.items()):
        if rel not in present:
            added.append(rel)
        elif (path / rel).read_bytes() != text.encode("utf-8"):
            changed.append(rel)
    removed = sorted(present - set(texts))
    return BaselineChanges(tuple(added), tuple(changed), tuple(removed), existing=bool(present))


def _baseline_files(root: Path) -> list[str]:
    """The YAML files under ``vpc/`` and ``kubernetes/`` (what the writer owns), walked as the writer does."""
    out = []
    for top in baseline_write.MANAGED:
        for directory, _dirs, files in os.walk(root / top):
            out += [Path(directory, name).relative_to(root).as_posix() for name in files
                    if name.endswith(baseline_fs.YAML_SUFFIXES)]
    return out
