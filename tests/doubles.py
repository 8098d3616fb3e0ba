"""Test doubles shared by the core's tests."""

from __future__ import annotations


class CountingMarket:
    """The simulated market, counting the quotes asked of it."""

    def __init__(self, inner):
        self.inner, self.quotes = inner, []

    def get_quote(self, symbol, asset_class):
        self.quotes.append(symbol)
        return self.inner.get_quote(symbol, asset_class)

    def get_bars(self, symbol, asset_class, limit):
        return self.inner.get_bars(symbol, asset_class, limit)

    def prefetch(self, instruments):
        return self.inner.prefetch(instruments)

    def get_order_book(self, symbol, asset_class):
        return self.inner.get_order_book(symbol, asset_class)
