"""The ``kube`` fixture of the ``apps/v1`` contract tests: the three-worker cluster, made with the client
(``kube_workloads_support``). A module with its own ``kube`` fixture (``test_kube_client``) keeps it."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from kube_workloads_support import NODES, NS, Kube, node_body

from netwarden.fakes.server import FakeServer


@pytest.fixture
def kube(fake: FakeServer) -> Iterator[Kube]:
    """The namespace and the three workers."""
    k = Kube(fake)
    k.core.create_namespace({"metadata": {"name": NS}})
    for name, labels in NODES.items():
        k.core.create_node(node_body(name, *labels))
    yield k
    k.api.close()
