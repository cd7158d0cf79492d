"""Connecting to a Kubernetes API server, and the one place its errors become netwarden's.

A cluster is reached from its settings in one of three ways: an explicit ``server`` (with a bearer
token read from the environment variable ``token_env`` names), a kubeconfig file and context, or the
pod's in-cluster service account. ``KubeConnection`` holds the client's ``ApiClient`` and makes each
call through it (``KubeConnection.request``), as the generated API classes would, without them: those
classes and the models they pull in cost more to import than a whole read of a cluster, and the
adapter reads raw JSON anyway. ``translate_kube_errors`` maps ``ApiException`` (its ``Status``
message), urllib3 errors and refused connections to ``core.errors`` with ``raise ... from e``;
``list_all`` reads a collection in chunks of 500 with ``continue``, retrying throttling and server
errors, and starting over once if the snapshot expired.

The ``kubernetes`` package is imported here and in ``adapters.kube`` only, and only when a cluster is
read or written: a ``check`` of a snapshot file, or of VPCs only, and an event never import it.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from netwarden.config import ClusterSettings, secret
from netwarden.core.errors import (
    ConfigError,
    ProviderError,
    ProviderThrottled,
    ProviderUnavailable,
    provider_error_for_status,
)

PAGE_SIZE = 500
TIMEOUT = (5.0, 30.0)  # connect, read (seconds)
ATTEMPTS = 4
MAX_DELAY = 10.0
USER_AGENT = "netwarden/0.1.0"


#: What every call accepts, and the authentication it carries: those of the generated API classes.
ACCEPT = "application/json"
AUTH_SETTINGS = ["BearerToken"]


@dataclass(frozen=True, slots=True)
class KubeConnection:
    """A cluster's name, where it is (for messages, without credentials) and its ``ApiClient``."""

    name: str
    endpoint: str
    api: Any

    def request(self, method: str, path: str, *, params: Mapping[str, str] | None = None,
                query: Sequence[tuple[str, Any]] = (), body: Any = None, content_type: str | None = None,
                timeout: tuple[float, float] | None = None) -> Any:
        """One call, as the generated API method for it makes it: ``{name}`` parts of ``path`` filled
        from ``params`` (quoted), the query in the order given, the configuration's bearer token and the
        client's headers, JSON accepted. Returns the raw urllib3 response (its body not read yet); an
        answer outside 2xx raises ``ApiException``, read, as those methods raise it."""
        from kubernetes.client.exceptions import ApiException

        headers: dict[str, str] = {"Accept": ACCEPT}
        if content_type:
            headers["Content-Type"] = content_type
        request = self.api.param_serialize(method=method, resource_path=path, path_params=dict(params or {}),
                                           query_params=list(query), header_params=headers, body=body,
                                           post_params=[], files={}, auth_settings=AUTH_SETTINGS,
                                           collection_formats={})
        response = self.api.call_api(*request, _request_timeout=timeout)
        if not 200 <= response.status <= 299:
            response.read()
            raise ApiException.from_response(http_resp=response, body=None, data=None)
        return response.response


def connect(cluster: ClusterSettings) -> KubeConnection:
    """A client for ``cluster``; raise ConfigError when its settings cannot make one."""
    from kubernetes import client, config

    where = f"kubernetes.clusters[{cluster.name}]"
    cfg = client.Configuration()
    try:
        if cluster.server:
            cfg.host = cluster.server.rstrip("/")
            if cluster.token_env:
                token = secret(cluster.token_env)
                if token is None:
                    raise ConfigError(f"{where}: environment variable {cluster.token_env} (token_env) is not set")
                cfg.api_key = {"BearerToken": token}
                cfg.api_key_prefix = {"BearerToken": "Bearer"}
            if cluster.ca_file:
                if not Path(cluster.ca_file).is_file():
                    raise ConfigError(f"{where}: ca_file {cluster.ca_file} is not a readable file")
                cfg.ssl_ca_cert = cluster.ca_file
        elif cluster.kubeconfig:
            config.load_kube_config(  # type: ignore[no-untyped-call]
                config_file=cluster.kubeconfig, context=cluster.context, client_configuration=cfg,
                persist_config=False)
        elif cluster.in_cluster:
            config.load_incluster_config(client_configuration=cfg)  # type: ignore[no-untyped-call]
        else:
            raise ConfigError(f"{where}: needs server, kubeconfig or in_cluster: true")
    except config.ConfigException as e:
        source = f"kubeconfig {cluster.kubeconfig}" if cluster.kubeconfig else "in-cluster configuration"
        raise ConfigError(f"{where}: cannot load the {source}: {e}") from e
    except OSError as e:
        raise ConfigError(f"{where}: cannot read kubeconfig {cluster.kubeconfig}: {e.strerror}") from e
    api = client.ApiClient(cfg)
    api.user_agent = USER_AGENT
    return KubeConnection(cluster.name, cfg.host, api)


