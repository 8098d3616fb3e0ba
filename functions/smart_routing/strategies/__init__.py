"""Strategies, registered by id: what each says about a symbol given its market data.
May import: domain, market, gate (the threshold policy)."""

from smart_routing.strategies.base import BaseStrategy, MarketData
from smart_routing.strategies.registry import STRATEGIES, create_strategy

__all__ = ["STRATEGIES", "BaseStrategy", "MarketData", "create_strategy"]
