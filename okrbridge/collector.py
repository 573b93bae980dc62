"""Pausing Python's cyclic garbage collector around work that builds many objects that all survive."""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def collector_paused() -> Iterator[None]:
    """Run the block with the cyclic garbage collector paused (as it was, after).

    Why: the collector runs every few hundred allocations and, every so often, scans every
    container alive. A block that builds tens of thousands of objects that all outlive it (a
    10,000-KR catalog decoded, a report's grades) only makes it scan the same survivors again and
    again — a sixth of `grades`' time at 10,000 KRs, a third of `--nested`'s. Reference counting
    still frees everything that is not in a cycle, and the data built here holds none; the
    collector is on again after the block, so a long-running caller collects any cycle later.
    """
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()
