"""adapters.baseline_prefetch: a worker process parsing the baseline's YAML ahead changes nothing but the time.

The worker runs for real (this interpreter, ``-m netwarden.adapters.baseline_prefetch``); what a read
with it gives, Snapshot or error line, is what a read without it gives; a worker that breaks its protocol
or dies is read past; and however the read ends, the worker is gone."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from netwarden.adapters import baseline_fs, baseline_prefetch, baseline_yaml
from netwarden.core.errors import BaselineError
from netwarden.core.model import Snapshot

Started = list[tuple[baseline_prefetch.Prefetch, int]]
RECIPE = Path(__file__).resolve().parents[2] / "baseline"
ACL = "vpc/us-south/iks-vpc/network-acls/iks-cluster-us-south-1-acl.yaml"
NAMESPACES = "kubernetes/iks-cluster/namespaces.yaml"
POLICY = "kubernetes/iks-cluster/accounts/db-allow.yaml"


@pytest.fixture
def started(monkeypatch: pytest.MonkeyPatch) -> Started:
    """Every worker a read starts (however few the files, on however many CPUs), with its PID."""
    workers: Started = []
    start = baseline_prefetch.start

    def recording(paths: list[Path]) -> baseline_prefetch.Prefetch | None:
        worker = start(paths)
        if worker is not None and worker.pid is not None:
            workers.append((worker, worker.pid))
        return worker

    monkeypatch.setattr(baseline_prefetch, "MIN_FILES", 1)
    monkeypatch.setattr(baseline_prefetch, "usable_cpus", lambda: 2)
    monkeypatch.setattr(baseline_prefetch, "start", recording)
    return workers


def outcome(read: Callable[[], Snapshot]) -> Snapshot | str:
    try:
        return read()
    except BaselineError as e:
        return f"BaselineError: {e}"


def alone(root: Path) -> Snapshot | str:
    """The read without a worker: the reference."""
    return outcome(lambda: baseline_fs.parse_tree({rel: baseline_fs._Lazy(root / rel) for rel in
                                                   baseline_fs.baseline_tree.yaml_files(root)}, str(root),
                                                  lines=False)[0])


def gone(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    return False


def _replace(old: str, new: str) -> Callable[[str], str]:
    def edit(text: str) -> str:
        assert old in text, f"the edit's anchor {old!r} is not in the file"
        return text.replace(old, new, 1)
    return edit


EDITS: dict[str, tuple[str, Callable[[str], str | bytes]]] = {
    "unchanged": (ACL, lambda t: t),
    "a-byte-order-mark": (ACL, lambda t: "\ufeff" + t),
    "a-date-label": (NAMESPACES, _replace("usage: accounts", "usage: accounts\n  since: 2024-01-01")),
    "a-quoted-date-label": (NAMESPACES, _replace("usage: accounts", "usage: accounts\n  since: '2024-01-01'")),
    "a-date-rule-name": (ACL, _replace("name: allow-workers-us-south-2-outbound", "name: 2024-01-01")),
    "a-port-past-64-bits": (POLICY, _replace("  - from:", "  - ports: [{port: 99999999999999999999999}]\n    from:")),
    "a-float-port": (POLICY, _replace("  - from:", "  - ports: [{port: 5432.0}]\n    from:")),
    "a-port": (POLICY, _replace("  - from:", "  - ports: [{port: 5432}]\n    from:")),
    "a-null-action": (ACL, _replace("action: allow", "action: ~")),
    "an-alias": (POLICY, lambda t: "x: &a 1\ny: *a\n" + t),
    "latin-1": (POLICY, lambda t: _replace("db-allow", "db-allow-\u00e9")(t).encode("latin-1")),
    "a-syntax-error": (POLICY, lambda t: t + "spec: [\n"),
    "a-lone-surrogate": (NAMESPACES, _replace("usage: accounts", 'usage: "\\ud800"')),
    "empty": (POLICY, lambda t: ""),
}


@pytest.mark.parametrize("share", [5, 10**9], ids=["reader-share-5", "worker-takes-all"])
@pytest.mark.parametrize("edit", list(EDITS), ids=list(EDITS))
def test_a_read_with_the_worker_gives_what_a_read_without_it_gives(
        tmp_path: Path, edit: str, share: int, started: Started,
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(baseline_prefetch, "READER_SHARE", share)
    root = tmp_path / "baseline"
    shutil.copytree(RECIPE, root)
    rel, change = EDITS[edit]
    new = change((root / rel).read_text(encoding="utf-8"))
    (root / rel).write_bytes(new if isinstance(new, bytes) else new.encode("utf-8", "surrogatepass"))

    expected = alone(root)
    assert outcome(lambda: baseline_fs.read_baseline(root)) == expected
    assert [(w.pid, gone(pid)) for w, pid in started] == [(None, True)]  # it ran, and it was ended


def test_the_worker_parses_all_but_the_readers_share(
        tmp_path: Path, started: Started, monkeypatch: pytest.MonkeyPatch) -> None:
    root = tmp_path / "baseline"
    shutil.copytree(RECIPE, root)
    files = baseline_fs.baseline_tree.yaml_files(root)
    parsed_here: list[str] = []
    fast_data = baseline_yaml.fast_data

    def counting(text: str, **kwargs: bool) -> object:
        parsed_here.append(text)
        return fast_data(text, **kwargs)

    monkeypatch.setattr(baseline_yaml, "fast_data", counting)
    assert baseline_fs.read_baseline(root) == alone(root)
    # the reference read parses every file here; the read with the worker, only the reader's share
    assert len(parsed_here) == len(files) + len(files) // baseline_prefetch.READER_SHARE


def test_a_read_stopped_by_an_error_ends_its_worker(tmp_path: Path, started: Started) -> None:
    root = tmp_path / "baseline"
    shutil.copytree(RECIPE, root)
    first = sorted(baseline_fs.baseline_tree.yaml_files(root))[0]
    (root / first).write_text("- not: a mapping\n", encoding="utf-8")
    with pytest.raises(BaselineError):
        baseline_fs.read_baseline(root)
    assert [(w.pid, gone(pid)) for w, pid in started] == [(None, True)]


def test_a_worker_killed_mid_read_is_read_past(tmp_path: Path, started: Started,
                                              monkeypatch: pytest.MonkeyPatch) -> None:
    root = tmp_path / "baseline"
    shutil.copytree(RECIPE, root)
    take = baseline_prefetch.Prefetch.take
    killed: list[int] = []

    def take_then_kill(self: baseline_prefetch.Prefetch, path: Path) -> object:
        if not killed and self.pid is not None:
            killed.append(self.pid)
            os.kill(self.pid, signal.SIGKILL)
        return take(self, path)

    monkeypatch.setattr(baseline_prefetch.Prefetch, "take", take_then_kill)
    assert baseline_fs.read_baseline(root) == alone(root)
    assert killed and gone(killed[0])


def _worker_saying(output: bytes) -> subprocess.Popen[bytes]:
    """A process that answers with ``output`` whatever it is asked (the worker's place, for the reader's end)."""
    code = f"import sys; sys.stdin.buffer.read(); sys.stdout.buffer.write({output!r})"
    proc = subprocess.Popen([sys.executable, "-c", code], stdin=subprocess.PIPE, stdout=subprocess.PIPE)
    assert proc.stdin is not None
    proc.stdin.close()
    return proc


@pytest.mark.parametrize("output", [
    b"",
    b"\x00\x00",
    b"\x00\x00\x00\x09\x91",
    b"\x00\x00\x00\x01\xc1",
    b"\x00\x00\x00\x01\x01",
    b"\x00\x00\x00\x03\x92\x01\x02",
], ids=["nothing", "half-a-length", "half-a-body", "not-msgpack", "not-a-list", "two-items"])
def test_a_broken_answer_stops_the_worker_and_the_reader_goes_on_alone(tmp_path: Path, output: bytes) -> None:
    paths = [tmp_path / "a.yaml", tmp_path / "b.yaml"]
    proc = _worker_saying(output)
    reader_end = baseline_prefetch.Prefetch(proc, paths)
    assert reader_end.take(paths[0]) is baseline_prefetch.YOURSELF
    assert reader_end.pid is None and proc.returncode is not None
    assert reader_end.take(paths[1]) is baseline_prefetch.YOURSELF


def test_a_good_answer_is_the_data_and_the_last_one_ends_the_worker(tmp_path: Path) -> None:
    paths = [tmp_path / "a.yaml", tmp_path / "b.yaml"]
    proc = _worker_saying(b"\x00\x00\x00\x05\x91\x81\xa1a\xc0" b"\x00\x00\x00\x01\x90")  # [{"a": None}], []
    reader_end = baseline_prefetch.Prefetch(proc, paths)
    assert reader_end.take(paths[0]) == {"a": None}
    assert reader_end.take(paths[1]) is baseline_prefetch.YOURSELF
    assert reader_end.pid is None and proc.returncode is not None


def test_a_file_asked_out_of_order_is_the_readers_and_stops_the_worker(tmp_path: Path) -> None:
    paths = [tmp_path / "a.yaml", tmp_path / "b.yaml"]
    proc = _worker_saying(b"\x00\x00\x00\x02\x91\x01" * 2)
    reader_end = baseline_prefetch.Prefetch(proc, paths)
    assert reader_end.take(paths[1]) is baseline_prefetch.YOURSELF
    assert reader_end.pid is None and proc.returncode is not None


@pytest.mark.parametrize(("files", "cpus"), [(baseline_prefetch.MIN_FILES - 1, 2), (baseline_prefetch.MIN_FILES, 1)],
                         ids=["few-files", "one-cpu"])
def test_no_worker_where_it_would_not_help(tmp_path: Path, files: int, cpus: int,
                                           monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(baseline_prefetch, "usable_cpus", lambda: cpus)
    assert baseline_prefetch.start([tmp_path / f"{i}.yaml" for i in range(files)]) is None


def test_with_enough_files_and_cpus_a_worker_answers_for_each(tmp_path: Path,
                                                              monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(baseline_prefetch, "usable_cpus", lambda: 2)
    monkeypatch.setattr(baseline_prefetch, "READER_SHARE", 10**9)
    paths = [tmp_path / f"{i:04}.yaml" for i in range(baseline_prefetch.MIN_FILES)]
    for i, path in enumerate(paths):
        path.write_text(f"n: {i}\nwhen: 2024-01-0{1 + i % 9}\n" if i % 2 else f"n: {i}\n", encoding="utf-8")
    worker = baseline_prefetch.start(paths)
    assert worker is not None
    answers = [worker.take(path) for path in paths]
    assert answers[::2] == [{"n": i} for i in range(0, len(paths), 2)]
    assert all(a is baseline_prefetch.YOURSELF for a in answers[1::2])  # a timestamp: the reader's to load
    assert worker.pid is None
