"""Nothing lost when an event is: what the Firestore triggers do is also done by the schedules.

Firestore triggers deploy with `retry: false`, so an event whose function raised is gone. The
emulator hub switches the triggers off (their events are dropped, as a lost event would be)
and on again. With them off, trades are placed and a working order is left: the one-minute
reconciler finishes the order, and sweep_unmirrored_trades alone mirrors every trade into
history and lots, once, however often it runs. With them on, sweeps racing the triggers
double nothing, and the lots are what the pure FIFO makes of the ledger."""

from __future__ import annotations

import contextlib
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from typing import Any

import requests

from smart_routing.portfolio.ledger import LedgerTrade
from smart_routing.portfolio.lots import LotState, apply_trade
from smart_routing_firebase.stores import paths
from tests.emulator.conftest import wait_for
from tools.emulator_client import call, run_scheduled
from tools.emulators import ENDPOINTS

HUB = f"http://{ENDPOINTS['hub'].address}/functions"


@contextlib.contextmanager
def background_triggers_off() -> Iterator[None]:
    """The hub answers once the triggers' queued work is flushed."""
    requests.put(f"{HUB}/disableBackgroundTriggers", timeout=60).raise_for_status()
    try:
        yield
    finally:
        requests.put(f"{HUB}/enableBackgroundTriggers", timeout=60).raise_for_status()


def sweep_after_settle() -> None:
    """The sweep as it runs a few minutes after these trades (it leaves the last minute's to
    the triggers)."""
    tick = datetime.now(UTC) + timedelta(minutes=5)
    response = run_scheduled("sweep_unmirrored_trades", tick)
    assert response.status_code == 200, response.text


def trade(symbol: str, side: str, qty: float, key: str) -> dict[str, Any]:
    return {"strategy_id": "manual", "symbol": symbol, "side": side, "qty": qty,
            "idempotency_key": key}  # fmt: skip


def place(user, orders) -> list[dict[str, Any]]:
    results = [call("execute_strategy", order, user.id_token).result for order in orders]
    assert all(r and r["trade_id"] for r in results), results
    return results


def ledger(db, tenant_id) -> list[dict[str, Any]]:
    return [d.to_dict() for d in db.collection(f"tenants/{tenant_id}/ledger_trades").stream()]


def markers(db, tenant_id) -> set[str]:
    return {d.id for d in db.collection(f"tenants/{tenant_id}/unmirrored").stream()}


def history(db, uid) -> dict[str, Any]:
    docs = db.collection(f"users/{uid}/portfolio/history/trades").stream()
    return {d.id: (d.to_dict(), d.update_time) for d in docs}


def lots(db, uid, symbol_key) -> tuple[dict[str, Any], list[tuple[str, float, float]]]:
    head = db.document(f"users/{uid}/portfolio/lots/symbols/{symbol_key}").get().to_dict()
    open_lots = db.collection(f"users/{uid}/portfolio/lots/symbols/{symbol_key}/open")
    found = [d.to_dict() for d in open_lots.order_by("sort_key").stream()]
    return head, [(lot["trade_id"], lot["qty"], lot["cost"]) for lot in found]


def fifo(trades: list[dict[str, Any]], symbol: str) -> LotState:
    """The pure core's lots for the symbol's ledger trades, in (timestamp, trade_id) order."""
    state = LotState()
    mine = [LedgerTrade.model_validate(t) for t in trades if t["symbol"] == symbol]
    for entry in sorted(mine, key=lambda t: (t.timestamp, t.trade_id)):
        update = apply_trade(state, entry)
        assert update is not None
        state = update.state
    return state


def assert_lots_are_fifo(db, uid, trades, symbol, symbol_key) -> None:
    expected = fifo(trades, symbol)
    head, open_lots = lots(db, uid, symbol_key)
    assert (head["qty"], head["cost"], head["open_lots"]) == (
        float(expected.qty), float(expected.cost), len(expected.lots)
    )  # fmt: skip
    assert open_lots == [(lot.trade_id, float(lot.qty), float(lot.cost)) for lot in expected.lots]


