"""Transaction cost analysis on the emulators: decision records from the callable and the
scheduled runs, the daily roll-up (in process and as the deployed scheduled function), and the
5-minute markout (docs/tca.md)."""

from __future__ import annotations

import uuid
from collections import Counter
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from smart_routing.domain.orders import client_order_id_for
from smart_routing.market.quotes import Quote
from smart_routing_firebase.handlers.roll_up_tca import roll_up_dates
from smart_routing_firebase.handlers.run_scheduled_strategies import scheduled_idempotency_key
from smart_routing_firebase.reconciliation.markouts import record_markouts
from smart_routing_firebase.stores.documents import to_document
from tests.emulator.conftest import wait_for
from tests.test_tca_daily import DAY, DECISIONS, TRADES
from tools.emulator_client import call, run_scheduled
from tools.scheduled_fanout import wait_for_tasks


def buy(symbol: str, qty: float, **extra):
    return {"strategy_id": "manual", "symbol": symbol, "side": "buy", "qty": qty, **extra}


def decisions(db, tenant_id: str) -> dict[str, dict]:
    return {d.id: d.to_dict() for d in db.collection(f"tenants/{tenant_id}/decisions").stream()}


def test_a_downgrade_is_recorded_once_however_often_its_key_is_sent(db, make_user, tenant_id):
    user = make_user(tenant_id)
    for _ in range(2):  # a double click: one decision
        outcome = call("execute_strategy", buy("BTC/USD", 0.5, idempotency_key="k1"), user.id_token)
        assert outcome.result["status"] == "downgraded", outcome
    decision_id = client_order_id_for(tenant_id, user.uid, "k1")
    stored = decisions(db, tenant_id)
    assert list(stored) == [decision_id]
    record = stored[decision_id]
    quote = outcome.result["quote"]
    assert record["action"] == "downgraded" and record["status"] == "downgraded"
    assert (record["uid"], record["tenant_id"], record["source"]) == (user.uid, tenant_id,
                                                                      "callable")  # fmt: skip
    assert (record["symbol"], record["asset_class"], record["venue"], record["side"]) == (
        "BTC/USD", "CRYPTO", "paper", "buy",
    )  # fmt: skip
    assert record["strategy_id"] == "manual" and record["qty"] == 0.5
    assert record["arrival_mid"] == pytest.approx(quote["mid"])
    assert record["spread_pct"] == outcome.result["routing"]["spread_pct"]
    # Half the spread, for 0.5 BTC, at the decision's quote.
    half_spread_cost = 0.5 * (quote["ask"] - quote["bid"]) / 2
    assert record["estimated_spread_cost"] == pytest.approx(half_spread_cost, abs=0.005)
    assert record["estimated_spread_cost"] == outcome.result["routing"]["estimated_spread_cost"]
    assert record["client_order_id"] == decision_id
    assert isinstance(record["decided_at"], datetime)


def test_fills_and_rejections_are_recorded_and_dry_runs_are_not(db, make_user, tenant_id):
    user = make_user(tenant_id)
    filled = call("execute_strategy", buy("AAPL", 2, idempotency_key="f"), user.id_token).result
    refused = call("execute_strategy", buy("AAPL", 1e7, idempotency_key="r"), user.id_token)
    dry = call("execute_strategy", buy("AAPL", 1, dry_run=True, idempotency_key="d"),
               user.id_token).result  # fmt: skip
    assert (filled["status"], refused.result["status"], dry["status"]) == (
        "filled", "rejected", "dry_run",
    )  # fmt: skip
    stored = decisions(db, tenant_id)
    by_key = {k: client_order_id_for(tenant_id, user.uid, k) for k in ("f", "r", "d")}
    assert set(stored) == {by_key["f"], by_key["r"]}
    assert stored[by_key["f"]]["action"] == "execute"
    assert stored[by_key["f"]]["client_order_id"] == filled["trade_id"]
    assert stored[by_key["r"]]["action"] == "rejected"
    # 10 million shares is half the simulated daily volume: the participation cap refuses it.
    assert "EXEC_MAX_ADV_FRACTION" in stored[by_key["r"]]["reason"]
    # On the paper venue the record is staged in the execution's one commit: no round trip of
    # its own, and it commits with the ledger trade and the claim or not at all.
    tenant = db.document(f"tenants/{tenant_id}")
    decision = tenant.collection("decisions").document(by_key["f"]).get()
    trade = tenant.collection("ledger_trades").document(filled["trade_id"]).get()
    claim = tenant.collection("executions").document(by_key["f"]).get()
    assert decision.create_time == trade.create_time == claim.create_time


