"""The execute_strategy callable over HTTP, with real auth-emulator ID tokens."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime

import pytest

from smart_routing.domain.assets import AssetClass
from smart_routing.domain.orders import client_order_id_for
from smart_routing.market.sessions import classify
from tools.emulator_client import call

SIGNAL_FIELDS = {"signal_type", "symbol", "asset_class", "confidence", "reasoning",
                 "estimated_slippage"}  # fmt: skip
ROUTING_FIELDS = {
    "should_execute", "downgraded", "reason", "action", "cost_check", "spread_pct",
    "threshold_pct", "threshold_source", "estimated_slippage", "venue", "qty", "currency",
    "price", "notional", "estimated_spread_cost", "estimated_fees", "account_currency",
    "notional_in_account_currency", "fallback", "limit_price", "session", "cost_model",
}  # fmt: skip

COST_MODEL_FIELDS = {
    "session", "threshold_pct", "spread_pct", "spread_cost_pct", "impact_pct", "fees_pct",
    "crossing_cost_pct", "effective_spread_pct", "depth", "touch_size", "impact_y", "bars",
    "sigma_per_minute", "sigma_daily", "adv", "participation", "wait_interval_s",
    "typical_spread_pct", "typical_source", "drift_pct", "wait_cost_pct", "rule", "verdict",
}  # fmt: skip


def ledger_ids(db, tenant_id):
    return [doc.id for doc in db.collection(f"tenants/{tenant_id}/ledger_trades").stream()]


def buy(symbol="AAPL", qty=3, **extra):
    return {"strategy_id": "manual", "symbol": symbol, "side": "buy", "qty": qty, **extra}


def test_a_manual_buy_returns_the_contract_and_writes_one_ledger_document(db, make_user, tenant_id):
    user = make_user(tenant_id)
    outcome = call("execute_strategy", buy(idempotency_key="first"), user.id_token)
    assert outcome.http_status == 200, outcome.error
    result = outcome.result
    assert set(result) == {
        "status", "message", "currency", "signal", "routing", "quote", "order", "trade_id"
    }  # fmt: skip
    assert result["currency"] == "USD"
    assert result["status"] == "filled"
    assert set(result["signal"]) == SIGNAL_FIELDS and result["signal"]["signal_type"] == "BUY"
    assert set(result["routing"]) == ROUTING_FIELDS and result["routing"]["should_execute"]
    assert result["routing"]["venue"] == "paper"
    assert set(result["quote"]) == {"bid", "ask", "mid", "as_of", "source"}
    assert result["order"]["status"] == "filled" and result["order"]["filled_qty"] == 3
    assert result["trade_id"] == client_order_id_for(tenant_id, user.uid, "first")

    assert ledger_ids(db, tenant_id) == [result["trade_id"]]
    trade = db.document(f"tenants/{tenant_id}/ledger_trades/{result['trade_id']}").get().to_dict()
    assert (trade["uid"], trade["tenant_id"], trade["symbol"]) == (user.uid, tenant_id, "AAPL")
    assert trade["price"] == result["quote"]["ask"] and trade["qty"] == 3
    assert trade["currency"] == "USD"
    assert trade["notional"] == result["routing"]["notional"] == round(3 * trade["price"], 2)
    assert trade["broker_order_id"] == result["order"]["broker_order_id"]


def test_a_wide_spread_is_downgraded_and_writes_nothing(db, make_user, tenant_id):
    user = make_user(tenant_id)
    outcome = call("execute_strategy", buy("BTC/USD", 0.5), user.id_token)
    result = outcome.result
    assert result["status"] == "downgraded"
    # The strategy's signal and the gate's decision, each as it is.
    assert result["signal"]["signal_type"] == "BUY"
    assert result["routing"]["action"] == "wait"
    # The seed's wording; at weekends the crypto_weekend session scales the threshold.
    expected = {
        "crypto_weekday": "Spread 0.20% exceeds threshold 0.10% (default)",
        "crypto_weekend": "Spread 0.20% exceeds threshold 0.15% (default x1.5 crypto_weekend)",
    }
    assert result["routing"]["reason"] == expected[result["routing"]["session"]]
    assert result["order"] is None and result["trade_id"] is None
    assert ledger_ids(db, tenant_id) == []


def test_dry_run_places_nothing(db, make_user, tenant_id):
    user = make_user(tenant_id)
    result = call("execute_strategy", buy(dry_run=True), user.id_token).result
    assert result["status"] == "dry_run" and result["trade_id"] is None
    assert ledger_ids(db, tenant_id) == []


def test_the_dry_run_answer_shows_the_session_and_the_cost_model(make_user, tenant_id):
    user = make_user(tenant_id)
    before = classify(AssetClass.EQUITY, datetime.now(UTC))
    routing = call("execute_strategy", buy(dry_run=True), user.id_token).result["routing"]
    after = classify(AssetClass.EQUITY, datetime.now(UTC))
    assert routing["session"] in {before.value, after.value}
    model = routing["cost_model"]
    assert set(model) == COST_MODEL_FIELDS
    assert model["session"] == routing["session"]
    assert model["threshold_pct"] == routing["threshold_pct"]
    assert model["spread_pct"] == routing["spread_pct"]
    # The simulated market: a touch of 1,000 shares holds 3; its 60 one-minute bars trade
    # 50,000 shares a minute, 19.5 million a 390-minute day.
    assert model["depth"] == "touch size" and model["impact_pct"] == 0
    assert model["effective_spread_pct"] == routing["spread_pct"]
    assert (model["bars"], model["adv"]) == (60, 19_500_000)
    assert model["participation"] == pytest.approx(3 / 19_500_000)
    assert model["sigma_per_minute"] > 0
    assert model["drift_pct"] == pytest.approx(model["sigma_per_minute"] * 5**0.5)
    assert model["crossing_cost_pct"] == pytest.approx(model["spread_pct"] / 2)
    assert model["wait_cost_pct"] >= model["crossing_cost_pct"]
    assert (model["rule"], model["verdict"]) == ("volatility", "execute")


@pytest.mark.parametrize("token", [None, "not-a-jwt"])
def test_without_a_valid_sign_in_it_is_unauthenticated(token):
    outcome = call("execute_strategy", buy(), token)
    assert (outcome.http_status, outcome.code) == (401, "UNAUTHENTICATED")


def test_a_user_without_a_tenant_claim_is_a_failed_precondition(make_user):
    outcome = call("execute_strategy", buy(), make_user().id_token)
    assert outcome.code == "FAILED_PRECONDITION"
    assert "tenant_id" in outcome.error["message"]


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"symbol": "AAPL", "qty": 1}, "strategy_id"),
        ({"strategy_id": "manual", "side": "buy", "qty": 1}, "symbol"),
        (buy(qty=0), "qty"),
        (buy(qty=-5), "qty"),
        (buy(qty="10"), "qty"),
        (buy(qty=True), "qty"),
        (buy(side="hold"), "side"),
        (buy(asset_class="BONDS"), "asset_class"),
        (buy(dry_run="yes"), "dry_run"),
        (buy(idempotency_key="k" * 129), "idempotency_key"),
        (buy(idempotency_key=""), "idempotency_key"),
        (buy(tenant_id="someone-else"), "tenant_id"),
        (buy(uid="someone-else"), "uid"),
        (buy(symbol="NOT A SYMBOL"), "symbol"),
        (buy(symbol="AAPL", asset_class="OPTIONS"), "symbol"),
        ({"strategy_id": "manual", "symbol": "AAPL", "qty": 1}, "side"),
        ({"strategy_id": "crypto_momentum", "symbol": "BTC/USD", "qty": 1, "side": "buy"}, "side"),
        (["manual", "AAPL"], "data"),
    ],
)
def test_a_bad_payload_is_invalid_argument_naming_the_field(db, make_user, tenant_id, data, field):
    outcome = call("execute_strategy", data, make_user(tenant_id).id_token)
    assert (outcome.http_status, outcome.code) == (400, "INVALID_ARGUMENT"), outcome
    assert outcome.error["message"].startswith(field)
    assert ledger_ids(db, tenant_id) == []


def test_an_unknown_strategy_is_not_found(make_user, tenant_id):
    data = {"strategy_id": "martingale", "symbol": "AAPL", "qty": 1}
    outcome = call("execute_strategy", data, make_user(tenant_id).id_token)
    assert outcome.code == "NOT_FOUND" and "martingale" in outcome.error["message"]


def test_an_order_no_price_can_size_is_refused_before_the_venue(db, make_user, tenant_id):
    """No quote for HALT, ever: fail-open skips the cost check, but with no price to check its
    size and buying power the order is refused, and nothing reaches the paper venue."""
    outcome = call("execute_strategy", buy("HALT"), make_user(tenant_id).id_token)
    assert outcome.code is None and outcome.result["status"] == "rejected"
    assert "no price was available to check the size" in outcome.result["message"]
    assert outcome.result["order"] is None
    assert ledger_ids(db, tenant_id) == []


def test_ten_calls_at_once_with_one_key_make_one_ledger_document(db, make_user, tenant_id):
    user = make_user(tenant_id)
    data = buy(idempotency_key="double-click")
    with ThreadPoolExecutor(10) as pool:
        outcomes = list(
            pool.map(lambda _: call("execute_strategy", data, user.id_token), range(10))
        )
    assert [o.code for o in outcomes] == [None] * 10
    differing = [o.result for o in outcomes if o.result != outcomes[0].result]
    assert differing == [], (outcomes[0].result, differing)
    assert ledger_ids(db, tenant_id) == [outcomes[0].result["trade_id"]]
    again = call("execute_strategy", data, user.id_token)
    assert again.result == outcomes[0].result
    assert len(ledger_ids(db, tenant_id)) == 1


def test_a_key_reused_for_a_different_request_is_refused(db, make_user, tenant_id):
    user = make_user(tenant_id)
    assert call("execute_strategy", buy(idempotency_key="k"), user.id_token).code is None
    outcome = call("execute_strategy", buy(qty=7, idempotency_key="k"), user.id_token)
    assert outcome.code == "INVALID_ARGUMENT" and "idempotency_key" in outcome.error["message"]
    assert len(ledger_ids(db, tenant_id)) == 1


def test_the_same_key_from_another_user_is_another_order(db, make_user, tenant_id):
    first = call("execute_strategy", buy(idempotency_key="k"), make_user(tenant_id).id_token)
    second = call("execute_strategy", buy(idempotency_key="k"), make_user(tenant_id).id_token)
    assert first.result["trade_id"] != second.result["trade_id"]
    assert len(ledger_ids(db, tenant_id)) == 2


def test_usd_jpy_is_priced_in_yen_and_checked_in_dollars(db, make_user, tenant_id):
    user = make_user(tenant_id)
    result = call("execute_strategy", buy("USD/JPY", 1000), user.id_token).result
    assert result["status"] == "filled" and result["currency"] == "JPY"
    assert result["routing"]["account_currency"] == "USD"
    mid = result["quote"]["mid"]
    assert result["routing"]["notional_in_account_currency"] == pytest.approx(
        result["routing"]["notional"] / mid, abs=0.01
    )
    trade = db.document(f"tenants/{tenant_id}/ledger_trades/{result['trade_id']}").get().to_dict()
    assert trade["currency"] == "JPY" and trade["qty"] == 1000


# Found by fuzzing the callable: each was accepted and filled before the gate existed.
OFF_THE_GRID = [
    buy("AAPL", 1e-300),
    buy("AAPL", 5e-324),
    buy("AAPL271217C00190000", 0.37),
    buy("EUR/USD", 0.001),
    buy("EUR/USD", 1234.5),
]
OVERSIZE = [
    buy("AAPL", 1e9),
    {"strategy_id": "manual", "symbol": "EUR/USD", "side": "sell", "qty": 1e12},
    buy("GBP/USD", 1e308),
    buy("MSFT", 1e300),
    {"strategy_id": "manual", "symbol": "ETH/USD", "side": "sell", "qty": 1},
]


@pytest.mark.parametrize("data", OFF_THE_GRID, ids=lambda d: f"{d['symbol']}x{d['qty']:g}")
def test_a_qty_off_the_grid_is_invalid_argument_naming_the_increment(
    db, make_user, tenant_id, data
):
    user = make_user(tenant_id)
    outcome = call("execute_strategy", {**data, "idempotency_key": "fuzz"}, user.id_token)
    assert (outcome.http_status, outcome.code) == (400, "INVALID_ARGUMENT"), outcome
    assert outcome.error["message"].startswith("qty: ")
    assert "increment" in outcome.error["message"] or "minimum" in outcome.error["message"]
    assert ledger_ids(db, tenant_id) == []
    claims = db.collection(f"tenants/{tenant_id}/executions").stream()
    assert [c.id for c in claims] == []  # the key is released: nothing happened


@pytest.mark.parametrize("data", OVERSIZE, ids=lambda d: f"{d['symbol']}x{d['qty']:g}")
def test_an_oversize_or_uncovered_order_is_rejected_with_the_figures(
    db, make_user, tenant_id, data
):
    user = make_user(tenant_id)
    outcome = call("execute_strategy", data, user.id_token)
    assert outcome.code is None, outcome
    result = outcome.result
    assert result["status"] == "rejected" and result["order"] is None
    assert any(word in result["message"] for word in ("maximum", "buying power", "position"))
    assert any(ch.isdigit() for ch in result["message"])
    assert ledger_ids(db, tenant_id) == []


def test_an_expired_option_is_rejected_without_a_quote(db, make_user, tenant_id):
    result = call(
        "execute_strategy", buy("AAPL250117C00190000", 1), make_user(tenant_id).id_token
    ).result
    assert result["status"] == "rejected"
    assert result["message"] == "AAPL250117C00190000 expired on 2025-01-17"
    assert result["quote"] is None and ledger_ids(db, tenant_id) == []
