"""Instrument specs from the built-in table: the paper venue's, and the fallback's."""

from __future__ import annotations

from collections.abc import Iterable

from smart_routing.assets import AssetClass, parse_symbol
from smart_routing.instruments import InstrumentSpec, builtin_spec


class BuiltinInstruments:
    def __init__(self, venue: str = "paper") -> None:
        self.venue = venue

    def get_instrument(self, symbol: str, asset_class: AssetClass) -> InstrumentSpec:
        return builtin_spec(parse_symbol(symbol, asset_class), self.venue)

    def prefetch_instruments(self, instruments: Iterable[tuple[str, AssetClass]]) -> None:
        return None
