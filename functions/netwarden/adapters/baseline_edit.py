"""Writing an edited baseline (``baseline accept``) as the smallest change a pull request can review.

``baseline_write`` makes a directory hold a snapshot; this module changes a directory that holds one
snapshot (``old``, read from it) into holding another (``new``) and touches only the files whose
content differs: a file whose rendering (``baseline_write.render``) is the same for both is left as
it is, however it is written, a file of a resource that is gone is removed, a new one is written.

A changed file whose text is exactly the rendering of ``old`` (every file ``baseline capture``
wrote, the repository's own baseline) is written as the rendering of ``new``: its diff is the lines
of what changed. A file written by hand (comments, other spacing, another key order) would be
reformatted whole by that, so the change is spliced into its own text instead (``splice``): the lines
the rendering removes or replaces must be in the file as they are, and what it inserts goes after the
file's own line for the rendered line before it. Only when that cannot be done is the file written
whole, and said so (``Written.rewritten``).

Nothing is written unless the whole directory, as it would be afterwards, reads back (``parse_tree``,
all files and what spans them) as exactly ``new``; then each file is replaced atomically.
"""

from __future__ import annotations

from dataclasses import dataclass
from difflib import SequenceMatcher
from pathlib import Path

from netwarden.adapters import baseline_tree, yaml_io
from netwarden.adapters.baseline_fs import parse_tree
from netwarden.adapters.baseline_write import render
from netwarden.adapters.files import write_atomic
from netwarden.core.errors import BaselineError, Location
from netwarden.core.findings import ResourceRef
from netwarden.core.model import Snapshot


@dataclass(frozen=True, slots=True)
class Written:
    """Relative POSIX paths, sorted: files added, changed and removed; ``rewritten``: changed files written
    whole, reformatted, because their own text could not take the change line by line."""

    added: tuple[str, ...] = ()
    changed: tuple[str, ...] = ()
    removed: tuple[str, ...] = ()
    rewritten: tuple[str, ...] = ()

    @property
    def empty(self) -> bool:
        return not (self.added or self.changed or self.removed)

    def lines(self) -> list[str]:
        """``A path`` / ``M path`` / ``D path``, as ``git status --short`` spells them."""
        return [f"A {p}" for p in self.added] + [f"M {p}" for p in self.changed] + [f"D {p}" for p in self.removed]


def file_of(ref: ResourceRef) -> str:
    """The baseline file (relative path) that holds the resource of a finding."""
    if ref.cluster is not None:
        base = f"kubernetes/{ref.cluster}"
        if ref.kind == "network-policy":
            return f"{base}/{ref.namespace}/{ref.name}.yaml"
        return f"{base}/{'workloads' if ref.kind == 'workload' else 'namespaces'}.yaml"
    base = f"vpc/{ref.region}/{ref.vpc}"
    if ref.kind == "network-acl":
        return f"{base}/network-acls/{ref.acl}.yaml"
    if ref.kind == "security-group":
        return f"{base}/security-groups/{ref.security_group}.yaml"
    return f"{base}/subnets.yaml"


def write_changes(old: Snapshot, new: Snapshot, root: Path) -> Written:
    """Change the baseline directory ``root``, which holds ``old``, to hold ``new`` (see the module
    docstring); BaselineError, and nothing written, when the result would not read back as ``new``."""
    before, after = render(old), render(new)
    present = {rel: root / rel for rel in baseline_tree.yaml_files(root)}
    texts: dict[str, str] = {}
    rewritten: list[str] = []
    for rel, text in after.items():
        if before.get(rel) == text:
            continue  # the same content, however the file spells it (or a file the layout lets a baseline leave out)
        current = _read(present[rel], rel) if rel in present else None
        if current is None or current == before.get(rel):
            texts[rel] = text
            continue
        spliced = splice(before.get(rel, ""), text, current)
        texts[rel] = spliced if spliced is not None else text
        if spliced is None:
            rewritten.append(rel)
    removed = sorted(rel for rel in before if rel not in after and rel in present)
    if not _reads_back(root, present, texts, removed, after):
        # a splice read back otherwise than meant (it never should): write those files whole instead
        rewritten = sorted({*rewritten, *(rel for rel in texts if rel in present and texts[rel] != after[rel])})
        texts.update({rel: after[rel] for rel in rewritten})
        if not _reads_back(root, present, texts, removed, after):
            raise BaselineError("the edited baseline would not read back as the accepted state: nothing was written",
                                location=Location(str(root)))
    for rel, text in sorted(texts.items()):
        write_atomic(root / rel, text.encode("utf-8"))
    for rel in removed:
        (root / rel).unlink()
        _prune(root, (root / rel).parent)
    return Written(added=tuple(sorted(rel for rel in texts if rel not in present)),
                   changed=tuple(sorted(rel for rel in texts if rel in present)), removed=tuple(removed),
                   rewritten=tuple(sorted(rewritten)))


def _read(path: Path, rel: str) -> str:
    return yaml_io.read_text(path, display=rel)


def _reads_back(root: Path, present: dict[str, Path], texts: dict[str, str], removed: list[str],
                after: dict[str, str]) -> bool:
    """Whether the directory with ``texts`` written and ``removed`` gone reads as what ``after`` renders."""
    files: dict[str, str] = {rel: _read(path, rel) for rel, path in present.items() if rel not in texts}
    files.update(texts)
    for rel in removed:
        files.pop(rel, None)
    try:
        snapshot, _ = parse_tree(files, str(root), lines=False)
    except BaselineError:
        return False
    return render(snapshot) == after


def _prune(root: Path, directory: Path) -> None:
    """Remove ``directory`` and its parents up to ``root`` while they are empty."""
    while directory != root and directory.is_dir() and not any(directory.iterdir()):
        directory.rmdir()
        directory = directory.parent


def splice(before: str, after: str, current: str) -> str | None:
    """``current`` with the change from ``before`` to ``after`` made on its own lines; None when a line
    the change removes or replaces is not in ``current`` as it is (and in one run), or the change would
    land out of order. ``before`` is what ``current`` holds, rendered; ``after`` the new rendering."""
    old, new = before.splitlines(keepends=True), after.splitlines(keepends=True)
    have = current.splitlines(keepends=True)
    where: dict[int, int] = {}  # line of ``old`` -> the same line of ``have``
    for i, j, size in SequenceMatcher(None, old, have, autojunk=False).get_matching_blocks():
        where.update((i + k, j + k) for k in range(size))
    out: list[str] = []
    done = 0  # lines of ``have`` copied so far
    for tag, i1, i2, j1, j2 in SequenceMatcher(None, old, new, autojunk=False).get_opcodes():
        if tag == "equal":
            continue
        if i2 > i1:  # lines of ``old`` replaced or deleted: they must be one run of ``have``
            start = where.get(i1)
            if start is None or any(where.get(i) != start + (i - i1) for i in range(i1, i2)):
                return None
            end = start + (i2 - i1)
        elif i1 == 0:  # inserted at the top: before the file's own first rendered line
            start = end = where.get(0, 0) if old else len(have)
        else:  # inserted after the file's own line for the rendered line before it
            previous = where.get(i1 - 1)
            if previous is None:
                return None
            start = end = previous + 1
        if start < done:
            return None
        out += have[done:start] + new[j1:j2]
        done = end
    out += have[done:]
    return "".join(out)
