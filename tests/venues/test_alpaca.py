"""The real alpaca-py clients against a fake Alpaca on 127.0.0.1, with faults."""

from __future__ import annotations

import json
from decimal import Decimal

import pytest

from smart_routing.adapters.clock import FixedClock
from smart_routing.adapters.memory_ledger import InMemoryLedgerStore
from smart_routing.domain.assets import AssetClass
from smart_routing.domain.bounded_cache import MAX_CACHED
from smart_routing.domain.errors import OrderRejected
from smart_routing.domain.orders import OrderIntent, OrderRequest, OrderSide, TimeInForce
from smart_routing.execution.result import ExecutionStatus
from smart_routing.gate.policy import FailMode
from smart_routing.market.spread import depth_slippage
from tests.venues.conftest import ALPACA_KEY, ALPACA_SECRET
from tools.fakes.http import Fault
from venues.alpaca.broker import alpaca_order_request
from venues.quote_sources import VenueMarketData

HANG_S = 1.5  # longer than the clients' 0.5 s timeout


def buy(symbol="AAPL", qty=10.0, key="intent-1"):
    return OrderIntent(symbol=symbol, side="buy", qty=qty, idempotency_key=key)


# ---- market data -----------------------------------------------------------------------


def test_latest_quotes_for_many_symbols_take_one_request(fake_alpaca, alpaca_source):
    fake_alpaca.set_quote("MSFT", 419.9, 420.1)
    fake_alpaca.drop_quote("GONE")
    quotes = alpaca_source.latest_quotes(AssetClass.EQUITY, ["AAPL", "MSFT", "GONE"])
    assert fake_alpaca.quote_requests() == 1
    (request,) = fake_alpaca.server.requests_to("/v2/stocks/quotes/latest")
    assert request.query["feed"] == ["iex"]
    assert (quotes["MSFT"].bid, quotes["MSFT"].ask) == (Decimal("419.9"), Decimal("420.1"))
    assert quotes["MSFT"].source == "alpaca:iex" and quotes["MSFT"].as_of.tzinfo is not None
    assert quotes["GONE"] is None


@pytest.mark.parametrize(
    ("asset_class", "symbol", "path"),
    [
        (AssetClass.CRYPTO, "BTC/USD", "/v1beta3/crypto/us/latest/quotes"),
        (AssetClass.OPTIONS, "AAPL240119C00150000", "/v1beta1/options/quotes/latest"),
    ],
)
def test_each_asset_class_uses_its_endpoint(fake_alpaca, alpaca_source, asset_class, symbol, path):
    fake_alpaca.set_quote(symbol, 10, 10.5)
    quote = alpaca_source.latest_quotes(asset_class, [symbol])[symbol]
    assert (quote.bid, quote.ask) == (Decimal(10), Decimal("10.5"))
    assert len(fake_alpaca.server.requests_to(path)) == 1


def test_the_quote_cache_serves_repeats_within_its_ttl(fake_alpaca, alpaca_source):
    clock = FixedClock()
    market = VenueMarketData({AssetClass.EQUITY: alpaca_source}, clock, ttl_s=1.0)
    market.get_quote("AAPL", AssetClass.EQUITY)
    market.get_quote("AAPL", AssetClass.EQUITY)
    assert fake_alpaca.quote_requests() == 1
    clock.advance(1.5)
    market.get_quote("AAPL", AssetClass.EQUITY)
    assert fake_alpaca.quote_requests() == 2


def test_prefetch_takes_one_request_per_asset_class(fake_alpaca, alpaca_source):
    classes = (AssetClass.EQUITY, AssetClass.CRYPTO, AssetClass.OPTIONS)
    market = VenueMarketData(dict.fromkeys(classes, alpaca_source), FixedClock(), ttl_s=1.0)
    symbols = [("AAPL", AssetClass.EQUITY), ("MSFT", AssetClass.EQUITY),
               ("BTC/USD", AssetClass.CRYPTO), ("ETH/USD", AssetClass.CRYPTO),
               ("AAPL240119C00150000", AssetClass.OPTIONS)]  # fmt: skip
    market.prefetch(symbols)
    for symbol, asset_class in symbols:
        assert market.get_quote(symbol, asset_class) is not None
    assert fake_alpaca.quote_requests() == 3


