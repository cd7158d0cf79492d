"""``netwarden explain``'s question resolved in each state: which end is a subnet, a pod or a workload.

``--from`` and ``--to`` each name a CIDR or address, a subnet of the baseline, or a pod or workload
(``[CLUSTER/]NAMESPACE/NAME``). One end is a CIDR and the other a subnet or pod (answered with the
layers of ``core.reach.explain``, and for a pod ``core.reach.explain_pod``), or both ends are pods
(their NetworkPolicies). Each state (the baseline, the live snapshot) answers for itself; where it
lacks the subnet or pod, a sentence says so. A pod's worker subnets come from its own state, else
from another state of the same cluster (the baseline does not record where the workers run).
"""

from __future__ import annotations

from dataclasses import replace

from netwarden.core import normalize
from netwarden.core.errors import ConfigError
from netwarden.core.flows.algebra import cidr_interval
from netwarden.core.model import Cluster, Snapshot, Subnet, Vpc
from netwarden.core.reach.explain import Answer, Question, explain
from netwarden.core.reach.explain_pod import explain_pod, explain_pods, find_pods, parse_target

Target = tuple[str | None, str, str]
Answers = list[tuple[str, Answer | str]]


def ask(states: list[tuple[str, Snapshot]], source: str, destination: str, protocol: str,
        port: int | None) -> tuple[Question, Answers]:
    """The question ``--from source --to destination`` and its answer in each state (the first one is the
    baseline: subnets are looked up there)."""
    kinds: dict[str, str] = {}
    values: dict[str, str] = {}
    targets: dict[str, Target] = {}
    for flag, value in (("--from", source), ("--to", destination)):
        kinds[flag], values[flag] = _end(flag, value, states)
        if kinds[flag] == "pod":
            found = parse_target(value)
            assert found is not None
            targets[flag] = found
    named = sorted(kinds.values())
    if named not in (["cidr", "subnet"], ["cidr", "pod"], ["pod", "pod"]):
        raise ConfigError("--from and --to: exactly one of them names a subnet, pod or workload, the other is a CIDR "
                          "or address (or both name pods or workloads)")
    question = Question(protocol, values["--from"], values["--to"], port)
    if named == ["pod", "pod"]:
        return question, _between_pods(states, question, targets["--from"], targets["--to"])
    direction = "inbound" if kinds["--from"] == "cidr" else "outbound"
    near, peer = ("--to", "--from") if direction == "inbound" else ("--from", "--to")
    if kinds[near] == "pod":
        return question, _at_pods(states, question, targets[near], name=values[near], peer=values[peer],
                                  direction=direction)
    return question, _at_subnet(states, question, values[near], direction)


def _end(flag: str, value: str, states: list[tuple[str, Snapshot]]) -> tuple[str, str]:
    """("cidr", the canonical CIDR) | ("subnet", name) | ("pod", as given); ConfigError for anything else."""
    try:
        cidr = normalize.cidr(value, field=flag, strict=False)
    except normalize.NormalizeError:
        pass
    else:
        if cidr_interval(cidr) is None:
            raise ConfigError(f"{flag}: {value!r} is IPv6; the VPC's ACL and security group rules are IPv4")
        return "cidr", cidr
    if find_subnet(states[0][1].vpcs, value) is not None:
        return "subnet", value
    target = parse_target(value)
    if target is not None and any(find_pods(s, target, _workloads(states)) for _, s in states):
        return "pod", value
    raise ConfigError(f"{flag}: {value!r} is neither a CIDR, a subnet of the baseline, nor a pod or workload "
                      f"(NAMESPACE/NAME) of a cluster")


def _workloads(states: list[tuple[str, Snapshot]]) -> tuple[Cluster, ...]:
    """The baseline's clusters: their workloads name the pods of the live state by labels."""
    return states[0][1].clusters


def _at_subnet(states: list[tuple[str, Snapshot]], question: Question, name: str, direction: str) -> Answers:
    answers: Answers = []
    for state, snapshot in states:
        found = find_subnet(snapshot.vpcs, name)
        if found is None:
            answers.append((state, f"no subnet {name} (or it has no CIDR) in the {state} state"))
            continue
        vpc, subnet = found
        ends = (question.source, subnet.cidr) if direction == "inbound" else (subnet.cidr, question.destination)
        asked = Question(question.protocol, str(ends[0]), str(ends[1]), question.port)
        answers.append((state, explain(vpc, subnet, asked, direction)))
    return answers


def _at_pods(states: list[tuple[str, Snapshot]], question: Question, target: Target, *, name: str, peer: str,
             direction: str) -> Answers:
    answers: Answers = []
    for state, snapshot in states:
        found = find_pods(snapshot, target, _workloads(states))
        if found is None:
            answers.append((state, f"no pod or workload {name} in the {state} state"))
            continue
        cluster, pods = found
        cluster = replace(cluster, worker_subnets=_worker_subnets(states, cluster))
        answers.append((state, explain_pod(snapshot.vpcs, cluster, pods, question, peer=peer, direction=direction,
                                                  target=name)))
    return answers


def _worker_subnets(states: list[tuple[str, Snapshot]], cluster: Cluster) -> tuple[str, ...]:
    """The cluster's worker subnets by name: its own, else those of the same cluster in another state (the
    baseline does not record them); an id is named by whichever state knows it."""
    given = cluster.worker_subnets or next((c.worker_subnets for _, s in states for c in s.clusters
                                            if c.name == cluster.name and c.worker_subnets), ())
    names = {subnet.id: subnet.name for _, s in states for vpc in s.vpcs for subnet in vpc.subnets if subnet.id}
    return tuple(names.get(w, w) for w in given)


def _between_pods(states: list[tuple[str, Snapshot]], question: Question, source: Target,
                  destination: Target) -> Answers:
    answers: Answers = []
    for state, snapshot in states:
        found = [find_pods(snapshot, end, _workloads(states)) for end in (source, destination)]
        first, second = found
        if first is None or second is None or first[0].name != second[0].name:
            missing = question.source if first is None else question.destination
            why = (f"no pod or workload {missing} in the {state} state" if first is None or second is None
                   else "the two ends are in different clusters: no NetworkPolicy spans clusters")
            answers.append((state, why))
            continue
        answers.append((state, explain_pods(first[0], first[1], second[1], question, question.destination)))
    return answers


def find_subnet(vpcs: tuple[Vpc, ...], name: str) -> tuple[Vpc, Subnet] | None:
    """The subnet named ``name`` (with a CIDR), and its VPC; None when no VPC has it."""
    for vpc in vpcs:
        found = vpc.subnet(name)
        if found is not None and found.cidr:
            return vpc, found
    return None
