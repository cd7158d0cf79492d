"""Hand-written port doubles for the remediation tests: an estate in memory, and a state store in memory.

``MemoryEstate`` implements ``VpcWriter`` and ``KubeWriter`` over a ``Snapshot`` and enforces what the
real APIs enforce and a plan could get wrong: rule names unique within an ACL, ``before`` naming a
rule of that ACL, a rule id that exists. ``fail`` injects errors into chosen writes (by number,
1-based, retries included), and ``read()`` is the live reader. ``MemoryStateStore`` implements ``StateStore``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import replace
from typing import Any

from netwarden.app.remediate import apply_step
from netwarden.core import sg_rules
from netwarden.core.errors import LockHeld, PermanentRemediationError
from netwarden.core.model import (
    AclRule,
    Namespace,
    NetworkAcl,
    NetworkPolicy,
    PortRange,
    SecurityGroup,
    SgRule,
    Snapshot,
    Vpc,
)
from netwarden.core.plan.steps import Step


class MemoryEstate:
    def __init__(self, snapshot: Snapshot) -> None:
        self.snapshot = snapshot
        self.writes: list[tuple[str, tuple[Any, ...]]] = []
        #: (write number, 1-based, counting attempts; method name) -> an error to raise instead, or None
        self.fail: Callable[[int, str], Exception | None] = lambda n, name: None
        self._ids = 0

    def read(self) -> Snapshot:
        return self.snapshot

    # --- plumbing --------------------------------------------------------------------------------------
    def _write(self, name: str, *args: Any) -> None:
        self.writes.append((name, args))
        error = self.fail(len(self.writes), name)
        if error is not None:
            self.writes[-1] = (f"{name} (failed)", args)
            raise error

    def _vpc(self, region: str, vpc: str) -> Vpc:
        found = self.snapshot.vpc(region, vpc)
        assert found is not None, f"no VPC {region}/{vpc}"
        return found

    def _put_vpc(self, vpc: Vpc) -> None:
        vpcs = tuple(vpc if (v.region, v.name) == (vpc.region, vpc.name) else v for v in self.snapshot.vpcs)
        self.snapshot = replace(self.snapshot, vpcs=vpcs)

    def _acl(self, region: str, vpc: str, name: str) -> NetworkAcl:
        acl = self._vpc(region, vpc).acl(name)
        if acl is None:
            raise PermanentRemediationError(f"network ACL {name} does not exist")
        return acl

    def _put_rules(self, region: str, vpc: str, name: str, rules: list[AclRule]) -> None:
        names = [r.name for r in rules]
        if len(names) != len(set(names)):
            raise PermanentRemediationError(f"rule names must be unique in ACL {name}: {names}")
        v = self._vpc(region, vpc)
        acls = tuple(replace(a, rules=tuple(rules)) if a.name == name else a for a in v.acls)
        self._put_vpc(replace(v, acls=acls))

    @staticmethod
    def _index(rules: list[AclRule], rule_id: str | None) -> int:
        if rule_id is None:
            return len(rules)
        for n, r in enumerate(rules):
            if r.id == rule_id:
                return n
        raise PermanentRemediationError(f"no rule with id {rule_id}")

    # --- VpcWriter -------------------------------------------------------------------------------------
    def create_rule(self, region: str, vpc: str, acl: str, rule: AclRule, before_id: str | None) -> str:
        self._write("create_rule", region, vpc, acl, rule.name, before_id)
        rules = list(self._acl(region, vpc, acl).rules)
        self._ids += 1
        new_id = f"new-{self._ids}"
        rules.insert(self._index(rules, before_id), replace(rule, id=new_id))
        self._put_rules(region, vpc, acl, rules)
        return new_id

    def update_rule(self, region: str, vpc: str, acl: str, rule_id: str, patch: dict[str, Any]) -> None:
        self._write("update_rule", region, vpc, acl, rule_id, dict(patch))
        rules = list(self._acl(region, vpc, acl).rules)
        n = self._index(rules, rule_id)
        rules[n] = patched(rules[n], patch)
        self._put_rules(region, vpc, acl, rules)

    def move_rule(self, region: str, vpc: str, acl: str, rule_id: str, before_id: str | None) -> None:
        self._write("move_rule", region, vpc, acl, rule_id, before_id)
        rules = list(self._acl(region, vpc, acl).rules)
        rule = rules.pop(self._index(rules, rule_id))
        rules.insert(self._index(rules, before_id), rule)
        self._put_rules(region, vpc, acl, rules)

    def delete_rule(self, region: str, vpc: str, acl: str, rule_id: str) -> None:
        self._write("delete_rule", region, vpc, acl, rule_id)
        rules = list(self._acl(region, vpc, acl).rules)
        del rules[self._index(rules, rule_id)]
        self._put_rules(region, vpc, acl, rules)

    def _subnet(self, region: str, vpc: str, subnet: str, **changes: Any) -> None:
        v = self._vpc(region, vpc)
        assert v.subnet(subnet) is not None
        self._put_vpc(replace(v, subnets=tuple(replace(s, **changes) if s.name == subnet else s for s in v.subnets)))

    def replace_subnet_acl(self, region: str, vpc: str, subnet: str, acl: str) -> None:
        self._write("replace_subnet_acl", region, vpc, subnet, acl)
        self._acl(region, vpc, acl)
        self._subnet(region, vpc, subnet, network_acl=acl)

    def set_subnet_gateway(self, region: str, vpc: str, subnet: str, gateway: str) -> None:
        self._write("set_subnet_gateway", region, vpc, subnet, gateway)
        self._subnet(region, vpc, subnet, public_gateway=gateway)

    def unset_subnet_gateway(self, region: str, vpc: str, subnet: str) -> None:
        self._write("unset_subnet_gateway", region, vpc, subnet)
        self._subnet(region, vpc, subnet, public_gateway=None)

    # --- VpcWriter: security groups --------------------------------------------------------------------
    def _group(self, region: str, vpc: str, name: str) -> SecurityGroup:
        found = self._vpc(region, vpc).security_group(name)
        if found is None:
            raise PermanentRemediationError(f"security group {name} does not exist")
        return found

    def _put_group(self, region: str, vpc: str, group: SecurityGroup) -> None:
        v = self._vpc(region, vpc)
        others = tuple(g for g in v.security_groups if g.name != group.name)
        self._put_vpc(replace(v, security_groups=(*others, group)))

    def _new_id(self) -> str:
        self._ids += 1
        return f"new-{self._ids}"

    def create_security_group(self, region: str, vpc: str, group: str) -> str:
        self._write("create_security_group", region, vpc, group)
        if self._vpc(region, vpc).security_group(group) is not None:
            raise PermanentRemediationError(f"security group {group} exists")
        new_id = self._new_id()
        self._put_group(region, vpc, SecurityGroup(group, id=new_id))
        return new_id

    def create_sg_rule(self, region: str, vpc: str, group: str, rule: SgRule) -> str:
        self._write("create_sg_rule", region, vpc, group, sg_rules.text(rule))
        g = self._group(region, vpc, group)
        if rule.remote_group is not None:
            self._group(region, vpc, rule.remote_group)
        new_id = self._new_id()
        self._put_group(region, vpc, sg_rules.group(g.name, [*g.rules, replace(rule, id=new_id)], g.targets,
                                                    managed_by=g.managed_by, id=g.id))
        return new_id

    def _rules_without(self, g: SecurityGroup, rule_id: str) -> tuple[SgRule, list[SgRule]]:
        found = next((r for r in g.rules if r.id == rule_id), None)
        if found is None:
            raise PermanentRemediationError(f"no rule with id {rule_id} in security group {g.name}")
        return found, [r for r in g.rules if r.id != rule_id]

    def update_sg_rule(self, region: str, vpc: str, group: str, rule_id: str, patch: dict[str, Any]) -> None:
        self._write("update_sg_rule", region, vpc, group, rule_id, dict(patch))
        g = self._group(region, vpc, group)
        old, rest = self._rules_without(g, rule_id)
        changes: dict[str, Any] = {}
        if "port_min" in patch:
            changes["ports"] = PortRange(patch["port_min"], patch["port_max"])
        if "local" in patch:
            changes["local"] = patch["local"]["cidr_block"]
        self._put_group(region, vpc, sg_rules.group(g.name, [*rest, replace(old, **changes)], g.targets,
                                                    managed_by=g.managed_by, id=g.id))

    def delete_sg_rule(self, region: str, vpc: str, group: str, rule_id: str) -> None:
        self._write("delete_sg_rule", region, vpc, group, rule_id)
        g = self._group(region, vpc, group)
        _, rest = self._rules_without(g, rule_id)
        self._put_group(region, vpc, sg_rules.group(g.name, rest, g.targets, managed_by=g.managed_by, id=g.id))

    def _targets(self, region: str, vpc: str, group: str, target_id: str, bound: bool) -> None:
        g = self._group(region, vpc, group)
        known = {t.id: t for other in self._vpc(region, vpc).security_groups for t in other.targets}
        if target_id not in known:
            raise PermanentRemediationError(f"no target with id {target_id}")
        targets = [t for t in g.targets if t.id != target_id] + ([known[target_id]] if bound else [])
        self._put_group(region, vpc, sg_rules.group(g.name, g.rules, targets, managed_by=g.managed_by, id=g.id))

    def bind_sg_target(self, region: str, vpc: str, group: str, target_id: str) -> None:
        self._write("bind_sg_target", region, vpc, group, target_id)
        self._targets(region, vpc, group, target_id, True)

    def unbind_sg_target(self, region: str, vpc: str, group: str, target_id: str) -> None:
        self._write("unbind_sg_target", region, vpc, group, target_id)
        self._targets(region, vpc, group, target_id, False)

    # --- KubeWriter ------------------------------------------------------------------------------------
    def _cluster_policies(self, cluster: str, policies: list[NetworkPolicy]) -> None:
        clusters = tuple(replace(c, policies=tuple(sorted(policies, key=lambda p: p.key))) if c.name == cluster
                         else c for c in self.snapshot.clusters)
        self.snapshot = replace(self.snapshot, clusters=clusters)

    def apply_policy(self, cluster: str, policy: NetworkPolicy) -> None:
        self._write("apply_policy", cluster, policy.key)
        c = self.snapshot.cluster(cluster)
        assert c is not None
        self._cluster_policies(cluster, [p for p in c.policies if p.key != policy.key] + [policy])

    def delete_policy(self, cluster: str, namespace: str, name: str) -> None:
        self._write("delete_policy", cluster, namespace, name)
        c = self.snapshot.cluster(cluster)
        assert c is not None
        self._cluster_policies(cluster, [p for p in c.policies if p.key != f"{namespace}/{name}"])

    def set_namespace_labels(self, cluster: str, namespace: Namespace) -> None:
        self._write("set_namespace_labels", cluster, namespace.name, dict(namespace.labels))
        clusters = tuple(replace(c, namespaces=tuple(namespace if n.name == namespace.name else n
                                                     for n in c.namespaces)) if c.name == cluster else c
                         for c in self.snapshot.clusters)
        self.snapshot = replace(self.snapshot, clusters=clusters)


def patched(rule: AclRule, patch: dict[str, Any]) -> AclRule:
    """``rule`` with a ``NetworkACLRulePatch`` body applied (the API's vocabulary)."""
    changes: dict[str, Any] = {}
    for key in ("name", "action", "direction", "source", "destination"):
        if key in patch:
            changes[key] = patch[key]
    for prefix in ("destination_port", "source_port"):
        if f"{prefix}_min" in patch:
            changes[prefix] = PortRange(patch[f"{prefix}_min"], patch[f"{prefix}_max"])
    if "type" in patch:
        changes["icmp_type"] = patch["type"]
    if "code" in patch:
        changes["icmp_code"] = patch["code"]
    return replace(rule, **changes)


def apply_all(estate: MemoryEstate, steps: tuple[Step, ...] | list[Step]) -> Iterator[Snapshot]:
    """Execute ``steps`` against ``estate`` with the real step executor; yield the state after each."""
    from netwarden.app.remediate import Writers

    writers = Writers(vpc=estate, kube=estate)
    created: dict[tuple[str, str, str, str], str] = {}
    for step in steps:
        apply_step(step.op, writers, created)
        yield estate.snapshot


class MemoryStateStore:
    def __init__(self) -> None:
        self.data: dict[str, bytes] = {}
        self.locks: dict[str, str] = {}
        self.lock_log: list[tuple[str, str, str]] = []

    def get(self, key: str) -> bytes | None:
        return self.data.get(key)

    def put(self, key: str, data: bytes) -> None:
        self.data[key] = data

    def append(self, key: str, line: bytes) -> None:
        self.data[key] = self.data.get(key, b"") + line.rstrip(b"\n") + b"\n"

    def keys(self, prefix: str = "") -> Iterator[str]:
        yield from sorted(k for k in self.data if k.startswith(prefix))

    def delete(self, key: str) -> None:
        self.data.pop(key, None)

    @contextmanager
    def lock(self, name: str, owner: str) -> Iterator[None]:
        if name in self.locks:
            raise LockHeld(f"lock {name!r} is held by {self.locks[name]}")
        self.locks[name] = owner
        self.lock_log.append(("acquire", name, owner))
        try:
            yield
        finally:
            del self.locks[name]
            self.lock_log.append(("release", name, owner))
