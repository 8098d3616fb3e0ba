"""Multi-asset smart order routing: the pure core.

Imports nothing from Firebase or Google Cloud; its collaborators (market data, broker, ledger
store, clock) come in through the protocols in `smart_routing.ports`.
"""

from smart_routing.assets import AssetClass, Instrument, OptionContract, detect_asset_class
from smart_routing.engine import ExecutionEngine, ExecutionResult, ExecutionStatus
from smart_routing.market_data import Bar, Quote
from smart_routing.orders import OrderIntent, OrderSide, OrderType
from smart_routing.ports import Broker, Clock, LedgerStore, MarketDataProvider
from smart_routing.routing import SmartRouter, SmartRoutingDecision
from smart_routing.signals import SignalType, TradingSignal
from smart_routing.strategies import BaseStrategy

__all__ = [
    "AssetClass",
    "Bar",
    "BaseStrategy",
    "Broker",
    "Clock",
    "ExecutionEngine",
    "ExecutionResult",
    "ExecutionStatus",
    "Instrument",
    "LedgerStore",
    "MarketDataProvider",
    "OptionContract",
    "OrderIntent",
    "OrderSide",
    "OrderType",
    "Quote",
    "SignalType",
    "SmartRouter",
    "SmartRoutingDecision",
    "TradingSignal",
    "detect_asset_class",
]
