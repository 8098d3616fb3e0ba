"""Instrument specs from the venues through their SDKs, against the fakes."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from smart_routing import logs
from smart_routing.adapters.clock import FixedClock
from smart_routing.domain.assets import AssetClass
from smart_routing.domain.errors import InstrumentUnavailable
from smart_routing.domain.orders import OrderRequest, OrderType
from tools.fakes.alpaca import crypto_asset, equity_asset, option_contract
from tools.fakes.http import Fault
from tools.fakes.oanda import ACCOUNT_ID, FakeOanda, instrument
from venues.instrument_specs import CachedInstruments
from venues.oanda.broker import OandaBroker
from venues.oanda.client import oanda_api
from venues.oanda.instruments import OandaInstruments
from venues.settings import OandaSettings

EXPIRED = "AAPL240119C00150000"
EQUITY, CRYPTO, OPTIONS, FOREX = (AssetClass.EQUITY, AssetClass.CRYPTO, AssetClass.OPTIONS,
                                  AssetClass.FOREX)  # fmt: skip
INSTRUMENTS = f"/v3/accounts/{ACCOUNT_ID}/instruments"


# ---- Alpaca ------------------------------------------------------------------------------


def test_a_fractionable_equity_trades_to_nine_decimals(alpaca_instruments):
    (spec,) = alpaca_instruments.fetch_instruments(EQUITY, ["AAPL"]).values()
    assert (spec.venue, spec.source, spec.quote_currency) == ("alpaca", "alpaca", "USD")
    assert spec.qty_increment == Decimal("0.000000001") and spec.fractionable
    assert spec.price_tick == Decimal("0.01") and spec.tradable


def test_a_non_fractionable_equity_trades_whole_shares(fake_alpaca, alpaca_instruments):
    fake_alpaca.assets["BRK.A"] = equity_asset("BRK.A", fractionable=False)
    spec = alpaca_instruments.fetch_instruments(EQUITY, ["BRK.A"])["BRK.A"]
    assert spec.qty_increment == 1 and spec.min_qty == 1 and not spec.fractionable
    assert spec.qty_problem(Decimal("0.5")) is not None


def test_an_inactive_asset_is_not_tradable(fake_alpaca, alpaca_instruments):
    fake_alpaca.assets["ZZZ"] = equity_asset("ZZZ", status="inactive", tradable=False)
    spec = alpaca_instruments.fetch_instruments(EQUITY, ["ZZZ"])["ZZZ"]
    assert not spec.tradable and "not tradable at alpaca" in spec.untradable_reason


def test_an_unlisted_asset_is_untradable_naming_the_venue(fake_alpaca, alpaca_instruments):
    fake_alpaca.unlisted.add("NOPE")
    spec = alpaca_instruments.fetch_instruments(EQUITY, ["NOPE"])["NOPE"]
    assert not spec.tradable and spec.untradable_reason == "NOPE is not listed at alpaca"
    assert spec.tradability_problem(date(2025, 1, 2)) == "NOPE is not listed at alpaca"


def test_crypto_comes_from_the_listing_with_its_grid(fake_alpaca, alpaca_instruments):
    fake_alpaca.assets["ETH/BTC"] = crypto_asset("ETH/BTC", min_order_size="0.001",
                                                 price_increment="0.000001")  # fmt: skip
    specs = alpaca_instruments.fetch_instruments(CRYPTO, ["BTC/USD", "ETH/BTC"])
    assert len(fake_alpaca.server.requests_to("/v2/assets")) == 1
    (request,) = fake_alpaca.server.requests_to("/v2/assets")
    assert request.query["asset_class"] == ["crypto"]
    assert specs["BTC/USD"].min_qty == Decimal("0.0001") and specs["BTC/USD"].base == "BTC"
    assert specs["ETH/BTC"].quote_currency == "BTC"
    assert specs["ETH/BTC"].price_tick == Decimal("0.000001")


def test_an_option_contract_has_its_expiry_and_multiplier(alpaca_instruments):
    spec = alpaca_instruments.fetch_instruments(OPTIONS, [EXPIRED])[EXPIRED]
    assert spec.expiry == date(2024, 1, 19) and spec.multiplier == 100
    assert spec.qty_increment == 1 and spec.base == "AAPL"
    assert "expired on 2024-01-19" in spec.tradability_problem(date(2025, 1, 2))


def test_option_contracts_in_a_batch_take_one_listing(fake_alpaca, alpaca_instruments):
    symbols = ["SPY260116C00400000", "SPY260116P00400000", "SPY260220C00410000"]
    for symbol in symbols[:2]:
        fake_alpaca.contracts[symbol] = option_contract(symbol)
    specs = alpaca_instruments.fetch_instruments(OPTIONS, symbols)
    (request,) = fake_alpaca.server.requests_to("/v2/options/contracts")
    assert request.query["underlying_symbols"] == ["SPY"]
    assert request.query["expiration_date_gte"] == ["2026-01-16"]
    assert specs[symbols[0]].tradable and specs[symbols[1]].tradable
    assert not specs[symbols[2]].tradable  # not listed


@pytest.mark.parametrize(
    "fault",
    [Fault("status", "/v2/assets", status=500), Fault("malformed", "/v2/assets"),
     Fault("status", "/v2/assets", status=200, body={"symbol": "AAPL"})],
    ids=["500", "malformed", "garbage"],
)  # fmt: skip
def test_a_venue_failure_is_instrument_unavailable(fake_alpaca, alpaca_instruments, fault):
    fake_alpaca.server.inject(fault)
    with pytest.raises(InstrumentUnavailable, match="alpaca instrument data for AAPL"):
        alpaca_instruments.fetch_instruments(EQUITY, ["AAPL"])


def test_specs_are_cached_and_prefetched_in_one_request_per_class(fake_alpaca, alpaca_instruments):
    clock = FixedClock()
    cached = CachedInstruments(alpaca_instruments, clock, ttl_s=60)
    cached.prefetch_instruments([("AAPL", EQUITY), ("MSFT", EQUITY), ("BTC/USD", CRYPTO)])
    assert len(fake_alpaca.server.requests_to("/v2/assets")) == 2
    for symbol, asset_class in [("AAPL", EQUITY), ("MSFT", EQUITY), ("BTC/USD", CRYPTO)]:
        assert cached.get_instrument(symbol, asset_class).tradable
    assert len(fake_alpaca.server.requests_to("/v2/assets")) == 2
    clock.advance(61)
    cached.get_instrument("AAPL", EQUITY)
    assert len(fake_alpaca.server.requests_to("/v2/assets")) == 3


# ---- OANDA -------------------------------------------------------------------------------


@pytest.fixture
def fake_oanda():
    server = FakeOanda().start()
    yield server
    server.server.stop()


@pytest.fixture
def api(fake_oanda):
    token = "oanda-token-instruments-0123456789"
    logs.register_secret(token)
    settings = OandaSettings(access_token=token, account_id=ACCOUNT_ID, api_url=fake_oanda.url)
    return oanda_api(settings, timeout_s=0.5)


def test_oanda_pairs_come_in_one_request_with_their_precision(fake_oanda, api):
    specs = OandaInstruments(api, ACCOUNT_ID).fetch_instruments(FOREX, ["EUR/USD", "USD/JPY"])
    (request,) = fake_oanda.server.requests_to(INSTRUMENTS)
    assert request.query["instruments"] == ["EUR_USD,USD_JPY"]
    assert specs["EUR/USD"].price_tick == Decimal("0.00001")
    assert specs["USD/JPY"].price_tick == Decimal("0.001")
    assert specs["USD/JPY"].quote_currency == "JPY" and specs["USD/JPY"].base == "USD"
    assert specs["EUR/USD"].qty_increment == 1 and specs["EUR/USD"].min_qty == 1
    assert specs["EUR/USD"].source == "oanda" and specs["EUR/USD"].shortable


def test_an_oanda_pair_the_account_lacks_is_untradable(fake_oanda, api):
    fake_oanda.unlisted.add("USD_TRY")
    spec = OandaInstruments(api, ACCOUNT_ID).fetch_instruments(FOREX, ["USD/TRY"])["USD/TRY"]
    assert not spec.tradable and spec.untradable_reason == "USD/TRY is not listed at oanda"


@pytest.mark.parametrize(
    "fault",
    [Fault("status", INSTRUMENTS, status=503), Fault("malformed", INSTRUMENTS),
     Fault("status", INSTRUMENTS, status=200,
           body={"instruments": [instrument("EUR_USD", displayPrecision="five")]})],
    ids=["503", "malformed", "garbage"],
)  # fmt: skip
def test_an_oanda_failure_is_instrument_unavailable(fake_oanda, api, fault):
    fake_oanda.server.inject(fault)
    with pytest.raises(InstrumentUnavailable, match="oanda instrument data for EUR/USD"):
        OandaInstruments(api, ACCOUNT_ID).fetch_instruments(FOREX, ["EUR/USD"])


@pytest.mark.parametrize(
    ("symbol", "price", "sent"),
    [("USD/JPY", "150.125", "150.125"), ("EUR/USD", "1.05", "1.05000")],
)
def test_a_limit_price_goes_out_at_the_instruments_precision(fake_oanda, api, symbol, price,
                                                             sent):  # fmt: skip
    instruments = CachedInstruments(OandaInstruments(api, ACCOUNT_ID), FixedClock(), 60)
    broker = OandaBroker(api, ACCOUNT_ID, instruments)
    request = OrderRequest(client_order_id="limit-1", symbol=symbol, asset_class=FOREX,
                           side="buy", qty=1000, order_type=OrderType.LIMIT,
                           limit_price=Decimal(price))  # fmt: skip
    broker.submit_order(request)
    (post,) = fake_oanda.server.requests_to(f"/v3/accounts/{ACCOUNT_ID}/orders")
    assert post.body["order"]["price"] == sent


@pytest.mark.parametrize(
    ("commission", "financing", "fees"),
    [
        ("0.2500", "-0.0125", "0.2625"),  # financing paid is a cost too
        ("0.2500", "0.0400", "0.2500"),  # financing received is no fee and offsets none
    ],
)
def test_oanda_fill_fees_are_its_costs_in_the_home_currency(
    fake_oanda, api, commission, financing, fees
):
    fake_oanda.commission, fake_oanda.financing = commission, financing
    request = OrderRequest(client_order_id="fee-1", symbol="EUR/USD", asset_class=FOREX,
                           side="buy", qty=1000)  # fmt: skip
    broker = OandaBroker(api, ACCOUNT_ID)
    order = broker.submit_order(request)
    assert (order.fees, order.fee_currency) == (Decimal(fees), "USD")
    found = broker.get_order_by_client_id("fee-1")
    assert (found.fees, found.fee_currency) == (Decimal(fees), "USD")


def test_alpaca_reports_no_fee_so_the_ledger_uses_the_model(alpaca_broker):
    request = OrderRequest(client_order_id="fee-2", symbol="BTC/USD", asset_class=CRYPTO,
                           side="buy", qty=Decimal("0.01"))  # fmt: skip
    assert alpaca_broker.submit_order(request).fees is None


def test_crypto_positions_are_keyed_canonically(fake_alpaca, alpaca_broker):
    request = OrderRequest(client_order_id="btc-1", symbol="BTC/USD", asset_class=CRYPTO,
                           side="buy", qty=Decimal("0.5"))  # fmt: skip
    order = alpaca_broker.submit_order(request)
    assert order.symbol == "BTC/USD" and order.asset_class is CRYPTO
    raw_positions = fake_alpaca._positions(None)[1]
    assert [(p["symbol"], p["asset_class"]) for p in raw_positions] == [("BTCUSD", "crypto")]
    account = alpaca_broker.get_account()
    assert account.position_qty("BTC/USD") == Decimal("0.5")
    assert account.positions["BTC/USD"].asset_class is CRYPTO
    found = alpaca_broker.get_order_by_client_id("btc-1")
    assert found.symbol == "BTC/USD" and found.asset_class is CRYPTO


def test_a_coin_the_symbol_list_does_not_know_keeps_the_account_readable(
    fake_alpaca, alpaca_broker
):
    request = OrderRequest(client_order_id="render-1", symbol="RENDER/USD", asset_class=CRYPTO,
                           side="buy", qty=Decimal("3"))  # fmt: skip
    alpaca_broker.submit_order(request)
    raw_positions = fake_alpaca._positions(None)[1]
    assert [p["symbol"] for p in raw_positions] == ["RENDERUSD"]
    account = alpaca_broker.get_account()
    assert account.position_qty("RENDER/USD") == Decimal(3)
