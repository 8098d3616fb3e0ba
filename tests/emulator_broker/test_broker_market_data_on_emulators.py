"""A broker deployment's market data through the functions emulator: with only the broker keys
set, an order is priced on quotes the market-data fake served to those keys as HTTP Basic auth,
and its listing is read from the Broker API."""

from __future__ import annotations

from tests.emulator_broker.broker_users import linked_user
from tests.emulator_broker.conftest import KEYS
from tools.emulator_client import call
from tools.fakes.alpaca import basic_header

BROKER_KEYS = (KEYS["ALPACA_BROKER_API_KEY"], KEYS["ALPACA_BROKER_SECRET_KEY"])


def test_no_trading_keys_are_set_for_the_broker_deployment():
    assert set(KEYS) == {"ALPACA_BROKER_API_KEY", "ALPACA_BROKER_SECRET_KEY"}


def test_an_order_is_priced_on_quotes_read_with_the_broker_keys(fakes, symbol):
    market, broker = fakes
    _, _, user, _ = linked_user(broker, "data")

    data = {"strategy_id": "manual", "symbol": symbol, "side": "buy", "qty": 2}
    bought = call("execute_strategy", data, user.id_token).result
    assert bought["status"] == "filled", bought

    quoted = [r for r in market.server.requests_to("/v2/stocks/quotes/latest")
              if symbol in r.query["symbols"][0].split(",")]  # fmt: skip
    assert quoted, "the order was not priced on the market-data fake"
    assert all(r.headers.get("Authorization") == basic_header(BROKER_KEYS) for r in quoted)
    assert not any("APCA-API-KEY-ID" in r.headers for r in market.server.requests)
    assert broker.server.requests_to(f"/v1/assets/{symbol}")  # the listing: the Broker API's
    assert not market.server.requests_to("/v2/assets")
