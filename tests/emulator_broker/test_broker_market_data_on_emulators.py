"""A broker deployment's market data through the functions emulator: with only the broker keys
set, an order is priced on quotes the market-data fake served to those keys as HTTP Basic auth,
and its listing is read from the Broker API."""

from __future__ import annotations

import uuid
from decimal import Decimal

from tests.emulator_broker.conftest import KEYS
from tools.emulator_client import call, new_user, sign_in
from tools.fakes.alpaca import basic_header, equity_asset

BROKER_KEYS = (KEYS["ALPACA_BROKER_API_KEY"], KEYS["ALPACA_BROKER_SECRET_KEY"])


def test_no_trading_keys_are_set_for_the_broker_deployment():
    assert set(KEYS) == {"ALPACA_BROKER_API_KEY", "ALPACA_BROKER_SECRET_KEY"}


def test_an_order_is_priced_on_quotes_read_with_the_broker_keys(fakes):
    from firebase_admin import auth

    market, broker = fakes
    symbol = "Q" + "".join(chr(65 + b % 26) for b in uuid.uuid4().bytes[:3])
    broker.assets[symbol] = equity_asset(symbol)
    market.set_quote(symbol, 100.00, 100.02)
    broker.prices[symbol] = Decimal("100.02")
    tenant = f"data-{uuid.uuid4().hex[:8]}"
    admin_user, user = new_user(tenant), new_user(tenant)
    auth.set_custom_user_claims(admin_user.uid, {"tenant_id": tenant, "role": "admin"})
    admin = sign_in(admin_user.email, admin_user.password)
    account = broker.add_account()
    linked = call("link_venue_account", {"uid": user.uid, "venue": "alpaca",
                                         "account_id": account}, admin.id_token)  # fmt: skip
    assert linked.result["changed"] is True

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
