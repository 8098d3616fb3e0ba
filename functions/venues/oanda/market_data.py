"""OANDA's market data for forex: latest prices and minute candles (it publishes no depth)."""

from __future__ import annotations

import time
from collections.abc import Callable
from decimal import Decimal
from typing import Any

from oandapyV20 import API
from oandapyV20.endpoints import pricing

from smart_routing.domain.assets import AssetClass
from smart_routing.market.quotes import Bar, Quote
from venues.oanda.client import rate_limited_request
from venues.oanda.formats import amount, instrument_of, parse_time


class OandaQuoteSource:
    name = "oanda"

    def __init__(self, api: API, account_id: str, sleep: Callable[[float], None] = time.sleep):
        self.api, self.account_id, self.sleep = api, account_id, sleep

    def latest_quotes(self, asset_class: AssetClass, symbols: list[str]) -> dict[str, Quote | None]:
        wanted = {instrument_of(s): s for s in symbols}
        endpoint = pricing.PricingInfo(self.account_id, params={"instruments": ",".join(wanted)})
        response = rate_limited_request(self.api, endpoint, self.sleep)
        quotes: dict[str, Quote | None] = dict.fromkeys(symbols)
        for price in response.get("prices", []):
            symbol = wanted.get(price["instrument"])
            if symbol is None or not price.get("tradeable", True) or not price.get("bids"):
                continue
            bid, ask = price["bids"][0], price["asks"][0]
            quotes[symbol] = Quote(
                symbol=symbol, bid=amount(bid["price"], "bid"), ask=amount(ask["price"], "ask"),
                as_of=parse_time(price["time"]), source="oanda",
                bid_size=_liquidity(bid), ask_size=_liquidity(ask),
            )  # fmt: skip
        return quotes

    def bars(self, asset_class: AssetClass, symbol: str, limit: int) -> list[Bar]:
        from oandapyV20.endpoints.instruments import InstrumentsCandles

        endpoint = InstrumentsCandles(
            instrument_of(symbol), params={"granularity": "M1", "count": limit, "price": "M"}
        )
        return [
            Bar(start=parse_time(c["time"]), open=float(c["mid"]["o"]),
                high=float(c["mid"]["h"]), low=float(c["mid"]["l"]), close=float(c["mid"]["c"]),
                volume=c.get("volume", 0))
            for c in rate_limited_request(self.api, endpoint, self.sleep).get("candles", [])
            if c.get("complete", True)
        ]  # fmt: skip

    def order_book(self, asset_class: AssetClass, symbol: str) -> None:
        """OANDA publishes no depth for the cost estimate."""
        return None


def _liquidity(bucket: dict[str, Any]) -> Decimal | None:
    """The units available at the bucket's price (OANDA's PriceBucket `liquidity`), as given."""
    liquidity = bucket.get("liquidity")
    return None if liquidity is None else amount(liquidity, "liquidity")
