"""Orders: what a strategy intends, what goes to a venue, and what the venue reports."""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Mapping
from datetime import datetime
from decimal import Decimal
from enum import StrEnum
from functools import lru_cache
from typing import Annotated

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, model_validator

from smart_routing.domain.assets import AssetClass, parse_symbol
from smart_routing.domain.identifiers import DocumentId
from smart_routing.domain.money import ZERO, Amount
from smart_routing.domain.slippage import Arrival

PositiveFinite = Annotated[Amount, Field(gt=0, allow_inf_nan=False)]
MAX_IDEMPOTENCY_KEY_LENGTH = 128
IdempotencyKey = Annotated[str, Field(min_length=1, max_length=MAX_IDEMPOTENCY_KEY_LENGTH)]


class OrderSide(StrEnum):
    BUY = "buy"
    SELL = "sell"


class OrderType(StrEnum):
    MARKET = "market"
    LIMIT = "limit"


class TimeInForce(StrEnum):
    DAY = "day"
    GTC = "gtc"
    IOC = "ioc"
    FOK = "fok"


class QtyRounding(StrEnum):
    """How the gate treats a quantity off the instrument's grid."""

    EXACT = "exact"  # a person typed it: off the grid is an error, never silently rounded
    DOWN = "down"  # a strategy computed it: rounded down to the grid


class OrderStatus(StrEnum):
    """An order's state at the venue."""

    NEW = "new"
    ACCEPTED = "accepted"
    PARTIALLY_FILLED = "partially_filled"
    FILLED = "filled"
    CANCELED = "canceled"
    EXPIRED = "expired"
    REJECTED = "rejected"


WORKING_STATUSES = frozenset({OrderStatus.NEW, OrderStatus.ACCEPTED, OrderStatus.PARTIALLY_FILLED})


def status_by_meaning(
    venue_status: str, done: Mapping[str, OrderStatus], filled_qty: Decimal
) -> OrderStatus:
    """What a venue's own status means for fills. One of `done` (the venue will fill no more of
    the order) is that status; any other can still fill, a status the venue has added since
    included (the safe side: a sell keeps its reservation until the venue says it is done),
    and is partially_filled once some of it filled."""
    ended = done.get(venue_status)
    if ended is not None:
        return ended
    return OrderStatus.PARTIALLY_FILLED if filled_qty > 0 else OrderStatus.ACCEPTED


class OrderIntent(BaseModel):
    """What a strategy (or a person) wants to trade. The symbol is stored canonically.

    With no asset_class it is detected from the symbol, so a plain ticker is EQUITY. With no
    tenant_id or uid the engine uses its configured ones. Retrying with the same
    idempotency_key can never make a second order or trade record.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    symbol: str
    side: OrderSide
    qty: PositiveFinite
    asset_class: AssetClass | None = None
    order_type: OrderType = OrderType.MARKET
    limit_price: PositiveFinite | None = None
    time_in_force: TimeInForce | None = None
    strategy_id: str = "manual"
    tenant_id: str | None = None
    uid: str | None = None
    idempotency_key: IdempotencyKey = Field(default_factory=lambda: uuid.uuid4().hex)
    # The venue-facing id, when the edge derived it (client_order_id_for); None: the engine
    # derives it from the tenant, user and key.
    client_order_id: str | None = None
    estimated_slippage: Amount | None = None
    qty_rounding: QtyRounding = QtyRounding.EXACT
    # The strategy's own spread maximum; the gate applies the stricter of it and the class's.
    max_spread_pct: Amount | None = None

    @model_validator(mode="after")
    def _canonical_symbol(self) -> OrderIntent:
        instrument = parse_symbol(self.symbol, self.asset_class)
        object.__setattr__(self, "symbol", instrument.symbol)
        object.__setattr__(self, "asset_class", instrument.asset_class)
        if self.order_type is OrderType.LIMIT and self.limit_price is None:
            raise ValueError("a limit order needs a limit_price")
        if self.order_type is OrderType.MARKET and self.limit_price is not None:
            raise ValueError("a market order takes no limit_price")
        return self


def client_order_id_for(tenant_id: str, uid: str, idempotency_key: str) -> str:
    """The venue-facing order id: the same (tenant, user, key) always gives the same id."""
    digest = hashlib.sha256(f"{tenant_id}\x1f{uid}\x1f{idempotency_key}".encode()).hexdigest()
    return f"sr-{digest[:40]}"


class AccountOwner(BaseModel):
    """Whose account an order is for and an account read is of: a tenant's user."""

    model_config = ConfigDict(frozen=True)

    tenant_id: DocumentId
    uid: DocumentId


