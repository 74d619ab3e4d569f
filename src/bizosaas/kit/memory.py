"""Garbage-collector tuning for server processes.

CPython's cyclic collector runs its youngest generation every 700 net allocations and each
run walks every young object still alive. A server with a thousand requests in flight keeps
tens of thousands of such objects alive (coroutines, scopes, header lists, futures), so at the
default threshold it spends a large share of its time rescanning them. Two measures, applied
once when a server process has built its app:

* a higher young-generation threshold (`BIZOSAAS_GC_YOUNG_THRESHOLD`), so each collection
  frees more per object it walks;
* `gc.freeze()` of what exists after start-up (modules, routes, settings): those objects live
  as long as the process, and full collections stop walking them.

Reference counting still frees almost everything at once; only cyclic garbage waits longer,
a few megabytes at most.
"""

from __future__ import annotations

import gc

MIDDLE_GENERATION_THRESHOLD = 50
OLD_GENERATION_THRESHOLD = 100


def tune_for_server(young_threshold: int) -> None:
    """Apply the server's collector settings; `young_threshold` 0 keeps Python's own."""
    if young_threshold > 0:
        gc.set_threshold(young_threshold, MIDDLE_GENERATION_THRESHOLD, OLD_GENERATION_THRESHOLD)
    gc.collect()
    gc.freeze()
