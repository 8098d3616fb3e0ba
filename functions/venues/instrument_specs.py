"""Instrument specs from the venues: a short per-instance cache over a venue's batched fetch,
and one InstrumentSource that sends each asset class to its venue's specs."""

from __future__ import annotations

import threading
from collections import defaultdict
from collections.abc import Iterable
from typing import Protocol

from smart_routing.domain.assets import AssetClass, parse_symbol
from smart_routing.domain.bounded_cache import put_bounded
from smart_routing.domain.errors import InstrumentUnavailable
from smart_routing.domain.instruments import InstrumentSpec, builtin_spec
from smart_routing.ports import Clock, InstrumentSource


class InstrumentFetcher(Protocol):
    """One venue's instrument lookups: every asked symbol comes back, an unlisted one with
    tradable False. Raises InstrumentUnavailable when the venue fails or answers garbage."""

    def fetch_instruments(
        self, asset_class: AssetClass, symbols: list[str]
    ) -> dict[str, InstrumentSpec]: ...


class CachedInstruments:
    """An InstrumentSource over a fetcher: specs are kept `ttl_s` from when they were fetched,
    and a prefetch asks the venue once per asset class for every stale symbol."""

    def __init__(self, fetcher: InstrumentFetcher, clock: Clock, ttl_s: float) -> None:
        self.fetcher = fetcher
        self.clock = clock
        self.ttl_s = ttl_s
        self._cache: dict[tuple[AssetClass, str], tuple[float, InstrumentSpec]] = {}
        self._lock = threading.Lock()

    def get_instrument(self, symbol: str, asset_class: AssetClass) -> InstrumentSpec:
        cached = self._fresh(asset_class, symbol)
        if cached is not None:
            return cached
        return self._fetch(asset_class, [symbol])[symbol]

    def prefetch_instruments(self, instruments: Iterable[tuple[str, AssetClass]]) -> None:
        """A failing class is left uncached: its get_instrument raises and the engine says so."""
        wanted: dict[AssetClass, list[str]] = defaultdict(list)
        for symbol, asset_class in instruments:
            if self._fresh(asset_class, symbol) is None and symbol not in wanted[asset_class]:
                wanted[asset_class].append(symbol)
        for asset_class, symbols in wanted.items():
            try:
                self._fetch(asset_class, symbols)
            except InstrumentUnavailable:
                continue

    def _fresh(self, asset_class: AssetClass, symbol: str) -> InstrumentSpec | None:
        entry = self._cache.get((asset_class, symbol))
        now = self.clock.now().timestamp()
        return entry[1] if entry is not None and now - entry[0] <= self.ttl_s else None

    def _fetch(self, asset_class: AssetClass, symbols: list[str]) -> dict[str, InstrumentSpec]:
        specs = self.fetcher.fetch_instruments(asset_class, symbols)
        missing = [s for s in symbols if s not in specs]
        if missing:
            raise InstrumentUnavailable(f"no instrument data for {', '.join(missing)}")
        fetched_at = self.clock.now().timestamp()
        with self._lock:
            for symbol in symbols:
                put_bounded(self._cache, (asset_class, symbol), (fetched_at, specs[symbol]))
        return {symbol: specs[symbol] for symbol in symbols}


class VenueInstruments:
    """The InstrumentSource the engine sees: each asset class's specs from its venue."""

    def __init__(self, sources: dict[AssetClass, InstrumentSource]) -> None:
        self.sources = sources

    def get_instrument(self, symbol: str, asset_class: AssetClass) -> InstrumentSpec:
        return self.sources[asset_class].get_instrument(symbol, asset_class)

    def prefetch_instruments(self, instruments: Iterable[tuple[str, AssetClass]]) -> None:
        by_class: dict[AssetClass, list[tuple[str, AssetClass]]] = defaultdict(list)
        for symbol, asset_class in instruments:
            by_class[asset_class].append((symbol, asset_class))
        for asset_class, wanted in by_class.items():
            self.sources[asset_class].prefetch_instruments(wanted)


def unlisted(symbol: str, asset_class: AssetClass, venue: str) -> InstrumentSpec:
    """The spec of an instrument the venue does not list: never tradable, and why."""
    spec = builtin_spec(parse_symbol(symbol, asset_class), venue)
    return spec.model_copy(
        update={"tradable": False, "untradable_reason": f"{symbol} is not listed at {venue}",
                "source": venue}
    )  # fmt: skip
