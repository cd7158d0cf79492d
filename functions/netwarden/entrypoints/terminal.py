"""What the CLI knows about where its output goes: a terminal's width, whether to colour, and a
progress line for a slow read.

On a terminal: the width it has (``COLUMNS`` first, as shells set it), colour unless ``NO_COLOR``
(https://no-color.org) or ``--no-color``, and a progress line on stderr once a read has taken more
than a second, rewritten in place and erased when it ends. Anywhere else (a pipe, a file, CI): 80
columns, no colour, no progress: plain and stable output.
"""

from __future__ import annotations

import os
import shutil
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TextIO

PLAIN_WIDTH = 80
#: A read shorter than this shows no progress at all.
PROGRESS_AFTER = 1.0


def is_tty(stream: TextIO) -> bool:
    try:
        return stream.isatty()
    except (AttributeError, ValueError):
        return False


def width(stream: TextIO | None = None) -> int:
    """The columns to fill: on a terminal its width (``COLUMNS`` first), elsewhere ``PLAIN_WIDTH``."""
    if not is_tty(stream or sys.stdout):
        return PLAIN_WIDTH
    columns = os.environ.get("COLUMNS", "").strip()
    return int(columns) if columns.isdigit() and int(columns) > 0 else shutil.get_terminal_size().columns


def color(no_color: bool = False, stream: TextIO | None = None) -> bool:
    return not no_color and not os.environ.get("NO_COLOR") and is_tty(stream or sys.stdout)


@contextmanager
def progress(what: str, stream: TextIO | None = None) -> Iterator[None]:
    """``what``, with the seconds it has taken, on stderr while the block runs longer than a second."""
    out = stream or sys.stderr
    if not is_tty(out):
        yield
        return
    done = threading.Event()
    started = time.monotonic()
    shown = threading.Event()

    def show() -> None:
        while not done.wait(PROGRESS_AFTER if not shown.is_set() else 0.5):
            out.write(f"\r{what}... {time.monotonic() - started:.0f}s\x1b[K")
            out.flush()
            shown.set()

    thread = threading.Thread(target=show, name="progress", daemon=True)
    thread.start()
    try:
        yield
    finally:
        done.set()
        thread.join()
        if shown.is_set():
            out.write("\r\x1b[K")
            out.flush()
