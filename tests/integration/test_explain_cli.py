"""``netwarden explain`` end to end: the recipe in the emulator, a captured baseline, then one flow answered for
the baseline and the live state, layer by layer, and the refusals of what it cannot answer, one line each."""

from __future__ import annotations

import json

import pytest
from tests.integration.test_vpc_drift import Estate, estate  # noqa: F401  (the fixture)

WORKERS = "kube-cq2f9ha20m7cn4qhs0vg"
ZONE2 = "iks-vpc-us-south-2"


def answers(e: Estate, capsys: pytest.CaptureFixture[str], *args: str) -> dict[str, dict[str, object]]:
    code, out = e.run(capsys, "explain", *args, "--format", "json")
    assert code == 0, out
    found: dict[str, dict[str, object]] = json.loads(out)["answers"]
    return found


def test_ssh_from_the_internet_layer_by_layer_in_the_baseline_and_live(estate: Estate,  # noqa: F811
                                                                      capsys: pytest.CaptureFixture[str]) -> None:
    assert estate.run(capsys, "baseline", "capture")[0] == 0
    workers = next(g for g in estate.sdk.list_security_groups().get_result()["security_groups"] if g["name"] == WORKERS)
    estate.sdk.create_security_group_rule(workers["id"], {"direction": "inbound", "protocol": "tcp", "port_min": 22,
                                                          "port_max": 22, "remote": {"cidr_block": "0.0.0.0/0"}})
    flow = ("--from", "8.8.8.0/24", "--to", ZONE2, "--port", "22")
    before = answers(estate, capsys, *flow)
    assert before["baseline"]["verdict"] == before["live"]["verdict"] == "blocked"
    base_layers = {layer["layer"]: layer for layer in before["baseline"]["layers"]}  # type: ignore[attr-defined]
    live_layers = {layer["layer"]: layer for layer in before["live"]["layers"]}  # type: ignore[attr-defined]
    group = f"security groups {WORKERS}"
    assert base_layers[group]["deciding"] == [f"no inbound rule of {WORKERS} admits it"]
    assert live_layers[group] == {"layer": group, "verdict": "allowed",
                                  "deciding": [f"{WORKERS}: rule inbound tcp 22 from 0.0.0.0/0"]}
    acl = "network ACL iks-cluster-us-south-2-acl"
    assert live_layers[acl]["verdict"] == "blocked" and "inbound: rule deny-all-inbound (deny)" in live_layers[acl][
        "deciding"], "the ACL is the one layer left"
    # the subnet falls back to the VPC's default ACL: now nothing stands in the way
    vpc = estate.sdk.list_vpcs().get_result()["vpcs"][0]
    estate.sdk.replace_subnet_network_acl(estate.subnet(ZONE2)["id"], {"id": vpc["default_network_acl"]["id"]})
    after = answers(estate, capsys, *flow)
    assert (after["baseline"]["verdict"], after["live"]["verdict"]) == ("blocked", "allowed")


@pytest.mark.parametrize(("args", "message"), [
    (("--from", "nowhere", "--to", "10.0.0.0/8"),
     "--from: 'nowhere' is neither a CIDR, a subnet of the baseline, nor a pod or workload"),
    (("--from", "10.0.0.0/8", "--to", "1.2.3.4"), "--from and --to: exactly one of them names a subnet"),
    (("--from", "2001:db8::/32", "--to", ZONE2), "--from: '2001:db8::/32' is IPv6"),
    (("--from", "0.0.0.0/0", "--to", ZONE2, "--protocol", "gre"),
     "--protocol: 'gre' is not one of tcp, udp, icmp, any"),
    (("--from", "0.0.0.0/0", "--to", ZONE2, "--protocol", "icmp", "--port", "8"), "--port: a port from 1 to 65535"),
])
def test_what_it_cannot_answer_is_one_line_and_exit_1(estate: Estate, capsys: pytest.CaptureFixture[str],  # noqa: F811
                                                       args: tuple[str, ...], message: str) -> None:
    assert estate.run(capsys, "baseline", "capture")[0] == 0
    capsys.readouterr()
    from netwarden.entrypoints import cli

    code = cli.main(["explain", *args, "--baseline-only", "--config", str(estate.config)])
    err = capsys.readouterr().err
    assert code == 1 and err.count("\n") == 1 and message in err, err
