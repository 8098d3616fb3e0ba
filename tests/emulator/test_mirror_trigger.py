"""The Firestore trigger mirrors ledger trades into portfolio history with FIFO lots."""

from __future__ import annotations

import json
import math
import time
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from smart_routing.market.trading_calendar import trading_date
from smart_routing.portfolio.ledger import LedgerTrade
from smart_routing.portfolio.lots import LotState, apply_trade
from smart_routing_firebase.handlers import mirror_ledger_trade
from smart_routing_firebase.handlers.mirror_ledger_trade import (
    FirestoreLots,
    handle_ledger_trade_created,
    mirror_trade,
)
from smart_routing_firebase.stores.documents import to_document
from tests.emulator.conftest import wait_for
from tools.emulator_client import call

# How long the trigger gets to act on a document it must leave alone.
TRIGGER_SETTLE_S = 3.0
SEED_SCHEMA = {
    "symbol", "asset_class", "side", "qty", "price", "notional", "timestamp", "trading_date",
    "strategy_id", "estimated_slippage", "fees", "cost_basis", "tax_lot_method",
}  # fmt: skip


def history(db, uid, trade_id):
    snapshot = db.document(f"users/{uid}/portfolio/history/trades/{trade_id}").get()
    return snapshot.to_dict() if snapshot.exists else None


def ledger_trade(tenant_id, uid, n, side, qty, price):
    at = datetime(2025, 12, 30, 15, 0, tzinfo=UTC) + timedelta(minutes=n)
    qty, price = Decimal(str(qty)), Decimal(str(price))
    return LedgerTrade(
        trade_id=f"fifo-{n}", tenant_id=tenant_id, uid=uid, symbol="BTC/USD",
        asset_class="CRYPTO", side=side, qty=qty, price=price, notional=qty * price,
        fees=Decimal(0), currency="USD",
        estimated_slippage=0.0005, strategy_id="manual", timestamp=at,
        trading_date=trading_date("CRYPTO", at), broker="paper", broker_order_id=f"p-{n}",
        client_order_id=f"fifo-{n}",
    )  # fmt: skip


def open_lots(db, uid, symbol_key="BTC-USD"):
    """The open lot documents, oldest first, without their bookkeeping fields."""
    query = db.collection(f"users/{uid}/portfolio/lots/symbols/{symbol_key}/open")
    bookkeeping = {"sort_key", "symbol", "currency"}
    return [
        {k: v for k, v in doc.to_dict().items() if k not in bookkeeping}
        for doc in query.order_by("sort_key").stream()
    ]


def write_and_wait(db, trade):
    path = f"tenants/{trade.tenant_id}/ledger_trades/{trade.trade_id}"
    db.document(path).create(to_document(trade))
    return wait_for(lambda: history(db, trade.uid, trade.trade_id))


def test_a_callable_fill_is_mirrored_with_the_seed_schema(db, make_user, tenant_id):
    user = make_user(tenant_id)
    data = {"strategy_id": "manual", "symbol": "ETH/USD", "side": "buy", "qty": 2}
    result = call("execute_strategy", data, user.id_token).result
    record = wait_for(lambda: history(db, user.uid, result["trade_id"]))
    assert set(record) >= SEED_SCHEMA
    assert record["tax_lot_method"] == "FIFO"
    assert record["symbol"] == "ETH/USD" and record["asset_class"] == "CRYPTO"
    assert record["qty"] == 2 and record["price"] == result["quote"]["ask"]
    # A crypto buy pays the taker fee; the lot's cost is what the buy cost in all.
    assert record["fees"] > 0 and record["currency"] == "USD"
    assert record["cost_basis"] == round(record["notional"] + record["fees"], 2)
    assert record["estimated_slippage"] == pytest.approx(result["routing"]["estimated_slippage"])


