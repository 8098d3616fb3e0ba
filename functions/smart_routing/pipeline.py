"""One strategy run: evaluate → signal → order intent → smart routing → execution → ledger."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from smart_routing.assets import AssetClass, Instrument, parse_symbol
from smart_routing.engine import ExecutionEngine, ExecutionResult, ExecutionStatus
from smart_routing.market_data import Bar, Quote
from smart_routing.orders import (
    AccountSnapshot,
    IdempotencyKey,
    OrderIntent,
    OrderSide,
    PositiveFinite,
)
from smart_routing.ports import MarketDataProvider
from smart_routing.routing import (
    SmartRouter,
    SmartRoutingDecision,
    log_decision,
    market_data_error,
)
from smart_routing.signals import SignalType, TradingSignal
from smart_routing.strategies import create_strategy


class StrategyRunRequest(BaseModel):
    """A request to run a strategy once on one symbol. `side` is for the manual strategy."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    strategy_id: str
    symbol: str
    qty: PositiveFinite
    side: OrderSide | None = None
    asset_class: AssetClass | None = None
    dry_run: bool = False
    idempotency_key: IdempotencyKey | None = None
    tenant_id: str | None = None
    uid: str | None = None
    config: dict[str, Any] = Field(default_factory=dict)


class StrategyRunResult(BaseModel):
    model_config = ConfigDict(frozen=True)

    status: ExecutionStatus
    message: str
    signal: TradingSignal
    routing: SmartRoutingDecision | None
    quote: Quote | None
    execution: ExecutionResult | None = None


class StrategyRunner:
    def __init__(
        self, engine: ExecutionEngine, market_data: MarketDataProvider, router: SmartRouter
    ) -> None:
        self.engine = engine
        self.market_data = market_data
        self.router = router

    def run(self, request: StrategyRunRequest) -> StrategyRunResult:
        """Raises ValueError for a bad symbol or strategy config and UnknownStrategyError for an
        unknown strategy id; every venue failure is reported in the result instead."""
        instrument = parse_symbol(request.symbol, request.asset_class)
        config = dict(request.config)
        if request.side is not None:
            config["side"] = request.side.value
        strategy = create_strategy(request.strategy_id, config, self.router)

        quote, quote_error = self._quote(instrument)
        market_data: dict[str, Any] = {
            "symbol": instrument.symbol,
            "asset_class": instrument.asset_class,
            "quote": quote,
            "quote_error": quote_error,
        }
        if strategy.bars_needed:
            market_data["bars"] = self._bars(instrument, strategy.bars_needed)
        account = self._account() if strategy.needs_account else None
        signal = strategy.evaluate(market_data, account)
        if signal.routing is not None:
            log_decision(signal.routing, gate="strategy")

        side = signal.signal_type.order_side
        if signal.signal_type is SignalType.WAIT or side is None:
            status = (
                ExecutionStatus.DOWNGRADED
                if signal.signal_type is SignalType.WAIT
                else ExecutionStatus.HOLD
            )
            return StrategyRunResult(
                status=status,
                message=signal.reasoning,
                signal=signal,
                routing=self._with_venue(signal.routing, instrument),
                quote=quote,
            )

        intent = OrderIntent(
            symbol=instrument.symbol,
            side=side,
            qty=request.qty,
            asset_class=instrument.asset_class,
            strategy_id=request.strategy_id,
            tenant_id=request.tenant_id,
            uid=request.uid,
            estimated_slippage=signal.estimated_slippage,
            **({"idempotency_key": request.idempotency_key} if request.idempotency_key else {}),
        )
        execution = self.engine.execute_intent(
            intent, quote=quote, dry_run=True if request.dry_run else None
        )
        return StrategyRunResult(
            status=execution.status,
            message=execution.message,
            signal=signal,
            routing=self._with_venue(execution.routing or signal.routing, instrument),
            quote=quote,
            execution=execution,
        )

    def _with_venue(
        self, routing: SmartRoutingDecision | None, instrument: Instrument
    ) -> SmartRoutingDecision | None:
        if routing is None or routing.venue is not None:
            return routing
        return routing.model_copy(update={"venue": self.engine.venue_for(instrument.asset_class)})

    def _quote(self, instrument: Instrument) -> tuple[Quote | None, str | None]:
        try:
            return self.market_data.get_quote(instrument.symbol, instrument.asset_class), None
        except Exception as exc:  # the routing fail mode decides what a missing quote means
            return None, market_data_error(exc)

    def _bars(self, instrument: Instrument, count: int) -> list[Bar]:
        try:
            return self.market_data.get_bars(instrument.symbol, instrument.asset_class, count)
        except Exception:  # no bars: the strategy holds for want of history
            return []

    def _account(self) -> AccountSnapshot | None:
        try:
            return self.engine.broker.get_account()
        except Exception:  # no account: the strategy sells nothing it cannot see
            return None
