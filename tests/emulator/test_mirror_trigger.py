"""The Firestore trigger mirrors ledger trades into portfolio history with FIFO lots."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from smart_routing.ledger import LedgerTrade
from smart_routing.trading_calendar import trading_date
from smart_routing_firebase.documents import to_document
from smart_routing_firebase.portfolio_mirror import handle_ledger_trade_created
from tests.emulator.conftest import wait_for
from tools.emulator_client import call

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
    lots = db.document(f"users/{uid}/portfolio/lots/symbols/BTC-USD").get().to_dict()
    assert [(lot["trade_id"], lot["qty"], lot["cost"]) for lot in lots["lots"]] == [
        ("fifo-2", 0.5, 55)
    ]


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
    before = (history_ref.get().update_time, lots_ref.get().to_dict())

    stored = db.document(f"tenants/{tenant_id}/ledger_trades/{trade.trade_id}").get().to_dict()
    handle_ledger_trade_created(stored, {"tenant_id": tenant_id, "trade_id": trade.trade_id})

    assert (history_ref.get().update_time, lots_ref.get().to_dict()) == before
    trades = list(db.collection(f"users/{uid}/portfolio/history/trades").stream())
    assert len(trades) == 1


def test_a_malformed_ledger_document_is_logged_and_skipped(db, make_user, tenant_id, capsys):
    uid = make_user().uid
    write_and_wait(db, ledger_trade(tenant_id, uid, 1, "buy", 1, 100))
    history = db.collection(f"users/{uid}/portfolio/history/trades")
    lots_ref = db.document(f"users/{uid}/portfolio/lots/symbols/BTC-USD")
    before = ({doc.id for doc in history.stream()}, lots_ref.get().update_time)
    assert before[0] == {"fifo-1"}
    capsys.readouterr()

    # A sell of the lot the user holds, were its qty a number.
    malformed = to_document(ledger_trade(tenant_id, uid, 2, "sell", 1, 120)) | {"qty": "lots"}
    handle_ledger_trade_created(malformed, {"tenant_id": tenant_id, "trade_id": "fifo-2"})

    out = capsys.readouterr().out
    records = [json.loads(line) for line in out.splitlines() if line.startswith("{")]
    skipped = [r for r in records if r["event"] == "exec.mirror_skipped"]
    assert len(skipped) == 1
    assert skipped[0]["severity"] == "ERROR"
    assert skipped[0]["tenant_id"] == tenant_id and skipped[0]["trade_id"] == "fifo-2"
    assert "qty" in skipped[0]["reason"]
    assert ({doc.id for doc in history.stream()}, lots_ref.get().update_time) == before
