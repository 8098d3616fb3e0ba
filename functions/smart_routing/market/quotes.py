"""Market data: top-of-book quotes, bars, and whether a quote can be priced at all."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Annotated

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, PlainSerializer

# A venue's clock may run slightly ahead of ours; beyond this a timestamp is not plausible.
MAX_CLOCK_SKEW_S = 2.0
_TWO = Decimal(2)

# A price as a venue reported it: exact, possibly NaN or infinite until `quote_problem` says.
ReportedPrice = Annotated[
    Decimal,
    Field(allow_inf_nan=True),
    PlainSerializer(float, return_type=float, when_used="json"),
]


class Quote(BaseModel):
    """Best bid and ask as a venue reported them. Built as reported; see `quote_problem`."""

    model_config = ConfigDict(frozen=True)

    symbol: str
    bid: ReportedPrice
    ask: ReportedPrice
    as_of: AwareDatetime
    source: str
    bid_size: ReportedPrice | None = None
    ask_size: ReportedPrice | None = None

    @property
    def mid(self) -> Decimal:
        return (self.bid + self.ask) / _TWO


def quote_problem(quote: Quote, now: datetime, max_age_s: float) -> str | None:
    """Why the quote cannot be used to price a trade, or None when it can."""
    bid, ask = quote.bid, quote.ask
    if not (bid.is_finite() and ask.is_finite()):
        return f"bid {bid} / ask {ask} is not a finite price"
    if bid <= 0 or ask <= 0:
        return f"bid {bid} / ask {ask} is not positive"
    if bid > ask:
        return f"crossed quote: bid {bid} above ask {ask}"
    age_s = (now - quote.as_of).total_seconds()
    if age_s > max_age_s:
        return f"stale quote: {age_s:.1f}s old, limit {max_age_s:g}s"
    if age_s < -MAX_CLOCK_SKEW_S:
        return f"quote timestamp {quote.as_of.isoformat()} is in the future"
    return None


def has_prices(quote: Quote) -> bool:
    """Whether the bid and ask are prices at all (finite, positive, not crossed), whatever
    their age: a stale quote can still size an order, never judge its cost."""
    return quote_problem(quote, quote.as_of, float("inf")) is None


class Bar(BaseModel):
    """One bar of history: a strategy's input, not money, so plain floats."""

    model_config = ConfigDict(frozen=True)

    start: AwareDatetime
    open: float
    high: float
    low: float
    close: float
    volume: float = 0.0