def test_fifo_sell_consumes_the_oldest_lots(db, make_user, tenant_id):
    uid = make_user().uid
    write_and_wait(db, ledger_trade(tenant_id, uid, 1, "buy", 1, 100))
    write_and_wait(db, ledger_trade(tenant_id, uid, 2, "buy", 1, 110))
    sell = write_and_wait(db, ledger_trade(tenant_id, uid, 3, "sell", 1.5, 120))
    assert (sell["cost_basis"], sell["realized_gain"], sell["currency"]) == (155, 25, "USD")
    assert [(lot["trade_id"], lot["qty"], lot["cost"]) for lot in open_lots(db, uid)] == [
        ("fifo-2", 0.5, 55)
    ]
    head = db.document(f"users/{uid}/portfolio/lots/symbols/BTC-USD").get().to_dict()
    assert (head["qty"], head["cost"], head["open_lots"]) == (0.5, 55, 1)


def test_two_tenths_of_a_coin_are_stored_as_two_tenths(db, make_user, tenant_id):
    uid = make_user().uid
    write_and_wait(db, ledger_trade(tenant_id, uid, 1, "buy", "0.1", "110003.003"))
    write_and_wait(db, ledger_trade(tenant_id, uid, 2, "buy", "0.1", "110003.003"))
    lots = db.document(f"users/{uid}/portfolio/lots/symbols/BTC-USD").get().to_dict()
    assert lots["qty"] == 0.2 and lots["currency"] == "USD"


def test_a_redelivered_event_changes_nothing(db, make_user, tenant_id):
    uid = make_user().uid
    trade = ledger_trade(tenant_id, uid, 1, "buy", 1, 100)
    write_and_wait(db, trade)
    history_ref = db.document(f"users/{uid}/portfolio/history/trades/{trade.trade_id}")
    lots_ref = db.document(f"users/{uid}/portfolio/lots/symbols/BTC-USD")
    before = (history_ref.get().update_time, lots_ref.get().to_dict(), open_lots(db, uid))

    stored = db.document(f"tenants/{tenant_id}/ledger_trades/{trade.trade_id}").get().to_dict()
    handle_ledger_trade_created(stored, {"tenant_id": tenant_id, "trade_id": trade.trade_id})

    assert (history_ref.get().update_time, lots_ref.get().to_dict(), open_lots(db, uid)) == before
    trades = list(db.collection(f"users/{uid}/portfolio/history/trades").stream())
    assert len(trades) == 1


def rejected_lines(capsys):
    out = capsys.readouterr().out
    records = [json.loads(line) for line in out.splitlines() if line.startswith("{")]
    return [r for r in records if r["event"] == "exec.mirror_rejected"]


def holdings(db, uid):
    """The user's history ids, the BTC/USD lots head's update time and the open lots."""
    history = db.collection(f"users/{uid}/portfolio/history/trades")
    lots = db.document(f"users/{uid}/portfolio/lots/symbols/BTC-USD").get()
    return {doc.id for doc in history.stream()}, lots.update_time, open_lots(db, uid)


def test_a_malformed_ledger_document_is_logged_and_rejected(db, make_user, tenant_id, capsys):
    uid = make_user().uid
    write_and_wait(db, ledger_trade(tenant_id, uid, 1, "buy", 1, 100))
    before = holdings(db, uid)
    assert before[0] == {"fifo-1"}
    capsys.readouterr()

    # A sell of the lot the user holds, were its qty a number.
    malformed = to_document(ledger_trade(tenant_id, uid, 2, "sell", 1, 120)) | {"qty": "lots"}
    handle_ledger_trade_created(malformed, {"tenant_id": tenant_id, "trade_id": "fifo-2"})

    (rejected,) = rejected_lines(capsys)
    assert rejected["severity"] == "ERROR"
    assert rejected["tenant_id"] == tenant_id and rejected["trade_id"] == "fifo-2"
    assert "qty" in rejected["reason"]
    assert holdings(db, uid) == before


