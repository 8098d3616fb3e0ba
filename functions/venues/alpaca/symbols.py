"""Alpaca's names for symbols and asset classes, read as ours."""

from __future__ import annotations

import contextlib
from typing import Any

from smart_routing.domain.assets import AssetClass, parse_symbol

_ASSET_CLASS = {"us_equity": AssetClass.EQUITY, "crypto": AssetClass.CRYPTO,
                "us_option": AssetClass.OPTIONS}  # fmt: skip
# What Alpaca's crypto pairs are quoted in, longest first (USDT before USD).
_CRYPTO_QUOTES = ("USDT", "USDC", "USD", "BTC")


def canonical_symbol(symbol: str, asset_class: AssetClass) -> str:
    """Alpaca names crypto positions BTCUSD and crypto orders BTC/USD: keep BTC/USD, also for
    a coin our list does not know (RENDERUSD is RENDER/USD). A name that still makes no pair
    stays as Alpaca wrote it: one odd position must not make the account unreadable."""
    try:
        return parse_symbol(symbol, asset_class).symbol
    except ValueError:
        pass
    if asset_class is AssetClass.CRYPTO and "/" not in symbol:
        for quote in _CRYPTO_QUOTES:
            base = symbol[: -len(quote)]
            if symbol.endswith(quote) and len(base) >= 2:
                with contextlib.suppress(ValueError):
                    return parse_symbol(f"{base}/{quote}", asset_class).symbol
    return symbol


def asset_class_of(raw: Any) -> AssetClass:
    """The asset class of an alpaca-py position or order (equity when Alpaca's is unknown)."""
    return _ASSET_CLASS.get(str(getattr(raw.asset_class, "value", raw.asset_class)),
                            AssetClass.EQUITY)  # fmt: skip