def test_bars_and_the_crypto_order_book(fake_alpaca, alpaca_source):
    bars = alpaca_source.bars(AssetClass.CRYPTO, "BTC/USD", 20)
    assert len(bars) == 20 and bars[-1].close == pytest.approx(100.01)
    book = alpaca_source.order_book(AssetClass.CRYPTO, "BTC/USD")
    assert alpaca_source.order_book(AssetClass.EQUITY, "AAPL") is None
    assert book.asks[0].price == 100.02
    small = depth_slippage(book, OrderSide.BUY, 0.5)
    large = depth_slippage(book, OrderSide.BUY, 2.0)
    assert small == pytest.approx(0.0001, rel=1e-3) and large > small
    assert depth_slippage(book, OrderSide.BUY, 100) is None


# ---- market data faults: the fail mode decides, nothing escapes -----------------------

MARKET_DATA_FAULTS = [
    Fault("status", "/v2/stocks", status=500),
    Fault("status", "/v2/stocks", status=503),
    Fault("status", "/v2/stocks", status=429, retry_after=30),
    Fault("malformed", "/v2/stocks"),
    Fault("hang", "/v2/stocks", seconds=HANG_S),
]


@pytest.mark.parametrize("fault", MARKET_DATA_FAULTS, ids=lambda f: f"{f.kind}-{f.status}")
@pytest.mark.parametrize("mode", list(FailMode))
def test_a_market_data_failure_follows_the_fail_mode(fake_alpaca, make_engine, fault, mode):
    """Fail-open skips the cost check, sizing the order at the last quote the engine saw."""
    engine = make_engine(mode)
    assert engine.execute_intent(intent=buy(key="seen")).status is ExecutionStatus.FILLED
    fake_alpaca.server.inject(fault)
    result = engine.execute_intent(intent=buy())
    assert result.routing.spread_pct is None
    assert "Quote unavailable (" in result.routing.reason
    if mode is FailMode.OPEN:
        assert result.status is ExecutionStatus.FILLED
        assert "sized at a quote" in result.routing.reason
    else:
        assert result.status is ExecutionStatus.DOWNGRADED
    assert len(fake_alpaca.orders) == (2 if mode is FailMode.OPEN else 1)


@pytest.mark.parametrize("fault", MARKET_DATA_FAULTS, ids=lambda f: f"{f.kind}-{f.status}")
def test_with_no_price_at_all_nothing_reaches_the_venue(fake_alpaca, make_engine, fault):
    fake_alpaca.server.inject(fault)
    result = make_engine(FailMode.OPEN).execute_intent(intent=buy())
    assert result.status is ExecutionStatus.REJECTED
    assert "no price was available to check the size" in result.routing.reason
    assert fake_alpaca.orders == {}


@pytest.mark.parametrize(("bid", "ask", "problem"), [(0, 0, "not positive"), (101, 100, "crossed")])
def test_an_empty_or_crossed_quote_is_unavailable(fake_alpaca, make_engine, bid, ask, problem):
    fake_alpaca.set_quote("AAPL", bid, ask)
    result = make_engine(FailMode.CLOSED).execute_intent(intent=buy())
    assert result.status is ExecutionStatus.DOWNGRADED
    assert problem in result.routing.reason
    assert fake_alpaca.orders == {}


def test_a_429_with_a_short_retry_after_is_retried(fake_alpaca, make_engine):
    fake_alpaca.server.inject(Fault("status", "/v2/stocks", status=429, retry_after=0.05))
    result = make_engine(FailMode.CLOSED).execute_intent(intent=buy())
    assert result.status is ExecutionStatus.FILLED
    assert result.routing.spread_pct is not None
    assert fake_alpaca.quote_requests() == 2


# ---- orders ----------------------------------------------------------------------------


