"""The cyclic garbage collector paused around work that allocates millions of objects and no cycles.

Decoding a large snapshot and the impact analysis each build hundreds of thousands of tuples and
records beside an estate already loaded; reference counting frees what they drop, and with the
collector on, its full passes over everything alive cost more than the work itself (about 60% of the
impact analysis on the 100% account of ``benchmarks/scale.py``).
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def paused() -> Iterator[None]:
    """The collector off for the block, and back as it was after it, whatever happens inside."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()
