"""Where the CLI's output goes: a terminal gets its width, colour and a progress line for a slow read;
a pipe gets 80 columns, plain text and no progress; the terminal renderer wraps without breaking words."""

from __future__ import annotations

import io
import time

import pytest

from netwarden.core.wrap import wrap
from netwarden.entrypoints import terminal


class Tty(io.StringIO):
    def isatty(self) -> bool:
        return True


@pytest.mark.parametrize(("stream", "env", "width", "color"), [
    (io.StringIO(), {"COLUMNS": "132"}, 80, False),
    (Tty(), {"COLUMNS": "132"}, 132, True),
    (Tty(), {"COLUMNS": "132", "NO_COLOR": "1"}, 132, False),
])
def test_width_and_colour_follow_the_stream(monkeypatch: pytest.MonkeyPatch, stream: io.StringIO,
                                            env: dict[str, str], width: int, color: bool) -> None:
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    assert (terminal.width(stream), terminal.color(False, stream), terminal.color(True, stream)) == \
        (width, color, False)


def test_a_slow_read_shows_progress_on_a_terminal_and_erases_it(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(terminal, "PROGRESS_AFTER", 0.05)
    tty, pipe = Tty(), io.StringIO()
    with terminal.progress("reading the live state", tty):
        time.sleep(0.3)
    with terminal.progress("reading the live state", pipe):
        time.sleep(0.3)
    assert "\rreading the live state... 0s" in tty.getvalue() and tty.getvalue().endswith("\r\x1b[K")
    assert pipe.getvalue() == ""
    fast = Tty()
    with terminal.progress("reading the live state", fast):
        pass
    assert fast.getvalue() == ""


@pytest.mark.parametrize(("said", "width"), [
    ("one two three four five six seven eight nine ten eleven twelve thirteen", 30),
    ("a path us-south/iks-vpc/iks-cluster-us-south-1-acl/allow-workers-us-south-2-inbound that is long", 40),
    ("nothing-to-split-in-this-very-long-token-at-all-whatsoever-none-at-all short", 40),
])
def test_wrapping_keeps_words_whole_and_lines_within_the_width(said: str, width: int) -> None:
    lines = wrap(said, width, "  ", "    ")
    for line in lines:
        assert len(line) <= width or " " not in line.strip(), line
    joined = "".join(line.strip() + ("" if line.endswith("/") else " ") for line in lines).strip()
    assert joined == said