def test_with_the_triggers_off_the_schedules_alone_finish_the_work_once(db, make_user, tenant_id):
    user = make_user(tenant_id)
    with background_triggers_off():
        placed = place(user, [
            trade("MSFT", "buy", 3, "b1"), trade("MSFT", "buy", 2, "b2"),
            trade("MSFT", "sell", 4, "s1"), trade("F", "buy", 250, "f1"),
        ])  # fmt: skip
        assert placed[3]["status"] == "partially_filled"  # 100 at the touch; the rest works
        # The writes are committed with the callable's answer: each trade has its marker,
        # and no trigger ran.
        assert markers(db, tenant_id) == {t["trade_id"] for t in ledger(db, tenant_id)}
        assert history(db, user.uid) == {}

    # reconcile_new_order's event for F was lost: the reconciler's schedule works the order.
    for _ in range(5):
        if (
            db.document(f"tenants/{tenant_id}/orders/{placed[3]['trade_id']}")
            .get()
            .to_dict()["status"]
            == "filled"
        ):
            break
        assert run_scheduled("reconcile_venues", datetime.now(UTC)).status_code == 200
    order = db.document(f"tenants/{tenant_id}/orders/{placed[3]['trade_id']}").get().to_dict()
    assert (order["status"], order["filled_qty"]) == ("filled", 250)
    trades = ledger(db, tenant_id)
    assert len(trades) == 6  # MSFT 3, and F's 100 at once and two fills of the rest
    # The fills the reconciler recorded while the triggers were on have been mirrored by
    # them; the four placed with them off wait for the sweep.
    lost = {t["trade_id"] for t in placed}
    wait_for(lambda: markers(db, tenant_id) == lost)
    assert lost.isdisjoint(history(db, user.uid))

    sweep_after_settle()
    mirrored = history(db, user.uid)
    assert sorted(mirrored) == sorted(t["trade_id"] for t in trades)
    assert markers(db, tenant_id) == set()
    assert_lots_are_fifo(db, user.uid, trades, "MSFT", "MSFT")
    assert_lots_are_fifo(db, user.uid, trades, "F", "F")
    sell = mirrored[placed[2]["trade_id"]][0]
    assert [(c["trade_id"], c["qty"]) for c in sell["lots_consumed"]] == [
        (placed[0]["trade_id"], 3), (placed[1]["trade_id"], 1)
    ]  # fmt: skip

    # Exactly once: another sweep (and a redelivered tick) rewrites nothing.
    heads = [lots(db, user.uid, key) for key in ("MSFT", "F")]
    head_times = [db.document(f"users/{user.uid}/portfolio/lots/symbols/{k}").get().update_time
                  for k in ("MSFT", "F")]  # fmt: skip
    sweep_after_settle()
    sweep_after_settle()
    assert history(db, user.uid) == mirrored
    assert [lots(db, user.uid, key) for key in ("MSFT", "F")] == heads
    assert [db.document(f"users/{user.uid}/portfolio/lots/symbols/{k}").get().update_time
            for k in ("MSFT", "F")] == head_times  # fmt: skip


def test_sweeps_racing_the_triggers_double_nothing(db, make_user, tenant_id):
    user = make_user(tenant_id)
    orders = [
        trade("AAPL", "buy", 2, "r1"), trade("AAPL", "buy", 3, "r2"),
        trade("AAPL", "sell", 4, "r3"), trade("AAPL", "buy", 5, "r4"),
        trade("AAPL", "sell", 2, "r5"), trade("AAPL", "sell", 3, "r6"),
    ]  # fmt: skip
    with ThreadPoolExecutor(max_workers=4) as pool:
        sweeps = []
        for order in orders:  # each trade's trigger and the sweeps run at the same time
            place(user, [order])
            sweeps.append(pool.submit(sweep_after_settle))
        for done in sweeps:
            done.result()
    trades = ledger(db, tenant_id)
    assert len(trades) == len(orders)

    def complete() -> bool:
        if len(history(db, user.uid)) == len(orders) and not markers(db, tenant_id):
            return True
        # A trigger that lost every transaction to the racing sweeps for its 30 s gives up
        # and keeps its marker (the emulator holds a read document for 2 s a lock): the next
        # run of the sweep finishes it, as in production.
        sweep_after_settle()
        return False

    wait_for(complete, timeout_s=120, interval_s=1.0)

    assert_lots_are_fifo(db, user.uid, trades, "AAPL", "AAPL")
    head, open_lots = lots(db, user.uid, "AAPL")
    assert head["qty"] == 1 and [qty for _, qty, _ in open_lots] == [1]
    records = {trade_id: record for trade_id, (record, _) in history(db, user.uid).items()}
    sold = [r for r in records.values() if r["side"] == "sell"]
    assert sorted(sum(c["qty"] for c in r["lots_consumed"]) for r in sold) == [2, 3, 4]
    assert all(r["unmatched_qty"] == 0 for r in sold)


