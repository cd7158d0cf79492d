"""The compiled baseline (``adapters.baseline_cache``): any change to the baseline's files is another key,
a cache file that is not a whole, matching one is ignored and rebuilt, and what a cached read gives is
always what reading the files gives (the same Snapshot, or the same error)."""

from __future__ import annotations

import hashlib
import json
import logging
import os
import shutil
from collections.abc import Callable
from pathlib import Path

import pytest

from netwarden.adapters import baseline_cache as bc
from netwarden.adapters.baseline_fs import read_baseline as read_files
from netwarden.core.errors import BaselineError
from netwarden.core.model import Snapshot

RECIPE = Path(__file__).resolve().parents[2] / "baseline"
ACL = "vpc/us-south/iks-vpc/network-acls/iks-cluster-us-south-1-acl.yaml"
POLICY = "kubernetes/iks-cluster/accounts/db-allow.yaml"
LINKED = "kubernetes/iks-cluster/accounts/shared-allow.yaml"


@pytest.fixture
def root(tmp_path: Path) -> Path:
    """The recipe baseline, plus one policy that is a link into a hidden folder of the baseline."""
    out = tmp_path / "baseline"
    shutil.copytree(RECIPE, out)
    shared = out / ".shared"
    shared.mkdir()
    policy = (out / POLICY).read_text(encoding="utf-8").replace("name: db-allow", "name: shared-allow")
    (shared / "a.yaml").write_text(policy, encoding="utf-8")
    (shared / "b.yaml").write_text(policy.replace("tier: backend", "tier: frontend"), encoding="utf-8")
    (out / LINKED).symlink_to("../../../.shared/a.yaml")
    return out


def outcome(read: Callable[[], Snapshot]) -> Snapshot | str:
    """A read's Snapshot, or the line of its error."""
    try:
        return read()
    except BaselineError as e:
        return f"BaselineError: {e}"


def cached(root: Path, cache: Path) -> Snapshot:
    return bc.read_baseline(root, cache)


def refuse_file_reads(monkeypatch: pytest.MonkeyPatch) -> None:
    """From here on a read that does not come from a compiled form fails the test."""
    def no(_root: Path) -> Snapshot:
        raise AssertionError("the baseline files were parsed")
    monkeypatch.setattr(bc, "_read_files", no)


def _edit(root: Path, rel: str, old: str, new: str) -> None:
    path = root / rel
    text = path.read_text(encoding="utf-8")
    assert old in text
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


def _add_acl(root: Path) -> None:
    text = (root / ACL).read_text(encoding="utf-8").replace("iks-cluster-us-south-1-acl", "extra-acl")
    (root / ACL).with_name("extra-acl.yaml").write_text(text, encoding="utf-8")


def _retarget(root: Path) -> None:
    (root / LINKED).unlink()
    (root / LINKED).symlink_to("../../../.shared/b.yaml")


def _same_bytes_new_file(root: Path) -> None:
    """The same content written again (a new inode, a new modification time)."""
    data = (root / ACL).read_bytes()
    (root / ACL).unlink()
    (root / ACL).write_bytes(data)


CHANGES: dict[str, Callable[[Path], None]] = {
    "edit-a-rule": lambda r: _edit(r, ACL, "destination: 10.240.64.0/24", "destination: 10.240.65.0/24"),
    "edit-a-policy-in-place-same-size": lambda r: _edit(r, POLICY, "tier: backend", "tier: backenx"),
    "add-a-file": _add_acl,
    "remove-a-file": lambda r: (r / POLICY).unlink(),
    "rename-a-file": lambda r: (r / POLICY).rename((r / POLICY).with_name("db-allow2.yaml")),
    "rename-a-folder": lambda r: (r / "kubernetes/iks-cluster").rename(r / "kubernetes/other-cluster"),
    "retarget-a-link": _retarget,
    "break-a-link": lambda r: (r / ".shared/a.yaml").unlink(),
    "add-a-file-outside-the-layout": lambda r: (r / "vpc/us-south/notes.yaml").write_text("a: 1\n"),
}


