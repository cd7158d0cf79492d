"""adapters.baseline_edit: a change made on a file's own lines (``splice``), and ``write_changes`` on a
copy of the repository's baseline: only the files whose content changes are written, a file written by
hand keeps its comments, a resource gone takes its file with it, and nothing is written that would not
read back."""

from __future__ import annotations

import shutil
from dataclasses import replace
from pathlib import Path

import pytest

from netwarden.adapters.baseline_edit import splice, write_changes
from netwarden.adapters.baseline_fs import read_baseline
from netwarden.adapters.baseline_write import render
from netwarden.core.errors import BaselineError
from netwarden.core.model import Snapshot

REPO_BASELINE = Path(__file__).resolve().parents[2] / "baseline"
SUBNETS = "vpc/us-south/iks-vpc/subnets.yaml"
BASTION = "vpc/us-south/iks-vpc/security-groups/iks-bastion-sg.yaml"

BEFORE = "a:\n  x: 1\n  y: 2\nb:\n  z: 3\n"


@pytest.mark.parametrize(("after", "current", "expected"), [
    # a line replaced, the file's comments and blank lines kept
    ("a:\n  x: 1\n  y: 9\nb:\n  z: 3\n", "# owned by netops\na:\n  x: 1\n  y: 2\n\nb:\n  z: 3\n",
     "# owned by netops\na:\n  x: 1\n  y: 9\n\nb:\n  z: 3\n"),
    # a line inserted after the file's own line for the rendered line before it
    ("a:\n  x: 1\n  w: 0\n  y: 2\nb:\n  z: 3\n", "a:\n  x: 1\n  # y next\n  y: 2\nb:\n  z: 3\n",
     "a:\n  x: 1\n  w: 0\n  # y next\n  y: 2\nb:\n  z: 3\n"),
    # inserted at the top: before the file's first rendered line, after its header comment
    ("c: 0\n" + BEFORE, "# header\n" + BEFORE, "# header\nc: 0\n" + BEFORE),
    # a block deleted
    ("a:\n  x: 1\n  y: 2\n", "a:\n  x: 1\n  y: 2\nb:   # old\n  z: 3\n", None),
    ("a:\n  x: 1\n  y: 2\n", "a:\n  x: 1\n  y: 2\n# end of a\nb:\n  z: 3\n", "a:\n  x: 1\n  y: 2\n# end of a\n"),
    # the line to replace is not in the file as rendered (a comment on it): the splice cannot be made
    ("a:\n  x: 1\n  y: 9\nb:\n  z: 3\n", "a:\n  x: 1\n  y: 2  # two\nb:\n  z: 3\n", None),
    # nothing rendered before the line to insert after is in the file
    ("a:\n  x: 1\n  w: 0\n  y: 2\nb:\n  z: 3\n", "a:\n  x: 1 # one\n  y: 2\nb:\n  z: 3\n", None),
], ids=["replace", "insert", "insert at top", "delete: the line is commented", "delete", "replace: commented",
        "insert: no anchor"])
def test_splice(after: str, current: str, expected: str | None) -> None:
    assert splice(BEFORE, after, current) == expected


def test_the_repository_baseline_is_its_own_rendering() -> None:
    """Every file as ``render`` writes it: an accept's diff of it is only the lines that changed."""
    rendered = render(read_baseline(REPO_BASELINE))
    assert {rel: (REPO_BASELINE / rel).read_text(encoding="utf-8") for rel in rendered} == rendered


@pytest.fixture
def tree(tmp_path: Path) -> tuple[Path, Snapshot]:
    root = tmp_path / "baseline"
    shutil.copytree(REPO_BASELINE, root)
    return root, read_baseline(root)


def _files(root: Path) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def _gateway_on_zone2(s: Snapshot) -> Snapshot:
    vpc = s.vpcs[0]
    subnets = tuple(replace(x, public_gateway=vpc.subnets[0].public_gateway) if x.name.endswith("-2") else x
                    for x in vpc.subnets)
    return replace(s, vpcs=(replace(vpc, subnets=subnets),))


def _without_bastion(s: Snapshot) -> Snapshot:
    vpc = s.vpcs[0]
    return replace(s, vpcs=(replace(vpc, security_groups=tuple(g for g in vpc.security_groups
                                                                if g.name != "iks-bastion-sg")),))


def test_only_the_changed_file_is_written_line_by_line(tree: tuple[Path, Snapshot]) -> None:
    root, old = tree
    before = _files(root)
    new = _gateway_on_zone2(old)
    written = write_changes(old, new, root)
    assert (written.added, written.changed, written.removed, written.rewritten) == ((), (SUBNETS,), (), ())
    after = _files(root)
    assert {rel for rel in before if before[rel] != after.get(rel)} == {SUBNETS}
    old_lines, new_lines = before[SUBNETS].decode().splitlines(), after[SUBNETS].decode().splitlines()
    assert [(a, b) for a, b in zip(old_lines, new_lines, strict=True) if a != b] == [
        ("  public_gateway: null", "  public_gateway: iks-cluster-us-south-1-gateway")]
    assert render(read_baseline(root)) == render(new)


def test_a_file_written_by_hand_keeps_its_comments(tree: tuple[Path, Snapshot]) -> None:
    root, old = tree
    path = root / SUBNETS
    text = path.read_text(encoding="utf-8")
    path.write_text("# reviewed by netops; zone 1 egresses\n" + text.replace(
        "  zone: us-south-2\n", "  # no gateway here\n  zone: us-south-2\n"), encoding="utf-8")
    written = write_changes(old, _gateway_on_zone2(old), root)
    assert written.changed == (SUBNETS,) and written.rewritten == ()
    got = path.read_text(encoding="utf-8")
    assert got.startswith("# reviewed by netops") and "  # no gateway here\n" in got
    assert got.count("public_gateway: iks-cluster-us-south-1-gateway") == 2


def test_a_line_reformatted_by_hand_is_rewritten_whole_and_said(tree: tuple[Path, Snapshot]) -> None:
    root, old = tree
    path = root / SUBNETS
    path.write_text(path.read_text(encoding="utf-8").replace(
        "  public_gateway: null", "  public_gateway: ~", 1), encoding="utf-8")
    written = write_changes(old, _gateway_on_zone2(old), root)
    assert written.rewritten == (SUBNETS,)
    assert path.read_text(encoding="utf-8") == render(_gateway_on_zone2(old))[SUBNETS]


def test_a_resource_gone_takes_its_file(tree: tuple[Path, Snapshot]) -> None:
    root, old = tree
    written = write_changes(old, _without_bastion(old), root)
    assert written.lines() == [f"D {BASTION}"] and not (root / BASTION).exists()
    assert render(read_baseline(root)) == render(_without_bastion(old))


def test_nothing_is_written_when_the_result_would_not_read_back(tree: tuple[Path, Snapshot]) -> None:
    root, old = tree
    before = _files(root)
    vpc = old.vpcs[0]
    unnamed = replace(old, vpcs=(replace(vpc, subnets=(*vpc.subnets, replace(vpc.subnets[0], name=""))),))
    with pytest.raises(BaselineError, match="nothing was written"):
        write_changes(old, unnamed, root)
    assert _files(root) == before