def test_a_scheduled_tick_records_its_decisions_once(db, tenant_id):
    uid = f"user-{uuid.uuid4().hex[:8]}"
    tick = datetime(2026, 2, 3, 15, 5, tzinfo=UTC)
    ref = db.document(f"tenants/{tenant_id}/strategies/held_btc")
    ref.set({"enabled": True, "uid": uid, "strategy_id": "manual", "side": "buy",
             "symbols": ["BTC/USD", "AAPL"], "qty": 1})  # fmt: skip
    try:
        for _ in range(2):  # a redelivered tick
            assert run_scheduled("run_scheduled_strategies", tick).status_code == 200
        wait_for_tasks(db, tick, [ref.path], timeout_s=60)
    finally:
        ref.update({"enabled": False})
    ids = {
        symbol: client_order_id_for(
            tenant_id, uid, scheduled_idempotency_key("held_btc", symbol, tick)
        )
        for symbol in ("BTC/USD", "AAPL")
    }
    stored = decisions(db, tenant_id)
    assert stored[ids["BTC/USD"]]["action"] == "downgraded"
    assert stored[ids["AAPL"]]["action"] == "execute"
    assert {stored[i]["source"] for i in ids.values()} == {"scheduled"}


def seed(db, tenant_id: str) -> None:
    """The pure test's day (tests/test_tca_daily.py) in this tenant, and an order book that
    says the FOREX order filled later."""
    uids = {"u1": f"{tenant_id}-u1", "u2": f"{tenant_id}-u2"}
    for record in DECISIONS:
        record = record.model_copy(update={"tenant_id": tenant_id, "uid": uids[record.uid]})
        db.document(f"tenants/{tenant_id}/decisions/{record.decision_id}").create(
            to_document(record, ("decided_at",))
        )
    for trade in TRADES:
        trade = trade.model_copy(update={"tenant_id": tenant_id, "uid": uids[trade.uid]})
        db.document(f"tenants/{tenant_id}/ledger_trades/{trade.trade_id}").create(
            to_document(trade)
        )
    db.document(f"tenants/{tenant_id}/orders/c7").set({"filled_qty": 1000.0, "status": "filled"})
    db.document(f"tenants/{tenant_id}/orders/c3").set({"filled_qty": 10.0, "status": "filled"})


def test_the_roll_up_gives_the_hand_computed_day_and_a_second_run_leaves_it(db, tenant_id):
    seed(db, tenant_id)
    first = roll_up_dates(db, [DAY])
    ref = db.document(f"tenants/{tenant_id}/tca_daily/{DAY.isoformat()}")
    written = ref.get()
    document = written.to_dict()
    total = document["total"]
    assert document["tenant_id"] == tenant_id and document["date"] == "2026-03-02"
    assert (total["decisions"], total["downgraded"], total["downgrade_rate"]) == (7, 3, 0.428571)
    assert (total["orders"], total["filled_orders"], total["fill_rate"]) == (3, 3, 1.0)
    assert total["volume"] == {"USD": 1500.20}
    assert total["realized_slippage_bps"] == {"n": 2, "mean": 1.4999, "median": 1.4999}
    assert total["cost_saved"] == {"USD": 0.90}
    assert total["spread_cost_not_paid_unfilled"] == {"USD": 25.00}
    assert document["by_asset_class"]["FOREX"]["fill_rate"] == 1.0
    assert document["by_strategy_id"]["momentum"]["volume"] == {"USD": 499.90}
    assert first["written"] >= 1

    again = roll_up_dates(db, [DAY])  # a redelivered or concurrent run
    assert again["written"] == 0 and again["unchanged"] == first["written"] + first["unchanged"]
    after = ref.get()
    assert after.to_dict() == document and after.update_time == written.update_time


def test_the_scheduled_roll_up_as_deployed(db, tenant_id):
    seed(db, tenant_id)
    response = run_scheduled("roll_up_tca", datetime(2026, 3, 2, 18, 0, tzinfo=UTC))
    assert response.status_code == 200, response.text
    ref = db.document(f"tenants/{tenant_id}/tca_daily/2026-03-02")
    document = wait_for(lambda: ref.get().to_dict())
    assert document["total"]["cost_saved"] == {"USD": 0.90}
    assert document["total"]["decisions"] == 7


