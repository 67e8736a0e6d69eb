"""Pausing Python's cyclic garbage collector while a big batch of elements is built.

The thousands of new (acyclic) objects of a big MarkerArray would otherwise
trigger full collections over the whole heap, which tripled the cost of a
10,000-marker array (measured). Reference counting still frees as usual; any
cycle made meanwhile is collected after.
"""

from __future__ import annotations

import gc
from contextlib import contextmanager
from typing import Iterator

# Batches at least this big pause the collector.
GC_PAUSE_BATCH = 256


@contextmanager
def gc_paused(size: int) -> Iterator[None]:
    """Pause the cyclic collector while a batch of about ``size`` elements builds."""
    if size < GC_PAUSE_BATCH or not gc.isenabled():
        yield
        return
    gc.disable()
    try:
        yield
    finally:
        gc.enable()
