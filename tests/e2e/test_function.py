"""The remediation function, called as Code Engine calls it: ``main(params)`` with ``__ce_*`` params.

The HTTP contract (auth, methods, bodies, sizes, no secrets in answers, who may plan and who may apply) is
checked on ``handle`` with a recording runner; plan, apply and remediate go through ``main`` against the
emulators: a plan request stores the plan and changes nothing, an apply request naming its id applies it
(once; with the approver token when one is configured).
"""

from __future__ import annotations

import base64
import json
from typing import Any

import pytest

from netwarden.core.errors import LockHeld, PlanRefused, ProviderUnavailable
from netwarden.entrypoints import function

TOKEN = "s3cr3t-token-0123456789abcdef0123456789"
ENV = {"NETWARDEN_FUNCTION_TOKEN": TOKEN, "IBMCLOUD_API_KEY": "the-api-key-value"}


def params(body: Any = None, *, method: str = "POST", token: str | None = TOKEN, raw: str | None = None,
           content_type: str = "application/json", headers: dict[str, str] | None = None) -> dict[str, Any]:
    """What Code Engine passes for an HTTP request (canonical header names, JSON body Base64-encoded and
    its top-level keys merged in)."""
    h = {"Accept": "*/*", "User-Agent": "curl/8.5.0", "Content-Type": content_type, **(headers or {})}
    if token is not None:
        h["Authorization"] = f"Bearer {token}"
    p: dict[str, Any] = {"__ce_method": method, "__ce_headers": h, "__ce_path": "/", "__ce_query": ""}
    if raw is not None:
        p["__ce_body"] = raw
    elif body is not None:
        text = json.dumps(body)
        p["__ce_body"] = base64.b64encode(text.encode()).decode()
        if isinstance(body, dict):
            p.update(body)
    return p


def b64(text: str) -> str:
    return base64.b64encode(text.encode()).decode()


def nested(depth: int) -> list[Any]:
    """``[[[...]]]`` ``depth`` deep, built without recursing."""
    value: list[Any] = []
    for _ in range(depth - 1):
        value = [value]
    return value


AUTH = {"Authorization": f"Bearer {TOKEN}"}


class Runner:
    """Records what the function asked for and answers like the real runner."""

    def __init__(self, error: Exception | None = None) -> None:
        self.requests: list[function.Request] = []
        self.error = error

    def __call__(self, request: function.Request) -> dict[str, Any]:
        self.requests.append(request)
        if self.error is not None:
            raise self.error
        return {"status": "planned", "plan": {"steps": []}}


