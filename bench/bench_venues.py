"""Quotes for a scheduled-style run of 500 symbols over the four asset classes, against the
loopback fakes with 50 ms latency on every request: batched (one request per asset class)
against naive (one request per symbol).

quote_requests_batched  requests the batched run made
quote_requests_naive    requests the naive run made
batch_speedup           naive wall time over batched wall time
"""

from __future__ import annotations

import itertools
import string
import time

from smart_routing import logs
from smart_routing.adapters.clock import SystemClock
from smart_routing.domain.assets import CRYPTO_ASSETS, AssetClass, parse_symbol
from tools.fakes.alpaca import FakeAlpaca
from tools.fakes.oanda import ACCOUNT_ID, FakeOanda
from venues.alpaca.market_data import AlpacaQuoteSource
from venues.oanda.client import oanda_api
from venues.oanda.market_data import OandaQuoteSource
from venues.quote_sources import VenueMarketData
from venues.settings import AlpacaSettings, OandaSettings

LATENCY_S = 0.05
FIAT = ["USD", "EUR", "GBP", "JPY", "CHF", "CAD", "AUD", "NZD", "SEK", "NOK"]


def universe() -> list[tuple[str, AssetClass]]:
    equities = ["Q" + "".join(c) for c in itertools.product(string.ascii_uppercase, repeat=2)]
    coins = sorted(CRYPTO_ASSETS - {"USDT", "USDC", "USDG", "DAI"})
    crypto = [f"{coin}/{quote}" for quote in ("USD", "USDT", "USDC", "BTC") for coin in coins
              if coin != quote]  # fmt: skip
    options = [f"SPY260116C{strike * 1000:08d}" for strike in range(400, 500)]
    forex = [f"{a}/{b}" for a, b in itertools.permutations(FIAT, 2)]
    symbols = equities[:200] + crypto[:150] + options[:100] + forex[:50]
    return [(s, parse_symbol(s).asset_class) for s in symbols]


def main() -> None:
    alpaca, oanda = FakeAlpaca(LATENCY_S).start(), FakeOanda(LATENCY_S).start()
    for secret in ("bench-key-000000", "bench-secret-000000", "bench-token-000000"):
        logs.register_secret(secret)
    alpaca_settings = AlpacaSettings(api_key="bench-key-000000",
                                     secret_key="bench-secret-000000",
                                     trading_url=alpaca.url, data_url=alpaca.url)  # fmt: skip
    oanda_settings = OandaSettings(access_token="bench-token-000000", account_id=ACCOUNT_ID,
                                   api_url=oanda.url)  # fmt: skip
    alpaca_source = AlpacaQuoteSource(alpaca_settings, timeout_s=10)
    oanda_source = OandaQuoteSource(oanda_api(oanda_settings, timeout_s=10), ACCOUNT_ID)
    sources = {AssetClass.EQUITY: alpaca_source, AssetClass.CRYPTO: alpaca_source,
               AssetClass.OPTIONS: alpaca_source, AssetClass.FOREX: oanda_source}  # fmt: skip
    symbols = universe()
    assert len(symbols) == 500

    def requests_made() -> int:
        return alpaca.quote_requests() + oanda.price_requests()

    market = VenueMarketData(sources, SystemClock(), ttl_s=60)
    start = time.perf_counter()
    market.prefetch(symbols)
    quotes = [market.get_quote(symbol, asset_class) for symbol, asset_class in symbols]
    batched_s = time.perf_counter() - start
    batched_requests = requests_made()
    assert all(q is not None for q in quotes)

    start = time.perf_counter()
    for symbol, asset_class in symbols:
        assert sources[asset_class].latest_quotes(asset_class, [symbol])[symbol] is not None
    naive_s = time.perf_counter() - start
    naive_requests = requests_made() - batched_requests

    alpaca.server.stop()
    oanda.server.stop()
    print(f"BENCH quote_requests_batched={batched_requests}")
    print(f"BENCH quote_requests_naive={naive_requests}")
    print(f"BENCH batched_quotes_ms={batched_s * 1000:.0f}")
    print(f"BENCH naive_quotes_ms={naive_s * 1000:.0f}")
    print(f"BENCH batch_speedup={naive_s / batched_s:.1f}")


if __name__ == "__main__":
    main()