HOSTILE_FIELDS = {
    "zero-qty": ({"qty": 0}, "qty and price must be positive"),
    "negative-qty": ({"qty": -1}, "qty and price must be positive"),
    "nan-qty": ({"qty": math.nan}, "qty"),
    "infinite-price": ({"price": math.inf}, "price"),
    "negative-price": ({"price": -120}, "qty and price must be positive"),
    "other-tenant": ({"tenant_id": "someone-else"}, "tenant_id differs"),
}


@pytest.mark.parametrize("fields", HOSTILE_FIELDS.values(), ids=HOSTILE_FIELDS.keys())
def test_a_hostile_ledger_trade_is_rejected_and_changes_nothing(
    db, make_user, tenant_id, capsys, fields
):
    changes, reason = fields
    uid = make_user().uid
    write_and_wait(db, ledger_trade(tenant_id, uid, 1, "buy", 1, 100))
    before = holdings(db, uid)
    hostile = to_document(ledger_trade(tenant_id, uid, 2, "sell", 1, 120)) | changes

    # Through the real trigger: no history, no change to the lots.
    db.document(f"tenants/{tenant_id}/ledger_trades/fifo-2").create(hostile)
    time.sleep(TRIGGER_SETTLE_S)
    assert holdings(db, uid) == before
    assert [(lot["qty"], lot["cost"]) for lot in open_lots(db, uid)] == [(1, 100)]

    # In process, for the log line.
    capsys.readouterr()
    handle_ledger_trade_created(hostile, {"tenant_id": tenant_id, "trade_id": "fifo-2"})
    (rejected,) = rejected_lines(capsys)
    assert reason in rejected["reason"] and rejected["trade_id"] == "fifo-2"
    assert holdings(db, uid) == before


@pytest.mark.parametrize("suffix", ["/y", "/..", ""])
def test_a_ledger_trade_for_an_invalid_uid_is_rejected(db, make_user, tenant_id, capsys, suffix):
    real_uid = make_user().uid
    uid = f"{real_uid}{suffix}" if suffix else ".."
    hostile = to_document(ledger_trade(tenant_id, real_uid, 1, "buy", 1, 100)) | {"uid": uid}

    db.document(f"tenants/{tenant_id}/ledger_trades/fifo-1").create(hostile)
    time.sleep(TRIGGER_SETTLE_S)
    assert list(db.document(f"users/{real_uid}").collections()) == []

    capsys.readouterr()
    handle_ledger_trade_created(hostile, {"tenant_id": tenant_id, "trade_id": "fifo-1"})
    (rejected,) = rejected_lines(capsys)
    assert rejected["reason"].startswith("uid must")


def deliver_and_read(db, uid, trades):
    """Write the trades' ledger documents one after another, each once the previous one is
    mirrored, until the sell fifo-2 is matched; then the history (without tenant_id) and
    the lots."""
    for trade in trades:
        write_and_wait(db, trade)
    wait_for(lambda: (history(db, uid, "fifo-2") or {}).get("unmatched_qty") == 0)
    records = {
        doc.id: {k: v for k, v in doc.to_dict().items() if k != "tenant_id"}
        for doc in db.collection(f"users/{uid}/portfolio/history/trades").stream()
    }
    head = db.document(f"users/{uid}/portfolio/lots/symbols/BTC-USD").get().to_dict()
    return records, head, open_lots(db, uid)