@pytest.mark.parametrize(("p", "status", "error"), [
    (params({"action": "plan"}, token=None), 401, "missing or wrong bearer token"),
    (params({"action": "plan"}, token="wrong"), 401, "missing or wrong bearer token"),
    (params({"action": "plan"}, token=TOKEN + "x"), 401, "missing or wrong bearer token"),
    (params({"action": "plan"}, token=None, headers={"Authorization": f"Basic {TOKEN}"}), 401,
     "missing or wrong bearer token"),
    (params(method="GET"), 405, "GET is not allowed"),
    (params(method="PUT"), 405, "PUT is not allowed"),
    (params(raw=base64.b64encode(b"{not json").decode()), 400, "the request body is not JSON"),
    (params(raw="{not json"), 400, "the request body is not JSON"),
    (params(raw="{}", content_type="text/plain"), 400, "action must be one of plan, remediate"),
    (params(["plan"]), 400, "must be a JSON object"),
    (params({"action": "destroy"}), 400, 'action must be one of plan, remediate, apply, not "destroy"'),
    (params({"action": "apply"}), 400, "an apply request needs plan_id"),
    (params({"action": "apply", "plan_id": "../../findings"}), 400, "an apply request needs plan_id"),
    (params({"action": "apply", "plan_id": 12345678}), 400, "an apply request needs plan_id"),
    (params({"action": "apply", "plan_id": "0123456789abcdef", "only": ["acl-missing"]}), 400,
     "only is for plan and remediate"),
    (params({"action": "plan", "plan_id": "0123456789abcdef"}), 400, "plan_id is for an apply request only"),
    (params({"action": "plan", "only": "acl-missing"}), 400, "only must be a list of finding codes"),
    (params({"action": "plan", "only": ["no-such-code"]}), 400, "unknown finding code 'no-such-code'"),
    (params({"action": "plan", "force": True}), 400, "unknown field 'force'"),
    (params(raw=base64.b64encode(b'{"action": "plan", "x": "' + b"a" * 70000 + b'"}').decode()), 413,
     "larger than 65536 bytes"),
    # Nested too deep for json (a RecursionError, once a 500), NaN, a repeated key, a 5000-digit number.
    (params(raw=b64("[" * 60000)), 400, "the request body is refused: nested deeper than 32 levels"),
    (params(raw=b64('{"a":' * 10000 + "1" + "}" * 10000)), 400, "nested deeper than 32 levels"),
    (params(raw='{"a":' * 10000), 400, "nested deeper than 32 levels"),
    (params(raw=b64('{"action": "plan", "only": ' + "[" * 33 + "]" * 33 + "}")), 400, "nested deeper than 32"),
    ({"__ce_method": "POST", "__ce_headers": AUTH, "action": "plan", "only": nested(100000)}, 400,
     "the request body nests deeper than 32 levels"),
    (params(raw=b64('{"action": "plan", "only": NaN}')), 400, "refused: only: NaN is not a JSON number"),
    (params(raw=b64('{"action": "plan", "only": [-Infinity]}')), 400, "only[0]: -Infinity is not a JSON number"),
    (params(raw=b64('{"action": "plan", "only": [1e999]}')), 400, "only[0]: 1e999 is too large for a number"),
    (params(raw=b64('{"action": "plan", "action": "remediate"}')), 400, "the key 'action' appears twice"),
    (params(raw=b64('{"action": "plan", "only": [' + "9" * 5000 + "]}")), 400, "a number of more than 4300 digits"),
], ids=lambda v: None if isinstance(v, int) else "")
def test_requests_that_are_refused(p: dict[str, Any], status: int, error: str) -> None:
    runner = Runner()
    answer = function.handle(p, ENV, runner)
    assert answer["statusCode"] == status
    assert error in answer["body"]["error"]
    assert answer["headers"] == {"Content-Type": "application/json"}
    assert runner.requests == []
    assert TOKEN not in json.dumps(answer) and "the-api-key-value" not in json.dumps(answer)


@pytest.mark.parametrize(("p", "action", "only", "cron"), [
    (params({"action": "plan"}), "plan", None, False),
    (params({"action": "remediate", "only": ["subnet-allow-all", "acl-rule-missing"]}), "remediate",
     ("subnet-allow-all", "acl-rule-missing"), False),
    (params(raw='{"action": "plan"}'), "plan", None, False),
    (params(raw='{"action": "plan"}', content_type="text/plain"), "plan", None, False),
    # No __ce_body: only the merged top-level keys (a caller that sends them as query parameters).
    ({"__ce_method": "POST", "__ce_headers": {"Authorization": f"Bearer {TOKEN}"}, "action": "plan"}, "plan", None,
     False),
    # The cron invocation shape: Ce-* headers, the subscription's --data as the body, the token as the
    # CloudEvent extension "authorization".
    (params({"action": "plan", "source": "netwarden-cron"}, token=None,
            headers={"Ce-Type": "dev.knative.sources.ping", "Ce-Id": "1", "Ce-Specversion": "1.0",
                     "Ce-Source": "/apis/v1/namespaces/abc/pingsources/netwarden-plan",
                     "Ce-Authorization": f"Bearer {TOKEN}"}), "plan", None, True),
])
def test_requests_that_are_run(p: dict[str, Any], action: str, only: tuple[str, ...] | None, cron: bool) -> None:
    runner = Runner()
    answer = function.handle(p, ENV, runner)
    assert answer["statusCode"] == 200, answer
    assert answer["body"]["status"] == "planned" and answer["body"]["request_id"]
    [request] = runner.requests
    assert (request.action, request.only, request.cron) == (action, only, cron)


def test_the_cloudevent_token_counts_only_for_the_cron_shape() -> None:
    p = params({"action": "plan"}, token=None, headers={"Ce-Authorization": f"Bearer {TOKEN}"})
    assert function.handle(p, ENV, Runner())["statusCode"] == 401


