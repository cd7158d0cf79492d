"""Log output for runs that report as they go (``scan``, the Code Engine job): one JSON object per line
when stderr is not a terminal (Code Engine and log collectors parse them), short progress lines when
a person is watching.

The JSON line holds ``time``, ``level``, ``logger``, ``message`` and whatever the code passed in
``extra`` (``run_id``, ``channel``, ``status``...). Secrets the notifiers registered are already masked
when a record is made (``adapters.delivery``); a traceback is masked here before it is written.
"""

from __future__ import annotations

import json
import logging
import sys
from datetime import UTC, datetime
from typing import Any, TextIO

from netwarden.adapters.delivery import redact

#: The attributes every LogRecord has; anything else on a record came from ``extra``.
_STANDARD = set(vars(logging.LogRecord("", 0, "", 0, "", (), None))) | {"message", "asctime", "taskName"}


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        data: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds").replace(
                "+00:00", "Z"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        for key, value in vars(record).items():
            if key not in _STANDARD and not key.startswith("_"):
                data[key] = value if isinstance(value, (str, int, float, bool, type(None), list, dict)) else str(value)
        if record.exc_info:
            data["exception"] = redact(self.formatException(record.exc_info))
        return json.dumps(data, default=str, ensure_ascii=False)


class ProgressFormatter(logging.Formatter):
    """``10:00:01 snapshot: 3 VPC(s)...``, with the level in front of warnings and errors."""

    def __init__(self) -> None:
        super().__init__("%(asctime)s %(message)s", datefmt="%H:%M:%S")

    def format(self, record: logging.LogRecord) -> str:
        text = super().format(record)
        if record.levelno >= logging.WARNING:
            time_part, _, rest = text.partition(" ")
            text = f"{time_part} {record.levelname.lower()}: {rest}"
        return redact(text)


def configure(stream: TextIO | None = None, *, level: int = logging.INFO, force: bool = False) -> None:
    """Send netwarden's logs to ``stream`` (stderr): JSON lines, or progress lines on a terminal. Leaves
    logging alone when the process already configured it (unless ``force``)."""
    root = logging.getLogger()
    if root.handlers and not force:
        return
    out = stream if stream is not None else sys.stderr
    handler = logging.StreamHandler(out)
    handler.setFormatter(ProgressFormatter() if _is_tty(out) else JsonFormatter())
    for old in list(root.handlers) if force else []:
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(level)


def _is_tty(stream: TextIO) -> bool:
    try:
        return stream.isatty()
    except (AttributeError, ValueError):
        return False
