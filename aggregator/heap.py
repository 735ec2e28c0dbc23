"""How our long-lived processes treat Python's garbage collector.

With CPython's default young-generation threshold (700), a 5,000-article ingest collected 2,800
times in the daemon process and 23 times in full (each full pass holding the GIL for about
120 ms): 4.6 s in collections against 41 s of the process's CPU. An extraction worker spent
0.45-0.52 ms a page in the collector, 4-5 % of its CPU. Nearly everything a page allocates is
freed by reference counting long before a collection could find it, and start-up's objects
(modules, the crawler process, the database engine, the language model) live for the whole
process. docs/benchmarks.md has the figures.
"""

from __future__ import annotations

import gc

THRESHOLDS = (10_000, 10, 10)  # young generation, then the two older ones (default 700, 10, 10)


def settle() -> None:
    """Leave the objects alive now out of every later collection, and collect the young
    generation less often (the threshold counts tracked objects allocated and not yet freed).
    Cycles made later are still found, in bigger batches. A full collection runs first, so
    nothing frozen is garbage then; a frozen object that later becomes part of an unreachable
    cycle is never freed, so call this once, when start-up is done, before any object that
    comes and goes."""
    gc.collect()
    gc.freeze()
    gc.set_threshold(*THRESHOLDS)
