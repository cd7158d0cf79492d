"""adapters.baseline_fs: the cyclic garbage collector rests while a baseline is read, and only then."""

from __future__ import annotations

import gc
from typing import Any

import pytest

from netwarden.adapters.baseline_fs import parse_tree
from netwarden.core.errors import BaselineError


class Watched(dict[str, Any]):
    """Baseline files as text, noting whether the collector ran while each was read."""

    def __init__(self, files: dict[str, Any]) -> None:
        super().__init__(files)
        self.collecting: list[bool] = []

    def __getitem__(self, key: str) -> Any:
        self.collecting.append(gc.isenabled())
        return super().__getitem__(key)


def test_the_collector_rests_while_the_files_are_read_and_is_back_afterwards() -> None:
    files = Watched({"kubernetes/c/namespaces.yaml": "ns-a: {}\n"})
    snapshot, _ = parse_tree(files, "b")
    assert snapshot.clusters[0].namespaces[0].name == "ns-a"
    assert files.collecting and not any(files.collecting)
    assert gc.isenabled()


def test_the_collector_is_back_after_an_error() -> None:
    with pytest.raises(BaselineError):
        parse_tree(Watched({"kubernetes/c/namespaces.yaml": "Bad_Name: {}\n"}), "b")
    assert gc.isenabled()


def test_a_collector_that_was_off_stays_off() -> None:
    gc.disable()
    try:
        parse_tree(Watched({"kubernetes/c/namespaces.yaml": "ns-a: {}\n"}), "b")
        assert not gc.isenabled()
    finally:
        gc.enable()
