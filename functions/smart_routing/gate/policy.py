"""The gate's settings: cost thresholds and where each came from, quote age, fail mode, limits.

The rule for the spread threshold: each asset class has one (`EXEC_MAX_SPREAD_PCT_<CLASS>`
when set, else `EXEC_MAX_SPREAD_PCT` when set, else the built-in default: 0.1%, options 5%);
the session the order trades in scales it (smart_routing/market/sessions.py: a multiplier, or an
absolute threshold, per session and class); a strategy may name its own maximum
(`max_slippage_pct`), an absolute ceiling no session loosens; the strictest applies, and the
decision names which one bound.
"""

from __future__ import annotations

from decimal import Decimal
from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field

from smart_routing.domain.assets import AssetClass
from smart_routing.market.sessions import Session, SessionTable

DEFAULT_MAX_SPREAD_PCT = Decimal("0.001")
# Listed option spreads are routinely whole percents: a 0.1% gate would block nearly all.
DEFAULT_OPTIONS_MAX_SPREAD_PCT = Decimal("0.05")
DEFAULT_MAX_QUOTE_AGE_S = 5.0
DEFAULT_SOURCE = "default"
STRATEGY_SOURCE = "strategy max_slippage_pct"
# Per-order notional caps in the account currency: far above a retail order, far below the
# fat-finger sizes that reached the venue before the gate existed.
DEFAULT_MAX_ORDER_NOTIONAL = {
    AssetClass.EQUITY: Decimal(1_000_000),
    AssetClass.OPTIONS: Decimal(250_000),
    AssetClass.CRYPTO: Decimal(1_000_000),
    AssetClass.FOREX: Decimal(5_000_000),
}
# Forex trades on margin: 5% of the notional (20:1), within OANDA's limits for majors.
DEFAULT_FOREX_MARGIN_RATE = Decimal("0.05")
# An order above this share of the average daily volume moves the price more than any spread
# saving is worth; execution desks keep participation to a few percent of volume.
DEFAULT_MAX_ADV_FRACTION = Decimal("0.1")
# The square-root impact law's constant Y (docs/cost-model.md): of order 1 in the literature.
DEFAULT_IMPACT_Y = 1.0
# The scheduled strategies run every 5 minutes: the wait the volatility rule prices.
DEFAULT_WAIT_INTERVAL_S = 300.0
# With no usable quote, a quote this old at most still sizes an order (never judges its cost).
DEFAULT_REFERENCE_PRICE_MAX_AGE_S = 300.0


class FailMode(StrEnum):
    """What to do when no usable quote is available."""

    OPEN = "open"  # skip the cost check (the seed's behaviour); size is still checked
    CLOSED = "closed"  # hold the order as WAIT


class Threshold(BaseModel):
    model_config = ConfigDict(frozen=True)

    value: Decimal
    source: str


class RoutingPolicy(BaseModel):
    model_config = ConfigDict(frozen=True)

    thresholds: dict[AssetClass, Threshold] = Field(
        default_factory=lambda: default_thresholds(DEFAULT_MAX_SPREAD_PCT, DEFAULT_SOURCE)
    )
    max_quote_age_s: float = Field(default=DEFAULT_MAX_QUOTE_AGE_S, gt=0)
    reference_price_max_age_s: float = Field(default=DEFAULT_REFERENCE_PRICE_MAX_AGE_S, gt=0)
    fail_mode: FailMode = FailMode.OPEN
    max_order_notional: dict[AssetClass, Decimal] = Field(
        default_factory=lambda: dict(DEFAULT_MAX_ORDER_NOTIONAL)
    )
    forex_margin_rate: Decimal = Field(default=DEFAULT_FOREX_MARGIN_RATE, gt=0, le=1)
    sessions: SessionTable = Field(default_factory=SessionTable)
    max_adv_fraction: Decimal = Field(default=DEFAULT_MAX_ADV_FRACTION, gt=0, le=1)
    impact_y: float = Field(default=DEFAULT_IMPACT_Y, gt=0, le=10)
    wait_interval_s: float = Field(default=DEFAULT_WAIT_INTERVAL_S, gt=0, le=86_400)

    def threshold_for(
        self,
        asset_class: AssetClass,
        strategy_max: Decimal | None = None,
        session: Session | None = None,
    ) -> Threshold:
        """The strictest of the class's threshold (as the session scales it, when one is
        given) and the strategy's own maximum."""
        threshold = self.thresholds[asset_class]
        if session is not None:
            threshold = self.session_threshold(asset_class, session)
        if strategy_max is not None and strategy_max < threshold.value:
            return Threshold(value=strategy_max, source=STRATEGY_SOURCE)
        return threshold

    def session_threshold(self, asset_class: AssetClass, session: Session) -> Threshold:
        """The class's threshold in `session`: the rule's absolute one, else the class's
        times the rule's multiplier; the source says both when the session changes it."""
        base = self.thresholds[asset_class]
        rule = self.sessions.rule(session, asset_class)
        if rule.max_spread_pct is not None:
            return Threshold(value=rule.max_spread_pct, source=f"{rule.source} ({session})")
        if rule.multiplier == 1:
            return base
        return Threshold(
            value=base.value * rule.multiplier,
            source=f"{base.source} x{rule.multiplier} {session}",
        )

    def with_uniform_threshold(self, value: Decimal, source: str) -> RoutingPolicy:
        uniform = {c: Threshold(value=value, source=source) for c in AssetClass}
        return self.model_copy(update={"thresholds": uniform})


def default_thresholds(max_spread_pct: Decimal, source: str) -> dict[AssetClass, Threshold]:
    """`max_spread_pct` for every class but options, which keep their own wider default."""
    thresholds = {c: Threshold(value=max_spread_pct, source=source) for c in AssetClass}
    thresholds[AssetClass.OPTIONS] = Threshold(
        value=DEFAULT_OPTIONS_MAX_SPREAD_PCT, source=DEFAULT_SOURCE
    )
    return thresholds
