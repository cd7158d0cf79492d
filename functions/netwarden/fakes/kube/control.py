"""The emulator owner's side of the Kubernetes emulator over HTTP, at ``/_fake/kube/<cluster>/...``.

What a test needs of a cluster that the Kubernetes API does not offer:

* ``POST /_fake/kube/<cluster>/compact`` (optional body ``{"resourceVersion": N}``) forgets the watch
  events up to N (default: all of them), as an etcd compaction does; a watch that resumes from before
  gets the 410 ``Expired`` error event. Answers ``{"compacted": <the oldest resumable version>}``.
* ``GET /_fake/kube/<cluster>/watches`` answers ``{"watches": <open watches>, "resourceVersion": ...}``,
  so a test can wait until the watch it started is being served.
"""

from __future__ import annotations

from typing import Any

from netwarden.fakes.kube.models import KubeBackend
from netwarden.fakes.wire import Response


def handle(backend: KubeBackend, method: str, parts: list[str], body: Any) -> Response:
    """``parts``: the path after ``/_fake/kube/`` split on ``/`` (the cluster first)."""
    if len(parts) == 2 and parts[1] == "compact" and method == "POST":
        revision = (body or {}).get("resourceVersion") if isinstance(body, dict) or body is None else None
        if revision is not None and not str(revision).isdigit():
            return Response.json({"error": f"resourceVersion must be a number, not {revision!r}"}, 400)
        cluster = backend.cluster(parts[0])
        return Response.json({"compacted": cluster.compact(int(revision) if revision is not None else None)})
    if len(parts) == 2 and parts[1] == "watches" and method == "GET":
        cluster = backend.cluster(parts[0])
        return Response.json({"watches": cluster.history.watches, "resourceVersion": str(cluster.rv)})
    return Response.json({"error": f"no control route {method} /_fake/kube/{'/'.join(parts)}"}, 404)
