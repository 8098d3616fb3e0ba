"""The rules the exact-money core and the one pre-trade gate promise, each through the engine
on the paper venue where it can be, with figures worked out by hand."""

import json
from decimal import Decimal

import pytest

from smart_routing.adapters.builtin_instruments import BuiltinInstruments
from smart_routing.adapters.clock import FixedClock
from smart_routing.config.engine_config import EngineConfig, load_config
from smart_routing.domain.assets import AssetClass, parse_symbol
from smart_routing.domain.instruments import builtin_spec
from smart_routing.domain.money import format_money, minor_unit, round_money, to_decimal
from smart_routing.domain.orders import Order, OrderIntent, OrderSide, OrderType
from smart_routing.execution.result import ExecutionStatus
from smart_routing.gate.decision import CostCheck, GateAction
from smart_routing.gate.fees import FeeSchedule, estimate_fees
from smart_routing.portfolio.ledger import trade_from_fill
from smart_routing.runtime import build_local_runtime
from tests.doubles import CountingMarket

OPTION = "AAPL261218C00190000"  # expires 2026-12-18: after the test clock, within 3 years
EXPIRED_OPTION = "AAPL251219C00190000"  # expired 2025-12-19, before the clock's 2025-12-30


def intent(symbol, side, qty, key=None, **kwargs):
    extra = {"idempotency_key": key} if key else {}
    return OrderIntent(symbol=symbol, side=side, qty=qty, **extra, **kwargs)


# Money


def test_money_rounds_to_each_currencys_minor_unit():
    assert minor_unit("USD") == Decimal("0.01")
    assert minor_unit("JPY") == Decimal("1")
    assert minor_unit("KWD") == Decimal("0.001")
    assert minor_unit("BTC") == Decimal("0.00000001")
    assert minor_unit("USDC") == Decimal("0.01")
    assert round_money(Decimal("0.125"), "USD") == Decimal("0.12")  # half-even
    assert round_money(Decimal("150020.5"), "JPY") == Decimal("150020")
    assert format_money(Decimal("11000.3"), "USD") == "11,000.30 USD"
    assert format_money(Decimal("150020"), "JPY") == "150,020 JPY"


def test_boundary_numbers_become_exact_decimals_and_garbage_is_refused():
    assert to_decimal(0.1, "qty") + to_decimal(0.1, "qty") == Decimal("0.2")
    assert to_decimal("110003.003", "price") == Decimal("110003.003")
    for bad in (float("nan"), float("inf"), "abc", True, None):
        with pytest.raises(ValueError, match="qty"):
            to_decimal(bad, "qty")


def test_two_tenths_of_a_btc_lot_are_exactly_two_tenths(runtime):
    for key in ("lot-1", "lot-2"):
        result = runtime.engine.execute_intent(intent("BTC/USD", "buy", 0.1, key))
        assert result.status is ExecutionStatus.FILLED
        assert result.trade.qty == Decimal("0.1")
    held = runtime.broker.get_account().position_qty("BTC/USD")
    assert held == Decimal("0.2") and str(held) == "0.2"
    lots = runtime.portfolio.lots("local-user", "BTC/USD")
    assert sum(lot.qty for lot in lots) == Decimal("0.2")
    # Selling exactly what is held closes the position: nothing like 2.7e-17 is left over.
    sold = runtime.engine.execute_intent(intent("BTC/USD", "sell", 0.2, "close"))
    assert sold.status is ExecutionStatus.FILLED
    assert runtime.broker.get_account().positions == {}
    assert runtime.portfolio.lots("local-user", "BTC/USD") == []


def test_a_notional_is_rounded_to_the_cent_and_stays_exact_in_json(runtime):
    runtime.market.set_quote("BTC/USD", 110003.003, 110003.003)
    result = runtime.engine.execute_intent(intent("BTC/USD", "buy", 0.1))
    assert result.status is ExecutionStatus.FILLED
    trade = result.trade
    # 0.1 x 110003.003 = 11000.3003 USD, to the cent.
    assert trade.price == Decimal("110003.003")
    assert trade.notional == Decimal("11000.30") and trade.currency == "USD"
    assert result.routing.notional == Decimal("11000.30")
    stored = json.loads(trade.model_dump_json())
    assert stored["notional"] == 11000.3 and stored["qty"] == 0.1


