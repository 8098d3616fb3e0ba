"""The one pre-trade gate: instrument, quantity, cost, then size and account, in that order."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from smart_routing.adapters.builtin_instruments import BuiltinInstruments
from smart_routing.domain.orders import AccountSnapshot, OrderIntent, Position
from smart_routing.gate.decision import CostCheck, GateAction
from smart_routing.gate.policy import FailMode, RoutingPolicy, Threshold
from smart_routing.gate.router import SmartRouter
from smart_routing.market.context import MarketContext
from smart_routing.market.conversion import Conversion
from smart_routing.market.quotes import Quote

D = Decimal
INSTRUMENTS = BuiltinInstruments()


def quote(clock, bid, ask, symbol="BTC/USD", age_s=0.0) -> Quote:
    as_of = clock.now() - timedelta(seconds=age_s)
    return Quote(symbol=symbol, bid=bid, ask=ask, as_of=as_of, source="test")


def account(clock, cash="100000", held: dict[str, str] | None = None) -> AccountSnapshot:
    positions = {}
    for symbol, qty in (held or {}).items():
        intent = OrderIntent(symbol=symbol, side="buy", qty=1)
        positions[intent.symbol] = Position(
            symbol=intent.symbol, asset_class=intent.asset_class, qty=D(qty), avg_price=D(1)
        )
    return AccountSnapshot(
        currency="USD", cash=D(cash), buying_power=D(cash), positions=positions, as_of=clock.now()
    )


def decide(clock, symbol, bid, ask, *, qty="1", side="buy", router=None, acct=None, **intent):
    order = OrderIntent(symbol=symbol, side=side, qty=D(qty), **intent)
    spec = INSTRUMENTS.get_instrument(order.symbol, order.asset_class)
    live = None if bid is None else quote(clock, bid, ask, order.symbol)
    router = router or SmartRouter()
    return router.decide(order, spec, live, clock.now(), acct or account(clock))


def test_the_seed_example_btc_at_a_two_tenths_percent_spread_waits(clock):
    decision = decide(clock, "BTC/USD", 49_950, 50_050)
    assert decision.quote.mid == 50_000
    assert decision.spread_pct == D("0.002")
    assert decision.threshold_pct == D("0.001")
    assert decision.action is GateAction.WAIT and decision.cost_check is CostCheck.EXCEEDED
    assert decision.downgraded and not decision.should_execute
    assert decision.reason == "Spread 0.20% exceeds threshold 0.10% (default)"
    assert decision.estimated_slippage == D("0.001")


def test_a_spread_at_the_threshold_executes(clock):
    clock.set(datetime(2025, 12, 30, 17, 0, tzinfo=UTC))  # noon in New York: us_regular
    decision = decide(clock, "AAPL", "99.95", "100.05")
    assert decision.should_execute and not decision.downgraded
    assert decision.reason == "Spread 0.10% within threshold 0.10% (default)"


def test_options_have_their_own_wider_threshold(clock):
    symbol = "AAPL261218C00150000"
    assert decide(clock, symbol, "4.95", "5.05").should_execute
    assert decide(clock, symbol, "4.60", "5.00").downgraded
    assert not decide(clock, "AAPL", "4.95", "5.05").should_execute


def test_the_strictest_threshold_binds_and_is_named(clock):
    policy = RoutingPolicy(
        thresholds={
            **RoutingPolicy().thresholds,
            "CRYPTO": Threshold(value=D("0.003"), source="EXEC_MAX_SPREAD_PCT_CRYPTO"),
        }
    )
    router = SmartRouter(policy)
    loose = decide(clock, "BTC/USD", 49_950, 50_050, router=router)
    assert loose.should_execute and loose.threshold_source == "EXEC_MAX_SPREAD_PCT_CRYPTO"
    strict = decide(clock, "BTC/USD", 49_950, 50_050, router=router, max_spread_pct=D("0.001"))
    assert strict.downgraded and strict.threshold_source == "strategy max_slippage_pct"
    assert strict.threshold_pct == D("0.001")
    # A strategy maximum looser than the class's does not loosen it.
    lenient = decide(clock, "BTC/USD", 49_950, 50_050, max_spread_pct=D("0.01"))
    assert lenient.downgraded and lenient.threshold_source == "default"


def test_smart_routing_off_bypasses_only_the_cost_check(clock):
    off = SmartRouter(enabled=False)
    wide = decide(clock, "AAPL", 95, 100, router=off)
    assert wide.should_execute and wide.cost_check is CostCheck.BYPASSED
    assert "bypassed" in wide.reason
    too_big = decide(clock, "AAPL", 95, 100, qty="1000000", router=off)
    assert too_big.action is GateAction.REJECT and "maximum" in too_big.reason


@pytest.mark.parametrize(
    ("bid", "ask", "age_s"),
    [(101, 100, 0), (0, 100, 0), (99, 100, 30), (float("nan"), 100, 0)],
)
def test_a_bad_quote_is_unavailable_never_cheap(clock, bid, ask, age_s):
    order = OrderIntent(symbol="AAPL", side="buy", qty=1)
    spec = INSTRUMENTS.get_instrument("AAPL", order.asset_class)
    bad = quote(clock, bid, ask, "AAPL", age_s)
    opened = SmartRouter().decide(order, spec, bad, clock.now(), account(clock))
    assert opened.cost_check is CostCheck.UNAVAILABLE and opened.spread_pct is None
    if age_s:  # stale, but its prices are prices: it sizes the order, fail-open lets it go
        assert opened.should_execute and "fail-open" in opened.reason
        assert "sized at a quote 30s old" in opened.reason
    else:  # no price to size it by: refused, whatever the fail mode
        assert opened.action is GateAction.REJECT
        assert "no price was available to check the size" in opened.reason
    closed = SmartRouter(RoutingPolicy(fail_mode=FailMode.CLOSED))
    held = closed.decide(order, spec, bad, clock.now(), account(clock))
    assert held.downgraded and "fail-closed" in held.reason


def test_without_a_quote_the_reason_says_why(clock):
    order = OrderIntent(symbol="AAPL", side="buy", qty=1)
    spec = INSTRUMENTS.get_instrument("AAPL", order.asset_class)
    decision = SmartRouter().decide(
        order, spec, None, clock.now(), account(clock), quote_error="TimeoutError: slow"
    )
    assert decision.action is GateAction.REJECT and "TimeoutError: slow" in decision.reason


def test_the_max_quote_age_is_configurable(clock):
    order = OrderIntent(symbol="AAPL", side="buy", qty=1)
    spec = INSTRUMENTS.get_instrument("AAPL", order.asset_class)
    old = quote(clock, "99.99", "100.01", "AAPL", age_s=20)
    assert SmartRouter().decide(order, spec, old, clock.now(), account(clock)).spread_pct is None
    patient = SmartRouter(RoutingPolicy(max_quote_age_s=30))
    assert patient.decide(order, spec, old, clock.now(), account(clock)).spread_pct is not None


def test_usd_jpy_is_priced_in_yen_and_checked_in_dollars(clock):
    order = OrderIntent(symbol="USD/JPY", side="buy", qty=1000)
    spec = INSTRUMENTS.get_instrument("USD/JPY", order.asset_class)
    live = quote(clock, "149.98", "150.02", "USD/JPY")
    rate = Conversion(rate=D(1) / live.mid, symbol="USD/JPY")
    decision = SmartRouter().decide(order, spec, live, clock.now(), account(clock), rate)
    assert decision.should_execute
    assert (decision.currency, decision.notional) == ("JPY", D("150020"))
    assert decision.account_currency == "USD"
    assert decision.notional_in_account_currency == D("1000.13")
    missing = SmartRouter().decide(order, spec, live, clock.now(), account(clock), None)
    assert missing.action is GateAction.REJECT
    assert "no conversion quote from JPY to USD" in missing.reason


def test_buying_power_and_positions_are_checked_with_the_figures(clock):
    poor = decide(clock, "AAPL", "189.99", "190.01", qty="10", acct=account(clock, cash="1000"))
    assert poor.action is GateAction.REJECT
    assert "1,900.10 USD" in poor.reason and "1,000.00 USD" in poor.reason
    naked = decide(clock, "BTC/USD", "49999", "50001", qty="0.5", side="sell")
    assert naked.action is GateAction.REJECT and "crypto is never shorted" in naked.reason
    covered = decide(
        clock, "BTC/USD", "49999", "50001", qty="0.5", side="sell",
        acct=account(clock, held={"BTC/USD": "0.5"}),
    )  # fmt: skip
    assert covered.should_execute


def test_a_typed_qty_off_the_grid_is_invalid_and_names_the_increment(clock):
    decision = decide(clock, "AAPL261218C00150000", "4.95", "5.05", qty="0.37")
    assert decision.action is GateAction.INVALID
    assert decision.reason == "qty: 0.37 is not a multiple of the increment 1 contracts"
    tiny = decide(clock, "AAPL", "189.99", "190.01", qty="1e-300")
    assert tiny.action is GateAction.INVALID and "0.000000001" in tiny.reason


def test_a_computed_qty_is_rounded_down_and_zero_sends_nothing(clock):
    rounded = decide(clock, "EUR/USD", "1.1", "1.1001", qty="1234.5", qty_rounding="down")
    assert rounded.should_execute and rounded.qty == D("1234")
    assert rounded.requested_qty == D("1234.5")
    zero = decide(clock, "EUR/USD", "1.1", "1.1001", qty="0.5", qty_rounding="down")
    assert zero.action is GateAction.REJECT and "nothing to send" in zero.reason


def test_an_expired_option_is_rejected_before_any_quote(clock):
    order = OrderIntent(symbol="AAPL250117C00150000", side="buy", qty=1)
    spec = INSTRUMENTS.get_instrument(order.symbol, order.asset_class)
    decision = SmartRouter().precheck(order, spec, clock.now())
    assert decision is not None and decision.action is GateAction.REJECT
    assert decision.reason == "AAPL250117C00150000 expired on 2025-01-17"
    far = OrderIntent(symbol="AAPL351221C00150000", side="buy", qty=1)
    unlisted = SmartRouter().precheck(
        far, INSTRUMENTS.get_instrument(far.symbol, far.asset_class), clock.now()
    )
    assert unlisted is not None and "not listed yet" in unlisted.reason


def test_a_limit_price_goes_to_the_tick_on_the_passive_side(clock):
    buy = decide(
        clock, "USD/JPY", "149.98", "150.02", order_type="limit", limit_price=D("149.9876")
    )
    assert buy.limit_price == D("149.987")
    sell = decide(
        clock, "EUR/USD", "1.1", "1.1001", side="sell", order_type="limit",
        limit_price=D("1.123451"),
    )  # fmt: skip
    assert sell.limit_price == D("1.12346")


@pytest.mark.parametrize(
    ("symbol", "qty", "figure"),
    [("GBP/USD", "1e308", "1.270e+308 USD"), ("MSFT", "1e300", "4.200e+302 USD")],
)
def test_an_absurd_size_is_rejected_with_its_figure_not_a_crash(clock, symbol, qty, figure):
    decision = decide(clock, symbol, "1.2699", "1.2701", qty=qty)
    if symbol == "MSFT":
        decision = decide(clock, symbol, "419.99", "420.01", qty=qty)
    assert decision.action is GateAction.REJECT
    assert figure in decision.reason and "maximum" in decision.reason


def test_a_subnormal_qty_is_invalid_and_said_briefly(clock):
    decision = decide(clock, "AAPL", "189.99", "190.01", qty="5e-324")
    assert decision.action is GateAction.INVALID
    assert decision.reason == "qty: 5e-324 is not a multiple of the increment 0.000000001 shares"


def test_closing_needs_no_conversion_quote_and_no_buying_power(clock):
    held_long = account(clock, cash="0", held={"USD/JPY": "1000"})
    order = OrderIntent(symbol="USD/JPY", side="sell", qty=1000)
    spec = INSTRUMENTS.get_instrument("USD/JPY", order.asset_class)
    live = quote(clock, "149.98", "150.02", "USD/JPY")
    closing = SmartRouter().decide(order, spec, live, clock.now(), held_long, None)
    assert closing.should_execute, closing.reason
    opening = SmartRouter().decide(
        order.model_copy(update={"qty": D(2000)}), spec, live, clock.now(), held_long, None
    )
    assert opening.action is GateAction.REJECT and "no conversion quote" in opening.reason


def test_more_significant_digits_than_a_double_carries_is_invalid(clock):
    decision = decide(clock, "SHIB/USD", "0.00001", "0.00001", qty="12345678.123456789")
    assert decision.action is GateAction.INVALID
    assert "more than 15 significant digits" in decision.reason
    spec = INSTRUMENTS.get_instrument("SHIB/USD", decision.asset_class)
    assert spec.floor_qty(D("12345678.123456789")) == D("12345678.1234567")


def test_a_coin_limit_price_keeps_its_decimals(clock):
    decision = decide(
        clock, "SHIB/USD", "0.00001233", "0.00001235", qty="1000000",
        order_type="limit", limit_price=D("0.00001234"),
    )  # fmt: skip
    assert decision.limit_price == D("0.00001234")  # not rounded away on a cent tick


def test_an_absurd_notional_is_text_in_json_never_infinity(clock):
    decision = decide(clock, "AAPL", "189.99", "190.01", qty="1e308")
    document = decision.model_dump(mode="json")
    assert document["notional"] == "1.9001E+310"
    json.dumps(document, allow_nan=False)  # valid JSON: no Infinity


def test_fail_open_skips_the_cost_check_never_the_size_checks(clock):
    """The seed's fail-open lets an order through without a usable quote, but only once its
    size, notional cap and buying power are checked at a reference price; with none, it is
    refused and nothing is sent."""
    huge = OrderIntent(symbol="AAPL", side="buy", qty=1_000_000)
    spec = INSTRUMENTS.get_instrument("AAPL", huge.asset_class)
    small_account = account(clock, cash="100")
    for mode in FailMode:
        router = SmartRouter(RoutingPolicy(fail_mode=mode), enabled=mode is FailMode.OPEN)
        unpriced = router.decide(huge, spec, None, clock.now(), small_account, quote_error="down")
        assert unpriced.action is GateAction.REJECT and not unpriced.should_execute
        assert "no price was available to check the size" in unpriced.reason
    seen = quote(clock, "189.99", "190.01", "AAPL", age_s=120)
    market = MarketContext(last_quote=seen)
    sized = SmartRouter().decide(huge, spec, None, clock.now(), small_account,
                                 quote_error="down", market=market)  # fmt: skip
    assert sized.action is GateAction.REJECT and sized.price == D("190.01")
    assert "above the equity maximum" in sized.reason  # the notional cap, at the reference
    thousand = OrderIntent(symbol="AAPL", side="buy", qty=1000)
    broke = SmartRouter().decide(thousand, spec, None, clock.now(), small_account,
                                 quote_error="down", market=market)  # fmt: skip
    assert broke.action is GateAction.REJECT and "insufficient buying power" in broke.reason
    one = OrderIntent(symbol="AAPL", side="buy", qty=1)
    allowed = SmartRouter().decide(one, spec, None, clock.now(), account(clock),
                                   quote_error="down", market=market)  # fmt: skip
    assert allowed.should_execute and allowed.cost_check is CostCheck.UNAVAILABLE
    assert "fail-open" in allowed.reason and "sized at a quote 120s old" in allowed.reason


def test_a_reference_quote_older_than_its_bound_prices_nothing(clock):
    one = OrderIntent(symbol="AAPL", side="buy", qty=1)
    spec = INSTRUMENTS.get_instrument("AAPL", one.asset_class)
    old = MarketContext(last_quote=quote(clock, "189.99", "190.01", "AAPL", age_s=301))
    refused = SmartRouter().decide(one, spec, None, clock.now(), account(clock), market=old)
    assert refused.action is GateAction.REJECT and "in the last 300s" in refused.reason
    patient = SmartRouter(RoutingPolicy(reference_price_max_age_s=600))
    assert patient.decide(one, spec, None, clock.now(), account(clock), market=old).should_execute
