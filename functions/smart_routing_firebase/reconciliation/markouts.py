"""The 5-minute markout of each ledger trade, taken by the reconciler's runs (docs/tca.md).

markout_5m_pct = side * (mid 5 minutes after the fill - fill price) / fill price. No venue
here serves historical quotes, so the mid is the quote of the first reconciler run at least
5 minutes after the fill, taken only while that run is at most `TOLERANCE` late (a run a
minute: the quote is 5 to 8 minutes after the fill); a trade whose window passed unmeasured
(the reconciler was down, the fill was recorded late) gets no markout rather than a wrong one.

Ledger trades are never updated, so the markout is its own document beside the trade,
tenants/{t}/ledger_trades/{trade_id}/markouts/5m, created once (create(): a second run, or a
concurrent one, finds it there). The same commit adds `markout_5m_pct` to the owner's history
record, which the mirror has written minutes before; where it has not (the mirror rejected
the trade), the markout document alone is written.
"""

from __future__ import annotations

import contextlib
from collections import Counter
from datetime import UTC, datetime, timedelta
from typing import Any

from google.api_core.exceptions import AlreadyExists, Conflict
from google.cloud.firestore import Client
from google.cloud.firestore_v1.base_query import FieldFilter

from smart_routing import logs
from smart_routing.domain.assets import AssetClass
from smart_routing.domain.money import to_decimal
from smart_routing.domain.slippage import markout_pct
from smart_routing.gate.policy import RoutingPolicy
from smart_routing.market.quotes import Quote, quote_problem
from smart_routing.ports import MarketDataProvider
from smart_routing_firebase.stores import paths

HORIZON = timedelta(minutes=5)
HORIZON_NAME = "5m"
FIELD = "markout_5m_pct"
TOLERANCE = timedelta(minutes=3)
BATCH_TRADES = 200  # two writes a trade, under Firestore's 500 per batch


def record_markouts(
    db: Client, market_data: MarketDataProvider, now: datetime, max_quote_age_s: float
) -> Counter[str]:
    """Markouts for the trades filled between `HORIZON + TOLERANCE` and `HORIZON` ago."""
    tally: Counter[str] = Counter()
    due = _due_trades(db, now)
    if not due:
        return tally
    markout_refs = [db.document(_markout_path(s)) for s in due]
    taken = {m.reference.parent.parent.path for m in db.get_all(markout_refs) if m.exists}
    todo = [s for s in due if s.reference.path not in taken]
    tally["already_taken"] += len(due) - len(todo)
    quotes = _quotes(market_data, todo, now, max_quote_age_s)
    writes = []
    for snapshot in todo:
        trade = snapshot.to_dict()
        quote = quotes.get((trade["symbol"], trade["asset_class"]))
        if quote is None:
            tally["no_quote"] += 1
            continue
        writes.append((snapshot, _markout_document(trade, quote, now)))
    for start in range(0, len(writes), BATCH_TRADES):
        tally.update(_write(db, writes[start : start + BATCH_TRADES]))
    return tally


def _due_trades(db: Client, now: datetime) -> list[Any]:
    query = (
        db.collection_group("ledger_trades")
        .where(filter=FieldFilter("timestamp", ">=", now - HORIZON - TOLERANCE))
        .where(filter=FieldFilter("timestamp", "<=", now - HORIZON))
    )
    return [s for s in query.stream() if s.reference.path.startswith("tenants/")]


def _markout_path(snapshot: Any) -> str:
    tenant_id = snapshot.reference.parent.parent.id
    return paths.markout(tenant_id, snapshot.id, HORIZON_NAME)


def _quotes(
    market_data: MarketDataProvider, trades: list[Any], now: datetime, max_age_s: float
) -> dict[tuple[str, str], Quote]:
    """The usable quote of each symbol now, fetched once a symbol (batched where the venue
    batches); a symbol without one is left out."""
    wanted = {(s.get("symbol"), s.get("asset_class")) for s in trades}
    instruments = [(symbol, AssetClass(asset_class)) for symbol, asset_class in wanted]
    with contextlib.suppress(Exception):  # each symbol's own fetch says what is wrong
        market_data.prefetch(instruments)
    found = {}
    for symbol, asset_class in instruments:
        try:
            quote = market_data.get_quote(symbol, asset_class)
        except Exception as exc:  # no quote now: this run takes no markout for it
            logs.log_event(logs.LogEvent.MARKOUT_SUMMARY, severity="WARNING", symbol=symbol,
                           error=logs.redact(f"{type(exc).__name__}: {exc}"))  # fmt: skip
            continue
        if quote is not None and quote_problem(quote, now, max_age_s) is None:
            found[(symbol, asset_class.value)] = quote
    return found


def _markout_document(trade: dict[str, Any], quote: Quote, now: datetime) -> dict[str, Any]:
    price = to_decimal(trade["price"], "price")
    value = markout_pct(trade["side"], price, quote.mid)
    return {
        FIELD: float(value),
        "horizon_s": int(HORIZON.total_seconds()),
        "mid": float(quote.mid),
        "quote_as_of": quote.as_of,
        "taken_at": now,
        "fill_price": trade["price"],
        "filled_at": trade["timestamp"],
        "trade_id": trade["trade_id"],
        "uid": trade["uid"],
    }


def _write(db: Client, writes: list[tuple[Any, dict[str, Any]]]) -> Counter[str]:
    """The markouts and their history fields in one batch; when another run created one of
    them first, each trade in its own batch (the one taken already is skipped)."""
    history = {
        s.reference.path: db.document(paths.history_trade(s.get("uid"), s.id)) for s, _ in writes
    }
    mirrored = {h.reference.path for h in db.get_all(list(history.values())) if h.exists}

    def stage(batch: Any, snapshot: Any, document: dict[str, Any]) -> None:
        batch.create(db.document(_markout_path(snapshot)), document)
        ref = history[snapshot.reference.path]
        if ref.path in mirrored:
            batch.update(ref, {FIELD: document[FIELD]})

    batch = db.batch()
    for snapshot, document in writes:
        stage(batch, snapshot, document)
    try:
        batch.commit()
        return Counter(taken=len(writes))
    except (AlreadyExists, Conflict):
        pass
    tally: Counter[str] = Counter()
    for snapshot, document in writes:
        single = db.batch()
        stage(single, snapshot, document)
        try:
            single.commit()
            tally["taken"] += 1
        except (AlreadyExists, Conflict):
            tally["already_taken"] += 1
    return tally


def handle_markouts(
    db: Client, market_data: MarketDataProvider, policy: RoutingPolicy
) -> Counter[str]:
    """The reconciler's step: never raises (a failure is logged; the next run tries again)."""
    try:
        tally = record_markouts(db, market_data, datetime.now(UTC), policy.max_quote_age_s)
    except Exception as exc:
        logs.log_event(logs.LogEvent.MARKOUT_SUMMARY, severity="ERROR",
                       error=logs.redact(f"{type(exc).__name__}: {exc}"))  # fmt: skip
        return Counter({"markouts.failed": 1})
    if tally:
        logs.log_counts(logs.LogEvent.MARKOUT_SUMMARY, tally)
    return Counter({f"markouts.{key}": n for key, n in tally.items()})