# Currencies other than the account's


def test_a_yen_priced_pair_executes_in_yen_and_is_checked_in_dollars(runtime):
    runtime.market.set_quote("USD/JPY", 149.98, 150.02)
    result = runtime.engine.execute_intent(intent("USD/JPY", "buy", 1000))
    assert result.status is ExecutionStatus.FILLED
    routing = result.routing
    assert routing.currency == "JPY" and routing.account_currency == "USD"
    assert routing.price == Decimal("150.02")
    assert routing.notional == Decimal("150020")  # yen have no minor unit
    # At 1/mid = 1/150.00: 150,020 JPY is 1,000.133... USD, to the cent.
    assert routing.conversion.symbol == "USD/JPY"
    assert routing.conversion.rate == Decimal(1) / Decimal("150.00")
    assert routing.notional_in_account_currency == Decimal("1000.13")
    assert result.trade.currency == "JPY" and result.trade.notional == Decimal("150020")


def test_a_yen_priced_pair_beyond_buying_power_is_rejected_in_dollars(clock):
    config = EngineConfig(smart_routing_enabled=True, paper_starting_cash=Decimal(40))
    runtime = build_local_runtime(config, clock)
    runtime.market.set_quote("USD/JPY", 149.98, 150.02)
    result = runtime.engine.execute_intent(intent("USD/JPY", "buy", 1000))
    assert result.status is ExecutionStatus.REJECTED
    # Forex margin: 5% of 1,000.13 USD is 50.0065, to the cent.
    assert result.message == (
        "insufficient buying power: the order needs 50.01 USD, buying power is 40.00 USD"
    )
    assert result.order is None
    assert runtime.broker.get_account().cash == Decimal(40)


def test_without_a_conversion_quote_a_yen_priced_order_is_rejected(runtime):
    runtime.market.set_quote("EUR/JPY", 162.10, 162.13)
    runtime.market.remove_quote("USD/JPY")  # the pair JPY converts to USD through
    result = runtime.engine.execute_intent(intent("EUR/JPY", "buy", 1000))
    assert result.status is ExecutionStatus.REJECTED
    assert result.message == (
        "no conversion quote from JPY to USD: the 162,130 JPY order cannot be checked "
        "against buying power"
    )
    assert result.order is None
    assert runtime.broker.get_account().positions == {}


# The instrument and its grid


def test_an_option_quantity_off_the_contract_grid_is_invalid(runtime):
    result = runtime.engine.execute_intent(intent(OPTION, "buy", Decimal("0.37")))
    assert result.status is ExecutionStatus.INVALID
    assert result.routing.action is GateAction.INVALID
    assert result.message == "qty: 0.37 is not a multiple of the increment 1 contracts"
    assert result.order is None


def test_an_expired_option_is_rejected_without_asking_for_a_quote(runtime):
    counting = CountingMarket(runtime.market)
    runtime.engine.market_data = counting
    result = runtime.engine.execute_intent(intent(EXPIRED_OPTION, "buy", 1))
    assert result.status is ExecutionStatus.REJECTED
    assert result.message == f"{EXPIRED_OPTION} expired on 2025-12-19"
    assert result.routing.cost_check is CostCheck.NOT_REACHED
    assert counting.quotes == []
    live = runtime.engine.execute_intent(intent(OPTION, "buy", 1))
    assert live.status is ExecutionStatus.FILLED
    assert counting.quotes[0] == OPTION


def test_an_option_beyond_the_listing_horizon_is_rejected(runtime):
    result = runtime.engine.execute_intent(intent("AAPL300118C00190000", "buy", 1))
    assert result.status is ExecutionStatus.REJECTED
    assert result.message == "AAPL300118C00190000 is not listed yet (expiry 2030-01-18)"


