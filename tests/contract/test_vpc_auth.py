"""Contract: the VPC API and the resource manager answer only calls that carry a token from IAM.

IBM Cloud refuses a call with no ``Authorization: Bearer <token>``, a malformed one, or a token IAM did
not issue or that expired, with 401 ``not_authorized`` in its error body; the emulator does the same,
so a client that forgets its authenticator fails here rather than in production.
"""

from __future__ import annotations

import base64
import json
import uuid
from collections.abc import Callable
from datetime import UTC, datetime

import pytest
import requests
from ibm_cloud_sdk_core import ApiException
from ibm_cloud_sdk_core.authenticators import (
    Authenticator,
    BearerTokenAuthenticator,
    IAMAuthenticator,
    NoAuthAuthenticator,
)
from vpc_sdk import bearer, client

from netwarden.adapters.ibm_vpc import IbmVpcReader, RetryPolicy, VpcClients
from netwarden.config import IbmCloudSettings
from netwarden.core.errors import ProviderAuthError
from netwarden.fakes.iam import API_KEY, TOKEN_LIFETIME
from netwarden.fakes.server import FakeServer

QUERY = "version=2026-10-06&generation=2"
KEY_ENV = "NW_AUTH_TEST_KEY"


def _token(fake: FakeServer) -> str:
    return bearer(fake)["Authorization"].split(" ", 1)[1]


def _forged(token: str) -> str:
    """The token with a longer life written into its claims, and the signature left as it was."""
    header, payload, signature = token.split(".")
    claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    claims["exp"] += 86400
    forged = base64.urlsafe_b64encode(json.dumps(claims).encode()).rstrip(b"=").decode()
    return f"{header}.{forged}.{signature}"


def _resigned(token: str) -> str:
    header, payload, _ = token.split(".")
    return f"{header}.{payload}.{base64.urlsafe_b64encode(b'x' * 32).rstrip(b'=').decode()}"


#: (how the Authorization header is made from a valid token (None: no header), seconds the clock moves
#: on after the token was issued, the status, a part of the message)
CASES: list[tuple[Callable[[str], str | None], int, int, str]] = [
    (lambda t: None, 0, 401, "no Authorization header"),
    (lambda t: "Bearer", 0, 401, "must be `Bearer <IAM token>`"),
    (lambda t: "Bearer   ", 0, 401, "must be `Bearer <IAM token>`"),
    (lambda t: t, 0, 401, "must be `Bearer <IAM token>`"),
    (lambda t: f"Basic {t}", 0, 401, "must be `Bearer <IAM token>`"),
    (lambda t: "Bearer not-a-token", 0, 401, "not one IAM issued"),
    (lambda t: f"Bearer {_forged(t)}", 0, 401, "not one IAM issued"),
    (lambda t: f"Bearer {_resigned(t)}", 0, 401, "not one IAM issued"),
    (lambda t: f"Bearer {t}", TOKEN_LIFETIME, 401, "has expired"),
    (lambda t: f"Bearer {t}", TOKEN_LIFETIME + 3600, 401, "has expired"),
    (lambda t: f"Bearer {t}", 0, 200, ""),
    (lambda t: f"bearer {t}", 0, 200, ""),
    (lambda t: f"Bearer {t}", TOKEN_LIFETIME - 1, 200, ""),
]
CASE_IDS = ["no-header", "bearer-no-token", "bearer-blank-token", "token-no-scheme", "basic-scheme",
            "not-a-jwt", "claims-changed", "other-signature", "expired-at-exp", "expired-an-hour-ago",
            "valid", "scheme-lowercase", "valid-last-second"]

#: (method, path, body, the status once the token is accepted)
ENDPOINTS = [("GET", f"/vpc/us-south/v1/vpcs?{QUERY}", None, 200),
             ("POST", f"/vpc/us-south/v1/vpcs?{QUERY}", {"name": "prod-vpc"}, 201),
             ("GET", "/vpc/eu-de/v1/network_acls?version=2099-01-01", None, 400),
             ("GET", "/rm/v2/resource_groups?name=Default", None, 200)]
ENDPOINT_IDS = ["vpc-read", "vpc-create", "token-before-version", "resource-manager"]


