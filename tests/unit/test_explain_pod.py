"""``netwarden explain`` with a pod or a workload on one end (``core.reach.ask``, ``core.reach.explain_pod``),
on the committed recipe: the NetworkPolicy layer with the rules that decide it, beside the VPC's layers at
every worker subnet; between two pods the policies of both ends; and what it refuses, one line each."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from netwarden.adapters.baseline_fs import read_baseline
from netwarden.core.errors import ConfigError
from netwarden.core.model import Pod, Snapshot
from netwarden.core.reach.ask import ask
from netwarden.core.reach.explain import Answer

BASELINE = Path(__file__).resolve().parents[2] / "baseline"
WORKERS = ("iks-vpc-us-south-1", "iks-vpc-us-south-2", "iks-vpc-us-south-3")
NP = "NetworkPolicies"


@pytest.fixture(scope="module")
def baseline() -> Snapshot:
    return read_baseline(BASELINE)


def live_of(baseline: Snapshot, *, drop: str | None = None, pods: tuple[Pod, ...] | None = None) -> Snapshot:
    """The live state: the baseline's, its cluster's workers on the three subnets (the baseline does not
    record them), without the policy ``drop``, with ``pods`` instead of the workloads."""
    (cluster,) = baseline.clusters
    cluster = replace(cluster, worker_subnets=WORKERS,
                      policies=tuple(p for p in cluster.policies if p.name != drop),
                      pods=pods if pods is not None else cluster.pods)
    return replace(baseline, clusters=(cluster,))


def answers(baseline: Snapshot, live: Snapshot, source: str, destination: str, protocol: str = "tcp",
            port: int | None = None) -> dict[str, Answer]:
    _, found = ask([("baseline", baseline), ("live", live)], source, destination, protocol, port)
    out = {}
    for state, answer in found:
        assert isinstance(answer, Answer), answer
        out[state] = answer
    return out


def policy(answer: Answer) -> tuple[str, tuple[str, ...]]:
    layer = next(layer for layer in answer.layers if layer.name == NP)
    return layer.verdict, layer.deciding


@pytest.mark.parametrize(("source", "destination", "protocol", "port", "verdict", "deciding"), [
    # from outside: the backend is isolated by two policies, neither admits an outside address
    ("0.0.0.0/0", "accounts/srv1-backend", "tcp", 3111, "blocked",
     ("ingress of accounts/srv1-backend: isolated by accounts-allow, backend-allow; no rule admits it",)),
    # no policy isolates the frontend: everything, ICMP too (Calico enforces it), passes this layer
    ("0.0.0.0/0", "accounts/srv1-frontend", "icmp", None, "allowed",
     ("ingress of accounts/srv1-frontend: no policy isolates it: allowed",)),
    ("accounts/srv1-frontend", "8.8.8.8", "udp", 53, "allowed",
     ("egress of accounts/srv1-frontend: no policy isolates it: allowed",)),
    # between pods: both ends, and the one rule that admits
    ("finance/srv2-backend", "accounts/srv1-backend", "tcp", 3111, "allowed",
     ("egress of finance/srv2-backend: no policy isolates it: allowed",
      "ingress of accounts/srv1-backend: policy accounts-allow rule 1")),
    ("finance/srv2-backend", "accounts/srv1-backend", "tcp", 22, "blocked",
     ("egress of finance/srv2-backend: no policy isolates it: allowed",
      "ingress of accounts/srv1-backend: isolated by accounts-allow, backend-allow; no rule admits it")),
    ("accounts/srv1-frontend", "accounts/srv1-backend", "any", None, "allowed",
     ("egress of accounts/srv1-frontend: no policy isolates it: allowed",
      "ingress of accounts/srv1-backend: policy backend-allow rule 1")),
    ("accounts/srv1-frontend", "accounts/srv1-db", "tcp", 5432, "blocked",
     ("egress of accounts/srv1-frontend: no policy isolates it: allowed",
      "ingress of accounts/srv1-db: isolated by db-allow; no rule admits it")),
    # a cluster-qualified name; finance has no policies
    ("iks-cluster/finance/srv2-frontend", "finance/srv2-backend", "tcp", 80, "allowed",
     ("egress of finance/srv2-frontend: no policy isolates it: allowed",
      "ingress of finance/srv2-backend: no policy isolates it: allowed")),
])
def test_the_network_policy_layer_and_its_deciding_rules(baseline: Snapshot, source: str, destination: str,
                                                         protocol: str, port: int | None, verdict: str,
                                                         deciding: tuple[str, ...]) -> None:
    for state, answer in answers(baseline, live_of(baseline), source, destination, protocol, port).items():
        assert policy(answer) == (verdict, deciding), state
        assert answer.at == "pod"


def test_from_outside_the_pod_is_reached_only_where_every_layer_of_every_worker_subnet_lets_it(
        baseline: Snapshot) -> None:
    live = live_of(baseline)
    # the policies let anything reach the frontend; the ACLs and the workers' group let in the other
    # zones' workers, so from those the flow passes at every worker subnet, and from the internet nowhere
    wide = answers(baseline, live, "0.0.0.0/0", "accounts/srv1-frontend", "tcp", 443)["live"]
    assert wide.verdict == "partly"
    assert set(wide.passes) == {f"tcp 443 from {cidr} to accounts/srv1-frontend"
                                for cidr in ("10.240.0.0/24", "10.240.64.0/24", "10.240.128.0/24")}
    names = [layer.name for layer in wide.layers]
    assert names[0] == NP and [n.split(":")[0] for n in names[1:]] == [
        f"worker subnet {w}" for w in WORKERS for _ in (1, 2)], "the ACL and the group of each worker subnet"
    assert answers(baseline, live, "10.240.64.0/24", "accounts/srv1-frontend", "tcp", 443)["live"].verdict == "allowed"
    assert answers(baseline, live, "8.8.8.0/24", "accounts/srv1-frontend", "tcp", 443)["live"].verdict == "blocked"
    # the policy layer alone blocks the backend, whatever the VPC lets through
    assert answers(baseline, live, "10.240.64.0/24", "accounts/srv1-backend", "tcp", 3111)["live"].verdict == "blocked"


def test_out_of_a_pod_to_the_internet_needs_a_gateway_at_its_worker_subnet(baseline: Snapshot) -> None:
    answer = answers(baseline, live_of(baseline), "accounts/srv1-frontend", "8.8.8.8", "udp", 53)["live"]
    layers = {layer.name: layer.verdict for layer in answer.layers}
    assert layers["worker subnet iks-vpc-us-south-1: public gateway"] == "allowed"
    assert layers["worker subnet iks-vpc-us-south-2: public gateway"] == "blocked"
    assert answer.verdict == "blocked"


def test_the_baseline_and_the_live_state_answer_each_with_its_own_policies(baseline: Snapshot) -> None:
    found = answers(baseline, live_of(baseline, drop="db-allow"), "accounts/srv1-frontend", "accounts/srv1-db",
                    "tcp", 5432)
    assert (found["baseline"].verdict, found["live"].verdict) == ("blocked", "allowed")
    assert policy(found["live"])[1][-1] == "ingress of accounts/srv1-db: no policy isolates it: allowed"


def test_a_workload_names_the_live_pods_that_carry_its_labels(baseline: Snapshot) -> None:
    replicas = tuple(Pod("accounts", f"srv1-backend-7d9f-{n}", {"app": "Srv1", "tier": "backend", "pod": n})
                     for n in ("a", "b"))
    others = tuple(p for p in baseline.clusters[0].pods if p.name != "srv1-backend")
    found = answers(baseline, live_of(baseline, pods=others + replicas), "finance/srv2-backend",
                    "accounts/srv1-backend", "tcp", 3111)
    assert policy(found["live"]) == ("allowed", (
        "egress of finance/srv2-backend: no policy isolates it: allowed",
        "ingress of accounts/srv1-backend-7d9f-a: policy accounts-allow rule 1",
        "ingress of accounts/srv1-backend-7d9f-b: policy accounts-allow rule 1"))


def test_the_baseline_takes_the_worker_subnets_from_the_live_cluster(baseline: Snapshot) -> None:
    assert baseline.clusters[0].worker_subnets == ()
    base = answers(baseline, live_of(baseline), "8.8.8.0/24", "accounts/srv1-frontend")["baseline"]
    assert any(layer.name.startswith("worker subnet iks-vpc-us-south-2:") for layer in base.layers)
    _, alone = ask([("baseline", baseline)], "8.8.8.0/24", "accounts/srv1-frontend", "tcp", None)
    (_, answer), = alone
    assert isinstance(answer, Answer) and answer.verdict == "blocked"
    assert answer.layers[-1].deciding == ("no worker subnet of k8s/iks-cluster is in the state",)


@pytest.mark.parametrize(("source", "destination", "message"), [
    ("0.0.0.0/0", "accounts/nothing-here", "--to: 'accounts/nothing-here' is neither a CIDR, a subnet of the "
                                           "baseline, nor a pod or workload (NAMESPACE/NAME) of a cluster"),
    ("other-cluster/accounts/srv1-db", "1.2.3.4", "--from: 'other-cluster/accounts/srv1-db' is neither"),
    ("iks-vpc-us-south-1", "accounts/srv1-db", "--from and --to: exactly one of them names a subnet, pod or workload"),
    ("accounts/srv1-db", "accounts/srv1-db/x/y", "--to: 'accounts/srv1-db/x/y' is neither"),
])
def test_what_it_cannot_answer_is_one_config_error(baseline: Snapshot, source: str, destination: str,
                                                   message: str) -> None:
    with pytest.raises(ConfigError) as raised:
        ask([("baseline", baseline), ("live", live_of(baseline))], source, destination, "tcp", None)
    assert str(raised.value).startswith(message)


def test_a_pod_missing_in_one_state_is_said_there(baseline: Snapshot) -> None:
    others = tuple(p for p in baseline.clusters[0].pods if p.name != "srv1-db")
    live = live_of(baseline, pods=others)
    live = replace(live, clusters=(replace(live.clusters[0], policies=()),))
    baseline_without_workload = replace(baseline, clusters=(replace(baseline.clusters[0], pods=others),))
    _, found = ask([("baseline", baseline), ("live", live)], "0.0.0.0/0", "accounts/srv1-db", "tcp", None)
    assert found[1] == ("live", "no pod or workload accounts/srv1-db in the live state")
    _, found = ask([("baseline", baseline_without_workload), ("live", live_of(baseline))], "0.0.0.0/0",
                   "accounts/srv1-db", "tcp", None)
    assert found[0] == ("baseline", "no pod or workload accounts/srv1-db in the baseline state")
