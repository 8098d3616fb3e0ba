"""Per-instance caches keyed by what callers send (a symbol, a client_order_id) stay bounded:
an instance serves many tenants for hours, and a flood of made-up symbols must cost a few
refetches, not its memory."""

from __future__ import annotations

from typing import TypeVar

K = TypeVar("K")
V = TypeVar("V")

# Far more symbols than an instance trades in an hour; at a few kB an entry, a few tens of MB.
MAX_CACHED = 5_000


def put_bounded(store: dict[K, V], key: K, value: V, limit: int = MAX_CACHED) -> None:
    """Set `key` as the newest entry and drop the oldest past `limit`. Call it under the
    owner's lock; reads with `store.get` need none (they never see a half-made entry)."""
    store.pop(key, None)
    store[key] = value
    while len(store) > limit:
        del store[next(iter(store))]
