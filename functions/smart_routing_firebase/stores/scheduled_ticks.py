"""A scheduled tick's own documents, under scheduled_ticks/{tick id}:

- the tick itself: when its tasks were all enqueued and how the fan-out went, so a tick
  delivered again enqueues nothing (whatever the queue still remembers of its task ids);
- quotes/{source~class~symbol}: the quotes the tick fetched once, one request per venue source
  and asset class, which its tasks share; a task that finds one older than the quote age the
  router accepts fetches it again and stores it for the tasks after it;
- runs/{task id}: each task's deliveries and how the last one ended.

Every document carries `expire_at`, for a Firestore TTL policy to delete (docs/deploy.md).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from google.cloud import firestore
from google.cloud.firestore import Client

from smart_routing.domain.assets import AssetClass
from smart_routing.domain.identifiers import check_id, symbol_key
from smart_routing.market.quotes import Quote

TICKS = "scheduled_ticks"
RETAINED = timedelta(days=2)
_BATCH = 400  # writes per batch (Firestore allows 500)

# (venue source name, asset class, symbol): one quote a tick shares.
QuoteKey = tuple[str, AssetClass, str]


def tick_id(tick: datetime) -> str:
    """The tick as a document id: its UTC time to the second."""
    return tick.strftime("%Y%m%dT%H%M%SZ")


def tick_path(tick: str) -> str:
    return f"{TICKS}/{check_id(tick, 'tick id')}"


def quote_path(tick: str, key: QuoteKey) -> str:
    source, asset_class, symbol = key
    doc_id = check_id(f"{source}~{asset_class.value}~{symbol_key(symbol)}", "quote key")
    return f"{tick_path(tick)}/quotes/{doc_id}"


def run_path(tick: str, task_id: str) -> str:
    return f"{tick_path(tick)}/runs/{check_id(task_id, 'task id')}"


def fanned_out(db: Client, tick: str) -> bool:
    """Whether every task of the tick has been enqueued."""
    snapshot = db.document(tick_path(tick)).get()
    return snapshot.exists and snapshot.get("fanned_out_at") is not None


def mark_fanned_out(db: Client, tick: str, at: datetime, counts: Mapping[str, int]) -> None:
    db.document(tick_path(tick)).set(
        {"fanned_out_at": at, "counts": dict(counts), "expire_at": at + RETAINED}, merge=True
    )


def save_quotes(
    db: Client, tick: str, quotes: Mapping[QuoteKey, Quote | None], fetched_at: datetime
) -> None:
    """The quotes as fetched at `fetched_at` (None: the venue had none for the symbol)."""
    items = list(quotes.items())
    for start in range(0, len(items), _BATCH):
        batch = db.batch()
        for key, quote in items[start : start + _BATCH]:
            batch.set(db.document(quote_path(tick, key)), _quote_document(key, quote, fetched_at))
        batch.commit()


def load_quotes(
    db: Client, tick: str, keys: Iterable[QuoteKey]
) -> dict[QuoteKey, tuple[datetime, Quote | None]]:
    """The stored quotes of `keys` that the tick has, each with when it was fetched."""
    by_path = {quote_path(tick, key): key for key in keys}
    found: dict[QuoteKey, tuple[datetime, Quote | None]] = {}
    refs = [db.document(path) for path in by_path]
    for snapshot in db.get_all(refs) if refs else []:
        if snapshot.exists:
            data = snapshot.to_dict() or {}
            quote = data.get("quote")
            found[by_path[snapshot.reference.path]] = (
                data["fetched_at"],
                Quote.model_validate(quote) if quote is not None else None,
            )
    return found


def record_run(
    db: Client, tick: str, task_id: str, config_path: str, outcome: Mapping[str, int],
    at: datetime,
) -> None:  # fmt: skip
    """One more delivery of the task, and what it did."""
    record = {"config": config_path, "runs": firestore.Increment(1),
              "last_outcome": dict(outcome), "last_run_at": at,
              "expire_at": at + RETAINED}  # fmt: skip
    # Merged by field, not merge=True: that would merge last_outcome with the delivery before.
    # The client takes a list of fields (its docstring), though its hint says bool.
    db.document(run_path(tick, task_id)).set(record, merge=list(record))  # type: ignore[arg-type]


def _quote_document(key: QuoteKey, quote: Quote | None, fetched_at: datetime) -> dict[str, Any]:
    source, asset_class, symbol = key
    stored = None
    if quote is not None:  # prices as exact decimal text: the number read back is the same
        stored = {
            name: str(value) if isinstance(value, Decimal) else value
            for name, value in quote.model_dump().items()
        }
    return {"source": source, "asset_class": asset_class.value, "symbol": symbol,
            "quote": stored, "fetched_at": fetched_at,
            "expire_at": fetched_at + RETAINED}  # fmt: skip
