"""The emulated IBM Cloud IAM token service: ``POST /identity/token`` for API keys.

The SDK's ``IAMAuthenticator`` posts the form ``grant_type=urn:ibm:params:oauth:grant-type:apikey&
apikey=KEY&response_type=cloud_iam`` and needs back a JWT whose ``exp`` and ``iat`` are numbers: it
decodes the token without checking the signature to know when to refresh it (``ibm-cloud-apis.md``
2.1). This service issues HS256 tokens for the two API keys it knows, ``fake-apikey`` (netwarden's own
service ID) and ``fake-operator-apikey`` (a user, ``operator@example.com``, for tests of who made a
change), and refuses any other key the way IAM does: HTTP 400 with ``errorCode`` ``BXNIM0415E``. Tokens are stamped and
expire by the emulators' clock (``FakeCloud.clock``), so a test can let one expire without waiting.
The emulated VPC API refuses every call whose token ``inspect`` finds fault with, and names the
token's identity as the initiator of Activity Tracker events. API keys and tokens are never logged,
stored or echoed.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os
import uuid
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs

from netwarden.fakes.wire import NoRoute, Request, Response

API_KEY = "fake-apikey"
#: A user's API key: what an operator making a change by hand authenticates with.
OPERATOR_API_KEY = "fake-operator-apikey"
OPERATOR_EMAIL = "operator@example.com"
GRANT_APIKEY = "urn:ibm:params:oauth:grant-type:apikey"
TOKEN_LIFETIME = 3600


@dataclass(frozen=True, slots=True)
class Identity:
    """Who an API key belongs to: a service ID or a user of the emulated account."""

    iam_id: str
    name: str
    #: ``sub`` of the token: the service ID's id, or the user's email (as IAM puts it).
    sub: str
    sub_type: str = "ServiceId"


class IamState:
    def __init__(self, cloud: Any) -> None:
        self.cloud = cloud
        self._secret = os.urandom(32)
        self._service_id = f"ServiceId-{uuid.uuid4()}"
        self._keys = {
            _digest(API_KEY): Identity(f"iam-{self._service_id}", "netwarden-fake", self._service_id),
            _digest(OPERATOR_API_KEY): Identity(f"IBMid-{uuid.uuid4().hex[:10].upper()}", "Operator",
                                                OPERATOR_EMAIL, "user"),
        }
        self.issued = 0

    def reset(self) -> None:
        self.issued = 0

    def dump(self) -> dict[str, Any]:
        return {"tokens_issued": self.issued}

    def account_id(self) -> str:
        return str(self.cloud.state("netwarden.fakes.vpc.urls").account_id)

    def identity(self, api_key: str) -> Identity | None:
        return self._keys.get(_digest(api_key))

    def issue(self, identity: Identity, issuer: str) -> dict[str, Any]:
        now = int(self.cloud.now())
        claims = {
            "iam_id": identity.iam_id, "id": identity.iam_id, "realmid": "iam", "jti": str(uuid.uuid4()),
            "identifier": identity.sub, "name": identity.name, "sub": identity.sub, "sub_type": identity.sub_type,
            "account": {"valid": True, "bss": self.account_id(), "frozen": True},
            "iat": now, "exp": now + TOKEN_LIFETIME, "iss": issuer, "grant_type": GRANT_APIKEY,
            "scope": "ibm openid", "client_id": "default", "acr": 1, "amr": ["pwd"],
        }
        self.issued += 1
        return {"access_token": self._sign(claims), "refresh_token": "not_supported", "token_type": "Bearer",
                "expires_in": TOKEN_LIFETIME, "expiration": claims["exp"], "scope": "ibm openid"}

    def _sign(self, claims: dict[str, Any]) -> str:
        header = _b64(json.dumps({"alg": "HS256", "typ": "JWT", "kid": "netwarden-fake"}).encode())
        payload = _b64(json.dumps(claims, separators=(",", ":")).encode())
        signature = hmac.new(self._secret, f"{header}.{payload}".encode(), hashlib.sha256).digest()
        return f"{header}.{payload}.{_b64(signature)}"

    def verify(self, token: str) -> dict[str, Any] | None:
        """The claims of a token this service issued and that has not expired; None otherwise."""
        found = self.inspect(token)
        return found if isinstance(found, dict) else None

    def inspect(self, token: str) -> dict[str, Any] | str:
        """The claims of a valid token, or the reason it is not valid (never quoting the token)."""
        parts = token.split(".")
        if len(parts) != 3:
            return "The bearer token is not one IAM issued"
        expected = hmac.new(self._secret, f"{parts[0]}.{parts[1]}".encode(), hashlib.sha256).digest()
        try:
            if not hmac.compare_digest(_unb64(parts[2]), expected):
                return "The bearer token is not one IAM issued"
            claims: dict[str, Any] = json.loads(_unb64(parts[1]))
        except ValueError:
            return "The bearer token is not one IAM issued"
        if not isinstance(claims.get("exp"), int) or claims["exp"] <= self.cloud.now():
            return "The bearer token has expired"
        return claims


def _digest(api_key: str) -> str:
    return hashlib.sha256(api_key.encode()).hexdigest()


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def create(cloud: Any) -> IamState:
    return IamState(cloud)


def _error(request: Request, status: int, code: str, message: str) -> Response:
    context = {"requestId": str(uuid.uuid4()), "requestType": "incoming.Identity_Token",
               "userAgent": request.header("User-Agent", ""), "url": request.base_url, "locale": "en_US",
               "clusterName": "iam-fake"}
    return Response.json({"errorCode": code, "errorMessage": message, "context": context}, status)


def handle(state: IamState, request: Request) -> Response:
    if request.path.rstrip("/") != "/identity/token":
        raise NoRoute([])
    if request.method != "POST":
        raise NoRoute(["POST"])
    form = parse_qs(request.body.decode("utf-8", "replace"), keep_blank_values=True)
    grant = (form.get("grant_type") or [""])[0]
    if not grant:
        return _error(request, 400, "BXNIM0109E", "Property missing or empty. Property 'grant_type' is missing.")
    if grant != GRANT_APIKEY:
        return _error(request, 400, "BXNIM0103E", f"Unsupported grant type {grant!r}.")
    api_key = (form.get("apikey") or [""])[0]
    if not api_key:
        return _error(request, 400, "BXNIM0109E", "Property missing or empty. Property 'apikey' is missing.")
    identity = state.identity(api_key)
    if identity is None:
        return _error(request, 400, "BXNIM0415E", "Provided API key could not be found.")
    return Response.json(state.issue(identity, f"{request.base_url}/identity"))