def test_no_token_configured_is_a_server_error_not_an_open_door() -> None:
    answer = function.handle(params({"action": "plan"}, token=""), {}, Runner())
    assert answer["statusCode"] == 500 and "no token configured" in answer["body"]["error"]


@pytest.mark.parametrize(("error", "status", "shown"), [
    (PlanRefused("the plan has 12 steps, more than max_changes (10)"), 422, "more than max_changes"),
    (ProviderUnavailable("connection refused key=the-api-key-value", endpoint="GET /network_acls"), 503,
     "connection refused key=***"),
    (RuntimeError(f"boom {TOKEN}"), 500, "internal error; see the function's logs"),
    (LockHeld("lock remediate/us-south/prod-vpc is held by run-0042"), 409, "is held by run-0042"),
], ids=["refused", "unavailable", "crash", "lock-held"])
def test_failures_are_one_line_without_secrets_or_tracebacks(error: Exception, status: int, shown: str,
                                                             caplog: pytest.LogCaptureFixture) -> None:
    answer = function.handle(params({"action": "remediate"}), ENV, Runner(error))
    text = json.dumps(answer)
    assert answer["statusCode"] == status and shown in answer["body"]["error"]
    assert TOKEN not in text and "the-api-key-value" not in text and "Traceback" not in text
    assert answer["body"]["request_id"] in {getattr(r, "request_id", None) for r in caplog.records}


# --- against the emulators ---------------------------------------------------------------------------------


@pytest.fixture
def deployment(fake: Any, tmp_path: Any, monkeypatch: pytest.MonkeyPatch) -> Any:
    from ce_deployment import deploy

    d = deploy(fake, tmp_path, slack=False)
    for key, value in {**d.env, "NETWARDEN_FUNCTION_TOKEN": TOKEN}.items():
        monkeypatch.setenv(key, value)
    return d


def test_plan_with_a_good_token_answers_the_plan_and_changes_nothing(deployment: Any) -> None:
    from ce_deployment import delete_rule, rule_names

    sdk = deployment.sdk()
    delete_rule(sdk)
    before = rule_names(sdk, "iks-cluster-us-south-1-acl")
    answer = function.main(params({"action": "plan"}))
    assert answer["statusCode"] == 200, answer
    body = answer["body"]
    assert body["status"] == "planned" and body["dry_run"] is True
    [step] = body["plan"]["steps"]
    assert step["fixes"] and "allow-workers-us-south-2-inbound" in json.dumps(step)
    assert rule_names(sdk, "iks-cluster-us-south-1-acl") == before
    assert json.loads(json.dumps(answer)) == answer  # JSON all the way down


def test_remediate_applies_the_plan_and_verifies_it(deployment: Any) -> None:
    from ce_deployment import delete_rule, rule_names

    sdk = deployment.sdk()
    expected = rule_names(sdk, "iks-cluster-us-south-1-acl")
    delete_rule(sdk)
    answer = function.main(params({"action": "remediate", "only": ["acl-rule-missing"]}))
    assert answer["statusCode"] == 200, answer
    assert answer["body"]["status"] == "in_sync" and answer["body"]["applied"] == [1]
    assert rule_names(sdk, "iks-cluster-us-south-1-acl") == expected
    again = function.main(params({"action": "plan"}))
    assert again["body"]["status"] == "nothing-to-do"


def test_remediate_only_other_codes_leaves_the_drift(deployment: Any) -> None:
    from ce_deployment import delete_rule, rule_names

    sdk = deployment.sdk()
    delete_rule(sdk)
    before = rule_names(sdk, "iks-cluster-us-south-1-acl")
    answer = function.main(params({"action": "remediate", "only": ["subnet-allow-all"]}))
    assert answer["statusCode"] == 200 and answer["body"]["status"] == "nothing-to-do"
    assert rule_names(sdk, "iks-cluster-us-south-1-acl") == before


