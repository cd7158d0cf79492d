"""adapters.snapshot_file: the typed reader of snapshot files gives the core reader's model or the core
reader's error, whatever the file: keys given twice (however the colons fall), values msgspec reads
differently from Python's json, every value of a real file changed to a wrong one, and the garbage
collector left as it was found."""

from __future__ import annotations

import gc
import json
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

import snapshot_factory as f
from netwarden.adapters import snapshot_file
from netwarden.core import snapshot_format
from netwarden.core.errors import SnapshotFormatError
from netwarden.core.model import ContainerPort, EgressPin, Pod, Unreadable, Workload
from netwarden.entrypoints.wiring import read_snapshot

_LIVE = f.live_of(f.recipe())
_POD = Pod("accounts", "web-1", {"app": "web"}, (ContainerPort(443, name="https"),), ip="172.30.0.4", node="n1")
_VPC = _LIVE.vpcs[0]
_KINDS = (0, 8, 9, 10, 12)
#: The recipe's live state with a pod and an unreadable scope, so that every kind of record is in it, and
#: one rule of each kind in each ACL (all protocols, ports, an icmp type, a deny).
_WORKLOAD = Workload("accounts", "egress-proxy", "Deployment", {"app": "proxy"}, subnets=("subnet-1",),
                     pods=("egress-proxy-5d8f-x2k9q",), running=("subnet-1",))
_PIN = EgressPin("accounts", "egress-proxy", "iks-vpc-us-south-1", exclusive=True)
SEED = snapshot_format.dumps(replace(
    _LIVE,
    vpcs=(replace(_VPC, acls=tuple(replace(a, rules=tuple(r for i, r in enumerate(a.rules) if i in _KINDS))
                                   for a in _VPC.acls)),),
    clusters=(replace(_LIVE.clusters[0], pods=(_POD,), workloads=(_WORKLOAD,), egress=(_PIN,)),),
    unreadable=(Unreadable("eu-de", "HTTP 503: unavailable"),)))


def _same_as_core(text: str) -> None:
    """The typed reader's outcome is the core reader's: the same model (ids and all), or the same error."""
    try:
        core = snapshot_format.loads(text, source="s.json")
    except SnapshotFormatError as e:
        assert snapshot_file.typed(text.encode("utf-8", "surrogatepass")) is None, text
        with pytest.raises(SnapshotFormatError) as typed:
            snapshot_file.loads(text.encode("utf-8", "surrogatepass"), "s.json")
        assert str(typed.value) == str(e)
        return
    result = snapshot_file.loads(text.encode("utf-8", "surrogatepass"), "s.json")
    assert result == core and snapshot_format.dumps(result) == snapshot_format.dumps(core)


def _top(**fields: Any) -> str:
    data = {"schema_version": 1, "kind": "netwarden/snapshot", "taken_at": "2026-11-27T10:00:00Z", **fields}
    return json.dumps(data, indent=2)


_RULE = ('{"name": "r", "action": "allow", "direction": "inbound", "protocol": "tcp", "source": "10.0.0.0/8", '
         '"destination": "10.1.0.0/16"%s}')


def _rule_doc(extra: str) -> str:
    return _top(vpcs=[{"region": "r", "name": "v", "acls": [{"name": "a", "rules": ["RULE"]}]}]).replace(
        '"RULE"', _RULE % extra)


def _policy_doc(spec: str, labels: str = "{}") -> str:
    return _top(clusters=[{"name": "c", "policies": ["POLICY"]}]).replace(
        '"POLICY"', f'{{"namespace": "n", "name": "p", "labels": {labels}, "spec": {spec}}}')


