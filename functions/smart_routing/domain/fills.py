"""Fills as venues report them, one per execution, for the reconciler to record exactly once."""

from __future__ import annotations

from typing import Annotated

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from smart_routing.domain.assets import AssetClass
from smart_routing.domain.money import Amount
from smart_routing.domain.orders import OrderSide

PositiveAmount = Annotated[Amount, Field(gt=0, allow_inf_nan=False)]


class VenueFill(BaseModel):
    """One execution at a venue: an Alpaca FILL activity, an OANDA ORDER_FILL transaction, or a
    paper fill of a working order. `fill_id` is the venue's own id for it, unique per venue
    account, so the ledger trade id derived from it makes a rerun add nothing."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    venue: str
    fill_id: str
    broker_order_id: str
    # The order's client_order_id where the venue reports it (OANDA, paper); Alpaca's activities
    # name only the venue's order id, which the order book maps back.
    client_order_id: str | None = None
    symbol: str  # the engine's symbol: AAPL, BTC/USD, EUR/USD, an OCC option symbol
    asset_class: AssetClass
    side: OrderSide
    qty: PositiveAmount
    price: PositiveAmount
    # The order's filled quantity after this fill, where the venue says (Alpaca's cum_qty).
    cum_qty: Amount | None = None
    # The fee the venue charged for this fill, in `fee_currency` (None: the quote currency).
    fees: Amount | None = None
    fee_currency: str | None = None
    # The mid of the quote at the fill, where the venue knows it (the paper venue).
    mid: Amount | None = None
    filled_at: AwareDatetime


class FillPage(BaseModel):
    """What one call to a FillSource returned: the fills after the cursor, oldest first.

    `cursor` is where the next call starts (unchanged when nothing new was read); `problems`
    names each entry the venue sent that could not be read as a fill (it is skipped, and the
    cursor still moves past it, so one malformed entry cannot block every later fill).
    `more` says the venue has further fills after this page."""

    model_config = ConfigDict(frozen=True)

    fills: list[VenueFill]
    cursor: str | None
    problems: list[str] = Field(default_factory=list)
    more: bool = False


class CursorExpired(Exception):
    """The venue no longer keeps history back to the cursor (a purged transaction id)."""
