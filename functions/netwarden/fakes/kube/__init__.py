"""The Kubernetes API emulator: one stateful API server per cluster name, mounted at ``/k8s/<cluster>``.

It is what the kubernetes client and kubectl talk to in netwarden's tests and demo, so it answers as
a real API server does (discovery, OpenAPI v2 and v3, health checks, defaults, validation, patches,
server-side apply, selectors, chunked lists, resourceVersion conflicts, Status errors, and watches of
every collection: chunked JSON events, resumable from a resourceVersion, with bookmarks, timeouts and
the 410 of a compacted history), and as the cluster behind it would: a scheduler and kubelet
(``kubelet``) and the workload controllers (``controllers``), whose writes are watch events too. Its
parts follow the emulators' shape: ``urls`` (routes), ``responses`` (thin handlers), ``models`` (state
and rules), ``watch`` (the event history and the watch streams), ``exceptions`` (the wire errors),
``control`` (the owner's routes at ``/_fake/kube/<cluster>``).
"""