class Killed(BaseException):
    """The sweep's process dying half way (not an Exception: nothing catches it)."""


def test_a_sweep_killed_half_way_is_finished_by_the_next(db, make_user, tenant_id, monkeypatch):
    from smart_routing_firebase.handlers import sweep_unmirrored_trades as sweeper
    from smart_routing_firebase.stores.ledger import FirestoreLedgerStore

    uid = make_user().uid
    trades = [ledger_trade(tenant_id, uid, n) for n in range(1, 7)]
    tick = datetime.now(UTC) + timedelta(minutes=5)
    with background_triggers_off():
        store = FirestoreLedgerStore(db)
        for entry in trades:
            store.append(entry)
        assert markers(db, tenant_id) == {t.trade_id for t in trades}

        real_page = sweeper._mirror_page
        pages: list[int] = []

        def dies_after_one_page(db, page):
            if pages:
                raise Killed
            pages.append(len(page))
            return real_page(db, page)

        monkeypatch.setattr(sweeper, "PAGE", 3)
        monkeypatch.setattr(sweeper, "_mirror_page", dies_after_one_page)
        with contextlib.suppress(Killed):
            sweeper.sweep(db, tick)
        assert pages == [3]
        monkeypatch.setattr(sweeper, "_mirror_page", real_page)
        sweeper.sweep(db, tick)

    assert markers(db, tenant_id) == set()
    assert sorted(history(db, uid)) == sorted(t.trade_id for t in trades)
    stored = [t.model_dump(mode="json") | {"timestamp": t.timestamp} for t in trades]
    assert_lots_are_fifo(db, uid, stored, "AAPL", "AAPL")


def append_with_triggers_off(db, trades: list[LedgerTrade]) -> None:
    """The trades and their markers written one after another, as lost events leave them."""
    from smart_routing_firebase.stores.ledger import FirestoreLedgerStore

    store = FirestoreLedgerStore(db)
    for entry in trades:
        store.append(entry)


def sweep_recording_pages(db, monkeypatch, tenant_id: str) -> list[list[str]]:
    """One sweep run; the marker ids of `tenant_id` in each page it mirrored, in order."""
    from smart_routing_firebase.handlers import sweep_unmirrored_trades as sweeper

    real_page, pages = sweeper._mirror_page, []

    def recording(db, page):
        pages.append([m.id for m in page if m.reference.parent.parent.id == tenant_id])
        return real_page(db, page)

    monkeypatch.setattr(sweeper, "_mirror_page", recording)
    sweeper.sweep(db, datetime.now(UTC) + timedelta(minutes=5))
    return [page for page in pages if page]


def assert_all_mirrored_once(db, tenant_id, uid, trades: list[LedgerTrade]) -> None:
    assert markers(db, tenant_id) == set()
    assert sorted(history(db, uid)) == sorted(t.trade_id for t in trades)
    stored = [t.model_dump(mode="json") | {"timestamp": t.timestamp} for t in trades]
    assert_lots_are_fifo(db, uid, stored, "AAPL", "AAPL")


def test_markers_land_in_shards_and_the_sweep_takes_them_all_oldest_first(
    db, make_user, tenant_id, monkeypatch
):
    from smart_routing_firebase.handlers import sweep_unmirrored_trades as sweeper
    from smart_routing_firebase.stores.unmirrored import SHARD, shard_of

    uid = make_user().uid
    trades = [ledger_trade(tenant_id, uid, n) for n in range(1, 25)]
    monkeypatch.setattr(sweeper, "PAGE", 2)  # pages across shards, and within one
    with background_triggers_off():
        append_with_triggers_off(db, trades)
        stored = {
            d.id: d.to_dict() for d in db.collection(f"tenants/{tenant_id}/unmirrored").stream()
        }
        assert {i: m[SHARD] for i, m in stored.items()} == {
            t.trade_id: shard_of(t.trade_id) for t in trades
        }
        shards = Counter(m[SHARD] for m in stored.values())
        assert len(shards) > 10 and max(shards.values()) >= sweeper.PAGE  # fmt: skip
        pages = sweep_recording_pages(db, monkeypatch, tenant_id)

    oldest_first = sorted(stored, key=lambda i: stored[i]["recorded_at"])
    assert [i for page in pages for i in page] == oldest_first
    assert all(len(page) <= sweeper.PAGE for page in pages)
    assert_all_mirrored_once(db, tenant_id, uid, trades)