def test_a_fill_records_the_venue_used(fake_alpaca, make_engine):
    ledger = InMemoryLedgerStore()
    result = make_engine(ledger=ledger).execute_intent(intent=buy())
    assert result.status is ExecutionStatus.FILLED
    assert result.routing.venue == "alpaca" and result.trade.broker == "alpaca"
    assert result.trade.price == Decimal("100.02") and result.trade.fees == 0
    (sent,) = fake_alpaca.server.requests_to("/v2/orders")
    assert sent.body["client_order_id"] == result.client_order_id
    assert sent.body["time_in_force"] == "day" and sent.body["type"] == "market"


def test_a_rejection_comes_back_with_the_venues_reason(fake_alpaca, make_engine):
    fake_alpaca.order_mode = "reject"
    result = make_engine().execute_intent(intent=buy())
    assert result.status is ExecutionStatus.REJECTED
    assert "insufficient buying power" in result.message


def test_a_partial_fill_records_exactly_the_filled_quantity(fake_alpaca, make_engine):
    fake_alpaca.order_mode = "partial"
    ledger = InMemoryLedgerStore()
    result = make_engine(ledger=ledger).execute_intent(intent=buy(qty=10))
    assert result.status is ExecutionStatus.PARTIALLY_FILLED
    assert [t.qty for t in ledger.trades("local-tenant")] == [5]


def test_an_accepted_order_records_nothing_yet(fake_alpaca, make_engine):
    fake_alpaca.order_mode = "accept"
    ledger = InMemoryLedgerStore()
    result = make_engine(ledger=ledger).execute_intent(intent=buy())
    assert result.status is ExecutionStatus.ACCEPTED
    assert ledger.trades("local-tenant") == []


@pytest.mark.parametrize("status", [500, 503])
def test_a_5xx_is_looked_up_by_the_engine_and_a_retry_sends_once(fake_alpaca, make_engine, status):
    fake_alpaca.server.inject(Fault("status", "/v2/orders", method="POST", status=status))
    engine = make_engine()
    first = engine.execute_intent(intent=buy())
    assert first.status is ExecutionStatus.UNKNOWN and fake_alpaca.orders == {}
    assert len(fake_alpaca.server.requests_to("/v2/orders:by_client_order_id")) == 1
    assert len(fake_alpaca.server.requests_to("/v2/orders")) == 2  # one POST, one lookup
    retry = engine.execute_intent(intent=buy())
    assert retry.status is ExecutionStatus.FILLED and len(fake_alpaca.orders) == 1


def test_a_429_on_submit_is_sent_again(fake_alpaca, make_engine):
    fault = Fault("status", "/v2/orders", method="POST", status=429, retry_after=0.05)
    fake_alpaca.server.inject(fault)
    result = make_engine().execute_intent(intent=buy())
    assert result.status is ExecutionStatus.FILLED
    assert len(fake_alpaca.orders) == 1


def test_a_late_reply_is_resolved_by_looking_the_order_up(fake_alpaca, make_engine):
    fake_alpaca.server.inject(Fault("hang_after", "/v2/orders", method="POST", seconds=HANG_S))
    result = make_engine().execute_intent(intent=buy())
    assert result.status is ExecutionStatus.FILLED
    assert len(fake_alpaca.orders) == 1
    assert len(fake_alpaca.server.requests_to("/v2/orders:by_client_order_id")) == 1


def test_a_hung_venue_gives_unknown_and_never_a_second_order(fake_alpaca, make_engine):
    fake_alpaca.server.inject(Fault("hang", "/v2/orders", times=2, seconds=HANG_S))
    engine = make_engine()
    first = engine.execute_intent(intent=buy(key="hung"))
    assert first.status is ExecutionStatus.UNKNOWN
    assert "outcome unknown" in first.message
    assert len(fake_alpaca.orders) <= 1
    fake_alpaca.server.requests.clear()
    import time

    time.sleep(HANG_S)  # the hung requests finish at the venue
    retry = engine.execute_intent(intent=buy(key="hung"))
    assert retry.status is ExecutionStatus.FILLED
    assert len(fake_alpaca.orders) == 1


