"""The smart routing decision: execute, or downgrade to WAIT because crossing costs too much."""

from __future__ import annotations

from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field

from smart_routing import logs
from smart_routing.assets import AssetClass
from smart_routing.clock import SystemClock
from smart_routing.costs import estimate_slippage, exceeds_threshold, format_pct, spread_pct
from smart_routing.logs import redact
from smart_routing.market_data import Quote, quote_problem
from smart_routing.ports import Clock, MarketDataProvider

DEFAULT_MAX_SPREAD_PCT = 0.001
# Listed option spreads are routinely whole percents: a 0.1% gate would block nearly all.
DEFAULT_OPTIONS_MAX_SPREAD_PCT = 0.05
DEFAULT_MAX_QUOTE_AGE_S = 5.0


class FailMode(StrEnum):
    """What to do when no usable quote is available."""

    OPEN = "open"  # let the order through (the seed's behaviour)
    CLOSED = "closed"  # hold the order as WAIT


class RoutingPolicy(BaseModel):
    model_config = ConfigDict(frozen=True)

    thresholds: dict[AssetClass, float] = Field(
        default_factory=lambda: default_thresholds(DEFAULT_MAX_SPREAD_PCT)
    )
    max_quote_age_s: float = Field(default=DEFAULT_MAX_QUOTE_AGE_S, gt=0)
    fail_mode: FailMode = FailMode.OPEN

    def threshold_for(self, asset_class: AssetClass) -> float:
        return self.thresholds[asset_class]

    def with_uniform_threshold(self, threshold: float) -> RoutingPolicy:
        return self.model_copy(update={"thresholds": {c: threshold for c in AssetClass}})


def default_thresholds(max_spread_pct: float) -> dict[AssetClass, float]:
    """`max_spread_pct` for every class but options, which keep their own wider default."""
    thresholds = {asset_class: max_spread_pct for asset_class in AssetClass}
    thresholds[AssetClass.OPTIONS] = DEFAULT_OPTIONS_MAX_SPREAD_PCT
    return thresholds


class SmartRoutingDecision(BaseModel):
    model_config = ConfigDict(frozen=True)

    should_execute: bool
    reason: str
    spread_pct: float | None
    downgraded: bool
    symbol: str
    asset_class: AssetClass
    estimated_slippage: float | None
    threshold_pct: float
    quote: Quote | None = None
    # Where the order goes (or would have gone): the venue actually used for this class.
    venue: str | None = None

    def log_fields(self) -> dict[str, object]:
        return {
            "should_execute": self.should_execute,
            "reason": self.reason,
            "spread_pct": self.spread_pct,
            "downgraded": self.downgraded,
            "symbol": self.symbol,
            "asset_class": self.asset_class.value,
            "threshold_pct": self.threshold_pct,
            "estimated_slippage": self.estimated_slippage,
            "venue": self.venue,
        }


class SmartRouter:
    """Decides from a quote whether an order is cheap enough to send now."""

    def __init__(self, policy: RoutingPolicy | None = None, clock: Clock | None = None) -> None:
        self.policy = policy or RoutingPolicy()
        self.clock = clock or SystemClock()

    def decide(
        self,
        symbol: str,
        asset_class: AssetClass,
        quote: Quote | None,
        venue: str | None = None,
    ) -> SmartRoutingDecision:
        if quote is None:
            return self.unavailable(symbol, asset_class, "no quote", venue=venue)
        problem = quote_problem(quote, self.clock.now(), self.policy.max_quote_age_s)
        if problem is not None:
            return self.unavailable(symbol, asset_class, problem, quote, venue)
        threshold = self.policy.threshold_for(asset_class)
        spread = spread_pct(quote.bid, quote.ask)
        too_wide = exceeds_threshold(spread, threshold)
        verdict = "exceeds" if too_wide else "within"
        return SmartRoutingDecision(
            should_execute=not too_wide,
            reason=f"Spread {format_pct(spread)} {verdict} threshold {format_pct(threshold)}",
            spread_pct=spread,
            downgraded=too_wide,
            symbol=symbol,
            asset_class=asset_class,
            estimated_slippage=estimate_slippage(quote.bid, quote.ask),
            threshold_pct=threshold,
            quote=quote,
            venue=venue,
        )

    def route(
        self,
        symbol: str,
        asset_class: AssetClass,
        market_data: MarketDataProvider | None,
        venue: str | None = None,
    ) -> SmartRoutingDecision:
        """Fetch a quote and decide; a provider failure is an unavailable quote, never a crash."""
        if market_data is None:
            return self.unavailable(symbol, asset_class, "no market data provider", venue=venue)
        try:
            quote = market_data.get_quote(symbol, asset_class)
        except Exception as exc:  # any provider failure: the fail mode decides, not the error
            return self.unavailable(symbol, asset_class, market_data_error(exc), venue=venue)
        return self.decide(symbol, asset_class, quote, venue)

    def unavailable(
        self,
        symbol: str,
        asset_class: AssetClass,
        problem: str,
        quote: Quote | None = None,
        venue: str | None = None,
    ) -> SmartRoutingDecision:
        """The decision when no usable quote exists: the fail mode decides, never the price."""
        fail_open = self.policy.fail_mode is FailMode.OPEN
        outcome = "fail-open: order allowed" if fail_open else "fail-closed: order held"
        return SmartRoutingDecision(
            should_execute=fail_open,
            reason=f"Quote unavailable ({problem}); {outcome}",
            spread_pct=None,
            downgraded=not fail_open,
            symbol=symbol,
            asset_class=asset_class,
            estimated_slippage=None,
            threshold_pct=self.policy.threshold_for(asset_class),
            quote=quote,
            venue=venue,
        )


def market_data_error(exc: Exception) -> str:
    """Why there is no quote, when the provider failed; secrets redacted."""
    return f"market data error: {type(exc).__name__}: {redact(str(exc))}"


def log_decision(decision: SmartRoutingDecision, gate: str) -> None:
    """exec.smart_routing; a warning when no usable quote existed (fail-open or fail-closed).

    `gate` says who decided: the strategy before it signalled, or the engine before it sent.
    """
    severity = "INFO" if decision.spread_pct is not None else "WARNING"
    logs.log_event(logs.SMART_ROUTING, severity=severity, gate=gate, **decision.log_fields())