def test_markers_written_before_shards_existed_are_swept_with_the_rest(
    db, make_user, tenant_id, monkeypatch
):
    from google.cloud import firestore

    from smart_routing_firebase.handlers import sweep_unmirrored_trades as sweeper
    from smart_routing_firebase.stores import unmirrored

    uid = make_user().uid
    trades = [ledger_trade(tenant_id, uid, n) for n in range(1, 9)]
    legacy = {t.trade_id for t in trades[:5]}
    monkeypatch.setattr(sweeper, "PAGE", 2)  # the legacy search pages by name too
    monkeypatch.setattr(unmirrored, "LEGACY_PAGES", 500)  # other tests' markers may sort first
    db.document(paths.legacy_marker_search()).delete()  # the search not retired by another test
    with background_triggers_off():
        append_with_triggers_off(db, trades)
        for trade_id in legacy:  # the marker as it was written before the shard field
            db.document(f"tenants/{tenant_id}/unmirrored/{trade_id}").update(
                {unmirrored.SHARD: firestore.DELETE_FIELD}
            )
        old = {d.id for d in db.collection(f"tenants/{tenant_id}/unmirrored").stream()
               if unmirrored.SHARD not in d.to_dict()}  # fmt: skip
        assert old == legacy
        pages = sweep_recording_pages(db, monkeypatch, tenant_id)

    assert [i for page in pages for i in page] == [t.trade_id for t in trades]  # oldest first
    assert_all_mirrored_once(db, tenant_id, uid, trades)


def test_the_search_for_unsharded_markers_retires_once_it_has_found_none_for_long(db, tenant_id):
    from smart_routing_firebase.stores import unmirrored

    state = db.document(paths.legacy_marker_search())
    state.delete()
    legacy = db.document(f"tenants/{tenant_id}/unmirrored/legacy-1")
    start = datetime.now(UTC)
    quiet = unmirrored.LEGACY_QUIET
    try:
        unmirrored.due(db, start, 10)  # finds none: quiet from now
        assert state.get().to_dict() == {"quiet_since": start}
        legacy.set({"tenant_id": tenant_id, "trade_id": "legacy-1", "recorded_at": start})
        # Pages of 1,000: other tests' markers may sort before it by name.
        found = list(unmirrored._legacy_due(db, start + quiet / 2, 1000))
        assert [m.id for m in found] == ["legacy-1"]  # found one: no longer quiet
        assert state.get().get("quiet_since") is None
        legacy.delete()  # the sweep mirrored it
        unmirrored.due(db, start + quiet, 10)
        unmirrored.due(db, start + quiet * 2 - timedelta(seconds=1), 10)
        assert not state.get().to_dict().get("retired")  # quiet, not yet for long enough
        unmirrored.due(db, start + quiet * 2, 10)
        assert state.get().get("retired") is True
        # Retired, it searches no more: a marker without a shard is not read.
        legacy.set({"tenant_id": tenant_id, "trade_id": "legacy-1", "recorded_at": start})
        assert unmirrored._legacy_due(db, start + quiet * 3, 1000) == []
    finally:
        legacy.delete()
        state.delete()


def ledger_trade(tenant_id: str, uid: str, n: int) -> LedgerTrade:
    """Buys of 2 and sells of 1, a minute apart."""
    from decimal import Decimal

    from smart_routing.market.trading_calendar import trading_date

    at = datetime(2026, 1, 5, 15, 0, tzinfo=UTC) + timedelta(minutes=n)
    side, qty = ("buy", Decimal(2)) if n % 2 else ("sell", Decimal(1))
    price = Decimal(100 + n)
    return LedgerTrade(
        trade_id=f"sweep-{n}", tenant_id=tenant_id, uid=uid, symbol="AAPL",
        asset_class="EQUITY", side=side, qty=qty, price=price, notional=qty * price,
        fees=Decimal(0), currency="USD", estimated_slippage=None, strategy_id="manual",
        timestamp=at, trading_date=trading_date("EQUITY", at), broker="paper",
        broker_order_id=f"p-{n}", client_order_id=f"sweep-{n}",
    )  # fmt: skip
