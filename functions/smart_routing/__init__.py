"""Multi-asset smart order routing: the pure core.

Imports nothing from Firebase or Google Cloud; its collaborators (market data, broker, ledger
store, clock) come in through the protocols in `smart_routing.ports`.

The public names below load on first use, so a function that needs only part of the core
(the ledger mirror, say) does not pay at cold start for the rest.
"""

from importlib import import_module
from typing import Any

_PUBLIC = {
    "AssetClass": "assets",
    "Instrument": "assets",
    "OptionContract": "assets",
    "detect_asset_class": "assets",
    "ExecutionEngine": "engine",
    "ExecutionResult": "engine",
    "ExecutionStatus": "engine",
    "Bar": "market_data",
    "Quote": "market_data",
    "OrderIntent": "orders",
    "OrderSide": "orders",
    "OrderType": "orders",
    "Broker": "ports",
    "Clock": "ports",
    "LedgerStore": "ports",
    "MarketDataProvider": "ports",
    "SmartRouter": "gate",
    "SmartRoutingDecision": "gate",
    "SignalType": "signals",
    "TradingSignal": "signals",
    "BaseStrategy": "strategies",
}

__all__ = sorted(_PUBLIC)


def __getattr__(name: str) -> Any:
    if name not in _PUBLIC:
        raise AttributeError(f"module 'smart_routing' has no attribute {name!r}")
    return getattr(import_module(f"smart_routing.{_PUBLIC[name]}"), name)
