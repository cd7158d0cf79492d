"""Kubernetes NetworkPolicies: the API server's checks (``decode``, ``validate``, ``syntax``), label
selectors, per-pod reachability (``reachability``), the reachability diff of two clusters, and what a
policy or namespace-label finding opens or closes (``impact``)."""