def test_the_roll_up_of_real_calls_counts_the_downgrade(db, make_user, tenant_id):
    user = make_user(tenant_id)
    held = call("execute_strategy", buy("BTC/USD", 0.5, idempotency_key="h"), user.id_token)
    sent = call("execute_strategy", buy("AAPL", 2, idempotency_key="s"), user.id_token)
    assert (held.result["status"], sent.result["status"]) == ("downgraded", "filled")
    days = {d["trading_date"] for d in decisions(db, tenant_id).values()}
    roll_up_dates(db, [datetime.fromisoformat(d).date() for d in days])
    totals = Counter()
    for day in days:
        doc = db.document(f"tenants/{tenant_id}/tca_daily/{day}").get().to_dict()
        totals.update({k: doc["total"][k] for k in ("decisions", "downgraded", "orders",
                                                    "filled_orders", "trades")})  # fmt: skip
    assert totals == Counter(decisions=2, downgraded=1, orders=1, filled_orders=1, trades=1)


class _FixedQuotes:
    """Market data that answers one quote for every symbol: not what this test is about."""

    def __init__(self, bid: str, ask: str, as_of: datetime) -> None:
        self.quote = (Decimal(bid), Decimal(ask), as_of)

    def prefetch(self, instruments) -> None:
        pass

    def get_quote(self, symbol, asset_class) -> Quote:
        bid, ask, as_of = self.quote
        return Quote(symbol=symbol, bid=bid, ask=ask, as_of=as_of, source="test")


def test_the_5_minute_markout_lands_once_beside_the_trade_and_in_the_history(
    db, make_user, tenant_id
):
    user = make_user(tenant_id)
    result = call("execute_strategy", buy("AAPL", 2, idempotency_key="m"), user.id_token).result
    trade_id = result["trade_id"]
    trade_ref = db.document(f"tenants/{tenant_id}/ledger_trades/{trade_id}")
    trade = trade_ref.get().to_dict()
    history_ref = db.document(f"users/{user.uid}/portfolio/history/trades/{trade_id}")
    wait_for(lambda: history_ref.get().exists)
    filled_at, price = trade["timestamp"], Decimal(str(trade["price"]))
    bid, ask = str(price + Decimal("0.09")), str(price + Decimal("0.11"))

    soon = filled_at + timedelta(minutes=4)
    # The runs see every tenant's trades in their window: only this trade's documents are
    # asserted on.
    record_markouts(db, _FixedQuotes(bid, ask, soon), soon, 60)
    assert not trade_ref.collection("markouts").document("5m").get().exists  # not 5 minutes yet

    now = filled_at + timedelta(minutes=5, seconds=30)
    market = _FixedQuotes(bid, ask, now)
    taken = record_markouts(db, market, now, 60)
    assert taken["taken"] >= 1
    markout = trade_ref.collection("markouts").document("5m").get().to_dict()
    expected = float(((Decimal("0.10")) / price).quantize(Decimal("1e-10")))  # bought, mid rose
    assert markout["markout_5m_pct"] == pytest.approx(expected, rel=1e-9)
    assert markout["mid"] == pytest.approx(float(price + Decimal("0.10")))
    assert history_ref.get().to_dict()["markout_5m_pct"] == markout["markout_5m_pct"]
    assert trade_ref.get().to_dict() == trade  # the ledger trade itself is never updated

    moved = _FixedQuotes(ask, str(price + Decimal("0.20")), now + timedelta(seconds=30))
    again = record_markouts(db, moved, now + timedelta(seconds=30), 60)
    assert again["already_taken"] >= 1
    assert trade_ref.collection("markouts").document("5m").get().to_dict() == markout
    assert history_ref.get().to_dict()["markout_5m_pct"] == markout["markout_5m_pct"]

    # A trade whose window passed unmeasured (no run between 5 and 8 minutes) gets none.
    second = call("execute_strategy", buy("AAPL", 1, idempotency_key="m2"), user.id_token).result
    second_ref = db.document(f"tenants/{tenant_id}/ledger_trades/{second['trade_id']}")
    later = second_ref.get().to_dict()["timestamp"] + timedelta(minutes=9)
    record_markouts(db, _FixedQuotes(bid, ask, later), later, 60)
    assert not second_ref.collection("markouts").document("5m").get().exists
