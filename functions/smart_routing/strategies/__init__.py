"""Strategies, registered by id."""

from smart_routing.strategies.base import BaseStrategy, MarketData
from smart_routing.strategies.registry import STRATEGIES, create_strategy

__all__ = ["STRATEGIES", "BaseStrategy", "MarketData", "create_strategy"]
