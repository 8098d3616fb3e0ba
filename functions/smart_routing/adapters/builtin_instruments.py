"""Instrument specs from the built-in table: the paper venue's, and the fallback's."""

from __future__ import annotations

from collections.abc import Iterable

from smart_routing.domain.assets import AssetClass, parse_symbol
from smart_routing.domain.instruments import InstrumentSpec, builtin_spec


class BuiltinInstruments:
    def __init__(self, venue: str = "paper") -> None:
        self.venue = venue
        self._specs: dict[tuple[str, AssetClass], InstrumentSpec] = {}

    def get_instrument(self, symbol: str, asset_class: AssetClass) -> InstrumentSpec:
        key = (symbol, asset_class)
        spec = self._specs.get(key)
        if spec is None:  # a table lookup: no expiry of its own, so kept for good
            spec = self._specs[key] = builtin_spec(parse_symbol(symbol, asset_class), self.venue)
        return spec

    def prefetch_instruments(self, instruments: Iterable[tuple[str, AssetClass]]) -> None:
        return None