@lru_cache(maxsize=4096)
def account_owner(tenant_id: str, uid: str) -> AccountOwner:
    """The owner, its ids checked once per (tenant, user) rather than on every order."""
    return AccountOwner(tenant_id=tenant_id, uid=uid)


class OrderRequest(BaseModel):
    model_config = ConfigDict(frozen=True)

    client_order_id: str
    # Whose order: the paper venue keeps an account per owner; a real venue's account is the
    # platform's, shared by its users.
    owner: AccountOwner | None = None
    symbol: str
    asset_class: AssetClass
    side: OrderSide
    qty: PositiveFinite
    order_type: OrderType = OrderType.MARKET
    limit_price: PositiveFinite | None = None
    time_in_force: TimeInForce | None = None
    strategy_id: str = "manual"  # recorded with the order, for the fills that arrive later
    arrival: Arrival | None = None  # the quote the decision saw, for each fill's cost analysis
    # A limit order that works only until then (the limit fallback's time to live): a venue
    # that knows such an order (OANDA's GTD) ends it itself; the others are canceled at it.
    expires_at: AwareDatetime | None = None
    fallback: str | None = None  # "limit": placed by the limit fallback instead of waiting


class Order(BaseModel):
    """An order as the venue reports it."""

    model_config = ConfigDict(frozen=True)

    broker: str
    broker_order_id: str
    client_order_id: str
    symbol: str
    asset_class: AssetClass
    side: OrderSide
    qty: Amount
    order_type: OrderType
    limit_price: Amount | None = None
    status: OrderStatus
    # The venue's own word for the status (Alpaca's `stopped`, OANDA's `TRIGGERED`), where it
    # says more than `status`, which is what it means for fills.
    venue_status: str | None = None
    filled_qty: Amount = ZERO
    filled_avg_price: Amount | None = None
    # The fee the venue reported for the fill, in `fee_currency` (None: the instrument's quote
    # currency); None when the venue reports none (the ledger records the fee model's estimate).
    fees: Amount | None = None
    fee_currency: str | None = None
    reject_reason: str | None = None
    submitted_at: AwareDatetime
    filled_at: AwareDatetime | None = None
    # The strategy that placed it, the quote its decision saw and, for a fallback limit, when
    # it expires: where the order book knows them (a venue does not).
    strategy_id: str | None = None
    arrival: Arrival | None = None
    expires_at: AwareDatetime | None = None
    fallback: str | None = None
    # The mid of the quote the latest fill was made against, where the venue says (paper).
    fill_mid: Amount | None = None

    @property
    def has_fill(self) -> bool:
        return self.filled_qty > 0 and self.filled_avg_price is not None

    @property
    def is_working(self) -> bool:
        """At the venue and not done: more of it may still fill."""
        return self.status in WORKING_STATUSES


class Position(BaseModel):
    model_config = ConfigDict(frozen=True)

    symbol: str
    asset_class: AssetClass
    qty: Amount
    avg_price: Amount


class AccountSnapshot(BaseModel):
    """An account at a venue, in its currency. Positions are keyed by canonical symbol."""

    model_config = ConfigDict(frozen=True)

    currency: str = "USD"
    cash: Amount
    buying_power: Amount
    positions: dict[str, Position] = Field(default_factory=dict)
    as_of: datetime

    def position_qty(self, symbol: str) -> Decimal:
        position = self.positions.get(symbol)
        return position.qty if position else ZERO
