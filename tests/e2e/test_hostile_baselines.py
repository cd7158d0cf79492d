"""Baselines and config files built to trip a reader: links in the baseline tree, YAML aliases, and
files malformed in every other way a file can be.

A folder linked into the baseline is part of it (read as absent, remediation would delete what it
holds); a link out of the root, a dangling one and a loop are one clear line and exit 1, never a
skipped folder. An alias bomb or a recursive anchor is refused at once, at its line, in a baseline
file and in the config. Each case runs through ``baseline lint`` and ``check --snapshot``.

Invalid dates and times, keys that are lists or mappings, characters YAML refuses, bytes that are
not UTF-8, a file over the size limit, nesting 100,000 levels deep and a value of megabytes are each
one bounded line naming the file (and its line) and exit 1 from the installed command, in a
baseline file (``baseline lint``) and in the config (``check --config``).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
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


POLICY_HEAD = "apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata:\n"
MIB = 1024 * 1024
MALFORMED: dict[str, tuple[bytes | int, int | None, str]] = {
    # id: (content, or the size of a sparse file; the line named; words of the message)
    "invalid-date": (f"{POLICY_HEAD}  name: 2026-02-30\n".encode(), 4,
                     "'2026-02-30' is not a valid date or time (day is out of range for month)"),
    "invalid-month": (b"a: 1\nb: [2026-13-45]\n", 2, "month must be in 1..12"),
    "invalid-datetime": (b"a: 1\nb:\n  c: 2026-01-01T25:00:00\n", 3, "hour must be in 0..23"),
    "list-as-key": (b"a: 1\n? [a, b]\n: x\n", 2, "a key must be a name or a number, not a list"),
    "mapping-as-key": (b"a: 1\n{b: 1}: x\n", 2, "not a mapping"),
    "nul-byte": (b"a: 1\nb: c\0d\n", 2, "a NUL byte at column 5"),
    "control-character": (b"a: 1\nb: \x1b[0m\n", 2, "character U+001B at column 4 is not allowed in YAML"),
    "latin-1": ("a: 1\nb: caf\u00e9\n".encode("latin-1"), 2, "not UTF-8: byte 0xE9"),
    "utf-16-without-bom": ("a: 1\n".encode("utf-16-le"), 1, "a NUL byte"),
    "truncated-multibyte": ("a: 1\nb: \u20ac".encode()[:-2], 2, "unexpected end of data"),
    "nesting-100000": (b"[" * 100_000, 1, "nested too deeply: at most 100 levels"),
    "over-the-size-limit": (8 * MIB + 1, None, "too large: 8,388,609 bytes, over the limit of 8 MiB"),
    "50-MiB": (50 * MIB, None, "too large: 52,428,800 bytes"),
}


def netwarden(argv: list[str], cwd: Path) -> tuple[int, str, list[str]]:
    proc = subprocess.run([sys.executable, "-m", "netwarden", *argv], cwd=cwd, capture_output=True, text=True,
                          timeout=120, check=False)
    return proc.returncode, proc.stdout, proc.stderr.splitlines()


def write(path: Path, content: bytes | int) -> None:
    if isinstance(content, int):
        with path.open("wb") as f:
            f.truncate(content)  # sparse: the size says it all, and nothing may read it to find out
    else:
        path.write_bytes(content)


def assert_one_line(code: int, out: str, err: list[str], prefix: str, words: str) -> None:
    assert code == 1, err
    assert out == ""
    assert len(err) == 1, err[:3]
    assert err[0].startswith(prefix) and words in err[0], err[0][:1000]
    assert len(err[0]) < 1500


@pytest.mark.parametrize(("content", "line", "words"), list(MALFORMED.values()), ids=list(MALFORMED))
def test_a_malformed_baseline_file_is_one_line_naming_file_and_line(
        baseline: Path, tmp_path: Path, content: bytes | int, line: int | None, words: str) -> None:
    target = baseline / CLUSTER / "accounts" / "db-allow.yaml"
    write(target, content)
    code, out, err = netwarden(["baseline", "lint", str(baseline)], tmp_path)
    assert_one_line(code, out, err, f"netwarden: error: {target}{'' if line is None else f':{line}'}: ", words)


@pytest.mark.parametrize(("content", "line", "words"), list(MALFORMED.values()), ids=list(MALFORMED))
def test_a_malformed_config_is_one_line_naming_file_and_line(
        tmp_path: Path, content: bytes | int, line: int | None, words: str) -> None:
    config = tmp_path / "netwarden.yaml"
    write(config, content)
    code, out, err = netwarden(["check", "--config", str(config)], tmp_path)
    assert_one_line(code, out, err, f"netwarden: error: {config}{'' if line is None else f':{line}'}: ", words)


def test_a_value_of_megabytes_is_never_echoed_whole(baseline: Path, tmp_path: Path) -> None:
    name = "x" * (5 * MIB)
    target = baseline / CLUSTER / "accounts" / "db-allow.yaml"
    target.write_text(f"{POLICY_HEAD}  name: {name}\n", encoding="utf-8")
    config = tmp_path / "netwarden.yaml"
    config.write_text(f"baseline: b\n? {name}\n: 1\n", encoding="utf-8")
    for argv, prefix, words in (
            (["baseline", "lint", str(baseline)], f"netwarden: error: {target}:4: metadata.name: ", "xxxx"),
            (["check", "--config", str(config)], f"netwarden: error: {config}:2: xxxx", "more characters)")):
        code, out, err = netwarden(argv, tmp_path)
        assert_one_line(code, out, err, prefix, words)
        assert "more characters)" in err[0]
