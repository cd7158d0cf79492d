"""One verdict across the layers: what a change in one layer does once every other layer applies.

A packet reaches a worker only if the subnet's ACL and the workers' security groups both let it
through, so a change is judged by what passes through *all* of them before and after: ``opened`` and
``closed`` are already the combined sets. ``held`` is what the changed layer opened on its own that
another layer still blocks: a change that opens nothing through the perimeter as a whole, but holds
something back only because of the other layer, is **defence in depth reduced** (``REDUCED``), its own
state below a real exposure. A change that closes only what another layer blocked anyway changes
nothing that passes.
"""

from __future__ import annotations

import functools
from collections.abc import Iterator

from netwarden.core.acl.evaluate import Exposure, all_traffic, examples
from netwarden.core.findings import Impact
from netwarden.core.flows.algebra import ADDRESSES, FlowSet, cidr_interval

REDUCED = "reduced"
#: Not the public internet: private, shared, loopback, link-local, multicast, reserved, IBM private.
NOT_PUBLIC = ("10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "100.64.0.0/10", "127.0.0.0/8", "169.254.0.0/16",
              "224.0.0.0/4", "240.0.0.0/4", "0.0.0.0/8", "161.26.0.0/16", "166.8.0.0/14")
#: What a cluster cannot do without, and why (the recipe's IBM private ranges).
IBM_PRIVATE = (
    ("161.26.0.0/16", "IBM private network 161.26.0.0/16 (worker provisioning, DNS, NTP)"),
    ("166.8.0.0/14", "IBM private service endpoints 166.8.0.0/14 (the cluster master, registry)"),
)


def needs(cidr: str | None) -> Iterator[tuple[FlowSet, str]]:
    """The IBM private ranges a subnet's workers cannot do without, both ways, each with the reason."""
    for block, why in IBM_PRIVATE:
        yield all_traffic(source=block, destination=cidr), f"inbound from the {why}"
        yield all_traffic(source=cidr, destination=block), f"outbound to the {why}"


def verdict(exposure: Exposure, held: FlowSet, breakage: tuple[str, ...], *, changed: str, other: str,
            layer_after: FlowSet | None = None, layer_closed: bool = False, decided: str | None = None) -> Impact:
    """The impact of a change of the layer ``changed`` (``ACL``, ``security group``) judged with the layer
    ``other`` applied: ``exposure`` over the combined sets, ``held`` what ``other`` alone still blocks of
    what ``changed`` opened (``layer_after``: all that layer lets through now, to name the held flows by
    their widest range), ``layer_closed`` whether ``changed`` closed anything on its own; ``decided``: which
    rule of each layer decides the first example flow (``core.reach.explain.deciding``), added to the
    summary."""
    impact = _verdict(exposure, held, breakage, changed=changed, other=other, layer_after=layer_after,
                      layer_closed=layer_closed)
    if decided is None:
        return impact
    return Impact(impact.exposure, impact.examples, impact.breakage, f"{impact.summary}; decided {decided}")


def _verdict(exposure: Exposure, held: FlowSet, breakage: tuple[str, ...], *, changed: str, other: str,
             layer_after: FlowSet | None, layer_closed: bool) -> Impact:
    shown, summary = exposure.describe()
    if exposure.state == "widened" and held:
        held_example = examples(held, 1, within=layer_after if layer_after is not None else held)[0]
        summary += f"; the {other} still block the rest of what the {changed} opens (e.g. {held_example})"
    if exposure.state == "widened" or not held:
        if exposure.state == "unchanged" and layer_closed:
            summary = f"the {changed} closes only traffic the {other} block anyway"
        return Impact(exposure.state, shown, breakage, summary)
    held_shown = examples(held, within=layer_after if layer_after is not None else held)
    summary = (f"defence in depth reduced: the {changed} now allows traffic the {other} still block, so one layer "
               f"stands where two did")
    if exposure.closed:
        summary += f"; {exposure.summary()}"
    return Impact(REDUCED, held_shown, breakage, summary)


@functools.cache
def public() -> FlowSet:
    """Every flow to a public internet address."""
    everything = FlowSet.everything()
    private = FlowSet()
    for block in NOT_PUBLIC:
        iv = cidr_interval(block)
        assert iv is not None
        private = private | FlowSet.box((0, 255), ADDRESSES, iv)
    return everything - private
