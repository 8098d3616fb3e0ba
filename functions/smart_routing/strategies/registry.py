"""Strategies by id."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from smart_routing.domain.errors import UnknownStrategyError
from smart_routing.gate.policy import RoutingPolicy
from smart_routing.strategies.base import BaseStrategy
from smart_routing.strategies.manual import ManualStrategy
from smart_routing.strategies.momentum import MomentumStrategy

STRATEGIES: dict[str, type[BaseStrategy]] = {
    cls.strategy_id: cls for cls in (ManualStrategy, MomentumStrategy)
}


def create_strategy(
    strategy_id: str, config: Mapping[str, Any] | None = None, policy: RoutingPolicy | None = None
) -> BaseStrategy:
    """Raises UnknownStrategyError for an unregistered id, ValueError for a bad config."""
    try:
        cls = STRATEGIES[strategy_id]
    except KeyError:
        known = ", ".join(sorted(STRATEGIES))
        raise UnknownStrategyError(f"unknown strategy {strategy_id!r}; known: {known}") from None
    return cls(config, policy)
