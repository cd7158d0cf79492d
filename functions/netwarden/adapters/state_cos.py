"""The state store in IBM Cloud Object Storage (``cos://BUCKET/PREFIX``), through ``ibm-cos-sdk``.

A Code Engine job has no disk that outlives it, so its memory lives in a bucket. COS speaks the S3
API: ``put`` is one PutObject (atomic per object), ``append`` is read, add a line, and write back only
if the object is still the one read (``If-Match`` on its ETag, ``If-None-Match: *`` when it did not
exist), retried on a race. The lock is an object holding a ``lock_record`` (holder, host, PID,
until when), created with ``If-None-Match: *``: the write fails (412) when another run holds it. A
stale lock (the lease ran out, or its holder's process on this host is gone) is taken over with
``If-Match`` on the ETag of the stale record, so of two runs taking it over only one succeeds; a
release deletes with ``If-Match`` on the ETag of our own record, never another run's.

The SDK's PutObject and DeleteObject models have no conditional parameters, so the headers are
added by an event handler on the client, for the one call that asks for them.

Endpoint and credentials come from the environment (never the config file):
``NETWARDEN_COS_ENDPOINT`` (or ``?endpoint=`` in the URL, or ``NETWARDEN_COS_REGION`` / ``?region=``
for the public endpoint of a region); HMAC keys ``COS_HMAC_ACCESS_KEY_ID`` and
``COS_HMAC_SECRET_ACCESS_KEY``, or an IAM API key ``COS_API_KEY`` (falling back to the IBM Cloud API
key) with ``COS_INSTANCE_CRN``.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs, urlsplit

from netwarden.adapters import lock_record
from netwarden.adapters.lock_record import DEFAULT_LOCK_TTL
from netwarden.adapters.state_file import check_key
from netwarden.core.errors import ConfigError, LockHeld, StateError

log = logging.getLogger(__name__)

PUBLIC_ENDPOINT = "https://s3.{region}.cloud-object-storage.appdomain.cloud"
_CONDITION_PARAM = "NetwardenCondition"
_APPEND_ATTEMPTS = 5


@dataclass(frozen=True, slots=True)
class CosLocation:
    bucket: str
    prefix: str
    endpoint: str


def parse_url(url: str, environ: Mapping[str, str]) -> CosLocation:
    """``cos://bucket/some/prefix?endpoint=https://...`` -> bucket, prefix and endpoint."""
    parts = urlsplit(url)
    if parts.scheme != "cos" or not parts.netloc:
        raise ConfigError(f"{url}: expected cos://BUCKET/PREFIX")
    query = {k: v[0] for k, v in parse_qs(parts.query).items()}
    endpoint = environ.get("NETWARDEN_COS_ENDPOINT") or query.get("endpoint")
    region = environ.get("NETWARDEN_COS_REGION") or query.get("region")
    if not endpoint and region:
        endpoint = PUBLIC_ENDPOINT.format(region=region)
    if not endpoint:
        raise ConfigError(f"{parts.scheme}://{parts.netloc}{parts.path}: no COS endpoint; set NETWARDEN_COS_ENDPOINT "
                          "(or NETWARDEN_COS_REGION for the public endpoint of a region)")
    return CosLocation(parts.netloc, parts.path.strip("/"), endpoint.rstrip("/"))


