"""Shared fixtures: a clean environment for every test, and the emulators on port 0.

Nothing a test run writes lands outside its temporary directories: the compiled-baseline cache goes to
a session directory (``XDG_CACHE_HOME``), and Hypothesis keeps no example database in the checkout.

The server is session-scoped (starting it costs a thread and a socket); each test that uses it gets
it reset first, so tests never see each other's state.
"""

from __future__ import annotations

import http.client
import os
import tempfile
from collections.abc import Iterator

import pytest
from hypothesis import settings
from hypothesis.configuration import set_hypothesis_home_dir

from netwarden.fakes.server import FakeServer

settings.register_profile("netwarden", database=None)
settings.load_profile("netwarden")
set_hypothesis_home_dir(tempfile.mkdtemp(prefix="netwarden-hypothesis-"))

#: Variables that would let a developer's real credentials or config leak into a test.
ENVIRONMENT_VARIABLES = {
    "IBMCLOUD_API_KEY", "IC_API_KEY", "KUBECONFIG", "NETWARDEN_CONFIG", "NETWARDEN_BASELINE",
    "NETWARDEN_STATE", "NETWARDEN_REGIONS", "NETWARDEN_VPCS", "NETWARDEN_VPC_URL", "NETWARDEN_IAM_URL",
    "NETWARDEN_REMEDIATION_MODE", "NETWARDEN_MAX_CHANGES", "NETWARDEN_FUNCTION_TOKEN", "SLACK_WEBHOOK_URL",
    "SMTP_PASSWORD", "DRIFT_WEBHOOK_URL", "CE_TYPE", "CE_DATA", "JOB_INDEX", "JOB_ARRAY_SIZE",
    "VPC_URL", "VPC_APIKEY", "VPC_AUTH_URL", "IBM_CREDENTIALS_FILE",
}


@pytest.fixture(scope="session")
def cache_home(tmp_path_factory: pytest.TempPathFactory) -> str:
    return str(tmp_path_factory.mktemp("cache-home"))


@pytest.fixture(autouse=True)
def clean_environ(cache_home: str) -> Iterator[None]:
    """Keep os.environ clean for every test without mocking it."""
    original = os.environ.copy()
    for key in ENVIRONMENT_VARIABLES:
        os.environ.pop(key, None)
    os.environ["XDG_CACHE_HOME"] = cache_home
    yield
    os.environ.clear()
    os.environ.update(original)


@pytest.fixture(scope="session")
def fake_server() -> Iterator[FakeServer]:
    with FakeServer() as server:
        yield server


@pytest.fixture
def fake(fake_server: FakeServer) -> FakeServer:
    """The emulators, reset: empty VPC API, no clusters, no faults, empty logs."""
    fake_server.cloud.reset()
    return fake_server


@pytest.fixture(autouse=True)
def plain_http_client(monkeypatch: pytest.MonkeyPatch) -> None:
    """An IBM SDK service built while DEBUG logging is on turns on http.client's wire dump for the whole
    process, with a print replacement that breaks on the headers list of a 100-continue answer (which
    ibm-cos-sdk's PutObject gets): whatever ran before, every test starts with http.client as shipped."""
    monkeypatch.setattr(http.client.HTTPConnection, "debuglevel", 0)
    monkeypatch.setattr(http.client, "print", print, raising=False)


@pytest.fixture(scope="session")
def moto_url() -> Iterator[str]:
    """moto's S3 server (IBM Cloud Object Storage speaks the S3 API), on port 0, for the session."""
    from moto.server import ThreadedMotoServer

    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    yield f"http://{host}:{port}"
    server.stop()
