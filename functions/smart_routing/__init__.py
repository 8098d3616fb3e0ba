"""Multi-asset smart order routing: the pure core, in packages by concept (domain, market,
gate, portfolio, strategies, execution, tca, config, adapters, replay; ports.py).

Imports nothing from Firebase, Google Cloud or the venues; its collaborators (market data,
broker, ledger store, clock) come in through the protocols in `smart_routing.ports`. Each
package's docstring says what it owns and what it may import (tests/test_architecture.py).

The public names below load on first use, so a function that needs only part of the core
(the ledger mirror, say) does not pay at cold start for the rest.
"""

from importlib import import_module
from typing import Any

_PUBLIC = {
    "AssetClass": "domain.assets",
    "Instrument": "domain.assets",
    "OptionContract": "domain.assets",
    "detect_asset_class": "domain.assets",
    "ExecutionEngine": "execution.engine",
    "ExecutionResult": "execution.result",
    "ExecutionStatus": "execution.result",
    "Bar": "market.quotes",
    "Quote": "market.quotes",
    "OrderIntent": "domain.orders",
    "OrderSide": "domain.orders",
    "OrderType": "domain.orders",
    "Broker": "ports",
    "Clock": "ports",
    "LedgerStore": "ports",
    "MarketDataProvider": "ports",
    "SmartRouter": "gate.router",
    "SmartRoutingDecision": "gate.decision",
    "SignalType": "domain.signals",
    "TradingSignal": "domain.signals",
    "BaseStrategy": "strategies",
}

__all__ = sorted(_PUBLIC)


def __getattr__(name: str) -> Any:
    if name not in _PUBLIC:
        raise AttributeError(f"module 'smart_routing' has no attribute {name!r}")
    return getattr(import_module(f"smart_routing.{_PUBLIC[name]}"), name)