class CosStateStore:
    """``StateStore`` on a COS bucket and key prefix."""

    def __init__(self, client: Any, bucket: str, prefix: str = "", *, endpoint: str = "",
                 lock_ttl: float = DEFAULT_LOCK_TTL, clock: Callable[[], float] = time.time) -> None:
        self._client = client
        self.bucket = bucket
        self.prefix = prefix.strip("/")
        self.endpoint = endpoint
        self.lock_ttl = lock_ttl
        self._clock = clock
        self._process = lock_record.this_process()
        self._alive = lock_record.pid_alive
        events = client.meta.events
        for op in ("PutObject", "DeleteObject"):
            events.register(f"provide-client-params.s3.{op}", _take_condition, unique_id=f"netwarden-cond-take-{op}")
            events.register(f"before-call.s3.{op}", _add_condition_header, unique_id=f"netwarden-cond-header-{op}")

    @classmethod
    def from_url(cls, url: str, *, environ: Mapping[str, str], iam_url: str = "https://iam.cloud.ibm.com",
                 api_key_env: str = "IBMCLOUD_API_KEY", lock_ttl: float = DEFAULT_LOCK_TTL) -> CosStateStore:
        where = parse_url(url, environ)
        import ibm_boto3
        from ibm_botocore.client import Config

        timeouts: dict[str, Any] = {"connect_timeout": 10, "read_timeout": 30, "retries": {"max_attempts": 3}}
        access, secret = environ.get("COS_HMAC_ACCESS_KEY_ID"), environ.get("COS_HMAC_SECRET_ACCESS_KEY")
        api_key = environ.get("COS_API_KEY") or environ.get(api_key_env)
        if access and secret:
            client = ibm_boto3.client("s3", aws_access_key_id=access, aws_secret_access_key=secret,
                                      endpoint_url=where.endpoint, config=Config(signature_version="s3v4", **timeouts))
        elif api_key:
            client = ibm_boto3.client("s3", ibm_api_key_id=api_key,
                                      ibm_service_instance_id=environ.get("COS_INSTANCE_CRN"),
                                      ibm_auth_endpoint=f"{iam_url.rstrip('/')}/identity/token",
                                      endpoint_url=where.endpoint, config=Config(signature_version="oauth", **timeouts))
        else:
            raise ConfigError(f"cos://{where.bucket}: no COS credentials; set COS_HMAC_ACCESS_KEY_ID and "
                              f"COS_HMAC_SECRET_ACCESS_KEY, or COS_API_KEY (or {api_key_env})")
        return cls(client, where.bucket, where.prefix, endpoint=where.endpoint, lock_ttl=lock_ttl)

    def __repr__(self) -> str:
        return f"CosStateStore('cos://{self.bucket}/{self.prefix}')"

    def _key(self, key: str) -> str:
        key = check_key(key)
        return f"{self.prefix}/{key}" if self.prefix else key

    def _where(self, key: str) -> str:
        return f"cos://{self.bucket}/{self._key(key)}"

    # --- the port ---------------------------------------------------------------------------------
    def get(self, key: str) -> bytes | None:
        found = self._get(key)
        return found[0] if found else None

    def put(self, key: str, data: bytes) -> None:
        self._put(key, data)

    def append(self, key: str, line: bytes) -> None:
        data = line if line.endswith(b"\n") else line + b"\n"
        for _ in range(_APPEND_ATTEMPTS):
            found = self._get(key)
            condition = ("If-Match", found[1]) if found else ("If-None-Match", "*")
            if self._put(key, (found[0] if found else b"") + data, condition=condition):
                return
        raise StateError(f"{self._where(key)}: cannot append: the object kept changing under this run")

    def delete(self, key: str) -> None:
        with self._errors(self._where(key)):
            self._client.delete_object(Bucket=self.bucket, Key=self._key(key))

    def keys(self, prefix: str = "") -> Iterator[str]:
        base = f"{self.prefix}/" if self.prefix else ""
        found: list[str] = []
        with self._errors(f"cos://{self.bucket}/{base}{prefix}"):
            for page in self._client.get_paginator("list_objects_v2").paginate(Bucket=self.bucket,
                                                                                  Prefix=base + prefix):
                found.extend(o["Key"][len(base):] for o in page.get("Contents", []))
        yield from sorted(found)

    @contextmanager
    def lock(self, name: str, owner: str) -> Iterator[None]:
        key = f"locks/{name}.lock"
        etag = self._acquire(key, name, owner)
        try:
            yield
        finally:
            self._release(key, etag)

    # --- internals --------------------------------------------------------------------------------
    def _acquire(self, key: str, name: str, owner: str) -> str:
        """Take the lock; the ETag of our record, for a release that removes only that."""
        record = lock_record.encode(lock_record.new(owner, self._process, now=self._clock(), ttl=self.lock_ttl))
        for _ in range(2):
            if self._put(key, record, condition=("If-None-Match", "*")):
                return self._confirm(key, name, record)
            found = self._get(key)
            if found is None:  # released between our write and our read: try once more
                continue
            data, etag, written_at = found
            held = lock_record.decode(data)
            reason = lock_record.stale_reason(held, now=self._clock(), written_at=written_at, ttl=self.lock_ttl,
                                              here=self._process, alive=self._alive)
            if reason is None:
                raise LockHeld(lock_record.refusal(name, held, written_at=written_at, ttl=self.lock_ttl))
            if not self._put(key, record, condition=("If-Match", etag)):
                raise LockHeld(f"lock {name!r} was taken by another run while this one took over a stale one")
            log.warning("%s", lock_record.takeover_line(name, held, reason))
            return self._confirm(key, name, record)
        raise LockHeld(f"lock {name!r} is held by another run (it came and went twice while this one looked)")

    def _confirm(self, key: str, name: str, record: bytes) -> str:
        """Read the lock back: an endpoint that ignored the condition would show another record."""
        found = self._get(key)
        if found is None or found[0] != record:
            held = lock_record.decode(found[0]) if found else None
            raise LockHeld(f"lock {name!r} is held by {held.describe() if held else 'another run'}")
        return found[1]

    def _release(self, key: str, etag: str) -> None:
        """Delete the lock if it is still our record (``If-Match`` on its ETag): never another run's."""
        from ibm_botocore.exceptions import ClientError

        found = self._get(key)
        if found is None or found[1] != etag:
            return
        try:
            with self._errors(self._where(key), passthrough=ClientError):
                self._client.delete_object(Bucket=self.bucket, Key=self._key(key),
                                           **{_CONDITION_PARAM: ("If-Match", etag)})
        except ClientError as e:
            if _status(e) not in (404, 412):  # gone already, or no longer ours
                raise _translate(e, self._where(key)) from e

    def _get(self, key: str) -> tuple[bytes, str, float] | None:
        """The object's content, ETag and Last-Modified (epoch seconds), or None when there is none."""
        from ibm_botocore.exceptions import ClientError

        try:
            with self._errors(self._where(key), passthrough=ClientError):
                response = self._client.get_object(Bucket=self.bucket, Key=self._key(key))
                modified = response.get("LastModified")
                return (bytes(response["Body"].read()), str(response.get("ETag", "")),
                        modified.timestamp() if modified is not None else 0.0)
        except ClientError as e:
            if _code(e) in ("NoSuchKey", "404"):
                return None
            raise _translate(e, self._where(key)) from e

    def _put(self, key: str, data: bytes, *, condition: tuple[str, str] | None = None) -> bool:
        """Write; False when a condition was given and did not hold (412, or 409 for a concurrent write)."""
        from ibm_botocore.exceptions import ClientError

        params: dict[str, Any] = {"Bucket": self.bucket, "Key": self._key(key), "Body": data}
        if condition is not None:
            params[_CONDITION_PARAM] = condition
        try:
            with self._errors(self._where(key), passthrough=ClientError):
                self._client.put_object(**params)
            return True
        except ClientError as e:
            if condition is not None and _status(e) in (409, 412):
                return False
            raise _translate(e, self._where(key)) from e

    @contextmanager
    def _errors(self, where: str, passthrough: type[Exception] | None = None) -> Iterator[None]:
        from ibm_botocore.exceptions import BotoCoreError, ClientError

        try:
            yield
        except ClientError as e:
            if passthrough is not None and isinstance(e, passthrough):
                raise
            raise _translate(e, where) from e
        except BotoCoreError as e:
            raise StateError(f"{where}: {self.endpoint or 'COS'} unreachable or refused: {e.__class__.__name__}") from e


def _code(e: Any) -> str:
    return str(e.response.get("Error", {}).get("Code", ""))


def _status(e: Any) -> int:
    return int(e.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0) or 0)


def _translate(e: Any, where: str) -> StateError:
    code, status = _code(e), _status(e)
    if code == "NoSuchBucket":
        return StateError(f"{where}: the bucket does not exist")
    if status in (401, 403):
        return StateError(f"{where}: access denied ({code or status}); check the COS credentials and their role")
    return StateError(f"{where}: {code or 'error'} (HTTP {status})")


def _take_condition(params: dict[str, Any], context: dict[str, Any], **_: Any) -> None:
    """Move our conditional-write parameter out of the API parameters, into the request context."""
    condition = params.pop(_CONDITION_PARAM, None)
    if condition is not None:
        context["netwarden_condition"] = condition


def _add_condition_header(params: dict[str, Any], context: dict[str, Any], **_: Any) -> None:
    condition = context.get("netwarden_condition")
    if condition is not None:
        header, value = condition
        params["headers"][header] = value