#: (id, text) of files holding a key twice, each of which the core reader refuses.
TWICE = [
    ("a top-level key", SEED.replace('"clusters":', '"vpcs": [],\n  "clusters":', 1)),
    ("an unreadable scope's key", SEED.replace('"scope": "eu-de"', '"scope": "us-south", "scope": "eu-de"', 1)),
    ("a rule's action", _rule_doc(', "action": "deny"')),
    ("a rule's id, written tight", _rule_doc(',"id":"a","id":"b"')),
    ("a label", _policy_doc("{}", '{"app": "a", "app": "b"}')),
    ("a key of a spec", _policy_doc('{"podSelector": {}, "podSelector": {"matchLabels": {"a": "b"}}}')),
    ("the dropped value holds colons", _rule_doc(', "id": "x:y:z", "id": "w"')),
    ("a colon escaped elsewhere", _rule_doc(', "id": "\\u003a", "id": "w"')),
    ("a colon escaped in capitals", _rule_doc(', "id": "\\u003A", "id": "w"')),
    ("the key spaced from its colon", _rule_doc(', "id" : "a", "id"\n: "b"')),
    ("a value starting with a colon", _rule_doc(', "id": ":a", "id": "b"')),
    ("a key holding a colon", _policy_doc("{}", '{"a:b": "1", "a:b": "2"}')),
    ("a key with an escaped quote and colon", _policy_doc("{}", '{"a\\":": "1", "a\\":": "2"}')),
    ("beside an explicit null", _rule_doc(', "id": null, "id": "b"')),
]


@pytest.mark.parametrize("text", [c[1] for c in TWICE], ids=[c[0] for c in TWICE])
def test_a_key_given_twice_is_refused_as_the_core_reader_words_it(text: str) -> None:
    with pytest.raises(SnapshotFormatError, match="appears twice in one object"):
        snapshot_format.loads(text, source="s.json")
    _same_as_core(text)


#: (id, text) of valid files the typed decoding may leave to the core reader, and must read the same.
UNUSUAL = [
    ("an escaped colon", _rule_doc(', "id": "a\\u003ab"')),
    ("explicit nulls", _rule_doc(', "id": null, "destination_port": null, "type": null')),
    ("a key spaced from its colon", _rule_doc(', "id" : "a"')),
    ("a string with a colon and quotes", _rule_doc(', "id": "\\"a\\": b"')),
    ("non-ASCII text", _policy_doc("{}", '{"app": "caf\\u00e9", "team": "\u00e9quipe"}')),
    ("a lone surrogate", _rule_doc(', "id": "\\ud800"')),
    ("an integer past 64 bits in a spec", _policy_doc('{"ingress": [{"ports": [{"port": 100000000000000000000}]}]}')),
    ("a float where a port goes", _policy_doc('{"ingress": [{"ports": [{"port": 80.0}]}]}')),
    ("a negative zero", _policy_doc('{"ingress": [{"ports": [{"port": -0.0}]}]}')),
    ("a number past the largest float in a spec", _policy_doc('{"x": 1e999}')),
    ("NaN in a spec", _policy_doc('{"x": NaN}')),
    ("a spec nested deeply", _policy_doc('{"x": ' + "[" * 5000 + "]" * 5000 + "}")),
    ("a spec null", _policy_doc("null")),
    ("labels null", _policy_doc("{}", "null")),
    ("an integer of 5,000 digits", _rule_doc(', "type": ' + "9" * 5000)),
    ("empty reason", SEED.replace('"reason": "HTTP 503: unavailable"', '"reason": ""')),
    ("taken_at of a baseline (null)", SEED.replace('"taken_at": "2026-11-27T10:00:00Z"', '"taken_at": null', 1)),
]


@pytest.mark.parametrize("text", [c[1] for c in UNUSUAL], ids=[c[0] for c in UNUSUAL])
def test_unusual_files_read_as_the_core_reader_reads_them(text: str) -> None:
    _same_as_core(text)


_MARK = "@@mark@@"


def _nodes(data: Any) -> Iterator[tuple[list[str | int], Any]]:
    stack: list[tuple[list[str | int], Any]] = [([], data)]
    while stack:
        path, item = stack.pop()
        yield path, item
        children = item.items() if isinstance(item, dict) else enumerate(item) if isinstance(item, list) else ()
        stack.extend(([*path, key], value) for key, value in children)


def _dumps_with(data: Any, path: list[str | int], value: Any) -> str:
    """``data`` as the writer spells it, with the value at ``path`` replaced by ``value``."""
    if not path:
        return json.dumps(value, indent=2)
    copy = json.loads(json.dumps(data))
    node = copy
    for part in path[:-1]:
        node = node[part]
    node[path[-1]] = value
    return json.dumps(copy, indent=2)


