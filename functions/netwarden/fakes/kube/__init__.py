"""The Kubernetes API emulator: one stateful API server per cluster name, mounted at ``/k8s/<cluster>``.

It is what the kubernetes client and kubectl talk to in netwarden's tests and demo, so it answers as
a real API server does (discovery, OpenAPI, defaults, validation, patches, selectors, chunked lists,
resourceVersion conflicts, Status errors), and as the cluster behind it would: a scheduler and
kubelet (``kubelet``) and the workload controllers (``controllers``). Its parts follow the emulators'
shape: ``urls`` (routes), ``responses`` (thin handlers), ``models`` (state and rules), ``exceptions``
(the wire errors).
"""