def test_limit_prices_round_to_the_tick_on_the_passive_side():
    equity = builtin_spec(parse_symbol("AAPL"))
    assert equity.round_limit_price(Decimal("100.009"), OrderSide.BUY) == Decimal("100.00")
    assert equity.round_limit_price(Decimal("100.001"), OrderSide.SELL) == Decimal("100.01")
    assert equity.round_limit_price(Decimal("100.01"), OrderSide.SELL) == Decimal("100.01")
    yen = builtin_spec(parse_symbol("USD/JPY"))
    assert yen.price_tick == Decimal("0.001")
    assert yen.round_limit_price(Decimal("150.0127"), OrderSide.BUY) == Decimal("150.012")
    assert yen.round_limit_price(Decimal("150.0121"), OrderSide.SELL) == Decimal("150.013")
    assert builtin_spec(parse_symbol("EUR/USD")).price_tick == Decimal("0.00001")


def test_the_engine_sends_limit_prices_on_the_tick(runtime):
    runtime.market.set_quote("USD/JPY", 149.98, 150.02)
    kw = {"order_type": OrderType.LIMIT}
    buy = runtime.engine.execute_intent(intent("AAPL", "buy", 1, limit_price=100.009, **kw))
    assert buy.status is ExecutionStatus.ACCEPTED  # below the ask: rests
    assert buy.routing.limit_price == buy.order.limit_price == Decimal("100.00")
    sell = runtime.engine.execute_intent(
        intent("USD/JPY", "sell", 1000, limit_price=150.0501, **kw)
    )
    assert sell.status is ExecutionStatus.ACCEPTED  # above the bid: rests
    assert sell.routing.limit_price == sell.order.limit_price == Decimal("150.051")


# Smart routing off


def test_with_smart_routing_off_a_five_percent_spread_executes(clock):
    config = load_config(
        {"EXEC_SMART_ROUTING_ENABLED": "false", "EXEC_SIM_QUOTES": "AAPL=97.5:102.5"}
    )
    runtime = build_local_runtime(config, clock)
    result = runtime.engine.execute_intent(intent("AAPL", "buy", 1))
    assert result.status is ExecutionStatus.FILLED
    assert result.routing.cost_check is CostCheck.BYPASSED
    assert result.routing.spread_pct == Decimal("0.05")
    assert result.routing.reason == "cost check bypassed (smart routing off)"
    on = build_local_runtime(config.model_copy(update={"smart_routing_enabled": True}), clock)
    assert on.engine.execute_intent(intent("AAPL", "buy", 1)).status is (ExecutionStatus.DOWNGRADED)


def test_with_smart_routing_off_the_size_checks_still_apply(clock):
    runtime = build_local_runtime(EngineConfig(smart_routing_enabled=False), clock)
    result = runtime.engine.execute_intent(intent("AAPL", "buy", 10_000))
    assert result.status is ExecutionStatus.REJECTED
    assert "equity maximum of 1,000,000.00 USD per order" in result.message
    huge = runtime.engine.execute_intent(intent("AAPL", "buy", 1e9))
    assert huge.status is ExecutionStatus.REJECTED and "EXEC_MAX_ADV_FRACTION" in huge.message


# Size and account


def test_a_huge_forex_sell_is_rejected_at_the_class_cap(runtime):
    result = runtime.engine.execute_intent(intent("EUR/USD", "sell", 1e12))
    assert result.status is ExecutionStatus.REJECTED
    # Sold at the simulated bid of 1.09997.
    assert result.message == (
        "order notional 1,099,970,000,000.00 USD is above the forex maximum of "
        "5,000,000.00 USD per order (EXEC_MAX_ORDER_NOTIONAL_FOREX)"
    )
    assert runtime.broker.get_account().positions == {}


def test_a_billion_shares_is_rejected_at_the_participation_cap(runtime):
    # The simulated market's bars trade 50,000 shares a minute: 19.5 million a 390-minute day.
    result = runtime.engine.execute_intent(intent("AAPL", "buy", 1e9))
    assert result.status is ExecutionStatus.REJECTED
    assert result.message == (
        "qty 1000000000 is 5128.21% of the average daily volume of 19,500,000 shares (from 60 "
        "one-minute bars): above the maximum EXEC_MAX_ADV_FRACTION of 10.00%"
    )