def test_a_sell_delivered_before_its_buy_ends_as_in_order(db, make_user, tenant_id):
    in_order_uid, late_uid = make_user().uid, make_user().uid
    other_tenant = f"{tenant_id}-b"

    def trades(tenant, uid):
        return [
            ledger_trade(tenant, uid, 1, "buy", 2, 100),
            ledger_trade(tenant, uid, 2, "sell", "1.5", 120),
        ]

    buy, sell = trades(other_tenant, late_uid)
    expected = deliver_and_read(db, in_order_uid, trades(tenant_id, in_order_uid))
    write_and_wait(db, sell)
    assert history(db, late_uid, "fifo-2")["unmatched_qty"] == 1.5  # nothing held yet
    actual = deliver_and_read(db, late_uid, [buy])

    assert actual == expected
    records, head, lots = actual
    assert (records["fifo-2"]["cost_basis"], records["fifo-2"]["realized_gain"]) == (150, 30)
    assert [c["term"] for c in records["fifo-2"]["lots_consumed"]] == ["short"]
    assert [(lot["trade_id"], lot["qty"], lot["cost"]) for lot in lots] == [("fifo-1", 0.5, 50)]
    assert [entry["trade_id"] for entry in json.loads(head["applied"])] == ["fifo-1", "fifo-2"]


def stored_state(db, uid):
    """Everything the mirror keeps for the user: history (without tenant_id), head, lots."""
    records = {
        doc.id: {k: v for k, v in doc.to_dict().items() if k != "tenant_id"}
        for doc in db.collection(f"users/{uid}/portfolio/history/trades").stream()
    }
    head = db.document(f"users/{uid}/portfolio/lots/symbols/BTC-USD").get().to_dict()
    return records, head, open_lots(db, uid)


def test_a_sell_delivered_before_its_buys_ends_as_the_reverse_delivery(db, make_user, tenant_id):
    in_order_uid, late_uid = make_user().uid, make_user().uid

    def trades(tenant, uid):
        buys = [ledger_trade(tenant, uid, n, "buy", 1, 100 + n) for n in (1, 2, 3)]
        return [*buys, ledger_trade(tenant, uid, 4, "sell", "2.5", 120)]

    for trade in trades(tenant_id, in_order_uid):
        write_and_wait(db, trade)
    for trade in reversed(trades(f"{tenant_id}-b", late_uid)):
        write_and_wait(db, trade)

    expected = stored_state(db, in_order_uid)
    assert stored_state(db, late_uid) == expected
    records, head, lots = expected
    sell = records["fifo-4"]
    assert [(c["trade_id"], c["qty"]) for c in sell["lots_consumed"]] == [
        ("fifo-1", 1), ("fifo-2", 1), ("fifo-3", 0.5)
    ]  # fmt: skip
    assert (sell["cost_basis"], sell["realized_gain"], sell["unmatched_qty"]) == (254.5, 45.5, 0)
    assert [(lot["trade_id"], lot["qty"], lot["cost"]) for lot in lots] == [("fifo-3", 0.5, 51.5)]
    assert (head["qty"], head["cost"], head["open_lots"]) == (0.5, 51.5, 1)


def update_times(db, uid):
    history = db.collection(f"users/{uid}/portfolio/history/trades").stream()
    head = db.document(f"users/{uid}/portfolio/lots/symbols/BTC-USD").get()
    lots = db.collection(f"users/{uid}/portfolio/lots/symbols/BTC-USD/open").stream()
    return (
        {doc.id: doc.update_time for doc in history},
        head.update_time,
        {doc.id: doc.update_time for doc in lots},
    )


def test_a_duplicate_delivery_after_a_rebuild_changes_nothing(db, make_user, tenant_id):
    uid = make_user().uid
    trades = [
        ledger_trade(tenant_id, uid, 1, "buy", 2, 100),
        ledger_trade(tenant_id, uid, 2, "buy", 2, 110),
        ledger_trade(tenant_id, uid, 3, "sell", 3, 120),
    ]
    for trade in (trades[2], trades[0], trades[1]):
        write_and_wait(db, trade)
    wait_for(lambda: (history(db, uid, "fifo-3") or {}).get("unmatched_qty") == 0)
    before = (stored_state(db, uid), update_times(db, uid))

    for trade in [*trades, trades[0]]:
        stored = db.document(f"tenants/{tenant_id}/ledger_trades/{trade.trade_id}").get()
        params = {"tenant_id": tenant_id, "trade_id": trade.trade_id}
        handle_ledger_trade_created(stored.to_dict(), params)

    assert (stored_state(db, uid), update_times(db, uid)) == before


