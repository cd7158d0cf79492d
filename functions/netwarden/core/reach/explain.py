"""``netwarden explain``: does this traffic reach that subnet (or leave it), layer by layer, and which rule decides.

A question is a connection: a protocol, a port, and the addresses it comes from and goes to, one of
them a subnet of a VPC. The answer walks the layers a packet crosses, each with its verdict and the
rules that decide it:

* the subnet's network ACL, first match: the request in its direction and, for tcp, the reply the
  other way (an ACL is stateless, so a connection needs both); traffic between two addresses of the
  subnet never crosses it;
* the workers' security groups (``core.reach.sg_flows``): some rule must admit the connection; the
  reply follows it (stateful);
* leaving the VPC for a public address needs the subnet's public gateway.

A range (``--from 0.0.0.0/0``) is answered for all of it: ``allowed`` when every address gets through,
``blocked`` when none does, ``partly`` otherwise, and each layer lists the rules that decide any of it,
in the order they decide. Pure: the CLI asks it of the baseline and of the live snapshot.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from netwarden.core import sg_rules
from netwarden.core.acl import evaluate as acl_eval
from netwarden.core.errors import ConfigError
from netwarden.core.flows.algebra import FlowSet, Interval, box_tree, cidr_interval, interval_cidrs
from netwarden.core.model import Subnet, Vpc
from netwarden.core.reach.sg_flows import connections, members, workers_groups
from netwarden.core.reach.verdict import public
from netwarden.core.wrap import wrap

PROTOCOLS = ("tcp", "udp", "icmp", "any")


@dataclass(frozen=True, slots=True)
class Question:
    """``protocol`` one of ``PROTOCOLS``; ``port`` the destination port (tcp/udp; None: every port)."""

    protocol: str
    source: str
    destination: str
    port: int | None = None

    def text(self) -> str:
        port = f" {self.port}" if self.port is not None else ""
        return f"{self.protocol}{port} from {self.source} to {self.destination}"


@dataclass(frozen=True, slots=True)
class Layer:
    name: str
    verdict: str  # allowed | blocked | partly
    deciding: tuple[str, ...]
    allowed: FlowSet = field(default_factory=FlowSet, compare=False, repr=False)

    def to_dict(self) -> dict[str, Any]:
        return {"layer": self.name, "verdict": self.verdict, "deciding": list(self.deciding)}


@dataclass(frozen=True, slots=True)
class Answer:
    scope: str
    subnet: str
    direction: str
    verdict: str
    layers: tuple[Layer, ...]
    passes: tuple[str, ...] = ()  # example flows that get through every layer
    allowed: FlowSet = field(default_factory=FlowSet, compare=False, repr=False)  # all of those flows
    at: str = "subnet"  # what ``subnet`` names: a subnet, a pod (or workload), or the pods between two

    def to_dict(self) -> dict[str, Any]:
        return {"scope": self.scope, self.at: self.subnet, "direction": self.direction, "verdict": self.verdict,
                "passes": list(self.passes), "layers": [layer.to_dict() for layer in self.layers]}


def explain(vpc: Vpc, subnet: Subnet, question: Question, direction: str, flows: FlowSet | None = None) -> Answer:
    """The answer at ``subnet`` of ``vpc`` for traffic into it (``inbound``) or out of it (``outbound``);
    ``flows``: the exact flows to answer for, when the question only names them."""
    flows = flows if flows is not None else _flows(question)
    assert subnet.cidr is not None
    local = cidr_interval(subnet.cidr)
    assert local is not None
    side = {"destination": local} if direction == "inbound" else {"source": local}
    wanted = flows.restrict(**side)
    layers = [_acl(vpc, subnet, wanted, direction)]
    groups = _groups(vpc, local, wanted, direction)
    if groups is not None:
        layers.append(groups)
    if direction == "outbound" and wanted & public():
        gateway = subnet.public_gateway
        why = f"public gateway {gateway}" if gateway else "the subnet has no public gateway: no route to the internet"
        through = (wanted - public()) | (wanted & public() if gateway else FlowSet())
        layers.append(Layer("public gateway", verdict_of(through, wanted), (why,), through))
    passes = wanted
    for found in layers:
        passes &= found.allowed
    return Answer(vpc.scope, subnet.name, direction, verdict_of(passes, wanted), tuple(layers),
                  acl_eval.examples(passes, within=passes) if passes else (), passes)


def _flows(question: Question) -> FlowSet:
    source, destination = cidr_interval(question.source), cidr_interval(question.destination)
    if source is None or destination is None:
        raise ValueError("IPv4 addresses only")
    port = (question.port, question.port) if question.port is not None else None
    numbers = acl_eval.protocol_numbers(question.protocol)
    return FlowSet.box(numbers[0], source, destination, None, port if question.protocol in ("tcp", "udp") else None)


def verdict_of(allowed: FlowSet, wanted: FlowSet) -> str:
    if not wanted & allowed:
        return "blocked"
    return "allowed" if wanted.issubset(allowed) else "partly"


def _acl(vpc: Vpc, subnet: Subnet, wanted: FlowSet, direction: str) -> Layer:
    acl = vpc.acl(subnet.network_acl) if subnet.network_acl else None
    if acl is None:
        return Layer(f"network ACL {subnet.network_acl or '(none)'}", "blocked", ("the ACL is not known",), FlowSet())
    request = acl_eval.evaluate(acl.rules, direction)
    deciding = [f"{direction}: " + _acl_rule(acl.rules[i]) for i, taken in request.decided if taken & wanted]
    allowed = request.allowed
    tcp = wanted.restrict(protocols=(6, 6))
    if tcp:  # the replies cross the ACL the other way, and it keeps no state
        other = "outbound" if direction == "inbound" else "inbound"
        reply = acl_eval.evaluate(acl.rules, other)
        replies = tcp.swap_endpoints()
        deciding += [f"reply {other}: " + _acl_rule(acl.rules[i]) for i, taken in reply.decided if taken & replies]
        answered = (reply.allowed & replies).swap_endpoints()
        allowed = (allowed - tcp) | (allowed & answered)
    if not any(d.startswith(f"{direction}: ") for d in deciding):
        deciding.insert(0, f"{direction}: no rule matches: denied")
    local = cidr_interval(subnet.cidr or "")
    inside = wanted & FlowSet.box((0, 255), local, local) if local is not None else FlowSet()
    if inside:  # between two addresses of the subnet: never crosses its ACL
        allowed |= inside
        deciding.append("within the subnet: not filtered by its ACL")
    return Layer(f"network ACL {acl.name}", verdict_of(allowed, wanted), tuple(deciding), allowed & wanted)


def _acl_rule(rule: Any) -> str:
    return f"rule {rule.name} ({rule.action})"


def _groups(vpc: Vpc, local: Interval, wanted: FlowSet, direction: str) -> Layer | None:
    groups = workers_groups(vpc)
    if not groups:
        return None
    remotes = members(vpc)
    admitted, deciding = FlowSet(), []
    for group in groups:
        for rule in group.rules:
            if rule.direction != direction:
                continue
            allows = connections(rule, local, remotes) & wanted
            if allows:
                admitted = admitted | allows
                deciding.append(f"{group.name}: rule {sg_rules.text(rule)}")
    names = ", ".join(g.name for g in groups)
    if not deciding:
        deciding.append(f"no {direction} rule of {names} admits it")
    return Layer(f"security groups {names}", verdict_of(admitted, wanted), tuple(deciding), admitted)


def check_flow(protocol: str, port: int | None) -> None:
    """ConfigError, naming the option, for a protocol or port a question cannot have."""
    if protocol not in PROTOCOLS:
        raise ConfigError(f"--protocol: {protocol!r} is not one of {', '.join(PROTOCOLS)}")
    if port is not None and (protocol not in ("tcp", "udp") or not 1 <= port <= 65535):
        raise ConfigError("--port: a port from 1 to 65535, with --protocol tcp or udp")


def text(question: Question, answers: list[tuple[str, Answer | str]], *, width: int | None = None) -> str:
    """The answers as a person reads them: per state (``baseline``, ``live``), the verdict, what gets
    through, then each layer's verdict and the rules that decide it (or why that state has no answer);
    each line filled to ``width`` with a hanging indent, when given."""
    lines: list[tuple[str, str]] = [("", f"netwarden explain: {question.text()}")]
    for state, answer in answers:
        if isinstance(answer, str):
            lines.append(("", f"{state}: {answer}"))
            continue
        through = f" (gets through: {'; '.join(answer.passes)})" if answer.passes and answer.verdict == "partly" else ""
        lines.append(("", f"{state}: {answer.verdict.upper()} at {answer.at} {answer.subnet} of {answer.scope}, "
                          f"{answer.direction}{through}"))
        for layer in answer.layers:
            lines.append(("  ", f"{layer.name}: {layer.verdict}"))
            lines.extend(("    ", why) for why in layer.deciding)
    if width is None:
        return "".join(f"{indent}{line}\n" for indent, line in lines)
    return "".join(f"{out}\n" for indent, line in lines for out in wrap(line, width, indent, indent + "    "))


def deciding_of(vpc: Vpc, exposure: acl_eval.Exposure, held: FlowSet, layer_after: FlowSet) -> str | None:
    """``deciding`` for the flow a finding's impact shows first: what it opens, else what the other layer
    still holds back of it, else what it closes (``core.reach.verdict`` picks its examples so)."""
    if exposure.opened:
        return deciding(vpc, exposure.opened, exposure.after)
    if held:
        return deciding(vpc, held, layer_after)
    return deciding(vpc, exposure.closed, exposure.before)


def deciding(vpc: Vpc, flows: FlowSet, within: FlowSet | None = None) -> str | None:
    """Which rule decides, in each layer, the flow of ``flows`` a finding shows first (``examples`` with
    ``within``), into or out of a subnet of ``vpc``: one line (``for tcp 22 from 0.0.0.0/0 to ...: ...``)."""
    exact, box = acl_eval.worst(flows), acl_eval.worst(flows, within)
    if exact is None or box is None:
        return None
    (plo, _), source, destination, _, ports = box
    for subnet in vpc.subnets:
        local = cidr_interval(subnet.cidr) if subnet.cidr else None
        if local is None:
            continue
        direction = ("inbound" if _within(destination, local) else "outbound" if _within(source, local)
                     else None)
        if direction is None:
            continue
        name = {6: "tcp", 17: "udp", 1: "icmp"}.get(plo, "any")
        port = ports[0] if name in ("tcp", "udp") and ports != (1, 65535) else None
        question = Question(name, interval_cidrs(*source)[0], interval_cidrs(*destination)[0], port)
        # the rules are those that decide the worst of ``flows`` itself; the question names it widened
        answer = explain(vpc, subnet, question, direction, FlowSet(box_tree(exact)))
        layers = "; ".join(f"{layer.name}: {', '.join(layer.deciding[:2])}" for layer in answer.layers)
        return f"for {question.text()}: {layers}"
    return None


def _within(span: Interval, outer: Interval) -> bool:
    return outer[0] <= span[0] and span[1] <= outer[1]