@pytest.mark.parametrize("change", CHANGES.values(), ids=CHANGES.keys())
def test_any_change_to_the_files_is_another_key_and_reads_as_the_files_do(
        change: Callable[[Path], None], root: Path, tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    before_key = bc.content_key(root)
    first = cached(root, cache)
    assert first == read_files(root)
    assert [p.name for p in cache.iterdir()] == [bc.file_name(str(before_key))]
    change(root)
    assert bc.content_key(root) != before_key
    after = outcome(lambda: cached(root, cache))
    assert after == outcome(lambda: read_files(root))
    assert after != first


@pytest.mark.parametrize("change", [
    lambda r: os.utime(r / ACL, (1, 1)),
    _same_bytes_new_file,
    lambda r: (r / "README.md").write_text("notes are not part of the baseline\n"),
    lambda r: (r / ".git").mkdir(),
], ids=["touch", "rewrite-the-same-bytes", "edit-a-non-yaml-file", "add-a-hidden-folder"])
def test_what_leaves_the_files_alone_keeps_the_key_and_the_compiled_form_is_used(
        change: Callable[[Path], None], root: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    cache = tmp_path / "cache"
    first = cached(root, cache)
    key = bc.content_key(root)
    change(root)
    assert bc.content_key(root) == key
    refuse_file_reads(monkeypatch)
    assert cached(root, cache) == first


def _cache_file(cache: Path) -> Path:
    (path,) = cache.glob("baseline-*.json")
    return path


def _header(path: Path) -> dict[str, object]:
    return dict(json.loads(path.read_bytes().split(b"\n", 1)[0]))


def _rewrite_header(path: Path, **changes: object) -> None:
    head, payload = path.read_bytes().split(b"\n", 1)
    path.write_bytes(json.dumps({**json.loads(head), **changes}).encode() + b"\n" + payload)


def _flip_a_payload_byte(path: Path) -> None:
    data = bytearray(path.read_bytes())
    at = data.index(b"iks-vpc", data.index(b"\n"))
    data[at] = ord("j")
    path.write_bytes(bytes(data))


def _valid_header_junk_payload(path: Path) -> None:
    payload = b'{"schema_version": "1", "kind": "nonsense"}'
    header = {**_header(path), "size": len(payload), "blake2b": hashlib.blake2b(payload).hexdigest()}
    path.write_bytes(json.dumps(header).encode() + b"\n" + payload)


BROKEN: dict[str, Callable[[Path], None]] = {
    "corrupt-payload": _flip_a_payload_byte,
    "truncated": lambda p: p.write_bytes(p.read_bytes()[: p.stat().st_size // 2]),
    "empty": lambda p: p.write_bytes(b""),
    "foreign-json": lambda p: p.write_text('{"hello": "world"}\n{}'),
    "not-json": lambda p: p.write_bytes(b"\x80\x04\x95 pickled bytes are never loaded\n"),
    "other-version": lambda p: _rewrite_header(p, version=bc.VERSION + 1),
    "other-format": lambda p: _rewrite_header(p, format="something-else"),
    "written-for-other-content": lambda p: _rewrite_header(p, key="0" * 64),
    "checksummed-payload-that-is-no-snapshot": _valid_header_junk_payload,
}


@pytest.mark.parametrize("damage", BROKEN.values(), ids=BROKEN.keys())
def test_a_cache_file_that_is_not_whole_and_matching_is_ignored_and_rebuilt(
        damage: Callable[[Path], None], root: Path, tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    cache = tmp_path / "cache"
    cold = cached(root, cache)
    path = _cache_file(cache)
    damage(path)
    with caplog.at_level(logging.INFO, logger=bc.__name__):
        assert cached(root, cache) == cold == read_files(root)
    warnings = [r for r in caplog.records if r.levelno >= logging.INFO]
    assert len(warnings) == 1 and "ignored" in warnings[0].getMessage()
    assert bc.load(path, str(bc.content_key(root))) == cold  # rebuilt whole


def test_an_unwritable_cache_directory_is_a_warning_and_the_result_is_correct(
        root: Path, tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    blocked = tmp_path / "a-file"
    blocked.write_text("in the way\n")
    with caplog.at_level(logging.WARNING, logger=bc.__name__):
        assert cached(root, blocked / "cache") == read_files(root)
    (record,) = caplog.records
    assert "cannot write" in record.getMessage() and str(blocked) in record.getMessage()


@pytest.mark.parametrize("damage", [
    lambda r: _edit(r, ACL, "protocol: icmp_tcp_udp", "protocol: nonsense"),
    lambda r: (r / ACL).write_bytes(b"name: [unclosed\n"),
    lambda r: (r / "kubernetes/iks-cluster/namespaces.yaml").unlink(),
], ids=["invalid-value", "yaml-syntax", "missing-namespaces-file"])
def test_a_baseline_that_does_not_read_gives_its_usual_error_and_is_never_cached(
        damage: Callable[[Path], None], root: Path, tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    damage(root)
    error = outcome(lambda: read_files(root))
    assert isinstance(error, str)
    assert outcome(lambda: cached(root, cache)) == error
    assert not cache.exists() or not list(cache.iterdir())


def test_a_compiled_form_inside_the_baseline_is_used_and_is_not_part_of_it(
        root: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """What ``make package`` ships: the baseline with its compiled form in ``.netwarden-compiled/``."""
    key = bc.content_key(root)
    written = bc.compile_into(root, root / bc.PACKAGED)
    assert written.parent == root / bc.PACKAGED and bc.content_key(root) == key
    expected = read_files(root)
    refuse_file_reads(monkeypatch)
    cache = tmp_path / "cache"
    assert cached(root, cache) == expected
    assert not cache.exists()  # nothing to write: the shipped form matched


def test_no_cache_directory_reads_the_files(root: Path, tmp_path: Path) -> None:
    assert bc.read_baseline(root, None) == read_files(root)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["baseline"]


def test_old_entries_beyond_the_limit_are_removed(root: Path, tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    cache.mkdir()
    for i in range(bc.KEEP + 3):
        old = cache / bc.file_name(f"{i:064x}")
        old.write_bytes(b"{}\n")
        os.utime(old, (1000 + i, 1000 + i))
    cached(root, cache)
    names = {p.name for p in cache.iterdir()}
    assert len(names) == bc.KEEP and bc.file_name(str(bc.content_key(root))) in names


@pytest.mark.parametrize(("environ", "expected"), [
    ({"XDG_CACHE_HOME": "/srv/cache", "HOME": "/home/u"}, Path("/srv/cache/netwarden")),
    ({"XDG_CACHE_HOME": "relative", "HOME": "/home/u"}, Path("/home/u/.cache/netwarden")),
    ({"HOME": "/home/u"}, Path("/home/u/.cache/netwarden")),
    ({}, None),
], ids=["xdg", "relative-xdg-ignored", "home", "nothing"])
def test_the_default_cache_directory(environ: dict[str, str], expected: Path | None) -> None:
    assert bc.default_dir(environ) == expected
