"""Log output of a run: JSON lines with the ``extra`` fields, progress lines for a terminal, and secrets
masked in both (``adapters.delivery``)."""

from __future__ import annotations

import io
import json
import logging

import pytest

from netwarden.adapters import delivery
from netwarden.entrypoints import logs


@pytest.mark.parametrize(("secret", "parts"), [
    ("https://hooks.slack.com/services/T000/B000/XXXXXXXXXXXX",
     {"https://hooks.slack.com/services/T000/B000/XXXXXXXXXXXX", "/services/T000/B000/XXXXXXXXXXXX",
      "XXXXXXXXXXXX"}),
    ("https://user:pa55word-long@example.com/hook?token=abcdefgh",
     {"https://user:pa55word-long@example.com/hook?token=abcdefgh", "/hook?token=abcdefgh", "token=abcdefgh",
      "pa55word-long"}),
    ("plain-password", {"plain-password"}),
])
def test_secret_parts(secret: str, parts: set[str]) -> None:
    assert delivery.secret_parts(secret) == parts


@pytest.mark.parametrize(("text", "expected"), [
    ('send: b"POST /services/T9/B9/l0gSecretValue HTTP/1.1"', 'send: b"POST *** HTTP/1.1"'),
    ("Authorization: Bearer eyJhbGciOi.eyJleHAiOjF9.c2ln", "Authorization: Bearer ***"),
    ("grant_type=urn&apikey=my-key-123&response_type=cloud_iam", "grant_type=urn&apikey=***&response_type=cloud_iam"),
    ("nothing secret here", "nothing secret here"),
])
def test_redact(text: str, expected: str) -> None:
    delivery.protect("https://hooks.example.com/services/T9/B9/l0gSecretValue")
    assert delivery.redact(text) == expected


def test_log_records_are_masked_when_made(caplog: pytest.LogCaptureFixture) -> None:
    delivery.protect("https://hooks.example.com/in/rec0rdSecret99")
    caplog.set_level(logging.DEBUG)
    logging.getLogger("urllib3.connectionpool").debug('%s "%s %s"', "http://h:1", "POST", "/in/rec0rdSecret99")
    assert caplog.records[-1].getMessage() == 'http://h:1 "POST ***"'


def emit(formatter: logging.Formatter, level: int, message: str, **extra: object) -> str:
    record = logging.getLogger("netwarden.app.scan").makeRecord(
        "netwarden.app.scan", level, __file__, 1, message, (), None, extra=extra)
    return formatter.format(record)


def test_json_lines_carry_extra_fields() -> None:
    line = json.loads(emit(logs.JsonFormatter(), logging.INFO, "slack: 2 alert(s) sent", run_id="r1", channel="slack"))
    assert line["message"] == "slack: 2 alert(s) sent"
    assert (line["level"], line["logger"], line["run_id"], line["channel"]) == ("info", "netwarden.app.scan", "r1",
                                                                                "slack")
    assert line["time"].endswith("Z")


@pytest.mark.parametrize(("level", "prefix"), [(logging.INFO, ""), (logging.WARNING, "warning: "),
                                               (logging.ERROR, "error: ")])
def test_progress_lines(level: int, prefix: str) -> None:
    text = emit(logs.ProgressFormatter(), level, "scan r1: drift")
    time_part, _, rest = text.partition(" ")
    assert len(time_part) == 8 and rest == f"{prefix}scan r1: drift"


class Tty(io.StringIO):
    def isatty(self) -> bool:
        return True


@pytest.mark.parametrize(("stream", "formatter"), [(io.StringIO(), logs.JsonFormatter),
                                                   (Tty(), logs.ProgressFormatter)])
def test_configure_picks_the_format_for_the_stream(stream: io.StringIO, formatter: type) -> None:
    root = logging.getLogger()
    saved, level = list(root.handlers), root.level
    try:
        logs.configure(stream, force=True)
        assert isinstance(root.handlers[-1].formatter, formatter)
    finally:
        root.handlers[:] = saved
        root.setLevel(level)