def test_a_million_shares_pay_impact_beyond_the_touch_and_wait(runtime):
    # Beyond the 1,000 shares the simulated touch shows, the square-root model prices the size:
    # a million shares is 5.1% of the simulated daily volume, within the participation cap.
    result = runtime.engine.execute_intent(intent("AAPL", "buy", 1_000_000))
    assert result.status is ExecutionStatus.DOWNGRADED
    assert result.message.startswith("Effective spread ")
    assert "beyond the touch size: square-root impact" in result.message
    model = result.routing.cost_model
    assert model.effective_spread_pct == pytest.approx(model.spread_pct + 2 * model.impact_pct)


def test_a_vanishing_share_quantity_is_invalid(runtime):
    result = runtime.engine.execute_intent(intent("AAPL", "buy", 1e-300))
    assert result.status is ExecutionStatus.INVALID
    assert "is not a multiple of the increment 0.000000001 shares" in result.message


def test_crypto_is_never_shorted(runtime):
    bought = runtime.engine.execute_intent(intent("BTC/USD", "buy", 0.1))
    assert bought.status is ExecutionStatus.FILLED
    result = runtime.engine.execute_intent(intent("BTC/USD", "sell", 0.2))
    assert result.status is ExecutionStatus.REJECTED
    assert result.message == (
        "insufficient position: selling 0.2 BTC/USD, holding 0.1 (crypto is never shorted)"
    )
    assert runtime.broker.get_account().position_qty("BTC/USD") == Decimal("0.1")


def test_equities_are_not_shorted_on_paper(runtime):
    result = runtime.engine.execute_intent(intent("AAPL", "sell", 1))
    assert result.status is ExecutionStatus.REJECTED
    assert "this account may not short equity" in result.message
    assert result.order is None


# Fees


def test_an_equity_sell_carries_the_sec_and_taf_fees(runtime):
    schedule = FeeSchedule()
    assert runtime.engine.execute_intent(intent("AAPL", "buy", 500)).trade.fees == 0
    sold = runtime.engine.execute_intent(intent("AAPL", "sell", 500))
    trade = sold.trade
    assert trade.price == Decimal("189.98") and trade.notional == Decimal("94990.00")
    sec = Decimal("94990.00") * schedule.sec_per_million / Decimal(1_000_000)  # 2.640722
    taf = min(500 * schedule.taf_per_share, schedule.taf_max)  # 0.083
    assert sec + taf == Decimal("2.723722")
    assert trade.fees == Decimal("2.73")  # rounded up to the cent
    assert sold.routing.estimated_fees == Decimal("2.73")


def test_the_taf_is_capped_per_trade():
    spec = builtin_spec(parse_symbol("XYZ"))
    fees = estimate_fees(FeeSchedule(), spec, OrderSide.SELL, Decimal(100_000), Decimal("1.00"))
    # SEC: 100,000 x 27.80 / 1e6 = 2.78; TAF: 16.60 capped at 8.30.
    assert fees == Decimal("11.08")


def test_a_crypto_buy_carries_the_taker_fee(runtime):
    runtime.market.set_quote("BTC/USD", 110003.003, 110003.003)
    trade = runtime.engine.execute_intent(intent("BTC/USD", "buy", 0.1)).trade
    # 25 bps of 11000.3003 = 27.50075075, rounded up to the cent.
    assert trade.fees == Decimal("27.51") and trade.currency == "USD"


def test_an_option_buy_carries_the_per_contract_fee(runtime):
    runtime.market.set_quote(OPTION, 4.95, 5.05)
    result = runtime.engine.execute_intent(intent(OPTION, "buy", 3))
    assert result.status is ExecutionStatus.FILLED
    assert result.trade.notional == Decimal("1515.00")
    assert result.trade.fees == 3 * FeeSchedule().options_per_contract == Decimal("0.12")


# Logs