@pytest.mark.parametrize(("method", "path", "body", "accepted"), ENDPOINTS, ids=ENDPOINT_IDS)
@pytest.mark.parametrize(("header", "later", "status", "message"), CASES, ids=CASE_IDS)
def test_every_call_needs_a_valid_bearer_token(fake: FakeServer, method: str, path: str, body: dict[str, str] | None,
                                               accepted: int, header: Callable[[str], str | None], later: int,
                                               status: int, message: str) -> None:
    issued = datetime.now(UTC).timestamp()
    fake.cloud.clock = lambda: issued
    token = _token(fake)
    fake.cloud.clock = lambda: issued + later
    value = header(token)
    headers = {} if value is None else {"Authorization": value}
    r = requests.request(method, f"{fake.url}{path}", json=body, headers=headers, timeout=5)
    assert r.status_code == (status if status == 401 else accepted), r.text
    if status != 401:
        return
    answer = r.json()
    assert list(answer) == ["errors", "status_code", "trace"] and answer["status_code"] == 401
    assert uuid.UUID(answer["trace"])
    error = answer["errors"][0]
    assert error["code"] == "not_authorized" and error["more_info"].endswith("#not_authorized")
    assert message in error["message"]
    assert token not in r.text
    fake.cloud.clock = lambda: issued
    listed = requests.get(f"{fake.url}/vpc/us-south/v1/vpcs?{QUERY}", headers=bearer(fake), timeout=5)
    assert listed.json()["vpcs"] == []  # a refused create created nothing
    assert fake.cloud.events == []  # and the API never got as far as the call


def _settings(fake: FakeServer) -> IbmCloudSettings:
    return IbmCloudSettings(regions=("us-south",), api_key_env=KEY_ENV, vpc_url=f"{fake.url}/vpc/{{region}}/v1",
                            iam_url=f"{fake.url}/iam", resource_manager_url=f"{fake.url}/rm")


@pytest.mark.parametrize(
    ("authenticator", "later", "message"),
    [(lambda url: NoAuthAuthenticator(), 0, "no Authorization header"),
     (lambda url: BearerTokenAuthenticator("eyJhbGciOiJIUzI1NiJ9.e30.c2lnbmF0dXJl"), 0, "not one IAM issued"),
     (lambda url: IAMAuthenticator(API_KEY, url=f"{url}/iam"), TOKEN_LIFETIME * 2, "has expired")],
    ids=["no-authenticator", "token-from-elsewhere", "token-expired"],
)
def test_the_sdk_is_answered_401_and_the_reader_fails_on_one_line(
        fake: FakeServer, authenticator: Callable[[str], Authenticator], later: int, message: str) -> None:
    made = authenticator(fake.url)
    if isinstance(made, IAMAuthenticator):
        made.token_manager.get_token()  # issued now; the emulator's clock then moves past its expiry
    fake.cloud.clock = lambda: datetime.now(UTC).timestamp() + later
    with pytest.raises(ApiException) as refused:
        client(fake, authenticator=made).list_vpcs()
    assert refused.value.status_code == 401 and message in str(refused.value.message)
    assert refused.value.http_response.json()["errors"][0]["code"] == "not_authorized"
    reader = IbmVpcReader(_settings(fake), VpcClients(_settings(fake), made, RetryPolicy(retry_interval=0.05)))
    with pytest.raises(ProviderAuthError) as failed:
        reader.read_vpcs()
    assert failed.value.status == 401 and "\n" not in str(failed.value)
    assert str(failed.value) == f"GET /vpcs (us-south): {refused.value.message} (HTTP 401)"


def test_the_adapters_send_a_version_that_is_not_in_the_future(fake: FakeServer,
                                                                monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(KEY_ENV, API_KEY)
    clients = VpcClients.from_settings(_settings(fake))
    for retries in (True, False):
        version = clients.vpc("us-south", retries=retries).version
        assert datetime.strptime(version, "%Y-%m-%d").date() <= datetime.now(UTC).date(), version
    got = IbmVpcReader(_settings(fake), clients).read_vpcs()
    assert (got.vpcs, got.unreadable) == ((), ())