@pytest.mark.parametrize(
    ("symbol", "asset_class", "qty", "tif", "message"),
    [
        ("BTC/USD", AssetClass.CRYPTO, 1, TimeInForce.DAY, "gtc or ioc"),
        ("AAPL240119C00150000", AssetClass.OPTIONS, 1.5, None, "whole contracts"),
        ("AAPL240119C00150000", AssetClass.OPTIONS, 1, TimeInForce.GTC, "day"),
        ("AAPL", AssetClass.EQUITY, 0.5, TimeInForce.GTC, "fractional"),
        ("EUR/USD", AssetClass.FOREX, 1000, None, "does not trade forex"),
    ],
)
def test_asset_class_rules_are_enforced_before_the_call(symbol, asset_class, qty, tif, message):
    request = OrderRequest(client_order_id="c", symbol=symbol, asset_class=asset_class,
                           side="buy", qty=qty, time_in_force=tif)  # fmt: skip
    with pytest.raises(OrderRejected, match=message):
        alpaca_order_request(request)


def test_fractional_equities_and_crypto_defaults_are_allowed():
    fractional = OrderRequest(client_order_id="c", symbol="AAPL", asset_class="EQUITY",
                              side="buy", qty=0.5)  # fmt: skip
    assert alpaca_order_request(fractional).time_in_force.value == "day"
    crypto = OrderRequest(client_order_id="c", symbol="BTC/USD", asset_class="CRYPTO",
                          side="sell", qty=0.01)  # fmt: skip
    assert alpaca_order_request(crypto).time_in_force.value == "gtc"


def test_the_account_snapshot(fake_alpaca, make_engine, alpaca_broker):
    make_engine().execute_intent(intent=buy())
    account = alpaca_broker.get_account()
    assert account.currency == "USD"
    assert account.cash == Decimal(100_000) and account.buying_power == Decimal(200_000)
    assert account.position_qty("AAPL") == Decimal(10)


# ---- secrets -----------------------------------------------------------------------------


def test_no_key_appears_in_logs_errors_or_records(fake_alpaca, make_engine, capsys):
    echo = {"message": f"bad credentials {ALPACA_KEY} / {ALPACA_SECRET}"}
    ledger = InMemoryLedgerStore()
    engine = make_engine(ledger=ledger)
    # A quote seen first sizes the next order when its quote request fails (fail-open).
    assert engine.execute_intent(intent=buy(key="seen")).status is ExecutionStatus.FILLED
    fake_alpaca.server.inject(Fault("status", "/v2/stocks", status=401, body=echo))
    fake_alpaca.server.inject(Fault("status", "/v2/orders", method="POST", status=403, body=echo))
    rejected = engine.execute_intent(intent=buy(key="a"))
    filled = engine.execute_intent(intent=buy(key="b"))
    assert rejected.status is ExecutionStatus.REJECTED and filled.status is ExecutionStatus.FILLED
    everything = capsys.readouterr().out + json.dumps(
        [r.model_dump(mode="json") for r in (rejected, filled)]
        + [t.model_dump(mode="json") for t in ledger.trades("local-tenant")]
    )
    assert "[redacted]" in everything  # the fake did echo them
    assert ALPACA_KEY not in everything and ALPACA_SECRET not in everything
    sent = fake_alpaca.server.requests_to("/v2/orders")[0]
    assert sent.headers["APCA-API-KEY-ID"] == ALPACA_KEY  # the real client sent the real key


def test_the_quote_cache_keeps_the_newest_symbols_when_flooded(fake_alpaca, alpaca_source):
    """Symbols come from callers: a flood of them evicts the oldest, bounding the memory of
    an instance that serves many tenants for hours."""
    market = VenueMarketData({AssetClass.EQUITY: alpaca_source}, FixedClock(), ttl_s=3600)
    symbols = [f"S{n:05d}" for n in range(MAX_CACHED + 100)]
    for start in range(0, len(symbols), 500):
        market.fetch_quotes(AssetClass.EQUITY, symbols[start : start + 500])
    flood = fake_alpaca.quote_requests()
    market.get_quote(symbols[-1], AssetClass.EQUITY)  # the newest: still cached
    assert fake_alpaca.quote_requests() == flood
    market.get_quote(symbols[0], AssetClass.EQUITY)  # among the oldest 100: evicted
    assert fake_alpaca.quote_requests() == flood + 1