class CountingLots(FirestoreLots):
    read = 0

    def after(self, lot, limit):
        page = super().after(lot, limit)
        CountingLots.read += len(page)
        return page

    def lot(self, trade_id):
        CountingLots.read += 1
        return super().lot(trade_id)


def test_300_open_lots_live_in_their_own_documents_and_a_sell_reads_few(
    db, make_user, tenant_id, monkeypatch
):
    uid = make_user().uid
    buys = [ledger_trade(tenant_id, uid, n, "buy", 1, 100 + n % 7) for n in range(1, 301)]
    for trade in buys:
        mirror_trade(db, trade)
    sell = ledger_trade(tenant_id, uid, 301, "sell", "3.5", 120)
    untouched_before = update_times(db, uid)[2]

    monkeypatch.setattr(mirror_ledger_trade, "FirestoreLots", CountingLots)
    CountingLots.read = 0
    record = mirror_trade(db, sell)
    assert CountingLots.read <= 6  # the four lots it consumes, and a page's margin

    expected = apply_trade(LotState(), buys[0]).state
    for trade in [*buys[1:], sell]:
        expected = apply_trade(expected, trade).state
    lots = open_lots(db, uid)
    assert len(lots) == 297 and lots[0]["trade_id"] == "fifo-4"
    assert [(lot["trade_id"], lot["qty"], lot["cost"]) for lot in lots] == [
        (lot.trade_id, float(lot.qty), float(lot.cost)) for lot in expected.lots
    ]
    head = db.document(f"users/{uid}/portfolio/lots/symbols/BTC-USD").get().to_dict()
    assert (head["qty"], head["cost"], head["open_lots"]) == (
        296.5, float(expected.cost), 297
    )  # fmt: skip
    assert record.cost_basis == Decimal(101 + 102 + 103) + Decimal("104") / 2
    # Only the lots the sell consumed were written.
    after = update_times(db, uid)[2]
    assert {t for t in untouched_before if after.get(t) != untouched_before[t]} == {
        "fifo-1", "fifo-2", "fifo-3", "fifo-4"
    }  # fmt: skip

    # The trigger carries on from there.
    write_and_wait(db, ledger_trade(tenant_id, uid, 302, "sell", "0.5", 120))
    assert open_lots(db, uid)[0]["trade_id"] == "fifo-5"


def test_a_head_of_the_earlier_layout_moves_its_lots_out(db, make_user, tenant_id):
    uid = make_user().uid
    buy = ledger_trade(tenant_id, uid, 1, "buy", 2, 100)
    legacy_lot = {"trade_id": "fifo-1", "qty": 2, "cost": 200, "opened_at": buy.timestamp,
                  "acquired_on": buy.trading_date.isoformat()}  # fmt: skip
    fields = ("trade_id", "timestamp", "trading_date", "side", "qty", "notional", "fees")
    entry = {k: v for k, v in to_document(buy).items() if k in (*fields, "currency")}
    db.document(f"users/{uid}/portfolio/lots/symbols/BTC-USD").set(
        {"symbol": "BTC/USD", "lots": [legacy_lot], "applied": [entry], "base_lots": []}
    )
    sell = write_and_wait(db, ledger_trade(tenant_id, uid, 2, "sell", 1, 120))
    assert (sell["cost_basis"], sell["realized_gain"]) == (100, 20)
    head = db.document(f"users/{uid}/portfolio/lots/symbols/BTC-USD").get().to_dict()
    assert "lots" not in head and "base_lots" not in head
    assert (head["qty"], head["open_lots"], head["folded_through"]["trade_id"]) == (1, 1, "fifo-1")
    assert [(lot["trade_id"], lot["qty"], lot["cost"]) for lot in open_lots(db, uid)] == [
        ("fifo-1", 1, 100)
    ]