def test_a_refused_api_key_is_a_502_that_does_not_repeat_the_key(deployment: Any,
                                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NW_TEST_API_KEY", "not-the-key")
    answer = function.main(params({"action": "plan"}))
    assert answer["statusCode"] == 502, answer
    assert "not-the-key" not in json.dumps(answer) and "Traceback" not in json.dumps(answer)


def test_a_plan_larger_than_max_changes_is_a_422_and_changes_nothing(deployment: Any,
                                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    from ce_deployment import delete_rule, rule_names

    sdk = deployment.sdk()
    delete_rule(sdk)
    before = rule_names(sdk, "iks-cluster-us-south-1-acl")
    monkeypatch.setenv("NETWARDEN_MAX_CHANGES", "0")
    answer = function.main(params({"action": "remediate"}))
    assert answer["statusCode"] == 422, answer
    assert answer["body"]["status"] == "refused" and "more than max_changes (0)" in answer["body"]["error"]
    assert rule_names(sdk, "iks-cluster-us-south-1-acl") == before


def test_a_write_the_api_refuses_is_a_502_that_lists_what_was_applied(deployment: Any, fake: Any) -> None:
    from ce_deployment import delete_rule

    delete_rule(deployment.sdk())
    fake.cloud.add_fault({"path": r"/network_acls/[^/]+/rules\?", "method": "POST", "status": 403})
    answer = function.main(params({"action": "remediate"}))
    assert answer["statusCode"] == 502, answer
    body = answer["body"]
    assert body["status"] == "failed" and body["applied"] == [] and body["failed"]["step"] == 1
    assert "step 1 failed" in body["error"]


def test_a_failed_run_answers_502_without_the_secrets_its_api_error_repeated() -> None:
    class Failed(Runner):
        def __call__(self, request: function.Request) -> dict[str, Any]:
            return {"status": "failed", "reason": "step 1 failed: key=the-api-key-value",
                    "failed": {"step": 1, "error": "POST /network_acls: key=the-api-key-value"}}

    answer = function.handle(params({"action": "remediate"}), ENV, Failed())
    assert answer["statusCode"] == 502 and answer["body"]["error"] == "step 1 failed: key=***"
    assert answer["body"]["failed"]["error"] == "POST /network_acls: key=***"
    assert "the-api-key-value" not in json.dumps(answer)


# --- approval: plan, then apply by id -------------------------------------------------------------------

APPROVER = "approver-token-fedcba9876543210fedcba98"
APPROVING = {**ENV, "NETWARDEN_APPROVER_TOKEN": APPROVER}
PLAN_ID = "0123456789abcdef"


@pytest.mark.parametrize(("env", "body", "token", "status", "error"), [
    # no approver token configured: the function token does all, as before
    (ENV, {"action": "apply", "plan_id": PLAN_ID}, TOKEN, 200, None),
    (ENV, {"action": "remediate"}, TOKEN, 200, None),
    (ENV, {"action": "apply", "plan_id": PLAN_ID}, APPROVER, 401, "missing or wrong bearer token"),
    # an approver token configured: the function token plans, the approver token applies, nobody remediates
    (APPROVING, {"action": "plan"}, TOKEN, 200, None),
    (APPROVING, {"action": "apply", "plan_id": PLAN_ID}, APPROVER, 200, None),
    (APPROVING, {"action": "apply", "plan_id": PLAN_ID}, TOKEN, 403, "applying a plan needs the approver token"),
    (APPROVING, {"action": "plan"}, APPROVER, 403, "plans are made with the function token"),
    (APPROVING, {"action": "remediate"}, TOKEN, 403, "plans are applied only once approved"),
    (APPROVING, {"action": "remediate"}, APPROVER, 403, "plans are applied only once approved"),
    (APPROVING, {"action": "apply", "plan_id": PLAN_ID}, APPROVER + "x", 401, "missing or wrong bearer token"),
    (APPROVING, {"action": "apply", "plan_id": PLAN_ID}, "", 401, "missing or wrong bearer token"),
    ({**ENV, "NETWARDEN_APPROVER_TOKEN": TOKEN}, {"action": "plan"}, TOKEN, 500,
     "an approver needs a token of their own"),
], ids=["apply-without-approver", "remediate-without-approver", "approver-unconfigured", "plan", "apply",
        "planner-applies", "approver-plans", "planner-remediates", "approver-remediates", "wrong-approver", "no-token",
        "same-tokens"])
def test_who_may_plan_and_who_may_apply(env: dict[str, str], body: dict[str, Any], token: str, status: int,
                                        error: str | None) -> None:
    runner = Runner()
    answer = function.handle(params(body, token=token), env, runner)
    assert answer["statusCode"] == status, answer
    text = json.dumps(answer)
    assert TOKEN not in text and APPROVER not in text
    if error is not None:
        assert error in answer["body"]["error"] and runner.requests == []
    else:
        [request] = runner.requests
        assert request.approver == (token == APPROVER)
        assert request.plan_id == body.get("plan_id")


@pytest.fixture
def approving(deployment: Any, monkeypatch: pytest.MonkeyPatch) -> Any:
    monkeypatch.setenv("NETWARDEN_APPROVER_TOKEN", APPROVER)
    return deployment


def stored_plans(d: Any) -> list[str]:
    plans = d.root / "state" / "plans"
    return sorted(p.name for p in plans.glob("*.json")) if plans.is_dir() else []


def test_a_plan_request_stores_the_plan_and_only_the_apply_request_applies_it(approving: Any) -> None:
    from ce_deployment import delete_rule, rule_names

    sdk = approving.sdk()
    expected = rule_names(sdk, "iks-cluster-us-south-1-acl")
    delete_rule(sdk)
    drifted = rule_names(sdk, "iks-cluster-us-south-1-acl")
    planned = function.main(params({"action": "plan"}))
    assert planned["statusCode"] == 200, planned
    plan_id = planned["body"]["plan_id"]
    assert planned["body"]["status"] == "planned" and len(planned["body"]["plan"]["steps"]) == 1
    assert stored_plans(approving) == [f"{plan_id}.json"]
    assert rule_names(sdk, "iks-cluster-us-south-1-acl") == drifted, "a plan request applies nothing"
    again = function.main(params({"action": "plan"}))
    assert again["body"]["plan_id"] == plan_id, "the same drift, the same pending plan"

    by_planner = function.main(params({"action": "apply", "plan_id": plan_id}))
    assert by_planner["statusCode"] == 403, by_planner
    wrong = function.main(params({"action": "apply", "plan_id": plan_id}, token="not-the-approver"))
    assert wrong["statusCode"] == 401
    unknown = function.main(params({"action": "apply", "plan_id": "fedcba9876543210"}, token=APPROVER))
    assert unknown["statusCode"] == 404 and "no remediation plan fedcba9876543210" in unknown["body"]["error"]
    assert rule_names(sdk, "iks-cluster-us-south-1-acl") == drifted

    applied = function.main(params({"action": "apply", "plan_id": plan_id}, token=APPROVER))
    assert applied["statusCode"] == 200, applied
    body = applied["body"]
    assert (body["status"], body["applied"], body["plan_id"]) == ("in_sync", [1], plan_id)
    assert rule_names(sdk, "iks-cluster-us-south-1-acl") == expected
    audit = json.loads((approving.root / "state" / body["audit"]).read_text())
    assert audit["plan_id"] == plan_id and audit["initiator"] == "function"
    status = json.loads((approving.root / "state" / "plans" / f"{plan_id}.status.json").read_text())
    assert (status["status"], status["approved_by"]) == ("applied", "approver token")

    twice = function.main(params({"action": "apply", "plan_id": plan_id}, token=APPROVER))
    assert twice["statusCode"] == 409 and f"plan {plan_id} was applied already" in twice["body"]["error"]
    assert APPROVER not in json.dumps([planned, applied, twice]) and TOKEN not in json.dumps([planned, applied])


def test_an_apply_request_after_another_change_is_refused_and_the_plan_stays_pending(deployment: Any) -> None:
    from ce_deployment import delete_rule, rule_names

    sdk = deployment.sdk()
    delete_rule(sdk)
    plan_id = function.main(params({"action": "plan"}))["body"]["plan_id"]
    delete_rule(sdk, "iks-cluster-us-south-2-acl", "deny-all-inbound")  # another change, through the SDK
    before = rule_names(sdk, "iks-cluster-us-south-1-acl")
    answer = function.main(params({"action": "apply", "plan_id": plan_id}))
    assert answer["statusCode"] == 422, answer
    assert answer["body"]["status"] == "refused"
    assert answer["body"]["error"].startswith("the live state has moved since the plan was made: us-south/iks-vpc")
    assert rule_names(sdk, "iks-cluster-us-south-1-acl") == before
    assert f"{plan_id}.status.json" not in stored_plans(deployment)
