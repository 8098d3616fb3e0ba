"""One strategy run: evaluate → signal → order intent → smart routing → execution → ledger."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, PrivateAttr, model_validator

from smart_routing.domain.assets import AssetClass, Instrument, parse_symbol
from smart_routing.domain.errors import InstrumentUnavailable
from smart_routing.domain.orders import (
    AccountSnapshot,
    IdempotencyKey,
    OrderIntent,
    OrderSide,
    PositiveFinite,
    QtyRounding,
)
from smart_routing.domain.signals import SignalType, TradingSignal
from smart_routing.execution.engine import ExecutionEngine
from smart_routing.execution.gate_inputs import market_data_error
from smart_routing.execution.result import ExecutionResult, ExecutionStatus
from smart_routing.gate.decision import GateAction, SmartRoutingDecision
from smart_routing.market.quotes import Bar, Quote
from smart_routing.strategies import create_strategy


class StrategyRunRequest(BaseModel):
    """A request to run a strategy once on one symbol. `side` is for the manual strategy.

    Parsed once, here: the symbol is stored canonically with its asset class, and `instrument`
    is the parsed symbol. `client_order_id`, derived by the edge that checked the ids (the
    callable, the scheduled run), is the order's; None lets the engine derive it."""

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
    client_order_id: str | None = None
    config: dict[str, Any] = Field(default_factory=dict)
    _instrument: Instrument = PrivateAttr()

    @model_validator(mode="after")
    def _parse_symbol(self) -> StrategyRunRequest:
        """Raises ValueError (pydantic's ValidationError) for a symbol that is none."""
        instrument = parse_symbol(self.symbol, self.asset_class)
        object.__setattr__(self, "symbol", instrument.symbol)
        object.__setattr__(self, "asset_class", instrument.asset_class)
        self._instrument = instrument
        return self

    @property
    def instrument(self) -> Instrument:
        return self._instrument


class StrategyRunResult(BaseModel):
    """The strategy's signal and the gate's decision, side by side: the status is the gate's
    (or the venue's) outcome, the signal what the strategy wanted."""

    model_config = ConfigDict(frozen=True)

    status: ExecutionStatus
    message: str
    signal: TradingSignal
    routing: SmartRoutingDecision | None
    quote: Quote | None
    execution: ExecutionResult | None = None


class StrategyRunner:
    def __init__(self, engine: ExecutionEngine) -> None:
        self.engine = engine
        self.market_data = engine.market_data

    def run(self, request: StrategyRunRequest) -> StrategyRunResult:
        """Raises ValueError for a bad symbol or strategy config and UnknownStrategyError for an
        unknown strategy id; every venue failure is reported in the result instead."""
        instrument = request.instrument
        config = dict(request.config)
        if request.side is not None:
            config["side"] = request.side.value
        strategy = create_strategy(request.strategy_id, config, self.engine.router.policy)
        stopped = self._precheck(request, instrument, strategy.max_spread_pct)
        if stopped is not None:
            return stopped

        quote, quote_error = self._quote(instrument)
        market_data: dict[str, Any] = {
            "symbol": instrument.symbol,
            "asset_class": instrument.asset_class,
            "quote": quote,
            "quote_error": quote_error,
        }
        if strategy.bars_needed:
            market_data["bars"] = self._bars(instrument, strategy.bars_needed)
        account = self._account(request, instrument) if strategy.needs_account else None
        signal = strategy.evaluate(market_data, account)

        side = signal.signal_type.order_side
        if side is None:
            status = (
                ExecutionStatus.DOWNGRADED
                if signal.signal_type is SignalType.WAIT
                else ExecutionStatus.HOLD
            )
            return StrategyRunResult(
                status=status, message=signal.reasoning, signal=signal, routing=None, quote=quote
            )

        intent = self._intent(request, instrument, side, strategy.max_spread_pct, signal)
        if side is OrderSide.SELL and strategy.needs_account and account is not None:
            intent = _sell_what_is_held(intent, account)
        execution = self.engine.execute_intent(
            intent,
            quote=quote,
            quote_error=quote_error or ("no quote" if quote is None else None),
            dry_run=True if request.dry_run else None,
        )
        return StrategyRunResult(
            status=execution.status,
            message=execution.message,
            signal=signal,
            routing=execution.routing,
            quote=quote,
            execution=execution,
        )

    def _precheck(
        self, request: StrategyRunRequest, instrument: Instrument, max_spread: Decimal | None
    ) -> StrategyRunResult | None:
        """The gate's instrument and quantity checks, before any quote is fetched."""
        probe = self._intent(request, instrument, request.side or OrderSide.BUY, max_spread)
        try:
            decision = self.engine.precheck(probe)
        except InstrumentUnavailable as exc:
            return self._stopped(
                instrument, ExecutionStatus.ERROR, f"instrument data unavailable: {exc}", None
            )
        if decision is None:
            return None
        status = {GateAction.INVALID: ExecutionStatus.INVALID}.get(
            decision.action, ExecutionStatus.REJECTED
        )
        return self._stopped(instrument, status, decision.reason, decision)

    @staticmethod
    def _stopped(
        instrument: Instrument,
        status: ExecutionStatus,
        message: str,
        decision: SmartRoutingDecision | None,
    ) -> StrategyRunResult:
        signal = TradingSignal(
            signal_type=SignalType.HOLD,
            symbol=instrument.symbol,
            asset_class=instrument.asset_class,
            reasoning=f"not evaluated: {message}",
        )
        return StrategyRunResult(
            status=status, message=message, signal=signal, routing=decision, quote=None
        )

    @staticmethod
    def _intent(
        request: StrategyRunRequest,
        instrument: Instrument,
        side: OrderSide,
        max_spread: Decimal | None,
        signal: TradingSignal | None = None,
    ) -> OrderIntent:
        return OrderIntent(
            symbol=instrument.symbol,
            side=side,
            qty=request.qty,
            asset_class=instrument.asset_class,
            strategy_id=request.strategy_id,
            tenant_id=request.tenant_id,
            uid=request.uid,
            client_order_id=request.client_order_id,
            estimated_slippage=signal.estimated_slippage if signal else None,
            max_spread_pct=max_spread,
            **({"idempotency_key": request.idempotency_key} if request.idempotency_key else {}),
        )

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

    def _account(
        self, request: StrategyRunRequest, instrument: Instrument
    ) -> AccountSnapshot | None:
        owner = self.engine.owner_of(request.tenant_id, request.uid)
        try:
            return self.engine.broker.get_account(instrument.asset_class, owner)
        except Exception:  # no account: the strategy sells nothing it cannot see
            return None


def _sell_what_is_held(intent: OrderIntent, account: AccountSnapshot) -> OrderIntent:
    """A strategy that decides from the account sells at most what it holds: the configured
    qty, or the whole position when less is left (a venue's fee taken in the coin, say),
    rounded down to the grid by the gate."""
    held = account.position_qty(intent.symbol)
    if 0 < held < intent.qty:
        return intent.model_copy(update={"qty": held, "qty_rounding": QtyRounding.DOWN})
    return intent