def _status_message(error: Any) -> str:
    """The ``message`` of a ``Status`` body, else the HTTP reason."""
    try:
        body = json.loads(error.body or "")
    except (TypeError, ValueError):
        body = None
    if isinstance(body, dict) and body.get("message"):
        return str(body["message"])
    return str(error.reason or "request failed")


def _retry_after(error: Any) -> float | None:
    headers = getattr(error, "headers", None) or {}
    value = headers.get("Retry-After") if hasattr(headers, "get") else None
    try:
        return float(value) if value is not None else None
    except ValueError:
        return None


@contextmanager
def translate_kube_errors(endpoint: str) -> Iterator[None]:
    """Turn what the kubernetes client and urllib3 raise into ``core.errors.ProviderError``s."""
    from kubernetes.client.exceptions import ApiException
    from urllib3.exceptions import HTTPError

    try:
        yield
    except ApiException as e:
        if e.status is None or e.status == 0:
            raise ProviderUnavailable(f"cannot connect: {e.reason}", endpoint=endpoint) from e
        cls = provider_error_for_status(e.status)
        raise cls(_status_message(e), endpoint=endpoint, status=e.status, retry_after=_retry_after(e)) from e
    except HTTPError as e:
        reason = getattr(e, "reason", None) or e
        text = str(reason)
        if "Connection refused" in text:
            text = "connection refused"
        raise ProviderUnavailable(f"cannot connect: {text}", endpoint=endpoint) from e
    except OSError as e:
        raise ProviderUnavailable(f"cannot connect: {e.strerror or e}", endpoint=endpoint) from e
    except ValueError as e:
        raise ProviderError(f"not a Kubernetes API response: {e}", endpoint=endpoint) from e


def _retrying(call: Callable[[], Any], endpoint: str, sleep: Callable[[float], None]) -> Any:
    for attempt in range(ATTEMPTS):
        try:
            with translate_kube_errors(endpoint):
                return call()
        except (ProviderThrottled, ProviderUnavailable) as e:
            if attempt == ATTEMPTS - 1 or (e.status is None and "connect" in e.message):
                raise
            sleep(min(MAX_DELAY, e.retry_after if e.retry_after is not None else 0.5 * 2**attempt))
    raise AssertionError("unreachable")


def list_all(conn: KubeConnection, path: str, *,
             sleep: Callable[[float], None] = time.sleep) -> list[dict[str, Any]]:
    """Every item of the collection at ``path`` as plain dicts, read ``PAGE_SIZE`` at a time. A 410 (the
    continue token outlived its snapshot) starts the list over once, so the result stays consistent."""
    endpoint = f"{conn.endpoint}{path}"
    for restart in range(2):
        items: list[dict[str, Any]] = []
        token: str | None = None
        try:
            while True:
                query: list[tuple[str, Any]] = [("continue", token)] if token else []
                query.append(("limit", PAGE_SIZE))
                response = _retrying(lambda q=query: conn.request("GET", path, query=q, timeout=TIMEOUT),  # type: ignore[misc]
                                     endpoint, sleep)
                data = read_json(response, endpoint)
                if not isinstance(data, dict) or not isinstance(data.get("items", []), list):
                    raise ProviderError("not a Kubernetes list response", endpoint=endpoint)
                items += [i for i in data.get("items") or [] if isinstance(i, dict)]
                token = (data.get("metadata") or {}).get("continue") or None
                if token is None:
                    return items
        except ProviderError as e:
            if e.status != 410 or restart:
                raise
    raise AssertionError("unreachable")


def read_json(response: Any, endpoint: str) -> Any:
    """The JSON body of a raw (``_preload_content=False``) response; the connection goes back to the pool."""
    with translate_kube_errors(endpoint):
        try:
            return json.loads(response.data)
        finally:
            response.release_conn()


def call(fn: Callable[[], Any], endpoint: str, *, sleep: Callable[[float], None] = time.sleep) -> Any:
    """One read with the error translation and the retries of ``list_all``."""
    return _retrying(fn, endpoint, sleep)


def write(fn: Callable[[], Any], endpoint: str) -> None:
    """One write (a raw response, drained), errors translated and not retried: whether to retry is the
    remediation's decision."""
    with translate_kube_errors(endpoint):
        response = fn()
        try:
            _ = response.data
        finally:
            response.release_conn()