def _mutations(text: str) -> Iterator[str]:
    """``text`` with one thing of it changed, for every value: each scalar replaced by a value of each
    JSON type (wrong, or still right), each key removed, each object's first key given twice (its first
    copy 0), each list emptied, and
    its first item listed twice."""
    data = json.loads(text)
    for path, item in _nodes(data):
        if isinstance(item, dict):
            for key in item:
                yield _dumps_with(data, path, {k: v for k, v in item.items() if k != key})
            if item:
                twice = "{" + json.dumps(next(iter(item))) + ": 0, " + json.dumps(item)[1:]
                yield _dumps_with(data, path, _MARK).replace(json.dumps(_MARK), twice, 1)
        elif isinstance(item, list):
            if item:
                yield _dumps_with(data, path, [])
                yield _dumps_with(data, path, [item[0], *item])
        elif path:
            for other in (None, "", "x", 0, 70000, True, 1.5, []):
                if other != item or type(other) is not type(item):
                    yield _dumps_with(data, path, other)


def test_every_change_to_a_real_file_reads_as_the_core_reader_reads_it() -> None:
    """About 2,000 variants of a real file, each with one thing wrong (or still right): the typed
    decoding never accepts what the core reader refuses, and reads the same model from the rest. (What
    it refuses, its reader hands to the core reader: the tests above show the words are the same.)"""
    cases = list(_mutations(SEED))
    assert len(cases) > 1500
    typed_refused = 0
    for text in cases:
        typed = snapshot_file.typed(text.encode("utf-8"))
        try:
            core = snapshot_format.loads(text, source="s.json")
        except SnapshotFormatError:
            assert typed is None, text
            typed_refused += 1
            continue
        if typed is None:
            typed_refused += 1
        else:
            assert typed == core and snapshot_format.dumps(typed) == snapshot_format.dumps(core), text
    assert 0 < typed_refused < len(cases)


def test_a_real_file_is_read_by_the_typed_decoding_itself() -> None:
    back = snapshot_file.typed(SEED.encode("utf-8"))
    assert back is not None and snapshot_format.dumps(back) == SEED


@pytest.mark.parametrize("enabled", [True, False], ids=["gc on", "gc off"])
@pytest.mark.parametrize(("text", "refused"), [(SEED, False), (SEED.replace('"kind"', '"kinds"', 1), True)],
                         ids=["valid", "refused"])
def test_the_garbage_collector_is_left_as_it_was(enabled: bool, text: str, refused: bool) -> None:
    before = gc.isenabled()
    (gc.enable if enabled else gc.disable)()
    try:
        if refused:
            with pytest.raises(SnapshotFormatError):
                snapshot_file.loads(text.encode("utf-8"), "s.json")
        else:
            snapshot_file.loads(text.encode("utf-8"), "s.json")
        assert gc.isenabled() is enabled
    finally:
        (gc.enable if before else gc.disable)()


def test_read_names_the_file_it_cannot_read(tmp_path: Path) -> None:
    with pytest.raises(SnapshotFormatError) as e:
        read_snapshot(tmp_path / "missing.json")
    assert str(e.value) == f"{tmp_path / 'missing.json'}: cannot read the snapshot file: No such file or directory"


def test_read_gives_the_core_readers_error_with_its_line(tmp_path: Path) -> None:
    path = tmp_path / "live.json"
    path.write_text(SEED.replace('"10.240.0.0/24"', '"10.240.0.0/33"', 1), encoding="utf-8")
    with pytest.raises(SnapshotFormatError) as e:
        read_snapshot(path)
    with pytest.raises(SnapshotFormatError) as core:
        snapshot_format.loads(path.read_bytes(), source=str(path))
    assert str(e.value) == str(core.value)
    assert e.value.location is not None and e.value.location.line is not None


def test_read_reads_a_file(tmp_path: Path) -> None:
    path = tmp_path / "live.json"
    path.write_text(SEED, encoding="utf-8")
    assert snapshot_format.dumps(read_snapshot(path)) == SEED