def test_exactly_one_smart_routing_log_line_per_decision(runtime, log_records):
    runtime.market.set_quote("BTC/USD", 49_950, 50_050)
    outcomes = [
        runtime.engine.execute_intent(intent("AAPL", "buy", 1)).status,
        runtime.engine.execute_intent(intent("BTC/USD", "buy", 0.1)).status,
        runtime.engine.execute_intent(intent(EXPIRED_OPTION, "buy", 1)).status,
        runtime.engine.execute_intent(intent(OPTION, "buy", Decimal("0.37"))).status,
        runtime.engine.execute_intent(intent("AAPL", "sell", 5)).status,
    ]
    assert outcomes == ["filled", "downgraded", "rejected", "invalid", "rejected"]
    routing = [r for r in log_records() if r["event"] == "exec.smart_routing"]
    assert [r["action"] for r in routing] == ["execute", "wait", "reject", "invalid", "reject"]


# Instrument source


def test_the_builtin_instruments_follow_the_venues_rules():
    source = BuiltinInstruments()
    option = source.get_instrument(OPTION, AssetClass.OPTIONS)
    assert (option.qty_increment, option.multiplier, option.quote_currency) == (1, 100, "USD")
    assert str(option.expiry) == "2026-12-18"
    fx = source.get_instrument("USD/JPY", AssetClass.FOREX)
    assert (fx.qty_increment, fx.quote_currency, fx.shortable) == (1, "JPY", True)
    coin = source.get_instrument("BTC/USD", AssetClass.CRYPTO)
    assert coin.qty_increment == Decimal("0.000000001") and not coin.shortable
    share = source.get_instrument("AAPL", AssetClass.EQUITY)
    assert share.fractionable and not share.shortable and share.price_tick == Decimal("0.01")


# Known core defects: these fail until the core is fixed (see the helper-d report).


def test_a_limit_price_below_one_tick_is_refused_as_a_status_not_an_exception(runtime):
    # 0.001 rounds down to 0.00 on the cent tick: no order can carry it.
    limit = intent("MSFT", "buy", 1, order_type=OrderType.LIMIT, limit_price=0.001)
    result = runtime.engine.execute_intent(limit)
    assert result.status in (ExecutionStatus.INVALID, ExecutionStatus.REJECTED)
    assert result.order is None


def test_a_leveraged_forex_position_can_be_closed(clock):
    # 60 USD covers the 5% margin (50.01 USD) on 1,000 USD/JPY; the paper account then shows
    # negative cash. Selling the 1,000 back reduces the position and must not need margin.
    config = EngineConfig(smart_routing_enabled=True, paper_starting_cash=Decimal(60))
    runtime = build_local_runtime(config, clock)
    runtime.market.set_quote("USD/JPY", 149.98, 150.02)
    opened = runtime.engine.execute_intent(intent("USD/JPY", "buy", 1000))
    assert opened.status is ExecutionStatus.FILLED
    closed = runtime.engine.execute_intent(intent("USD/JPY", "sell", 1000))
    assert closed.status is ExecutionStatus.FILLED, closed.message
    assert runtime.broker.get_account().positions == {}


def test_a_venue_fee_in_the_pairs_base_currency_is_recorded_in_the_trades_currency():
    spec = BuiltinInstruments().get_instrument("USD/JPY", AssetClass.FOREX)
    now = FixedClock().now()
    order = Order(
        broker="oanda", broker_order_id="1", client_order_id="c", symbol="USD/JPY",
        asset_class="FOREX", side="buy", qty=1000, order_type="market", status="filled",
        filled_qty=1000, filled_avg_price=Decimal("150.02"), fees=Decimal("3.50"),
        fee_currency="USD", submitted_at=now, filled_at=now,
    )  # fmt: skip
    trade = trade_from_fill(
        order, spec=spec, fee_schedule=FeeSchedule(), tenant_id="t", uid="u",
        strategy_id="manual", estimated_slippage=None, filled_at=now,
    )  # fmt: skip
    # 3.50 USD at the 150.02 fill is 525.07 JPY, to the yen: 525.
    assert (trade.fees, trade.currency) == (Decimal("525"), "JPY")
