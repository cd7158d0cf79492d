"""Baselines and config files built to trip a reader: links in the baseline tree and YAML aliases.

A folder linked into the baseline is part of it (read as absent, remediation would delete what it
holds); a link out of the root, a dangling one and a loop are one clear line and exit 1, never a
skipped folder. An alias bomb or a recursive anchor is refused at once, at its line, in a baseline
file and in the config. Each case runs through ``baseline lint`` and ``check --snapshot``.
"""

from __future__ import annotations

import os
import shutil
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from netwarden.adapters.baseline_fs import read_baseline
from netwarden.core import snapshot_format
from netwarden.entrypoints import cli

REPO = Path(__file__).resolve().parents[2]
CLUSTER = "kubernetes/iks-cluster"
BOMB = "".join([
    'a: &a ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]\n',
    *(f"{b}: &{b} [{', '.join([f'*{a}'] * 9)}]\n" for a, b in zip("abcdefgh", "bcdefghi", strict=True)),
])


@pytest.fixture
def baseline(tmp_path: Path) -> Path:
    root = tmp_path / "baseline"
    shutil.copytree(REPO / "baseline", root, ignore=shutil.ignore_patterns("README.md"))
    return root


@pytest.fixture
def snapshot_file(tmp_path: Path) -> Path:
    path = tmp_path / "live.json"
    path.write_text(snapshot_format.dumps(read_baseline(REPO / "baseline")), encoding="utf-8")
    return path


def run(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, list[str]]:
    code = cli.main(argv)
    return code, capsys.readouterr().err.strip().splitlines()


def test_a_namespace_folder_linked_from_another_cluster_is_read(baseline: Path) -> None:
    """Two clusters sharing one folder of policies: the link is followed, both clusters hold them."""
    second = baseline / "kubernetes" / "iks-cluster-b"
    second.mkdir()
    shutil.copy(baseline / CLUSTER / "namespaces.yaml", second / "namespaces.yaml")
    (second / "accounts").symlink_to(Path("..", "iks-cluster", "accounts"), target_is_directory=True)
    snapshot = read_baseline(baseline)
    policies = {c.name: sorted(p.name for p in c.policies) for c in snapshot.clusters}
    assert policies["iks-cluster-b"] == policies["iks-cluster"]
    assert len(policies["iks-cluster-b"]) == 3


def _link_out(baseline: Path) -> Path:
    outside = baseline.parent / "elsewhere"
    shutil.move(baseline / CLUSTER / "accounts", outside)
    link = baseline / CLUSTER / "accounts"
    link.symlink_to(outside, target_is_directory=True)
    return link


def _file_link_out(baseline: Path) -> Path:
    outside = baseline.parent / "db-allow.yaml"
    shutil.move(baseline / CLUSTER / "accounts" / "db-allow.yaml", outside)
    link = baseline / CLUSTER / "accounts" / "db-allow.yaml"
    link.symlink_to(outside)
    return link


def _dangling(baseline: Path) -> Path:
    shutil.rmtree(baseline / CLUSTER / "accounts")
    link = baseline / CLUSTER / "accounts"
    link.symlink_to(Path("..", "no-such-folder"), target_is_directory=True)
    return link


def _dangling_without_suffix(baseline: Path) -> Path:
    link = baseline / CLUSTER / "finance"
    link.symlink_to(Path("finance-policies"), target_is_directory=True)
    return link


def _loop(baseline: Path) -> Path:
    link = baseline / CLUSTER / "accounts" / "again"
    link.symlink_to(Path(".."), target_is_directory=True)
    return link


@pytest.mark.parametrize(("make", "words"), [
    (_link_out, "a link out of the baseline"),
    (_file_link_out, "a link out of the baseline"),
    (_dangling, "a broken link"),
    (_dangling_without_suffix, "a broken link"),
    (_loop, "a link loop"),
], ids=["folder-out-of-root", "file-out-of-root", "dangling", "dangling-no-yaml-suffix", "loop"])
def test_a_link_that_leaves_the_root_dangles_or_loops_is_one_clear_error(
        baseline: Path, snapshot_file: Path, make: Callable[[Path], Path], words: str,
        capsys: pytest.CaptureFixture[str]) -> None:
    link = make(baseline)
    for argv in (["baseline", "lint", str(baseline)],
                 ["check", "--baseline", str(baseline), "--snapshot", str(snapshot_file)]):
        code, err = run(argv, capsys)
        assert code == 1, argv
        assert len(err) == 1 and "Traceback" not in err[0], err
        assert err[0].startswith(f"netwarden: error: {link}: ") and words in err[0], err


@pytest.mark.parametrize(("text", "line"), [
    (BOMB, 1),
    ("a: &a [*a]\n", 1),
    ("x: 1\nrules: &r\n  - {name: a}\nmore: *r\n", 2),
], ids=["billion-laughs", "recursive-anchor", "plain-alias"])
def test_yaml_aliases_are_refused_at_once_in_a_baseline_file(
        baseline: Path, snapshot_file: Path, text: str, line: int, capsys: pytest.CaptureFixture[str]) -> None:
    target = baseline / CLUSTER / "accounts" / "db-allow.yaml"
    target.write_text(text, encoding="utf-8")
    started = time.monotonic()
    for argv in (["baseline", "lint", str(baseline)],
                 ["check", "--baseline", str(baseline), "--snapshot", str(snapshot_file)]):
        code, err = run(argv, capsys)
        assert code == 1 and len(err) == 1, err
        assert err[0].startswith(f"netwarden: error: {target}:{line}: YAML aliases are not supported"), err
    assert time.monotonic() - started < 5


def test_yaml_aliases_are_refused_in_the_config(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    config = tmp_path / "netwarden.yaml"
    config.write_text(BOMB, encoding="utf-8")
    code, err = run(["check", "--config", str(config)], capsys)
    assert code == 1 and len(err) == 1, err
    assert err[0].startswith(f"netwarden: error: {config}:1: YAML aliases are not supported"), err


def test_a_symlinked_baseline_root_is_read_as_its_target(baseline: Path) -> None:
    link = baseline.parent / "baseline-link"
    os.symlink(baseline, link, target_is_directory=True)
    assert read_baseline(link) == read_baseline(baseline)
